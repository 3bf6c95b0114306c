// Incident scenarios built from recorded real detections, edited by a committed script
// (bench/ground-truth/incidents/scenarios.json): a real vehicle of the recording (the "donor", found
// by where it is at a given time) is taken out and played again on a new timeline, e.g. frozen from a
// time on (a stop), played backwards (wrong way), copied beside itself (two cars side by side), or its
// identity exchanged with another track (an identity swap). Every box an actor shows is one the real
// detector drew for that vehicle (interpolated between frames), so sizes, jitter and perspective are
// real; only the timeline is made up, and the ground truth follows from it by construction.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { CameraSchema, type CameraConfig } from '../../appliance/src/config/schema.js';
import type { TrackerStage } from '../../appliance/src/core/stages.js';
import { parseRecording, type RecordedFrame, type Recording } from '../../appliance/src/core/recording.js';
import { INCIDENT_KINDS, type Box, type Detection, type DomainEvent, type FrameDetections, type FrameTracks, type IncidentKind, type ObjectClass } from '../../appliance/src/core/types.js';
import type { IncidentData } from '../../appliance/src/core/event-data.js';
import { MultiObjectTracker, bufferedIou } from '../../appliance/src/track/index.js';
import { seededRandom } from '../../appliance/src/track/synthetic.js';
import { RecordedFrameSource } from '../../appliance/src/ingest/recorded-source.js';
import { ReplayDetector } from '../../appliance/src/detect/replay-detector.js';
import { replayCamera } from '../../appliance/src/pipeline/replay.js';

export const SCENARIO_FILE = resolve('bench/ground-truth/incidents/scenarios.json');

/** A real vehicle of the base recording: the track nearest `near` (relative anchor) at `atS`. */
export interface DonorRef {
  atS: number;
  near: [number, number];
}

export interface ActorSpec {
  donor: DonorRef;
  /** [scenario s, donor s] keyframes: where along its own recorded path the actor is at each time (linear between). */
  timeline: Array<[number, number]>;
  /** [scenario s, dx, dy] keyframes: offset of the box in the donor box's own widths / heights (a copy beside the original, a swerve); linear between, held outside. */
  shift?: Array<[number, number, number]>;
  /** Box size factors [w, h] (a person beside a car: its box reshaped). */
  scale?: [number, number];
  /** Take the donor's own detections out of the recording (default true; false for a copy). */
  replace?: boolean;
  /** Class the actor is detected as (default: the donor's). */
  cls?: ObjectClass;
}

export interface ExpectedIncident {
  kind: IncidentKind;
  /** The incident exists in the scene from this time (s); detection delay is measured from it. */
  fromS: number;
  /** Detected in time when opened no later than this (s). */
  byS: number;
}

export interface ScenarioSpec {
  name: string;
  description: string;
  /** Recording under test/fixtures/detections. */
  base: string;
  /** Camera geometry (zones, stop lines); incident rules at their defaults unless given. */
  camera: Partial<CameraConfig>;
  actors?: ActorSpec[];
  /** Real vehicles taken out of the recording (the road ahead of a queue is empty). */
  remove?: DonorRef[];
  /** The tracker hands these two tracks each other's identity from atS on. */
  swap?: { atS: number; a: DonorRef; b: DonorRef };
  /** Scenario length (s, default: the base recording's). */
  seconds?: number;
  expect: ExpectedIncident[];
}

export interface Scenario {
  spec: ScenarioSpec;
  camera: CameraConfig;
  recording: Recording;
  tracker: () => TrackerStage;
}

export function loadScenarioSpecs(file = SCENARIO_FILE): ScenarioSpec[] {
  const specs = JSON.parse(readFileSync(file, 'utf8')) as ScenarioSpec[];
  for (const s of specs) for (const e of s.expect) if (!INCIDENT_KINDS.includes(e.kind)) throw new Error(`${s.name}: unknown kind ${e.kind}`);
  return specs;
}

const recordings = new Map<string, Recording>();
function baseRecording(name: string): Recording {
  let r = recordings.get(name);
  if (!r) {
    r = parseRecording(readFileSync(resolve('test/fixtures/detections', name), 'utf8'));
    recordings.set(name, r);
  }
  return r;
}

interface TrackPath {
  id: number;
  cls: ObjectClass;
  /** Matched boxes by frame index. */
  boxes: Map<number, Box>;
}

