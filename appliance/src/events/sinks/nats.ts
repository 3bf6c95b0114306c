// NATS JetStream sink: one message per event (the CloudEvent JSON, structured mode) on
// <prefix>.<applianceId>.<cameraId>.<type>, with the CloudEvent id as Nats-Msg-Id so the stream drops
// a redelivered event inside its duplicate window. A batch resolves only when the stream has stored
// (acknowledged) every message; the dispatcher moves the outbox cursor only then.
//
// Order: a batch goes out as one write on one connection, with no client-side retries, so the stream
// stores a prefix of it when the connection or the stream leader fails; the whole batch is retried and
// the stored prefix is dropped as duplicates. Per camera, the stream therefore holds events in outbox order.
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { readFileSync } from 'node:fs';
import { backoffDelay, type BackoffPolicy } from '../../core/backoff.js';
import type { Logger } from '../../core/log.js';
import { eventTypeOf, type CloudEvent } from '../../core/types.js';
import { PoisonBatchError, RetryableDeliveryError, type EventSink } from './types.js';

export interface NatsSinkOptions {
  id: string;
  servers: string[];
  /** The stream that must capture the subjects (created by operators; checked on every publish). */
  stream: string;
  applianceId: string;
  subjectPrefix?: string;
  user?: string;
  password?: string;
  token?: string;
  /** A .creds file (JWT + nkey seed), as issued by the operator's account server. */
  credsFile?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** A batch without every publish ack after this long fails (and is retried). */
  ackTimeoutMs?: number;
  /** Delay between reconnect attempts: the shared exponential backoff with jitter. */
  reconnect?: BackoffPolicy;
  log?: Logger;
}

/** One subject token: anything but letters, digits, _ and - becomes _ (no '.', '*', '>' or spaces). */
export function subjectToken(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_-]/g, '_');
  return t.length ? t : '_';
}

/** <prefix>.<applianceId>.<cameraId>.<type>; the type keeps its dots (count.interval → two tokens). */
export function natsSubject(prefix: string, applianceId: string, e: CloudEvent): string {
  // The internal type (count.interval), not the CloudEvents one (org.roadside.count.interval).
  const type = eventTypeOf(e).split('.').map(subjectToken).join('.');
  return `${prefix}.${subjectToken(applianceId)}.${subjectToken(e.subject)}.${type}`;
}

export const DEFAULT_NATS_RECONNECT: BackoffPolicy = { initialMs: 250, maxMs: 10_000 };

export class NatsSink implements EventSink {
  readonly id: string;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private closed = false;
  private up = false;
  private reconnectAttempt = 0;
  private retryTimer: { timer: NodeJS.Timeout; done: () => void } | null = null;
  private readonly closers = new Set<(err: Error) => void>();
  private readonly connecting: Promise<void>;
  private readonly auth: Partial<NodeConnectionOptions>;

  /** Throws when the credentials file cannot be read: a start-up error that names the file, not a retry loop. */
  constructor(private readonly o: NatsSinkOptions) {
    this.id = o.id;
    this.auth = this.authOptions();
    this.connecting = this.open();
  }

