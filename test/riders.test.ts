// Unit tier: two-wheelers are vehicles (rider fusion, riders by speed) and a track's class is a vote
// over its life; on hand-made boxes and on detections recorded from the real model on a shared clip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MultiObjectTracker } from '../appliance/src/track/index.js';
import { fuseRiders, isRiding } from '../appliance/src/track/riders.js';
import type { Detection, FrameTracks, ObjectClass } from '../appliance/src/core/types.js';
import { loadFixtureRecording } from './helpers/replay.js';

const det = (cls: ObjectClass, x: number, y: number, w: number, h: number, score = 0.8): Detection => ({ box: { x, y, w, h }, cls, score });

test('a person over a bicycle becomes one bicycle over both; a pedestrian beside a bicycle stays a person', () => {
  const bike = det('bicycle', 100, 130, 40, 30, 0.6);
  const rider = det('person', 105, 95, 25, 55, 0.9);
  const walker = det('person', 150, 100, 20, 55, 0.9);
  assert.ok(isRiding(rider.box, bike.box));
  assert.ok(!isRiding(walker.box, bike.box));
  const out = fuseRiders([bike, rider, walker]);
  assert.equal(out.length, 2);
  const fused = out.find((d) => d.cls === 'bicycle')!;
  assert.deepEqual(fused.box, { x: 100, y: 95, w: 40, h: 65 });
  assert.equal(fused.score, 0.9);
  assert.ok(out.some((d) => d.cls === 'person' && d.box.x === 150));
});

function trackRecording(name: string, riderFusion: boolean): FrameTracks[] {
  const rec = loadFixtureRecording(name);
  const trk = new MultiObjectTracker({ riderFusion, riderSpeed: null });
  return rec.frames.map((f) => trk.process({ cameraId: 'c', seq: f.seq, timestampMs: f.timestampMs, width: rec.header.width, height: rec.header.height, detections: f.detections }));
}

/** Frames in which a confirmed person track rides a confirmed two-wheeler track (the rider would count as a pedestrian). */
function ridersAsPedestrians(frames: FrameTracks[]): number {
  let n = 0;
  for (const f of frames) {
    const live = f.tracks.filter((t) => t.status === 'confirmed');
    const wheels = live.filter((t) => t.cls === 'bicycle' || t.cls === 'motorcycle');
    if (live.some((p) => p.cls === 'person' && wheels.some((w) => isRiding(p.box, w.box)))) n++;
  }
  return n;
}

test('on real detections of cyclists (campus-crosswalk, PicoDet-S), no rider is tracked as a pedestrian beside its bicycle', () => {
  const fused = trackRecording('campus-crosswalk.picodet640.11fps.jsonl', true);
  const raw = trackRecording('campus-crosswalk.picodet640.11fps.jsonl', false);
  assert.ok(ridersAsPedestrians(raw) >= 5, `without fusion riders are pedestrians in ${ridersAsPedestrians(raw)} frames`);
  assert.equal(ridersAsPedestrians(fused), 0);
  const wheelIds = new Set(fused.flatMap((f) => f.tracks.filter((t) => t.status === 'confirmed' && (t.cls === 'bicycle' || t.cls === 'motorcycle')).map((t) => t.id)));
  assert.ok(wheelIds.size >= 1);
});

/** One object moving right at `speed` px/s, box h px tall, at 10 fps. */
function moving(cls: ObjectClass, speed: number, h: number, frames = 20) {
  return Array.from({ length: frames }, (_, i) => [det(cls, 20 + (speed * i) / 10, 100, h * 0.5, h, 0.9)]);
}

function finalClass(seq: Detection[][], opts: ConstructorParameters<typeof MultiObjectTracker>[0] = {}): ObjectClass | undefined {
  const trk = new MultiObjectTracker(opts);
  let last: FrameTracks | undefined;
  seq.forEach((dets, i) => (last = trk.process({ cameraId: 'c', seq: i, timestampMs: 1000 + i * 100, width: 1000, height: 400, detections: dets })));
  return last?.tracks.find((t) => t.status === 'confirmed')?.cls;
}

test('a "person" moving at cycling speed with no vehicle box under it is a two-wheeler; a walker stays a person', () => {
  assert.equal(finalClass(moving('person', 160, 40)), 'bicycle'); // 4 heights/s
  assert.equal(finalClass(moving('person', 420, 60)), 'motorcycle'); // 7 heights/s
  assert.equal(finalClass(moving('person', 40, 40)), 'person'); // 1 height/s: walking
  assert.equal(finalClass(moving('person', 160, 40), { riderSpeed: null }), 'person');
});

test("a track's class is the score-weighted vote over its life: a lorry seen as bus twice and truck eight times is a truck", () => {
  const seq = moving('truck', 50, 60, 10).map((d, i) => (i >= 8 ? [{ ...d[0]!, cls: 'bus' as const, score: 0.95 }] : [{ ...d[0]!, score: 0.6 }]));
  assert.equal(finalClass(seq), 'truck');
});
