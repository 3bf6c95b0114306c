// The one event model upstream: CloudEvents 1.0 structured JSON envelopes around the payloads of
// core/event-data.ts. The outbox stores exactly these; sinks and the API send them unchanged.
import { Type, type TSchema } from '@sinclair/typebox';
import { EVENT_DATA_SCHEMAS } from '../core/event-data.js';
import { DEFAULT_SCHEMA_BASE_URL, EVENT_TYPES, cloudEventType, type CloudEvent, type CloudEventType, type DomainEvent, type EventType } from '../core/types.js';
import { defaultIds, type UlidGenerator } from './ids.js';


/** Where the published JSON Schema of a type lives, relative to the API. */
export function schemaPath(type: EventType): string {
  return `/api/v1/schemas/events/${type}`;
}

/** The absolute `dataschema` URI of a type. */
export function schemaUri(type: EventType, base: string = DEFAULT_SCHEMA_BASE_URL): string {
  return `${base.endsWith('/') ? base : `${base}/`}${type}`;
}

export function eventSource(applianceId: string, cameraId: string): string {
  return `/roadside/${applianceId}/cameras/${cameraId}`;
}

export function isCloudEvent(e: DomainEvent | CloudEvent): e is CloudEvent {
  return (e as CloudEvent).specversion === '1.0';
}

/** Envelopes a domain event. The id is a fresh ULID (time-sortable, unique across restarts). */
export function toCloudEvent<T>(e: DomainEvent<T>, applianceId: string, ids: UlidGenerator = defaultIds, schemaBaseUrl?: string): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: ids.next(),
    source: eventSource(applianceId, e.cameraId),
    type: cloudEventType(e.type),
    subject: e.cameraId,
    time: new Date(e.timeMs).toISOString(),
    datacontenttype: 'application/json',
    dataschema: schemaUri(e.type, schemaBaseUrl),
    data: e.data,
  };
}

/**
 * Attribute names CloudEvents allows (lower-case a-z and digits, at most 20): extension attributes
 * (tracing, partitioning...) pass, keys that cannot be attributes do not.
 */
export const CE_ATTRIBUTE_NAME = '^[a-z0-9]{1,20}$';

/** CloudEvent envelope schema with the payload schema of one type. */
export function cloudEventSchema(type: EventType): TSchema {
  return Type.Object(
    {
      specversion: Type.Literal('1.0'),
      id: Type.String({ minLength: 1, description: 'ULID: unique, sorts by creation time; the dedup key for receivers' }),
      source: Type.String({ pattern: '^/roadside/[^/]+/cameras/[^/]+$' }),
      type: Type.Literal(cloudEventType(type)),
      subject: Type.String({ description: 'camera id' }),
      time: Type.String({ format: 'date-time' }),
      datacontenttype: Type.Literal('application/json'),
      dataschema: Type.Optional(Type.String({ format: 'uri', description: 'absolute URI of this schema' })),
      data: EVENT_DATA_SCHEMAS[type],
    },
    // Extension attributes (tracing, partitioning...) are allowed by CloudEvents; unknown other keys are not.
    { $id: `roadside:event:${type}`, title: `CloudEvent ${cloudEventType(type)}`, additionalProperties: true, propertyNames: { pattern: CE_ATTRIBUTE_NAME } },
  );
}

/** Plain JSON Schema documents (no TypeBox symbols), one per event type, with absolute ids. */
export function eventJsonSchemas(schemaBaseUrl?: string): Record<EventType, Record<string, unknown>> {
  const out = {} as Record<EventType, Record<string, unknown>>;
  for (const t of EVENT_TYPES) {
    const { $id: _id, ...rest } = JSON.parse(JSON.stringify(cloudEventSchema(t))) as Record<string, unknown>;
    out[t] = { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: schemaUri(t, schemaBaseUrl), ...rest };
  }
  return out;
}

/** Envelope shape with an opaque payload, for API response schemas. */
export const CloudEventBody = Type.Object({
  specversion: Type.Literal('1.0'),
  id: Type.String(),
  source: Type.String(),
  type: Type.Unsafe<CloudEventType>({ type: 'string', enum: EVENT_TYPES.map(cloudEventType) }),
  subject: Type.String(),
  time: Type.String({ format: 'date-time' }),
  datacontenttype: Type.Literal('application/json'),
  dataschema: Type.Optional(Type.String({ format: 'uri' })),
  data: Type.Unknown(),
}, { title: 'CloudEvent', description: 'CloudEvents 1.0 structured envelope; `data` follows the schema named by `dataschema`' });
