// The foundation end to end: a real RTSP server, real ffmpeg, the real detector, the real API.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import { pino } from 'pino';
import { Appliance } from '../appliance/src/app.js';
import { validateConfig } from '../appliance/src/config/load.js';
import { registeredRoutes } from '../appliance/src/api/auth.js';
import { TestRtspServer, freePort, waitFor } from './helpers/rtsp-server.js';
import { allTokens, startAppliance, testConfig, TOKENS, type TestAppliance } from './helpers/appliance.js';
import { CLIPS } from './helpers/paths.js';

describe('appliance with two cameras, one of them dead', () => {
  let rtsp: TestRtspServer;
  let t: TestAppliance;
  let deadPort: number;

  before(async () => {
    rtsp = new TestRtspServer(CLIPS.opendatacam);
    const url = await rtsp.start(await freePort());
    deadPort = await freePort();
    t = await startAppliance([
      { id: 'live', url, fps: 5, width: 320, height: 180, stallSeconds: 5, lines: [{ id: 'l1', from: { x: 0.17, y: 0.55 }, to: { x: 0.62, y: 0.55 } }] },
      { id: 'dead', url: `rtsp://127.0.0.1:${deadPort}/nothing`, fps: 5, width: 320, height: 180, stallSeconds: 3 },
    ], { auth: { tokens: allTokens(), maxFailures: 1000 } });
  });
  after(async () => {
    await t?.stop();
    await rtsp?.stop();
  });

  test('healthz and readyz answer without a token', async () => {
    assert.equal((await t.get('/healthz', null)).status, 200);
    const r = await t.get('/readyz', null);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { ready: true, reasons: [] });
  });

  test('the live camera streams and is analysed while the dead one backs off', async () => {
    let cams: { id: string; state: string; fps: number; framesAnalysed: number; restarts: number }[] = [];
    await waitFor(() => {
      void t
        .get('/api/v1/cameras')
        .then((r) => r.json() as Promise<{ cameras: typeof cams }>)
        .then((b) => (cams = b.cameras));
      const live = cams.find((c) => c.id === 'live');
      return !!live && live.state === 'streaming' && live.framesAnalysed >= 10 && live.fps > 0;
    }, 40_000, 'live camera analysed frames');
    const dead = cams.find((c) => c.id === 'dead')!;
    assert.ok(['connecting', 'backoff'].includes(dead.state), `dead camera state ${dead.state}`);
    await waitFor(() => (cams.find((c) => c.id === 'dead')?.restarts ?? 0) >= 1, 15_000, 'dead camera retried');
    const one = (await (await t.get('/api/v1/cameras/live')).json()) as { status: { state: string }; live: { lines: unknown[] } };
    assert.equal(one.status.state, 'streaming');
    assert.equal(one.live.lines.length, 1);
  });

  test('metrics carry frames, inference latency, camera up and restarts, labelled by camera id only', async () => {
    const r = await t.get('/metrics', TOKENS.metrics);
    assert.equal(r.status, 200);
    const text = await r.text();
    for (const name of ['roadside_frames_decoded_total', 'roadside_frames_analysed_total', 'roadside_inference_seconds_bucket', 'roadside_camera_up', 'roadside_camera_restarts_total']) {
      assert.match(text, new RegExp(`^${name}\\{`, 'm'), `${name} present`);
    }
    assert.match(text, /^roadside_camera_up\{camera="live"\} 1$/m);
    assert.match(text, /^roadside_camera_up\{camera="dead"\} 0$/m);
    assert.match(text, /^roadside_camera_restarts_total\{camera="dead"\} [1-9]/m);
    const labelSets = text.split('\n').filter((l) => /^roadside_(frames|inference|camera_up|camera_restarts)/.test(l)).map((l) => l.slice(l.indexOf('{') + 1, l.indexOf('}')));
    for (const ls of labelSets) {
      const keys = ls.split(',').map((kv) => kv.split('=')[0]).filter((k) => k !== 'le');
      assert.deepEqual(keys, ['camera'], `labels ${ls}`);
    }
    assert.doesNotMatch(text, /rtsp:\/\//, 'no camera URL in metrics');
  });

  test('every route but /healthz and /readyz refuses a request without a token, and wrong roles get 403', async () => {
    const routes = registeredRoutes(t.app.api).filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
    assert.ok(routes.length >= 15, `found ${routes.length} routes`);
    const open = new Set<string>();
    for (const r of routes) {
      assert.ok(r.access, `${r.method} ${r.url} declares an access level`);
      const url = r.url.replace(':id', 'live').replace(':type', 'count.interval').replace('*', 'index.html');
      const res = await fetch(t.base + url, { method: r.method, headers: r.method === 'GET' ? {} : { 'content-type': 'application/json' }, body: r.method === 'GET' || r.method === 'DELETE' ? undefined : '{}' });
      await res.body?.cancel();
      if (res.status !== 401) open.add(`${r.method} ${r.url} → ${res.status}`);
    }
    assert.deepEqual([...open].sort(), ['GET /healthz → 200', 'GET /readyz → 200']);
    assert.equal((await t.get('/metrics', TOKENS.viewer)).status, 403, 'viewer cannot scrape');
    assert.equal((await t.get('/api/v1/cameras', TOKENS.metrics)).status, 403, 'metrics token cannot read cameras');
    assert.equal((await t.send('DELETE', '/api/v1/cameras/live', undefined, TOKENS.viewer)).status, 403, 'viewer cannot change config');
  });

  test('a snapshot is only ever an anonymized JPEG', async () => {
    const r = await t.get('/api/v1/cameras/live/snapshot.jpg', TOKENS.viewer);
    assert.ok(r.status === 200 || r.status === 503, `status ${r.status}`);
    if (r.status === 200) {
      assert.equal(r.headers.get('content-type'), 'image/jpeg');
      const b = Buffer.from(await r.arrayBuffer());
      assert.equal(b[0], 0xff);
      assert.equal(b[1], 0xd8);
    } else {
      assert.match(((await r.json()) as { error: string }).error, /withheld|no frame/);
    }
  });

  test('an invalid camera body is refused with every field named, and the running config is kept', async () => {
    const before = (await (await t.get('/api/v1/cameras')).json()) as { cameras: unknown[] };
    const r = await t.send('POST', '/api/v1/cameras', { id: 'Bad Id', url: 'http://nope', fps: -3 });
    assert.equal(r.status, 400);
    const body = (await r.json()) as { issues: { path: string }[] };
    const paths = body.issues.map((i) => i.path).sort();
    assert.deepEqual(paths, ['/fps', '/id', '/url']);
    const after = (await (await t.get('/api/v1/cameras')).json()) as { cameras: unknown[] };
    assert.equal(after.cameras.length, before.cameras.length);
    const tooShort = await t.send('PUT', '/api/v1/cameras/dead', {
      id: 'dead',
      url: `rtsp://127.0.0.1:${deadPort}/nothing`,
      lines: [{ id: 'x', from: { x: 0.5, y: 0.5 }, to: { x: 0.5, y: 0.5 } }],
    });
    assert.equal(tooShort.status, 400);
    assert.match(JSON.stringify(await tooShort.json()), /cameras\/1\/lines\/0.*too short/);
  });

  test('a config change through the API applies without a restart and is saved to the file', async () => {
    const r = await t.send('PUT', '/api/v1/cameras/dead', { id: 'dead', url: `rtsp://127.0.0.1:${deadPort}/nothing`, enabled: false });
    assert.equal(r.status, 200);
    const cams = ((await (await t.get('/api/v1/cameras')).json()) as { cameras: { id: string; state: string; enabled: boolean }[] }).cameras;
    assert.equal(cams.find((c) => c.id === 'dead')!.enabled, false);
    assert.equal(cams.find((c) => c.id === 'live')!.state, 'streaming', 'the other camera kept running');
    const saved = parse(readFileSync(t.configPath, 'utf8')) as { cameras: { id: string; enabled: boolean }[] };
    assert.equal(saved.cameras.find((c) => c.id === 'dead')!.enabled, false);
  });

  test('changing only lines keeps the stream running (no reconnect) and the new line is live', async () => {
    const before = (await (await t.get('/api/v1/cameras/live')).json()) as { status: { restarts: number; stateSince: string; framesDecoded: number } };
    const cfg = (await (await t.get('/api/v1/cameras/live/config')).json()) as { lines: unknown[] };
    const r = await t.send('PUT', '/api/v1/cameras/live', { ...cfg, lines: [...cfg.lines, { id: 'l2', from: { x: 0.1, y: 0.8 }, to: { x: 0.9, y: 0.8 } }] });
    assert.equal(r.status, 200);
    const after = (await (await t.get('/api/v1/cameras/live')).json()) as { status: { restarts: number; stateSince: string; framesDecoded: number; state: string }; live: { lines: { lineId: string }[] } };
    assert.equal(after.status.state, 'streaming');
    assert.equal(after.status.restarts, before.status.restarts);
    assert.equal(after.status.stateSince, before.status.stateSince, 'no reconnect');
    assert.ok(after.status.framesDecoded >= before.status.framesDecoded);
    assert.deepEqual(after.live.lines.map((l) => l.lineId), ['l1', 'l2']);
  });

  test('geometry the analytics would refuse is refused at validation, and nothing is saved or applied', async () => {
    const before = readFileSync(t.configPath, 'utf8');
    const cfg = (await (await t.get('/api/v1/cameras/live/config')).json()) as { lines: unknown[] };
    const parallel = await t.send('PUT', '/api/v1/cameras/live', { ...cfg, lines: [{ id: 'p', from: { x: 0.1, y: 0.5 }, to: { x: 0.9, y: 0.5 }, direction: { x: 1, y: 0 } }] });
    assert.equal(parallel.status, 400);
    assert.match(JSON.stringify(await parallel.json()), /lines\/0\/direction.*parallel/);
    const zeroLane = await t.send('PUT', '/api/v1/cameras/live', { ...cfg, zones: [{ id: 'z', kind: 'carriageway', polygon: [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }], laneDirection: { x: 0, y: 0 } }] });
    assert.equal(zeroLane.status, 400);
    assert.match(JSON.stringify(await zeroLane.json()), /zones\/0\/laneDirection/);
    assert.equal(readFileSync(t.configPath, 'utf8'), before, 'file untouched');
    assert.equal(t.app.cameras.get('live')!.status().state, 'streaming');
  });

  test('a second calibration of a running camera is in force at once', async () => {
    const pts = (scale: number) => [
      { image: { x: 10, y: 170 }, ground: { x: 0, y: 0 } },
      { image: { x: 310, y: 170 }, ground: { x: 10 * scale, y: 0 } },
      { image: { x: 250, y: 60 }, ground: { x: 10 * scale, y: 30 * scale } },
      { image: { x: 70, y: 60 }, ground: { x: 0, y: 30 * scale } },
    ];
    const body = (scale: number) => ({ imageSize: { width: 320, height: 180 }, points: pts(scale) });
    assert.equal((await t.send('POST', '/api/v1/cameras/live/calibration', body(1), TOKENS.installer)).status, 200);
    const first = t.app.cameras.get('live')!.calibrationInUse()!.homography;
    assert.equal((await t.send('POST', '/api/v1/cameras/live/calibration', body(2), TOKENS.installer)).status, 200);
    const second = t.app.cameras.get('live')!.calibrationInUse()!.homography;
    assert.notDeepEqual(second, first);
    const bad = await t.send('POST', '/api/v1/cameras/live/calibration', { imageSize: { width: 320, height: 180 }, points: pts(1).map((p, i) => ({ ...p, image: { x: 10 * i, y: 10 * i } })) }, TOKENS.installer);
    assert.equal(bad.status, 400);
    assert.deepEqual(t.app.cameras.get('live')!.calibrationInUse()!.homography, second, 'a refused calibration changes nothing');
  });

  test('SIGHUP with an invalid file keeps the last good config', async () => {
    const good = readFileSync(t.configPath, 'utf8');
    writeFileSync(t.configPath, 'cameras:\n  - id: live\n    url: 42\n');
    assert.equal(await t.app.reload(), false);
    assert.equal(t.app.config.get().cameras.length, 2);
    writeFileSync(t.configPath, good);
    assert.equal(await t.app.reload(), true);
  });
});

