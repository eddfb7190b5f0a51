/**
 * sensor_msgs/Image <-> RgbaImage. Pure: every problem is a `RosImage:` error naming what was
 * expected. Supported encodings: rgb8, bgr8, rgba8, bgra8, mono8 (8-bit, so `is_bigendian` is
 * irrelevant); rows may be padded (`step` >= width * bytes per pixel).
 */
import type { RgbaImage } from '../core/image.js';
import type { ByteArray, Header, ImageMsg } from './types.js';

export const IMAGE_ENCODINGS = ['rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8'] as const;
export type ImageEncoding = (typeof IMAGE_ENCODINGS)[number];

/** Largest accepted image side (pixels) and total size, against absurd headers. */
export const MAX_IMAGE_SIDE = 16384;
export const MAX_IMAGE_BYTES = 256 * 1024 * 1024;

const BYTES_PER_PIXEL: Record<ImageEncoding, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1 };

export function isImageEncoding(s: string): s is ImageEncoding {
  return (IMAGE_ENCODINGS as readonly string[]).includes(s);
}

function asBytes(data: ByteArray | undefined): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (Array.isArray(data)) return Uint8Array.from(data as number[]);
  throw new Error('RosImage: data is not a byte array');
}

/** Decoded sensor_msgs/Image -> RGBA (alpha 255 unless the encoding has alpha). */
export function imageMsgToRgba(msg: ImageMsg): RgbaImage {
  if (msg === null || typeof msg !== 'object') throw new Error('RosImage: not a sensor_msgs/Image message');
  const { width, height, step, encoding } = msg;
  if (typeof encoding !== 'string' || !isImageEncoding(encoding)) {
    throw new Error(`RosImage: unsupported encoding "${String(encoding)}"; expected one of ${IMAGE_ENCODINGS.join(', ')}`);
  }
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`RosImage: image size must be positive, got ${width}x${height}`);
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new Error(`RosImage: image ${width}x${height} exceeds ${MAX_IMAGE_SIDE} pixels per side`);
  }
  const bpp = BYTES_PER_PIXEL[encoding];
  const rowBytes = width * bpp;
  if (!(Number.isInteger(step) && step >= rowBytes)) {
    throw new Error(`RosImage: step ${step} is less than width * ${bpp} = ${rowBytes} for ${encoding}`);
  }
  const data = asBytes(msg.data);
  // The last row needs only its pixels, not its padding (some drivers trim it).
  const needed = step * (height - 1) + rowBytes;
  if (data.length < needed || data.length > step * height) {
    throw new Error(`RosImage: data has ${data.length} bytes; ${width}x${height} ${encoding} with step ${step} needs ${step * height}`);
  }
  if (step * height > MAX_IMAGE_BYTES) throw new Error(`RosImage: image larger than ${MAX_IMAGE_BYTES} bytes`);
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    let s = y * step;
    let o = y * width * 4;
    switch (encoding) {
      case 'rgb8':
        for (let x = 0; x < width; x++, s += 3, o += 4) {
          out[o] = data[s]!; out[o + 1] = data[s + 1]!; out[o + 2] = data[s + 2]!; out[o + 3] = 255;
        }
        break;
      case 'bgr8':
        for (let x = 0; x < width; x++, s += 3, o += 4) {
          out[o] = data[s + 2]!; out[o + 1] = data[s + 1]!; out[o + 2] = data[s]!; out[o + 3] = 255;
        }
        break;
      case 'rgba8':
        out.set(data.subarray(s, s + rowBytes), o);
        break;
      case 'bgra8':
        for (let x = 0; x < width; x++, s += 4, o += 4) {
          out[o] = data[s + 2]!; out[o + 1] = data[s + 1]!; out[o + 2] = data[s]!; out[o + 3] = data[s + 3]!;
        }
        break;
      case 'mono8':
        for (let x = 0; x < width; x++, s += 1, o += 4) {
          const v = data[s]!;
          out[o] = v; out[o + 1] = v; out[o + 2] = v; out[o + 3] = 255;
        }
        break;
    }
  }
  return { width, height, data: out };
}

/** RGBA -> sensor_msgs/Image in the given encoding, rows padded to `step` (default: packed). */
export function rgbaToImageMsg(img: RgbaImage, encoding: ImageEncoding = 'rgb8', header: Header = { stamp: { sec: 0, nanosec: 0 }, frame_id: 'camera' }, step?: number): ImageMsg {
  const bpp = BYTES_PER_PIXEL[encoding];
  const rowStep = step ?? img.width * bpp;
  if (rowStep < img.width * bpp) throw new Error(`RosImage: step ${rowStep} is less than width * ${bpp}`);
  const data = new Uint8Array(rowStep * img.height);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 4;
      const o = y * rowStep + x * bpp;
      const r = img.data[i]!, g = img.data[i + 1]!, b = img.data[i + 2]!, a = img.data[i + 3]!;
      switch (encoding) {
        case 'rgb8': data[o] = r; data[o + 1] = g; data[o + 2] = b; break;
        case 'bgr8': data[o] = b; data[o + 1] = g; data[o + 2] = r; break;
        case 'rgba8': data[o] = r; data[o + 1] = g; data[o + 2] = b; data[o + 3] = a; break;
        case 'bgra8': data[o] = b; data[o + 1] = g; data[o + 2] = r; data[o + 3] = a; break;
        case 'mono8': data[o] = Math.round(0.299 * r + 0.587 * g + 0.114 * b); break;
      }
    }
  }
  return { header, height: img.height, width: img.width, encoding, is_bigendian: 0, step: rowStep, data };
}
