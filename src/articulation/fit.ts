/**
 * Correspondence-free moving-part segmentation and joint fitting between two point clouds of the
 * same object in the same frame (initial and dragged state).
 *
 * Pipeline (every threshold is relative to the clouds' own point spacing, so metres, rig units
 * and model units all work):
 * 1. Outliers: points whose mean distance to their k nearest neighbours in their own cloud is far
 *    above the median are dropped (floaters from Gaussians, depth noise, 10% uniform junk).
 * 2. Change detection: a point is "changed" when the other state has no point within tau of it.
 *    Static surfaces are re-sampled independently in both states, so tau is a few spacings.
 * 3. Candidate motions without correspondences: for a set of candidate rotations (identity for
 *    drawers; rotations about the object's dominant surface directions and about the cross
 *    product of the changed regions' dominant normals, with angles from correlating normal
 *    azimuth histograms) the translation is found by voting over differences q - R p between
 *    changed points; peaks of the vote become candidate rigid motions.
 * 4. Each candidate is scored by how many changed points it explains in both directions
 *    (T p near the dragged cloud, T^-1 q near the initial one), the best are refined by trimmed
 *    two-way ICP, and the winner is refined under both joint models (pure translation, pure
 *    rotation about a line); the type is the model that explains the data, prismatic unless the
 *    rotation is clearly needed.
 * 5. Moving points: explained by T and not by staying put; ambiguous ones (near a hinge, or a
 *    drawer bottom sliding along itself) take their neighbours' majority label.
 */
import type { Vec3 } from '../core/math.js';
import type { JointEstimate, JointType } from '../core/types.js';
import { Rng } from '../core/random.js';
import { PointGrid } from './grid.js';
import { collect, drain, helperFree, submit } from './pool.js';
import { type Rigid, kabsch, rigidApply, rigidIdentity, rigidInverse, rigidRevolute, rotationAxisAngle, screwOf } from './rigid.js';

/** A drag hint in 3D: a point on the moving part in the initial state and where it went. */
export interface Drag3D {
  start: Vec3;
  end: Vec3;
}

export interface FitOptions {
  /** Operator drags in the input frame; optional. */
  drags?: readonly Drag3D[];
  /** Seed for the internal subsampling (default 1): results are deterministic. */
  seed?: number;
  /** Override of the change threshold (input units); default from the point spacing. */
  changeThreshold?: number;
  /** Also label the dragged cloud's moving points (for meshes; default false: the joint does not need it). */
  segmentDragged?: boolean;
}

export interface JointFit extends JointEstimate {
  /** The full rigid motion of the part (initial -> dragged) under the chosen joint model. */
  transform: Rigid;
  movingIndices: Uint32Array;
  /** Indices of the moving points in the dragged cloud (empty unless `segmentDragged`). */
  movingIndicesDragged: Uint32Array;
  /** Indices of the points kept after outlier removal, per cloud. */
  keptInitial: Uint32Array;
  keptDragged: Uint32Array;
  /** Diagnostics. */
  stats: {
    spacing: number;
    threshold: number;
    changedInitial: number;
    changedDragged: number;
    outliersInitial: number;
    outliersDragged: number;
    candidates: number;
    /** Fraction of changed points explained by the chosen motion. */
    explained: number;
    /** Rotation angle of the unconstrained rigid fit (radians). */
    rigidAngle: number;
    scorePrismatic: number;
    scoreRevolute: number;
  };
}

function fail(msg: string): never {
  throw new Error(`JointFit: ${msg}`);
}

function median(values: Float64Array | number[]): number {
  const a = Float64Array.from(values).sort();
  if (a.length === 0) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : 0.5 * (a[m - 1]! + a[m]!);
}

function quantile(values: Float64Array, q: number): number {
  const a = Float64Array.from(values).sort();
  if (a.length === 0) return NaN;
  return a[Math.min(a.length - 1, Math.max(0, Math.floor(q * (a.length - 1))))]!;
}

/** median() of non-negative integer counts, from a histogram instead of a sort. */
function medianCount(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  let max = 0;
  for (let i = 0; i < n; i++) if (values[i]! > max) max = values[i]!;
  const hist = new Int32Array(max + 1);
  for (let i = 0; i < n; i++) hist[values[i]!]!++;
  // The values at sorted positions m - 1 and m.
  const m = n >> 1;
  let seen = 0, lo = -1, hi = -1;
  for (let v = 0; v <= max && hi < 0; v++) {
    seen += hist[v]!;
    if (lo < 0 && seen > m - 1) lo = v;
    if (seen > m) hi = v;
  }
  return n % 2 ? hi : 0.5 * (lo + hi);
}

/**
 * Reorders a[lo..hi] so that a[k] holds the value a full sort would put there, smaller or equal
 * ones before it and larger or equal ones after (quickselect).
 */
function selectInPlace(a: Float64Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    // Median of three as the pivot.
    const mid = (lo + hi) >> 1;
    let x = a[lo]!, y = a[mid]!, z = a[hi]!;
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/**
 * quantile(values, 0.98) - quantile(values, 0.02), by selection instead of a sort (reorders
 * `values` in place).
 */
function spread(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  const rank = (q: number): number => Math.min(n - 1, Math.max(0, Math.floor(q * (n - 1))));
  const hi = rank(0.98), lo = rank(0.02);
  selectInPlace(values, hi, 0, n - 1);
  // Everything before position hi is no larger than it: the low rank is among them.
  if (lo < hi) selectInPlace(values, lo, 0, hi - 1);
  return values[hi]! - values[lo]!;
}

function checkCloud(name: string, p: Float32Array): void {
  if (p.length % 3 !== 0) fail(`${name} positions length ${p.length} is not a multiple of 3`);
  const n = p.length / 3;
  if (n < 50) fail(`${name} cloud has ${n} points; expected at least 50 (typically 10,000)`);
  for (let i = 0; i < p.length; i++) {
    if (!Number.isFinite(p[i]!)) fail(`${name} cloud has a non-finite coordinate at point ${Math.floor(i / 3)} (${p[i]}); expected finite x y z`);
  }
}

interface Grids extends Prepared {
  grid: PointGrid;
}

export interface Prepared {
  /** Kept points (outliers removed), packed. */
  points: Float32Array;
  /** Original index of every kept point. */
  index: Uint32Array;
  /** Median distance to the nearest neighbour in the same cloud. */
  spacing: number;
  outliers: number;
  /** Robust extent: 2nd-98th percentile range per axis. */
  extent: Vec3;
}

/**
 * Drops floaters and measures the spacing. A point is kept when its neighbourhood is as dense as
 * a sampled surface's (a voxel-hash count, cheap for the bulk of the points); the sparse rest get
 * the k-nearest test: mean distance to K neighbours above 3x the typical one, or above 1.3x with
 * the point off its neighbours' plane (a floater beside a surface, inside a cabinet say, has all
 * its neighbours on one side), means an outlier.
 */
export function prepare(points: Float32Array): Prepared {
  const n = points.length / 3;
  // Cells of about four to five point spacings, guessed from the box's surface area before the spacing
  // is known (k-nearest searches on the grid are exact for any cell size; this one keeps them
  // to a few rings).
  let b0 = Infinity, b1 = Infinity, b2 = Infinity, e0 = -Infinity, e1 = -Infinity, e2 = -Infinity;
  for (let i = 0; i < points.length; i += 3) {
    b0 = Math.min(b0, points[i]!); e0 = Math.max(e0, points[i]!);
    b1 = Math.min(b1, points[i + 1]!); e1 = Math.max(e1, points[i + 1]!);
    b2 = Math.min(b2, points[i + 2]!); e2 = Math.max(e2, points[i + 2]!);
  }
  const area = 2 * ((e0 - b0) * (e1 - b1) + (e1 - b1) * (e2 - b2) + (e0 - b0) * (e2 - b2));
  const tree = new PointGrid(points, Math.max(1e-9, 3 * Math.sqrt(area / Math.max(1, n))));
  const K = 8;
  const idx = new Int32Array(K + 1);
  const d2 = new Float64Array(K + 1);
  /** Mean distance to the K nearest neighbours of point i (they are left in idx/d2). */
  const knnMean = (i: number): number => {
    const x = points[3 * i]!, y = points[3 * i + 1]!, z = points[3 * i + 2]!;
    const found = tree.knn(x, y, z, K + 1, idx, d2);
    knnFound = found;
    let s = 0;
    for (let k = 1; k < found; k++) s += Math.sqrt(d2[k]!);
    return s / Math.max(1, found - 1);
  };
  let knnFound = 0;
  /** Distance of point i off the plane of the neighbours the last knnMean(i) found, over meanK. */
  const offPlaneOf = (i: number, meanK: number): number => {
    const x = points[3 * i]!, y = points[3 * i + 1]!, z = points[3 * i + 2]!;
    const found = knnFound;
    let mx = 0, my = 0, mz = 0;
    for (let k = 1; k < found; k++) {
      const j = idx[k]! * 3;
      mx += points[j]!; my += points[j + 1]!; mz += points[j + 2]!;
    }
    const m = Math.max(1, found - 1);
    mx /= m; my /= m; mz /= m;
    let xx = 0, xy = 0, xz = 0, yy = 0, yz = 0, zz = 0;
    for (let k = 1; k < found; k++) {
      const j = idx[k]! * 3;
      const a = points[j]! - mx, b = points[j + 1]! - my, c = points[j + 2]! - mz;
      xx += a * a; xy += a * b; xz += a * c; yy += b * b; yz += b * c; zz += c * c;
    }
    const nrm = smallestEigenvector(xx, xy, xz, yy, yz, zz);
    return Math.abs((x - mx) * nrm[0] + (y - my) * nrm[1] + (z - mz) * nrm[2]) / Math.max(1e-12, meanK);
  };
  // Typical neighbourhood from a stride sample.
  const step = Math.max(1, Math.floor(n / 800));
  const sMean: number[] = [], sNn: number[] = [];
  for (let i = 0; i < n; i += step) {
    sMean.push(knnMean(i));
    sNn.push(Math.sqrt(d2[1]!));
  }
  const medMean = median(sMean);
  // Voxel counts at about two spacings; a point's density is the count over its 3x3x3 cells.
  const h = Math.max(1e-12, 1.5 * medMean);
  const inv = 1 / h;
  let lo0 = Infinity, lo1 = Infinity, lo2 = Infinity;
  for (let i = 0; i < n; i++) {
    lo0 = Math.min(lo0, points[3 * i]!);
    lo1 = Math.min(lo1, points[3 * i + 1]!);
    lo2 = Math.min(lo2, points[3 * i + 2]!);
  }
  const cx = new Int32Array(n), cy = new Int32Array(n), cz = new Int32Array(n);
  let mx = 0, my = 0, mz = 0;
  for (let i = 0; i < n; i++) {
    const x = (cx[i] = Math.min(1023, Math.floor((points[3 * i]! - lo0) * inv) + 1));
    const y = (cy[i] = Math.min(1023, Math.floor((points[3 * i + 1]! - lo1) * inv) + 1));
    const z = (cz[i] = Math.min(1023, Math.floor((points[3 * i + 2]! - lo2) * inv) + 1));
    if (x > mx) mx = x;
    if (y > my) my = y;
    if (z > mz) mz = z;
  }
  const density = new Float64Array(n);
  const dy = my + 2, dz = mz + 2;
  if (mx < 1000 && my < 1000 && mz < 1000 && (mx + 2) * dy * dz <= 1 << 23) {
    // A dense grid (cells 1..max along each axis, an empty border for the 3x3x3 sums).
    const counts = new Int32Array((mx + 2) * dy * dz);
    const sums = new Int32Array(counts.length);
    for (let i = 0; i < n; i++) counts[(cx[i]! * dy + cy[i]!) * dz + cz[i]!]!++;
    for (let i = 0; i < n; i++) {
      const c = (cx[i]! * dy + cy[i]!) * dz + cz[i]!;
      let sum = sums[c]!;
      if (sum === 0) {
        for (let ox = -dy * dz; ox <= dy * dz; ox += dy * dz) for (let oy = -dz; oy <= dz; oy += dz) {
          const b = c + ox + oy;
          sum += counts[b - 1]! + counts[b]! + counts[b + 1]!;
        }
        sums[c] = sum;
      }
      density[i] = sum;
    }
  } else {
    // Packed keys in a hash (10 bits per axis) for very fine spacings relative to the extent.
    const counts = new VoteMap(n);
    const cells = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      cells[i] = (cx[i]! << 20) | (cy[i]! << 10) | cz[i]!;
      counts.add(cells[i]!);
    }
    const sums = new VoteMap(n);
    for (let i = 0; i < n; i++) {
      const c = cells[i]!;
      let sum = sums.get(c);
      if (sum === 0) {
        const x = c >> 20, y = (c >> 10) & 1023, z = c & 1023;
        for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (let dz = -1; dz <= 1; dz++) {
          sum += counts.get(((x + dx) << 20) | ((y + dy) << 10) | (z + dz));
        }
        sums.set(c, sum);
      }
      density[i] = sum;
    }
  }
  const medDensity = medianCount(density);
  // The sparse points are tested in the grid's cell order (neighbouring queries read
  // neighbouring memory); the kept list stays in input order.
  const outlier = new Uint8Array(n);
  const nearSum = K * 1.3 * medMean * (1 - 1e-9), farSum = K * 3 * medMean * (1 + 1e-9);
  const cellOrder = tree.cellOrder;
  for (let s = 0; s < n; s++) {
    const i = cellOrder[s]!;
    if (density[i]! >= 1.0 * medDensity) continue;
    if (i % step === 0) {
      // A sampled point: its mean distance is known already (the same knnMean).
      const meanK = sMean[i / step]!;
      if (meanK > 3 * medMean) outlier[i] = 1;
      else if (meanK > 1.3 * medMean && offPlaneOf(i, knnMean(i)) > 0.45) outlier[i] = 1;
      continue;
    }
    // Within 1.3x the typical mean distance is kept whatever the plane test says, beyond 3x
    // dropped: stop the search as soon as the neighbours seen so far prove either.
    const found = tree.knnUnlessNear(points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!, K + 1, nearSum, idx, d2, farSum);
    if (found === -1) continue;
    if (found === -2) {
      outlier[i] = 1;
      continue;
    }
    // Otherwise the search ran to the end: the same neighbours as knnMean(i).
    knnFound = found;
    let sum = 0;
    for (let k = 1; k < found; k++) sum += Math.sqrt(d2[k]!);
    const meanK = sum / Math.max(1, found - 1);
    if (meanK > 3 * medMean || (meanK > 1.3 * medMean && offPlaneOf(i, meanK) > 0.45)) outlier[i] = 1;
  }
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (!outlier[i]) keep.push(i);
  const index = Uint32Array.from(keep);
  const kept = new Float32Array(index.length * 3);
  index.forEach((o, i) => {
    kept[3 * i] = points[3 * o]!;
    kept[3 * i + 1] = points[3 * o + 1]!;
    kept[3 * i + 2] = points[3 * o + 2]!;
  });
  const extent: Vec3 = [0, 0, 0];
  const stride = Math.max(1, Math.floor(index.length / 2000));
  for (let k = 0; k < 3; k++) {
    const c: number[] = [];
    for (let i = 0; i < index.length; i += stride) c.push(kept[3 * i + k]!);
    extent[k] = spread(Float64Array.from(c));
  }
  // Spacing from the mean distance to 8 neighbours, scaled to a nearest-neighbour distance (the two
  // differ by about 1.9 on a uniformly sampled surface) when the samples come in tight clusters
  // (drawn from Gaussians), where the nearest neighbour alone reports a far too fine spacing.
  const nnMed = median(sNn);
  return { points: kept, index, spacing: medMean / nnMed > 2.4 ? medMean / 1.9 : nnMed, outliers: n - index.length, extent };
}

