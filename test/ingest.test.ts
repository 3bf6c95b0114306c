import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { Writable } from 'node:stream';
import { CameraStream, backoffDelay, FrameAssembler, ffmpegArgs, ffmpegVersion, leanFfmpegPath, redactUrl, resolveFfmpeg, safeUrl } from '../appliance/src/ingest/index.js';
import type { CameraState, Frame } from '../appliance/src/core/types.js';
import { TestRtspServer, freePort, waitFor } from './helpers/rtsp-server.js';
import { CLIPS } from './helpers/paths.js';

const log = pino({ level: process.env.TEST_LOG ?? 'silent' });

describe('ingest units', () => {
  test('FrameAssembler emits whole frames whatever the chunking', () => {
    const frames: Buffer[] = [];
    const a = new FrameAssembler(6);
    a.push(Buffer.from([1, 2, 3, 4]), (f) => frames.push(f));
    a.push(Buffer.from([5, 6, 7, 8, 9, 10, 11, 12, 13]), (f) => frames.push(f));
    assert.deepEqual(frames.map((f) => [...f]), [
      [1, 2, 3, 4, 5, 6],
      [7, 8, 9, 10, 11, 12],
    ]);
  });

  test('backoff grows exponentially, is capped, and is jittered', () => {
    const p = { initialMs: 500, maxMs: 8000 };
    assert.equal(backoffDelay(0, p, () => 0), 250);
    assert.equal(backoffDelay(0, p, () => 1), 500);
    assert.equal(backoffDelay(3, p, () => 1), 4000);
    assert.equal(backoffDelay(10, p, () => 1), 8000);
    assert.equal(backoffDelay(10, p, () => 0), 4000);
  });

  test('ffmpeg args pull RTSP over TCP with a socket timeout and fast scaling', () => {
    const args = ffmpegArgs({ url: 'rtsp://h/x', fps: 5, width: 320, height: 180, socketTimeoutMs: 5000 });
    const s = args.join(' ');
    assert.match(s, /-rtsp_transport tcp/);
    assert.match(s, /-timeout 5000000/);
    assert.match(s, /fps=5,scale=320:180:flags=fast_bilinear/);
    assert.match(s, /-pix_fmt rgb24 pipe:1/);
  });

  test('ffmpeg decodes cheaply: one decoder and one filter thread, a small probe; CUDA decode on request', () => {
    const lean = ffmpegArgs({ url: 'rtsp://h/x', fps: 5, width: 640, height: 360, socketTimeoutMs: 5000 }).join(' ');
    assert.match(lean, /-threads 1 -i rtsp:\/\/h\/x/);
    assert.match(lean, /-filter_threads 1/);
    assert.match(lean, /-probesize 500000 -analyzeduration 1000000/);
    assert.doesNotMatch(lean, /hwaccel/);
    const gpu = ffmpegArgs({ url: 'rtsp://h/x', fps: 5, width: 640, height: 360, socketTimeoutMs: 5000, hwaccel: 'cuda', decodeThreads: 2 }).join(' ');
    assert.match(gpu, /-hwaccel cuda -threads 2 -i rtsp:\/\/h\/x/);
  });

  test('credentials in camera URLs never reach a log line', () => {
    const url = 'rtsp://admin:hunter2@10.0.0.5/stream';
    assert.equal(redactUrl(`${url}: Connection refused`, url), 'rtsp://***@10.0.0.5/stream: Connection refused');
    const at = 'rtsp://admin:p@ss@10.0.0.5/stream';
    assert.equal(safeUrl(at), 'rtsp://***@10.0.0.5/stream');
    // A log tail cut in the middle of the URL still carries no part of the password.
    assert.doesNotMatch(redactUrl('in:p@ss@10.0.0.5:554/stream: 401', at), /p@ss/);
  });
});

