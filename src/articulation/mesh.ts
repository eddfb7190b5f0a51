/**
 * Mesh extraction from surface points (or Gaussian centres): a density grid, an isosurface and
 * meshoptimizer simplification, plus OBJ text.
 *
 * Points sample surfaces, not volumes, so the grid holds a smoothed occupancy of the points
 * (each point splats into its voxel, then a 3x3x3 blur) and the isosurface at a low level wraps
 * every sampled sheet in a thin closed shell about one voxel thick. The isosurface is extracted
 * with naive surface nets (the dual of marching cubes: one vertex per sign-changing cell, one
 * quad per sign-changing edge), which is welded by construction and needs no 256-case tables;
 * meshoptimizer then reduces the triangle count to what a URDF visual needs.
 */
import { MeshoptSimplifier } from 'meshoptimizer';
import type { TriangleMesh } from '../core/mesh.js';
import { KdTree } from './kdtree.js';

export interface MeshExtractionOptions {
  /** Voxel size in input units; default 1.5x the median point spacing, at most 160 cells per side. */
  voxel?: number;
  /** Target triangle count after simplification (default 6000). */
  targetTriangles?: number;
  /** Isosurface level on the blurred occupancy in [0, 1] (default 0.12). */
  level?: number;
  /**
   * How far each vertex moves toward the mean of its nearest input points, in [0, 1] (default
   * 0.8): the shell then hugs the sampled sheet instead of floating a voxel off it, while keeping
   * some thickness (simulators compute mesh volumes; a zero-thickness double layer has none).
   */
  snap?: number;
}

export interface ExtractedMesh extends TriangleMesh {
  voxel: number;
}

function fail(msg: string): never {
  throw new Error(`MeshExtraction: ${msg}`);
}

/** Median distance to the nearest other point, estimated on a random-free stride subsample. */
export function medianSpacing(points: Float32Array): number {
  const n = points.length / 3;
  if (n < 2) return 0;
  // A uniform grid hash at a guessed cell size keeps this O(n).
  let min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) {
    const v = points[3 * i + k]!;
    if (v < min[k]!) min[k] = v;
    if (v > max[k]!) max[k] = v;
  }
  const ext = Math.max(max[0]! - min[0]!, max[1]! - min[1]!, max[2]! - min[2]!) || 1;
  const cell = ext / Math.max(4, Math.cbrt(n) * 2);
  const grid = new Map<number, number[]>();
  const key = (x: number, y: number, z: number) => (x * 4096 + y) * 4096 + z;
  const cellOf = (i: number, k: number) => Math.floor((points[3 * i + k]! - min[k]!) / cell);
  for (let i = 0; i < n; i++) {
    const kk = key(cellOf(i, 0), cellOf(i, 1), cellOf(i, 2));
    let list = grid.get(kk);
    if (!list) grid.set(kk, (list = []));
    list.push(i);
  }
  const step = Math.max(1, Math.floor(n / 2000));
  const ds: number[] = [];
  for (let i = 0; i < n; i += step) {
    const cx = cellOf(i, 0), cy = cellOf(i, 1), cz = cellOf(i, 2);
    let best = Infinity;
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (let dz = -1; dz <= 1; dz++) {
      const list = grid.get(key(cx + dx, cy + dy, cz + dz));
      if (!list) continue;
      for (const j of list) {
        if (j === i) continue;
        const d = Math.hypot(points[3 * j]! - points[3 * i]!, points[3 * j + 1]! - points[3 * i + 1]!, points[3 * j + 2]! - points[3 * i + 2]!);
        if (d < best) best = d;
      }
    }
    if (best < Infinity) ds.push(best);
  }
  ds.sort((a, b) => a - b);
  return ds.length ? ds[ds.length >> 1]! : cell;
}

