// Request and response schemas of every route (TypeBox: they validate and they type), one per body,
// query and response; the shared ones are registered once by $id (sharedSchemas) and referenced.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CE_ATTRIBUTE_NAME, CloudEventBody } from '../events/cloudevent.js';
import { CameraSchema, ConfigSchema, Id, type Config } from '../config/schema.js';
import { EVENT_TYPES, cloudEventType, type CloudEventType, type EventType } from '../core/types.js';
import { CameraStatusSchema } from '../core/camera-status.js';
import { ERROR_CODE_LIST, type ErrorCode } from '../core/errors.js';
import { PointPairSchema } from '../../../calibration/file.js';
import { HealthStatusSchema } from '../core/health-status.js';

export const CameraIdParams = Type.Object({ id: Id });
export type CameraIdParams = Static<typeof CameraIdParams>;

// Shared schemas: registered once with fastify (addSchema, by $id), referenced by routes with $ref, and
// published by the OpenAPI document under components.schemas.
export const ErrorBodySchema = Type.Object(
  {
    code: Type.Unsafe<ErrorCode>({ type: 'string', enum: ERROR_CODE_LIST, description: 'stable error code (docs/errors.md)' }),
    error: Type.String(),
    issues: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String(),
          message: Type.String(),
          code: Type.Optional(Type.Unsafe<ErrorCode>({ type: 'string', enum: ERROR_CODE_LIST, description: 'a more specific code for this field' })),
        }),
      ),
    ),
  },
  { $id: 'ErrorBody', title: 'ErrorBody', description: 'Every API error: a stable code, a message, and the failing fields' },
);
export const CloudEventSchema = Type.Object(
  { ...CloudEventBody.properties },
  {
    $id: 'CloudEvent',
    title: 'CloudEvent',
    description: 'CloudEvents 1.0 structured envelope; `data` follows the schema named by `dataschema`; extension attributes allowed',
    additionalProperties: true,
    propertyNames: { pattern: CE_ATTRIBUTE_NAME },
  },
);
export const DatexPayloadSchema = Type.Object(
  { payload: Type.Object({ modelBaseVersionG: Type.Literal('3') }, { additionalProperties: true }) },
  { $id: 'DatexPayload', title: 'DatexPayload', description: 'DATEX II v3 D2Payload (JSON): valid against the official v3 JSON schemas (docs/datex2.md)', additionalProperties: false },
);
export const SHARED_SCHEMAS = [ErrorBodySchema, CloudEventSchema, DatexPayloadSchema];

/** Registers the shared schemas by $id (fastify-plugin: every route plugin of the app $refs them). */
export const sharedSchemas: FastifyPluginAsync = fp(
  async (app) => {
    for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  },
  { name: 'roadside-shared-schemas' },
);

const ref = <T extends TSchema>(s: T) => Type.Unsafe<Static<T>>({ $ref: `${s.$id}#` });
export const ErrorBody = ref(ErrorBodySchema);
export const CloudEventRef = ref(CloudEventSchema);
export const DatexPayloadRef = ref(DatexPayloadSchema);
/** A JSON Schema document (the published event schemas). */
export const JsonSchemaDoc = Type.Object({}, { additionalProperties: true });

export const CameraStatusBody = Type.Object({ ...CameraStatusSchema.properties, enabled: Type.Boolean() });
export type CameraStatusBody = Static<typeof CameraStatusBody>;

export const CameraListBody = Type.Object({ cameras: Type.Array(CameraStatusBody) });

/** The camera's config as an installer edits it. */
export const CameraBody = CameraSchema;

