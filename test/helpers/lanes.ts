// cdnet-highway lane occupancy: Roadside's lane data over the recorded detections against the
// occupancy of the same virtual loops computed from the clip's ground-truth masks
// (bench/ground-truth/lanes/tools/occupancy-from-masks.ts). Shared by the unit test and the bench.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CameraAnalytics } from '../../appliance/src/analytics/index.js';
import type { LaneConfig } from '../../appliance/src/config/schema.js';
import type { LaneIntervalData } from '../../appliance/src/core/event-data.js';
import type { Recording } from '../../appliance/src/core/recording.js';
import { MultiObjectTracker } from '../../appliance/src/track/index.js';
import { matchByTime } from './match-crossings.js';
import { replayCameraConfig } from './replay.js';

const GT = resolve('bench/ground-truth/lanes');

interface MaskOccupancy {
  fps: number;
  firstFrame: number;
  lanes: Array<{ id: string; presence: string }>;
}

/** The lanes drawn by eye for a dev-set clip (bench/ground-truth/lanes/<clip>.lanes.json). */
export function clipLanes(clip: string): LaneConfig[] {
  return (JSON.parse(readFileSync(resolve(GT, `${clip}.lanes.json`), 'utf8')) as { lanes: LaneConfig[] }).lanes;
}

export function highwayLanes(): LaneConfig[] {
  return clipLanes('cdnet-highway');
}

export interface LaneOccupancyRow {
  laneId: string;
  /** Roadside's lane.interval occupancy (%). */
  measuredPct: number;
  /** From the masks over the same time window (%). */
  maskPct: number;
  volume: number;
  windowS: [number, number];
}

/**
 * Replays the recording through the tracker; the analytics see only the frames inside the masks'
 * annotated span, in one 60 s lane interval (partial on both ends), and the masks are read over
 * exactly the interval's observed period. Clip time 0 is the recording's first frame.
 */
export function highwayLaneOccupancy(rec: Recording): LaneOccupancyRow[] {
  const gt = JSON.parse(readFileSync(resolve(GT, 'cdnet-highway.mask-occupancy.json'), 'utf8')) as MaskOccupancy;
  const first = rec.frames[0];
  if (!first) throw new Error('empty recording');
  const t0 = first.timestampMs;
  const frameMs = 1000 / gt.fps;
  // Mask frame n (1-based) shows clip time (n - 1) / fps.
  const annotatedFromMs = t0 + (gt.firstFrame - 1) * frameMs;
  const lastMask = gt.firstFrame + (gt.lanes[0]?.presence.length ?? 0) - 1;
  const annotatedToMs = t0 + lastMask * frameMs;
  const cam = replayCameraConfig('highway', rec.header.width, rec.header.height, rec.header.fps, { lanes: highwayLanes(), laneData: { intervalSeconds: 60, lengthClasses: { lightMaxM: 6, mediumMaxM: 9, heavyMaxM: 13 } } });
  const trk = new MultiObjectTracker();
  const an = new CameraAnalytics({ camera: cam, binSeconds: [60], calibration: null });
  const data: LaneIntervalData[] = [];
  let lastMs = annotatedFromMs;
  for (const f of rec.frames) {
    const ft = trk.process({ cameraId: 'highway', seq: f.seq, timestampMs: f.timestampMs, width: cam.width, height: cam.height, detections: f.detections });
    if (f.timestampMs < annotatedFromMs || f.timestampMs >= annotatedToMs) continue;
    lastMs = f.timestampMs;
    for (const e of an.process(ft)) if (e.type === 'lane.interval') data.push(e.data as LaneIntervalData);
  }
  for (const e of an.close(Math.min(annotatedToMs, lastMs + 1000 / rec.header.fps))) if (e.type === 'lane.interval') data.push(e.data as LaneIntervalData);
  return data.map((d) => {
    const s = Date.parse(d.intervalStart);
    const e = Date.parse(d.intervalEnd);
    const presence = gt.lanes.find((l) => l.id === d.laneId)?.presence ?? '';
    let on = 0;
    let n = 0;
    for (let i = 0; i < presence.length; i++) {
      const t = t0 + (gt.firstFrame - 1 + i) * frameMs;
      if (t < s || t >= e) continue;
      n++;
      if (presence[i] === '1') on++;
    }
    return { laneId: d.laneId, measuredPct: d.occupancyPct ?? NaN, maskPct: n ? (100 * on) / n : NaN, volume: d.volume, windowS: [(s - t0) / 1000, (e - t0) / 1000] };
  });
}

interface LaneLabel {
  index: number;
  line: string;
  direction?: string;
  tS: number;
  /** null: no lane could be given by eye (a motorbike riding on the divider); matched like the others, left out of the figure. */
  lane: string | null;
}

/** The by-eye lane labels of a dev-set clip's hand-counted crossings (bench/ground-truth/lanes/<clip>.crossings.json). */
export function laneLabels(clip: string): LaneLabel[] {
  return (JSON.parse(readFileSync(resolve(GT, `${clip}.crossings.json`), 'utf8')) as { crossings: LaneLabel[] }).crossings;
}

/** Our crossing of a hand-counted line, with the lane we put it in. */
export interface LaneCrossing {
  line: string;
  direction: string;
  tS: number;
  laneId: string | null;
}

export interface LaneAgreement {
  /** Hand-counted crossings with a lane label (those labelled "no lane" are not counted here). */
  labelled: number;
  /** Labelled crossings we counted (matched within ±matchS on the same line and direction). */
  matched: number;
  /** Matched crossings we put in the labelled lane. */
  correct: number;
  wrong: Array<{ tS: number; lane: string; ours: string | null; oursTS: number }>;
}

