// MQTT delivery through a real Mosquitto broker on 127.0.0.1: topics, QoS 1 acks, a broker crash and
// restart, and a frozen broker (no PUBACK → no cursor move). Bounded in time and count.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { CloudEvent, DomainEvent } from '../appliance/src/core/types.js';
import { createMetrics } from '../appliance/src/metrics/registry.js';
import { Outbox, Dispatcher, MqttSink, mqttTopic } from '../appliance/src/events/index.js';
import { Mosquitto } from './helpers/mosquitto.js';

const retention = { maxAgeMs: 1e12, maxEvents: 1_000_000 };
const silent = pino({ level: 'silent' });
const FAST = { initialMs: 50, maxMs: 300 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let n = 0;
const stateEvent = (camera = 'cam1'): DomainEvent => ({ type: 'camera.state', cameraId: camera, timeMs: Date.now(), data: { cameraId: camera, state: 'streaming', reason: `n${n++}` } });
async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The traffic centre's side: subscribes to everything under the prefix, records in arrival order. */
class Subscriber {
  readonly got: { topic: string; event: CloudEvent }[] = [];
  subscribed = false;
  readonly client: MqttClient;
  constructor(url: string) {
    this.client = connect(url, { reconnectPeriod: 100, clean: true, resubscribe: false });
    this.client.on('error', () => {});
    this.client.on('close', () => (this.subscribed = false));
    this.client.on('connect', () => {
      void this.client.subscribeAsync('roadside/#', { qos: 1 }).then(() => (this.subscribed = true));
    });
    this.client.on('message', (topic, payload) => this.got.push({ topic, event: JSON.parse(payload.toString('utf8')) as CloudEvent }));
  }
  uniqueIds(): string[] {
    const seen = new Set<string>();
    return this.got.map((g) => g.event.id).filter((id) => (seen.has(id) ? false : (seen.add(id), true)));
  }
}

describe('mqtt sink', () => {
  let broker: Mosquitto;
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'roadside-mqtt-'));
    dirs.push(d);
    return d;
  };
  before(async () => {
    broker = new Mosquitto();
    await broker.start();
  });
  after(async () => {
    await broker.dispose();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  test('broker killed and restarted: every event arrives once after dedup, in order, on its topic', async () => {
    const metrics = createMetrics();
    const sub = new Subscriber(broker.url);
    await waitUntil(() => sub.subscribed, 5000, 'subscriber ready');
    const ob = await Outbox.open({ dir: tempDir(), sinks: ['mq'], retention, metrics });
    // The sink reconnects slower than the subscriber, so the subscriber is back before messages flow.
    const sink = new MqttSink({ id: 'mq', url: broker.url, applianceId: 'box1', reconnectPeriodMs: 1500, ackTimeoutMs: 2000, log: silent });
    const d = new Dispatcher({ outbox: ob, sinks: [sink], batchSize: 25, backoff: FAST, metrics, log: silent });
    d.start();
    const appended: CloudEvent[] = [];
    for (let i = 0; i < 40; i++) appended.push(...(await ob.append([stateEvent('cam1'), stateEvent('cam2')])));
    assert.ok(await d.drain(10_000), 'first part delivered');
    await waitUntil(() => sub.uniqueIds().length === 80, 5000, 'subscriber got the first part');

    await broker.stop(); // crash
    for (let i = 0; i < 60; i++) appended.push(...(await ob.append([stateEvent('cam1'), stateEvent('cam2')])));
    await sleep(500);
    assert.equal(ob.backlog('mq'), 120, 'nothing acknowledged while the broker is down');
    assert.ok(d.status()[0]!.consecutiveFailures >= 1);
    await broker.start(); // same port, empty (no persistence)
    await waitUntil(() => sub.subscribed, 5000, 'subscriber back');
    assert.ok(await d.drain(15_000), 'backlog drained after the restart');
    await waitUntil(() => sub.uniqueIds().length === 200, 5000, 'subscriber got everything');
    await d.stop();
    await ob.close();
    await sub.client.endAsync();

    assert.deepEqual(sub.uniqueIds(), appended.map((e) => e.id), 'all, in order');
    for (const g of sub.got) assert.equal(g.topic, `roadside/box1/${g.event.subject}/camera.state`);
    assert.equal(mqttTopic('x', 'b', appended[1]!), 'x/b/cam2/camera.state');
    const delivered = (await metrics.registry.getSingleMetric('roadside_sink_delivered_total')!.get()).values[0]!.value;
    assert.ok(delivered >= 200);
  });

  test('a batch is acknowledged only after every PUBACK: a frozen broker keeps the cursor where it was', async () => {
    const sub = new Subscriber(broker.url);
    await waitUntil(() => sub.subscribed, 5000, 'subscriber ready');
    const ob = await Outbox.open({ dir: tempDir(), sinks: ['mq'], retention });
    const sink = new MqttSink({ id: 'mq', url: broker.url, applianceId: 'box1', ackTimeoutMs: 400, reconnectPeriodMs: 200, log: silent });
    await waitUntil(() => sink.connected, 5000, 'sink connected');
    const d = new Dispatcher({ outbox: ob, sinks: [sink], backoff: FAST, log: silent });
    broker.pause();
    try {
      d.start();
      const evs = await ob.append([stateEvent(), stateEvent(), stateEvent()]);
      await waitUntil(() => d.status()[0]!.consecutiveFailures >= 1, 5000, 'an unacknowledged attempt');
      assert.match(d.status()[0]!.lastError!, /no PUBACK for 3 messages within 400 ms/);
      assert.equal(ob.cursor('mq'), 0);
      broker.resume();
      assert.ok(await d.drain(10_000));
      await waitUntil(() => sub.uniqueIds().length === 3, 5000, 'subscriber got them');
      assert.deepEqual(sub.uniqueIds(), evs.map((e) => e.id));
    } finally {
      broker.resume();
      await d.stop();
      await ob.close();
      await sub.client.endAsync();
    }
  });
});
