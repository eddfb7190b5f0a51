/**
 * Weight-free graph-based segmenter (the default): Felzenszwalb-Huttenlocher segmentation of the
 * whole image, then the segment under the click.
 *
 * 1. Foreground as in `foregroundOf` (alpha, or all but a white border-connected background).
 * 2. 8-connected pixel graph over the foreground, edge weight = rgb distance (0..255 units) of
 *    the optionally smoothed image (`sigma`, default 0: the renders are clean and small).
 * 3. Edges in increasing weight (counting sort on 1/16-unit bins) merge two components when the
 *    weight is at most both components' internal difference + k / size (Felzenszwalb &
 *    Huttenlocher 2004); components smaller than `minSize` pixels are then merged into a
 *    neighbour.
 * 4. The segment covering most of a window around the click (radius 4% of the object's size)
 *    wins, holes filled; when it is smaller than `minFraction` of the foreground (a handle) or
 *    thinner than `minThickness` of the foreground's side (one stripe of a brushed-metal or wood
 *    texture: F-H lets a long uniform row grow first, and its k / size threshold then refuses
 *    the next row), k is doubled and the image segmented again (up to three times).
 *
 * Against the dataset's part masks (`npm run bench:pipeline`) it matches the region grower's mean IoU
 * but puts far less of its mask on the wrong part (precision 0.97 vs 0.89 at 256 px), which is
 * what drag sampling needs.
 */
import type { RgbaImage } from '../core/image.js';
import type { Vec2 } from '../core/math.js';
import { fillHoles, foregroundOf, smoothRgb } from './region.js';
import { type Mask, type Segmenter, checkPrompt, pixelUnder, segmentDownscaled } from './segmenter.js';

export interface GraphSegmenterOptions {
  /** Images with a longer side are segmented at a box-downsampled copy (default 512). */
  maxSide: number;
  sigma: number;
  k: number;
  minSize: number;
  minFraction: number;
  /** Retries with doubled k when the clicked segment is too small. */
  retries: number;
  /** Also retried: segments thinner than this share of the foreground's side (sqrt of its area). */
  minThickness: number;
}

export const DEFAULT_GRAPH_SEGMENTER: GraphSegmenterOptions = { maxSide: 512, sigma: 0, k: 300, minSize: 20, minFraction: 0.03, retries: 3, minThickness: 0.12 };

const BINS_PER_UNIT = 16;

/** Felzenszwalb-Huttenlocher labels (component root per pixel, -1 outside `fg`). */
export function felzenszwalb(image: RgbaImage, fg: Uint8Array, sigma: number, k: number, minSize: number): Int32Array {
  const { width: W, height: H } = image;
  const n = W * H;
  const rgb = smoothRgb(image, sigma);
  // Edges (a, b) with quantised weights, 4 per pixel at most (right, down, down-right, down-left).
  const ea = new Int32Array(4 * n);
  const eb = new Int32Array(4 * n);
  const ew = new Int32Array(4 * n);
  let m = 0;
  let maxBin = 0;
  const add = (a: number, b: number): void => {
    if (!fg[a] || !fg[b]) return;
    const dr = rgb[3 * a]! - rgb[3 * b]!, dg = rgb[3 * a + 1]! - rgb[3 * b + 1]!, db = rgb[3 * a + 2]! - rgb[3 * b + 2]!;
    const w = Math.round(Math.sqrt(dr * dr + dg * dg + db * db) * BINS_PER_UNIT);
    ea[m] = a;
    eb[m] = b;
    ew[m] = w;
    if (w > maxBin) maxBin = w;
    m++;
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      if (x + 1 < W) add(p, p + 1);
      if (y + 1 < H) add(p, p + W);
      if (x + 1 < W && y + 1 < H) add(p, p + W + 1);
      if (x > 0 && y + 1 < H) add(p, p + W - 1);
    }
  }
  // Counting sort by weight (stable: ties keep raster order, so the result is deterministic).
  const counts = new Int32Array(maxBin + 2);
  for (let i = 0; i < m; i++) counts[ew[i]! + 1]!++;
  for (let b = 1; b < counts.length; b++) counts[b] = counts[b]! + counts[b - 1]!;
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[counts[ew[i]!]!++] = i;

  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const size = new Int32Array(n).fill(1);
  const thr = new Float64Array(n).fill(k);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (let j = 0; j < m; j++) {
    const i = order[j]!;
    let a = find(ea[i]!), b = find(eb[i]!);
    if (a === b) continue;
    const w = ew[i]! / BINS_PER_UNIT;
    if (w <= thr[a]! && w <= thr[b]!) {
      if (size[a]! < size[b]!) [a, b] = [b, a];
      parent[b] = a;
      size[a] = size[a]! + size[b]!;
      thr[a] = w + k / size[a]!;
    }
  }
  for (let j = 0; j < m; j++) {
    const i = order[j]!;
    const a = find(ea[i]!), b = find(eb[i]!);
    if (a !== b && (size[a]! < minSize || size[b]! < minSize)) {
      const [r, c] = size[a]! >= size[b]! ? [a, b] : [b, a];
      parent[c] = r;
      size[r] = size[r]! + size[c]!;
    }
  }
  const labels = new Int32Array(n);
  for (let p = 0; p < n; p++) labels[p] = fg[p] ? find(p) : -1;
  return labels;
}

