// Unit tier: the API through fastify.inject() (no port), on a camera that replays recorded detections
// (no ffmpeg, no model): auth and roles, error codes from the catalogue, config validation by field.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { roadsideApi } from '../appliance/src/api/app.js';
import { registeredRoutes } from '../appliance/src/api/auth.js';
import { ERROR_CODE_LIST } from '../appliance/src/core/errors.js';
import { TOKENS } from './helpers/appliance.js';
import { testApi, type TestApi } from './helpers/api.js';
import { HIGHWAY_LINES, lineTotals, loadFixtureRecording } from './helpers/replay.js';

const rec = loadFixtureRecording('cdnet-highway.10fps.jsonl');
let t: TestApi;
let api: FastifyInstance;

before(async () => {
  t = await testApi({ recording: rec, config: { cameras: [{ id: 'highway', url: 'rtsp://127.0.0.1/replay', fps: 10, width: 320, height: 240, lines: HIGHWAY_LINES }] } });
  api = t.app;
  await t.replayEnded('highway');
});

after(async () => {
  await t.close();
});

const auth = (t: string) => ({ authorization: `Bearer ${t}` });

test('a camera replaying recorded detections is served with its live counts', async () => {
  const r = await api.inject({ method: 'GET', url: '/api/v1/cameras/highway', headers: auth(TOKENS.viewer) });
  assert.equal(r.statusCode, 200);
  const body = r.json() as { status: { framesAnalysed: number; state: string } };
  assert.equal(body.status.framesAnalysed, rec.frames.length);
  assert.equal(body.status.state, 'stopped'); // the recording has ended
});

test('the API is one plugin: on a bare fastify instance it has every route, each refusing a request without a token but /healthz and /readyz', async () => {
  const bare = Fastify();
  await bare.register(roadsideApi, t.apiOptions);
  await bare.ready();
  try {
    const routes = registeredRoutes(bare).filter((r) => r.method !== 'HEAD');
    assert.deepEqual(routes, registeredRoutes(api).filter((r) => r.method !== 'HEAD'), 'the same routes as the appliance server');
    assert.ok(routes.length >= 30, `found ${routes.length} routes`);
    const open: string[] = [];
    for (const r of routes) {
      assert.ok(r.access, `${r.method} ${r.url} declares an access level`);
      const url = r.url.replace(':id', 'highway').replace(':type', 'count.interval').replace('*', 'index.html');
      const res = await bare.inject({ method: r.method as 'GET', url, ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { payload: {} }) });
      if (res.statusCode !== 401) open.push(`${r.method} ${r.url} → ${res.statusCode}`);
      else assert.equal((res.json() as { code: string }).code, 'ROADSIDE_ERR_AUTH_REQUIRED');
    }
    assert.deepEqual(open.sort(), ['GET /healthz → 200', 'GET /readyz → 200']);
  } finally {
    await bare.close();
  }
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
  await t.cameras.stopAll();
  assert.ok(t.published.some((e) => e.type === 'count.interval'));
  assert.ok(t.published.some((e) => e.type === 'camera.state'));
});

test('the intervals it stored are served by the counts and DATEX plugins from the outbox', async () => {
  // The per-minute intervals the camera published, summed by hand, against GET /api/v1/counts.
  const perMinute = t.published.filter((e) => e.type === 'count.interval' && (e.data as { binSeconds: number }).binSeconds === 60);
  const want = lineTotals(perMinute);
  assert.ok(Object.keys(want).length > 0, 'the replay counted vehicles');
  const r = await api.inject({ url: '/api/v1/counts?binSeconds=60', headers: auth(TOKENS.viewer) });
  assert.equal(r.statusCode, 200);
  const body = r.json() as { truncated: boolean; rows: { cameraId: string; lineId: string; direction: string; cls: string; count: number }[] };
  assert.equal(body.truncated, false);
  const got: Record<string, number> = {};
  for (const row of body.rows) got[`${row.lineId}/${row.direction}/${row.cls}`] = row.count;
  assert.deepEqual(got, want);

  // Without a window, DATEX measured data carries the newest per-minute interval of each line (both directions).
  const newest = new Map<string, string>();
  for (const e of perMinute) {
    const data = e.data as { lineId: string; intervalEnd: string };
    if ((newest.get(data.lineId) ?? '') < data.intervalEnd) newest.set(data.lineId, data.intervalEnd);
  }
  const d = await api.inject({ url: '/api/v1/datex/measured-data', headers: auth(TOKENS.viewer) });
  assert.equal(d.statusCode, 200);
  type Site = { measurementTimeDefault: { timeValue: string }; siteMeasurementsExtensionG: { roadside: { lineId?: string; direction?: string; binSeconds: number } } };
  const sites = (d.json() as { payload: { roaMeasuredDataPublication: { siteMeasurements: Site[] } } }).payload.roaMeasuredDataPublication.siteMeasurements;
  const lineSites = sites.filter((m) => m.siteMeasurementsExtensionG.roadside.lineId !== undefined);
  assert.deepEqual(
    lineSites.map((m) => [m.siteMeasurementsExtensionG.roadside.lineId, m.siteMeasurementsExtensionG.roadside.direction, m.measurementTimeDefault.timeValue, m.siteMeasurementsExtensionG.roadside.binSeconds]).sort(),
    [...newest].flatMap(([lineId, end]) => [[lineId, 'backward', end, 60], [lineId, 'forward', end, 60]]).sort(),
  );
});
