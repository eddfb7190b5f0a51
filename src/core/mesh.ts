/**
 * Indexed triangle meshes (packed Float32Array positions, Uint32Array indices), the primitive
 * shapes that procedural objects are built from, and area-weighted surface sampling.
 */
import type { Mat4, Vec3 } from './math.js';
import { transformPoints } from './math.js';
import type { Rng } from './random.js';

export interface TriangleMesh {
  /** Packed xyz, length 3V. */
  positions: Float32Array;
  /** Three vertex indices per triangle, counter-clockwise seen from outside. */
  indices: Uint32Array;
}

export function triangleCount(mesh: TriangleMesh): number {
  return mesh.indices.length / 3;
}

/** Axis-aligned box centred at `center` with full edge lengths `size`; 24 vertices (flat faces). */
export function boxMesh(center: Vec3, size: Vec3): TriangleMesh {
  const [cx, cy, cz] = center;
  const [hx, hy, hz] = [size[0] / 2, size[1] / 2, size[2] / 2];
  // Each face: normal axis, sign, and the two in-plane axes ordered so (u x v) = outward normal.
  const faces: Array<[number, number, number, number]> = [
    [0, 1, 1, 2], [0, -1, 2, 1], [1, 1, 2, 0], [1, -1, 0, 2], [2, 1, 0, 1], [2, -1, 1, 0],
  ];
  const half = [hx, hy, hz];
  const c = [cx, cy, cz];
  const positions = new Float32Array(24 * 3);
  const indices = new Uint32Array(36);
  faces.forEach(([n, s, u, v], f) => {
    const corners: Array<[number, number]> = [[-1, -1], [1, -1], [1, 1], [-1, 1]];
    corners.forEach(([a, b], k) => {
      const p = [0, 0, 0];
      p[n] = c[n]! + s * half[n]!;
      p[u] = c[u]! + a * half[u]!;
      p[v] = c[v]! + b * half[v]!;
      positions.set(p, (f * 4 + k) * 3);
    });
    const base = f * 4;
    indices.set([base, base + 1, base + 2, base, base + 2, base + 3], f * 6);
  });
  return { positions, indices };
}

/**
 * Closed cylinder (an n-sided prism) centred at `center`, axis along x, y or z.
 */
export function cylinderMesh(center: Vec3, radius: number, length: number, axis: 0 | 1 | 2, segments = 24): TriangleMesh {
  const u = (axis + 1) % 3;
  const v = (axis + 2) % 3;
  const positions: number[] = [];
  const indices: number[] = [];
  const push = (a: number, b: number, h: number): number => {
    const p = [0, 0, 0];
    p[axis] = center[axis]! + h;
    p[u] = center[u]! + a;
    p[v] = center[v]! + b;
    positions.push(p[0]!, p[1]!, p[2]!);
    return positions.length / 3 - 1;
  };
  const half = length / 2;
  // Side: separate vertices per quad so the renderer's flat shading sees facets.
  for (let i = 0; i < segments; i++) {
    const a0 = (2 * Math.PI * i) / segments;
    const a1 = (2 * Math.PI * (i + 1)) / segments;
    const p0 = push(radius * Math.cos(a0), radius * Math.sin(a0), -half);
    const p1 = push(radius * Math.cos(a1), radius * Math.sin(a1), -half);
    const p2 = push(radius * Math.cos(a1), radius * Math.sin(a1), half);
    const p3 = push(radius * Math.cos(a0), radius * Math.sin(a0), half);
    indices.push(p0, p1, p2, p0, p2, p3);
  }
  for (const sign of [-1, 1]) {
    const centreIdx = push(0, 0, sign * half);
    const ring: number[] = [];
    for (let i = 0; i < segments; i++) {
      const a = (2 * Math.PI * i) / segments;
      ring.push(push(radius * Math.cos(a), radius * Math.sin(a), sign * half));
    }
    for (let i = 0; i < segments; i++) {
      const a = ring[i]!;
      const b = ring[(i + 1) % segments]!;
      if (sign > 0) indices.push(centreIdx, a, b);
      else indices.push(centreIdx, b, a);
    }
  }
  return { positions: new Float32Array(positions), indices: new Uint32Array(indices) };
}

