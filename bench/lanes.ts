// Lane data on real video, from the counts bench's recordings of the shipped default detector
// (var/counts-rec: every dev-set clip at 10 fps, recorded once with the real model; 5 fps is every
// other frame, as in the counts bench) replayed through the tracker and the lane analytics.
// - Occupancy: cdnet-highway, per lane, the occupancy of its virtual loop over the masks' annotated
//   span (one 60 s lane interval, partial at both ends) beside the occupancy computed from the clip's
//   ground-truth masks (bench/ground-truth/lanes/tools/occupancy-from-masks.ts).
// - Lane assignment: every clip and line with lanes labelled by eye
//   (bench/ground-truth/lanes/<clip>.crossings.json): our crossings matched one-to-one to the
//   hand-counted ones by time and place (a lane disagreement weighs as 0.3 s, the hand times'
//   precision; test/helpers/lanes.ts laneAgreement), and the share put in the labelled lane; beside
//   it the same by time only (lane-blind), the bound where every near-simultaneous pair is taken in
//   time order whatever the lanes say.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from '../appliance/src/config/schema.js';
import type { Recording } from '../appliance/src/core/recording.js';
import { LANE_AS_TIME_S, highwayLaneOccupancy, laneAgreement, laneCrossings, laneLabels, laneVolumes } from '../test/helpers/lanes.js';
import { loadGroundTruth, recordingOf } from './counts.js';

const RECORD_FPS = 10;

/** The shipped detector's answer on every frame analysed at `fps`, from the 10 fps recording. */
function atFps(rec: Recording, fps: number, scoreThreshold: number): Recording {
  const step = RECORD_FPS / fps;
  if (!Number.isInteger(step)) throw new Error(`fps ${fps} does not divide the recorded ${RECORD_FPS}`);
  const frames = rec.frames.filter((f) => f.seq % step === 0).map((f, i) => ({ seq: i, timestampMs: f.timestampMs, detections: f.detections.filter((d) => d.score >= scoreThreshold) }));
  return { header: { ...rec.header, fps, scoreThreshold }, frames };
}

export async function runLanesBench() {
  const defaults = Value.Default(ConfigSchema, {}) as Config;
  const model = defaults.detector.model;
  const enhance = defaults.detector.enhance;
  const score = defaults.detector.scoreThreshold;
  const demoFps = (Value.Default(ConfigSchema, { cameras: [{ id: 'x', url: 'rtsp://x/' }] }) as Config).cameras[0]?.fps ?? 5;
  const fpsList = [...new Set([demoFps, 10])];
  const clips = loadGroundTruth().filter((c) => existsSync(resolve('bench/ground-truth/lanes', `${c.name}.crossings.json`)));
  const summary: string[] = [
    `Occupancy: cdnet-highway, detector ${model} (score ≥ ${score}, enhance ${enhance}), loops of bench/ground-truth/lanes/cdnet-highway.lanes.json, over the masks' annotated span`,
    '',
    '| fps | lane | occupancy measured % | occupancy from masks % | difference pp | volume |',
    '|---|---|---|---|---|---|',
  ];
  const assignment: string[] = [
    '',
    `Lane assignment: hand-counted crossings matched one-to-one to ours by time and place (±1.5 s, same line and direction, least total Δt² plus (${LANE_AS_TIME_S} s)² where the lanes differ — the hand times' precision —, half the tolerance² per crossing left unmatched), lane labelled by eye; "time only": the same pairing lane-blind (near-simultaneous crossings taken in time order whatever their lanes)`,
    '',
    '| clip | lines labelled | fps | matched / labelled | in the right lane | share | time only | wrong (labelled → ours, at s) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const volumes: string[] = ['', 'Volume per lane, no matching: hand-counted (labelled) → ours, on the labelled lines inside the counted window', '', '| clip | fps | line: lane labelled → ours |', '|---|---|---|'];
  const runs: Array<Record<string, unknown>> = [];
  for (const fps of fpsList) {
    let correct = 0;
    let matched = 0;
    let labelled = 0;
    let correctByTime = 0;
    let matchedByTime = 0;
    for (const clip of clips) {
      const rec = atFps(await recordingOf(clip, model, 'full', enhance), fps, score);
      const epoch = rec.frames[0]?.timestampMs ?? 0;
      const labels = laneLabels(clip.name);
      const ours = laneCrossings(clip.name, rec, epoch);
      const lanes = laneAgreement(labels, ours);
      const byTime = laneAgreement(labels, ours, 'time');
      correctByTime += byTime.correct;
      matchedByTime += byTime.matched;
      const vol = laneVolumes(labels, ours, clip.window);
      volumes.push(`| ${clip.name} | ${fps} | ${vol.map((v) => `${v.line}: ${v.lane} ${v.labelled} → ${v.ours}`).join('; ')} |`);
      correct += lanes.correct;
      matched += lanes.matched;
      labelled += lanes.labelled;
      const wrong = lanes.wrong.map((w) => `${w.lane} → ${w.ours ?? 'none'} at ${w.tS}`).join('; ');
      const lines = [...new Set(labels.map((l) => l.line))].join(', ');
      assignment.push(`| ${clip.name} | ${lines} | ${fps} | ${lanes.matched} / ${lanes.labelled} | ${lanes.correct} | ${pct(lanes.correct, lanes.matched)} % | ${byTime.correct}/${byTime.matched} = ${pct(byTime.correct, byTime.matched)} % | ${wrong} |`);
      const occ = clip.name === 'cdnet-highway' ? highwayLaneOccupancy(rec) : [];
      for (const r of occ) {
        const diff = Math.round((r.measuredPct - r.maskPct) * 100) / 100;
        summary.push(`| ${fps} | ${r.laneId} | ${r.measuredPct} | ${r.maskPct.toFixed(2)} | ${diff > 0 ? '+' : ''}${diff} | ${r.volume} |`);
      }
      runs.push({ clip: clip.name, fps, occupancy: occ, laneAssignment: lanes, laneAssignmentTimeOnly: byTime, laneVolumes: vol });
    }
    assignment.push(`| all | | ${fps} | ${matched} / ${labelled} | ${correct} | ${pct(correct, matched)} % | ${correctByTime}/${matchedByTime} = ${pct(correctByTime, matchedByTime)} % | |`);
  }
  summary.push(
    ...assignment,
    ...volumes,
    '',
    'Acceptance: each lane within 3 pp of the masks over the interval; ≥ 95 % of the matched hand-counted crossings in the lane labelled by eye (paired by time and place).',
  );
  return { summary, model, runs };
}

function pct(n: number, d: number): number {
  return d ? Math.round((1000 * n) / d) / 10 : 0;
}
