// The detector in a worker thread (detect/detector-host.ts) on real weights and real frames: the same
// detections as inline, frames stay with the caller, its threads below the decoders' priority, a
// missing model refused at creation, and close waits for the frames in flight.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createDetector, DETECTOR_NICE, type Detector } from '../appliance/src/detect/index.js';
import { DetectorQueue } from '../appliance/src/pipeline/detector-queue.js';
import { ModelError } from '../appliance/src/core/models.js';
import { decodeFrames } from './helpers/clips.js';
import { CLIPS, MANIFEST, MODELS_DIR } from './helpers/paths.js';

const opts = { modelsDir: MODELS_DIR, manifestPath: MANIFEST, backend: 'onnx-cpu' as const, model: 'yolox_nano', scoreThreshold: 0.3, nmsIou: 0.45, threads: 2, maxBoxArea: 0.6 };

/** Nice values of this process's threads, by thread id. */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('detector in a worker thread', () => {
  let inline: Detector;
  let worker: Detector;
  before(async () => {
    inline = await createDetector(opts);
    worker = await createDetector({ ...opts, host: 'worker' });
  });
  after(async () => {
    await inline?.close();
    await worker?.close();
  });

  test('finds exactly what the inline detector finds, frame by frame, and leaves the frames untouched', async () => {
    const frames = await decodeFrames(CLIPS.opendatacam, { fps: 5, width: 640, height: 360, maxSeconds: 3, cameraId: 'cam1' });
    assert.ok(frames.length >= 10);
    let total = 0;
    for (const f of frames) {
      const copy = Buffer.from(f.data);
      const [a, b] = await Promise.all([inline.process(f), worker.process(f)]);
      assert.deepEqual(b, a);
      assert.ok(f.data.equals(copy), 'the frame is the caller\'s and unchanged');
      total += a.length;
    }
    assert.ok(total > 0);
    assert.equal(worker.name, 'yolox_nano');
    assert.equal(worker.backend, 'onnx-cpu');
  });

  test('a frame\'s region of interest reaches the worker: the same boxes as inline, all inside the region', async () => {
    const frames = await decodeFrames(CLIPS.opendatacam, { fps: 5, width: 640, height: 360, maxSeconds: 2, cameraId: 'cam1' });
    // The right half; grown to YOLOX's square input inside the frame: x 320..640, y 0..320.
    const roi = { x: 320, y: 0, w: 320, h: 180 };
    let inside = 0;
    let differs = false;
    for (const f of frames) {
      const [a, b, whole] = await Promise.all([inline.process({ ...f, roi }), worker.process({ ...f, roi }), inline.process(f)]);
      assert.deepEqual(b, a);
      for (const d of a) assert.ok(d.box.x >= 320 && d.box.y + d.box.h <= 320 + 1e-6, `box ${JSON.stringify(d.box)} outside the region`);
      inside += a.length;
      differs ||= JSON.stringify(whole) !== JSON.stringify(a);
    }
    assert.ok(inside > 0, 'vehicles found in the region');
    assert.ok(differs, 'the region changes what is found');
  });

  test('the inference threads run below the decoders\' priority', () => {
    // The main thread and the inline session run at nice 0; the worker thread and the session threads it made at DETECTOR_NICE.
    const nices = threadNices();
    assert.ok(nices.includes(0));
    assert.ok(nices.filter((n) => n === DETECTOR_NICE).length >= 2, `thread nice values ${nices.join(' ')}`);
  });

  test('close waits for the frames in flight, then refuses new ones', async () => {
    const d = await createDetector({ ...opts, host: 'worker' });
    const [f] = await decodeFrames(CLIPS.opendatacam, { fps: 5, width: 640, height: 360, maxSeconds: 1, cameraId: 'cam1' });
    assert.ok(f);
    const inFlight = d.process(f);
    await d.close();
    assert.ok(Array.isArray(await inFlight));
    await assert.rejects(d.process(f), /closed/);
  });

  test('a pool of two workers behind the shared queue: frames of two cameras at once, the same detections', async () => {
    const pool = await createDetector({ ...opts, threads: 1, host: 'worker', workers: 2 });
    const queue = new DetectorQueue(pool);
    assert.equal(queue.concurrency, 2);
    const frames = await decodeFrames(CLIPS.opendatacam, { fps: 5, width: 640, height: 360, maxSeconds: 2, cameraId: 'cam1' });
    const expected = await Promise.all(frames.map((f) => inline.process(f)));
    const got = await Promise.all(frames.map((f, i) => queue.process({ ...f, cameraId: i % 2 ? 'cam2' : 'cam1' } as typeof f)));
    assert.deepEqual(got, expected);
    await queue.close();
    await pool.close();
  });

  test('a model that is not there is refused at creation, as inline', async () => {
    await assert.rejects(createDetector({ ...opts, model: 'no_such_model', host: 'worker' }), (err: Error) => err instanceof ModelError);
  });
});