/** PCA normals (unoriented) of the given points from their K nearest neighbours in `tree`. */
function normalsOf(points: Float32Array, sel: Uint32Array, tree: PointGrid, K = 10): Float32Array {
  const out = new Float32Array(sel.length * 3);
  const idx = new Int32Array(K);
  const d2 = new Float64Array(K);
  const tp = tree.points;
  for (let s = 0; s < sel.length; s++) {
    const i = sel[s]!;
    const found = tree.knn(points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!, K, idx, d2);
    let mx = 0, my = 0, mz = 0;
    for (let k = 0; k < found; k++) {
      const j = idx[k]! * 3;
      mx += tp[j]!; my += tp[j + 1]!; mz += tp[j + 2]!;
    }
    mx /= found; my /= found; mz /= found;
    let xx = 0, xy = 0, xz = 0, yy = 0, yz = 0, zz = 0;
    for (let k = 0; k < found; k++) {
      const j = idx[k]! * 3;
      const x = tp[j]! - mx, y = tp[j + 1]! - my, z = tp[j + 2]! - mz;
      xx += x * x; xy += x * y; xz += x * z; yy += y * y; yz += y * z; zz += z * z;
    }
    const n = smallestEigenvector(xx, xy, xz, yy, yz, zz);
    out.set(n, s * 3);
  }
  return out;
}

/** Median distance to the k-th nearest neighbour over every `stride`-th selected point. */
function kthNeighbourDistance(points: Float32Array, sel: Uint32Array, tree: PointGrid, k: number, stride: number): number {
  const idx = new Int32Array(k), d2 = new Float64Array(k);
  const r: number[] = [];
  for (let s = 0; s < sel.length; s += stride) {
    const i = sel[s]!;
    if (tree.knn(points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!, k, idx, d2) === k) r.push(Math.sqrt(d2[k - 1]!));
  }
  return median(r);
}

/** PCA normals (unoriented) of the selected points from their neighbours within `radius` in `tree` (k-nearest when too few). */
function normalsWithin(points: Float32Array, sel: Uint32Array, tree: PointGrid, radius: number, K: number): Float32Array {
  const out = new Float32Array(sel.length * 3);
  const m = new Float64Array(10);
  for (let s = 0; s < sel.length; s++) {
    const i = sel[s]!;
    tree.momentsWithin(points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!, radius, m);
    const c = m[0]!;
    if (c < 8) {
      out.set(normalsOf(points, Uint32Array.of(i), tree, K), 3 * s);
      continue;
    }
    const ax = m[1]! / c, ay = m[2]! / c, az = m[3]! / c;
    out.set(smallestEigenvector(m[4]! - c * ax * ax, m[5]! - c * ax * ay, m[6]! - c * ax * az, m[7]! - c * ay * ay, m[8]! - c * ay * az, m[9]! - c * az * az), 3 * s);
  }
  return out;
}

