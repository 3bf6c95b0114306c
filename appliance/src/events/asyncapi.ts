// The AsyncAPI 3 contract of everything the appliance sends upstream: the webhook (a CloudEvents batch
// per POST), MQTT topics and NATS subjects (one CloudEvent per message), with the payload schema of
// every event type (core/event-data.ts inside the CloudEvents envelope). Built from the same schemas
// and subject/topic functions the sinks use, so it cannot drift from them.
import { Type, type Static } from '@sinclair/typebox';
import { APPLIANCE_SUBJECT, EVENT_TYPES, type EventType } from '../core/types.js';
import type { Config } from '../config/schema.js';
import { eventJsonSchemas } from './cloudevent.js';
import { CE_BATCH_CONTENT_TYPE } from './sinks/webhook.js';

type Json = Record<string, unknown>;

const Section = Type.Record(Type.String(), Type.Unknown());
/** The document's top level (the API response schema); the sections are free-form AsyncAPI objects. */
export const AsyncApiBody = Type.Object(
  {
    asyncapi: Type.Literal('3.0.0'),
    info: Type.Object({ title: Type.String(), version: Type.String(), description: Type.String() }),
    defaultContentType: Type.String(),
    servers: Section,
    channels: Section,
    operations: Section,
    components: Type.Object({ schemas: Section, messages: Section }),
  },
  { description: 'AsyncAPI 3.0.0 document (https://www.asyncapi.com/docs/reference/specification/v3.0.0)' },
);
export type AsyncApiBody = Static<typeof AsyncApiBody>;
const CE_CONTENT_TYPE = 'application/cloudevents+json';

/** A component/channel key for an event type: count.interval → count_interval. */
function key(type: EventType): string {
  return type.replace(/\./g, '_');
}

const ref = ($ref: string) => ({ $ref });

/** The JSON Schema of one CloudEvent, as a plain AsyncAPI (draft-07 compatible) schema. */
function payloadSchemas(): Json {
  const all = eventJsonSchemas();
  const out: Json = {};
  for (const t of EVENT_TYPES) {
    const { $schema: _s, $id: _i, ...schema } = all[t];
    out[key(t)] = schema;
  }
  return out;
}

function messages(): Json {
  const out: Json = {};
  for (const t of EVENT_TYPES) {
    const common = { name: t, title: `CloudEvent ${t}`, contentType: CE_CONTENT_TYPE, payload: ref(`#/components/schemas/${key(t)}`) };
    out[key(t)] = { ...common, summary: `One ${t} event (CloudEvents 1.0, structured JSON)` };
    out[`nats_${key(t)}`] = {
      ...common,
      summary: `One ${t} event; Nats-Msg-Id is the CloudEvent id, so the stream drops a redelivery inside its duplicate window`,
      headers: { type: 'object', properties: { 'Nats-Msg-Id': { type: 'string', description: 'the CloudEvent id (ULID)' } }, required: ['Nats-Msg-Id'] },
    };
  }
  out.webhook_batch = {
    name: 'cloudevents-batch',
    title: 'CloudEvents batch',
    summary: 'A JSON array of structured CloudEvents, in outbox order, any types mixed',
    contentType: CE_BATCH_CONTENT_TYPE,
    headers: {
      type: 'object',
      properties: {
        'Idempotency-Key': { type: 'string', description: 'same batch, same key: a retried request can be dropped whole' },
        'X-Roadside-Signature': { type: 'string', pattern: '^sha256=[0-9a-f]{64}$', description: 'HMAC-SHA256 of the exact body with the sink secret (only with a secret)' },
        'X-Roadside-Event-Ids': { type: 'string', description: 'first..last event id of the batch' },
      },
      required: ['Idempotency-Key', 'X-Roadside-Event-Ids'],
    },
    payload: { type: 'array', minItems: 1, items: { oneOf: EVENT_TYPES.map((t) => ref(`#/components/schemas/${key(t)}`)) } },
  };
  return out;
}

export interface AsyncApiDefaults {
  applianceId: string;
  topicPrefix: string;
  subjectPrefix: string;
}

export function asyncApiDefaults(cfg: Config): AsyncApiDefaults {
  return { applianceId: cfg.appliance.id, topicPrefix: cfg.sinks.mqtt[0]?.topicPrefix ?? 'roadside', subjectPrefix: cfg.sinks.nats[0]?.subjectPrefix ?? 'roadside' };
}

