// Unit-level privacy pieces: irreversible mosaic, geometry, YuNet decoding, fallback masks, and the
// fail-closed paths (missing model, wrong checksum, corrupt model, failing / slow detectors, bad frames).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Box, Detection, RgbImage } from '../appliance/src/core/types.js';
import { createMetrics } from '../appliance/src/metrics/registry.js';
import {
  AnonymizationError,
  createAnonymizer,
  isAnonymizedJpeg,
  mosaicInPlace,
  blockSize,
  coveredFraction,
  type AnonymizedJpeg,
  type AnonymizerOptions,
  type FaceDetector,
  type PlateDetector,
} from '../appliance/src/privacy/index.js';
import { decodeYunet, facePasses, DEFAULT_FACE_PASSES } from '../appliance/src/privacy/faces.js';
import { dbBoxes, isPlateShaped } from '../appliance/src/privacy/plates.js';
import { fallbackRegions, headRegion, vehicleBand } from '../appliance/src/privacy/fallback.js';
import { psnr } from './helpers/image.js';

const MODELS = { modelsDir: '../shared/models', manifestPath: 'models/manifest.json' };

function noiseImage(width: number, height: number, seed = 1): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s >>> 16) & 0xff;
  }
  return { width, height, data };
}

function pixel(img: RgbImage, x: number, y: number): number[] {
  const i = (y * img.width + x) * 3;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
}


const fixedFaces = (boxes: Box[]): FaceDetector => ({ detect: async () => boxes.map((box) => ({ box, score: 0.9 })), close: async () => {} });
const noPlates: PlateDetector = { detect: async () => [], close: async () => {} };

function options(over: Partial<AnonymizerOptions> = {}): AnonymizerOptions {
  return { ...MODELS, faceModel: 'yunet_n', faceScoreThreshold: 0.3, plateModel: 'ppocr_v4_det', timeoutMs: 5000, jpegQuality: 85, ...over };
}

describe('mosaic', () => {
  test('replaces every block of a region by its mean and leaves the rest alone', () => {
    const img = noiseImage(120, 80);
    const orig = Buffer.from(img.data);
    const region = { x: 10, y: 20, w: 50, h: 40 };
    mosaicInPlace(img, [region]);
    const b = blockSize(region);
    assert.equal(b, 8);
    for (let by = region.y; by < region.y + region.h; by += b)
      for (let bx = region.x; bx < region.x + region.w; bx += b) {
        const x2 = Math.min(bx + b, region.x + region.w);
        const y2 = Math.min(by + b, region.y + region.h);
        const mean = [0, 0, 0];
        for (let y = by; y < y2; y++) for (let x = bx; x < x2; x++) for (let c = 0; c < 3; c++) mean[c]! += orig[(y * 120 + x) * 3 + c]!;
        const n = (x2 - bx) * (y2 - by);
        for (let y = by; y < y2; y++) for (let x = bx; x < x2; x++) assert.deepEqual(pixel(img, x, y), mean.map((m) => Math.round(m / n)));
      }
    // outside untouched
    assert.deepEqual(pixel(img, 5, 5), [orig[(5 * 120 + 5) * 3], orig[(5 * 120 + 5) * 3 + 1], orig[(5 * 120 + 5) * 3 + 2]]);
    assert.equal(Buffer.compare(img.data.subarray(0, 20 * 120 * 3), orig.subarray(0, 20 * 120 * 3)), 0);
  });

  test('clips regions that stick out of the image', () => {
    const img = noiseImage(40, 30);
    mosaicInPlace(img, [{ x: -10, y: 20, w: 100, h: 50 }]);
    assert.deepEqual(pixel(img, 0, 29), pixel(img, 1, 29)); // same block
  });
});

describe('geometry', () => {
  test('coveredFraction counts overlapping mask boxes once', () => {
    const t = { x: 0, y: 0, w: 10, h: 10 };
    assert.equal(coveredFraction(t, [{ x: 0, y: 0, w: 5, h: 10 }, { x: 0, y: 0, w: 5, h: 10 }]), 0.5);
    assert.equal(coveredFraction(t, [{ x: -5, y: -5, w: 30, h: 30 }]), 1);
    assert.equal(coveredFraction(t, []), 0);
  });
});

