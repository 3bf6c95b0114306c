// DATEX II v3 JSON export, built from the outbox: counts and speeds as a MeasuredDataPublication, the
// measurement sites as a MeasurementSiteTablePublication, incidents as a SituationPublication. Each
// document is a D2Payload (`{ payload: { modelBaseVersionG: "3", <prefix><Publication>: ... } }`) that
// validates against the official v3 JSON schemas (test/standards.test.ts). Where v3 has no element for
// a value, it goes into the `*ExtensionG` object of the nearest element, under `roadside`.
// Mapping and rules: docs/datex2.md.
import { createHash } from 'node:crypto';
import { isEventOf, isIncidentEvent, type CountIntervalData, type IncidentData, type LaneIntervalData, type SpeedIntervalData } from '../core/event-data.js';

type IncidentEvent = CloudEvent<IncidentData>;
import { LENGTH_CLASSES, eventTypeOf, type CloudEvent, type DataQualityFlag, type IncidentKind, type LengthClass, type ObjectClass } from '../core/types.js';

/** v3 model version in every payload. */
export const DATEX_MODEL_VERSION = '3';

/** Detector classes that are vehicles in the DATEX sense → VehicleTypeEnum. People are not vehicles. */
export const VEHICLE_TYPE: Partial<Record<ObjectClass, string>> = { car: 'car', truck: 'lorry', bus: 'bus', motorcycle: 'motorcycle', bicycle: 'bicycle' };
/** Fixed per-class index offset within a (bin size) block of a site. */
const CLASS_INDEX: Partial<Record<ObjectClass, number>> = { car: 1, truck: 2, bus: 3, motorcycle: 4, bicycle: 5 };
const FLOW_CLASSES = Object.keys(CLASS_INDEX) as ObjectClass[];
/** Offset of the TrafficSpeed value within a bin size's block. */
const SPEED_OFFSET = 50;
export const DIRECTIONS = ['forward', 'backward'] as const;
export type LineDirection = (typeof DIRECTIONS)[number];

/**
 * Stable index of a value within its site: binSeconds × 100 + offset (1..5 flow by class, 50 speed),
 * so 60 s and 900 s values of one site never share an index and the site table resolves each once.
 */
export function valueIndex(binSeconds: number, cls: ObjectClass | 'speed'): number {
  return binSeconds * 100 + (cls === 'speed' ? SPEED_OFFSET : (CLASS_INDEX[cls] ?? 0));
}

/** Site of one counting line and direction, or (lineId null) the camera-level speed site. */
export function siteId(applianceId: string, cameraId: string, lineId: string | null, direction?: LineDirection): string {
  return lineId === null ? `${applianceId}.${cameraId}` : `${applianceId}.${cameraId}.${lineId}.${direction ?? 'forward'}`;
}

export interface DatexIncidentMapping {
  /** SituationRecordG member (v3 JSON wrapper name). */
  record: 'sitVehicleObstruction' | 'sitAbnormalTraffic' | 'sitGeneralObstruction' | 'sitAccident';
  /** The v3 attribute and enumeration value. */
  field: 'vehicleObstructionType' | 'abnormalTrafficType' | 'obstructionType' | 'accidentType';
  value: string;
  severity: 'highest' | 'high' | 'medium' | 'low';
  /** Obstruction mobility (VehicleObstruction only). */
  mobility?: 'mobile' | 'stationary';
}

export const INCIDENT_MAPPING: Record<IncidentKind, DatexIncidentMapping> = {
  'stopped-vehicle': { record: 'sitVehicleObstruction', field: 'vehicleObstructionType', value: 'brokenDownVehicle', severity: 'medium', mobility: 'stationary' },
  'wrong-way': { record: 'sitVehicleObstruction', field: 'vehicleObstructionType', value: 'vehicleOnWrongCarriageway', severity: 'highest', mobility: 'mobile' },
  queue: { record: 'sitAbnormalTraffic', field: 'abnormalTrafficType', value: 'queuingTraffic', severity: 'low' },
  'pedestrian-on-carriageway': { record: 'sitGeneralObstruction', field: 'obstructionType', value: 'peopleOnRoadway', severity: 'high' },
  // An Accident record; a lone vehicle stopped across its lane is an 'accident' (accidentTypeOf).
  collision: { record: 'sitAccident', field: 'accidentType', value: 'collision', severity: 'high' },
};

