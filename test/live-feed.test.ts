// Unit tier: the live event feed (events/live-feed.ts) without a server. It reads a real LevelDB outbox
// on a temp dir and writes to a real stream.Writable standing in for the client's socket, one whose
// writes can be held back so that it reports back-pressure as a slow client's socket does.
import { test, describe, before, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { CountIntervalData } from '../appliance/src/core/event-data.js';
import type { DomainEvent } from '../appliance/src/core/types.js';
import { LiveFeed, resumePoint, sseEvent, type FeedSource } from '../appliance/src/events/live-feed.js';
import { Outbox } from '../appliance/src/events/outbox.js';

const T0 = Date.parse('2024-05-01T08:00:00Z');

function count(camera: string, i: number): DomainEvent<CountIntervalData> {
  const end = T0 + (i + 1) * 60_000;
  return {
    type: 'count.interval',
    cameraId: camera,
    timeMs: end,
    data: { cameraId: camera, lineId: 'l1', intervalStart: new Date(end - 60_000).toISOString(), intervalEnd: new Date(end).toISOString(), binSeconds: 60, counts: [{ direction: 'forward', cls: 'car', count: i }], meanSpeedKmh: null },
  };
}

/** A client socket: a real Writable (small buffer) whose writes reach the wire only while it reads. */
function clientSocket(highWaterMark = 1024) {
  const wire: string[] = [];
  const held: (() => void)[] = [];
  let reading = true;
  const socket = new Writable({
    highWaterMark,
    decodeStrings: false,
    write(chunk: string, _enc, done) {
      wire.push(chunk);
      if (reading) done();
      else held.push(done);
    },
  });
  return {
    socket,
    /** What reached the client so far. */
    text: () => wire.join(''),
    /** SSE ids that reached the client, in order. */
    ids: () => [...wire.join('').matchAll(/^id: (.+)$/gm)].map((m) => m[1]),
    stopReading: () => void (reading = false),
    resumeReading: () => {
      reading = true;
      for (const done of held.splice(0)) done();
    },
  };
}

/** The outbox, with its page reads counted. */
function countingReads(outbox: Outbox): { source: FeedSource; reads: () => number } {
  let reads = 0;
  return {
    reads: () => reads,
    source: {
      get lastSeq() {
        return outbox.lastSeq;
      },
      seqOfId: (id) => outbox.seqOfId(id),
      readBatch: (after, limit) => (reads++, outbox.readBatch(after, limit)),
      onAppend: (fn) => outbox.onAppend(fn),
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('LiveFeed', () => {
  let dir: string;
  let outbox: Outbox;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roadside-live-feed-'));
    outbox = await Outbox.open({ dir, sinks: [], retention: { maxAgeMs: 1e13, maxEvents: 1e6 }, applianceId: 'box1' });
  });
  after(async () => {
    await outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('replays after the Last-Event-ID page by page, waits while the socket is full, then sends what came meanwhile, each event once', async () => {
    const stored = await outbox.append(Array.from({ length: 1200 }, (_, i) => count(i % 2 ? 'cam1' : 'cam2', i)));
    const first = stored[0];
    assert.ok(first);
    const { afterSeq, unknownId } = await resumePoint(outbox, first.id);
    assert.equal(unknownId, false);

    const client = clientSocket();
    client.stopReading();
    const { source, reads } = countingReads(outbox);
    const feed = new LiveFeed(source, client.socket, afterSeq, { replayPageSize: 500 });
    let replayed = false;
    const replay = feed.replay().then(() => (replayed = true));
    await settle();
    // The first page filled the socket: the feed waits for it to drain before reading the next page.
    assert.equal(reads(), 1, 'no second page read while the socket is full');
    assert.equal(replayed, false);
    assert.ok(client.socket.writableNeedDrain);

    // Appended while the replay waits: held back until the replay is done, then sent once.
    const live = await outbox.append([count('cam1', 5000), count('cam2', 5001)]);
    client.resumeReading();
    await replay;
    assert.equal(reads(), 4, 'pages of 500 from the resume point, and the empty read that ends the replay');
    assert.deepEqual(client.ids(), [...stored.slice(1), ...live].map((e) => e.id));

    // After the replay, appends go out as they come.
    const later = await outbox.append([count('cam1', 6000)]);
    assert.deepEqual(client.ids().slice(-1), later.map((e) => e.id));
    feed.close();
    assert.ok(client.socket.writableEnded);
  });

  test('an unknown Last-Event-ID says so and the client gets live events only', async () => {
    const { afterSeq, unknownId } = await resumePoint(outbox, 'not-an-id-we-stored');
    assert.equal(unknownId, true);
    assert.equal(afterSeq, outbox.lastSeq);
    const client = clientSocket();
    const feed = new LiveFeed(outbox, client.socket, afterSeq);
    await feed.replay(unknownId);
    assert.match(client.text(), /^: roadside events\nretry: 3000\n\n: last-event-id not in the outbox/);
    assert.deepEqual(client.ids(), []);
    const live = await outbox.append([count('cam2', 7000)]);
    assert.deepEqual(client.ids(), live.map((e) => e.id));
    feed.close();
  });

  test('only the events the client asked for are sent, as id / event / data blocks', async () => {
    const client = clientSocket();
    const feed = new LiveFeed(outbox, client.socket, outbox.lastSeq, { match: (e) => e.subject === 'cam1' });
    await feed.replay();
    const [a, b] = await outbox.append([count('cam1', 8000), count('cam2', 8001)]);
    assert.ok(a && b);
    assert.deepEqual(client.ids(), [a.id]);
    assert.ok(client.text().endsWith(sseEvent(a)));
    assert.equal(sseEvent(a), `id: ${a.id}\nevent: org.roadside.count.interval\ndata: ${JSON.stringify(a)}\n\n`);
    feed.close();
  });

  test('a client that stops reading is dropped once its unread bytes pass the bound; it no longer follows the outbox', async () => {
    const client = clientSocket(256);
    const feed = new LiveFeed(outbox, client.socket, outbox.lastSeq, { maxUnreadBytes: 4096 });
    let closedCalls = 0;
    feed.onClose(() => closedCalls++);
    await feed.replay();
    const listeners = outbox.appendListeners();
    client.stopReading();
    for (let i = 0; i < 20 && !feed.closed; i++) await outbox.append([count('cam1', 9000 + i)]);
    assert.equal(feed.closed, true, 'dropped');
    assert.equal(closedCalls, 1);
    assert.ok(client.socket.writableEnded || client.socket.writableLength > 4096);
    assert.equal(outbox.appendListeners(), listeners - 1, 'its outbox listener is gone');
    feed.close();
    assert.equal(closedCalls, 1, 'close is idempotent');
  });

  test('heartbeats every heartbeatMs while open, none after close', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const client = clientSocket();
      const feed = new LiveFeed(outbox, client.socket, outbox.lastSeq, { heartbeatMs: 15_000 });
      await feed.replay();
      const beats = () => client.text().split(': heartbeat\n\n').length - 1;
      mock.timers.tick(14_999);
      assert.equal(beats(), 0);
      mock.timers.tick(1);
      assert.equal(beats(), 1);
      mock.timers.tick(30_000);
      assert.equal(beats(), 3);
      feed.close();
      mock.timers.tick(60_000);
      assert.equal(beats(), 3);
    } finally {
      mock.timers.reset();
    }
  });
});
