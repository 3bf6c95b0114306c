// Events into NATS JetStream: sustained events/s from fsync'd outbox append to acknowledged publish,
// into a single-node stream and a three-node cluster stream (3 replicas), side by side with the loopback
// webhook measured the same way in the same run; then the drain rate of a stored backlog (the sink's own
// rate, without the producers' fsync in the way). Real nats-server processes on 127.0.0.1.
// Alone: npx tsx bench/nats.ts [events]. Bounded: 2 × 5,000 events per target, well under a minute.
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
  /** A backlog of `events` already stored, delivered from a standing start: the sink's own rate. */
  drainEventsPerSec: number;
}

/** PRODUCERS concurrent publishers (each waits for its fsync'd append), until the sink acknowledged all. */
async function sustained(makeSink: () => Promise<EventSink>, events: number): Promise<Run> {
  const sink = await makeSink();
  const dir = mkdtempSync(join(tmpdir(), 'roadside-bench-nats-'));
  const ob = await Outbox.open({ dir, sinks: [sink.id], retention: { maxAgeMs: 86_400_000, maxEvents: 1_000_000 }, applianceId: 'bench' });
  const d = new Dispatcher({ outbox: ob, sinks: [sink], batchSize: SINK_BATCH, backoff: { initialMs: 20, maxMs: 200 } });
  let d2: Dispatcher | undefined;
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
    // Backlog: stored while no dispatcher runs (an outage), then drained.
    await d.stop();
    for (let i = 0; i < events / 100; i++) await ob.append(Array.from({ length: 100 }, (_, k) => countEvent('cam0', i * 100 + k)));
    const fresh = await makeSink(); // stop() closed the first one
    d2 = new Dispatcher({ outbox: ob, sinks: [fresh], batchSize: SINK_BATCH, backoff: { initialMs: 20, maxMs: 200 } });
    const r0 = performance.now();
    d2.start();
    if (!(await d2.drain(DEADLINE_MS))) throw new Error(`${sink.id}: backlog not drained within ${DEADLINE_MS} ms`);
    const drainS = (performance.now() - r0) / 1000;
    return { events, eventsPerSec: Math.round(events / s), seconds: Math.round(s * 100) / 100, drainEventsPerSec: Math.round(events / drainS) };
  } finally {
    await d.stop();
    await d2?.stop();
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
    const run = await sustained(async () => {
      const sink = new NatsSink({ id: `nats-r${size}`, servers: cluster.urls, stream: 'BENCH', applianceId: 'bench' });
      await sink.ready();
      return sink;
    }, events);
    const stored = (await jsm.streams.info('BENCH')).state.messages;
    await nc.close();
    if (stored !== 2 * events) throw new Error(`stream of ${size} node(s) holds ${stored} messages, expected ${2 * events}`);
    return { ...run, stored };
  } finally {
    await cluster.dispose();
  }
}

async function intoWebhook(events: number): Promise<Run> {
  const rx = new WebhookReceiver('bench-secret-0123456789');
  await rx.start();
  try {
    const run = await sustained(async () => new WebhookSink({ id: 'webhook', url: rx.url, secret: 'bench-secret-0123456789' }), events);
    if (rx.unique().length !== 2 * events) throw new Error(`webhook received ${rx.unique().length}/${2 * events}`);
    return run;
  } finally {
    await rx.stop();
  }
}

export async function runNatsBench(events = 5000) {
  if (events % (PRODUCERS * BATCH)) throw new Error(`events must be a multiple of ${PRODUCERS * BATCH}`);
  await intoWebhook(PRODUCERS * BATCH * 10); // warm-up: JIT and LevelDB, so the first measured target is not penalised
  const webhook = await intoWebhook(events);
  const single = await intoStream(1, events);
  const cluster = await intoStream(3, events);
  const how = `fsync'd outbox append → acknowledged delivery, ${PRODUCERS} producers × ${BATCH}-event batches, ${SINK_BATCH} events per delivery, ${events} events`;
  return {
    events,
    webhookEventsPerSec: webhook.eventsPerSec,
    natsSingleNodeEventsPerSec: single.eventsPerSec,
    natsThreeNodeR3EventsPerSec: cluster.eventsPerSec,
    webhookDrainEventsPerSec: webhook.drainEventsPerSec,
    natsSingleNodeDrainEventsPerSec: single.drainEventsPerSec,
    natsThreeNodeR3DrainEventsPerSec: cluster.drainEventsPerSec,
    ratioSingleToWebhook: ratio(single.eventsPerSec, webhook.eventsPerSec),
    ratioThreeNodeToSingle: ratio(cluster.eventsPerSec, single.eventsPerSec),
    drainRatioSingleToWebhook: ratio(single.drainEventsPerSec, webhook.drainEventsPerSec),
    drainRatioThreeNodeToSingle: ratio(cluster.drainEventsPerSec, single.drainEventsPerSec),
    summary: [
      `sustained events/s (${how}): webhook (loopback, signed POST) ${webhook.eventsPerSec} | JetStream single node ${single.eventsPerSec} | JetStream 3 nodes, 3 replicas ${cluster.eventsPerSec}`,
      `backlog drain events/s (${events} stored events, ${SINK_BATCH} per delivery): webhook ${webhook.drainEventsPerSec} | JetStream single node ${single.drainEventsPerSec} | JetStream 3 nodes, 3 replicas ${cluster.drainEventsPerSec}`,
      `ratios: sustained single-node/webhook ${ratio(single.eventsPerSec, webhook.eventsPerSec)}, three-node/single-node ${ratio(cluster.eventsPerSec, single.eventsPerSec)}; drain single-node/webhook ${ratio(single.drainEventsPerSec, webhook.drainEventsPerSec)}, three-node/single-node ${ratio(cluster.drainEventsPerSec, single.drainEventsPerSec)}; every stream held exactly ${2 * events} messages`,
    ],
  };
}

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 5000);
  const r = await runNatsBench(n);
  for (const l of r.summary) console.log(l);
}
