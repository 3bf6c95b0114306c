// The worker thread of WorkerDetector (detector-host.ts): one onnxruntime session, frames in, detections out.
import { parentPort, workerData } from 'node:worker_threads';
import { setPriority } from 'node:os';
import { OnnxDetector } from './onnx-detector.js';
import type { HostReply, HostRequest, WorkerSetup } from './detector-host.js';

const port = parentPort;
if (!port) throw new Error('detector-worker runs as a worker thread');
const setup = workerData as WorkerSetup;
const send = (m: HostReply) => port.postMessage(m);
/** The warm-up frame: the cameras' default analysed size (a flat grey picture). */
const WARM_UP_W = 640;
const WARM_UP_H = 360;

try {
  // 0 = this thread (Linux nice is per thread); the session's threads, created next, inherit it.
  setPriority(0, setup.nice);
} catch {
  // not allowed: inference runs at the decoders' priority
}

let detector: OnnxDetector;
try {
  detector = await OnnxDetector.create(setup.options);
  // One inference before 'ready': the session takes its working memory now, at start, rather than when
  // a second camera first needs this worker (a step of ~20 MB with YOLOX-Nano, ~100 MB with the shipped
  // model, that showed as memory per added camera), and a model that loads but cannot run fails the start.
  await detector.process({ width: WARM_UP_W, height: WARM_UP_H, data: Buffer.alloc(WARM_UP_W * WARM_UP_H * 3, 114) });
  send({ type: 'ready', name: detector.name, backend: detector.backend });
} catch (err) {
  send({ type: 'failed', message: (err as Error).message });
  process.exit(1);
}

// One frame at a time, in order: a close waits for the frame before it.
let chain: Promise<void> = Promise.resolve();
port.on('message', (m: HostRequest) => {
  chain = chain.then(async () => {
    if (m.type === 'close') {
      await detector.close();
      port.close();
      return;
    }
    try {
      const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      send({ type: 'detections', id: m.id, detections: await detector.process({ width: m.width, height: m.height, data, ...(m.roi ? { roi: m.roi } : {}) }) });
    } catch (err) {
      send({ type: 'error', id: m.id, message: (err as Error).message });
    }
  });
});
