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
  private running: Promise<void> | null = null;
  private pending = 0;

  constructor(readonly detector: DetectorStage) {}

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
      this.running ??= this.drain();
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

  private async drain(): Promise<void> {
    // Start on the next tick, so calls queued in the same tick are all in line before the first turn.
    await Promise.resolve();
    for (let job = this.next(); job; job = this.next()) {
      try {
        job.resolve(await this.detector.process(job.image()));
      } catch (err) {
        job.reject(err);
      } finally {
        this.pending--;
      }
    }
    this.running = null;
  }

  /** Waits for the queued calls; the detector itself belongs to whoever made it. */
  async close(): Promise<void> {
    await this.running;
  }
}
