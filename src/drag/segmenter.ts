/**
 * Part segmentation from a point prompt: the first step of drag propagation. The official PartRM
 * uses SAM (vit_h) with one positive point at the operator's drag start and keeps the smallest of
 * its multimask outputs; here the segmenter is an interface with a weight-free default
 * (`GraphSegmenter`; `RegionGrowSegmenter` as an alternative) and a SAM-style ONNX
 * encoder/decoder pair (`SamOnnxSegmenter`).
 */
import type { RgbaImage } from '../core/image.js';
import type { Vec2 } from '../core/math.js';

/** A binary mask: data[y * width + x] is 1 inside, 0 outside. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
  /**
   * Optional, same layout: the region the part extends over, a superset of `data` (a segmenter
   * whose `data` may cover only a plank or stripe of a textured part adds it). Geometry that
   * needs the part's edges (the pipeline's joint step) reads it; drag sampling reads `data`.
   */
  extent?: Uint8Array;
}

export interface Segmenter {
  /** Human-readable method name (reported by the pipeline and the bench). */
  readonly name: string;
  /** The mask of the part under `point` (image pixels, x = column, y = row). */
  segment(image: RgbaImage, point: Vec2, signal?: AbortSignal): Promise<Mask>;
  dispose?(): Promise<void>;
}

export function maskArea(mask: Mask): number {
  let n = 0;
  for (let i = 0; i < mask.data.length; i++) n += mask.data[i]! ? 1 : 0;
  return n;
}

/** Intersection over union of two masks of the same size (1 when both are empty). */
export function maskIou(a: Mask, b: Mask): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`maskIou: masks differ in size (${a.width}x${a.height} vs ${b.width}x${b.height})`);
  }
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i] ? 1 : 0;
    const y = b.data[i] ? 1 : 0;
    inter += x & y;
    union += x | y;
  }
  return union === 0 ? 1 : inter / union;
}

/** Integer pixel under a continuous point, clamped into the image. */
export function pixelUnder(point: Vec2, width: number, height: number): [number, number] {
  return [Math.min(width - 1, Math.max(0, Math.floor(point[0]))), Math.min(height - 1, Math.max(0, Math.floor(point[1])))];
}

/**
 * Runs `segment` on a box-downsampled copy when the image's long side exceeds `maxSide` (integer
 * factor k = ceil(long side / maxSide); the point divided by k) and upsamples the mask (nearest),
 * so weight-free segmenters cost the same on a 4K camera frame as on a render.
 */
export function segmentDownscaled(image: RgbaImage, point: Vec2, maxSide: number, segment: (img: RgbaImage, p: Vec2) => Mask): Mask {
  const { width: W, height: H } = image;
  const k = Math.ceil(Math.max(W, H) / maxSide);
  if (k <= 1) return segment(image, point);
  const w = Math.floor(W / k), h = Math.floor(H / k);
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 4; c++) {
        let s = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) s += image.data[((y * k + dy) * W + x * k + dx) * 4 + c]!;
        data[(y * w + x) * 4 + c] = Math.round(s / (k * k));
      }
    }
  }
  const small = segment({ width: w, height: h, data }, [Math.min(w, point[0] / k), Math.min(h, point[1] / k)]);
  const upsample = (m: Uint8Array): Uint8Array => {
    const out = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) {
      const sy = Math.min(h - 1, Math.floor(y / k));
      for (let x = 0; x < W; x++) out[y * W + x] = m[sy * w + Math.min(w - 1, Math.floor(x / k))]!;
    }
    return out;
  };
  return { width: W, height: H, data: upsample(small.data), ...(small.extent ? { extent: upsample(small.extent) } : {}) };
}

export function checkPrompt(image: RgbaImage, point: Vec2, who: string): void {
  if (!(image.width > 0 && image.height > 0) || image.data.length !== image.width * image.height * 4) {
    throw new Error(`${who}: image must be RGBA with width * height * 4 bytes`);
  }
  if (!Number.isFinite(point[0]) || !Number.isFinite(point[1])) throw new Error(`${who}: point must be finite, got (${point[0]}, ${point[1]})`);
  if (point[0] < 0 || point[1] < 0 || point[0] > image.width || point[1] > image.height) {
    throw new Error(`${who}: point (${point[0]}, ${point[1]}) lies outside the ${image.width}x${image.height} image`);
  }
}
