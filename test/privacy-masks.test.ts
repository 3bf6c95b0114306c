// Anonymization 2, the pieces: the model-free whole-frame plate scan, size bounds on plate and face
// masks, the head fallback placed by the person box's shape, face passes within a pixel budget and on
// person crops, the masked share, and the worker's queue (one running, one waiting, the rest busy).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Box, Detection, RgbImage } from '../appliance/src/core/types.js';
import { AnonymizerBusyError, createAnonymizer, coveredFraction, maskedAreaFraction, type FaceDetector, type PlateDetector } from '../appliance/src/privacy/index.js';
import { scanPlates, plateFromPatch } from '../appliance/src/privacy/plate-scan.js';
import { contextOf, plausibleFace, plausiblePlate, widthAtRow } from '../appliance/src/privacy/bounds.js';
import { headRegion } from '../appliance/src/privacy/fallback.js';
import { facePasses, personPasses } from '../appliance/src/privacy/faces.js';

function flat(width: number, height: number, v = 110): RgbImage {
  return { width, height, data: Buffer.alloc(width * height * 3, v) };
}

/** A light plate with dark vertical character strokes, drawn into the image. */
function drawPlate(img: RgbImage, b: Box): void {
  for (let y = b.y; y < b.y + b.h; y++)
    for (let x = b.x; x < b.x + b.w; x++) {
      const inText = y >= b.y + 2 && y < b.y + b.h - 2 && x >= b.x + 2 && x < b.x + b.w - 2;
      const stroke = inText && (x - b.x) % 3 === 0;
      img.data.fill(stroke ? 20 : 235, (y * img.width + x) * 3, (y * img.width + x) * 3 + 3);
    }
}

const fixedFaces = (boxes: Box[]): FaceDetector => ({ detect: async () => boxes.map((box) => ({ box, score: 0.9 })), close: async () => {} });
const noPlates: PlateDetector = { detect: async () => [], close: async () => {} };
const MODELS = { modelsDir: '../shared/models', manifestPath: 'models/manifest.json', faceModel: 'yunet_n', faceScoreThreshold: 0.3, plateModel: 'ppocr_v4_det', jpegQuality: 80 };

describe('whole-frame plate scan (no model, no vehicle)', () => {
  test('finds a 24x10 px plate on an empty road and nothing on flat ground', () => {
    const img = flat(320, 240);
    const plate = { x: 150, y: 120, w: 24, h: 10 };
    drawPlate(img, plate);
    const found = scanPlates(img).map((p) => plateFromPatch(p.box));
    assert.ok(found.length >= 1);
    assert.ok(coveredFraction(plate, found) >= 0.9, `covered ${coveredFraction(plate, found)}`);
    // the boxes are plate-sized: a few times the plate, not the frame
    assert.ok(maskedAreaFraction(320, 240, found) < 0.02);
    assert.deepEqual(scanPlates(flat(320, 240)), []);
  });

  test('a large stroke texture (a building front, a grille wall) is not a plate', () => {
    const img = flat(320, 240);
    drawPlate(img, { x: 20, y: 20, w: 260, h: 120 });
    const found = scanPlates(img).map((p) => plateFromPatch(p.box));
    assert.ok(maskedAreaFraction(320, 240, found) < 0.05, `masked ${maskedAreaFraction(320, 240, found)}`);
  });
});

