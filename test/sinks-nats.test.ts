// NATS JetStream delivery on a real three-node nats-server cluster on 127.0.0.1 (stream with 3
// replicas): the real appliance with a real camera (GStreamer RTSP server, ffmpeg, detector) and events
// appended to its real outbox; the stream's leader is killed mid-delivery and restarted, then the whole
// cluster is stopped for a while. Every stored event must be in the stream exactly once, in order per
// camera. Bounded: about a minute.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { jetstream } from '@nats-io/jetstream';
import { cloudEventType, type CloudEvent, type DomainEvent } from '../appliance/src/core/types.js';
import { natsSubject, subjectToken, NatsSink, Outbox, Dispatcher } from '../appliance/src/events/index.js';
import { validateConfig, ConfigError } from '../appliance/src/config/load.js';
import { NatsCluster } from './helpers/nats.js';
import { TestRtspServer, freePort, waitFor } from './helpers/rtsp-server.js';
import { startAppliance, TOKENS, type TestAppliance } from './helpers/appliance.js';
import { CLIPS } from './helpers/paths.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../appliance/src/core/log.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STREAM = 'ROADSIDE';

function countEvent(cameraId: string, i: number): DomainEvent {
  const t = Date.now();
  return {
    type: 'count.interval',
    cameraId,
    timeMs: t,
    data: { cameraId, lineId: 'l1', intervalStart: new Date(t - 1000).toISOString(), intervalEnd: new Date(t).toISOString(), binSeconds: 1, counts: [{ direction: 'forward', cls: 'car', count: i % 7 }], meanSpeedKmh: null },
  };
}

/** Every message of the stream, in stream order, through an ordered consumer. */
async function readStream(cluster: NatsCluster): Promise<{ subject: string; msgId: string | undefined; event: CloudEvent }[]> {
  const { nc, jsm } = await cluster.manager();
  try {
    const total = (await jsm.streams.info(STREAM)).state.messages;
    const out: { subject: string; msgId: string | undefined; event: CloudEvent }[] = [];
    const oc = await jetstream(nc).consumers.get(STREAM);
    while (out.length < total) {
      const batch = await oc.fetch({ max_messages: 1000, expires: 3000 });
      for await (const m of batch) out.push({ subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), event: m.json<CloudEvent>() });
    }
    return out;
  } finally {
    await nc.close();
  }
}

