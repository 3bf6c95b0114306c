import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CameraAnalytics } from '../appliance/src/analytics/index.js';
import { MultiObjectTracker } from '../appliance/src/track/index.js';
import { CountIntervalData } from '../appliance/src/core/event-data.js';
import type { CameraConfig, CountingLineConfig } from '../appliance/src/config/schema.js';
import type { DomainEvent, FrameTracks, ObjectClass, Track } from '../appliance/src/core/types.js';
import { seededRandom } from '../appliance/src/track/synthetic.js';

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)) && /^\d{4}-\d\d-\d\dT/.test(v));

const W = 640;
const H = 360;
const T0 = Date.UTC(2024, 0, 1, 12, 0, 30); // 30 s into a minute: the first 60 s bin is partial

function camera(lines: CountingLineConfig[], extra: Partial<CameraConfig> = {}): CameraConfig {
  return {
    id: 'cam1',
    url: 'rtsp://example/stream',
    enabled: true,
    fps: 10,
    width: W,
    height: H,
    stallSeconds: 10,
    lines,
    zones: [],
    incidents: {} as CameraConfig['incidents'],
    ...extra,
  };
}
const hLine = (y: number, over: Partial<CountingLineConfig> = {}): CountingLineConfig => ({
  id: 'l1',
  from: { x: 0.1, y },
  to: { x: 0.9, y },
  minTravel: 0.02,
  ...over,
});

/** A confirmed track whose box bottom-centre is at (ax, ay) in relative coordinates. */
function track(id: number, ax: number, ay: number, cls: ObjectClass = 'car', vy = 0): Track {
  const w = 40;
  const h = 30;
  return {
    id,
    cls,
    box: { x: ax * W - w / 2, y: ay * H - h, w, h },
    score: 0.9,
    status: 'confirmed',
    velocity: { x: 0, y: vy * H },
    age: 1,
    hits: 1,
    firstSeenMs: T0,
  };
}
function ft(i: number, tracks: Track[], dtMs = 100): FrameTracks {
  return { cameraId: 'cam1', seq: i, timestampMs: T0 + i * dtMs, width: W, height: H, tracks };
}

/** Runs a scripted path (anchor y per frame) for one track and returns the line totals. */
function runPath(ys: number[], line: CountingLineConfig, opts: { x?: number; cls?: ObjectClass } = {}) {
  const a = new CameraAnalytics({ camera: camera([line]), binSeconds: [60], calibration: null });
  const events: DomainEvent[] = [];
  ys.forEach((y, i) => {
    // Velocity as the tracker reports it once a track is confirmed (known from the first frame here).
    const vy = i > 0 ? (y - ys[i - 1]!) * 10 : ys.length > 1 ? (ys[1]! - y) * 10 : 0;
    events.push(...a.process(ft(i, [track(1, opts.x ?? 0.5, y, opts.cls, vy)])));
  });
  events.push(...a.process(ft(ys.length, [])));
  events.push(...a.close(T0 + (ys.length + 1) * 100));
  return { totals: a.liveSummary().lines[0]!, events };
}
const ramp = (from: number, to: number, n: number) => Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));

