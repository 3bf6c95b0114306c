// Pure mapping tests: CloudEvent envelopes and ids, count aggregation, and the DATEX II mapping.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { CloudEvent as SdkCloudEvent } from 'cloudevents';
import type { CloudEvent, DataQualityFlag, EventType, IncidentKind } from '../appliance/src/core/types.js';
import type { IncidentData } from '../appliance/src/core/event-data.js';
import {
  toCloudEvent,
  cloudEventSchema,
  eventJsonSchemas,
  UlidGenerator,
  ulidTime,
  VEHICLE_TYPE,
  INCIDENT_MAPPING,
  valueIndex,
  toMeasuredData,
  toSituations,
  toMeasurementSiteTable,
  aggregateCounts,
} from '../appliance/src/events/index.js';
import { explain, validateD2Payload } from './helpers/datex-validator.js';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

const T0 = Date.parse('2024-05-01T08:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

type IncidentType = Extract<EventType, `incident.${string}`>;

function incidentEvent(type: IncidentType, id: string, kind: IncidentKind, tMs: number, trackIds = [1], revision?: number, endedAt?: number): CloudEvent<IncidentData> {
  const ended = type === 'incident.closed' ? iso(endedAt ?? tMs) : null;
  return toCloudEvent(
    { type, cameraId: 'c1', timeMs: tMs, data: { incidentId: id, cameraId: 'c1', kind, zoneId: null, trackIds, startedAt: iso(T0), endedAt: ended, measures: {}, ...(revision ? { revision } : {}) } },
    'box',
  );
}

describe('event model', () => {
  test('ULIDs are unique, monotonic within a millisecond and carry their time', () => {
    const g = new UlidGenerator(() => T0);
    const ids = Array.from({ length: 1000 }, () => g.next());
    assert.equal(new Set(ids).size, 1000);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(ulidTime(ids[0]!), T0);
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
    assert.equal(e.type, 'org.roadside.camera.state', 'reverse-DNS type prefix');
    assert.equal(e.dataschema, 'https://roadside.invalid/api/v1/schemas/events/camera.state', 'absolute dataschema URI');
    assert.equal(toCloudEvent({ type: 'camera.state', cameraId: 'n', timeMs: T0, data: {} }, 'b', undefined, 'https://tc.example/s').dataschema, 'https://tc.example/s/camera.state');
    assert.ok(Value.Check(cloudEventSchema('camera.state'), e));
    // The official SDK in strict mode accepts it (it rejected the relative dataschema before).
    assert.doesNotThrow(() => new SdkCloudEvent({ ...e }, true));
    // The published envelope schema (what receivers validate with) allows extension attributes only.
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const check = ajv.compile(eventJsonSchemas()['camera.state']);
    assert.ok(check(e), JSON.stringify(check.errors));
    assert.ok(check({ ...e, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }), 'extension attributes are allowed');
    assert.ok(!check({ ...e, Not_An_Extension: 1 }), 'keys that cannot be attributes are not');
    assert.ok(!Value.Check(cloudEventSchema('count.interval'), e), 'the type is part of the schema');
    assert.ok(!Value.Check(cloudEventSchema('camera.state'), { ...(e as object), data: { cameraId: 'x', state: 'on fire' } }), 'the payload is checked');
    assert.ok(Value.Check(cloudEventSchema('incident.opened'), incidentEvent('incident.opened', 'i', 'queue', T0)));
  });
});

describe('DATEX II v3 mapping (validated against the official schemas)', () => {
  const o = { applianceId: 'box', nowMs: T0, country: 'DE', locate: () => ({ latitude: 52.52, longitude: 13.405, bearing: 270 }) };
  const countEvent = (counts: { direction: 'forward' | 'backward'; cls: 'car' | 'truck' | 'person' | 'bicycle'; count: number }[], extra: { start?: number; end?: number; flags?: DataQualityFlag[] } = {}) =>
    toCloudEvent(
      {
        type: 'count.interval',
        cameraId: 'c1',
        timeMs: extra.end ?? T0,
        data: {
          cameraId: 'c1',
          lineId: 'north',
          intervalStart: iso(extra.start ?? T0 - 60_000),
          intervalEnd: iso(extra.end ?? T0),
          binSeconds: 60,
          ...(extra.flags ? { flags: extra.flags, ...(extra.flags.includes('partial') ? { partial: true } : {}) } : {}),
          counts,
          meanSpeedKmh: 48.04,
        },
      },
      'box',
    );
  type Doc = { payload: Record<string, any> };
  const measured = (doc: unknown) => (doc as Doc).payload.roaMeasuredDataPublication;
  const flowsOf = (site: any) => site.physicalQuantity.map((p: any) => [p.index, p.physicalQuantity.roaSinglePhysicalQuantity.basicData.roaTrafficFlow.vehicleFlow]);

  test('the validator is real: it rejects the pre-v3 shape and a missing wrapper', () => {
    assert.ok(validateD2Payload({ payload: { roaMeasuredDataPublication: { type: 'MeasuredDataPublication' } } }).length > 0);
    assert.ok(validateD2Payload({ payload: {} }).length > 0, 'modelBaseVersionG is required');
    assert.ok(validateD2Payload({ measuredDataPublication: {} }).length > 0);
  });

  test('classes map to v3 vehicle types; incidents to v3 record types and enumeration values', () => {
    assert.deepEqual(VEHICLE_TYPE, { car: 'car', truck: 'lorry', bus: 'bus', motorcycle: 'motorcycle', bicycle: 'bicycle' }, 'people are not a vehicle type');
    assert.deepEqual(
      Object.fromEntries(Object.entries(INCIDENT_MAPPING).map(([k, m]) => [k, `${m.record}.${m.field}=${m.value}`])),
      {
        'stopped-vehicle': 'sitVehicleObstruction.vehicleObstructionType=brokenDownVehicle',
        'wrong-way': 'sitVehicleObstruction.vehicleObstructionType=vehicleOnWrongCarriageway',
        queue: 'sitAbnormalTraffic.abnormalTrafficType=queuingTraffic',
        'pedestrian-on-carriageway': 'sitGeneralObstruction.obstructionType=peopleOnRoadway',
      },
    );
    assert.equal(valueIndex(60, 'car'), 6001);
    assert.equal(valueIndex(900, 'speed'), 90050);
  });

  test('a complete interval: one site per direction, explicit zeros, flow rate over the bin, raw count kept', () => {
    const doc = toMeasuredData([countEvent([{ direction: 'forward', cls: 'car', count: 12 }, { direction: 'backward', cls: 'person', count: 2 }])], o);
    assert.deepEqual(validateD2Payload(doc), [], explain(validateD2Payload(doc)));
    const pub = measured(doc);
    assert.equal((doc as Doc).payload.modelBaseVersionG, '3');
    assert.deepEqual(pub.publicationCreator, { country: 'DE', nationalIdentifier: 'box' });
    const [fwd, bwd] = pub.siteMeasurements;
    assert.equal(fwd.measurementSiteReference.idG, 'box.c1.north.forward');
    assert.equal(bwd.measurementSiteReference.idG, 'box.c1.north.backward');
    assert.deepEqual(fwd.measurementTimeDefault.period, { startOfPeriod: iso(T0 - 60_000), endOfPeriod: iso(T0) });
    const car = flowsOf(fwd).find(([i]: [number]) => i === 6001)[1];
    assert.equal(car.vehicleFlowRate, 720);
    assert.equal(car.numberOfInputValuesUsed, 12);
    assert.equal(car.dataError, undefined, 'a complete interval is trusted');
    // Zero is a measurement: every vehicle class of the site is there, with 0.
    const zeros = flowsOf(bwd).map(([, v]: [number, any]) => [v.vehicleFlowRate, v.numberOfInputValuesUsed]);
    assert.equal(zeros.length, 5);
    assert.ok(zeros.every(([r, n]: number[]) => r === 0 && n === 0));
    assert.equal(bwd.siteMeasurementsExtensionG.roadside.persons, 2, 'people go to the extension, not into vehicle flows');
  });

  test('zero vs gap: a zero interval is a trusted 0, a gap interval is a dataError with an incomplete input', () => {
    const zero = measured(toMeasuredData([countEvent([{ direction: 'forward', cls: 'car', count: 0 }])], o)).siteMeasurements[0];
    const gapDoc = toMeasuredData([countEvent([{ direction: 'forward', cls: 'car', count: 0 }], { flags: ['stream-gap'] })], o);
    assert.deepEqual(validateD2Payload(gapDoc), []);
    const gap = measured(gapDoc).siteMeasurements[0];
    const z = flowsOf(zero)[0][1];
    const g = flowsOf(gap)[0][1];
    assert.deepEqual([z.vehicleFlowRate, z.dataError, z.numberOfIncompleteInputs], [0, undefined, undefined]);
    assert.deepEqual([g.dataError, g.numberOfIncompleteInputs], [true, 1]);
    assert.match(g.reasonForDataError.values[0].value, /stream-gap/);
    assert.deepEqual(gap.siteMeasurementsExtensionG.roadside.flags, ['stream-gap']);
  });

  test('a partial interval keeps its exact observed period and raw count and is not scaled to an hourly rate', () => {
    // 6 vehicles in 8.25 s: extrapolated this would be 2,618 veh/h.
    const doc = toMeasuredData([countEvent([{ direction: 'forward', cls: 'car', count: 6 }], { start: T0 - 8250, flags: ['partial'] })], o);
    assert.deepEqual(validateD2Payload(doc), []);
    const site = measured(doc).siteMeasurements[0];
    assert.deepEqual(site.measurementTimeDefault.period, { startOfPeriod: iso(T0 - 8250), endOfPeriod: iso(T0) }, 'period not rounded');
    const car = flowsOf(site)[0][1];
    assert.equal(car.numberOfInputValuesUsed, 6);
    assert.equal(car.vehicleFlowRate, 360, 'the count over the nominal 60 s bin, not over the 8.25 s observed');
    assert.equal(car.dataError, true);
    assert.deepEqual(car.vehicleFlowValueExtensionG.roadside, { count: 6, observedSeconds: 8.25 });
  });

  test('speeds go to the camera site; the site table lists every line × direction site and the speed site', () => {
    const speed = toCloudEvent(
      { type: 'speed.interval', cameraId: 'c1', timeMs: T0, data: { cameraId: 'c1', intervalStart: iso(T0 - 60_000), intervalEnd: iso(T0), binSeconds: 60, meanSpeedKmh: 50, p85SpeedKmh: 61.27, samples: 9 } },
      'box',
    );
    const doc = toMeasuredData([speed], o);
    assert.deepEqual(validateD2Payload(doc), []);
    const sp = measured(doc).siteMeasurements[0];
    assert.equal(sp.measurementSiteReference.idG, 'box.c1');
    const ts = sp.physicalQuantity[0].physicalQuantity.roaSinglePhysicalQuantity.basicData.roaTrafficSpeed;
    assert.deepEqual(ts.averageVehicleSpeed, { numberOfInputValuesUsed: 9, speed: 50 });
    assert.deepEqual(ts.speedPercentile, [{ vehiclePercentage: { percentage: 85 }, speedPercentile: { speed: 61.3 } }]);

    const table = toMeasurementSiteTable([{ cameraId: 'c1', lines: [{ lineId: 'north' }, { lineId: 'south', classes: ['car'] }] }], [60, 900], o);
    assert.deepEqual(validateD2Payload(table), [], explain(validateD2Payload(table)));
    const sites = (table as Doc).payload.roaMeasurementSiteTablePublication.measurementSiteTable[0].measurementSite;
    assert.deepEqual(sites.map((s: any) => s.idG), ['box.c1.north.forward', 'box.c1.north.backward', 'box.c1.south.forward', 'box.c1.south.backward', 'box.c1']);
    assert.equal(sites[0].measurementSpecificCharacteristics.length, 10, '5 classes × 2 bin sizes');
    assert.equal(sites[2].measurementSpecificCharacteristics.length, 2, 'only the classes the line counts');
    assert.deepEqual(sites[0].measurementSpecificCharacteristics[0].measurementSpecificCharacteristics.period, 60);
    assert.deepEqual(sites[1].measurementSiteLocation.locPointLocation.pointByCoordinates, { pointCoordinates: { latitude: 52.52, longitude: 13.405 }, bearing: 90 }, 'backward heads the other way');
    assert.equal(sites[4].measurementSpecificCharacteristics[0].measurementSpecificCharacteristics.specificMeasurementValueType.value, 'trafficSpeed');
    // The table's version follows its content: a new line (or location) is a new version.
    const version = (doc: unknown) => (doc as Doc).payload.roaMeasurementSiteTablePublication.measurementSiteTable[0].versionG;
    const again = toMeasurementSiteTable([{ cameraId: 'c1', lines: [{ lineId: 'north' }, { lineId: 'south', classes: ['car'] }] }], [60, 900], o);
    const more = toMeasurementSiteTable([{ cameraId: 'c1', lines: [{ lineId: 'north' }, { lineId: 'south', classes: ['car'] }, { lineId: 'east' }] }], [60, 900], o);
    assert.equal(version(again), version(table));
    assert.notEqual(version(more), version(table));
  });

  test('situations: v3 records with location and validity; a closed incident ends after it started; version from the record', () => {
    const events = [
      incidentEvent('incident.opened', 'a', 'stopped-vehicle', T0, [3, 4], 1),
      incidentEvent('incident.opened', 'b', 'pedestrian-on-carriageway', T0 + 10, [1], 1),
      incidentEvent('incident.updated', 'a', 'stopped-vehicle', T0 + 30_000, [3, 4], 2),
      // Seen in one frame only: the end it reports equals its start; the record ends at its close.
      incidentEvent('incident.closed', 'b', 'pedestrian-on-carriageway', T0 + 5000, [1], 2, T0),
      incidentEvent('incident.opened', 'c', 'wrong-way', T0 + 20, [7], 1),
      incidentEvent('incident.opened', 'd', 'queue', T0 + 30, [1, 2, 3], 1),
    ];
    const doc = toSituations([events[3]!, events[2]!, events[0]!, events[1]!, events[4]!, events[5]!], o);
    assert.deepEqual(validateD2Payload(doc), [], explain(validateD2Payload(doc)));
    const sits = (doc as Doc).payload.sitSituationPublication.situation;
    assert.deepEqual(sits.map((s: any) => s.idG), ['box.a', 'box.b', 'box.c', 'box.d']);
    const a = sits[0].situationRecord[0].sitVehicleObstruction;
    assert.deepEqual([a.versionG, a.vehicleObstructionType.value, a.numberOfObstructions, a.validity.validityStatus.value], ['2', 'brokenDownVehicle', 2, 'active']);
    assert.ok(a.locationReference.locPointLocation.pointByCoordinates);
    const b = sits[1].situationRecord[0].sitGeneralObstruction;
    assert.deepEqual(b.obstructionType, [{ value: 'peopleOnRoadway' }]);
    assert.equal(b.validity.validityStatus.value, 'definedByValidityTimeSpec', 'closed is over, not suspended');
    assert.equal(b.validity.validityTimeSpecification.overallEndTime, iso(T0 + 5000));
    assert.ok(Date.parse(b.validity.validityTimeSpecification.overallEndTime) > Date.parse(b.validity.validityTimeSpecification.overallStartTime));
    assert.equal(sits[2].situationRecord[0].sitVehicleObstruction.vehicleObstructionType.value, 'vehicleOnWrongCarriageway');
    assert.equal(sits[3].situationRecord[0].sitAbnormalTraffic.abnormalTrafficType.value, 'queuingTraffic');
    // The version does not depend on the query window: the last event alone gives the same record.
    const alone = (toSituations([events[2]!], o) as Doc).payload.sitSituationPublication.situation[0].situationRecord[0].sitVehicleObstruction;
    assert.equal(alone.versionG, a.versionG);
    const active = (toSituations(events, { ...o, activeOnly: true }) as Doc).payload.sitSituationPublication.situation;
    assert.deepEqual(active.map((s: any) => s.idG), ['box.a', 'box.c', 'box.d']);
  });
});

describe('counts an integrator can sum', () => {
  const mk = (bin: number, n: number, startMs: number, flags?: DataQualityFlag[]) =>
    toCloudEvent(
      {
        type: 'count.interval',
        cameraId: 'c',
        timeMs: startMs + bin * 1000,
        data: { cameraId: 'c', lineId: 'l', intervalStart: iso(startMs), intervalEnd: iso(startMs + bin * 1000), binSeconds: bin, ...(flags ? { flags } : {}), counts: [{ direction: 'forward', cls: 'car', count: n }], meanSpeedKmh: null },
      },
      'b',
    );

  test('count aggregation never adds different bin sizes together', () => {
    const r = aggregateCounts([mk(60, 2, T0), mk(900, 30, T0), mk(60, 3, T0 + 60_000)], {});
    assert.equal(r.binSeconds, 60);
    assert.deepEqual(r.rows.map((x) => x.count), [5]);
    assert.deepEqual(aggregateCounts([mk(60, 2, T0), mk(900, 30, T0)], { binSeconds: 900 }).rows.map((x) => x.count), [30]);
    assert.deepEqual(aggregateCounts([], {}), { binSeconds: null, intervals: 0, flaggedIntervals: 0, coveredFrom: null, coveredTo: null, rows: [] });
  });

  test('a window selects every interval that overlaps it (16:17–16:19 includes 16:16:51–16:17? no: it ends at 16:17; 16:18–16:19 yes)', () => {
    const t = (hms: string) => Date.parse(`2024-05-01T16:${hms}Z`);
    const evs = [
      toCloudEvent({ type: 'count.interval', cameraId: 'c', timeMs: t('17:00'), data: { cameraId: 'c', lineId: 'l', intervalStart: iso(t('16:51')), intervalEnd: iso(t('17:00')), binSeconds: 60, partial: true, flags: ['partial'], counts: [{ direction: 'forward', cls: 'car', count: 1 }], meanSpeedKmh: null } }, 'b'),
      mk(60, 2, t('17:00')),
      mk(60, 4, t('18:00')),
      mk(60, 8, t('19:00')),
    ];
    const r = aggregateCounts(evs, { fromMs: t('17:00'), toMs: t('19:00'), perInterval: true });
    assert.deepEqual(r.rows.map((x) => [x.intervalStart, x.count]), [[iso(t('17:00')), 2], [iso(t('18:00')), 4]], 'the interval ending at from and the one starting at to are out; 16:18–16:19 is in');
    assert.deepEqual([r.coveredFrom, r.coveredTo], [iso(t('17:00')), iso(t('19:00'))]);
    // A window that cuts intervals takes them whole and says what it covered.
    const cut = aggregateCounts(evs, { fromMs: t('17:30'), toMs: t('18:30') });
    assert.deepEqual([cut.rows[0]!.count, cut.intervals, cut.coveredFrom, cut.coveredTo], [6, 2, iso(t('17:00')), iso(t('19:00'))]);
    assert.equal(aggregateCounts(evs, { fromMs: t('16:00'), toMs: t('17:00') }).flaggedIntervals, 1);
  });
});
