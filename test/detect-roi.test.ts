// Unit tier: detection on a region of interest (detect/roi.ts, detect/preprocess.ts) on a hand-made
// frame and a stub decoder (no model): the crop reaches the input tensor, boxes found in it land at
// the right full-frame pixels, and the auto region follows the camera's drawn geometry.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fromRegion, prepareInput, type InputSpec } from '../appliance/src/detect/preprocess.js';
import { cameraView, fitAspect, roiPixels } from '../appliance/src/detect/roi.js';
import { validateConfig } from '../appliance/src/config/load.js';
import type { Box, Detection, RgbImage } from '../appliance/src/core/types.js';
import { replayCamera } from '../appliance/src/pipeline/replay.js';
import { RecordedFrameSource } from '../appliance/src/ingest/recorded-source.js';

/** A black frame with one white rectangle (the "vehicle"). */
function frameWith(width: number, height: number, vehicle: Box): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = vehicle.y; y < vehicle.y + vehicle.h; y++) data.fill(255, (y * width + vehicle.x) * 3, (y * width + vehicle.x + vehicle.w) * 3);
  return { width, height, data };
}

/** Stub decoder: the bright pixels of the input's first plane as one box, in input pixels. */
function stubDecode(tensor: Float32Array, spec: InputSpec): Detection[] {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let y = 0; y < spec.height; y++) {
    for (let x = 0; x < spec.width; x++) {
      if ((tensor[y * spec.width + x] ?? 0) < 128) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x + 1);
      y1 = Math.max(y1, y + 1);
    }
  }
  return x1 > x0 ? [{ box: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, cls: 'car', score: 1 }] : [];
}

const SPEC: InputSpec = { width: 128, height: 64, fit: 'stretch', channels: 'RGB', normalize: 'none' };

