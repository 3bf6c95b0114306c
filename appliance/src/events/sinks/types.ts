// What every upstream sink offers the dispatcher, and the two ways a delivery can fail.
import type { CloudEvent } from '../../core/types.js';

export interface EventSink {
  /** Stable id: names the cursor in the outbox and the `sink` metric label. */
  readonly id: string;
  /** Resolves only when the receiver has acknowledged every event of the batch. */
  deliver(batch: CloudEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** Try again later (network down, timeout, 5xx, 408, 429). */
export class RetryableDeliveryError extends Error {
  override readonly name = 'RetryableDeliveryError';
  constructor(
    message: string,
    /** The receiver asked to wait this long (Retry-After), ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The receiver refused the content itself (4xx other than 408/429): retrying the same bytes cannot help. */
export class PoisonBatchError extends Error {
  override readonly name = 'PoisonBatchError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