/** v3 AccidentType of a collision: tracks seen in contact are a collision; a vehicle stopped across its lane, an accident. */
function accidentTypeOf(d: IncidentData): string {
  return d.collisionCue === 'across-lane' ? 'accident' : 'collision';
}

/** The incident's own severity (raised when people appeared around it), else its kind's. */
export function severityOf(d: IncidentData): DatexIncidentMapping['severity'] {
  return d.severity ?? INCIDENT_MAPPING[d.kind].severity;
}

/** WGS84 position of a camera or line (config `location`). */
export interface DatexLocation {
  latitude: number;
  longitude: number;
  bearing?: number;
  description?: string;
}

export interface DatexOptions {
  applianceId: string;
  /** ISO 3166-1 alpha-2 (config datex.country). */
  country?: string;
  /** Publication creator's national identifier (default: the appliance id). */
  nationalIdentifier?: string;
  lang?: string;
  nowMs?: number;
  /** Location of a camera (lineId null) or a line; undefined = not configured. */
  locate?: (cameraId: string, lineId: string | null) => DatexLocation | undefined;
}

type Json = Record<string, unknown>;

const text = (lang: string, value: string) => ({ values: [{ lang, value }] });
const enumG = (value: string) => ({ value });

function creator(o: DatexOptions) {
  return { country: o.country ?? 'XX', nationalIdentifier: o.nationalIdentifier ?? o.applianceId };
}

function publicationHeader(o: DatexOptions) {
  return { lang: o.lang ?? 'en', publicationTime: new Date(o.nowMs ?? Date.now()).toISOString(), publicationCreator: creator(o) };
}

const headerInformation = { confidentiality: enumG('noRestriction'), informationStatus: enumG('real') };

/** The D2Payload wrapper around one publication. */
function payload(member: string, publication: Json): Json {
  return { payload: { modelBaseVersionG: DATEX_MODEL_VERSION, [member]: publication } };
}

/** A point location: coordinates when configured, always a description naming camera (and line/zone). */
export function pointLocation(lang: string, label: string, loc: DatexLocation | undefined, backward = false): Json {
  const point: Json = { supplementaryPositionalDescription: { locationDescription: text(lang, loc?.description ? `${loc.description} (${label})` : label) } };
  if (loc) {
    const bearing = loc.bearing === undefined ? undefined : Math.round(loc.bearing + (backward ? 180 : 0)) % 360;
    point.pointByCoordinates = { pointCoordinates: { latitude: loc.latitude, longitude: loc.longitude }, ...(bearing !== undefined ? { bearing } : {}) };
  }
  return { locPointLocation: point };
}

// ---------------------------------------------------------------------------------------------------
// Measured data

interface IntervalLike {
  intervalStart: string;
  intervalEnd: string;
  binSeconds: number;
  partial?: boolean;
  flags?: DataQualityFlag[];
}

function flagsOf(d: IntervalLike): DataQualityFlag[] {
  return d.flags ?? (d.partial ? ['partial'] : []);
}

function observedSeconds(d: IntervalLike): number {
  return (Date.parse(d.intervalEnd) - Date.parse(d.intervalStart)) / 1000;
}

/**
 * Data-quality attributes of a DataValue: a flagged interval (gap, partial, camera fault) is sent with
 * dataError and one incomplete input, and says why; the number itself is never extrapolated.
 */
function quality(d: IntervalLike, lang: string): Json {
  const flags = flagsOf(d);
  if (flags.length === 0) return {};
  const observed = observedSeconds(d);
  const why = `${flags.join(', ')}: interval ${d.intervalStart}/${d.intervalEnd} (${observed} s observed of a ${d.binSeconds} s bin)`;
  return { dataError: true, reasonForDataError: text(lang, why), numberOfIncompleteInputs: 1 };
}