/** Eigenvector of the smallest eigenvalue of a symmetric 3x3 (analytic eigenvalues + cross products). */
function smallestEigenvector(a: number, b: number, c: number, d: number, e: number, f: number): Vec3 {
  // Matrix [[a b c][b d e][c e f]].
  const p1 = b * b + c * c + e * e;
  const q = (a + d + f) / 3;
  const p2 = (a - q) ** 2 + (d - q) ** 2 + (f - q) ** 2 + 2 * p1;
  const p = Math.sqrt(p2 / 6);
  if (!(p > 1e-30)) return [0, 0, 1];
  const B = [(a - q) / p, b / p, c / p, (d - q) / p, e / p, (f - q) / p];
  const detB = B[0]! * (B[3]! * B[5]! - B[4]! * B[4]!) - B[1]! * (B[1]! * B[5]! - B[4]! * B[2]!) + B[2]! * (B[1]! * B[4]! - B[3]! * B[2]!);
  const r = Math.max(-1, Math.min(1, detB / 2));
  const phi = Math.acos(r) / 3;
  const lmin = q + 2 * p * Math.cos(phi + (2 * Math.PI) / 3);
  // Rows of (M - lmin I); the eigenvector is orthogonal to them: take the largest cross product.
  const r0: Vec3 = [a - lmin, b, c], r1: Vec3 = [b, d - lmin, e], r2: Vec3 = [c, e, f - lmin];
  const cands = [cross(r0, r1), cross(r0, r2), cross(r1, r2)];
  let best = cands[0]!, bn = norm(best);
  for (const v of cands) {
    const nv = norm(v);
    if (nv > bn) {
      best = v;
      bn = nv;
    }
  }
  if (!(bn > 0)) return [0, 0, 1];
  return [best[0] / bn, best[1] / bn, best[2] / bn];
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
function norm(a: Vec3): number {
  return Math.hypot(a[0], a[1], a[2]);
}
function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
function unit(a: Vec3): Vec3 {
  const n = norm(a);
  return [a[0] / n, a[1] / n, a[2] / n];
}

/** Dominant unoriented directions of a set of normals (eigenvectors of the scatter, strongest first). */
function dominantDirections(normals: Float32Array, max = 3): Vec3[] {
  // Greedy clustering on the sphere: the densest direction, then the densest among the rest
  // that is at least 30 degrees from those found.
  const n = normals.length / 3;
  const found: Vec3[] = [];
  const cosNear = Math.cos((12 * Math.PI) / 180);
  const cosApart = Math.cos((30 * Math.PI) / 180);
  const step = Math.max(1, Math.floor(n / 300));
  // Each sampled normal's count of sampled normals within cosNear, once for all rounds (the
  // relation is symmetric: each pair is tested once, in the same arithmetic as before).
  const m = Math.ceil(n / step);
  const counts = new Int32Array(m);
  for (let a = 0; a < m; a++) {
    const i = a * step;
    const v0 = normals[3 * i]!, v1 = normals[3 * i + 1]!, v2 = normals[3 * i + 2]!;
    if (Math.abs(v0 * v0 + v1 * v1 + v2 * v2) > cosNear) counts[a]!++;
    for (let b = a + 1; b < m; b++) {
      const j = b * step;
      if (Math.abs(normals[3 * j]! * v0 + normals[3 * j + 1]! * v1 + normals[3 * j + 2]! * v2) > cosNear) {
        counts[a]!++;
        counts[b]!++;
      }
    }
  }
  for (let round = 0; round < max; round++) {
    let best = -1, bestCount = 0;
    for (let i = 0; i < n; i += step) {
      const v: Vec3 = [normals[3 * i]!, normals[3 * i + 1]!, normals[3 * i + 2]!];
      if (found.some((f) => Math.abs(dot(f, v)) > cosApart)) continue;
      const count = counts[i / step]!;
      if (count > bestCount) {
        bestCount = count;
        best = i;
      }
    }
    if (best < 0 || bestCount < 3) break;
    // Refine by mean shift: the mean of the aligned normals (flipped to agree), re-centred.
    let v0: Vec3 = [normals[3 * best]!, normals[3 * best + 1]!, normals[3 * best + 2]!];
    const m: Vec3 = [0, 0, 0];
    for (let iter = 0; iter < 4; iter++) {
      m[0] = m[1] = m[2] = 0;
      const cone = iter === 0 ? cosNear : Math.cos((8 * Math.PI) / 180);
      for (let j = 0; j < n; j++) {
        const v: Vec3 = [normals[3 * j]!, normals[3 * j + 1]!, normals[3 * j + 2]!];
        const c = dot(v, v0);
        if (Math.abs(c) > cone) {
          const s = c < 0 ? -1 : 1;
          m[0] += s * v[0]; m[1] += s * v[1]; m[2] += s * v[2];
        }
      }
      if (!(norm(m) > 0)) break;
      v0 = unit(m);
    }
    found.push(v0);
  }
  return found;
}

/** An orthonormal pair spanning the plane perpendicular to unit `a`. */
function planeBasis(a: Vec3): [Vec3, Vec3] {
  const helper: Vec3 = Math.abs(a[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
  const e1 = unit(cross(a, helper));
  return [e1, cross(a, e1)];
}

/** Candidate rotation angles about `a` from correlating axial normal-azimuth histograms. */
function angleCandidates(a: Vec3, np: Float32Array, nq: Float32Array, peaks = 2): number[] {
  const BINS = 90; // 2 degrees over the axial half circle
  const [e1, e2] = planeBasis(a);
  const hist = (nrm: Float32Array): Float64Array => {
    const h = new Float64Array(BINS);
    for (let i = 0; i < nrm.length; i += 3) {
      const v: Vec3 = [nrm[i]!, nrm[i + 1]!, nrm[i + 2]!];
      const x = dot(v, e1), y = dot(v, e2);
      const w = x * x + y * y; // normals along the axis say nothing about the angle
      if (w < 0.25) continue;
      let phi = Math.atan2(y, x);
      if (phi < 0) phi += Math.PI;
      if (phi >= Math.PI) phi -= Math.PI;
      const b = Math.floor((phi / Math.PI) * BINS) % BINS;
      // Spread over neighbours: a small smoothing kernel.
      h[b]! += w;
      h[(b + 1) % BINS]! += 0.5 * w;
      h[(b + BINS - 1) % BINS]! += 0.5 * w;
    }
    return h;
  };
  const hp = hist(np), hq = hist(nq);
  const corr = new Float64Array(BINS);
  for (let s = 0; s < BINS; s++) {
    let c = 0;
    for (let b = 0; b < BINS; b++) c += hp[b]! * hq[(b + s) % BINS]!;
    corr[s] = c;
  }
  const out: number[] = [];
  const used = new Uint8Array(BINS);
  for (let k = 0; k < peaks; k++) {
    let best = -1;
    for (let s = 0; s < BINS; s++) if (!used[s] && (best < 0 || corr[s]! > corr[best]!)) best = s;
    if (best < 0 || !(corr[best]! > 0)) break;
    // Sub-bin peak by parabola through neighbours.
    const l = corr[(best + BINS - 1) % BINS]!, c = corr[best]!, r = corr[(best + 1) % BINS]!;
    const den = l - 2 * c + r;
    const off = den < 0 ? (0.5 * (l - r)) / den : 0;
    const angle = ((best + off) / BINS) * Math.PI;
    out.push(angle, angle - Math.PI);
    for (let d = -5; d <= 5; d++) used[(best + d + BINS) % BINS] = 1;
  }
  return out;
}

/** Open-addressing integer hash map (key -> count) for sparse voxel counts; no allocation per insert. */
class VoteMap {
  private keys: Int32Array;
  private vals: Int32Array;
  /** Slots in use, in insertion order (clearing and visiting cost the entries, not the table). */
  private used: Int32Array;
  private mask: number;
  size = 0;
  constructor(capacity: number) {
    let c = 1024;
    while (c < capacity * 2) c <<= 1;
    this.keys = new Int32Array(c).fill(-1);
    this.vals = new Int32Array(c);
    this.used = new Int32Array(c);
    this.mask = c - 1;
  }
  private slot(k: number): number {
    let h = Math.imul(k, 0x9e3779b1) >>> 0;
    for (;;) {
      const i = h & this.mask;
      const cur = this.keys[i]!;
      if (cur === k || cur === -1) return i;
      h++;
    }
  }
  add(k: number): void {
    const i = this.slot(k);
    if (this.keys[i] === -1) {
      this.keys[i] = k;
      this.used[this.size++] = i;
    }
    this.vals[i]!++;
  }
  set(k: number, v: number): void {
    const i = this.slot(k);
    if (this.keys[i] === -1) {
      this.keys[i] = k;
      this.used[this.size++] = i;
    }
    this.vals[i] = v;
  }
  get(k: number): number {
    const i = this.slot(k);
    return this.keys[i] === k ? this.vals[i]! : 0;
  }
  clear(): void {
    for (let u = 0; u < this.size; u++) {
      const i = this.used[u]!;
      this.keys[i] = -1;
      this.vals[i] = 0;
    }
    this.size = 0;
  }
}

/**
 * Dense vote counts over a (2R+1)^3 box of cells centred on zero shift; only touched cells are
 * cleared between calls. Denser and faster than hashing for the bounded shifts of the vote (a
 * shift is at most maxShift, so R stays below ~80 cells per side with cells of >= 2% of the size).
 */
class DenseVotes {
  readonly vals: Int32Array;
  private used: Int32Array;
  size = 0;
  constructor(readonly R: number, capacity: number, reuse?: DenseVotes) {
    const D = 2 * R + 1;
    // A cleared grid is all zeros: a larger one serves (indices stay below D^3).
    this.vals = reuse && reuse.size === 0 && reuse.vals.length >= D * D * D ? reuse.vals : new Int32Array(D * D * D);
    this.used = reuse && reuse.used.length >= capacity ? reuse.used : new Int32Array(Math.max(1024, capacity));
  }
  /** Records that cell k went from 0 to 1 vote (callers increment `vals` themselves). */
  touch(k: number): void {
    if (this.size === this.used.length) {
      const grown = new Int32Array(2 * this.used.length);
      grown.set(this.used);
      this.used = grown;
    }
    this.used[this.size++] = k;
  }
  get(k: number): number {
    return this.vals[k]!;
  }
  clear(): void {
    for (let u = 0; u < this.size; u++) this.vals[this.used[u]!] = 0;
    this.size = 0;
  }
  maxValue(): number {
    let m = 0;
    for (let u = 0; u < this.size; u++) m = Math.max(m, this.vals[this.used[u]!]!);
    return m;
  }
  /** Entries with a count of at least `min`, in cell order. */
  forEachAtLeast(min: number, f: (k: number, v: number) => void): void {
    let m = 0;
    const sel = new Int32Array(this.size);
    for (let u = 0; u < this.size; u++) if (this.vals[this.used[u]!]! >= min) sel[m++] = this.used[u]!;
    const s = sel.subarray(0, m).sort();
    for (let u = 0; u < m; u++) f(s[u]!, this.vals[s[u]!]!);
  }
}

let voteGrid: DenseVotes | undefined;

/** Top translation peaks of q - R p over sampled pairs (3D vote histogram + mean shift). */
function translationPeaks(R: Float64Array, ps: Float32Array, qs: Float32Array, cell: number, maxShift: number, peaks: number): Vec3[] {
  const np = ps.length / 3, nq = qs.length / 3;
  const inv = 1 / cell;
  const rp = new Float32Array(ps.length);
  for (let i = 0; i < np; i++) {
    const x = ps[3 * i]!, y = ps[3 * i + 1]!, z = ps[3 * i + 2]!;
    rp[3 * i] = R[0]! * x + R[1]! * y + R[2]! * z;
    rp[3 * i + 1] = R[3]! * x + R[4]! * y + R[5]! * z;
    rp[3 * i + 2] = R[6]! * x + R[7]! * y + R[8]! * z;
  }
  // Every vote lies within maxShift of zero, so within B - 2 cells: neighbour lookups at +-1 stay
  // inside the box.
  const B = Math.ceil(maxShift * inv) + 3;
  const D = 2 * B + 1;
  const pack = (x: number, y: number, z: number): number => ((x + B) * D + (y + B)) * D + (z + B);
  // One grid reused across calls: this runs for every candidate rotation.
  voteGrid?.clear();
  if (!voteGrid || voteGrid.R !== B) voteGrid = new DenseVotes(B, np * nq, voteGrid);
  const votes = voteGrid;
  const m2 = maxShift * maxShift;
  const counts = votes.vals;
  for (let i = 0; i < np; i++) {
    const px = rp[3 * i]!, py = rp[3 * i + 1]!, pz = rp[3 * i + 2]!;
    for (let j = 0; j < nq; j++) {
      const x = qs[3 * j]! - px, y = qs[3 * j + 1]! - py, z = qs[3 * j + 2]! - pz;
      if (x * x + y * y + z * z > m2) continue;
      const k = ((Math.floor(x * inv) + B) * D + (Math.floor(y * inv) + B)) * D + (Math.floor(z * inv) + B);
      // votes.add(k), inlined: this loop runs ~10^4 times per candidate rotation.
      if (counts[k]!++ === 0) votes.touch(k);
    }
  }
  const decode = (k: number): [number, number, number] => {
    const z = k % D, xy = (k - z) / D, y = xy % D;
    return [(xy - y) / D - B, y - B, z - B];
  };
  // Sum over 3x3x3 neighbourhoods so a peak split across cells still wins; only the busiest
  // cells can hold a peak, so only they are summed.
  const maxVote = votes.maxValue();
  const scored: Array<[number, number]> = [];
  votes.forEachAtLeast(Math.max(2, Math.ceil(0.3 * maxVote)), (k, v) => {
    const [x, y, z] = decode(k);
    let s = 0;
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (let dz = -1; dz <= 1; dz++) s += votes.get(pack(x + dx, y + dy, z + dz));
    scored.push([k, s + v]);
  });
  scored.sort((a, b) => b[1] - a[1]);
  const out: Vec3[] = [];
  for (const [k] of scored) {
    if (out.length >= peaks) break;
    const [x, y, z] = decode(k);
    let c: Vec3 = [(x + 0.5) * cell, (y + 0.5) * cell, (z + 0.5) * cell];
    if (out.some((o) => norm([o[0] - c[0], o[1] - c[1], o[2] - c[2]]) < 3 * cell)) continue;
    // Mean shift over the neighbouring cells' votes.
    for (let it = 0; it < 3; it++) {
      let sx = 0, sy = 0, sz = 0, sw = 0;
      const cx = Math.floor(c[0] * inv), cy = Math.floor(c[1] * inv), cz = Math.floor(c[2] * inv);
      for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (let dz = -1; dz <= 1; dz++) {
        const v = votes.get(pack(cx + dx, cy + dy, cz + dz));
        if (v === 0) continue;
        const px = (cx + dx + 0.5) * cell, py = (cy + dy + 0.5) * cell, pz = (cz + dz + 0.5) * cell;
        const w = v * Math.exp(-((px - c[0]) ** 2 + (py - c[1]) ** 2 + (pz - c[2]) ** 2) / (2 * cell * cell));
        sx += w * px; sy += w * py; sz += w * pz; sw += w;
      }
      if (sw > 0) c = [sx / sw, sy / sw, sz / sw];
    }
    out.push(c);
  }
  return out;
}

/** Packs the selected points of `points` (indices `sel`). */
function gather(points: Float32Array, sel: Uint32Array): Float32Array {
  const out = new Float32Array(sel.length * 3);
  for (let i = 0; i < sel.length; i++) {
    const o = sel[i]! * 3;
    out[3 * i] = points[o]!;
    out[3 * i + 1] = points[o + 1]!;
    out[3 * i + 2] = points[o + 2]!;
  }
  return out;
}

function subsample(sel: Uint32Array, max: number, rng: Rng): Uint32Array {
  if (sel.length <= max) return sel;
  // Rng.shuffle's Fisher-Yates (the same draws, so the same subsets) on a typed copy.
  const a = Uint32Array.from(sel);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a.slice(0, max).sort();
}

/** 0, 1, ..., n - 1. */
function iota(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/**
 * Soft count of points of `src` that land on `tree`'s surface after T: sum of
 * exp(-d^2 / 2 sigma^2) over nearest distances d (cut at 2.5 sigma). Soft rather than a hard
 * radius because a hard radius of a few spacings cannot tell a door turned by 20 degrees from
 * the best pure translation.
 */
function explainedCount(T: Rigid, src: Float32Array, tree: PointGrid, sigma: number): number {
  const r = T.r, t = T.t;
  const inv = 1 / (2 * sigma * sigma);
  let c = 0;
  for (let i = 0; i < src.length; i += 3) {
    const x = src[i]!, y = src[i + 1]!, z = src[i + 2]!;
    const d2 = tree.nearestD2(r[0]! * x + r[1]! * y + r[2]! * z + t[0], r[3]! * x + r[4]! * y + r[5]! * z + t[1], r[6]! * x + r[7]! * y + r[8]! * z + t[2], 2.5 * sigma);
    if (d2 < Infinity) c += Math.exp(-d2 * inv);
  }
  return c;
}

/**
 * The object's three main directions: the dominant surface normal, then the second dominant
 * normal made orthogonal (Gram-Schmidt), or when no second face family is clear (a laptop's thin
 * sides), the orientation of the minimum-area bounding rectangle of the points seen along the
 * first direction. Man-made objects' hinges and slides follow these directions.
 */
function objectFrame(dirs: Vec3[], points: Float32Array, sel: Uint32Array): Vec3[] {
  const a = dirs[0];
  if (!a) return [];
  const b = dirs.find((d) => Math.abs(dot(d, a)) < Math.cos((70 * Math.PI) / 180));
  if (b) {
    const bo = unit([b[0] - dot(b, a) * a[0], b[1] - dot(b, a) * a[1], b[2] - dot(b, a) * a[2]]);
    return [a, bo, cross(a, bo)];
  }
  const [e1, e2] = planeBasis(a);
  const u = new Float64Array(sel.length), v = new Float64Array(sel.length);
  sel.forEach((i, k) => {
    const p: Vec3 = [points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!];
    u[k] = dot(p, e1);
    v[k] = dot(p, e2);
  });
  let bestAngle = 0, bestArea = Infinity;
  const proj = new Float64Array(sel.length);
  for (let deg = 0; deg < 90; deg += 1) {
    const c = Math.cos((deg * Math.PI) / 180), s = Math.sin((deg * Math.PI) / 180);
    for (let k = 0; k < sel.length; k++) proj[k] = c * u[k]! + s * v[k]!;
    const w1 = spread(proj);
    for (let k = 0; k < sel.length; k++) proj[k] = -s * u[k]! + c * v[k]!;
    const w2 = spread(proj);
    if (w1 * w2 < bestArea) {
      bestArea = w1 * w2;
      bestAngle = (deg * Math.PI) / 180;
    }
  }
  const c = Math.cos(bestAngle), s = Math.sin(bestAngle);
  const f1: Vec3 = unit([c * e1[0] + s * e2[0], c * e1[1] + s * e2[1], c * e1[2] + s * e2[2]]);
  return [a, f1, cross(a, f1)];
}

type Model = 'rigid' | 'prismatic' | 'revolute';

/** A NormalCache's arrays, in shared memory when the helper thread shares them. */
interface NormalStore {
  normals: Float32Array;
  done: Uint8Array;
}

function normalStore(n: number, shared: boolean): NormalStore {
  if (!shared) return { normals: new Float32Array(3 * n), done: new Uint8Array(n) };
  return { normals: new Float32Array(new SharedArrayBuffer(12 * n)), done: new Uint8Array(new SharedArrayBuffer(n)) };
}

/**
 * Lazily computed unoriented normals of a prepared cloud (only matched points ever need one).
 * The fit and its helper thread may share one store: a normal depends only on the point and the
 * cloud (the same grid either side), so whichever thread computes it first stores the same
 * numbers; `done` is set atomically after them.
 */
class NormalCache {
  private readonly normals: Float32Array;
  private readonly done: Uint8Array;
  private readonly idx = new Int32Array(20);
  private readonly d2 = new Float64Array(20);
  constructor(private readonly X: Grids, store: NormalStore = normalStore(X.points.length / 3, false)) {
    this.normals = store.normals;
    this.done = store.done;
  }
  /** Index into `normals` of point i's normal (computed on first use). */
  at(i: number): number {
    if (Atomics.load(this.done, i) === 0) {
      // Same computation as normalsOf(points, [i], tree, 20), without its allocations.
      const points = this.X.points;
      const tp = this.X.grid.points;
      const found = this.X.grid.knn(points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!, 20, this.idx, this.d2);
      let mx = 0, my = 0, mz = 0;
      for (let k = 0; k < found; k++) {
        const j = this.idx[k]! * 3;
        mx += tp[j]!; my += tp[j + 1]!; mz += tp[j + 2]!;
      }
      mx /= found; my /= found; mz /= found;
      let xx = 0, xy = 0, xz = 0, yy = 0, yz = 0, zz = 0;
      for (let k = 0; k < found; k++) {
        const j = this.idx[k]! * 3;
        const x = tp[j]! - mx, y = tp[j + 1]! - my, z = tp[j + 2]! - mz;
        xx += x * x; xy += x * y; xz += x * z; yy += y * y; yz += y * z; zz += z * z;
      }
      const n = smallestEigenvector(xx, xy, xz, yy, yz, zz);
      this.normals[3 * i] = n[0];
      this.normals[3 * i + 1] = n[1];
      this.normals[3 * i + 2] = n[2];
      Atomics.store(this.done, i, 1);
    }
    return 3 * i;
  }
  get data(): Float32Array {
    return this.normals;
  }
  /** The normals of the selected points, packed (as normalsOf(points, sel, grid, 20)). */
  gather(sel: Uint32Array): Float32Array {
    const out = new Float32Array(sel.length * 3);
    for (let s = 0; s < sel.length; s++) {
      const o = this.at(sel[s]!);
      out[3 * s] = this.normals[o]!;
      out[3 * s + 1] = this.normals[o + 1]!;
      out[3 * s + 2] = this.normals[o + 2]!;
    }
    return out;
  }
}

/** Solves the symmetric positive (semi)definite n x n system A x = b (Gaussian elimination, damped). */
function solveSym(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const M = Float64Array.from(A);
  const x = Float64Array.from(b);
  let trace = 0;
  for (let i = 0; i < n; i++) trace += M[i * n + i]!;
  for (let i = 0; i < n; i++) M[i * n + i]! += 1e-9 * trace + 1e-300;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]!) > Math.abs(M[piv * n + c]!)) piv = r;
    if (piv !== c) {
      for (let k = 0; k < n; k++) {
        const t = M[c * n + k]!;
        M[c * n + k] = M[piv * n + k]!;
        M[piv * n + k] = t;
      }
      const t = x[c]!;
      x[c] = x[piv]!;
      x[piv] = t;
    }
    const d = M[c * n + c]!;
    if (Math.abs(d) < 1e-300) continue;
    for (let r = c + 1; r < n; r++) {
      const f = M[r * n + c]! / d;
      if (f === 0) continue;
      for (let k = c; k < n; k++) M[r * n + k]! -= f * M[c * n + k]!;
      x[r]! -= f * x[c]!;
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    let s = x[c]!;
    for (let k = c + 1; k < n; k++) s -= M[c * n + k]! * x[k]!;
    const d = M[c * n + c]!;
    x[c] = Math.abs(d) < 1e-300 ? 0 : s / d;
  }
  return x;
}

function compose(a: Rigid, b: Rigid): Rigid {
  // a after b.
  const r = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    r[i * 3 + j] = a.r[i * 3]! * b.r[j]! + a.r[i * 3 + 1]! * b.r[3 + j]! + a.r[i * 3 + 2]! * b.r[6 + j]!;
  }
  const t = rigidApply(a, b.t);
  return { r, t };
}

