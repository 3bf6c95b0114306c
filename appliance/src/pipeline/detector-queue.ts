// One detector (one onnxruntime session) shared by every camera. Calls run one at a time: on 2 cores
// parallel sessions only fight over the same cores, and a serial queue keeps latency predictable.
import type { Detection, RgbImage } from '../core/types.js';
import type { Detector } from '../detect/index.js';

export class DetectorQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(readonly detector: Detector) {}

  /** Frames waiting or running. */
  get depth(): number {
    return this.pending;
  }

  detect(image: RgbImage): Promise<Detection[]> {
    this.pending++;
    const run = this.tail.then(() => this.detector.detect(image));
    this.tail = run.catch(() => undefined);
    return run.finally(() => this.pending--);
  }
}
