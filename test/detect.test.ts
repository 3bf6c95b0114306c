// The detector on real weights and a real frame, plus the decoding pieces on hand-made tensors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createDetector, classWiseNms, iou, type Detector } from '../appliance/src/detect/index.js';
import { decodeYolox, letterbox } from '../appliance/src/detect/yolox.js';
import type { Detection, RgbImage } from '../appliance/src/core/types.js';
import { CLIPS, MANIFEST, MODELS_DIR, SHARED } from './helpers/paths.js';

describe('YOLOX decoding', () => {
  test('letterbox scales to the long side, keeps the top-left corner and pads with 114 in BGR planes', async () => {
    const img: RgbImage = { width: 4, height: 2, data: Buffer.from(Array.from({ length: 8 }, () => [10, 20, 30]).flat()) };
    const { tensor, scale } = await letterbox(img, 8);
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
    const dets = decodeYolox(out, { inputSize: 64, strides: [8, 16, 32], numClasses: 80, scale: 2, imageWidth: 100, imageHeight: 100, scoreThreshold: 0.3, nmsIou: 0.45 });
    assert.equal(dets.length, 1);
    const d = dets[0];
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

describe('YOLOX-Nano on a real frame (onnxruntime-node, CPU)', () => {
  let det: Detector;
  before(async () => {
    det = await createDetector({ modelsDir: MODELS_DIR, manifestPath: MANIFEST, backend: 'onnx-cpu', model: 'yolox_nano', scoreThreshold: 0.3, nmsIou: 0.45, threads: 2 });
  });
  after(async () => det?.close());

  test('finds the confident cars of frame 0 of the opendatacam clip', async () => {
    const W = 640;
    const H = 360;
    const data = execFileSync('ffmpeg', ['-v', 'error', '-i', CLIPS.opendatacam, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 24 });
    assert.equal(data.length, W * H * 3);
    const found = await det.process({ width: W, height: H, data });
    // Reference: the clip's published YOLO output (centre x,y,w,h at 1920x1080; pseudo-labels), confident cars only.
    const first = JSON.parse(readFileSync(resolve(SHARED, 'data/traffic/opendatacam/rawdetections.txt'), 'utf8').split('\n')[0]) as {
      detections: { x: number; y: number; w: number; h: number; prob: number; name: string }[];
    };
    const ref = first.detections
      .filter((d) => d.name === 'car' && d.prob >= 50 && d.w < 1000)
      .map((d) => ({ x: (d.x - d.w / 2) / 3, y: (d.y - d.h / 2) / 3, w: d.w / 3, h: d.h / 3 }));
    assert.ok(ref.length >= 8);
    const matched = ref.filter((r) => found.some((f) => ['car', 'truck', 'bus'].includes(f.cls) && iou(f.box, r) >= 0.5));
    assert.ok(matched.length / ref.length >= 0.8, `matched ${matched.length}/${ref.length}`);
    for (const f of found) {
      assert.ok(f.box.x >= 0 && f.box.y >= 0 && f.box.x + f.box.w <= W + 1e-6 && f.box.y + f.box.h <= H + 1e-6, 'boxes inside the frame');
      assert.ok(f.score >= 0.3 && f.score <= 1);
    }
  });

  test('an unknown backend model or a detector of the wrong kind is refused clearly', async () => {
    await assert.rejects(
      createDetector({ modelsDir: MODELS_DIR, manifestPath: MANIFEST, backend: 'onnx-cpu', model: 'yunet_n', scoreThreshold: 0.3, nmsIou: 0.45, threads: 1 }),
      /not a YOLOX detector/,
    );
    await assert.rejects(
      createDetector({ modelsDir: MODELS_DIR, manifestPath: MANIFEST, backend: 'onnx-cpu', model: 'nope', scoreThreshold: 0.3, nmsIou: 0.45, threads: 1 }),
      /model 'nope' is not in the manifest/,
    );
  });
});
