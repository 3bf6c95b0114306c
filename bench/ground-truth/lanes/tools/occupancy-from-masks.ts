// Occupancy of each virtual loop of cdnet-highway from the clip's ground-truth masks (CDnet 2014:
// 255 = moving object, 170 = unknown edge, 85 = outside the ROI, 50 = shadow, 0 = static). A loop
// is occupied in an annotated frame when at least MIN_PIXELS of its pixels are 255. This is
// construction from ground truth, not from Roadside's pipeline: it reads nothing but the masks and
// the loop polygons of cdnet-highway.lanes.json.
//   npx tsx bench/ground-truth/lanes/tools/occupancy-from-masks.ts [../shared]
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

const MIN_PIXELS = 4;
const here = resolve('bench/ground-truth/lanes');
const shared = resolve(process.argv[2] ?? '../shared');
const clipDir = join(shared, 'data/traffic/cdnet-highway');
const def = JSON.parse(readFileSync(join(here, 'cdnet-highway.lanes.json'), 'utf8')) as {
  width: number;
  height: number;
  lanes: Array<{ id: string; loop: { polygon: Array<{ x: number; y: number }> } }>;
};
const [from, to] = readFileSync(join(clipDir, 'temporalROI.txt'), 'utf8').trim().split(/\s+/).map(Number) as [number, number];

function inside(px: number, py: number, poly: Array<{ x: number; y: number }>): boolean {
  let c = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i]!;
    const b = poly[j]!;
    if (a.y > py !== b.y > py && px < ((b.x - a.x) * (py - a.y)) / (b.y - a.y) + a.x) c = !c;
  }
  return c;
}

// Pixel centres inside each loop, once.
const masks = def.lanes.map((l) => {
  const idx: number[] = [];
  for (let y = 0; y < def.height; y++) for (let x = 0; x < def.width; x++) if (inside((x + 0.5) / def.width, (y + 0.5) / def.height, l.loop.polygon)) idx.push(y * def.width + x);
  return idx;
});
const presence = def.lanes.map(() => [] as string[]);
for (let f = from; f <= to; f++) {
  const { data, info } = await sharp(join(clipDir, 'groundtruth', `gt${String(f).padStart(6, '0')}.png`)).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== def.width || info.height !== def.height) throw new Error(`mask ${f}: ${info.width}x${info.height}`);
  masks.forEach((idx, li) => {
    let n = 0;
    for (const i of idx) if (data[i] === 255) n++;
    presence[li]!.push(n >= MIN_PIXELS ? '1' : '0');
  });
}
const out = {
  clip: 'traffic/cdnet-highway/highway_cdnet_30fps.mp4',
  method: `frames ${from}-${to} (temporalROI.txt; frame n is at (n-1)/30 s), a loop is occupied when >= ${MIN_PIXELS} of its pixels are 255 in groundtruth/gtNNNNNN.png`,
  fps: 30,
  firstFrame: from,
  lastFrame: to,
  minPixels: MIN_PIXELS,
  lanes: def.lanes.map((l, li) => {
    const p = presence[li]!.join('');
    const occ = [...p].filter((c) => c === '1').length;
    return { id: l.id, loopPixels: masks[li]!.length, occupiedFrames: occ, frames: p.length, occupancyPct: Math.round((10000 * occ) / p.length) / 100, presence: p };
  }),
};
writeFileSync(join(here, 'cdnet-highway.mask-occupancy.json'), JSON.stringify(out, null, 1) + '\n');
for (const l of out.lanes) console.log(`${l.id}: ${l.occupancyPct} % of ${l.frames} frames (${l.loopPixels} px loop)`);