/**
 * Flow value of a count. vehicleFlowRate (veh/h, integer in v3) is the count over the nominal bin
 * (count × 3600 / binSeconds): a partial interval is not scaled up to an hourly rate from the part
 * that was observed. The raw count is numberOfInputValuesUsed, and again in the extension.
 */
function flowValue(count: number, d: IntervalLike, lang: string): Json {
  return {
    ...quality(d, lang),
    numberOfInputValuesUsed: count,
    vehicleFlowRate: Math.round((count * 3600) / d.binSeconds),
    vehicleFlowValueExtensionG: { roadside: { count, observedSeconds: observedSeconds(d) } },
  };
}

function measurementTime(d: IntervalLike): Json {
  return { timeValue: d.intervalEnd, timeMeaning: enumG('endTime'), period: { startOfPeriod: d.intervalStart, endOfPeriod: d.intervalEnd } };
}

function siteRef(id: string): Json {
  return { targetClass: 'MeasurementSite', idG: id, versionG: '1' };
}

/**
 * Vehicle classes the line counts: events list every direction × counted class (zeros included), so a
 * class present in both directions is counted; older sparse events fall back to every vehicle class.
 */
function countedClasses(d: CountIntervalData): ObjectClass[] {
  const both = FLOW_CLASSES.filter((cls) => DIRECTIONS.every((dir) => d.counts.some((c) => c.cls === cls && c.direction === dir)));
  const complete = d.counts.every((c) => c.cls === 'person' || both.includes(c.cls));
  return complete && both.length > 0 ? both : FLOW_CLASSES;
}

function lineMeasurements(d: CountIntervalData, o: DatexOptions): Json[] {
  const lang = o.lang ?? 'en';
  const classes = countedClasses(d);
  return DIRECTIONS.map((direction) => {
    const rows = d.counts.filter((c) => c.direction === direction);
    const physicalQuantity = classes.map((cls) => ({
      index: valueIndex(d.binSeconds, cls),
      physicalQuantity: {
        roaSinglePhysicalQuantity: {
          basicData: {
            roaTrafficFlow: {
              forVehiclesWithCharacteristicsOf: { vehicleType: [enumG(VEHICLE_TYPE[cls] as string)] },
              vehicleFlow: flowValue(rows.find((r) => r.cls === cls)?.count ?? 0, d, lang),
            },
          },
        },
      },
    }));
    const people = rows.find((r) => r.cls === 'person');
    const flags = flagsOf(d);
    return {
      measurementSiteReference: siteRef(siteId(o.applianceId, d.cameraId, d.lineId, direction)),
      measurementTimeDefault: measurementTime(d),
      physicalQuantity,
      // People crossing the line are not vehicles: DATEX TrafficFlow has no place for them.
      siteMeasurementsExtensionG: { roadside: { cameraId: d.cameraId, lineId: d.lineId, direction, binSeconds: d.binSeconds, ...(people ? { persons: people.count } : {}), ...(flags.length ? { flags } : {}) } },
    };
  });
}

function speedMeasurements(d: SpeedIntervalData, o: DatexOptions): Json {
  const lang = o.lang ?? 'en';
  const flags = flagsOf(d);
  const physicalQuantity =
    d.meanSpeedKmh === null
      ? []
      : [
          {
            index: valueIndex(d.binSeconds, 'speed'),
            physicalQuantity: {
              roaSinglePhysicalQuantity: {
                basicData: {
                  roaTrafficSpeed: {
                    averageVehicleSpeed: { ...quality(d, lang), numberOfInputValuesUsed: d.samples, speed: round1(d.meanSpeedKmh) },
                    ...(d.p85SpeedKmh !== null
                      ? { speedPercentile: [{ vehiclePercentage: { percentage: 85 }, speedPercentile: { ...quality(d, lang), speed: round1(d.p85SpeedKmh) } }] }
                      : {}),
                  },
                },
              },
            },
          },
        ];
  return {
    measurementSiteReference: siteRef(siteId(o.applianceId, d.cameraId, null)),
    measurementTimeDefault: measurementTime(d),
    physicalQuantity,
    siteMeasurementsExtensionG: { roadside: { cameraId: d.cameraId, binSeconds: d.binSeconds, samples: d.samples, ...(flags.length ? { flags } : {}) } },
  };
}

