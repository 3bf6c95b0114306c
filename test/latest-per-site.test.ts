// Unit tier: which intervals a DATEX MeasuredDataPublication carries (events/latest-per-site.ts), a
// pure function over CloudEvents built by hand: the expected selection follows from construction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CountIntervalData, SpeedIntervalData } from '../appliance/src/core/event-data.js';
import type { CloudEvent, DomainEvent } from '../appliance/src/core/types.js';
import { toCloudEvent } from '../appliance/src/events/cloudevent.js';
import { latestPerSite, selectMeasuredData, type IntervalEvent } from '../appliance/src/events/latest-per-site.js';

const T0 = Date.parse('2024-05-01T08:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function count(camera: string, line: string, endMin: number, binSeconds = 60): IntervalEvent {
  const end = T0 + endMin * 60_000;
  const e: DomainEvent<CountIntervalData> = {
    type: 'count.interval',
    cameraId: camera,
    timeMs: end,
    data: { cameraId: camera, lineId: line, intervalStart: iso(end - binSeconds * 1000), intervalEnd: iso(end), binSeconds, counts: [], meanSpeedKmh: null },
  };
  return toCloudEvent(e, 'box1') as IntervalEvent;
}
function speed(camera: string, endMin: number, binSeconds = 60): IntervalEvent {
  const end = T0 + endMin * 60_000;
  const e: DomainEvent<SpeedIntervalData> = {
    type: 'speed.interval',
    cameraId: camera,
    timeMs: end,
    data: { cameraId: camera, intervalStart: iso(end - binSeconds * 1000), intervalEnd: iso(end), binSeconds, meanSpeedKmh: 50, p85SpeedKmh: 60, samples: 3 },
  };
  return toCloudEvent(e, 'box1') as IntervalEvent;
}
const ends = (events: readonly CloudEvent[]) => events.map((e) => `${e.type.replace('org.roadside.', '')} ${e.subject} ${(e.data as { lineId?: string }).lineId ?? '-'} ${(e.data as { intervalEnd: string }).intervalEnd}`);

test('latestPerSite keeps the newest interval of each line and each camera speed site, oldest first', () => {
  const a1 = count('cam1', 'a', 1);
  const a3 = count('cam1', 'a', 3);
  const a2 = count('cam1', 'a', 2);
  const b1 = count('cam1', 'b', 1);
  const sameLineOtherCamera = count('cam2', 'a', 2);
  const s1 = speed('cam1', 1);
  const s4 = speed('cam1', 4);
  assert.deepEqual(ends(latestPerSite([a1, a3, s4, a2, b1, sameLineOtherCamera, s1])), ends([b1, sameLineOtherCamera, a3, s4]));
});

test('on equal times the one read later wins', () => {
  const first = count('cam1', 'a', 5);
  const second = count('cam1', 'a', 5);
  const [only] = latestPerSite([first, second]);
  assert.equal(only?.id, second.id);
});

test('selectMeasuredData: no window is the latest per site of the smallest bin; other event types are ignored', () => {
  const state = toCloudEvent({ type: 'camera.state', cameraId: 'cam1', timeMs: T0, data: { cameraId: 'cam1', state: 'streaming', reason: null } } as never, 'box1');
  const events = [count('cam1', 'a', 1), count('cam1', 'a', 2), count('cam1', 'a', 15, 900), speed('cam1', 2), state];
  assert.deepEqual(ends(selectMeasuredData(events, {})), ends([events[1] as CloudEvent, events[3] as CloudEvent]));
  assert.deepEqual(ends(selectMeasuredData(events, { binSeconds: 900 })), ends([events[2] as CloudEvent]));
  assert.deepEqual(selectMeasuredData([state], {}), []);
});

test('selectMeasuredData: a window keeps every interval of the bin that overlaps [from, to)', () => {
  // 60 s intervals ending at minutes 1..5: [0,1) [1,2) [2,3) [3,4) [4,5).
  const events = [1, 2, 3, 4, 5].map((m) => count('cam1', 'a', m));
  const window = { fromMs: T0 + 90_000, toMs: T0 + 3 * 60_000 }; // 1.5 min .. 3 min
  assert.deepEqual(ends(selectMeasuredData(events, window)), ends(events.slice(1, 3)));
  assert.deepEqual(ends(selectMeasuredData(events, { fromMs: T0 + 4 * 60_000 })), ends(events.slice(4)));
});
