// Lane data (issue 16) on a synthetic scene built from exact trajectories: a calibrated top-down
// camera (1 px = 5 cm), two lanes with a 5 m virtual loop each, vehicles of known length and speed
// driving straight down. The ground truth is computed from the construction, never from our output:
// volume exact, occupancy within 1 percentage point, headway and gap within 0.1 s, length within 5 %.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { CameraAnalytics, buildCalibration, lengthClassOf, DEFAULT_LANE_SETTINGS } from '../appliance/src/analytics/index.js';
import { CameraSchema, ConfigSchema, type CameraConfig, type LaneConfig } from '../appliance/src/config/schema.js';
import { ConfigError, validateConfig } from '../appliance/src/config/load.js';
import { LaneIntervalData } from '../appliance/src/core/event-data.js';
import type { DomainEvent, FrameTracks, ObjectClass, Track } from '../appliance/src/core/types.js';
import { boxOverlapsPolygon, coveredTime, transitions } from '../appliance/src/analytics/lanes-geometry.js';
import { LaneIntervalSelector, LanesBody, laneSiteId, laneSiteSources, laneValueIndex, toCloudEvent, toMeasuredData, toMeasurementSiteTable, type LanesQuery } from '../appliance/src/events/index.js';
import { explain, validateD2Payload } from './helpers/datex-validator.js';
import { createMetrics } from '../appliance/src/metrics/registry.js';
import { observeLaneEvent } from '../appliance/src/metrics/lanes.js';
import { highwayLaneCrossings, highwayLaneOccupancy, laneAgreement, laneCrossings, laneLabels, laneVolumes } from './helpers/lanes.js';
import { loadFixtureRecording } from './helpers/replay.js';
import { matchByTime } from './helpers/match-crossings.js';

const W = 1000;
const H = 1000;
/** Metres per pixel of the top-down synthetic camera: the frame is 50 m × 50 m. */
const M_PER_PX = 0.05;
const T0 = Date.parse('2026-01-05T10:00:00Z');
const FPS = 10;
const LOOP = { y0: 0.5, y1: 0.6 }; // 5 m along the lane

const LANES: LaneConfig[] = [
  {
    id: 'l1',
    polygon: [{ x: 0.2, y: 0 }, { x: 0.5, y: 0 }, { x: 0.5, y: 1 }, { x: 0.2, y: 1 }],
    direction: { x: 0, y: 1 },
    loop: { polygon: [{ x: 0.2, y: LOOP.y0 }, { x: 0.5, y: LOOP.y0 }, { x: 0.5, y: LOOP.y1 }, { x: 0.2, y: LOOP.y1 }], lengthM: 5 },
  },
  {
    id: 'l2',
    polygon: [{ x: 0.5, y: 0 }, { x: 0.8, y: 0 }, { x: 0.8, y: 1 }, { x: 0.5, y: 1 }],
    direction: { x: 0, y: 1 },
    loop: { polygon: [{ x: 0.5, y: LOOP.y0 }, { x: 0.8, y: LOOP.y0 }, { x: 0.8, y: LOOP.y1 }, { x: 0.5, y: LOOP.y1 }], lengthM: 5 },
  },
];

/** One vehicle: enters at the top of the frame at t0 (s), front first, at constant speed. */
interface Vehicle {
  id: number;
  lane: 'l1' | 'l2';
  cls: ObjectClass;
  lengthM: number;
  speedMs: number;
  t0: number;
}

// Speeds 8-30 m/s, lengths 4.2-16.5 m, irregular arrivals; two vehicles in l1 close behind each other.
const VEHICLES: Vehicle[] = [
  { id: 1, lane: 'l1', cls: 'car', lengthM: 4.5, speedMs: 25, t0: 1.0 },
  { id: 2, lane: 'l2', cls: 'truck', lengthM: 16.5, speedMs: 22, t0: 2.3 },
  { id: 3, lane: 'l1', cls: 'car', lengthM: 4.2, speedMs: 27, t0: 3.1 },
  { id: 4, lane: 'l1', cls: 'bus', lengthM: 12, speedMs: 18, t0: 7.45 },
  { id: 5, lane: 'l2', cls: 'car', lengthM: 6.6, speedMs: 20, t0: 11.8 },
  { id: 6, lane: 'l2', cls: 'truck', lengthM: 10, speedMs: 16, t0: 19.2 },
  { id: 7, lane: 'l1', cls: 'car', lengthM: 4.8, speedMs: 30, t0: 24.05 },
  { id: 8, lane: 'l1', cls: 'motorcycle', lengthM: 2.2, speedMs: 28, t0: 25.6 },
  { id: 9, lane: 'l2', cls: 'car', lengthM: 5.0, speedMs: 8, t0: 40.3 },
  { id: 10, lane: 'l1', cls: 'car', lengthM: 4.4, speedMs: 24, t0: 56.9 },
  { id: 11, lane: 'l2', cls: 'truck', lengthM: 8.0, speedMs: 19, t0: 70.15 },
  { id: 12, lane: 'l1', cls: 'car', lengthM: 4.6, speedMs: 26, t0: 83.33 },
  { id: 13, lane: 'l1', cls: 'car', lengthM: 4.3, speedMs: 25, t0: 85.2 },
  { id: 14, lane: 'l2', cls: 'bus', lengthM: 12.5, speedMs: 15, t0: 101.7 },
];

const laneX = (lane: Vehicle['lane']) => (lane === 'l1' ? 0.33 : 0.63);

/** The box (px) of a vehicle at time t (s), or null while it is not in the frame. */
function boxAt(v: Vehicle, t: number): { x: number; y: number; w: number; h: number } | null {
  const lenPx = v.lengthM / M_PER_PX;
  const front = (t - v.t0) * (v.speedMs / M_PER_PX); // px below the top edge
  if (front <= 0) return null;
  const top = front - lenPx;
  if (top > H) return null;
  const y = Math.max(0, top);
  const bottom = Math.min(H, front);
  if (bottom - y < 2) return null;
  return { x: laneX(v.lane) * W - 20, y, w: 40, h: bottom - y };
}

