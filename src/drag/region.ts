/**
 * The default, weight-free segmenter: edge-aware colour region growing from the click.
 *
 * 1. The image is smoothed (separable Gaussian, σ = `smooth` pixels) to calm texture.
 * 2. Foreground = alpha >= 128 when the image has transparency, else all but the white background
 *    connected to the border (`foregroundOf`).
 * 3. From pixels around the click (a window of radius 4% of the object's size, nearest first),
 *    4-connected growth accepts a neighbour when its colour is
 *    within `local` of the pixel it is reached from (no strong edge between them) and within
 *    `global` of the running region mean (no slow drift across a shading gradient into another
 *    face). Colours are 0..255 RGB, Euclidean.
 * 4. Holes are filled (a handle or knob on a door belongs to the door).
 *    Regions larger than `maxFraction` of the foreground (the whole object) are discarded; of
 *    the rest, the one covering most of the window wins (a click on a handle, knob or edge pixel
 *    still selects the panel around it).
 * 5. Regions smaller than `minFraction` of the foreground do not compete; when none is left, the
 *    thresholds are relaxed step by step (`relax`), then the window doubles (twice); failing all,
 *    the most-voted small region is returned. A click with no foreground within the first window
 *    selects nothing (empty mask).
 *
 * Measured against the dataset's part masks by `npm run bench:pipeline` (mean IoU with the part under
 * the click on view-0 images).
 */
import type { RgbaImage } from '../core/image.js';
import type { Vec2 } from '../core/math.js';
import { type Mask, type Segmenter, checkPrompt, pixelUnder, segmentDownscaled } from './segmenter.js';

export interface RegionGrowOptions {
  /** Images with a longer side are segmented at a box-downsampled copy (default 512). */
  maxSide: number;
  smooth: number;
  local: number;
  global: number;
  minFraction: number;
  maxFraction: number;
  relax: number[];
}

export const DEFAULT_REGION_GROW: RegionGrowOptions = {
  maxSide: 512,
  smooth: 0,
  local: 6,
  global: 40,
  minFraction: 0.03,
  maxFraction: 0.7,
  relax: [1, 1.5, 2, 3],
};

function gaussianKernel(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) {
    k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
    s += k[i + r]!;
  }
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / s;
  return k;
}

/** Smoothed rgb (3 per pixel, 0..255) with clamped borders; sigma <= 0 copies. */
export function smoothRgb(image: RgbaImage, sigma: number): Float32Array {
  const { width: W, height: H, data } = image;
  const n = W * H;
  const src = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) {
    src[3 * p] = data[4 * p]!;
    src[3 * p + 1] = data[4 * p + 1]!;
    src[3 * p + 2] = data[4 * p + 2]!;
  }
  if (!(sigma > 0)) return src;
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float32Array(3 * n);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let a = 0, b = 0, c = 0;
      for (let i = -r; i <= r; i++) {
        const xx = Math.min(W - 1, Math.max(0, x + i));
        const w = k[i + r]!;
        const q = 3 * (y * W + xx);
        a += w * src[q]!; b += w * src[q + 1]!; c += w * src[q + 2]!;
      }
      const o = 3 * (y * W + x);
      tmp[o] = a; tmp[o + 1] = b; tmp[o + 2] = c;
    }
  }
  const out = new Float32Array(3 * n);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let a = 0, b = 0, c = 0;
      for (let i = -r; i <= r; i++) {
        const yy = Math.min(H - 1, Math.max(0, y + i));
        const w = k[i + r]!;
        const q = 3 * (yy * W + x);
        a += w * tmp[q]!; b += w * tmp[q + 1]!; c += w * tmp[q + 2]!;
      }
      const o = 3 * (y * W + x);
      out[o] = a; out[o + 1] = b; out[o + 2] = c;
    }
  }
  return out;
}

/**
 * Foreground: alpha >= 128 when the image has transparency; otherwise every pixel except the
 * near-white (within 12 of 255 on every channel) region connected to the image border, i.e. a
 * white studio background like the dataset's and the model's.
 */
export function foregroundOf(image: RgbaImage): Uint8Array {
  const { width: W, height: H, data } = image;
  const n = W * H;
  const fg = new Uint8Array(n);
  let transparent = false;
  for (let p = 0; p < n; p++) if (data[4 * p + 3]! < 255) transparent = true;
  if (transparent) {
    for (let p = 0; p < n; p++) fg[p] = data[4 * p + 3]! >= 128 ? 1 : 0;
    return fg;
  }
  const white = (p: number): boolean => data[4 * p]! >= 243 && data[4 * p + 1]! >= 243 && data[4 * p + 2]! >= 243;
  const background = reachedFromBorder(W, H, white);
  for (let p = 0; p < n; p++) fg[p] = background[p] ? 0 : 1;
  return fg;
}

/** 4-connected flood fill from every border pixel through pixels where `passable` holds: 1 = reached. */
function reachedFromBorder(W: number, H: number, passable: (p: number) => boolean): Uint8Array {
  const reached = new Uint8Array(W * H);
  const stack: number[] = [];
  const push = (p: number): void => {
    if (!reached[p] && passable(p)) {
      reached[p] = 1;
      stack.push(p);
    }
  };
  for (let x = 0; x < W; x++) { push(x); push((H - 1) * W + x); }
  for (let y = 0; y < H; y++) { push(y * W); push(y * W + W - 1); }
  while (stack.length) {
    const p = stack.pop()!;
    const x = p % W, y = (p - x) / W;
    if (x > 0) push(p - 1);
    if (x < W - 1) push(p + 1);
    if (y > 0) push(p - W);
    if (y < H - 1) push(p + W);
  }
  return reached;
}

