// Events into NATS JetStream: sustained events/s from fsync'd outbox append to acknowledged publish,
// into a single-node stream and a three-node cluster stream (3 replicas), side by side with the loopback
// webhook measured the same way in the same run. Real nats-server processes on 127.0.0.1.
// Alone: npx tsx bench/nats.ts [events]. Bounded: 5,000 events per target, < 2 min in all.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dispatcher, NatsSink, Outbox, WebhookSink, type EventSink } from '../appliance/src/events/index.js';
import { NatsCluster } from '../test/helpers/nats.js';
import { WebhookReceiver } from '../test/helpers/webhook-receiver.js';
import { countEvent } from './events.js';

const PRODUCERS = 4; // cameras publishing concurrently
const BATCH = 10; // events per publish (one interval close of a camera)
const SINK_BATCH = 200; // events per delivery, as in the webhook bench
const DEADLINE_MS = 60_000;

interface Run {
  events: number;
  eventsPerSec: number;
  seconds: number;
}

/** PRODUCERS concurrent publishers (each waits for its fsync'd append), until the sink acknowledged all. */
async function sustained(sink: EventSink, events: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'roadside-bench-nats-'));
  const ob = await Outbox.open({ dir, sinks: [sink.id], retention: { maxAgeMs: 86_400_000, maxEvents: 1_000_000 }, applianceId: 'bench' });
  const d = new Dispatcher({ outbox: ob, sinks: [sink], batchSize: SINK_BATCH, backoff: { initialMs: 20, maxMs: 200 } });
  d.start();
  try {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: PRODUCERS }, async (_, p) => {
        for (let i = 0; i < events / PRODUCERS / BATCH; i++) await ob.append(Array.from({ length: BATCH }, (_, k) => countEvent(`cam${p}`, i * BATCH + k)));
      }),
    );
    if (!(await d.drain(DEADLINE_MS))) throw new Error(`${sink.id}: not drained within ${DEADLINE_MS} ms (backlog ${ob.backlog(sink.id)})`);
    const s = (performance.now() - t0) / 1000;
    return { events, eventsPerSec: Math.round(events / s), seconds: Math.round(s * 100) / 100 };
  } finally {
    await d.stop();
    await ob.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function intoStream(size: 1 | 3, events: number): Promise<Run & { stored: number }> {
  const cluster = await NatsCluster.create(size);
  try {
    await cluster.start();
    const { nc, jsm } = await cluster.manager();
    await jsm.streams.add({ name: 'BENCH', subjects: ['roadside.>'], num_replicas: size });
    await cluster.streamInfo(jsm, 'BENCH');
    const sink = new NatsSink({ id: `nats-r${size}`, servers: cluster.urls, stream: 'BENCH', applianceId: 'bench' });
    await sink.ready();
    const run = await sustained(sink, events);
    const stored = (await jsm.streams.info('BENCH')).state.messages;
    await nc.close();
    if (stored !== events) throw new Error(`stream of ${size} node(s) holds ${stored} messages, expected ${events}`);
    return { ...run, stored };
  } finally {
    await cluster.dispose();
  }
}

async function intoWebhook(events: number): Promise<Run> {
  const rx = new WebhookReceiver('bench-secret-0123456789');
  await rx.start();
  try {
    const run = await sustained(new WebhookSink({ id: 'webhook', url: rx.url, secret: 'bench-secret-0123456789' }), events);
    if (rx.unique().length !== events) throw new Error(`webhook received ${rx.unique().length}/${events}`);
    return run;
  } finally {
    await rx.stop();
  }
}

export async function runNatsBench(events = 5000) {
  await intoWebhook(500); // warm-up: JIT and LevelDB, so the first measured target is not penalised
  const webhook = await intoWebhook(events);
  const single = await intoStream(1, events);
  const cluster = await intoStream(3, events);
  const how = `fsync'd outbox append → acknowledged delivery, ${PRODUCERS} producers × ${BATCH}-event batches, ${SINK_BATCH} events per delivery, ${events} events`;
  return {
    events,
    webhookEventsPerSec: webhook.eventsPerSec,
    natsSingleNodeEventsPerSec: single.eventsPerSec,
    natsThreeNodeR3EventsPerSec: cluster.eventsPerSec,
    ratioSingleToWebhook: Math.round((single.eventsPerSec / webhook.eventsPerSec) * 100) / 100,
    ratioThreeNodeToSingle: Math.round((cluster.eventsPerSec / single.eventsPerSec) * 100) / 100,
    summary: [
      `sustained events/s (${how}):`,
      `webhook (loopback, signed POST): ${webhook.eventsPerSec} | JetStream single node: ${single.eventsPerSec} | JetStream 3 nodes, 3 replicas: ${cluster.eventsPerSec}`,
      `ratios: single-node/webhook ${(single.eventsPerSec / webhook.eventsPerSec).toFixed(2)}, three-node/single-node ${(cluster.eventsPerSec / single.eventsPerSec).toFixed(2)}; every stream held exactly ${events} messages`,
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 5000);
  const r = await runNatsBench(n);
  for (const l of r.summary) console.log(l);
}