describe('start-up refuses bad input with a clear message', () => {
  // `make` exports MODELS_DIR, which wins over the config: these tests point at their own folders.
  let saved: string | undefined;
  before(() => {
    saved = process.env.MODELS_DIR;
    delete process.env.MODELS_DIR;
  });
  after(() => {
    if (saved !== undefined) process.env.MODELS_DIR = saved;
  });

  test('a missing model file names the file and MODELS_DIR', async () => {
    const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'roadside-nomodel-'));
    const cfg = testConfig(dir, []);
    (cfg.models as { dir: string }).dir = dir;
    const path = join(dir, 'c.yaml');
    writeFileSync(path, stringify(cfg));
    // The config names no model: the error names the shipped default's file.
    const model = validateConfig(cfg).detector.model;
    const missing = new RegExp(`${model}.*weight file missing at .*${model}\\.onnx.*MODELS_DIR`);
    await assert.rejects(Appliance.start({ configPath: path, log: pino({ level: 'silent' }) }), missing);
  });

  test('a model file with the wrong checksum is refused', async () => {
    const fs = await import('node:fs');
    const dir = fs.mkdtempSync(join((await import('node:os')).tmpdir(), 'roadside-badmodel-'));
    const cfg = testConfig(dir, []);
    fs.writeFileSync(join(dir, `${validateConfig(cfg).detector.model}.onnx`), 'not a model');
    (cfg.models as { dir: string }).dir = dir;
    const path = join(dir, 'c.yaml');
    writeFileSync(path, stringify(cfg));
    await assert.rejects(Appliance.start({ configPath: path, log: pino({ level: 'silent' }) }), /checksum mismatch/);
  });

  test('an invalid config file lists every error with its path', async () => {
    const fs = await import('node:fs');
    const dir = fs.mkdtempSync(join((await import('node:os')).tmpdir(), 'roadside-badcfg-'));
    const path = join(dir, 'c.yaml');
    writeFileSync(path, 'server:\n  port: 99999\ncameras:\n  - id: a\n    url: ftp://x\n    fps: 0\n');
    await assert.rejects(Appliance.start({ configPath: path, log: pino({ level: 'silent' }) }), (err: Error) => {
      assert.match(err.message, /\/server\/port/);
      assert.match(err.message, /\/cameras\/0\/url/);
      assert.match(err.message, /\/cameras\/0\/fps/);
      return true;
    });
  });
});