/** Lane intervals for measured data: all of them, or (latestOnly) the newest of each camera and lane. */
export function latestLaneIntervals<E extends { time: string; data: { cameraId: string; laneId: string } }>(events: E[], latestOnly: boolean): E[] {
  if (!latestOnly) return events;
  const last = new Map<string, E>();
  for (const e of events) {
    const key = `${e.data.cameraId}|${e.data.laneId}`;
    const cur = last.get(key);
    if (!cur || e.time >= cur.time) last.set(key, e);
  }
  return [...last.values()].sort((a, b) => a.time.localeCompare(b.time));
}

export function siteTableId(applianceId: string): string {
  return `${applianceId}.sites`;
}

/**
 * Measured data of count.interval (two sites per line: one per direction) and speed.interval (the
 * camera site) events. v3 wants at least one SiteMeasurements: without events, the caller lists its
 * sites with no quantities (`emptySites`), which claims nothing.
 */
export function toMeasuredData(events: Iterable<CloudEvent>, o: DatexOptions & { emptySites?: string[]; siteTableVersion?: string }): Json {
  const siteMeasurements: Json[] = [];
  for (const e of events) {
    if (isEventOf(e, 'count.interval')) siteMeasurements.push(...lineMeasurements(e.data, o));
    else if (isEventOf(e, 'speed.interval')) siteMeasurements.push(speedMeasurements(e.data, o));
    else if (isEventOf(e, 'lane.interval')) siteMeasurements.push(laneMeasurements(e.data, o));
  }
  if (siteMeasurements.length === 0) {
    const now = new Date(o.nowMs ?? Date.now()).toISOString();
    for (const id of o.emptySites ?? []) siteMeasurements.push({ measurementSiteReference: siteRef(id), measurementTimeDefault: { timeValue: now } });
  }
  return payload('roaMeasuredDataPublication', {
    ...publicationHeader(o),
    headerInformation,
    measurementSiteTableReference: [{ targetClass: 'MeasurementSiteTable', idG: siteTableId(o.applianceId), versionG: o.siteTableVersion ?? '1' }],
    siteMeasurements,
  });
}

// ---------------------------------------------------------------------------------------------------
// Measurement site table

export interface SiteSource {
  cameraId: string;
  cameraName?: string;
  /** Counting lines of the camera (a camera without lines still has its speed site). */
  lines: { lineId: string; name?: string; classes?: ObjectClass[] }[];
  /** Lanes of the camera, in config order (lane number 1 = the first): one measurement site each. */
  lanes?: LaneSiteSource[];
}

function characteristic(index: number, type: string, binSeconds: number, vehicleType?: string): Json {
  return {
    index,
    measurementSpecificCharacteristics: {
      period: binSeconds,
      specificMeasurementValueType: enumG(type),
      ...(vehicleType ? { specificVehicleCharacteristics: { vehicleType: [enumG(vehicleType)] } } : {}),
    },
  };
}

/** Every site id the table lists (for the empty measured-data answer). */
export function siteIds(applianceId: string, sources: SiteSource[]): string[] {
  return sources.flatMap((s) => [
    siteId(applianceId, s.cameraId, null),
    ...s.lines.flatMap((l) => DIRECTIONS.map((d) => siteId(applianceId, s.cameraId, l.lineId, d))),
    ...(s.lanes ?? []).map((l) => laneSiteId(applianceId, s.cameraId, l.laneId)),
  ]);
}

/**
 * Version of the site table: a digest of everything it lists, so it changes exactly when a line, a
 * class, a bin size or a location does (measured data references the same version).
 */