/**
 * Adds one ICP pair to the normal equations H x = g (row-major dim x dim, dim 6: rotation
 * vector then translation; dim 3: translation): a point-to-plane row (s' - d) . n with a robust
 * weight, plus point-to-point rows (x, y, z) with weight lam, in closed form (the three
 * point-to-point rows' J^T J is [|s|^2 I - s s^T, -[s]x; [s]x, I] times lam).
 */
function accumulatePair(H: Float64Array, g: Float64Array, dim: number, w2: number, lam: number, sx: number, sy: number, sz: number, dx: number, dy: number, dz: number, nx: number, ny: number, nz: number): void {
  const ex = sx - dx, ey = sy - dy, ez = sz - dz;
  const res = nx * ex + ny * ey + nz * ez;
  const w = 1 / (1 + res * res * w2);
  if (dim === 3) {
    H[0]! += w * nx * nx + lam; H[1]! += w * nx * ny; H[2]! += w * nx * nz;
    H[4]! += w * ny * ny + lam; H[5]! += w * ny * nz;
    H[8]! += w * nz * nz + lam;
    H[3] = H[1]!; H[6] = H[2]!; H[7] = H[5]!;
    const wr = w * res;
    g[0]! -= wr * nx + lam * ex; g[1]! -= wr * ny + lam * ey; g[2]! -= wr * nz + lam * ez;
    return;
  }
  // Point-to-plane Jacobian (s' x n, n).
  const j0 = sy * nz - sz * ny, j1 = sz * nx - sx * nz, j2 = sx * ny - sy * nx;
  const s2 = sx * sx + sy * sy + sz * sz;
  // Upper triangle only; icp mirrors it before solving.
  H[0]! += w * j0 * j0 + lam * (s2 - sx * sx);
  H[1]! += w * j0 * j1 - lam * sx * sy;
  H[2]! += w * j0 * j2 - lam * sx * sz;
  H[3]! += w * j0 * nx;
  H[4]! += w * j0 * ny - lam * sz;
  H[5]! += w * j0 * nz + lam * sy;
  H[7]! += w * j1 * j1 + lam * (s2 - sy * sy);
  H[8]! += w * j1 * j2 - lam * sy * sz;
  H[9]! += w * j1 * nx + lam * sz;
  H[10]! += w * j1 * ny;
  H[11]! += w * j1 * nz - lam * sx;
  H[14]! += w * j2 * j2 + lam * (s2 - sz * sz);
  H[15]! += w * j2 * nx - lam * sy;
  H[16]! += w * j2 * ny + lam * sx;
  H[17]! += w * j2 * nz;
  H[21]! += w * nx * nx + lam;
  H[22]! += w * nx * ny;
  H[23]! += w * nx * nz;
  H[28]! += w * ny * ny + lam;
  H[29]! += w * ny * nz;
  H[35]! += w * nz * nz + lam;
  const wr = w * res;
  // s' x e for the point-to-point rows' rotation part.
  g[0]! -= wr * j0 + lam * (sy * ez - sz * ey);
  g[1]! -= wr * j1 + lam * (sz * ex - sx * ez);
  g[2]! -= wr * j2 + lam * (sx * ey - sy * ex);
  g[3]! -= wr * nx + lam * ex;
  g[4]! -= wr * ny + lam * ey;
  g[5]! -= wr * nz + lam * ez;
}

/**
 * Trimmed two-way point-to-plane ICP (with a small point-to-point term so flat parts cannot
 * slide freely): pairs (p, NN(Tp) in Q) and (NN(T^-1 q) in P, q) within `radius`; each step
 * solves the linearised problem under `model` (rigid 6-DoF; translation only; rigid then
 * projected onto a pure rotation about a line). Point-to-plane matters because the two states
 * are sampled independently: point-to-point pairs are biased by the sampling offsets, which
 * tilts the fitted axis by degrees.
 */