describe('CountingLine', () => {
  test('counts a crossing once, forward along the left normal by default', () => {
    // from→to points right (+x); its left normal on screen points up (−y).
    assert.deepEqual(runPath(ramp(0.8, 0.2, 30), hLine(0.5)).totals, { lineId: 'l1', forward: 1, backward: 0 });
    assert.deepEqual(runPath(ramp(0.2, 0.8, 30), hLine(0.5)).totals, { lineId: 'l1', forward: 0, backward: 1 });
  });

  test('a configured direction vector decides what forward is', () => {
    assert.deepEqual(runPath(ramp(0.2, 0.8, 30), hLine(0.5, { direction: { x: 0, y: 1 } })).totals, { lineId: 'l1', forward: 1, backward: 0 });
    assert.throws(() => runPath([0.5], hLine(0.5, { direction: { x: 1, y: 0 } })), /parallel/);
  });

  test('uses the bottom-centre anchor, not the box centre', () => {
    // The box centre (15 px above the anchor = 0.042) crosses y=0.5, the anchor stays above it.
    assert.deepEqual(runPath(ramp(0.3, 0.49, 20), hLine(0.5)).totals.backward, 0);
    assert.deepEqual(runPath(ramp(0.3, 0.53, 20), hLine(0.5)).totals.backward, 1);
  });

  test('stop-and-go on the line counts once', () => {
    const rnd = seededRandom(1);
    const ys = [...ramp(0.3, 0.5, 15), ...Array.from({ length: 200 }, () => 0.5 + (rnd() - 0.5) * 0.03), ...ramp(0.5, 0.8, 15)];
    assert.deepEqual(runPath(ys, hLine(0.5)).totals, { lineId: 'l1', forward: 0, backward: 1 });
  });

  test('box flicker across the line within the hysteresis band never counts', () => {
    const ys = Array.from({ length: 300 }, (_, i) => 0.5 + (i % 2 ? 0.015 : -0.015));
    assert.deepEqual(runPath([0.4, 0.42, 0.45, ...ys, 0.46, 0.44], hLine(0.5)).totals, { lineId: 'l1', forward: 0, backward: 0 });
  });

  test('once per line and direction: a car going back and forth counts at most one each way', () => {
    const hold = (y: number) => Array.from({ length: 40 }, () => y);
    const ys = [...ramp(0.3, 0.7, 20), ...hold(0.7), ...ramp(0.7, 0.3, 20), ...ramp(0.3, 0.7, 20), ...ramp(0.7, 0.3, 20)];
    assert.deepEqual(runPath(ys, hLine(0.5)).totals, { lineId: 'l1', forward: 1, backward: 1 });
  });

  test('a vehicle back over its line within seconds of its count did not turn round and is not counted back; a person stepping back is', () => {
    // 1 s after its count the anchor is back over the line: a box growing at the bottom in spray, or
    // the track sliding onto the vehicle behind. No vehicle turns round over a line that fast.
    const quick = [...ramp(0.3, 0.7, 20), ...ramp(0.7, 0.3, 8)];
    // Down the picture is backward on this line (forward is the left normal of from → to).
    assert.deepEqual(runPath(quick, hLine(0.5)).totals, { lineId: 'l1', forward: 0, backward: 1 });
    assert.deepEqual(runPath(quick, hLine(0.5), { cls: 'person' }).totals, { lineId: 'l1', forward: 1, backward: 1 });
    // Back after 5 s (stopped past the line, then reversing or turning round): counted.
    const later = [...ramp(0.3, 0.7, 20), ...Array.from({ length: 50 }, () => 0.7), ...ramp(0.7, 0.3, 8)];
    assert.deepEqual(runPath(later, hLine(0.5)).totals, { lineId: 'l1', forward: 1, backward: 1 });
  });

  test('one vehicle boxed several times (the whole car, its lit rear, its roof) is counted once; vehicles abreast and scooters in a pack are each counted', () => {
    // Boxes in pixels moving down over a horizontal line at 0.5 (forward = up, so these are backward).
    const box = (id: number, cx: number, bottom: number, w: number, h: number, cls: ObjectClass = 'car'): Track => ({
      id, cls, box: { x: cx - w / 2, y: bottom - h, w, h }, score: 0.9, status: 'confirmed', velocity: { x: 0, y: 0.2 * H }, age: 1, hits: 1, firstSeenMs: T0,
    });
    const run = (shape: (dy: number) => Track[]) => {
      const a = new CameraAnalytics({ camera: camera([hLine(0.5)]), binSeconds: [60], calibration: null });
      for (let i = 0; i < 20; i++) a.process(ft(i, shape(0.3 * H + i * 0.02 * H)));
      a.process(ft(20, []));
      return a.liveSummary().lines[0]!.backward;
    };
    // The whole car, its rear (narrower, lower) and its roof (the top half): IoU with the whole 0.3–0.45.
    const triple = (y: number) => [box(1, 320, y, 72, 42), box(2, 312, y + 4, 38, 47), box(3, 318, y - 14, 55, 28)];
    assert.equal(run(triple), 1);
    // Two cars in adjacent lanes, and two scooters a box width apart: as many counts as vehicles.
    assert.equal(run((y) => [box(1, 250, y, 60, 40), box(2, 330, y, 60, 40)]), 2);
    assert.equal(run((y) => [box(1, 300, y, 20, 40, 'motorcycle'), box(2, 318, y, 20, 40, 'motorcycle')]), 2);
  });

  test('a track seen again across the line after a gap counts once it goes on across, not when it goes back (a lost track that took another vehicle\'s box)', () => {
    // uk-motorway-rain 1.5 s at 5 fps: a track lost above the line for 1.8 s took the box of a vehicle
    // below it, going up the picture: a backward "crossing" made by the jump alone.
    const run = (after: number[]) => {
      const a = new CameraAnalytics({ camera: camera([hLine(0.5)]), binSeconds: [60], calibration: null });
      const ys = [0.4, 0.41, 0.42, 0.43];
      let i = 0;
      for (const y of ys) a.process(ft(i++, [track(1, 0.5, y, 'car', 0.1)]));
      for (let k = 0; k < 18; k++) a.process(ft(i++, [{ ...track(1, 0.5, 0.43 + 0.001 * k, 'car', 0.01), status: 'lost' }]));
      for (const y of after) a.process(ft(i++, [track(1, 0.5, y, 'car', after.length > 1 ? (after[1]! - after[0]!) * 10 : 0)]));
      a.process(ft(i++, []));
      a.close(T0 + i * 100);
      return a.liveSummary().lines[0]!;
    };
    assert.deepEqual(run([0.58, 0.56, 0.54, 0.52]), { lineId: 'l1', forward: 0, backward: 0 }, 'seen again below the line, then going up: not a crossing');
    assert.deepEqual(run([0.58, 0.6, 0.62, 0.64]), { lineId: 'l1', forward: 0, backward: 1 }, 'going on down: a vehicle lost in spray that crossed');
    assert.deepEqual(run([0.58]), { lineId: 'l1', forward: 0, backward: 1 }, 'the track ends at once, not gone back: counted');
  });

  test('a vehicle lost just before the line whose predicted box goes on across counts when its track ends unseen; not when seen again on its side, when the prediction lost its size, when another track counted it, or when it was lost inside another road user', () => {
    // uk-motorway-rain 16.0-16.6 s at 5 fps (640x360), line away-mid at row 172 (forward = up the
    // picture): a car boxed twice below the line, then lost in spray; the tracker's prediction
    // goes on up over the line, and the car is never boxed again (its re-found box started a new
    // track past the line, which cannot be counted there).
    const line = hLine(172 / 360, { from: { x: 0.0312, y: 172 / 360 }, to: { x: 0.5, y: 172 / 360 }, direction: { x: 0, y: -1 } });
    const px = (id: number, status: Track['status'], x: number, y: number, w: number, h: number, vy = -135, score = 0.4): Track => ({
      id, cls: 'car', box: { x, y, w, h }, score, status, velocity: { x: 50, y: vy }, age: 1, hits: 2, firstSeenMs: T0,
    });
    const count = (frames: Track[][]) => {
      const a = new CameraAnalytics({ camera: camera([line]), binSeconds: [60], calibration: null });
      frames.forEach((tracks, i) => a.process(ft(i, tracks, 200)));
      a.process(ft(frames.length, [], 200));
      a.close(T0 + 200 * (frames.length + 1));
      return a.liveSummary().lines[0]!;
    };
    const seen = [[px(1, 'confirmed', 233, 156, 43, 47)], [px(1, 'confirmed', 247, 140, 28, 30)]];
    const lost = [[px(1, 'lost', 257, 123, 18, 20)], [px(1, 'lost', 268, 105, 9, 9)]];
    const up = (n: number) => ({ lineId: 'l1', forward: n, backward: 0 });
    assert.deepEqual(count([...seen, ...lost]), up(1), 'as recorded: counted when the track ends');
    assert.deepEqual(count([...seen, ...lost, [px(1, 'confirmed', 250, 160, 30, 32, 0)]]), up(0), 'seen again below the line: not across');
    assert.deepEqual(count([...seen, [px(1, 'lost', 262, 134, 9, 9)]]), up(0), 'the prediction shrank to a third: not where the car is');
    const reborn = [[px(2, 'confirmed', 250, 150, 26, 28)], [px(2, 'confirmed', 255, 128, 22, 24)], [px(2, 'confirmed', 260, 105, 20, 22)]];
    assert.deepEqual(count([...seen, [...lost[0]!, ...reborn[0]!], [...lost[1]!, ...reborn[1]!], reborn[2]!]), up(1), 'found again by a new track that crossed: one count');
    const later = [[px(2, 'confirmed', 250, 165, 26, 28)], [px(2, 'confirmed', 255, 150, 24, 26)], [px(2, 'confirmed', 260, 128, 22, 24)], [px(2, 'confirmed', 262, 105, 20, 22)]];
    assert.deepEqual(count([...seen, ...lost, ...later]), up(1), 'found again by a new track that crosses after the lost one ended: one count');
    // Another vehicle over the same stretch, across the line before the lost one's last box (uk 4.2 s): both count.
    const ahead = [px(3, 'confirmed', 250, 157, 30, 38, -135, 0.9), px(3, 'confirmed', 250, 112, 30, 38, -135, 0.9), px(3, 'confirmed', 250, 80, 30, 38, -135, 0.9)];
    assert.deepEqual(count([[ahead[0]!], [...seen[0]!, ahead[1]!], [...seen[1]!, ahead[2]!], ...lost]), up(2), 'a vehicle just ahead over the same stretch: both counted');
    // Lost while its box lay inside another road user's box (cdnet-highway 51 s: a van's roof rack
    // boxed on its own, the van's own box counted before it): only the van.
    const van = [[225, 145], [225, 90], [235, 75], [240, 55], [245, 35]].map(([x, y]) => px(2, 'confirmed', x!, y!, 65, 70 + (y! < 80 ? 20 : 0), -135, 0.9));
    assert.deepEqual(count([[van[0]!], [...seen[0]!, van[1]!], [...seen[1]!, van[2]!], [...lost[0]!, van[3]!], [...lost[1]!, van[4]!]]), up(1), 'inside the van: only the van');
  });

  test('a line near the bottom edge counts vehicles that leave the frame right after it', () => {
    // Line at 0.985: the anchor can only get 0.015 past it before leaving the frame.
    const ys = [...ramp(0.8, 1.0, 25)];
    assert.deepEqual(runPath(ys, hLine(0.985)).totals, { lineId: 'l1', forward: 0, backward: 1 });
    // ...but jitter right at the line does not double count.
    const jitter = Array.from({ length: 100 }, (_, i) => 0.985 + (i % 2 ? 0.004 : -0.004));
    const r = runPath([...ramp(0.8, 0.98, 10), ...jitter, 1.0, 1.0], hLine(0.985));
    assert.equal(r.totals.backward, 1);
    assert.equal(r.totals.forward, 0);
  });

  test('a line near the top edge counts vehicles first seen just past it', () => {
    // Vehicles enter at the top; their anchor is first seen at y≈0.05, already past a line at 0.02.
    assert.deepEqual(runPath(ramp(0.05, 0.5, 20), hLine(0.02)).totals, { lineId: 'l1', forward: 0, backward: 1 });
    // A car parked just past the line (not heading across) is not counted.
    assert.deepEqual(runPath(Array(50).fill(0.05), hLine(0.02)).totals, { lineId: 'l1', forward: 0, backward: 0 });
  });

  test('a lane cut by the side edge: a vehicle that comes in through it already past the line counts; one appearing mid-frame does not', () => {
    // Line y=0.6 from x=0.6 to the right edge; the vehicle drives up and left, coming in at the right edge.
    const line = hLine(0.6, { from: { x: 0.6, y: 0.6 }, to: { x: 1, y: 0.6 } });
    const diag = (x0: number, y0: number, n: number) => {
      const a = new CameraAnalytics({ camera: camera([line]), binSeconds: [60], calibration: null });
      for (let i = 0; i < n; i++) {
        const x = x0 - 0.02 * i;
        const y = y0 - 0.04 * i;
        a.process(ft(i, [{ ...track(1, x, y), velocity: { x: -0.2 * W, y: -0.4 * H } }]));
      }
      return a.liveSummary().lines[0];
    };
    // First seen at x=0.98, 0.02 above the line: its path back meets the right edge below the line.
    assert.deepEqual(diag(0.98, 0.58, 8), { lineId: 'l1', forward: 1, backward: 0 });
    // First seen mid-frame (x=0.8) past the line: a track re-born after an occlusion, not counted.
    assert.deepEqual(diag(0.8, 0.56, 8), { lineId: 'l1', forward: 0, backward: 0 });
  });

  test('crossings outside the segment and of other classes do not count', () => {
    assert.equal(runPath(ramp(0.3, 0.7, 20), hLine(0.5), { x: 0.95 }).totals.backward, 0);
    assert.equal(runPath(ramp(0.3, 0.7, 20), hLine(0.5, { classes: ['truck', 'bus'] })).totals.backward, 0);
    assert.equal(runPath(ramp(0.3, 0.7, 20), hLine(0.5, { classes: ['truck', 'bus'] }), { cls: 'truck' }).totals.backward, 1);
  });
});

