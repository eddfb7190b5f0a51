/**
 * Collision geometry as axis-aligned boxes from points: a coarse occupancy grid (dilated so a
 * sampled sheet is one solid layer) merged greedily into cuboids. Boxes follow the sampled
 * surfaces, so a cabinet stays a set of wall slabs with its cavity open for the gripper, unlike
 * one convex hull; and MuJoCo and Isaac Gym both take boxes without any mesh processing (no
 * qhull failures on flat parts).
 */
import type { Vec3 } from '../core/math.js';

export interface Box {
  center: Vec3;
  size: Vec3;
}

export interface BoxOptions {
  /** Cells along the largest side (default 14). */
  resolution?: number;
  /** Minimum points in a cell for it to count (default 2; isolated outliers vanish). */
  minPoints?: number;
  /** Upper bound on boxes; the grid is coarsened until it fits (default 64). */
  maxBoxes?: number;
  /**
   * Shrink each merged box to the extent of the points it covers, padded by this (m, default
   * 0.004) and at least {@link MIN_BOX_SIDE} thick; `false` keeps whole grid cells. Whole cells
   * inflate a 2 cm panel to a slab one cell (several cm) thick, so a gripper reaching for the
   * handle touches the collision box well before the surface.
   */
  tighten?: number | false;
}

/** Side lengths of the axis-aligned box around all `boxes`. */
export function boxesExtent(boxes: readonly Box[]): Vec3 {
  const lo = [0, 1, 2].map((k) => Math.min(...boxes.map((b) => b.center[k]! - b.size[k]! / 2)));
  const hi = [0, 1, 2].map((k) => Math.max(...boxes.map((b) => b.center[k]! + b.size[k]! / 2)));
  return [hi[0]! - lo[0]!, hi[1]! - lo[1]!, hi[2]! - lo[2]!];
}

/** Thinnest side of a tightened box (m): a sampled sheet stays a solid plate. */
export const MIN_BOX_SIDE = 0.01;

export function boxesFromPoints(points: Float32Array, options: BoxOptions = {}): Box[] {
  const n = points.length / 3;
  if (n < 1) throw new Error('CollisionBoxes: no points to cover');
  let res = options.resolution ?? 14;
  const maxBoxes = options.maxBoxes ?? 64;
  for (;;) {
    const boxes = attempt(points, res, options.minPoints ?? 2, options.tighten ?? 0.004);
    if (boxes.length <= maxBoxes || res <= 3) return boxes;
    res = Math.max(3, Math.floor(res * 0.75));
  }
}