  /**
   * First connection: tried with the shared backoff until it works or the sink closes (the outbox
   * holds the events meanwhile). After that, the client reconnects on its own, forever, with the
   * same backoff.
   */
  private async open(): Promise<void> {
    const policy = this.o.reconnect ?? DEFAULT_NATS_RECONNECT;
    let lastLogged = '';
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const nc = await connect({
          ...this.auth,
          servers: this.o.servers,
          name: `roadside-${this.o.applianceId}-${this.o.id}`,
          maxReconnectAttempts: -1,
          reconnectDelayHandler: () => backoffDelay(this.reconnectAttempt++, policy),
          // A frozen server is noticed within ~15 s instead of the 2 min default.
          pingInterval: 5000,
          maxPingOut: 3,
          timeout: 5000,
        });
        if (this.closed) {
          await nc.close().catch(() => {});
          return;
        }
        this.nc = nc;
        this.js = jetstream(nc, { timeout: this.o.ackTimeoutMs ?? 5000 });
        this.up = true;
        this.o.log?.info({ sink: this.o.id, server: nc.getServer() }, 'nats connected');
        void this.watch(nc);
        return;
      } catch (err) {
        const msg = describe(err);
        // Once per distinct reason: a long outage must not flood the log.
        if (msg !== lastLogged) this.o.log?.warn({ sink: this.o.id, err: msg }, 'nats not reachable; retrying');
        lastLogged = msg;
        await this.sleep(backoffDelay(attempt, policy));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.retryTimer = null;
        resolve();
      };
      this.retryTimer = { timer: setTimeout(done, ms), done };
    });
  }

  private authOptions(): Partial<NodeConnectionOptions> {
    const o = this.o;
    const tls = o.tls ? { tls: { ...o.tls } } : {};
    if (o.credsFile) return { ...tls, authenticator: credsAuthenticator(readCreds(o.id, o.credsFile)) };
    if (o.token) return { ...tls, token: o.token };
    if (o.user) return { ...tls, user: o.user, pass: o.password };
    return tls;
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'staleConnection') {
        if (this.up) this.o.log?.warn({ sink: this.o.id }, 'nats connection lost');
        this.up = false;
      } else if (s.type === 'reconnect') {
        this.up = true;
        this.reconnectAttempt = 0;
        this.o.log?.info({ sink: this.o.id, server: nc.getServer() }, 'nats reconnected');
      }
    }
    this.up = false;
  }

  get connected(): boolean {
    return this.up && !!this.nc && !this.nc.isClosed();
  }

  /** Resolves once the first connection is up, or the sink closed (tests and the bench). */
  ready(): Promise<void> {
    return this.connecting;
  }

  async deliver(batch: CloudEvent[]): Promise<void> {
    if (this.closed) throw new RetryableDeliveryError(`nats ${this.id}: sink closed`);
    if (batch.length === 0) return;
    const js = this.js;
    // Fail fast while offline: the dispatcher backs off, and nothing queues up in the client.
    if (!js || !this.connected) throw new RetryableDeliveryError(`nats ${this.id}: not connected`);
    const prefix = this.o.subjectPrefix ?? 'roadside';
    // No await in this loop: every publish lands in the same socket write, in outbox order.
    const acks = batch.map((e) =>
      js.publish(natsSubject(prefix, this.o.applianceId, e), JSON.stringify(e), { msgID: e.id, expect: { streamName: this.o.stream }, retries: 1 }),
    );
    let closer: ((err: Error) => void) | undefined;
    const closedWhileWaiting = new Promise<never>((_, reject) => {
      closer = reject;
      this.closers.add(reject);
    });
    closedWhileWaiting.catch(() => {});
    try {
      // Every ack or failure is waited for before the batch is retried, so no publish of this try can
      // land after one of the next try.
      const settled = await Promise.race([Promise.allSettled(acks), closedWhileWaiting]);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) {
        const stored = settled.filter((s) => s.status === 'fulfilled').length;
        // An event larger than the server's max_payload can never be published: poison, isolated and parked.
        if (settled.some((x) => x.status === 'rejected' && /max_payload/.test(String((x.reason as Error)?.message)))) {
          throw new PoisonBatchError(`nats ${this.id}: an event exceeds the server's max_payload`);
        }
        throw new RetryableDeliveryError(`nats ${this.id}: ${stored}/${batch.length} stored; ${describe(failed.reason)}`);
      }
      this.checkOrder(settled.map((s) => (s as PromiseFulfilledResult<PubAck>).value));
    } finally {
      if (closer) this.closers.delete(closer);
    }
  }

  /** New (non-duplicate) messages must have increasing stream sequences; a gap in that is logged. */
  private checkOrder(acks: PubAck[]): void {
    let last = 0;
    for (const a of acks) {
      if (a.duplicate) continue;
      if (a.seq <= last) this.o.log?.error({ sink: this.id, seq: a.seq, after: last }, 'nats stream stored a batch out of order');
      last = a.seq;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const reject of this.closers) reject(new RetryableDeliveryError(`nats ${this.id}: sink closed`));
    this.closers.clear();
    if (this.retryTimer) {
      clearTimeout(this.retryTimer.timer);
      this.retryTimer.done();
    }
    await this.nc?.close().catch(() => {});
    await this.connecting;
  }
}

function readCreds(id: string, path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`nats sink ${id}: cannot read credsFile ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The reason of a failed publish, without the payload (never logged) or credentials (never in it). */
function describe(err: unknown): string {
  const e = err as Error & { cause?: Error };
  // nats.js reports "no responders" to a publish as "jetstream is not enabled"; the usual cause is a stream.
  if (e?.name === 'JetStreamNotEnabled') return 'no JetStream stream answered: the stream is missing, does not capture this subject, or has no leader';
  const why = e?.message ?? String(err);
  return e?.cause?.message && !why.includes(e.cause.message) ? `${why} (${e.cause.message})` : why;
}
