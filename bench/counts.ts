// Count accuracy against hand counts (bench/ground-truth/counts/*.json, made by eye in two passes;
// see the README there). Every clip is played through the real CameraPipeline (clip replay source,
// every frame analysed) with the hand-counted lines, for each detector and analysed fps; each of our
// crossings is matched to a hand-counted one on the same line and direction within ±1.5 s.
// Prints per line and direction, per class (like a sensor validation report), two-wheelers, heavy
// vehicles, extra counts, and the CPU cost per analysed frame of each detector.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createDetector } from '../appliance/src/detect/index.js';
import { ClipFrameSource, REPLAY_EPOCH_MS } from '../appliance/src/ingest/clip-source.js';
import { replayCamera } from '../appliance/src/pipeline/replay.js';
import { validateConfig } from '../appliance/src/config/load.js';
import type { LineCrossing } from '../appliance/src/analytics/index.js';
import type { ObjectClass } from '../appliance/src/core/types.js';

const SHARED = resolve(process.env.ROADSIDE_SHARED ?? '../shared');
const GT_DIR = resolve(process.env.ROADSIDE_GT_DIR ?? 'bench/ground-truth/counts');
const MATCH_S = 1.5;

interface GtLine {
  id: string;
  from: { x: number; y: number };
  to: { x: number; y: number };
  direction: { x: number; y: number };
}
interface GtCrossing {
  line: string;
  tS: number;
  direction: 'forward' | 'backward';
  cls: ObjectClass;
}
interface GtClip {
  clip: string;
  width: number;
  height: number;
  window: { fromS: number; toS: number };
  lines: GtLine[];
  crossings: GtCrossing[];
}

export interface DetectorChoice {
  model: string;
  scoreThreshold: number;
}

export const DETECTORS: DetectorChoice[] = [
  { model: 'yolox_nano', scoreThreshold: 0.3 },
  { model: 'yolox_nano_640x384', scoreThreshold: 0.35 },
  { model: 'picodet_s_416', scoreThreshold: 0.4 },
  { model: 'picodet_s_640x384', scoreThreshold: 0.4 },
];

export function loadGroundTruth(dir = GT_DIR): Array<GtClip & { name: string }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.replace(/\.json$/, ''), ...(JSON.parse(readFileSync(resolve(dir, f), 'utf8')) as GtClip) }));
}

interface Ours {
  line: string;
  tS: number;
  direction: 'forward' | 'backward';
  cls: ObjectClass;
}

interface Match {
  gt: GtCrossing;
  ours: Ours | null;
}

/** Greedy nearest-in-time matching per line and direction; returns the matches and our unmatched crossings. */
export function matchCrossings(gt: GtCrossing[], ours: Ours[]): { matches: Match[]; extra: Ours[] } {
  const free = new Set(ours);
  const matches: Match[] = [];
  const pairs: Array<{ g: GtCrossing; o: Ours; d: number }> = [];
  for (const g of gt) for (const o of ours) if (o.line === g.line && o.direction === g.direction && Math.abs(o.tS - g.tS) <= MATCH_S) pairs.push({ g, o, d: Math.abs(o.tS - g.tS) });
  pairs.sort((a, b) => a.d - b.d);
  const done = new Set<GtCrossing>();
  const byGt = new Map<GtCrossing, Ours>();
  for (const p of pairs) {
    if (done.has(p.g) || !free.has(p.o)) continue;
    done.add(p.g);
    free.delete(p.o);
    byGt.set(p.g, p.o);
  }
  for (const g of gt) matches.push({ gt: g, ours: byGt.get(g) ?? null });
  return { matches, extra: [...free] };
}

const TWO_WHEEL = new Set<ObjectClass>(['bicycle', 'motorcycle']);
const HEAVY = new Set<ObjectClass>(['truck', 'bus']);
const VEHICLE = new Set<ObjectClass>(['car', 'truck', 'bus', 'motorcycle', 'bicycle']);
const pct = (x: number) => Math.round(x * 1000) / 10;

