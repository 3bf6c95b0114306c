// Image → ground-plane homography by the normalised Direct Linear Transform (Hartley & Zisserman,
// alg. 4.2): points are centred and scaled to mean distance √2, the 2n×9 system is solved in the
// least-squares sense (smallest eigenvector of AᵀA, exact for 4 points), then de-normalised.

export interface Pt {
  x: number;
  y: number;
}

/** 3×3 row-major, maps image pixels (x, y, 1) to ground metres (X, Y, W). */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export class CalibrationError extends Error {
  override name = 'CalibrationError';
}

export interface ReprojectionErrors {
  /** Ground-plane error of each image point mapped through H (m). */
  rmsM: number;
  maxM: number;
  /** Image error of each ground point mapped back through H⁻¹ (px). */
  rmsPx: number;
  maxPx: number;
  perPoint: Array<{ errM: number; errPx: number }>;
}

export interface HomographyFit {
  H: Mat3;
  errors: ReprojectionErrors;
}

export function fitHomography(image: readonly Pt[], ground: readonly Pt[]): HomographyFit {
  if (image.length !== ground.length) throw new CalibrationError(`${image.length} image points but ${ground.length} ground points`);
  const n = image.length;
  const [p0] = image;
  if (n < 4 || !p0) throw new CalibrationError(`a homography needs at least 4 point pairs, got ${n}`);
  [...image, ...ground].forEach((p, i) => {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new CalibrationError(`point ${i % n} has a non-finite coordinate`);
  });
  checkGeneralPosition(image, 'image');
  checkGeneralPosition(ground, 'ground');

  const Ti = normaliser(image);
  const Tg = normaliser(ground);
  const ni = image.map((p) => applyAffine(Ti, p));
  const ng = ground.map((p) => applyAffine(Tg, p));
  // AᵀA accumulated directly (9×9), rows: [−x −y −1 0 0 0 Xx Xy X], [0 0 0 −x −y −1 Yx Yy Y].
  const ata = new Float64Array(81);
  const addRow = (r: Readonly<Mat3>): void => {
    // i, j < 9: in range of the 9-row and the 81-element matrix.
    for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) ata[i * 9 + j]! += r[i]! * r[j]!;
  };
  for (const [{ x, y }, { x: X, y: Y }] of pairsOf(ni, ng)) {
    addRow([-x, -y, -1, 0, 0, 0, X * x, X * y, X]);
    addRow([0, 0, 0, -x, -y, -1, Y * x, Y * y, Y]);
  }
  const { values, vectors } = jacobiEigen(ata, 9);
  // (eigenvalue, column) pairs, smallest first.
  const [smallest, second] = values.map((v, i) => [v, i] as const).sort(([a], [b]) => a - b);
  const largest = Math.max(...values);
  // A unique solution needs a one-dimensional null space: the second smallest eigenvalue must be
  // clearly above zero. Otherwise the points do not pin down a homography.
  if (!smallest || !second || second[0] <= 1e-10 * largest) {
    throw new CalibrationError('degenerate point configuration: the points do not determine a unique homography (too many collinear points?)');
  }
  const column = smallest[1];
  // vectors is 9×9 and i < 9, column < 9.
  const h = Array.from({ length: 9 }, (_, i) => vectors[i * 9 + column]!);
  const Hn = h as Mat3;
  let H = mul3(inv3(Tg), mul3(Hn, Ti));
  // Scale so that W > 0 at the calibration points and H[8] = 1 where possible.
  const wSign = Math.sign(H[6] * p0.x + H[7] * p0.y + H[8]) || 1;
  const s = Math.abs(H[8]) > 1e-12 ? Math.abs(H[8]) : Math.hypot(...H);
  H = H.map((v) => (v * wSign) / s) as Mat3;
  for (const [k, p] of image.entries()) {
    const w = H[6] * p.x + H[7] * p.y + H[8];
    if (!(w > 0)) throw new CalibrationError(`point ${k} maps beyond the horizon: check that image and ground points are in the same order`);
  }
  if (Math.abs(det3(H)) < 1e-15) throw new CalibrationError('the fitted homography is singular');
  return { H, errors: reprojectionErrors(H, image, ground) };
}

export function reprojectionErrors(H: Mat3, image: readonly Pt[], ground: readonly Pt[]): ReprojectionErrors {
  const Hi = inv3(H);
  const perPoint = pairsOf(image, ground).map(([p, truth]) => {
    const g = applyH(H, p);
    const b = applyH(Hi, truth);
    const errM = g ? Math.hypot(g.x - truth.x, g.y - truth.y) : Number.POSITIVE_INFINITY;
    const errPx = b ? Math.hypot(b.x - p.x, b.y - p.y) : Number.POSITIVE_INFINITY;
    return { errM, errPx };
  });
  const rms = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
  return {
    rmsM: rms(perPoint.map((e) => e.errM)),
    maxM: Math.max(...perPoint.map((e) => e.errM)),
    rmsPx: rms(perPoint.map((e) => e.errPx)),
    maxPx: Math.max(...perPoint.map((e) => e.errPx)),
    perPoint,
  };
}

