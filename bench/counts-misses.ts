// Why each hand-counted crossing that we did not count was missed, from the recorded detections and
// the tracker's own output (`npx tsx bench/counts-misses.ts [fps ...] [--tracker '{"minHits":1}']`).
// The hand counts give a time, a line and a direction, not a position: "that vehicle's" boxes are the
// vehicle boxes whose ground point is within about one box of the line segment within ±0.6 s, less
// the boxes of tracks whose crossing of that line was matched to another hand count. Causes, first
// that applies, for the track (or untracked box) nearest in time:
//   detector      no such box: nothing to track (the detector missed it, or gave one box for two)
//   birth         boxes there, but no track was confirmed while it crossed: no track started
//                 (score under newTrackScore), a tentative track that died, or one confirmed only
//                 once past the line (its first sure side is the far one)
//   continuity    a confirmed track that never crossed: lost before the line, born past it, or both
//                 (re-born as a new id on the other side)
//   association   its crossing was counted, but matched to another hand count (one track took two
//                 vehicles, or counted off by more than the matching tolerance)
//   held          it crossed (both sides seen while confirmed) but no count came: the evidence gate
//                 (a faint track that had not travelled) or the crossing outside the segment
//   clip end      the recording ends while it is on the line (the hand count's window reaches the last frame)
// Sorting a miss uses our own output only to say where it was lost; the hand counts are never changed.
import { resolve } from 'node:path';
import { MultiObjectTracker, type TrackerOptions } from '../appliance/src/track/tracker.js';
import { DEFAULT_TRACKER_OPTIONS } from '../appliance/src/track/tracker.js';
import type { TrackerStage } from '../appliance/src/core/stages.js';
import type { Box, Detection, FrameDetections, FrameTracks, Point, Track } from '../appliance/src/core/types.js';
import { REPLAY_EPOCH_MS } from '../appliance/src/ingest/clip-source.js';
import { bufferedIou } from '../appliance/src/track/tracker.js';
import { loadGroundTruth, matchClip, replayClip, shippedDefault, type Candidate, type Clip, type GtCrossing, type GtLine, type MissesByCause, type Ours } from './counts.js';

export const CAUSES = ['detector', 'birth', 'continuity', 'association', 'held', 'clip end'] as const;
export type Cause = (typeof CAUSES)[number];

/** Half-width of the time window around a hand-counted crossing in which its boxes are looked for (s). */
const WINDOW_S = 0.6;
/** The counting line's hysteresis (bench/counts.ts draws every line with minTravel 0.02). */
const MIN_TRAVEL = 0.02;
/** The evidence gate's confident score (incidents.minEvidenceScore default). */
const EVIDENCE_SCORE = 0.5;
const VEHICLE = new Set(['car', 'truck', 'bus', 'motorcycle', 'bicycle']);

interface Obs {
  tS: number;
  /** detection box linked to the track this frame (null: tracked frame without a box, i.e. lost) */
  det: Detection | null;
  box: Box;
  /** status as handed to analytics (what the counting lines see) */
  status: Track['status'];
  /** the tracker's own status was tentative (it may still be handed on as confirmed) */
  tentative: boolean;
}

interface FrameLog {
  tS: number;
  width: number;
  height: number;
  detections: Detection[];
  /** index of the detection → id of the track it was linked to */
  owner: Map<number, number>;
}

/** Watches the tracker (run with tentative tracks in its output, which analytics ignores): which box went to which track. */
class TrackerProbe implements TrackerStage {
  readonly frames: FrameLog[] = [];
  readonly tracks = new Map<number, Obs[]>();
  constructor(private readonly inner: MultiObjectTracker) {}

  process(fd: FrameDetections): FrameTracks {
    const ft = this.inner.process(fd);
    const tS = (fd.timestampMs - REPLAY_EPOCH_MS) / 1000;
    const links = this.inner.lastFrameLinks();
    const owner = new Map<number, number>();
    const linked = new Map<number, Detection>();
    fd.detections.forEach((d, j) => {
      // The tracker's own detection objects, or (a rider fused with its two-wheeler) a box over this one.
      for (const [id, l] of links) {
        if (l.detection === d || (!owner.has(j) && !linked.has(id) && bufferedIou(l.detection.box, d.box) >= 0.5)) {
          owner.set(j, id);
          linked.set(id, d);
          if (l.detection === d) break;
        }
      }
    });
    for (const t of ft.tracks) {
      const list = this.tracks.get(t.id) ?? [];
      list.push({ tS, det: linked.get(t.id) ?? null, box: t.box, status: t.status, tentative: links.get(t.id)?.status === 'tentative' });
      this.tracks.set(t.id, list);
    }
    this.frames.push({ tS, width: fd.width, height: fd.height, detections: fd.detections, owner });
    return ft;
  }

