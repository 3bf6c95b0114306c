// Minimum-cost assignment (Kuhn–Munkres with potentials, O(n²m)) for rectangular matrices.
// Pairs whose cost exceeds `maxCost` are never returned, as in lap.lapjv(cost_limit) used by ByteTrack.

export interface Assignment {
  /** [row, col] pairs, sorted by row. */
  matches: Array<[number, number]>;
  unmatchedRows: number[];
  unmatchedCols: number[];
}

/**
 * Solve the rectangular assignment problem on `cost` (rows × cols, row-major arrays).
 * Entries above `maxCost` are treated as forbidden: they are replaced by a cost high enough that
 * the solver prefers leaving both sides unmatched, and are filtered from the result.
 */
export function assign(cost: number[][], maxCost: number): Assignment {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  if (rows === 0 || cols === 0) {
    return { matches: [], unmatchedRows: range(rows), unmatchedCols: range(cols) };
  }
  // Rows and columns joined by no allowed cell cannot influence each other, so the problem splits
  // into the connected components of the allowed cells; each is small (objects near each other),
  // which keeps a frame with hundreds of objects far from the O(n³) of one big matrix.
  const parent = new Int32Array(rows + cols).map((_, i) => i);
  const find = (i: number): number => {
    // parent holds indices below rows + cols, and i starts there.
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  let edges = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = cell(cost, i, j);
      if (Number.isFinite(v) && v <= maxCost) {
        edges++;
        const a = find(i);
        const b = find(rows + j);
        if (a !== b) parent[a] = b;
      }
    }
  }
  const groups = new Map<number, { r: number[]; c: number[] }>();
  for (let k = 0; k < rows + cols; k++) {
    const g = find(k);
    let e = groups.get(g);
    if (!e) groups.set(g, (e = { r: [], c: [] }));
    if (k < rows) e.r.push(k);
    else e.c.push(k - rows);
  }
  if (edges === 0 || groups.size > 1) {
    const matches: Array<[number, number]> = [];
    for (const { r, c } of groups.values()) {
      if (r.length === 0 || c.length === 0) continue;
      const sub = r.map((i) => c.map((j) => cell(cost, i, j)));
      for (const [a, b] of solveDense(sub, maxCost).matches) {
        const [row, col] = [r[a], c[b]];
        if (row !== undefined && col !== undefined) matches.push([row, col]);
      }
    }
    matches.sort((x, y) => x[0] - y[0]);
    const rowUsed = new Set(matches.map((m) => m[0]));
    const colUsed = new Set(matches.map((m) => m[1]));
    return { matches, unmatchedRows: range(rows).filter((i) => !rowUsed.has(i)), unmatchedCols: range(cols).filter((j) => !colUsed.has(j)) };
  }
  return solveDense(cost, maxCost);
}

function solveDense(cost: number[][], maxCost: number): Assignment {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  // Pad to a square matrix: a real row or column left unmatched costs maxCost/2, so a match is
  // worth taking only when its cost is below maxCost (the same convention as lapjv's cost_limit).
  // Forbidden cells cost more than leaving both sides unmatched, so they are never chosen.
  const n = rows + cols;
  const half = maxCost / 2;
  const forbidden = maxCost + 1;
  const c = (i: number, j: number): number => {
    if (i < rows && j < cols) {
      const v = cell(cost, i, j);
      return Number.isFinite(v) && v <= maxCost ? v : forbidden;
    }
    if (i < rows || j < cols) return half; // real row → dummy col, or dummy row → real col
    return 0; // dummy ↔ dummy
  };
  const colOfRow = hungarianSquare(n, c);
  const matches: Array<[number, number]> = [];
  const rowUsed = new Array<boolean>(rows).fill(false);
  const colUsed = new Array<boolean>(cols).fill(false);
  for (let i = 0; i < rows; i++) {
    const j = colOfRow[i]!; // colOfRow has n = rows + cols entries
    if (j < cols && cell(cost, i, j) <= maxCost) {
      matches.push([i, j]);
      rowUsed[i] = true;
      colUsed[j] = true;
    }
  }
  return {
    matches,
    unmatchedRows: range(rows).filter((i) => !rowUsed[i]),
    unmatchedCols: range(cols).filter((j) => !colUsed[j]),
  };
}

/** Classic Hungarian algorithm on an n×n cost function; returns the column assigned to each row. */
function hungarianSquare(n: number, c: (i: number, j: number) => number): Int32Array {
  const INF = Number.POSITIVE_INFINITY;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1); // p[j] = row (1-based) matched to column j
  const way = new Int32Array(n + 1);
  const minv = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  // Every index is a column 0..n or a row p[j] ≤ n: in range of the n + 1 arrays.
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = c(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0);
  }
  const colOfRow = new Int32Array(n);
  for (let j = 1; j <= n; j++) if (p[j]! > 0) colOfRow[p[j]! - 1] = j - 1;
  return colOfRow;
}

/** cost[i][j]; a cell a ragged row lacks is forbidden, as a non-finite one is. */
function cell(cost: readonly number[][], i: number, j: number): number {
  return cost[i]?.[j] ?? Number.POSITIVE_INFINITY;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
