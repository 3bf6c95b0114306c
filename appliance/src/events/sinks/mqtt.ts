// MQTT sink: one message per event (the CloudEvent JSON, structured mode) on
// <prefix>/<applianceId>/<cameraId>/<type>, QoS 1. A batch resolves only when every PUBACK is in.
import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import type { Logger } from '../../core/log.js';
import { eventTypeOf, type CloudEvent } from '../../core/types.js';
import { RetryableDeliveryError, type EventSink } from './types.js';
import { safeUrl } from '../../core/redact.js';

export interface MqttSinkOptions {
  id: string;
  url: string;
  applianceId: string;
  topicPrefix?: string;
  username?: string;
  password?: string;
  clientId?: string;
  /** Wait this long between reconnect attempts (ms). */
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
  /** A batch without every PUBACK after this long fails (and is retried). */
  ackTimeoutMs?: number;
  log?: Logger;
}

export function mqttTopic(prefix: string, applianceId: string, e: CloudEvent): string {
  return `${prefix}/${applianceId}/${e.subject}/${eventTypeOf(e)}`;
}

export class MqttSink implements EventSink {
  readonly id: string;
  private readonly client: MqttClient;
  private closed = false;
  private readonly closers = new Set<(err: Error) => void>();

  constructor(private readonly o: MqttSinkOptions) {
    this.id = o.id;
    this.client = connect(o.url, {
      clientId: o.clientId ?? `roadside-${o.applianceId}-${o.id}-${randomBytes(3).toString('hex')}`,
      username: o.username,
      password: o.password,
      clean: true,
      reconnectPeriod: o.reconnectPeriodMs ?? 2000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      resubscribe: false,
    });
    let wasUp = false;
    this.client.on('connect', () => {
      wasUp = true;
      o.log?.info({ sink: o.id }, 'mqtt connected');
    });
    this.client.on('offline', () => {
      if (wasUp) o.log?.warn({ sink: o.id }, 'mqtt connection lost');
      wasUp = false;
    });
    // Without a listener an 'error' event would crash the process; failures surface via deliver().
    this.client.on('error', (err) => o.log?.debug({ sink: o.id, err: err.message }, 'mqtt error'));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async deliver(batch: CloudEvent[]): Promise<void> {
    if (this.closed) throw new RetryableDeliveryError(`mqtt ${this.id}: sink closed`);
    // Fail fast while offline: the dispatcher backs off instead of piling messages in mqtt.js' queue.
    if (!this.client.connected) throw new RetryableDeliveryError(`mqtt ${this.id}: not connected to ${safeUrl(this.o.url)}`);
    const prefix = this.o.topicPrefix ?? 'roadside';
    const pubs = batch.map((e) => this.client.publishAsync(mqttTopic(prefix, this.o.applianceId, e), JSON.stringify(e), { qos: 1 }));
    // Losers of the race below may still settle later: keep them from becoming unhandled rejections.
    pubs.forEach((p) => p.catch(() => {}));
    const timeoutMs = this.o.ackTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    let closer: ((err: Error) => void) | undefined;
    try {
      await Promise.race([
        Promise.all(pubs),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RetryableDeliveryError(`mqtt ${this.id}: no PUBACK for ${batch.length} messages within ${timeoutMs} ms`)), timeoutMs);
          closer = reject;
          this.closers.add(reject);
        }),
      ]);
    } catch (err) {
      if (err instanceof RetryableDeliveryError) throw err;
      throw new RetryableDeliveryError(`mqtt ${this.id}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
      if (closer) this.closers.delete(closer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const reject of this.closers) reject(new RetryableDeliveryError(`mqtt ${this.id}: sink closed`));
    this.closers.clear();
    await this.client.endAsync(true).catch(() => {});
  }
}
