// Capacity: how many cameras this box holds, measured against its own bound, in one run.
//   1. Test streams: 720p and 1080p H.264 (25 fps, 2 s GOP, no B-frames, like a camera) transcoded once
//      from the shared clips into var/capacity/, served by the real GStreamer RTSP test server (two clips
//      per resolution; cameras alternate between them).
//   2. Decode-only cost per camera: the real CameraStream (ffmpeg child, frames read and thrown away), CPU and
//      memory of ffmpeg; with the lean build of `make deps` (the default decoder) and Debian's ffmpeg side by side.
//   3. Detector-only CPU per frame: the detector on analysed-size frames in memory (CPU time, every thread).
//   4. Bound = cores / (decode cores per camera + fps × detector CPU per frame): the cameras the box could
//      hold if nothing but decode and detection ran.
//   5. The real CameraManager (RTSP source, shared DetectorQueue, tracker, analytics, health checks, metrics)
//      with N = 1, 2, 4, 6, 8 cameras at 5 and 10 fps: analysed fps per camera, % dropped, lag p95, CPU cores of
//      node and of the ffmpeg children (/proc), RSS and PSS of each. Held = the most cameras with ≤ 2 %
//      dropped, lag p95 < 1 s and ≥ 97 % of the fps asked (each count between the sweep's steps is tried
//      where the steps skip it); held/bound.
//   6. Native fps asked (25) from 4 cameras (an overloaded box): lag, drops, max/min analysed fps; the same
//      again with inference inline on the main thread (what the worker host buys), and one camera at native
//      fps against the detector alone (pipeline/detector).
// Absolute numbers on a shared box are noisy: the ratios within one run are the result.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { loadConfigFile, validateConfig } from '../appliance/src/config/load.js';
import type { Config } from '../appliance/src/config/schema.js';
import { createDetector } from '../appliance/src/detect/index.js';
import type { Detector } from '../appliance/src/detect/detector.js';
import { CameraStream } from '../appliance/src/ingest/camera-stream.js';
import { ffmpegVersion, resolveFfmpeg } from '../appliance/src/ingest/ffmpeg-binary.js';
import { createMetrics } from '../appliance/src/metrics/registry.js';
import { CameraManager } from '../appliance/src/pipeline/camera-manager.js';
import { DetectorQueue } from '../appliance/src/pipeline/detector-queue.js';
import type { Frame } from '../appliance/src/core/types.js';
import { TestRtspServer, freePort } from '../test/helpers/rtsp-server.js';
import { decodeFrames } from '../test/helpers/clips.js';

const SHARED = resolve(process.env.ROADSIDE_SHARED ?? '../shared');
const TRAFFIC = resolve(SHARED, 'data/traffic');
const OUT = resolve('var/capacity');
const TICKS = 100; // /proc clock ticks per second (Linux USER_HZ)
const WINDOW_S = Number(process.env.CAPACITY_WINDOW_S ?? 15);
const WARMUP_S = 4;
const CAMERA_W = 640;
const CAMERA_H = 360;
const NATIVE_FPS = 25;

const RESOLUTIONS = { '720p': [1280, 720], '1080p': [1920, 1080] } as const;
type Res = keyof typeof RESOLUTIONS;
const SOURCES = ['uk-motorway-rain/uk_motorway_rain_25fps.mp4', 'jakarta-scooters/jakarta_sudirman_25fps.mp4'];