export function siteTableVersion(sources: SiteSource[], binSeconds: number[], o: DatexOptions): string {
  const locations = sources.flatMap((s) => [o.locate?.(s.cameraId, null), ...s.lines.map((l) => o.locate?.(s.cameraId, l.lineId))]);
  // Lanes (with their interval) are part of `sources`, so a new lane or interval changes the version.
  return createHash('sha256').update(JSON.stringify([sources, binSeconds, locations, o.lang ?? 'en'])).digest('hex').slice(0, 12);
}

/** One site per line and direction (flows per class and bin size) and one per camera (speeds). */
export function toMeasurementSiteTable(sources: SiteSource[], binSeconds: number[], o: DatexOptions): Json {
  const lang = o.lang ?? 'en';
  const measurementSite: Json[] = [];
  for (const s of sources) {
    const camLoc = o.locate?.(s.cameraId, null);
    for (const l of s.lines) {
      const loc = o.locate?.(s.cameraId, l.lineId) ?? camLoc;
      const classes = FLOW_CLASSES.filter((c) => !l.classes || l.classes.includes(c));
      for (const direction of DIRECTIONS) {
        const label = `camera ${s.cameraId}, line ${l.lineId}, ${direction}`;
        measurementSite.push({
          idG: siteId(o.applianceId, s.cameraId, l.lineId, direction),
          versionG: '1',
          measurementEquipmentTypeUsed: text(lang, 'video detection (Roadside appliance)'),
          measurementSiteName: text(lang, `${l.name ?? l.lineId} (${direction})`),
          measurementSpecificCharacteristics: binSeconds.flatMap((b) => classes.map((c) => characteristic(valueIndex(b, c), 'trafficFlow', b, VEHICLE_TYPE[c]))),
          measurementSiteLocation: pointLocation(lang, label, loc, direction === 'backward'),
          measurementSiteExtensionG: { roadside: { cameraId: s.cameraId, lineId: l.lineId, direction } },
        });
      }
    }
    measurementSite.push(...laneSites(s, camLoc, o));
    measurementSite.push({
      idG: siteId(o.applianceId, s.cameraId, null),
      versionG: '1',
      measurementEquipmentTypeUsed: text(lang, 'video detection (Roadside appliance)'),
      measurementSiteName: text(lang, `${s.cameraName ?? s.cameraId} (speeds)`),
      measurementSpecificCharacteristics: binSeconds.map((b) => characteristic(valueIndex(b, 'speed'), 'trafficSpeed', b)),
      measurementSiteLocation: pointLocation(lang, `camera ${s.cameraId}`, camLoc),
      measurementSiteExtensionG: { roadside: { cameraId: s.cameraId } },
    });
  }
  return payload('roaMeasurementSiteTablePublication', {
    ...publicationHeader(o),
    headerInformation,
    measurementSiteTable: [{ idG: siteTableId(o.applianceId), versionG: siteTableVersion(sources, binSeconds, o), measurementSite }],
  });
}

// ---------------------------------------------------------------------------------------------------
// Lanes: one measurement site per lane, like a loop station's lane (docs/datex2.md). Within a bin
// size's block of indices: 1..5 flow by vehicle type (as lines), 10 flow of all vehicles, 11..14 flow
// by length class, 50 speed, 60 occupancy, 70 headway, 71 gap.

const LANE_OFFSET = { all: 10, speed: 50, occupancy: 60, headway: 70, gap: 71 } as const;
const LENGTH_OFFSET: Record<LengthClass, number> = { light: 11, medium: 12, heavy: 13, articulated: 14 };

export interface LaneSiteSource {
  laneId: string;
  name?: string;
  /** 1-based lane number at this camera (config order). */
  laneNumber: number;
  /** The lane's interval (s); lane data has its own, independent of the count bins. */
  intervalSeconds: number;
  /** Length class upper bounds (m): light, medium, heavy; articulated is longer. */
  lengthClassesM?: { lightMaxM: number; mediumMaxM: number; heavyMaxM: number };
}

