/**
 * Small linear-algebra helpers shared by every module.
 *
 * Vectors are plain 3-tuples; 4x4 matrices are Float64Array(16) in ROW-MAJOR order
 * (m[r * 4 + c]) so that JSON nested arrays and numpy arrays read the same way.
 */

export type Vec2 = [number, number];
export type Vec3 = [number, number, number];
/** Row-major 4x4 matrix. */
export type Mat4 = Float64Array;
/** Row-major 3x3 matrix. */
export type Mat3 = Float64Array;

export const vec3 = {
  add: (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]],
  sub: (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]],
  scale: (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s],
  dot: (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2],
  cross: (a: Vec3, b: Vec3): Vec3 => [
    a[1] * b[2] - a[2] * b[1],
    a[2] * b[0] - a[0] * b[2],
    a[0] * b[1] - a[1] * b[0],
  ],
  length: (a: Vec3): number => Math.hypot(a[0], a[1], a[2]),
  normalize: (a: Vec3): Vec3 => {
    const l = Math.hypot(a[0], a[1], a[2]);
    if (!(l > 0)) throw new Error('vec3.normalize: zero-length vector');
    return [a[0] / l, a[1] / l, a[2] / l];
  },
  distance: (a: Vec3, b: Vec3): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]),
};

export function mat4Identity(): Mat4 {
  const m = new Float64Array(16);
  m[0] = m[5] = m[10] = m[15] = 1;
  return m;
}

/** Builds a row-major matrix from nested rows (JSON form). */
export function mat4FromRows(rows: readonly (readonly number[])[]): Mat4 {
  if (rows.length !== 4 || rows.some((r) => r.length !== 4)) {
    throw new Error('mat4FromRows: expected 4 rows of 4 numbers');
  }
  const m = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) m[r * 4 + c] = rows[r]![c]!;
  return m;
}

export function mat4ToRows(m: Mat4): number[][] {
  return [0, 1, 2, 3].map((r) => [m[r * 4]!, m[r * 4 + 1]!, m[r * 4 + 2]!, m[r * 4 + 3]!]);
}

export function mat4Multiply(a: Mat4, b: Mat4): Mat4 {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k]! * b[k * 4 + c]!;
      out[r * 4 + c] = s;
    }
  }
  return out;
}

/** Inverse of a rigid transform [R t; 0 1] (R orthonormal). */
export function mat4InvertRigid(m: Mat4): Mat4 {
  const out = mat4Identity();
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[r * 4 + c] = m[c * 4 + r]!;
  for (let r = 0; r < 3; r++) {
    out[r * 4 + 3] = -(out[r * 4]! * m[3]! + out[r * 4 + 1]! * m[7]! + out[r * 4 + 2]! * m[11]!);
  }
  return out;
}

export function mat4Translation(t: Vec3): Mat4 {
  const m = mat4Identity();
  m[3] = t[0];
  m[7] = t[1];
  m[11] = t[2];
  return m;
}

/** Rotation by `angle` radians about unit `axis` (right-hand rule), Rodrigues' formula. */
export function mat4AxisAngle(axis: Vec3, angle: number): Mat4 {
  const [x, y, z] = vec3.normalize(axis);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const t = 1 - c;
  const m = mat4Identity();
  m[0] = t * x * x + c;
  m[1] = t * x * y - s * z;
  m[2] = t * x * z + s * y;
  m[4] = t * x * y + s * z;
  m[5] = t * y * y + c;
  m[6] = t * y * z - s * x;
  m[8] = t * x * z - s * y;
  m[9] = t * y * z + s * x;
  m[10] = t * z * z + c;
  return m;
}