const r2 = (x: number) => Math.round(x * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The test inputs, made once: 15 s of each source clip at the resolution, 25 fps, 2 s GOP, no B-frames. */
function testInput(src: string, res: Res): string {
  mkdirSync(OUT, { recursive: true });
  const [w, h] = RESOLUTIONS[res];
  const out = resolve(OUT, `${src.split('/')[0]}_${res}.mp4`);
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp.mp4`;
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-t', '15', '-i', resolve(TRAFFIC, src), '-an', '-vf', `scale=${w}:${h},fps=25`, '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '50', '-pix_fmt', 'yuv420p', tmp]);
  renameSync(tmp, out);
  return out;
}

// ---------------------------------------------------------------- /proc accounting

interface ProcSample {
  cpuTicks: number;
  rssKb: number;
  pssKb: number;
}

function readProc(pid: number | 'self'): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    let pssKb = rssKb;
    try {
      pssKb = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? rssKb);
    } catch {
      /* older kernels: RSS stands in */
    }
    return { cpuTicks, rssKb, pssKb };
  } catch {
    return null;
  }
}

/** ffmpeg children of this process (the cameras' decoders; the RTSP servers are python). */
function ffmpegChildren(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'ffmpeg' && ppid === process.pid) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

interface Usage {
  nodeCores: number;
  ffmpegCores: number;
  ffmpegCoresPerProcess: number;
  nodeRssMb: number;
  nodePssMb: number;
  ffmpegRssMb: number[];
  ffmpegPssMb: number[];
  /** Event-loop delay p99 over the window, ms: what reading the cameras' pipes waits for. */
  loopP99Ms: number;
}

/** Runs `during` (a wait) and returns CPU cores used by node and the ffmpeg children over it, and their memory at its end. */
async function measure(during: () => Promise<void>): Promise<Usage> {
  const pids = ffmpegChildren();
  const before = new Map(pids.map((p) => [p, readProc(p)]));
  const node0 = readProc('self');
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = performance.now();
  await during();
  const seconds = (performance.now() - t0) / 1000;
  loop.disable();
  const node1 = readProc('self');
  let ff = 0;
  const rss: number[] = [];
  const pss: number[] = [];
  for (const p of pids) {
    const a = before.get(p);
    const b = readProc(p);
    if (!a || !b) continue;
    ff += (b.cpuTicks - a.cpuTicks) / TICKS;
    rss.push(r2(b.rssKb / 1024));
    pss.push(r2(b.pssKb / 1024));
  }
  return {
    nodeCores: node0 && node1 ? r2((node1.cpuTicks - node0.cpuTicks) / TICKS / seconds) : 0,
    ffmpegCores: r2(ff / seconds),
    ffmpegCoresPerProcess: pids.length ? r2(ff / seconds / pids.length) : 0,
    nodeRssMb: r2((node1?.rssKb ?? 0) / 1024),
    nodePssMb: r2((node1?.pssKb ?? 0) / 1024),
    ffmpegRssMb: rss,
    ffmpegPssMb: pss,
    loopP99Ms: r2(loop.percentile(99) / 1e6),
  };
}

// ---------------------------------------------------------------- decode only, detector only

interface DecodeCost {
  /** CPU cores of one camera's ffmpeg, per resolution@fps. */
  cores: Record<string, number>;
  /** Its RSS and PSS, MB, per resolution@fps. */
  rssMb: Record<string, number>;
  pssMb: Record<string, number>;
}

/** CPU cores and memory of one camera's ffmpeg decoding the stream at the analysed fps and size (frames read, not analysed). */
async function decodeOnly(urls: Record<Res, string>, fps: number[], hwaccel: 'none' | 'cuda', ffmpegPath: string): Promise<DecodeCost> {
  const log = pino({ level: 'silent' });
  const streams: { key: string; s: CameraStream }[] = [];
  const flowing = new Map<string, number>();
  for (const res of Object.keys(urls) as Res[]) {
    for (const f of fps) {
      const key = `${res}@${f}`;
      flowing.set(key, 0);
      const s = new CameraStream({
        cameraId: key.replace(/[@]/, '-'),
        url: urls[res],
        fps: f,
        width: CAMERA_W,
        height: CAMERA_H,
        stallSeconds: 10,
        backoff: { initialMs: 500, maxMs: 2000 },
        hwaccel,
        ffmpegPath,
        log,
        onFrame: () => flowing.set(key, (flowing.get(key) ?? 0) + 1),
      });
      streams.push({ key, s });
      s.start();
    }
  }
  await waitUntil(() => [...flowing.values()].every((n) => n > 0), 30_000, 'decode-only streams');
  await sleep(WARMUP_S * 1000);
  // One process per stream: read each one's CPU separately.
  const pids = ffmpegChildren();
  const pidOf = new Map<string, number>();
  for (const { key, s } of streams) {
    const pid = s.pid();
    if (pid !== null && pids.includes(pid)) pidOf.set(key, pid);
  }
  const before = new Map([...pidOf].map(([k, p]) => [k, readProc(p)?.cpuTicks ?? 0]));
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const out: DecodeCost = { cores: {}, rssMb: {}, pssMb: {} };
  for (const [k, p] of pidOf) {
    const end = readProc(p);
    out.cores[k] = r2(((end?.cpuTicks ?? 0) - (before.get(k) ?? 0)) / TICKS / seconds);
    out.rssMb[k] = r2((end?.rssKb ?? 0) / 1024);
    out.pssMb[k] = r2((end?.pssKb ?? 0) / 1024);
  }
  await Promise.all(streams.map(({ s }) => s.stop()));
  return out;
}

/** Detector CPU time per frame (every thread of the process) and wall time, on analysed-size frames in memory. */
async function detectorOnly(detector: Detector, frames: Frame[]): Promise<{ cpuMs: number; wallMs: number; fps: number }> {
  for (const f of frames.slice(0, 3)) await detector.process(f); // warm-up
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const f of frames) await detector.process(f);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000 / frames.length;
  return { cpuMs: r2(cpuMs), wallMs: r2(wall / frames.length), fps: r2((1000 * frames.length) / wall) };
}

/**
 * Detector CPU per frame with one frame every 1/fps s, as a camera feeds it: the same model, but each frame
 * finds the caches cold (the decoders ran meanwhile). Printed beside the back-to-back figure so that
 * node's own overhead per frame can be told from the model's cost at a camera's pace.
 */
async function detectorPaced(detector: Detector, frames: Frame[], fps: number): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const [i, f] of frames.entries()) {
    await sleep(Math.max(0, t0 + (i * 1000) / fps - performance.now()));
    await detector.process(f);
  }
  const c = process.cpuUsage(c0);
  return r2((c.user + c.system) / 1000 / frames.length);
}

async function waitUntil(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------- cameras through the real manager

interface Point {
  res: Res;
  fps: number;
  cameras: number;
  /** Analysed fps per camera over the window. */
  analysedFps: number[];
  droppedPct: number;
  lagP95: number;
  maxOverMin: number;
  usage: Usage;
  /** Node CPU ms per analysed frame. */
  nodeCpuMsPerFrame: number;
  held: boolean;
}

function p95(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.95 * s.length))] ?? NaN;
}

function cameraConfig(base: Config, n: number, fps: number, urls: string[]): Config {
  return validateConfig({
    ...base,
    cameras: Array.from({ length: n }, (_, i) => ({ id: `cam${i + 1}`, url: urls[i % urls.length], fps, width: CAMERA_W, height: CAMERA_H, stallSeconds: 15 })),
  });
}

async function sweep(o: { manager: CameraManager; base: Config; res: Res; fps: number; ns: number[]; urls: string[]; onPoint: (p: Point) => void }): Promise<void> {
  for (const n of o.ns) {
    await o.manager.apply(cameraConfig(o.base, n, o.fps, o.urls));
    const cams = o.manager.list();
    await waitUntil(() => cams.every((c) => c.status().framesAnalysed > 0), 45_000, `${n} cameras streaming`);
    await sleep(WARMUP_S * 1000);
    const start = new Map(cams.map((c) => [c.config.id, c.status()]));
    const lags: number[] = [];
    const usage = await measure(async () => {
      const end = Date.now() + WINDOW_S * 1000;
      // The last analysed frame's lag, sampled 5 times a second per camera.
      while (Date.now() < end) {
        for (const c of cams) {
          const l = c.status().lagSeconds;
          if (typeof l === 'number') lags.push(l);
        }
        await sleep(200);
      }
    });
    let analysed = 0;
    let dropped = 0;
    const perCam: number[] = [];
    for (const c of cams) {
      const a = start.get(c.config.id);
      const b = c.status();
      if (!a) continue;
      analysed += b.framesAnalysed - a.framesAnalysed;
      dropped += b.framesDropped - a.framesDropped;
      perCam.push(r2((b.framesAnalysed - a.framesAnalysed) / WINDOW_S));
    }
    const droppedPct = r2((100 * dropped) / Math.max(1, analysed + dropped));
    const lagP95 = r2(p95(lags));
    const minFps = Math.min(...perCam);
    const p: Point = {
      res: o.res,
      fps: o.fps,
      cameras: n,
      analysedFps: perCam,
      droppedPct,
      lagP95,
      maxOverMin: r2(Math.max(...perCam) / Math.max(0.01, minFps)),
      usage,
      nodeCpuMsPerFrame: r2((usage.nodeCores * WINDOW_S * 1000) / Math.max(1, analysed)),
      held: droppedPct <= 2 && lagP95 < 1 && minFps >= 0.97 * o.fps,
    };
    o.onPoint(p);
    // Well past the box's limit: larger N only says the same more slowly.
    if (droppedPct > 25 && o.fps !== NATIVE_FPS) break;
  }
  await o.manager.apply(cameraConfig(o.base, 0, o.fps, o.urls));
}

interface DetectorResult {
  model: string;
  detectorCpuMsPerFrame: number;
  detectorWallMsPerFrame: number;
  /** The same, one frame every 200 ms (a 5 fps camera's pace). */
  detectorPacedCpuMsPerFrame: number;
  points: Point[];
  held: Record<string, number>;
  bound: Record<string, number>;
  nativeOverloaded?: Point;
  /** The same native-fps point with inference inline on the main thread (detector.host: inline), for comparison. */
  nativeInline?: Point;
  oneCamera?: { analysedFps: number; expectedFps: number; pipelineOverDetector: number };
}

/** Overrides for a GPU box (bench/gpu.sh): CAPACITY_BACKEND=onnx-cuda, CAPACITY_HWACCEL=cuda, CAPACITY_CAMERAS=1,2,4,8,16. */
function envOptions(): CapacityOptions {
  const list = (v: string | undefined) => v?.split(',').map(Number).filter((n) => n > 0);
  const backend = process.env.CAPACITY_BACKEND;
  const hwaccel = process.env.CAPACITY_HWACCEL;
  return {
    backend: backend === 'onnx-cuda' || backend === 'onnx-cpu' ? backend : undefined,
    hwaccel: hwaccel === 'cuda' || hwaccel === 'none' ? hwaccel : undefined,
    cameras: list(process.env.CAPACITY_CAMERAS),
  };
}

export interface CapacityOptions {
  models?: string[];
  resolutions?: Res[];
  fps?: number[];
  cameras?: number[];
  backend?: 'onnx-cpu' | 'onnx-cuda';
  hwaccel?: 'none' | 'cuda';
}

export async function runCapacityBench(given: CapacityOptions = {}) {
  const opts = { ...envOptions(), ...given };
  const started = Date.now();
  const demo = loadConfigFile('appliance/config/roadside.demo.yaml');
  const defaultModel = demo.detector.model;
  const models = opts.models ?? [...new Set(['yolox_nano', defaultModel])];
  const resolutions = opts.resolutions ?? (['720p', '1080p'] as Res[]);
  const fpsList = opts.fps ?? [5, 10];
  const ns = opts.cameras ?? [1, 2, 4, 6, 8];
  const cores = cpus().length;

  // 1. inputs and servers
  const servers: TestRtspServer[] = [];
  const urls = {} as Record<Res, string[]>;
  for (const res of resolutions) {
    urls[res] = [];
    for (const src of SOURCES) {
      const server = new TestRtspServer(testInput(src, res));
      servers.push(server);
      urls[res].push(await server.start(await freePort()));
    }
  }
  const base = validateConfig({
    cameras: [],
    detector: { ...demo.detector, ...(opts.backend ? { backend: opts.backend } : {}) },
    ingest: { ...demo.ingest, ...(opts.hwaccel ? { hwaccel: opts.hwaccel } : {}) },
  });
  const summary: string[] = [];
  const results: DetectorResult[] = [];
  try {
    // 2. decode only (one ffmpeg per resolution and fps, side by side), with the decoder the cameras use
    //    and, when that is the lean build, with Debian's ffmpeg for comparison.
    const decodeFps = [...new Set([...fpsList, NATIVE_FPS])];
    const decodeUrls = Object.fromEntries(resolutions.map((r) => [r, urls[r][0]!])) as Record<Res, string>;
    const decoder = resolveFfmpeg(base.ingest.hwaccel);
    const decoders = [{ ...decoder, version: await ffmpegVersion(decoder.path) }];
    if (decoder.from === 'lean') decoders.push({ path: 'ffmpeg', from: 'path', version: await ffmpegVersion('ffmpeg') });
    const decodeCosts: DecodeCost[] = [];
    for (const d of decoders) decodeCosts.push(await decodeOnly(decodeUrls, decodeFps, base.ingest.hwaccel, d.path));
    const decode = decodeCosts[0]!.cores;
    summary.push(...decoders.map((d, i) => renderDecode(d, decodeCosts[i]!)));
    // Frames at the analysed size for the detector-only run.
    const frames = await decodeFrames(testInput(SOURCES[0]!, '720p'), { fps: 5, width: CAMERA_W, height: CAMERA_H, maxSeconds: 8, cameraId: 'bench' });

    for (const model of models) {
      const detector = await createDetector({
        ...base.detector,
        model,
        modelsDir: resolve(SHARED, 'models'),
        manifestPath: resolve('models/manifest.json'),
      });
      const det = await detectorOnly(detector, frames);
      const paced = await detectorPaced(detector, frames, 5);
      const queue = new DetectorQueue(detector);
      const metrics = createMetrics();
      const manager = new CameraManager({
        detector: queue,
        metrics,
        log: pino({ level: 'silent' }),
        events: { process: async () => undefined, close: async () => undefined },
        baseDir: process.cwd(),
        healthDir: null,
      });
      const r: DetectorResult = { model, detectorCpuMsPerFrame: det.cpuMs, detectorWallMsPerFrame: det.wallMs, detectorPacedCpuMsPerFrame: paced, points: [], held: {}, bound: {} };
      // The default detector when it differs: the headline point only (720p at 5 fps).
      const full = model === 'yolox_nano' || models.length === 1;
      for (const res of full ? resolutions : resolutions.slice(0, 1)) {
        for (const fps of full ? fpsList : fpsList.slice(0, 1)) {
          const key = `${res}@${fps}`;
          const perCamera = (decode[key] ?? 0) + (fps * det.cpuMs) / 1000;
          r.bound[key] = r2(cores / perCamera);
          // 1080p at 10 fps past 6 cameras: skipped to keep the section short (the 720p sweep shows the shape).
          const list = res === '1080p' && fps >= 10 ? ns.filter((n) => n <= 6) : ns;
          await sweep({ manager, base, res, fps, ns: list, urls: urls[res], onPoint: (p) => void r.points.push(p) });
          const heldAt = () => Math.max(0, ...r.points.filter((p) => p.res === res && p.fps === fps && p.held).map((p) => p.cameras));
          // The sweep's steps (…, 6, 8) cap what it can show: between the most held and the first N
          // that failed, each count is tried too, so held is the real count and not the step below it.
          const failed = r.points.filter((p) => p.res === res && p.fps === fps && !p.held && p.cameras > heldAt()).map((p) => p.cameras);
          const firstFailed = failed.length ? Math.min(...failed) : heldAt() + 1;
          const between = Array.from({ length: Math.max(0, firstFailed - heldAt() - 1) }, (_, i) => heldAt() + 1 + i);
          if (between.length) {
            await sweep({ manager, base, res, fps, ns: between, urls: urls[res], onPoint: (p) => void r.points.push(p) });
            const mine = (p: Point) => p.res === res && p.fps === fps;
            r.points = [...r.points.filter((p) => !mine(p)), ...r.points.filter(mine).sort((a, b) => a.cameras - b.cameras)];
          }
          r.held[key] = heldAt();
        }
      }
      if (full) {
        // 6. native fps asked by 4 cameras of 720p: the box cannot hold it; it must stay current and fair.
        const native: Point[] = [];
        await sweep({ manager, base, res: resolutions[0]!, fps: NATIVE_FPS, ns: [4], urls: urls[resolutions[0]!], onPoint: (p) => void native.push(p) });
        r.nativeOverloaded = native[0];
        // The same with inference on the main thread, as before issue 11: what the worker host buys.
        if (base.detector.host === 'worker') {
          const inlineDetector = await createDetector({ ...base.detector, model, host: 'inline', modelsDir: resolve(SHARED, 'models'), manifestPath: resolve('models/manifest.json') });
          const inlineManager = new CameraManager({
            detector: new DetectorQueue(inlineDetector),
            metrics: createMetrics(),
            log: pino({ level: 'silent' }),
            events: { process: async () => undefined, close: async () => undefined },
            baseDir: process.cwd(),
            healthDir: null,
          });
          const inl: Point[] = [];
          await sweep({ manager: inlineManager, base, res: resolutions[0]!, fps: NATIVE_FPS, ns: [4], urls: urls[resolutions[0]!], onPoint: (p) => void inl.push(p) });
          await inlineManager.stopAll();
          await inlineDetector.close();
          r.nativeInline = inl[0];
        }
        // One camera at native fps: analysed fps against what the detector alone could do (capped by the stream).
        const one: Point[] = [];
        await sweep({ manager, base, res: resolutions[0]!, fps: NATIVE_FPS, ns: [1], urls: urls[resolutions[0]!], onPoint: (p) => void one.push(p) });
        const got = one[0]?.analysedFps[0] ?? 0;
        const expected = Math.min(NATIVE_FPS, det.fps);
        r.oneCamera = { analysedFps: got, expectedFps: r2(expected), pipelineOverDetector: r2(got / expected) };
      }
      await manager.stopAll();
      await queue.close();
      await detector.close();
      results.push(r);
    }
    summary.push(`detector backend ${base.detector.backend} (${base.detector.host}, ${base.detector.threads} threads), decode ${base.ingest.hwaccel === 'cuda' ? 'ffmpeg -hwaccel cuda' : 'CPU'} with ${base.ingest.decodeThreads} thread(s)`);
    summary.push(...render(results, decode, cores, models, defaultModel, decoder.path));
    summary.push(`section time ${Math.round((Date.now() - started) / 1000)} s (windows of ${WINDOW_S} s after ${WARMUP_S} s warm-up); ${cores} cores; a shared machine's numbers are noisy, the ratios within the run are the result`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  return { results, summary };
}

function renderDecode(d: { path: string; from: string; version: string | null }, c: DecodeCost): string {
  const each = Object.keys(c.cores).map((k) => `${k} ${c.cores[k]} cores, RSS ${c.rssMb[k]} MB (PSS ${c.pssMb[k]})`);
  return `decode only, one ffmpeg per camera (${CAMERA_W}x${CAMERA_H} rgb24 out), ${d.from === 'lean' ? 'lean build' : d.from === 'path' ? 'system ffmpeg' : 'ROADSIDE_FFMPEG'} ${d.path} (${d.version ?? 'version unknown'}): ${each.join('; ')}`;
}

function render(results: DetectorResult[], decode: Record<string, number>, cores: number, models: string[], defaultModel: string, decoderPath: string): string[] {
  const out: string[] = [];
  out.push(`the cameras below decode with ${decoderPath}`);
  for (const r of results) {
    const tag = r.model === defaultModel ? `${r.model} (default detector of the demo config)` : r.model;
    out.push('', `${tag}: detector only ${r.detectorCpuMsPerFrame} ms CPU per frame (${r.detectorWallMsPerFrame} ms wall); at a camera's pace (a frame every 200 ms) ${r.detectorPacedCpuMsPerFrame} ms CPU per frame`);
    out.push('', '| input | fps | cameras | analysed fps per camera | dropped % | lag p95 s | max/min fps | node cores | ffmpeg cores (each) | node CPU ms per analysed frame | node RSS MB | ffmpeg RSS MB each (PSS) | event loop p99 ms |');
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const p of [...r.points, ...(r.nativeOverloaded ? [r.nativeOverloaded] : [])]) {
      const u = p.usage;
      const ffRss = u.ffmpegRssMb.length ? `${r2(u.ffmpegRssMb.reduce((a, b) => a + b, 0) / u.ffmpegRssMb.length)} (${r2(u.ffmpegPssMb.reduce((a, b) => a + b, 0) / u.ffmpegPssMb.length)})` : '-';
      out.push(
        `| ${p.res} | ${p.fps} | ${p.cameras} | ${p.analysedFps.join(' ')} | ${p.droppedPct} | ${p.lagP95} | ${p.maxOverMin} | ${u.nodeCores} | ${u.ffmpegCores} (${u.ffmpegCoresPerProcess}) | ${p.nodeCpuMsPerFrame} | ${u.nodeRssMb} | ${ffRss} | ${u.loopP99Ms} |`,
      );
    }
    out.push('');
    for (const key of Object.keys(r.bound)) {
      const held = r.held[key] ?? 0;
      const bound = r.bound[key] ?? 0;
      out.push(`${key}: held ${held} cameras (≤ 2 % dropped, lag p95 < 1 s), bound ${bound} (decode ${decode[key]} + detector ${r.detectorCpuMsPerFrame} ms × fps on ${cores} cores), held/bound ${r2(held / bound)}`);
    }
    const at5 = r.points.filter((p) => p.fps === 5 && p.res === '720p');
    const heldPoints = at5.filter((p) => p.held);
    const ratios = heldPoints.map((p) => r2(p.nodeCpuMsPerFrame / r.detectorCpuMsPerFrame));
    const pacedRatios = heldPoints.map((p) => r2(p.nodeCpuMsPerFrame / r.detectorPacedCpuMsPerFrame));
    if (ratios.length) out.push(`node CPU per analysed frame / detector-only CPU per frame (720p@5, held points): ${ratios.join(', ')} (against the paced detector-only: ${pacedRatios.join(', ')})`);
    const mem = memoryPerCamera(at5);
    if (mem) out.push(`memory per added camera (720p@5, node + its ffmpeg): RSS ${mem.rss} MB (node ${mem.nodeRss}, ffmpeg ${mem.ffmpegRss}), PSS ${mem.pss} MB (shared libraries counted once)`);
    if (r.nativeOverloaded) {
      const p = r.nativeOverloaded;
      out.push(`native ${NATIVE_FPS} fps asked by ${p.cameras} cameras: analysed ${p.analysedFps.join(' ')} fps, dropped ${p.droppedPct} %, lag p95 ${p.lagP95} s, max/min ${p.maxOverMin}`);
    }
    if (r.nativeInline && r.nativeOverloaded) {
      const [w, i] = [r.nativeOverloaded, r.nativeInline];
      out.push(
        `the same with inference inline on the main thread: analysed ${i.analysedFps.join(' ')} fps, lag p95 ${i.lagP95} s, event loop p99 ${i.usage.loopP99Ms} ms (worker: lag p95 ${w.lagP95} s, event loop p99 ${w.usage.loopP99Ms} ms)`,
      );
    }
    if (r.oneCamera) out.push(`one camera at native fps: ${r.oneCamera.analysedFps} fps analysed of ${r.oneCamera.expectedFps} possible (min of stream and detector-only fps): pipeline/detector ${r.oneCamera.pipelineOverDetector}`);
  }
  if (!models.includes(defaultModel)) out.push(`default detector ${defaultModel} not run`);
  return out;
}

/** Slope of (node + every ffmpeg) memory against the number of cameras, least squares. */
function memoryPerCamera(points: Point[]): { rss: number; pss: number; nodeRss: number; ffmpegRss: number } | null {
  if (points.length < 2) return null;
  const slope = (ys: number[]) => {
    const xs = points.map((p) => p.cameras);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let num = 0;
    let den = 0;
    xs.forEach((x, i) => {
      num += (x - mx) * ((ys[i] ?? 0) - my);
      den += (x - mx) ** 2;
    });
    return den ? r2(num / den) : 0;
  };
  return {
    rss: slope(points.map((p) => p.usage.nodeRssMb + p.usage.ffmpegRssMb.reduce((a, b) => a + b, 0))),
    pss: slope(points.map((p) => p.usage.nodePssMb + p.usage.ffmpegPssMb.reduce((a, b) => a + b, 0))),
    nodeRss: slope(points.map((p) => p.usage.nodeRssMb)),
    ffmpegRss: slope(points.map((p) => p.usage.ffmpegRssMb.reduce((a, b) => a + b, 0))),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runCapacityBench();
  console.log(r.summary.join('\n'));
}