/** The lane sites of a configured camera (its lanes in config order, its lane interval and length classes). */
export function laneSiteSources(cam: { lanes?: Array<{ id: string; name?: string }>; laneData?: { intervalSeconds: number; lengthClasses: LaneSiteSource['lengthClassesM'] } }): LaneSiteSource[] {
  return (cam.lanes ?? []).map((l, i) => ({
    laneId: l.id,
    ...(l.name ? { name: l.name } : {}),
    laneNumber: i + 1,
    intervalSeconds: cam.laneData?.intervalSeconds ?? 30,
    ...(cam.laneData?.lengthClasses ? { lengthClassesM: cam.laneData.lengthClasses } : {}),
  }));
}

/** Site of one lane: four segments like a line site, the last one 'lane' (never a direction). */
export function laneSiteId(applianceId: string, cameraId: string, laneId: string): string {
  return `${applianceId}.${cameraId}.${laneId}.lane`;
}

export function laneValueIndex(binSeconds: number, what: ObjectClass | LengthClass | keyof typeof LANE_OFFSET): number {
  const off = what in LANE_OFFSET ? LANE_OFFSET[what as keyof typeof LANE_OFFSET] : what in LENGTH_OFFSET ? LENGTH_OFFSET[what as LengthClass] : (CLASS_INDEX[what as ObjectClass] ?? 0);
  return binSeconds * 100 + off;
}

/** VehicleCharacteristics of a length class: bounds from the config (v3 allows two length characteristics). */
function lengthCharacteristics(lc: LengthClass, t: NonNullable<LaneSiteSource['lengthClassesM']>): Json {
  const bounds: Record<LengthClass, Array<[string, number]>> = {
    light: [['lessThanOrEqualTo', t.lightMaxM]],
    medium: [['greaterThan', t.lightMaxM], ['lessThanOrEqualTo', t.mediumMaxM]],
    heavy: [['greaterThan', t.mediumMaxM], ['lessThanOrEqualTo', t.heavyMaxM]],
    articulated: [['greaterThan', t.heavyMaxM]],
  };
  return { lengthCharacteristic: bounds[lc].map(([op, m]) => ({ comparisonOperator: enumG(op), vehicleLength: m })) };
}

function quantity(index: number, basicData: Json): Json {
  return { index, physicalQuantity: { roaSinglePhysicalQuantity: { basicData } } };
}

function laneMeasurements(d: LaneIntervalData, o: DatexOptions): Json {
  const lang = o.lang ?? 'en';
  const b = d.binSeconds;
  const q = quality(d, lang);
  const flows = d.counts
    .filter((c) => VEHICLE_TYPE[c.cls] !== undefined)
    .map((c) =>
      quantity(laneValueIndex(b, c.cls), {
        roaTrafficFlow: { forVehiclesWithCharacteristicsOf: { vehicleType: [enumG(VEHICLE_TYPE[c.cls] as string)] }, vehicleFlow: flowValue(c.count, d, lang) },
      }),
    );
  const physicalQuantity: Json[] = [quantity(laneValueIndex(b, 'all'), { roaTrafficFlow: { vehicleFlow: flowValue(d.volume, d, lang) } }), ...flows];
  for (const lc of d.lengthClasses) {
    physicalQuantity.push(quantity(laneValueIndex(b, lc.lengthClass), { roaTrafficFlow: { vehicleFlow: flowValue(lc.count, d, lang) } }));
  }
  if (d.meanSpeedKmh !== null) {
    physicalQuantity.push(
      quantity(laneValueIndex(b, 'speed'), {
        roaTrafficSpeed: {
          averageVehicleSpeed: { ...q, numberOfInputValuesUsed: d.volume, speed: round1(d.meanSpeedKmh) },
          ...(d.p85SpeedKmh !== null ? { speedPercentile: [{ vehiclePercentage: { percentage: 85 }, speedPercentile: { ...q, speed: round1(d.p85SpeedKmh) } }] } : {}),
        },
      }),
    );
  }
  if (d.occupancyPct !== null) physicalQuantity.push(quantity(laneValueIndex(b, 'occupancy'), { roaTrafficConcentration: { occupancy: { ...q, percentage: d.occupancyPct } } }));
  if (d.meanHeadwayS !== null) physicalQuantity.push(quantity(laneValueIndex(b, 'headway'), { roaTrafficHeadway: { averageTimeHeadway: { ...q, duration: d.meanHeadwayS } } }));
  if (d.meanGapS !== null) physicalQuantity.push(quantity(laneValueIndex(b, 'gap'), { roaTrafficGap: { averageTimeGap: { ...q, duration: d.meanGapS } } }));
  const flags = flagsOf(d);
  return {
    measurementSiteReference: siteRef(laneSiteId(o.applianceId, d.cameraId, d.laneId)),
    measurementTimeDefault: measurementTime(d),
    physicalQuantity,
    siteMeasurementsExtensionG: {
      roadside: {
        cameraId: d.cameraId,
        laneId: d.laneId,
        binSeconds: b,
        ...(d.meanLengthM !== null ? { meanLengthM: d.meanLengthM } : {}),
        ...(d.queueLengthM !== null ? { queueLengthM: d.queueLengthM } : {}),
        ...(flags.length ? { flags } : {}),
      },
    },
  };
}

