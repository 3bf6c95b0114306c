// DATEX II (v3) export as JSON, built from the outbox: counts and speeds as a MeasuredDataPublication
// (one measurement site per camera + counting line), incidents as a SituationPublication.
// Element names follow the DATEX II v3 UML (MeasuredDataPublication, SiteMeasurements, TrafficFlow,
// TrafficSpeed, Situation, VehicleObstruction, AbnormalTraffic, GeneralObstruction); the JSON is a
// direct rendering of that model, not validated against the official XSD. Mapping: docs/datex2.md.
import type { CountIntervalData, IncidentData, SpeedIntervalData } from '../core/event-data.js';
import type { CloudEvent, IncidentKind, ObjectClass } from '../core/types.js';

export type DatexVehicleType = 'car' | 'lorry' | 'bus' | 'motorcycle' | 'bicycle' | 'pedestrian';

/** Our detector classes → DATEX VehicleTypeEnum ('pedestrian' is an extension value, see the doc). */
export const VEHICLE_TYPE: Record<ObjectClass, DatexVehicleType> = {
  car: 'car',
  truck: 'lorry',
  bus: 'bus',
  motorcycle: 'motorcycle',
  bicycle: 'bicycle',
  person: 'pedestrian',
};

const CLASS_ORDER: ObjectClass[] = ['car', 'truck', 'bus', 'motorcycle', 'bicycle', 'person'];
const DIRECTIONS = ['forward', 'backward'] as const;
/** Index of the TrafficSpeed value of a site (the line mean speed, all classes, both directions). */
export const SPEED_INDEX = 100;

/**
 * Stable index of a flow value within its site: 1..6 forward, 11..16 backward, by class in
 * CLASS_ORDER. The site table lists the same indexes, so a consumer can resolve them once.
 */
export function flowIndex(direction: 'forward' | 'backward', cls: ObjectClass): number {
  return DIRECTIONS.indexOf(direction) * 10 + CLASS_ORDER.indexOf(cls) + 1;
}

export function siteId(applianceId: string, cameraId: string, lineId: string | null): string {
  return lineId === null ? `${applianceId}.${cameraId}` : `${applianceId}.${cameraId}.${lineId}`;
}

export interface DatexIncidentMapping {
  situationRecordType: 'VehicleObstruction' | 'AbnormalTraffic' | 'GeneralObstruction';
  field: 'vehicleObstructionType' | 'abnormalTrafficType' | 'obstructionType';
  value: string;
}

export const INCIDENT_MAPPING: Record<IncidentKind, DatexIncidentMapping> = {
  'stopped-vehicle': { situationRecordType: 'VehicleObstruction', field: 'vehicleObstructionType', value: 'stalledVehicle' },
  'wrong-way': { situationRecordType: 'VehicleObstruction', field: 'vehicleObstructionType', value: 'vehicleOnWrongCarriageway' },
  queue: { situationRecordType: 'AbnormalTraffic', field: 'abnormalTrafficType', value: 'queuingTraffic' },
  'pedestrian-on-carriageway': { situationRecordType: 'GeneralObstruction', field: 'obstructionType', value: 'peopleOnRoadway' },
};

interface PublicationHeader {
  modelBaseVersion: '3';
  lang: 'en';
  publicationTime: string;
  publicationCreator: { country: string; nationalIdentifier: string };
}

function header(applianceId: string, nowMs: number, country: string): PublicationHeader {
  return { modelBaseVersion: '3', lang: 'en', publicationTime: new Date(nowMs).toISOString(), publicationCreator: { country, nationalIdentifier: applianceId } };
}

export interface PhysicalQuantity {
  index: number;
  basicData:
    | {
        type: 'TrafficFlow';
        measurementOrCalculationTime: { period: number; startOfPeriod: string; endOfPeriod: string };
        forVehiclesWithCharacteristicsOf: { vehicleType: DatexVehicleType }[];
        /** Roadside extension: DATEX basic data carries no direction; the site table has it too. */
        _direction: 'forward' | 'backward';
        vehicleFlow: { vehicleFlowRate: number; numberOfInputValuesUsed: number };
      }
    | {
        type: 'TrafficSpeed';
        measurementOrCalculationTime: { period: number; startOfPeriod: string; endOfPeriod: string };
        averageVehicleSpeed: { speed: number; numberOfInputValuesUsed?: number };
        speedPercentile?: { vehiclePercentage: number; speedPercentile: { speed: number } }[];
      };
}

export interface SiteMeasurements {
  measurementSiteReference: { id: string; version: '1'; targetClass: 'MeasurementSiteRecord' };
  measurementTimeDefault: string;
  physicalQuantity: PhysicalQuantity[];
}

