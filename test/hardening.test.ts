// Hardening after the outside probe (issue 14), unit tier: the real API built in-process and driven
// with fastify inject(), the real config validation, the real redaction. No servers, no ffmpeg.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, validateConfig, type ConfigIssue } from '../appliance/src/config/load.js';
import { forbiddenTarget } from '../appliance/src/config/targets.js';
import { redactQuery, redactUrl, safeUrl } from '../appliance/src/core/redact.js';
import { ConnectGate, StderrTail } from '../appliance/src/ingest/index.js';
import { fill, leaks, SECRET_URLS } from './helpers/secret-urls.js';
import type { Config } from '../appliance/src/config/schema.js';
import { allTokens, TOKENS } from './helpers/appliance.js';
import { testApi, type TestApi } from './helpers/api.js';

/** The real API (test/helpers/api.ts) with the real config store in memory and auth, logging at debug. */
const unitApi = (raw: Record<string, unknown> = {}): Promise<TestApi> => testApi({ config: raw, logLevel: 'debug' });

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const basic = (t: string) => ({ authorization: `Basic ${Buffer.from(`installer:${t}`).toString('base64')}` });

describe('1. the failure limiter slows guessing and never blocks a valid token', () => {
  test('after 100 failed or anonymous requests from one address a valid token still succeeds; guessing stays throttled', async () => {
    const api = await unitApi({ auth: { tokens: allTokens(), maxFailures: 10, failureWindowSeconds: 60 } });
    try {
      for (let i = 0; i < 100; i++) {
        const kind = i % 4;
        const res =
          kind === 0 ? await api.app.inject({ url: '/ui/' })
          : kind === 1 ? await api.app.inject({ url: '/favicon.ico' })
          : kind === 2 ? await api.app.inject({ url: '/api/v1/cameras', headers: bearer(`wrong-${i}`) })
          : await api.app.inject({ url: '/ui/', headers: basic(`wrong-${i}`) });
        assert.ok([401, 429].includes(res.statusCode), `request ${i}: ${res.statusCode}`);
      }
      for (const [token, path] of [[TOKENS.admin, '/api/v1/cameras'], [TOKENS.viewer, '/api/v1/cameras'], [TOKENS.metrics, '/metrics']] as const) {
        const ok = await api.app.inject({ url: path, headers: bearer(token) });
        assert.equal(ok.statusCode, 200, `${path} with a valid token after 100 failures`);
      }
      assert.equal((await api.app.inject({ url: '/ui/', headers: basic(TOKENS.installer) })).statusCode, 200, 'Basic with a valid token');
      // Guessing is still throttled: a wrong token gets 429 with Retry-After.
      const guess = await api.app.inject({ url: '/api/v1/cameras', headers: bearer('yet-another-guess') });
      assert.equal(guess.statusCode, 429);
      assert.equal(guess.json().code, 'ROADSIDE_ERR_RATE_LIMITED');
      assert.ok(Number(guess.headers['retry-after']) > 0);
      // A valid token with too small a role is a 403, not a 429: the limiter does not decide for it.
      assert.equal((await api.app.inject({ url: '/metrics', headers: bearer(TOKENS.viewer) })).statusCode, 403);
    } finally {
      await api.close();
    }
  });

  test('requests without credentials get the Basic challenge and are not counted as guesses', async () => {
    const api = await unitApi({ auth: { tokens: allTokens(), maxFailures: 3, failureWindowSeconds: 60 } });
    try {
      for (let i = 0; i < 20; i++) {
        const res = await api.app.inject({ url: i % 2 ? '/ui/' : '/favicon.ico' });
        assert.equal(res.statusCode, 401);
        assert.match(String(res.headers['www-authenticate']), /^Basic realm="roadside"/);
      }
      // Three guesses are allowed before the limit, so anonymous requests did not use them up.
      for (let i = 0; i < 3; i++) assert.equal((await api.app.inject({ url: '/api/v1/cameras', headers: bearer(`guess-${i}`) })).statusCode, 401, `guess ${i}`);
      assert.equal((await api.app.inject({ url: '/api/v1/cameras', headers: bearer('guess-4') })).statusCode, 429);
    } finally {
      await api.close();
    }
  });
});