/** Runs the real tracker over the recording: each confirmed track's boxes, by frame index. */
function trackPaths(rec: Recording): Map<number, TrackPath> {
  const trk = new MultiObjectTracker();
  const paths = new Map<number, TrackPath>();
  rec.frames.forEach((f, i) => {
    const ft = trk.process(frameDetections(rec, f));
    for (const t of ft.tracks) {
      if (t.status !== 'confirmed') continue;
      let p = paths.get(t.id);
      if (!p) {
        p = { id: t.id, cls: t.cls, boxes: new Map() };
        paths.set(t.id, p);
      }
      p.cls = t.cls;
      p.boxes.set(i, { ...t.box });
    }
  });
  return paths;
}

function frameDetections(rec: Recording, f: RecordedFrame): FrameDetections {
  return { cameraId: 'scenario', seq: f.seq, timestampMs: f.timestampMs, width: rec.header.width, height: rec.header.height, detections: f.detections };
}

function findDonor(rec: Recording, paths: Map<number, TrackPath>, ref: DonorRef): TrackPath {
  const i = Math.round(ref.atS * rec.header.fps);
  let best: { p: TrackPath; d: number } | null = null;
  for (const p of paths.values()) {
    const b = p.boxes.get(i);
    if (!b) continue;
    const d = Math.hypot((b.x + b.w / 2) / rec.header.width - ref.near[0], (b.y + b.h) / rec.header.height - ref.near[1]);
    if (!best || d < best.d) best = { p, d };
  }
  if (!best || best.d > 0.1) throw new Error(`no vehicle near ${ref.near.join(',')} at ${ref.atS} s`);
  return best.p;
}

/** The donor's box at fractional frame index fi (linear between its matched frames). */
function boxAt(p: TrackPath, fi: number): Box | null {
  const idx = [...p.boxes.keys()];
  const lo = Math.max(...idx.filter((k) => k <= fi), -Infinity);
  const hi = Math.min(...idx.filter((k) => k >= fi), Infinity);
  const a = p.boxes.get(lo);
  const b = p.boxes.get(hi);
  if (!a || !b) return null;
  if (hi === lo) return { ...a };
  const t = (fi - lo) / (hi - lo);
  return { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y), w: a.w + t * (b.w - a.w), h: a.h + t * (b.h - a.h) };
}

/** Out with a real vehicle's detections: the one box of each frame that is its track's. */
function removeTrack(frames: RecordedFrame[], donor: TrackPath): void {
  for (const [i, box] of donor.boxes) {
    const f = frames[i];
    if (!f) continue;
    let best = -1;
    let bestIou = 0.3;
    f.detections.forEach((d, k) => {
      const iou = bufferedIou(d.box, box, 0);
      if (iou > bestIou) {
        bestIou = iou;
        best = k;
      }
    });
    if (best >= 0) f.detections.splice(best, 1);
  }
}

/** Piecewise-linear value of [s, v] keyframes, held before the first and after the last (0 without keys). */
function clampedAt(keys: ReadonlyArray<[number, number]>, s: number): number {
  const first = keys[0];
  const last = keys[keys.length - 1];
  if (!first || !last) return 0;
  if (s <= first[0]) return first[1];
  if (s >= last[0]) return last[1];
  return timelineAt(keys, s) ?? 0;
}

function timelineAt(keys: ReadonlyArray<[number, number]>, s: number): number | null {
  const first = keys[0];
  const last = keys[keys.length - 1];
  if (!first || !last || s < first[0] || s > last[0]) return null;
  for (let k = 1; k < keys.length; k++) {
    const a = keys[k - 1];
    const b = keys[k];
    if (a && b && s <= b[0]) return a[1] + ((b[1] - a[1]) * (s - a[0])) / Math.max(b[0] - a[0], 1e-9);
  }
  return last[1];
}