function params(d: AsyncApiDefaults, prefix: 'topicPrefix' | 'subjectPrefix'): Json {
  return {
    prefix: { description: prefix === 'topicPrefix' ? 'sinks.mqtt[].topicPrefix' : 'sinks.nats[].subjectPrefix (dot-separated tokens)', default: d[prefix] },
    applianceId: { description: 'appliance.id of the box', default: d.applianceId },
    cameraId: { description: `camera id, or ${APPLIANCE_SUBJECT} for events about the box itself (config.applied)` },
  };
}

/** The whole AsyncAPI 3.0.0 document. */
export function asyncApiDocument(d: AsyncApiDefaults): AsyncApiBody {
  const channels: Json = {
    webhook: {
      address: '/',
      title: 'Webhook receiver',
      description: 'The path of each sinks.webhooks[].url. 2xx acknowledges the whole batch; 408, 425, 429, 5xx, 401, 403 and 404 are retried; any other 4xx parks the refused event as a dead letter.',
      servers: [ref('#/servers/webhook')],
      messages: { batch: ref('#/components/messages/webhook_batch') },
    },
  };
  const operations: Json = {
    sendWebhookBatch: {
      action: 'send',
      channel: ref('#/channels/webhook'),
      summary: 'POST a batch of events',
      messages: [ref('#/channels/webhook/messages/batch')],
      bindings: { http: { method: 'POST', bindingVersion: '0.3.0' } },
    },
  };
  for (const t of EVENT_TYPES) {
    const k = key(t);
    channels[`mqtt_${k}`] = {
      address: `{prefix}/{applianceId}/{cameraId}/${t}`,
      title: `MQTT ${t}`,
      servers: [ref('#/servers/mqtt')],
      parameters: params(d, 'topicPrefix'),
      messages: { event: ref(`#/components/messages/${k}`) },
    };
    channels[`nats_${k}`] = {
      address: `{prefix}.{applianceId}.{cameraId}.${t}`,
      title: `NATS JetStream ${t}`,
      description: 'Captured by an operator-created JetStream stream (e.g. subjects <prefix>.>). Tokens other than letters, digits, _ and - are replaced by _.',
      servers: [ref('#/servers/nats')],
      parameters: params(d, 'subjectPrefix'),
      messages: { event: ref(`#/components/messages/nats_${k}`) },
    };
    operations[`publishMqtt_${k}`] = {
      action: 'send',
      channel: ref(`#/channels/mqtt_${k}`),
      summary: `Publish ${t} at QoS 1 (the outbox cursor moves after the PUBACK)`,
      messages: [ref(`#/channels/mqtt_${k}/messages/event`)],
      bindings: { mqtt: { qos: 1, retain: false, bindingVersion: '0.2.0' } },
    };
    operations[`publishNats_${k}`] = {
      action: 'send',
      channel: ref(`#/channels/nats_${k}`),
      summary: `Publish ${t} to JetStream (the outbox cursor moves after the stream's publish ack)`,
      messages: [ref(`#/channels/nats_${k}/messages/event`)],
    };
  }
  return {
    asyncapi: '3.0.0' as const,
    info: {
      title: 'Roadside appliance events',
      version: '1',
      description:
        'Everything a Roadside box sends upstream. Every event is a CloudEvents 1.0 envelope (structured JSON) from the durable outbox, delivered at least once and in outbox order per sink; receivers de-duplicate by the CloudEvent id. No pixels, face crops, plate text or credentials are ever in an event.',
    },
    defaultContentType: CE_CONTENT_TYPE,
    servers: {
      webhook: { host: '{receiver}', protocol: 'https', description: 'sinks.webhooks[].url (http or https)', variables: { receiver: { description: 'host[:port] of the receiver' } } },
      mqtt: { host: '{broker}', protocol: 'mqtt', description: 'sinks.mqtt[].url (mqtt, mqtts, ws, wss)', variables: { broker: { description: 'host:port of the broker' } } },
      nats: { host: '{server}', protocol: 'nats', description: 'sinks.nats[].servers (seed servers of the cluster)', variables: { server: { description: 'host:port of a NATS server' } } },
    },
    channels,
    operations,
    components: { schemas: payloadSchemas(), messages: messages() },
  };
}