describe('detection on a region of interest', () => {
  test('the crop fills the model input and boxes found in it land at their full-frame pixels', async () => {
    const vehicle = { x: 120, y: 40, w: 20, h: 10 };
    const frame = frameWith(200, 100, vehicle);
    const roi = { x: 100, y: 30, w: 64, h: 32 };
    const { tensor, scaleX, scaleY, region } = await prepareInput({ ...frame, roi }, SPEC);
    assert.deepEqual(region, roi, 'the region has the model aspect already: taken as given');
    assert.equal(scaleX, 2, 'the 64-pixel-wide region is enlarged to the 128-pixel input');
    assert.equal(scaleY, 2);
    const [found] = stubDecode(tensor, SPEC);
    assert.ok(found, 'the vehicle is in the input');
    // In the input: (120−100)·2 = 40, (40−30)·2 = 20, twice the size (the whole frame would give 0.64×).
    assert.ok(Math.abs(found.box.x - 40) <= 1 && Math.abs(found.box.w - 40) <= 2, `input box ${JSON.stringify(found.box)}`);
    // What a decoder does (input → region pixels), then the move into the frame.
    const inRegion: Detection[] = [{ ...found, box: { x: found.box.x / scaleX, y: found.box.y / scaleY, w: found.box.w / scaleX, h: found.box.h / scaleY } }];
    const [back] = fromRegion(inRegion, region);
    assert.ok(back);
    for (const k of ['x', 'y', 'w', 'h'] as const) assert.ok(Math.abs(back.box[k] - vehicle[k]) <= 1, `${k}: ${back.box[k]} vs ${vehicle[k]}`);
  });

  test('without a region the whole frame is the input and boxes stay where they are', async () => {
    const frame = frameWith(200, 100, { x: 120, y: 40, w: 20, h: 10 });
    const { region, scaleX } = await prepareInput(frame, SPEC);
    assert.deepEqual(region, { x: 0, y: 0, w: 200, h: 100 });
    assert.equal(scaleX, 128 / 200);
    const d: Detection[] = [{ box: { x: 5, y: 6, w: 7, h: 8 }, cls: 'car', score: 1 }];
    assert.deepEqual(fromRegion(d, region)[0]?.box, { x: 5, y: 6, w: 7, h: 8 });
  });

  test('a region of another shape is grown to the model aspect inside the frame', async () => {
    const frame = frameWith(200, 100, { x: 0, y: 0, w: 1, h: 1 });
    // 64x16 at the bottom edge: grown to 64x32 about its centre, pushed up to stay in the frame.
    const { region } = await prepareInput({ ...frame, roi: { x: 100, y: 84, w: 64, h: 16 } }, SPEC);
    assert.deepEqual(region, { x: 100, y: 68, w: 64, h: 32 });
    // The dev set's 320x240 highway: its line's band becomes the full width at 864:480.
    assert.deepEqual(fitAspect({ x: 0, y: 115, w: 320, h: 49 }, 320, 240, 864 / 480), { x: 0, y: 51, w: 320, h: 178 });
  });

  test('auto: the lines and zones of the camera config with a 10 % margin, in pixels', () => {
    const camera = (detector?: object) =>
      validateConfig({
        cameras: [
          {
            id: 'c',
            url: 'rtsp://127.0.0.1/c',
            width: 640,
            height: 360,
            lines: [{ id: 'l', from: { x: 0.3, y: 0.5 }, to: { x: 0.7, y: 0.5 }, direction: { x: 0, y: 1 } }],
            zones: [{ id: 'z', polygon: [{ x: 0.4, y: 0.6 }, { x: 0.6, y: 0.6 }, { x: 0.5, y: 0.8 }] }],
            ...(detector ? { detector } : {}),
          },
        ],
      }).cameras[0]!;
    const frame = frameWith(640, 360, { x: 0, y: 0, w: 1, h: 1 });
    // x 0.3..0.7 and y 0.5..0.8, ± 0.1 → 128..512 × 144..324.
    assert.deepEqual(cameraView(camera({ roi: 'auto' }), frame).roi, { x: 128, y: 144, w: 384, h: 180 });
    assert.deepEqual(cameraView(camera({ roi: { x: 0.5, y: 0.5, w: 0.25, h: 0.25 } }), frame).roi, { x: 320, y: 180, w: 160, h: 90 });
    const byDefault = camera();
    assert.equal(byDefault.detector?.roi, 'full', 'the schema default');
    assert.equal(cameraView(byDefault, frame), frame, 'full frame: the frame itself, no region');
    // Geometry nearly as large as the frame: no crop.
    assert.equal(roiPixels('auto', { lines: [{ from: { x: 0.05, y: 0.1 }, to: { x: 0.95, y: 0.9 } }] }, 640, 360), undefined);
    assert.equal(roiPixels('auto', {}, 640, 360), undefined, 'nothing drawn: whole frame');
  });

  test('the camera pipeline hands its detector each frame with the camera\'s region', async () => {
    const camera = validateConfig({
      cameras: [{ id: 'c', url: 'rtsp://127.0.0.1/c', fps: 5, width: 640, height: 360, lines: [{ id: 'l', from: { x: 0.3, y: 0.5 }, to: { x: 0.7, y: 0.5 }, direction: { x: 0, y: 1 } }], detector: { roi: 'auto' } }],
    }).cameras[0]!;
    const frames = Array.from({ length: 3 }, (_, seq) => ({ seq, timestampMs: seq * 200, detections: [] }));
    const seen: Array<Box | undefined> = [];
    await replayCamera({
      camera,
      source: new RecordedFrameSource('c', { header: { kind: 'roadside-detections', version: 1, clip: 'none', fps: 5, width: 640, height: 360, detector: 'stub', scoreThreshold: 0.15 }, frames }),
      detector: { process: async (image: RgbImage) => (seen.push(image.roi), []), close: async () => undefined },
    });
    assert.equal(seen.length, 3);
    // x 0.3..0.7 ± 0.1 → 128..512; y 0.5 ± 0.1 → 144..216.
    for (const roi of seen) assert.deepEqual(roi, { x: 128, y: 144, w: 384, h: 72 });
  });
});
