// Payloads of every exported event type: one TypeBox schema each, used to type the producers
// (analytics), to validate in tests, and published as JSON Schema by the API.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import './formats.js';
import { CAMERA_STATES, COLLISION_CUES, DATA_QUALITY_FLAGS, HEALTH_CHECKS, HEALTH_EVENT_STATES, INCIDENT_CLOSE_REASONS, INCIDENT_KINDS, INCIDENT_SEVERITIES, LENGTH_CLASSES, OBJECT_CLASSES, eventTypeOf, type CloudEvent, type EventType } from './types.js';
import { literalUnion } from './schema-util.js';

const ObjectClassSchema = literalUnion(OBJECT_CLASSES);
const Direction = Type.Union([Type.Literal('forward'), Type.Literal('backward')], {
  description: 'forward = along the line direction vector, backward = against it',
});
const IntervalFields = {
  cameraId: Type.String(),
  intervalStart: Type.String({ format: 'date-time' }),
  intervalEnd: Type.String({ format: 'date-time' }),
  binSeconds: Type.Integer({ minimum: 1 }),
  /** The interval was observed only in part (start-up, reconfiguration, stream lost, shutdown). */
  partial: Type.Optional(Type.Boolean()),
  /** Data-quality flags (core/types.ts DATA_QUALITY_FLAGS); absent or empty = complete and trusted. */
  flags: Type.Optional(Type.Array(literalUnion(DATA_QUALITY_FLAGS))),
};

export const CountIntervalData = Type.Object({
  ...IntervalFields,
  lineId: Type.String(),
  counts: Type.Array(Type.Object({ direction: Direction, cls: ObjectClassSchema, count: Type.Integer({ minimum: 0 }) })),
  /** Mean speed (km/h) of the counted tracks with a calibrated speed, null without calibration. */
  meanSpeedKmh: Type.Union([Type.Number(), Type.Null()]),
});
export type CountIntervalData = Static<typeof CountIntervalData>;

export const ZoneIntervalData = Type.Object({
  ...IntervalFields,
  zoneId: Type.String(),
  entries: Type.Integer({ minimum: 0 }),
  exits: Type.Integer({ minimum: 0 }),
  meanOccupancy: Type.Number({ minimum: 0 }),
  maxOccupancy: Type.Integer({ minimum: 0 }),
  meanDwellSeconds: Type.Union([Type.Number(), Type.Null()]),
});
export type ZoneIntervalData = Static<typeof ZoneIntervalData>;

export const MovementIntervalData = Type.Object({
  ...IntervalFields,
  movements: Type.Array(
    Type.Object({ fromZone: Type.String(), toZone: Type.String(), cls: ObjectClassSchema, count: Type.Integer({ minimum: 0 }) }),
  ),
});
export type MovementIntervalData = Static<typeof MovementIntervalData>;

export const SpeedIntervalData = Type.Object({
  ...IntervalFields,
  meanSpeedKmh: Type.Union([Type.Number(), Type.Null()]),
  p85SpeedKmh: Type.Union([Type.Number(), Type.Null()]),
  samples: Type.Integer({ minimum: 0 }),
});
export type SpeedIntervalData = Static<typeof SpeedIntervalData>;

const NullableNumber = (description: string) => Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description });

/**
 * One lane over one interval, like a loop-detector station reports it. Volume counts vehicles whose
 * footprint reached the lane's virtual loop in the interval; occupancy is the share of the observed
 * interval with a vehicle over the loop. Speeds and lengths need the calibration (or the loop's
 * measured length); null = not measurable here, never a confident zero.
 */
export const LaneIntervalData = Type.Object({
  ...IntervalFields,
  laneId: Type.String(),
  /** Vehicles of every class. */
  volume: Type.Integer({ minimum: 0 }),
  /** Per vehicle class, zeros included. */
  counts: Type.Array(Type.Object({ cls: ObjectClassSchema, count: Type.Integer({ minimum: 0 }) })),
  /** Time occupancy of the virtual loop, % of the observed interval; null for a lane without a loop. */
  occupancyPct: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]),
  meanSpeedKmh: NullableNumber('mean spot speed of the vehicles that reached the loop (km/h)'),
  p85SpeedKmh: NullableNumber('85th percentile speed (km/h); calibrated cameras only'),
  meanHeadwayS: NullableNumber('mean time between the fronts of successive vehicles at the loop (s)'),
  meanGapS: NullableNumber('mean time from one vehicle leaving the loop to the next one reaching it (s)'),
  meanLengthM: NullableNumber('mean vehicle length (m): speed × time over the loop − loop length'),
  /** Vehicles per length class, zeros included; empty when lengths cannot be measured. */
  lengthClasses: Type.Array(Type.Object({ lengthClass: literalUnion(LENGTH_CLASSES), count: Type.Integer({ minimum: 0 }) })),
  queueLengthM: NullableNumber('longest queue in the lane during the interval (m), null when no queue was detected'),
});
export type LaneIntervalData = Static<typeof LaneIntervalData>;

const IncidentKindSchema = literalUnion(INCIDENT_KINDS);

