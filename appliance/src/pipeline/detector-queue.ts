// One detector (one onnxruntime session) shared by every camera. Calls run one at a time: on 2 cores
// parallel sessions only fight over the same cores, and a serial queue keeps latency predictable.
import type { DetectorStage } from '../core/stages.js';
import type { Detection, RgbImage } from '../core/types.js';

export class DetectorQueue implements DetectorStage {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(readonly detector: DetectorStage) {}

  /** Frames waiting or running. */
  get depth(): number {
    return this.pending;
  }

  process(image: RgbImage): Promise<Detection[]> {
    this.pending++;
    const run = this.tail.then(() => this.detector.process(image));
    this.tail = run.catch(() => undefined);
    return run.finally(() => this.pending--);
  }

  /** Waits for the queued calls; the detector itself belongs to whoever made it. */
  async close(): Promise<void> {
    await this.tail;
  }
}