function laneSites(s: SiteSource, camLoc: DatexLocation | undefined, o: DatexOptions): Json[] {
  const lang = o.lang ?? 'en';
  return (s.lanes ?? []).map((l) => {
    const b = l.intervalSeconds;
    const lane = { specificLane: [{ laneNumber: l.laneNumber }] };
    const ch = (index: number, type: string, vehicle?: Json): Json => ({
      index,
      measurementSpecificCharacteristics: { period: b, specificMeasurementValueType: enumG(type), ...lane, ...(vehicle ? { specificVehicleCharacteristics: vehicle } : {}) },
    });
    const characteristics = [
      ch(laneValueIndex(b, 'all'), 'trafficFlow'),
      ...FLOW_CLASSES.map((c) => ch(laneValueIndex(b, c), 'trafficFlow', { vehicleType: [enumG(VEHICLE_TYPE[c] as string)] })),
      ...(l.lengthClassesM ? LENGTH_CLASSES.map((lc) => ch(laneValueIndex(b, lc), 'trafficFlow', lengthCharacteristics(lc, l.lengthClassesM as NonNullable<LaneSiteSource['lengthClassesM']>))) : []),
      ch(laneValueIndex(b, 'speed'), 'trafficSpeed'),
      ch(laneValueIndex(b, 'occupancy'), 'trafficConcentration'),
      ch(laneValueIndex(b, 'headway'), 'trafficHeadway'),
      ch(laneValueIndex(b, 'gap'), 'trafficGap'),
    ];
    return {
      idG: laneSiteId(o.applianceId, s.cameraId, l.laneId),
      versionG: '1',
      measurementEquipmentTypeUsed: text(lang, 'video detection, virtual loop (Roadside appliance)'),
      measurementSiteName: text(lang, `${l.name ?? l.laneId} (lane ${l.laneNumber})`),
      measurementSiteNumberOfLanes: 1,
      measurementSpecificCharacteristics: characteristics,
      measurementSiteLocation: pointLocation(lang, `camera ${s.cameraId}, lane ${l.laneId}`, camLoc),
      measurementSiteExtensionG: { roadside: { cameraId: s.cameraId, laneId: l.laneId, laneNumber: l.laneNumber } },
    };
  });
}

// ---------------------------------------------------------------------------------------------------
// Situations

/** The latest event of each incident; closed beats anything at the same time. */
function latestPerIncident(events: Iterable<CloudEvent>): Map<string, IncidentEvent> {
  const latest = new Map<string, IncidentEvent>();
  for (const e of events) {
    if (!isIncidentEvent(e)) continue;
    const d = e.data;
    const cur = latest.get(d.incidentId);
    if (!cur || e.time > cur.time || (e.time === cur.time && eventTypeOf(e) === 'incident.closed')) latest.set(d.incidentId, e);
  }
  return latest;
}

/**
 * Version of a record: the incident's own revision (1 at opening, +1 per update and at closing), so it
 * changes when the record does and never with the query window. Events without it (older outboxes) use
 * their time in ms, which has the same property.
 */
