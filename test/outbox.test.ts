// The durable outbox on a real LevelDB in a temp folder: order, persistence, queries, retention,
// a failing disk (write seam), a corrupt record, and a SIGKILLed writer process.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import { Level } from 'level';
import { eventTypeOf, type DomainEvent } from '../appliance/src/core/types.js';
import type { CountIntervalData } from '../appliance/src/core/event-data.js';
import { createMetrics } from '../appliance/src/metrics/registry.js';
import { Outbox, OutboxWriteError, InvalidCursorError, cloudEventSchema, Dispatcher, WebhookSink, ulidTime } from '../appliance/src/events/index.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'roadside-outbox-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const T0 = Date.parse('2024-05-01T08:00:00Z');
function countEvent(i: number, camera = 'cam1', timeMs = T0 + i * 60_000): DomainEvent<CountIntervalData> {
  return {
    type: 'count.interval',
    cameraId: camera,
    timeMs,
    data: {
      cameraId: camera,
      intervalStart: new Date(timeMs - 60_000).toISOString(),
      intervalEnd: new Date(timeMs).toISOString(),
      binSeconds: 60,
      lineId: 'l1',
      counts: [{ direction: 'forward', cls: 'car', count: i }],
      meanSpeedKmh: null,
    },
  };
}
const retention = { maxAgeMs: 1e12, maxEvents: 1_000_000 };
const silent = pino({ level: 'silent' });

/** A pino logger that keeps its lines, to assert on what was logged. */
function memoryLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

