// One detector (one onnxruntime session) shared by every camera. Calls run one at a time: on 2 cores
// parallel sessions only fight over the same cores, and a serial queue keeps latency predictable.
// Fair: cameras take turns (round-robin over the cameras with a frame waiting), so a box that cannot
// hold every camera's fps slows them all alike instead of starving the ones that queued last.
import type { DetectorStage } from '../core/stages.js';
import type { Detection, RgbImage } from '../core/types.js';

interface Job {
  /** The frame to detect in, read when the job's turn comes (the camera's newest by then). */
  image: () => RgbImage;
  resolve: (d: Detection[]) => void;
  reject: (err: unknown) => void;
}

/** A detector that, when a camera's turn comes, asks it for its newest frame then (see processNewest). */
export interface TakesNewest {
  processNewest(caller: string, newest: () => RgbImage): Promise<Detection[]>;
}

export function takesNewest(d: unknown): d is TakesNewest {
  return typeof (d as Partial<TakesNewest>).processNewest === 'function';
}

/** The camera a call is for: frames carry their camera id; a bare image is its own anonymous caller. */
function callerOf(image: RgbImage): string {
  const id = (image as { cameraId?: unknown }).cameraId;
  return typeof id === 'string' ? id : '';
}

export class DetectorQueue implements DetectorStage {
  /** Waiting calls per camera, in the order the cameras take turns. */
  private readonly waiting = new Map<string, Job[]>();
  private pending = 0;
  private active = 0;
  private pumping = false;
  private idle: (() => void) | null = null;
  /** Calls run at once: 1, or as many as the detector has sessions (a pool of workers). */
  readonly concurrency: number;

  constructor(readonly detector: DetectorStage & { readonly parallel?: number }) {
    this.concurrency = Math.max(1, detector.parallel ?? 1);
  }

  /** Frames waiting or running. */
  get depth(): number {
    return this.pending;
  }

  process(image: RgbImage): Promise<Detection[]> {
    return this.enqueue(callerOf(image), () => image);
  }

  /**
   * Drop at the source, up to the last moment: the camera waits for its turn with no frame chosen, and
   * `newest` is called when the detector is free for it, so the frame analysed is the newest one then,
   * not the one that was newest when the camera got in line (on a busy box, N − 1 detections earlier).
   */
  processNewest(caller: string, newest: () => RgbImage): Promise<Detection[]> {
    return this.enqueue(caller, newest);
  }

  private enqueue(caller: string, image: () => RgbImage): Promise<Detection[]> {
    this.pending++;
    return new Promise<Detection[]>((resolve, reject) => {
      const jobs = this.waiting.get(caller);
      if (jobs) jobs.push({ image, resolve, reject });
      else this.waiting.set(caller, [{ image, resolve, reject }]);
      if (!this.pumping) {
        // Start on the next tick, so calls queued in the same tick are all in line before the first turn.
        this.pumping = true;
        queueMicrotask(() => {
          this.pumping = false;
          this.pump();
        });
      }
    });
  }

  /** The next call: the first waiting one of the camera whose turn it is; that camera goes last. */
  private next(): Job | null {
    for (const [caller, jobs] of this.waiting) {
      const job = jobs.shift();
      this.waiting.delete(caller);
      if (jobs.length) this.waiting.set(caller, jobs);
      if (job) return job;
    }
    return null;
  }

  private pump(): void {
    while (this.active < this.concurrency) {
      const job = this.next();
      if (!job) break;
      this.active++;
      void this.run(job);
    }
    if (this.active === 0 && this.pending === 0) this.idle?.();
  }

  private async run(job: Job): Promise<void> {
    try {
      job.resolve(await this.detector.process(job.image()));
    } catch (err) {
      job.reject(err);
    } finally {
      this.active--;
      this.pending--;
      this.pump();
    }
  }

  /** Waits for the queued calls; the detector itself belongs to whoever made it. */
  async close(): Promise<void> {
    if (this.pending === 0) return;
    await new Promise<void>((resolve) => (this.idle = resolve));
  }
}
