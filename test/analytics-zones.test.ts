import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CameraAnalytics } from '../appliance/src/analytics/index.js';
import { MovementIntervalData, ZoneIntervalData } from '../appliance/src/core/event-data.js';
import type { CameraConfig, ZoneConfig } from '../appliance/src/config/schema.js';
import type { DomainEvent, FrameTracks, ObjectClass, Track } from '../appliance/src/core/types.js';

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)) && /^\d{4}-\d\d-\d\dT/.test(v));

const W = 640;
const H = 360;
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
const rect = (id: string, x0: number, y0: number, x1: number, y1: number, kind: ZoneConfig['kind'] = 'area'): ZoneConfig => ({
  id,
  kind,
  polygon: [
    { x: x0, y: y0 },
    { x: x1, y: y0 },
    { x: x1, y: y1 },
    { x: x0, y: y1 },
  ],
});

function analytics(zones: ZoneConfig[]) {
  const camera: CameraConfig = {
    id: 'cam1',
    url: 'rtsp://x/y',
    enabled: true,
    fps: 10,
    width: W,
    height: H,
    stallSeconds: 10,
    lines: [],
    zones,
    incidents: {} as CameraConfig['incidents'],
  };
  return new CameraAnalytics({ camera, binSeconds: [60], calibration: null });
}
function track(id: number, ax: number, ay: number, cls: ObjectClass = 'car', status: Track['status'] = 'confirmed'): Track {
  return { id, cls, box: { x: ax * W - 20, y: ay * H - 30, w: 40, h: 30 }, score: 0.9, status, velocity: { x: 0, y: 0 }, age: 1, hits: 1, firstSeenMs: T0 };
}
const ft = (i: number, tracks: Track[]): FrameTracks => ({ cameraId: 'cam1', seq: i, timestampMs: T0 + i * 1000, width: W, height: H, tracks });

describe('zones', () => {
  test('occupancy, entries, exits and dwell per interval', () => {
    const a = analytics([rect('box', 0.4, 0.4, 0.6, 0.6)]);
    const events: DomainEvent[] = [];
    // 1 fps for 120 s. Track 1 is inside from t=10 to t=29 (20 s); track 2 from t=20 to t=39 (20 s)
    // and then disappears while inside (still an exit); track 3 stays outside.
    for (let s = 0; s < 120; s++) {
      const tracks: Track[] = [track(3, 0.1, 0.1)];
      if (s < 10) tracks.push(track(1, 0.2, 0.5));
      else if (s < 30) tracks.push(track(1, 0.5, 0.5));
      else if (s < 50) tracks.push(track(1, 0.8, 0.5));
      if (s >= 20 && s < 40) tracks.push(track(2, 0.45, 0.45, 'truck'));
      events.push(...a.process(ft(s, tracks)));
      if (s === 25) assert.equal(a.liveSummary().zones[0]!.occupancy, 2);
    }
    const z = events.filter((e) => e.type === 'zone.interval') as DomainEvent<ZoneIntervalData>[];
    assert.equal(z.length, 1);
    assert.ok(Value.Check(ZoneIntervalData, z[0]!.data));
    const d = z[0]!.data;
    assert.equal(d.zoneId, 'box');
    assert.equal(d.entries, 2);
    assert.equal(d.exits, 2);
    assert.equal(d.maxOccupancy, 2);
    // Occupied seconds: track 1 20 s + track 2 20 s over 60 frames.
    assert.ok(Math.abs(d.meanOccupancy - 40 / 60) < 0.02, `mean occupancy ${d.meanOccupancy}`);
    // Track 1: entered 10, first seen outside at 30 → 20 s. Track 2: 20 → last seen 39 → 19 s.
    assert.ok(Math.abs((d.meanDwellSeconds as number) - 19.5) < 0.01, `dwell ${d.meanDwellSeconds}`);
    const second = (events.filter((e) => e.type === 'zone.interval') as DomainEvent<ZoneIntervalData>[]).length;
    assert.equal(second, 1);
    const flushed = a.close(T0 + 120_000).find((e) => e.type === 'zone.interval') as DomainEvent<ZoneIntervalData>;
    assert.deepEqual([flushed.data.entries, flushed.data.exits, flushed.data.maxOccupancy, flushed.data.meanDwellSeconds], [0, 0, 0, null]);
  });

  test('a box flickering on the zone edge is one entry, not many', () => {
    const a = analytics([rect('box', 0.4, 0.4, 0.6, 0.6)]);
    const events: DomainEvent[] = [];
    for (let s = 0; s < 60; s++) {
      // Anchor alternates 0.399 / 0.401 (on the edge) for most frames, then goes well inside.
      const y = s < 40 ? (s % 2 ? 0.401 : 0.399) : 0.5;
      events.push(...a.process(ft(s, [track(1, 0.5, y)])));
    }
    events.push(...a.process(ft(60, [])));
    const d = (events.find((e) => e.type === 'zone.interval') as DomainEvent<ZoneIntervalData>).data;
    assert.equal(d.entries, 1);
    assert.equal(d.exits, 1, 'the one exit is the track ending inside');
  });

  test('lost tracks keep their membership; a dropped track exits where it was last seen', () => {
    const a = analytics([rect('box', 0.4, 0.4, 0.6, 0.6)]);
    for (let s = 0; s < 5; s++) a.process(ft(s, [track(1, 0.5, 0.5)]));
    for (let s = 5; s < 8; s++) a.process(ft(s, [track(1, 0.9, 0.9, 'car', 'lost')]));
    assert.equal(a.liveSummary().zones[0]!.occupancy, 1);
    a.process(ft(8, []));
    assert.equal(a.liveSummary().zones[0]!.occupancy, 0);
    const d = (a.process(ft(61, [])).find((e) => e.type === 'zone.interval') as DomainEvent<ZoneIntervalData>).data;
    assert.deepEqual([d.entries, d.exits, d.meanDwellSeconds], [1, 1, 4]);
  });
});

