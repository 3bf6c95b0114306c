export type { Detector, DetectorBackend, DetectorOptions } from './detector.js';
export { OnnxDetector } from './onnx-detector.js';
export { DetectorPool, WorkerDetector, DETECTOR_NICE } from './detector-host.js';
export { classWiseNms, dropOversized, vehicleAwareNms } from './nms.js';
export { iou } from '../core/box.js';
import type { Detector, DetectorOptions } from './detector.js';
import { OnnxDetector } from './onnx-detector.js';
import { DetectorPool, WorkerDetector } from './detector-host.js';
import { ClassOpinionDetector } from './class-opinion.js';

async function createOne(opts: DetectorOptions): Promise<Detector> {
  if (opts.host === 'worker') {
    const inner = { ...opts, host: 'inline' as const };
    return (opts.workers ?? 1) > 1 ? DetectorPool.create(inner, opts.workers ?? 1) : WorkerDetector.create(inner);
  }
  switch (opts.backend) {
    case 'onnx-cpu':
    case 'onnx-cuda':
      return OnnxDetector.create(opts);
  }
}

export async function createDetector(opts: DetectorOptions): Promise<Detector> {
  const counter = await createOne(opts);
  if (!opts.classModel) return counter;
  try {
    const classifier = await createOne({ ...opts, model: opts.classModel, scoreThreshold: opts.classScoreThreshold ?? opts.scoreThreshold, classModel: null });
    return new ClassOpinionDetector(counter, classifier);
  } catch (err) {
    await counter.close();
    throw err;
  }
}
export { ClassOpinionDetector, adoptClasses } from './class-opinion.js';
export { ReplayDetector, RecordingDetector } from './replay-detector.js';
