// The events API on a real fastify instance on 127.0.0.1 with a real outbox, queried over HTTP:
// queries with pagination, SSE live + resume with Last-Event-ID, counts, schemas, DATEX export.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Value } from '@sinclair/typebox/value';
import { EVENT_TYPES, type CloudEvent, type DomainEvent } from '../appliance/src/core/types.js';
import type { CountIntervalData, IncidentData } from '../appliance/src/core/event-data.js';
import { Outbox, cloudEventSchema } from '../appliance/src/events/index.js';
import { sharedSchemas } from '../appliance/src/api/schemas.js';
import { countRoutes } from '../appliance/src/api/routes/counts.js';
import { datexRoutes } from '../appliance/src/api/routes/datex.js';
import { eventSchemaRoutes } from '../appliance/src/api/routes/event-schemas.js';
import { eventRoutes } from '../appliance/src/api/routes/events.js';
import { explain, validateD2Payload } from './helpers/datex-validator.js';

const T0 = Date.parse('2024-05-01T08:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function count(camera: string, line: string, endMs: number, binSeconds: number, counts: CountIntervalData['counts'], speed: number | null = null): DomainEvent<CountIntervalData> {
  return {
    type: 'count.interval',
    cameraId: camera,
    timeMs: endMs,
    data: { cameraId: camera, lineId: line, intervalStart: iso(endMs - binSeconds * 1000), intervalEnd: iso(endMs), binSeconds, counts, meanSpeedKmh: speed },
  };
}
function incident(type: 'incident.opened' | 'incident.updated' | 'incident.closed', id: string, kind: IncidentData['kind'], tMs: number, endedMs: number | null = null): DomainEvent<IncidentData> {
  return {
    type,
    cameraId: 'cam1',
    timeMs: tMs,
    data: { incidentId: id, cameraId: 'cam1', kind, zoneId: 'z1', trackIds: [7], startedAt: iso(T0), endedAt: endedMs === null ? null : iso(endedMs), measures: { seconds: 31 } },
  };
}

/** The route plugins that read the outbox (events and live feed, counts, event schemas, DATEX), as the app registers them. */
async function registerOutboxRoutes(app: FastifyInstance, outbox: Outbox, liveFeed: { heartbeatMs?: number; maxStreams?: number } = {}): Promise<void> {
  await app.register(sharedSchemas);
  await app.register(eventRoutes, { outbox, ...liveFeed });
  await app.register(countRoutes, { outbox, binSeconds: () => [60], maxScan: 100_000 });
  await app.register(eventSchemaRoutes, {});
  await app.register(datexRoutes, { outbox, binSeconds: () => [60], datex: () => ({}), maxScan: 100_000 });
}

/** A minimal SSE client over fetch: collects events, remembers the last id. */
async function sse(url: string, headers: Record<string, string> = {}) {
  const ctl = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ctl.signal });
  const events: { id: string; event: string; data: CloudEvent }[] = [];
  let comments = 0;
  let buf = '';
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments++;
            const m = /^(id|event|data): (.*)$/.exec(line);
            if (m) f[m[1]!] = m[2]!;
          }
          if (f.data) events.push({ id: f.id!, event: f.event!, data: JSON.parse(f.data) as CloudEvent });
        }
      }
    } catch {
      /* aborted */
    }
  })();
  return { res, events, comments: () => comments, close: async () => (ctl.abort(), await done) };
}