function icp(T0: Rigid, ps: Float32Array, qs: Float32Array, A: Grids, B: Grids, nA: NormalCache, nB: NormalCache, radius: number, model: Model, iterations: number): Rigid {
  let T = T0;
  const P = A.points, Q = B.points;
  const lam = 0.05;
  const dim = model === 'prismatic' ? 3 : 6;
  const H = new Float64Array(dim * dim);
  const g = new Float64Array(dim);
  const w2 = 1 / (radius * radius * 0.1);
  for (let it = 0; it < iterations; it++) {
    H.fill(0);
    g.fill(0);
    let pairs = 0;
    const r = T.r, t = T.t;
    for (let i = 0; i < ps.length; i += 3) {
      const x = ps[i]!, y = ps[i + 1]!, z = ps[i + 2]!;
      const tx = r[0]! * x + r[1]! * y + r[2]! * z + t[0], ty = r[3]! * x + r[4]! * y + r[5]! * z + t[1], tz = r[6]! * x + r[7]! * y + r[8]! * z + t[2];
      if (B.grid.nearestD2(tx, ty, tz, radius) === Infinity) continue;
      const j = B.grid.lastIndex;
      const o = nB.at(j), n = nB.data;
      accumulatePair(H, g, dim, w2, lam, tx, ty, tz, Q[3 * j]!, Q[3 * j + 1]!, Q[3 * j + 2]!, n[o]!, n[o + 1]!, n[o + 2]!);
      pairs++;
    }
    const Ti = rigidInverse(T);
    const ri = Ti.r, ti = Ti.t;
    for (let i = 0; i < qs.length; i += 3) {
      const x = qs[i]!, y = qs[i + 1]!, z = qs[i + 2]!;
      const bx = ri[0]! * x + ri[1]! * y + ri[2]! * z + ti[0], by = ri[3]! * x + ri[4]! * y + ri[5]! * z + ti[1], bz = ri[6]! * x + ri[7]! * y + ri[8]! * z + ti[2];
      if (A.grid.nearestD2(bx, by, bz, radius) === Infinity) continue;
      const j = A.grid.lastIndex;
      const no = nA.at(j), nd = nA.data;
      const n0 = nd[no]!, n1 = nd[no + 1]!, n2 = nd[no + 2]!;
      const px = P[3 * j]!, py = P[3 * j + 1]!, pz = P[3 * j + 2]!;
      // Map p and its normal into the dragged frame with the current T.
      accumulatePair(
        H, g, dim, w2, lam,
        r[0]! * px + r[1]! * py + r[2]! * pz + t[0], r[3]! * px + r[4]! * py + r[5]! * pz + t[1], r[6]! * px + r[7]! * py + r[8]! * pz + t[2],
        x, y, z,
        r[0]! * n0 + r[1]! * n1 + r[2]! * n2, r[3]! * n0 + r[4]! * n1 + r[5]! * n2, r[6]! * n0 + r[7]! * n1 + r[8]! * n2,
      );
      pairs++;
    }
    if (pairs < 6) break;
    if (dim === 6) for (let a = 1; a < 6; a++) for (let b = 0; b < a; b++) H[a * 6 + b] = H[b * 6 + a]!;
    const x = solveSym(H, g, dim);
    let delta: Rigid;
    if (dim === 3) {
      delta = { r: rigidIdentity().r, t: [x[0]!, x[1]!, x[2]!] };
    } else {
      const w: Vec3 = [x[0]!, x[1]!, x[2]!];
      const ang = norm(w);
      delta = { r: ang > 1e-12 ? rotationAxisAngle([w[0] / ang, w[1] / ang, w[2] / ang], ang) : rigidIdentity().r, t: [x[3]!, x[4]!, x[5]!] };
    }
    let next = compose(delta, T);
    if (model === 'revolute') {
      const s = screwOf(next);
      next = rigidRevolute(s.axis, s.point, s.angle);
    }
    const step = Math.hypot(x[dim - 3]!, x[dim - 2]!, x[dim - 1]!);
    T = next;
    if (step < radius * 1e-3 && it >= 2) break;
  }
  return T;
}

/** A pure rotation whose axis is snapped to `dir`, keeping the angle and the axis point. */
function snapRevolute(T: Rigid, dir: Vec3, near: Vec3): Rigid {
  const s = screwOf(T, near);
  const d = dot(s.axis, dir) < 0 ? ([-dir[0], -dir[1], -dir[2]] as Vec3) : dir;
  return rigidRevolute(d, s.point, s.angle);
}

/** Indices of the points with no point of `other` within tau (they moved). */
function changedOf(p: Float32Array, other: PointGrid, tau: number): Uint32Array {
  const out: number[] = [];
  for (let i = 0; i < p.length / 3; i++) if (!other.anyWithin(p[3 * i]!, p[3 * i + 1]!, p[3 * i + 2]!, tau)) out.push(i);
  return Uint32Array.from(out);
}

/** Share of the sampled points a motion explains (both ways), plus the drags' reward. */
function scoreMotion(T: Rigid, ps: Float32Array, qs: Float32Array, gA: PointGrid, gB: PointGrid, sigma: number, drags: readonly Drag3D[], size: number): number {
  const e = explainedCount(T, ps, gB, sigma) + explainedCount(rigidInverse(T), qs, gA, sigma);
  let s = e / Math.max(1, ps.length / 3 + qs.length / 3);
  if (drags.length > 0) {
    // Drags are the operator's word on what moved where: reward motions that carry starts to ends.
    let h = 0;
    for (const d of drags) {
      const m = rigidApply(T, d.start);
      h += Math.exp(-((m[0] - d.end[0]) ** 2 + (m[1] - d.end[1]) ** 2 + (m[2] - d.end[2]) ** 2) / (2 * (0.05 * size) ** 2));
    }
    s += 0.15 * (h / drags.length);
  }
  return s;
}

/** Prismatic ICP from each start; the best by score. */
function refinePrismatic(starts: Rigid[], refineA: Float32Array, refineB: Float32Array, GA: Grids, GB: Grids, nA: NormalCache, nB: NormalCache, tau: number, score: (T: Rigid) => number): { T: Rigid; s: number } {
  let prisT = rigidIdentity(), scorePrismatic = -1;
  for (const c of starts) {
    const T = icp(c, refineA, refineB, GA, GB, nA, nB, 2 * tau, 'prismatic', 6);
    const s = score(T);
    if (s > scorePrismatic) {
      prisT = T;
      scorePrismatic = s;
    }
  }
  return { T: prisT, s: scorePrismatic };
}

/** The inputs of the prismatic stage (candidates, ranking, refinement; see prismaticStage). */
interface PrismaticInputs {
  voteA: Float32Array;
  voteB: Float32Array;
  cell: number;
  tinyA: Float32Array;
  tinyB: Float32Array;
  coarseA: Float32Array;
  coarseB: Float32Array;
  refineA: Float32Array;
  refineB: Float32Array;
  scoreA: Float32Array;
  scoreB: Float32Array;
  tau: number;
  sigma: number;
  size: number;
  drags: readonly Drag3D[];
}

/**
 * Scores of candidate motions on small subsets, best first (long lists cut to 12 on the tiny ones
 * first). `known` holds scores already computed (by the helper) per candidate, NaN where not.
 */
function rankCandidates(cs: Rigid[], score: (T: Rigid, ps: Float32Array, qs: Float32Array) => number, tinyA: Float32Array, tinyB: Float32Array, coarseA: Float32Array, coarseB: Float32Array, known?: { tiny: Float64Array; coarse: Float64Array }): Array<{ T: Rigid; s: number }> {
  const tinyOf = (k: number): number => {
    const s = known?.tiny[k];
    return s !== undefined && !Number.isNaN(s) ? s : score(cs[k]!, tinyA, tinyB);
  };
  const coarseOf = (k: number): number => {
    const s = known?.coarse[k];
    return s !== undefined && !Number.isNaN(s) ? s : score(cs[k]!, coarseA, coarseB);
  };
  let pool = cs.map((_, k) => k);
  if (cs.length > 12) pool = pool.map((k) => ({ k, s: tinyOf(k) })).sort((a, b) => b.s - a.s).slice(0, 12).map((c) => c.k);
  return pool.map((k) => ({ T: cs[k]!, s: coarseOf(k) })).sort((a, b) => b.s - a.s);
}

/** What a 'peaks' job also needs to score its candidates for rankCandidates. */
interface RankInputs {
  fit: number;
  tinyA: Float32Array;
  tinyB: Float32Array;
  coarseA: Float32Array;
  coarseB: Float32Array;
  sigma: number;
  size: number;
  drags: readonly Drag3D[];
}

/** Pure translation candidates: the vote's peaks, plus the drags' mean displacement. */
function prismaticCandidates(x: PrismaticInputs): Rigid[] {
  const prisCands: Rigid[] = translationPeaks(rigidIdentity().r, x.voteA, x.voteB, x.cell, 1.5 * x.size, 3).map((t) => ({ r: rigidIdentity().r, t }));
  if (x.drags.length > 0) {
    const m: Vec3 = [0, 0, 0];
    for (const d of x.drags) for (let k = 0; k < 3; k++) m[k]! += (d.end[k]! - d.start[k]!) / x.drags.length;
    prisCands.push({ r: rigidIdentity().r, t: m });
  }
  return prisCands;
}

interface PrismaticResult {
  /** How many candidates there were (for the stats). */
  candidates: number;
  T: Rigid;
  s: number;
}

/**
 * The prismatic model's candidates, ranking and ICP refinement of the best two: it depends on
 * nothing the rotations find, so the helper runs all of it at once.
 */
function prismaticStage(x: PrismaticInputs, GA: Grids, GB: Grids, nA: NormalCache, nB: NormalCache): PrismaticResult {
  const score = (T: Rigid, ps = x.scoreA, qs = x.scoreB): number => scoreMotion(T, ps, qs, GA.grid, GB.grid, x.sigma, x.drags, x.size);
  const cands = prismaticCandidates(x);
  const starts = rankCandidates(cands, score, x.tinyA, x.tinyB, x.coarseA, x.coarseB).slice(0, 2).map((c) => c.T);
  return { candidates: cands.length, ...refinePrismatic(starts, x.refineA, x.refineB, GA, GB, nA, nB, x.tau, (T) => score(T)) };
}

/** The final prismatic ICP on the score subsets and its score. */
function finalPrismatic(T0: Rigid, scoreA: Float32Array, scoreB: Float32Array, GA: Grids, GB: Grids, nA: NormalCache, nB: NormalCache, tau: number, score: (T: Rigid) => number): { T: Rigid; s: number } {
  const T = icp(T0, scoreA, scoreB, GA, GB, nA, nB, 1.5 * tau, 'prismatic', 8);
  return { T, s: score(T) };
}

/**
 * A hinge touches its part: penalise axes far from every changed point of either state (the
 * refine subsets). This separates the true motion from the flipped ones that thin, symmetric
 * parts (lids, door slabs) otherwise explain almost as well. And a hinge joins the part to the
 * body: static points must lie near the axis too, within the part's span along it.
 * `hingeDistances` is scratch space for the larger of the point sets.
 */
