// Unit tier: the detectors' pre- and post-processing on hand-made tensors (no model, no video).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { classWiseNms, dropOversized, vehicleAwareNms } from '../appliance/src/detect/nms.js';
import { iou } from '../appliance/src/core/box.js';
import { decodePicodet } from '../appliance/src/detect/picodet.js';
import { decodeAtss } from '../appliance/src/detect/atss.js';
import { prepareInput } from '../appliance/src/detect/preprocess.js';
import { decodeYolox } from '../appliance/src/detect/yolox.js';
import type { Detection, RgbImage } from '../appliance/src/core/types.js';

describe('YOLOX decoding', () => {
  test('letterbox scales to the long side, keeps the top-left corner and pads with 114 in BGR planes', async () => {
    const img: RgbImage = { width: 4, height: 2, data: Buffer.from(Array.from({ length: 8 }, () => [10, 20, 30]).flat()) };
    const { tensor, scaleX: scale } = await prepareInput(img, { width: 8, height: 8, fit: 'letterbox', channels: 'BGR', normalize: 'none' });
    assert.equal(scale, 2);
    const plane = 64;
    assert.equal(tensor[0], 30, 'B first');
    assert.equal(tensor[plane], 20);
    assert.equal(tensor[2 * plane], 10, 'R last');
    assert.equal(tensor[3 * 8 + 7], 30, 'row 3 is image');
    assert.equal(tensor[4 * 8], 114, 'row 4 is padding');
  });

  test('a grid cell regression decodes to the right box in image pixels, and only kept classes survive', () => {
    // Input 64 → strides 8,16,32 give 64+16+4 = 84 rows of 85.
    const rows = 84;
    const out = new Float32Array(rows * 85);
    const put = (row: number, dx: number, dy: number, lw: number, lh: number, obj: number, cls: number, p: number) => {
      out.set([dx, dy, lw, lh, obj], row * 85);
      out[row * 85 + 5 + cls] = p;
    };
    // stride 8, cell (gx=3, gy=2) = row 2*8+3 = 19: centre (3.5*8, 2.5*8) = (28, 20), w = e^1 * 8
    put(19, 0.5, 0.5, 1, 0, 0.9, 2, 0.8); // car
    put(20, 0.5, 0.5, 1, 0, 0.9, 9, 0.9); // traffic light: dropped
    const dets = decodeYolox(out, { inputWidth: 64, inputHeight: 64, strides: [8, 16, 32], numClasses: 80, scale: 2, imageWidth: 100, imageHeight: 100, scoreThreshold: 0.3 });
    assert.equal(dets.length, 1);
    const d = dets[0]!;
    assert.equal(d.cls, 'car');
    assert.ok(Math.abs(d.score - 0.72) < 1e-6);
    const w = (Math.E * 8) / 2;
    assert.ok(Math.abs(d.box.x - (14 - w / 2)) < 1e-4 && Math.abs(d.box.w - w) < 1e-4);
    assert.ok(Math.abs(d.box.y - (10 - 2)) < 1e-4 && Math.abs(d.box.h - 4) < 1e-4);
  });

  test('NMS suppresses overlaps within a class, never across classes', () => {
    const box = { x: 0, y: 0, w: 10, h: 10 };
    const dets: Detection[] = [
      { box, cls: 'car', score: 0.9 },
      { box: { ...box, x: 1 }, cls: 'car', score: 0.8 },
      { box, cls: 'person', score: 0.7 },
      { box: { ...box, x: 50 }, cls: 'car', score: 0.6 },
    ];
    const kept = classWiseNms(dets, 0.45);
    assert.deepEqual(kept.map((d) => `${d.cls}:${d.score}`), ['car:0.9', 'person:0.7', 'car:0.6']);
    assert.equal(iou(box, box), 1);
    assert.equal(iou(box, { x: 20, y: 20, w: 1, h: 1 }), 0);
  });
});
describe('PP-PicoDet decoding and the shared post-processing', () => {
  test('stretch + RGB + ImageNet normalisation fills the whole input, R plane first', async () => {
    const img: RgbImage = { width: 4, height: 2, data: Buffer.from(Array.from({ length: 8 }, () => [123.675, 116.28, 103.53 + 57.375]).flat()) };
    const { tensor, scaleX, scaleY } = await prepareInput(img, { width: 8, height: 8, fit: 'stretch', channels: 'RGB', normalize: 'imagenet' });
    assert.equal(scaleX, 2);
    assert.equal(scaleY, 4);
    const plane = 64;
    // Buffer.from truncates to integers: 123 → (123 − 123.675)/58.395
    assert.ok(Math.abs(tensor[0]! - (123 - 123.675) / 58.395) < 1e-5, 'R first');
    assert.ok(Math.abs(tensor[2 * plane + 63]! - (160 - 103.53) / 57.375) < 1e-5, 'B last, no padding at the bottom right');
  });

  test('a GFL distribution decodes to distances × stride around the cell centre', () => {
    // Input 32x16, strides [8, 16]: level 0 has 4x2 cells, level 1 2x1.
    const bins = 8;
    const sc0 = new Float32Array(8 * 80);
    const sc1 = new Float32Array(2 * 80);
    const bx0 = new Float32Array(8 * 4 * bins).fill(-50);
    const bx1 = new Float32Array(2 * 4 * bins).fill(-50);
    // Cell 5 of level 0 = (x 1, y 1): centre (1·8 + 3.5, 1·8 + 3.5) = (11.5, 11.5); a car (COCO 2), score 0.8.
    sc0[5 * 80 + 2] = 0.8;
    sc0[6 * 80 + 9] = 0.95; // a traffic light in cell 6: dropped
    // Sides l,t,r,b peaked on bins 1, 2, 3, 1 → distances 8, 16, 24, 8.
    [1, 2, 3, 1].forEach((b, k) => (bx0[5 * 4 * bins + k * bins + b] = 50));
    const dets = decodePicodet([sc0, sc1], [bx0, bx1], { inputWidth: 32, inputHeight: 16, strides: [8, 16], numClasses: 80, bins, scaleX: 0.5, scaleY: 0.5, imageWidth: 100, imageHeight: 100, scoreThreshold: 0.4 });
    assert.equal(dets.length, 1);
    const d = dets[0]!;
    assert.equal(d.cls, 'car');
    assert.ok(Math.abs(d.score - 0.8) < 1e-6);
    // Input box x 3.5..35.5 → clipped at 0 in image pixels after /0.5: x0 = 7, x1 = 71; y −4.5 → 0 .. 19.5 → 39.
    assert.ok(Math.abs(d.box.x - 7) < 1e-3 && Math.abs(d.box.w - 64) < 1e-3, JSON.stringify(d.box));
    assert.ok(Math.abs(d.box.y - 0) < 1e-3 && Math.abs(d.box.h - 39) < 1e-3, JSON.stringify(d.box));
  });

  test('vehicle-aware NMS keeps one box for a car and a truck on the same vehicle, but a rider stays beside the motorcycle', () => {
    const box = { x: 10, y: 10, w: 40, h: 30 };
    const dets: Detection[] = [
      { box, cls: 'car', score: 0.8 },
      { box: { ...box, x: 12 }, cls: 'truck', score: 0.6 },
      { box: { x: 100, y: 10, w: 20, h: 20 }, cls: 'motorcycle', score: 0.7 },
      { box: { x: 101, y: 0, w: 18, h: 25 }, cls: 'person', score: 0.9 },
    ];
    const kept = vehicleAwareNms(dets, 0.45).map((d) => d.cls).sort();
    assert.deepEqual(kept, ['car', 'motorcycle', 'person']);
    // Class-wise NMS (the old behaviour) would have counted the vehicle twice.
    assert.equal(classWiseNms(dets, 0.45).filter((d) => d.box.x < 50).length, 2);
  });

  test('boxes larger than the allowed share of the frame are dropped', () => {
    const dets: Detection[] = [
      { box: { x: 0, y: 0, w: 320, h: 230 }, cls: 'bus', score: 0.9 },
      { box: { x: 10, y: 10, w: 40, h: 30 }, cls: 'car', score: 0.8 },
    ];
    assert.deepEqual(dropOversized(dets, 320, 240, 0.6).map((d) => d.cls), ['car']);
    assert.equal(dropOversized(dets, 320, 240, 1).length, 2);
  });
});