describe('a crossing: when, where, and of which class', () => {
  test("its time and place are where the anchor's path met the line, between the two frames either side (not the frame that confirmed it)", () => {
    // 5 fps: anchor at y 0.40, 0.46, 0.58, 0.70 on a line at y 0.5; it moves right along x too.
    const crossings: Array<{ tMs: number; at: { x: number; y: number }; laneId: string | null }> = [];
    const a = new CameraAnalytics({ camera: camera([hLine(0.5)]), binSeconds: [60], calibration: null, onCrossing: (c) => crossings.push(c) });
    const path = [
      [0.3, 0.4],
      [0.32, 0.46],
      [0.38, 0.58],
      [0.44, 0.7],
    ] as const;
    path.forEach(([x, y], i) => a.process(ft(i, [track(1, x, y, 'car', 0.3)], 200)));
    a.close(T0 + 1000);
    assert.equal(crossings.length, 1);
    // Between frame 1 (0.46, t 200 ms) and frame 2 (0.58, 400 ms): a third of the way, at 266.7 ms.
    assert.ok(Math.abs(crossings[0]!.tMs - (T0 + 200 + 200 / 3)) < 1, `${crossings[0]!.tMs - T0}`);
    assert.ok(Math.abs(crossings[0]!.at.x - (0.32 + 0.06 / 3)) < 1e-6 && crossings[0]!.at.y === 0.5, JSON.stringify(crossings[0]!.at));
  });

  test('a vehicle first seen on the line (found late by the detector) and leaving it across is counted; at the start of the stream, only one seen going over the line itself', () => {
    const run = (firstFrame: number, firstY = 0.49) => {
      const crossings: Array<{ tMs: number; direction: string }> = [];
      const a = new CameraAnalytics({ camera: camera([hLine(0.5)]), binSeconds: [60], calibration: null, onCrossing: (c) => crossings.push(c) });
      // 5 fps; the stream starts at frame 0; the vehicle's first box is at frame `firstFrame`, 0.01 above the
      // line (inside the 0.02 band), then it moves down 0.06 per frame.
      for (let i = 0; i < firstFrame + 6; i++) {
        const k = i - firstFrame;
        const tracks = k < 0 ? [] : [{ ...track(1, 0.5, firstY + k * 0.06, 'car', 0.3), firstSeenMs: T0 + firstFrame * 200 }];
        a.process(ft(i, tracks, 200));
      }
      a.close(T0 + 5000);
      return crossings;
    };
    const late = run(3);
    assert.deepEqual(late.map((c) => c.direction), ['backward'], 'down the image is backward on this line');
    // Its path met the line between its first box (0.49) and the next (0.55): a sixth of the way.
    assert.ok(Math.abs(late[0]!.tMs - (T0 + 600 + 200 / 6)) < 1, `${late[0]!.tMs - T0}`);
    // In the band when the stream starts: nobody saw it arrive, but its ground point going over the
    // line (0.49 → 0.55) was seen: counted. One already past the line (0.51) when the stream started
    // crossed before it (wsdot's first car): not counted.
    assert.deepEqual(run(0).map((c) => c.direction), ['backward'], 'before the line at the first frame, then over it');
    assert.deepEqual(run(0, 0.51), [], 'past the line at the first frame of the stream');
  });

  test('a confident vehicle first seen on the line whose box swells backwards before it moves on is counted once, the way it goes', () => {
    const crossings: string[] = [];
    const a = new CameraAnalytics({ camera: camera([hLine(0.5)]), binSeconds: [60], calibration: null, onCrossing: (c) => crossings.push(c.direction) });
    // 5 fps, score 0.9. Born at frame 3 at 0.49 (in the band, above the line), its bottom edge jumps up to
    // 0.46 (out of the band, backward side, "moving" up), then the vehicle goes on down the image.
    const ys = [0.49, 0.46, 0.47, 0.53, 0.59, 0.65, 0.71, 0.77];
    for (let i = 0; i < 3 + ys.length; i++) {
      const k = i - 3;
      const y = ys[k];
      const vy = k > 0 && y !== undefined ? (y - ys[k - 1]!) * 5 : 0;
      a.process(ft(i, y === undefined ? [] : [{ ...track(1, 0.5, y, 'car', vy), firstSeenMs: T0 + 600 }], 200));
    }
    a.close(T0 + 5000);
    assert.deepEqual(crossings, ['backward']);
  });

  test('a rider whose box made a track of its own beside its bicycle is not counted as a pedestrian; a pedestrian is', () => {
    const run = (personLagFrames: number, personDx: number) => {
      const a = new CameraAnalytics({ camera: camera([hLine(0.5)]), binSeconds: [60], calibration: null });
      const events: DomainEvent[] = [];
      for (let i = 0; i < 30; i++) {
        const tracks: Track[] = [];
        const yb = 0.3 + i * 0.03;
        if (yb < 0.8) tracks.push(track(1, 0.4, yb, 'bicycle', 0.3));
        const k = i - personLagFrames;
        const yp = 0.3 + k * 0.03 - 0.01;
        if (k >= 0 && yp < 0.8) tracks.push(track(2, 0.4 + personDx, yp, 'person', 0.3));
        events.push(...a.process(ft(i, tracks)));
      }
      events.push(...a.close(T0 + 4000));
      return (events.filter((e) => e.type === 'count.interval') as DomainEvent<CountIntervalData>[]).flatMap((e) => e.data.counts.filter((c) => c.count !== 0).map((c) => `${c.cls} ${c.count}`));
    };
    assert.deepEqual(run(0, 0.01), ['bicycle 1'], 'the rider crosses with its bicycle');
    assert.deepEqual(run(20, 0.01), ['bicycle 1', 'person 1'], 'two seconds later, at the same place: a pedestrian');
    assert.deepEqual(run(0, 0.3), ['bicycle 1', 'person 1'], 'at the same moment, far along the line: a pedestrian');
  });

  test('a bicycle boxed as a car under its rider is one two-wheeler; a car with a scooter in front of it, or a wide car, is not', () => {
    // Pixel boxes moving down over a horizontal line at 0.5 (backward), as recorded at campus-crosswalk
    // 11.2 s: the bicycle itself boxed 'car' (45×32), the rider's track (20×37) named bicycle, its head
    // well above the car box's top and its wheels inside it.
    const box = (id: number, cls: ObjectClass, cx: number, bottom: number, w: number, h: number): Track => ({
      id, cls, box: { x: cx - w / 2, y: bottom - h, w, h }, score: 0.6, status: 'confirmed', velocity: { x: 0, y: 0.2 * H }, age: 1, hits: 1, firstSeenMs: T0,
    });
    const run = (pair: (y: number) => Track[], carFrames = 20, wheelFrames = 20) => {
      const a = new CameraAnalytics({ camera: camera([hLine(0.5)]), binSeconds: [60], calibration: null });
      const events: DomainEvent[] = [];
      for (let i = 0; i < 24; i++) {
        const [car, wheel] = pair(0.3 * H + i * 0.02 * H);
        events.push(...a.process(ft(i, [...(i < carFrames && car ? [car] : []), ...(i < wheelFrames && wheel ? [wheel] : [])])));
      }
      events.push(...a.close(T0 + 4000));
      return (events.filter((e) => e.type === 'count.interval') as DomainEvent<CountIntervalData>[]).flatMap((e) => e.data.counts.filter((c) => c.count !== 0).map((c) => `${c.cls} ${c.count}`));
    };
    const riddenFrame = (y: number) => [box(1, 'car', 340, y, 45, 32), box(2, 'bicycle', 345, y - 5, 20, 37)];
    assert.deepEqual(run(riddenFrame), ['bicycle 1'], 'frame and rider: one bicycle');
    assert.deepEqual(run(riddenFrame, 18, 22), ['bicycle 1'], 'the frame track ends first');
    assert.deepEqual(run(riddenFrame, 22, 18), ['bicycle 1'], 'the rider track ends first');
    // A scooter just in front of a car (jakarta-scooters 10.9 s): its top is below the car's roof.
    assert.deepEqual(run((y) => [box(1, 'car', 340, y, 45, 42), box(2, 'motorcycle', 345, y + 2, 29, 30)]).sort(), ['car 1', 'motorcycle 1']);
    // A car three riders wide with a cyclist over it in the image: two road users.
    assert.deepEqual(run((y) => [box(1, 'car', 340, y, 70, 32), box(2, 'bicycle', 345, y - 5, 20, 37)]).sort(), ['bicycle 1', 'car 1']);
  });

  test("its class is the track's vote when the track ends: a count moves with a vote that turns after the line, inside the open interval", () => {
    const a = new CameraAnalytics({ camera: camera([hLine(0.5)]), binSeconds: [60], calibration: null, onCrossing: (c) => crossings.push(c.cls) });
    const crossings: ObjectClass[] = [];
    const events: DomainEvent[] = [];
    // A scooter first named 'car', crossing at frame 3; its vote turns to motorcycle at frame 6.
    for (let i = 0; i < 10; i++) events.push(...a.process(ft(i, [track(1, 0.5, 0.35 + i * 0.05, i < 6 ? 'car' : 'motorcycle', 0.5)])));
    assert.deepEqual(crossings, [], 'not reported while the track lives');
    events.push(...a.process(ft(10, [])));
    assert.deepEqual(crossings, ['motorcycle'], 'reported with the final vote when the track ends');
    events.push(...a.close(T0 + 2000));
    const counts = events.filter((e) => e.type === 'count.interval') as DomainEvent<CountIntervalData>[];
    assert.deepEqual(counts.flatMap((e) => e.data.counts.filter((c) => c.count !== 0)), [{ direction: 'backward', cls: 'motorcycle', count: 1 }]);
  });

  test('an interval that closes settles its crossings: a vote that turns later leaves the emitted interval and the next one alone', () => {
    const crossings: ObjectClass[] = [];
    const a = new CameraAnalytics({ camera: camera([hLine(0.5)]), binSeconds: [60], calibration: null, onCrossing: (c) => crossings.push(c.cls) });
    const events: DomainEvent[] = [];
    // T0 is hh:00:30; frames 1 s apart: crossing at ~t 25 s, the minute closes at t 30 s, the vote turns at t 32 s.
    for (let sec = 20; sec < 36; sec++) events.push(...a.process(ft(sec, [track(1, 0.5, 0.25 + (sec - 20) * 0.04, sec < 32 ? 'car' : 'motorcycle', 0.04)], 1000)));
    assert.deepEqual(crossings, ['car'], 'settled as it stood when its interval closed');
    events.push(...a.close(T0 + 40_000));
    const counts = (events.filter((e) => e.type === 'count.interval') as DomainEvent<CountIntervalData>[]).map((e) => e.data.counts.filter((c) => c.count !== 0));
    assert.deepEqual(counts, [[{ direction: 'backward', cls: 'car', count: 1 }], []]);
  });
});

