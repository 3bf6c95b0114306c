// Unit tier: the real CameraPipeline replays detections recorded from the real model on a shared clip
// (test/fixtures/detections, made by `npm run record-detections`): no ffmpeg, no model, no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { CameraAnalytics } from '../appliance/src/analytics/index.js';
import { ReplayDetector } from '../appliance/src/detect/replay-detector.js';
import { RecordedFrameSource } from '../appliance/src/ingest/recorded-source.js';
import { CameraPipeline } from '../appliance/src/pipeline/camera-pipeline.js';
import { LatestFrameSlot } from '../appliance/src/pipeline/frame-slot.js';
import { QuietObserver } from '../appliance/src/pipeline/observer.js';
import { replayCamera } from '../appliance/src/pipeline/replay.js';
import { MultiObjectTracker } from '../appliance/src/track/index.js';
import type { Detection, DomainEvent, Frame, RgbImage } from '../appliance/src/core/types.js';
import { HIGHWAY_LINES, PushSource, lineTotals, loadFixtureRecording, replayCameraConfig } from './helpers/replay.js';

const rec = loadFixtureRecording('cdnet-highway.10fps.jsonl');
const cam = replayCameraConfig('highway', rec.header.width, rec.header.height, rec.header.fps, { lines: HIGHWAY_LINES });

test('the pipeline replays a real recording: every frame analysed, none dropped, vehicles counted on both lines', async () => {
  const r = await replayCamera({ camera: cam, source: new RecordedFrameSource('highway', rec), detector: new ReplayDetector(rec) });
  assert.equal(r.framesAnalysed, rec.frames.length);
  assert.equal(r.framesDropped, 0);
  const totals = lineTotals(r.events);
  const upper = Object.entries(totals).filter(([k]) => k.startsWith('upper/')).reduce((s, [, n]) => s + n, 0);
  const lower = Object.entries(totals).filter(([k]) => k.startsWith('lower/')).reduce((s, [, n]) => s + n, 0);
  // The clip's ground-truth masks hold 22 vehicles per line (bench/traffic.ts); the replay must count most of them.
  assert.ok(upper >= 15 && upper <= 30, `upper ${upper}`);
  assert.ok(lower >= 15 && lower <= 30, `lower ${lower}`);
  // Every interval ends no later than just after the last frame: the replay runs on the clip's clock.
  const lastFrame = rec.frames.at(-1)!.timestampMs;
  for (const e of r.events.filter((e) => e.type === 'count.interval')) {
    assert.ok(Date.parse((e.data as { intervalEnd: string }).intervalEnd) <= lastFrame + 60_000);
  }
});

test('the conductor adds nothing: the pipeline gives exactly the counts of tracker + analytics run by hand', async () => {
  const r = await replayCamera({ camera: cam, source: new RecordedFrameSource('highway', rec), detector: new ReplayDetector(rec) });
  const trk = new MultiObjectTracker();
  const an = new CameraAnalytics({ camera: cam, binSeconds: [60], calibration: null });
  const events: DomainEvent[] = [];
  for (const f of rec.frames) {
    events.push(...an.process(trk.process({ cameraId: 'highway', seq: f.seq, timestampMs: f.timestampMs, width: cam.width, height: cam.height, detections: f.detections })));
  }
  events.push(...an.close(rec.frames.at(-1)!.timestampMs + 1));
  assert.deepEqual(lineTotals(r.events), lineTotals(events));
  assert.ok(Object.keys(lineTotals(events)).length > 0);
});

test('LatestFrameSlot keeps only the newest frame and settles the ones it drops', () => {
  const slot = new LatestFrameSlot();
  const settled: number[] = [];
  const f = (seq: number) => ({ cameraId: 'c', seq, timestampMs: seq, width: 1, height: 1, data: Buffer.alloc(3) });
  assert.equal(slot.put(f(1), () => settled.push(1)), null);
  assert.equal(slot.put(f(2), () => settled.push(2))?.seq, 1);
  assert.deepEqual(settled, [1]);
  const next = slot.take();
  assert.equal(next?.frame.seq, 2);
  assert.equal(slot.take(), null);
  slot.put(f(3), () => settled.push(3));
  assert.equal(slot.clear()?.seq, 3);
  assert.deepEqual(settled, [1, 3]);
});


/** A detector the test releases frame by frame (a stand-in for a slow model; named as such). */
class GatedDetector {
  readonly seen: number[] = [];
  private gates: Array<() => void> = [];
  async process(image: RgbImage): Promise<Detection[]> {
    this.seen.push((image as Frame).seq);
    await new Promise<void>((r) => this.gates.push(r));
    return [];
  }
  release(): void {
    this.gates.shift()?.();
  }
  get waiting(): number {
    return this.gates.length;
  }
  async close(): Promise<void> {}
}

test('drop policy: while a frame is analysed only the newest waits; older waiting frames are dropped and counted', async () => {
  const source = new PushSource();
  const detector = new GatedDetector();
  const p = new CameraPipeline(
    cam,
    {
      source,
      detector,
      publisher: { process: async () => undefined, close: async () => undefined },
      createTracker: () => new MultiObjectTracker(),
      createAnalytics: (camera, calibration, binSeconds) => new CameraAnalytics({ camera, calibration, binSeconds }),
      observer: new QuietObserver(),
      log: pino({ level: 'silent' }),
    },
    null,
    [60],
  );
  p.start();
  const frame = (seq: number): Frame => ({ cameraId: 'highway', seq, timestampMs: 1000 + seq * 100, width: cam.width, height: cam.height, data: Buffer.alloc(0) });
  const settled: number[] = [];
  for (let seq = 0; seq < 5; seq++) void source.sink!.frame(frame(seq)).then(() => settled.push(seq));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(detector.seen, [0]); // 1..4 arrived while 0 was in analysis
  detector.release();
  while (detector.waiting === 0) await new Promise((r) => setImmediate(r));
  assert.deepEqual(detector.seen, [0, 4]); // the newest, not the oldest
  detector.release();
  await p.idle();
  assert.deepEqual(settled.sort(), [0, 1, 2, 3, 4]); // every frame was settled: analysed or dropped
  const s = p.status();
  assert.equal(s.framesAnalysed, 2);
  assert.equal(s.framesDropped, 3);
  await p.stop();
});