async function until(cond: () => boolean, ms: number, what: string) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('events API', () => {
  let dir: string;
  let outbox: Outbox;
  let app: FastifyInstance;
  let base: string;
  const routes: { url: string; access: unknown; method: string }[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roadside-events-api-'));
    outbox = await Outbox.open({ dir, sinks: [], retention: { maxAgeMs: 1e13, maxEvents: 1e6 }, applianceId: 'box1' });
    app = Fastify({ ajv: { customOptions: { coerceTypes: 'array', useDefaults: true, removeAdditional: false } } });
    app.addHook('onRoute', (r) => void routes.push({ url: r.url, method: String(r.method), access: (r.config as { access?: unknown } | undefined)?.access }));
    await registerOutboxRoutes(app, outbox, { heartbeatMs: 200 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const a = app.server.address() as { port: number };
    base = `http://127.0.0.1:${a.port}`;
  });
  after(async () => {
    await app.close();
    await outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every route declares read access', () => {
    const mine = routes.filter((r) => r.method !== 'HEAD');
    assert.ok(mine.length >= 8);
    for (const r of mine) assert.equal(r.access, 'read', r.url);
  });

  test('GET /api/v1/events filters and pages with an opaque cursor; bad input is a 400', async () => {
    const evs: DomainEvent[] = [];
    for (let i = 0; i < 12; i++) evs.push(count(i % 2 ? 'cam1' : 'cam2', 'l1', T0 + (i + 1) * 60_000, 60, [{ direction: 'forward', cls: 'car', count: 1 }]));
    const stored = await outbox.append(evs);
    const page1 = (await (await fetch(`${base}/api/v1/events?camera=cam1&limit=4`)).json()) as { events: CloudEvent[]; nextCursor: string | null };
    assert.equal(page1.events.length, 4);
    assert.ok(page1.nextCursor);
    const page2 = (await (await fetch(`${base}/api/v1/events?camera=cam1&limit=4&cursor=${page1.nextCursor}`)).json()) as typeof page1;
    assert.equal(page2.events.length, 2);
    assert.equal(page2.nextCursor, null);
    assert.deepEqual([...page1.events, ...page2.events].map((e) => e.id), stored.filter((e) => e.subject === 'cam1').map((e) => e.id));
    for (const e of page1.events) assert.ok(Value.Check(cloudEventSchema('count.interval'), e), 'envelope intact over HTTP');

    const ranged = (await (await fetch(`${base}/api/v1/events?type=count.interval&from=${iso(T0 + 3 * 60_000)}&to=${iso(T0 + 6 * 60_000)}`)).json()) as typeof page1;
    assert.deepEqual(ranged.events.map((e) => e.time), [iso(T0 + 3 * 60_000), iso(T0 + 4 * 60_000), iso(T0 + 5 * 60_000)]);

    assert.equal((await fetch(`${base}/api/v1/events?type=nope`)).status, 400);
    const prefixed = (await (await fetch(`${base}/api/v1/events?type=org.roadside.count.interval&from=${iso(T0 + 3 * 60_000)}&to=${iso(T0 + 6 * 60_000)}`)).json()) as typeof page1;
    assert.deepEqual(prefixed.events.map((e) => e.id), ranged.events.map((e) => e.id), 'the CloudEvents type filters like the short name');
    assert.equal((await fetch(`${base}/api/v1/events?from=yesterday`)).status, 400);
    assert.equal((await fetch(`${base}/api/v1/events?limit=5000`)).status, 400);
    assert.equal((await fetch(`${base}/api/v1/events?camera=cam2&cursor=${page1.nextCursor}`)).status, 400, 'a cursor of another query');
  });

  test('GET /api/v1/events/stream: live events, heartbeats, then resume with Last-Event-ID replays exactly what was missed', async () => {
    const typed = await sse(`${base}/api/v1/events/stream?camera=cam9&type=count.interval`);
    const a = await sse(`${base}/api/v1/events/stream?camera=cam9`);
    assert.equal(a.res.status, 200);
    assert.match(a.res.headers.get('content-type')!, /^text\/event-stream/);
    const first = await outbox.append([count('cam9', 'l1', T0, 60, []), count('cam8', 'l1', T0, 60, []), count('cam9', 'l1', T0 + 1, 60, [])]);
    await until(() => a.events.length === 2, 3000, 'two live events');
    assert.deepEqual(a.events.map((e) => e.id), [first[0]!.id, first[2]!.id], 'camera filter applied');
    assert.equal(a.events[0]!.event, 'org.roadside.count.interval', 'the SSE event name is the CloudEvents type');
    await until(() => typed.events.length === 2, 3000, 'type-filtered live events');
    await typed.close();
    assert.deepEqual(a.events[0]!.data, first[0]);
    await until(() => a.comments() >= 3, 3000, 'heartbeats');
    const lastSeen = a.events[1]!.id;
    await a.close();

    // Missed while disconnected:
    const missed = await outbox.append([count('cam9', 'l1', T0 + 2, 60, []), count('cam9', 'l1', T0 + 3, 60, [])]);
    const b = await sse(`${base}/api/v1/events/stream?camera=cam9`, { 'last-event-id': lastSeen });
    await until(() => b.events.length === 2, 3000, 'replayed events');
    const live = await outbox.append([count('cam9', 'l1', T0 + 4, 60, [])]);
    await until(() => b.events.length === 3, 3000, 'live after replay');
    assert.deepEqual(b.events.map((e) => e.id), [...missed, ...live].map((e) => e.id), 'replay then live, no gap, nothing twice');
    await b.close();

    // Resume with the query parameter (EventSource cannot set headers on the first request).
    const c = await sse(`${base}/api/v1/events/stream?camera=cam9&lastEventId=${first[0]!.id}`);
    await until(() => c.events.length === 4, 3000, 'replay by query');
    assert.deepEqual(c.events.map((e) => e.id), [first[2]!, ...missed, ...live].map((e) => e.id));
    await c.close();

    // An unknown id: live only, said in a comment.
    const d = await sse(`${base}/api/v1/events/stream?camera=cam9`, { 'last-event-id': '01ZZZZZZZZZZZZZZZZZZZZZZZZ' });
    const more = await outbox.append([count('cam9', 'l1', T0 + 5, 60, [])]);
    await until(() => d.events.length === 1, 3000, 'live after unknown id');
    assert.equal(d.events[0]!.id, more[0]!.id);
    await d.close();
  });

  test('a disconnected SSE client is cleaned up (no listener left behind)', async () => {
    await until(() => outbox.appendListeners() === 0, 2000, 'earlier streams gone');
    const s = await sse(`${base}/api/v1/events/stream`);
    await until(() => outbox.appendListeners() === 1, 2000, 'subscribed');
    await s.close();
    await until(() => outbox.appendListeners() === 0, 2000, 'unsubscribed after disconnect');
  });

  test('GET /api/v1/counts aggregates per camera, line, direction and class, one bin size at a time', async () => {
    const t = T0 + 86_400_000; // a separate day
    await outbox.append([
      count('cnt', 'a', t + 60_000, 60, [{ direction: 'forward', cls: 'car', count: 3 }, { direction: 'backward', cls: 'truck', count: 1 }]),
      count('cnt', 'a', t + 120_000, 60, [{ direction: 'forward', cls: 'car', count: 2 }]),
      count('cnt', 'b', t + 120_000, 60, [{ direction: 'forward', cls: 'bus', count: 4 }]),
      count('cnt', 'a', t + 900_000, 900, [{ direction: 'forward', cls: 'car', count: 50 }]),
    ]);
    type Body = { binSeconds: number; intervals: number; truncated: boolean; rows: { lineId: string; direction: string; cls: string; count: number; intervalStart?: string }[] };
    const r = (await (await fetch(`${base}/api/v1/counts?camera=cnt`)).json()) as Body;
    assert.equal(r.binSeconds, 60, 'smallest bin by default');
    assert.equal(r.intervals, 3);
    assert.equal(r.truncated, false);
    assert.deepEqual(r.rows.map((x) => [x.lineId, x.direction, x.cls, x.count]), [['a', 'backward', 'truck', 1], ['a', 'forward', 'car', 5], ['b', 'forward', 'bus', 4]]);
    const r900 = (await (await fetch(`${base}/api/v1/counts?camera=cnt&binSeconds=900`)).json()) as Body;
    assert.deepEqual(r900.rows.map((x) => x.count), [50]);
    const per = (await (await fetch(`${base}/api/v1/counts?camera=cnt&line=a&direction=forward&group=interval&to=${iso(t + 200_000)}`)).json()) as Body;
    assert.deepEqual(per.rows.map((x) => [x.intervalStart, x.count]), [[iso(t), 3], [iso(t + 60_000), 2]]);
  });

  test('GET /api/v1/schemas/events[/:type] publishes envelope + payload JSON Schemas', async () => {
    const all = (await (await fetch(`${base}/api/v1/schemas/events`)).json()) as { types: string[]; schemas: Record<string, { properties: Record<string, unknown> }> };
    assert.deepEqual(all.types, [...EVENT_TYPES]);
    assert.ok(all.schemas['incident.opened']!.properties.data);
    assert.ok(all.schemas['camera.health']!.properties.data);
    const one = await fetch(`${base}/api/v1/schemas/events/count.interval`);
    assert.equal(one.status, 200);
    assert.match(one.headers.get('content-type')!, /schema\+json/);
    const s = (await one.json()) as { $id: string; properties: { type: { const: string }; data: { properties: Record<string, unknown> } } };
    assert.equal(s.$id, 'https://roadside.invalid/api/v1/schemas/events/count.interval', 'absolute, the same URI as the events dataschema');
    assert.equal(s.properties.type.const, 'org.roadside.count.interval');
    assert.equal((await fetch(`${base}/api/v1/schemas/events/org.roadside.count.interval`)).status, 200, 'the CloudEvents type names it too');
    assert.ok(s.properties.data.properties.lineId);
    assert.equal((await fetch(`${base}/api/v1/schemas/events/nope`)).status, 404);
  });

  test('GET /api/v1/datex/measured-data and /situations render DATEX II publications from the outbox', async () => {
    const t = T0 + 2 * 86_400_000;
    await outbox.append([
      count('dx', 'l1', t + 60_000, 60, [{ direction: 'forward', cls: 'truck', count: 2 }], 71.26),
      incident('incident.opened', 'inc-1', 'wrong-way', t),
      incident('incident.opened', 'inc-2', 'queue', t + 1000),
      incident('incident.updated', 'inc-2', 'queue', t + 2000),
      incident('incident.closed', 'inc-2', 'queue', t + 3000, t + 2500),
    ]);
    type Doc = { payload: Record<string, any> };
    const fetchDoc = async (path: string) => {
      const doc = (await (await fetch(`${base}${path}`)).json()) as Doc;
      assert.deepEqual(validateD2Payload(doc), [], `${path}: ${explain(validateD2Payload(doc))}`);
      return doc.payload;
    };
    const md = (await fetchDoc(`/api/v1/datex/measured-data?camera=dx&from=${iso(t)}`)).roaMeasuredDataPublication;
    assert.deepEqual(md.siteMeasurements.map((s: any) => s.measurementSiteReference.idG), ['box1.dx.l1.forward', 'box1.dx.l1.backward']);
    const lorry = md.siteMeasurements[0].physicalQuantity.find((p: any) => p.index === 6002).physicalQuantity.roaSinglePhysicalQuantity.basicData.roaTrafficFlow;
    assert.deepEqual(lorry.forVehiclesWithCharacteristicsOf, { vehicleType: [{ value: 'lorry' }] });
    assert.deepEqual([lorry.vehicleFlow.vehicleFlowRate, lorry.vehicleFlow.numberOfInputValuesUsed], [120, 2]);

    const all = (await fetchDoc(`/api/v1/datex/situations?active=false&from=${iso(t - 1)}`)).sitSituationPublication;
    const records = all.situation.map((s: any) => Object.values(s.situationRecord[0])[0] as any);
    assert.deepEqual(all.situation.map((s: any) => s.idG), ['box1.inc-1', 'box1.inc-2']);
    assert.equal(records[0].vehicleObstructionType.value, 'vehicleOnWrongCarriageway');
    assert.equal(records[1].abnormalTrafficType.value, 'queuingTraffic');
    assert.deepEqual(records[1].validity, {
      validityStatus: { value: 'definedByValidityTimeSpec' },
      validityTimeSpecification: { overallStartTime: iso(T0), overallEndTime: iso(t + 2500) },
    });
    const active = (await fetchDoc(`/api/v1/datex/situations?from=${iso(t - 1)}`)).sitSituationPublication;
    assert.deepEqual(active.situation.map((s: any) => s.idG), ['box1.inc-1'], 'closed incidents left out by default');
    // Without a config the sites come from the last day's count events; these are from 2024: none.
    const sites = await fetch(`${base}/api/v1/datex/measurement-sites`);
    assert.equal(sites.status, 404, 'v3 has no empty site table');
    assert.equal(((await sites.json()) as { code: string }).code, 'ROADSIDE_ERR_NOT_FOUND');
  });

  test('open SSE streams do not keep app.close() from finishing', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'roadside-events-api-'));
    const ob = await Outbox.open({ dir: d2, sinks: [], retention: { maxAgeMs: 1e13, maxEvents: 1e6 } });
    const a2 = Fastify();
    await registerOutboxRoutes(a2, ob);
    await a2.listen({ host: '127.0.0.1', port: 0 });
    const s = await sse(`http://127.0.0.1:${(a2.server.address() as { port: number }).port}/api/v1/events/stream`);
    const t0 = Date.now();
    await a2.close();
    assert.ok(Date.now() - t0 < 2000, `closed in ${Date.now() - t0} ms`);
    await s.close();
    await ob.close();
    rmSync(d2, { recursive: true, force: true });
  });

  test('live streams are capped: one over maxStreams gets 503 with Retry-After, and a closed one frees its place', async () => {
    const d3 = mkdtempSync(join(tmpdir(), 'roadside-events-api-'));
    const ob = await Outbox.open({ dir: d3, sinks: [], retention: { maxAgeMs: 1e13, maxEvents: 1e6 } });
    const a3 = Fastify();
    await registerOutboxRoutes(a3, ob, { maxStreams: 2 });
    await a3.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(a3.server.address() as { port: number }).port}/api/v1/events/stream`;
    try {
      const s1 = await sse(url);
      const s2 = await sse(url);
      const over = await fetch(url);
      assert.equal(over.status, 503);
      assert.equal(over.headers.get('retry-after'), '10');
      await over.body?.cancel();
      await s1.close();
      await until(() => true, 10, 'tick');
      let again: Response | null = null;
      const t0 = Date.now();
      while (Date.now() - t0 < 3000) {
        const r = await fetch(url, { signal: AbortSignal.timeout(500) }).catch(() => null);
        if (r && r.status === 200) {
          again = r;
          break;
        }
        await r?.body?.cancel();
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.ok(again, 'a place freed after a client left');
      await s2.close();
    } finally {
      await a3.close();
      await ob.close();
      rmSync(d3, { recursive: true, force: true });
    }
  });
});