function attempt(points: Float32Array, res: number, minPoints: number, tighten: number | false): Box[] {
  const n = points.length / 3;
  const min: Vec3 = [Infinity, Infinity, Infinity], max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) {
    min[k] = Math.min(min[k]!, points[3 * i + k]!);
    max[k] = Math.max(max[k]!, points[3 * i + k]!);
  }
  const ext = Math.max(max[0] - min[0], max[1] - min[1], max[2] - min[2], 1e-6);
  const h = ext / res;
  const dims = [0, 1, 2].map((k) => Math.max(1, Math.ceil((max[k]! - min[k]!) / h + 1e-9))) as [number, number, number];
  const [nx, ny, nz] = dims;
  const count = new Uint16Array(nx * ny * nz);
  const at = (x: number, y: number, z: number) => (z * ny + y) * nx + x;
  const cellOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = [0, 1, 2].map((k) => Math.min(dims[k]! - 1, Math.floor((points[3 * i + k]! - min[k]!) / h)));
    const j = at(c[0]!, c[1]!, c[2]!);
    cellOf[i] = j;
    if (count[j]! < 65535) count[j]!++;
  }
  const filled = new Uint8Array(nx * ny * nz);
  for (let i = 0; i < filled.length; i++) filled[i] = count[i]! >= minPoints ? 1 : 0;
  // Greedy cuboids: grow along x, then y, then z while every covered cell is filled.
  const used = new Uint8Array(filled.length);
  const owner = new Int32Array(filled.length).fill(-1);
  const boxes: Box[] = [];
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    if (!filled[at(x, y, z)] || used[at(x, y, z)]) continue;
    let x1 = x;
    while (x1 + 1 < nx && filled[at(x1 + 1, y, z)] && !used[at(x1 + 1, y, z)]) x1++;
    let y1 = y;
    grow: while (y1 + 1 < ny) {
      for (let xi = x; xi <= x1; xi++) if (!filled[at(xi, y1 + 1, z)] || used[at(xi, y1 + 1, z)]) break grow;
      y1++;
    }
    let z1 = z;
    growZ: while (z1 + 1 < nz) {
      for (let yi = y; yi <= y1; yi++) for (let xi = x; xi <= x1; xi++) if (!filled[at(xi, yi, z1 + 1)] || used[at(xi, yi, z1 + 1)]) break growZ;
      z1++;
    }
    for (let zi = z; zi <= z1; zi++) for (let yi = y; yi <= y1; yi++) for (let xi = x; xi <= x1; xi++) {
      used[at(xi, yi, zi)] = 1;
      owner[at(xi, yi, zi)] = boxes.length;
    }
    boxes.push({
      center: [min[0] + ((x + x1 + 1) / 2) * h, min[1] + ((y + y1 + 1) / 2) * h, min[2] + ((z + z1 + 1) / 2) * h],
      size: [(x1 - x + 1) * h, (y1 - y + 1) * h, (z1 - z + 1) * h],
    });
  }
  if (tighten === false) return boxes;
  // Each box shrinks to the points of its cells (never grows past its cells).
  const lo = new Float64Array(boxes.length * 3).fill(Infinity), hi = new Float64Array(boxes.length * 3).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const b = owner[cellOf[i]!]!;
    if (b < 0) continue;
    for (let k = 0; k < 3; k++) {
      const v = points[3 * i + k]!;
      if (v < lo[3 * b + k]!) lo[3 * b + k] = v;
      if (v > hi[3 * b + k]!) hi[3 * b + k] = v;
    }
  }
  return boxes.map((box, b) => {
    const center: Vec3 = [0, 0, 0], size: Vec3 = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const cellLo = box.center[k]! - box.size[k]! / 2, cellHi = box.center[k]! + box.size[k]! / 2;
      let a = lo[3 * b + k]! - tighten, c = hi[3 * b + k]! + tighten;
      if (c - a < MIN_BOX_SIDE) {
        const m = (a + c) / 2;
        a = m - MIN_BOX_SIDE / 2;
        c = m + MIN_BOX_SIDE / 2;
      }
      a = Math.max(a, cellLo - MIN_BOX_SIDE / 2);
      c = Math.min(c, cellHi + MIN_BOX_SIDE / 2);
      center[k] = (a + c) / 2;
      size[k] = c - a;
    }
    return { center, size };
  });
}

/** Mass, centre of mass and inertia (about the COM) of a union of disjoint solid boxes. */
export function boxesInertial(boxes: readonly Box[], density: number): { mass: number; com: Vec3; inertia: { ixx: number; iyy: number; izz: number; ixy: number; ixz: number; iyz: number } } {
  let mass = 0;
  const com: Vec3 = [0, 0, 0];
  const masses = boxes.map((b) => b.size[0] * b.size[1] * b.size[2] * density);
  boxes.forEach((b, i) => {
    mass += masses[i]!;
    for (let k = 0; k < 3; k++) com[k]! += masses[i]! * b.center[k]!;
  });
  if (!(mass > 0)) throw new Error('CollisionBoxes: boxes have no volume');
  for (let k = 0; k < 3; k++) com[k]! /= mass;
  let ixx = 0, iyy = 0, izz = 0, ixy = 0, ixz = 0, iyz = 0;
  boxes.forEach((b, i) => {
    const m = masses[i]!;
    const [a, bb, c] = b.size;
    const rx = b.center[0] - com[0], ry = b.center[1] - com[1], rz = b.center[2] - com[2];
    ixx += (m * (bb * bb + c * c)) / 12 + m * (ry * ry + rz * rz);
    iyy += (m * (a * a + c * c)) / 12 + m * (rx * rx + rz * rz);
    izz += (m * (a * a + bb * bb)) / 12 + m * (rx * rx + ry * ry);
    ixy -= m * rx * ry;
    ixz -= m * rx * rz;
    iyz -= m * ry * rz;
  });
  return { mass, com, inertia: { ixx, iyy, izz, ixy, ixz, iyz } };
}
