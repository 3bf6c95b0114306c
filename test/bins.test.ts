// Interval semantics an integrator can sum: zero vs gap, partial intervals, a reconnect that does not
// split a bin, explicit gap intervals, data-quality flags, and bins aligned to an IANA time zone.
// Pure logic (no servers): BinClock directly and through the CameraAnalytics façade.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { BinClock } from '../appliance/src/analytics/bins.js';
import { CameraAnalytics, IncidentManager } from '../appliance/src/analytics/index.js';
import type { IncidentRule } from '../appliance/src/analytics/incidents.js';
import { CountIntervalData } from '../appliance/src/core/event-data.js';
import { validateConfig } from '../appliance/src/config/load.js';
import type { CameraConfig } from '../appliance/src/config/schema.js';
import type { DomainEvent, FrameTracks, Track } from '../appliance/src/core/types.js';

const iso = (ms: number) => new Date(ms).toISOString();
const M0 = Date.UTC(2024, 0, 1, 12, 0, 0); // a whole minute

function camera(): CameraConfig {
  return {
    id: 'cam1',
    url: 'rtsp://example/stream',
    enabled: true,
    fps: 1,
    width: 640,
    height: 360,
    stallSeconds: 10,
    lines: [{ id: 'l1', from: { x: 0.1, y: 0.5 }, to: { x: 0.9, y: 0.5 }, minTravel: 0.02, classes: ['car', 'truck'] }],
    zones: [],
    incidents: {} as CameraConfig['incidents'],
  };
}

/** A car whose box bottom-centre is at relative y (moving down). */
function car(id: number, y: number): Track {
  return { id, cls: 'car', box: { x: 300, y: y * 360 - 30, w: 40, h: 30 }, score: 0.9, status: 'confirmed', velocity: { x: 0, y: 0.04 * 360 }, age: 1, hits: 1, firstSeenMs: M0 };
}
const frame = (tMs: number, tracks: Track[] = []): FrameTracks => ({ cameraId: 'cam1', seq: 0, timestampMs: tMs, width: 640, height: 360, tracks });
const counts = (events: DomainEvent[]) => events.filter((e) => e.type === 'count.interval') as DomainEvent<CountIntervalData>[];
const total = (e: DomainEvent<CountIntervalData>) => e.data.counts.reduce((s, c) => s + c.count, 0);

/** Frames every second over [fromS, toS) seconds after M0, with a car crossing the line at atS. */
function run(a: CameraAnalytics, fromS: number, toS: number, crossAtS: number[] = []): DomainEvent[] {
  const out: DomainEvent[] = [];
  for (let s = fromS; s < toS; s++) {
    const tracks = crossAtS.flatMap((c, k) => (s >= c - 5 && s < c + 5 ? [car(100 + k, 0.3 + (s - (c - 5)) * 0.04)] : []));
    out.push(...a.process(frame(M0 + s * 1000, tracks)));
  }
  return out;
}

describe('zero vs gap', () => {
  test('a minute with frames and no vehicle is an explicit zero for every direction and class; a minute of outage is a flagged gap', () => {
    const a = new CameraAnalytics({ camera: camera(), binSeconds: [60], calibration: null });
    const ev = [...run(a, 0, 60), ...run(a, 60, 61)];
    const [zero] = counts(ev);
    assert.ok(zero);
    assert.ok(Value.Check(CountIntervalData, zero.data));
    assert.deepEqual(zero.data.counts, [
      { direction: 'backward', cls: 'car', count: 0 },
      { direction: 'backward', cls: 'truck', count: 0 },
      { direction: 'forward', cls: 'car', count: 0 },
      { direction: 'forward', cls: 'truck', count: 0 },
    ]);
    assert.equal(zero.data.flags, undefined, 'complete and trusted');
    // Stream lost at 1:10; the clock ticks through 4:00 with no frame.
    a.streamGap(M0 + 70_000);
    const gap: DomainEvent[] = [];
    for (let s = 71; s <= 240; s++) gap.push(...a.tick(M0 + s * 1000));
    const g = counts(gap);
    assert.deepEqual(
      g.map((e) => [e.data.intervalStart, e.data.intervalEnd, e.data.flags]),
      [
        [iso(M0 + 60_000), iso(M0 + 120_000), ['stream-gap']],
        [iso(M0 + 120_000), iso(M0 + 180_000), ['stream-gap']],
        [iso(M0 + 180_000), iso(M0 + 240_000), ['stream-gap']],
      ],
      'every minute of the outage is sent, each flagged: the timeline has no silent holes',
    );
    for (const e of g) assert.ok(Value.Check(CountIntervalData, e.data));
    assert.deepEqual(a.tick(M0 + 250_000), [], 'no tick output while the next gap minute runs');
  });
});

