// One camera's ffmpeg child process, its watchdog and its reconnect loop.
// Any ffmpeg exit is a lost stream; frames that stop for stallSeconds mean a frozen server
// (ffmpeg then hangs forever), so the watchdog kills it: SIGTERM, then SIGKILL.
import type { FrameSourceStatus } from '../core/stages.js';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../core/log.js';
import type { CameraState, Frame, HwAccel } from '../core/types.js';
import { backoffDelay, type BackoffPolicy } from '../core/backoff.js';
import { ffmpegArgs } from './ffmpeg-args.js';
import { defaultFfmpeg } from './ffmpeg-binary.js';
import { FrameAssembler } from './frame-reader.js';
import { CaptureClock } from './capture-clock.js';
import { redactUrl } from '../core/redact.js';
import type { ConnectGate } from './connect-gate.js';

export interface CameraStreamOptions {
  cameraId: string;
  url: string;
  fps: number;
  width: number;
  height: number;
  stallSeconds: number;
  backoff: BackoffPolicy;
  /** Grace between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** The decoder binary (default: ingest/ffmpeg-binary.ts defaultFfmpeg). */
  ffmpegPath?: string;
  /** Decoder threads of the ffmpeg child (default 1). */
  decodeThreads?: number;
  /** Hardware decode ('cuda' on GPU boxes; default none). */
  hwaccel?: HwAccel;
  /** Shared by every camera: bounds how many connect at once (no gate: no bound). */
  gate?: ConnectGate;
  log: Logger;
  onFrame: (frame: Frame) => void;
  onState?: (state: CameraState, reason: string) => void;
}

export interface CameraStreamStatus extends FrameSourceStatus {
  nextAttemptAt: number | null;
}

export class CameraStream {
  private child: ChildProcess | null = null;
  private state: CameraState = 'stopped';
  private since = Date.now();
  private reason = 'not started';
  private restarts = 0;
  private attempt = 0;
  private seq = 0;
  /** Frames of the running ffmpeg session (the capture grid restarts with each). */
  private sessionFrames = 0;
  private framesDecoded = 0;
  private lastFrameAt: number | null = null;
  private lastProgressAt = 0;
  private nextAttemptAt: number | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** Gives back this camera's connection slot, or its place in the queue for one. */
  private slot: (() => void) | null = null;
  private readonly assembler: FrameAssembler;
  private readonly clock: CaptureClock;

  constructor(private readonly o: CameraStreamOptions) {
    this.assembler = new FrameAssembler(o.width * o.height * 3);
    this.clock = new CaptureClock(o.fps);
  }

  status(): CameraStreamStatus {
    return {
      state: this.state,
      since: this.since,
      reason: this.reason,
      restarts: this.restarts,
      framesDecoded: this.framesDecoded,
      lastFrameAt: this.lastFrameAt,
      nextAttemptAt: this.nextAttemptAt,
    };
  }

  /** The running ffmpeg's process id (null while none runs): for CPU and memory accounting. */
  pid(): number | null {
    return this.child?.pid ?? null;
  }

