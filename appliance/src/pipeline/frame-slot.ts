// The drop policy of one camera: while a frame is analysed, only the newest frame waits. A frame that
// arrives while another waits replaces it, and the replaced one is dropped (counted), so analysis
// never falls behind the camera and never queues stale frames.
import type { Frame } from '../core/types.js';

export class LatestFrameSlot {
  private frame: Frame | null = null;
  private settle: (() => void) | null = null;

  /** Puts a frame in the slot; returns the frame it displaced (dropped), if any. */
  put(frame: Frame, settled: () => void): Frame | null {
    const dropped = this.frame;
    this.settle?.();
    this.frame = frame;
    this.settle = settled;
    return dropped;
  }

  /** Takes the waiting frame out, with the callback to call once it is analysed. */
  take(): { frame: Frame; settled: () => void } | null {
    const frame = this.frame;
    const settled = this.settle;
    this.frame = null;
    this.settle = null;
    return frame && settled ? { frame, settled } : null;
  }

  /** Empties the slot (stop, lost stream); the waiting frame counts as dropped. */
  clear(): Frame | null {
    const dropped = this.frame;
    this.settle?.();
    this.frame = null;
    this.settle = null;
    return dropped;
  }
}