describe('YuNet decoding', () => {
  test('prior at grid cell, offsets in strides, exp sizes, score sqrt(cls*obj)', () => {
    // 64x32 input: stride 8 → 8x4 cells, 16 → 4x2, 32 → 2x1
    const cls = [new Float32Array(32), new Float32Array(8), new Float32Array(2)];
    const obj = [new Float32Array(32), new Float32Array(8), new Float32Array(2)];
    const bbox = [new Float32Array(128), new Float32Array(32), new Float32Array(8)];
    const idx = 2 * 8 + 3; // stride 8, row 2, col 3
    cls[0]![idx] = 0.81;
    obj[0]![idx] = 1.2; // clamped to 1
    bbox[0]!.set([0.5, 0.25, Math.log(2), 0], idx * 4);
    const faces = decodeYunet({ cls, obj, bbox }, 64, 32, 0.5);
    assert.equal(faces.length, 1);
    assert.ok(Math.abs(faces[0]!.score - 0.9) < 1e-6);
    const b = faces[0]!.box;
    // centre (3.5*8, 2.25*8) = (28, 18); size 16 x 8
    assert.deepEqual([b.x, b.y, b.w, b.h].map((v) => Math.round(v * 1000) / 1000), [20, 14, 16, 8]);
  });

  test('passes: overview for large images, native tiles and upscaled tiles cover the whole frame', () => {
    const passes = facePasses(1920, 1080, { ...DEFAULT_FACE_PASSES, upscaleMaxPixels: Infinity });
    assert.ok(passes.some((p) => p.scale < 1 && p.maxFace === Infinity));
    for (const scale of [1, 2]) {
      const tiles = passes.filter((p) => p.scale === scale).map((p) => p.region);
      assert.ok(tiles.length >= 1);
      assert.equal(coveredFraction({ x: 0, y: 0, w: 1920, h: 1080 }, tiles), 1);
      for (const t of tiles) assert.ok(t.w * scale <= 1280 + 1 && t.h * scale <= 1280 + 1);
    }
  });
});

describe('plates and fallback geometry', () => {
  test('DB map → boxes grown by the unclip distance', () => {
    const w = 64;
    const h = 32;
    const prob = new Float32Array(w * h);
    for (let y = 10; y < 16; y++) for (let x = 10; x < 40; x++) prob[y * w + x] = 0.9;
    const boxes = dbBoxes(prob, w, h);
    assert.equal(boxes.length, 1);
    const d = (30 * 6 * 1.6) / (2 * 36);
    assert.ok(Math.abs(boxes[0]!.box.x - (10 - d)) < 1e-9 && Math.abs(boxes[0]!.box.w - (30 + 2 * d)) < 1e-9);
  });

  test('plate shape: wide text low on the vehicle passes, a tall box or one on the roof does not', () => {
    const car = { x: 0, y: 0, w: 400, h: 300 };
    assert.ok(isPlateShaped({ x: 150, y: 220, w: 100, h: 30 }, car));
    assert.ok(!isPlateShaped({ x: 150, y: 220, w: 30, h: 60 }, car));
    assert.ok(!isPlateShaped({ x: 150, y: 10, w: 100, h: 30 }, car));
  });

  test('fallback masks: band at the bottom of vehicles, head of persons, nothing for bicycles', () => {
    const dets: Detection[] = [
      { cls: 'car', score: 0.9, box: { x: 100, y: 100, w: 200, h: 100 } },
      { cls: 'person', score: 0.9, box: { x: 400, y: 50, w: 40, h: 120 } },
      { cls: 'bicycle', score: 0.9, box: { x: 500, y: 50, w: 40, h: 40 } },
    ];
    const regions = fallbackRegions(dets);
    assert.equal(regions.length, 2);
    assert.deepEqual(regions[0], vehicleBand(dets[0]!.box));
    assert.ok(regions[0].y >= 140 && regions[0].y + regions[0].h >= 200);
    const head = headRegion(dets[1]!.box);
    assert.deepEqual(regions[1], head);
    // the top of the person (where the head is) is inside the region
    assert.equal(coveredFraction({ x: 405, y: 52, w: 30, h: 20 }, [head]), 1);
  });
});

