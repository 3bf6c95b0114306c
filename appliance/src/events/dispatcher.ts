// Drains the outbox into each sink, in order, from the sink's persisted cursor. The cursor moves only
// after the sink acknowledged a batch, so a crash or outage means redelivery (at-least-once; receivers
// dedup by event id), never a gap. Failures back off exponentially with jitter; a sink never skips
// ahead of an undelivered event, except a poison event, which is isolated and parked as a dead letter.
import { backoffDelay, type BackoffPolicy } from '../core/backoff.js';
import type { Logger } from '../core/log.js';
import { initSink, type Metrics } from '../metrics/registry.js';
import type { Outbox } from './outbox.js';
import { PoisonBatchError, type EventSink } from './sinks/types.js';

export interface BackoffOptions extends BackoffPolicy {
  /** Longest Retry-After honoured; a longer one is clamped to this. */
  maxRetryAfterMs?: number;
}

export interface DispatcherOptions {
  outbox: Outbox;
  sinks: EventSink[];
  /** Events per delivery, per sink id (default 100). */
  batchSize?: Record<string, number> | number;
  backoff?: BackoffOptions;
  metrics?: Metrics;
  log?: Logger;
  /** Re-check the outbox this often even without an append notification (ms). */
  idlePollMs?: number;
  random?: () => number;
}

export interface SinkStatus {
  sink: string;
  cursor: number;
  backlog: number;
  up: boolean | null;
  consecutiveFailures: number;
  lastError: string | null;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, maxRetryAfterMs: 300_000 };


class SinkWorker {
  up: boolean | null = null;
  failures = 0;
  lastError: string | null = null;
  private wake: (() => void) | null = null;
  private sleeping: { timer: NodeJS.Timeout; done: () => void } | null = null;
  /** While the cursor is below this, deliver one event at a time (isolating a poison event). */
  private isolateUntil = 0;
  loop: Promise<void> = Promise.resolve();

  constructor(
    readonly sink: EventSink,
    private readonly d: Dispatcher,
    private readonly o: DispatcherOptions,
    private readonly batchSize: number,
  ) {}

  get id(): string {
    return this.sink.id;
  }

  /** Set by an append; cleared before each read, so a notification between read and wait is not lost. */
  private pending = false;

  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  interrupt(): void {
    this.wake?.();
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.done();
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.d.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.sleeping = null;
        resolve();
      };
      this.sleeping = { timer: setTimeout(done, ms), done };
    });
  }

  private waitForAppend(): Promise<void> {
    if (this.d.stopped || this.pending) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => finish(), this.o.idlePollMs ?? 5000);
      const finish = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
      this.wake = finish;
    });
  }

  async run(): Promise<void> {
    const { outbox, metrics, log } = this.o;
    const backoff = { ...DEFAULT_BACKOFF, ...this.o.backoff };
    const sink = this.id;
    while (!this.d.stopped) {
      const cursor = outbox.cursor(sink);
      const size = cursor < this.isolateUntil ? 1 : this.batchSize;
      this.pending = false;
      let batch;
      try {
        batch = await outbox.readBatch(cursor, size);
      } catch (err) {
        if (this.d.stopped) break;
        log?.error({ sink, err: (err as Error).message }, 'outbox read failed');
        await this.sleep(backoff.maxMs);
        continue;
      }
      const { items, scannedTo } = batch;
      if (scannedTo === cursor) {
        await this.waitForAppend();
        continue;
      }
      try {
        if (items.length) await this.sink.deliver(items.map((i) => i.event));
        await outbox.setCursor(sink, scannedTo);
        if (items.length) {
          metrics?.sinkDelivered.inc({ sink }, items.length);
          metrics?.sinkUp.set({ sink }, 1);
        }
        if (this.failures > 0) log?.info({ sink, failures: this.failures }, 'sink delivering again');
        this.up = true;
        this.failures = 0;
        this.lastError = null;
      } catch (err) {
        if (this.d.stopped) break;
        const msg = (err as Error).message;
        metrics?.sinkFailures.inc({ sink });
        if (err instanceof PoisonBatchError) {
          if (items.length > 1) {
            // Which event is it? Redo this stretch one event at a time.
            this.isolateUntil = scannedTo;
            log?.warn({ sink, events: items.length, err: msg }, 'sink refused a batch; isolating the refused event');
            continue;
          }
          const [bad] = items;
          if (!bad) continue; // unreachable: only a delivered (non-empty) batch can be refused
          try {
            await outbox.deadLetter(sink, bad.seq, bad.event, msg);
            await outbox.setCursor(sink, scannedTo);
            log?.error({ sink, seq: bad.seq, id: bad.event.id, type: bad.event.type, err: msg }, 'sink refused an event; parked as dead letter');
          } catch (e) {
            log?.error({ sink, err: (e as Error).message }, 'could not park a dead letter');
            await this.sleep(backoff.maxMs);
          }
          continue;
        }
        this.failures++;
        this.up = false;
        this.lastError = msg;
        metrics?.sinkUp.set({ sink }, 0);
        const retryAfter = (err as { retryAfterMs?: number }).retryAfterMs;
        const delay = retryAfter !== undefined ? Math.min(retryAfter, backoff.maxRetryAfterMs ?? 300_000) : backoffDelay(this.failures - 1, backoff, this.o.random);
        // First failure and then every 10th: an outage must not flood the log.
        if (this.failures === 1 || this.failures % 10 === 0) log?.warn({ sink, failures: this.failures, retryInMs: delay, err: msg }, 'delivery failed; will retry');
        await this.sleep(delay);
      }
    }
  }
}

export class Dispatcher {
  stopped = false;
  private readonly workers: SinkWorker[];
  private unsubscribe: (() => void) | null = null;
  private started = false;

  constructor(private readonly o: DispatcherOptions) {
    if (o.metrics) for (const s of o.sinks) initSink(o.metrics, s.id);
    this.workers = o.sinks.map((s) => {
      const size = typeof o.batchSize === 'number' ? o.batchSize : (o.batchSize?.[s.id] ?? 100);
      return new SinkWorker(s, this, o, size);
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = this.o.outbox.onAppend(() => this.workers.forEach((w) => w.notify()));
    for (const w of this.workers) w.loop = w.run().catch((err: Error) => this.o.log?.error({ sink: w.id, err: err.message }, 'dispatcher loop crashed'));
  }

  status(): SinkStatus[] {
    return this.workers.map((w) => ({
      sink: w.id,
      cursor: this.o.outbox.cursor(w.id),
      backlog: this.o.outbox.backlog(w.id),
      up: w.up,
      consecutiveFailures: w.failures,
      lastError: w.lastError,
    }));
  }

  /** Resolves true once every sink has every stored event, false after timeoutMs. */
  async drain(timeoutMs: number): Promise<boolean> {
    const t0 = Date.now();
    while (this.workers.some((w) => this.o.outbox.cursor(w.id) < this.o.outbox.lastSeq)) {
      if (Date.now() - t0 >= timeoutMs || this.stopped) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** Stops every loop: sleeps are cut short, sinks are closed (aborting deliveries in flight). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    this.workers.forEach((w) => w.interrupt());
    const closing = Promise.allSettled(this.workers.map((w) => w.sink.close()));
    await Promise.allSettled(this.workers.map((w) => w.loop));
    await closing;
  }
}
