// Versioned config: version + content hash on GET /api/v1/config (credentials redacted), a
// config.applied event for every applied change, the version kept across restarts, and /readyz?gate=cameras
// as the health gate of an A/B update (one live camera from a real RTSP server, one dead camera).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, validateConfig } from '../appliance/src/config/load.js';
import { ConfigStore } from '../appliance/src/config/store.js';
import { canonicalJson, configHash, redactConfig, redactUrl, REDACTED } from '../appliance/src/config/version.js';
import type { ConfigAppliedData } from '../appliance/src/core/event-data.js';
import type { CloudEvent } from '../appliance/src/core/types.js';
import { TestRtspServer, freePort, waitFor } from './helpers/rtsp-server.js';
import { startAppliance, TOKENS, type TestAppliance } from './helpers/appliance.js';
import { CLIPS } from './helpers/paths.js';

const SECRETS = { webhook: 'webhook-hmac-secret-0123456789', mqtt: 'mqtt-password-never-shown', nats: 'nats-token-never-shown', rtsp: 'rtsp-pass-never-shown' };

interface ConfigView {
  version: number;
  hash: string;
  appliedAt: string;
  config: { cameras: { id: string; url: string }[]; sinks: { webhooks: { secret?: string }[] } };
}

describe('versioned config on the running appliance, and the A/B readiness gate', () => {
  let rtsp: TestRtspServer;
  let t: TestAppliance;
  let liveUrl: string;

  const appliedEvents = async (): Promise<CloudEvent<ConfigAppliedData>[]> => {
    const r = await t.get('/api/v1/events?type=config.applied&limit=100', TOKENS.viewer);
    assert.equal(r.status, 200);
    return ((await r.json()) as { events: CloudEvent<ConfigAppliedData>[] }).events;
  };
  const view = async (): Promise<{ body: ConfigView; text: string }> => {
    const r = await t.get('/api/v1/config', TOKENS.viewer);
    assert.equal(r.status, 200);
    const text = await r.text();
    return { body: JSON.parse(text) as ConfigView, text };
  };

  before(async () => {
    rtsp = new TestRtspServer(CLIPS.opendatacam);
    liveUrl = await rtsp.start(await freePort());
    const dead = `rtsp://viewer:${SECRETS.rtsp}@127.0.0.1:${await freePort()}/nothing`;
    t = await startAppliance(
      [
        { id: 'live', url: liveUrl, fps: 5, width: 320, height: 180, stallSeconds: 5 },
        { id: 'dead', url: dead, fps: 5, width: 320, height: 180, stallSeconds: 3 },
      ],
      {
        sinks: {
          webhooks: [{ id: 'hook', url: `http://127.0.0.1:${await freePort()}/in`, secret: SECRETS.webhook }],
          mqtt: [{ id: 'mq', url: `mqtt://127.0.0.1:${await freePort()}`, username: 'box', password: SECRETS.mqtt }],
          nats: [{ id: 'fleet', servers: [`nats://127.0.0.1:${await freePort()}`], stream: 'S', token: SECRETS.nats }],
        },
      },
    );
  });
  after(async () => {
    await t?.stop();
    await rtsp?.stop();
  });

  test('GET /api/v1/config: version 1, the sha256 of the canonical config, every credential redacted', async () => {
    const { body, text } = await view();
    assert.equal(body.version, 1);
    assert.equal(body.hash, configHash(loadConfigFile(t.configPath)));
    assert.match(body.hash, /^[0-9a-f]{64}$/);
    for (const s of Object.values(SECRETS)) assert.ok(!text.includes(s), 'no credential in the answer');
    for (const tok of Object.values(TOKENS)) assert.ok(!text.includes(tok));
    assert.doesNotMatch(text, /"sha256":"[0-9a-f]{64}"/, 'no token hash either');
    assert.equal(body.config.sinks.webhooks[0]!.secret, REDACTED);
    assert.equal(body.config.cameras.find((c) => c.id === 'dead')!.url.split('@')[0], `rtsp://${REDACTED}`);
    assert.equal((await t.get('/api/v1/config', null)).status, 401, 'a token is needed');
  });

  test('a config.applied event announces the start-up config (new to this data dir)', async () => {
    const [e] = await appliedEvents();
    assert.ok(e);
    assert.equal(e.subject, '_appliance');
    assert.equal(e.data.version, 1);
    assert.equal(e.data.source, 'start');
    assert.deepEqual(e.data.cameras, { added: ['dead', 'live'], removed: [], changed: [] });
  });

  test('/readyz?gate=cameras stays 503 while the dead camera has not streamed; plain /readyz is 200', async () => {
    await waitFor(() => !!t.app.cameras.get('live')?.status().lastFrameAt, 40_000, 'live camera streamed');
    assert.equal((await t.get('/readyz', null)).status, 200);
    const r = await t.get('/readyz?gate=cameras', null);
    assert.equal(r.status, 503);
    assert.deepEqual(await r.json(), { ready: false, reasons: ["camera 'dead' has not streamed since start"] });
    assert.equal((await t.get('/readyz?gate=everything', null)).status, 400, 'an unknown gate is refused, not ignored');
  });

  test('a change through the API: version 2, new hash, config.applied naming the camera; the gate opens', async () => {
    const before1 = await view();
    const cam = loadConfigFile(t.configPath).cameras.find((c) => c.id === 'dead')!;
    const put = await t.send('PUT', '/api/v1/cameras/dead', { ...cam, enabled: false });
    assert.equal(put.status, 200);
    const after1 = await view();
    assert.equal(after1.body.version, 2);
    assert.notEqual(after1.body.hash, before1.body.hash);
    assert.equal(after1.body.hash, configHash(loadConfigFile(t.configPath)), 'the hash is that of the saved file');
    const evs = await appliedEvents();
    assert.equal(evs.length, 2);
    const e = evs[1]!;
    assert.deepEqual(
      { version: e.data.version, hash: e.data.hash, previousHash: e.data.previousHash, source: e.data.source, cameras: e.data.cameras, sections: e.data.sections },
      { version: 2, hash: after1.body.hash, previousHash: before1.body.hash, source: 'api', cameras: { added: [], removed: [], changed: ['dead'] }, sections: ['cameras'] },
    );
    const raw = JSON.stringify(evs);
    for (const s of Object.values(SECRETS)) assert.ok(!raw.includes(s), 'no credential in the event');
    const r = await t.get('/readyz?gate=cameras', null);
    assert.deepEqual(await r.json(), { ready: true, reasons: [] }, 'the disabled camera no longer holds the gate');
    assert.equal(r.status, 200);

    // The same camera again: nothing changed, so no new version and no event.
    assert.equal((await t.send('PUT', '/api/v1/cameras/dead', { ...cam, enabled: false })).status, 200);
    assert.equal((await view()).body.version, 2);
    assert.equal((await appliedEvents()).length, 2);
  });
});

