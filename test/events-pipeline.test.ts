// createEventPipeline as the app uses it: sinks from a validated config (a real webhook receiver and a
// real Mosquitto), publish() → both sinks, close() flushes and a reopen continues where it stopped.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { pino } from 'pino';
import { validateConfig } from '../appliance/src/config/load.js';
import type { CloudEvent, DomainEvent } from '../appliance/src/core/types.js';
import { createMetrics } from '../appliance/src/metrics/registry.js';
import { createEventPipeline } from '../appliance/src/events/index.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';
import { Mosquitto } from './helpers/mosquitto.js';

const SECRET = 'pipeline-secret-0123456789';
const ev = (i: number): DomainEvent => ({ type: 'camera.state', cameraId: 'cam1', timeMs: Date.now(), data: { cameraId: 'cam1', state: 'streaming', reason: String(i) } });

describe('event pipeline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roadside-pipeline-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('publish stores and delivers to every configured sink; close flushes; restart resumes', async () => {
    const rx = new WebhookReceiver(SECRET);
    await rx.start();
    const broker = new Mosquitto();
    await broker.start();
    const got: CloudEvent[] = [];
    const sub = connect(broker.url, { reconnectPeriod: 100 });
    sub.on('message', (_t, p) => got.push(JSON.parse(p.toString()) as CloudEvent));
    await sub.subscribeAsync('tc/#', { qos: 1 });
    try {
      const config = validateConfig({
        appliance: { id: 'box9' },
        storage: { dataDir: dir, retentionDays: 7, maxEvents: 1000 },
        sinks: { webhooks: [{ id: 'centre', url: rx.url, secret: SECRET, batchSize: 10 }], mqtt: [{ id: 'bus', url: broker.url, topicPrefix: 'tc' }] },
      });
      const metrics = createMetrics();
      let p = await createEventPipeline({ config, dataDir: dir, metrics, log: pino({ level: 'silent' }), backoff: { initialMs: 50, maxMs: 300 } });
      await p.process(Array.from({ length: 25 }, (_, i) => ev(i)));
      await p.close(); // flush: both sinks had a moment to get everything
      assert.equal(rx.unique().length, 25);
      const t0 = Date.now();
      while (got.length < 25 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
      assert.equal(new Set(got.map((e) => e.id)).size, 25);
      assert.equal(got[0]!.source, '/roadside/box9/cameras/cam1');

      await rx.stop();
      p = await createEventPipeline({ config, dataDir: dir, metrics, log: pino({ level: 'silent' }), backoff: { initialMs: 50, maxMs: 300 }, flushTimeoutMs: 300 });
      await p.process([ev(100), ev(101)]);
      await p.close(); // the webhook is down: close gives up after the flush bound, events stay
      assert.equal(rx.unique().length, 25);
      await rx.start();
      p = await createEventPipeline({ config, dataDir: dir, log: pino({ level: 'silent' }), backoff: { initialMs: 50, maxMs: 300 } });
      assert.ok(await p.dispatcher.drain(5000));
      assert.deepEqual(p.status().map((s) => [s.sink, s.backlog]), [['centre', 0], ['bus', 0]]);
      await p.close();
      assert.equal(rx.unique().length, 27);
      assert.equal(rx.acked.length, 27, 'nothing twice');
      assert.equal(rx.badSignatures, 0);
      await assert.rejects(
        createEventPipeline({ config: validateConfig({ sinks: { webhooks: [{ id: 'x', url: rx.url }], mqtt: [{ id: 'x', url: broker.url }] } }), dataDir: join(dir, 'dup') }),
        /two sinks share the id 'x'/,
      );
    } finally {
      await sub.endAsync();
      await rx.stop();
      await broker.dispose();
    }
  });
});