describe('anonymizer with injected detectors', () => {
  test('blurs in place, encodes a JPEG, brands it, counts it', async () => {
    const metrics = createMetrics();
    const face = { x: 40, y: 30, w: 40, h: 40 };
    const an = await createAnonymizer(options({ metrics, faceDetector: fixedFaces([face]), plateDetector: noPlates }));
    assert.equal(an.unavailable, null);
    const img = noiseImage(160, 120);
    const orig: RgbImage = { ...img, data: Buffer.from(img.data) };
    const jpeg = await an.anonymizeToJpeg(img, []);
    assert.ok(isAnonymizedJpeg(jpeg));
    assert.ok(!isAnonymizedJpeg(Buffer.from(jpeg)));
    assert.equal(jpeg[0], 0xff);
    assert.equal(jpeg[1], 0xd8);
    // the caller's buffer was pixelated in place over the padded face
    const regions = await an.maskRegions(orig, []);
    assert.equal(regions.length, 1);
    assert.equal(coveredFraction(face, regions), 1);
    assert.notDeepEqual(pixel(img, 60, 50), pixel(orig, 60, 50));
    assert.equal((await metrics.anonymizedImages.get()).values[0]!.value, 1);
    // type level: a plain Buffer is not an AnonymizedJpeg
    // @ts-expect-error a raw encoding must not pass as anonymized
    const notBranded: AnonymizedJpeg = Buffer.from([0xff, 0xd8]);
    assert.ok(!isAnonymizedJpeg(notBranded));
  });

  test('re-encoding does not bring anything back: PSNR in the mask is low, outside high', async () => {
    const src = await sharp('../shared/data/faces/dlib/2008_002506.jpg').removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const img: RgbImage = { width: src.info.width, height: src.info.height, data: src.data };
    const orig: RgbImage = { ...img, data: Buffer.from(img.data) };
    const face = { x: 329, y: 78, w: 109, h: 109 };
    const an = await createAnonymizer(options({ faceDetector: fixedFaces([face]), plateDetector: noPlates, jpegQuality: 95 }));
    const jpeg = await an.anonymizeToJpeg(img, []);
    const back = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    const decoded: RgbImage = { width: back.info.width, height: back.info.height, data: back.data };
    const inside = psnr(orig, decoded, face);
    const outside = psnr(orig, decoded, { x: 0, y: 250, w: 300, h: 100 });
    assert.ok(inside < 22, `PSNR in the face ${inside.toFixed(1)} dB`);
    assert.ok(outside > 30, `PSNR elsewhere ${outside.toFixed(1)} dB`);
    // within a block of the decoded mask the variance is tiny (only JPEG ringing)
    const b = blockSize({ x: 0, y: 0, w: 109 * 1.5, h: 109 * 1.65 });
    const bx = 329 + 40;
    const by = 78 + 40;
    let mean = 0;
    const vals: number[] = [];
    for (let y = by; y < by + Math.min(b, 10) - 2; y++) for (let x = bx; x < bx + Math.min(b, 10) - 2; x++) vals.push(decoded.data[(y * decoded.width + x) * 3 + 1]!);
    mean = vals.reduce((a, v) => a + v, 0) / vals.length;
    const variance = vals.reduce((a, v) => a + (v - mean) ** 2, 0) / vals.length;
    assert.ok(variance < 60, `variance ${variance}`);
  });
});

