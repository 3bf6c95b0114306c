import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MultiObjectTracker, assign } from '../appliance/src/track/index.js';
import { DEFAULT_TRACKER_OPTIONS } from '../appliance/src/track/tracker.js';
import { DEFAULT_REFIND, extendTrail, refindCost, trailVelocity } from '../appliance/src/track/refind.js';
import { DEFAULT_SIZE_CLASS, RollingMedian, VehicleSizeModel, heavyBySize, median, narrowBySize } from '../appliance/src/track/size-class.js';
import { SyntheticScene, seededRandom } from '../appliance/src/track/synthetic.js';
import type { Box, Detection, FrameDetections, ObjectClass, Track } from '../appliance/src/core/types.js';

function frame(seq: number, tMs: number, detections: Detection[], width = 640, height = 360): FrameDetections {
  return { cameraId: 'cam1', seq, timestampMs: tMs, width, height, detections };
}
const det = (x: number, y: number, w: number, h: number, score = 0.9, cls: ObjectClass = 'car'): Detection => ({ box: { x, y, w, h }, cls, score });

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

describe('assign (Hungarian)', () => {
  test('finds the minimum-cost assignment, checked against brute force', () => {
    const rnd = seededRandom(7);
    for (let trial = 0; trial < 200; trial++) {
      const rows = 1 + Math.floor(rnd() * 5);
      const cols = 1 + Math.floor(rnd() * 5);
      const cost = Array.from({ length: rows }, () => Array.from({ length: cols }, () => rnd()));
      const maxCost = 0.7;
      const r = assign(cost, maxCost);
      // Objective as lapjv with cost_limit: matched cost + maxCost/2 per unmatched row and column.
      const objective = (pairs: Array<[number, number]>) => pairs.reduce((s, [i, j]) => s + cost[i]![j]!, 0) + ((rows + cols - 2 * pairs.length) * maxCost) / 2;
      let best = Infinity;
      const search = (i: number, used: Set<number>, acc: Array<[number, number]>) => {
        if (i === rows) {
          best = Math.min(best, objective(acc));
          return;
        }
        search(i + 1, used, acc);
        for (let j = 0; j < cols; j++) {
          if (used.has(j) || cost[i]![j]! > maxCost) continue;
          used.add(j);
          search(i + 1, used, [...acc, [i, j]]);
          used.delete(j);
        }
      };
      search(0, new Set(), []);
      assert.ok(Math.abs(objective(r.matches) - best) < 1e-9, `trial ${trial}: got ${objective(r.matches)}, best ${best}`);
      for (const [i, j] of r.matches) assert.ok(cost[i]![j]! <= maxCost);
      assert.equal(r.matches.length + r.unmatchedRows.length, rows);
      assert.equal(r.matches.length + r.unmatchedCols.length, cols);
    }
  });

  test('prefers the globally best pairing over greedy', () => {
    // Greedy by lowest cost takes (0,0)=0.1 and then must leave row 1 unmatched; Hungarian pairs both.
    const r = assign(
      [
        [0.1, 0.2],
        [0.15, 0.9],
      ],
      0.5,
    );
    assert.deepEqual(r.matches, [
      [0, 1],
      [1, 0],
    ]);
  });
});

