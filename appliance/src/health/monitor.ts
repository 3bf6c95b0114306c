// Health of one camera's picture: once per sampleSeconds it takes small grey copies of the analysed
// frame, measures them, compares them with the camera's own reference, and turns each check's verdict
// into a problem with hysteresis (open after the fault persisted openSeconds, close after the picture
// was healthy closeSeconds), emitted as camera.health opened/updated/closed. Numbers only leave.
import type { HealthConfig } from '../config/schema.js';
import type { CameraHealthData } from '../core/event-data.js';
import { HEALTH_CHECKS, type DataQualityFlag, type Detection, type DomainEvent, type Frame, type HealthCheck, type HealthEventState } from '../core/types.js';
import { SMALL_H, SMALL_W, blockStd, change, edgeMap, exposure, greySample, laplacianVariance, pixelMedian, FINE_H, FINE_W } from './image-stats.js';
import type { CheckState, HealthStatus } from '../core/health-status.js';
import { ReferenceLearner, type HealthReference, type ReferenceStore } from './reference.js';
import { estimateShift } from './registration.js';

export const HEALTH_FLAG: Record<HealthCheck, DataQualityFlag> = {
  frozen: 'camera-frozen',
  covered: 'camera-covered',
  defocused: 'camera-defocused',
  moved: 'camera-moved',
  dark: 'camera-dark',
  overexposed: 'camera-overexposed',
};

/** A check's verdict on one sample: fault, healthy, or no evidence (null). */
type Verdict = { fault: boolean; measures: Record<string, number> } | null;

interface CheckTrack {
  state: CheckState;
  faultSinceMs: number | null;
  healthySinceMs: number | null;
  /** Consecutive healthy samples while pending: one healthy blip does not restart the clock. */
  healthyRun: number;
  openedAtMs: number | null;
  lastEmitMs: number;
  healthId: string | null;
  measures: Record<string, number>;
}

export interface HealthMonitorOptions {
  cameraId: string;
  /** Analysed frame size (a stored reference of another size is not used). */
  width: number;
  height: number;
  config: HealthConfig;
  store?: ReferenceStore | null;
}

const HISTORY = 5;
/** Healthy samples in a row that reset a pending (not yet open) fault. */
const RESET_RUN = 2;

export class CameraHealthMonitor {
  readonly cameraId: string;
  private cfg: HealthConfig;
  private readonly store: ReferenceStore | null;
  private reference: HealthReference | null;
  private learner: ReferenceLearner;
  private referenceFrame: { frame: Frame; detections: Detection[] } | null = null;
  private referenceJpeg: Buffer | null;
  private readonly checks = new Map<HealthCheck, CheckTrack>();
  private history: Float32Array[] = [];
  private prevFine: Float32Array | null = null;
  private lastSampleMs = Number.NEGATIVE_INFINITY;
  private seq = 0;

  constructor(o: HealthMonitorOptions) {
    this.cameraId = o.cameraId;
    this.cfg = o.config;
    this.store = o.store ?? null;
    this.reference = this.store?.load(o.cameraId, o.width, o.height) ?? null;
    this.referenceJpeg = this.reference ? (this.store?.loadJpeg(o.cameraId) ?? null) : null;
    this.learner = this.newLearner();
    for (const c of HEALTH_CHECKS) this.checks.set(c, blankTrack());
  }

  configure(cfg: HealthConfig): void {
    this.cfg = cfg;
  }

  /** Feeds an analysed frame; samples at most once per sampleSeconds. */
  observe(frame: Frame, detections: Detection[]): DomainEvent<CameraHealthData>[] {
    if (!this.cfg.enabled) return [];
    const t = frame.timestampMs;
    if (t - this.lastSampleMs < this.cfg.sampleSeconds * 1000 - 1) return [];
    this.lastSampleMs = t;
    return this.sample(frame, detections, t);
  }