describe('auth failures are rate limited per address', () => {
  test('after maxFailures wrong tokens the address gets 429 for guesses while a right token still gets in, and no token is logged', async () => {
    const { Writable } = await import('node:stream');
    let logText = '';
    const sink = new Writable({ write: (c, _e, cb) => ((logText += String(c)), cb()) });
    const t = await startAppliance([], { auth: { tokens: allTokens(), maxFailures: 3, failureWindowSeconds: 60 } }, sink);
    try {
      assert.equal((await t.get('/api/v1/cameras', TOKENS.viewer)).status, 200);
      for (let i = 0; i < 3; i++) assert.equal((await t.get('/api/v1/cameras', `wrong-token-${i}`)).status, 401);
      const blocked = await t.get('/api/v1/cameras', 'wrong-token-3');
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      // The limiter slows guessing; it never blocks valid credentials (issue 14).
      assert.equal((await t.get('/api/v1/cameras', TOKENS.admin)).status, 200);
      assert.match(await t.app.metrics.registry.getSingleMetricAsString('roadside_auth_failures_total'), /roadside_auth_failures_total 3/);
    } finally {
      await t.stop();
    }
    assert.match(logText, /"url":"\/api\/v1\/cameras"/, 'requests are logged');
    for (const secret of [TOKENS.viewer, TOKENS.admin, 'wrong-token-0']) assert.ok(!logText.includes(secret), `token ${secret.slice(0, 8)}… never logged`);
  });
});