describe('ingest against a real RTSP server on 127.0.0.1', () => {
  const servers: TestRtspServer[] = [];
  const streams: CameraStream[] = [];
  after(async () => {
    await Promise.all(streams.map((s) => s.stop()));
    await Promise.all(servers.map((s) => s.stop()));
  });

  function camera(url: string, frames: Frame[], states: CameraState[], stallSeconds = 3): CameraStream {
    const s = new CameraStream({
      cameraId: 'cam1',
      url,
      fps: 5,
      width: 160,
      height: 90,
      stallSeconds,
      backoff: { initialMs: 200, maxMs: 1000 },
      killGraceMs: 500,
      log,
      onFrame: (f) => frames.push(f),
      onState: (st) => states.push(st),
    });
    streams.push(s);
    return s;
  }

  test('frames flow, the stream drops and comes back, frames flow again', async () => {
    const server = new TestRtspServer(CLIPS.opendatacam);
    servers.push(server);
    const url = await server.start(await freePort());
    const frames: Frame[] = [];
    const states: CameraState[] = [];
    const cam = camera(url, frames, states);
    cam.start();
    await waitFor(() => frames.length >= 5, 20_000, 'first frames');
    const f = frames[0]!;
    assert.equal(f.data.length, 160 * 90 * 3);
    assert.equal(f.cameraId, 'cam1');
    assert.ok(frames[4]!.seq > frames[0]!.seq);
    assert.equal(cam.status().state, 'streaming');
    // Capture times: past the burst of the first second (ffmpeg's probe), on the 5 fps grid (200 ms apart,
    // give or take a frame that came earlier than any before it), never after the frame was read.
    await waitFor(() => frames.length >= 15, 20_000, 'frames past the first second');
    for (let i = 10; i < 15; i++) {
      const step = frames[i]!.timestampMs - frames[i - 1]!.timestampMs;
      assert.ok(step >= 180 && step <= 201, `step ${step} ms`);
    }
    assert.ok(frames[14]!.timestampMs <= Date.now());

    await server.stop();
    await waitFor(() => cam.status().state === 'backoff' || cam.status().state === 'connecting', 10_000, 'stream lost');
    await server.start();
    const before = frames.length;
    const recoveredMs = await waitFor(() => frames.length >= before + 5, 25_000, 'frames after restart');
    assert.ok(recoveredMs < 25_000);
    assert.ok(cam.status().restarts >= 1, 'a restart was counted');
    assert.ok(states.includes('backoff'));
    assert.equal(cam.status().state, 'streaming');
  });

  test('a frozen server (SIGSTOP) is detected by the watchdog and recovered', async () => {
    const server = new TestRtspServer(CLIPS.opendatacam, '/frozen');
    servers.push(server);
    const url = await server.start(await freePort());
    const frames: Frame[] = [];
    const states: CameraState[] = [];
    const cam = camera(url, frames, states, 2);
    cam.start();
    await waitFor(() => frames.length >= 3, 20_000, 'first frames');
    const restartsBefore = cam.status().restarts;
    server.freeze();
    await waitFor(() => states.includes('stalled'), 8_000, 'watchdog to call the stream stalled');
    server.thaw();
    const before = frames.length;
    await waitFor(() => frames.length >= before + 5, 30_000, 'frames after thaw');
    assert.ok(cam.status().restarts > restartsBefore, 'ffmpeg was restarted by the watchdog');
    assert.equal(cam.status().state, 'streaming');
  });

  test('the lean decoder of `make deps` is the default, and it streams the camera', async () => {
    const lean = leanFfmpegPath();
    assert.ok(lean, 'make deps builds var/ffmpeg-lean/bin/ffmpeg');
    assert.deepEqual(resolveFfmpeg('none', {}), { path: lean, from: 'lean' });
    assert.deepEqual(resolveFfmpeg('none', { ROADSIDE_FFMPEG: '/usr/bin/ffmpeg' }), { path: '/usr/bin/ffmpeg', from: 'env' });
    assert.match((await ffmpegVersion(lean)) ?? '', /^ffmpeg version \S*roadside-lean/);
    assert.equal(await ffmpegVersion('/nonexistent/ffmpeg'), null);
    const server = new TestRtspServer(CLIPS.opendatacam, '/lean');
    servers.push(server);
    const url = await server.start(await freePort());
    const frames: Frame[] = [];
    const cam = camera(url, frames, []);
    cam.start();
    await waitFor(() => frames.length >= 3, 20_000, 'frames through the lean decoder');
    const pid = cam.pid();
    assert.ok(pid !== null);
    assert.equal(readlinkSync(`/proc/${pid}/exe`), lean);
    assert.equal(frames[0]!.data.length, 160 * 90 * 3);
    await cam.stop();
  });

  test('the lean decoder gives the very frames Debian\'s ffmpeg gives (same source, same scaler): recordings stay valid', () => {
    const lean = leanFfmpegPath();
    assert.ok(lean, 'make deps builds var/ffmpeg-lean/bin/ffmpeg');
    const args = ffmpegArgs({ url: CLIPS.cdnet, fps: 5, width: 320, height: 180, socketTimeoutMs: 5000 });
    // The first 3 s of the clip (the same args as the cameras', with a duration limit before the output).
    const limited = [...args.slice(0, -1), '-t', '3', args.at(-1)!];
    const digest = (bin: string) => {
      const out = execFileSync(bin, limited, { maxBuffer: 1 << 26 });
      assert.equal(out.length, 15 * 320 * 180 * 3);
      return createHash('sha256').update(out).digest('hex');
    };
    assert.equal(digest(lean), digest('ffmpeg'));
  });

  test('a decoder binary that is missing: the error code in the log, and the camera keeps retrying', async () => {
    const lines: { code?: string; msg?: string }[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk)) as { code?: string; msg?: string }), done()) });
    const frames: Frame[] = [];
    const s = new CameraStream({
      cameraId: 'cam1',
      url: `rtsp://127.0.0.1:${await freePort()}/none`,
      fps: 5,
      width: 160,
      height: 90,
      stallSeconds: 3,
      backoff: { initialMs: 100, maxMs: 200 },
      ffmpegPath: '/nonexistent/ffmpeg',
      log: pino({ level: 'info' }, sink),
      onFrame: (f) => frames.push(f),
    });
    streams.push(s);
    s.start();
    await waitFor(() => s.status().restarts >= 2, 10_000, 'two failed starts');
    await s.stop();
    assert.equal(frames.length, 0);
    const failed = lines.find((l) => l.msg === 'cannot start ffmpeg');
    assert.equal(failed?.code, 'ROADSIDE_ERR_STREAM_LOST');
  });

  test('an unreachable camera backs off and keeps retrying without throwing', async () => {
    const port = await freePort();
    const frames: Frame[] = [];
    const states: CameraState[] = [];
    const cam = camera(`rtsp://127.0.0.1:${port}/nothing`, frames, states);
    cam.start();
    await waitFor(() => cam.status().restarts >= 2, 15_000, 'two failed attempts');
    assert.equal(frames.length, 0);
    assert.ok(states.includes('backoff'));
    await cam.stop();
    assert.equal(cam.status().state, 'stopped');
  });
});
