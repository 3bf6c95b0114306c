// The durable outbox: every event is written to LevelDB with fsync before append() resolves (the
// internal ack), keyed by a monotonic sequence so that storage order = append order. Sinks read from
// their own persisted cursor; the API queries through time indexes. Retention by age and count.
//
// Key layout (utf8 keys, one DB):
//   e!<seq hex16>                 → CloudEvent JSON           (the log)
//   x!<event id>                  → seq hex16                 (Last-Event-ID lookups)
//   t!<time hex12>!<seq>          → ''                        (time index)
//   ct!<camera>!<time>!<seq>      → ''                        (camera + time index)
//   tt!<type>!<time>!<seq>        → ''                        (type + time index)
//   c!<sink>                      → last delivered seq (decimal)
//   d!<sink>!<seq>                → dead letter JSON {reason, at, event}
//   m!next, m!count               → next seq, number of stored events (kept in the same batches)
import { EventEmitter } from 'node:events';
import { Level } from 'level';
import type { Logger } from '../core/log.js';
import { cloudEventType, eventTypeOf, type CloudEvent, type DomainEvent, type EventType } from '../core/types.js';
import type { Metrics } from '../metrics/registry.js';
import { observeLaneEvent } from '../metrics/lanes.js';
import { isCloudEvent, schemaUri, toCloudEvent } from './cloudevent.js';

export interface RetentionPolicy {
  /** Events older than this (by event time) are deleted. */
  maxAgeMs: number;
  /** At most this many events are kept; the oldest go first. */
  maxEvents: number;
}

export interface OutboxOptions {
  dir: string;
  /** Sink ids that get a cursor; a sink seen for the first time starts at the oldest retained event. */
  sinks: string[];
  retention: RetentionPolicy;
  /** Used to envelope DomainEvents passed to append(). */
  applianceId?: string;
  /** Base of the absolute `dataschema` URIs of enveloped events (default DEFAULT_SCHEMA_BASE_URL). */
  schemaBaseUrl?: string;
  metrics?: Metrics;
  log?: Logger;
  /** How often retention runs (ms). It also runs when an append goes over maxEvents. */
  pruneIntervalMs?: number;
  /**
   * TEST SEAM (disk full): called before every write to LevelDB; an Error it returns fails that write
   * exactly as if LevelDB had failed it. No real small filesystem can be mounted in the test sandbox.
   */
  writeFault?: (kind: 'append' | 'prune' | 'cursor' | 'dead-letter') => Error | undefined;
  /** Clock for retention (tests). */
  now?: () => number;
}

export interface StoredEvent {
  seq: number;
  event: CloudEvent;
}

export interface EventFilter {
  camera?: string;
  type?: EventType;
  /** Inclusive, ms since epoch (event time). */
  fromMs?: number;
  /** Exclusive, ms since epoch (event time). */
  toMs?: number;
}

export interface QueryPage {
  events: CloudEvent[];
  /** Opaque; null when there is nothing after this page. */
  nextCursor: string | null;
}

export interface DeadLetter {
  sink: string;
  seq: number;
  reason: string;
  at: string;
  event: CloudEvent | null;
}

/** A write the outbox could not make (disk full, I/O error). Nothing stored before it is affected. */
export class OutboxWriteError extends Error {
  override readonly name = 'OutboxWriteError';
  constructor(
    readonly reason: 'disk-full' | 'io-error' | 'closed',
    readonly causeMessage: string,
    options?: { cause?: unknown },
  ) {
    super(`outbox write failed (${reason === 'disk-full' ? 'disk full' : reason}): ${causeMessage}`, options);
  }
}

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