/** Exact times (s) the vehicle's front reaches the loop and its rear leaves it. */
function onLoop(v: Vehicle): { on: number; off: number } {
  const vRel = v.speedMs / (H * M_PER_PX);
  const lenRel = v.lengthM / (H * M_PER_PX);
  return { on: v.t0 + LOOP.y0 / vRel, off: v.t0 + (LOOP.y1 + lenRel) / vRel };
}

function camera(lanes: LaneConfig[] = LANES, extra: Partial<CameraConfig> = {}): CameraConfig {
  return Value.Default(CameraSchema, { id: 'syn', url: 'rtsp://127.0.0.1/syn', width: W, height: H, lanes, laneData: { intervalSeconds: 60 }, ...extra }) as CameraConfig;
}

const calibration = buildCalibration({
  imageSize: { width: W, height: H },
  points: [
    { image: { x: 0, y: 0 }, ground: { x: 0, y: 0 } },
    { image: { x: W, y: 0 }, ground: { x: W * M_PER_PX, y: 0 } },
    { image: { x: W, y: H }, ground: { x: W * M_PER_PX, y: H * M_PER_PX } },
    { image: { x: 0, y: H }, ground: { x: 0, y: H * M_PER_PX } },
  ],
});

function run(an: CameraAnalytics, seconds: number): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (let k = 0; k < seconds * FPS; k++) {
    const t = k / FPS;
    const tracks: Track[] = [];
    for (const v of VEHICLES) {
      const box = boxAt(v, t);
      if (!box) continue;
      tracks.push({ id: v.id, cls: v.cls, box, score: 0.9, status: 'confirmed', velocity: { x: 0, y: v.speedMs / M_PER_PX }, age: 10, hits: 10, firstSeenMs: T0 + v.t0 * 1000 });
    }
    const ft: FrameTracks = { cameraId: 'syn', seq: k, timestampMs: T0 + Math.round(t * 1000), width: W, height: H, tracks };
    events.push(...an.process(ft));
  }
  events.push(...an.close(T0 + seconds * 1000));
  return events;
}

function laneEvents(events: DomainEvent[]): LaneIntervalData[] {
  return events.filter((e) => e.type === 'lane.interval').map((e) => e.data as LaneIntervalData);
}

/** Ground truth of one lane and interval [s, e) (s since T0), from the construction. */
function truth(lane: Vehicle['lane'], s: number, e: number) {
  const inLane = VEHICLES.filter((v) => v.lane === lane).sort((a, b) => onLoop(a).on - onLoop(b).on);
  const done = inLane.filter((v) => onLoop(v).off >= s && onLoop(v).off < e);
  const intervals = inLane.map((v) => [onLoop(v).on * 1000, onLoop(v).off * 1000] as [number, number]);
  const headways: number[] = [];
  const gaps: number[] = [];
  for (const v of done) {
    const i = inLane.indexOf(v);
    const prev = inLane[i - 1];
    if (!prev) continue;
    headways.push(onLoop(v).on - onLoop(prev).on);
    gaps.push(Math.max(0, onLoop(v).on - onLoop(prev).off));
  }
  const avg = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : null);
  return {
    volume: done.length,
    byClass: (cls: ObjectClass) => done.filter((v) => v.cls === cls).length,
    occupancyPct: (100 * coveredTime(intervals, s * 1000, e * 1000)) / ((e - s) * 1000),
    meanHeadwayS: avg(headways),
    meanGapS: avg(gaps),
    meanLengthM: avg(done.map((v) => v.lengthM)),
    meanSpeedKmh: avg(done.map((v) => v.speedMs * 3.6)),
    lengths: done.map((v) => v.lengthM),
  };
}

