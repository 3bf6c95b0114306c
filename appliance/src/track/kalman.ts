// Constant-velocity Kalman filter on the box (centre x, centre y, aspect w/h, height), as in
// SORT/ByteTrack, but driven by real time steps: velocities come out in pixels per second, and
// frames that arrive late or are dropped widen the uncertainty instead of being miscounted.

export interface KalmanNoise {
  /** Measurement std of cx, cy, h as a fraction of the box height (ByteTrack: 1/20). */
  measPos: number;
  /** Measurement std of the aspect ratio. */
  measAspect: number;
  /** Process noise: position random walk, (fraction of h)² per second. */
  procPos: number;
  /** Process noise: velocity random walk, (fraction of h per s)² per second. */
  procVel: number;
  /** Initial velocity std, fraction of h per second (large: a new track's velocity is unknown). */
  initVel: number;
}

export const DEFAULT_KALMAN_NOISE: KalmanNoise = {
  measPos: 1 / 20,
  measAspect: 1e-1,
  procPos: 0.075,
  procVel: 1.0,
  initVel: 4,
};

const N = 8;

/** A measured box: [cx, cy, a, h]. */
export type BoxMeasurement = readonly [cx: number, cy: number, a: number, h: number];

/** Mean and covariance of one track. Plain arrays so the filter has no hidden state. */
export interface KalmanState {
  /** [cx, cy, a, h, vcx, vcy, va, vh]; velocities per second. */
  x: Float64Array;
  /** 8×8 covariance, row-major. */
  P: Float64Array;
}

export function initiate(z: BoxMeasurement, noise: KalmanNoise): KalmanState {
  const x = new Float64Array(N);
  x.set(z);
  const h = Math.max(z[3], 1);
  const std = [
    2 * noise.measPos * h,
    2 * noise.measPos * h,
    1e-2,
    2 * noise.measPos * h,
    noise.initVel * h,
    noise.initVel * h,
    1e-3,
    noise.initVel * h * 0.25,
  ];
  const P = new Float64Array(N * N);
  // i < N = std.length.
  for (let i = 0; i < N; i++) P[i * N + i] = std[i]! * std[i]!;
  return { x, P };
}

/** Advance the state by dt seconds (in place). */
export function predict(s: KalmanState, dt: number, noise: KalmanNoise): void {
  const { x, P } = s;
  // Index reads below stay inside the 8-vector and the 8×8 matrix (i, j < 4, offsets of 4).
  for (let i = 0; i < 4; i++) x[i]! += dt * x[i + 4]!;
  // P ← F P Fᵀ with F = [[I, dt·I], [0, I]], done blockwise: A' = A + dt(B + Bᵀ) + dt²C, B' = B + dt·C.
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const a = P[i * N + j]!;
      const b = P[i * N + j + 4]!;
      const bt = P[(i + 4) * N + j]!;
      const c = P[(i + 4) * N + j + 4]!;
      P[i * N + j] = a + dt * (b + bt) + dt * dt * c;
      P[i * N + j + 4] = b + dt * c;
      P[(i + 4) * N + j] = bt + dt * c;
    }
  }
  const h = Math.max(x[3]!, 1);
  const qp = noise.procPos * h * h * dt;
  const qv = noise.procVel * h * h * dt;
  P[0 * N + 0]! += qp;
  P[1 * N + 1]! += qp;
  P[2 * N + 2]! += 1e-4 * dt;
  P[3 * N + 3]! += qp;
  P[4 * N + 4]! += qv;
  P[5 * N + 5]! += qv;
  P[6 * N + 6]! += 1e-6 * dt;
  P[7 * N + 7]! += qv * 0.0625;
}

/** Correct the state with a measured box z = [cx, cy, a, h] (in place). */
export function update(s: KalmanState, z: BoxMeasurement, noise: KalmanNoise): void {
  const { x, P } = s;
  // Index reads below stay inside x (8), P (8×8), S (4×4), K (8×4) and the 4-vectors r, y: loop bounds are N and 4.
  const h = Math.max(x[3]!, 1);
  const r = [noise.measPos * h, noise.measPos * h, noise.measAspect, noise.measPos * h];
  // S = H P Hᵀ + R is the top-left 4×4 block of P plus R.
  const S = new Float64Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) S[i * 4 + j] = P[i * N + j]!;
  for (let i = 0; i < 4; i++) S[i * 4 + i]! += r[i]! * r[i]!;
  const Si = invert4(S);
  // K = P Hᵀ S⁻¹ (8×4): P's first four columns times S⁻¹.
  const K = new Float64Array(N * 4);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < 4; j++) {
      let acc = 0;
      for (let k = 0; k < 4; k++) acc += P[i * N + k]! * Si[k * 4 + j]!;
      K[i * 4 + j] = acc;
    }
  }
  const y = [z[0] - x[0]!, z[1] - x[1]!, z[2] - x[2]!, z[3] - x[3]!];
  for (let i = 0; i < N; i++) {
    let acc = 0;
    for (let k = 0; k < 4; k++) acc += K[i * 4 + k]! * y[k]!;
    x[i]! += acc;
  }
  // P ← P − K H P, where H P is P's first four rows.
  const HP = P.slice(0, 4 * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < 4; k++) acc += K[i * 4 + k]! * HP[k * N + j]!;
      P[i * N + j]! -= acc;
    }
  }
  // Keep P symmetric despite rounding.
  for (let i = 0; i < N; i++) {
    for (let j = i + 1; j < N; j++) {
      const m = 0.5 * (P[i * N + j]! + P[j * N + i]!);
      P[i * N + j] = m;
      P[j * N + i] = m;
    }
  }
}

/** Inverse of a 4×4 symmetric positive-definite matrix by Gauss–Jordan with partial pivoting. */
function invert4(m: Float64Array): Float64Array {
  const a = Float64Array.from(m);
  const inv = new Float64Array(16);
  // Rows, columns and k are below 4: every read is inside the 4×4 arrays.
  for (let i = 0; i < 4; i++) inv[i * 4 + i] = 1;
  for (let col = 0; col < 4; col++) {
    let piv = col;
    for (let r = col + 1; r < 4; r++) if (Math.abs(a[r * 4 + col]!) > Math.abs(a[piv * 4 + col]!)) piv = r;
    if (piv !== col) {
      for (let k = 0; k < 4; k++) {
        [a[col * 4 + k], a[piv * 4 + k]] = [a[piv * 4 + k]!, a[col * 4 + k]!];
        [inv[col * 4 + k], inv[piv * 4 + k]] = [inv[piv * 4 + k]!, inv[col * 4 + k]!];
      }
    }
    const d = a[col * 4 + col]! || 1e-12;
    for (let k = 0; k < 4; k++) {
      a[col * 4 + k]! /= d;
      inv[col * 4 + k]! /= d;
    }
    for (let r = 0; r < 4; r++) {
      if (r === col) continue;
      const f = a[r * 4 + col]!;
      if (f === 0) continue;
      for (let k = 0; k < 4; k++) {
        a[r * 4 + k]! -= f * a[col * 4 + k]!;
        inv[r * 4 + k]! -= f * inv[col * 4 + k]!;
      }
    }
  }
  return inv;
}
