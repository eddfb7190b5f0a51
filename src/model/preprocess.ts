/**
 * Model input tensors, built exactly as training builds them (training/ mirrors these functions):
 *
 * - `images` [B, V, 9, H, W]: per view, the RGBA image composited on the manifest background at
 *   its own resolution, resized to H x W, normalised (v - mean) / std, then the Plücker rays
 *   (cross(o, d), d) of the manifest's view camera (LGM get_rays, OpenGL frame). Resize: when the
 *   image is an integer multiple k of H x W (same k both ways), k x k box averaging (what the
 *   training cache does; for k = 2 it equals the official bilinear resize exactly); otherwise
 *   bilinear with align_corners = False and no antialias (PyTorch's F.interpolate, official).
 * - `drags_start` / `drags_end` [B, V, N, 2]: drag-space pixels (x = column, y = row) of view 0,
 *   copied to every view, clamped to [0, S - 1].
 *
 * Pure functions on typed arrays; planes are channel-major (C, H, W) like the tensors.
 */
import type { RgbaImage } from '../core/image.js';
import type { Mat4, Vec2 } from '../core/math.js';
import type { Drag } from '../core/types.js';
import type { ModelManifest } from './manifest.js';

/** Packed rgb floats in [0, 1] from straight-alpha RGBA composited on `background`. */
export function compositeOnBackground(image: RgbaImage, background: readonly [number, number, number]): Float32Array {
  const n = image.width * image.height;
  if (image.data.length !== 4 * n) {
    throw new Error(`preprocess: ${image.width}x${image.height} RGBA image needs ${4 * n} bytes, got ${image.data.length}`);
  }
  const out = new Float32Array(3 * n);
  const d = image.data;
  for (let p = 0; p < n; p++) {
    const a = d[4 * p + 3]! / 255;
    const b = 1 - a;
    out[3 * p] = (d[4 * p]! / 255) * a + background[0] * b;
    out[3 * p + 1] = (d[4 * p + 1]! / 255) * a + background[1] * b;
    out[3 * p + 2] = (d[4 * p + 2]! / 255) * a + background[2] * b;
  }
  return out;
}

/**
 * Bilinear resize of packed (interleaved) samples, PyTorch `F.interpolate(mode='bilinear',
 * align_corners=False, antialias=False)`: source coordinate (dst + 0.5) · in/out - 0.5, clamped
 * at 0 below and at the last sample above.
 */
export function resizeBilinear(
  src: Float32Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Float32Array {
  if (src.length !== width * height * channels) {
    throw new Error(`preprocess: resize input ${width}x${height}x${channels} needs ${width * height * channels} values, got ${src.length}`);
  }
  if (!(Number.isInteger(outWidth) && Number.isInteger(outHeight) && outWidth > 0 && outHeight > 0)) {
    throw new Error(`preprocess: resize target must be positive integers, got ${outWidth}x${outHeight}`);
  }
  const out = new Float32Array(outWidth * outHeight * channels);
  const sx = width / outWidth;
  const sy = height / outHeight;
  const x0s = new Int32Array(outWidth);
  const x1s = new Int32Array(outWidth);
  const lxs = new Float64Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    const s = Math.max(0, (x + 0.5) * sx - 0.5);
    const x0 = Math.min(Math.floor(s), width - 1);
    x0s[x] = x0;
    x1s[x] = x0 < width - 1 ? x0 + 1 : x0;
    lxs[x] = s - x0;
  }
  for (let y = 0; y < outHeight; y++) {
    const s = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(Math.floor(s), height - 1);
    const y1 = y0 < height - 1 ? y0 + 1 : y0;
    const ly = s - y0;
    for (let x = 0; x < outWidth; x++) {
      const x0 = x0s[x]!, x1 = x1s[x]!, lx = lxs[x]!;
      const i00 = (y0 * width + x0) * channels, i01 = (y0 * width + x1) * channels;
      const i10 = (y1 * width + x0) * channels, i11 = (y1 * width + x1) * channels;
      const o = (y * outWidth + x) * channels;
      for (let c = 0; c < channels; c++) {
        const top = src[i00 + c]! * (1 - lx) + src[i01 + c]! * lx;
        const bottom = src[i10 + c]! * (1 - lx) + src[i11 + c]! * lx;
        out[o + c] = top * (1 - ly) + bottom * ly;
      }
    }
  }
  return out;
}

/** k x k box average of packed samples (width and height divisible by k). */
export function downsampleBox(src: Float32Array, width: number, height: number, channels: number, k: number): Float32Array {
  if (!(Number.isInteger(k) && k >= 1) || width % k !== 0 || height % k !== 0) {
    throw new Error(`preprocess: box downsampling needs ${width}x${height} divisible by ${k}`);
  }
  const ow = width / k, oh = height / k;
  const out = new Float32Array(ow * oh * channels);
  const inv = 1 / (k * k);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const o = (y * ow + x) * channels;
      for (let dy = 0; dy < k; dy++) {
        for (let dx = 0; dx < k; dx++) {
          const s = ((y * k + dy) * width + x * k + dx) * channels;
          for (let c = 0; c < channels; c++) out[o + c] = out[o + c]! + src[s + c]!;
        }
      }
      for (let c = 0; c < channels; c++) out[o + c] = out[o + c]! * inv;
    }
  }
  return out;
}

/** The model's resize (see the module header): box average for integer factors, else bilinear. */
export function resizeForModel(src: Float32Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): Float32Array {
  if (width === outWidth && height === outHeight) return src;
  const k = width / outWidth;
  if (Number.isInteger(k) && height / outHeight === k) return downsampleBox(src, width, height, channels, k);
  return resizeBilinear(src, width, height, channels, outWidth, outHeight);
}

