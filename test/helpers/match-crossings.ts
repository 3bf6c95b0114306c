// One-to-one matching of our line crossings to hand-counted ones, by time only: within each line and
// direction, pairs within ±toleranceS, the assignment of least total cost (Hungarian method), a pair
// costing Δt² and a crossing left unmatched (on either side) toleranceS²/2. It never looks at a lane, a position along the line or a class, so a
// figure computed over the matches (lane assignment, class confusion) cannot be raised by the
// matching itself.
// Why not greedy nearest-first: in dense traffic one close pair can take the only partner of a
// crossing that then goes unmatched. Why not "the most pairs first": where we miss one vehicle and
// count an extra one seconds later, every crossing in between would be shifted onto its neighbour's
// hand count to gain one pair; at toleranceS²/2 per unmatched crossing, one miss plus one extra is
// cheaper than such a chain, while a lone pair within the tolerance (Δt² ≤ 2 · toleranceS²/2) is
// always kept. Why Δt² and not |Δt|: on a time line |Δt| ties every
// order-swapping assignment with the order-keeping one (hand 8.5, 8.6 vs ours 8.4, 8.5: 0 + 0.2 =
// 0.1 + 0.1), so the solver's tie-break would decide which of two vehicles crossing 0.1 s apart in
// different lanes is compared with which; a convex cost keeps the time order of both lists.

export interface TimedCrossing {
  line: string;
  direction?: string;
  tS: number;
}

/** Pairs [gtIndex, oursIndex] of an optimal matching; indices into the given arrays. A pair needs the same line, and the same direction where both sides give one. */
export function matchByTime(gt: readonly TimedCrossing[], ours: readonly TimedCrossing[], toleranceS: number): Array<[number, number]> {
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
        return dt <= toleranceS ? dt * dt : Infinity;
      }),
    );
    for (const [a, b] of assignAdmissible(cost, (toleranceS * toleranceS) / 2)) out.push([g[a] as number, o[b] as number]);
  }
  return out.sort((p, q) => p[0] - q[0]);
}

/**
 * Rows to columns, one-to-one, over the finite entries of `cost`, of least total cost where a row or
 * column left unmatched costs `unmatchedCost`: a square Hungarian over rows + one "unmatched" slot
 * per column and columns + one per row.
 */
export function assignAdmissible(cost: readonly (readonly number[])[], unmatchedCost: number): Array<[number, number]> {
  const n = cost.length;
  const m = cost[0]?.length ?? 0;
  if (!n || !m) return [];
  let worst = 0;
  for (const row of cost) for (const v of row) if (Number.isFinite(v)) worst = Math.max(worst, v);
  const forbidden = 4 * (n + m) * (worst + unmatchedCost + 1);
  const c = (i: number, j: number): number => {
    if (i < n && j < m) {
      const v = cost[i]?.[j] ?? Infinity;
      return Number.isFinite(v) ? v : forbidden;
    }
    if (i < n || j < m) return unmatchedCost;
    return 0;
  };
  const rowOf = hungarian(n + m, c);
  const pairs: Array<[number, number]> = [];
  for (let j = 0; j < m; j++) {
    const i = rowOf[j] ?? -1;
    if (i >= 0 && i < n && Number.isFinite(cost[i]?.[j] ?? Infinity)) pairs.push([i, j]);
  }
  return pairs;
}

/** Minimum-cost perfect assignment on an N x N matrix (Kuhn-Munkres with potentials, O(N^3)); returns the row of each column. */
function hungarian(N: number, c: (i: number, j: number) => number): number[] {
  const u = new Float64Array(N + 1);
  const v = new Float64Array(N + 1);
  const p = new Int32Array(N + 1); // p[j] = row (1-based) assigned to column j; column 0 is the virtual start
  const way = new Int32Array(N + 1);
  for (let i = 1; i <= N; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(N + 1).fill(Infinity);
    const used = new Uint8Array(N + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0] as number;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= N; j++) {
        if (used[j]) continue;
        const cur = c(i0 - 1, j - 1) - (u[i0] as number) - (v[j] as number);
        if (cur < (minv[j] as number)) {
          minv[j] = cur;
          way[j] = j0;
        }
        if ((minv[j] as number) < delta) {
          delta = minv[j] as number;
          j1 = j;
        }
      }
      for (let j = 0; j <= N; j++) {
        if (used[j]) {
          u[p[j] as number] = (u[p[j] as number] as number) + delta;
          v[j] = (v[j] as number) - delta;
        } else minv[j] = (minv[j] as number) - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0] as number;
      p[j0] = p[j1] as number;
      j0 = j1;
    } while (j0);
  }
  const rowOf: number[] = [];
  for (let j = 1; j <= N; j++) rowOf[j - 1] = (p[j] as number) - 1;
  return rowOf;
}