/** URDF rpy: R = Rz(yaw) * Ry(pitch) * Rx(roll) (fixed-axis XYZ). */
export function mat4FromRpy(rpy: Vec3, xyz: Vec3 = [0, 0, 0]): Mat4 {
  const rx = mat4AxisAngle([1, 0, 0], rpy[0]);
  const ry = mat4AxisAngle([0, 1, 0], rpy[1]);
  const rz = mat4AxisAngle([0, 0, 1], rpy[2]);
  const m = mat4Multiply(rz, mat4Multiply(ry, rx));
  m[3] = xyz[0];
  m[7] = xyz[1];
  m[11] = xyz[2];
  return m;
}

export function transformPoint(m: Mat4, p: Vec3): Vec3 {
  return [
    m[0]! * p[0] + m[1]! * p[1] + m[2]! * p[2] + m[3]!,
    m[4]! * p[0] + m[5]! * p[1] + m[6]! * p[2] + m[7]!,
    m[8]! * p[0] + m[9]! * p[1] + m[10]! * p[2] + m[11]!,
  ];
}

export function transformDirection(m: Mat4, d: Vec3): Vec3 {
  return [
    m[0]! * d[0] + m[1]! * d[1] + m[2]! * d[2],
    m[4]! * d[0] + m[5]! * d[1] + m[6]! * d[2],
    m[8]! * d[0] + m[9]! * d[1] + m[10]! * d[2],
  ];
}

/** Applies `m` to packed xyz triples in place-free fashion (returns a new array). */
export function transformPoints(m: Mat4, points: Float32Array): Float32Array {
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 3) {
    const x = points[i]!;
    const y = points[i + 1]!;
    const z = points[i + 2]!;
    out[i] = m[0]! * x + m[1]! * y + m[2]! * z + m[3]!;
    out[i + 1] = m[4]! * x + m[5]! * y + m[6]! * z + m[7]!;
    out[i + 2] = m[8]! * x + m[9]! * y + m[10]! * z + m[11]!;
  }
  return out;
}

export function mat4Column(m: Mat4, c: number): Vec3 {
  return [m[c]!, m[4 + c]!, m[8 + c]!];
}

export function mat4TranslationOf(m: Mat4): Vec3 {
  return [m[3]!, m[7]!, m[11]!];
}

/** Rotation matrix (row-major 3x3 inside a Mat4) to a unit quaternion [w, x, y, z]. */
export function mat4ToQuaternion(m: Mat4): [number, number, number, number] {
  const m00 = m[0]!, m01 = m[1]!, m02 = m[2]!;
  const m10 = m[4]!, m11 = m[5]!, m12 = m[6]!;
  const m20 = m[8]!, m21 = m[9]!, m22 = m[10]!;
  const tr = m00 + m11 + m22;
  let w: number, x: number, y: number, z: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    w = 0.25 * s;
    x = (m21 - m12) / s;
    y = (m02 - m20) / s;
    z = (m10 - m01) / s;
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    w = (m21 - m12) / s;
    x = 0.25 * s;
    y = (m01 + m10) / s;
    z = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    w = (m02 - m20) / s;
    x = (m01 + m10) / s;
    y = 0.25 * s;
    z = (m12 + m21) / s;
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    w = (m10 - m01) / s;
    x = (m02 + m20) / s;
    y = (m12 + m21) / s;
    z = 0.25 * s;
  }
  const n = Math.hypot(w, x, y, z);
  return [w / n, x / n, y / n, z / n];
}

export function mat4FromQuaternion(q: readonly [number, number, number, number], t: Vec3 = [0, 0, 0]): Mat4 {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  const w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  const m = mat4Identity();
  m[0] = 1 - 2 * (y * y + z * z);
  m[1] = 2 * (x * y - w * z);
  m[2] = 2 * (x * z + w * y);
  m[4] = 2 * (x * y + w * z);
  m[5] = 1 - 2 * (x * x + z * z);
  m[6] = 2 * (y * z - w * x);
  m[8] = 2 * (x * z - w * y);
  m[9] = 2 * (y * z + w * x);
  m[10] = 1 - 2 * (x * x + y * y);
  m[3] = t[0];
  m[7] = t[1];
  m[11] = t[2];
  return m;
}