describe('config version and hash (pure)', () => {
  const base = () =>
    validateConfig({
      appliance: { id: 'box' },
      sinks: { mqtt: [{ id: 'mq', url: 'mqtt://127.0.0.1:1883', password: 'one' }] },
      cameras: [
        { id: 'a', url: 'rtsp://127.0.0.1/a' },
        { id: 'b', url: 'rtsp://u:p@127.0.0.1/b' },
      ],
    });

  test('the hash covers credentials and ignores key order', () => {
    const c = base();
    const other = base();
    other.sinks.mqtt[0]!.password = 'two';
    assert.notEqual(configHash(c), configHash(other), 'a changed password is a new config');
    const reordered = Object.fromEntries(Object.entries(c).reverse()) as typeof c;
    assert.notEqual(Object.keys(reordered)[0], Object.keys(c)[0], 'really reordered');
    assert.equal(configHash(reordered), configHash(c));
    assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] }), '{"a":[{"c":2,"d":1}],"b":1}');
    assert.equal(redactUrl('rtsp://u:p@host:554/x'), `rtsp://${REDACTED}@host:554/x`);
    assert.equal(redactUrl('rtsp://host/x@y'), 'rtsp://host/x@y');
    const red = redactConfig(c);
    assert.equal(red.sinks.mqtt[0]!.password, REDACTED);
    assert.equal(c.sinks.mqtt[0]!.password, 'one', 'redaction works on a copy');
  });

  test('the version survives a restart and goes up only when the content changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadside-version-'));
    const versionPath = join(dir, 'config-version.json');
    try {
      const seen: ConfigAppliedData[] = [];
      const open = (cfg: ReturnType<typeof base>) => {
        const s = new ConfigStore(cfg, null, async () => {}, { versionPath, onApplied: (c) => seen.push(c) });
        s.announceStart();
        return s;
      };
      assert.equal(open(base()).version.version, 1);
      assert.equal(open(base()).version.version, 1, 'same content after a restart: same version');
      assert.equal(seen.length, 1);
      const changed = base();
      changed.cameras[1]!.fps = 2;
      changed.cameras.push(validateConfig({ cameras: [{ id: 'c', url: 'rtsp://127.0.0.1/c' }] }).cameras[0]!);
      const s = open(changed);
      assert.equal(s.version.version, 2, 'an updated file at start is a new version');
      assert.deepEqual(seen[1]!.cameras, { added: ['c'], removed: [], changed: ['b'] });
      assert.equal(seen[1]!.source, 'start');
      await s.update((d) => {
        d.cameras = d.cameras.filter((c) => c.id !== 'a');
      });
      assert.equal(s.version.version, 3);
      assert.deepEqual(seen[2]!.cameras, { added: [], removed: ['a'], changed: [] });
      assert.equal(seen[2]!.previousHash, seen[1]!.hash);

      // SIGHUP: the file changed on disk → a new version from 'reload'; the same file again → none.
      const file = join(dir, 'roadside.yaml');
      writeFileSync(file, stringify(s.get()));
      const fromFile = new ConfigStore(loadConfigFile(file), file, async () => {}, { versionPath, onApplied: (c) => seen.push(c) });
      assert.equal(fromFile.version.version, 3);
      writeFileSync(file, stringify({ ...s.get(), analytics: { binSeconds: [30] } }));
      await fromFile.reload();
      assert.equal(fromFile.version.version, 4);
      assert.deepEqual([seen[3]!.source, seen[3]!.sections, seen[3]!.cameras.changed], ['reload', ['analytics'], []]);
      await fromFile.reload();
      assert.equal(fromFile.version.version, 4);
      assert.equal(seen.length, 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
