/**
 * Point sampling per state: opacity-weighted from 3D Gaussians (near-transparent ones dropped,
 * each sample drawn inside its Gaussian's footprint) and area-weighted from triangle meshes.
 */
import { sampleMeshSurface, type TriangleMesh } from '../core/mesh.js';
import type { Rng } from '../core/random.js';
import type { GaussianSet, PointCloud } from '../core/types.js';

export interface GaussianSampleOptions {
  /** Gaussians below this opacity are ignored (default 0.05). */
  minOpacity?: number;
  /** Draw each point inside its Gaussian (default true) rather than at its centre. */
  spread?: boolean;
}

/** `count` points from the Gaussians, each Gaussian chosen with probability proportional to its opacity. */
export function sampleGaussians(set: GaussianSet, count: number, rng: Rng, options: GaussianSampleOptions = {}): PointCloud {
  const minOpacity = options.minOpacity ?? 0.05;
  const spread = options.spread ?? true;
  if (!Number.isInteger(count) || count < 1) throw new Error(`GaussianSampling: count must be a positive integer, got ${count}`);
  const n = set.count;
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const o = set.opacities[i]!;
    const ok = o >= minOpacity && Number.isFinite(set.positions[3 * i]!) && Number.isFinite(set.positions[3 * i + 1]!) && Number.isFinite(set.positions[3 * i + 2]!);
    total += ok ? o : 0;
    cdf[i] = total;
  }
  if (!(total > 0)) throw new Error(`GaussianSampling: no Gaussian has opacity >= ${minOpacity} (of ${n}); expected a visible object`);
  const positions = new Float32Array(3 * count);
  const colors = new Float32Array(3 * count);
  for (let s = 0; s < count; s++) {
    const r = rng.next() * total;
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    const i = lo;
    let ox = 0, oy = 0, oz = 0;
    if (spread) {
      // Offset = R * (scale * z), z standard normal truncated at 2 sigma.
      const z = [0, 0, 0].map(() => {
        let v = rng.normal();
        while (Math.abs(v) > 2) v = rng.normal();
        return v;
      });
      const lx = set.scales[3 * i]! * z[0]!, ly = set.scales[3 * i + 1]! * z[1]!, lz = set.scales[3 * i + 2]! * z[2]!;
      const w = set.rotations[4 * i]!, x = set.rotations[4 * i + 1]!, y = set.rotations[4 * i + 2]!, q = set.rotations[4 * i + 3]!;
      ox = (1 - 2 * (y * y + q * q)) * lx + 2 * (x * y - w * q) * ly + 2 * (x * q + w * y) * lz;
      oy = 2 * (x * y + w * q) * lx + (1 - 2 * (x * x + q * q)) * ly + 2 * (y * q - w * x) * lz;
      oz = 2 * (x * q - w * y) * lx + 2 * (y * q + w * x) * ly + (1 - 2 * (x * x + y * y)) * lz;
    }
    positions[3 * s] = set.positions[3 * i]! + ox;
    positions[3 * s + 1] = set.positions[3 * i + 1]! + oy;
    positions[3 * s + 2] = set.positions[3 * i + 2]! + oz;
    colors.set(set.colors.subarray(3 * i, 3 * i + 3), 3 * s);
  }
  return { positions, colors };
}

/** `count` area-weighted surface points of a mesh. */
export function sampleMesh(mesh: TriangleMesh, count: number, rng: Rng): PointCloud {
  return { positions: sampleMeshSurface(mesh, count, rng).positions };
}

/** At most `count` points of a cloud, chosen uniformly without replacement (all when fewer). */
export function subsampleCloud(cloud: PointCloud, count: number, rng: Rng): PointCloud {
  const n = cloud.positions.length / 3;
  if (n <= count) return cloud;
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.next() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  const pick = idx.slice(0, count).sort((a, b) => a - b);
  const positions = new Float32Array(3 * count);
  pick.forEach((o, k) => positions.set(cloud.positions.subarray(3 * o, 3 * o + 3), 3 * k));
  const out: PointCloud = { positions };
  if (cloud.colors) {
    const c = new Float32Array(3 * count);
    pick.forEach((o, k) => c.set(cloud.colors!.subarray(3 * o, 3 * o + 3), 3 * k));
    out.colors = c;
  }
  if (cloud.labels) out.labels = Int32Array.from(pick, (o) => cloud.labels![o]!);
  return out;
}
