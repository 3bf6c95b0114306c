// The appliance as a real process: structured logs with the camera on every camera line, and a
// graceful SIGTERM (stop ingest, close open intervals into the outbox, close the DB) within a bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Outbox } from '../appliance/src/events/index.js';
import { TestRtspServer, freePort, waitFor } from './helpers/rtsp-server.js';
import { testConfig, TOKENS } from './helpers/appliance.js';
import { CLIPS } from './helpers/paths.js';

test('SIGTERM stops the process within the bound, flushing the open count intervals to the outbox', async () => {
  const rtsp = new TestRtspServer(CLIPS.opendatacam);
  const url = await rtsp.start(await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'roadside-life-'));
  const port = await freePort();
  const cfg = testConfig(dir, [{ id: 'cam', url, fps: 5, width: 320, height: 180, lines: [{ id: 'l1', from: { x: 0.17, y: 0.55 }, to: { x: 0.62, y: 0.55 } }] }]);
  (cfg.server as { port: number }).port = port;
  const configPath = join(dir, 'roadside.yaml');
  writeFileSync(configPath, stringify(cfg));
  const child = spawn(process.execPath, ['--import', 'tsx', 'appliance/src/main.ts', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let sigtermAt = 0;
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  try {
    await waitFor(() => out.includes('"frames flowing"'), 40_000, 'camera streaming');
    const cams = (await (await fetch(`http://127.0.0.1:${port}/api/v1/cameras`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } })).json()) as { cameras: { state: string }[] };
    assert.equal(cams.cameras[0]!.state, 'streaming');
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const t0 = Date.now();
    sigtermAt = t0;
    child.kill('SIGTERM');
    const code = await exited;
    const ms = Date.now() - t0;
    assert.equal(code, 0, out.slice(-2000));
    assert.ok(ms < 15_000, `stopped in ${ms} ms`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rtsp.stop();
  }

  const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.length > 5);
  for (const l of lines) assert.equal(typeof l.level, 'number', 'every line is pino JSON');
  const cameraLines = lines.filter((l) => ['camera state', 'stream lost', 'analysis of a frame failed'].includes(String(l.msg)));
  assert.ok(cameraLines.length >= 2);
  for (const l of cameraLines) assert.equal(l.camera, 'cam', `camera id on: ${JSON.stringify(l)}`);
  assert.ok(lines.some((l) => l.msg === 'appliance stopped'), 'shutdown completed, not timed out');
  assert.ok(!out.includes(TOKENS.viewer), 'token never logged');
  // The decoder is said once, with its version: the lean build of `make deps` (docs/ingest.md).
  const decoder = lines.filter((l) => l.msg === 'decoder');
  assert.equal(decoder.length, 1);
  assert.equal(decoder[0]!.from, 'lean');
  assert.match(String(decoder[0]!.ffmpeg), /var\/ffmpeg-lean\/bin\/ffmpeg$/);
  assert.match(String(decoder[0]!.version), /^ffmpeg version \S*roadside-lean/);

  // The interval that was open at SIGTERM reached the outbox before the DB closed.
  const outbox = await Outbox.open({ dir: join(dir, 'data', 'outbox'), sinks: [], retention: { maxAgeMs: 86_400_000, maxEvents: 100_000 } });
  try {
    const page = await outbox.query({ type: 'count.interval', limit: 100 });
    // The interval open at SIGTERM ends at the stop (within the shutdown bound), marked partial.
    const atStop = page.events.filter((e) => {
      const d = e.data as { intervalEnd: string; partial?: boolean };
      const end = Date.parse(d.intervalEnd);
      return d.partial === true && end >= sigtermAt - 1000 && end <= sigtermAt + 15_000;
    });
    // One per bin size (60 s and 900 s by default) for the one line.
    assert.deepEqual(atStop.map((e) => (e.data as { binSeconds: number }).binSeconds).sort((x, y) => x - y), [60, 900], JSON.stringify(page.events.map((e) => e.data)));
    const states = await outbox.query({ type: 'camera.state', limit: 100 });
    assert.ok(states.events.some((e) => (e.data as { state: string }).state === 'stopped'));
  } finally {
    await outbox.close();
  }
});

test('kill -9 of the appliance with events pending: after restart every stored event reaches the webhook', async () => {
  const { WebhookReceiver } = await import('./helpers/webhook-receiver.js');
  const rtsp = new TestRtspServer(CLIPS.opendatacam);
  const url = await rtsp.start(await freePort());
  const receiver = new WebhookReceiver('a-webhook-secret-of-some-length');
  receiver.port = await freePort(); // reserved, not listening yet: the traffic centre is down
  const dir = mkdtempSync(join(tmpdir(), 'roadside-kill-'));
  const port = await freePort();
  const cfg = testConfig(dir, [{ id: 'cam', url, fps: 5, width: 320, height: 180, lines: [{ id: 'l1', from: { x: 0.17, y: 0.55 }, to: { x: 0.62, y: 0.55 } }] }], {
    analytics: { binSeconds: [1] },
    sinks: { webhooks: [{ id: 'centre', url: receiver.url, secret: 'a-webhook-secret-of-some-length', timeoutMs: 1000 }] },
  });
  (cfg.server as { port: number }).port = port;
  const configPath = join(dir, 'roadside.yaml');
  writeFileSync(configPath, stringify(cfg));
  const launch = () => spawn(process.execPath, ['--import', 'tsx', 'appliance/src/main.ts', '--config', configPath], { stdio: ['ignore', 'ignore', 'ignore'] });
  const api = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
  const storedIds = async (): Promise<string[]> => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (await api(`/api/v1/events?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json()) as { events: { id: string }[]; nextCursor: string | null };
      ids.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    return ids;
  };
  let child = launch();
  try {
    let before: string[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 60_000) {
      try {
        before = await storedIds();
        if (before.length >= 8) break;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(before.length >= 8, `events stored before the kill: ${before.length}`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(receiver.acked.length, 0, 'nothing could be delivered while the centre was down');

    await receiver.start();
    child = launch();
    await waitFor(() => {
      const got = new Set(receiver.acked.map((e) => e.id));
      return before.every((id) => got.has(id));
    }, 60_000, 'every event stored before the kill delivered');
    assert.equal(receiver.badSignatures, 0);
    const got = receiver.acked.map((e) => e.id);
    const firstIdx = before.map((id) => got.indexOf(id));
    assert.deepEqual([...firstIdx].sort((a, b) => a - b), firstIdx, 'delivered in the order they were stored');
  } finally {
    child.kill('SIGKILL');
    await receiver.stop();
    await rtsp.stop();
  }
});