  close(): void {
    this.inner.close();
  }
}

/** A line in relative coordinates, as analytics/counting-line.ts sees it. */
class LineGeom {
  readonly a: Point;
  readonly u: Point;
  readonly len: number;
  readonly n: Point;
  constructor(l: GtLine) {
    this.a = l.from;
    const d = { x: l.to.x - l.from.x, y: l.to.y - l.from.y };
    this.len = Math.hypot(d.x, d.y);
    this.u = { x: d.x / this.len, y: d.y / this.len };
    const left = { x: this.u.y, y: -this.u.x };
    this.n = left.x * l.direction.x + left.y * l.direction.y > 0 ? left : { x: -left.x, y: -left.y };
  }
  /** signed distance to the line (positive: forward side) and position along the segment (0..1) */
  at(p: Point): { d: number; t: number } {
    const r = { x: p.x - this.a.x, y: p.y - this.a.y };
    return { d: r.x * this.n.x + r.y * this.n.y, t: (r.x * this.u.x + r.y * this.u.y) / this.len };
  }
}

const anchorRel = (b: Box, w: number, h: number): Point => ({ x: (b.x + b.w / 2) / w, y: (b.y + b.h) / h });

export interface Miss {
  clip: string;
  gt: GtCrossing;
  cause: Cause;
  /** the finer reason, a few words (summed in the report) */
  why: string;
  detail: string;
}

interface ClipRun {
  clip: Clip;
  ours: Ours[];
  probe: TrackerProbe;
}

async function runClip(clip: Clip, c: Candidate, fps: number): Promise<ClipRun> {
  let probe: TrackerProbe | null = null;
  const tracker: Partial<TrackerOptions> = { ...(c.tracker ?? {}), outputTentative: true };
  const ours = await replayClip(clip, { ...c, tracker }, fps, (t) => {
    if (!(t instanceof MultiObjectTracker)) throw new Error('the probe needs the MultiObjectTracker');
    return (probe = new TrackerProbe(t));
  });
  if (!probe) throw new Error('tracker was not created');
  return { clip, ours, probe };
}

/** A box near the line around a hand-counted time, and the track it went to (null: none). */
interface NearBox {
  tS: number;
  det: Detection;
  trackId: number | null;
}

/** Sorts every unmatched hand-counted crossing of one clip by cause. */
export function diagnose(run: ClipRun): Miss[] {
  const { clip, ours, probe } = run;
  const { matches } = matchClip(clip, ours);
  const misses: Miss[] = [];
  for (const m of matches) {
    if (m.ours) continue;
    const g = m.gt;
    const line = clip.lines.find((l) => l.id === g.line);
    if (!line) continue;
    const ctx: LineCtx = { geom: new LineGeom(line), sgn: g.direction === 'forward' ? 1 : -1, width: clip.width, height: clip.height };
    // Tracks whose crossing of this line and direction is some other vehicle's hand count.
    const accounted = new Set(matches.filter((x) => x.ours && x.gt.line === g.line && x.gt.direction === g.direction).map((x) => x.ours?.trackId));
    const near: NearBox[] = [];
    for (const f of probe.frames) {
      if (Math.abs(f.tS - g.tS) > WINDOW_S) continue;
      f.detections.forEach((det, j) => {
        if (isNear(det.box, ctx)) near.push({ tS: f.tS, det, trackId: f.owner.get(j) ?? null });
      });
    }
    // The tracks of those boxes whose path reaches the line (measured or extrapolated) within 1 s of the hand count.
    const tracked = [...new Set(near.map((x) => x.trackId))]
      .filter((id): id is number => id !== null && !accounted.has(id))
      .map((id) => ({ id, tc: crossingTime(probe.tracks.get(id) ?? [], ctx) }))
      .filter((x): x is { id: number; tc: number } => x.tc !== null && Math.abs(x.tc - g.tS) <= 1)
      .sort((a, b) => Math.abs(a.tc - g.tS) - Math.abs(b.tc - g.tS));
    const untracked = near.filter((x) => x.trackId === null && VEHICLE.has(x.det.cls));
    const first = tracked[0];
    let verdict: Verdict;
    if (first) verdict = judgeTrack(first.id, first.tc, probe, ctx, g, ours, matches);
    else if (untracked.length) verdict = { cause: 'birth', why: Math.max(...untracked.map((x) => x.det.score)) < DEFAULT_TRACKER_OPTIONS.newTrackScore ? 'faint boxes, no track' : 'boxes, no track', detail: `no track: boxes scored ${untracked.map((x) => x.det.score.toFixed(2)).join('/')} (a track starts at ${DEFAULT_TRACKER_OPTIONS.newTrackScore})` };
    else {
      const others = [...new Set(near.map((x) => x.trackId))].filter((x) => x !== null);
      verdict = { cause: 'detector', why: others.length ? 'only boxes of other vehicles' : 'no box', detail: others.length ? `only boxes of tracks counted for other vehicles or not crossing then (#${others.join(', #')})` : 'no vehicle box near the line' };
    }
    const also = tracked.slice(1, 3).map((x) => `#${x.id} at ${x.tc.toFixed(1)} s`);
    misses.push({ clip: clip.name, gt: g, cause: verdict.cause, why: verdict.why, detail: verdict.detail + (also.length ? ` [also near: ${also.join(', ')}]` : '') });
  }
  return misses;
}