/** Surface mesh around `points` (packed xyz). Await `meshoptReady()` once before calling. */
export function extractMesh(points: Float32Array, options: MeshExtractionOptions = {}): ExtractedMesh {
  const n = points.length / 3;
  if (!Number.isInteger(n) || n < 4) fail(`need at least 4 points to build a mesh, got ${Math.floor(n)}`);
  for (let i = 0; i < points.length; i++) if (!Number.isFinite(points[i]!)) fail(`point ${Math.floor(i / 3)} has a non-finite coordinate`);
  const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) {
    const v = points[3 * i + k]!;
    if (v < min[k]!) min[k] = v;
    if (v > max[k]!) max[k] = v;
  }
  const ext = Math.max(max[0]! - min[0]!, max[1]! - min[1]!, max[2]! - min[2]!);
  if (!(ext > 0)) fail('all points coincide; expected a surface');
  let h = options.voxel ?? 1.5 * medianSpacing(points);
  // Cap the grid so memory and time stay bounded whatever the density.
  h = Math.max(h, ext / 160);
  const pad = 3;
  const dims = [0, 1, 2].map((k) => Math.ceil((max[k]! - min[k]!) / h) + 1 + 2 * pad);
  const [nx, ny, nz] = dims as [number, number, number];
  const origin = [min[0]! - pad * h, min[1]! - pad * h, min[2]! - pad * h];
  const idx = (x: number, y: number, z: number) => (z * ny + y) * nx + x;
  const occ = new Float32Array(nx * ny * nz);
  for (let i = 0; i < n; i++) {
    const x = Math.floor((points[3 * i]! - origin[0]!) / h);
    const y = Math.floor((points[3 * i + 1]! - origin[1]!) / h);
    const z = Math.floor((points[3 * i + 2]! - origin[2]!) / h);
    occ[idx(x, y, z)] = 1;
  }
  // Separable 3-tap box blur along x, y, z: the occupancy becomes a density in [0, 1]. (The loops
  // walk the grid in memory order: this and the surface nets below are most of a mesh's time.)
  const blur = (src: Float32Array, stride: number, len: number): Float32Array => {
    const out = new Float32Array(src.length);
    const outer = src.length / (stride * len);
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < len; c++) {
        const row = (o * len + c) * stride;
        for (let j = 0; j < stride; j++) {
          const i = row + j;
          let s = src[i]!;
          if (c > 0) s += src[i - stride]!;
          if (c < len - 1) s += src[i + stride]!;
          out[i] = s / 3;
        }
      }
    }
    return out;
  };
  let dens = blur(occ, 1, nx);
  dens = blur(dens, nx, ny);
  dens = blur(dens, nx * ny, nz);
  const level = options.level ?? 0.12;
  const above = new Uint8Array(dens.length);
  for (let i = 0; i < dens.length; i++) above[i] = dens[i]! - level > 0 ? 1 : 0;

  // Surface nets: a vertex in every cell whose 8 corners straddle the level.
  const cellVertex = new Int32Array((nx - 1) * (ny - 1) * (nz - 1)).fill(-1);
  const cidx = (x: number, y: number, z: number) => (z * (ny - 1) + y) * (nx - 1) + x;
  const verts: number[] = [];
  const corner = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1], [1, 1, 1]] as const;
  // Corner c of the cell at grid index i is grid index i + cornerOffset[c].
  const cornerOffset = corner.map(([dx, dy, dz]) => (dz * ny + dy) * nx + dx);
  const edges = [[0, 1], [2, 3], [4, 5], [6, 7], [0, 2], [1, 3], [4, 6], [5, 7], [0, 4], [1, 5], [2, 6], [3, 7]] as const;
  const vals = new Float64Array(8);
  for (let z = 0; z < nz - 1; z++) for (let y = 0; y < ny - 1; y++) for (let x = 0; x < nx - 1; x++) {
    const i0 = idx(x, y, z);
    let inside = 0;
    for (let c = 0; c < 8; c++) inside += above[i0 + cornerOffset[c]!]!;
    if (inside === 0 || inside === 8) continue;
    for (let c = 0; c < 8; c++) vals[c] = dens[i0 + cornerOffset[c]!]! - level;
    let sx = 0, sy = 0, sz = 0, cnt = 0;
    for (const [a, b] of edges) {
      const va = vals[a]!, vb = vals[b]!;
      if (va > 0 === vb > 0) continue;
      const t = va / (va - vb);
      const ca = corner[a]!, cb = corner[b]!;
      sx += ca[0] + t * (cb[0] - ca[0]);
      sy += ca[1] + t * (cb[1] - ca[1]);
      sz += ca[2] + t * (cb[2] - ca[2]);
      cnt++;
    }
    cellVertex[cidx(x, y, z)] = verts.length / 3;
    verts.push(origin[0]! + (x + sx / cnt) * h, origin[1]! + (y + sy / cnt) * h, origin[2]! + (z + sz / cnt) * h);
  }
  // A quad for every grid edge with a sign change, joining the 4 cells around it, wound so the
  // normal points from inside (dense) to outside.
  const tris: number[] = [];
  const quad = (a: number, b: number, c: number, d: number, flip: boolean): void => {
    if (a < 0 || b < 0 || c < 0 || d < 0) return;
    if (flip) tris.push(a, c, b, a, d, c);
    else tris.push(a, b, c, a, c, d);
  };
  for (let z = 1; z < nz - 1; z++) for (let y = 1; y < ny - 1; y++) for (let x = 1; x < nx - 1; x++) {
    const i0 = idx(x, y, z);
    const a0 = above[i0]!;
    const v0 = a0 === 1;
    // Edge along +x from (x,y,z): cells around it share y-1..y, z-1..z.
    if (x < nx - 2 && a0 !== above[i0 + 1]!) {
      quad(cellVertex[cidx(x, y - 1, z - 1)]!, cellVertex[cidx(x, y, z - 1)]!, cellVertex[cidx(x, y, z)]!, cellVertex[cidx(x, y - 1, z)]!, !v0);
    }
    if (y < ny - 2 && a0 !== above[i0 + nx]!) {
      quad(cellVertex[cidx(x - 1, y, z - 1)]!, cellVertex[cidx(x - 1, y, z)]!, cellVertex[cidx(x, y, z)]!, cellVertex[cidx(x, y, z - 1)]!, !v0);
    }
    if (z < nz - 2 && a0 !== above[i0 + nx * ny]!) {
      quad(cellVertex[cidx(x - 1, y - 1, z)]!, cellVertex[cidx(x, y - 1, z)]!, cellVertex[cidx(x, y, z)]!, cellVertex[cidx(x - 1, y, z)]!, !v0);
    }
  }
  if (tris.length === 0) fail('the points produced no surface (too few or too spread out for the voxel size)');
  const positions = new Float32Array(verts);
  let indices: Uint32Array = new Uint32Array(tris);
  const target = options.targetTriangles ?? 6000;
  if (indices.length / 3 > target) indices = simplify(positions, indices, target * 3, h);
  const out = compact(positions, indices, h);
  const snap = options.snap ?? 0.8;
  if (snap > 0) snapToPoints(out.positions, points, Math.min(1, snap));
  return out;
}

