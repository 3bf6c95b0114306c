// Runs the engine in a worker process, off the analysis path: one job at a time, at most one waiting,
// a deadline per job counted from the request. When the deadline passes while the job runs, the
// worker is killed (and awaited: it has exited before the next job starts), and a fresh one is started
// lazily for the next request. A deadline passing while the worker is still loading its models rejects
// the job but lets the loading finish, so a burst of short deadlines does not become a loop of loads.
//
// A process, not a worker thread: terminating a thread while sharp or onnxruntime has native work in
// flight aborts the whole appliance ("terminate called after throwing an instance of 'Napi::Error'",
// seen here), and a killed process gives all its memory back, native arenas included.
import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Detection, RgbImage } from '../core/types.js';
import { AnonymizationError, AnonymizerBusyError, type AnonymizationReason } from './errors.js';
import { checkInput, type EngineOptions, type MaskPlan, type Rendered } from './engine.js';
import type { JobReply, JobRequest, WorkerHello, WorkerSetup } from './worker-protocol.js';

/** What the anonymizer has done so far; `max*` are high-water marks since creation. */
export interface AnonymizerStats {
  running: number;
  maxRunning: number;
  waiting: number;
  workers: number;
  maxWorkers: number;
  workerStarts: number;
  workersTerminated: number;
}

export interface IsolationHooks {
  /** jobs running now (0 or 1), for a gauge */
  onRunning?: (n: number) => void;
}

type Kind = JobRequest['kind'];
type Result<K extends Kind> = K extends 'render' ? Rendered : MaskPlan;

interface Job {
  id: number;
  kind: Kind;
  frame: RgbImage;
  objects: Detection[];
  timer: NodeJS.Timeout;
  dispatched: boolean;
  done: boolean;
  resolve: (r: Rendered | MaskPlan) => void;
  reject: (e: Error) => void;
}

interface Live {
  worker: ChildProcess;
  ready: Promise<WorkerHello>;
  exited: Promise<void>;
}

/** Nice value of the worker process (and the inference threads it starts): analysis goes first. */
export const WORKER_NICE = 10;

/**
 * Production runs dist/ (worker.js under plain node). Tests and benches run the sources under tsx
 * (`node --import tsx`, `npx tsx`): the child inherits that loader through execArgv and runs worker.ts.
 * stdio is closed: the worker has nothing to say, and must not say it with pixels.
 */
