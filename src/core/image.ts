/**
 * 8-bit RGBA images and PNG input/output (on top of fast-png), plus atomic file writes.
 *
 * Pixel (x, y) of an `RgbaImage` is at byte offset (y * width + x) * 4, rows top to bottom,
 * channels r, g, b, a (straight, not premultiplied, alpha).
 */
import { randomBytes } from 'node:crypto';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { convertIndexedToRgb, decode, encode } from 'fast-png';

export interface RgbaImage {
  width: number;
  height: number;
  /** Row-major rgba bytes, length width * height * 4. */
  data: Uint8Array;
}

export interface GrayImage {
  width: number;
  height: number;
  /** One sample per pixel: Uint8Array for 8-bit (and 1/2/4-bit) PNGs, Uint16Array for 16-bit ones. */
  data: Uint8Array | Uint16Array;
}

/** A decoded PNG with palettes expanded and sub-byte samples unpacked (see `decodePng`). */
export interface DecodedImage {
  width: number;
  height: number;
  /** 1 gray, 2 gray + alpha, 3 rgb, 4 rgba. */
  channels: 1 | 2 | 3 | 4;
  /** Bits per sample of `data`: 8 (Uint8Array) or 16 (Uint16Array). */
  depth: 8 | 16;
  /** Interleaved samples, length width * height * channels. */
  data: Uint8Array | Uint16Array;
}

function checkSize(width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`Image: size must be positive integers, got ${width}x${height}`);
  }
}

function checkLength(what: string, width: number, height: number, channels: number, length: number): void {
  checkSize(width, height);
  const expected = width * height * channels;
  if (length !== expected) {
    throw new Error(`Image: ${what} ${width}x${height} needs ${expected} samples, got ${length}`);
  }
}

export function encodePngRgba(img: RgbaImage): Uint8Array {
  checkLength('RGBA image', img.width, img.height, 4, img.data.length);
  return encode({ width: img.width, height: img.height, data: img.data, channels: 4, depth: 8 });
}

export function encodePngGray8(width: number, height: number, data: Uint8Array): Uint8Array {
  checkLength('8-bit gray image', width, height, 1, data.length);
  return encode({ width, height, data, channels: 1, depth: 8 });
}

export function encodePngGray16(width: number, height: number, data: Uint16Array): Uint8Array {
  checkLength('16-bit gray image', width, height, 1, data.length);
  return encode({ width, height, data, channels: 1, depth: 16 });
}

/**
 * Decodes any non-animated PNG. Palette images are expanded to rgb/rgba (8-bit); 1/2/4-bit gray
 * samples are unpacked to one byte each and scaled to 0..255 (so a 1-bit white is 255).
 */
export function decodePng(bytes: Uint8Array): DecodedImage {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (err) {
    throw new Error(`Image: not a readable PNG (${(err as Error).message})`, { cause: err });
  }
  const { width, height } = png;
  const n = width * height;
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    const channels = rgb.length / n;
    if (channels !== 3 && channels !== 4) throw new Error(`Image: unexpected palette PNG layout (${channels} channels)`);
    return { width, height, channels, depth: 8, data: rgb };
  }
  const channels = png.channels;
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
    throw new Error(`Image: unsupported PNG channel count ${channels}`);
  }
  if (png.depth === 16) {
    const data = png.data instanceof Uint16Array ? png.data : Uint16Array.from(png.data);
    checkLength('decoded PNG', width, height, channels, data.length);
    return { width, height, channels, depth: 16, data };
  }
  if (png.depth === 8) {
    const data = png.data instanceof Uint8Array ? png.data : new Uint8Array(png.data);
    checkLength('decoded PNG', width, height, channels, data.length);
    return { width, height, channels, depth: 8, data };
  }
  // Sub-byte depths exist only for gray (and palette, handled above); rows are byte-aligned.
  if (channels !== 1) throw new Error(`Image: unsupported ${png.depth}-bit PNG with ${channels} channels`);
  const bits = png.depth;
  const src = png.data;
  const rowBytes = Math.ceil((width * bits) / 8);
  const maxValue = (1 << bits) - 1;
  const out = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * bits;
      const byte = src[y * rowBytes + (bit >> 3)]!;
      const value = (byte >> (8 - bits - (bit & 7))) & maxValue;
      out[y * width + x] = Math.round((value * 255) / maxValue);
    }
  }
  return { width, height, channels: 1, depth: 8, data: out };
}

/** Any PNG as 8-bit RGBA: gray is replicated, missing alpha is 255, 16-bit samples keep their high byte. */
export function decodePngRgba(bytes: Uint8Array): RgbaImage {
  const img = decodePng(bytes);
  const n = img.width * img.height;
  const c = img.channels;
  const src = img.data;
  const shift = img.depth === 16 ? 8 : 0;
  if (c === 4 && shift === 0) return { width: img.width, height: img.height, data: src as Uint8Array };
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const s = i * c;
    const o = i * 4;
    if (c >= 3) {
      out[o] = src[s]! >> shift;
      out[o + 1] = src[s + 1]! >> shift;
      out[o + 2] = src[s + 2]! >> shift;
    } else {
      out[o] = out[o + 1] = out[o + 2] = src[s]! >> shift;
    }
    out[o + 3] = c === 2 || c === 4 ? src[s + c - 1]! >> shift : 255;
  }
  return { width: img.width, height: img.height, data: out };
}

/** A single-channel PNG (8- or 16-bit gray, e.g. label or depth maps); anything else is an error. */
export function decodePngGray(bytes: Uint8Array): GrayImage {
  const img = decodePng(bytes);
  if (img.channels !== 1) {
    throw new Error(`Image: expected a single-channel (gray) PNG, got ${img.channels} channels`);
  }
  return { width: img.width, height: img.height, data: img.data };
}

function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * Writes `bytes` to a fresh temporary file beside `path` (`path.tmp-<pid>-<random>`), then renames
 * it over `path`, so readers see either the old file or the complete new one, never a partial
 * one. The temporary file is removed on failure. (No fsync: atomic against concurrent readers
 * and crashes of this process, not against power loss.)
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, bytes, { flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new Error(`Image: could not write ${path} atomically (${(err as Error).message})`, { cause: err });
  }
}

/** Synchronous `writeFileAtomic`. */
export function writeFileAtomicSync(path: string, bytes: Uint8Array | string): void {
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, bytes, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // The temporary file was never created or is already gone.
    }
    throw new Error(`Image: could not write ${path} atomically (${(err as Error).message})`, { cause: err });
  }
}