function hingePenaltyOf(T: Rigid, refineA: Float32Array, refineB: Float32Array, staticPts: Float32Array, tau: number, size: number, hingeDistances: Float64Array): number {
  const sc = screwOf(T);
  const u = sc.axis, o = sc.point;
  let lo = Infinity, hi = -Infinity;
  // Robust "nearest": the k-th smallest distance (k = 2% of the points, at least 3), so a few
  // stray changed points near a wrong axis cannot make it look like a hinge.
  const nearest = (X: Float32Array, span: boolean): number => {
    let m = 0;
    for (let i = 0; i < X.length; i += 3) {
      const w0 = X[i]! - o[0], w1 = X[i + 1]! - o[1], w2 = X[i + 2]! - o[2];
      const d = w0 * u[0] + w1 * u[1] + w2 * u[2];
      if (span && (d < lo || d > hi)) continue;
      if (!span) {
        if (d < lo) lo = d;
        if (d > hi) hi = d;
      }
      hingeDistances[m++] = Math.hypot(w0 - d * u[0], w1 - d * u[1], w2 - d * u[2]);
    }
    if (m === 0) return Infinity;
    const ds = hingeDistances.subarray(0, m).sort();
    return ds[Math.min(m - 1, Math.max(2, Math.floor(0.02 * m)))]!;
  };
  // Points within tau / angle of the axis move less than tau and are not "changed", so the
  // changed points of a true hinge's part start that far from the axis.
  const gap = tau / Math.max(sc.angle, 1e-3);
  const dPart = Math.max(0, Math.min(nearest(refineA, false), nearest(refineB, false)) - gap);
  const dBody = staticPts.length > 0 ? nearest(staticPts, true) : 0;
  return 2 * Math.max(0, dPart / size - 0.03) + 2 * Math.max(0, Math.min(dBody, size) / size - 0.03);
}

/** A rigid candidate's ICP, its score and (unless it barely rotates) its hinge start and guessed revolute score. */
interface RigidFit {
  T: Rigid;
  s: number;
  start?: Rigid;
  guess?: number;
}

/**
 * One rotation candidate's rigid ICP on the refine subsets, its score, and the revolute start its
 * screw gives (near the changed points) with the score the hinge penalty predicts for it. The
 * caller and the helper run this same function, so their answers are the same.
 */
function rigidFitOf(T0: Rigid, refineA: Float32Array, refineB: Float32Array, GA: Grids, GB: Grids, nA: NormalCache, nB: NormalCache, tau: number, nearChanged: Vec3, score: (T: Rigid) => number, hingePenalty: (T: Rigid) => number): RigidFit {
  const T = icp(T0, refineA, refineB, GA, GB, nA, nB, 2 * tau, 'rigid', 5);
  const s = score(T);
  const sc = screwOf(T, nearChanged);
  if (sc.angle < 1e-3) return { T, s };
  const start = rigidRevolute(sc.axis, sc.point, sc.angle);
  return { T, s, start, guess: s - hingePenalty(start) };
}

/** A hinge candidate's revolute ICP on the refine subsets (the caller's and the helper's). */
function refineRevolute(start: Rigid, refineA: Float32Array, refineB: Float32Array, GA: Grids, GB: Grids, nA: NormalCache, nB: NormalCache, tau: number): Rigid {
  return icp(start, refineA, refineB, GA, GB, nA, nB, 1.5 * tau, 'revolute', 5);
}

/** Work the helper thread (pool.ts) can do for a fit. Jobs with `fit` use the helper's state of that fit (see helperState). */
type FitJob =
  | { kind: 'prepare'; points: Float32Array }
  | { kind: 'peaks'; rotations: Float64Array[]; ps: Float32Array; qs: Float32Array; cell: number; maxShift: number; peaks: number; rank?: RankInputs }
  | { kind: 'segment'; fit: number; dragged: boolean; label: Int8Array; from: number; to: number }
  | { kind: 'segmentLabels'; fit: number; dragged: boolean; T: Rigid; tau: number; changed: Uint8Array; label: Int8Array; from: number; to: number }
  | { kind: 'changed'; fit: number; points: Float32Array; other: Float32Array; tau: number; normalsA: NormalStore; normalsB: NormalStore }
  | { kind: 'prismatic'; fit: number; inputs: PrismaticInputs }
  | { kind: 'rigid'; fit: number; starts: Rigid[]; refineA: Float32Array; refineB: Float32Array; staticPts: Float32Array; nearChanged: Vec3; inputs: PrismaticInputs }
  | { kind: 'prismaticFinal'; fit: number; T: Rigid; inputs: PrismaticInputs }
  | { kind: 'revolute'; fit: number; start: Rigid; refineA: Float32Array; refineB: Float32Array; tau: number };

/**
 * The helper's copy of one fit's clouds (sent once, with the 'changed' job), grids (the same
 * points and cells as the caller's: the same answers) and normal caches (the same normals).
 */
interface HelperState {
  fit: number;
  GA: Grids;
  GB: Grids;
  nA: NormalCache;
  nB: NormalCache;
}
let helperState: HelperState | undefined;

function stateOf(fit: number): HelperState {
  const st = helperState;
  if (!st || st.fit !== fit) throw new Error(`fit helper: no state for fit ${fit}`);
  return st;
}

/** Runs one helper job (in fit-worker.ts). */
export function runFitJob(job: FitJob): unknown {
  if (job.kind === 'prepare') return prepare(job.points);
  if (job.kind === 'changed') {
    const grids = (points: Float32Array): Grids => ({ points, index: new Uint32Array(0), spacing: 0, outliers: 0, extent: [0, 0, 0], grid: new PointGrid(points, 2 * job.tau) });
    helperState = undefined;
    const GA = grids(job.other);
    const out = changedOf(job.points, GA.grid, job.tau);
    const GB = grids(job.points);
    helperState = { fit: job.fit, GA, GB, nA: new NormalCache(GA, job.normalsA), nB: new NormalCache(GB, job.normalsB) };
    return out;
  }
  if (job.kind === 'segmentLabels') {
    // Written into the caller's shared label array.
    const st = stateOf(job.fit);
    const G = job.dragged ? st.GB : st.GA, other = job.dragged ? st.GA : st.GB;
    labelPoints(G.points, other.grid, job.T, job.tau, job.changed, job.label, job.from, job.to);
    return true;
  }
  if (job.kind === 'segment') {
    const st = stateOf(job.fit);
    const G = job.dragged ? st.GB : st.GA;
    return segmentNeighbours(G.points, G.grid, job.label, job.from, job.to);
  }
  if (job.kind === 'prismatic') {
    const st = stateOf(job.fit);
    return prismaticStage(job.inputs, st.GA, st.GB, st.nA, st.nB);
  }
  if (job.kind === 'prismaticFinal') {
    const st = stateOf(job.fit);
    const x = job.inputs;
    return finalPrismatic(job.T, x.scoreA, x.scoreB, st.GA, st.GB, st.nA, st.nB, x.tau, (T) => scoreMotion(T, x.scoreA, x.scoreB, st.GA.grid, st.GB.grid, x.sigma, x.drags, x.size));
  }
  if (job.kind === 'revolute') {
    const st = stateOf(job.fit);
    return refineRevolute(job.start, job.refineA, job.refineB, st.GA, st.GB, st.nA, st.nB, job.tau);
  }
  if (job.kind === 'rigid') {
    const st = stateOf(job.fit);
    const x = job.inputs;
    const buf = new Float64Array(Math.max(job.refineA.length, job.refineB.length, job.staticPts.length) / 3);
    const score = (T: Rigid): number => scoreMotion(T, x.scoreA, x.scoreB, st.GA.grid, st.GB.grid, x.sigma, x.drags, x.size);
    const hingePenalty = (T: Rigid): number => hingePenaltyOf(T, job.refineA, job.refineB, job.staticPts, x.tau, x.size, buf);
    return job.starts.map((T0) => rigidFitOf(T0, job.refineA, job.refineB, st.GA, st.GB, st.nA, st.nB, x.tau, job.nearChanged, score, hingePenalty));
  }
  if (job.kind === 'peaks') {
    const peaks = job.rotations.map((R) => translationPeaks(R, job.ps, job.qs, job.cell, job.maxShift, job.peaks));
    const x = job.rank;
    if (!x) return { peaks };
    // Both rank scores of these candidates (in the order fitJoint lists them).
    const st = stateOf(x.fit);
    const tiny: number[] = [], coarse: number[] = [];
    peaks.forEach((ts, k) => {
      for (const t of ts) {
        const T: Rigid = { r: job.rotations[k]!, t };
        tiny.push(scoreMotion(T, x.tinyA, x.tinyB, st.GA.grid, st.GB.grid, x.sigma, x.drags, x.size));
        coarse.push(scoreMotion(T, x.coarseA, x.coarseB, st.GA.grid, st.GB.grid, x.sigma, x.drags, x.size));
      }
    });
    return { peaks, tiny, coarse };
  }
  throw new Error(`unknown fit job ${(job as { kind: string }).kind}`);
}

/** Share of the rotations whose votes this thread counts while the helper runs the prismatic stage first. */
const VOTES_HERE = 0.65;

/**
 * `prepare` of both states' clouds: the dragged one on the helper thread (once startFitHelper() has
 * started one, and while a core is idle) as this thread prepares the initial one; the same code,
 * the same result.
 */
export function prepareBoth(initial: Float32Array, dragged: Float32Array): [Prepared, Prepared] {
  drain();
  const away = submit({ kind: 'prepare', points: dragged } satisfies FitJob);
  const A = prepare(initial);
  const B = (away ? collect<Prepared>() : undefined) ?? prepare(dragged);
  return [A, B];
}

/** Numbers the fits of this thread (the helper keeps one fit's state). */
let fitCount = 0;

