// Messages between the anonymizer (appliance process) and its worker process. Plain data only
// (IPC with 'advanced' serialization: typed arrays travel as bytes).
import type { Detection } from '../core/types.js';
import type { AnonymizationReason } from './errors.js';
import type { EngineOptions, MaskPlan } from './engine.js';

/** First message to a worker: what to load, and how politely to run. */
export interface WorkerSetup {
  options: EngineOptions;
  nice: number;
}

/** First message of a worker: its models are loaded (or why they are not). */
export interface WorkerHello {
  type: 'hello';
  unavailable: AnonymizationReason | null;
  detail: string;
}

export interface JobRequest {
  id: number;
  kind: 'render' | 'plan';
  width: number;
  height: number;
  /** the worker's own copy of the raw rgb24 pixels */
  data: Uint8Array;
  objects: Detection[];
}

export type JobReply =
  | { type: 'rendered'; id: number; jpeg: Uint8Array; maskedShare: number }
  | { type: 'planned'; id: number; plan: MaskPlan }
  | { type: 'failed'; id: number; reason: AnonymizationReason; message: string };