describe('MultiObjectTracker', () => {
  test('one moving object keeps one id; velocity is in px/s from timestamps', () => {
    const trk = new MultiObjectTracker();
    const ids = new Set<number>();
    let last;
    for (let i = 0; i < 40; i++) {
      const t = 1_000_000 + i * 100; // 10 fps
      const out = trk.process(frame(i, t, [det(50 + i * 12, 100, 60, 40)])); // 120 px/s
      for (const tr of out.tracks) ids.add(tr.id);
      last = out;
    }
    assert.equal(ids.size, 1);
    const tr = last!.tracks[0]!;
    assert.equal(tr.status, 'confirmed');
    assert.ok(Math.abs(tr.velocity.x - 120) < 6, `vx ${tr.velocity.x}`);
    assert.ok(Math.abs(tr.velocity.y) < 3, `vy ${tr.velocity.y}`);
    assert.equal(tr.hits, 40);
    assert.equal(tr.firstSeenMs, 1_000_000);
  });

  test('a track is output only once confirmed after minHits hits (when not handed on from its first box)', () => {
    const trk = new MultiObjectTracker({ minHits: 3, visibleFromFirstBox: false });
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) seen.push(trk.process(frame(i, i * 100, [det(100 + i * 5, 100, 50, 30)])).tracks.length);
    assert.deepEqual(seen, [0, 0, 1, 1, 1]);
    const withTentative = new MultiObjectTracker({ minHits: 3, outputTentative: true, visibleFromFirstBox: false });
    const first = withTentative.process(frame(0, 0, [det(100, 100, 50, 30)]));
    assert.equal(first.tracks[0]!.status, 'tentative');
  });

  test('a vehicle is handed on from its first box, but a tentative track still ends at its first miss; a person waits for confirmation', () => {
    const trk = new MultiObjectTracker({ minHits: 3 });
    const first = trk.process(frame(0, 0, [det(100, 100, 50, 30), det(300, 100, 20, 50, 0.9, 'person')]));
    assert.deepEqual(first.tracks.map((t) => [t.cls, t.status]), [['car', 'confirmed']]);
    // Unmatched before its third hit: gone, not lost (it was still tentative inside the tracker).
    assert.equal(trk.process(frame(1, 200, [])).tracks.length, 0);
    assert.equal(trk.stateSize(), 0);
  });

  test('a one-frame false positive never becomes a track', () => {
    const trk = new MultiObjectTracker();
    trk.process(frame(0, 0, [det(300, 200, 40, 30)]));
    for (let i = 1; i < 10; i++) assert.equal(trk.process(frame(i, i * 100, [])).tracks.length, 0);
    assert.equal(trk.stateSize(), 0);
  });

  test('low-score detections keep a confirmed track alive (second association stage)', () => {
    const trk = new MultiObjectTracker({ highScore: 0.5, lowScore: 0.1 });
    const scores = [0.9, 0.9, 0.9, 0.9, 0.2, 0.2, 0.2, 0.2, 0.9, 0.9];
    const statuses: string[] = [];
    const ids = new Set<number>();
    scores.forEach((s, i) => {
      const out = trk.process(frame(i, i * 100, [det(100 + i * 8, 100, 50, 30, s)]));
      for (const t of out.tracks) {
        ids.add(t.id);
        statuses.push(t.status);
      }
    });
    assert.equal(ids.size, 1);
    assert.ok(statuses.slice(2).every((s) => s === 'confirmed'), statuses.join(','));
    // Low-score detections alone never start a track.
    const fresh = new MultiObjectTracker({ highScore: 0.5, lowScore: 0.1, newTrackScore: 0.5 });
    for (let i = 0; i < 10; i++) fresh.process(frame(i, i * 100, [det(100, 100, 50, 30, 0.3)]));
    assert.equal(fresh.stateSize(), 0);
  });

  test('lost tracks are kept maxLostFrames frames, re-found with the same id, then removed', () => {
    const trk = new MultiObjectTracker({ maxLostFrames: 5 });
    let id = -1;
    for (let i = 0; i < 5; i++) id = trk.process(frame(i, i * 100, [det(100 + i * 10, 100, 50, 30)])).tracks[0]?.id ?? id;
    // Missing 3 frames: lost, predicted forward.
    for (let i = 5; i < 8; i++) {
      const out = trk.process(frame(i, i * 100, []));
      assert.equal(out.tracks.length, 1);
      assert.equal(out.tracks[0]!.status, 'lost');
      assert.ok(out.tracks[0]!.box.x > 100 + 4 * 10, 'prediction moves on');
    }
    const back = trk.process(frame(8, 800, [det(180, 100, 50, 30)]));
    assert.equal(back.tracks[0]!.id, id);
    assert.equal(back.tracks[0]!.status, 'confirmed');
    // Now gone for good.
    for (let i = 9; i <= 14; i++) trk.process(frame(i, i * 100, []));
    assert.equal(trk.stateSize(), 0);
    assert.equal(trk.process(frame(15, 1500, [])).tracks.length, 0);
  });

  test('at 5 fps a lost track lives maxLostSeconds, not 30 frames (6 s): it does not take a passer-by 6 s later', () => {
    // A slow walker lost at frame 5 (jakarta-scooters #31, 11.4 s), a rider's box near its prediction 5 s later.
    const run = (maxLostSeconds: number | null) => {
      const trk = new MultiObjectTracker({ maxLostSeconds, refind: null, maxJump: null });
      let id = -1;
      for (let i = 0; i < 5; i++) id = trk.process(frame(i, i * 200, [det(300, 100 + i * 6, 30, 40, 0.6)])).tracks[0]?.id ?? id;
      for (let i = 5; i < 30; i++) trk.process(frame(i, i * 200, []));
      const later = trk.process(frame(30, 30 * 200, [det(300, 100 + 30 * 6, 30, 40, 0.6)])).tracks;
      return later.some((t) => t.id === id);
    };
    assert.equal(run(null), true, 'without it, 25 frames lost and taken back');
    assert.equal(run(3), false);
  });

  test('a second box inside a tracked road user of the same kind starts no track (campus-crosswalk 11.0 s: a cyclist and its upper body); another kind, or a box half outside, does', () => {
    // A tracked rider (26x43) moving right; from frame 5 the detector also boxes its upper body (16x31) inside it.
    const tracksOf = (inner: (x: number) => Detection, nestedBirth: number | null, outer: ObjectClass = 'person') => {
      const trk = new MultiObjectTracker({ nestedBirth, nestedTrack: null });
      const ids = new Set<number>();
      for (let i = 0; i < 12; i++) {
        const x = 100 + 12 * i;
        const dets = [outer === 'person' ? det(x, 178, 26, 43, 0.6, 'person') : det(x - 10, 170, 60, 60, 0.6, outer), ...(i >= 5 ? [inner(x)] : [])];
        for (const t of trk.process(frame(i, i * 200, dets)).tracks) if (t.status === 'confirmed') ids.add(t.id);
      }
      return ids.size;
    };
    const upperBody = (x: number) => det(x + 1, 178, 16, 31, 0.3, 'person');
    assert.equal(tracksOf(upperBody, 0.9), 1);
    assert.equal(tracksOf(upperBody, null), 2, 'without it, a second track (and a second count)');
    assert.equal(tracksOf((x) => det(x + 2, 190, 20, 30, 0.3, 'motorcycle'), 0.9, 'car'), 2, 'a scooter in front of a car is boxed inside it: another kind');
    assert.equal(tracksOf((x) => det(x + 2, 190, 20, 30, 0.3, 'car'), 0.9, 'car'), 1, 'a car inside a car');
    assert.equal(tracksOf((x) => det(x + 14, 178, 26, 31, 0.3, 'person'), 0.9), 2, 'half outside: a person beside it');
  });

  test("a younger track whose box stays inside a longer-seen track's box of the same kind is a part of it and ends (cdnet-highway 8.4 s: a box truck's cab); another kind, or an older one, stays", () => {
    // A box truck (confirmed from frame 0) and its cab, first boxed at frame 2 sticking out of the
    // truck's top (the top edge), then inside it; both move down the picture together.
    const run = (nestedTrack: number | null, cabCls: ObjectClass = 'car', cabFirst = false, cabStill = false) => {
      const trk = new MultiObjectTracker({ nestedTrack });
      const alive: number[] = [];
      for (let i = 0; i < 12; i++) {
        const y = 20 + 8 * i;
        const truck = det(200, y, 120, 90, 0.8);
        const cab = cabStill ? det(220, 70, 80, 50, 0.5, cabCls) : det(220, i < 5 ? y - 12 : y + 4, 80, 50, 0.5, cabCls);
        const dets = cabFirst ? [cab, ...(i >= 2 ? [truck] : [])] : [truck, ...(i >= 2 ? [cab] : [])];
        const out = trk.process(frame(i, i * 200, dets));
        alive.push(out.tracks.filter((t) => t.status === 'confirmed').length);
      }
      return alive.at(-1);
    };
    assert.equal(run(2), 1, 'the cab ends once inside the truck for two frames (and is not born again: nestedBirth)');
    assert.equal(run(null), 2, 'without it, two vehicles');
    assert.equal(run(2, 'person'), 2, 'a person in front of a lorry is not a part of it');
    assert.equal(run(2, 'car', true), 2, 'a big box around a car seen longer (two vehicles boxed as one) does not end the car');
    assert.equal(run(2, 'car', false, true), 2, 'a vehicle standing still that the truck passes over in the picture is not a part of it');
  });

  test('keeps ids of fast objects at 5 fps (box moves more than its width per frame)', () => {
    const trk = new MultiObjectTracker();
    const ids = new Set<number>();
    let confirmedFrames = 0;
    for (let i = 0; i < 12; i++) {
      const out = trk.process(frame(i, i * 200, [det(10 + i * 55, 150, 50, 30)])); // 1.1 widths per frame
      for (const t of out.tracks) ids.add(t.id);
      if (out.tracks.length === 1 && out.tracks[0]!.status === 'confirmed') confirmedFrames++;
    }
    assert.equal(ids.size, 1);
    assert.equal(confirmedFrames, DEFAULT_TRACKER_OPTIONS.visibleFromFirstBox ? 12 : 12 - (DEFAULT_TRACKER_OPTIONS.minHits - 1));
  });

  test('two objects passing each other keep their ids', () => {
    const trk = new MultiObjectTracker();
    const byId = new Map<number, number[]>();
    for (let i = 0; i < 50; i++) {
      const a = det(20 + i * 12, 100, 60, 40);
      const b = det(620 - i * 12, 112, 60, 40);
      const out = trk.process(frame(i, i * 100, i % 2 ? [a, b] : [b, a]));
      for (const t of out.tracks) {
        if (t.status !== 'confirmed') continue;
        const list = byId.get(t.id) ?? [];
        list.push(t.velocity.x);
        byId.set(t.id, list);
      }
    }
    assert.equal(byId.size, 2);
    for (const vs of byId.values()) {
      const signs = new Set(vs.slice(2).map(Math.sign));
      assert.equal(signs.size, 1, 'each id keeps one direction of motion');
    }
  });

  test('class is a score-weighted vote over the track life', () => {
    const trk = new MultiObjectTracker();
    let cls = '';
    const seq: ObjectClass[] = ['car', 'truck', 'car', 'car', 'truck', 'car', 'car', 'bus', 'car'];
    seq.forEach((c, i) => {
      const out = trk.process(frame(i, i * 100, [det(100 + i * 5, 100, 60, 40, 0.8, c)]));
      if (out.tracks[0]) cls = out.tracks[0].cls;
    });
    assert.equal(cls, 'car');
  });

  test('never mutates its (deep-frozen) input and returns fresh objects', () => {
    const scene = new SyntheticScene({ width: 640, height: 360, fps: 10, objects: 8, jitterPx: 2, missRate: 0.1, seed: 3, startMs: 0 });
    const frames = Array.from({ length: 60 }, () => scene.next().fd);
    const snapshot = JSON.stringify(frames);
    const a = new MultiObjectTracker();
    const b = new MultiObjectTracker();
    const outsA = frames.map((f) => a.process(deepFreeze(structuredClone(f))));
    const outsB = frames.map((f) => b.process(f));
    assert.equal(JSON.stringify(frames), snapshot);
    assert.deepEqual(outsA, outsB);
    // Mutating an output does not reach the tracker.
    const out = a.process(deepFreeze(structuredClone(frames[59]!)));
    const before = JSON.stringify(a.process(deepFreeze(structuredClone(frames[59]!))));
    for (const t of out.tracks) t.box.x = -999;
    const c = new MultiObjectTracker();
    frames.forEach((f) => c.process(f));
    c.process(frames[59]!);
    assert.equal(JSON.stringify(c.process(frames[59]!)), before);
  });

  test('state stays bounded over thousands of frames with objects coming and going', () => {
    const scene = new SyntheticScene({ width: 640, height: 360, fps: 10, objects: 12, jitterPx: 2, missRate: 0.1, seed: 11, startMs: 0 });
    const trk = new MultiObjectTracker({ maxLostFrames: 30 });
    let maxState = 0;
    let maxId = 0;
    const N = 4000;
    for (let i = 0; i < N; i++) {
      const { fd } = scene.next();
      // Every few hundred frames the road empties completely.
      const out = trk.process(i % 500 >= 450 ? { ...fd, detections: [] } : fd);
      for (const t of out.tracks) maxId = Math.max(maxId, t.id);
      maxState = Math.max(maxState, trk.stateSize());
    }
    assert.ok(maxId > 200, `many objects passed (${maxId} ids)`);
    assert.ok(maxState < 60, `state held at most ${maxState} tracks`);
    for (let i = 0; i < 40; i++) trk.process(frame(N + i, (N + i) * 100, []));
    assert.equal(trk.stateSize(), 0);
  });

  test('ignores malformed detections', () => {
    const trk = new MultiObjectTracker({ minHits: 1 });
    const bad: Box[] = [
      { x: NaN, y: 0, w: 10, h: 10 },
      { x: 0, y: 0, w: 0, h: 10 },
      { x: 0, y: 0, w: 10, h: -1 },
    ];
    const out = trk.process(frame(0, 0, bad.map((b) => ({ box: b, cls: 'car', score: 0.9 }))));
    assert.equal(out.tracks.length, 0);
    assert.equal(trk.stateSize(), 0);
  });
});