export function fitJoint(initial: Float32Array, dragged: Float32Array, options: FitOptions = {}): JointFit {
  checkCloud('initial', initial);
  checkCloud('dragged', dragged);
  const rng = new Rng(options.seed ?? 1);
  const [A, B] = prepareBoth(initial, dragged);
  const fit = ++fitCount;
  if (A.points.length < 150 || B.points.length < 150) fail('too few points left after removing outliers (need 50 per state)');
  // Clouds of the same object in the same frame must agree in size and density.
  const sizeA = norm(A.extent), sizeB = norm(B.extent);
  const sizeRatio = Math.max(sizeA, sizeB) / Math.min(sizeA, sizeB);
  const spacingRatio = Math.max(A.spacing, B.spacing) / Math.min(A.spacing, B.spacing);
  if (sizeRatio > 1.8 || spacingRatio > 3) {
    fail(`the two states look like different scales (extent ${sizeA.toPrecision(3)} vs ${sizeB.toPrecision(3)}, point spacing ${A.spacing.toPrecision(3)} vs ${B.spacing.toPrecision(3)}); expected both clouds of the same object in the same frame and units`);
  }
  const spacing = Math.max(A.spacing, B.spacing);
  const tau = options.changeThreshold ?? 2.5 * spacing;
  const sigma = tau / 2.5;
  const size = Math.max(sizeA, sizeB);

  // Change detection.
  // Every nearest-point question from here on is bounded by a few tau: flat grids answer them
  // (cells of 2 tau measured fastest: a 1-2 tau query touches few cells, k-nearest needs one ring).
  // The dragged state's changed points on the helper thread (when there is one), with its own
  // grid of the initial state (the same points and cells as gA).
  // The normal caches are shared with the helper when it takes this job (and so this fit's later ones).
  const useHelper = helperFree();
  const storeA = normalStore(A.points.length / 3, useHelper), storeB = normalStore(B.points.length / 3, useHelper);
  const changedAway = useHelper && submit({ kind: 'changed', fit, points: B.points, other: A.points, tau, normalsA: storeA, normalsB: storeB } satisfies FitJob);
  const gA = new PointGrid(A.points, 2 * tau), gB = new PointGrid(B.points, 2 * tau);
  const GA: Grids = { ...A, grid: gA }, GB: Grids = { ...B, grid: gB };
  const cA = changedOf(A.points, gB, tau);
  const cB = (changedAway ? collect<Uint32Array>() : undefined) ?? changedOf(B.points, gA, tau);
  const nA = A.points.length / 3, nB = B.points.length / 3;
  const minChanged = Math.max(15, 0.004 * Math.min(nA, nB));
  if (cA.length < minChanged && cB.length < minChanged) {
    fail(`no motion between the states: only ${cA.length} initial and ${cB.length} dragged points moved by more than ${tau.toPrecision(3)} (expected a part that moved)`);
  }
  const normalsA = new NormalCache(GA, storeA), normalsB = new NormalCache(GB, storeB);

  // Subsets for voting and scoring.
  const vA = subsample(cA, 110, rng), vB = subsample(cB, 110, rng);
  const sA = subsample(cA, 450, rng), sB = subsample(cB, 450, rng);
  const voteA = gather(A.points, vA), voteB = gather(B.points, vB);
  const scoreA = gather(A.points, sA), scoreB = gather(B.points, sB);
  const drags = options.drags ?? [];
  const score = (T: Rigid, ps = scoreA, qs = scoreB): number => scoreMotion(T, ps, qs, gA, gB, sigma, drags, size);

  // Candidate rotations: about the object's dominant surface directions and about the cross
  // products of the changed regions' dominant normals (a door's face normal before x after).
  const allA = subsample(iota(nA), 1000, rng);
  // Every later subset is drawn now (in the same order from the same stream): the prismatic
  // stage below needs them before the frame is known.
  const frameSel = subsample(allA, 300, rng);
  const coarseA = gather(A.points, subsample(sA, 120, rng)), coarseB = gather(B.points, subsample(sB, 120, rng));
  // Long candidate lists are first cut to the best 12 on 40 + 40 points (at most the best 4 are
  // refined; on held-out cases the cut never dropped one of them). Its own random stream keeps
  // every other subset as it was.
  const preRng = new Rng((options.seed ?? 1) + 1);
  const tinyA = gather(A.points, subsample(sA, 40, preRng)), tinyB = gather(B.points, subsample(sB, 40, preRng));
  const refineA = gather(A.points, subsample(sA, 180, rng)), refineB = gather(B.points, subsample(sB, 180, rng));
  const cell = Math.max(2 * tau, 0.02 * size);
  // The prismatic stage (candidates, ranking, refinement; its final refinement comes later) on
  // the helper thread when it holds this fit's clouds (it took the changed points), while this
  // one finds the rotations; the same code and inputs, so the same results either way.
  const prisInputs: PrismaticInputs = { voteA, voteB, cell, tinyA, tinyB, coarseA, coarseB, refineA, refineB, scoreA, scoreB, tau, sigma, size, drags };
  const prisAway = changedAway && submit({ kind: 'prismatic', fit, inputs: prisInputs } satisfies FitJob);
  // Face normals for the frame from fixed-radius neighbourhoods a bit wider than 30 neighbours:
  // smoother than k-nearest normals, so the frame (which snapped hinges and slides follow) is
  // more precise (held-out median axis error 0.85 -> 0.4 deg), and no k-nearest selection.
  const nAll = normalsWithin(A.points, allA, gA, 1.6 * kthNeighbourDistance(A.points, allA, gA, 30, 16), 30);
  const frame = objectFrame(dominantDirections(nAll, 3), A.points, frameSel);
  // The ICP normal caches compute the same 20-neighbour normals; ICP reuses these.
  const nrmA = normalsA.gather(vA), nrmB = normalsB.gather(vB);
  const axes: Vec3[] = [...frame];
  const dA = dominantDirections(nrmA, 2), dB = dominantDirections(nrmB, 2);
  for (const a of dA) for (const b of dB) {
    const c = cross(a, b);
    if (norm(c) > Math.sin((8 * Math.PI) / 180)) {
      const u = unit(c);
      if (!axes.some((x) => Math.abs(dot(x, u)) > Math.cos((5 * Math.PI) / 180))) axes.push(u);
    }
  }
  const rotations: Float64Array[] = [];
  for (const a of axes) for (const ang of angleCandidates(a, nrmA, nrmB, 2)) if (Math.abs(ang) > 0.02) rotations.push(rotationAxisAngle(a, ang));
  const rotCands: Rigid[] = [];
  let prisAnswer: PrismaticResult | undefined;
  let rotKnown: { tiny: Float64Array; coarse: Float64Array } | undefined;
  {
    // The later half of the rotations' votes on the helper thread (when there is one), the
    // rest here; the candidates keep their order either way.
    // With the prismatic stage ahead of them, the helper takes fewer.
    const half = prisAway ? Math.round(VOTES_HERE * rotations.length) : rotations.length >> 1;
    const rankIn: RankInputs | undefined = prisAway ? { fit, tinyA, tinyB, coarseA, coarseB, sigma, size, drags } : undefined;
    const away = rotations.length >= 4 && half < rotations.length && submit({ kind: 'peaks', rotations: rotations.slice(half), ps: voteA, qs: voteB, cell, maxShift: 1.5 * size, peaks: 2, rank: rankIn } satisfies FitJob);
    const here = rotations.slice(0, away ? half : rotations.length).map((R) => translationPeaks(R, voteA, voteB, cell, 1.5 * size, 2));
    // (The prismatic stage's answer comes first: the helper answers in order.)
    if (prisAway) prisAnswer = collect<PrismaticResult>();
    const answer = away ? collect<{ peaks: Vec3[][]; tiny?: number[]; coarse?: number[] }>() : undefined;
    const there = away ? (answer?.peaks ?? rotations.slice(half).map((R) => translationPeaks(R, voteA, voteB, cell, 1.5 * size, 2))) : [];
    [...here, ...there].forEach((ts, k) => {
      for (const t of ts) rotCands.push({ r: rotations[k]!, t });
    });
    if (answer?.tiny && answer.coarse) {
      // The helper's candidates come last (before the drags' one): their rank scores are known.
      const from = rotCands.length - answer.tiny.length;
      rotKnown = { tiny: new Float64Array(rotCands.length).fill(NaN), coarse: new Float64Array(rotCands.length).fill(NaN) };
      rotKnown.tiny.set(answer.tiny, from);
      rotKnown.coarse.set(answer.coarse, from);
    }
  }
  if (drags.length >= 3) {
    const s = new Float64Array(drags.length * 3), e = new Float64Array(drags.length * 3);
    drags.forEach((d, i) => {
      s.set(d.start, 3 * i);
      e.set(d.end, 3 * i);
    });
    try {
      rotCands.push(kabsch(s, e));
    } catch {
      // Degenerate drags (collinear): the translation candidate below still helps.
    }
  }

  // Coarse score on small subsets, refine the best few of each model.
  const rr0 = rankCandidates(rotCands, score, tinyA, tinyB, coarseA, coarseB, rotKnown);
  // The third and fourth rotation candidates' rigid ICP on the helper thread (when it holds this
  // fit's clouds) while this one refines the first two.
  const rigidStarts = rr0.slice(0, 4).map((c) => c.T);
  const RIGID_HERE = 2;
  const pris = prisAnswer ?? prismaticStage(prisInputs, GA, GB, normalsA, normalsB);
  const centroid = (sel: Uint32Array, X: Float32Array): Vec3 => {
    const c: Vec3 = [0, 0, 0];
    for (const i of sel) for (let k = 0; k < 3; k++) c[k]! += X[3 * i + k]! / sel.length;
    return c;
  };
  const nearChanged = centroid(cA.length ? cA : Uint32Array.of(0), A.points);
  // A hinge touches its part: penalise axes far from every changed point of either state.
  // This separates the true motion from the flipped ones that thin, symmetric parts (lids,
  // door slabs) otherwise explain almost as well.
  // ...and a hinge joins the part to the body: static points must lie near the axis too, within
  // the part's span along it.
  const unchanged: number[] = [];
  {
    const changed = new Uint8Array(nA);
    for (const i of cA) changed[i] = 1;
    const step = Math.max(1, Math.floor(nA / 1500));
    for (let i = 0; i < nA; i += step) if (!changed[i]) unchanged.push(i);
  }
  const staticPts = gather(A.points, Uint32Array.from(unchanged));
  const rigidAway = changedAway && rigidStarts.length > RIGID_HERE && submit({ kind: 'rigid', fit, starts: rigidStarts.slice(RIGID_HERE), refineA, refineB, staticPts, nearChanged, inputs: prisInputs } satisfies FitJob);
  const hingeDistances = new Float64Array(Math.max(refineA.length, refineB.length, staticPts.length) / 3);
  const hingePenalty = (T: Rigid): number => hingePenaltyOf(T, refineA, refineB, staticPts, tau, size, hingeDistances);
  const revScore = (T: Rigid): number => score(T) - hingePenalty(T);
  let rigidBest: Rigid | undefined, rigidScore = -1;
  // Rigid refinement of the best candidates, then the revolute refinement of those whose hinge
  // could still win: the hinge penalty of a rigid fit's screw predicts its revolute score
  // within ~0.2 (on held-out cases), so candidates that trail the best revolute score by more
  // than REVOLUTE_SLACK cannot win and skip their revolute ICP.
  const REVOLUTE_SLACK = 0.35;
  const rigidFits: Array<{ T: Rigid; start: Rigid; guess: number }> = [];
  let rigidAnswer: RigidFit[] | undefined;
  for (let k = 0; k < rigidStarts.length; k++) {
    if (k === RIGID_HERE && rigidAway) rigidAnswer = collect<RigidFit[]>();
    const r = (k >= RIGID_HERE ? rigidAnswer?.[k - RIGID_HERE] : undefined) ?? rigidFitOf(rigidStarts[k]!, refineA, refineB, GA, GB, normalsA, normalsB, tau, nearChanged, score, hingePenalty);
    if (r.s > rigidScore) {
      rigidBest = r.T;
      rigidScore = r.s;
    }
    if (r.start) rigidFits.push({ T: r.T, start: r.start, guess: r.guess! });
  }
  let prisT = pris.T, scorePrismatic = pris.s;
  const rigidT = rigidBest ?? prisT;
  let revT = prisT, scoreRevolute = -1, revAdjusted = -Infinity;
  rigidFits.sort((a, b) => b.guess - a.guess);
  // The helper refines the second hinge candidate in case it is needed (while this thread refines
  // the first), then the prismatic stage's final refinement (needed unless the rotation wins
  // clearly) while this thread refines the hinge.
  const revAway = changedAway && rigidFits.length >= 2 && submit({ kind: 'revolute', fit, start: rigidFits[1]!.start, refineA, refineB, tau } satisfies FitJob);
  const prisFinalAway = changedAway && submit({ kind: 'prismaticFinal', fit, T: pris.T, inputs: prisInputs } satisfies FitJob);
  let revTaken = !revAway;
  for (let u = 0; u < rigidFits.length; u++) {
    const f = rigidFits[u]!;
    if (f.guess < revAdjusted - REVOLUTE_SLACK) break;
    let R: Rigid | undefined;
    if (u === 1 && !revTaken) {
      R = collect<Rigid>();
      revTaken = true;
    }
    R ??= refineRevolute(f.start, refineA, refineB, GA, GB, normalsA, normalsB, tau);
    const adj = revScore(R);
    if (adj > revAdjusted) {
      revAdjusted = adj;
      revT = R;
    }
  }
  const rigidAngle = screwOf(rigidT).angle;
  if (revAdjusted > -Infinity) {
    revT = icp(revT, scoreA, scoreB, GA, GB, normalsA, normalsB, 1.5 * tau, 'revolute', 4);
    scoreRevolute = revScore(revT);
    // Hinges of man-made objects run along the object's main directions: snap when close and
    // the snapped hinge explains the data as well.
    const ax = screwOf(revT).axis;
    for (const f of frame) {
      if (Math.abs(dot(f, ax)) > Math.cos((15 * Math.PI) / 180)) {
        const snapped = icp(snapRevolute(revT, f, nearChanged), scoreA, scoreB, GA, GB, normalsA, normalsB, 1.5 * tau, 'revolute', 3);
        const snappedFixed = snapRevolute(snapped, f, nearChanged);
        const s = revScore(snappedFixed);
        if (s >= scoreRevolute - 0.01) {
          revT = snappedFixed;
          scoreRevolute = Math.max(s, scoreRevolute);
        }
        break;
      }
    }
  }
  const revAngle = scoreRevolute >= 0 ? screwOf(revT).angle : 0;
  // The hinge prior picks among rotations; whether the part rotates at all is decided on how
  // well each model explains the data.
  if (scoreRevolute >= 0) scoreRevolute = score(revT);
  // The final prismatic refinement raises its score by < 0.08 on held-out cases: when the
  // rotation already wins by far more, it cannot change the type and is skipped.
  const clearlyRevolute = revAngle > (3 * Math.PI) / 180 && scoreRevolute > scorePrismatic + 0.25;
  if (!clearlyRevolute) {
    if (!revTaken) collect(); // (answers come in order)
    revTaken = true;
    const fin = (prisFinalAway ? collect<{ T: Rigid; s: number }>() : undefined) ?? finalPrismatic(prisT, scoreA, scoreB, GA, GB, normalsA, normalsB, tau, (T) => score(T));
    prisT = fin.T;
    scorePrismatic = fin.s;
    // Drawers slide along a main direction too.
    const t = prisT.t;
    const len = norm(t);
    for (const f of frame) {
      if (len > 0 && Math.abs(dot(f, t)) / len > Math.cos((15 * Math.PI) / 180)) {
        const along = dot(f, t);
        const snapped: Rigid = { r: prisT.r, t: [f[0] * along, f[1] * along, f[2] * along] };
        const s = score(snapped);
        if (s >= scorePrismatic - 0.01) {
          prisT = snapped;
          scorePrismatic = Math.max(s, scorePrismatic);
        }
        break;
      }
    }
  }
  // Prismatic unless the rotation is real: a visible angle and clearly more points explained.
  const type: JointType = revAngle > (3 * Math.PI) / 180 && scoreRevolute > scorePrismatic + 0.03 ? 'revolute' : 'prismatic';
  const T = type === 'revolute' ? revT : prisT;
  // (An answer not needed: the helper must be done with it before it takes the next job.)
  if (!revTaken) collect();
  if (prisFinalAway && clearlyRevolute) collect();

  // Moving points (initial cloud indices).
  const moving = segmentMoving(GA, gB, T, tau, cA, changedAway ? { fit, dragged: false } : undefined);
  const movingIdx: number[] = [];
  for (let i = 0; i < moving.length; i++) if (moving[i]) movingIdx.push(A.index[i]!);
  const movingIdxB: number[] = [];
  if (options.segmentDragged) {
    const movingB = segmentMoving(GB, gA, rigidInverse(T), tau, cB, changedAway ? { fit, dragged: true } : undefined);
    for (let i = 0; i < movingB.length; i++) if (movingB[i]) movingIdxB.push(B.index[i]!);
  }
  const movingSel = iota(moving.length).filter((i) => moving[i] === 1);
  const partCentre = movingSel.length > 0 ? centroid(movingSel, A.points) : nearChanged;

  let axis: Vec3, origin: Vec3, motion: number;
  if (type === 'prismatic') {
    const t = T.t;
    motion = norm(t);
    if (!(motion > 0)) fail('no motion between the states: the fitted translation is zero');
    axis = [t[0] / motion, t[1] / motion, t[2] / motion];
    origin = partCentre;
  } else {
    const s = screwOf(T, partCentre);
    axis = s.axis;
    origin = s.point;
    motion = s.angle;
  }
  const finalScore = type === 'revolute' ? scoreRevolute : scorePrismatic;
  const explained = Math.max(0, Math.min(1, finalScore));
  const margin = Math.min(1, Math.abs(scoreRevolute - scorePrismatic) / 0.1);
  const confidence = Math.max(0, Math.min(1, explained * (0.7 + 0.3 * margin)));
  return {
    type,
    axis,
    origin,
    motion,
    limits: [Math.min(0, motion), Math.max(0, motion)],
    confidence,
    transform: T,
    movingIndices: Uint32Array.from(movingIdx),
    movingIndicesDragged: Uint32Array.from(movingIdxB),
    keptInitial: A.index,
    keptDragged: B.index,
    stats: {
      spacing,
      threshold: tau,
      changedInitial: cA.length,
      changedDragged: cB.length,
      outliersInitial: A.outliers,
      outliersDragged: B.outliers,
      candidates: pris.candidates + rotCands.length,
      explained,
      rigidAngle,
      scorePrismatic,
      scoreRevolute,
    },
  };
}