describe('lane data on a synthetic scene with exact trajectories', () => {
  for (const calibrated of [true, false]) {
    test(`volume exact, occupancy ±1 pp, headway and gap ±0.1 s, length ±5 % (${calibrated ? 'calibrated' : 'loop length measured by the installer'})`, (t) => {
      const an = new CameraAnalytics({ camera: camera(), binSeconds: [60], calibration: calibrated ? calibration : null });
      const data = laneEvents(run(an, 120));
      for (const d of data) assert.ok(Value.Check(LaneIntervalData, d), JSON.stringify([...Value.Errors(LaneIntervalData, d)][0]));
      assert.equal(data.length, 4, 'two lanes × two 60 s intervals');
      for (const d of data) {
        const s = (Date.parse(d.intervalStart) - T0) / 1000;
        const e = (Date.parse(d.intervalEnd) - T0) / 1000;
        const gt = truth(d.laneId as Vehicle['lane'], s, e);
        const where = `${d.laneId} ${s}-${e} s`;
        t.diagnostic(
          `${where}: volume ${d.volume}/${gt.volume}, occupancy ${d.occupancyPct}/${gt.occupancyPct.toFixed(2)} %, headway ${d.meanHeadwayS}/${gt.meanHeadwayS?.toFixed(3)} s, gap ${d.meanGapS}/${gt.meanGapS?.toFixed(3)} s, length ${d.meanLengthM}/${gt.meanLengthM?.toFixed(2)} m, speed ${d.meanSpeedKmh}/${gt.meanSpeedKmh?.toFixed(1)} km/h`,
        );
        assert.ok(gt.volume > 0, `${where}: the scene has traffic in every interval`);
        assert.equal(d.volume, gt.volume, `${where}: volume`);
        for (const c of d.counts) assert.equal(c.count, gt.byClass(c.cls), `${where}: ${c.cls}`);
        assert.ok(d.occupancyPct !== null && Math.abs(d.occupancyPct - gt.occupancyPct) <= 1, `${where}: occupancy ${d.occupancyPct} vs ${gt.occupancyPct.toFixed(2)}`);
        if (gt.meanHeadwayS === null) assert.equal(d.meanHeadwayS, null, `${where}: no previous vehicle, no headway`);
        else assert.ok(d.meanHeadwayS !== null && Math.abs(d.meanHeadwayS - gt.meanHeadwayS) <= 0.1, `${where}: headway ${d.meanHeadwayS} vs ${gt.meanHeadwayS}`);
        if (gt.meanGapS === null) assert.equal(d.meanGapS, null);
        else assert.ok(d.meanGapS !== null && Math.abs(d.meanGapS - gt.meanGapS) <= 0.1, `${where}: gap ${d.meanGapS} vs ${gt.meanGapS}`);
        assert.ok(d.meanLengthM !== null && gt.meanLengthM !== null && Math.abs(d.meanLengthM - gt.meanLengthM) <= 0.05 * gt.meanLengthM, `${where}: length ${d.meanLengthM} vs ${gt.meanLengthM}`);
        assert.ok(d.meanSpeedKmh !== null && gt.meanSpeedKmh !== null && Math.abs(d.meanSpeedKmh - gt.meanSpeedKmh) <= 0.02 * gt.meanSpeedKmh, `${where}: speed ${d.meanSpeedKmh} vs ${gt.meanSpeedKmh}`);
        assert.equal(d.p85SpeedKmh !== null, calibrated, `${where}: the 85th percentile needs the calibration`);
        const byClass = Object.fromEntries(d.lengthClasses.map((c) => [c.lengthClass, c.count]));
        for (const lc of ['light', 'medium', 'heavy', 'articulated'] as const) {
          assert.equal(byClass[lc], gt.lengths.filter((l) => lengthClassOf(l, DEFAULT_LANE_SETTINGS.lengthClasses) === lc).length, `${where}: ${lc}`);
        }
      }
    });
  }

  test('every vehicle is measured: each one individually within 5 % of its length', () => {
    // One vehicle per interval makes the interval mean that vehicle's own length.
    for (const v of VEHICLES) {
      const an = new CameraAnalytics({ camera: camera(), binSeconds: [60], calibration });
      const events: DomainEvent[] = [];
      const { on, off } = onLoop(v);
      for (let k = Math.floor(v.t0 * FPS); k <= Math.ceil((off + 1) * FPS); k++) {
        const t = k / FPS;
        const box = boxAt(v, t);
        const tracks: Track[] = box ? [{ id: v.id, cls: v.cls, box, score: 0.9, status: 'confirmed', velocity: { x: 0, y: 1 }, age: 9, hits: 9, firstSeenMs: T0 }] : [];
        events.push(...an.process({ cameraId: 'syn', seq: k, timestampMs: T0 + Math.round(t * 1000), width: W, height: H, tracks }));
      }
      events.push(...an.close(T0 + Math.ceil(off + 2) * 1000));
      const d = laneEvents(events).find((x) => x.laneId === v.lane && x.volume === 1);
      assert.ok(d, `vehicle ${v.id} counted (on the loop ${on.toFixed(2)}-${off.toFixed(2)} s)`);
      // The first vehicle of a lane has no predecessor: its arrival is seen, so its length is measured.
      assert.ok(d.meanLengthM !== null && Math.abs(d.meanLengthM - v.lengthM) <= 0.05 * v.lengthM, `vehicle ${v.id}: ${d.meanLengthM} m vs ${v.lengthM} m`);
    }
  });

  test('a box that jitters back over the loop is the same vehicle: counted once, the loop occupied both times', () => {
    const an = new CameraAnalytics({ camera: camera(), binSeconds: [60], calibration });
    // Rear (box top) of a 5 m car (100 px) in lane l1: passes the loop's far edge (y 600 px), jitters back over it, then goes on.
    const rearYs = [400, 450, 500, 550, 590, 620, 595, 630, 700, 780];
    const events: DomainEvent[] = [];
    rearYs.forEach((y, k) => {
      const track: Track = { id: 1, cls: 'car', box: { x: 310, y, w: 40, h: 100 }, score: 0.9, status: 'confirmed', velocity: { x: 0, y: 400 }, age: 9, hits: 9, firstSeenMs: T0 };
      events.push(...an.process({ cameraId: 'syn', seq: k, timestampMs: T0 + k * 100, width: W, height: H, tracks: [track] }));
    });
    events.push(...an.close(T0 + 2000));
    const l1 = laneEvents(events).find((d) => d.laneId === 'l1');
    assert.ok(l1);
    assert.equal(l1.volume, 1);
    // Over the loop (box bottom ≥ 500 px and top ≤ 600 px): from t 0 (rear 400) until the rear passes 600 between frames 4
    // and 5 (590 → 620: t 0.4333 s), and again between frames 5 and 6 (620 → 595: t 0.58 s) until frames 6 and 7
    // (595 → 630: t 0.6143 s): 0.4676 s of the 2 s observed = 23.38 %.
    assert.ok(l1.occupancyPct !== null && Math.abs(l1.occupancyPct - 23.38) < 0.05, `occupancy ${l1.occupancyPct}`);
  });

  test('a queue detected in a lane (queue incident) gives the lane its queue length in metres', () => {
    const zone = { id: 'road', kind: 'carriageway' as const, polygon: LANES[0]?.polygon ?? [], laneDirection: { x: 0, y: 1 } };
    const an = new CameraAnalytics({ camera: camera(LANES, { zones: [zone] }), binSeconds: [60], calibration });
    // Five cars standing in lane l1, bottoms 150 px (7.5 m) apart: the queue spans 4 × 7.5 = 30 m of ground points.
    const events: DomainEvent[] = [];
    for (let k = 0; k < 30 * 5; k++) {
      const tracks: Track[] = [0, 1, 2, 3, 4].map((i) => ({ id: 100 + i, cls: 'car', box: { x: 310, y: 100 + i * 150, w: 40, h: 100 }, score: 0.9, status: 'confirmed', velocity: { x: 0, y: 0 }, age: 50, hits: 50, firstSeenMs: T0 }));
      events.push(...an.process({ cameraId: 'syn', seq: k, timestampMs: T0 + k * 200, width: W, height: H, tracks }));
    }
    events.push(...an.close(T0 + 30_000));
    assert.ok(events.some((e) => e.type === 'incident.opened' && (e.data as { kind: string }).kind === 'queue'), 'the queue rule fired');
    const d = laneEvents(events);
    assert.equal(d.find((x) => x.laneId === 'l1')?.queueLengthM, 30);
    assert.equal(d.find((x) => x.laneId === 'l2')?.queueLengthM, null, 'no queue in the other lane');
  });

  test('without a loop length or calibration there is no speed or length, and volume and occupancy still come', () => {
    const lanes = LANES.map((l) => ({ ...l, loop: l.loop ? { polygon: l.loop.polygon } : undefined }));
    const an = new CameraAnalytics({ camera: camera(lanes), binSeconds: [60], calibration: null });
    const data = laneEvents(run(an, 60));
    const l1 = data.find((d) => d.laneId === 'l1');
    assert.ok(l1);
    assert.equal(l1.volume, truth('l1', 0, 60).volume);
    assert.equal(l1.meanSpeedKmh, null);
    assert.equal(l1.meanLengthM, null);
    assert.deepEqual(l1.lengthClasses, []);
    assert.ok(l1.occupancyPct !== null && l1.occupancyPct > 0);
  });

  test('a lane\'s volume by class follows the track\'s vote until the interval is emitted (a scooter named a motorcycle after the line)', () => {
    const line = { id: 'x', from: { x: 0, y: 0.55 }, to: { x: 1, y: 0.55 }, direction: { x: 0, y: 1 }, minTravel: 0.02 };
    const lanes: LaneConfig[] = [
      { id: 'div', divider: { lineId: 'x', from: 0.2, to: 0.5 }, direction: { x: 0, y: 1 } },
      { id: 'loop', polygon: [{ x: 0.5, y: 0 }, { x: 0.8, y: 0 }, { x: 0.8, y: 1 }, { x: 0.5, y: 1 }], direction: { x: 0, y: 1 }, loop: { polygon: [{ x: 0.5, y: 0.5 }, { x: 0.8, y: 0.5 }, { x: 0.8, y: 0.6 }, { x: 0.5, y: 0.6 }], lengthM: 5 } },
    ];
    const an = new CameraAnalytics({ camera: camera(lanes, { lines: [line] }), binSeconds: [60], calibration: null });
    const events: DomainEvent[] = [];
    // Two scooters boxed 'car' until frame 12 (past the line and the loop), 'motorcycle' after.
    for (let k = 0; k < 20; k++) {
      const y = 300 + k * 30;
      const cls: ObjectClass = k < 12 ? 'car' : 'motorcycle';
      const tracks: Track[] = [1, 2].map((id) => ({ id, cls, box: { x: id === 1 ? 330 : 630, y: y - 60, w: 40, h: 60 }, score: 0.9, status: 'confirmed', velocity: { x: 0, y: 300 }, age: k, hits: k + 1, firstSeenMs: T0 }));
      events.push(...an.process({ cameraId: 'syn', seq: k, timestampMs: T0 + k * 100, width: W, height: H, tracks }));
    }
    events.push(...an.close(T0 + 2100));
    const byLane = laneEvents(events).map((d) => [d.laneId, d.counts.filter((c) => c.count > 0)]);
    assert.deepEqual(byLane, [
      ['div', [{ cls: 'motorcycle', count: 1 }]],
      ['loop', [{ cls: 'motorcycle', count: 1 }]],
    ]);
  });

  test('a lane drawn as dividers across a counting line counts the crossings between its dividers', () => {
    const line = { id: 'x', from: { x: 0, y: 0.55 }, to: { x: 1, y: 0.55 }, direction: { x: 0, y: 1 }, minTravel: 0.02 };
    const lanes: LaneConfig[] = [
      { id: 'left', divider: { lineId: 'x', from: 0.2, to: 0.5 }, direction: { x: 0, y: 1 } },
      { id: 'right', divider: { lineId: 'x', from: 0.5, to: 0.8 }, direction: { x: 0, y: 1 } },
    ];
    const crossings: Array<{ trackId: number; laneId: string | null }> = [];
    const an = new CameraAnalytics({ camera: camera(lanes, { lines: [line] }), binSeconds: [60], calibration, onCrossing: (c) => crossings.push({ trackId: c.trackId, laneId: c.laneId }) });
    const data = laneEvents(run(an, 60));
    const inMinute = VEHICLES.filter((v) => onLoop(v).on < 60 && onLoop(v).on >= 0.1);
    for (const [laneId, lane] of [['left', 'l1'], ['right', 'l2']] as const) {
      const d = data.find((x) => x.laneId === laneId);
      assert.ok(d);
      assert.equal(d.volume, inMinute.filter((v) => v.lane === lane).length, laneId);
      assert.equal(d.occupancyPct, null, 'a line has no length: no occupancy');
    }
    assert.ok(crossings.length > 0);
    for (const c of crossings) assert.equal(c.laneId, VEHICLES.find((v) => v.id === c.trackId)?.lane === 'l1' ? 'left' : 'right', `track ${c.trackId}`);
  });
  test("a divider lane agrees with its line: a crossing the line takes back (a bicycle's frame boxed as a car under its rider) leaves the lane, and a walker is no vehicle", () => {
    const line = { id: 'x', from: { x: 0, y: 0.5 }, to: { x: 1, y: 0.5 }, direction: { x: 0, y: 1 }, minTravel: 0.02 };
    const lanes: LaneConfig[] = [{ id: 'div', divider: { lineId: 'x', from: 0.2, to: 0.8 }, direction: { x: 0, y: 1 } }];
    const an = new CameraAnalytics({ camera: camera(lanes, { lines: [line] }), binSeconds: [60], calibration: null });
    // The boxes recorded at campus-crosswalk 11.2 s (640x360, scaled to this frame): the bicycle
    // itself boxed 'car', its rider's track named bicycle, both moving down over the line. Then, 2 s
    // later, a walker crossing the line in the same lane, and a car 1 s after.
    const sx = W / 640;
    const sy = H / 360;
    const at = (id: number, cls: ObjectClass, cx: number, bottom: number, w: number, h: number): Track => ({
      id, cls, box: { x: cx - w / 2, y: bottom - h, w, h }, score: 0.6, status: 'confirmed', velocity: { x: 0, y: 0.2 * H }, age: 1, hits: 1, firstSeenMs: T0,
    });
    const events: DomainEvent[] = [];
    const lineCounts: string[] = [];
    for (let i = 0; i < 60; i++) {
      const y = 0.3 * H + i * 0.02 * H;
      const tracks: Track[] = [];
      if (i < 24) tracks.push(at(1, 'car', 340 * sx, y, 45 * sx, 32 * sy), at(2, 'bicycle', 345 * sx, y - 5 * sy, 20 * sx, 37 * sy));
      if (i >= 26 && i < 50) tracks.push(at(3, 'person', 600, 0.3 * H + (i - 26) * 0.02 * H, 30, 90));
      if (i >= 36) tracks.push(at(4, 'car', 400, 0.3 * H + (i - 36) * 0.02 * H, 120, 90));
      events.push(...an.process({ cameraId: 'syn', seq: i, timestampMs: T0 + i * 100, width: W, height: H, tracks }));
    }
    events.push(...an.close(T0 + 6000));
    for (const e of events) if (e.type === 'count.interval') for (const c of (e.data as { counts: Array<{ cls: string; count: number }> }).counts) if (c.count) lineCounts.push(`${c.cls} ${c.count}`);
    assert.deepEqual(lineCounts.sort(), ['bicycle 1', 'car 1', 'person 1'], "the line's own counts");
    const [d] = laneEvents(events);
    assert.ok(d);
    assert.deepEqual(d.counts.filter((c) => c.count > 0), [{ cls: 'bicycle', count: 1 }, { cls: 'car', count: 1 }]);
    assert.equal(d.volume, 2, 'bicycle and car: not the frame taken back, not the walker');
    // Where each bottom edge reaches the line (y 0.5): the rider's box at frame (200 + 5 sy) / 20, the car's at 36 + 10.
    const riderCrossMs = ((200 + 5 * sy) / 20) * 100;
    assert.equal(d.meanHeadwayS, Math.round(4600 - riderCrossMs) / 1000, 'the car follows the bicycle, not the walker (1 s) or the frame (3.6 s)');
  });
});

