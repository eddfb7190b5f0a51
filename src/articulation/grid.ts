/**
 * A flat uniform grid over packed Float32Array points for nearest-neighbour queries within a
 * bounded radius (the joint fit only ever asks "the nearest point within a few spacings"). Points
 * are counting-sorted by cell into typed arrays (O(n) build, no pointers); a query visits its
 * own cell first and then only the cells whose box is nearer than the best match so far, slab by
 * slab, so a hit costs a handful of distance evaluations. Results equal KdTree.nearestD2's (the
 * same float32 coordinates, the same arithmetic); only the index among exact ties may differ.
 */
import { insertKBest } from './kdtree.js';

export class PointGrid {
  private readonly lo0: number;
  private readonly lo1: number;
  private readonly lo2: number;
  private readonly h: number;
  private readonly inv: number;
  private readonly nx: number;
  private readonly ny: number;
  private readonly nz: number;
  /** Per cell: first slot in `xyz`/`ids`; cellStart[c + 1] is one past its last. */
  private readonly cellStart: Int32Array;
  private readonly xyz: Float32Array;
  private readonly ids: Int32Array;
  private readonly ox: Int32Array;
  private readonly oy: Int32Array;
  private readonly oz: Int32Array;
  private bestIndex = -1;
  private readonly bx = new Int32Array(3);
  private readonly by = new Int32Array(3);
  private readonly bz = new Int32Array(3);