/** Packed rgb (H x W) -> normalised channel-major planes [3, H, W]. */
export function normalizeToPlanes(
  rgb: Float32Array,
  width: number,
  height: number,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
): Float32Array {
  const n = width * height;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const m = mean[c]!, s = std[c]!;
    for (let p = 0; p < n; p++) out[c * n + p] = (rgb[3 * p + c]! - m) / s;
  }
  return out;
}

/**
 * Plücker rays [6, H, W] = (cross(o, d), d) for an OpenGL camera-to-world pose (LGM get_rays):
 * camera direction ((x - W/2 + 0.5)/f, -(y - H/2 + 0.5)/f, -1) with f = (H/2)/tan(fovy/2),
 * rotated by the pose, normalised; o = the camera centre.
 */
export function pluckerRays(c2wOpengl: Mat4, width: number, height: number, fovyDeg: number): Float32Array {
  const f = height / 2 / Math.tan((fovyDeg * Math.PI) / 360);
  const n = width * height;
  const out = new Float32Array(6 * n);
  const m = c2wOpengl;
  const ox = m[3]!, oy = m[7]!, oz = m[11]!;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cxd = (x - width / 2 + 0.5) / f;
      const cyd = -(y - height / 2 + 0.5) / f;
      const czd = -1;
      let dx = m[0]! * cxd + m[1]! * cyd + m[2]! * czd;
      let dy = m[4]! * cxd + m[5]! * cyd + m[6]! * czd;
      let dz = m[8]! * cxd + m[9]! * cyd + m[10]! * czd;
      const len = Math.sqrt(dx * dx + dy * dy + dz * dz);
      dx /= len;
      dy /= len;
      dz /= len;
      const p = y * width + x;
      out[p] = oy * dz - oz * dy;
      out[n + p] = oz * dx - ox * dz;
      out[2 * n + p] = ox * dy - oy * dx;
      out[3 * n + p] = dx;
      out[4 * n + p] = dy;
      out[5 * n + p] = dz;
    }
  }
  return out;
}

/**
 * The `images` tensor for one sample, [V, 9, H, W]. `views[v]` is the image of manifest camera v;
 * view 0 is the camera image. Models with V > 1 need all V images (the official PartRM generates
 * views 1..V-1 with Zero123++, which this product does not ship): a missing view is an error.
 */
export function buildImagesTensor(manifest: ModelManifest, views: readonly RgbaImage[]): Float32Array {
  const { views: V, width: W, height: H } = manifest;
  if (views.length !== V) {
    throw new Error(
      `preprocess: the model takes ${V} input view(s), got ${views.length} image(s)` +
        (V > 1 ? ` (pass views 1..${V - 1} as extraViews, rendered at the manifest's cameras_c2w_opengl)` : ''),
    );
  }
  const plane = H * W;
  const out = new Float32Array(V * 9 * plane);
  views.forEach((img, v) => {
    const rgb = compositeOnBackground(img, manifest.background);
    const resized = resizeForModel(rgb, img.width, img.height, 3, W, H);
    out.set(normalizeToPlanes(resized, W, H, manifest.mean, manifest.std), v * 9 * plane);
    out.set(pluckerRays(manifest.camerasC2wOpengl[v]!, W, H, manifest.fovyDeg), v * 9 * plane + 3 * plane);
  });
  return out;
}

/** Checks that a drag is finite and inside a width x height image (edges included). */
export function checkDrag(drag: Drag, width: number, height: number, what = 'drag'): void {
  for (const [name, p] of [['start', drag.start], ['end', drag.end]] as const) {
    if (!Array.isArray(p) || p.length !== 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      throw new Error(`preprocess: ${what} ${name} must be two finite numbers [x, y], got ${JSON.stringify(p)}`);
    }
  }
  if (drag.start[0] < 0 || drag.start[0] > width || drag.start[1] < 0 || drag.start[1] > height) {
    throw new Error(`preprocess: ${what} start (${drag.start[0]}, ${drag.start[1]}) lies outside the ${width}x${height} image`);
  }
}

/** Image pixels (continuous, corner origin) of a width x height image -> drag-space pixels. */
export function toDragSpace(p: Vec2, width: number, height: number, dragSpace: number): Vec2 {
  return [(p[0] * dragSpace) / width, (p[1] * dragSpace) / height];
}

/**
 * `drags_start` / `drags_end` for one sample, each [V, N, 2], from drag-space drags. Fewer than N
 * drags are repeated cyclically (the official runtime always has N); more than N are an error.
 * Coordinates are clamped to [0, S - 1].
 */
export function buildDragTensors(
  drags: readonly Drag[],
  views: number,
  count: number,
  dragSpace: number,
): { start: Float32Array; end: Float32Array } {
  if (drags.length === 0) throw new Error('preprocess: at least one drag is needed');
  if (drags.length > count) throw new Error(`preprocess: the model takes ${count} drags, got ${drags.length}`);
  const start = new Float32Array(views * count * 2);
  const end = new Float32Array(views * count * 2);
  const clamp = (v: number): number => Math.min(dragSpace - 1, Math.max(0, v));
  for (let v = 0; v < views; v++) {
    for (let i = 0; i < count; i++) {
      const d = drags[i % drags.length]!;
      const o = (v * count + i) * 2;
      start[o] = clamp(d.start[0]);
      start[o + 1] = clamp(d.start[1]);
      end[o] = clamp(d.end[0]);
      end[o + 1] = clamp(d.end[1]);
    }
  }
  return { start, end };
}
