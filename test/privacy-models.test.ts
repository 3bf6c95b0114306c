// The anonymizer with the real weights on real photos: the ground-truth faces and plate end up under
// the mask, the JPEG that leaves shows nothing of them, and nothing is written to stdout/stderr.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { Box, Detection, RgbImage } from '../appliance/src/core/types.js';
import { createMetrics } from '../appliance/src/metrics/registry.js';
import { createAnonymizer, coveredFraction, isAnonymizedJpeg, type Anonymizer } from '../appliance/src/privacy/index.js';
import { psnr } from './helpers/image.js';

const DATA = '../shared/data';

async function readRgb(path: string): Promise<RgbImage> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

/** dlib imglab boxes of one image. */
function dlibBoxes(xmlPath: string, file: string): Box[] {
  const xml = readFileSync(xmlPath, 'utf8');
  const img = xml.split('<image ').find((s) => s.startsWith(`file='${file}'`));
  assert.ok(img, `${file} in ${xmlPath}`);
  return [...img.matchAll(/<box top='(\d+)' left='(\d+)' width='(\d+)' height='(\d+)'/g)].map((m) => ({ x: +m[2]!, y: +m[1]!, w: +m[3]!, h: +m[4]! }));
}


async function decode(jpeg: Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

describe('anonymizer on real photos (YuNet + PP-OCRv4)', () => {
  let an: Anonymizer;
  const metrics = createMetrics();
  before(async () => {
    an = await createAnonymizer({
      modelsDir: '../shared/models',
      manifestPath: 'models/manifest.json',
      faceModel: 'yunet_n',
      faceScoreThreshold: 0.3,
      plateModel: 'ppocr_v4_det',
      timeoutMs: 30000,
      jpegQuality: 85,
      threads: 2,
      metrics,
    });
    assert.equal(an.unavailable, null);
  });
  after(async () => an.close());

  test('group photo: every ground-truth face is covered and unrecognisable in the JPEG', async () => {
    const file = '2008_002470.jpg';
    const gt = dlibBoxes(`${DATA}/faces/dlib/testing.xml`, file);
    assert.equal(gt.length, 6);
    const img = await readRgb(`${DATA}/faces/dlib/${file}`);
    const orig: RgbImage = { ...img, data: Buffer.from(img.data) };
    const plan = await an.maskPlan(img, []);
    for (const f of gt) assert.ok(coveredFraction(f, plan.faces) >= 0.9, `face ${JSON.stringify(f)} covered ${coveredFraction(f, plan.faces)}`);
    // not everything: the mask is faces, not the whole picture
    assert.ok(coveredFraction({ x: 0, y: 0, w: img.width, h: img.height }, plan.all) < 0.35);
    const jpeg = await an.anonymizeToJpeg(img, []);
    assert.ok(isAnonymizedJpeg(jpeg));
    const out = await decode(jpeg);
    for (const f of gt) assert.ok(psnr(orig, out, f) < 24, `PSNR in face ${JSON.stringify(f)}: ${psnr(orig, out, f).toFixed(1)}`);
  });

  test('roadside photo: the plate is found by the text detector on the car crop and pixelated', async () => {
    const [file = '', x = '', y = '', w = '', h = ''] = readFileSync(`${DATA}/plates/us/0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.txt`, 'utf8').trim().split('\t');
    const plate = { x: +x, y: +y, w: +w, h: +h };
    const img = await readRgb(`${DATA}/plates/us/${file}`);
    const orig: RgbImage = { ...img, data: Buffer.from(img.data) };
    // the car as YOLOX-nano reports it on this photo
    const car: Detection = { cls: 'car', score: 0.81, box: { x: 791, y: 5, w: 1129, h: 546 } };
    const plan = await an.maskPlan(img, [car]);
    assert.ok(coveredFraction(plate, plan.plates) >= 0.7, `text detector covers ${coveredFraction(plate, plan.plates).toFixed(2)} of the plate`);
    assert.ok(coveredFraction(plate, plan.all) >= 0.95);
    const jpeg = await an.anonymizeToJpeg(img, [car]);
    const out = await decode(jpeg);
    assert.ok(psnr(orig, out, plate) < 24, `PSNR on the plate ${psnr(orig, out, plate).toFixed(1)}`);
    // the road away from the car is left sharp
    assert.ok(psnr(orig, out, { x: 100, y: 800, w: 400, h: 200 }) > 28);
  });

  test('nothing reaches stdout/stderr, and metrics carry only counts and the reason label', async () => {
    const writes: string[] = [];
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    // the test runner's own protocol frames (a child process reports on stdout) pass through
    const runnerFrame = (s: string): boolean => /test:(enqueue|dequeue|start|pass|fail|complete|plan|diagnostic|coverage|watch)/.test(s);
    const capture =
      (orig: typeof out) =>
      (chunk: string | Uint8Array): boolean =>
        runnerFrame(Buffer.from(chunk).toString('latin1')) ? orig(chunk) : (writes.push(Buffer.from(chunk).toString('latin1')), true);
    process.stdout.write = capture(out) as typeof process.stdout.write;
    process.stderr.write = capture(err) as typeof process.stderr.write;
    try {
      const img = await readRgb(`${DATA}/plates/eu/eu1.jpg`);
      await an.anonymizeToJpeg(img, [{ cls: 'car', score: 0.9, box: { x: 0, y: 0, w: img.width, h: img.height } }]);
      await assert.rejects(an.anonymizeToJpeg({ width: 2, height: 2, data: Buffer.alloc(3) }, []));
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    assert.deepEqual(writes, []);
    const text = await metrics.registry.getSingleMetricAsString('roadside_anonymization_withheld_total');
    for (const line of text.split('\n').filter((l) => l.startsWith('roadside_anonymization_withheld_total{')))
      assert.match(line, /^roadside_anonymization_withheld_total\{reason="(model-missing|model-error|timeout|invalid-image)"\} \d+$/);
    assert.ok((await metrics.anonymizedImages.get()).values[0]!.value >= 2);
  });
});
