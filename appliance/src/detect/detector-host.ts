// The detector in a worker thread, behind the same Detector interface. onnxruntime-node's session.run
// is synchronous (its promise only defers the call to the next turn of the loop), so inline it blocks
// the event loop for the whole inference: while it runs no ffmpeg pipe is read, ffmpeg waits on a full
// pipe, and the camera's frames back up in its TCP buffer (the "pipe backs up" of issue 11). In the
// worker the loop stays free to read every camera's pipe as fast as ffmpeg writes.
// The worker thread lowers its own priority before it creates the session, so the inference threads
// (created by it, they inherit it) give way to the cameras' decoders: an overloaded box drops frames
// at the source instead of decoding late.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { Box, Detection, RgbImage } from '../core/types.js';
import { ModelError } from '../core/models.js';
import type { Detector, DetectorBackend, DetectorOptions } from './detector.js';

/** Nice value of the inference threads: below the decoders (0), above the anonymizer worker (10). */
export const DETECTOR_NICE = 5;

export type HostRequest = { type: 'detect'; id: number; width: number; height: number; data: Uint8Array; roi?: Box } | { type: 'close' };
export type HostReply =
  | { type: 'ready'; name: string; backend: DetectorBackend }
  | { type: 'failed'; message: string }
  | { type: 'detections'; id: number; detections: Detection[] }
  | { type: 'error'; id: number; message: string };

export interface WorkerSetup {
  options: DetectorOptions;
  nice: number;
}

/**
 * Production runs dist/ (the .js worker). Tests and benches run the sources under tsx, whose loader a
 * worker thread does not inherit on Node 20: there the worker registers it first, then loads the .ts entry.
 */
function startWorker(setup: WorkerSetup): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(fileURLToPath(new URL('./detector-worker.js', self)), { workerData: setup });
  const entry = new URL('./detector-worker.ts', self).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: setup });
}

export class WorkerDetector implements Detector {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (d: Detection[]) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    readonly name: string,
    readonly backend: DetectorBackend,
  ) {
    worker.on('message', (m: HostReply) => this.onReply(m));
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('error', (err) => this.failAll(err));
    void this.exited.then(() => this.failAll(new Error('the detector worker exited')));
  }

  static async create(options: DetectorOptions, nice = DETECTOR_NICE): Promise<WorkerDetector> {
    const worker = startWorker({ options, nice });
    const hello = await new Promise<HostReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the detector worker exited with code ${code} while loading`)));
    });
    if (hello.type !== 'ready') {
      await worker.terminate();
      throw new ModelError(hello.type === 'failed' ? hello.message : 'the detector worker did not start');
    }
    return new WorkerDetector(worker, hello.name, hello.backend);
  }

  process(image: RgbImage): Promise<Detection[]> {
    if (this.closed) return Promise.reject(new Error('detector closed'));
    const id = this.nextId++;
    // One copy, handed over (transferred) to the worker: the frame itself stays with the pipeline.
    const data = new Uint8Array(image.data);
    return new Promise<Detection[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'detect', id, width: image.width, height: image.height, data, ...(image.roi ? { roi: image.roi } : {}) } satisfies HostRequest, [data.buffer]);
    });
  }

  /** Lets the calls in flight finish, then releases the session and ends the worker. */
  async close(): Promise<void> {
    if (this.closed) return this.exited;
    this.closed = true;
    this.worker.postMessage({ type: 'close' } satisfies HostRequest);
    await this.exited;
  }

  private onReply(m: HostReply): void {
    if (m.type !== 'detections' && m.type !== 'error') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'detections') p.resolve(m.detections);
    else p.reject(new Error(m.message));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/**
 * Several detector workers, one session each, behind one Detector: a CPU box runs as many frames at once
 * as it has sessions (`parallel`, read by the DetectorQueue), each session with `threads` intra-op threads.
 * A small model gains more from frames side by side than from splitting one frame across cores.
 */
export class DetectorPool implements Detector {
  private readonly busy: number[];
  readonly name: string;
  readonly backend: DetectorBackend;

  constructor(private readonly members: readonly Detector[]) {
    const [first] = members;
    if (!first) throw new Error('a detector pool needs at least one member');
    this.name = first.name;
    this.backend = first.backend;
    this.busy = members.map(() => 0);
  }

  static async create(options: DetectorOptions, size: number, nice = DETECTOR_NICE): Promise<DetectorPool> {
    const members: WorkerDetector[] = [];
    try {
      for (let i = 0; i < size; i++) members.push(await WorkerDetector.create(options, nice));
    } catch (err) {
      await Promise.all(members.map((m) => m.close()));
      throw err;
    }
    return new DetectorPool(members);
  }

  get parallel(): number {
    return this.members.length;
  }

  /** To the least busy member (an idle one while there is one). */
  async process(image: RgbImage): Promise<Detection[]> {
    let pick = 0;
    this.busy.forEach((n, i) => {
      if (n < (this.busy[pick] ?? 0)) pick = i;
    });
    const member = this.members[pick];
    if (!member) throw new Error('detector pool is empty');
    this.busy[pick] = (this.busy[pick] ?? 0) + 1;
    try {
      return await member.process(image);
    } finally {
      this.busy[pick] = (this.busy[pick] ?? 1) - 1;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.close()));
  }
}