describe('nats jetstream sink: three-node cluster, leader killed, whole cluster stopped', () => {
  let cluster: NatsCluster;
  let rtsp: TestRtspServer;
  let t: TestAppliance;
  const logs: string[] = [];

  before(async () => {
    cluster = await NatsCluster.create(3);
    await cluster.start();
    const { nc, jsm } = await cluster.manager();
    await jsm.streams.add({ name: STREAM, subjects: ['roadside.>'], num_replicas: 3, duplicate_window: 120_000_000_000 });
    await cluster.streamInfo(jsm, STREAM);
    await nc.close();
    rtsp = new TestRtspServer(CLIPS.opendatacam);
    const url = await rtsp.start(await freePort());
    const logTo = new Writable({ write: (c: Buffer, _e, cb) => (logs.push(c.toString('utf8')), cb()) });
    t = await startAppliance(
      [{ id: 'live', url, fps: 5, width: 320, height: 180, stallSeconds: 5, lines: [{ id: 'l1', from: { x: 0.17, y: 0.55 }, to: { x: 0.62, y: 0.55 } }] }],
      { analytics: { binSeconds: [1] }, sinks: { nats: [{ id: 'fleet', servers: cluster.urls, stream: STREAM, ackTimeoutMs: 2000, batchSize: 50 }] } },
      logTo,
    );
  });
  after(async () => {
    await t?.stop();
    await rtsp?.stop();
    await cluster?.dispose();
  });

  test('every outbox event arrives once, in order per camera; nothing lost; the backlog drains', async () => {
    const events = t.app.events;
    const cursor = () => events.outbox.cursor('fleet');
    let producing = true;
    let n = 0;
    // A steady producer besides the camera: two more cameras' worth of events into the real outbox.
    const producer = (async () => {
      while (producing) {
        await events.process([countEvent('synth-a', n), countEvent('synth-b', n)]);
        n++;
        await sleep(20);
      }
    })();
    await waitFor(() => cursor() >= 100, 30_000, 'first events delivered');
    await waitFor(() => t.app.cameras.get('live')?.status().state === 'streaming', 40_000, 'camera streaming');

    // Leader killed in the middle of a burst, restarted 3 s later.
    const { nc, jsm } = await cluster.manager();
    const leader = (await cluster.streamInfo(jsm, STREAM)).cluster!.leader!;
    await nc.close();
    const burst = Array.from({ length: 1000 }, (_, i) => countEvent(i % 2 ? 'synth-a' : 'synth-b', i));
    await events.process(burst);
    await cluster.node(leader).kill();
    const atKill = { cursor: cursor(), last: events.outbox.lastSeq };
    assert.ok(atKill.cursor < atKill.last, 'the kill landed while events were pending');
    await sleep(3000);
    cluster.node(leader).start();
    await waitFor(() => cursor() >= atKill.last, 30_000, 'delivery past the burst after the leader failover');

    // The whole cluster down for 5 s: nothing is acknowledged, the outbox keeps everything.
    await cluster.stopAll();
    const lastAtDown = events.outbox.lastSeq;
    await sleep(5000);
    const appendedWhileDown = events.outbox.lastSeq - lastAtDown;
    assert.ok(appendedWhileDown >= 20, `the producer kept storing while the cluster was down (${appendedWhileDown})`);
    assert.ok(cursor() <= lastAtDown, 'nothing stored during the outage was acknowledged');
    const failures = events.status()[0]!.consecutiveFailures;
    assert.ok(failures >= 1, 'deliveries failed while the cluster was down');
    await cluster.start();
    producing = false;
    await producer;
    assert.ok(await events.dispatcher.drain(45_000), 'the backlog drains after the outage');

    // Stop the camera so nothing new is stored, deliver the rest, then compare outbox and stream.
    await t.app.cameras.stopAll();
    await events.process([countEvent('synth-a', -1)]);
    assert.ok(await events.dispatcher.drain(20_000), 'last events delivered');
    const stored = await events.outbox.readAfter(0, 1_000_000);
    const got = await readStream(cluster);
    // The killed-and-restarted leader caught up: all three replicas hold the same stream.
    const mgr = await cluster.manager();
    let replicas: { name: string; current: boolean; lag?: number }[] = [];
    await waitFor(() => {
      void mgr.jsm.streams.info(STREAM).then((i) => (replicas = [{ name: i.cluster!.leader!, current: true, lag: 0 }, ...(i.cluster?.replicas ?? [])]), () => {});
      return replicas.length === 3 && replicas.every((r) => r.current && !r.lag);
    }, 15_000, 'every replica current');
    await mgr.nc.close();
    assert.deepEqual(replicas.map((r) => r.name).sort(), ['n1', 'n2', 'n3']);

    const ids = got.map((g) => g.event.id);
    assert.equal(new Set(ids).size, ids.length, 'no event stored twice in the stream');
    assert.deepEqual(new Set(ids), new Set(stored.map((s) => s.event.id)), 'the stream holds exactly the outbox events');
    for (const g of got) {
      assert.equal(g.msgId, g.event.id, 'Nats-Msg-Id is the CloudEvent id');
      assert.equal(g.subject, natsSubject('roadside', 'test-box', g.event));
    }
    const cams = new Set(stored.map((s) => s.event.subject));
    assert.ok(cams.has('live') && cams.has('synth-a') && cams.has('synth-b'), `events of the real camera and the producer (${[...cams].join(', ')})`);
    for (const cam of cams) {
      const inOutbox = stored.filter((s) => s.event.subject === cam).map((s) => s.event.id);
      const inStream = got.filter((g) => g.event.subject === cam).map((g) => g.event.id);
      assert.deepEqual(inStream, inOutbox, `order of camera ${cam}`);
    }
    assert.ok(stored.length >= 1100, `a real volume went through (${stored.length})`);

    const metrics = await (await t.get('/metrics', TOKENS.metrics)).text();
    assert.match(metrics, /^roadside_sink_up\{sink="fleet"\} 1$/m);
    assert.match(metrics, /^roadside_sink_failures_total\{sink="fleet"\} [1-9]/m);
    const delivered = Number(/^roadside_sink_delivered_total\{sink="fleet"\} (\d+)/m.exec(metrics)?.[1]);
    assert.ok(delivered >= stored.length, `delivered counter ${delivered} covers ${stored.length} events`);
    assert.match(logs.join(''), /nats connection lost/);
  });
});