/** Apply a homography; null where the point maps to or beyond the horizon (W ≤ 0). */
export function applyH(H: Readonly<Mat3>, p: Pt): Pt | null {
  const w = H[6] * p.x + H[7] * p.y + H[8];
  if (!(w > 1e-12)) return null;
  return { x: (H[0] * p.x + H[1] * p.y + H[2]) / w, y: (H[3] * p.x + H[4] * p.y + H[5]) / w };
}

/** image[k] with ground[k]; a CalibrationError when the counts differ. */
function pairsOf(image: readonly Pt[], ground: readonly Pt[]): Array<[Pt, Pt]> {
  if (image.length !== ground.length) throw new CalibrationError(`${image.length} image points but ${ground.length} ground points`);
  const pairs: Array<[Pt, Pt]> = [];
  for (const [k, p] of image.entries()) {
    const g = ground[k];
    if (g) pairs.push([p, g]);
  }
  return pairs;
}

/** A row-major 3×3 from a plain array (a parsed file): exactly 9 numbers, or a CalibrationError. */
export function toMat3(values: readonly number[]): Mat3 {
  if (values.length !== 9) throw new CalibrationError(`a 3×3 matrix needs 9 numbers, got ${values.length}`);
  return [...values] as Mat3;
}

/** Reject coincident or collinear point sets with a message that names the culprits. */
function checkGeneralPosition(pts: readonly Pt[], what: string): void {
  const n = pts.length;
  const cx = pts.reduce((s, p) => s + p.x, 0) / n;
  const cy = pts.reduce((s, p) => s + p.y, 0) / n;
  const scale = Math.max(...pts.map((p) => Math.hypot(p.x - cx, p.y - cy)));
  if (!(scale > 0)) throw new CalibrationError(`all ${what} points are the same point`);
  for (const [i, a] of pts.entries())
    for (const [j, b] of pts.entries())
      if (j > i && Math.hypot(a.x - b.x, a.y - b.y) < 1e-9 * scale) throw new CalibrationError(`${what} points ${i} and ${j} are the same`);
  // Scatter matrix: its smaller eigenvalue is ~0 when every point is on one line.
  let sxx = 0, syy = 0, sxy = 0;
  for (const p of pts) {
    sxx += (p.x - cx) ** 2;
    syy += (p.y - cy) ** 2;
    sxy += (p.x - cx) * (p.y - cy);
  }
  const tr = sxx + syy;
  const det = sxx * syy - sxy * sxy;
  const lmin = tr / 2 - Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
  if (lmin <= 1e-9 * tr) throw new CalibrationError(`all ${what} points are collinear: pick points that span an area of the road`);
  const [p0, p1, p2, p3] = pts;
  if (n === 4 && p0 && p1 && p2 && p3) {
    const tol = 1e-6 * scale * scale;
    for (const [a, b, c, A, B, C] of [[0, 1, 2, p0, p1, p2], [0, 1, 3, p0, p1, p3], [0, 2, 3, p0, p2, p3], [1, 2, 3, p1, p2, p3]] as const) {
      const area = Math.abs((B.x - A.x) * (C.y - A.y) - (B.y - A.y) * (C.x - A.x)) / 2;
      if (area < tol) throw new CalibrationError(`${what} points ${a}, ${b} and ${c} are collinear: with 4 points no 3 may lie on a line`);
    }
  }
}

/** Similarity that moves the centroid to the origin and the mean distance to √2. */
function normaliser(pts: readonly Pt[]): Mat3 {
  const n = pts.length;
  const cx = pts.reduce((s, p) => s + p.x, 0) / n;
  const cy = pts.reduce((s, p) => s + p.y, 0) / n;
  const md = pts.reduce((s, p) => s + Math.hypot(p.x - cx, p.y - cy), 0) / n;
  const s = Math.SQRT2 / md;
  return [s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1];
}

function applyAffine(T: Mat3, p: Pt): Pt {
  return { x: T[0] * p.x + T[1] * p.y + T[2], y: T[3] * p.x + T[4] * p.y + T[5] };
}

export function mul3(a: Readonly<Mat3>, b: Readonly<Mat3>): Mat3 {
  const r = new Array<number>(9).fill(0);
  // i, j, k < 3: every index is below 9.
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j]! += a[i * 3 + k]! * b[k * 3 + j]!;
  return r as Mat3;
}

export function det3(m: Readonly<Mat3>): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

export function inv3(m: Readonly<Mat3>): Mat3 {
  const d = det3(m);
  if (d === 0) throw new CalibrationError('matrix is singular');
  const r = [
    m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
    m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
    m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3],
  ];
  return r.map((v) => v / d) as Mat3;
}

/** Eigen-decomposition of a symmetric n×n matrix by cyclic Jacobi rotations. vectors: columns. */
export function jacobiEigen(m: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  if (m.length !== n * n) throw new CalibrationError(`a ${n}×${n} matrix needs ${n * n} numbers, got ${m.length}`);
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  // Every index below is row * n + column with row, column < n: in range of the n×n arrays.
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Array.from({ length: n }, (_, i) => a[i * n + i]!), vectors: v };
}
