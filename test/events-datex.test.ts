// Pure mapping tests: CloudEvent envelopes and ids, count aggregation, and the DATEX II mapping.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import type { CloudEvent, IncidentKind, ObjectClass } from '../appliance/src/core/types.js';
import type { IncidentData } from '../appliance/src/core/event-data.js';
import {
  toCloudEvent,
  cloudEventSchema,
  UlidGenerator,
  ulidTime,
  VEHICLE_TYPE,
  INCIDENT_MAPPING,
  flowIndex,
  flowRate,
  toMeasuredData,
  toSituations,
  toMeasurementSiteTable,
  aggregateCounts,
} from '../appliance/src/events/index.js';

const T0 = Date.parse('2024-05-01T08:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function incidentEvent(type: CloudEvent['type'], id: string, kind: IncidentKind, tMs: number, trackIds = [1]): CloudEvent<IncidentData> {
  return toCloudEvent(
    { type, cameraId: 'c1', timeMs: tMs, data: { incidentId: id, cameraId: 'c1', kind, zoneId: null, trackIds, startedAt: iso(T0), endedAt: type === 'incident.closed' ? iso(tMs) : null, measures: {} } },
    'box',
  );
}

describe('event model', () => {
  test('ULIDs are unique, monotonic within a millisecond and carry their time', () => {
    const g = new UlidGenerator(() => T0);
    const ids = Array.from({ length: 1000 }, () => g.next());
    assert.equal(new Set(ids).size, 1000);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(ulidTime(ids[0]), T0);
    const back = new UlidGenerator((() => { let t = T0 + 10; return () => t--; })());
    const a = back.next();
    const b = back.next();
    assert.ok(b > a, 'a clock stepping back does not break the order');
    assert.equal(ulidTime('not-a-ulid'), null);
  });

  test('toCloudEvent builds a valid CloudEvents 1.0 envelope for every payload type', () => {
    const e = toCloudEvent({ type: 'camera.state', cameraId: 'north-1', timeMs: T0, data: { cameraId: 'north-1', state: 'stalled', reason: 'no frames' } }, 'box-7');
    assert.equal(e.specversion, '1.0');
    assert.equal(e.source, '/roadside/box-7/cameras/north-1');
    assert.equal(e.subject, 'north-1');
    assert.equal(e.time, iso(T0));
    assert.equal(e.dataschema, '/api/v1/schemas/events/camera.state');
    assert.ok(Value.Check(cloudEventSchema('camera.state'), e));
    assert.ok(!Value.Check(cloudEventSchema('count.interval'), e), 'the type is part of the schema');
    assert.ok(!Value.Check(cloudEventSchema('camera.state'), { ...(e as object), data: { cameraId: 'x', state: 'on fire' } }), 'the payload is checked');
    assert.ok(Value.Check(cloudEventSchema('incident.opened'), incidentEvent('incident.opened', 'i', 'queue', T0)));
  });
});

