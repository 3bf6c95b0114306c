export type { Detector, DetectorBackend, DetectorOptions } from './detector.js';
export { OnnxDetector } from './onnx-detector.js';
export { classWiseNms, dropOversized, iou, vehicleAwareNms } from './nms.js';
import type { Detector, DetectorOptions } from './detector.js';
import { OnnxDetector } from './onnx-detector.js';

export async function createDetector(opts: DetectorOptions): Promise<Detector> {
  switch (opts.backend) {
    case 'onnx-cpu':
    case 'onnx-cuda':
      return OnnxDetector.create(opts);
  }
}
export { ReplayDetector, RecordingDetector } from './replay-detector.js';