export interface MeasuredDataPublication extends PublicationHeader {
  type: 'MeasuredDataPublication';
  measurementSiteTableReference: { id: string; version: '1'; targetClass: 'MeasurementSiteTable' }[];
  siteMeasurements: SiteMeasurements[];
}

/** Vehicles per hour from a count over a bin. */
/** Length of the interval actually observed: a partial interval's flow is a rate over its own length. */
function observedSeconds(d: { binSeconds: number; intervalStart: string; intervalEnd: string; partial?: boolean }): number {
  if (!d.partial) return d.binSeconds;
  return Math.max(1, Math.round((Date.parse(d.intervalEnd) - Date.parse(d.intervalStart)) / 1000));
}

export function flowRate(count: number, binSeconds: number): number {
  return Math.round((count * 3600) / binSeconds);
}

/** One SiteMeasurements per count.interval (site = camera + line) and per speed.interval (site = camera). */
export function toMeasuredData(events: Iterable<CloudEvent>, o: { applianceId: string; nowMs?: number; country?: string }): MeasuredDataPublication {
  const site = (id: string) => ({ id, version: '1' as const, targetClass: 'MeasurementSiteRecord' as const });
  const out: SiteMeasurements[] = [];
  for (const e of events) {
    if (e.type === 'count.interval') {
      const d = e.data as CountIntervalData;
      const seconds = observedSeconds(d);
      const period = { period: seconds, startOfPeriod: d.intervalStart, endOfPeriod: d.intervalEnd };
      const pq: PhysicalQuantity[] = [...d.counts]
        .sort((a, b) => flowIndex(a.direction, a.cls) - flowIndex(b.direction, b.cls))
        .map((c) => ({
          index: flowIndex(c.direction, c.cls),
          basicData: {
            type: 'TrafficFlow' as const,
            measurementOrCalculationTime: period,
            forVehiclesWithCharacteristicsOf: [{ vehicleType: VEHICLE_TYPE[c.cls] }],
            _direction: c.direction,
            vehicleFlow: { vehicleFlowRate: flowRate(c.count, seconds), numberOfInputValuesUsed: c.count },
          },
        }));
      if (d.meanSpeedKmh !== null) {
        pq.push({ index: SPEED_INDEX, basicData: { type: 'TrafficSpeed', measurementOrCalculationTime: period, averageVehicleSpeed: { speed: round1(d.meanSpeedKmh) } } });
      }
      out.push({ measurementSiteReference: site(siteId(o.applianceId, d.cameraId, d.lineId)), measurementTimeDefault: d.intervalEnd, physicalQuantity: pq });
    } else if (e.type === 'speed.interval') {
      const d = e.data as SpeedIntervalData;
      if (d.meanSpeedKmh === null) continue;
      const period = { period: observedSeconds(d), startOfPeriod: d.intervalStart, endOfPeriod: d.intervalEnd };
      out.push({
        measurementSiteReference: site(siteId(o.applianceId, d.cameraId, null)),
        measurementTimeDefault: d.intervalEnd,
        physicalQuantity: [
          {
            index: SPEED_INDEX,
            basicData: {
              type: 'TrafficSpeed',
              measurementOrCalculationTime: period,
              averageVehicleSpeed: { speed: round1(d.meanSpeedKmh), numberOfInputValuesUsed: d.samples },
              ...(d.p85SpeedKmh !== null ? { speedPercentile: [{ vehiclePercentage: 85, speedPercentile: { speed: round1(d.p85SpeedKmh) } }] } : {}),
            },
          },
        ],
      });
    }
  }
  return {
    type: 'MeasuredDataPublication',
    ...header(o.applianceId, o.nowMs ?? Date.now(), o.country ?? 'XX'),
    measurementSiteTableReference: [{ id: `${o.applianceId}.sites`, version: '1', targetClass: 'MeasurementSiteTable' }],
    siteMeasurements: out,
  };
}

/** Measurement site table: what every (site, index) pair measures. */
export function toMeasurementSiteTable(sites: { cameraId: string; lineId: string; name?: string }[], o: { applianceId: string; nowMs?: number; country?: string }) {
  return {
    type: 'MeasurementSiteTablePublication' as const,
    ...header(o.applianceId, o.nowMs ?? Date.now(), o.country ?? 'XX'),
    measurementSiteTable: [
      {
        id: `${o.applianceId}.sites`,
        version: '1',
        measurementSiteRecord: sites.map((s) => ({
          id: siteId(o.applianceId, s.cameraId, s.lineId),
          version: '1',
          measurementSiteName: s.name ?? `${s.cameraId} ${s.lineId}`,
          measurementEquipmentTypeUsed: 'videoDetection',
          measurementSpecificCharacteristics: [
            ...DIRECTIONS.flatMap((dir) =>
              CLASS_ORDER.map((cls) => ({
                index: flowIndex(dir, cls),
                measurementSpecificCharacteristics: { specificMeasurementValueType: 'trafficFlow', specificVehicleCharacteristics: { vehicleType: VEHICLE_TYPE[cls] }, _direction: dir },
              })),
            ),
            { index: SPEED_INDEX, measurementSpecificCharacteristics: { specificMeasurementValueType: 'trafficSpeed' } },
          ],
        })),
      },
    ],
  };
}