export function mergeMeshes(meshes: readonly TriangleMesh[]): TriangleMesh {
  let nv = 0;
  let ni = 0;
  for (const m of meshes) {
    nv += m.positions.length;
    ni += m.indices.length;
  }
  const positions = new Float32Array(nv);
  const indices = new Uint32Array(ni);
  let vo = 0;
  let io = 0;
  for (const m of meshes) {
    positions.set(m.positions, vo);
    const base = vo / 3;
    for (let i = 0; i < m.indices.length; i++) indices[io + i] = m.indices[i]! + base;
    vo += m.positions.length;
    io += m.indices.length;
  }
  return { positions, indices };
}

export function transformMesh(mesh: TriangleMesh, m: Mat4): TriangleMesh {
  return { positions: transformPoints(m, mesh.positions), indices: mesh.indices };
}

export function triangleAreas(mesh: TriangleMesh): Float64Array {
  const p = mesh.positions;
  const idx = mesh.indices;
  const areas = new Float64Array(idx.length / 3);
  for (let t = 0; t < areas.length; t++) {
    const a = idx[t * 3]! * 3, b = idx[t * 3 + 1]! * 3, c = idx[t * 3 + 2]! * 3;
    const ux = p[b]! - p[a]!, uy = p[b + 1]! - p[a + 1]!, uz = p[b + 2]! - p[a + 2]!;
    const vx = p[c]! - p[a]!, vy = p[c + 1]! - p[a + 1]!, vz = p[c + 2]! - p[a + 2]!;
    const cx = uy * vz - uz * vy, cy = uz * vx - ux * vz, cz = ux * vy - uy * vx;
    areas[t] = 0.5 * Math.hypot(cx, cy, cz);
  }
  return areas;
}

export function meshBounds(positions: Float32Array): { min: Vec3; max: Vec3 } {
  if (positions.length === 0) throw new Error('meshBounds: no vertices');
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < positions.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const v = positions[i + k]!;
      if (v < min[k]!) min[k] = v;
      if (v > max[k]!) max[k] = v;
    }
  }
  return { min, max };
}

export interface SurfaceSample {
  /** Packed xyz, length 3N. */
  positions: Float32Array;
  /** Triangle each sample lies on, length N. */
  triangles: Uint32Array;
}

/** `count` points uniformly distributed over the surface (area-weighted triangle choice). */
export function sampleMeshSurface(mesh: TriangleMesh, count: number, rng: Rng): SurfaceSample {
  const areas = triangleAreas(mesh);
  const cdf = new Float64Array(areas.length);
  let total = 0;
  for (let i = 0; i < areas.length; i++) {
    total += areas[i]!;
    cdf[i] = total;
  }
  if (!(total > 0)) throw new Error('sampleMeshSurface: mesh has zero surface area');
  const positions = new Float32Array(count * 3);
  const triangles = new Uint32Array(count);
  const p = mesh.positions;
  const idx = mesh.indices;
  for (let s = 0; s < count; s++) {
    const r = rng.next() * total;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    let u = rng.next();
    let v = rng.next();
    if (u + v > 1) {
      u = 1 - u;
      v = 1 - v;
    }
    const a = idx[lo * 3]! * 3, b = idx[lo * 3 + 1]! * 3, c = idx[lo * 3 + 2]! * 3;
    for (let k = 0; k < 3; k++) {
      positions[s * 3 + k] = p[a + k]! + u * (p[b + k]! - p[a + k]!) + v * (p[c + k]! - p[a + k]!);
    }
    triangles[s] = lo;
  }
  return { positions, triangles };
}
