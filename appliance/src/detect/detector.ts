import type { DetectorBackend, DetectorHost } from '../core/types.js';
import type { EnhancePolicy } from './enhance.js';
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
  /** Boxes larger than this share of the frame are dropped (whole-frame false boxes). Default 1 (none). */
  maxBoxArea?: number;
  /** NMS across vehicle classes (a car and a truck box on one vehicle count once). Default true. */
  crossClassNms?: boolean;
  /** 'worker': inference in a worker thread (detector-host.ts), the event loop stays free; default inline. */
  host?: DetectorHost;
  /** Worker host only: this many sessions side by side (DetectorPool), each with `threads` threads. Default 1. */
  workers?: number;
  /**
   * A second (COCO) model run on the same frame to name the first model's vehicles (truck, bus,
   * bicycle, motorcycle) when the first only knows 'vehicle' and 'bike'; null: none.
   */
  classModel?: string | null;
  /** Score threshold of the class model. */
  classScoreThreshold?: number;
  /** Low-light step before the model (detect/enhance.ts): 'off' (default), 'auto' (dark frames only), or one operation on every frame (benchmarks). */
  enhance?: EnhancePolicy;
}
