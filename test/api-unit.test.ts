// Unit tier: the API through fastify.inject() (no port), on a camera that replays recorded detections
// (no ffmpeg, no model): auth and roles, error codes from the catalogue, config validation by field.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../appliance/src/api/server.js';
import { validateConfig } from '../appliance/src/config/load.js';
import { ConfigStore } from '../appliance/src/config/store.js';
import { ERROR_CODE_LIST } from '../appliance/src/core/errors.js';
import type { DomainEvent } from '../appliance/src/core/types.js';
import { ReplayDetector } from '../appliance/src/detect/replay-detector.js';
import { RecordedFrameSource } from '../appliance/src/ingest/recorded-source.js';
import { createMetrics } from '../appliance/src/metrics/registry.js';
import { CameraManager } from '../appliance/src/pipeline/camera-manager.js';
import { allTokens, TOKENS } from './helpers/appliance.js';
import { HIGHWAY_LINES, loadFixtureRecording } from './helpers/replay.js';

const rec = loadFixtureRecording('cdnet-highway.10fps.jsonl');
const stored: DomainEvent[] = [];
let api: FastifyInstance;
let cameras: CameraManager;
let dir: string;
let source: RecordedFrameSource | null = null;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roadside-api-unit-'));
  const cfg = validateConfig({
    appliance: { id: 'unit-box' },
    storage: { dataDir: join(dir, 'data') },
    auth: { enabled: true, tokens: allTokens() },
    cameras: [{ id: 'highway', url: 'rtsp://127.0.0.1/replay', fps: 10, width: 320, height: 240, lines: HIGHWAY_LINES }],
  });
  const log = pino({ level: 'silent' });
  const metrics = createMetrics();
  cameras = new CameraManager({
    detector: new ReplayDetector(rec),
    metrics,
    log,
    events: { process: async (e) => void stored.push(...e), close: async () => undefined },
    baseDir: dir,
    createSource: (cam) => (source = new RecordedFrameSource(cam.id, rec)),
  });
  const store = new ConfigStore(cfg, null, (next) => cameras.apply(next));
  api = await buildApi({ log, metrics, config: store, cameras, anonymizer: () => null, notReady: () => [], calibrationDir: join(dir, 'cal') });
  await cameras.apply(cfg);
  await source!.ended();
});

after(async () => {
  await cameras.stopAll();
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = (t: string) => ({ authorization: `Bearer ${t}` });

test('a camera replaying recorded detections is served with its live counts', async () => {
  const r = await api.inject({ method: 'GET', url: '/api/v1/cameras/highway', headers: auth(TOKENS.viewer) });
  assert.equal(r.statusCode, 200);
  const body = r.json() as { status: { framesAnalysed: number; state: string } };
  assert.equal(body.status.framesAnalysed, rec.frames.length);
  assert.equal(body.status.state, 'stopped'); // the recording has ended
});

test('errors carry a catalogue code: no token, wrong role, unknown camera, unknown route', async () => {
  const cases: Array<[string, string, Record<string, string>, number, string]> = [
    ['GET', '/api/v1/cameras', {}, 401, 'ROADSIDE_ERR_AUTH_REQUIRED'],
    ['GET', '/api/v1/cameras', auth('not-a-token-at-all-xx'), 401, 'ROADSIDE_ERR_AUTH_REQUIRED'],
    ['GET', '/api/v1/cameras/highway/config', auth(TOKENS.viewer), 403, 'ROADSIDE_ERR_FORBIDDEN'],
    ['GET', '/api/v1/cameras/nope', auth(TOKENS.viewer), 404, 'ROADSIDE_ERR_NOT_FOUND'],
    ['GET', '/api/v1/no-such-route', auth(TOKENS.viewer), 404, 'ROADSIDE_ERR_NOT_FOUND'],
    ['GET', '/api/v1/cameras/highway/snapshot.jpg', auth(TOKENS.viewer), 503, 'ROADSIDE_ERR_IMAGE_WITHHELD'],
  ];
  for (const [method, url, headers, status, code] of cases) {
    const r = await api.inject({ method: method as 'GET', url, headers });
    assert.equal(r.statusCode, status, `${method} ${url}`);
    const body = r.json() as { code: string; error: string };
    assert.equal(body.code, code, `${method} ${url}`);
    assert.ok(ERROR_CODE_LIST.includes(body.code as never));
    assert.ok(body.error.length > 0);
  }
});

test('an invalid camera change is refused with ROADSIDE_ERR_CONFIG_INVALID naming the field, and nothing changes', async () => {
  const before = (await api.inject({ method: 'GET', url: '/api/v1/cameras/highway/config', headers: auth(TOKENS.installer) })).json() as Record<string, unknown>;
  const bad = { ...before, lines: [{ id: 'flat', from: { x: 0.2, y: 0.5 }, to: { x: 0.2, y: 0.5 } }] };
  const r = await api.inject({ method: 'PUT', url: '/api/v1/cameras/highway', headers: { ...auth(TOKENS.installer), 'content-type': 'application/json' }, payload: bad });
  assert.equal(r.statusCode, 400);
  const body = r.json() as { code: string; issues: { path: string }[] };
  assert.equal(body.code, 'ROADSIDE_ERR_CONFIG_INVALID');
  assert.ok(body.issues.some((i) => i.path.includes('/lines/0')), JSON.stringify(body.issues));
  const after = (await api.inject({ method: 'GET', url: '/api/v1/cameras/highway/config', headers: auth(TOKENS.installer) })).json();
  assert.deepEqual(after, before);
});

test('a request body that fails its schema is ROADSIDE_ERR_REQUEST_INVALID with the field', async () => {
  const r = await api.inject({ method: 'POST', url: '/api/v1/cameras', headers: { ...auth(TOKENS.installer), 'content-type': 'application/json' }, payload: { id: 'Bad Id!' } });
  assert.equal(r.statusCode, 400);
  const body = r.json() as { code: string; issues: { path: string }[] };
  assert.equal(body.code, 'ROADSIDE_ERR_REQUEST_INVALID');
  assert.ok(body.issues.length > 0);
});

test('stopping the replayed camera stores its count intervals through the publisher', async () => {
  await cameras.stopAll();
  assert.ok(stored.some((e) => e.type === 'count.interval'));
  assert.ok(stored.some((e) => e.type === 'camera.state'));
});
