// The worker thread of WorkerDetector (detector-host.ts): one onnxruntime session, frames in, detections out.
import { parentPort, workerData } from 'node:worker_threads';
import { setPriority } from 'node:os';
import { OnnxDetector } from './onnx-detector.js';
import type { HostReply, HostRequest, WorkerSetup } from './detector-host.js';

const port = parentPort;
if (!port) throw new Error('detector-worker runs as a worker thread');
const setup = workerData as WorkerSetup;
const send = (m: HostReply) => port.postMessage(m);

try {
  // 0 = this thread (Linux nice is per thread); the session's threads, created next, inherit it.
  setPriority(0, setup.nice);
} catch {
  // not allowed: inference runs at the decoders' priority
}

let detector: OnnxDetector;
try {
  detector = await OnnxDetector.create(setup.options);
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
