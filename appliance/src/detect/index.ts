export type { Detector, DetectorBackend, DetectorOptions } from './detector.js';
export { OnnxYoloxDetector } from './onnx-detector.js';
export { classWiseNms, iou } from './nms.js';
import type { Detector, DetectorOptions } from './detector.js';
import { OnnxYoloxDetector } from './onnx-detector.js';

export async function createDetector(opts: DetectorOptions): Promise<Detector> {
  switch (opts.backend) {
    case 'onnx-cpu':
    case 'onnx-cuda':
      return OnnxYoloxDetector.create(opts);
  }
}
export { ReplayDetector, RecordingDetector } from './replay-detector.js';
