// Lane data on real video: cdnet-highway through the real detector (the shipped default model) at
// the demo camera's default fps and at 10 fps, tracker and lane analytics. Prints, per lane, the
// occupancy of its virtual loop over the masks' annotated span (one 60 s lane interval, partial at
// both ends) beside the occupancy computed from the clip's ground-truth masks
// (bench/ground-truth/lanes/tools/occupancy-from-masks.ts), and the share of the hand-counted
// crossings put in the lane labelled by eye (bench/ground-truth/lanes/cdnet-highway.crossings.json).
import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { createDetector } from '../appliance/src/detect/index.js';
import { ConfigSchema, type Config } from '../appliance/src/config/schema.js';
import type { Recording } from '../appliance/src/core/recording.js';
import { decodeFrames } from '../test/helpers/clips.js';
import { highwayLaneCrossings, highwayLaneOccupancy, laneAgreement, laneLabels } from '../test/helpers/lanes.js';

const SHARED = resolve(process.env.ROADSIDE_SHARED ?? '../shared');
const CLIP = 'traffic/cdnet-highway/highway_cdnet_30fps.mp4';
const W = 320;
const H = 240;
const EPOCH = Date.UTC(2026, 0, 1);

async function record(fps: number, model: string, scoreThreshold: number): Promise<{ rec: Recording; cpuMsPerFrame: number }> {
  const frames = await decodeFrames(resolve(SHARED, 'data', CLIP), { fps, width: W, height: H, startMs: EPOCH });
  const det = await createDetector({ modelsDir: resolve(SHARED, 'models'), manifestPath: resolve('models/manifest.json'), backend: 'onnx-cpu', model, scoreThreshold, nmsIou: 0.45, threads: 2, maxBoxArea: 0.6 });
  const rec: Recording = { header: { kind: 'roadside-detections', version: 1, clip: CLIP, fps, width: W, height: H, detector: model, scoreThreshold }, frames: [] };
  const cpu0 = process.cpuUsage();
  try {
    for (const f of frames) rec.frames.push({ seq: f.seq, timestampMs: f.timestampMs, detections: await det.process(f) });
  } finally {
    await det.close();
  }
  const cpu = process.cpuUsage(cpu0);
  return { rec, cpuMsPerFrame: Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, frames.length)) * 10) / 10 };
}

export async function runLanesBench() {
  const defaults = Value.Default(ConfigSchema, {}) as Config;
  const model = defaults.detector.model;
  const demoFps = (Value.Default(ConfigSchema, { cameras: [{ id: 'x', url: 'rtsp://x/' }] }) as Config).cameras[0]?.fps ?? 5;
  const fpsList = [...new Set([demoFps, 10])];
  const summary: string[] = [
    `cdnet-highway, detector ${model} (score ≥ ${defaults.detector.scoreThreshold}), lanes and loops of bench/ground-truth/lanes/cdnet-highway.lanes.json`,
    '',
    '| fps | lane | occupancy measured % | occupancy from masks % | difference pp | volume | lane assignment |',
    '|---|---|---|---|---|---|---|',
  ];
  const runs: Array<Record<string, unknown>> = [];
  for (const fps of fpsList) {
    const { rec, cpuMsPerFrame } = await record(fps, model, defaults.detector.scoreThreshold);
    const occ = highwayLaneOccupancy(rec);
    const lanes = laneAgreement(laneLabels('cdnet-highway'), highwayLaneCrossings(rec, EPOCH));
    for (const r of occ) {
      const diff = Math.round((r.measuredPct - r.maskPct) * 100) / 100;
      summary.push(`| ${fps} | ${r.laneId} | ${r.measuredPct} | ${r.maskPct.toFixed(2)} | ${diff > 0 ? '+' : ''}${diff} | ${r.volume} | ${lanes.correct}/${lanes.matched} of ${lanes.labelled} labelled |`);
    }
    runs.push({ fps, cpuMsPerFrame, occupancy: occ, laneAssignment: lanes, windowS: occ[0]?.windowS });
  }
  summary.push('', 'Acceptance: each lane within 3 pp of the masks over the interval; ≥ 95 % of the matched hand-counted crossings in the lane labelled by eye.');
  return { summary, model, runs };
}