/** Builds the edited recording (and tracker) of one scenario. */
export function buildScenario(spec: ScenarioSpec): Scenario {
  const base = baseRecording(spec.base);
  const { fps, width, height } = base.header;
  const paths = trackPaths(base);
  const n = Math.round((spec.seconds ?? base.frames.length / fps) * fps);
  const t0 = base.frames[0]?.timestampMs ?? 0;
  const frames: RecordedFrame[] = Array.from({ length: n }, (_, i) => ({
    seq: i,
    timestampMs: t0 + Math.round((i * 1000) / fps),
    detections: (base.frames[i]?.detections ?? []).map((d) => ({ ...d, box: { ...d.box } })),
  }));
  const rnd = seededRandom(7);
  for (const r of spec.remove ?? []) removeTrack(frames, findDonor(base, paths, r));
  for (const a of spec.actors ?? []) {
    const donor = findDonor(base, paths, a.donor);
    if (a.replace !== false) removeTrack(frames, donor);
    const [kw, kh] = a.scale ?? [1, 1];
    for (const f of frames) {
      const s = (f.timestampMs - t0) / 1000;
      const ds = timelineAt(a.timeline, s);
      if (ds === null) continue;
      const b = boxAt(donor, ds * fps);
      if (!b) continue;
      const sx = clampedAt((a.shift ?? []).map(([t, x]) => [t, x]), s);
      const sy = clampedAt((a.shift ?? []).map(([t, , y]) => [t, y]), s);
      // A detector's box on a standing vehicle still moves by a pixel or so.
      const j = () => (rnd() - 0.5) * 1.6;
      const w = b.w * kw;
      const h = b.h * kh;
      // Reshaped about the bottom centre (where it stands).
      const box = { x: b.x + (b.w - w) / 2 + sx * b.w + j(), y: b.y + b.h - h + sy * b.h + j(), w: w + j(), h: h + j() };
      if (box.x + box.w < 0 || box.y + box.h < 0 || box.x > width || box.y > height) continue;
      const det: Detection = { box, cls: a.cls ?? donor.cls, score: 0.7 };
      f.detections.push(det);
    }
  }
  const recording: Recording = { header: { ...base.header, clip: `scenario:${spec.name}` }, frames };
  const camera = Value.Default(CameraSchema, { id: 'scenario', url: 'rtsp://127.0.0.1/scenario', fps, width, height, ...spec.camera }) as CameraConfig;
  if (!Value.Check(CameraSchema, camera)) throw new Error(`${spec.name}: invalid camera: ${[...Value.Errors(CameraSchema, camera)].map((e) => `${e.path} ${e.message}`).join('; ')}`);
  const swap = spec.swap;
  let tracker: () => TrackerStage = () => new MultiObjectTracker();
  if (swap) {
    const ids: [number, number] = [findDonor(base, paths, swap.a).id, findDonor(base, paths, swap.b).id];
    tracker = () => new SwappingTracker(ids, t0 + swap.atS * 1000);
  }
  return { spec, camera, recording, tracker };
}

/** The real tracker, except that two tracks exchange identities from a time on (an identity swap). */
export class SwappingTracker implements TrackerStage {
  private readonly inner = new MultiObjectTracker();
  constructor(private readonly ids: [number, number], private readonly atMs: number) {}
  process(fd: FrameDetections): FrameTracks {
    const ft = this.inner.process(fd);
    if (fd.timestampMs < this.atMs) return ft;
    const [a, b] = this.ids;
    return { ...ft, tracks: ft.tracks.map((t) => (t.id === a ? { ...t, id: b } : t.id === b ? { ...t, id: a } : t)) };
  }
  close(): void {
    this.inner.close();
  }
}

/** Replays a scenario through the real pipeline; its incident.opened events. */
export async function runScenario(sc: Scenario): Promise<Array<DomainEvent<IncidentData>>> {
  const r = await replayCamera({
    camera: sc.camera,
    source: new RecordedFrameSource(sc.camera.id, sc.recording),
    detector: new ReplayDetector(sc.recording),
    tracker: sc.tracker,
  });
  return r.events.filter((e) => e.type === 'incident.opened') as Array<DomainEvent<IncidentData>>;
}

export interface ScenarioScore {
  name: string;
  /** Per expected incident: the seconds from fromS to its opening, or null if missed / late. */
  detected: Array<{ kind: IncidentKind; delayS: number | null }>;
  /** Opened incidents that match no expectation. */
  falseAlarms: Array<{ kind: IncidentKind; atS: number }>;
}

/** Matches openings to expectations by kind and time window (each opening matches once). */
export function scoreScenario(sc: Scenario, opened: ReadonlyArray<DomainEvent<IncidentData>>): ScenarioScore {
  const t0 = sc.recording.frames[0]?.timestampMs ?? 0;
  const left = opened.map((e) => ({ kind: e.data.kind, atS: (e.timeMs - t0) / 1000 }));
  const detected = sc.spec.expect.map((x) => {
    const k = left.findIndex((o) => o.kind === x.kind && o.atS >= x.fromS - 0.5 && o.atS <= x.byS);
    if (k < 0) return { kind: x.kind, delayS: null };
    const [hit] = left.splice(k, 1);
    return { kind: x.kind, delayS: hit ? Math.max(0, hit.atS - x.fromS) : null };
  });
  return { name: sc.spec.name, detected, falseAlarms: left };
}