/**
 * Twice the largest city-block distance from a mask pixel to the nearest pixel outside the mask
 * (two-pass distance transform): a one-pixel line is 2 thick, a 10 x 10 square 10.
 */
export function maskThickness(mask: Uint8Array, W: number, H: number): number {
  const d = new Int32Array(W * H);
  const far = W + H;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      if (!mask[p]) continue;
      d[p] = Math.min(far, x > 0 ? d[p - 1]! + 1 : 1, y > 0 ? d[p - W]! + 1 : 1);
    }
  }
  let best = 0;
  for (let y = H - 1; y >= 0; y--) {
    for (let x = W - 1; x >= 0; x--) {
      const p = y * W + x;
      if (!mask[p]) continue;
      d[p] = Math.min(d[p]!, x < W - 1 ? d[p + 1]! + 1 : 1, y < H - 1 ? d[p + W]! + 1 : 1);
      if (d[p]! > best) best = d[p]!;
    }
  }
  return 2 * best;
}

export class GraphSegmenter implements Segmenter {
  readonly name = 'graph (Felzenszwalb-Huttenlocher segments, window vote at the click, no weights)';
  readonly options: GraphSegmenterOptions;
  private cache: { image: RgbaImage; k: number; labels: Int32Array; fg: Uint8Array } | undefined;

  constructor(options: Partial<GraphSegmenterOptions> = {}) {
    this.options = { ...DEFAULT_GRAPH_SEGMENTER, ...options };
  }

  private labels(image: RgbaImage, k: number): { labels: Int32Array; fg: Uint8Array } {
    if (this.cache && this.cache.image === image && this.cache.k === k) return this.cache;
    const fg = this.cache && this.cache.image === image ? this.cache.fg : foregroundOf(image);
    const labels = felzenszwalb(image, fg, this.options.sigma, k, this.options.minSize);
    this.cache = { image, k, labels, fg };
    return this.cache;
  }

  segmentSync(image: RgbaImage, point: Vec2): Mask {
    checkPrompt(image, point, 'GraphSegmenter');
    return segmentDownscaled(image, point, this.options.maxSide, (img, p) => this.segmentAtScale(img, p));
  }

  private segmentAtScale(image: RgbaImage, point: Vec2): Mask {
    const { width: W, height: H } = image;
    const o = this.options;
    const [px, py] = pixelUnder(point, W, H);
    let k = o.k;
    let result: Uint8Array | undefined;
    for (let attempt = 0; attempt <= o.retries; attempt++, k *= 2) {
      const { labels, fg } = this.labels(image, k);
      let fgArea = 0;
      for (let p = 0; p < W * H; p++) fgArea += fg[p]!;
      const R = Math.max(2, Math.round(0.04 * Math.sqrt(fgArea)));
      const votes = new Map<number, number>();
      for (let dy = -R; dy <= R; dy++) {
        for (let dx = -R; dx <= R; dx++) {
          const x = px + dx, y = py + dy;
          if (x < 0 || y < 0 || x >= W || y >= H || dx * dx + dy * dy > R * R) continue;
          const l = labels[y * W + x]!;
          if (l >= 0) votes.set(l, (votes.get(l) ?? 0) + 1);
        }
      }
      let best = -1, bestVotes = 0;
      for (const [l, v] of votes) if (v > bestVotes || (v === bestVotes && l < best)) [best, bestVotes] = [l, v];
      if (best < 0) return { width: W, height: H, data: new Uint8Array(W * H) };
      const data = new Uint8Array(W * H);
      for (let p = 0; p < W * H; p++) data[p] = labels[p] === best ? 1 : 0;
      const filled = fillHoles({ width: W, height: H, data }).data;
      let area = 0;
      for (let p = 0; p < W * H; p++) {
        filled[p] = filled[p]! & fg[p]!;
        area += filled[p]!;
      }
      result = filled;
      if (area >= o.minFraction * fgArea && maskThickness(filled, W, H) >= o.minThickness * Math.sqrt(fgArea)) break;
    }
    return { width: W, height: H, data: result! };
  }

  async segment(image: RgbaImage, point: Vec2): Promise<Mask> {
    return this.segmentSync(image, point);
  }

  async dispose(): Promise<void> {
    this.cache = undefined;
  }
}
