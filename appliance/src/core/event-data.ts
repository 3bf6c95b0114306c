// Payloads of every exported event type: one TypeBox schema each, used to type the producers
// (analytics), to validate in tests, and published as JSON Schema by the API.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import './formats.js';
import { DATA_QUALITY_FLAGS, HEALTH_CHECKS, HEALTH_EVENT_STATES, OBJECT_CLASSES, type EventType } from './types.js';

const ObjectClassSchema = Type.Union(OBJECT_CLASSES.map((c) => Type.Literal(c)));
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
  flags: Type.Optional(Type.Array(Type.Union(DATA_QUALITY_FLAGS.map((f) => Type.Literal(f))))),
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

const IncidentKindSchema = Type.Union([
  Type.Literal('stopped-vehicle'),
  Type.Literal('wrong-way'),
  Type.Literal('queue'),
  Type.Literal('pedestrian-on-carriageway'),
]);

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
});
export type IncidentData = Static<typeof IncidentData>;

export const CameraStateData = Type.Object({
  cameraId: Type.String(),
  state: Type.Union([
    Type.Literal('connecting'),
    Type.Literal('streaming'),
    Type.Literal('stalled'),
    Type.Literal('backoff'),
    Type.Literal('stopped'),
  ]),
  reason: Type.Optional(Type.String()),
});
export type CameraStateData = Static<typeof CameraStateData>;

/** One camera health problem (frozen, covered, defocused, moved, dark, overexposed): numbers only, never pixels. */
export const CameraHealthData = Type.Object({
  healthId: Type.String(),
  cameraId: Type.String(),
  check: Type.Union(HEALTH_CHECKS.map((c) => Type.Literal(c))),
  state: Type.Union(HEALTH_EVENT_STATES.map((s) => Type.Literal(s))),
  startedAt: Type.String({ format: 'date-time' }),
  endedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** Check-specific measures (shift in px, sharpness ratio, mean luma...). */
  measures: Type.Record(Type.String(), Type.Number()),
});
export type CameraHealthData = Static<typeof CameraHealthData>;

export const EVENT_DATA_SCHEMAS: Record<EventType, TSchema> = {
  'count.interval': CountIntervalData,
  'zone.interval': ZoneIntervalData,
  'movement.interval': MovementIntervalData,
  'speed.interval': SpeedIntervalData,
  'incident.opened': IncidentData,
  'incident.updated': IncidentData,
  'incident.closed': IncidentData,
  'camera.state': CameraStateData,
  'camera.health': CameraHealthData,
};