  /** Data-quality flags of the open problems (what the intervals of this moment carry). */
  flags(): DataQualityFlag[] {
    const out: DataQualityFlag[] = [];
    for (const [c, tr] of this.checks) if (tr.state === 'open') out.push(HEALTH_FLAG[c]);
    return out;
  }

  isOpen(check: HealthCheck): boolean {
    return this.checks.get(check)!.state === 'open';
  }

  status(): HealthStatus {
    return {
      enabled: this.cfg.enabled,
      reference: this.reference ? 'ready' : 'learning',
      referenceTakenAt: this.reference ? new Date(this.reference.takenAtMs).toISOString() : null,
      checks: HEALTH_CHECKS.map((c) => {
        const tr = this.checks.get(c)!;
        const since = tr.state === 'open' ? tr.openedAtMs : tr.state === 'pending' ? tr.faultSinceMs : null;
        return { check: c, state: tr.state, since: since === null ? null : new Date(since).toISOString(), measures: { ...tr.measures } };
      }),
      flags: this.flags(),
      suspect: this.isOpen('moved'),
    };
  }

  /**
   * The installer confirmed the view (or drew new lines, or calibrated): the reference is learned
   * again from the next healthy samples, and the problems measured against the old one close now.
   */
  retakeReference(nowMs: number): DomainEvent<CameraHealthData>[] {
    this.reference = null;
    this.referenceFrame = null;
    this.referenceJpeg = null;
    this.store?.forget(this.cameraId);
    this.learner = this.newLearner();
    const events: DomainEvent<CameraHealthData>[] = [];
    for (const c of ['covered', 'defocused', 'moved'] as const) events.push(...this.reset(c, nowMs));
    return events;
  }

  /** The stream was lost: the next frames are not the successors of the last ones. */
  streamLost(): void {
    this.history = [];
    this.prevFine = null;
  }

  /** The camera stops being watched: every open problem closes. */
  closeAll(nowMs: number): DomainEvent<CameraHealthData>[] {
    return HEALTH_CHECKS.flatMap((c) => this.reset(c, nowMs));
  }

  /** Raw reference frame (in memory only) for the anonymizer; null when only the stored JPEG exists. */
  referenceRaw(): { frame: Frame; detections: Detection[] } | null {
    return this.referenceFrame;
  }

  /** The anonymized reference JPEG, once made. */
  anonymizedReference(): Buffer | null {
    return this.referenceJpeg;
  }

  /** Keeps the anonymized reference (never call this with anything the Anonymizer did not produce). */
  setAnonymizedReference(jpeg: Buffer, forTakenAtMs: number): void {
    if (!this.reference || this.reference.takenAtMs !== forTakenAtMs) return;
    this.referenceJpeg = jpeg;
    this.store?.saveJpeg(this.cameraId, jpeg);
  }

  referenceTakenAtMs(): number | null {
    return this.reference?.takenAtMs ?? null;
  }

  private newLearner(): ReferenceLearner {
    return new ReferenceLearner(Math.max(3, Math.ceil(this.cfg.learnSeconds / this.cfg.sampleSeconds)));
  }

