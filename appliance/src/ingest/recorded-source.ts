// A FrameSource that replays a recording's frames without decoding video: each frame carries the
// recorded seq and time, and blank pixels (the ReplayDetector answers from the recording). This is
// what lets the unit tier run the whole pipeline on real detections with no ffmpeg and no model.
import type { FrameSink, FrameSource, FrameSourceStatus } from '../core/stages.js';
import { ReplayStatus } from './replay-status.js';
import type { Recording } from '../core/recording.js';

export class RecordedFrameSource implements FrameSource {
  private readonly replay = new ReplayStatus();
  private closing = false;
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly cameraId: string,
    private readonly recording: Recording,
    /** Added to every recorded time (0: replay at the recorded times). */
    private readonly shiftMs = 0,
  ) {}

  start(sink: FrameSink): void {
    this.finished = this.run(sink);
  }

  ended(): Promise<void> {
    return this.finished;
  }

  status(): FrameSourceStatus {
    return this.replay.status();
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.finished;
  }

  private async run(sink: FrameSink): Promise<void> {
    const { width, height } = this.recording.header;
    const blank = Buffer.alloc(width * height * 3);
    // Let start() return before the first frame, as a live source would.
    await Promise.resolve();
    this.replay.set(sink, 'streaming', 'replaying a recording');
    for (const f of this.recording.frames) {
      if (this.closing) break;
      const timestampMs = f.timestampMs + this.shiftMs;
      this.replay.delivered(timestampMs);
      await sink.frame({ cameraId: this.cameraId, seq: f.seq, timestampMs, width, height, data: blank });
    }
    this.replay.set(sink, 'stopped', 'end of recording');
  }
}
