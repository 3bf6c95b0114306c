// Privacy on real road-camera frames: every plate and face labelled by hand as readable
// (bench/ground-truth/privacy-traffic/labels.json) must end up under the mask, and the picture must stay
// useful (mean masked share per frame printed; goal <= 15 %). Also the cost: anonymize + JPEG of a busy
// traffic frame scaled to 1280x720, median of 20, inline (the work itself) and through the worker process
// (what the snapshot route pays, at the worker's low CPU priority).
// Frames are re-extracted with ffmpeg from ../shared (never committed). Only numbers are printed.
// Run alone: npx tsx bench/privacy-traffic.ts
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Box, RgbImage } from '../appliance/src/core/types.js';
import type { Detector } from '../appliance/src/detect/index.js';
import { createDetector } from '../appliance/src/detect/index.js';
import { coveredFraction, createAnonymizer, type Anonymizer } from '../appliance/src/privacy/index.js';
import { WORKER_NICE } from '../appliance/src/privacy/isolated.js';

const TRAFFIC = '../shared/data/traffic';
const LABELS = 'bench/ground-truth/privacy-traffic/labels.json';
const COVER = 0.7;

interface LabelledFrame {
  clip: string;
  time: number;
  plates: Box[];
  faces: Box[];
}

/** One frame at `time` seconds, native size, rgb24 (accurate seek: the first frame at or after it). */
export function extractFrame(clip: string, time: number): RgbImage {
  const path = join(TRAFFIC, clip);
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  const [width = NaN, height = NaN] = probe.stdout.trim().split(',').map(Number);
  const out = spawnSync('ffmpeg', ['-v', 'error', '-ss', String(time), '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 64 * 2 ** 20 });
  if (out.status !== 0 || out.stdout.length !== width * height * 3) throw new Error(`cannot extract ${clip} @ ${time}s`);
  return { width, height, data: out.stdout };
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;

export async function trafficCheck(an: Anonymizer, detector: Detector) {
  const labels = (JSON.parse(readFileSync(LABELS, 'utf8')) as { frames: LabelledFrame[] }).frames;
  const frames: Array<{ clip: string; time: number; labelled: number; masked: number; share: number }> = [];
  for (const f of labels) {
    const img = extractFrame(f.clip, f.time);
    const objects = await detector.process(img);
    const plan = await an.maskPlan(img, objects);
    const boxes = [...f.plates, ...f.faces];
    frames.push({ clip: f.clip.split('/')[0]!, time: f.time, labelled: boxes.length, masked: boxes.filter((b) => coveredFraction(b, plan.all) >= COVER).length, share: plan.maskedShare });
  }
  const labelled = frames.reduce((a, f) => a + f.labelled, 0);
  const masked = frames.reduce((a, f) => a + f.masked, 0);
  const clips = new Set(frames.map((f) => f.clip)).size;
  const meanShare = frames.reduce((a, f) => a + f.share, 0) / frames.length;
  return { frames, clips, labelled, masked, meanShare, maxShare: Math.max(...frames.map((f) => f.share)) };
}

/** A busy road frame (opendatacam, ~14 vehicles found) scaled to 1280x720. */
async function busy720p(): Promise<RgbImage> {
  const src = extractFrame('opendatacam/opendatacam_placeholder_30fps.mp4', 8);
  const data = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } }).resize(1280, 720, { fit: 'fill' }).raw().toBuffer();
  return { width: 1280, height: 720, data };
}

export async function timing720p(detector: Detector, runs: number, workerRuns: number) {
  const frame = await busy720p();
  const objects = await detector.process(frame);
  const vehicles = objects.filter((o) => o.cls !== 'person' && o.cls !== 'bicycle').length;
  const opts = { modelsDir: '../shared/models', manifestPath: 'models/manifest.json', faceModel: 'yunet_n', faceScoreThreshold: 0.3, plateModel: 'ppocr_v4_det', timeoutMs: 60_000, jpegQuality: 80 } as const;
  const time = async (an: Anonymizer, n: number): Promise<number[]> => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const copy = { ...frame, data: Buffer.from(frame.data) };
      const t = performance.now();
      await an.anonymizeToJpeg(copy, objects);
      ms.push(performance.now() - t);
    }
    return ms;
  };
  const inline = await createAnonymizer({ ...opts, isolation: 'inline' });
  await time(inline, 1); // warm-up
  const inlineMs = await time(inline, runs);
  await inline.close();
  const worker = await createAnonymizer(opts);
  await time(worker, 1);
  const workerMs = await time(worker, workerRuns);
  await worker.close();
  return { vehicles, runs, medianMs: Math.round(median(inlineMs)), minMs: Math.round(Math.min(...inlineMs)), workerRuns, workerMedianMs: Math.round(median(workerMs)) };
}

export async function runPrivacyTrafficBench(o: { runs?: number; workerRuns?: number } = {}) {
  const detector = await createDetector({ modelsDir: '../shared/models', manifestPath: 'models/manifest.json', backend: 'onnx-cpu', model: 'yolox_nano', scoreThreshold: 0.3, nmsIou: 0.45, threads: 2 });
  const an = await createAnonymizer({ modelsDir: '../shared/models', manifestPath: 'models/manifest.json', faceModel: 'yunet_n', faceScoreThreshold: 0.3, plateModel: 'ppocr_v4_det', timeoutMs: 60_000, jpegQuality: 80, isolation: 'inline' });
  const traffic = await trafficCheck(an, detector);
  await an.close();
  const timing = await timing720p(detector, o.runs ?? 20, o.workerRuns ?? 5);
  await detector.close();
  const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
  const summary = [
    `privacy traffic frames: ${traffic.masked}/${traffic.labelled} hand-labelled readable plates/faces masked >=${pct(COVER)} (${traffic.frames.length} frames from ${traffic.clips} clips); masked share per frame mean ${pct(traffic.meanShare)}, max ${pct(traffic.maxShare)} (goal <= 15%): ${traffic.frames.map((f) => `${f.clip}@${f.time}s ${pct(f.share)}`).join(', ')}`,
    `privacy 720p: anonymize + JPEG of a busy traffic frame at 1280x720 (${timing.vehicles} vehicles found): median ${timing.medianMs} ms of ${timing.runs} (min ${timing.minMs} ms) inline; through the worker process (nice ${WORKER_NICE}) median ${timing.workerMedianMs} ms of ${timing.workerRuns}`,
  ];
  return { traffic, timing, summary };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runPrivacyTrafficBench();
  console.log(JSON.stringify(r, null, 2));
}
