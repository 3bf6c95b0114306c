// The lane data through the real outbox (LevelDB on disk) and the API: lane.interval events stored,
// queried with GET /api/v1/lanes (filters, latest, roles), and the lane series of /metrics moved by
// the store. Full tier: LevelDB on disk.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import { roadsideApi } from '../appliance/src/api/app.js';
import { laneSiteId } from '../appliance/src/events/datex.js';
import { explain, validateD2Payload } from './helpers/datex-validator.js';
import { validateConfig } from '../appliance/src/config/load.js';
import { ConfigStore } from '../appliance/src/config/store.js';
import type { LaneIntervalData } from '../appliance/src/core/event-data.js';
import type { DomainEvent } from '../appliance/src/core/types.js';
import { Outbox } from '../appliance/src/events/outbox.js';
import { createMetrics } from '../appliance/src/metrics/registry.js';
import { CameraManager } from '../appliance/src/pipeline/camera-manager.js';
import { ReplayDetector } from '../appliance/src/detect/replay-detector.js';
import { allTokens, TOKENS } from './helpers/appliance.js';
import { highwayLanes } from './helpers/lanes.js';
import { loadFixtureRecording } from './helpers/replay.js';
import { CameraAnalytics } from '../appliance/src/analytics/index.js';
import { MultiObjectTracker } from '../appliance/src/track/index.js';
import { replayCameraConfig } from './helpers/replay.js';

const rec = loadFixtureRecording('cdnet-highway.10fps.jsonl');

/** lane.interval events of the cdnet-highway recording with its two lanes, 20 s intervals. */
function laneEvents(): DomainEvent[] {
  const cam = replayCameraConfig('highway', 320, 240, 10, { lanes: highwayLanes(), laneData: { intervalSeconds: 20, lengthClasses: { lightMaxM: 6, mediumMaxM: 9, heavyMaxM: 13 } } });
  const trk = new MultiObjectTracker();
  const an = new CameraAnalytics({ camera: cam, binSeconds: [60], calibration: null });
  const out: DomainEvent[] = [];
  for (const f of rec.frames) out.push(...an.process(trk.process({ cameraId: 'highway', seq: f.seq, timestampMs: f.timestampMs, width: 320, height: 240, detections: f.detections })));
  out.push(...an.close((rec.frames.at(-1)?.timestampMs ?? 0) + 100));
  return out.filter((e) => e.type === 'lane.interval');
}

