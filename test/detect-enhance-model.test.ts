// Full tier: the low-light step (detector.enhance) with the real shipped detector on real frames.
// sf-freeway-night at 15.2 s (frame 76 at 5 fps): a car with its tail lights on the unlit carriageway,
// on the `away` counting line; by eye (the frame zoomed 4x on a 10 px grid) its body spans x 695–755,
// y 268–302. Without the step the model has no box on it in this frame and the next (the "no boxes for
// ~1 s" misses of that line); with it, it has.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { createDetector, iou, type Detector } from '../appliance/src/detect/index.js';
import type { Box, RgbImage } from '../appliance/src/core/types.js';
import { CLIPS, MANIFEST, MODELS_DIR, SHARED } from './helpers/paths.js';

/** Frame n of the clip at 5 fps (the analysed rate), as ingest decodes it. */
function frameAt5fps(clip: string, n: number, width: number, height: number): RgbImage {
  const data = execFileSync('ffmpeg', ['-v', 'error', '-i', clip, '-vf', `fps=5,scale=${width}:${height},select=eq(n\\,${n})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 24 });
  assert.equal(data.length, width * height * 3);
  return { width, height, data };
}

const CAR_BY_EYE: Box = { x: 695, y: 268, w: 60, h: 34 };

describe('the shipped detector with and without the low-light step', () => {
  const dets: Partial<Record<'off' | 'auto' | 'worker', Detector>> = {};
  before(async () => {
    const opts = { modelsDir: MODELS_DIR, manifestPath: MANIFEST, backend: 'onnx-cpu', model: 'person_vehicle_bike_2003', scoreThreshold: 0.15, nmsIou: 0.45, threads: 2, maxBoxArea: 0.6 } as const;
    dets.off = await createDetector({ ...opts, enhance: 'off' });
    dets.auto = await createDetector({ ...opts, enhance: 'auto' });
    // As the appliance runs it: in a worker thread, the option carried there with the others.
    dets.worker = await createDetector({ ...opts, enhance: 'auto', host: 'worker' });
  });
  after(async () => {
    for (const d of Object.values(dets)) await d.close();
  });

  test('finds the car on the unlit carriageway at night that it misses without', async () => {
    const frame = frameAt5fps(resolve(SHARED, 'data/traffic/sf-freeway-night/sf_freeway_night_24fps.mp4'), 76, 854, 480);
    const onCar = (found: Awaited<ReturnType<Detector['process']>>) => found.filter((d) => d.cls !== 'person' && iou(d.box, CAR_BY_EYE) >= 0.3);
    const off = onCar(await dets.off!.process(frame));
    const auto = onCar(await dets.auto!.process(frame));
    const worker = onCar(await dets.worker!.process(frame));
    assert.equal(off.length, 0, `without: ${JSON.stringify(off)}`);
    assert.ok(auto.length >= 1, 'with the step: no box on the car');
    assert.deepEqual(worker, auto);
  });

  test('sees a day frame exactly as without it', async () => {
    const data = execFileSync('ffmpeg', ['-v', 'error', '-i', CLIPS.opendatacam, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 24 });
    const frame = { width: 640, height: 360, data };
    assert.deepEqual(await dets.auto!.process(frame), await dets.off!.process(frame));
  });
});
