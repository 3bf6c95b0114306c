// The anonymizer's worker process: its own model sessions, one job at a time, answers over IPC. The
// appliance kills this process when a job outlives its deadline, so nothing here needs a timer.
// It never logs (see privacy.test.ts); failures go back as a reason and a message without pixels.
import { setPriority } from 'node:os';
import type { Detection } from '../core/types.js';
import { AnonymizationError } from './errors.js';
import { createEngine } from './engine.js';
import type { JobRequest, JobReply, WorkerHello, WorkerSetup } from './worker-protocol.js';

/**
 * Lower this process's CPU priority before the model sessions create their threads (which inherit it):
 * when both cores are busy, the video analysis wins. Best effort.
 */
function yieldToAnalysis(nice: number): void {
  try {
    setPriority(0, nice);
  } catch {
    // not allowed: run at normal priority
  }
}

const send = process.send?.bind(process);
if (!send) throw new Error('privacy/worker.ts runs only as the anonymizer worker process (IPC)');
const setup = await new Promise<WorkerSetup>((resolve) => process.once('message', (m: WorkerSetup) => resolve(m)));
yieldToAnalysis(setup.nice);
const engine = await createEngine(setup.options);
send({ type: 'hello', unavailable: engine.unavailable, detail: engine.detail } satisfies WorkerHello);

process.on('message', (job: JobRequest) => {
  void run(job).then((reply) => send(reply));
});
// the appliance went away: nothing left to work for
process.on('disconnect', () => process.exit(0));

async function run(job: JobRequest): Promise<JobReply> {
  const frame = { width: job.width, height: job.height, data: Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength) };
  const objects: Detection[] = job.objects;
  try {
    if (job.kind === 'plan') return { type: 'planned', id: job.id, plan: await engine.plan(frame, objects) };
    const r = await engine.render(frame, objects);
    return { type: 'rendered', id: job.id, jpeg: new Uint8Array(r.jpeg.buffer, r.jpeg.byteOffset, r.jpeg.byteLength), maskedShare: r.maskedShare };
  } catch (err) {
    const e = err instanceof AnonymizationError ? err : new AnonymizationError('model-error', err instanceof Error ? err.message : 'unknown failure');
    return { type: 'failed', id: job.id, reason: e.reason, message: e.detail };
  }
}