test('one object reported under two classes (per-class NMS) gives one track', () => {
  const trk = new MultiObjectTracker();
  const ids = new Set<number>();
  for (let i = 0; i < 10; i++) {
    const out = trk.process(frame(i, i * 100, [det(100 + i * 5, 100, 60, 40, 0.8, 'car'), det(101 + i * 5, 99, 61, 41, 0.6, 'truck')]));
    for (const t of out.tracks) ids.add(t.id);
  }
  assert.equal(ids.size, 1);
  assert.equal(trk.stateSize(), 1);
});

/**
 * Cars in two lanes teach the tracker the usual car size at rows 170-200 for 15 frames; then `other(i)`
 * passes beside them for 15 more. Returns the last class of the confirmed track `which` picks out.
 */
function classAmongCars(other: (i: number) => Detection, which: (t: Track) => boolean): string | undefined {
  const trk = new MultiObjectTracker();
  let cls: string | undefined;
  for (let i = 0; i < 30; i++) {
    const dets: Detection[] = [
      { box: { x: 20 + i * 10, y: 170, w: 36, h: 30 }, cls: 'car', score: 0.8 },
      { box: { x: 600 - i * 10, y: 172, w: 36, h: 28 }, cls: 'car', score: 0.8 },
    ];
    if (i >= 15) dets.push(other(i - 15));
    const out = trk.process({ cameraId: 'c', seq: i, timestampMs: 1000 + i * 200, width: 640, height: 360, detections: dets });
    cls = out.tracks.find((t) => which(t) && t.status === 'confirmed')?.cls ?? cls;
  }
  return cls;
}