  private sample(frame: Frame, detections: Detection[], t: number): DomainEvent<CameraHealthData>[] {
    const g = greySample(frame);
    const exp = exposure(g.small);
    const sharpness = laplacianVariance(g.fine, FINE_W, FINE_H);
    const blocks = blockStd(g.small);
    const diff = this.prevFine ? change(this.prevFine, g.fine) : null;
    this.prevFine = g.fine;
    this.history.push(g.small);
    if (this.history.length > HISTORY) this.history.shift();
    const cfg = this.cfg;

    const verdicts = new Map<HealthCheck, Verdict>();
    const litFraction = 1 - exp.darkFraction;
    const dark = exp.mean < cfg.dark.maxMeanLuma && litFraction < cfg.dark.minLitFraction;
    verdicts.set('dark', { fault: dark, measures: { meanLuma: round(exp.mean, 1), litFraction: round(litFraction, 4) } });
    const over = exp.brightFraction >= cfg.overexposed.minSaturatedFraction;
    verdicts.set('overexposed', { fault: over, measures: { saturatedFraction: round(exp.brightFraction, 4), meanLuma: round(exp.mean, 1) } });
    // A black or white picture does not change whether or not the stream is frozen: no evidence then.
    const frozen = diff !== null && diff.changedFraction <= cfg.frozen.maxChangedFraction && diff.meanAbsDiff <= cfg.frozen.maxMeanAbsDiff;
    verdicts.set('frozen', diff && !dark && !over ? { fault: frozen, measures: { meanAbsDiff: round(diff.meanAbsDiff, 3), changedFraction: round(diff.changedFraction, 5) } } : null);

    const ref = this.reference;
    if (!ref) {
      if (!frozen && !dark && !over) {
        const edges = edgeMap(g.small, SMALL_W, SMALL_H);
        const r = this.learner.offer({ small: g.small, edges, meanLuma: exp.mean, sharpness, blockStd: blocks }, t);
        if (r) this.adopt(r, frame, detections);
      }
    } else {
      const covered = coveredFraction(blocks, ref.blockStd);
      // A picture too dark to see is 'dark', not also 'covered': a flat black frame has no blocks to tell apart.
      // A frozen picture is stale: the scene behind it is unknown (its stopped vehicles look like a changed scene).
      const isCovered = !dark && covered.textured >= 4 && covered.fraction >= cfg.covered.minFraction;
      verdicts.set('covered', dark || frozen ? null : { fault: isCovered, measures: { coveredFraction: round(covered.fraction, 3), texturedBlocks: covered.textured } });
      // Blur, dark and cover all flatten the picture: sharpness and edges mean nothing under the latter two.
      const blind = isCovered || dark || over || frozen;
      const ratio = ref.sharpness > 0 ? sharpness / ref.sharpness : 1;
      verdicts.set('defocused', blind ? null : { fault: ratio < cfg.defocused.maxSharpnessRatio, measures: { sharpnessRatio: round(ratio, 3) } });
      verdicts.set('moved', blind ? null : this.movedVerdict(ref, this.sceneEdges(g.small), frame.width, frame.height));
    }

    const events: DomainEvent<CameraHealthData>[] = [];
    for (const c of HEALTH_CHECKS) {
      const v = verdicts.get(c);
      if (v === undefined) {
        if (!ref) this.checks.get(c)!.state = this.checks.get(c)!.state === 'open' ? 'open' : 'unknown';
        continue;
      }
      events.push(...this.step(c, v, t));
    }
    return events;
  }

  /** Edges of the static scene: the per-pixel median of the last 3 or 5 samples drops passing traffic. */
  private sceneEdges(current: Float32Array): Float32Array {
    const n = this.history.length;
    const scene = n >= 3 ? pixelMedian(this.history.slice(n % 2 ? 0 : 1)) : current;
    return edgeMap(scene, SMALL_W, SMALL_H);
  }

  private movedVerdict(ref: HealthReference, sceneEdges: Float32Array, width: number, height: number): Verdict {
    const est = estimateShift(ref.edges, sceneEdges, SMALL_W, SMALL_H);
    const sx = (est.dx * width) / SMALL_W;
    const sy = (est.dy * height) / SMALL_H;
    const shiftPx = Math.hypot(sx, sy);
    const shiftRel = Math.hypot(est.dx / SMALL_W, (est.dy * (height / width)) / SMALL_H);
    const shifted = shiftRel >= this.cfg.moved.minShift && est.peak > est.zero + 0.05;
    const unrecognised = Math.max(est.peak, est.zero) < this.cfg.moved.minCorrelationRatio * ref.selfCorrelation;
    return {
      fault: shifted || unrecognised,
      measures: {
        shiftX: round(sx, 1),
        shiftY: round(sy, 1),
        shiftPx: round(shiftPx, 1),
        correlation: round(est.zero, 3),
        peakCorrelation: round(est.peak, 3),
        referenceCorrelation: round(ref.selfCorrelation, 3),
      },
    };
  }

