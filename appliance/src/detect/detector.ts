import type { Detection, RgbImage } from '../core/types.js';

/** A pretrained object detector. Boxes come back in pixels of the image given. */
export interface Detector {
  readonly name: string;
  readonly backend: DetectorBackend;
  detect(image: RgbImage): Promise<Detection[]>;
  close(): Promise<void>;
}

/**
 * onnx-cpu: onnxruntime-node's bundled CPU library (what runs here).
 * onnx-cuda: the same model on onnxruntime's CUDA execution provider (GPU boxes; needs the CUDA build, see README).
 * TensorFlow.js backends would sit here too; tfjs-node(-gpu) cannot install on this network (README).
 */
export type DetectorBackend = 'onnx-cpu' | 'onnx-cuda';

export interface DetectorOptions {
  modelsDir: string;
  manifestPath: string;
  backend: DetectorBackend;
  model: string;
  scoreThreshold: number;
  nmsIou: number;
  threads: number;
}
