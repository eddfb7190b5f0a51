/**
 * A static 3D k-d tree over packed Float32Array points for nearest-neighbour, k-nearest and
 * radius queries. Built once per cloud (median splits on the widest axis, buckets of up to
 * LEAF points), queried many thousand times per joint fit, so the layout is flat typed arrays
 * and the queries allocate nothing.
 */

const LEAF = 12;

/**
 * Inserts (d2, i) into the ascending list of the k best (d2s[0..k), idx[0..k)), dropping the
 * last; the caller has checked d2 < d2s[k - 1]. Shared by KdTree.knn and PointGrid.knn.
 */
export function insertKBest(d2s: Float64Array, idx: Int32Array, k: number, d2: number, i: number): void {
  let j = k - 1;
  while (j > 0 && d2s[j - 1]! > d2) {
    d2s[j] = d2s[j - 1]!;
    idx[j] = idx[j - 1]!;
    j--;
  }
  d2s[j] = d2;
  idx[j] = i;
}

export class KdTree {
  /** Point indices, permuted so every node covers a contiguous range. */
  readonly order: Uint32Array;
  /** Per node: start, end (exclusive) into `order`; split axis (3 = leaf); split value; children. */
  private readonly start: Uint32Array;
  private readonly end: Uint32Array;
  private readonly axis: Uint8Array;
  private readonly split: Float32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private nodes = 0;
  /** Points reordered to match `order` (better cache behaviour in leaves). */
  private readonly xyz: Float32Array;

