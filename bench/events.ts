// Events upstream throughput: sustained events/s through the outbox (fsync'd appends + dispatch) to a
// loopback webhook receiver, and the backlog drain rate after an outage. Bounded: 20k events, < 60 s.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainEvent } from '../appliance/src/core/types.js';
import { Dispatcher, Outbox, WebhookSink } from '../appliance/src/events/index.js';
import { WebhookReceiver } from '../test/helpers/webhook-receiver.js';

const SUSTAINED_EVENTS = 10_000;
const BACKLOG_EVENTS = 10_000;
const PRODUCERS = 4; // cameras publishing concurrently
const BATCH = 10; // events per publish (one interval close of a camera)
const DEADLINE_MS = 60_000;

export function countEvent(camera: string, i: number): DomainEvent {
  const t = Date.now();
  return {
    type: 'count.interval',
    cameraId: camera,
    timeMs: t,
    data: {
      cameraId: camera,
      lineId: 'l1',
      intervalStart: new Date(t - 60_000).toISOString(),
      intervalEnd: new Date(t).toISOString(),
      binSeconds: 60,
      counts: [
        { direction: 'forward', cls: 'car', count: i % 17 },
        { direction: 'backward', cls: 'truck', count: i % 3 },
      ],
      meanSpeedKmh: 50 + (i % 20),
    },
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function waitDrained(ob: Outbox, sink: string, deadline: number): Promise<void> {
  while (ob.cursor(sink) < ob.lastSeq) {
    if (Date.now() > deadline) throw new Error(`not drained before the deadline (backlog ${ob.backlog(sink)})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function runEventsBench() {
  const dir = mkdtempSync(join(tmpdir(), 'roadside-bench-events-'));
  const rx = new WebhookReceiver('bench-secret-0123456789');
  await rx.start();
  const ob = await Outbox.open({ dir, sinks: ['tc'], retention: { maxAgeMs: 86_400_000, maxEvents: 1_000_000 }, applianceId: 'bench' });
  const d = new Dispatcher({ outbox: ob, sinks: [new WebhookSink({ id: 'tc', url: rx.url, secret: 'bench-secret-0123456789' })], batchSize: 200, backoff: { initialMs: 20, maxMs: 200 } });
  d.start();
  const deadline = Date.now() + DEADLINE_MS;
  try {
    // 1. Sustained: PRODUCERS concurrent publishers, each waiting for its (fsync'd) ack before the next batch.
    const latencies: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: PRODUCERS }, async (_, p) => {
        for (let i = 0; i < SUSTAINED_EVENTS / PRODUCERS / BATCH; i++) {
          const a = performance.now();
          await ob.append(Array.from({ length: BATCH }, (_, k) => countEvent(`cam${p}`, i * BATCH + k)));
          latencies.push(performance.now() - a);
        }
      }),
    );
    const appendS = (performance.now() - t0) / 1000;
    await waitDrained(ob, 'tc', deadline);
    const sustainedS = (performance.now() - t0) / 1000;
    const deliveredSustained = rx.unique().length;

    // 2. Outage: receiver down, a backlog piles up, receiver back: time until every event is delivered.
    await rx.stop();
    const b0 = performance.now();
    for (let i = 0; i < BACKLOG_EVENTS / 100; i++) await ob.append(Array.from({ length: 100 }, (_, k) => countEvent('cam0', i * 100 + k)));
    const backlogAppendS = (performance.now() - b0) / 1000;
    const backlog = ob.backlog('tc');
    const r0 = performance.now();
    await rx.start();
    await waitDrained(ob, 'tc', deadline);
    const drainS = (performance.now() - r0) / 1000;

    const unique = rx.unique().length;
    const result = {
      sustainedEvents: SUSTAINED_EVENTS,
      appendEventsPerSec: Math.round(SUSTAINED_EVENTS / appendS),
      sustainedEventsPerSec: Math.round(SUSTAINED_EVENTS / sustainedS),
      appendLatencyMsP50: Math.round(pct(latencies, 50) * 100) / 100,
      appendLatencyMsP99: Math.round(pct(latencies, 99) * 100) / 100,
      backlogEvents: backlog,
      backlogAppendEventsPerSec: Math.round(BACKLOG_EVENTS / backlogAppendS),
      drainSeconds: Math.round(drainS * 100) / 100,
      drainEventsPerSec: Math.round(backlog / drainS),
      delivered: unique,
      duplicates: rx.acked.length - unique,
      lost: SUSTAINED_EVENTS + BACKLOG_EVENTS - unique,
      summary: [] as string[],
    };
    if (deliveredSustained !== SUSTAINED_EVENTS) throw new Error(`sustained phase delivered ${deliveredSustained}/${SUSTAINED_EVENTS}`);
    result.summary = [
      `sustained: ${result.sustainedEventsPerSec} events/s end to end (fsync'd append + signed webhook POST, ${PRODUCERS} producers × ${BATCH}-event batches, ${SUSTAINED_EVENTS} events)`,
      `append (internal ack, fsync): ${result.appendEventsPerSec} events/s, p50 ${result.appendLatencyMsP50} ms, p99 ${result.appendLatencyMsP99} ms per ${BATCH}-event batch`,
      `backlog drain after an outage: ${result.backlogEvents} events in ${result.drainSeconds} s = ${result.drainEventsPerSec} events/s (200 per POST)`,
      `delivered ${result.delivered} unique, ${result.duplicates} duplicates, ${result.lost} lost`,
    ];
    return result;
  } finally {
    await d.stop();
    await ob.close();
    await rx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runEventsBench(), null, 2));
}