describe('ATSS decoding (person-vehicle-bike-detection-2003)', () => {
  // Input 32x16, strides 8 and 16 (grids 4x2 and 2x1), one anchor 16x8 at stride 8 (32x16 at 16), classes vehicle/person/bike.
  const opts = {
    inputWidth: 32,
    inputHeight: 16,
    strides: [8, 16],
    baseAnchors: [[16, 8]] as Array<[number, number]>,
    classes: ['car', 'person', 'motorcycle'] as const,
    scaleX: 0.5,
    scaleY: 0.5,
    imageWidth: 64,
    imageHeight: 32,
    scoreThreshold: 0.3,
  };
  const maps = () => ({
    cls: [new Float32Array(3 * 8).fill(-10), new Float32Array(3 * 2).fill(-10)],
    ctr: [new Float32Array(8).fill(0), new Float32Array(2).fill(0)],
    reg: [new Float32Array(4 * 8), new Float32Array(4 * 2)],
  });

  test('score is sigmoid(class) x sigmoid(centerness); the box is the anchor moved by 0.1·d and scaled by exp(0.2·d), in image pixels', () => {
    const m = maps();
    // stride 8, cell (x=2, y=1) = index 6: anchor centre (16, 8); person logit 2, centerness 0.
    m.cls[0]![1 * 8 + 6] = 2;
    m.reg[0]![0 * 8 + 6] = 1; // dx: centre x + 16·0.1 = 17.6
    m.reg[0]![2 * 8 + 6] = 5 * Math.LN2; // dw: width 16·e^(ln 2) = 32
    // Same cell at stride 8 with a strong class but a low centerness: 0.88 × 0.047 < 0.3.
    m.cls[0]![0 * 8 + 5] = 2;
    m.ctr[0]![5] = -3;
    const dets = decodeAtss(m.cls, m.ctr, m.reg, { ...opts, classes: [...opts.classes] });
    assert.equal(dets.length, 1);
    const d = dets[0]!;
    assert.equal(d.cls, 'person');
    assert.ok(Math.abs(d.score - 0.5 / (1 + Math.exp(-2))) < 1e-6);
    // Input box (1.6, 4)–(33.6, 12), /0.5 → image (3.2, 8) 64x16, clipped at the image's right edge (64).
    assert.ok(Math.abs(d.box.x - 3.2) < 1e-4, `x ${d.box.x}`);
    assert.ok(Math.abs(d.box.y - 8) < 1e-4, `y ${d.box.y}`);
    assert.ok(Math.abs(d.box.w - (64 - 3.2)) < 1e-4, `w ${d.box.w}`);
    assert.ok(Math.abs(d.box.h - 16) < 1e-4, `h ${d.box.h}`);
  });

  test('anchors double with the stride; a region offset moves boxes into the full frame; wrong tensor sizes are refused', () => {
    const m = maps();
    // stride 16, cell (x=1, y=0): anchor 32x16 centred at (16, 0); vehicle.
    m.cls[1]![0 * 2 + 1] = 4;
    m.ctr[1]![1] = 4;
    const [d] = decodeAtss(m.cls, m.ctr, m.reg, { ...opts, classes: [...opts.classes], scaleX: 1, scaleY: 1, imageWidth: 200, imageHeight: 100, offsetX: 100, offsetY: 50 });
    assert.ok(d);
    assert.equal(d.cls, 'car');
    assert.deepEqual(
      [d.box.x, d.box.y, d.box.w, d.box.h].map((v) => Math.round(v * 1000) / 1000),
      [100, 50, 32, 8],
      'anchor 32x16 at (16, 0) → (0, −8)–(32, 8), clipped to the region top, then offset',
    );
    assert.throws(() => decodeAtss([new Float32Array(5)], m.ctr, m.reg, { ...opts, classes: [...opts.classes] }), /grid/);
  });
});
