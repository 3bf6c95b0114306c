// Camera health checks on real footage: clips from ../shared/data/traffic decoded with ffmpeg (once
// per case, into memory) at the analysed size, with the fault made by an ffmpeg filter part-way through
// (so the reference is learned first), fed to the real monitor with the clip's own timestamps.
// Bound stated and asserted: a problem opens within openSeconds + 3 s of the fault's start and closes
// within closeSeconds + 3 s of its end (3 s = sampling at 1 Hz plus the 5-sample scene median).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { CameraHealthMonitor, ReferenceStore, healthConfigOf } from '../appliance/src/health/index.js';
import { pixelMedian } from '../appliance/src/health/image-stats.js';
import { CameraHealthData } from '../appliance/src/core/event-data.js';
import { CameraAnalytics } from '../appliance/src/analytics/index.js';
import { validateConfig } from '../appliance/src/config/load.js';
import type { DomainEvent, Frame, HealthCheck } from '../appliance/src/core/types.js';
import { CLEAN_CLIPS, decodeFrames } from './helpers/clips.js';
import { SHARED } from './helpers/paths.js';

const TRAFFIC = resolve(SHARED, 'data/traffic');
const CDNET = join(TRAFFIC, 'cdnet-highway/highway_cdnet_30fps.mp4');
const W = 640;
const H = 360;
const LEARN_SECONDS = 5;
const SLACK_S = 3;

function monitor(extra: Record<string, unknown> = {}, store: ReferenceStore | null = null): CameraHealthMonitor {
  return new CameraHealthMonitor({ cameraId: 'cam', width: W, height: H, config: healthConfigOf({ health: { learnSeconds: LEARN_SECONDS, ...extra } as never }), store });
}

interface Run {
  events: DomainEvent<CameraHealthData>[];
  /** Seconds since the clip's first frame. */
  at: (e: DomainEvent) => number;
}

function run(m: CameraHealthMonitor, frames: Frame[]): Run {
  const events: DomainEvent<CameraHealthData>[] = [];
  for (const f of frames) events.push(...m.observe(f, []));
  for (const e of events) assert.ok(Value.Check(CameraHealthData, e.data), `event payload valid: ${JSON.stringify(e.data)}`);
  const t0 = frames[0]!.timestampMs;
  return { events, at: (e) => (e.timeMs - t0) / 1000 };
}

/** The fault runs from 20 s to 40 s of the 57 s cdnet clip. */
const FAULT_START = 20;
const FAULT_END = 40;
const between = `enable='between(t,${FAULT_START},${FAULT_END})'`;

async function faultCase(check: HealthCheck, vf: string, openSeconds: number, closeSeconds: number) {
  const frames = await decodeFrames(CDNET, { fps: 2, width: W, height: H, vf });
  const r = run(monitor(), frames);
  const opened = r.events.filter((e) => e.data.check === check && e.data.state === 'opened');
  const closed = r.events.filter((e) => e.data.check === check && e.data.state === 'closed');
  assert.equal(opened.length, 1, `${check} opened once: ${JSON.stringify(r.events.map((e) => [e.data.check, e.data.state, r.at(e)]))}`);
  const tOpen = r.at(opened[0]!);
  assert.ok(tOpen >= FAULT_START && tOpen <= FAULT_START + openSeconds + SLACK_S, `${check} opened at ${tOpen} s, fault from ${FAULT_START} s`);
  assert.equal(closed.length, 1, `${check} closed once`);
  const tClose = r.at(closed[0]!);
  assert.ok(tClose >= FAULT_END && tClose <= FAULT_END + closeSeconds + SLACK_S, `${check} closed at ${tClose} s, fault ended at ${FAULT_END} s`);
  assert.equal(closed[0]!.data.healthId, opened[0]!.data.healthId);
  assert.ok(closed[0]!.data.endedAt, 'closed carries endedAt');
  const others = r.events.filter((e) => e.data.check !== check);
  return { opened: opened[0]!, others };
}

