// Whether a camera keeps up: the share of its frames dropped over the last window and how far behind
// the camera its analysis runs. A box that cannot hold the configured fps says so (status, metric, log)
// instead of silently analysing fewer frames; hysteresis keeps one slow second from flapping the flag.

export interface LoadPolicy {
  /** Sliding window, ms. */
  windowMs: number;
  /** Overloaded from this share of dropped frames in the window… */
  enterDropShare: number;
  /** …until it falls below this one. */
  leaveDropShare: number;
  /** Or while the analysed frame is more than this far behind the camera (ms). */
  maxLagMs: number;
  /** Fewer frames than this in the window: no judgement yet. */
  minFrames: number;
}

export const DEFAULT_LOAD_POLICY: LoadPolicy = { windowMs: 10_000, enterDropShare: 0.1, leaveDropShare: 0.05, maxLagMs: 1000, minFrames: 10 };

export interface LoadState {
  overloaded: boolean;
  /** Dropped / (dropped + analysed) over the window. */
  dropShare: number;
  /** Capture → analysis of the last analysed frame, ms (null before the first). */
  lagMs: number | null;
}

export class LoadMonitor {
  /** [time, 1 = dropped / 0 = analysed] over the window. */
  private readonly marks: [number, 0 | 1][] = [];
  private dropped = 0;
  private overloaded = false;
  private lagMs: number | null = null;

  constructor(private readonly policy: LoadPolicy = DEFAULT_LOAD_POLICY) {}

  /** A frame analysed at nowMs, captured at capturedMs. Returns true when the overloaded flag changed. */
  analysed(nowMs: number, capturedMs: number): boolean {
    this.lagMs = Math.max(0, nowMs - capturedMs);
    this.mark(nowMs, 0);
    return this.judge();
  }

  /** A frame dropped at nowMs (a newer one took its place). Returns true when the flag changed. */
  droppedAt(nowMs: number): boolean {
    this.mark(nowMs, 1);
    return this.judge();
  }

  /** The stream is gone: nothing to judge until frames flow again. */
  reset(): boolean {
    this.marks.length = 0;
    this.dropped = 0;
    this.lagMs = null;
    const changed = this.overloaded;
    this.overloaded = false;
    return changed;
  }

  state(): LoadState {
    return { overloaded: this.overloaded, dropShare: this.share(), lagMs: this.lagMs };
  }

  private mark(nowMs: number, dropped: 0 | 1): void {
    this.marks.push([nowMs, dropped]);
    this.dropped += dropped;
    let cut = 0;
    for (const [t, d] of this.marks) {
      if (nowMs - t <= this.policy.windowMs) break;
      this.dropped -= d;
      cut++;
    }
    if (cut) this.marks.splice(0, cut);
  }

  private share(): number {
    return this.marks.length ? this.dropped / this.marks.length : 0;
  }

  private judge(): boolean {
    const p = this.policy;
    const behind = this.lagMs !== null && this.lagMs > p.maxLagMs;
    let next = this.overloaded;
    if (this.marks.length >= p.minFrames) {
      const share = this.share();
      next = behind || (this.overloaded ? share >= p.leaveDropShare : share >= p.enterDropShare);
    } else if (behind) next = true;
    const changed = next !== this.overloaded;
    this.overloaded = next;
    return changed;
  }
}
