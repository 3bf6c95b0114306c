/**
 * Exponential backoff with "equal jitter": half fixed, half random, so many cameras or sinks that fail
 * together do not retry together. Used by camera reconnects and sink retries alike.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** Delay before retry number `retry` (0 = the first retry). */
export function backoffDelay(retry: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(p.maxMs, p.initialMs * 2 ** Math.min(Math.max(0, retry), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