describe('3. a token in the query string is never logged', () => {
  test('request logs carry the path and the query with credential values masked; 404s do not echo the query', async () => {
    const api = await unitApi();
    const secret = 'query-token-0123456789abcdef';
    try {
      assert.equal((await api.app.inject({ url: `/api/v1/cameras?token=${secret}` })).statusCode, 401);
      assert.equal((await api.app.inject({ url: `/api/v1/cameras?limit=5&access_token=${secret}`, headers: bearer(TOKENS.viewer) })).statusCode, 200);
      const nf = await api.app.inject({ url: `/nowhere?token=${secret}`, headers: bearer(TOKENS.viewer) });
      assert.equal(nf.statusCode, 404);
      assert.equal(nf.json().code, 'ROADSIDE_ERR_NOT_FOUND');
      assert.ok(!nf.body.includes(secret), '404 body does not echo the query');
      const log = api.logText();
      assert.match(log, /"url":"\/api\/v1\/cameras\?token=\*\*\*"/, 'the request is logged, its token masked');
      assert.match(log, /limit=5&access_token=\*\*\*/);
      assert.ok(!log.includes(secret), 'the query token is in no log line');
    } finally {
      await api.close();
    }
  });

  test('redactQuery masks credential-like parameters only', () => {
    assert.equal(redactQuery('/a?token=x&limit=5&Api_Key=y&PASSWORD=z#f'), '/a?token=***&limit=5&Api_Key=***&PASSWORD=***#f');
    assert.equal(redactQuery('/api/v1/events?camera=cam1&cursor=abc'), '/api/v1/events?camera=cam1&cursor=abc');
  });
});