describe('heavy vehicles by size and tracks leaving the picture', () => {
  test('a car box 2x taller than the usual car at its row makes a truck track; a 1.2x one stays a car; nothing before the row is learnt', () => {
    const m = new VehicleSizeModel({ heavyRatio: 1.7, narrowRatio: 0.7, bands: 10, memory: 50, minSamples: 5, learnScore: 0.3, perspectiveMinSamples: null });
    const car = (h: number): Detection => ({ box: { x: 10, y: 200 - h, w: h * 1.2, h }, cls: 'car', score: 0.8 });
    assert.equal(m.ratio(car(40), 360), null, 'no cars seen at that row yet');
    for (let i = 0; i < 6; i++) m.learn([car(38 + i)], 360);
    assert.ok(Math.abs((m.ratio(car(80), 360) ?? 0) - 80 / 41) < 1e-9);
    assert.ok(heavyBySize([2, 2.1, 1.9], DEFAULT_SIZE_CLASS));
    assert.ok(!heavyBySize([1.2, 1.3, 2.5], DEFAULT_SIZE_CLASS), 'the median, not one swollen box');
    assert.ok(!heavyBySize([2, 2], DEFAULT_SIZE_CLASS), 'too few frames');
    // Through the tracker: cars in one lane teach the row, then a lorry twice as tall passes.
    const lorry = classAmongCars((i) => ({ box: { x: 300, y: 140 + i, w: 70, h: 60 }, cls: 'car', score: 0.8 }), (t) => t.box.h > 50);
    assert.equal(lorry, 'truck');
    const plain = new MultiObjectTracker({ sizeClass: null });
    let cls: string | undefined;
    for (let i = 0; i < 10; i++) cls = plain.process({ cameraId: 'c', seq: i, timestampMs: 1000 + i * 200, width: 640, height: 360, detections: [{ box: { x: 300, y: 140, w: 70, h: 60 }, cls: 'car', score: 0.8 }] }).tracks[0]?.cls ?? cls;
    assert.equal(cls, 'car');
  });

  test('a rolling median kept sorted equals the median of the last values sorted afresh, repeats and non-finite values included', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const capacity of [1, 2, 5, 50]) {
      const rm = new RollingMedian(capacity);
      const window: number[] = [];
      assert.equal(rm.median(), null);
      for (let i = 0; i < 400; i++) {
        // Few distinct values, so repeats are common (a box's height in whole pixels).
        const v = i % 37 === 0 ? Number.NaN : Math.round(rand() * 20) / 10;
        rm.push(v);
        if (Number.isFinite(v)) {
          window.push(v);
          if (window.length > capacity) window.shift();
        }
        assert.equal(rm.length, window.length);
        assert.equal(rm.median(), median(window), `capacity ${capacity}, step ${i}`);
      }
    }
    assert.equal(heavyBySize(new RollingMedian(50), DEFAULT_SIZE_CLASS), false, 'empty: no verdict');
    const lorry = new RollingMedian(50);
    for (const r of [1.2, 1.9, 2, 2.1]) lorry.push(r);
    assert.ok(heavyBySize(lorry, DEFAULT_SIZE_CLASS));
  });

  test('a row no car has crossed yet takes the perspective line through the rows that have; one lorry does not tilt it', () => {
    const o = { ...DEFAULT_SIZE_CLASS, bands: 24, minSamples: 10, perspectiveMinSamples: 7 };
    // A flat road seen from above: a car's height is a tenth of its bottom row (horizon at row 0).
    // Rows are bands of 15 px of a 360 px picture; each learnt band sees 8 cars (too few for its own median).
    const car = (bottom: number, scale = 1): Detection => ({ box: { x: 100, y: bottom - 0.1 * bottom * scale, w: 30, h: 0.1 * bottom * scale }, cls: 'car', score: 0.8 });
    const teach = (m: VehicleSizeModel, bands: number[], lorryBand?: number) => {
      for (let i = 0; i < 8; i++) m.learn(bands.map((b) => car(15 * b + 7.5, b === lorryBand ? 2 : 1)), 360);
    };
    const m = new VehicleSizeModel(o);
    teach(m, [6, 7]);
    assert.equal(m.medianAt(15 * 22 + 7.5, 360), null, 'two rows close together are no line');
    teach(m, [8, 10, 12]);
    assert.ok(Math.abs((m.medianAt(15 * 22 + 7.5, 360) ?? 0) - 0.1 * (15 * 22 + 7.5)) < 1e-9, 'the row near the camera, from the far rows');
    const tilted = new VehicleSizeModel(o);
    teach(tilted, [6, 7, 8, 9, 10, 11, 12], 9);
    assert.ok(Math.abs((tilted.medianAt(15 * 22 + 7.5, 360) ?? 0) - 0.1 * (15 * 22 + 7.5)) < 1e-9, 'a lorry alone in one row');
    const off = new VehicleSizeModel({ ...o, perspectiveMinSamples: null });
    teach(off, [6, 8, 10, 12]);
    assert.equal(off.medianAt(15 * 22 + 7.5, 360), null, 'off');
    // Through the tracker: cars in the far rows only, then a lorry twice their size near the camera
    // for eight frames (a lorry that stays teaches its own row: that is what the row's median is for).
    const trk = new MultiObjectTracker();
    let cls: string | undefined;
    for (let i = 0; i < 18; i++) {
      const dets: Detection[] = [100, 150, 200].map((bottom, k) => ({ ...car(bottom), box: { ...car(bottom).box, x: [20 + i * 10, 600 - i * 10, 300 - i * 5][k]! } }));
      if (i >= 10) dets.push({ box: { x: 300, y: 320 - 64 + (i - 10), w: 70, h: 64 }, cls: 'car', score: 0.8 });
      const out = trk.process({ cameraId: 'c', seq: i, timestampMs: 1000 + i * 200, width: 640, height: 360, detections: dets });
      cls = out.tracks.find((t) => t.box.h > 50 && t.status === 'confirmed')?.cls ?? cls;
    }
    assert.equal(cls, 'truck');
  });

  test('a scooter boxed as a vehicle: a track much narrower than the cars at its row and taller than wide is a motorcycle; a narrow but wide-aspect car and a box cut by the frame edge are not', () => {
    const m = new VehicleSizeModel(DEFAULT_SIZE_CLASS);
    const car = (x: number, w: number): Detection => ({ box: { x, y: 150, w, h: 30 }, cls: 'car', score: 0.8 });
    for (let i = 0; i < 12; i++) m.learn([car(100 + i, 40)], 360, 640);
    assert.ok(Math.abs((m.widthRatio(car(300, 16), 640, 360) ?? 0) - 0.4) < 1e-9);
    assert.equal(m.widthRatio(car(0, 16), 640, 360), null, 'cut by the left edge');
    assert.equal(m.widthRatio({ ...car(300, 16), cls: 'person' }, 640, 360), null);
    assert.ok(narrowBySize([0.4, 0.45, 0.5], [0.5, 0.55, 0.6], DEFAULT_SIZE_CLASS));
    assert.ok(!narrowBySize([0.6, 0.65, 0.6], [1.3, 1.4, 1.3], DEFAULT_SIZE_CLASS), 'narrow for its row but wider than tall: a car on a far lane');
    assert.ok(!narrowBySize([0.9, 1, 1.1], [0.8, 0.8, 0.8], DEFAULT_SIZE_CLASS), 'as wide as the cars');
    assert.ok(!narrowBySize([0.4, 0.4], [0.5, 0.5], DEFAULT_SIZE_CLASS), 'too few frames');
    assert.ok(!narrowBySize([0.4, 0.45, 0.5], [0.5, 0.55, 0.6], { ...DEFAULT_SIZE_CLASS, narrowRatio: null }), 'off');
    // Through the tracker: cars teach the row, then a narrow upright 'vehicle' passes.
    const scooter = classAmongCars((i) => ({ box: { x: 300, y: 160 + i, w: 14, h: 30 }, cls: 'car', score: 0.6 }), (t) => t.box.w < 20);
    assert.equal(scooter, 'motorcycle');
  });

  test('a lost track predicted out of the picture is dropped at once (it would take the next vehicle entering there)', () => {
    const run = (dropLeftFrame: boolean) => {
      const trk = new MultiObjectTracker({ dropLeftFrame });
      // Moves right 60 px per frame and leaves at the right edge (640) after frame 9.
      for (let i = 0; i < 10; i++) trk.process(frame(i, i * 200, [det(60 * i, 100, 50, 30)]));
      trk.process(frame(10, 2000, []));
      trk.process(frame(11, 2200, []));
      return trk.stateSize();
    };
    assert.equal(run(true), 0);
    assert.equal(run(false), 1);
  });
});