describe('lane config', () => {
  const base = { cameras: [{ id: 'c1', url: 'rtsp://127.0.0.1/x', lines: [{ id: 'x', from: { x: 0, y: 0.5 }, to: { x: 1, y: 0.5 } }] }] };
  const withLanes = (lanes: unknown[]) => ({ ...base, cameras: [{ ...base.cameras[0], lanes }] });

  test('a valid lane set passes, with the documented defaults', () => {
    const cfg = validateConfig(withLanes(LANES));
    assert.deepEqual(cfg.cameras[0]?.laneData, { intervalSeconds: 30, lengthClasses: { lightMaxM: 6, mediumMaxM: 9, heavyMaxM: 13 } });
    assert.ok(Value.Check(ConfigSchema, cfg));
  });

  test('refused, each by field: no shape, both shapes, unknown divider line, zero direction, bad interval', () => {
    const issues = (lanes: unknown[], extra: Record<string, unknown> = {}) => {
      try {
        validateConfig({ ...base, cameras: [{ ...base.cameras[0], lanes, ...extra }] });
        return [];
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.issues.map((i) => i.path);
      }
    };
    assert.deepEqual(issues([{ id: 'a', direction: { x: 0, y: 1 } }]), ['/cameras/0/lanes/0']);
    assert.deepEqual(issues([{ id: 'a', polygon: LANES[0]?.polygon, divider: { lineId: 'x', from: 0, to: 0.5 }, direction: { x: 0, y: 1 } }]), ['/cameras/0/lanes/0']);
    assert.deepEqual(issues([{ id: 'a', divider: { lineId: 'nope', from: 0, to: 0.5 }, direction: { x: 0, y: 1 } }]), ['/cameras/0/lanes/0/divider/lineId']);
    assert.deepEqual(issues([{ id: 'a', divider: { lineId: 'x', from: 0, to: 0.5 }, direction: { x: 0, y: 0 } }]), ['/cameras/0/lanes/0/direction']);
    assert.ok(issues(LANES, { laneData: { intervalSeconds: 45 } }).some((p) => p.startsWith('/cameras/0/laneData/intervalSeconds')));
    assert.deepEqual(issues([LANES[0], LANES[0]]), ['/cameras/0/lanes/1/id']);
  });
});

