import type { DetectorBackend } from '../core/types.js';
import type { DetectorStage } from '../core/stages.js';

/** A pretrained object detector. Boxes come back in pixels of the image given. */
export interface Detector extends DetectorStage {
  readonly name: string;
  readonly backend: DetectorBackend;
}

// Backends (core/types.ts DETECTOR_BACKENDS): onnx-cpu here, onnx-cuda on GPU boxes with the CUDA build
// of onnxruntime. TensorFlow.js backends would sit there too; tfjs-node(-gpu) cannot install here (README).
export type { DetectorBackend };

export interface DetectorOptions {
  modelsDir: string;
  manifestPath: string;
  backend: DetectorBackend;
  model: string;
  scoreThreshold: number;
  nmsIou: number;
  threads: number;
}
