/**
 * Damped-least-squares inverse kinematics on a 6 x n Jacobian (MuJoCo's mj_jacSite):
 *   dq = J^T (J J^T + lambda^2 I)^-1 e
 * with e = [position error; orientation error (axis * angle of R_target R_current^T)], plus an
 * optional null-space pull toward a rest posture, (I - J^+ J) k (q_rest - q).
 */
import type { Mat4 } from '../../core/math.js';

export const IK_LAMBDA = 0.05;

/** Solves the 6x6 system A x = b in place (Gaussian elimination with partial pivoting). */
function solve6(A: Float64Array, b: Float64Array): Float64Array {
  const n = 6;
  const M = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]!) > Math.abs(M[p * n + c]!)) p = r;
    if (p !== c) {
      for (let k = 0; k < n; k++) {
        const t = M[c * n + k]!;
        M[c * n + k] = M[p * n + k]!;
        M[p * n + k] = t;
      }
      const t = x[c]!;
      x[c] = x[p]!;
      x[p] = t;
    }
    const piv = M[c * n + c]!;
    if (Math.abs(piv) < 1e-15) continue;
    for (let r = c + 1; r < n; r++) {
      const f = M[r * n + c]! / piv;
      if (f === 0) continue;
      for (let k = c; k < n; k++) M[r * n + k] = M[r * n + k]! - f * M[c * n + k]!;
      x[r] = x[r]! - f * x[c]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let k = r + 1; k < n; k++) s -= M[r * n + k]! * x[k]!;
    const piv = M[r * n + r]!;
    x[r] = Math.abs(piv) < 1e-15 ? 0 : s / piv;
  }
  return x;
}

/** 6-vector pose error from `current` to `target` (world frame): dp and rotation vector. */
export function poseError(current: Mat4, target: Mat4, rotWeight = 1): Float64Array {
  const e = new Float64Array(6);
  e[0] = target[3]! - current[3]!;
  e[1] = target[7]! - current[7]!;
  e[2] = target[11]! - current[11]!;
  // R = Rt * Rc^T
  const R = new Float64Array(9);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += target[r * 4 + k]! * current[c * 4 + k]!;
      R[r * 3 + c] = s;
    }
  const cos = Math.min(1, Math.max(-1, (R[0]! + R[4]! + R[8]! - 1) / 2));
  const angle = Math.acos(cos);
  let wx = R[7]! - R[5]!, wy = R[2]! - R[6]!, wz = R[3]! - R[1]!;
  const s = Math.hypot(wx, wy, wz);
  if (angle < 1e-9) {
    wx = wy = wz = 0;
  } else if (s > 1e-9) {
    const k = angle / s;
    wx *= k; wy *= k; wz *= k;
  } else {
    // angle ~ pi: axis from the diagonal
    const ax = Math.sqrt(Math.max(0, (R[0]! + 1) / 2)), ay = Math.sqrt(Math.max(0, (R[4]! + 1) / 2)), az = Math.sqrt(Math.max(0, (R[8]! + 1) / 2));
    wx = ax * angle;
    wy = (R[1]! >= 0 ? 1 : -1) * ay * angle;
    wz = (R[2]! >= 0 ? 1 : -1) * az * angle;
  }
  e[3] = wx * rotWeight; e[4] = wy * rotWeight; e[5] = wz * rotWeight;
  return e;
}

/**
 * One DLS step: joint displacement for the 6 x n Jacobian `J` (row-major) and error `e`.
 * `rest`/`q`/`nullGain`: optional null-space posture term.
 */
export function dlsStep(J: Float64Array, e: Float64Array, n: number, lambda = IK_LAMBDA, rest?: ArrayLike<number>, q?: ArrayLike<number>, nullGain = 0): Float64Array {
  const A = new Float64Array(36);
  for (let r = 0; r < 6; r++)
    for (let c = 0; c < 6; c++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += J[r * n + k]! * J[c * n + k]!;
      A[r * 6 + c] = s + (r === c ? lambda * lambda : 0);
    }
  const y = solve6(A, e);
  const dq = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let r = 0; r < 6; r++) s += J[r * n + k]! * y[r]!;
    dq[k] = s;
  }
  if (rest && q && nullGain > 0) {
    const z = new Float64Array(n);
    for (let k = 0; k < n; k++) z[k] = nullGain * (rest[k]! - q[k]!);
    // (I - J^T (J J^T + l^2)^-1 J) z
    const Jz = new Float64Array(6);
    for (let r = 0; r < 6; r++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += J[r * n + k]! * z[k]!;
      Jz[r] = s;
    }
    const w = solve6(A, Jz);
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let r = 0; r < 6; r++) s += J[r * n + k]! * w[r]!;
      dq[k] = dq[k]! + z[k]! - s;
    }
  }
  return dq;
}