describe('count.interval bins', () => {
  test('bins are wall-clock aligned, emitted when a frame passes their end, zero bins included, gaps not invented', () => {
    const a = new CameraAnalytics({ camera: camera([hLine(0.5)]), binSeconds: [60, 900], calibration: null });
    const events: DomainEvent[] = [];
    // 1 frame per second for 150 s (T0 is hh:00:30); one car crosses at ~t=10 s and two at ~t=70 s.
    for (let s = 0; s < 150; s++) {
      const tracks: Track[] = [];
      if (s >= 5 && s < 15) tracks.push(track(1, 0.5, 0.3 + (s - 5) * 0.04, 'car', 0.04));
      if (s >= 65 && s < 75) tracks.push(track(2, 0.3, 0.7 - (s - 65) * 0.04, 'truck', -0.04), track(3, 0.6, 0.3 + (s - 65) * 0.04, 'car', 0.04));
      events.push(...a.process(ft(s, tracks, 1000)));
    }
    // A 200 s outage, then frames resume.
    for (let s = 350; s < 360; s++) events.push(...a.process(ft(s, [], 1000)));
    const counts = events.filter((e) => e.type === 'count.interval') as DomainEvent<CountIntervalData>[];
    for (const e of counts) assert.ok(Value.Check(CountIntervalData, e.data), JSON.stringify([...Value.Errors(CountIntervalData, e.data)]));
    const minute = counts.filter((e) => e.data.binSeconds === 60);
    assert.deepEqual(
      minute.map((e) => e.data.intervalStart),
      ['2024-01-01T12:00:30.000Z', '2024-01-01T12:01:00.000Z', '2024-01-01T12:02:00.000Z'],
      'the partial first minute (from the first frame), then full minutes; the minutes of the outage are absent',
    );
    assert.deepEqual(minute.map((e) => e.data.partial ?? false), [true, false, false]);
    assert.deepEqual(minute.map((e) => e.data.flags), [['partial'], undefined, undefined]);
    const nonZero = (e: DomainEvent<CountIntervalData>) => e.data.counts.filter((c) => c.count > 0);
    assert.deepEqual(nonZero(minute[0]!), [{ direction: 'backward', cls: 'car', count: 1 }]);
    assert.deepEqual(nonZero(minute[1]!), [
      { direction: 'backward', cls: 'car', count: 1 },
      { direction: 'forward', cls: 'truck', count: 1 },
    ]);
    assert.deepEqual(nonZero(minute[2]!), [], 'a minute with frames but no crossing is emitted with zero counts');
    assert.equal(minute[2]!.data.counts.length, 12, 'explicit zeros: every direction × class');
    assert.equal(minute[0]!.timeMs, Date.UTC(2024, 0, 1, 12, 1, 0));
    assert.equal(minute[0]!.data.meanSpeedKmh, null, 'no calibration, no speed');
    assert.equal(counts.filter((e) => e.data.binSeconds === 900).length, 0, 'the quarter hour is still open');
    const flushed = a.close(T0 + 360_000).filter((e) => e.type === 'count.interval') as DomainEvent<CountIntervalData>[];
    assert.deepEqual(
      flushed.map((e) => [e.data.binSeconds, e.data.intervalStart]),
      [
        [60, '2024-01-01T12:06:00.000Z'],
        [900, '2024-01-01T12:00:30.000Z'],
      ],
    );
    // A flush ends the running intervals now, never in the future, and marks them partial.
    for (const e of flushed) {
      assert.equal(e.data.intervalEnd, '2024-01-01T12:06:30.000Z');
      assert.equal(e.data.partial, true);
      assert.ok(e.timeMs <= T0 + 360_000);
    }
    const quarter = flushed[1]!.data.counts;
    assert.equal(quarter.reduce((s, c) => s + c.count, 0), 3);
  });
});

