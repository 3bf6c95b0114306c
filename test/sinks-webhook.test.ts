// Webhook delivery against a real HTTP receiver on 127.0.0.1: outages, restarts, 429/5xx, poison
// batches, timeouts, and a restart of the dispatching side. Every test is bounded in time and count.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { CloudEvent, DomainEvent } from '../appliance/src/core/types.js';
import { createMetrics, type Metrics } from '../appliance/src/metrics/registry.js';
import {
  Outbox,
  Dispatcher,
  WebhookSink,
  parseRetryAfter,
  signBody,
  CE_BATCH_CONTENT_TYPE,
} from '../appliance/src/events/index.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'roadside-sinks-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const retention = { maxAgeMs: 1e12, maxEvents: 1_000_000 };
const silent = pino({ level: 'silent' });
const FAST = { initialMs: 50, maxMs: 400 };
const SECRET = 'a-very-secret-hmac-key';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let n = 0;
function stateEvent(camera = 'cam1'): DomainEvent {
  return { type: 'camera.state', cameraId: camera, timeMs: Date.now(), data: { cameraId: camera, state: 'streaming', reason: `n${n++}` } };
}
async function metricValue(m: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const vals = (await m.registry.getSingleMetric(name)!.get()).values;
  return vals.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}
async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('webhook sink', () => {
  test('receiver down for a while: every event arrives, in order, none lost, duplicates only by id', async () => {
    const metrics = createMetrics();
    const ob = await Outbox.open({ dir: tempDir(), sinks: ['tc'], retention, metrics });
    const rx = new WebhookReceiver(SECRET);
    await rx.start();
    const d = new Dispatcher({ outbox: ob, sinks: [new WebhookSink({ id: 'tc', url: rx.url, secret: SECRET, timeoutMs: 1000 })], batchSize: 20, backoff: FAST, metrics, log: silent });
    d.start();
    const appended: CloudEvent[] = [];
    const produce = async (k: number) => {
      for (let i = 0; i < k; i++) {
        appended.push(...(await ob.append([stateEvent(), stateEvent('cam2')])));
        await sleep(5);
      }
    };
    await produce(40);
    await rx.stop(); // outage
    await produce(60);
    await sleep(600);
    assert.ok(ob.backlog('tc') > 0, 'events pile up while the receiver is down');
    assert.ok((await metricValue(metrics, 'roadside_sink_failures_total', { sink: 'tc' })) >= 1, 'failures counted');
    assert.equal(await metricValue(metrics, 'roadside_sink_up', { sink: 'tc' }), 0);
    await rx.start(); // same port
    await produce(20);
    assert.ok(await d.drain(15_000), 'drained after the outage');
    await d.stop();
    await ob.close();
    await rx.stop();

    assert.equal(appended.length, 240);
    assert.deepEqual(rx.unique().map((e) => e.id), appended.map((e) => e.id), 'all events, in order');
    assert.equal(rx.badSignatures, 0);
    assert.equal(await metricValue(metrics, 'roadside_sink_up', { sink: 'tc' }), 1);
    assert.equal(await metricValue(metrics, 'roadside_sink_delivered_total', { sink: 'tc' }), rx.acked.length);
    assert.equal(await metricValue(metrics, 'roadside_outbox_backlog', { sink: 'tc' }), 0);
    const req = rx.requests[0]!;
    assert.equal(req.headers['content-type']!, CE_BATCH_CONTENT_TYPE);
    assert.match(String(req.headers['idempotency-key']!), /^"[0-9a-f]{32}"$/, 'a structured-field string (RFC 8941)');
    assert.ok(rx.requests.every((r) => r.events.length <= 20), 'batches bounded by batchSize');
  });

  test('signature is the HMAC-SHA256 of the exact body; a wrong secret (401) is retried, not dropped, until fixed', async () => {
    assert.equal(signBody('k'.repeat(16), '[]'), 'sha256=' + createHmac('sha256', 'k'.repeat(16)).update('[]').digest('hex'));
    const metrics = createMetrics();
    const dir = tempDir();
    let ob = await Outbox.open({ dir, sinks: ['tc'], retention, metrics });
    const rx = new WebhookReceiver(SECRET);
    await rx.start();
    let d = new Dispatcher({ outbox: ob, sinks: [new WebhookSink({ id: 'tc', url: rx.url, secret: 'wrong-secret-0123456789' })], backoff: FAST, metrics, log: silent });
    d.start();
    const evs = await ob.append([stateEvent(), stateEvent()]);
    await waitUntil(() => rx.badSignatures >= 3, 5000, 'three refused attempts');
    await d.stop();
    assert.equal(rx.acked.length, 0);
    assert.equal(ob.backlog('tc'), 2, 'events wait in the outbox');
    assert.deepEqual(await ob.deadLetters('tc'), [], 'nothing parked');
    assert.equal(await metricValue(metrics, 'roadside_sink_up', { sink: 'tc' }), 0);
    await ob.close();
    // The operator fixes the secret (a restart with the new config).
    ob = await Outbox.open({ dir, sinks: ['tc'], retention });
    d = new Dispatcher({ outbox: ob, sinks: [new WebhookSink({ id: 'tc', url: rx.url, secret: SECRET })], backoff: FAST, log: silent });
    d.start();
    assert.ok(await d.drain(5000));
    await d.stop();
    assert.deepEqual(rx.unique().map((e) => e.id), evs.map((e) => e.id));
    await ob.close();
    await rx.stop();
  });

  test('429 with Retry-After and 503 are retried; Retry-After is honoured', async () => {
    const ob = await Outbox.open({ dir: tempDir(), sinks: ['tc'], retention });
    const rx = new WebhookReceiver();
    await rx.start();
    const times: number[] = [];
    rx.responder = () => {
      times.push(Date.now());
      if (times.length === 1) return { status: 429, headers: { 'retry-after': '1' } };
      if (times.length === 2) return 503;
      return 204;
    };
    const d = new Dispatcher({ outbox: ob, sinks: [new WebhookSink({ id: 'tc', url: rx.url })], backoff: FAST, log: silent });
    d.start();
    const evs = await ob.append([stateEvent(), stateEvent()]);
    assert.ok(await d.drain(8000));
    await d.stop();
    await ob.close();
    await rx.stop();
    assert.equal(times.length, 3);
    assert.ok(times[1]! - times[0]! >= 950, `waited ${times[1]! - times[0]!} ms after 429 Retry-After: 1`);
    assert.ok(times[2]! - times[1]! < 950, 'a 503 uses the (short) backoff');
    assert.deepEqual(rx.unique().map((e) => e.id), evs.map((e) => e.id));
  });

  test('a poison event (400) is isolated one by one and parked as a dead letter; the others go through in order', async () => {
    const metrics = createMetrics();
    const ob = await Outbox.open({ dir: tempDir(), sinks: ['tc'], retention, metrics });
    const rx = new WebhookReceiver();
    await rx.start();
    const evs = await ob.append(Array.from({ length: 25 }, () => stateEvent()));
    const poison = evs[12]!.id;
    rx.responder = (events) => (events.some((e) => e.id === poison) ? 400 : 200);
    const d = new Dispatcher({ outbox: ob, sinks: [new WebhookSink({ id: 'tc', url: rx.url })], batchSize: 10, backoff: FAST, metrics, log: silent });
    d.start();
    assert.ok(await d.drain(8000));
    await d.stop();
    assert.deepEqual(rx.unique().map((e) => e.id), evs.filter((e) => e.id !== poison).map((e) => e.id));
    assert.equal(rx.acked.length, 24, 'nothing twice');
    const dl = await ob.deadLetters('tc');
    assert.equal(dl.length, 1);
    assert.equal(dl[0]!.event?.id, poison);
    assert.equal(dl[0]!.seq, 13);
    assert.match(dl[0]!.reason, /HTTP 400/);
    // Batch 11..20 refused, isolated: 11, 12 ok, 13 refused, 14..20 one by one, then back to batches.
    const sizes = rx.requests.map((r) => r.events.length);
    assert.deepEqual(sizes, [10, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5]);
    assert.equal(await metricValue(metrics, 'roadside_sink_failures_total', { sink: 'tc' }), 2);
    await ob.close();
    await rx.stop();
  });

  test('a receiver that never answers times out and is retried; other sinks are not held up', async () => {
    const hung = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    const port = (hung.address() as { port: number }).port;
    const ob = await Outbox.open({ dir: tempDir(), sinks: ['slow', 'ok'], retention });
    const rx = new WebhookReceiver();
    await rx.start();
    const d = new Dispatcher({
      outbox: ob,
      sinks: [new WebhookSink({ id: 'slow', url: `http://127.0.0.1:${port}/`, timeoutMs: 200 }), new WebhookSink({ id: 'ok', url: rx.url })],
      backoff: FAST,
      log: silent,
    });
    d.start();
    await ob.append([stateEvent()]);
    await waitUntil(() => rx.acked.length === 1, 3000, 'ok sink delivered');
    await waitUntil(() => (d.status().find((s) => s.sink === 'slow')?.consecutiveFailures ?? 0) >= 2, 3000, 'slow sink timed out twice');
    assert.match(d.status().find((s) => s.sink === 'slow')!.lastError!, /timed out after 200 ms/);
    assert.equal(ob.cursor('slow'), 0);
    const t0 = Date.now();
    await d.stop();
    assert.ok(Date.now() - t0 < 1000, 'stop aborts the hung request');
    hung.closeAllConnections();
    hung.close();
    await ob.close();
    await rx.stop();
  });

  test('restart of the dispatching side resumes at the persisted cursor: nothing lost, nothing delivered again', async () => {
    const dir = tempDir();
    const rx = new WebhookReceiver();
    await rx.start();
    let ob = await Outbox.open({ dir, sinks: ['tc'], retention });
    let d = new Dispatcher({ outbox: ob, sinks: [new WebhookSink({ id: 'tc', url: rx.url })], backoff: FAST, log: silent });
    d.start();
    const first = await ob.append(Array.from({ length: 30 }, () => stateEvent()));
    assert.ok(await d.drain(5000));
    await d.stop();
    await rx.stop();
    const second = await ob.append(Array.from({ length: 30 }, () => stateEvent())); // pending, receiver down
    await ob.close();

    await rx.start();
    ob = await Outbox.open({ dir, sinks: ['tc'], retention });
    assert.equal(ob.backlog('tc'), 30);
    d = new Dispatcher({ outbox: ob, sinks: [new WebhookSink({ id: 'tc', url: rx.url })], backoff: FAST, log: silent });
    d.start();
    assert.ok(await d.drain(5000));
    await d.stop();
    await ob.close();
    await rx.stop();
    assert.deepEqual(rx.acked.map((e) => e.id), [...first, ...second].map((e) => e.id));
  });

  test('Retry-After parses seconds and dates', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 5000), 5000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });
});