/**
 * How a hand count and ours are paired: `position` (the figure the bench reports) — by time and by
 * where on the line, a pair whose lanes differ costing as much as a further LANE_AS_TIME_S of time
 * difference; `time` — by time only, lane-blind. Why the lane takes part: the hand times are good to
 * ±0.2 s (±0.3 s at night, bench/ground-truth/counts/README.md) and four vehicles abreast cross
 * within 0.2 s (sf-freeway-night), so time alone pairs them at random and a vehicle in the right
 * lane reads as wrong when it is compared with its neighbour's hand count. Where on the line each
 * one crossed is what tells them apart (as box overlap does in detection benchmarks), and the lane
 * label is the position the eye recorded. A lane error still shows: a crossing in the wrong lane
 * pairs with a hand count of its own lane only if one is within ~LANE_AS_TIME_S of it and that
 * count is not better explained by another of ours, so the figure can miss only two compensating
 * errors at the same moment. `time` shows the other bound; the per-lane volumes need no pairing.
 */
export type LanePairing = 'position' | 'time';

/** A lane disagreement weighs as much as this many seconds of time difference (the hand times' stated precision at night). */
export const LANE_AS_TIME_S = 0.3;

/** Our crossings matched one-to-one to the labelled ones (test/helpers/match-crossings.ts, see LanePairing), then the lanes compared. */
export function laneAgreement(labels: LaneLabel[], ours: LaneCrossing[], pairing: LanePairing = 'position', matchS = 1.5): LaneAgreement {
  const r: LaneAgreement = { labelled: labels.filter((l) => l.lane !== null).length, matched: 0, correct: 0, wrong: [] };
  const laneCost = (g: LaneLabel, o: LaneCrossing) => (pairing === 'position' && g.lane !== null && g.lane !== o.laneId ? LANE_AS_TIME_S ** 2 : 0);
  // Crossings labelled "no lane" take part in the matching (so that they keep their partner), not in the figure.
  for (const [gi, oj] of matchByTime(labels, ours, matchS, laneCost)) {
    const g = labels[gi];
    const o = ours[oj];
    if (!g || !o || g.lane === null) continue;
    r.matched++;
    if (o.laneId === g.lane) r.correct++;
    else r.wrong.push({ tS: g.tS, lane: g.lane, ours: o.laneId, oursTS: Math.round(o.tS * 100) / 100 });
  }
  return r;
}

/**
 * Volume per lane without any matching: on each labelled line, how many hand-counted crossings each
 * lane got and how many of ours (inside the counted window, ±0.5 s as in the counts bench) we put
 * in it. Shows where the lanes are right in bulk even when the time-only pairing is ambiguous.
 */
export function laneVolumes(labels: LaneLabel[], ours: LaneCrossing[], window: { fromS: number; toS: number }): Array<{ line: string; lane: string; labelled: number; ours: number }> {
  const rows = new Map<string, { line: string; lane: string; labelled: number; ours: number }>();
  const row = (line: string, lane: string) => {
    const k = `${line}\u0000${lane}`;
    let r = rows.get(k);
    if (!r) rows.set(k, (r = { line, lane, labelled: 0, ours: 0 }));
    return r;
  };
  for (const l of labels) if (l.lane !== null) row(l.line, l.lane).labelled++;
  const lines = new Set(labels.map((l) => l.line));
  const dirs = new Set(labels.flatMap((l) => (l.direction ? [l.direction] : [])));
  for (const o of ours) {
    if (!lines.has(o.line) || (dirs.size && !dirs.has(o.direction)) || o.tS < window.fromS - 0.5 || o.tS > window.toS + 0.5) continue;
    row(o.line, o.laneId ?? 'none').ours++;
  }
  return [...rows.values()].sort((a, b) => a.line.localeCompare(b.line) || a.lane.localeCompare(b.lane));
}

/** A dev-set clip's hand-counted lines (bench/ground-truth/counts) with its lanes, over recorded detections: every crossing with its lane. */
export function laneCrossings(clip: string, rec: Recording, epochMs: number): LaneCrossing[] {
  const counts = JSON.parse(readFileSync(resolve(`bench/ground-truth/counts/${clip}.json`), 'utf8')) as { lines: Array<{ id: string; from: { x: number; y: number }; to: { x: number; y: number }; direction: { x: number; y: number } }> };
  const lines = counts.lines.map((l) => ({ id: l.id, from: l.from, to: l.to, direction: l.direction, minTravel: 0.02 }));
  const cam = replayCameraConfig('gt', rec.header.width, rec.header.height, rec.header.fps, { lines, lanes: clipLanes(clip) });
  const ours: LaneCrossing[] = [];
  const trk = new MultiObjectTracker();
  const an = new CameraAnalytics({ camera: cam, binSeconds: [60], calibration: null, onCrossing: (c) => ours.push({ line: c.lineId, direction: c.direction, tS: (c.tMs - epochMs) / 1000, laneId: c.laneId }) });
  for (const f of rec.frames) an.process(trk.process({ cameraId: 'gt', seq: f.seq, timestampMs: f.timestampMs, width: cam.width, height: cam.height, detections: f.detections }));
  an.close((rec.frames.at(-1)?.timestampMs ?? epochMs) + 1);
  return ours;
}

export function highwayLaneCrossings(rec: Recording, epochMs: number): LaneCrossing[] {
  return laneCrossings('cdnet-highway', rec, epochMs);
}