interface LineCtx {
  geom: LineGeom;
  /** +1: the hand count is forward */
  sgn: number;
  width: number;
  height: number;
}

/** Ground point within about one box (along the line's normal) of the segment. */
function isNear(b: Box, ctx: LineCtx): boolean {
  const p = ctx.geom.at(anchorRel(b, ctx.width, ctx.height));
  const extent = Math.abs(ctx.geom.n.x) * (b.w / ctx.width) + Math.abs(ctx.geom.n.y) * (b.h / ctx.height);
  return p.t >= -0.03 && p.t <= 1.03 && Math.abs(p.d) <= Math.max(extent, 0.03);
}

/** When a track's measured ground point crossed the line in the hand count's direction (interpolated), or would have (extrapolated); null if it moves the other way. */
function crossingTime(obs: readonly Obs[], ctx: LineCtx): number | null {
  const pts = obs.filter((o) => o.det).map((o) => ({ tS: o.tS, d: ctx.sgn * ctx.geom.at(anchorRel(o.det!.box, ctx.width, ctx.height)).d }));
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    if (a.d < 0 && b.d >= 0) return a.tS + ((b.tS - a.tS) * -a.d) / (b.d - a.d);
  }
  if (pts.length < 2) return pts[0] && Math.abs(pts[0].d) < 0.03 ? pts[0].tS : null;
  const a = pts[0]!;
  const b = pts[pts.length - 1]!;
  const v = (b.d - a.d) / Math.max(b.tS - a.tS, 1e-3);
  if (v <= 1e-3) return null;
  return b.d < 0 ? b.tS - b.d / v : a.tS - a.d / v;
}

interface Verdict {
  cause: Cause;
  why: string;
  detail: string;
}