const SEGMENT_K = 10;
interface SegmentNeighbours {
  /** Moving points (label 1) whose 9 nearest are nearly all static: to flip to static. */
  flip: Int32Array;
  /** Undecided points (label -1), ascending, and their SEGMENT_K nearest (-1 past the last found). */
  undecided: Int32Array;
  nbr: Int32Array;
}

/** segmentMoving's neighbourhood searches for the points from..to-1. */
function segmentNeighbours(p: Float32Array, grid: PointGrid, label: Int8Array, from: number, to: number): SegmentNeighbours {
  const K = SEGMENT_K;
  const idx = new Int32Array(K);
  const d2 = new Float64Array(K);
  const flip: number[] = [];
  for (let i = from; i < to; i++) {
    if (label[i] !== 1) continue;
    const found = grid.knn(p[3 * i]!, p[3 * i + 1]!, p[3 * i + 2]!, K, idx, d2);
    let mv = 0;
    for (let k = 1; k < found; k++) if (label[idx[k]!] !== 0) mv++;
    if (mv < 3) flip.push(i);
  }
  const undecided: number[] = [];
  for (let i = from; i < to; i++) if (label[i] === -1) undecided.push(i);
  const nbr = new Int32Array(undecided.length * K).fill(-1);
  for (let u = 0; u < undecided.length; u++) {
    const i = undecided[u]!;
    const found = grid.knn(p[3 * i]!, p[3 * i + 1]!, p[3 * i + 2]!, K, idx, d2);
    for (let k = 0; k < found; k++) nbr[u * K + k] = idx[k]!;
  }
  return { flip: Int32Array.from(flip), undecided: Int32Array.from(undecided), nbr };
}

/** This thread's share of segmentMoving's neighbourhood searches when the helper takes the rest. */
const SEGMENT_HERE = 0.48;

/** segmentMoving's labels of the points from..to-1: 1 moving, 0 static, -1 undecided. */
function labelPoints(p: Float32Array, treeB: PointGrid, T: Rigid, tau: number, changed: Uint8Array, label: Int8Array, from: number, to: number): void {
  const r = T.r, t = T.t;
  for (let i = from; i < to; i++) {
    const x = p[3 * i]!, y = p[3 * i + 1]!, z = p[3 * i + 2]!;
    // Only "within tau or not" matters, so the searches stop at tau.
    const hit = treeB.anyWithin(r[0]! * x + r[1]! * y + r[2]! * z + t[0], r[3]! * x + r[4]! * y + r[5]! * z + t[1], r[6]! * x + r[7]! * y + r[8]! * z + t[2], tau);
    if (changed[i]) label[i] = hit ? 1 : 0; // explained by T only, or by neither (occlusion, outlier)
    else label[i] = hit ? -1 : 0;
  }
}

/**
 * 1 = moving for every kept initial point: explained by T and not by staying put; points that
 * both explain (near a hinge, a drawer bottom sliding along itself) take their neighbours' vote.
 */
function segmentMoving(A: Grids, treeB: PointGrid, T: Rigid, tau: number, changedA: Uint32Array, shared?: { fit: number; dragged: boolean }): Uint8Array {
  const p = A.points;
  const n = p.length / 3;
  // Change detection already asked whether each point has a twin within tau in the other state.
  // Both in shared memory when the helper takes part: it labels the later half of the points
  // (with its own grids of the same points and cells) as this thread labels the rest.
  const share = shared !== undefined && n >= 800 && helperFree();
  const changed = new Uint8Array(share ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
  for (const i of changedA) changed[i] = 1;
  const label = new Int8Array(share ? new SharedArrayBuffer(n) : new ArrayBuffer(n)); // 1 moving, 0 static, -1 undecided
  const half = n >> 1;
  const labelsAway = share && submit({ kind: 'segmentLabels', fit: shared.fit, dragged: shared.dragged, T, tau, changed, label, from: half, to: n } satisfies FitJob);
  labelPoints(p, treeB, T, tau, changed, label, 0, labelsAway ? half : n);
  if (labelsAway && collect<boolean>() !== true) labelPoints(p, treeB, T, tau, changed, label, half, n);
  const K = SEGMENT_K;
  // The neighbourhood searches below, split by work (moving and undecided points) between this
  // thread and the helper (when there is one, with its own grid of the same points and cells):
  // each answer depends only on the labels set above, so the split changes nothing.
  let work = 0;
  for (let i = 0; i < n; i++) if (label[i] !== 0) work++;
  let split = n;
  let away = false;
  if (shared && work >= 400 && helperFree()) {
    // The helper takes the points past 48% of the work.
    let seen = 0;
    split = 0;
    while (split < n && seen < SEGMENT_HERE * work) if (label[split++] !== 0) seen++;
    away = submit({ kind: 'segment', fit: shared.fit, dragged: shared.dragged, label, from: split, to: n } satisfies FitJob);
    if (!away) split = n;
  }
  const here = segmentNeighbours(p, A.grid, label, 0, split);
  const there = away ? (collect<SegmentNeighbours>() ?? segmentNeighbours(p, A.grid, label, split, n)) : undefined;
  // A part is a connected patch: a "moving" point whose neighbours are nearly all static is a
  // static point that happened to miss its re-sampled twin and landed on a surface under T.
  for (const i of here.flip) label[i] = 0;
  if (there) for (const i of there.flip) label[i] = 0;
  // Undecided points' neighbourhoods, found once for all passes.
  const undecided = there ? [...here.undecided, ...there.undecided] : Array.from(here.undecided);
  let nbr = here.nbr;
  if (there) {
    nbr = new Int32Array(here.nbr.length + there.nbr.length);
    nbr.set(here.nbr);
    nbr.set(there.nbr, here.nbr.length);
  }
  for (let pass = 0; pass < 4; pass++) {
    let changedCount = 0;
    for (let u = 0; u < undecided.length; u++) {
      const i = undecided[u]!;
      if (label[i] !== -1) continue;
      let mv = 0, st = 0;
      for (let k = 0; k < K; k++) {
        const j = nbr[u * K + k]!;
        if (j < 0) break;
        const l = label[j];
        if (l === 1) mv++;
        else if (l === 0) st++;
      }
      if (mv + st >= 2) {
        label[i] = mv > st ? 1 : 0;
        changedCount++;
      }
    }
    if (changedCount === 0) break;
  }
  // Still undecided (a drawer's sides sliding along the carcass, far from any decided point):
  // static, the prior for most of an object.
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (label[i] === 1) out[i] = 1;
  return out;
}