  constructor(readonly points: Float32Array, from?: { tree: KdTree; keep: Uint8Array }) {
    if (from) {
      // The same node structure over a subset of the parent's points: every split stays valid
      // for any subset, so only the leaves' ranges shrink (O(n), no re-sorting).
      const pt = from.tree;
      const keep = from.keep;
      const newIndex = new Int32Array(pt.order.length);
      let m = 0;
      for (let i = 0; i < pt.order.length; i++) newIndex[i] = keep[i] ? m++ : -1;
      if (points.length !== 3 * m) throw new Error(`KdTree: subset has ${m} kept points but ${points.length / 3} positions`);
      const nn = pt.nodes;
      this.nodes = nn;
      this.start = new Uint32Array(nn);
      this.end = new Uint32Array(nn);
      this.axis = pt.axis.slice(0, nn);
      this.split = pt.split.slice(0, nn);
      this.left = pt.left.slice(0, nn);
      this.right = pt.right.slice(0, nn);
      this.order = new Uint32Array(m);
      this.xyz = new Float32Array(3 * m);
      // Nodes are numbered in pre-order and cover contiguous ranges: a running count of kept
      // points before each node's start gives its new range.
      const before = new Uint32Array(pt.order.length + 1);
      for (let i = 0; i < pt.order.length; i++) before[i + 1] = before[i]! + keep[pt.order[i]!]!;
      for (let node = 0; node < nn; node++) {
        this.start[node] = before[pt.start[node]!]!;
        this.end[node] = before[pt.end[node]!]!;
      }
      for (let i = 0; i < pt.order.length; i++) {
        const o = pt.order[i]!;
        if (!keep[o]) continue;
        const k = before[i]!;
        this.order[k] = newIndex[o]!;
        this.xyz[3 * k] = pt.xyz[3 * i]!;
        this.xyz[3 * k + 1] = pt.xyz[3 * i + 1]!;
        this.xyz[3 * k + 2] = pt.xyz[3 * i + 2]!;
      }
      return;
    }
    const n = points.length / 3;
    if (!Number.isInteger(n)) throw new Error(`KdTree: positions length ${points.length} is not a multiple of 3`);
    this.order = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    const maxNodes = Math.max(1, 2 * Math.ceil(n / (LEAF / 2)) + 1);
    this.start = new Uint32Array(maxNodes);
    this.end = new Uint32Array(maxNodes);
    this.axis = new Uint8Array(maxNodes);
    this.split = new Float32Array(maxNodes);
    this.left = new Int32Array(maxNodes);
    this.right = new Int32Array(maxNodes);
    if (n > 0) this.build(0, n);
    this.xyz = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) {
      const o = this.order[i]! * 3;
      this.xyz[3 * i] = points[o]!;
      this.xyz[3 * i + 1] = points[o + 1]!;
      this.xyz[3 * i + 2] = points[o + 2]!;
    }
  }

  get size(): number {
    return this.order.length;
  }

  private build(lo: number, hi: number): number {
    const node = this.nodes++;
    this.start[node] = lo;
    this.end[node] = hi;
    if (hi - lo <= LEAF) {
      this.axis[node] = 3;
      return node;
    }
    const p = this.points;
    const o = this.order;
    let min0 = Infinity, min1 = Infinity, min2 = Infinity, max0 = -Infinity, max1 = -Infinity, max2 = -Infinity;
    for (let i = lo; i < hi; i++) {
      const k = o[i]! * 3;
      const x = p[k]!, y = p[k + 1]!, z = p[k + 2]!;
      if (x < min0) min0 = x;
      if (x > max0) max0 = x;
      if (y < min1) min1 = y;
      if (y > max1) max1 = y;
      if (z < min2) min2 = z;
      if (z > max2) max2 = z;
    }
    const ex = max0 - min0, ey = max1 - min1, ez = max2 - min2;
    const ax = ex >= ey && ex >= ez ? 0 : ey >= ez ? 1 : 2;
    const mid = (lo + hi) >> 1;
    this.select(lo, hi - 1, mid, ax);
    this.axis[node] = ax;
    this.split[node] = p[o[mid]! * 3 + ax]!;
    this.left[node] = this.build(lo, mid);
    this.right[node] = this.build(mid, hi);
    return node;
  }

  /** Quickselect on `order[lo..hi]` so that position k holds the k-th smallest along `ax`. */
  private select(lo: number, hi: number, k: number, ax: number): void {
    const p = this.points;
    const o = this.order;
    while (hi > lo) {
      const pivot = p[o[(lo + hi) >> 1]! * 3 + ax]!;
      let i = lo, j = hi;
      while (i <= j) {
        while (p[o[i]! * 3 + ax]! < pivot) i++;
        while (p[o[j]! * 3 + ax]! > pivot) j--;
        if (i <= j) {
          const t = o[i]!;
          o[i] = o[j]!;
          o[j] = t;
          i++;
          j--;
        }
      }
      if (k <= j) hi = j;
      else if (k >= i) lo = i;
      else return;
    }
  }

  private bestIndex = -1;
  private bestD2 = Infinity;

  /** Index of the nearest point to (x, y, z) and its squared distance (or -1, Infinity if empty). */
  nearest(x: number, y: number, z: number, maxDist = Infinity): { index: number; d2: number } {
    this.bestIndex = -1;
    this.bestD2 = maxDist === Infinity ? Infinity : maxDist * maxDist;
    if (this.order.length > 0) this.searchNearest(0, x, y, z);
    return { index: this.bestIndex >= 0 ? this.order[this.bestIndex]! : -1, d2: this.bestIndex >= 0 ? this.bestD2 : Infinity };
  }

  /** Squared distance to the nearest point only (no allocation); Infinity when none within maxDist. */
  nearestD2(x: number, y: number, z: number, maxDist = Infinity): number {
    this.bestIndex = -1;
    this.bestD2 = maxDist === Infinity ? Infinity : maxDist * maxDist;
    if (this.order.length > 0) this.searchNearest(0, x, y, z);
    return this.bestIndex >= 0 ? this.bestD2 : Infinity;
  }

  /** Original index of the nearest point found by the last nearestD2 call (-1 when none). */
  get lastIndex(): number {
    return this.bestIndex >= 0 ? this.order[this.bestIndex]! : -1;
  }

  private searchNearest(node: number, x: number, y: number, z: number): void {
    const ax = this.axis[node]!;
    if (ax === 3) {
      const q = this.xyz;
      for (let i = this.start[node]!, e = this.end[node]!; i < e; i++) {
        const dx = q[3 * i]! - x, dy = q[3 * i + 1]! - y, dz = q[3 * i + 2]! - z;
        const d2 = dx * dx + dy * dy + dz * dz;
        if (d2 < this.bestD2) {
          this.bestD2 = d2;
          this.bestIndex = i;
        }
      }
      return;
    }
    const diff = (ax === 0 ? x : ax === 1 ? y : z) - this.split[node]!;
    const first = diff < 0 ? this.left[node]! : this.right[node]!;
    const second = diff < 0 ? this.right[node]! : this.left[node]!;
    this.searchNearest(first, x, y, z);
    if (diff * diff < this.bestD2) this.searchNearest(second, x, y, z);
  }

  /**
   * The k nearest neighbours of (x, y, z): writes original indices into `outIdx` and squared
   * distances into `outD2` (ascending); returns how many were found (< k only for small trees,
   * or when fewer than k lie within `maxDist`: then the rest of `outD2` holds maxDist^2).
   */
  knn(x: number, y: number, z: number, k: number, outIdx: Int32Array, outD2: Float64Array, maxDist = Infinity): number {
    const bound = maxDist === Infinity ? Infinity : maxDist * maxDist;
    for (let i = 0; i < k; i++) {
      outIdx[i] = -1;
      outD2[i] = bound;
    }
    if (this.order.length > 0) this.searchKnn(0, x, y, z, k, outIdx, outD2);
    let found = 0;
    for (let i = 0; i < k; i++) {
      if (outIdx[i]! >= 0) {
        outIdx[i] = this.order[outIdx[i]!]!;
        found++;
      }
    }
    return found;
  }

  private searchKnn(node: number, x: number, y: number, z: number, k: number, idx: Int32Array, d2s: Float64Array): void {
    const ax = this.axis[node]!;
    if (ax === 3) {
      const q = this.xyz;
      for (let i = this.start[node]!, e = this.end[node]!; i < e; i++) {
        const dx = q[3 * i]! - x, dy = q[3 * i + 1]! - y, dz = q[3 * i + 2]! - z;
        const d2 = dx * dx + dy * dy + dz * dz;
        if (d2 < d2s[k - 1]!) insertKBest(d2s, idx, k, d2, i);
      }
      return;
    }
    const diff = (ax === 0 ? x : ax === 1 ? y : z) - this.split[node]!;
    const first = diff < 0 ? this.left[node]! : this.right[node]!;
    const second = diff < 0 ? this.right[node]! : this.left[node]!;
    this.searchKnn(first, x, y, z, k, idx, d2s);
    if (diff * diff < d2s[k - 1]!) this.searchKnn(second, x, y, z, k, idx, d2s);
  }

  private countR2 = 0;
  private countN = 0;
  private countLimit = 0;

  /**
   * How many points lie within `radius` of (x, y, z), counting stops at `limit` (the return value
   * is then `limit`): a cheap "at least `limit` neighbours this close" test.
   */
  countWithin(x: number, y: number, z: number, radius: number, limit: number): number {
    this.countR2 = radius * radius;
    this.countN = 0;
    this.countLimit = limit;
    if (this.order.length > 0 && limit > 0) this.searchCount(0, x, y, z);
    return Math.min(this.countN, limit);
  }

  private searchCount(node: number, x: number, y: number, z: number): void {
    const ax = this.axis[node]!;
    if (ax === 3) {
      const q = this.xyz;
      const r2 = this.countR2;
      for (let i = this.start[node]!, e = this.end[node]!; i < e; i++) {
        const dx = q[3 * i]! - x, dy = q[3 * i + 1]! - y, dz = q[3 * i + 2]! - z;
        if (dx * dx + dy * dy + dz * dz <= r2 && ++this.countN >= this.countLimit) return;
      }
      return;
    }
    const diff = (ax === 0 ? x : ax === 1 ? y : z) - this.split[node]!;
    const first = diff < 0 ? this.left[node]! : this.right[node]!;
    const second = diff < 0 ? this.right[node]! : this.left[node]!;
    this.searchCount(first, x, y, z);
    if (this.countN < this.countLimit && diff * diff <= this.countR2) this.searchCount(second, x, y, z);
  }

  /** Calls `visit(index)` for every point within `radius` of (x, y, z). */
  radius(x: number, y: number, z: number, radius: number, visit: (index: number, d2: number) => void): void {
    if (this.order.length > 0) this.searchRadius(0, x, y, z, radius * radius, visit);
  }

  private searchRadius(node: number, x: number, y: number, z: number, r2: number, visit: (index: number, d2: number) => void): void {
    const ax = this.axis[node]!;
    if (ax === 3) {
      const q = this.xyz;
      for (let i = this.start[node]!, e = this.end[node]!; i < e; i++) {
        const dx = q[3 * i]! - x, dy = q[3 * i + 1]! - y, dz = q[3 * i + 2]! - z;
        const d2 = dx * dx + dy * dy + dz * dz;
        if (d2 <= r2) visit(this.order[i]!, d2);
      }
      return;
    }
    const diff = (ax === 0 ? x : ax === 1 ? y : z) - this.split[node]!;
    const first = diff < 0 ? this.left[node]! : this.right[node]!;
    const second = diff < 0 ? this.right[node]! : this.left[node]!;
    this.searchRadius(first, x, y, z, r2, visit);
    if (diff * diff <= r2) this.searchRadius(second, x, y, z, r2, visit);
  }
}
