// The detector on real weights and a real frame, plus the decoding pieces on hand-made tensors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createDetector, iou, type Detector } from '../appliance/src/detect/index.js';
import { CLIPS, MANIFEST, MODELS_DIR, SHARED } from './helpers/paths.js';

for (const model of ['yolox_nano', 'picodet_s_640x384', 'yolox_nano_640x384', 'picodet_s_416', 'person_vehicle_bike_2003']) {
  describe(`${model} on a real frame (onnxruntime-node, CPU)`, () => {
    let det: Detector;
    before(async () => {
      det = await createDetector({ modelsDir: MODELS_DIR, manifestPath: MANIFEST, backend: 'onnx-cpu', model, scoreThreshold: model.startsWith('picodet') ? 0.4 : 0.3, nmsIou: 0.45, threads: 2, maxBoxArea: 0.6 });
    });
    after(async () => det?.close());

    test('finds the confident cars of frame 0 of the opendatacam clip, boxes inside the frame', async () => {
      const W = 640;
      const H = 360;
      const data = execFileSync('ffmpeg', ['-v', 'error', '-i', CLIPS.opendatacam, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 24 });
      const found = await det.process({ width: W, height: H, data });
      const first = JSON.parse(readFileSync(resolve(SHARED, 'data/traffic/opendatacam/rawdetections.txt'), 'utf8').split('\n')[0]!) as {
        detections: { x: number; y: number; w: number; h: number; prob: number; name: string }[];
      };
      const ref = first.detections
        .filter((d) => d.name === 'car' && d.prob >= 50 && d.w < 1000)
        .map((d) => ({ x: (d.x - d.w / 2) / 3, y: (d.y - d.h / 2) / 3, w: d.w / 3, h: d.h / 3 }));
      const matched = ref.filter((r) => found.some((f) => ['car', 'truck', 'bus'].includes(f.cls) && iou(f.box, r) >= 0.5));
      assert.ok(matched.length / ref.length >= 0.8, `matched ${matched.length}/${ref.length}`);
      for (const f of found) assert.ok(f.box.x >= 0 && f.box.y >= 0 && f.box.x + f.box.w <= W + 1e-6 && f.box.y + f.box.h <= H + 1e-6);
    });
  });
}

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
    const first = JSON.parse(readFileSync(resolve(SHARED, 'data/traffic/opendatacam/rawdetections.txt'), 'utf8').split('\n')[0]!) as {
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
      /not an object detector this appliance can decode/,
    );
    await assert.rejects(
      createDetector({ modelsDir: MODELS_DIR, manifestPath: MANIFEST, backend: 'onnx-cpu', model: 'nope', scoreThreshold: 0.3, nmsIou: 0.45, threads: 1 }),
      /model 'nope' is not in the manifest/,
    );
  });
});