async function runClip(clip: GtClip, fps: number, detector: Awaited<ReturnType<typeof createDetector>>) {
  const camera = validateConfig({
    cameras: [{ id: 'gt', url: 'rtsp://127.0.0.1/gt', fps, width: clip.width, height: clip.height, lines: clip.lines.map((l) => ({ id: l.id, from: l.from, to: l.to, direction: l.direction, minTravel: 0.02 })) }],
  }).cameras[0]!;
  const ours: Ours[] = [];
  const cpu0 = process.cpuUsage();
  const run = await replayCamera({
    camera,
    source: new ClipFrameSource({ cameraId: 'gt', clip: resolve(SHARED, 'data', clip.clip), fps, width: clip.width, height: clip.height }),
    detector,
    onCrossing: (c: LineCrossing) => ours.push({ line: c.lineId, tS: (c.tMs - REPLAY_EPOCH_MS) / 1000, direction: c.direction, cls: c.cls }),
  });
  const cpu = process.cpuUsage(cpu0);
  const inWindow = ours.filter((o) => o.tS >= clip.window.fromS - 0.5 && o.tS <= clip.window.toS + 0.5);
  return { ours: inWindow, frames: run.framesAnalysed, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export interface CountsResult {
  detector: string;
  fps: number;
  totalGt: number;
  totalCounted: number;
  totalErrorPct: number;
  worstLineErrorPct: number;
  perLine: Array<{ clip: string; line: string; direction: string; gt: number; counted: number; errorPct: number }>;
  perClass: Array<{ cls: string; gt: number; counted: number; errorPct: number }>;
  heavyFoundPct: number;
  twoWheelersAsTwoWheelerPct: number;
  twoWheelersAsPedestrian: number;
  extraCounts: number;
  cpuMsPerFrame: number;
  frames: number;
}

export async function evaluate(det: DetectorChoice, fps: number, clips = loadGroundTruth()): Promise<CountsResult> {
  const detector = await createDetector({
    modelsDir: resolve(SHARED, 'models'),
    manifestPath: resolve('models/manifest.json'),
    backend: 'onnx-cpu',
    model: det.model,
    scoreThreshold: det.scoreThreshold,
    nmsIou: 0.45,
    threads: 2,
    maxBoxArea: 0.6,
  });
  const perLine: CountsResult['perLine'] = [];
  const allMatches: Match[] = [];
  const allOurs: Ours[] = [];
  let extra = 0;
  let cpuMs = 0;
  let frames = 0;
  try {
    for (const clip of clips) {
      const r = await runClip(clip, fps, detector);
      cpuMs += r.cpuMs;
      frames += r.frames;
      const gt = clip.crossings.filter((c) => c.tS >= clip.window.fromS && c.tS <= clip.window.toS);
      // Vehicles only in the totals; people crossing are reported apart.
      const gtVeh = gt.filter((c) => VEHICLE.has(c.cls));
      const oursVeh = r.ours.filter((o) => VEHICLE.has(o.cls));
      const m = matchCrossings(gtVeh, oursVeh);
      allMatches.push(...m.matches);
      allOurs.push(...r.ours);
      extra += m.extra.filter((o) => VEHICLE.has(o.cls)).length;
      for (const l of clip.lines) {
        for (const dir of ['forward', 'backward'] as const) {
          const g = gtVeh.filter((c) => c.line === l.id && c.direction === dir).length;
          const c = r.ours.filter((o) => o.line === l.id && o.direction === dir && VEHICLE.has(o.cls)).length;
          if (g === 0 && c === 0) continue;
          perLine.push({ clip: clip.name, line: l.id, direction: dir, gt: g, counted: c, errorPct: g ? pct((c - g) / g) : 100 });
        }
      }
    }
  } finally {
    await detector.close();
  }
  const classes: ObjectClass[] = ['car', 'truck', 'bus', 'motorcycle', 'bicycle'];
  const perClass = classes.map((cls) => {
    const gt = allMatches.filter((m) => m.gt.cls === cls).length;
    const counted = allOurs.filter((o) => o.cls === cls).length;
    return { cls, gt, counted, errorPct: gt ? pct((counted - gt) / gt) : counted ? 100 : 0 };
  });
  const heavy = allMatches.filter((m) => HEAVY.has(m.gt.cls));
  const two = allMatches.filter((m) => TWO_WHEEL.has(m.gt.cls));
  const totalGt = allMatches.length;
  const totalCounted = perLine.reduce((s, l) => s + l.counted, 0);
  return {
    detector: det.model,
    fps,
    totalGt,
    totalCounted,
    totalErrorPct: totalGt ? pct((totalCounted - totalGt) / totalGt) : 0,
    worstLineErrorPct: perLine.reduce((w, l) => (Math.abs(l.errorPct) > Math.abs(w) ? l.errorPct : w), 0),
    perLine,
    perClass,
    heavyFoundPct: heavy.length ? pct(heavy.filter((m) => m.ours && HEAVY.has(m.ours.cls)).length / heavy.length) : 0,
    twoWheelersAsTwoWheelerPct: two.length ? pct(two.filter((m) => m.ours && TWO_WHEEL.has(m.ours.cls)).length / two.length) : 0,
    twoWheelersAsPedestrian: allOurs.filter((o) => o.cls === 'person').filter((o) => two.some((m) => m.gt.line === o.line && Math.abs(m.gt.tS - o.tS) <= MATCH_S)).length,
    extraCounts: extra,
    cpuMsPerFrame: frames ? Math.round((cpuMs / frames) * 10) / 10 : 0,
    frames,
  };
}

/** Every detector at the demo config's 5 fps; the two leading candidates also at 10 fps. */
export const RUNS: Array<[DetectorChoice, number]> = [
  ...DETECTORS.map((d): [DetectorChoice, number] => [d, 5]),
  [DETECTORS[0]!, 10],
  [DETECTORS[3]!, 10],
];

export async function runCountsBench(runs = RUNS) {
  const clips = loadGroundTruth();
  if (clips.length === 0) throw new Error(`no hand counts in ${GT_DIR}`);
  const results: CountsResult[] = [];
  for (const [d, fps] of runs) results.push(await evaluate(d, fps, clips));
  const summary: string[] = [
    `hand counts: ${clips.length} clips, ${clips.reduce((s, c) => s + c.crossings.length, 0)} crossings (bench/ground-truth/counts, made by eye in two passes)`,
    '',
    '| detector | fps | vehicles (GT → counted) | total error | worst line | trucks+buses found | two-wheelers as two-wheeler | as pedestrian | extra | node CPU ms/frame |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.detector} | ${r.fps} | ${r.totalGt} → ${r.totalCounted} | ${r.totalErrorPct} % | ${r.worstLineErrorPct} % | ${r.heavyFoundPct} % | ${r.twoWheelersAsTwoWheelerPct} % | ${r.twoWheelersAsPedestrian} | ${r.extraCounts} | ${r.cpuMsPerFrame} |`),
  ];
  for (const r of results) {
    summary.push(`per class, ${r.detector} at ${r.fps} fps: ` + r.perClass.map((c) => `${c.cls} ${c.gt}→${c.counted} (${c.errorPct} %)`).join(', '));
  }
  return { clips: clips.map((c) => c.name), results, summary };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const only = process.argv.slice(2);
  const r = await runCountsBench(only.length ? RUNS.filter(([d]) => only.includes(d.model)) : RUNS);
  console.log(r.summary.join('\n'));
  for (const x of r.results) console.log(JSON.stringify(x.perLine));
}
