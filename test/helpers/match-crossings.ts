// One-to-one matching of our line crossings to hand-counted ones, by time: within each line and
// direction, pairs within ±toleranceS, the assignment of least total cost (Hungarian method), a pair
// costing Δt² and a crossing left unmatched (on either side) toleranceS²/2. By itself it never looks
// at a lane, a position along the line or a class. Two benches add a cost for the evidence of which
// vehicle is which among those crossing within the hand times' precision (`pairCost`): the lanes
// bench where on the line (test/helpers/lanes.ts laneAgreement), the counts bench the kind of
// vehicle (bench/counts.ts CLASS_AS_TIME_S); each prints the time-only figures beside its own.
// Why not greedy nearest-first: in dense traffic one close pair can take the only partner of a
// crossing that then goes unmatched. Why not "the most pairs first": where we miss one vehicle and
// count an extra one seconds later, every crossing in between would be shifted onto its neighbour's
// hand count to gain one pair; at toleranceS²/2 per unmatched crossing, one miss plus one extra is
// cheaper than such a chain, while a lone pair within the tolerance (Δt² ≤ 2 · toleranceS²/2) is
// always kept. Why Δt² and not |Δt|: on a time line |Δt| ties every
// order-swapping assignment with the order-keeping one (hand 8.5, 8.6 vs ours 8.4, 8.5: 0 + 0.2 =
// 0.1 + 0.1), so the solver's tie-break would decide which of two vehicles crossing 0.1 s apart in
// different lanes is compared with which; a convex cost keeps the time order of both lists.

import { assign } from '../../appliance/src/track/hungarian.js';
import { HEAVY_VEHICLE_CLASSES, TWO_WHEELER_CLASSES, type ObjectClass } from '../../appliance/src/core/types.js';

export interface TimedCrossing {
  line: string;
  direction?: string;
  tS: number;
}

/**
 * Pairs [gtIndex, oursIndex] of an optimal matching; indices into the given arrays. A pair needs the same line, and the same direction where both sides give one.
 * `pairCost` (optional) adds to a pair's Δt²: the lanes bench uses it for where on the line the two crossings are.
 */
export function matchByTime<G extends TimedCrossing, O extends TimedCrossing>(gt: readonly G[], ours: readonly O[], toleranceS: number, pairCost?: (g: G, o: O) => number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const line of new Set(gt.map((c) => c.line))) {
    const g = gt.flatMap((c, i) => (c.line === line ? [i] : []));
    const o = ours.flatMap((c, j) => (c.line === line ? [j] : []));
    if (!o.length) continue;
    const cost = g.map((gi) =>
      o.map((oj) => {
        const a = gt[gi];
        const b = ours[oj];
        if (!a || !b || (a.direction !== undefined && b.direction !== undefined && a.direction !== b.direction)) return Infinity;
        const dt = Math.abs(a.tS - b.tS);
        return dt <= toleranceS ? dt * dt + (pairCost?.(a, b) ?? 0) : Infinity;
      }),
    );
    for (const [a, b] of assignAdmissible(cost, (toleranceS * toleranceS) / 2)) out.push([g[a] as number, o[b] as number]);
  }
  return out.sort((p, q) => p[0] - q[0]);
}

/**
 * Rows to columns, one-to-one, over the finite entries of `cost`, of least total cost where a row or
 * column left unmatched costs `unmatchedCost`: the tracker's own solver (track/hungarian.ts) on the
 * square matrix of rows + one "unmatched" slot per column and columns + one per row.
 */
export function assignAdmissible(cost: readonly (readonly number[])[], unmatchedCost: number): Array<[number, number]> {
  const n = cost.length;
  const m = cost[0]?.length ?? 0;
  if (!n || !m) return [];
  let worst = 0;
  for (const row of cost) for (const v of row) if (Number.isFinite(v)) worst = Math.max(worst, v);
  const forbidden = 4 * (n + m) * (worst + unmatchedCost + 1);
  const square: number[][] = [];
  for (let i = 0; i < n + m; i++) {
    const row: number[] = [];
    for (let j = 0; j < n + m; j++) {
      if (i < n && j < m) {
        const v = cost[i]?.[j] ?? Infinity;
        row.push(Number.isFinite(v) ? v : forbidden);
      } else row.push(i < n || j < m ? unmatchedCost : 0);
    }
    square.push(row);
  }
  return assign(square, forbidden / 2).matches.filter(([i, j]) => i < n && j < m && Number.isFinite(cost[i]?.[j] ?? Infinity));
}

/** Tolerance of the dev-set benches: a counted crossing within ±1.5 s of a hand-counted one can be the same vehicle. */
export const MATCH_S = 1.5;

export interface ClassedCrossing extends TimedCrossing {
  direction: 'forward' | 'backward';
}

/** Each hand count with ours (or null), and our crossings left unmatched: matchByTime at MATCH_S (plus `pairCost`). */
export function matchCrossings<G extends ClassedCrossing, O extends ClassedCrossing>(gt: readonly G[], ours: readonly O[], pairCost?: (g: G, o: O) => number): { matches: Array<{ gt: G; ours: O | null }>; extra: O[] } {
  const byGt = new Map<number, number>(matchByTime(gt, ours, MATCH_S, pairCost));
  const used = new Set(byGt.values());
  return {
    matches: gt.map((g, i) => {
      const j = byGt.get(i);
      return { gt: g, ours: j === undefined ? null : (ours[j] ?? null) };
    }),
    extra: ours.filter((_, j) => !used.has(j)),
  };
}

/**
 * How a pair's classes weigh in the pairing: a pair whose kinds differ (car; truck or bus; two-wheeler)
 * costs as much as this much more time. Hand times are good to ±0.2 s (±0.3 s at night; the ground
 * truth README), and at jakarta a scooter and a car cross within 0.2 s of each other every few
 * seconds: by time alone, which of the two our crossings are compared with is a coin toss, and the
 * class figures then measure the toss. The class is the evidence of which vehicle is which (as the
 * lane is in the lanes bench, test/helpers/lanes.ts LANE_AS_TIME_S). A wrong class still shows
 * wherever no vehicle of the counted kind crossed within ~0.3 s; the time-only figures are printed
 * beside as the other bound, and the per-class totals need no pairing at all.
 */
export const CLASS_AS_TIME_S = 0.3;

type VehicleKind = 'heavy' | 'two-wheeler' | 'light' | 'other';

function vehicleKind(cls: ObjectClass): VehicleKind {
  if (HEAVY_VEHICLE_CLASSES.includes(cls)) return 'heavy';
  if (TWO_WHEELER_CLASSES.includes(cls)) return 'two-wheeler';
  return cls === 'car' ? 'light' : 'other';
}

/** `pairCost` of the counts pairing: nothing for the same kind of vehicle, CLASS_AS_TIME_S² of time otherwise. */
export function classPairCost(g: { cls: ObjectClass }, o: { cls: ObjectClass }): number {
  return vehicleKind(g.cls) === vehicleKind(o.cls) ? 0 : CLASS_AS_TIME_S * CLASS_AS_TIME_S;
}