function judgeTrack(id: number, tc: number, probe: TrackerProbe, ctx: LineCtx, g: GtCrossing, ours: readonly Ours[], matches: ReturnType<typeof matchClip>['matches']): Verdict {
  const obs = probe.tracks.get(id) ?? [];
  const measured = obs.filter((o) => o.det);
  const scores = measured.map((o) => o.det!.score);
  const peak = Math.max(...scores);
  const at = `#${id} (reaches the line ${tc.toFixed(1)} s, peak score ${peak.toFixed(2)})`;
  // What the counting line saw: the boxes handed on as confirmed.
  const confirmed = measured.filter((o) => o.status === 'confirmed');
  if (measured.every((o) => o.tentative)) return { cause: 'birth', why: 'never confirmed', detail: `${at} never confirmed: ${measured.length} tentative box(es)${confirmed.length ? ' (seen by the line)' : ''}` };
  const counted = ours.find((o) => o.trackId === id && o.line === g.line && o.direction === g.direction);
  if (counted) {
    const other = matches.find((x) => x.ours === counted);
    return other ? { cause: 'association', why: 'counted for another hand count', detail: `${at} counted at ${counted.tS.toFixed(1)} s for the hand count at ${other.gt.tS.toFixed(1)} s` } : { cause: 'held', why: 'counted too late or early', detail: `${at} counted only at ${counted.tS.toFixed(1)} s, outside the matching tolerance` };
  }
  const side = (o: Obs) => {
    const p = ctx.geom.at(anchorRel(o.det?.box ?? o.box, ctx.width, ctx.height));
    return Math.abs(p.d) < MIN_TRAVEL ? 0 : ctx.sgn * Math.sign(p.d);
  };
  const sides = confirmed.map(side);
  const near = sides.indexOf(-1);
  const far = sides.lastIndexOf(1);
  if (near >= 0 && far > near) {
    const b0 = confirmed[0]!.det!.box;
    const moved = confirmed.some((o) => Math.hypot(o.det!.box.x + o.det!.box.w / 2 - (b0.x + b0.w / 2), o.det!.box.y + o.det!.box.h - (b0.y + b0.h)) >= o.det!.box.h);
    const why = peak < EVIDENCE_SCORE && !moved ? 'evidence gate (faint, not travelled)' : 'crossing outside the segment';
    return { cause: 'held', why, detail: `${at} crossed but not counted: ${why}` };
  }
  const firstConf = confirmed[0]!;
  const firstSure = sides.find((s) => s !== 0) ?? 0;
  const earlier = measured.filter((o) => o.tS < firstConf.tS);
  if (firstSure === 1 && earlier.some((o) => side(o) !== 1)) {
    return { cause: 'birth', why: 'confirmed only past the line', detail: `${at} confirmed only at ${firstConf.tS.toFixed(1)} s, past the line (first box ${measured[0]!.tS.toFixed(1)} s, ${earlier.length} tentative)` };
  }
  if (firstSure === 1 || (near < 0 && far >= 0)) {
    const onLine = side(measured[0]!) === 0;
    return { cause: 'continuity', why: onLine ? "born on the line (in its hysteresis band)" : 'born past the line', detail: `${at} born ${onLine ? 'on' : 'past'} the line at ${measured[0]!.tS.toFixed(1)} s${bornAfterLost(id, probe, ctx, measured[0]!.tS)}` };
  }
  const last = confirmed[confirmed.length - 1]!;
  if (near < 0) return { cause: 'continuity', why: "never left the line's band", detail: `${at} never left the line's band (${confirmed.length} boxes ${firstConf.tS.toFixed(1)}–${last.tS.toFixed(1)} s)` };
  const end = obs[obs.length - 1]!;
  const lastFrame = probe.frames[probe.frames.length - 1];
  if (lastFrame && lastFrame.tS - last.tS < 0.25 && lastFrame.tS - g.tS < 0.5) return { cause: 'clip end', why: 'the recording ends at the line', detail: `${at} last box ${last.tS.toFixed(1)} s, the recording ends at ${lastFrame.tS.toFixed(1)} s` };
  // Lost before the line: did the detector box it again near where the track predicted it, within 1 s?
  if (!boxedAgain(obs, last.tS, probe)) return { cause: 'detector', why: 'boxes stop before the line', detail: `${at} lost before the line: last box ${last.tS.toFixed(1)} s, no box near its predicted path in the next 1 s` };
  return { cause: 'continuity', why: 'lost before the line', detail: `${at} lost before the line: last box ${last.tS.toFixed(1)} s, kept as lost to ${end.tS.toFixed(1)} s${rebornAs(id, probe, ctx, last.tS)}` };
}

/** A vehicle box within about one box of a lost track's predicted box within 1 s after its last box. */
function boxedAgain(obs: readonly Obs[], lastS: number, probe: TrackerProbe): boolean {
  const predicted = new Map(obs.filter((o) => o.tS > lastS && o.tS <= lastS + 1.001).map((o) => [o.tS.toFixed(2), o.box]));
  for (const f of probe.frames) {
    if (f.tS <= lastS || f.tS > lastS + 1.001) continue;
    // After the track was dropped, its last prediction stands in.
    const p = predicted.get(f.tS.toFixed(2)) ?? [...predicted.values()].pop() ?? obs[obs.length - 1]!.box;
    const pc = { x: p.x + p.w / 2, y: p.y + p.h / 2 };
    if (f.detections.some((d) => VEHICLE.has(d.cls) && Math.hypot(d.box.x + d.box.w / 2 - pc.x, d.box.y + d.box.h / 2 - pc.y) <= 1.5 * Math.max(d.box.h, p.h))) return true;
  }
  return false;
}