describe('TLS and the OpenAPI document', () => {
  test('with a certificate configured the API speaks HTTPS; /docs/json documents the routes', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const { execFileSync } = await import('node:child_process');
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'roadside-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const t = await startAppliance([], { server: { host: '127.0.0.1', port: 0, tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } } });
    try {
      assert.match(t.base, /^https:\/\/127\.0\.0\.1:\d+$/);
      const https = await import('node:https');
      const body = await new Promise<string>((res, rej) => {
        https
          .get(`${t.base}/docs/json`, { ca: fs.readFileSync(join(dir, 'cert.pem')), headers: { authorization: `Bearer ${TOKENS.viewer}` } }, (r) => {
            let s = '';
            r.on('data', (d) => (s += String(d)));
            r.on('end', () => (r.statusCode === 200 ? res(s) : rej(new Error(`status ${r.statusCode}`))));
          })
          .on('error', rej);
      });
      const doc = JSON.parse(body) as { openapi: string; paths: Record<string, unknown> };
      assert.match(doc.openapi, /^3\./);
      for (const p of ['/api/v1/cameras', '/api/v1/cameras/{id}/snapshot.jpg', '/api/v1/events', '/api/v1/events/stream', '/api/v1/counts', '/healthz']) assert.ok(p in doc.paths, `${p} documented`);
      // Plain HTTP on the TLS port is refused.
      await assert.rejects(fetch(t.base.replace('https', 'http') + '/healthz'));
    } finally {
      await t.stop();
    }
  });
});