/** The issues of a refused config, or a failed assertion when it was accepted. */
function refused(raw: unknown, baseDir?: string): ConfigIssue[] {
  try {
    validateConfig(raw, 'test', { baseDir });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  assert.fail(`accepted: ${JSON.stringify(raw).slice(0, 200)}`);
}

const cam = (extra: Record<string, unknown> = {}) => ({ id: 'c1', url: 'rtsp://127.0.0.1/x', ...extra });
const square = (n = 4) => Array.from({ length: n }, (_, i) => ({ x: 0.5 + 0.4 * Math.cos((2 * Math.PI * i) / n), y: 0.5 + 0.4 * Math.sin((2 * Math.PI * i) / n) }));

describe('4. sinks to link-local and cloud-metadata addresses are refused unless allowed', () => {
  const forbidden = [
    'http://169.254.169.254/latest/meta-data/',
    'http://169.254.0.1:8080/x',
    'http://0xa9fea9fe/',
    'http://2852039166/',
    'http://[fe80::1]/',
    'http://[fd00:ec2::254]/',
    'http://[::ffff:169.254.169.254]/',
    'http://100.100.100.200/latest/meta-data',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://METADATA.google.internal./',
    'http://0.0.0.0:8080/',
  ];
  for (const url of forbidden) {
    test(`webhook ${url}`, () => {
      const issues = refused({ sinks: { webhooks: [{ id: 'w', url }] } });
      assert.deepEqual(issues.map((i) => [i.path, i.code]), [['/sinks/webhooks/0/url', 'ROADSIDE_ERR_SINK_TARGET_FORBIDDEN']]);
      assert.match(issues[0]!.message, /allowInternalTargets/);
      assert.doesNotThrow(() => validateConfig({ sinks: { webhooks: [{ id: 'w', url, allowInternalTargets: true }] } }));
    });
  }
  for (const url of ['mqtt://169.254.169.254', 'mqtts://[fd00:ec2::254]:8883', 'mqtt://0xa9fea9fe:1883', 'ws://metadata.google.internal/mqtt', 'tcp://100.100.100.200']) {
    test(`mqtt ${url}`, () => {
      const issues = refused({ sinks: { mqtt: [{ id: 'm', url }] } });
      assert.deepEqual(issues.map((i) => [i.path, i.code]), [['/sinks/mqtt/0/url', 'ROADSIDE_ERR_SINK_TARGET_FORBIDDEN']]);
      assert.doesNotThrow(() => validateConfig({ sinks: { mqtt: [{ id: 'm', url, allowInternalTargets: true }] } }));
    });
  }
  test('loopback, private LAN and public names stay allowed', () => {
    for (const url of ['http://127.0.0.1:9000/in', 'http://[::1]:9000/', 'http://10.1.2.3/', 'https://ingest.example.org/events', 'mqtt://192.168.1.10', 'mqtt://localhost:1883'])
      assert.equal(forbiddenTarget(url), null, url);
    assert.doesNotThrow(() => validateConfig({ sinks: { webhooks: [{ id: 'w', url: 'http://127.0.0.1:9/x' }], mqtt: [{ id: 'm', url: 'mqtt://127.0.0.1:1883' }] } }));
  });
});

describe('5. a camera calibration path stays inside the config or data folder', () => {
  const base = '/srv/roadside/etc';
  for (const calibration of ['../../../../../etc/x.calibration.json', '/etc/x.calibration.json', 'cal/../../x.calibration.json', '/srv/roadside/etcx/a.calibration.json']) {
    test(`refused: ${calibration}`, () => {
      const issues = refused({ cameras: [cam({ calibration })] }, base);
      assert.deepEqual(issues.map((i) => [i.path, i.code]), [['/cameras/0/calibration', 'ROADSIDE_ERR_PATH_OUTSIDE']]);
    });
  }
  test('inside the config folder or storage.dataDir (relative or absolute) is accepted', () => {
    for (const calibration of ['c1.calibration.json', 'cal/c1.calibration.json', '/srv/roadside/etc/c1.calibration.json', '/var/lib/roadside/calibration/c1.calibration.json'])
      assert.doesNotThrow(() => validateConfig({ storage: { dataDir: '/var/lib/roadside' }, cameras: [cam({ calibration })] }, 'test', { baseDir: base }), calibration);
  });
  test('through the API too: the store validates against its file folder', async () => {
    const api = await unitApi();
    try {
      const res = await api.app.inject({ method: 'POST', url: '/api/v1/cameras', headers: bearer(TOKENS.admin), payload: cam({ calibration: '../../../../../etc/x.calibration.json' }) });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'ROADSIDE_ERR_CONFIG_INVALID');
      assert.deepEqual(res.json().issues.map((i: ConfigIssue) => [i.path, i.code]), [['/cameras/0/calibration', 'ROADSIDE_ERR_PATH_OUTSIDE']]);
      assert.equal(api.store.get().cameras.length, 0, 'nothing saved');
    } finally {
      await api.close();
    }
  });
});