/** Fills holes: mask pixels are set wherever the complement is not connected to the border. */
export function fillHoles(mask: Mask): Mask {
  const { width: W, height: H } = mask;
  const outside = reachedFromBorder(W, H, (p) => !mask.data[p]);
  const data = new Uint8Array(W * H);
  for (let p = 0; p < W * H; p++) data[p] = outside[p] ? 0 : 1;
  return { width: W, height: H, data };
}

function grow(rgb: Float32Array, fg: Uint8Array, W: number, H: number, seed: number, local: number, global: number): { data: Uint8Array; area: number } {
  const data = new Uint8Array(W * H);
  const l2 = local * local, g2 = global * global;
  let sr = 0, sg = 0, sb = 0, count = 0;
  const queue = new Int32Array(W * H);
  let head = 0, tail = 0;
  data[seed] = 1;
  queue[tail++] = seed;
  sr += rgb[3 * seed]!; sg += rgb[3 * seed + 1]!; sb += rgb[3 * seed + 2]!; count++;
  while (head < tail) {
    const p = queue[head++]!;
    const x = p % W, y = (p - x) / W;
    const pr = rgb[3 * p]!, pg = rgb[3 * p + 1]!, pb = rgb[3 * p + 2]!;
    for (let k = 0; k < 4; k++) {
      let q: number;
      if (k === 0) { if (x === 0) continue; q = p - 1; }
      else if (k === 1) { if (x === W - 1) continue; q = p + 1; }
      else if (k === 2) { if (y === 0) continue; q = p - W; }
      else { if (y === H - 1) continue; q = p + W; }
      if (data[q] || !fg[q]) continue;
      const qr = rgb[3 * q]!, qg = rgb[3 * q + 1]!, qb = rgb[3 * q + 2]!;
      const dl = (qr - pr) ** 2 + (qg - pg) ** 2 + (qb - pb) ** 2;
      if (dl > l2) continue;
      const dg = (qr - sr / count) ** 2 + (qg - sg / count) ** 2 + (qb - sb / count) ** 2;
      if (dg > g2) continue;
      data[q] = 1;
      queue[tail++] = q;
      sr += qr; sg += qg; sb += qb; count++;
    }
  }
  return { data, area: tail };
}

export class RegionGrowSegmenter implements Segmenter {
  readonly name = 'region-grow (edge-aware colour region growing, no weights)';
  readonly options: RegionGrowOptions;

  constructor(options: Partial<RegionGrowOptions> = {}) {
    this.options = { ...DEFAULT_REGION_GROW, ...options };
  }

  segmentSync(image: RgbaImage, point: Vec2): Mask {
    checkPrompt(image, point, 'RegionGrowSegmenter');
    return segmentDownscaled(image, point, this.options.maxSide, (img, p) => this.segmentAtScale(img, p));
  }

  private segmentAtScale(image: RgbaImage, point: Vec2): Mask {
    const { width: W, height: H } = image;
    const o = this.options;
    const rgb = smoothRgb(image, o.smooth);
    const fg = foregroundOf(image);
    let fgArea = 0;
    for (let p = 0; p < W * H; p++) fgArea += fg[p]!;
    const [px, py] = pixelUnder(point, W, H);
    // The part under the click = the region that covers most of a small window around it, so a
    // click on a handle, a knob or an edge pixel still selects the panel around it.
    const R0 = Math.max(2, Math.round(0.04 * Math.sqrt(fgArea)));
    const empty: Mask = { width: W, height: H, data: new Uint8Array(W * H) };
    let fallback: Uint8Array | undefined;
    for (const R of [R0, 2 * R0, 4 * R0]) {
      const windowPixels = this.window(fg, W, H, px, py, R);
      if (windowPixels.length === 0) {
        if (R === R0) return empty; // a click on the background selects nothing
        continue;
      }
      for (const f of o.relax) {
        const claimed = new Uint8Array(W * H);
        let best: Uint8Array | undefined;
        let bestVotes = 0;
        let anyVotes = 0;
        for (const seed of windowPixels) {
          if (claimed[seed]) continue;
          const r = grow(rgb, fg, W, H, seed, o.local * f, o.global * f);
          for (let p = 0; p < W * H; p++) claimed[p] = claimed[p]! | r.data[p]!;
          if (r.area > o.maxFraction * fgArea) continue;
          const filled = fillHoles({ width: W, height: H, data: r.data }).data;
          let area = 0;
          for (let p = 0; p < W * H; p++) {
            filled[p] = filled[p]! & fg[p]!;
            area += filled[p]!;
          }
          let votes = 0;
          for (const q of windowPixels) votes += filled[q]!;
          if (votes > anyVotes && R === R0 && !fallback) {
            anyVotes = votes;
            fallback = filled;
          }
          if (area < o.minFraction * fgArea) continue;
          if (votes > bestVotes) {
            bestVotes = votes;
            best = filled;
          }
        }
        if (best) return { width: W, height: H, data: best };
      }
    }
    return fallback ? { width: W, height: H, data: fallback } : empty;
  }

  /** Foreground pixels within radius R of (px, py), nearest first. */
  private window(fg: Uint8Array, W: number, H: number, px: number, py: number, R: number): number[] {
    const out: Array<[number, number]> = [];
    for (let dy = -R; dy <= R; dy++) {
      for (let dx = -R; dx <= R; dx++) {
        const x = px + dx, y = py + dy;
        const d = dx * dx + dy * dy;
        if (x < 0 || y < 0 || x >= W || y >= H || d > R * R || !fg[y * W + x]) continue;
        out.push([d, y * W + x]);
      }
    }
    out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return out.map((e) => e[1]);
  }

  async segment(image: RgbaImage, point: Vec2): Promise<Mask> {
    return this.segmentSync(image, point);
  }
}