describe('health checks fire on their fault, within the stated bound, and close when it ends', () => {
  const d = healthConfigOf({});

  test('frozen: the same picture repeated for 20 s (loop filter) while frames keep flowing', async () => {
    // loop inserts 20 s of frame 600 (t = 20 s), setpts renumbers the frames, and the clip goes on.
    const { opened, others } = await faultCase('frozen', 'loop=loop=599:size=1:start=600,setpts=N/30/TB', d.frozen.openSeconds, d.frozen.closeSeconds);
    assert.equal(opened.data.measures.changedFraction, 0);
    assert.deepEqual(others.map((e) => e.data.check), [], 'no other check fired on a frozen picture');
  });

  test('covered: a grey box over 80 % of the frame', async () => {
    const { opened, others } = await faultCase('covered', `drawbox=x=0:y=0:w=iw:h=ih*0.8:color=gray:t=fill:${between}`, d.covered.openSeconds, d.covered.closeSeconds);
    assert.ok(opened.data.measures.coveredFraction! >= 0.5, JSON.stringify(opened.data.measures));
    assert.ok(!others.some((e) => e.data.check === 'moved'), 'a cover is not a move');
  });

  test('defocused: gblur sigma 1.5', async () => {
    const { opened } = await faultCase('defocused', `gblur=sigma=1.5:${between}`, d.defocused.openSeconds, d.defocused.closeSeconds);
    assert.ok(opened.data.measures.sharpnessRatio! < d.defocused.maxSharpnessRatio, JSON.stringify(opened.data.measures));
  });

  test('moved: the view shifted by 20 source px (about 46 px at 640x360), with the shift estimated', async () => {
    const { opened, others } = await faultCase('moved', `crop=w=iw-40:h=ih-40:x='if(between(t,${FAULT_START},${FAULT_END}),0,20)':y=20`, d.moved.openSeconds, d.moved.closeSeconds);
    // The crop moved the window 20 px left: the scene moves right by 20 * 640/280 ≈ 45.7 px.
    const expected = (20 * W) / 280;
    assert.ok(Math.abs(opened.data.measures.shiftX! - expected) <= 4, `shiftX ${opened.data.measures.shiftX} vs ${expected.toFixed(1)}`);
    assert.ok(Math.abs(opened.data.measures.shiftY!) <= 2, `shiftY ${opened.data.measures.shiftY}`);
    assert.deepEqual(others.map((e) => e.data.check), []);
  });

  test('dark: brightness down (eq)', async () => {
    const { opened, others } = await faultCase('dark', `eq=brightness=-0.6:${between}`, d.dark.openSeconds, d.dark.closeSeconds);
    assert.ok(opened.data.measures.meanLuma! < d.dark.maxMeanLuma);
    assert.deepEqual(others.map((e) => e.data.check), [], 'a black picture is dark only, not also frozen or covered');
  });

  test('overexposed: brightness up (eq)', async () => {
    const { opened } = await faultCase('overexposed', `eq=brightness=0.7:${between}`, d.overexposed.openSeconds, d.overexposed.closeSeconds);
    assert.ok(opened.data.measures.saturatedFraction! >= d.overexposed.minSaturatedFraction);
  });
});

describe('near misses stay silent', () => {
  test('a slow pan of 4 source px over the clip (≈ 9 px at 640, below the 2 % threshold) opens nothing, and the shift is seen', async () => {
    const frames = await decodeFrames(CDNET, { fps: 2, width: W, height: H, vf: "crop=w=iw-40:h=ih-40:x='20+4*t/56':y=20" });
    const m = monitor();
    let maxShift = 0;
    const events: DomainEvent[] = [];
    for (const f of frames) {
      events.push(...m.observe(f, []));
      maxShift = Math.max(maxShift, m.status().checks.find((c) => c.check === 'moved')!.measures.shiftPx ?? 0);
    }
    assert.deepEqual(events, []);
    // The estimator sees the pan (it is not blind), it is just below the threshold (12.8 px).
    assert.ok(maxShift >= 4 && maxShift < 0.02 * W, `max shift ${maxShift} px`);
  });

  test('false alarms on every clean shared clip played end to end at 5 fps: 0 (a short 3 s reference, so the checks run on most of each clip)', async () => {
    const report: string[] = [];
    let opens = 0;
    for (const clip of CLEAN_CLIPS) {
      const frames = await decodeFrames(join(TRAFFIC, clip), { fps: 5, width: W, height: H });
      const m = new CameraHealthMonitor({ cameraId: 'cam', width: W, height: H, config: healthConfigOf({ health: { learnSeconds: 3 } as never }) });
      const events = run(m, frames).events;
      opens += events.filter((e) => e.data.state === 'opened').length;
      report.push(`${clip}: ${frames.length} frames, ${events.length} events, reference ${m.status().reference}`);
    }
    assert.equal(opens, 0, report.join('\n'));
  });
});