export const IncidentData = Type.Object({
  incidentId: Type.String(),
  cameraId: Type.String(),
  kind: IncidentKindSchema,
  zoneId: Type.Union([Type.String(), Type.Null()]),
  trackIds: Type.Array(Type.Integer()),
  startedAt: Type.String({ format: 'date-time' }),
  endedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** Rule-specific numbers (speed, queue length in m, occupancy...). Never pixels. */
  measures: Type.Record(Type.String(), Type.Number()),
  /** 1 at opening, +1 with every update and at closing: the DATEX record version. */
  revision: Type.Optional(Type.Integer({ minimum: 1 })),
  /** How urgent (absent in older events: the kind's default). Raised when people appear around the stopped vehicles. */
  severity: Type.Optional(literalUnion(INCIDENT_SEVERITIES)),
  /** collision only: what showed it (tracks in contact that stopped sharply, or a vehicle stopped across the lane). */
  collisionCue: Type.Optional(literalUnion(COLLISION_CUES)),
  /** incident.closed only: why it closed (the condition cleared, the stream was lost, the camera stopped or was reconfigured). */
  closeReason: Type.Optional(literalUnion(INCIDENT_CLOSE_REASONS)),
});
export type IncidentData = Static<typeof IncidentData>;

export const CameraStateData = Type.Object({
  cameraId: Type.String(),
  state: literalUnion(CAMERA_STATES),
  reason: Type.Optional(Type.String()),
});
export type CameraStateData = Static<typeof CameraStateData>;

/** Where a config change came from: the file at start (a new config after an update), the API, SIGHUP. */
export const CONFIG_SOURCES = ['start', 'api', 'reload'] as const;
const CameraIds = Type.Array(Type.String(), { description: 'camera ids' });

/** A new running config: its version and content hash and what it touched. Never a credential. */
export const ConfigAppliedData = Type.Object({
  version: Type.Integer({ minimum: 1, description: 'increases with every applied change, also across restarts' }),
  hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 of the canonical config JSON (credentials included, never shown)' }),
  previousHash: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()]),
  source: literalUnion(CONFIG_SOURCES),
  cameras: Type.Object({ added: CameraIds, removed: CameraIds, changed: CameraIds }),
  /** Top-level config sections that changed (empty at start: the previous config is not kept). */
  sections: Type.Array(Type.String()),
});
export type ConfigAppliedData = Static<typeof ConfigAppliedData>;

/** One camera health problem (frozen, covered, defocused, moved, dark, overexposed): numbers only, never pixels. */
export const CameraHealthData = Type.Object({
  healthId: Type.String(),
  cameraId: Type.String(),
  check: literalUnion(HEALTH_CHECKS),
  state: literalUnion(HEALTH_EVENT_STATES),
  startedAt: Type.String({ format: 'date-time' }),
  endedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** Check-specific measures (shift in px, sharpness ratio, mean luma...). */
  measures: Type.Record(Type.String(), Type.Number()),
});
export type CameraHealthData = Static<typeof CameraHealthData>;


/** Each event type with its payload: producers and consumers narrow on `type`, never cast `data`. */
export interface EventDataMap {
  'count.interval': CountIntervalData;
  'zone.interval': ZoneIntervalData;
  'movement.interval': MovementIntervalData;
  'speed.interval': SpeedIntervalData;
  'lane.interval': LaneIntervalData;
  'incident.opened': IncidentData;
  'incident.updated': IncidentData;
  'incident.closed': IncidentData;
  'camera.state': CameraStateData;
  'config.applied': ConfigAppliedData;
  'camera.health': CameraHealthData;
}

/** A domain event whose payload follows from its type (a discriminated union over every type). */
export type TypedEvent = { [K in EventType]: { type: K; cameraId: string; timeMs: number; data: EventDataMap[K] } }[EventType];

/** A stored or received envelope of one type, with that type's payload. */
export type CloudEventOf<K extends EventType> = CloudEvent<EventDataMap[K]>;

/** Narrows an envelope by its (internal or prefixed) type: `if (isEventOf(e, 'count.interval')) e.data.lineId`. */
export function isEventOf<K extends EventType>(e: CloudEvent, type: K): e is CloudEventOf<K> {
  return eventTypeOf(e) === type;
}

const INCIDENT_EVENT_TYPES: ReadonlySet<EventType> = new Set(['incident.opened', 'incident.updated', 'incident.closed']);

/** Any incident envelope (opened, updated, closed): they share IncidentData. */
export function isIncidentEvent(e: CloudEvent): e is CloudEvent<IncidentData> {
  return INCIDENT_EVENT_TYPES.has(eventTypeOf(e));
}

/** Count and speed intervals share the interval fields. */
export function isIntervalEvent(e: CloudEvent): e is CloudEventOf<'count.interval'> | CloudEventOf<'speed.interval'> {
  const t = eventTypeOf(e);
  return t === 'count.interval' || t === 'speed.interval';
}

export const EVENT_DATA_SCHEMAS: { [K in keyof EventDataMap]: TSchema } = {
  'count.interval': CountIntervalData,
  'zone.interval': ZoneIntervalData,
  'movement.interval': MovementIntervalData,
  'speed.interval': SpeedIntervalData,
  'lane.interval': LaneIntervalData,
  'incident.opened': IncidentData,
  'incident.updated': IncidentData,
  'incident.closed': IncidentData,
  'camera.state': CameraStateData,
  'config.applied': ConfigAppliedData,
  'camera.health': CameraHealthData,
};