describe('lost-track class gate', () => {
  // A faint static 'person' box by the roadside, tracked, then lost; a car's confident box then comes by
  // where the lost track's buffered box still reaches (sf-freeway-night with detector.enhance=auto).
  const run = (gate: boolean, gapFrames: number, later: Detection) => {
    const trk = new MultiObjectTracker({ lostClassGate: gate });
    let seq = 0;
    let first: Track | undefined;
    for (let i = 0; i < 10; i++) first = trk.process(frame(seq++, seq * 200, [det(300, 100, 14, 34, 0.2, 'person')])).tracks[0];
    for (let i = 0; i < gapFrames; i++) trk.process(frame(seq++, seq * 200, []));
    const after = trk.process(frame(seq++, seq * 200, [later])).tracks.find((t) => t.status !== 'lost');
    return { personId: first?.id, after };
  };
  const car = det(296, 102, 40, 30, 0.71, 'car');

  test('a track lost for three frames is not taken over by a detection of the other kind: a car box is a new car, not the person', () => {
    const gated = run(true, 3, car);
    assert.ok(gated.after);
    assert.notEqual(gated.after.id, gated.personId);
    assert.equal(gated.after.cls, 'car');
    const open = run(false, 3, car);
    assert.equal(open.after?.id, open.personId, 'without the gate the person track takes the car box');
    assert.equal(open.after?.cls, 'person');
  });

  test('a gap of a frame or two is box flicker, and a two-wheeler box may continue a person track (a rider)', () => {
    const flicker = run(true, 1, car);
    assert.equal(flicker.after?.id, flicker.personId);
    const scooter = det(298, 100, 18, 36, 0.6, 'motorcycle');
    const r = run(true, 4, scooter);
    assert.equal(r.after?.id, r.personId);
  });
});

