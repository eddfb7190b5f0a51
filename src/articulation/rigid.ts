/**
 * Rigid transforms (row-major 3x3 rotation + translation), weighted Kabsch fitting, screw
 * decomposition into joint parameters, and the articulation error metrics used by the bench
 * (robot-facts.md: sign-agnostic axis angle, Plücker line distance, motion error).
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import type { Mat4, Vec3 } from '../core/math.js';

export interface Rigid {
  /** Row-major 3x3 rotation. */
  r: Float64Array;
  t: Vec3;
}

export function rigidIdentity(): Rigid {
  return { r: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), t: [0, 0, 0] };
}

export function rigidApply(T: Rigid, p: Vec3): Vec3 {
  const r = T.r;
  return [
    r[0]! * p[0] + r[1]! * p[1] + r[2]! * p[2] + T.t[0],
    r[3]! * p[0] + r[4]! * p[1] + r[5]! * p[2] + T.t[1],
    r[6]! * p[0] + r[7]! * p[1] + r[8]! * p[2] + T.t[2],
  ];
}

/** The same motion as a row-major 4x4 (for `transformPoints` and the other Mat4 helpers of core/math). */
export function rigidToMat4(T: Rigid): Mat4 {
  const r = T.r, t = T.t;
  return Float64Array.of(r[0]!, r[1]!, r[2]!, t[0], r[3]!, r[4]!, r[5]!, t[1], r[6]!, r[7]!, r[8]!, t[2], 0, 0, 0, 1);
}

export function rigidInverse(T: Rigid): Rigid {
  const r = T.r;
  const rt = Float64Array.of(r[0]!, r[3]!, r[6]!, r[1]!, r[4]!, r[7]!, r[2]!, r[5]!, r[8]!);
  const t = T.t;
  return {
    r: rt,
    t: [-(rt[0]! * t[0] + rt[1]! * t[1] + rt[2]! * t[2]), -(rt[3]! * t[0] + rt[4]! * t[1] + rt[5]! * t[2]), -(rt[6]! * t[0] + rt[7]! * t[1] + rt[8]! * t[2])],
  };
}

/** Rotation matrix (row-major 3x3) about unit `u` by `angle` (right-hand rule). */
export function rotationAxisAngle(u: Vec3, angle: number): Float64Array {
  const [x, y, z] = u;
  const c = Math.cos(angle), s = Math.sin(angle), k = 1 - c;
  return Float64Array.of(
    k * x * x + c, k * x * y - s * z, k * x * z + s * y,
    k * x * y + s * z, k * y * y + c, k * y * z - s * x,
    k * x * z - s * y, k * y * z + s * x, k * z * z + c,
  );
}

/** Pure rotation by `angle` about the line through `origin` with direction `u`. */
export function rigidRevolute(u: Vec3, origin: Vec3, angle: number): Rigid {
  const r = rotationAxisAngle(u, angle);
  const ro = [r[0]! * origin[0] + r[1]! * origin[1] + r[2]! * origin[2], r[3]! * origin[0] + r[4]! * origin[1] + r[5]! * origin[2], r[6]! * origin[0] + r[7]! * origin[1] + r[8]! * origin[2]];
  return { r, t: [origin[0] - ro[0]!, origin[1] - ro[1]!, origin[2] - ro[2]!] };
}

/**
 * Weighted least-squares rigid transform mapping src[i] onto dst[i] (Kabsch with the reflection
 * fix). `src`/`dst` are packed xyz of equal length; `w` optional weights.
 */
export function kabsch(src: Float64Array | Float32Array, dst: Float64Array | Float32Array, w?: Float64Array): Rigid {
  const n = src.length / 3;
  if (n < 3 || dst.length !== src.length) throw new Error(`Kabsch: need >= 3 matched point pairs, got ${n}`);
  let sw = 0;
  const cs = [0, 0, 0], cd = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1;
    sw += wi;
    for (let k = 0; k < 3; k++) {
      cs[k]! += wi * src[3 * i + k]!;
      cd[k]! += wi * dst[3 * i + k]!;
    }
  }
  if (!(sw > 0)) throw new Error('Kabsch: weights sum to zero');
  for (let k = 0; k < 3; k++) {
    cs[k]! /= sw;
    cd[k]! /= sw;
  }
  // Cross-covariance H = sum w (s - cs)(d - cd)^T.
  const h = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1;
    const sx = src[3 * i]! - cs[0]!, sy = src[3 * i + 1]! - cs[1]!, sz = src[3 * i + 2]! - cs[2]!;
    const dx = dst[3 * i]! - cd[0]!, dy = dst[3 * i + 1]! - cd[1]!, dz = dst[3 * i + 2]! - cd[2]!;
    h[0]! += wi * sx * dx; h[1]! += wi * sx * dy; h[2]! += wi * sx * dz;
    h[3]! += wi * sy * dx; h[4]! += wi * sy * dy; h[5]! += wi * sy * dz;
    h[6]! += wi * sz * dx; h[7]! += wi * sz * dy; h[8]! += wi * sz * dz;
  }
  const r = rotationFromCovariance(h);
  const t: Vec3 = [
    cd[0]! - (r[0]! * cs[0]! + r[1]! * cs[1]! + r[2]! * cs[2]!),
    cd[1]! - (r[3]! * cs[0]! + r[4]! * cs[1]! + r[5]! * cs[2]!),
    cd[2]! - (r[6]! * cs[0]! + r[7]! * cs[1]! + r[8]! * cs[2]!),
  ];
  return { r, t };
}