type Job =
  | { kind: 'append'; events: CloudEvent[]; resolve: (v: StoredEvent[]) => void; reject: (e: unknown) => void }
  | { kind: 'task'; run: () => Promise<void>; resolve: (v: void) => void; reject: (e: unknown) => void };

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
const seqKey = (seq: number) => `e!${hex(seq, 16)}`;
const esc = (s: string) => s.replace(/[!%~]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
const timeHex = (ms: number) => hex(Math.max(0, Math.floor(ms)), 12);
const E_END = 'e!~';
/** Appends written in one LevelDB batch at most (group commit of concurrent appends). */
const MAX_GROUP = 2000;

/** Events stored before the reverse-DNS type prefix and absolute dataschema leave as they would today. */
function upgradeStored(e: CloudEvent): CloudEvent {
  const type = eventTypeOf(e);
  if (e.type === cloudEventType(type) && (e.dataschema === undefined || !e.dataschema.startsWith('/'))) return e;
  return { ...e, type: cloudEventType(type), ...(e.dataschema?.startsWith('/') ? { dataschema: schemaUri(type) } : {}) };
}

function indexKeys(seq: number, e: CloudEvent): string[] {
  const t = timeHex(Date.parse(e.time));
  const s = hex(seq, 16);
  return [`x!${e.id}`, `t!${t}!${s}`, `ct!${esc(e.subject)}!${t}!${s}`, `tt!${esc(eventTypeOf(e))}!${t}!${s}`];
}

export class Outbox {
  private readonly events = new EventEmitter();
  private readonly queue: Job[] = [];
  private writer: Promise<void> | null = null;
  private readonly cursors = new Map<string, number>();
  private readonly reportedCorrupt = new Set<number>();
  private nextSeq = 1;
  private firstSeq = 1;
  private count = 0;
  private closed = false;
  private pruneTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  /** Records skipped because they did not parse (also counted in outboxDropped{reason="corrupt"}). */
  corruptRecords = 0;

  private constructor(
    private readonly db: Level<string, string>,
    private readonly opts: OutboxOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.events.setMaxListeners(0);
  }

  static async open(opts: OutboxOptions): Promise<Outbox> {
    const db = new Level<string, string>(opts.dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    const ob = new Outbox(db, opts);
    await ob.load();
    return ob;
  }

  private async load(): Promise<void> {
    const next = await this.db.get('m!next');
    const [last] = await this.db.keys({ gte: 'e!', lt: E_END, reverse: true, limit: 1 }).all();
    const [first] = await this.db.keys({ gte: 'e!', lt: E_END, limit: 1 }).all();
    const lastSeq = last ? parseInt(last.slice(2), 16) : 0;
    this.nextSeq = Math.max(next ? Number(next) : 1, lastSeq + 1);
    this.firstSeq = first ? parseInt(first.slice(2), 16) : this.nextSeq;
    const count = await this.db.get('m!count');
    if (count !== undefined) this.count = Number(count);
    else for await (const _k of this.db.keys({ gte: 'e!', lt: E_END })) this.count++;
    for (const sink of this.opts.sinks) {
      const c = await this.db.get(`c!${sink}`);
      this.cursors.set(sink, c !== undefined ? Number(c) : 0);
    }
    this.opts.metrics?.outboxStoredEvents.set(this.count);
    this.updateBacklog();
    const every = this.opts.pruneIntervalMs ?? 60_000;
    this.pruneTimer = setInterval(() => void this.prune().catch((err: Error) => this.opts.log?.error({ err: err.message }, 'outbox retention failed')), every);
    this.pruneTimer.unref();
  }

  get applianceId(): string {
    return this.opts.applianceId ?? 'roadside';
  }

  /** Seq of the newest stored event (0 when none was ever stored). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get storedEvents(): number {
    return this.count;
  }

  get sinkIds(): string[] {
    return [...this.cursors.keys()];
  }

  /**
   * Stores the events (enveloping DomainEvents) and resolves once they are on disk (fsync). Concurrent
   * appends are committed together in one batch, in call order. Rejects with OutboxWriteError.
   */
  async append(input: DomainEvent[] | CloudEvent[]): Promise<CloudEvent[]> {
    const stored = await this.appendStored(input);
    return stored.map((s) => s.event);
  }

  /** append(), returning the sequence numbers as well. */
  appendStored(input: DomainEvent[] | CloudEvent[]): Promise<StoredEvent[]> {
    if (this.closed) return Promise.reject(new OutboxWriteError('closed', 'the outbox is closed'));
    const events = (input as (DomainEvent | CloudEvent)[]).map((e) => (isCloudEvent(e) ? e : toCloudEvent(e, this.applianceId, undefined, this.opts.schemaBaseUrl)));
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'append', events, resolve, reject });
      this.kick();
    });
  }

  /** Runs fn in the single write queue (no append or prune interleaves with it). */
  private serial(run: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'task', run, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.writer) return;
    this.writer = (async () => {
      while (this.queue.length) {
        const head = this.queue[0];
        if (!head) break;
        if (head.kind === 'task') {
          this.queue.shift();
          await head.run().then(head.resolve, head.reject);
          continue;
        }
        // Group consecutive appends into one synced batch.
        const group: Extract<Job, { kind: 'append' }>[] = [];
        let n = 0;
        while (this.queue[0]?.kind === 'append' && (group.length === 0 || n < MAX_GROUP)) {
          const j = this.queue.shift() as Extract<Job, { kind: 'append' }>;
          group.push(j);
          n += j.events.length;
        }
        await this.writeAppends(group);
      }
      this.writer = null;
    })();
  }

  private async writeAppends(group: Extract<Job, { kind: 'append' }>[]): Promise<void> {
    let seq = this.nextSeq;
    const ops: Op[] = [];
    const results: StoredEvent[][] = [];
    for (const job of group) {
      const r: StoredEvent[] = [];
      for (const event of job.events) {
        ops.push({ type: 'put', key: seqKey(seq), value: JSON.stringify(event) });
        for (const k of indexKeys(seq, event)) ops.push({ type: 'put', key: k, value: k.startsWith('x!') ? hex(seq, 16) : '' });
        r.push({ seq, event });
        seq++;
      }
      results.push(r);
    }
    const added = seq - this.nextSeq;
    ops.push({ type: 'put', key: 'm!next', value: String(seq) }, { type: 'put', key: 'm!count', value: String(this.count + added) });
    try {
      await this.write('append', ops);
    } catch (err) {
      for (const job of group) job.reject(err);
      return;
    }
    // Only now (on disk) do the counters move: a failed write leaves no gap and nothing half-counted.
    if (this.count === 0) this.firstSeq = this.nextSeq;
    this.nextSeq = seq;
    this.count += added;
    const m = this.opts.metrics;
    if (m) {
      for (const r of results) {
        for (const s of r) {
          m.eventsProduced.inc({ type: eventTypeOf(s.event) });
          observeLaneEvent(m, s.event);
        }
      }
      m.outboxStoredEvents.set(this.count);
    }
    this.updateBacklog();
    group.forEach((job, i) => job.resolve(results[i]!)); // results[i] was built for group[i] above
    try {
      this.events.emit('append', results.flat());
    } catch (err) {
      // A live-stream listener that throws must not stop the writer: the events are stored already.
      this.opts.log?.error({ err: (err as Error).message }, 'append listener failed');
    }
    // Over the cap by 1 %: prune back to it (in bulk, not one fsync'd delete per append at steady state).
    const { maxEvents } = this.opts.retention;
    if (this.count > maxEvents + Math.max(1, Math.floor(maxEvents / 100))) this.queue.push({ kind: 'task', run: async () => void (await this.pruneNow()), resolve: () => {}, reject: () => {} });
  }

  /** One synced LevelDB batch; failures become OutboxWriteError (and are counted and logged). */
  private async write(kind: 'append' | 'prune' | 'cursor' | 'dead-letter', ops: Op[]): Promise<void> {
    try {
      const injected = this.opts.writeFault?.(kind);
      if (injected) throw injected;
      await this.db.batch(ops, { sync: true });
    } catch (err) {
      const e = err as Error & { code?: string; cause?: Error & { code?: string } };
      const text = `${e.message ?? String(err)}${e.cause ? ` (${e.cause.message})` : ''}`;
      const diskFull = e.code === 'ENOSPC' || e.cause?.code === 'ENOSPC' || /ENOSPC|no space left/i.test(text);
      const wrapped = new OutboxWriteError(diskFull ? 'disk-full' : 'io-error', text, { cause: err });
      this.opts.metrics?.outboxWriteErrors.inc();
      this.opts.log?.error({ kind, reason: wrapped.reason, err: text }, 'outbox write failed');
      throw wrapped;
    }
  }

  /** Called with every batch of newly stored events (in seq order). Returns an unsubscribe. */
  onAppend(fn: (items: StoredEvent[]) => void): () => void {
    this.events.on('append', fn);
    return () => this.events.off('append', fn);
  }

  /** Live subscribers (SSE streams, sinks waiting for work): a leak shows here. */
  appendListeners(): number {
    return this.events.listenerCount('append');
  }

  /** Up to `limit` events with seq > afterSeq, in order. Records that do not parse are skipped. */
  async readAfter(afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return (await this.readBatch(afterSeq, limit)).items;
  }

  /**
   * Like readAfter, and also the highest seq scanned (corrupt records included), so that a reader can
   * move its cursor past records it had to skip.
   */
  async readBatch(afterSeq: number, limit: number): Promise<{ items: StoredEvent[]; scannedTo: number }> {
    const rows = await this.db.iterator({ gt: seqKey(afterSeq), lt: E_END, limit }).all();
    const items: StoredEvent[] = [];
    let scannedTo = afterSeq;
    for (const [k, v] of rows) {
      const seq = parseInt(k.slice(2), 16);
      scannedTo = seq;
      const event = this.parse(seq, v);
      if (event) items.push({ seq, event });
    }
    return { items, scannedTo };
  }

  private parse(seq: number, raw: string): CloudEvent | null {
    try {
      const e = JSON.parse(raw) as CloudEvent;
      if (e && e.specversion === '1.0' && typeof e.id === 'string' && typeof e.type === 'string' && typeof e.time === 'string') return upgradeStored(e);
      throw new Error('not a CloudEvent');
    } catch (err) {
      if (!this.reportedCorrupt.has(seq)) {
        this.reportedCorrupt.add(seq);
        this.corruptRecords++;
        this.opts.metrics?.outboxDropped.inc({ reason: 'corrupt' });
        this.opts.log?.error({ seq, bytes: raw.length, err: (err as Error).message }, 'corrupt outbox record skipped');
      }
      return null;
    }
  }

  async getBySeq(seq: number): Promise<CloudEvent | null> {
    const v = await this.db.get(seqKey(seq));
    return v === undefined ? null : this.parse(seq, v);
  }

  /** Seq of a stored event id, or null when unknown (never stored, or removed by retention). */
  async seqOfId(id: string): Promise<number | null> {
    const v = await this.db.get(`x!${id}`);
    return v === undefined ? null : parseInt(v, 16);
  }

  cursor(sink: string): number {
    return this.cursors.get(sink) ?? 0;
  }

  /** Persists a sink's cursor (last delivered seq). Cursors only move forward. */
  async setCursor(sink: string, seq: number): Promise<void> {
    if (seq <= this.cursor(sink) && this.cursors.has(sink)) return;
    await this.write('cursor', [{ type: 'put', key: `c!${sink}`, value: String(seq) }]);
    this.cursors.set(sink, seq);
    this.updateBacklog(sink);
  }

  /** Events stored after the sink's cursor (approximate: corrupt records count too). */
  backlog(sink: string): number {
    if (this.count === 0) return 0;
    return Math.max(0, this.lastSeq - Math.max(this.cursor(sink), this.firstSeq - 1));
  }

  private updateBacklog(only?: string): void {
    const m = this.opts.metrics;
    if (!m) return;
    for (const sink of only ? [only] : this.cursors.keys()) m.outboxBacklog.set({ sink }, this.backlog(sink));
  }

  /** Parks an event a sink refused for good, so the sink can move on. */
  async deadLetter(sink: string, seq: number, event: CloudEvent | null, reason: string): Promise<void> {
    const value = JSON.stringify({ reason, at: new Date(this.now()).toISOString(), event });
    await this.write('dead-letter', [{ type: 'put', key: `d!${sink}!${hex(seq, 16)}`, value }]);
  }

  async deadLetters(sink: string): Promise<DeadLetter[]> {
    const rows = await this.db.iterator({ gt: `d!${sink}!`, lt: `d!${sink}!~` }).all();
    return rows.map(([k, v]) => {
      const d = JSON.parse(v) as { reason: string; at: string; event: CloudEvent | null };
      return { sink, seq: parseInt(k.slice(k.lastIndexOf('!') + 1), 16), ...d };
    });
  }

  /** Applies retention now (serialised with appends). Returns the number of events deleted. */
  async prune(): Promise<number> {
    let deleted = 0;
    await this.serial(async () => {
      deleted = await this.pruneNow();
    });
    return deleted;
  }

  private async pruneNow(): Promise<number> {
    const { maxAgeMs, maxEvents } = this.opts.retention;
    const cutoff = this.now() - maxAgeMs;
    const minCursor = this.cursors.size ? Math.min(...this.cursors.values()) : Infinity;
    let total = 0;
    for (;;) {
      const excess = this.count - maxEvents;
      const rows = await this.db.iterator({ gte: 'e!', lt: E_END, limit: 1000 }).all();
      const ops: Op[] = [];
      const dropped = { age: 0, count: 0 };
      let removed = 0;
      let stop = false;
      for (const [k, v] of rows) {
        const seq = parseInt(k.slice(2), 16);
        const e = this.parse(seq, v);
        const old = e ? Date.parse(e.time) < cutoff : true;
        const over = removed < excess;
        if (!old && !over) {
          stop = true;
          break;
        }
        ops.push({ type: 'del', key: k });
        if (e) for (const ik of indexKeys(seq, e)) ops.push({ type: 'del', key: ik });
        if (seq > minCursor && e) dropped[over ? 'count' : 'age']++;
        removed++;
      }
      if (removed === 0) break;
      ops.push({ type: 'put', key: 'm!count', value: String(this.count - removed) });
      await this.write('prune', ops);
      this.count -= removed;
      total += removed;
      const [first] = await this.db.keys({ gte: 'e!', lt: E_END, limit: 1 }).all();
      this.firstSeq = first ? parseInt(first.slice(2), 16) : this.nextSeq;
      for (const reason of ['age', 'count'] as const) {
        if (!dropped[reason]) continue;
        this.opts.metrics?.outboxDropped.inc({ reason }, dropped[reason]);
        const behind = [...this.cursors].filter(([, c]) => c < this.firstSeq - 1).map(([s]) => s);
        this.opts.log?.warn({ reason, events: dropped[reason], sinks: behind }, 'retention deleted events a sink had not received yet');
      }
      if (stop || rows.length < 1000) break;
    }
    if (total) {
      this.opts.metrics?.outboxStoredEvents.set(this.count);
      this.updateBacklog();
    }
    return total;
  }

  /** Events matching the filter in event-time order (ties: append order). */
  async *scan(filter: EventFilter, startAfterKey?: string): AsyncGenerator<{ key: string; event: CloudEvent }> {
    const { prefix, rest } = this.planIndex(filter);
    const gte = prefix + (filter.fromMs !== undefined ? timeHex(filter.fromMs) : '');
    const lt = prefix + (filter.toMs !== undefined ? timeHex(filter.toMs) : '~');
    const it = this.db.keys({ ...(startAfterKey && startAfterKey >= gte ? { gt: startAfterKey } : { gte }), lt });
    try {
      for (;;) {
        const keys = await it.nextv(256);
        if (keys.length === 0) return;
        const seqs = keys.map((k) => parseInt(k.slice(k.lastIndexOf('!') + 1), 16));
        const values = await this.db.getMany(seqs.map(seqKey));
        for (const [i, key] of keys.entries()) {
          const v = values[i];
          const seq = seqs[i];
          if (v === undefined || seq === undefined) continue; // index entry of a record removed as corrupt
          const e = this.parse(seq, v);
          if (!e || !rest(e)) continue;
          yield { key, event: e };
        }
      }
    } finally {
      await it.close();
    }
  }

  private planIndex(f: EventFilter): { prefix: string; rest: (e: CloudEvent) => boolean } {
    if (f.camera !== undefined) return { prefix: `ct!${esc(f.camera)}!`, rest: (e) => f.type === undefined || eventTypeOf(e) === f.type };
    if (f.type !== undefined) return { prefix: `tt!${esc(f.type)}!`, rest: () => true };
    return { prefix: 't!', rest: () => true };
  }

  /** One page of a filtered query. The cursor is opaque to clients and bound to the same filter. */
  async query(filter: EventFilter & { limit: number; cursor?: string }): Promise<QueryPage> {
    const { prefix } = this.planIndex(filter);
    let after: string | undefined;
    if (filter.cursor) {
      try {
        after = Buffer.from(filter.cursor, 'base64url').toString('utf8');
      } catch {
        after = undefined;
      }
      if (!after || !after.startsWith(prefix)) throw new InvalidCursorError('cursor does not belong to this query');
    }
    const events: CloudEvent[] = [];
    let lastKey: string | null = null;
    let more = false;
    for await (const { key, event } of this.scan(filter, after)) {
      if (events.length === filter.limit) {
        more = true;
        break;
      }
      events.push(event);
      lastKey = key;
    }
    return { events, nextCursor: more && lastKey ? Buffer.from(lastKey, 'utf8').toString('base64url') : null };
  }

  /** Test and repair access to the raw DB (e.g. to plant a corrupt record). */
  get rawDb(): Level<string, string> {
    return this.db;
  }

  /** Waits for queued writes, stops retention and closes the DB. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    while (this.writer) await this.writer;
    this.events.removeAllListeners();
    await this.db.close();
  }
}
