// The live source: a camera's RTSP stream through its own ffmpeg child (CameraStream), as a FrameSource.
import type { FrameSink, FrameSource, FrameSourceStatus } from '../core/stages.js';
import { CameraStream, type CameraStreamOptions } from './camera-stream.js';

/** The camera stream's options less its callbacks (the sink takes their place). */
export type RtspSourceOptions = Omit<CameraStreamOptions, 'onFrame' | 'onState'>;

export class RtspFrameSource implements FrameSource {
  private stream: CameraStream | null = null;

  constructor(private readonly o: RtspSourceOptions) {}

  start(sink: FrameSink): void {
    if (this.stream) throw new Error('source already started');
    this.stream = new CameraStream({
      ...this.o,
      // Live frames are never waited for: the pipeline keeps the newest and drops the rest.
      onFrame: (f) => void sink.frame(f),
      onState: (state, reason) => sink.state(state, reason),
    });
    this.stream.start();
  }

  status(): FrameSourceStatus {
    return this.stream?.status() ?? { state: 'stopped', since: Date.now(), reason: 'not started', restarts: 0, framesDecoded: 0, lastFrameAt: null };
  }

  async close(): Promise<void> {
    await this.stream?.stop();
  }
}