describe('fail closed', () => {
  async function assertWithheld(an: Awaited<ReturnType<typeof createAnonymizer>>, reason: string, img = noiseImage(64, 48), objects: Detection[] = []): Promise<void> {
    const before = Buffer.from(img.data);
    await assert.rejects(an.anonymizeToJpeg(img, objects), (err: unknown) => err instanceof AnonymizationError && err.reason === reason);
    if (img.data.length === before.length) assert.equal(Buffer.compare(img.data, before), 0, 'buffer left untouched');
  }

  test('missing weight file: every image withheld with model-missing, and counted', async () => {
    const metrics = createMetrics();
    const empty = mkdtempSync(join(tmpdir(), 'roadside-models-'));
    const an = await createAnonymizer(options({ modelsDir: empty, plateModel: null, metrics }));
    assert.equal(an.unavailable, 'model-missing');
    await assertWithheld(an, 'model-missing');
    await assert.rejects(an.maskRegions(noiseImage(8, 8), []), { reason: 'model-missing' });
    assert.equal((await metrics.anonymizationWithheld.get()).values.find((v) => v.labels.reason === 'model-missing')?.value, 1);
    assert.equal((await metrics.anonymizedImages.get()).values[0]!.value, 0);
  });

  test('checksum mismatch counts as a missing model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadside-manifest-'));
    const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8')) as { models: Record<string, { sha256: string }> };
    manifest.models.yunet_n!.sha256 = '0'.repeat(64);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const an = await createAnonymizer(options({ manifestPath: join(dir, 'manifest.json'), plateModel: null }));
    assert.equal(an.unavailable, 'model-missing');
    await assertWithheld(an, 'model-missing');
  });

  test('a corrupt weight file (right checksum, not ONNX) is a model-error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadside-corrupt-'));
    const junk = Buffer.from('this is not an onnx graph');
    writeFileSync(join(dir, 'yunet_n_dynamic.onnx'), junk);
    const { createHash } = await import('node:crypto');
    const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8')) as { models: Record<string, { sha256: string }> };
    manifest.models.yunet_n!.sha256 = createHash('sha256').update(junk).digest('hex');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const an = await createAnonymizer(options({ modelsDir: dir, manifestPath: join(dir, 'manifest.json'), plateModel: null }));
    assert.equal(an.unavailable, 'model-error');
    await assertWithheld(an, 'model-error');
  });

  test('a face detector that throws withholds the image (model-error)', async () => {
    const metrics = createMetrics();
    const broken: FaceDetector = { detect: async () => Promise.reject(new Error('onnxruntime: bad alloc')), close: async () => {} };
    const an = await createAnonymizer(options({ faceDetector: broken, plateDetector: noPlates, metrics }));
    await assertWithheld(an, 'model-error');
    assert.equal((await metrics.anonymizationWithheld.get()).values.find((v) => v.labels.reason === 'model-error')?.value, 1);
  });

  test('a face detector answering a non-finite box withholds the image (model-error)', async () => {
    const an = await createAnonymizer(options({ faceDetector: fixedFaces([{ x: NaN, y: 0, w: 10, h: 10 }]), plateDetector: noPlates }));
    await assertWithheld(an, 'model-error');
  });

  test('a plate detector that throws withholds the image when vehicles are present', async () => {
    const broken: PlateDetector = { detect: async () => Promise.reject(new Error('boom')), close: async () => {} };
    const an = await createAnonymizer(options({ faceDetector: fixedFaces([]), plateDetector: broken }));
    await assertWithheld(an, 'model-error', noiseImage(64, 48), [{ cls: 'car', score: 0.9, box: { x: 5, y: 5, w: 40, h: 30 } }]);
  });

  test('a slow detector times out, and its late answer does not touch the buffer', async () => {
    let finish: (() => void) | undefined;
    const slow: FaceDetector = {
      detect: () => new Promise((resolve) => (finish = () => resolve([{ box: { x: 0, y: 0, w: 30, h: 30 }, score: 1 }]))),
      close: async () => {},
    };
    const metrics = createMetrics();
    const an = await createAnonymizer(options({ faceDetector: slow, plateDetector: noPlates, timeoutMs: 50, metrics }));
    const img = noiseImage(64, 48);
    const before = Buffer.from(img.data);
    await assertWithheld(an, 'timeout', img);
    finish?.();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(Buffer.compare(img.data, before), 0);
    assert.equal((await metrics.anonymizationWithheld.get()).values.find((v) => v.labels.reason === 'timeout')?.value, 1);
  });

  test('real models with a 1 ms budget time out', async () => {
    const an = await createAnonymizer(options({ timeoutMs: 1 }));
    assert.equal(an.unavailable, null);
    await assertWithheld(an, 'timeout', noiseImage(1920, 1080));
    await an.close();
  });

  test('malformed frames and boxes are invalid-image', async () => {
    const an = await createAnonymizer(options({ faceDetector: fixedFaces([]), plateDetector: noPlates }));
    await assertWithheld(an, 'invalid-image', { width: 10, height: 10, data: Buffer.alloc(299) });
    await assertWithheld(an, 'invalid-image', { width: 0, height: 10, data: Buffer.alloc(0) });
    await assertWithheld(an, 'invalid-image', noiseImage(20, 20), [{ cls: 'person', score: 1, box: { x: NaN, y: 0, w: 5, h: 5 } }]);
  });
});

describe('no pixels or text in logs', () => {
  test('the privacy module has no logger or console use; it only counts', () => {
    const dir = 'appliance/src/privacy';
    for (const f of readdirSync(dir)) {
      const src = readFileSync(join(dir, f), 'utf8');
      assert.ok(!/console\.|from '\.\.\/core\/log\.js'|pino/.test(src), `${f} must not log`);
    }
  });
});