  private adopt(r: HealthReference, frame: Frame, detections: Detection[]): void {
    this.reference = r;
    // A private copy of the raw frame (memory only): the anonymizer blurs a copy of it on request.
    this.referenceFrame = { frame: { ...frame, data: Buffer.from(frame.data) }, detections: detections.map((d) => ({ ...d, box: { ...d.box } })) };
    this.referenceJpeg = null;
    this.store?.save(this.cameraId, r, frame.width, frame.height);
  }

  /** Hysteresis of one check on one sample's verdict. */
  private step(c: HealthCheck, v: Verdict, t: number): DomainEvent<CameraHealthData>[] {
    const tr = this.checks.get(c)!;
    if (v === null) return [];
    const cc = this.cfg[c];
    tr.measures = v.measures;
    if (v.fault) {
      tr.healthySinceMs = null;
      tr.healthyRun = 0;
      tr.faultSinceMs ??= t;
      if (tr.state === 'open') {
        if (t - tr.lastEmitMs >= this.cfg.updateSeconds * 1000) return [this.event(c, tr, 'updated', t, null)];
        return [];
      }
      tr.state = 'pending';
      if (t - tr.faultSinceMs >= cc.openSeconds * 1000) {
        tr.state = 'open';
        tr.openedAtMs = t;
        tr.healthId = `${this.cameraId}:health:${c}:${tr.faultSinceMs}:${++this.seq}`;
        return [this.event(c, tr, 'opened', t, null)];
      }
      return [];
    }
    tr.healthySinceMs ??= t;
    tr.healthyRun++;
    if (tr.state === 'open') {
      if (t - tr.healthySinceMs >= cc.closeSeconds * 1000) return this.reset(c, t);
      return [];
    }
    if (tr.state !== 'pending' || tr.healthyRun >= RESET_RUN) {
      tr.state = 'ok';
      tr.faultSinceMs = null;
    }
    return [];
  }

  /** Closes the check's problem if open, and forgets its state. */
  private reset(c: HealthCheck, t: number): DomainEvent<CameraHealthData>[] {
    const tr = this.checks.get(c)!;
    const events = tr.state === 'open' ? [this.event(c, tr, 'closed', t, t)] : [];
    this.checks.set(c, blankTrack());
    return events;
  }

  private event(c: HealthCheck, tr: CheckTrack, state: HealthEventState, t: number, endedMs: number | null): DomainEvent<CameraHealthData> {
    tr.lastEmitMs = t;
    return {
      type: 'camera.health',
      cameraId: this.cameraId,
      timeMs: t,
      data: {
        healthId: tr.healthId ?? `${this.cameraId}:health:${c}:${t}`,
        cameraId: this.cameraId,
        check: c,
        state,
        startedAt: new Date(tr.faultSinceMs ?? tr.openedAtMs ?? t).toISOString(),
        endedAt: endedMs === null ? null : new Date(endedMs).toISOString(),
        measures: { ...tr.measures },
      },
    };
  }
}

function blankTrack(): CheckTrack {
  return { state: 'unknown', faultSinceMs: null, healthySinceMs: null, healthyRun: 0, openedAtMs: null, lastEmitMs: 0, healthId: null, measures: {} };
}

/** Blocks that had texture in the reference and are blank now, as a share of the textured ones. */
export function coveredFraction(cur: Float32Array, ref: Float32Array): { fraction: number; textured: number } {
  let textured = 0;
  let blank = 0;
  for (const [i, r] of ref.entries()) {
    if (r < 6) continue;
    textured++;
    const c = cur[i];
    if (c !== undefined && c < Math.max(2.5, 0.2 * r)) blank++;
  }
  return { fraction: textured ? blank / textured : 0, textured };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