describe('turning movements', () => {
  test('origin → destination counts between area zones, per class', () => {
    const zones = [rect('north', 0.4, 0, 0.6, 0.2), rect('south', 0.4, 0.8, 0.6, 1), rect('east', 0.8, 0.4, 1, 0.6), rect('road', 0, 0, 1, 1, 'carriageway')];
    const a = analytics(zones);
    const events: DomainEvent[] = [];
    const path = (id: number, pts: Array<[number, number]>, cls: ObjectClass, startS: number) => ({ id, pts, cls, startS });
    const paths = [
      path(1, [[0.5, 0.1], [0.5, 0.3], [0.5, 0.5], [0.5, 0.7], [0.5, 0.9], [0.5, 0.95]], 'car', 0), // north → south
      path(2, [[0.5, 0.1], [0.5, 0.3], [0.6, 0.5], [0.8, 0.5], [0.9, 0.5], [0.95, 0.5]], 'car', 3), // north → east
      path(3, [[0.5, 0.9], [0.5, 0.7], [0.5, 0.5], [0.5, 0.3], [0.5, 0.1], [0.5, 0.05]], 'truck', 6), // south → north
      path(4, [[0.5, 0.1], [0.5, 0.15], [0.5, 0.3], [0.5, 0.45]], 'car', 9), // north, vanishes mid-junction: no movement
      path(5, [[0.5, 0.1], [0.5, 0.3], [0.5, 0.5], [0.5, 0.7], [0.5, 0.9], [0.5, 0.95]], 'car', 12), // north → south
    ];
    for (let s = 0; s < 40; s++) {
      const tracks: Track[] = [];
      for (const p of paths) {
        // Each path point is held for 2 frames (zone membership is debounced over 2 frames).
        const k = Math.floor((s - p.startS) / 2);
        if (k >= 0 && k < p.pts.length) tracks.push(track(p.id, p.pts[k]![0], p.pts[k]![1], p.cls));
      }
      events.push(...a.process(ft(s, tracks)));
    }
    events.push(...a.close(T0 + 60_000));
    const m = events.find((e) => e.type === 'movement.interval') as DomainEvent<MovementIntervalData>;
    assert.ok(Value.Check(MovementIntervalData, m.data));
    assert.deepEqual(m.data.movements, [
      { fromZone: 'north', toZone: 'east', cls: 'car', count: 1 },
      { fromZone: 'north', toZone: 'south', cls: 'car', count: 2 },
      { fromZone: 'south', toZone: 'north', cls: 'truck', count: 1 },
    ]);
    // The carriageway zone is not an arm: it never appears as origin or destination.
    assert.ok(m.data.movements.every((x) => x.fromZone !== 'road' && x.toZone !== 'road'));
  });
});

describe('analytics state', () => {
  test('per-track state is evicted when tracks end', () => {
    const zones = [rect('a', 0, 0, 0.5, 1), rect('b', 0.5, 0, 1, 1), rect('road', 0, 0, 1, 1, 'carriageway')];
    const a = analytics(zones);
    let maxState = 0;
    for (let s = 0; s < 3000; s++) {
      // Every 10 frames a new track crosses from zone a to zone b within 10 frames; 5 alive at once.
      const tracks: Track[] = [];
      for (let k = 0; k < 5; k++) {
        const id = Math.floor((s + k * 10) / 50) * 5 + k;
        const phase = ((s + k * 10) % 50) / 50;
        tracks.push(track(id, 0.05 + 0.9 * phase, 0.2 + 0.15 * k));
      }
      a.process({ ...ft(s, tracks), timestampMs: T0 + s * 100 });
      maxState = Math.max(maxState, a.stateSize());
    }
    assert.ok(maxState < 80, `state ${maxState}`);
    a.close(T0 + 400_000);
    assert.equal(a.stateSize(), 0);
    assert.ok(a.liveSummary().movements.reduce((s, m) => s + m.count, 0) > 250);
  });
});