/** " (re-born as #k …)" when a track first seen past the line takes over within 2 s. */
function rebornAs(id: number, probe: TrackerProbe, ctx: LineCtx, lostS: number): string {
  for (const [k, obs] of probe.tracks) {
    const first = obs.find((o) => o.det);
    if (k === id || !first || first.tS <= lostS || first.tS - lostS > 2) continue;
    const p = ctx.geom.at(anchorRel(first.det!.box, ctx.width, ctx.height));
    if (ctx.sgn * p.d > 0 && Math.abs(p.d) < 0.15 && p.t > -0.05 && p.t < 1.05) return ` (re-born as #${k} past the line at ${first.tS.toFixed(1)} s?)`;
  }
  return '';
}

/** " (after #k was lost on the near side …)" when a track died just before this one was born past the line. */
function bornAfterLost(id: number, probe: TrackerProbe, ctx: LineCtx, bornS: number): string {
  for (const [k, obs] of probe.tracks) {
    const measured = obs.filter((o) => o.det && o.status === 'confirmed');
    const last = measured[measured.length - 1];
    if (k === id || !last || last.tS > bornS || bornS - last.tS > 2) continue;
    const p = ctx.geom.at(anchorRel(last.det!.box, ctx.width, ctx.height));
    if (ctx.sgn * p.d < 0 && Math.abs(p.d) < 0.15 && p.t > -0.05 && p.t < 1.05) return ` (re-born? #${k} lost on the near side at ${last.tS.toFixed(1)} s)`;
  }
  return '';
}

export async function diagnoseAll(c: Candidate, fps: number, clips: Clip[] = loadGroundTruth()): Promise<Miss[]> {
  const out: Miss[] = [];
  for (const clip of clips) out.push(...diagnose(await runClip(clip, c, fps)));
  return out;
}

/** The counts bench's section on misses: the table by cause per clip, and the finer reasons. */
export const missesByCause: MissesByCause = async (c, fps, clips) => {
  const m = await diagnoseAll(c, fps, clips);
  return { byCause: summaryLines(m, clips.map((x) => x.name)), byReason: whyLines(m) };
};

export function summaryLines(misses: readonly Miss[], clips: readonly string[]): string[] {
  const rows = ['| clip | ' + CAUSES.join(' | ') + ' | all |', '|---|' + CAUSES.map(() => '---|').join('') + '---|'];
  for (const clip of [...clips, 'total']) {
    const mine = clip === 'total' ? misses : misses.filter((m) => m.clip === clip);
    rows.push(`| ${clip} | ${CAUSES.map((c) => mine.filter((m) => m.cause === c).length).join(' | ')} | ${mine.length} |`);
  }
  return rows;
}

/** Misses by cause and finer reason. */
export function whyLines(misses: readonly Miss[]): string[] {
  const n = new Map<string, number>();
  for (const m of misses) n.set(`${m.cause}: ${m.why}`, (n.get(`${m.cause}: ${m.why}`) ?? 0) + 1);
  return [...n].sort((a, b) => CAUSES.indexOf(a[0].split(':')[0] as Cause) - CAUSES.indexOf(b[0].split(':')[0] as Cause) || b[1] - a[1]).map(([k, v]) => `- ${k}: ${v}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--tracker');
  const tracker = ti >= 0 ? (JSON.parse(args[ti + 1] ?? '{}') as Partial<TrackerOptions>) : undefined;
  const fpsList = args.filter((a, i) => /^\d+$/.test(a) && !(ti >= 0 && i === ti + 1)).map(Number);
  const { candidate, fps } = shippedDefault();
  const c = tracker ? { ...candidate, tracker } : candidate;
  const clips = loadGroundTruth();
  for (const f of fpsList.length ? fpsList : [fps, 10]) {
    const misses = await diagnoseAll(c, f, clips);
    console.log(`\n## misses at ${f} fps (${resolve('bench/ground-truth/counts')}; ${c.tracker ? `tracker ${JSON.stringify(c.tracker)}` : 'shipped tracker'})`);
    for (const m of misses) console.log(`${m.clip} ${m.gt.line} ${m.gt.direction} ${m.gt.tS.toFixed(1)} s ${m.gt.cls}: ${m.cause} — ${m.detail}`);
    console.log(['', ...summaryLines(misses, clips.map((x) => x.name)), '', ...whyLines(misses)].join('\n'));
  }
}
