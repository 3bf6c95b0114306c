// What a replay source reports: its state, and how many frames it has delivered (shared by the clip
// and recording sources, which never restart).
import type { FrameSink, FrameSourceStatus } from '../core/stages.js';
import type { CameraState } from '../core/types.js';

export class ReplayStatus {
  private state: CameraState = 'stopped';
  private reason = 'not started';
  private since = Date.now();
  private framesDecoded = 0;
  private lastFrameAt: number | null = null;

  set(sink: FrameSink, state: CameraState, reason: string): void {
    this.state = state;
    this.reason = reason;
    this.since = Date.now();
    sink.state(state, reason);
  }

  delivered(timestampMs: number): void {
    this.framesDecoded++;
    this.lastFrameAt = timestampMs;
  }

  get frames(): number {
    return this.framesDecoded;
  }

  status(): FrameSourceStatus {
    return { state: this.state, since: this.since, reason: this.reason, restarts: 0, framesDecoded: this.framesDecoded, lastFrameAt: this.lastFrameAt };
  }
}
