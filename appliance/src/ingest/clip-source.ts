// A FrameSource that replays a clip file through ffmpeg (no RTSP). Frames carry the clip's own
// time (start + seq / fps), not the wall clock, and the source waits for each frame to be analysed
// before reading the next (pipe backpressure), so a replay is deterministic and drops nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import type { FrameSink, FrameSource, FrameSourceStatus } from '../core/stages.js';
import { ReplayStatus } from './replay-status.js';
import { ffmpegArgs } from './ffmpeg-args.js';
import { defaultFfmpeg } from './ffmpeg-binary.js';
import { FrameAssembler } from './frame-reader.js';

export interface ClipSourceOptions {
  cameraId: string;
  clip: string;
  fps: number;
  width: number;
  height: number;
  /** Time of the first frame, ms since epoch (default: 2026-01-01T00:00:00Z, so replays are reproducible). */
  startMs?: number;
  /** Stop after this many frames. */
  maxFrames?: number;
  ffmpegPath?: string;
}

export const REPLAY_EPOCH_MS = Date.UTC(2026, 0, 1);

export class ClipFrameSource implements FrameSource {
  private child: ChildProcess | null = null;
  private readonly replay = new ReplayStatus();
  private closing = false;
  private finished!: Promise<void>;

  constructor(private readonly o: ClipSourceOptions) {}

  start(sink: FrameSink): void {
    if (this.child) throw new Error('source already started');
    this.finished = this.run(sink);
  }

  /** Resolves when the clip has been played to its end (or maxFrames) and every frame analysed. */
  ended(): Promise<void> {
    return this.finished;
  }

  status(): FrameSourceStatus {
    return this.replay.status();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.child?.kill('SIGKILL');
    await this.finished?.catch(() => undefined);
  }

  private async run(sink: FrameSink): Promise<void> {
    const o = this.o;
    const args = ffmpegArgs({ url: o.clip, fps: o.fps, width: o.width, height: o.height, socketTimeoutMs: 5000 });
    const child = spawn(o.ffmpegPath ?? defaultFfmpeg(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (stderr = (stderr + s).slice(-500)));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    child.once('error', () => undefined);
    this.replay.set(sink, 'connecting', 'opening the clip');
    const asm = new FrameAssembler(o.width * o.height * 3);
    const start = o.startMs ?? REPLAY_EPOCH_MS;
    const max = o.maxFrames ?? Infinity;
    let seq = 0;
    try {
      for await (const chunk of child.stdout!) {
        const ready: Buffer[] = [];
        asm.push(chunk as Buffer, (f) => ready.push(f));
        for (const data of ready) {
          if (seq >= max || this.closing) break;
          if (seq === 0) this.replay.set(sink, 'streaming', 'frames flowing');
          const timestampMs = start + (seq * 1000) / o.fps;
          this.replay.delivered(timestampMs);
          // Backpressure: the pipe is not read while the frame is analysed.
          await sink.frame({ cameraId: o.cameraId, seq: seq++, timestampMs, width: o.width, height: o.height, data });
        }
        if (seq >= max || this.closing) break;
      }
    } finally {
      child.kill('SIGKILL');
    }
    const code = await exited;
    if (!this.closing && seq === 0) throw new Error(`no frame decoded from ${o.clip} (ffmpeg exit ${code}): ${stderr.trim()}`);
    this.replay.set(sink, 'stopped', 'end of clip');
  }
}
