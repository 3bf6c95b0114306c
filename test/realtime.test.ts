// Unit tier: never behind real time. The capture clock, the overload judgement, the detector queue's
// turns, and the real CameraPipeline fed live-like (frames pushed at the recording's own times, never
// waited for) on detections recorded from the real model, with a detector that takes longer than the
// frame interval. Time is simulated (a clock the test moves), so nothing here depends on the machine's speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { CameraAnalytics } from '../appliance/src/analytics/index.js';
import { ReplayDetector } from '../appliance/src/detect/replay-detector.js';
import { CaptureClock } from '../appliance/src/ingest/capture-clock.js';
import { CameraPipeline } from '../appliance/src/pipeline/camera-pipeline.js';
import { DetectorQueue } from '../appliance/src/pipeline/detector-queue.js';
import { LoadMonitor } from '../appliance/src/pipeline/load-monitor.js';
import { QuietObserver } from '../appliance/src/pipeline/observer.js';
import { MultiObjectTracker } from '../appliance/src/track/index.js';
import type { DetectorStage, FrameSource } from '../appliance/src/core/stages.js';
import type { Detection, Frame, RgbImage } from '../appliance/src/core/types.js';
import { HIGHWAY_LINES, PushSource, loadFixtureRecording, replayCameraConfig } from './helpers/replay.js';

const rec = loadFixtureRecording('cdnet-highway.10fps.jsonl');
const FRAME_MS = 1000 / rec.header.fps;

test('capture clock: frames on the fps grid; one that arrives late shows its lag; an early one moves the grid', () => {
  const clock = new CaptureClock(5);
  assert.equal(clock.stamp(0, 10_000), 10_000);
  assert.equal(clock.stamp(1, 10_200), 10_200);
  // Frame 2 is due at 10 400 but reaches us at 13 000 (ffmpeg was starved): it was captured at 10 400.
  assert.equal(clock.stamp(2, 13_000), 10_400);
  // A burst catches up: still on the grid, not at arrival.
  assert.equal(clock.stamp(3, 13_001), 10_600);
  // Frame 4 arrives before the grid says (the first frame had waited): the grid moves back to it.
  assert.equal(clock.stamp(4, 10_700), 10_700);
  assert.equal(clock.stamp(5, 10_900), 10_900);
  clock.reset();
  assert.equal(clock.stamp(0, 50_000), 50_000);
});

test('capture clock: a camera clock 50 ppm fast never reads as lag, a real backlog does', () => {
  const drift = new CaptureClock(5);
  // A day of frames from a camera whose second is 50 µs short of ours: each frame arrives 10 µs later than the grid.
  let lag = 0;
  for (let n = 0; n < 5 * 86_400; n++) {
    const arrival = 1_000_000 + n * 200.01;
    lag = arrival - drift.stamp(n, arrival);
  }
  assert.ok(lag < 1, `lag after a day ${lag} ms`);
  // ffmpeg starved for a minute: frames arrive 0.5 s later each second; the lag shows, minus at most 1 ms/s.
  const starved = new CaptureClock(5);
  starved.stamp(0, 0);
  for (let n = 1; n <= 300; n++) lag = n * 200 + n * 100 - starved.stamp(n, n * 200 + n * 100);
  assert.ok(lag >= 30_000 - 60 && lag <= 30_000, `lag ${lag} ms`);
});

test('load monitor: overloaded from 10 % dropped over the window, back below 5 %, and whenever lag passes the bound', () => {
  const m = new LoadMonitor({ windowMs: 10_000, enterDropShare: 0.1, leaveDropShare: 0.05, maxLagMs: 1000, minFrames: 10 });
  let t = 0;
  for (let i = 0; i < 20; i++, t += 200) m.analysed(t, t - 100);
  assert.equal(m.state().overloaded, false);
  // One frame in four dropped: overloaded.
  let changed = false;
  for (let i = 0; i < 20; i++, t += 200) changed = (i % 4 === 0 ? m.droppedAt(t) : m.analysed(t, t - 100)) || changed;
  assert.equal(changed, true);
  assert.equal(m.state().overloaded, true);
  // 7 % dropped: between the two bounds, the flag holds.
  for (let i = 0; i < 50; i++, t += 200) {
    if (i % 14 === 0) m.droppedAt(t);
    else m.analysed(t, t - 100);
  }
  assert.equal(m.state().overloaded, true);
  for (let i = 0; i < 60; i++, t += 200) m.analysed(t, t - 100);
  assert.equal(m.state().overloaded, false);
  assert.equal(m.state().dropShare, 0);
  // Nothing dropped, but analysed 1.5 s after capture: behind real time.
  m.analysed(t, t - 1500);
  assert.equal(m.state().overloaded, true);
  assert.equal(m.state().lagMs, 1500);
  assert.equal(m.reset(), true);
  assert.equal(m.state().lagMs, null);
});