describe('DATEX II mapping', () => {
  test('classes map to DATEX vehicle types and incidents to situation record types', () => {
    assert.deepEqual(VEHICLE_TYPE, { car: 'car', truck: 'lorry', bus: 'bus', motorcycle: 'motorcycle', bicycle: 'bicycle', person: 'pedestrian' });
    assert.deepEqual(
      Object.fromEntries(Object.entries(INCIDENT_MAPPING).map(([k, m]) => [k, `${m.situationRecordType}.${m.field}=${m.value}`])),
      {
        'stopped-vehicle': 'VehicleObstruction.vehicleObstructionType=stalledVehicle',
        'wrong-way': 'VehicleObstruction.vehicleObstructionType=vehicleOnWrongCarriageway',
        queue: 'AbnormalTraffic.abnormalTrafficType=queuingTraffic',
        'pedestrian-on-carriageway': 'GeneralObstruction.obstructionType=peopleOnRoadway',
      },
    );
    const classes: ObjectClass[] = ['car', 'truck', 'bus', 'motorcycle', 'bicycle', 'person'];
    const idx = classes.flatMap((c) => [flowIndex('forward', c), flowIndex('backward', c)]);
    assert.equal(new Set(idx).size, 12, 'indexes unique per site');
    assert.equal(flowIndex('forward', 'car'), 1);
    assert.equal(flowIndex('backward', 'person'), 16);
    assert.equal(flowRate(5, 60), 300);
    assert.equal(flowRate(1, 900), 4);
  });

  test('count and speed intervals become site measurements with flow rates and speeds', () => {
    const count = toCloudEvent(
      {
        type: 'count.interval',
        cameraId: 'c1',
        timeMs: T0,
        data: {
          cameraId: 'c1',
          lineId: 'north',
          intervalStart: iso(T0 - 60_000),
          intervalEnd: iso(T0),
          binSeconds: 60,
          counts: [
            { direction: 'backward', cls: 'bicycle', count: 1 },
            { direction: 'forward', cls: 'car', count: 12 },
          ],
          meanSpeedKmh: 48.04,
        },
      },
      'box',
    );
    const speed = toCloudEvent(
      { type: 'speed.interval', cameraId: 'c1', timeMs: T0, data: { cameraId: 'c1', intervalStart: iso(T0 - 60_000), intervalEnd: iso(T0), binSeconds: 60, meanSpeedKmh: 50, p85SpeedKmh: 61.27, samples: 9 } },
      'box',
    );
    const pub = toMeasuredData([count, speed], { applianceId: 'box', nowMs: T0, country: 'DE' });
    assert.equal(pub.publicationTime, iso(T0));
    assert.deepEqual(pub.publicationCreator, { country: 'DE', nationalIdentifier: 'box' });
    const [line, cam] = pub.siteMeasurements;
    assert.equal(line.measurementSiteReference.id, 'box.c1.north');
    assert.equal(line.measurementTimeDefault, iso(T0));
    assert.deepEqual(
      line.physicalQuantity.map((p) => [p.index, p.basicData.type]),
      [[1, 'TrafficFlow'], [15, 'TrafficFlow'], [100, 'TrafficSpeed']],
    );
    const car = line.physicalQuantity[0].basicData;
    assert.ok(car.type === 'TrafficFlow');
    assert.deepEqual(car.vehicleFlow, { vehicleFlowRate: 720, numberOfInputValuesUsed: 12 });
    assert.deepEqual(car.measurementOrCalculationTime, { period: 60, startOfPeriod: iso(T0 - 60_000), endOfPeriod: iso(T0) });
    assert.equal(line.physicalQuantity[1].basicData.type === 'TrafficFlow' && line.physicalQuantity[1].basicData._direction, 'backward');
    assert.equal(cam.measurementSiteReference.id, 'box.c1');
    const sp = cam.physicalQuantity[0].basicData;
    assert.ok(sp.type === 'TrafficSpeed');
    assert.deepEqual(sp.averageVehicleSpeed, { speed: 50, numberOfInputValuesUsed: 9 });
    assert.deepEqual(sp.speedPercentile, [{ vehiclePercentage: 85, speedPercentile: { speed: 61.3 } }]);

    const table = toMeasurementSiteTable([{ cameraId: 'c1', lineId: 'north' }], { applianceId: 'box' });
    const rec = table.measurementSiteTable[0].measurementSiteRecord[0];
    assert.equal(rec.id, 'box.c1.north');
    assert.equal(rec.measurementSpecificCharacteristics.length, 13);
  });

  test('incident events fold into one situation per incident: latest state, version = events seen', () => {
    const events = [
      incidentEvent('incident.opened', 'a', 'stopped-vehicle', T0, [3, 4]),
      incidentEvent('incident.opened', 'b', 'pedestrian-on-carriageway', T0 + 10),
      incidentEvent('incident.updated', 'a', 'stopped-vehicle', T0 + 30_000, [3, 4]),
      incidentEvent('incident.closed', 'b', 'pedestrian-on-carriageway', T0 + 5000),
    ];
    // Arrival order must not matter.
    const pub = toSituations([events[3], events[2], events[0], events[1]], { applianceId: 'box' });
    assert.equal(pub.type, 'SituationPublication');
    const [a, b] = pub.situation;
    assert.equal(a.id, 'box.a');
    assert.equal(a.version, '2');
    const ra = a.situationRecord[0];
    assert.equal(ra.type, 'VehicleObstruction');
    assert.equal(ra.vehicleObstructionType, 'stalledVehicle');
    assert.equal(ra.numberOfObstructions, 2);
    assert.equal(ra.situationRecordCreationTime, iso(T0));
    assert.equal(ra.situationRecordVersionTime, iso(T0 + 30_000));
    assert.equal(ra.validity.validityStatus, 'active');
    assert.equal(ra.validity.validityTimeSpecification.overallEndTime, undefined);
    assert.equal(a.overallSeverity, 'medium');
    const rb = b.situationRecord[0];
    assert.equal(rb.type, 'GeneralObstruction');
    assert.equal(rb.obstructionType, 'peopleOnRoadway');
    assert.equal(rb.validity.validityStatus, 'suspended');
    assert.equal(rb.validity.validityTimeSpecification.overallEndTime, iso(T0 + 5000));
    assert.equal(b.overallSeverity, 'high');
    assert.deepEqual(toSituations(events, { applianceId: 'box', activeOnly: true }).situation.map((s) => s.id), ['box.a']);
  });

  test('count aggregation never adds different bin sizes together', () => {
    const mk = (bin: number, n: number) =>
      toCloudEvent({ type: 'count.interval', cameraId: 'c', timeMs: T0, data: { cameraId: 'c', lineId: 'l', intervalStart: iso(T0 - bin * 1000), intervalEnd: iso(T0), binSeconds: bin, counts: [{ direction: 'forward', cls: 'car', count: n }], meanSpeedKmh: null } }, 'b');
    const r = aggregateCounts([mk(60, 2), mk(900, 30), mk(60, 3)], {});
    assert.equal(r.binSeconds, 60);
    assert.deepEqual(r.rows.map((x) => x.count), [5]);
    assert.deepEqual(aggregateCounts([mk(60, 2), mk(900, 30)], { binSeconds: 900 }).rows.map((x) => x.count), [30]);
    assert.deepEqual(aggregateCounts([], {}), { binSeconds: null, intervals: 0, rows: [] });
  });
});