describe('outbox', () => {
  test('stores CloudEvents in append order, survives a reopen, and keeps cursors', async () => {
    const dir = tempDir();
    const metrics = createMetrics();
    let ob = await Outbox.open({ dir, sinks: ['tc'], retention, applianceId: 'box1', metrics });
    const a = await ob.append([countEvent(1), countEvent(2, 'cam2')]);
    const b = await ob.append([countEvent(3)]);
    assert.equal(a.length, 2);
    for (const e of [...a, ...b]) assert.ok(Value.Check(cloudEventSchema(eventTypeOf(e)), e), `valid ${e.type} envelope: ${JSON.stringify([...Value.Errors(cloudEventSchema(eventTypeOf(e)), e)][0])}`);
    assert.equal(a[1]!.source, '/roadside/box1/cameras/cam2');
    assert.equal(a[0]!.time, new Date(T0 + 60_000).toISOString());
    const ids = [...a, ...b].map((e) => e.id);
    assert.deepEqual([...ids].sort(), ids, 'ids sort in append order');
    assert.ok(Math.abs(ulidTime(ids[0]!)! - Date.now()) < 60_000);
    assert.equal((await metrics.registry.getSingleMetric('roadside_events_produced_total')!.get()).values[0]!.value, 3);
    assert.equal(ob.backlog('tc'), 3);
    await ob.setCursor('tc', 2);
    await ob.close();

    ob = await Outbox.open({ dir, sinks: ['tc', 'new'], retention, applianceId: 'box1' });
    assert.equal(ob.lastSeq, 3);
    assert.equal(ob.storedEvents, 3);
    assert.equal(ob.cursor('tc'), 2);
    assert.equal(ob.cursor('new'), 0, 'a new sink starts at the oldest retained event');
    assert.deepEqual((await ob.readAfter(0, 10)).map((s) => s.event.id), ids);
    assert.deepEqual((await ob.readAfter(2, 10)).map((s) => s.seq), [3]);
    assert.equal(await ob.seqOfId(ids[1]!), 2);
    const more = await ob.append([countEvent(4)]);
    assert.equal(await ob.seqOfId(more[0]!.id), 4, 'sequence continues after a reopen');
    await ob.close();
  });

  test('queries by camera, type and time range, page by page with an opaque cursor', async () => {
    const ob = await Outbox.open({ dir: tempDir(), sinks: [], retention, log: silent });
    const evs: DomainEvent[] = [];
    for (let i = 0; i < 30; i++) evs.push(countEvent(i, i % 3 === 0 ? 'cam2' : 'cam1'));
    evs.push({ type: 'camera.state', cameraId: 'cam1', timeMs: T0 + 5 * 60_000 + 1, data: { cameraId: 'cam1', state: 'streaming' } });
    await ob.append(evs);

    const cam2 = await ob.query({ camera: 'cam2', limit: 100 });
    assert.equal(cam2.events.length, 10);
    assert.ok(cam2.events.every((e) => e.subject === 'cam2'));
    assert.equal(cam2.nextCursor, null);

    const state = await ob.query({ type: 'camera.state', limit: 100 });
    assert.deepEqual(state.events.map((e) => e.type), ['org.roadside.camera.state'], 'filtered by internal type, sent with the reverse-DNS CloudEvents type');
    const camType = await ob.query({ camera: 'cam1', type: 'count.interval', limit: 100 });
    assert.equal(camType.events.length, 20);

    // [from, to): event i has time T0 + i min, so 10..19 → 10 events (+ the camera.state at 5 min is outside).
    const ranged = await ob.query({ fromMs: T0 + 10 * 60_000, toMs: T0 + 20 * 60_000, limit: 100 });
    assert.deepEqual(ranged.events.map((e) => (e.data as CountIntervalData).counts[0]!.count), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);

    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await ob.query({ camera: 'cam1', type: 'count.interval', limit: 7, cursor });
      seen.push(...page.events.map((e) => (e.data as CountIntervalData).counts[0]!.count));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, evs.slice(0, 30).map((_, i) => i).filter((i) => i % 3 !== 0));

    const first = await ob.query({ camera: 'cam1', limit: 2 });
    await assert.rejects(ob.query({ camera: 'cam2', limit: 2, cursor: first.nextCursor! }), InvalidCursorError);
    await ob.close();
  });

  test('retention deletes by count and age, and counts only drops a sink had not received', async () => {
    const metrics = createMetrics();
    const { log, lines } = memoryLog();
    const now = T0 + 100 * 60_000;
    const ob = await Outbox.open({ dir: tempDir(), sinks: ['tc'], retention: { maxAgeMs: 60 * 60_000, maxEvents: 50 }, metrics, log, now: () => now });
    const evs = Array.from({ length: 60 }, (_, i) => countEvent(i + 1, 'cam1', now - (60 - i) * 60_000 + 1));
    await ob.setCursor('tc', 5); // tc got seq 1..5
    await ob.append(evs);
    await ob.prune();
    // 60 events, max 50 → seq 1..10 go by count, 5 of which (6..10) tc never had.
    assert.equal(ob.storedEvents, 50);
    const dropped = async (reason: string) =>
      (await metrics.registry.getSingleMetric('roadside_outbox_dropped_total')!.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
    assert.equal(await dropped('count'), 5);
    assert.equal((await ob.readAfter(0, 1))[0]!.seq, 11);
    assert.ok(lines.some((l) => l.msg === 'retention deleted events a sink had not received yet' && l.reason === 'count' && l.events === 5));

    // Age: the cutoff is 60 min, events 11..60 are 50..1 min old → none; move the clock by 20 min.
    const ob2 = ob as unknown as { now: () => number };
    ob2.now = () => now + 20 * 60_000;
    await ob.prune();
    assert.equal(ob.storedEvents, 40, 'events older than 60 min removed');
    assert.equal(await dropped('age'), 10);
    assert.equal(ob.backlog('tc'), 40);
    const q = await ob.query({ camera: 'cam1', limit: 1000 });
    assert.equal(q.events.length, 40, 'index entries removed with the events');
    await ob.close();
  });

  test('appends beyond maxEvents prune back to the cap on their own (1 % slack)', async () => {
    const ob = await Outbox.open({ dir: tempDir(), sinks: [], retention: { maxAgeMs: 1e13, maxEvents: 100 } });
    for (let i = 0; i < 150; i++) await ob.append([countEvent(i)]);
    assert.ok(ob.storedEvents <= 102, `pruned while appending: ${ob.storedEvents} stored`);
    await ob.prune(); // waits for any queued retention task; prunes nothing more than the cap asks
    assert.equal(ob.storedEvents, 100);
    assert.equal((await ob.readAfter(0, 1))[0]!.seq, 51, 'the oldest went first');
    await ob.close();
  });

  test('a failing disk (ENOSPC through the write seam) rejects with OutboxWriteError and loses nothing already stored', async () => {
    const dir = tempDir();
    const metrics = createMetrics();
    let full = false;
    const enospc = () => Object.assign(new Error('IO error: /data/outbox/000005.log: No space left on device'), { code: 'LEVEL_IO_ERROR' });
    let ob = await Outbox.open({ dir, sinks: ['tc'], retention, metrics, log: silent, writeFault: (kind) => (full && kind === 'append' ? enospc() : undefined) });
    const stored = await ob.append([countEvent(1), countEvent(2)]);
    full = true;
    const err = await ob.append([countEvent(3)]).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof OutboxWriteError, 'OutboxWriteError');
    assert.equal(err.reason, 'disk-full');
    assert.match(err.message, /disk full.*No space left on device/);
    assert.equal((await metrics.registry.getSingleMetric('roadside_outbox_write_errors_total')!.get()).values[0]!.value, 1);
    assert.equal(ob.lastSeq, 2, 'no sequence number used by the failed write');
    full = false;
    const later = await ob.append([countEvent(4)]);
    await ob.close();
    ob = await Outbox.open({ dir, sinks: ['tc'], retention });
    assert.deepEqual((await ob.readAfter(0, 10)).map((s) => s.event.id), [...stored, ...later].map((e) => e.id));
    assert.deepEqual((await ob.readAfter(0, 10)).map((s) => s.seq), [1, 2, 3]);
    await ob.close();
  });

  test('a corrupt record is skipped with an error log and a counter; delivery of the rest continues', async () => {
    const dir = tempDir();
    let ob = await Outbox.open({ dir, sinks: ['tc'], retention });
    const evs = await ob.append(Array.from({ length: 10 }, (_, i) => countEvent(i)));
    await ob.close();
    // Garbage bytes under the key of event seq 4, written with level directly (as a torn/bitrotted value).
    const raw = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    await raw.open();
    await raw.put(`e!${(4).toString(16).padStart(16, '0')}`, Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x13, 0x37]));
    await raw.close();

    const metrics = createMetrics();
    const { log, lines } = memoryLog();
    ob = await Outbox.open({ dir, sinks: ['tc'], retention, metrics, log });
    const rx = new WebhookReceiver();
    await rx.start();
    const d = new Dispatcher({ outbox: ob, sinks: [new WebhookSink({ id: 'tc', url: rx.url })], batchSize: 3, log, metrics });
    d.start();
    assert.ok(await d.drain(10_000), 'drained');
    await d.stop();
    await rx.stop();
    assert.deepEqual(rx.unique().map((e) => e.id), evs.filter((_, i) => i !== 3).map((e) => e.id));
    assert.equal(ob.corruptRecords, 1);
    assert.equal((await metrics.registry.getSingleMetric('roadside_outbox_dropped_total')!.get()).values.find((v) => v.labels.reason === 'corrupt')?.value, 1);
    assert.ok(lines.some((l) => l.msg === 'corrupt outbox record skipped' && l.seq === 4 && l.level === 50));
    assert.equal(ob.cursor('tc'), 10);
    const q = await ob.query({ camera: 'cam1', limit: 100 });
    assert.equal(q.events.length, 9, 'queries skip it too');
    await ob.close();
  });

  test('SIGKILL of the writing process while events are pending: every acked event is stored and then delivered', async () => {
    const dir = tempDir();
    const child = join(tempDir(), 'outbox-writer.mts');
    const mod = pathToFileURL(resolve('appliance/src/events/outbox.ts')).href;
    writeFileSync(
      child,
      `import { Outbox } from ${JSON.stringify(mod)};
const ob = await Outbox.open({ dir: process.argv[2], sinks: ['tc'], retention: { maxAgeMs: 1e12, maxEvents: 1e7 } });
let i = 0;
for (;;) {
  const batch = Array.from({ length: 5 }, () => ({ type: 'camera.state', cameraId: 'cam1', timeMs: Date.now(), data: { cameraId: 'cam1', state: 'streaming', reason: String(i++) } }));
  const stored = await ob.append(batch);
  process.stdout.write(stored.map((e) => 'ACK ' + e.id + '\\n').join(''));
}
`,
    );
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
    const acked: string[] = [];
    let buf = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (s: string) => {
      buf += s;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const p of parts) if (p.startsWith('ACK ')) acked.push(p.slice(4));
    });
    let gone = false;
    const exited = new Promise<NodeJS.Signals | null>((r) => proc.on('exit', (_c, sig) => ((gone = true), r(sig))));
    const t0 = Date.now();
    while (acked.length < 300 && !gone && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
    proc.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.ok(acked.length >= 300, `child acked ${acked.length} events`);

    const ob = await Outbox.open({ dir, sinks: ['tc'], retention });
    for (const id of acked) assert.notEqual(await ob.seqOfId(id), null, `acked ${id} is stored`);
    assert.ok(ob.lastSeq >= acked.length);
    const rx = new WebhookReceiver();
    await rx.start();
    const d = new Dispatcher({ outbox: ob, sinks: [new WebhookSink({ id: 'tc', url: rx.url })], batchSize: 200 });
    d.start();
    assert.ok(await d.drain(20_000), 'drained');
    await d.stop();
    await rx.stop();
    await ob.close();
    const got = rx.unique().map((e) => e.id);
    assert.deepEqual(got.slice(0, acked.length), acked, 'every acked event delivered, in order');
    assert.equal(got.length, rx.acked.length, 'nothing twice');
  });
});
