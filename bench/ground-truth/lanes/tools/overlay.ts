// Draws polygons (relative coordinates) on a frame at 2x, to place lanes and loops by eye:
//   npx tsx bench/ground-truth/lanes/tools/overlay.ts FRAME.png OUT.png "x,y;x,y;..." ["x,y;..." ...]
import sharp from 'sharp';

const [img, out, ...polys] = process.argv.slice(2);
if (!img || !out) throw new Error('usage: overlay.ts FRAME.png OUT.png "x,y;x,y;..." ...');
const meta = await sharp(img).metadata();
const W = (meta.width ?? 0) * 2;
const H = (meta.height ?? 0) * 2;
const colours = ['red', 'cyan', 'yellow', 'lime'];
const shapes = polys.map((p, i) => {
  const pts = p.split(';').map((xy) => {
    const [x = 0, y = 0] = xy.split(',').map(Number);
    return `${x * W},${y * H}`;
  });
  return `<polygon points="${pts.join(' ')}" fill="none" stroke="${colours[i % colours.length]}" stroke-width="1"/>`;
});
const svg = `<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${shapes.join('')}</svg>`;
const big = await sharp(img).resize(W, H, { kernel: 'nearest' }).png().toBuffer();
await sharp(big).composite([{ input: Buffer.from(svg) }]).png().toFile(out);
