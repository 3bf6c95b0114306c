// Hardening after the outside probe (issue 14), full tier: the real appliance, real ffmpeg against
// dead and hanging addresses on 127.0.0.1, a real kill -9 of a process saving its config, the real
// detector weights.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { fork } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { pino } from 'pino';
import { CameraStream, ConnectGate } from '../appliance/src/ingest/index.js';
import { loadConfigFile } from '../appliance/src/config/load.js';
import { ConfigStore } from '../appliance/src/config/store.js';
import { createDetector } from '../appliance/src/detect/index.js';
import { removeOrtDebugLog } from '../appliance/src/core/leftovers.js';
import type { CameraState } from '../appliance/src/core/types.js';
import { startAppliance, TOKENS } from './helpers/appliance.js';
import { freePort, waitFor } from './helpers/net.js';
import { MANIFEST, MODELS_DIR } from './helpers/paths.js';
import { assertNoLeaks, fill, SECRET_URLS } from './helpers/secret-urls.js';

describe('2. camera credentials never surface: API bodies, logs, metrics, events', () => {
  test('cameras with credentials in every awkward place, all failing to connect', async () => {
    let logText = '';
    const sink = new Writable({ write: (c, _e, cb) => ((logText += String(c)), cb()) });
    const host = `127.0.0.1:${await freePort()}`; // nothing listens: every attempt fails with ffmpeg's error
    const cameras = SECRET_URLS.map((u, i) => ({ id: `c${i}`, url: fill(u.template, host), fps: 5, width: 64, height: 64, stallSeconds: 2 }));
    const t = await startAppliance(cameras, {}, sink);
    try {
      type Cam = { id: string; url: string; restarts: number };
      let list: Cam[] = [];
      await waitFor(() => {
        void t.get('/api/v1/cameras', TOKENS.viewer).then(async (r) => (list = ((await r.json()) as { cameras: Cam[] }).cameras));
        return list.length === cameras.length && list.every((c) => c.restarts >= 1);
      }, 60_000, 'every camera failed once');
      // API bodies (viewer token): the list and each camera.
      SECRET_URLS.forEach((u, i) => assert.equal(list.find((c) => c.id === `c${i}`)?.url, fill(u.safe, host), u.what));
      const bodies = [JSON.stringify(list)];
      for (const c of cameras) bodies.push(await (await t.get(`/api/v1/cameras/${c.id}`, TOKENS.viewer)).text());
      assertNoLeaks(bodies.join('\n'), 'API bodies');
      // Metrics.
      const metrics = await (await t.get('/metrics', TOKENS.metrics)).text();
      assert.match(metrics, /roadside_camera_restarts_total\{camera="c0"\}/);
      assertNoLeaks(metrics, 'metrics');
      // Events: camera.state, as the API serves them and as sinks receive them.
      const events = await (await t.get('/api/v1/events?type=camera.state&limit=1000', TOKENS.viewer)).text();
      assert.match(events, /"org\.roadside\.camera\.state"/);
      assertNoLeaks(events, 'camera.state events');
    } finally {
      await t.stop();
    }
    // Logs: the "stream lost" lines carry ffmpeg's stderr, which quotes the URL.
    const lost = logText.split('\n').filter((l) => l.includes('"msg":"stream lost"'));
    assert.ok(lost.length >= cameras.length, `stream lost lines: ${lost.length}`);
    assert.ok(lost.some((l) => /"stderr":"[^"]*(refused|Invalid argument|Port missing)/.test(l)), 'ffmpeg stderr is in the log');
    assert.ok(lost.some((l) => l.includes('***@127.0.0.1')), 'the redacted URL is in the log');
    assertNoLeaks(logText, 'logs');
  });
});

/** ffmpeg processes that are children of this process, with their command lines. */
function ffmpegChildren(): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(readFileSync(`/proc/${d}/stat`, 'utf8'));
      if (m && m[1] === 'ffmpeg' && Number(m[2]) === process.pid) out.push({ pid: Number(d), cmdline: readFileSync(`/proc/${d}/cmdline`, 'utf8') });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** A TCP server that accepts and never answers: ffmpeg hangs in the RTSP handshake until its timeout. */
async function hangingServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as { port: number }).port,
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), srv.close(() => r()))),
  };
}