/** R = V diag(1, 1, det(V U^T)) U^T from H = U S V^T. */
export function rotationFromCovariance(h: readonly number[]): Float64Array {
  const H = new Matrix([[h[0]!, h[1]!, h[2]!], [h[3]!, h[4]!, h[5]!], [h[6]!, h[7]!, h[8]!]]);
  const svd = new SingularValueDecomposition(H, { autoTranspose: false });
  const U = svd.leftSingularVectors;
  const V = svd.rightSingularVectors;
  let R = V.mmul(U.transpose());
  if (det3(R) < 0) {
    const D = Matrix.eye(3, 3);
    D.set(2, 2, -1);
    R = V.mmul(D).mmul(U.transpose());
  }
  return Float64Array.of(R.get(0, 0), R.get(0, 1), R.get(0, 2), R.get(1, 0), R.get(1, 1), R.get(1, 2), R.get(2, 0), R.get(2, 1), R.get(2, 2));
}

function det3(m: Matrix): number {
  const a = m.to2DArray();
  const r0 = a[0]!, r1 = a[1]!, r2 = a[2]!;
  return r0[0]! * (r1[1]! * r2[2]! - r1[2]! * r2[1]!) - r0[1]! * (r1[0]! * r2[2]! - r1[2]! * r2[0]!) + r0[2]! * (r1[0]! * r2[1]! - r1[1]! * r2[0]!);
}

export interface Screw {
  /** Rotation angle in [0, pi]. */
  angle: number;
  /** Unit rotation axis (meaningless when angle ~ 0). */
  axis: Vec3;
  /** The point on the axis closest to `near`. */
  point: Vec3;
  /** Translation along the axis (screw pitch * angle). */
  along: number;
}

/**
 * Screw decomposition of (R, t): axis = eigenvector of R for eigenvalue 1 (from the skew part,
 * or from R + I near pi), angle from the trace, a point on the axis from (I - R) p = t - (t.u) u
 * solved in the plane perpendicular to u, moved to the foot of `near`.
 */
export function screwOf(T: Rigid, near: Vec3 = [0, 0, 0]): Screw {
  const r = T.r;
  const cosA = Math.max(-1, Math.min(1, (r[0]! + r[4]! + r[8]! - 1) / 2));
  const angle = Math.acos(cosA);
  let axis: Vec3 = [r[7]! - r[5]!, r[2]! - r[6]!, r[3]! - r[1]!];
  let n = Math.hypot(...axis);
  if (angle > Math.PI - 1e-3 || n < 1e-9) {
    // Near pi the skew part vanishes; use the largest column of R + I.
    const cols: Vec3[] = [[r[0]! + 1, r[3]!, r[6]!], [r[1]!, r[4]! + 1, r[7]!], [r[2]!, r[5]!, r[8]! + 1]];
    cols.sort((a, b) => Math.hypot(...b) - Math.hypot(...a));
    if (angle > 1e-6) {
      axis = cols[0]!;
      n = Math.hypot(...axis);
    }
  }
  if (!(n > 1e-12)) return { angle: 0, axis: [1, 0, 0], point: near, along: 0 };
  const u: Vec3 = [axis[0] / n, axis[1] / n, axis[2] / n];
  const t = T.t;
  const along = t[0] * u[0] + t[1] * u[1] + t[2] * u[2];
  const tp: Vec3 = [t[0] - along * u[0], t[1] - along * u[1], t[2] - along * u[2]];
  // Closed form: for rotation by angle a about u through p (p perpendicular to u),
  // t_perp = (I - R) p  =>  p = 0.5 * (t_perp + cot(a/2) * u x t_perp).
  let point: Vec3 = [0, 0, 0];
  if (angle > 1e-9) {
    const cot = 1 / Math.tan(angle / 2);
    const c: Vec3 = [u[1] * tp[2] - u[2] * tp[1], u[2] * tp[0] - u[0] * tp[2], u[0] * tp[1] - u[1] * tp[0]];
    point = [0.5 * (tp[0] + cot * c[0]), 0.5 * (tp[1] + cot * c[1]), 0.5 * (tp[2] + cot * c[2])];
  }
  // Move to the foot of `near` on the line.
  const d = (near[0] - point[0]) * u[0] + (near[1] - point[1]) * u[1] + (near[2] - point[2]) * u[2];
  point = [point[0] + d * u[0], point[1] + d * u[1], point[2] + d * u[2]];
  // Screw decomposition's right-hand sign: rotation is +angle about u.
  return { angle, axis: u, point, along };
}

/** Sign-agnostic angle between two axes, degrees. */
export function axisAngleErrorDeg(a: Vec3, b: Vec3): number {
  const na = Math.hypot(...a), nb = Math.hypot(...b);
  const c = Math.abs(a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (na * nb);
  return (Math.acos(Math.min(1, c)) * 180) / Math.PI;
}

/** Distance between two lines (point + direction), via Plücker coordinates; parallel lines handled. */
export function lineDistance(p1: Vec3, d1: Vec3, p2: Vec3, d2: Vec3): number {
  const n1 = Math.hypot(...d1), n2 = Math.hypot(...d2);
  const u: Vec3 = [d1[0] / n1, d1[1] / n1, d1[2] / n1];
  const v: Vec3 = [d2[0] / n2, d2[1] / n2, d2[2] / n2];
  const w: Vec3 = [p2[0] - p1[0], p2[1] - p1[1], p2[2] - p1[2]];
  const c: Vec3 = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
  const cn = Math.hypot(...c);
  if (cn < 1e-6) {
    // Parallel: distance from p2 to line 1.
    const d = w[0] * u[0] + w[1] * u[1] + w[2] * u[2];
    return Math.hypot(w[0] - d * u[0], w[1] - d * u[1], w[2] - d * u[2]);
  }
  return Math.abs(w[0] * c[0] + w[1] * c[1] + w[2] * c[2]) / cn;
}