describe('tracker + lines end to end', () => {
  test('noisy detections of cars in two directions are counted exactly', () => {
    const trk = new MultiObjectTracker();
    const a = new CameraAnalytics({ camera: camera([{ id: 'v', from: { x: 0.5, y: 0.05 }, to: { x: 0.5, y: 0.95 }, minTravel: 0.02 }]), binSeconds: [60], calibration: null });
    const rnd = seededRandom(5);
    const j = () => (rnd() - 0.5) * 4;
    // 10 cars rightwards in the upper lane, 7 leftwards in the lower lane, 10 fps, 8 % missed detections.
    const cars = [
      ...Array.from({ length: 10 }, (_, k) => ({ y: 80, x0: -60 - k * 260, v: 150 })),
      ...Array.from({ length: 7 }, (_, k) => ({ y: 220, x0: 700 + k * 330, v: -170 })),
    ];
    for (let i = 0; i < 300; i++) {
      const t = i / 10;
      const detections = cars
        .map((c) => ({ x: c.x0 + c.v * t, y: c.y }))
        .filter((p) => p.x > -50 && p.x < W - 10 && rnd() > 0.08)
        .map((p) => {
          const x0 = Math.max(0, p.x + j());
          const x1 = Math.min(W, p.x + 60 + j());
          return { box: { x: x0, y: p.y + j(), w: x1 - x0, h: 40 + j() }, cls: 'car' as const, score: 0.6 + rnd() * 0.3 };
        })
        .filter((d) => d.box.w > 8);
      a.process(trk.process({ cameraId: 'cam1', seq: i, timestampMs: T0 + i * 100, width: W, height: H, detections }));
    }
    const totals = a.liveSummary().lines[0];
    // from→to points down: the left normal on screen points right (+x).
    assert.deepEqual(totals, { lineId: 'v', forward: 10, backward: 7 });
  });
});