describe('lane geometry', () => {
  const sq = [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }, { x: 0, y: 1 }];
  test('box and polygon overlap: inside, crossing, containing, apart', () => {
    assert.ok(boxOverlapsPolygon({ x: 0.2, y: 0.2, w: 0.1, h: 0.1 }, sq));
    assert.ok(boxOverlapsPolygon({ x: -0.5, y: 0.5, w: 0.6, h: 0.1 }, sq));
    assert.ok(boxOverlapsPolygon({ x: -1, y: -1, w: 3, h: 3 }, sq));
    assert.ok(!boxOverlapsPolygon({ x: 1.1, y: 0, w: 0.5, h: 0.5 }, sq));
    // A triangle whose bounding box meets the box while the triangle itself does not.
    assert.ok(!boxOverlapsPolygon({ x: 0.8, y: 0.8, w: 0.1, h: 0.1 }, [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 0, y: 1 }]));
  });
  test('transitions are found between frames, not at frames', () => {
    const m = transitions(1000, 1100, false, (f) => f > 0.37);
    assert.equal(m.length, 1);
    assert.ok(Math.abs((m[0]?.t ?? 0) - 1037) < 0.05);
  });
  test('covered time is the union of intervals, clipped', () => {
    assert.equal(coveredTime([[0, 10], [5, 15], [20, 30]], 0, 25), 20);
    assert.equal(coveredTime([[0, 10]], 10, 20), 0);
  });
});

