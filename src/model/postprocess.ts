/**
 * Model output -> GaussianSet. `gaussians` [B, G, 14] holds activated parameters per Gaussian:
 * xyz (3), opacity (1), scale (3), rotation quaternion w, x, y, z (4), rgb (3), in the model frame.
 */
import type { Mat4 } from '../core/math.js';
import type { GaussianSet } from '../core/types.js';
import { emptyGaussians, transformGaussians } from '../gaussians/ops.js';

export const GAUSSIAN_PARAMS = 14;

/** Gaussians of batch item `b` from a [B, G, 14] buffer; rotations normalised; non-finite values are an error. */
export function gaussiansFromOutput(data: Float32Array, batch: number, count: number, b = 0): GaussianSet {
  const expected = batch * count * GAUSSIAN_PARAMS;
  if (data.length !== expected) {
    throw new Error(`PartRMModel: output 'gaussians' has ${data.length} values, expected [${batch}, ${count}, 14] = ${expected}`);
  }
  const set = emptyGaussians(count);
  const base = b * count * GAUSSIAN_PARAMS;
  for (let i = 0; i < count; i++) {
    const o = base + i * GAUSSIAN_PARAMS;
    for (let k = 0; k < GAUSSIAN_PARAMS; k++) {
      if (!Number.isFinite(data[o + k]!)) throw new Error(`PartRMModel: output 'gaussians' has a non-finite value at [${b}, ${i}, ${k}]`);
    }
    set.positions[3 * i] = data[o]!;
    set.positions[3 * i + 1] = data[o + 1]!;
    set.positions[3 * i + 2] = data[o + 2]!;
    set.opacities[i] = data[o + 3]!;
    set.scales[3 * i] = data[o + 4]!;
    set.scales[3 * i + 1] = data[o + 5]!;
    set.scales[3 * i + 2] = data[o + 6]!;
    let w = data[o + 7]!, x = data[o + 8]!, y = data[o + 9]!, z = data[o + 10]!;
    const n = Math.hypot(w, x, y, z);
    if (n > 0) {
      w /= n; x /= n; y /= n; z /= n;
    } else {
      w = 1; x = y = z = 0;
    }
    set.rotations[4 * i] = w;
    set.rotations[4 * i + 1] = x;
    set.rotations[4 * i + 2] = y;
    set.rotations[4 * i + 3] = z;
    set.colors[3 * i] = data[o + 11]!;
    set.colors[3 * i + 1] = data[o + 12]!;
    set.colors[3 * i + 2] = data[o + 13]!;
  }
  return set;
}

/** Model frame -> world frame with the manifest's `model_to_world` similarity. */
export function modelToWorldGaussians(set: GaussianSet, modelToWorld: Mat4): GaussianSet {
  return transformGaussians(set, modelToWorld);
}