function snapToPoints(vertices: Float32Array, points: Float32Array, amount: number): void {
  const tree = new KdTree(points);
  const K = 6;
  const idx = new Int32Array(K);
  const d2 = new Float64Array(K);
  for (let v = 0; v < vertices.length; v += 3) {
    const found = tree.knn(vertices[v]!, vertices[v + 1]!, vertices[v + 2]!, K, idx, d2);
    if (found === 0) continue;
    let mx = 0, my = 0, mz = 0;
    for (let k = 0; k < found; k++) {
      const j = idx[k]! * 3;
      mx += points[j]!; my += points[j + 1]!; mz += points[j + 2]!;
    }
    vertices[v] = vertices[v]! + amount * (mx / found - vertices[v]!);
    vertices[v + 1] = vertices[v + 1]! + amount * (my / found - vertices[v + 1]!);
    vertices[v + 2] = vertices[v + 2]! + amount * (mz / found - vertices[v + 2]!);
  }
}

let ready = false;
/** meshoptimizer's WebAssembly must be instantiated once before `extractMesh`. */
export async function meshoptReady(): Promise<void> {
  if (!ready) {
    await MeshoptSimplifier.ready;
    ready = true;
  }
}

function simplify(positions: Float32Array, indices: Uint32Array, targetIndices: number, maxError: number): Uint32Array {
  if (!ready) fail('meshoptimizer is not initialised; await meshoptReady() first');
  let [out] = MeshoptSimplifier.simplify(indices, positions, 3, targetIndices, maxError, ['ErrorAbsolute']);
  // The error bound can stop simplification early on busy shells; the sloppy simplifier (vertex
  // clustering) always reaches the budget, at the cost of some fidelity.
  for (let k = 0, goal = targetIndices; k < 4 && out.length > targetIndices; k++, goal = Math.floor(goal * 0.8)) {
    [out] = MeshoptSimplifier.simplifySloppy(out, positions, 3, null, goal, maxError * 4);
  }
  return out.length > 0 ? out : indices;
}

/** Drops unreferenced vertices after simplification. */
function compact(positions: Float32Array, indices: Uint32Array, voxel: number): ExtractedMesh {
  const remap = new Int32Array(positions.length / 3).fill(-1);
  const out: number[] = [];
  const idx = new Uint32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i]!;
    if (remap[v] === -1) {
      remap[v] = out.length / 3;
      out.push(positions[3 * v]!, positions[3 * v + 1]!, positions[3 * v + 2]!);
    }
    idx[i] = remap[v]!;
  }
  return { positions: new Float32Array(out), indices: idx, voxel };
}

/** Wavefront OBJ text of a triangle mesh (1-based indices). */
export function meshToObj(mesh: TriangleMesh, name = 'mesh'): string {
  const lines: string[] = [`# ${name}: extracted by partrm`, `o ${name.replace(/\s+/g, '_')}`];
  const p = mesh.positions;
  for (let i = 0; i < p.length; i += 3) lines.push(`v ${p[i]!.toFixed(5)} ${p[i + 1]!.toFixed(5)} ${p[i + 2]!.toFixed(5)}`);
  const f = mesh.indices;
  for (let i = 0; i < f.length; i += 3) lines.push(`f ${f[i]! + 1} ${f[i + 1]! + 1} ${f[i + 2]! + 1}`);
  return lines.join('\n') + '\n';
}

/** Parses the v/f records of an OBJ (polygons fanned into triangles; other records ignored). */
export function parseObj(text: string): TriangleMesh {
  const pos: number[] = [];
  const tri: number[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('v ')) {
      const [, x, y, z] = line.split(/\s+/);
      pos.push(Number(x), Number(y), Number(z));
    } else if (line.startsWith('f ')) {
      const vs = line.split(/\s+/).slice(1).map((t) => {
        const i = parseInt(t.split('/')[0]!, 10);
        return i < 0 ? pos.length / 3 + i : i - 1;
      });
      for (let k = 1; k + 1 < vs.length; k++) tri.push(vs[0]!, vs[k]!, vs[k + 1]!);
    }
  }
  if (pos.some((v) => !Number.isFinite(v))) fail('OBJ has a malformed vertex');
  const nv = pos.length / 3;
  if (tri.some((i) => !(i >= 0 && i < nv))) fail('OBJ face refers to a missing vertex');
  return { positions: new Float32Array(pos), indices: new Uint32Array(tri) };
}