describe('lane data in DATEX II v3', () => {
  const o = { applianceId: 'box', country: 'DE', lang: 'en', nowMs: T0 + 200_000 };
  type Json = Record<string, any>;
  const quantities = (sm: Json) => new Map<number, Json>(sm.physicalQuantity.map((q: Json) => [q.index, q.physicalQuantity.roaSinglePhysicalQuantity.basicData]));

  test('measured data per lane (flow, speed, occupancy, headway, gap) and the lane sites validate against the official schemas', () => {
    const an = new CameraAnalytics({ camera: camera(), binSeconds: [60], calibration });
    const events = run(an, 120).filter((e) => e.type === 'lane.interval');
    // A flagged interval too: its values carry the data-quality marks.
    const flagged = structuredClone(events[0]);
    assert.ok(flagged);
    (flagged.data as LaneIntervalData).flags = ['camera-dark'];
    const doc = toMeasuredData([...events, flagged].map((e) => toCloudEvent(e, 'box')), o);
    assert.deepEqual(validateD2Payload(doc), [], explain(validateD2Payload(doc)));
    const sms: Json[] = (doc as Json).payload.roaMeasuredDataPublication.siteMeasurements;
    assert.equal(sms.length, 5);
    const first = sms[0] as Json;
    const d = events[0]?.data as LaneIntervalData;
    assert.equal(first.measurementSiteReference.idG, laneSiteId('box', 'syn', d.laneId));
    const q = quantities(first);
    assert.equal(q.get(laneValueIndex(60, 'all'))?.roaTrafficFlow.vehicleFlow.numberOfInputValuesUsed, d.volume);
    assert.equal(q.get(laneValueIndex(60, 'occupancy'))?.roaTrafficConcentration.occupancy.percentage, d.occupancyPct);
    assert.equal(q.get(laneValueIndex(60, 'headway'))?.roaTrafficHeadway.averageTimeHeadway.duration, d.meanHeadwayS);
    assert.equal(q.get(laneValueIndex(60, 'gap'))?.roaTrafficGap.averageTimeGap.duration, d.meanGapS);
    assert.equal(q.get(laneValueIndex(60, 'speed'))?.roaTrafficSpeed.averageVehicleSpeed.speed, d.meanSpeedKmh);
    assert.ok(q.get(laneValueIndex(60, 'light'))?.roaTrafficFlow.vehicleFlow, 'flow by length class');
    const bad = quantities(sms[4] as Json);
    assert.equal(bad.get(laneValueIndex(60, 'occupancy'))?.roaTrafficConcentration.occupancy.dataError, true);

    const table = toMeasurementSiteTable(
      [{ cameraId: 'syn', lines: [], lanes: LANES.map((l, i) => ({ laneId: l.id, laneNumber: i + 1, intervalSeconds: 60, lengthClassesM: DEFAULT_LANE_SETTINGS.lengthClasses })) }],
      [60],
      o,
    );
    assert.deepEqual(validateD2Payload(table), [], explain(validateD2Payload(table)));
    const sites: Json[] = (table as Json).payload.roaMeasurementSiteTablePublication.measurementSiteTable[0].measurementSite;
    assert.deepEqual(sites.map((x) => x.idG), ['box.syn.l1.lane', 'box.syn.l2.lane', 'box.syn']);
    const indices = new Set((sites[0]?.measurementSpecificCharacteristics as Json[]).map((c) => c.index));
    for (const sm of sms.filter((x) => x.measurementSiteReference.idG === 'box.syn.l1.lane')) {
      for (const pq of sm.physicalQuantity as Json[]) assert.ok(indices.has(pq.index), `index ${pq.index} is in the site table`);
    }
    assert.deepEqual(sites[1]?.measurementSpecificCharacteristics[0].measurementSpecificCharacteristics.specificLane, [{ laneNumber: 2 }]);
  });
});

describe('lane occupancy on cdnet-highway (recorded detections of the real model)', () => {
  test('each lane\'s virtual loop is within 3 percentage points of the occupancy from the ground-truth masks', (t) => {
    const rows = highwayLaneOccupancy(loadFixtureRecording('cdnet-highway.10fps.jsonl'));
    assert.deepEqual(rows.map((r) => r.laneId).sort(), ['left', 'right']);
    for (const r of rows) {
      t.diagnostic(`${r.laneId}: ${r.measuredPct} % measured, ${r.maskPct.toFixed(2)} % from the masks, ${r.volume} vehicles, ${r.windowS[0]}-${r.windowS[1]} s`);
      assert.ok(r.maskPct > 10, `${r.laneId}: the loop sees traffic`);
      assert.ok(Math.abs(r.measuredPct - r.maskPct) <= 3, `${r.laneId}: ${r.measuredPct} vs ${r.maskPct}`);
      assert.ok(r.volume > 0);
    }
  });
});