/** A detector the test releases call by call, recording which camera each call was for. */
class Gate implements DetectorStage {
  readonly order: string[] = [];
  private readonly gates: (() => void)[] = [];
  async process(image: RgbImage): Promise<Detection[]> {
    this.order.push((image as Frame).cameraId);
    await new Promise<void>((r) => this.gates.push(r));
    return [];
  }
  release(): void {
    this.gates.shift()?.();
  }
  async close(): Promise<void> {}
}

const tick = () => new Promise<void>((r) => setImmediate(r));

test('detector queue: cameras take turns, so a camera with many frames waiting cannot starve the others', async () => {
  const gate = new Gate();
  const q = new DetectorQueue(gate);
  const img = (cameraId: string): Frame => ({ cameraId, seq: 0, timestampMs: 0, width: 1, height: 1, data: Buffer.alloc(3) });
  const calls = ['a', 'a', 'a', 'b', 'c', 'a', 'b'].map((id) => q.process(img(id)));
  assert.equal(q.depth, 7);
  for (let i = 0; i < 7; i++) {
    await tick();
    gate.release();
  }
  await Promise.all(calls);
  // First in line goes first, then each camera in turn: a, b, c, a, b, a, a (plain FIFO: a, a, a, b, c, a, b).
  assert.deepEqual(gate.order, ['a', 'b', 'c', 'a', 'b', 'a', 'a']);
  assert.equal(q.depth, 0);
  await q.close();
});


/**
 * The real model's answers (ReplayDetector on the recording), each taking costMs of simulated time: the
 * call started at t ends once the test's clock passes t + costMs. One call at a time (behind a DetectorQueue).
 */
class SlowReplayDetector implements DetectorStage {
  private job: { endsAt: number; done: () => void } | null = null;
  readonly analysed: { cameraId: string; seq: number; startedAt: number }[] = [];
  constructor(
    private readonly inner: DetectorStage,
    private readonly clock: { now: number },
    private readonly costMs: number,
  ) {}
  async process(image: RgbImage): Promise<Detection[]> {
    const f = image as Frame;
    this.analysed.push({ cameraId: f.cameraId, seq: f.seq, startedAt: this.clock.now });
    await new Promise<void>((done) => (this.job = { endsAt: this.clock.now + this.costMs, done }));
    return this.inner.process(image);
  }
  /** Ends the running call if its time has come. */
  advance(): void {
    if (this.job && this.clock.now >= this.job.endsAt) {
      const { done } = this.job;
      this.job = null;
      done();
    }
  }
  async close(): Promise<void> {}
}

/** Counts fps as the replay observer does, and keeps every frame's lag. */
class LagObserver extends QuietObserver {
  constructor(private readonly lags: number[]) {
    super();
  }
  override lag(ms?: number): void {
    if (ms !== undefined) this.lags.push(ms);
  }
}

function livePipeline(id: string, source: FrameSource, detector: DetectorStage, clock: { now: number }, lagMs: number[]): CameraPipeline {
  const cam = replayCameraConfig(id, rec.header.width, rec.header.height, rec.header.fps, { lines: HIGHWAY_LINES });
  const observer = new LagObserver(lagMs);
  return new CameraPipeline(
    cam,
    {
      source,
      detector,
      publisher: { process: async () => undefined, close: async () => undefined },
      createTracker: () => new MultiObjectTracker(),
      createAnalytics: (camera, calibration, binSeconds) => new CameraAnalytics({ camera, calibration, binSeconds }),
      observer,
      log: pino({ level: 'silent' }),
      now: () => clock.now,
    },
    null,
    [60],
  );
}

