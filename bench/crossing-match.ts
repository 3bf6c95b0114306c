// Matching our counted line crossings to hand-counted ones (bench/counts.ts and the unit tests on
// recorded detections): same line and direction, within ±1.5 s, nearest first, each used once.
import type { ObjectClass } from '../appliance/src/core/types.js';

export const MATCH_S = 1.5;
/** Added to the time gap when the classes differ, to order candidate pairs (never to refuse one). */
const CLASS_MISMATCH_S = 0.5;

export interface Crossing {
  line: string;
  tS: number;
  direction: 'forward' | 'backward';
  cls: ObjectClass;
}

/**
 * Greedy nearest-in-time matching; returns each hand count with ours (or null) and our unmatched
 * crossings. Among crossings close together (a scooter and a car 0.2 s apart), one of the same
 * class is taken as the nearer: the class never decides whether a crossing matches, only which of
 * two near ones it is (plain time order paired them at random in dense traffic).
 */
export function matchCrossings<G extends Crossing, O extends Crossing>(gt: readonly G[], ours: readonly O[]): { matches: Array<{ gt: G; ours: O | null }>; extra: O[] } {
  const free = new Set(ours);
  const pairs: Array<{ g: G; o: O; d: number }> = [];
  for (const g of gt) {
    for (const o of ours) {
      if (o.line !== g.line || o.direction !== g.direction || Math.abs(o.tS - g.tS) > MATCH_S) continue;
      pairs.push({ g, o, d: Math.abs(o.tS - g.tS) + (o.cls === g.cls ? 0 : CLASS_MISMATCH_S) });
    }
  }
  pairs.sort((a, b) => a.d - b.d);
  const byGt = new Map<G, O>();
  for (const p of pairs) {
    if (byGt.has(p.g) || !free.has(p.o)) continue;
    free.delete(p.o);
    byGt.set(p.g, p.o);
  }
  return { matches: gt.map((g) => ({ gt: g, ours: byGt.get(g) ?? null })), extra: [...free] };
}
