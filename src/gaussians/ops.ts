/**
 * Operations on GaussianSets: similarity transforms (model frame -> world), selection, pruning.
 * (Point sampling for the articulation step: src/articulation/sampling.ts.)
 */
import { type Mat4, mat4ToQuaternion } from '../core/math.js';
import type { GaussianSet } from '../core/types.js';

export function emptyGaussians(count: number): GaussianSet {
  return {
    count,
    positions: new Float32Array(3 * count),
    opacities: new Float32Array(count),
    scales: new Float32Array(3 * count),
    rotations: new Float32Array(4 * count),
    colors: new Float32Array(3 * count),
  };
}

/** A 4x4 similarity (uniform scale · rotation, translation) split into its parts. */
export function decomposeSimilarity(m: Mat4): { scale: number; rotation: Mat4; translation: [number, number, number] } {
  if (m.length !== 16 || !Array.from(m).every(Number.isFinite)) throw new Error('Gaussians: transform must be 16 finite numbers');
  if (Math.abs(m[12]!) > 1e-9 || Math.abs(m[13]!) > 1e-9 || Math.abs(m[14]!) > 1e-9 || Math.abs(m[15]! - 1) > 1e-9) {
    throw new Error('Gaussians: transform must be affine (last row 0 0 0 1)');
  }
  const det =
    m[0]! * (m[5]! * m[10]! - m[6]! * m[9]!) - m[1]! * (m[4]! * m[10]! - m[6]! * m[8]!) + m[2]! * (m[4]! * m[9]! - m[5]! * m[8]!);
  if (!(det > 0)) throw new Error(`Gaussians: transform must preserve orientation (determinant ${det})`);
  const scale = Math.cbrt(det);
  const rotation = new Float64Array(16);
  rotation[15] = 1;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) rotation[r * 4 + c] = m[r * 4 + c]! / scale;
  // R Rᵀ must be the identity: no shear, no anisotropic scale.
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += rotation[a * 4 + k]! * rotation[b * 4 + k]!;
      if (Math.abs(s - (a === b ? 1 : 0)) > 1e-4) throw new Error('Gaussians: transform must be a similarity (uniform scale, rotation, translation)');
    }
  }
  return { scale, rotation, translation: [m[3]!, m[7]!, m[11]!] };
}

/** Applies a similarity transform: positions, scales (× s) and rotations (q_R ⊗ q). */
export function transformGaussians(set: GaussianSet, m: Mat4): GaussianSet {
  const { scale, rotation: R, translation: t } = decomposeSimilarity(m);
  const [rw, rx, ry, rz] = mat4ToQuaternion(R);
  const out = emptyGaussians(set.count);
  out.opacities.set(set.opacities);
  out.colors.set(set.colors);
  for (let i = 0; i < set.count; i++) {
    const x = set.positions[3 * i]!, y = set.positions[3 * i + 1]!, z = set.positions[3 * i + 2]!;
    out.positions[3 * i] = m[0]! * x + m[1]! * y + m[2]! * z + t[0];
    out.positions[3 * i + 1] = m[4]! * x + m[5]! * y + m[6]! * z + t[1];
    out.positions[3 * i + 2] = m[8]! * x + m[9]! * y + m[10]! * z + t[2];
    out.scales[3 * i] = set.scales[3 * i]! * scale;
    out.scales[3 * i + 1] = set.scales[3 * i + 1]! * scale;
    out.scales[3 * i + 2] = set.scales[3 * i + 2]! * scale;
    const qw = set.rotations[4 * i]!, qx = set.rotations[4 * i + 1]!, qy = set.rotations[4 * i + 2]!, qz = set.rotations[4 * i + 3]!;
    out.rotations[4 * i] = rw * qw - rx * qx - ry * qy - rz * qz;
    out.rotations[4 * i + 1] = rw * qx + rx * qw + ry * qz - rz * qy;
    out.rotations[4 * i + 2] = rw * qy - rx * qz + ry * qw + rz * qx;
    out.rotations[4 * i + 3] = rw * qz + rx * qy - ry * qx + rz * qw;
  }
  return out;
}

/** The Gaussians at `indices`, in that order. */
export function selectGaussians(set: GaussianSet, indices: ArrayLike<number>): GaussianSet {
  const out = emptyGaussians(indices.length);
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j]!;
    if (!(i >= 0 && i < set.count)) throw new Error(`Gaussians: index ${i} out of range [0, ${set.count})`);
    out.positions.set(set.positions.subarray(3 * i, 3 * i + 3), 3 * j);
    out.opacities[j] = set.opacities[i]!;
    out.scales.set(set.scales.subarray(3 * i, 3 * i + 3), 3 * j);
    out.rotations.set(set.rotations.subarray(4 * i, 4 * i + 4), 4 * j);
    out.colors.set(set.colors.subarray(3 * i, 3 * i + 3), 3 * j);
  }
  return out;
}

/** Drops Gaussians with opacity below `minOpacity` (LGM's PLY export uses 0.005). */
export function pruneGaussians(set: GaussianSet, minOpacity = 0.005): GaussianSet {
  const keep: number[] = [];
  for (let i = 0; i < set.count; i++) if (set.opacities[i]! >= minOpacity) keep.push(i);
  return selectGaussians(set, keep);
}