describe('reconnect', () => {
  test('a reconnect inside a bin continues that bin (one record of the whole minute, flagged), it is not split', () => {
    const a = new CameraAnalytics({ camera: camera(), binSeconds: [60], calibration: null });
    const ev = run(a, 0, 60); // minute 0, complete
    ev.push(...run(a, 60, 75, [68])); // a car at 1:08
    ev.push(...a.streamGap(M0 + 75_000));
    for (let s = 76; s < 90; s++) ev.push(...a.tick(M0 + s * 1000));
    ev.push(...run(a, 90, 121, [100])); // back at 1:30, another car at 1:40
    const minute1 = counts(ev).filter((e) => e.data.intervalStart === iso(M0 + 60_000));
    assert.equal(minute1.length, 1, 'one record for 1:00–2:00');
    assert.equal(minute1[0]!.data.intervalEnd, iso(M0 + 120_000));
    assert.equal(total(minute1[0]!), 2, 'counts before and after the reconnect add up in the same bin');
    assert.deepEqual(minute1[0]!.data.flags, ['stream-gap']);
    assert.equal(minute1[0]!.data.partial, undefined, 'a gap is not a partial interval: the bin has its nominal bounds');
  });

  test('frames that come back in a later bin: the bin they open is flagged (its start was lost)', () => {
    const clock = new BinClock([60]);
    clock.openAt(M0 + 1000);
    clock.streamGap(M0 + 30_000);
    const closed = clock.closeUntil(M0 + 95_000); // back at 1:35 before any tick
    assert.deepEqual(closed.map((b) => [...b.flags]), [['stream-gap']]);
    clock.openAt(M0 + 95_000);
    const next = clock.closeUntil(M0 + 120_000);
    assert.deepEqual(next.map((b) => [b.startMs, [...b.flags]]), [[M0 + 60_000, ['stream-gap']]]);
  });
});

describe('partial intervals', () => {
  test('start-up and shutdown intervals carry their exact observed bounds and raw counts, flagged partial', () => {
    const a = new CameraAnalytics({ camera: camera(), binSeconds: [60], calibration: null });
    // Start at 0:51.250, a car crossing in the first seconds, shut down at 1:08.125.
    const ev: DomainEvent[] = [];
    for (let k = 0; k < 17; k++) ev.push(...a.process(frame(M0 + 51_250 + k * 1000, k >= 1 && k < 8 ? [car(1, 0.3 + k * 0.05)] : [])));
    ev.push(...a.close(M0 + 68_125));
    const [first, second] = counts(ev);
    assert.ok(first && second);
    assert.deepEqual([first.data.intervalStart, first.data.intervalEnd, first.data.partial, first.data.flags], [iso(M0 + 51_250), iso(M0 + 60_000), true, ['partial']]);
    assert.equal(total(first), 1, 'the raw count, not a rate');
    assert.deepEqual([second.data.intervalStart, second.data.intervalEnd, second.data.flags], [iso(M0 + 60_000), iso(M0 + 68_125), ['partial']], 'ends at the shutdown, to the millisecond');
  });

  test('markFlag flags the bins running at that moment, and only them', () => {
    const clock = new BinClock([60, 900]);
    clock.openAt(M0);
    clock.markFlag('camera-covered', M0 + 10_000);
    const [minute] = clock.closeUntil(M0 + 60_000);
    assert.ok(minute);
    assert.deepEqual([...minute.flags], ['camera-covered']);
    clock.openAt(M0 + 60_000);
    const [next] = clock.closeUntil(M0 + 120_000);
    assert.ok(next);
    assert.deepEqual([...next.flags], [], 'the next minute is clean');
    const [quarter] = clock.closeAll(M0 + 900_000);
    assert.ok(quarter);
    assert.deepEqual([...quarter.flags], ['camera-covered'], 'the quarter hour that contained it keeps it');
  });
});

