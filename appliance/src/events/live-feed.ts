// The live event feed behind GET /api/v1/events/stream, as Server-Sent Events, without the HTTP: it
// replays what a client missed from the outbox (after its Last-Event-ID), then follows new appends,
// honours back-pressure while replaying, drops a client that stops reading, and sends heartbeats.
// It writes to anything that behaves like a writable socket, so it is tested without a server.
import type { CloudEvent } from '../core/types.js';
import type { StoredEvent } from './outbox.js';

/** What the feed reads: the outbox (its sequence numbers, pages and appends). */
export interface FeedSource {
  readonly lastSeq: number;
  seqOfId(id: string): Promise<number | null>;
  readBatch(afterSeq: number, limit: number): Promise<{ items: StoredEvent[]; scannedTo: number }>;
  onAppend(fn: (items: StoredEvent[]) => void): () => void;
}

/** What the feed writes to: the HTTP response's socket (write returns false when its buffer is full). */
export interface FeedOutput {
  write(chunk: string): boolean;
  readonly writableLength: number;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  removeListener(event: 'drain' | 'close', listener: () => void): unknown;
  end(): unknown;
}

export interface LiveFeedOptions {
  /** Comment line period that keeps proxies from closing an idle stream (default 15 s). */
  heartbeatMs?: number;
  /** Bytes a client may leave unread before it is dropped (it resumes by id; default 8 MiB). */
  maxUnreadBytes?: number;
  /** Events per outbox page while replaying (default 500). */
  replayPageSize?: number;
  /** Which events this client asked for (default: all). */
  match?: (e: CloudEvent) => boolean;
}

/** Where a client resumes: after the event it names, or (none, or one no longer stored) after the newest. */
export async function resumePoint(source: FeedSource, lastEventId: string | undefined): Promise<{ afterSeq: number; unknownId: boolean }> {
  if (!lastEventId) return { afterSeq: source.lastSeq, unknownId: false };
  const seq = await source.seqOfId(lastEventId);
  return seq === null ? { afterSeq: source.lastSeq, unknownId: true } : { afterSeq: seq, unknownId: false };
}

/** One event as an SSE block: its id (for Last-Event-ID), its type and the CloudEvent JSON. */
export function sseEvent(e: CloudEvent): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

export class LiveFeed {
  private closedFlag = false;
  private sentSeq: number;
  private replaying = true;
  private readonly buffered: StoredEvent[] = [];
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly closeListeners = new Set<() => void>();
  private readonly maxUnreadBytes: number;
  private readonly match: (e: CloudEvent) => boolean;

  /** Starts following appends at once (they wait while the replay runs); call replay() next. */
  constructor(
    private readonly source: FeedSource,
    private readonly out: FeedOutput,
    private readonly afterSeq: number,
    private readonly opts: LiveFeedOptions = {},
  ) {
    this.sentSeq = afterSeq;
    this.maxUnreadBytes = opts.maxUnreadBytes ?? 8 * 1024 * 1024;
    this.match = opts.match ?? (() => true);
    this.unsubscribe = source.onAppend((items) => this.live(items));
    this.heartbeat = setInterval(() => this.out.write(`: heartbeat\n\n`), opts.heartbeatMs ?? 15_000);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Calls fn once when the feed ends (client gone, dropped, or closed by the server); returns a cancel. */
  onClose(fn: () => void): () => void {
    if (this.closedFlag) fn();
    else this.closeListeners.add(fn);
    return () => void this.closeListeners.delete(fn);
  }

  /**
   * Writes the preamble, replays what the client missed page by page (waiting for the socket to drain
   * when it is full), then sends what was appended meanwhile; from then on appends go out as they come.
   */
  async replay(unknownId = false): Promise<void> {
    this.out.write(`: roadside events\nretry: 3000\n\n`);
    if (unknownId) this.out.write(`: last-event-id not in the outbox (expired or unknown): live events only\n\n`);
    let cursor = this.afterSeq;
    const pageSize = this.opts.replayPageSize ?? 500;
    while (!this.closedFlag) {
      const { items, scannedTo } = await this.source.readBatch(cursor, pageSize);
      if (scannedTo === cursor) break;
      let room = true;
      for (const s of items) room = this.send(s) && room;
      cursor = scannedTo;
      if (!room) await this.drained();
    }
    this.replaying = false;
    for (const s of this.buffered.splice(0)) this.send(s);
  }

  /** Ends the stream: stops following, stops heartbeats, ends the output. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearInterval(this.heartbeat);
    this.unsubscribe();
    this.buffered.length = 0;
    this.out.end();
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const fn of listeners) fn();
  }

  private live(items: StoredEvent[]): void {
    if (this.closedFlag) return;
    if (this.replaying) {
      this.buffered.push(...items);
      return;
    }
    for (const s of items) this.send(s);
    // A client that does not read: drop it rather than buffer without bound; it resumes by id.
    if (this.out.writableLength > this.maxUnreadBytes) this.close();
  }

  /** Writes one stored event once (replay and live overlap), if the client wants it; false when the output is full. */
  private send(s: StoredEvent): boolean {
    if (this.closedFlag || s.seq <= this.sentSeq) return true;
    this.sentSeq = s.seq;
    if (!this.match(s.event)) return true;
    return this.out.write(sseEvent(s.event));
  }

  private drained(): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.out.removeListener('drain', done);
        this.out.removeListener('close', done);
        cancel();
        resolve();
      };
      this.out.once('drain', done);
      this.out.once('close', done);
      const cancel = this.onClose(done);
    });
  }
}
