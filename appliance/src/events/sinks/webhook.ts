// HTTP webhook sink: POSTs a CloudEvents batch (application/cloudevents-batch+json, a JSON array of
// structured events) with an HMAC-SHA256 signature of the exact body. 2xx = acknowledged.
import { createHash, createHmac } from 'node:crypto';
import type { CloudEvent, WebhookMode } from '../../core/types.js';
import { PoisonBatchError, RetryableDeliveryError, type EventSink } from './types.js';

export interface WebhookSinkOptions {
  id: string;
  url: string;
  /** HMAC key: the X-Roadside-Signature header is sent only with one. */
  secret?: string;
  timeoutMs?: number;
  /** Extra headers (e.g. an Authorization the receiver wants). */
  headers?: Record<string, string>;
  /**
   * CloudEvents HTTP content mode: 'batch' (one application/cloudevents-batch+json array per request,
   * the default) or 'structured' (one application/cloudevents+json event per request).
   */
  mode?: WebhookMode;
}


/**
 * Statuses worth retrying: overload and timeouts (408, 425, 429, 5xx), and the ones that mean a
 * misconfigured endpoint or credentials (401, 403, 404): those get fixed by an operator, and until then
 * the events wait in the outbox (sink_up = 0 alerts) instead of being parked. Any other 4xx refuses
 * the content itself: the batch is poison and is isolated by the dispatcher.
 */
export const RETRYABLE_STATUS = new Set([401, 403, 404, 408, 425, 429]);

export const CE_BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';
export const CE_STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Same batch → same key, so a receiver can drop a whole retried request cheaply. */
export function idempotencyKey(batch: CloudEvent[]): string {
  return createHash('sha256').update(batch.map((e) => e.id).join(',')).digest('hex').slice(0, 32);
}

/** The Idempotency-Key header value: an RFC 8941 structured-field string (quoted), as the IETF draft wants. */
export function idempotencyHeader(key: string): string {
  return `"${key}"`;
}

/** Retry-After as ms: delta-seconds or an HTTP date. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export class WebhookSink implements EventSink {
  readonly id: string;
  private readonly closing = new AbortController();

  constructor(private readonly o: WebhookSinkOptions) {
    this.id = o.id;
  }

  async deliver(batch: CloudEvent[]): Promise<void> {
    if (batch.length === 0) return;
    if (this.o.mode === 'structured') {
      // One request per event, in order; a failure retries the batch and receivers dedupe by id.
      for (const e of batch) await this.post(JSON.stringify(e), CE_STRUCTURED_CONTENT_TYPE, [e]);
      return;
    }
    await this.post(JSON.stringify(batch), CE_BATCH_CONTENT_TYPE, batch);
  }

  private async post(body: string, contentType: string, batch: CloudEvent[]): Promise<void> {
    const headers: Record<string, string> = {
      ...this.o.headers,
      'content-type': contentType,
      'idempotency-key': idempotencyHeader(idempotencyKey(batch)),
      'x-roadside-event-ids': `${batch[0]?.id ?? ''}..${batch[batch.length - 1]?.id ?? ''}`,
    };
    if (this.o.secret) headers['x-roadside-signature'] = signBody(this.o.secret, body);
    let res: Response;
    try {
      res = await fetch(this.o.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.o.timeoutMs ?? 5000), this.closing.signal]),
      });
    } catch (err) {
      const e = err as Error & { cause?: Error & { code?: string } };
      const why = e.name === 'TimeoutError' ? `timed out after ${this.o.timeoutMs ?? 5000} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new RetryableDeliveryError(`webhook ${this.id}: ${why}`);
    }
    const text = await headOf(res, 4096);
    if (res.ok) return;
    const detail = `webhook ${this.id}: HTTP ${res.status}${text ? ` ${text.slice(0, 200)}` : ''}`;
    if (RETRYABLE_STATUS.has(res.status) || res.status >= 500) {
      throw new RetryableDeliveryError(detail, parseRetryAfter(res.headers.get('retry-after')));
    }
    throw new PoisonBatchError(detail, res.status);
  }

  async close(): Promise<void> {
    this.closing.abort(new Error('sink closed'));
  }
}

/**
 * The first `max` bytes of the answer, for the log line; the rest is discarded (a receiver that answers
 * with megabytes must not cost memory), and the connection is released either way.
 */
async function headOf(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { value, done } = await reader.read();
      if (done) return Buffer.concat(chunks).toString('utf8');
      chunks.push(value);
      size += value.length;
    }
    await reader.cancel();
  } catch {
    /* a broken body: the status decides */
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, max);
}