describe('time zones', () => {
  test('hour and 15-min bins follow the local clock of zones with :30 and :45 offsets', () => {
    const t = Date.UTC(2024, 0, 1, 12, 10, 0); // 17:40 in Kolkata (+05:30), 17:55 in Kathmandu (+05:45)
    const utc = new BinClock([3600]);
    assert.equal(utc.alignedStart(t, 3600), Date.UTC(2024, 0, 1, 12, 0, 0));
    const kolkata = new BinClock([3600, 900], { timeZone: 'Asia/Kolkata' });
    assert.equal(kolkata.alignedStart(t, 3600), Date.UTC(2024, 0, 1, 11, 30, 0), '17:00 local');
    assert.equal(kolkata.alignedStart(t, 900), Date.UTC(2024, 0, 1, 12, 0, 0), '17:30 local');
    const kathmandu = new BinClock([900], { timeZone: 'Asia/Kathmandu' });
    assert.equal(kathmandu.alignedStart(t, 900), Date.UTC(2024, 0, 1, 12, 0, 0), '17:45 local = 12:00 UTC');
    kolkata.openAt(t);
    const [hour] = kolkata.closeAll(Date.UTC(2024, 0, 1, 12, 30, 0)).filter((b) => b.binSeconds === 3600);
    assert.ok(hour);
    assert.equal(hour.endMs, Date.UTC(2024, 0, 1, 12, 30, 0), 'the local hour ends at 18:00 local');
    const stJohns = new BinClock([3600], { timeZone: 'America/St_Johns' }); // −03:30 in January
    assert.equal(stJohns.alignedStart(t, 3600), Date.UTC(2024, 0, 1, 11, 30, 0));
  });

  test('a day bin across a DST change is the local day (23 h), and an unknown zone is refused', () => {
    const berlin = new BinClock([86_400], { timeZone: 'Europe/Berlin' });
    const t = Date.UTC(2024, 2, 31, 12, 0, 0); // the day clocks go forward
    berlin.openAt(t);
    const [day] = berlin.closeAll();
    assert.ok(day);
    assert.equal(day.startMs, t, 'starts at the first frame');
    assert.equal(day.endMs, Date.UTC(2024, 2, 31, 22, 0, 0), 'local midnight, CEST');
    assert.equal(berlin.alignedStart(t, 86_400), Date.UTC(2024, 2, 30, 23, 0, 0), 'local midnight, CET');
    assert.throws(() => new BinClock([60], { timeZone: 'Mars/Olympus_Mons' }), RangeError);
    assert.throws(
      () => validateConfig({ analytics: { timeZone: 'Mars/Olympus_Mons' } }),
      (err: Error & { issues?: { path: string }[] }) => err.issues?.some((i) => i.path === '/analytics/timeZone') === true,
      'the config names the field',
    );
    assert.equal(validateConfig({ analytics: { timeZone: 'Asia/Kolkata' } }).analytics.timeZone, 'Asia/Kolkata');
  });
});

describe('incident records an integrator can follow', () => {
  test('revision counts the events of an incident; closeReason says why it closed', () => {
    let active = true;
    // A rule whose condition the test switches on and off (the manager is what is under test).
    const rule: IncidentRule = {
      kind: 'queue',
      evaluate: (ctx) => (active ? [{ key: 'q', kind: 'queue' as const, zoneId: 'z', trackIds: [1, 2], sinceMs: M0, measures: { queueLengthM: 20 } }] : []).filter(() => ctx.tMs >= M0),
      forget: () => undefined,
      stateSize: () => 0,
    };
    const mgr = new IncidentManager('cam1', [rule], 1, 2);
    const ctx = (tMs: number) => ({ cameraId: 'cam1', tMs, width: 640, height: 360, groundOfRel: null, tracks: [] });
    const events = [0, 1000, 2500, 5000].flatMap((dt) => mgr.step(ctx(M0 + dt)));
    active = false;
    events.push(...mgr.step(ctx(M0 + 7000)));
    assert.deepEqual(
      events.map((e) => [e.type, e.data.revision, e.data.closeReason]),
      [
        ['incident.opened', 1, undefined],
        ['incident.updated', 2, undefined],
        ['incident.updated', 3, undefined],
        ['incident.closed', 4, 'cleared'],
      ],
    );
    active = true;
    mgr.step(ctx(M0 + 8000));
    assert.deepEqual(mgr.closeAll(M0 + 9000, 'stream-lost').map((e) => [e.data.revision, e.data.closeReason]), [[2, 'stream-lost']], 'opened (1), closed (2)');
    mgr.step(ctx(M0 + 10_000));
    assert.deepEqual(mgr.closeAll(M0 + 11_000).map((e) => e.data.closeReason), ['stopped'], 'shutdown says so');
  });
});
