// Camera health benchmark (`npx tsx bench/health.ts`, or the `health` section of bench/run.ts).
// (a) Cost of all health checks on real 720p frames (opendatacam upscaled to 1280x720): every call
//     samples (the worst case, a sample on every frame), and the amortised cost per analysed frame at
//     5 fps with the default 1 sample/s. Budget: ≤ 2 ms per analysed frame at 720p.
// (b) False alarms: every clean shared clip played end to end at 5 fps (640x360) through the checks
//     with a 3 s reference: problems opened (must be 0).
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CameraHealthMonitor, estimateShift, greySample, healthConfigOf } from '../appliance/src/health/index.js';
import { edgeMap } from '../appliance/src/health/image-stats.js';
import { CLEAN_CLIPS, decodeFrames } from '../test/helpers/clips.js';

const SHARED = resolve(process.env.ROADSIDE_SHARED ?? '../shared');
const TRAFFIC = resolve(SHARED, 'data/traffic');


const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, p95: s[Math.floor(0.95 * (s.length - 1))] ?? NaN, max: s[s.length - 1] ?? NaN };
};
const r3 = (v: number) => Math.round(v * 1000) / 1000;
const cpusCount = () => cpus().length;

/** CPU ms of a plain 1M-element float loop (best of 20): the box's speed right now, to read the figures against. */
function referenceLoopMs(): number {
  const a = new Float32Array(1_000_000).map((_, i) => i % 255);
  let best = Infinity;
  for (let r = 0; r < 20; r++) {
    const c = process.cpuUsage();
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += a[i]! * 0.5;
    const d = process.cpuUsage(c);
    if (sum < 0) throw new Error('unreachable');
    best = Math.min(best, (d.user + d.system) / 1000);
  }
  return best;
}

export async function runHealthBench() {
  // (a) cost at 720p
  const frames = await decodeFrames(resolve(TRAFFIC, 'opendatacam/opendatacam_placeholder_30fps.mp4'), { fps: 5, width: 1280, height: 720, maxSeconds: 16, cameraId: 'bench' });
  const cfg = healthConfigOf({ health: { learnSeconds: 3 } as never });
  const m = new CameraHealthMonitor({ cameraId: 'bench', width: 1280, height: 720, config: cfg });
  // Reference learned first (not timed), then every call is one full sample (timestamps 1 s apart).
  for (let i = 0; i < 6; i++) m.observe({ ...frames[i]!, timestampMs: frames[i]!.timestampMs + i * 1000 }, []);
  const perSample: number[] = [];
  const base = frames[0]!.timestampMs + 100_000;
  // CPU time of this process as well as wall time: on a shared box wall time also counts the others' turns.
  const cpu0 = process.cpuUsage();
  let calls = 0;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < frames.length; i++) {
      const f = { ...frames[i]!, timestampMs: base + (round * frames.length + i) * 1000 };
      const t0 = performance.now();
      m.observe(f, []);
      perSample.push(performance.now() - t0);
      calls++;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuPerSample = (cpu.user + cpu.system) / 1000 / calls;
  // Amortised: frames at 5 fps, one sample a second (what the pipeline does).
  const m2 = new CameraHealthMonitor({ cameraId: 'bench', width: 1280, height: 720, config: cfg });
  const t0 = performance.now();
  const cpuA = process.cpuUsage();
  let n = 0;
  for (let round = 0; round < 3; round++) {
    for (const f of frames) {
      m2.observe({ ...f, timestampMs: f.timestampMs + round * frames.length * 200 }, []);
      n++;
    }
  }
  const amortised = (performance.now() - t0) / n;
  const cpuAm = process.cpuUsage(cpuA);
  const cpuAmortised = (cpuAm.user + cpuAm.system) / 1000 / n;
  // Parts: grey copies alone, shift estimate alone.
  const greyT: number[] = [];
  for (const f of frames) {
    const a = performance.now();
    greySample(f);
    greyT.push(performance.now() - a);
  }
  const g0 = greySample(frames[0]!).small;
  const g1 = greySample(frames[40]!).small;
  const e0 = edgeMap(g0, 160, 90);
  const e1 = edgeMap(g1, 160, 90);
  const shiftT: number[] = [];
  for (let i = 0; i < 40; i++) {
    const a = performance.now();
    estimateShift(e0, e1, 160, 90);
    shiftT.push(performance.now() - a);
  }
  const s = stat(perSample);
  const loopMs = referenceLoopMs();

  // (b) false alarms on the clean clips
  let opened = 0;
  let samples = 0;
  const perClip: Record<string, number> = {};
  for (const clip of CLEAN_CLIPS) {
    const fr = await decodeFrames(resolve(TRAFFIC, clip), { fps: 5, width: 640, height: 360, cameraId: 'bench' });
    const mon = new CameraHealthMonitor({ cameraId: 'bench', width: 640, height: 360, config: cfg });
    let o = 0;
    for (const f of fr) o += mon.observe(f, []).filter((e) => e.data.state === 'opened').length;
    perClip[clip.split('/')[0]!] = o;
    opened += o;
    samples += Math.floor(fr.length / 5);
  }

  const result = {
    ms720pPerSample: { mean: r3(s.mean), p95: r3(s.p95), max: r3(s.max) },
    cpuMs720pPerSample: r3(cpuPerSample),
    ms720pPerAnalysedFrameAmortised: r3(amortised),
    cpuMs720pPerAnalysedFrameAmortised: r3(cpuAmortised),
    msGreyCopy720p: r3(stat(greyT).mean),
    msShiftEstimate: r3(stat(shiftT).mean),
    budgetMs: 2,
    sampleToBudgetRatio: r3(cpuPerSample / 2),
    /** CPU of one sample / CPU of a 1M-element float loop on the same box in the same run (load-independent-ish). */
    referenceLoopCpuMs: r3(loopMs),
    sampleToReferenceLoopRatio: r3(cpuPerSample / loopMs),
    cleanClips: CLEAN_CLIPS.length,
    cleanSamples: samples,
    falseOpens: opened,
    falseOpensPerClip: perClip,
    /** 1-minute load average during the run: on a shared box the ms figures scale with it. */
    loadAverage: Math.round(loadavg()[0]! * 10) / 10,
  };
  return {
    ...result,
    summary: [
      `all health checks on one 720p frame (a sample on every call): ${result.cpuMs720pPerSample} ms CPU (wall: mean ${result.ms720pPerSample.mean} ms, p95 ${result.ms720pPerSample.p95} ms); budget 2 ms, CPU/budget ${result.sampleToBudgetRatio}`,
      `per analysed frame at 5 fps with 1 sample/s (as the pipeline runs): ${result.cpuMs720pPerAnalysedFrameAmortised} ms CPU (wall ${result.ms720pPerAnalysedFrameAmortised} ms)`,
      `one sample costs ${result.sampleToReferenceLoopRatio}x a 1M-element float loop (${result.referenceLoopCpuMs} ms CPU here now; ~0.5-1 ms on an idle modern core)`,
      `parts: grey copies from the 720p RGB buffer ${result.msGreyCopy720p} ms, scene shift estimate ${result.msShiftEstimate} ms (load average ${result.loadAverage} on ${cpusCount()} cores)`,
      `false alarms on ${CLEAN_CLIPS.length} clean shared clips end to end at 5 fps (${samples} samples, 3 s reference): ${opened} problems opened`,
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runHealthBench();
  for (const l of r.summary) console.log(l);
}