describe('nats sink: credentials, subjects and config', () => {
  test('subjects are <prefix>.<box>.<camera>.<type> with unsafe characters replaced', () => {
    const e = { type: cloudEventType('incident.opened'), subject: 'cam 1.*>' } as CloudEvent;
    assert.equal(natsSubject('city.north', 'box_1', e), 'city.north.box_1.cam_1___.incident.opened');
    assert.equal(subjectToken(''), '_');
  });

  test('credentials in server URLs, and two kinds of credentials, are refused with the field named', () => {
    const base = { appliance: { id: 'b' } };
    const refused = (nats: unknown) => {
      try {
        validateConfig({ ...base, sinks: { nats: [nats] } });
        return [];
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.issues;
      }
    };
    assert.deepEqual(refused({ id: 'n', servers: ['nats://127.0.0.1:4222'], stream: 'S' }), []);
    assert.deepEqual(refused({ id: 'n', servers: ['nats://a:4222', 'nats://u:p@b:4222'], stream: 'S' }).map((i) => i.path), ['/sinks/nats/0/servers/1']);
    assert.deepEqual(refused({ id: 'n', servers: ['nats://a:4222'], stream: 'S', user: 'u', token: 't' }).map((i) => i.path), ['/sinks/nats/0']);
    assert.ok(refused({ id: 'n', servers: ['http://a:4222'], stream: 'S' }).some((i) => i.path === '/sinks/nats/0/servers/0'));
    assert.ok(refused({ id: 'n', servers: ['nats://a:4222'], stream: 'S', subjectPrefix: 'a.>' }).some((i) => i.path === '/sinks/nats/0/subjectPrefix'));
    assert.throws(() => new NatsSink({ id: 'n', servers: ['nats://127.0.0.1:1'], stream: 'S', applianceId: 'b', credsFile: '/nonexistent/box.creds' }), /nats sink n: cannot read credsFile \/nonexistent\/box.creds: ENOENT/);
  });

  test('a frozen server, a missing stream and the wrong stream: no cursor move, a clear reason, then delivery', async () => {
    const cluster = await NatsCluster.create(1);
    const dir = mkdtempSync(join(tmpdir(), 'roadside-nats-'));
    try {
      await cluster.start(10_000);
      const { nc, jsm } = await cluster.manager();
      await jsm.streams.add({ name: STREAM, subjects: ['roadside.>'] });
      const ob = await Outbox.open({ dir, sinks: ['frozen', 'missing', 'wrong'], retention: { maxAgeMs: 1e12, maxEvents: 1e6 } });
      const frozen = new NatsSink({ id: 'frozen', servers: cluster.urls, stream: STREAM, applianceId: 'b', ackTimeoutMs: 500 });
      const missing = new NatsSink({ id: 'missing', servers: cluster.urls, stream: 'CITY', applianceId: 'b', subjectPrefix: 'city' });
      const wrong = new NatsSink({ id: 'wrong', servers: cluster.urls, stream: 'OTHER', applianceId: 'b' });
      await Promise.all([frozen.ready(), missing.ready(), wrong.ready()]);
      const d = new Dispatcher({ outbox: ob, sinks: [frozen, missing, wrong], backoff: { initialMs: 50, maxMs: 300 } });
      const status = (id: string) => d.status().find((s) => s.sink === id)!;
      cluster.nodes[0]!.proc!.kill('SIGSTOP');
      try {
        d.start();
        await ob.append([countEvent('c1', 1), countEvent('c1', 2)]);
        await waitFor(() => status('frozen').consecutiveFailures >= 1, 10_000, 'an unacknowledged attempt');
        assert.match(status('frozen').lastError!, /0\/2 stored/);
        assert.equal(ob.cursor('frozen'), 0, 'no ack, no cursor move');
      } finally {
        cluster.nodes[0]!.proc!.kill('SIGCONT');
      }
      await waitFor(() => ob.cursor('frozen') === 2, 15_000, 'delivered once the server answers');
      await waitFor(() => status('missing').consecutiveFailures >= 1 && status('wrong').consecutiveFailures >= 1, 10_000, 'misconfigured sinks failed');
      assert.match(status('missing').lastError!, /no JetStream stream answered/);
      assert.match(status('wrong').lastError!, /expected stream does not match/);
      assert.equal(ob.cursor('missing') + ob.cursor('wrong'), 0, 'their events wait in the outbox');
      await d.stop();
      await ob.close();
      assert.equal((await jsm.streams.info(STREAM)).state.messages, 2, 'the frozen attempt and the retry stored each event once');
      await nc.close();
    } finally {
      await cluster.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an event over the server max_payload is parked as a dead letter; the ones around it are delivered', async () => {
    const cluster = await NatsCluster.create(1, ['max_payload: 4096']);
    const dir = mkdtempSync(join(tmpdir(), 'roadside-nats-'));
    try {
      await cluster.start(10_000);
      const { nc, jsm } = await cluster.manager();
      await jsm.streams.add({ name: STREAM, subjects: ['roadside.>'] });
      const ob = await Outbox.open({ dir, sinks: ['s'], retention: { maxAgeMs: 1e12, maxEvents: 1e6 } });
      const sink = new NatsSink({ id: 's', servers: cluster.urls, stream: STREAM, applianceId: 'b' });
      await sink.ready();
      const d = new Dispatcher({ outbox: ob, sinks: [sink], backoff: { initialMs: 50, maxMs: 300 } });
      const big: DomainEvent = { type: 'camera.state', cameraId: 'c1', timeMs: Date.now(), data: { cameraId: 'c1', state: 'backoff', reason: 'x'.repeat(5000) } };
      const evs = await ob.append([countEvent('c1', 1), big, countEvent('c1', 2)]);
      d.start();
      await waitFor(() => ob.cursor('s') === 3, 10_000, 'past the oversized event');
      await d.stop();
      const parked = await ob.deadLetters('s');
      assert.deepEqual(parked.map((p) => p.event?.id), [evs[1]!.id]);
      assert.match(parked[0]!.reason, /max_payload/);
      assert.equal((await jsm.streams.info(STREAM)).state.messages, 2);
      await ob.close();
      await nc.close();
    } finally {
      await cluster.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('TLS: with the CA file the sink delivers over tls://; without it the handshake fails and nothing moves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadside-nats-tls-'));
    // nats.js verifies an IP-address server against the name 'localhost' (no SNI for IPs): both in the SAN.
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const cluster = await NatsCluster.create(1, [`tls { cert_file: "${cert}", key_file: "${key}" }`]);
    try {
      cluster.nodes.forEach((n) => n.start());
      const auth = { tls: { caFile: cert } };
      await cluster.waitForJetStream(10_000, auth);
      const { nc, jsm } = await cluster.manager(auth);
      await jsm.streams.add({ name: STREAM, subjects: ['roadside.>'] });
      const servers = cluster.urls.map((u) => u.replace('nats://', 'tls://'));
      const ob = await Outbox.open({ dir: join(dir, 'outbox'), sinks: ['tls', 'untrusted'], retention: { maxAgeMs: 1e12, maxEvents: 1e6 } });
      const good = new NatsSink({ id: 'tls', servers, stream: STREAM, applianceId: 'b', tls: { caFile: cert } });
      const untrusted = new NatsSink({ id: 'untrusted', servers, stream: STREAM, applianceId: 'b', reconnect: { initialMs: 50, maxMs: 200 } });
      const d = new Dispatcher({ outbox: ob, sinks: [good, untrusted], backoff: { initialMs: 50, maxMs: 300 } });
      d.start();
      await ob.append([countEvent('c1', 1)]);
      await waitFor(() => ob.cursor('tls') === 1, 10_000, 'delivered over TLS');
      await waitFor(() => d.status()[1]!.consecutiveFailures >= 2, 10_000, 'untrusted sink retried');
      assert.equal(ob.cursor('untrusted'), 0);
      assert.equal(untrusted.connected, false, 'a certificate it cannot verify is not accepted');
      await d.stop();
      await ob.close();
      assert.equal((await jsm.streams.info(STREAM)).state.messages, 1);
      await nc.close();
    } finally {
      await cluster.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('user/password: a wrong password is retried without being logged; the right one delivers', async () => {
    const secret = 'pa55-word-never-logged';
    const cluster = await NatsCluster.create(1, [`authorization { user: box, password: "${secret}" }`]);
    const dir = mkdtempSync(join(tmpdir(), 'roadside-nats-'));
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString('utf8')), cb()) }) });
    try {
      cluster.nodes.forEach((n) => n.start());
      await cluster.waitForJetStream(10_000, { user: 'box', pass: secret });
      const { nc, jsm } = await cluster.manager({ user: 'box', pass: secret });
      await jsm.streams.add({ name: STREAM, subjects: ['roadside.>'] });
      const ob = await Outbox.open({ dir, sinks: ['wrong', 'right'], retention: { maxAgeMs: 1e12, maxEvents: 1e6 } });
      const wrong = new NatsSink({ id: 'wrong', servers: cluster.urls, stream: STREAM, applianceId: 'b', user: 'box', password: 'not-the-password', reconnect: { initialMs: 50, maxMs: 200 }, log });
      const right = new NatsSink({ id: 'right', servers: cluster.urls, stream: STREAM, applianceId: 'b', user: 'box', password: secret, log });
      const d = new Dispatcher({ outbox: ob, sinks: [wrong, right], backoff: { initialMs: 50, maxMs: 200 }, log });
      d.start();
      const evs = await ob.append([countEvent('c1', 1), countEvent('c2', 2)]);
      await waitFor(() => ob.cursor('right') === 2, 10_000, 'right sink delivered');
      await waitFor(() => d.status()[0]!.consecutiveFailures >= 2, 10_000, 'wrong sink retried');
      assert.equal(ob.cursor('wrong'), 0, 'nothing acknowledged without a connection');
      await d.stop();
      await ob.close();
      const info = await jsm.streams.info(STREAM);
      assert.equal(info.state.messages, 2);
      assert.deepEqual((await jsm.streams.getMessage(STREAM, { seq: 1 }))?.json<CloudEvent>().id, evs[0]!.id);
      await nc.close();
      const all = lines.join('');
      assert.match(all, /nats not reachable/, 'the failing sink says why');
      assert.ok(!all.includes(secret) && !all.includes('not-the-password'), 'no password in any log line');
    } finally {
      await cluster.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