  constructor(readonly points: Float32Array, cellSize: number, maxCells = 1 << 21) {
    const n = points.length / 3;
    if (!Number.isInteger(n)) throw new Error(`PointGrid: positions length ${points.length} is not a multiple of 3`);
    let lo0 = Infinity, lo1 = Infinity, lo2 = Infinity, hi0 = -Infinity, hi1 = -Infinity, hi2 = -Infinity;
    for (let i = 0; i < points.length; i += 3) {
      const x = points[i]!, y = points[i + 1]!, z = points[i + 2]!;
      if (x < lo0) lo0 = x;
      if (x > hi0) hi0 = x;
      if (y < lo1) lo1 = y;
      if (y > hi1) hi1 = y;
      if (z < lo2) lo2 = z;
      if (z > hi2) hi2 = z;
    }
    if (n === 0) lo0 = lo1 = lo2 = hi0 = hi1 = hi2 = 0;
    let h = cellSize > 0 && Number.isFinite(cellSize) ? cellSize : 1;
    // Coarser cells when the box would need too many (the queries stay exact, just slower).
    for (;;) {
      const cells = (Math.floor((hi0 - lo0) / h) + 1) * (Math.floor((hi1 - lo1) / h) + 1) * (Math.floor((hi2 - lo2) / h) + 1);
      if (cells <= maxCells) break;
      h *= Math.cbrt(cells / maxCells) * 1.01;
    }
    this.lo0 = lo0;
    this.lo1 = lo1;
    this.lo2 = lo2;
    this.h = h;
    this.inv = 1 / h;
    this.nx = Math.floor((hi0 - lo0) / h) + 1;
    this.ny = Math.floor((hi1 - lo1) / h) + 1;
    this.nz = Math.floor((hi2 - lo2) / h) + 1;
    const cellStart = new Int32Array(this.nx * this.ny * this.nz + 1);
    const cellOf = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = this.cellIndex(points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!);
      cellOf[i] = c;
      cellStart[c + 1]!++;
    }
    for (let c = 0; c + 1 < cellStart.length; c++) cellStart[c + 1]! += cellStart[c]!;
    const fill = cellStart.slice(0, cellStart.length - 1);
    this.xyz = new Float32Array(3 * n);
    this.ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = fill[cellOf[i]!]!++;
      this.ids[k] = i;
      this.xyz[3 * k] = points[3 * i]!;
      this.xyz[3 * k + 1] = points[3 * i + 1]!;
      this.xyz[3 * k + 2] = points[3 * i + 2]!;
    }
    this.cellStart = cellStart;
    this.ox = new Int32Array(this.nx);
    this.oy = new Int32Array(this.ny);
    this.oz = new Int32Array(this.nz);
  }

  get size(): number {
    return this.ids.length;
  }

  private cellIndex(x: number, y: number, z: number): number {
    const ix = Math.min(this.nx - 1, Math.max(0, Math.floor((x - this.lo0) * this.inv)));
    const iy = Math.min(this.ny - 1, Math.max(0, Math.floor((y - this.lo1) * this.inv)));
    const iz = Math.min(this.nz - 1, Math.max(0, Math.floor((z - this.lo2) * this.inv)));
    return (ix * this.ny + iy) * this.nz + iz;
  }

  /**
   * Cells along one axis within [v - r, v + r], nearest first, into `out`; returns the count.
   * The first is the query's own cell (clamped into the grid).
   */
  private static order(v: number, r: number, lo: number, inv: number, nCells: number, out: Int32Array): number {
    const c = Math.min(nCells - 1, Math.max(0, Math.floor((v - lo) * inv)));
    const a = Math.max(0, Math.floor((v - r - lo) * inv));
    const b = Math.min(nCells - 1, Math.floor((v + r - lo) * inv));
    let k = 0;
    if (c >= a && c <= b) out[k++] = c;
    for (let d = 1; c - d >= a || c + d <= b; d++) {
      if (c - d >= a && c - d <= b) out[k++] = c - d;
      if (c + d <= b && c + d >= a) out[k++] = c + d;
    }
    return k;
  }

  /**
   * Squared distance of v to cell i's interval along an axis, a hair short (by 1e-6 cell) so that
   * rounding in the cell assignment can never prune a cell holding the true nearest point.
   */
  private static gap2(v: number, i: number, lo: number, h: number): number {
    const a = lo + i * h;
    const e = 1e-6 * h;
    if (v < a - e) return (a - e - v) * (a - e - v);
    const b = a + h + e;
    return v > b ? (v - b) * (v - b) : 0;
  }

  /**
   * Squared distance to the nearest point strictly within `maxDist` of (x, y, z), or Infinity
   * when there is none; `lastIndex` then names it.
   */
  nearestD2(x: number, y: number, z: number, maxDist: number): number {
    let best = maxDist * maxDist;
    let bestI = -1;
    if (this.ids.length > 0) {
      const q = this.xyz, cs = this.cellStart;
      // The query's own cell first: its best match bounds the search of the others.
      const own = this.cellIndex(x, y, z);
      for (let i = cs[own]!, e = cs[own + 1]!; i < e; i++) {
        const dx = q[3 * i]! - x, dy = q[3 * i + 1]! - y, dz = q[3 * i + 2]! - z;
        const d2 = dx * dx + dy * dy + dz * dz;
        if (d2 < best) {
          best = d2;
          bestI = i;
        }
      }
      const r = bestI >= 0 ? Math.sqrt(best) * (1 + 1e-9) : Number.isFinite(maxDist) ? maxDist : (this.nx + this.ny + this.nz) * this.h + Math.abs(x - this.lo0) + Math.abs(y - this.lo1) + Math.abs(z - this.lo2);
      const h = this.h;
      const kx = PointGrid.order(x, r, this.lo0, this.inv, this.nx, this.ox);
      const ky = PointGrid.order(y, r, this.lo1, this.inv, this.ny, this.oy);
      const kz = PointGrid.order(z, r, this.lo2, this.inv, this.nz, this.oz);
      for (let a = 0; a < kx; a++) {
        const ix = this.ox[a]!;
        const gx = PointGrid.gap2(x, ix, this.lo0, h);
        if (gx >= best) continue;
        for (let b = 0; b < ky; b++) {
          const iy = this.oy[b]!;
          const gxy = gx + PointGrid.gap2(y, iy, this.lo1, h);
          if (gxy >= best) continue;
          const row = (ix * this.ny + iy) * this.nz;
          for (let c = 0; c < kz; c++) {
            const iz = this.oz[c]!;
            if (gxy + PointGrid.gap2(z, iz, this.lo2, h) >= best) continue;
            const cell = row + iz;
            if (cell === own) continue;
            for (let i = cs[cell]!, e = cs[cell + 1]!; i < e; i++) {
              const dx = q[3 * i]! - x, dy = q[3 * i + 1]! - y, dz = q[3 * i + 2]! - z;
              const d2 = dx * dx + dy * dy + dz * dz;
              if (d2 < best) {
                best = d2;
                bestI = i;
              }
            }
          }
        }
      }
    }
    this.bestIndex = bestI;
    return bestI >= 0 ? best : Infinity;
  }

  /**
   * Whether some point lies strictly within `maxDist` of (x, y, z) (the same answer as
   * nearestD2(...) < Infinity, without looking for the nearest: it stops at the first hit).
   */
  anyWithin(x: number, y: number, z: number, maxDist: number): boolean {
    if (this.ids.length === 0) return false;
    const r2 = maxDist * maxDist;
    const q = this.xyz, cs = this.cellStart;
    const own = this.cellIndex(x, y, z);
    for (let i = cs[own]!, e = cs[own + 1]!; i < e; i++) {
      const dx = q[3 * i]! - x, dy = q[3 * i + 1]! - y, dz = q[3 * i + 2]! - z;
      if (dx * dx + dy * dy + dz * dz < r2) return true;
    }
    const h = this.h;
    const kx = PointGrid.order(x, maxDist, this.lo0, this.inv, this.nx, this.ox);
    const ky = PointGrid.order(y, maxDist, this.lo1, this.inv, this.ny, this.oy);
    const kz = PointGrid.order(z, maxDist, this.lo2, this.inv, this.nz, this.oz);
    for (let a = 0; a < kx; a++) {
      const ix = this.ox[a]!;
      const gx = PointGrid.gap2(x, ix, this.lo0, h);
      if (gx >= r2) continue;
      for (let b = 0; b < ky; b++) {
        const iy = this.oy[b]!;
        const gxy = gx + PointGrid.gap2(y, iy, this.lo1, h);
        if (gxy >= r2) continue;
        const row = (ix * this.ny + iy) * this.nz;
        for (let c = 0; c < kz; c++) {
          const iz = this.oz[c]!;
          if (gxy + PointGrid.gap2(z, iz, this.lo2, h) >= r2) continue;
          const cell = row + iz;
          if (cell === own) continue;
          for (let i = cs[cell]!, e = cs[cell + 1]!; i < e; i++) {
            const dx = q[3 * i]! - x, dy = q[3 * i + 1]! - y, dz = q[3 * i + 2]! - z;
            if (dx * dx + dy * dy + dz * dz < r2) return true;
          }
        }
      }
    }
    return false;
  }

  /**
   * Moments of the points strictly within `maxDist` of (x, y, z), relative to (x, y, z), into
   * `out`: [count, sx, sy, sz, sxx, sxy, sxz, syy, syz, szz] (a fixed-radius neighbourhood for
   * a PCA normal, without a k-nearest selection).
   */
  momentsWithin(x: number, y: number, z: number, maxDist: number, out: Float64Array): void {
    out.fill(0);
    if (this.ids.length === 0) return;
    const r2 = maxDist * maxDist;
    const q = this.xyz, cs = this.cellStart;
    const h = this.h;
    const kx = PointGrid.order(x, maxDist, this.lo0, this.inv, this.nx, this.ox);
    const ky = PointGrid.order(y, maxDist, this.lo1, this.inv, this.ny, this.oy);
    const kz = PointGrid.order(z, maxDist, this.lo2, this.inv, this.nz, this.oz);
    let n = 0, sx = 0, sy = 0, sz = 0, xx = 0, xy = 0, xz = 0, yy = 0, yz = 0, zz = 0;
    for (let a = 0; a < kx; a++) {
      const ix = this.ox[a]!;
      const gx = PointGrid.gap2(x, ix, this.lo0, h);
      if (gx >= r2) continue;
      for (let b = 0; b < ky; b++) {
        const iy = this.oy[b]!;
        const gxy = gx + PointGrid.gap2(y, iy, this.lo1, h);
        if (gxy >= r2) continue;
        const row = (ix * this.ny + iy) * this.nz;
        for (let c = 0; c < kz; c++) {
          const iz = this.oz[c]!;
          if (gxy + PointGrid.gap2(z, iz, this.lo2, h) >= r2) continue;
          const cell = row + iz;
          for (let i = cs[cell]!, e = cs[cell + 1]!; i < e; i++) {
            const dx = q[3 * i]! - x, dy = q[3 * i + 1]! - y, dz = q[3 * i + 2]! - z;
            if (dx * dx + dy * dy + dz * dz >= r2) continue;
            n++;
            sx += dx; sy += dy; sz += dz;
            xx += dx * dx; xy += dx * dy; xz += dx * dz; yy += dy * dy; yz += dy * dz; zz += dz * dz;
          }
        }
      }
    }
    out[0] = n; out[1] = sx; out[2] = sy; out[3] = sz;
    out[4] = xx; out[5] = xy; out[6] = xz; out[7] = yy; out[8] = yz; out[9] = zz;
  }

  /**
   * The k nearest points of (x, y, z): original indices into `outIdx`, squared distances into
   * `outD2` (ascending); returns how many were found. Rings of cells around the query's own cell
   * are scanned until no unscanned cell can hold a nearer point than the k-th found, so the
   * result is exact (the same as KdTree.knn's up to the order of exact ties).
   */
  knn(x: number, y: number, z: number, k: number, outIdx: Int32Array, outD2: Float64Array): number {
    return this.knnUnlessNear(x, y, z, k, -1, outIdx, outD2);
  }

  /**
   * knn(...), except that it stops and returns -1 as soon as the k - 1 nearest points after the
   * first (the query itself, for a cloud's own point) are known to lie within `sumBound` summed
   * distance: whenever the cells scanned so far hold k points whose distances past the first
   * sum to at most sumBound, the true k nearest do too. A point on a dense surface stops after
   * its own cell or two. Likewise it returns -2 once they are known to sum to more than
   * `farBound` (all points within some radius seen, too few of them near): a floater in empty
   * space stops without searching ever wider rings. A negative sumBound and an infinite farBound
   * make it the exact knn (which is how knn runs).
   */
  knnUnlessNear(x: number, y: number, z: number, k: number, sumBound: number, outIdx: Int32Array, outD2: Float64Array, farBound = Infinity): number {
    for (let i = 0; i < k; i++) {
      outIdx[i] = -1;
      outD2[i] = Infinity;
    }
    const n = this.ids.length;
    if (n === 0 || k <= 0) return 0;
    const h = this.h, nx = this.nx, ny = this.ny, nz = this.nz;
    const cx = Math.min(nx - 1, Math.max(0, Math.floor((x - this.lo0) * this.inv)));
    const cy = Math.min(ny - 1, Math.max(0, Math.floor((y - this.lo1) * this.inv)));
    const cz = Math.min(nz - 1, Math.max(0, Math.floor((z - this.lo2) * this.inv)));
    // Distance from the query to its own cell's faces that have cells beyond them (a hair short).
    const e = 1e-6 * h;
    let m = Infinity;
    if (cx > 0) m = Math.min(m, x - (this.lo0 + cx * h));
    if (cx < nx - 1) m = Math.min(m, this.lo0 + (cx + 1) * h - x);
    if (cy > 0) m = Math.min(m, y - (this.lo1 + cy * h));
    if (cy < ny - 1) m = Math.min(m, this.lo1 + (cy + 1) * h - y);
    if (cz > 0) m = Math.min(m, z - (this.lo2 + cz * h));
    if (cz < nz - 1) m = Math.min(m, this.lo2 + (cz + 1) * h - z);
    m = Math.max(0, m - e);
    const maxRing = Math.max(cx, nx - 1 - cx, cy, ny - 1 - cy, cz, nz - 1 - cz);
    const q = this.xyz, cs = this.cellStart;
    let worst = Infinity;
    let checked = -1;
    // Rings 0 and 1 first, cells nearest-first along each axis (own, the nearer neighbour, the
    // farther one): the k-th distance shrinks early, and a row or slab whose gap already
    // exceeds it ends its loop (the gaps along each list only grow).
    {
      const ax = this.near3(x, cx, this.lo0, nx, this.bx), ay = this.near3(y, cy, this.lo1, ny, this.by), az = this.near3(z, cz, this.lo2, nz, this.bz);
      for (let a = 0; a < ax; a++) {
        const ix = this.bx[a]!;
        const gx = PointGrid.gap2(x, ix, this.lo0, h);
        if (gx >= worst) break;
        for (let b = 0; b < ay; b++) {
          const iy = this.by[b]!;
          const gxy = gx + PointGrid.gap2(y, iy, this.lo1, h);
          if (gxy >= worst) break;
          const row = (ix * ny + iy) * nz;
          for (let c = 0; c < az; c++) {
            const iz = this.bz[c]!;
            if (gxy + PointGrid.gap2(z, iz, this.lo2, h) >= worst) break;
            const cell = row + iz;
            for (let i = cs[cell]!, end = cs[cell + 1]!; i < end; i++) {
              const dx = q[3 * i]! - x, dy = q[3 * i + 1]! - y, dz = q[3 * i + 2]! - z;
              const d2 = dx * dx + dy * dy + dz * dz;
              if (d2 < worst) {
                insertKBest(outD2, outIdx, k, d2, i);
                worst = outD2[k - 1]!;
              }
            }
            // The k nearest found so far bound the true ones from above, one by one.
            if (sumBound >= 0 && worst < Infinity && worst !== checked) {
              checked = worst;
              let sum = 0;
              for (let j = 1; j < k; j++) sum += Math.sqrt(outD2[j]!);
              if (sum <= sumBound) return -1;
            }
          }
        }
      }
      const g = h + m;
      if (worst <= g * g) return this.finishKnn(k, outIdx);
      if (farBound < Infinity && this.beyond(k, outD2, g) > farBound) return -2;
    }
    for (let ring = 2; ring <= maxRing; ring++) {
      const x0 = Math.max(0, cx - ring), x1 = Math.min(nx - 1, cx + ring);
      const y0 = Math.max(0, cy - ring), y1 = Math.min(ny - 1, cy + ring);
      const z0 = Math.max(0, cz - ring), z1 = Math.min(nz - 1, cz + ring);
      for (let ix = x0; ix <= x1; ix++) {
        const onX = ix === cx - ring || ix === cx + ring;
        const gx = PointGrid.gap2(x, ix, this.lo0, h);
        if (gx >= worst) continue;
        for (let iy = y0; iy <= y1; iy++) {
          const onXY = onX || iy === cy - ring || iy === cy + ring;
          const gxy = gx + PointGrid.gap2(y, iy, this.lo1, h);
          if (gxy >= worst) continue;
          const row = (ix * ny + iy) * nz;
          // Only the ring's shell: interior cells were scanned by earlier rings.
          const step = onXY ? 1 : Math.max(1, 2 * ring);
          for (let iz = z0; iz <= z1; iz += iz === cz - ring && !onXY ? step : 1) {
            if (!onXY && iz !== cz - ring && iz !== cz + ring) continue;
            if (gxy + PointGrid.gap2(z, iz, this.lo2, h) >= worst) continue;
            const cell = row + iz;
            for (let i = cs[cell]!, end = cs[cell + 1]!; i < end; i++) {
              const dx = q[3 * i]! - x, dy = q[3 * i + 1]! - y, dz = q[3 * i + 2]! - z;
              const d2 = dx * dx + dy * dy + dz * dz;
              if (d2 < worst) {
                insertKBest(outD2, outIdx, k, d2, i);
                worst = outD2[k - 1]!;
              }
            }
          }
        }
      }
      const g = ring * h + m;
      if (worst <= g * g) break;
      if (farBound < Infinity && this.beyond(k, outD2, g) > farBound) return -2;
    }
    return this.finishKnn(k, outIdx);
  }

  /**
   * A lower bound on the summed distances of the true k nearest past the first, when every point
   * within `g` has been seen: rank j's true distance is at least min(found j-th, g).
   */
  private beyond(k: number, outD2: Float64Array, g: number): number {
    let lb = 0;
    for (let j = 1; j < k; j++) lb += Math.min(Math.sqrt(outD2[j]!), g);
    return lb;
  }

  /**
   * The query's own cell along one axis, then its neighbour on the side the query is nearer to,
   * then the other (those inside the grid), into `out`; returns the count.
   */
  private near3(v: number, c: number, lo: number, nCells: number, out: Int32Array): number {
    let k = 0;
    out[k++] = c;
    const upper = v - (lo + c * this.h) > 0.5 * this.h;
    const first = upper ? c + 1 : c - 1, second = upper ? c - 1 : c + 1;
    if (first >= 0 && first < nCells) out[k++] = first;
    if (second >= 0 && second < nCells) out[k++] = second;
    return k;
  }

  /** Maps knn's slots to original indices; returns how many were found. */
  private finishKnn(k: number, outIdx: Int32Array): number {
    let found = 0;
    for (let i = 0; i < k; i++) {
      if (outIdx[i]! >= 0) {
        outIdx[i] = this.ids[outIdx[i]!]!;
        found++;
      }
    }
    return found;
  }

  /** Original indices of the points grouped by cell (queries in this order touch memory in order). */
  get cellOrder(): Int32Array {
    return this.ids;
  }

  /** Original index of the point found by the last nearestD2 call (-1 when none). */
  get lastIndex(): number {
    return this.bestIndex >= 0 ? this.ids[this.bestIndex]! : -1;
  }
}