describe('mask size bounds', () => {
  const image = { width: 640, height: 360 };
  // vehicles that grow towards the bottom of the frame (perspective)
  const vehicles: Box[] = [
    { x: 100, y: 100, w: 30, h: 20 },
    { x: 300, y: 160, w: 50, h: 35 },
    { x: 200, y: 250, w: 90, h: 60 },
    { x: 400, y: 280, w: 110, h: 70 },
  ];

  test('expected vehicle width grows with the row', () => {
    const at = widthAtRow(vehicles);
    assert.ok(at(330)! > at(150)!);
    assert.equal(widthAtRow([])(100), null);
  });

  test('a 307x271 "plate" over a building is rejected; a real plate at that row is kept', () => {
    const at = contextOf(vehicles);
    assert.ok(!plausiblePlate({ x: 250, y: 20, w: 307, h: 271 }, at, image));
    assert.ok(plausiblePlate({ x: 240, y: 295, w: 30, h: 10 }, at, image));
    // taller than wide is not a plate
    assert.ok(!plausiblePlate({ x: 240, y: 280, w: 20, h: 30 }, at, image));
  });

  test('without vehicles a close-up plate may be large, but not the whole picture', () => {
    const none = contextOf([]);
    assert.ok(plausiblePlate({ x: 100, y: 200, w: 300, h: 70 }, none, image), 'close-up plate kept');
    assert.ok(!plausiblePlate({ x: 0, y: 0, w: 620, h: 350 }, none, image), 'taller than wide is never a plate');
    assert.ok(!plausiblePlate({ x: 0, y: 0, w: 639, h: 300 }, contextOf([]), { width: 640, height: 360 }), 'wider than 95 % of the picture is not a plate');
  });

  test('a plate on a near car is bounded by that car, not by the small cars further up the road', () => {
    const near = { x: 100, y: 150, w: 400, h: 200 };
    const ctx = contextOf([...vehicles.slice(0, 2), near]);
    assert.ok(plausiblePlate({ x: 250, y: 280, w: 130, h: 40 }, ctx, image), 'plate on the near car');
    assert.ok(!plausiblePlate({ x: 250, y: 10, w: 130, h: 40 }, ctx, image), 'same box in the sky, over small far cars');
  });

  test('a face far wider than the persons at its place is rejected; a close-up face without persons is kept', () => {
    const persons = contextOf([
      { x: 100, y: 100, w: 20, h: 50 },
      { x: 300, y: 150, w: 30, h: 75 },
      { x: 400, y: 200, w: 40, h: 100 },
    ]);
    assert.ok(!plausibleFace({ x: 100, y: 50, w: 200, h: 200 }, persons, image));
    assert.ok(plausibleFace({ x: 305, y: 152, w: 14, h: 16 }, persons, image));
    assert.ok(plausibleFace({ x: 200, y: 50, w: 180, h: 200 }, contextOf([]), image), 'close-up face kept');
    assert.ok(!plausibleFace({ x: 0, y: 0, w: 600, h: 350 }, contextOf([]), image), 'not the whole picture');
  });

  test('the plan drops an implausible face box and reports the masked share it pixelates', async () => {
    const objects: Detection[] = [0, 1, 2].map((i) => ({ cls: 'person' as const, score: 0.9, box: { x: 100 + 100 * i, y: 150 + 20 * i, w: 20, h: 50 } }));
    const faceBox = { x: 103, y: 152, w: 12, h: 14 };
    const huge = { x: 0, y: 0, w: 600, h: 340 };
    const an = await createAnonymizer({ ...MODELS, timeoutMs: 5000, faceDetector: fixedFaces([faceBox, huge]), plateDetector: noPlates });
    const plan = await an.maskPlan(flat(640, 360), objects);
    assert.equal(plan.faces.length, 1);
    assert.ok(coveredFraction(faceBox, plan.faces) === 1);
    assert.ok(Math.abs(plan.maskedShare - maskedAreaFraction(640, 360, plan.all)) < 1e-12);
    assert.ok(plan.maskedShare < 0.1, `masked ${plan.maskedShare}`);
  });
});

describe('faces: head fallback by pose, small-face passes', () => {
  test('upright person: the head region is at the top; seen from above: in the middle, not at the top', () => {
    const upright = { x: 100, y: 100, w: 30, h: 90 };
    const h1 = headRegion(upright);
    assert.equal(coveredFraction({ x: 105, y: 102, w: 20, h: 18 }, [h1]), 1);
    assert.ok(h1.y + h1.h < upright.y + upright.h / 2);
    const above = { x: 100, y: 100, w: 40, h: 40 };
    const h2 = headRegion(above);
    assert.equal(coveredFraction({ x: 112, y: 112, w: 16, h: 16 }, [h2]), 1); // head in the centre
    assert.equal(coveredFraction({ x: 100, y: 100, w: 40, h: 4 }, [h2]), 0); // top edge left alone
  });

  test('the upscaled whole-frame pass runs only within its pixel budget; small persons get upscaled head crops', () => {
    assert.ok(facePasses(640, 360).some((p) => p.scale === 2));
    assert.ok(!facePasses(1280, 720).some((p) => p.scale === 2));
    const passes = personPasses([{ x: 600, y: 300, w: 12, h: 36 }, { x: 10, y: 10, w: 200, h: 400 }], 1280, 720);
    assert.equal(passes.length, 1); // the big person's face is seen by the frame pass
    assert.ok(passes[0]!.scale >= 3);
    assert.equal(coveredFraction({ x: 602, y: 300, w: 8, h: 8 }, [passes[0]!.region]), 1);
  });
});

describe('worker queue', () => {
  test('one running, one waiting, the third is told busy; both queued images come back', async () => {
    const an = await createAnonymizer({ ...MODELS, timeoutMs: 60_000 });
    try {
      assert.equal(an.unavailable, null);
      assert.equal(an.blursInPlace, false);
      const img = (): RgbImage => flat(320, 240, 90);
      const a = an.anonymize(img(), []);
      const b = an.anonymize(img(), []);
      await assert.rejects(an.anonymize(img(), []), (e: unknown) => e instanceof AnonymizerBusyError);
      const [ra, rb] = await Promise.all([a, b]);
      assert.equal(ra.jpeg[0], 0xff);
      assert.ok(rb.maskedShare >= 0 && rb.maskedShare < 0.05);
      const s = an.stats();
      assert.equal(s.maxRunning, 1);
      assert.equal(s.maxWorkers, 1);
      assert.equal(s.running, 0);
    } finally {
      await an.close();
    }
    assert.equal(an.stats().workers, 0);
  });
});