export const CalibrationRequest = Type.Object(
  {
    /** Size of the image the points were picked on (the snapshot). */
    imageSize: Type.Object({ width: Type.Integer({ minimum: 1 }), height: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    points: Type.Array(PointPairSchema, { minItems: 4, maxItems: 64 }),
  },
  { additionalProperties: false },
);
export type CalibrationRequest = Static<typeof CalibrationRequest>;

export const CalibrationResult = Type.Object({
  cameraId: Type.String(),
  file: Type.String(),
  errors: Type.Object({ rmsM: Type.Number(), maxM: Type.Number(), rmsPx: Type.Number(), maxPx: Type.Number() }),
});

export const HealthConfirmBody = Type.Object({ cameraId: Type.String(), health: HealthStatusSchema });

/** A non-JSON response (text, image) for the OpenAPI document. */
export const contentResponse = (contentType: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ description, content: { [contentType]: { schema } } });

// Health and readiness.
export const HealthBody = Type.Object({ status: Type.Literal('ok') });
export const ReadinessBody = Type.Object({ ready: Type.Boolean(), reasons: Type.Array(Type.String()) });
// ?gate=cameras is the health gate of an A/B update.
export const ReadyQuery = Type.Object({ gate: Type.Optional(Type.Literal('cameras', { description: 'also require every enabled camera to have streamed since start' })) }, { additionalProperties: false });

// The running config's identity for fleet tools.
export const ConfigVersionBody = Type.Object({
  version: Type.Integer({ minimum: 1, description: 'increases with every applied change, also across restarts' }),
  hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 of the canonical config JSON, credentials included' }),
  appliedAt: Type.String({ format: 'date-time' }),
  // Unsafe<Config>: the same JSON Schema, typed as Config (the provider cannot infer the literal unions).
  config: Type.Unsafe<Config>({ ...ConfigSchema, description: 'the running config; passwords, secrets, tokens, token hashes and URL credentials read <redacted>' }),
});

// Events, counts, event schemas and DATEX II (read from the outbox).

/** A type filter: the internal name or the CloudEvents type (`count.interval` or `org.roadside.count.interval`). */
export const EventTypeFilter = Type.Unsafe<EventType | CloudEventType>({ type: 'string', enum: [...EVENT_TYPES, ...EVENT_TYPES.map(cloudEventType)] });
const Iso = Type.String({ format: 'date-time', description: 'ISO 8601 date-time' });

export const EventsQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    type: Type.Optional(EventTypeFilter),
    from: Type.Optional({ ...Iso, description: 'event time ≥ from' }),
    to: Type.Optional({ ...Iso, description: 'event time < to' }),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    cursor: Type.Optional(Type.String({ maxLength: 1024, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export const EventsPage = Type.Object({ events: Type.Array(CloudEventRef), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export const StreamQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    type: Type.Optional(EventTypeFilter),
    lastEventId: Type.Optional(Type.String({ maxLength: 64, description: 'like the Last-Event-ID header (for clients that cannot set it)' })),
  },
  { additionalProperties: false },
);
export const SseStream = {
  description: 'text/event-stream: `id: <event id>`, `event: <type>`, `data: <CloudEvent JSON>`; comment lines are heartbeats',
  content: { 'text/event-stream': { schema: Type.String() } },
};

export const CountsQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    line: Type.Optional(Type.String({ maxLength: 64 })),
    direction: Type.Optional(Type.Union([Type.Literal('forward'), Type.Literal('backward')])),
    cls: Type.Optional(Type.String({ maxLength: 32 })),
    binSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'bin size; default the smallest stored' })),
    from: Type.Optional({ ...Iso, description: 'intervals that end after from (overlap rule)' }),
    to: Type.Optional({ ...Iso, description: 'intervals that start before to (overlap rule)' }),
    group: Type.Union([Type.Literal('total'), Type.Literal('interval')], { default: 'total' }),
  },
  { additionalProperties: false },
);
export const CountsBody = Type.Object({
  from: Type.Union([Type.String(), Type.Null()]),
  to: Type.Union([Type.String(), Type.Null()]),
  binSeconds: Type.Union([Type.Integer(), Type.Null()]),
  intervals: Type.Integer(),
  flaggedIntervals: Type.Integer({ description: 'intervals with data-quality flags (gap, partial, camera fault)' }),
  coveredFrom: Type.Union([Type.String(), Type.Null()], { description: 'earliest start of the selected intervals' }),
  coveredTo: Type.Union([Type.String(), Type.Null()], { description: 'latest end of the selected intervals' }),
  truncated: Type.Boolean(),
  rows: Type.Array(
    Type.Object({
      cameraId: Type.String(),
      lineId: Type.String(),
      direction: Type.String(),
      cls: Type.String(),
      count: Type.Integer(),
      intervalStart: Type.Optional(Type.String()),
      intervalEnd: Type.Optional(Type.String()),
      flags: Type.Optional(Type.Array(Type.String())),
    }),
  ),
});

export const EventSchemaList = Type.Object({ types: Type.Array(Type.String()), schemas: Type.Record(Type.String(), JsonSchemaDoc) });
export const EventTypeParams = Type.Object({ type: Type.String({ maxLength: 64 }) });

export const DatexMeasuredQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    binSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    from: Type.Optional({ ...Iso, description: 'intervals that end after from (overlap rule)' }),
    to: Type.Optional({ ...Iso, description: 'intervals that start before to (overlap rule)' }),
  },
  { additionalProperties: false },
);
export const DatexSituationsQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    active: Type.Boolean({ default: true, description: 'only incidents still open' }),
    from: Type.Optional({ ...Iso, description: 'default: 24 h ago' }),
    to: Type.Optional(Iso),
  },
  { additionalProperties: false },
);