describe('re-finding a vehicle lost in spray', () => {
  // A car moving away up the image at 60 px/s (a box 40x40 px), boxed every 0.2 s, then hidden for
  // `gap` frames while, receding, it slows in the image to 40 px/s and shrinks: when boxed again it is
  // well clear of its last box and short of where the Kalman filter, at its last velocity, puts it by
  // more than a box height, so the lost-track gates (buffered IoU, maxJump) turn the box down.
  const run = (opts: Partial<typeof DEFAULT_TRACKER_OPTIONS>, gap: number, later: (y: number) => Detection[]) => {
    const trk = new MultiObjectTracker(opts);
    let seq = 0;
    let y = 330;
    let id: number | undefined;
    for (let i = 0; i < 8; i++, y -= 12) id = trk.process(frame(seq++, seq * 200, [det(300, y - 40, 40, 40, 0.5)])).tracks[0]?.id;
    for (let i = 0; i < gap; i++, y -= 8) trk.process(frame(seq++, seq * 200, []));
    const out = trk.process(frame(seq++, seq * 200, later(y))).tracks.filter((t) => t.status !== 'lost');
    return { id, out };
  };
  const ahead = (y: number) => [det(300, y - 30, 30, 30, 0.3)];

  test('a track lost for 1.8–2.6 s takes the box where its own motion has brought it; without re-finding a new track is born there', () => {
    for (const gap of [8, 12]) {
      const on = run({}, gap, ahead);
      assert.equal(on.out.length, 1);
      assert.equal(on.out[0]?.id, on.id, `after ${gap} frames: the same identity`);
      const off = run({ refind: null }, gap, ahead);
      assert.notEqual(off.out[0]?.id, off.id, `after ${gap} frames without re-finding`);
    }
  });

  test('the vehicle behind it, or one in the next lane, is not taken: a new track each', () => {
    // The follower: half the expected way (still behind where the lost car must be by now).
    const behind = run({}, 8, (y) => [det(300, y + 70, 40, 40, 0.5)]);
    assert.notEqual(behind.out[0]?.id, behind.id);
    // A car abreast in the next lane, a box width and a half to the side.
    const beside = run({}, 8, (y) => [det(360, y - 40, 40, 40, 0.5)]);
    assert.notEqual(beside.out[0]?.id, beside.id);
  });

  test('a second box on one vehicle (a van boxed whole and by its roof), once lost, is not re-found: the vehicle is still tracked by the other and would be counted twice', () => {
    const track = (maxCovered: number) => {
      const trk = new MultiObjectTracker({ refind: { ...DEFAULT_REFIND, maxCovered } });
      let seq = 0;
      let y = 330;
      let roofId: number | undefined;
      for (let i = 0; i < 8; i++, y -= 12) {
        // The van 60x70; its roof 40x30 inside its upper half, boxed apart.
        const out = trk.process(frame(seq++, seq * 200, [det(290, y - 70, 60, 70, 0.6), det(300, y - 65, 40, 30, 0.3)])).tracks;
        roofId = out.find((t) => t.box.h < 50)?.id;
      }
      // The roof box is lost while the van stays boxed (slowing, receding: the lost roof's prediction
      // runs ahead), then a box comes where the roof is by then.
      for (let i = 0; i < 8; i++, y -= 8) trk.process(frame(seq++, seq * 200, [det(290, y - 70, 60, 70, 0.6)]));
      const out = trk.process(frame(seq++, seq * 200, [det(290, y - 70, 60, 70, 0.6), det(300, y - 65, 40, 30, 0.3)])).tracks;
      return { roofId, after: out.find((t) => t.status !== 'lost' && t.box.h < 50)?.id };
    };
    const guarded = track(DEFAULT_REFIND.maxCovered);
    assert.ok(guarded.roofId !== undefined);
    assert.notEqual(guarded.after, guarded.roofId);
    const open = track(1.01);
    assert.equal(open.after, open.roofId, 'without the guard the roof track re-finds the roof box');
  });
});