function versionOf(e: IncidentEvent): string {
  const d = e.data;
  return String(d.revision ?? Date.parse(e.time));
}

/** End of a closed incident: when it was last seen, but always after its start (v3 periods are not empty). */
function endOf(e: IncidentEvent): string {
  const d = e.data;
  const start = Date.parse(d.startedAt);
  const candidates = [d.endedAt, e.time].filter((t): t is string => t !== null).map((t) => Date.parse(t));
  const end = candidates.find((t) => t > start) ?? start + 1000;
  return new Date(end).toISOString();
}

function situationRecord(e: IncidentEvent, o: DatexOptions): Json {
  const d = e.data;
  const lang = o.lang ?? 'en';
  const m = INCIDENT_MAPPING[d.kind];
  const closed = eventTypeOf(e) === 'incident.closed';
  const label = `camera ${d.cameraId}${d.zoneId ? `, zone ${d.zoneId}` : ''}`;
  const value = m.field === 'obstructionType' ? [enumG(m.value)] : m.field === 'accidentType' ? [enumG(accidentTypeOf(d))] : enumG(m.value);
  const severity = severityOf(d);
  const rec: Json = {
    idG: `${o.applianceId}.${d.incidentId}.1`,
    versionG: versionOf(e),
    situationRecordCreationTime: d.startedAt,
    situationRecordObservationTime: e.time,
    situationRecordVersionTime: e.time,
    probabilityOfOccurrence: enumG('certain'),
    severity: enumG(severity),
    safetyRelatedMessage: severity === 'highest' || severity === 'high',
    validity: {
      // A closed incident is over: its validity is its time span (v3 'suspended' would mean paused).
      validityStatus: enumG(closed ? 'definedByValidityTimeSpec' : 'active'),
      validityTimeSpecification: { overallStartTime: d.startedAt, ...(closed ? { overallEndTime: endOf(e) } : {}) },
    },
    locationReference: pointLocation(lang, label, o.locate?.(d.cameraId, null)),
    [m.field]: value,
    ...(m.record === 'sitVehicleObstruction' ? { numberOfObstructions: Math.max(1, d.trackIds.length), ...(m.mobility ? { mobilityOfObstruction: { mobilityType: enumG(m.mobility) } } : {}) } : {}),
    ...(m.record === 'sitGeneralObstruction' ? { numberOfObstructions: Math.max(1, d.trackIds.length) } : {}),
    ...(m.record === 'sitAccident' ? { totalNumberOfVehiclesInvolved: Math.max(1, d.trackIds.length) } : {}),
    ...(m.record === 'sitAbnormalTraffic' && d.measures.queueLengthM !== undefined ? { queueLength: Math.max(0, Math.round(d.measures.queueLengthM)) } : {}),
    situationRecordExtensionG: {
      roadside: { kind: d.kind, cameraId: d.cameraId, zoneId: d.zoneId, measures: d.measures, ...(d.collisionCue ? { collisionCue: d.collisionCue } : {}), ...(closed && d.closeReason ? { closeReason: d.closeReason } : {}) },
    },
  };
  return { [m.record]: rec };
}

/** One Situation per incident from its incident.* events (any order; the latest by time sets the record). */
export function toSituations(events: Iterable<CloudEvent>, o: DatexOptions & { activeOnly?: boolean }): Json {
  const situation: Json[] = [];
  const latest = [...latestPerIncident(events).values()]
    .filter((e) => !(o.activeOnly && eventTypeOf(e) === 'incident.closed'))
    .sort((a, b) => a.data.startedAt.localeCompare(b.data.startedAt) || a.data.incidentId.localeCompare(b.data.incidentId));
  for (const e of latest) {
    const d = e.data;
    situation.push({
      idG: `${o.applianceId}.${d.incidentId}`,
      overallSeverity: enumG(severityOf(d)),
      situationVersionTime: e.time,
      headerInformation,
      situationRecord: [situationRecord(e, o)],
    });
  }
  return payload('sitSituationPublication', { ...publicationHeader(o), situation });
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