function spawn(): ChildProcess {
  const self = import.meta.url;
  const entry = fileURLToPath(new URL(self.endsWith('.ts') ? './worker.ts' : './worker.js', self));
  const child = fork(entry, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  // At once, not from inside the worker: loading modules and models is most of a start's CPU.
  try {
    if (child.pid) setPriority(child.pid, WORKER_NICE);
  } catch {
    // not allowed: the worker lowers itself once loaded
  }
  return child;
}

function hold(w: ChildProcess, on: boolean): void {
  const channel = w.channel as { ref(): void; unref(): void } | null | undefined;
  if (on) {
    w.ref();
    channel?.ref();
  } else {
    w.unref();
    channel?.unref();
  }
}

export class WorkerPool {
  private live: Live | null = null;
  private active: Job | null = null;
  private waiting: Job | null = null;
  private nextId = 1;
  readonly stats: AnonymizerStats = { running: 0, maxRunning: 0, waiting: 0, workers: 0, maxWorkers: 0, workerStarts: 0, workersTerminated: 0 };
  unavailable: AnonymizationReason | null = null;
  detail = '';

  constructor(
    private readonly options: EngineOptions,
    private readonly timeoutMs: number,
    private readonly hooks: IsolationHooks = {},
  ) {}

  /** Starts the first worker and learns whether the models load (so `unavailable` is known at start). */
  async start(): Promise<void> {
    let hello: WorkerHello;
    try {
      hello = await this.ensureWorker().ready;
    } catch (err) {
      hello = { type: 'hello', unavailable: 'model-error', detail: `anonymizer worker did not start: ${(err as Error).message}` };
    }
    if (hello.unavailable) {
      this.unavailable = hello.unavailable;
      this.detail = hello.detail;
      await this.kill();
    }
  }

  submit<K extends Kind>(kind: K, frame: RgbImage, objects: readonly Detection[]): Promise<Result<K>> {
    if (this.unavailable) return Promise.reject(new AnonymizationError(this.unavailable, this.detail));
    try {
      checkInput(frame, objects);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.active && this.waiting) return Promise.reject(new AnonymizerBusyError());
    return new Promise<Result<K>>((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        kind,
        frame,
        objects: objects.map((o) => ({ cls: o.cls, score: o.score, box: { ...o.box } })),
        timer: setTimeout(() => void this.expire(job), this.timeoutMs),
        dispatched: false,
        done: false,
        resolve: resolve as (r: Rendered | MaskPlan) => void,
        reject,
      };
      if (this.active) {
        this.waiting = job;
        this.stats.waiting = 1;
      } else void this.run(job);
    });
  }

  private settle(job: Job, outcome: { ok: Rendered | MaskPlan } | { err: Error }): void {
    if (job.done) return;
    job.done = true;
    clearTimeout(job.timer);
    if ('ok' in outcome) job.resolve(outcome.ok);
    else job.reject(outcome.err);
  }

  private async run(job: Job): Promise<void> {
    this.active = job;
    let live: Live;
    try {
      live = this.ensureWorker();
      const hello = await live.ready;
      if (hello.unavailable) throw new AnonymizationError(hello.unavailable, hello.detail);
    } catch (err) {
      this.settle(job, { err: err instanceof AnonymizationError ? err : new AnonymizationError('model-error', (err as Error).message) });
      await this.kill();
      return this.next(job);
    }
    if (job.done) return this.next(job); // expired while the worker was loading: it stays for the next job
    job.dispatched = true;
    hold(live.worker, true);
    this.setRunning(1);
    const reply = await this.exchange(live, job);
    this.setRunning(0);
    if (reply) this.settle(job, { ok: reply });
    this.next(job);
  }

  /** Posts the job and waits for its answer; null when the worker died or was killed for the deadline. */
  private exchange(live: Live, job: Job): Promise<Rendered | MaskPlan | null> {
    return new Promise((resolve) => {
      const onMessage = (m: JobReply): void => {
        if (m.id !== job.id) return;
        cleanup();
        if (m.type === 'failed') {
          this.settle(job, { err: new AnonymizationError(m.reason, m.message) });
          resolve(null);
        } else if (m.type === 'rendered') resolve({ jpeg: Buffer.from(m.jpeg.buffer, m.jpeg.byteOffset, m.jpeg.byteLength), maskedShare: m.maskedShare });
        else resolve(m.plan);
      };
      const onExit = (): void => {
        cleanup();
        this.settle(job, { err: new AnonymizationError('model-error', 'anonymizer worker stopped') });
        resolve(null);
      };
      const cleanup = (): void => {
        live.worker.off('message', onMessage);
        live.worker.off('exit', onExit);
      };
      live.worker.on('message', onMessage);
      live.worker.on('exit', onExit);
      if (!live.worker.connected) return onExit();
      const { frame } = job;
      // structured clone: the worker gets its own copy, the caller's buffer is never touched
      // (a view on part of a larger buffer would clone all of it: copy just the frame then)
      const whole = frame.data.byteOffset === 0 && frame.data.byteLength === frame.data.buffer.byteLength;
      const data = whole ? new Uint8Array(frame.data.buffer, 0, frame.data.byteLength) : new Uint8Array(frame.data);
      const request: JobRequest = { id: job.id, kind: job.kind, width: frame.width, height: frame.height, data, objects: job.objects };
      live.worker.send(request);
    });
  }

  private next(finished: Job): void {
    if (this.active === finished) this.active = null;
    const w = this.waiting;
    this.waiting = null;
    this.stats.waiting = 0;
    if (w && !w.done) void this.run(w);
    else if (this.live) hold(this.live.worker, false);
  }

  private async expire(job: Job): Promise<void> {
    if (job.done) return;
    this.settle(job, { err: new AnonymizationError('timeout', `no result within ${this.timeoutMs} ms`) });
    if (this.waiting === job) {
      this.waiting = null;
      this.stats.waiting = 0;
      return;
    }
    // Running in the worker: stop it for real; exchange() resolves on the worker's exit.
    if (job.dispatched) await this.kill();
  }

  private ensureWorker(): Live {
    if (this.live) return this.live;
    const worker = spawn();
    this.stats.workerStarts++;
    this.stats.workers++;
    this.stats.maxWorkers = Math.max(this.stats.maxWorkers, this.stats.workers);
    const exited = new Promise<void>((resolve) =>
      worker.once('exit', () => {
        this.stats.workers--;
        if (this.live?.worker === worker) this.live = null;
        resolve();
      }),
    );
    const ready = new Promise<WorkerHello>((resolve, reject) => {
      worker.once('message', (m: WorkerHello) => resolve(m));
      worker.once('error', reject);
      worker.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it was ready`)));
    });
    ready.catch(() => undefined);
    worker.on('error', () => undefined); // a crash is seen as 'exit' by the job that was running
    worker.send({ options: this.options, nice: WORKER_NICE } satisfies WorkerSetup);
    // An idle worker must not keep the process alive; one that works for someone must.
    void ready.then(
      () => {
        if (!this.active) hold(worker, false);
      },
      () => undefined,
    );
    this.live = { worker, ready, exited };
    return this.live;
  }

  /** Kills the worker and waits until it has exited. */
  private async kill(): Promise<void> {
    const live = this.live;
    if (!live) return;
    this.live = null;
    hold(live.worker, true); // the caller waits for the exit: keep the event loop alive until then
    live.worker.kill('SIGKILL');
    await live.exited;
    this.stats.workersTerminated++;
  }

  private setRunning(n: number): void {
    this.stats.running = n;
    this.stats.maxRunning = Math.max(this.stats.maxRunning, n);
    this.hooks.onRunning?.(n);
  }

  async close(): Promise<void> {
    const pending = [this.active, this.waiting].filter((j): j is Job => j !== null);
    for (const j of pending) this.settle(j, { err: new AnonymizationError('timeout', 'anonymizer closed') });
    await this.kill();
  }
}