describe('refindCost', () => {
  const last: Box = { x: 280, y: 160, w: 40, h: 40 };
  // Moving up at 60 px/s, lost 1 s: expected 60 px further up, ground point (300, 140).
  const lost = { first: { x: 300, y: 320 }, last, velocity: { x: 0, y: -60 }, lostS: 1 };
  const at = (gx: number, gy: number, w = 40, h = 40): Box => ({ x: gx - w / 2, y: gy - h, w, h });

  test('cheapest where the motion predicts, dearer off it, and not allowed behind, sideways, far ahead or much smaller', () => {
    const o = DEFAULT_REFIND;
    const best = refindCost(lost, at(300, 140), o);
    assert.ok(best < 0.05, `on the prediction: ${best}`);
    assert.ok(refindCost(lost, at(300, 170), o) > best);
    assert.ok(refindCost(lost, at(300, 170), o) < 1);
    assert.equal(refindCost(lost, at(300, 210), o), 1, 'behind its last box: it would reverse');
    assert.equal(refindCost(lost, at(330, 140), o), 1, 'the next lane');
    assert.equal(refindCost(lost, at(300, 40), o), 1, 'further than it can have gone');
    assert.equal(refindCost(lost, at(300, 140, 15, 15), o), 1, 'a box of another size');
  });

  test('a track that has not travelled, or whose recent motion disagrees with its path, has no direction to follow', () => {
    assert.equal(refindCost({ ...lost, first: { x: 300, y: 215 } }, at(300, 140), DEFAULT_REFIND), 1);
    assert.equal(refindCost({ ...lost, velocity: { x: 60, y: 0 } }, at(360, 200), DEFAULT_REFIND), 1);
    assert.equal(refindCost({ ...lost, velocity: { x: 0, y: -5 } }, at(300, 195), DEFAULT_REFIND), 1);
  });

  test('a track lost for longer than maxLostS is not re-found: where it is by then is a guess', () => {
    assert.ok(refindCost({ ...lost, lostS: 3 }, at(300, 20), DEFAULT_REFIND) < 1);
    assert.equal(refindCost({ ...lost, lostS: 3.2 }, at(300, 8), DEFAULT_REFIND), 1);
  });

  test('the trail gives the recent velocity of the ground point over the last trailMs', () => {
    const trail: Array<{ ms: number; x: number; y: number }> = [];
    for (let i = 0; i <= 10; i++) extendTrail(trail, i * 200, at(300, 300 - (i < 5 ? 0 : (i - 5) * 12)), 1000);
    assert.equal(trail.length, 6);
    assert.deepEqual(trailVelocity(trail), { x: 0, y: -60 });
  });
});
