/**
 * Image metrics on packed float rgb in [0, 1] (as produced by `renderGaussians`):
 * PSNR = -10 log10(MSE) (optionally inside a pixel mask) and SSIM (Gaussian window 11, σ 1.5,
 * C1 = 0.01², C2 = 0.03², zero padding "same" as in the 3DGS/LGM `ssim`, mean over channels and
 * pixels).
 */

export interface ImageF32 {
  width: number;
  height: number;
  /** Packed rgb (3 per pixel) or one value per pixel, row-major. */
  data: Float32Array;
  channels: 1 | 3;
}

function checkPair(a: ImageF32, b: ImageF32, what: string): void {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new Error(`${what}: images differ in shape (${a.width}x${a.height}x${a.channels} vs ${b.width}x${b.height}x${b.channels})`);
  }
  for (const img of [a, b]) {
    const want = img.width * img.height * img.channels;
    if (img.data.length !== want) throw new Error(`${what}: ${img.width}x${img.height}x${img.channels} image needs ${want} values, got ${img.data.length}`);
  }
}

/** Mean squared error, over all pixels or only where mask[p] is truthy. NaN when the mask is empty. */
export function mse(a: ImageF32, b: ImageF32, mask?: ArrayLike<number | boolean>): number {
  checkPair(a, b, 'mse');
  const n = a.width * a.height;
  const c = a.channels;
  if (mask && mask.length !== n) throw new Error(`mse: mask has ${mask.length} values, expected ${n}`);
  let sum = 0;
  let count = 0;
  for (let p = 0; p < n; p++) {
    if (mask && !mask[p]) continue;
    for (let k = 0; k < c; k++) {
      const d = a.data[p * c + k]! - b.data[p * c + k]!;
      sum += d * d;
    }
    count += c;
  }
  return count === 0 ? Number.NaN : sum / count;
}

/** PSNR in dB for signals in [0, 1]; Infinity for identical images, NaN for an empty mask. */
export function psnr(a: ImageF32, b: ImageF32, mask?: ArrayLike<number | boolean>): number {
  const e = mse(a, b, mask);
  if (Number.isNaN(e)) return Number.NaN;
  return e === 0 ? Number.POSITIVE_INFINITY : -10 * Math.log10(e);
}

function gaussianWindow(size: number, sigma: number): Float64Array {
  const w = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) {
    w[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    s += w[i]!;
  }
  for (let i = 0; i < size; i++) w[i] = w[i]! / s;
  return w;
}

/** Separable "same" convolution with zero padding of one W x H plane. */
function blur(src: Float64Array, width: number, height: number, w: Float64Array): Float64Array {
  const r = (w.length - 1) / 2;
  const tmp = new Float64Array(width * height);
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) {
        const xx = x + k;
        if (xx >= 0 && xx < width) s += w[k + r]! * src[y * width + xx]!;
      }
      tmp[y * width + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) {
        const yy = y + k;
        if (yy >= 0 && yy < height) s += w[k + r]! * tmp[yy * width + x]!;
      }
      out[y * width + x] = s;
    }
  }
  return out;
}

/** Mean SSIM over channels and pixels (window 11, σ 1.5, zero padding). */
export function ssim(a: ImageF32, b: ImageF32): number {
  checkPair(a, b, 'ssim');
  const { width, height, channels } = a;
  const n = width * height;
  const w = gaussianWindow(11, 1.5);
  const C1 = 0.01 ** 2;
  const C2 = 0.03 ** 2;
  let total = 0;
  for (let k = 0; k < channels; k++) {
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const xx = new Float64Array(n);
    const yy = new Float64Array(n);
    const xy = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      const u = a.data[p * channels + k]!;
      const v = b.data[p * channels + k]!;
      x[p] = u;
      y[p] = v;
      xx[p] = u * u;
      yy[p] = v * v;
      xy[p] = u * v;
    }
    const mx = blur(x, width, height, w);
    const my = blur(y, width, height, w);
    const sxx = blur(xx, width, height, w);
    const syy = blur(yy, width, height, w);
    const sxy = blur(xy, width, height, w);
    for (let p = 0; p < n; p++) {
      const m1 = mx[p]!, m2 = my[p]!;
      const v1 = sxx[p]! - m1 * m1;
      const v2 = syy[p]! - m2 * m2;
      const cov = sxy[p]! - m1 * m2;
      total += ((2 * m1 * m2 + C1) * (2 * cov + C2)) / ((m1 * m1 + m2 * m2 + C1) * (v1 + v2 + C2));
    }
  }
  return total / (n * channels);
}

/**
 * Packed rgb float image from an 8-bit RGBA image. With `background`, rgb is composited on it using
 * the (straight) alpha; without, rgb is taken as is (e.g. dataset renders, already on white).
 */
export function rgbaToImageF32(
  img: { width: number; height: number; data: Uint8Array },
  background?: readonly [number, number, number],
): ImageF32 {
  const n = img.width * img.height;
  if (img.data.length !== 4 * n) throw new Error(`rgbaToImageF32: ${img.width}x${img.height} RGBA needs ${4 * n} bytes, got ${img.data.length}`);
  const out = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) {
    const a = background ? img.data[4 * p + 3]! / 255 : 1;
    for (let k = 0; k < 3; k++) out[3 * p + k] = (img.data[4 * p + k]! / 255) * a + (background ? background[k]! * (1 - a) : 0);
  }
  return { width: img.width, height: img.height, channels: 3, data: out };
}