describe('6. limits on cameras, lines, zones and polygon points', () => {
  const line = (i: number) => ({ id: `l${i}`, from: { x: 0.1, y: 0.2 + (i % 50) * 0.01 }, to: { x: 0.9, y: 0.2 + (i % 50) * 0.01 } });
  const zone = (i: number, points = 4) => ({ id: `z${i}`, polygon: square(points) });
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['33 cameras (default 32)', { cameras: Array.from({ length: 33 }, (_, i) => cam({ id: `c${i}` })) }, '/cameras', 'maxCameras'],
    ['65 lines (default 64)', { cameras: [cam({ lines: Array.from({ length: 65 }, (_, i) => line(i)) })] }, '/cameras/0/lines', 'maxLinesPerCamera'],
    ['10,000 zones (default 64)', { cameras: [cam({ zones: Array.from({ length: 10_000 }, (_, i) => zone(i)) })] }, '/cameras/0/zones', 'maxZonesPerCamera'],
    ['65 polygon points (default 64)', { cameras: [cam({ zones: [zone(0, 65)] })] }, '/cameras/0/zones/0/polygon', 'maxPointsPerPolygon'],
    ['3 zones with limits.maxZonesPerCamera 2', { limits: { maxZonesPerCamera: 2 }, cameras: [cam({ zones: [zone(0), zone(1), zone(2)] })] }, '/cameras/0/zones', 'maxZonesPerCamera'],
  ];
  for (const [what, raw, path, key] of cases) {
    test(`refused: ${what}`, () => {
      const issues = refused(raw);
      assert.deepEqual(issues.map((i) => [i.path, i.code]), [[path, 'ROADSIDE_ERR_LIMIT_EXCEEDED']]);
      assert.match(issues[0]!.message, new RegExp(`limits\\.${key}`));
    });
  }
  test('at the limit is accepted, and the limits are configurable upwards', () => {
    assert.doesNotThrow(() => validateConfig({ cameras: [cam({ lines: Array.from({ length: 64 }, (_, i) => line(i)), zones: [zone(0, 64)] })] }));
    assert.doesNotThrow(() => validateConfig({ limits: { maxCameras: 40 }, cameras: Array.from({ length: 40 }, (_, i) => cam({ id: `c${i}` })) }));
  });
  test('through the API: 65 zones on a camera is a 400 naming the field; the running config is unchanged', async () => {
    const api = await unitApi();
    try {
      const res = await api.app.inject({ method: 'POST', url: '/api/v1/cameras', headers: bearer(TOKENS.admin), payload: cam({ zones: Array.from({ length: 65 }, (_, i) => zone(i)) }) });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json().issues.map((i: ConfigIssue) => [i.path, i.code]), [['/cameras/0/zones', 'ROADSIDE_ERR_LIMIT_EXCEEDED']]);
      assert.equal(api.store.get().cameras.length, 0);
    } finally {
      await api.close();
    }
  });
});

describe('8. no type coercion: the config file and the API agree', () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ['"5" for an integer', { width: '640' }, '/width'],
    ['"5" for a number', { fps: '5' }, '/fps'],
    ['["url"] for a string', { url: ['rtsp://127.0.0.1/x'] }, '/url'],
    ['"true" for a boolean', { enabled: 'true' }, '/enabled'],
  ];
  for (const [what, field, path] of bad) {
    test(`${what} is refused by the config file path and by the API`, async () => {
      const issues = refused({ cameras: [{ ...cam(), ...field }] });
      assert.ok(issues.some((i) => i.path === `/cameras/0${path}`), `config issues ${JSON.stringify(issues)}`);
      const api = await unitApi();
      try {
        const res = await api.app.inject({ method: 'POST', url: '/api/v1/cameras', headers: bearer(TOKENS.admin), payload: { ...cam(), ...field } });
        assert.equal(res.statusCode, 400);
        assert.equal(res.json().code, 'ROADSIDE_ERR_REQUEST_INVALID');
        assert.ok(res.json().issues.some((i: ConfigIssue) => i.path === path), `API issues ${JSON.stringify(res.json().issues)}`);
        assert.equal(api.store.get().cameras.length, 0);
      } finally {
        await api.close();
      }
    });
  }
  test('a typed body is accepted; query strings are still read as numbers (they are text by nature)', async () => {
    const api = await unitApi();
    try {
      const ok = await api.app.inject({ method: 'POST', url: '/api/v1/cameras', headers: bearer(TOKENS.admin), payload: cam({ width: 640 }) });
      assert.equal(ok.statusCode, 201);
      assert.equal((api.store.get() as Config).cameras[0]!.width, 640);
      assert.equal((await api.app.inject({ url: '/api/v1/events?limit=5', headers: bearer(TOKENS.viewer) })).statusCode, 200);
      const bad = await api.app.inject({ url: '/api/v1/events?limit=five', headers: bearer(TOKENS.viewer) });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'ROADSIDE_ERR_REQUEST_INVALID');
    } finally {
      await api.close();
    }
  });
});

