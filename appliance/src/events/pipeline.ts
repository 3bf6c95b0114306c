// The app's one entry point to events upstream: outbox + sinks from the config + dispatcher.
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { DomainEvent } from '../core/types.js';
import type { Metrics } from '../metrics/registry.js';
import { Dispatcher, type BackoffOptions, type SinkStatus } from './dispatcher.js';
import { Outbox } from './outbox.js';
import { MqttSink } from './sinks/mqtt.js';
import { NatsSink, type NatsSinkOptions } from './sinks/nats.js';
import type { EventSink } from './sinks/types.js';
import { WebhookSink } from './sinks/webhook.js';

export interface EventPipelineOptions {
  config: Config;
  /** The outbox lives in <dataDir>/outbox. */
  dataDir: string;
  metrics?: Metrics;
  log?: Logger;
  backoff?: BackoffOptions;
  /** close() tries this long to deliver what is pending before it stops (default 3 s). */
  flushTimeoutMs?: number;
  /** Sinks besides the configured ones (tests, embedding). */
  extraSinks?: EventSink[];
}

export interface EventPipeline {
  outbox: Outbox;
  dispatcher: Dispatcher;
  sinks: EventSink[];
  /** Stores the events durably (resolves once on disk); delivery follows asynchronously. */
  process(events: DomainEvent[]): Promise<void>;
  status(): SinkStatus[];
  /** Bounded flush, then stops delivery, closes sinks and the DB. Pending events stay in the outbox. */
  close(): Promise<void>;
}

export function sinksFromConfig(config: Config, log?: Logger): { sinks: EventSink[]; batchSize: Record<string, number> } {
  const sinks: EventSink[] = [];
  const batchSize: Record<string, number> = {};
  for (const w of config.sinks.webhooks) {
    sinks.push(new WebhookSink({ id: w.id, url: w.url, secret: w.secret, timeoutMs: w.timeoutMs, mode: w.mode }));
    batchSize[w.id] = w.batchSize;
  }
  for (const m of config.sinks.mqtt) {
    sinks.push(
      new MqttSink({
        id: m.id,
        url: m.url,
        applianceId: config.appliance.id,
        topicPrefix: m.topicPrefix,
        username: m.username,
        password: m.password,
        clientId: m.clientId,
        log: log?.child({ sink: m.id }),
      }),
    );
    batchSize[m.id] = 100;
  }
  for (const n of config.sinks.nats) {
    sinks.push(
      natsSinkOrClose(sinks, {
        id: n.id,
        servers: n.servers,
        stream: n.stream,
        applianceId: config.appliance.id,
        subjectPrefix: n.subjectPrefix,
        user: n.user,
        password: n.password,
        token: n.token,
        credsFile: n.credsFile,
        tls: n.tls,
        ackTimeoutMs: n.ackTimeoutMs,
        log: log?.child({ sink: n.id }),
      }),
    );
    batchSize[n.id] = n.batchSize;
  }
  return { sinks, batchSize };
}

/** A NATS sink whose credentials cannot be read fails the start; the sinks built so far are closed. */
function natsSinkOrClose(built: EventSink[], o: NatsSinkOptions): NatsSink {
  try {
    return new NatsSink(o);
  } catch (err) {
    built.forEach((s) => void s.close());
    throw err;
  }
}

export async function createEventPipeline(o: EventPipelineOptions): Promise<EventPipeline> {
  const { config, metrics, log } = o;
  const built = sinksFromConfig(config, log);
  const sinks = [...built.sinks, ...(o.extraSinks ?? [])];
  const ids = sinks.map((s) => s.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) {
    await Promise.all(sinks.map((s) => s.close()));
    throw new Error(`two sinks share the id '${dup}': every webhook, MQTT and NATS sink needs its own id (it names its cursor)`);
  }
  const outbox = await Outbox.open({
    dir: join(o.dataDir, 'outbox'),
    sinks: ids,
    applianceId: config.appliance.id,
    schemaBaseUrl: config.events.schemaBaseUrl,
    retention: { maxAgeMs: config.storage.retentionDays * 86_400_000, maxEvents: config.storage.maxEvents },
    metrics,
    log,
  });
  const dispatcher = new Dispatcher({ outbox, sinks, batchSize: built.batchSize, backoff: o.backoff, metrics, log });
  dispatcher.start();
  log?.info({ sinks: ids, stored: outbox.storedEvents, backlog: Object.fromEntries(ids.map((id) => [id, outbox.backlog(id)])) }, 'event outbox open');
  let closed = false;
  return {
    outbox,
    dispatcher,
    sinks,
    async process(events) {
      await outbox.append(events);
    },
    status: () => dispatcher.status(),
    async close() {
      if (closed) return;
      closed = true;
      const flushed = await dispatcher.drain(o.flushTimeoutMs ?? 3000);
      await dispatcher.stop();
      if (!flushed) log?.warn({ backlog: Object.fromEntries(ids.map((id) => [id, outbox.backlog(id)])) }, 'stopping with undelivered events; they stay in the outbox');
      await outbox.close();
    },
  };
}