describe('reference, confirm and data-quality flags', () => {
  test('the per-pixel median of five (min/max network) equals the sorted median', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 6);
    for (let t = 0; t < 5000; t++) {
      const v = [rnd(), rnd(), rnd(), rnd(), rnd()];
      assert.equal(pixelMedian(v.map((x) => Float32Array.of(x)))[0], [...v].sort((a, b) => a - b)[2], `median of ${v}`);
    }
  });

  test('the reference is stored and reloaded (numbers and a 160x90 edge map, no image); confirm re-learns and closes a moved problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadside-health-'));
    try {
      const store = new ReferenceStore(dir);
      const frames = await decodeFrames(CDNET, { fps: 2, width: W, height: H, maxSeconds: 30, vf: "crop=w=iw-40:h=ih-40:x='if(gte(t,12),0,20)':y=20" });
      const m = monitor({}, store);
      const events: DomainEvent<CameraHealthData>[] = [];
      for (const f of frames) events.push(...m.observe(f, []));
      assert.equal(m.status().suspect, true, 'moved: lines and calibration suspect');
      assert.deepEqual(m.flags(), ['camera-moved']);
      assert.ok(m.referenceRaw(), 'raw reference frame kept in memory for the anonymizer');
      // A new monitor (restart) on the same store knows the reference and finds the move again.
      const again = monitor({}, store);
      assert.equal(again.status().reference, 'ready');
      assert.equal(again.referenceRaw(), null, 'no raw image on disk');
      const later = frames.filter((f) => f.timestampMs - frames[0]!.timestampMs >= 14_000);
      for (const f of later) again.observe(f, []);
      assert.equal(again.status().suspect, true);
      // A stream of another size learns afresh (sharpness depends on the size).
      assert.equal(new CameraHealthMonitor({ cameraId: 'cam', width: 320, height: 180, config: healthConfigOf({}), store }).status().reference, 'learning');
      // The installer confirms the new view: the problem closes now and the reference is learned again.
      const closed = again.retakeReference(later.at(-1)!.timestampMs);
      assert.deepEqual(closed.map((e) => [e.data.check, e.data.state]), [['moved', 'closed']]);
      assert.equal(again.status().reference, 'learning');
      assert.equal(again.status().suspect, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an open problem is updated every updateSeconds with its current measures', async () => {
    const frames = await decodeFrames(CDNET, { fps: 2, width: W, height: H, maxSeconds: 50, vf: `eq=brightness=-0.6:${between}` });
    const r = run(monitor({ updateSeconds: 3 }), frames);
    const states = r.events.filter((e) => e.data.check === 'dark').map((e) => e.data.state);
    assert.equal(states[0], 'opened');
    assert.equal(states.at(-1), 'closed');
    const updates = states.filter((s) => s === 'updated').length;
    // Open from ~30 s until the fault ends at 40 s: an update every 3 s while it is faulty, none after.
    assert.ok(updates >= 2 && updates <= 4, `updates: ${states.join(',')}`);
    assert.equal(new Set(r.events.filter((e) => e.data.check === 'dark').map((e) => e.data.healthId)).size, 1, 'one problem, one id');
  });

  test('intervals carry the flags of the health problems open during them, and only those', () => {
    const cam = validateConfig({ cameras: [{ id: 'cam', url: 'rtsp://127.0.0.1/x', lines: [{ id: 'l1', from: { x: 0, y: 0.5 }, to: { x: 1, y: 0.5 } }] }] }).cameras[0]!;
    const a = new CameraAnalytics({ camera: cam, binSeconds: [10], calibration: null });
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    const frame = (t: number) => ({ cameraId: 'cam', seq: t, timestampMs: t0 + t * 1000, width: 640, height: 360, tracks: [] });
    const out: DomainEvent[] = [];
    for (let t = 0; t < 30; t++) {
      out.push(...a.process(frame(t)));
      if (t >= 12 && t < 15) a.markFlag('camera-frozen', t0 + t * 1000);
    }
    const counts = out.filter((e) => e.type === 'count.interval').map((e) => e.data as { intervalStart: string; flags?: string[]; counts: unknown[] });
    assert.equal(counts.length, 2);
    assert.equal(counts[0]!.flags, undefined, 'the healthy interval is unflagged (complete and trusted)');
    assert.deepEqual(counts[1]!.flags, ['camera-frozen'], 'the frozen interval says so instead of a confident zero');
  });
});