describe('2. camera credentials are redacted everywhere a URL can surface (unit: the redaction itself)', () => {
  const host = '10.0.0.5:554';
  /** The secret parts of a URL: userinfo (to the last '@') and credential query values. */
  const secretsOf = (url: string): string[] => {
    const rest = url.slice(url.indexOf('://') + 3);
    const at = rest.lastIndexOf('@');
    const out = at >= 0 ? [rest.slice(0, at)] : [];
    for (const m of rest.matchAll(/[?&](\w+)=([^&]*)/g)) if (/user|pass|pwd|token|key|auth|secret/i.test(m[1]!)) out.push(m[2]!);
    return out;
  };
  /** 3-character pieces of a secret found in `out` that the non-secret text of `input` does not explain. */
  const leaked = (out: string, input: string, url: string): string[] => {
    const secrets = secretsOf(url);
    let innocent = input;
    for (const s of secrets) innocent = innocent.split(s).join('\u0000');
    const hits: string[] = [];
    for (const s of secrets) for (let i = 0; i + 3 <= s.length; i++) {
      const piece = s.slice(i, i + 3);
      if (piece !== '***' && out.includes(piece) && !innocent.includes(piece) && !'rtsp://***@'.includes(piece)) hits.push(piece);
    }
    return hits;
  };

  for (const u of SECRET_URLS) {
    const url = fill(u.template, host);
    test(`${u.what}: safeUrl, whole lines and lines cut at every position`, () => {
      assert.equal(safeUrl(url), fill(u.safe, host));
      const stderr = `[rtsp @ 0x55d0] method DESCRIBE failed: 401 Unauthorized\n${url}: Server returned 401 Unauthorized (authorization failed)\n`;
      assert.deepEqual(leaks(redactUrl(stderr, url)), []);
      for (let c = 1; c < stderr.length - 1; c++) {
        // A chunk boundary of the pipe: lines are whole again before redaction.
        const chunked = new StderrTail(url, 10_000);
        chunked.push(stderr.slice(0, c));
        chunked.push(stderr.slice(c));
        assert.deepEqual(leaks(chunked.text()), [], `pipe cut at ${c}`);
        // A line cut for good (over maxLine): each piece is redacted as a line of its own.
        const cut = new StderrTail(url, 10_000, c);
        cut.push(stderr.slice(0, c + 1));
        cut.push(stderr.slice(c + 1));
        const text = cut.text();
        assert.deepEqual(leaks(text), [], `line cut at ${c + 1}: ${JSON.stringify(text)}`);
        assert.deepEqual(leaked(text, stderr, url), [], `line cut at ${c + 1}: ${JSON.stringify(text)}`);
        // Any piece of a line on its own (ffmpeg's own truncation, a log viewer's cut).
        for (const piece of [stderr.slice(0, c), stderr.slice(c)]) assert.deepEqual(leaked(redactUrl(piece, url), piece, url), [], `piece ${JSON.stringify(piece)}`);
      }
    });
  }

  test('other schemes and a URL quoted inside text are redacted too; a URL without credentials is unchanged', () => {
    assert.equal(safeUrl('mqtt://u:p w@broker:1883'), 'mqtt://***@broker:1883');
    assert.equal(redactUrl('failed: http://a:b@c/x and rtsp://q:r@s/t', 'rtsp://nothing/x'), 'failed: http://***@c/x and rtsp://***@s/t');
    assert.equal(safeUrl('rtsp://10.0.0.5:554/stream?channel=1&subtype=0'), 'rtsp://10.0.0.5:554/stream?channel=1&subtype=0');
  });
});

describe('6. the connect gate (pure logic)', () => {
  test('at most `limit` hold a slot; waiters go first come, first served; release and cancel are idempotent', () => {
    const gate = new ConnectGate(2);
    const order: string[] = [];
    const handles = new Map<string, () => void>();
    for (const id of ['a', 'b', 'c', 'd', 'e']) handles.set(id, gate.acquire(() => void order.push(id)));
    assert.deepEqual(order, ['a', 'b']);
    assert.equal(gate.connecting, 2);
    handles.get('d')!(); // d gives up its place in the queue
    handles.get('a')!();
    handles.get('a')!(); // twice: still one slot freed
    assert.deepEqual(order, ['a', 'b', 'c']);
    assert.equal(gate.connecting, 2);
    handles.get('b')!();
    assert.deepEqual(order, ['a', 'b', 'c', 'e']);
    gate.setLimit(1);
    handles.get('c')!();
    handles.get('e')!();
    assert.equal(gate.connecting, 0);
  });
});