describe('lane data API', () => {
  let dir: string;
  let outbox: Outbox;
  let api: FastifyInstance;
  let cameras: CameraManager;
  const metrics = createMetrics();
  const events = laneEvents();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roadside-lanes-api-'));
    outbox = await Outbox.open({ dir: join(dir, 'outbox'), sinks: [], retention: { maxAgeMs: 86_400_000 * 365 * 10, maxEvents: 10_000 }, applianceId: 'box', metrics });
    await outbox.append(events);
    // The same intervals as a camera seen just now: `latest` looks back one day from now.
    const now = Date.now();
    const last = Math.max(...events.map((e) => e.timeMs));
    await outbox.append(events.map((e) => ({ ...e, cameraId: 'live', timeMs: now - (last - e.timeMs), data: { ...(e.data as LaneIntervalData), cameraId: 'live' } })));
    // The camera with its lanes is configured (the DATEX site table lists them) but not started: the events are stored above.
    const cfg = validateConfig({
      appliance: { id: 'box' },
      auth: { enabled: true, tokens: allTokens() },
      storage: { dataDir: join(dir, 'data') },
      cameras: [{ id: 'highway', url: 'rtsp://127.0.0.1/replay', enabled: false, width: 320, height: 240, lanes: highwayLanes(), laneData: { intervalSeconds: 20 } }],
    });
    const log = pino({ level: 'silent' });
    cameras = new CameraManager({ detector: new ReplayDetector(rec), metrics, log, events: { process: async () => undefined, close: async () => undefined }, baseDir: dir });
    const store = new ConfigStore(cfg, null, (next) => cameras.apply(next));
    api = Fastify({ logger: false });
    await api.register(roadsideApi, { metrics, config: store, cameras, outbox, anonymizer: () => null, notReady: () => [], calibrationDir: join(dir, 'cal') });
    await api.ready();
  });

  after(async () => {
    await cameras?.stopAll();
    await api?.close();
    await outbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string, token: string = TOKENS.viewer) => api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  test('every stored interval comes back, per lane, with its numbers', async () => {
    assert.ok(events.length >= 4, `two lanes × at least two 20 s intervals (${events.length})`);
    const r = await get('/api/v1/lanes?camera=highway');
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json() as { truncated: boolean; intervals: LaneIntervalData[] };
    assert.equal(body.truncated, false);
    assert.deepEqual(body.intervals, events.map((e) => e.data as LaneIntervalData).sort((a, b) => a.intervalEnd.localeCompare(b.intervalEnd) || a.laneId.localeCompare(b.laneId)));
    assert.ok(body.intervals.some((d) => d.volume > 0 && (d.occupancyPct ?? 0) > 0), 'traffic on the loops');
  });

  test('filters: lane, camera, window, latest; bad query refused; metrics role refused', async () => {
    const left = (await get('/api/v1/lanes?camera=highway&lane=left')).json() as { intervals: LaneIntervalData[] };
    assert.ok(left.intervals.length > 0 && left.intervals.every((d) => d.laneId === 'left'));
    assert.equal(((await get('/api/v1/lanes?camera=other')).json() as { intervals: unknown[] }).intervals.length, 0);
    assert.equal(((await get('/api/v1/lanes?camera=highway&latest=true')).json() as { intervals: unknown[] }).intervals.length, 0, 'latest: nothing older than a day');
    const latest = (await get('/api/v1/lanes?camera=live&latest=true')).json() as { intervals: LaneIntervalData[] };
    assert.deepEqual(latest.intervals.map((d) => d.laneId).sort(), ['left', 'right']);
    const lastEnd = events.map((e) => (e.data as LaneIntervalData).intervalEnd).sort().at(-1);
    assert.ok(latest.intervals.every((d) => d.intervalEnd === lastEnd));
    const first = events[0]?.data as LaneIntervalData;
    const windowed = (await get(`/api/v1/lanes?camera=highway&to=${encodeURIComponent(first.intervalEnd)}`)).json() as { intervals: LaneIntervalData[] };
    assert.ok(windowed.intervals.length > 0 && windowed.intervals.every((d) => d.intervalStart < first.intervalEnd));
    assert.equal((await get('/api/v1/lanes?limit=0')).statusCode, 400);
    assert.equal((await get('/api/v1/lanes', TOKENS.metrics)).statusCode, 403);
  });

  test('DATEX II: per-lane measured data over a window and the lane sites validate against the official schemas', async () => {
    const first = events[0]?.data as LaneIntervalData;
    const lastEnd = events.map((e) => (e.data as LaneIntervalData).intervalEnd).sort().at(-1) ?? '';
    const r = await get(`/api/v1/datex/measured-data?camera=highway&from=${encodeURIComponent(first.intervalStart)}&to=${encodeURIComponent(lastEnd)}`);
    assert.equal(r.statusCode, 200, r.body);
    const doc = r.json() as { payload: { roaMeasuredDataPublication: { siteMeasurements: Array<{ measurementSiteReference: { idG: string }; physicalQuantity?: unknown[] }> } } };
    assert.deepEqual(validateD2Payload(doc), [], explain(validateD2Payload(doc)));
    const sms = doc.payload.roaMeasuredDataPublication.siteMeasurements;
    assert.equal(sms.length, events.length, 'one SiteMeasurements per lane interval');
    assert.ok(sms.every((m) => [laneSiteId('box', 'highway', 'left'), laneSiteId('box', 'highway', 'right')].includes(m.measurementSiteReference.idG)));
    const sites = await get('/api/v1/datex/measurement-sites');
    assert.equal(sites.statusCode, 200, sites.body);
    assert.deepEqual(validateD2Payload(sites.json()), [], explain(validateD2Payload(sites.json())));
    assert.match(sites.body, /"box\.highway\.left\.lane"/);
  });

  test('storing the intervals moved the lane series of /metrics (camera and lane labels only)', async () => {
    const text = await metrics.registry.metrics();
    const vol = events.filter((e) => (e.data as LaneIntervalData).laneId === 'left').reduce((s, e) => s + (e.data as LaneIntervalData).volume, 0);
    assert.match(text, new RegExp(`roadside_lane_vehicles_total\\{camera="highway",lane="left"\\} ${vol}\\b`));
    assert.match(text, /roadside_lane_occupancy_percent\{camera="highway",lane="right"\} \d/);
    assert.match(text, /roadside_lane_vehicles_total\{camera="live",lane="right"\} \d/);
  });
});