describe('6. cameras that cannot connect hold no ffmpeg process while they back off', () => {
  test('dead and hanging addresses: never more ffmpeg processes than the gate allows, none during a backoff', async () => {
    const hang = await hangingServer();
    const deadPort = await freePort();
    const gate = new ConnectGate(2);
    const urls = [0, 1, 2, 3, 4].map((i) => (i < 3 ? `rtsp://127.0.0.1:${hang.port}/hang${i}` : `rtsp://127.0.0.1:${deadPort}/dead${i}`));
    const backoffs = urls.map(() => 0);
    const streams = urls.map(
      (url, i) =>
        new CameraStream({
          cameraId: `d${i}`,
          url,
          fps: 5,
          width: 64,
          height: 64,
          stallSeconds: 1, // ffmpeg's socket timeout is then 2 s
          backoff: { initialMs: 200, maxMs: 800 },
          gate,
          log: pino({ level: 'silent' }),
          onFrame: () => {},
          onState: (s: CameraState) => void (s === 'backoff' && backoffs[i]!++),
        }),
    );
    let maxAlive = 0;
    let samples = 0;
    let inBackoff = 0;
    try {
      streams.forEach((s) => s.start());
      const t0 = Date.now();
      while (Date.now() - t0 < 9000) {
        const before = streams.map((s) => s.status());
        const alive = ffmpegChildren();
        const after = streams.map((s) => s.status());
        maxAlive = Math.max(maxAlive, alive.length);
        samples++;
        streams.forEach((_, i) => {
          // Only a camera that stayed in the same backoff across the scan counts (no relaunch meanwhile).
          if (before[i]!.state !== 'backoff' || after[i]!.state !== 'backoff' || before[i]!.since !== after[i]!.since) return;
          inBackoff++;
          const own = alive.filter((p) => p.cmdline.includes(urls[i]!));
          assert.deepEqual(own, [], `camera d${i} holds ffmpeg ${own.map((p) => p.pid).join(',')} while backing off`);
        });
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await Promise.all(streams.map((s) => s.stop()));
      await hang.close();
    }
    assert.ok(maxAlive <= 2, `at most 2 ffmpeg processes at once, saw ${maxAlive}`);
    assert.ok(maxAlive >= 1, 'ffmpeg did run');
    assert.ok(inBackoff > 0 && samples > 20, `sampled backoffs: ${inBackoff} of ${samples} samples`);
    // Every camera got its turns: none starved behind the hanging ones.
    backoffs.forEach((n, i) => assert.ok(n >= 1, `camera d${i} attempted and backed off (${n})`));
    assert.deepEqual(ffmpegChildren(), [], 'no ffmpeg left after stop');
  });
});

describe('7. leftovers: temp files of a killed config save, onnxruntime debug logs', () => {
  test('kill -9 during a config save leaves roadside.yaml.tmp-<pid>; the next store removes it (only its own, safely)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadside-kill9-'));
    const path = join(dir, 'roadside.yaml');
    writeFileSync(path, stringify({ appliance: { id: 'box' }, cameras: [{ id: 'c1', url: 'rtsp://admin:secret@127.0.0.1/x' }] }));
    try {
      let leftover: string | null = null;
      for (let attempt = 0; attempt < 5 && !leftover; attempt++) {
        const child = fork('test/helpers/config-save-loop.ts', [path], { execArgv: ['--import', 'tsx'], stdio: 'ignore' });
        const tmp = `roadside.yaml.tmp-${child.pid}`;
        const w = watch(dir, (_e, name) => void (name === tmp && child.kill('SIGKILL')));
        const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await new Promise((r) => child.once('exit', r));
        clearTimeout(killer);
        w.close();
        if (existsSync(join(dir, tmp))) leftover = join(dir, tmp);
      }
      assert.ok(leftover, 'a save killed with -9 left its temp file');
      assert.equal(lstatSync(leftover).mode & 0o777, 0o600);
      // Things that are not a stale temp file of ours, which must stay.
      const keep = [
        join(dir, 'roadside.yaml.tmp-1'), // pid 1 is alive: it may be saving right now
        join(dir, 'other.yaml.tmp-999999'),
        join(dir, 'roadside.yaml.tmp-12ab'),
      ];
      for (const k of keep) writeFileSync(k, 'x');
      const target = join(dir, 'target.txt');
      writeFileSync(target, 'not ours');
      const link = join(dir, 'roadside.yaml.tmp-999998');
      symlinkSync(target, link);

      const store = new ConfigStore(loadConfigFile(path), path, async () => {});
      assert.deepEqual(store.removedTempFiles, [leftover]);
      assert.ok(!existsSync(leftover), 'stale temp file removed at start-up');
      for (const k of keep) assert.ok(existsSync(k), `${k} kept`);
      assert.ok(lstatSync(link).isSymbolicLink() && readFileSync(target, 'utf8') === 'not ours', 'a link is neither followed nor removed');
      // The store still saves atomically after the clean-up.
      await store.update((d) => void (d.appliance.site = 'after'));
      assert.match(readFileSync(path, 'utf8'), /site: after/);
      assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('roadside.yaml.tmp-') && !keep.includes(join(dir, n)) && join(dir, n) !== link), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("onnxruntime's empty /tmp/mat-debug-<pid>.log is removed once the detector's session exists", async () => {
    const file = join(tmpdir(), `mat-debug-${process.pid}.log`);
    const detector = await createDetector({ backend: 'onnx-cpu', model: 'yolox_nano', modelsDir: MODELS_DIR, manifestPath: MANIFEST, scoreThreshold: 0.3, nmsIou: 0.45, threads: 1 });
    try {
      assert.ok(!existsSync(file), `${file} removed`);
    } finally {
      await detector.close();
    }
  });

  test('the debug-log clean-up removes only an empty regular file of our pid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadside-matdebug-'));
    try {
      writeFileSync(join(dir, 'mat-debug-101.log'), '');
      writeFileSync(join(dir, 'mat-debug-102.log'), 'someone wrote here');
      symlinkSync(join(dir, 'mat-debug-101.log'), join(dir, 'mat-debug-103.log'));
      assert.equal(removeOrtDebugLog(dir, 102), false, 'not empty: kept');
      assert.equal(removeOrtDebugLog(dir, 103), false, 'a link: kept');
      assert.equal(removeOrtDebugLog(dir, 104), false, 'absent: nothing to do');
      assert.equal(removeOrtDebugLog(dir, 101), true);
      assert.deepEqual(readdirSync(dir).sort(), ['mat-debug-102.log', 'mat-debug-103.log']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