describe('lane assignment on the hand-counted dev set (lanes labelled by eye)', () => {
  test('cdnet-highway: at least 95 % of the matched crossings are in the labelled lane', (t) => {
    const rec = loadFixtureRecording('cdnet-highway.10fps.jsonl');
    const first = rec.frames[0];
    assert.ok(first);
    const r = laneAgreement(laneLabels('cdnet-highway'), highwayLaneCrossings(rec, first.timestampMs));
    t.diagnostic(`${r.correct}/${r.matched} matched crossings in the right lane (${r.labelled} labelled); wrong: ${JSON.stringify(r.wrong)}`);
    assert.ok(r.matched >= 0.8 * r.labelled, `most labelled crossings are counted (${r.matched}/${r.labelled})`);
    assert.ok(r.correct >= 0.95 * r.matched, `${r.correct}/${r.matched}`);
    // Both lanes carry labelled traffic, so putting everything in one lane cannot pass.
    assert.ok(new Set(laneLabels('cdnet-highway').map((l) => l.lane)).size === 2);
  });

  // The shipped detector's recorded boxes (10 fps). sf-freeway-night at night (four lanes, headlights)
  // and opendatacam by day (three lanes): every labelled lane carries traffic, so one lane for all
  // cannot pass. Paired by time and place (laneAgreement). sf at night is held to 90 %: a crossing's
  // time there runs ~0.3 s ahead of the hand time (the headlights' pool on the road is the box's
  // bottom), which is as much as a lane's weight in the pairing. opendatacam's 'out' line is left to
  // the bench: vehicles entering at the frame edge in its third lane (not drawn) add crossings
  // (bench/ground-truth/lanes/README.md).
  for (const { clip, fixture, line, min } of [
    { clip: 'sf-freeway-night', fixture: 'sf-freeway-night.pvb2003.10fps.jsonl', line: 'towards', min: 0.9 },
    { clip: 'opendatacam', fixture: 'opendatacam.pvb2003.10fps.jsonl', line: 'in', min: 0.95 },
  ]) {
    test(`${clip} '${line}': the matched crossings are in the labelled lane (≥ ${min * 100} %)`, (t) => {
      const rec = loadFixtureRecording(fixture);
      const first = rec.frames[0];
      assert.ok(first);
      const labels = laneLabels(clip).filter((l) => l.line === line);
      const r = laneAgreement(labels, laneCrossings(clip, rec, first.timestampMs));
      t.diagnostic(`${r.correct}/${r.matched} matched crossings in the right lane (${r.labelled} labelled); wrong: ${JSON.stringify(r.wrong)}`);
      assert.ok(r.matched >= 0.9 * r.labelled, `most labelled crossings are counted (${r.matched}/${r.labelled})`);
      assert.ok(r.correct >= min * r.matched, `${r.correct}/${r.matched}`);
      assert.ok(new Set(labels.flatMap((l) => (l.lane === null ? [] : [l.lane]))).size >= 3, 'three or more labelled lanes carry traffic');
    });
  }
});

describe('lane metrics', () => {
  test('a stored lane.interval moves the lane series, labelled by camera and lane ids only', async () => {
    const m = createMetrics();
    const an = new CameraAnalytics({ camera: camera(), binSeconds: [60], calibration });
    const events = run(an, 60).filter((e) => e.type === 'lane.interval');
    for (const e of events) observeLaneEvent(m, toCloudEvent(e, 'box'));
    observeLaneEvent(m, toCloudEvent({ type: 'camera.state', cameraId: 'syn', timeMs: T0, data: { cameraId: 'syn', state: 'streaming' } }, 'box'));
    const l1 = events.map((e) => e.data as LaneIntervalData).find((d) => d.laneId === 'l1');
    assert.ok(l1);
    const occ = (await m.laneOccupancy.get()).values;
    assert.deepEqual(occ.map((v) => Object.keys(v.labels).sort()), [['camera', 'lane'], ['camera', 'lane']]);
    assert.equal(occ.find((v) => v.labels.lane === 'l1')?.value, l1.occupancyPct);
    assert.equal((await m.laneVehicles.get()).values.find((v) => v.labels.lane === 'l1')?.value, l1.volume);
    assert.equal((await m.laneSpeed.get()).values.find((v) => v.labels.lane === 'l1')?.value, l1.meanSpeedKmh);
  });
});

describe('lane data query', () => {
  test('filters by camera, lane and window (overlap rule), newest last; latest keeps one per lane; limit keeps the newest', () => {
    const an = new CameraAnalytics({ camera: camera(), binSeconds: [60], calibration });
    const events = run(an, 120).map((e) => toCloudEvent(e, 'box'));
    const other = toCloudEvent({ type: 'camera.state', cameraId: 'syn', timeMs: T0, data: { cameraId: 'syn', state: 'streaming' } }, 'box');
    const select = (q: Partial<LanesQuery>) => {
      const s = new LaneIntervalSelector({ latest: false, limit: 1000, ...q });
      for (const e of [...events, other]) s.add(e);
      return s.result();
    };
    assert.equal(select({}).intervals.length, 4);
    assert.deepEqual(select({ lane: 'l2' }).intervals.map((d) => d.laneId), ['l2', 'l2']);
    assert.equal(select({ camera: 'nope' }).intervals.length, 0);
    const second = select({ from: new Date(T0 + 60_000).toISOString() });
    assert.deepEqual(second.intervals.map((d) => d.intervalStart), [new Date(T0 + 60_000).toISOString(), new Date(T0 + 60_000).toISOString()]);
    assert.deepEqual(select({ latest: true }).intervals.map((d) => `${d.laneId}@${d.intervalEnd}`).sort(), [`l1@${new Date(T0 + 120_000).toISOString()}`, `l2@${new Date(T0 + 120_000).toISOString()}`]);
    const limited = select({ limit: 1 });
    assert.equal(limited.truncated, true);
    assert.equal(limited.intervals[0]?.intervalEnd, new Date(T0 + 120_000).toISOString());
    for (const d of select({}).intervals) assert.ok(Value.Check(LanesBody.properties.intervals.items, d));
  });

  test('lane sites of a configured camera: config order is the lane number, with its interval and length classes', () => {
    const cam = validateConfig({ cameras: [{ id: 'c1', url: 'rtsp://127.0.0.1/x', lanes: LANES, laneData: { intervalSeconds: 20 } }] }).cameras[0];
    assert.ok(cam);
    assert.deepEqual(laneSiteSources(cam), [
      { laneId: 'l1', laneNumber: 1, intervalSeconds: 20, lengthClassesM: { lightMaxM: 6, mediumMaxM: 9, heavyMaxM: 13 } },
      { laneId: 'l2', laneNumber: 2, intervalSeconds: 20, lengthClassesM: { lightMaxM: 6, mediumMaxM: 9, heavyMaxM: 13 } },
    ]);
  });
});