  start(): void {
    this.stopping = false;
    this.launch();
    const tick = Math.min(1000, Math.max(100, (this.o.stallSeconds * 1000) / 4));
    this.watchdog = setInterval(() => this.checkStall(), tick);
    this.watchdog.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.watchdog = this.retryTimer = null;
    this.freeSlot();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      this.kill(child);
      await exited;
    }
    this.setState('stopped', 'stopped');
  }

  private setState(state: CameraState, reason: string): void {
    if (state === this.state && reason === this.reason) return;
    this.state = state;
    this.reason = reason;
    this.since = Date.now();
    this.o.log.info({ state, reason }, 'camera state');
    this.o.onState?.(state, reason);
  }

  /** Starts ffmpeg now, or once the gate has a slot (waiting with no process). */
  private launch(): void {
    this.nextAttemptAt = null;
    const gate = this.o.gate;
    if (!gate) return this.spawnFfmpeg();
    let granted = false;
    this.slot = gate.acquire(() => {
      granted = true;
      if (!this.stopping) this.spawnFfmpeg();
    });
    if (!granted) this.setState('connecting', 'waiting for a connection slot');
  }

  private freeSlot(): void {
    const free = this.slot;
    this.slot = null;
    free?.();
  }

  private spawnFfmpeg(): void {
    this.assembler.reset();
    this.clock.reset();
    this.sessionFrames = 0;
    this.lastProgressAt = Date.now();
    this.setState('connecting', `connecting to the stream`);
    const o = this.o;
    const args = ffmpegArgs({
      url: o.url,
      fps: o.fps,
      width: o.width,
      height: o.height,
      socketTimeoutMs: Math.max(2000, o.stallSeconds * 1000),
      decodeThreads: o.decodeThreads,
      hwaccel: o.hwaccel,
    });
    const child = spawn(this.o.ffmpegPath ?? defaultFfmpeg(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // ffmpeg error lines name the stream and the cause; the last few go to the exit log, each line
    // redacted whole before anything is cut, so a cut can never leave half a password behind.
    const stderrTail = new StderrTail(this.o.url);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => stderrTail.push(s));
    // Read as fast as ffmpeg writes (never paused): a frame the analysis has no time for is dropped
    // here, in the pipeline's one-frame slot, not left in the pipe where it would make ffmpeg wait.
    child.stdout!.on('data', (chunk: Buffer) => {
      if (this.child !== child) return;
      this.assembler.push(chunk, (data) => this.emitFrame(data));
    });
    child.on('error', (err) => {
      this.o.log.error({ code: 'ROADSIDE_ERR_STREAM_LOST', err: err.message }, 'cannot start ffmpeg');
    });
    child.on('close', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.freeSlot();
      if (this.stopping) return;
      const why = signal ? `ffmpeg killed by ${signal}` : `ffmpeg exited with code ${code}`;
      this.o.log.warn({ code, signal, stderr: stderrTail.text() }, 'stream lost');
      this.scheduleRestart(why);
    });
  }

  private emitFrame(data: Buffer): void {
    const now = Date.now();
    this.lastFrameAt = this.lastProgressAt = now;
    this.framesDecoded++;
    if (this.state !== 'streaming') {
      this.attempt = 0;
      this.freeSlot();
      this.setState('streaming', 'frames flowing');
    }
    const timestampMs = this.clock.stamp(this.sessionFrames++, now);
    this.o.onFrame({ cameraId: this.o.cameraId, seq: this.seq++, timestampMs, width: this.o.width, height: this.o.height, data });
  }

  private checkStall(): void {
    const child = this.child;
    if (!child || this.stopping) return;
    // While connecting, allow a little longer (RTSP handshake + first keyframe).
    const limit = this.o.stallSeconds * 1000 * (this.state === 'connecting' ? 1.5 : 1);
    if (Date.now() - this.lastProgressAt > limit) {
      this.setState('stalled', `no frame for ${this.o.stallSeconds} s`);
      this.lastProgressAt = Date.now();
      this.kill(child);
    }
  }

  private kill(child: ChildProcess): void {
    child.kill('SIGTERM');
    const t = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, this.o.killGraceMs ?? 2000);
    t.unref();
    child.once('exit', () => clearTimeout(t));
  }

  private scheduleRestart(why: string): void {
    this.restarts++;
    const delay = backoffDelay(this.attempt++, this.o.backoff);
    this.nextAttemptAt = Date.now() + delay;
    this.setState('backoff', `${why}; retry in ${delay} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopping) this.launch();
    }, delay);
  }
}

/** ffmpeg's stderr, kept as its last few lines, each redacted whole before anything is cut. */
export class StderrTail {
  private partial = '';
  private lines: string[] = [];

  constructor(
    private readonly url: string,
    private readonly maxChars = 500,
    /** A line longer than this is cut (then redacted as a cut line): ffmpeg's own lines stop at 1 KiB. */
    private readonly maxLine = 4096,
  ) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n|\r/);
    this.partial = parts.pop() ?? '';
    if (this.partial.length > this.maxLine) {
      parts.push(this.partial);
      this.partial = '';
    }
    for (const line of parts) if (line.trim()) this.lines.push(redactUrl(line, this.url));
    while (this.lines.length > 1 && this.lines.join('\n').length > this.maxChars) this.lines.shift();
  }

  /** The redacted tail, including a last line without its newline. */
  text(): string {
    const last = this.partial.trim() ? [redactUrl(this.partial, this.url)] : [];
    return [...this.lines, ...last].join('\n').slice(-this.maxChars * 2);
  }
}
