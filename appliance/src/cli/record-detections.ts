// `npm run record-detections -- <clip.mp4> [--fps 10] [--width W --height H] [--model M]
//   [--score S] [--out file.jsonl]` (model and score default to the demo config's detector: what ships)
// Plays a clip through the real detector (the same ClipFrameSource the replays use, every frame
// analysed) and writes what it saw, one JSON line per frame (core/recording.ts). The recording
// then replays the whole pipeline — tracker, lines, zones, incidents, events — with no model.
import { execFileSync } from 'node:child_process';
import { basename, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createDetector } from '../detect/index.js';
import { withRoi } from '../detect/roi.js';
import type { Box, EnhanceMode } from '../core/types.js';
import { RecordingDetector } from '../detect/replay-detector.js';
import { ClipFrameSource } from '../ingest/clip-source.js';
import { modelsDirFromEnv } from '../core/models.js';
import { installRoot } from '../core/paths.js';
import type { FrameSink } from '../core/stages.js';
import { loadConfigFile } from '../config/load.js';

/** The clip's own size (ffprobe), when none is asked for. */
function probeSize(clip: string): { width: number; height: number } {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', clip], { encoding: 'utf8' });
  const [w, h] = out.trim().split(',').map(Number);
  if (!w || !h) throw new Error(`cannot read the size of ${clip}`);
  return { width: w, height: h };
}

export interface RecordOptions {
  clip: string;
  out: string;
  fps: number;
  width?: number;
  height?: number;
  model: string;
  scoreThreshold: number;
  modelsDir: string;
  /** How the clip is named in the header (relative to the shared folder when it lies there). */
  clipName?: string;
  /** The detector looks only at this part of each frame (pixels; detect/roi.ts); absent: all of it. */
  roi?: Box;
  /** Low-light step before the model (detect/enhance.ts); default: the demo config's, as it ships. */
  enhance?: EnhanceMode;
}

export async function recordDetections(o: RecordOptions): Promise<{ frames: number }> {
  const size = o.width && o.height ? { width: o.width, height: o.height } : probeSize(o.clip);
  const detector = await createDetector({
    modelsDir: o.modelsDir,
    manifestPath: resolve(installRoot(), 'models/manifest.json'),
    backend: 'onnx-cpu',
    model: o.model,
    scoreThreshold: o.scoreThreshold,
    nmsIou: 0.45,
    threads: 2,
    maxBoxArea: 0.6,
    enhance: o.enhance ?? shippedDetector().enhance,
  });
  const recorder = new RecordingDetector(detector, o.out, {
    kind: 'roadside-detections',
    version: 1,
    clip: o.clipName ?? basename(o.clip),
    fps: o.fps,
    ...size,
    detector: o.model,
    scoreThreshold: o.scoreThreshold,
  });
  const source = new ClipFrameSource({ cameraId: 'record', clip: o.clip, fps: o.fps, ...size });
  let frames = 0;
  const sink: FrameSink = {
    frame: async (f) => {
      await recorder.process(withRoi(f, o.roi));
      frames++;
    },
    state: () => undefined,
  };
  source.start(sink);
  await source.ended();
  await detector.close();
  return { frames };
}

/** The shipped detector: the demo config's (its schema defaults match). */
export function shippedDetector(): { model: string; scoreThreshold: number; enhance: EnhanceMode } {
  const d = loadConfigFile(resolve(installRoot(), 'appliance/config/roadside.demo.yaml')).detector;
  return { model: d.model, scoreThreshold: d.scoreThreshold, enhance: d.enhance };
}

async function main(): Promise<void> {
  const shipped = shippedDetector();
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      fps: { type: 'string', default: '10' },
      width: { type: 'string' },
      height: { type: 'string' },
      model: { type: 'string', default: shipped.model },
      score: { type: 'string', default: String(shipped.scoreThreshold) },
      out: { type: 'string' },
    },
  });
  const clip = positionals[0];
  if (!clip) {
    console.error(`usage: npm run record-detections -- <clip.mp4> [--fps 10] [--width W --height H] [--model ${shipped.model}] [--score ${shipped.scoreThreshold}] [--out file.jsonl]`);
    process.exit(2);
  }
  const shared = resolve(installRoot(), '../shared/data');
  const abs = resolve(clip);
  const rel = relative(shared, abs);
  const fps = Number(values.fps);
  const out = values.out ?? `${basename(clip).replace(/\.[^.]+$/, '')}.${fps}fps.detections.jsonl`;
  const r = await recordDetections({
    clip: abs,
    out,
    fps,
    width: values.width ? Number(values.width) : undefined,
    height: values.height ? Number(values.height) : undefined,
    model: values.model ?? shipped.model,
    scoreThreshold: Number(values.score),
    modelsDir: modelsDirFromEnv(resolve(installRoot(), '../shared/models')),
    clipName: rel.startsWith('..') ? basename(abs) : rel,
  });
  console.log(`${r.frames} frames recorded to ${out}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