/** Plays the recording live to every camera (frame n at n × frame interval, phase-shifted per camera), moving the clock in 10 ms steps. */
async function playLive(cameras: { source: PushSource; phaseMs: number; id: string }[], detector: SlowReplayDetector, clock: { now: number }, frames: number): Promise<Map<string, number>> {
  const newestAt = new Map<string, number>();
  const endMs = frames * FRAME_MS;
  for (clock.now = 0; clock.now <= endMs + 1000; clock.now += 10) {
    for (const c of cameras) {
      const n = (clock.now - c.phaseMs) / FRAME_MS;
      const f = rec.frames[n];
      if (!Number.isInteger(n) || n < 0 || n >= frames || !f) continue;
      // Capture time = push time: what reaches the pipeline late is its own doing.
      void c.source.sink?.frame({ cameraId: c.id, seq: f.seq, timestampMs: clock.now, width: rec.header.width, height: rec.header.height, data: Buffer.alloc(0) });
      newestAt.set(`${c.id}@${clock.now}`, f.seq);
    }
    detector.advance();
    await tick();
  }
  return newestAt;
}

test('drop at the source: on a detector slower than the camera, the analysed frame is always the newest and never a second behind', async () => {
  const clock = { now: 0 };
  // 250 ms per frame against a frame every 100 ms: the box holds 4 of the camera's 10 fps.
  const detector = new SlowReplayDetector(new ReplayDetector(rec), clock, 250);
  const source = new PushSource();
  const lag: number[] = [];
  const p = livePipeline('highway', source, new DetectorQueue(detector), clock, lag);
  p.start();
  const frames = 300;
  await playLive([{ source, phaseMs: 0, id: 'highway' }], detector, clock, frames);
  await p.idle();
  const s = p.status();
  assert.equal(s.framesAnalysed + s.framesDropped, frames);
  // Every analysis started on the newest frame pushed by then (seq = floor(t / interval), the last one after the end).
  for (const a of detector.analysed) assert.equal(a.seq, Math.min(frames - 1, Math.floor(a.startedAt / FRAME_MS)), `frame ${a.seq} analysed at ${a.startedAt} ms`);
  // About 10 fps asked, 4 held: ~60 % dropped, and the box says so.
  assert.ok(s.framesAnalysed >= 100 && s.framesAnalysed <= 130, `analysed ${s.framesAnalysed}`);
  assert.equal(s.overloaded, true);
  // Lag = wait for the detector (< one frame interval) + the detection itself: under a second, never growing.
  assert.ok(lag.length === s.framesAnalysed);
  assert.ok(Math.max(...lag) < 1000, `max lag ${Math.max(...lag)} ms`);
  assert.ok(Math.max(...lag) <= 250 + FRAME_MS + 10, `max lag ${Math.max(...lag)} ms`);
  await p.stop();
});

test('even degradation: three cameras on one slow detector each get the same share of it, none starved', async () => {
  const clock = { now: 0 };
  // 150 ms per frame, 3 cameras at 10 fps: 6.7 of the 30 frames/s asked can be analysed.
  const detector = new SlowReplayDetector(new ReplayDetector(rec), clock, 150);
  const queue = new DetectorQueue(detector);
  const cams = ['east', 'west', 'north'].map((id, i) => ({ id, phaseMs: i * 30, source: new PushSource(), lag: [] as number[] }));
  const pipelines = cams.map((c) => livePipeline(c.id, c.source, queue, clock, c.lag));
  for (const p of pipelines) p.start();
  await playLive(cams, detector, clock, 300);
  await Promise.all(pipelines.map((p) => p.idle()));
  const analysed = pipelines.map((p) => p.status().framesAnalysed);
  const max = Math.max(...analysed);
  const min = Math.min(...analysed);
  assert.ok(min >= 60, `analysed per camera ${analysed.join(', ')}`);
  assert.ok(max / min <= 1.05, `analysed per camera ${analysed.join(', ')}`);
  for (const p of pipelines) assert.equal(p.status().overloaded, true);
  // Each camera's frame is chosen when its turn comes, not when it got in line: while frames flow, lag is at
  // most one frame interval + one detection, not the whole round of the other cameras' detections.
  for (const c of cams) {
    const flowing = c.lag.slice(0, -3);
    assert.ok(Math.max(...flowing) <= 150 + FRAME_MS + 10, `${c.id} max lag ${Math.max(...flowing)} ms`);
  }
  // Turns: between two analyses of one camera, each other camera had one.
  const turns = detector.analysed.map((a) => a.cameraId);
  for (let i = 3; i < turns.length; i++) assert.equal(turns[i], turns[i - 3], `turn ${i}: ${turns.slice(i - 3, i + 1).join(',')}`);
  await Promise.all(pipelines.map((p) => p.stop()));
});