describe('matching counted crossings to hand-counted ones (by time; the lanes bench adds where on the line)', () => {
  const pick = (r: { matched: number; correct: number }) => ({ matched: r.matched, correct: r.correct });
  const at = (line: string, ...ts: number[]) => ts.map((tS) => ({ line, direction: 'forward', tS }));

  test('keeps the time order of near-simultaneous crossings (greedy nearest-first would swap them)', () => {
    // Hand counts 8.5 and 8.6 s, ours 8.4 and 8.5 s: nearest-first takes 8.5-8.5, then 8.6-8.4.
    assert.deepEqual(matchByTime(at('towards', 8.5, 8.6), at('towards', 8.4, 8.5), 1.5), [
      [0, 0],
      [1, 1],
    ]);
  });

  test('a missed vehicle and an extra one do not shift every crossing in between onto its neighbour', () => {
    // Hand counts at 10, 11, 12 s; we missed the 10 s one and counted an extra at 13 s.
    assert.deepEqual(matchByTime(at('in', 10, 11, 12), at('in', 11.05, 12.05, 13), 1.5), [
      [1, 0],
      [2, 1],
    ]);
  });

  test('a lone pair anywhere within the tolerance is matched; beyond it, never', () => {
    assert.deepEqual(matchByTime(at('in', 5), at('in', 6.45), 1.5), [[0, 0]]);
    assert.deepEqual(matchByTime(at('in', 5), at('in', 6.55), 1.5), []);
  });

  test('pairs need the same line, and the same direction where both give one', () => {
    const gt = [{ line: 'a', direction: 'forward', tS: 1 }, { line: 'b', tS: 2 }];
    const ours = [
      { line: 'a', direction: 'backward', tS: 1 },
      { line: 'b', direction: 'forward', tS: 2.1 },
      { line: 'a', direction: 'forward', tS: 1.2 },
    ];
    assert.deepEqual(matchByTime(gt, ours, 1.5), [
      [0, 2],
      [1, 1],
    ]);
  });

  test('a crossing labelled "no lane" keeps its partner but is left out of the figure', () => {
    const labels = [
      { index: 0, line: 'in', tS: 1, lane: null },
      { index: 1, line: 'in', tS: 1.3, lane: 'b' },
    ];
    const r = laneAgreement(labels, [{ line: 'in', direction: 'forward', tS: 1, laneId: 'a' }]);
    // Dropping the unlabelled crossing before matching would hand its partner (lane a) to the 1.3 s one.
    assert.deepEqual({ labelled: r.labelled, matched: r.matched, correct: r.correct }, { labelled: 1, matched: 0, correct: 0 });
  });

  test('volume per lane counts our crossings on the labelled lines inside the window, without matching', () => {
    const labels = [
      { index: 0, line: 'in', direction: 'forward', tS: 1, lane: 'a' },
      { index: 1, line: 'in', direction: 'forward', tS: 2, lane: 'b' },
      { index: 2, line: 'in', direction: 'forward', tS: 3, lane: null },
    ];
    const ours = [
      { line: 'in', direction: 'forward', tS: 0.8, laneId: 'b' },
      { line: 'in', direction: 'forward', tS: 9, laneId: 'b' }, // outside the window
      { line: 'in', direction: 'backward', tS: 2, laneId: 'a' }, // other direction
      { line: 'other', direction: 'forward', tS: 2, laneId: 'a' }, // unlabelled line
      { line: 'in', direction: 'forward', tS: 2.9, laneId: null },
    ];
    assert.deepEqual(laneVolumes(labels, ours, { fromS: 0, toS: 5 }), [
      { line: 'in', lane: 'a', labelled: 1, ours: 0 },
      { line: 'in', lane: 'b', labelled: 1, ours: 1 },
      { line: 'in', lane: 'none', labelled: 0, ours: 1 },
    ]);
  });

  test('lane agreement pairs by time and place: vehicles abreast within the hand times\' precision are told apart by their lanes', () => {
    const labels = [
      { index: 0, line: 'in', tS: 1, lane: 'left' },
      { index: 1, line: 'in', tS: 1.1, lane: 'right' },
    ];
    const ours = [
      { line: 'in', direction: 'forward', tS: 0.95, laneId: 'right' },
      { line: 'in', direction: 'forward', tS: 1.05, laneId: 'left' },
    ];
    // Hand times are good to ±0.2 s: 1.05 in the left lane is the left vehicle, 0.95 the right one.
    assert.deepEqual(pick(laneAgreement(labels, ours)), { matched: 2, correct: 2 });
    // Time alone keeps the order 1.0-0.95, 1.1-1.05 and calls both lanes wrong.
    assert.deepEqual(pick(laneAgreement(labels, ours, 'time')), { matched: 2, correct: 0 });
  });

  test('a crossing in the wrong lane still shows: alone, or apart from its neighbour by more than the hand times\' precision', () => {
    const alone = laneAgreement([{ index: 0, line: 'in', tS: 5, lane: 'left' }], [{ line: 'in', direction: 'forward', tS: 5.1, laneId: 'right' }]);
    assert.deepEqual(pick(alone), { matched: 1, correct: 0 });
    const labels = [
      { index: 0, line: 'in', tS: 1, lane: 'left' },
      { index: 1, line: 'in', tS: 1.5, lane: 'right' },
    ];
    const swapped = laneAgreement(labels, [
      { line: 'in', direction: 'forward', tS: 1.05, laneId: 'right' },
      { line: 'in', direction: 'forward', tS: 1.55, laneId: 'left' },
    ]);
    assert.deepEqual(pick(swapped), { matched: 2, correct: 0 });
    // A wrong lane and a missed neighbour: the crossing pairs with its own vehicle (0.1 s), not with the one it sits beside in lane.
    const missed = laneAgreement(labels, [{ line: 'in', direction: 'forward', tS: 1.1, laneId: 'right' }]);
    assert.deepEqual(pick(missed), { matched: 1, correct: 0 });
  });
});