export interface SituationRecord {
  type: DatexIncidentMapping['situationRecordType'];
  id: string;
  version: string;
  situationRecordCreationTime: string;
  situationRecordVersionTime: string;
  probabilityOfOccurrence: 'certain';
  validity: { validityStatus: 'active' | 'suspended'; validityTimeSpecification: { overallStartTime: string; overallEndTime?: string } };
  /** Roadside extension: where (the camera and zone); a real location reference is set up per site. */
  _location: { cameraId: string; zoneId: string | null };
  vehicleObstructionType?: string;
  abnormalTrafficType?: string;
  obstructionType?: string;
  numberOfObstructions?: number;
  /** Rule measures (speed, queue length...); no pixels. */
  _measures: Record<string, number>;
}

export interface Situation {
  id: string;
  version: string;
  overallSeverity: 'high' | 'medium' | 'low';
  headerInformation: { confidentiality: 'noRestriction'; informationStatus: 'real' };
  situationRecord: SituationRecord[];
}

export interface SituationPublication extends PublicationHeader {
  type: 'SituationPublication';
  situation: Situation[];
}

const SEVERITY: Record<IncidentKind, Situation['overallSeverity']> = {
  'wrong-way': 'high',
  'pedestrian-on-carriageway': 'high',
  'stopped-vehicle': 'medium',
  queue: 'low',
};

/**
 * One Situation per incident, from its incident.opened/updated/closed events in any order of arrival
 * (the latest by event time wins; its version = number of events seen). Closed incidents get an
 * overallEndTime and validityStatus 'suspended'.
 */
export function toSituations(events: Iterable<CloudEvent>, o: { applianceId: string; nowMs?: number; country?: string; activeOnly?: boolean }): SituationPublication {
  const latest = new Map<string, { e: CloudEvent; versions: number; firstTime: string }>();
  for (const e of events) {
    if (e.type !== 'incident.opened' && e.type !== 'incident.updated' && e.type !== 'incident.closed') continue;
    const d = e.data as IncidentData;
    const cur = latest.get(d.incidentId);
    if (!cur) latest.set(d.incidentId, { e, versions: 1, firstTime: e.time });
    else {
      cur.versions++;
      if (e.time < cur.firstTime) cur.firstTime = e.time;
      // closed beats anything at the same time; otherwise the newer event wins
      if (e.time > cur.e.time || (e.time === cur.e.time && e.type === 'incident.closed')) cur.e = e;
    }
  }
  const situations: Situation[] = [];
  for (const { e, versions, firstTime } of latest.values()) {
    const d = e.data as IncidentData;
    const closed = e.type === 'incident.closed';
    if (o.activeOnly && closed) continue;
    const m = INCIDENT_MAPPING[d.kind];
    const id = `${o.applianceId}.${d.incidentId}`;
    const rec: SituationRecord = {
      type: m.situationRecordType,
      id: `${id}.1`,
      version: String(versions),
      situationRecordCreationTime: firstTime,
      situationRecordVersionTime: e.time,
      probabilityOfOccurrence: 'certain',
      validity: {
        validityStatus: closed ? 'suspended' : 'active',
        validityTimeSpecification: { overallStartTime: d.startedAt, ...(closed ? { overallEndTime: d.endedAt ?? e.time } : {}) },
      },
      _location: { cameraId: d.cameraId, zoneId: d.zoneId },
      [m.field]: m.value,
      ...(m.situationRecordType === 'VehicleObstruction' ? { numberOfObstructions: Math.max(1, d.trackIds.length) } : {}),
      _measures: d.measures,
    };
    situations.push({ id, version: String(versions), overallSeverity: SEVERITY[d.kind], headerInformation: { confidentiality: 'noRestriction', informationStatus: 'real' }, situationRecord: [rec] });
  }
  situations.sort((a, b) => a.situationRecord[0].validity.validityTimeSpecification.overallStartTime.localeCompare(b.situationRecord[0].validity.validityTimeSpecification.overallStartTime) || a.id.localeCompare(b.id));
  return { type: 'SituationPublication', ...header(o.applianceId, o.nowMs ?? Date.now(), o.country ?? 'XX'), situation: situations };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
