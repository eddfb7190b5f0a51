/**
 * Minimal drawing on `RgbaImage`s for contact sheets and debug overlays: fills, blits, resizing,
 * lines, arrows, circles, rectangles and a built-in 5x7 bitmap font.
 *
 * Colours are 0..255 rgb triples; drawn pixels get alpha 255. Continuous coordinates follow the
 * pixel convention of src/core/camera.ts (origin at the top-left pixel's corner, so pixel (i, j)
 * has centre (i + 0.5, j + 0.5)); a shape covers the pixels whose centres it contains. Everything
 * is clipped to the image. No anti-aliasing.
 */
import type { RgbaImage } from '../core/image.js';

export type Rgb = readonly [number, number, number];

function byte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

function checkSize(width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`Draw: image size must be positive integers, got ${width}x${height}`);
  }
}

/** A width x height opaque image filled with `rgb` (default white). */
export function createImage(width: number, height: number, rgb: Rgb = [255, 255, 255]): RgbaImage {
  checkSize(width, height);
  const data = new Uint8Array(width * height * 4);
  const r = byte(rgb[0]), g = byte(rgb[1]), b = byte(rgb[2]);
  for (let p = 0; p < data.length; p += 4) {
    data[p] = r;
    data[p + 1] = g;
    data[p + 2] = b;
    data[p + 3] = 255;
  }
  return { width, height, data };
}

/** Sets pixel (x, y) (integers) if it is inside the image. */
export function setPixel(img: RgbaImage, x: number, y: number, rgb: Rgb): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const o = (y * img.width + x) * 4;
  img.data[o] = byte(rgb[0]);
  img.data[o + 1] = byte(rgb[1]);
  img.data[o + 2] = byte(rgb[2]);
  img.data[o + 3] = 255;
}

/** Fills the integer pixel rectangle [x, x + w) x [y, y + h). */
export function fillRect(img: RgbaImage, x: number, y: number, w: number, h: number, rgb: Rgb): void {
  const x0 = Math.max(0, Math.round(x)), x1 = Math.min(img.width, Math.round(x + w));
  const y0 = Math.max(0, Math.round(y)), y1 = Math.min(img.height, Math.round(y + h));
  const r = byte(rgb[0]), g = byte(rgb[1]), b = byte(rgb[2]);
  for (let j = y0; j < y1; j++) {
    for (let i = x0; i < x1; i++) {
      const o = (j * img.width + i) * 4;
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = b;
      img.data[o + 3] = 255;
    }
  }
}

/** Outline of the integer pixel rectangle [x, x + w) x [y, y + h), `thickness` pixels inward. */
export function drawRect(img: RgbaImage, x: number, y: number, w: number, h: number, rgb: Rgb, thickness = 1): void {
  const t = Math.max(1, Math.round(thickness));
  fillRect(img, x, y, w, Math.min(t, h), rgb);
  fillRect(img, x, y + h - Math.min(t, h), w, Math.min(t, h), rgb);
  fillRect(img, x, y, Math.min(t, w), h, rgb);
  fillRect(img, x + w - Math.min(t, w), y, Math.min(t, w), h, rgb);
}

/**
 * Copies `src` into `dst` with its top-left pixel at integer (x, y), clipped. Modes: 'copy' copies
 * all four channels, 'opaque' copies rgb and sets alpha 255, 'over' composites src over dst by
 * src alpha (straight alpha).
 */
export function blit(dst: RgbaImage, src: RgbaImage, x: number, y: number, mode: 'copy' | 'opaque' | 'over' = 'copy'): void {
  x = Math.round(x);
  y = Math.round(y);
  const i0 = Math.max(0, -x), i1 = Math.min(src.width, dst.width - x);
  const j0 = Math.max(0, -y), j1 = Math.min(src.height, dst.height - y);
  if (i0 >= i1 || j0 >= j1) return;
  const s = src.data, d = dst.data;
  for (let j = j0; j < j1; j++) {
    const so = (j * src.width + i0) * 4;
    const dOff = ((j + y) * dst.width + i0 + x) * 4;
    const len = (i1 - i0) * 4;
    if (mode === 'copy') {
      d.set(s.subarray(so, so + len), dOff);
      continue;
    }
    for (let k = 0; k < len; k += 4) {
      if (mode === 'opaque') {
        d[dOff + k] = s[so + k]!;
        d[dOff + k + 1] = s[so + k + 1]!;
        d[dOff + k + 2] = s[so + k + 2]!;
        d[dOff + k + 3] = 255;
      } else {
        const a = s[so + k + 3]! / 255;
        const da = d[dOff + k + 3]! / 255;
        const oa = a + da * (1 - a);
        for (let c = 0; c < 3; c++) {
          d[dOff + k + c] = oa > 0 ? byte((s[so + k + c]! * a + d[dOff + k + c]! * da * (1 - a)) / oa) : 0;
        }
        d[dOff + k + 3] = byte(oa * 255);
      }
    }
  }
}

/** Nearest-neighbour resize: destination pixel centres sample the source pixel under them. */
export function resizeNearest(src: RgbaImage, width: number, height: number): RgbaImage {
  checkSize(width, height);
  const out = new Uint8Array(width * height * 4);
  const xs = new Int32Array(width);
  for (let i = 0; i < width; i++) xs[i] = Math.min(src.width - 1, Math.floor(((i + 0.5) * src.width) / width));
  for (let j = 0; j < height; j++) {
    const sj = Math.min(src.height - 1, Math.floor(((j + 0.5) * src.height) / height));
    for (let i = 0; i < width; i++) {
      const so = (sj * src.width + xs[i]!) * 4;
      const o = (j * width + i) * 4;
      out[o] = src.data[so]!;
      out[o + 1] = src.data[so + 1]!;
      out[o + 2] = src.data[so + 2]!;
      out[o + 3] = src.data[so + 3]!;
    }
  }
  return { width, height, data: out };
}

/** Per destination index: the source indices it overlaps and their area weights (summing to 1). */
function boxWeights(srcSize: number, dstSize: number): Array<{ index: number[]; weight: number[] }> {
  const scale = srcSize / dstSize;
  const out: Array<{ index: number[]; weight: number[] }> = [];
  for (let d = 0; d < dstSize; d++) {
    const lo = d * scale, hi = (d + 1) * scale;
    const index: number[] = [], weight: number[] = [];
    for (let s = Math.floor(lo); s < Math.min(srcSize, Math.ceil(hi)); s++) {
      const w = Math.min(hi, s + 1) - Math.max(lo, s);
      if (w > 0) {
        index.push(s);
        weight.push(w / scale);
      }
    }
    out.push({ index, weight });
  }
  return out;
}

/**
 * Area-averaging resize (each destination pixel averages the source area it covers; for upscaling
 * it degenerates to nearest with blended seams). Channels, alpha included, are averaged as stored.
 */
export function resizeBox(src: RgbaImage, width: number, height: number): RgbaImage {
  checkSize(width, height);
  const wx = boxWeights(src.width, width);
  const wy = boxWeights(src.height, height);
  // Horizontal pass into floats, then vertical.
  const tmp = new Float32Array(src.height * width * 4);
  for (let j = 0; j < src.height; j++) {
    for (let i = 0; i < width; i++) {
      const { index, weight } = wx[i]!;
      const o = (j * width + i) * 4;
      for (let k = 0; k < index.length; k++) {
        const so = (j * src.width + index[k]!) * 4;
        const w = weight[k]!;
        tmp[o] = tmp[o]! + src.data[so]! * w;
        tmp[o + 1] = tmp[o + 1]! + src.data[so + 1]! * w;
        tmp[o + 2] = tmp[o + 2]! + src.data[so + 2]! * w;
        tmp[o + 3] = tmp[o + 3]! + src.data[so + 3]! * w;
      }
    }
  }
  const out = new Uint8Array(width * height * 4);
  for (let j = 0; j < height; j++) {
    const { index, weight } = wy[j]!;
    for (let i = 0; i < width; i++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let k = 0; k < index.length; k++) {
        const to = (index[k]! * width + i) * 4;
        const w = weight[k]!;
        r += tmp[to]! * w;
        g += tmp[to + 1]! * w;
        b += tmp[to + 2]! * w;
        a += tmp[to + 3]! * w;
      }
      const o = (j * width + i) * 4;
      out[o] = byte(r);
      out[o + 1] = byte(g);
      out[o + 2] = byte(b);
      out[o + 3] = byte(a);
    }
  }
  return { width, height, data: out };
}

/**
 * A segment of width `thickness` with round caps: every pixel whose centre is within
 * max(thickness, 1) / 2 of the segment (x0, y0)-(x1, y1).
 */
export function drawLine(img: RgbaImage, x0: number, y0: number, x1: number, y1: number, rgb: Rgb, thickness = 1): void {
  const r = Math.max(thickness, 1) / 2;
  const dx = x1 - x0, dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const i0 = Math.max(0, Math.floor(Math.min(x0, x1) - r - 0.5));
  const i1 = Math.min(img.width - 1, Math.ceil(Math.max(x0, x1) + r - 0.5));
  const j0 = Math.max(0, Math.floor(Math.min(y0, y1) - r - 0.5));
  const j1 = Math.min(img.height - 1, Math.ceil(Math.max(y0, y1) + r - 0.5));
  const r2 = r * r + 1e-9;
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) {
      const px = i + 0.5 - x0, py = j + 0.5 - y0;
      const t = len2 > 0 ? Math.min(1, Math.max(0, (px * dx + py * dy) / len2)) : 0;
      const ex = px - t * dx, ey = py - t * dy;
      if (ex * ex + ey * ey <= r2) setPixel(img, i, j, rgb);
    }
  }
}

/** Fills the pixels whose centres lie inside (or on) the triangle a, b, c. */
export function fillTriangle(
  img: RgbaImage, ax: number, ay: number, bx: number, by: number, cx: number, cy: number, rgb: Rgb,
): void {
  const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
  if (area === 0) return;
  const s = area > 0 ? 1 : -1;
  const eps = 1e-9 * Math.abs(area);
  const i0 = Math.max(0, Math.floor(Math.min(ax, bx, cx) - 0.5));
  const i1 = Math.min(img.width - 1, Math.ceil(Math.max(ax, bx, cx) - 0.5));
  const j0 = Math.max(0, Math.floor(Math.min(ay, by, cy) - 0.5));
  const j1 = Math.min(img.height - 1, Math.ceil(Math.max(ay, by, cy) - 0.5));
  for (let j = j0; j <= j1; j++) {
    const py = j + 0.5;
    for (let i = i0; i <= i1; i++) {
      const px = i + 0.5;
      const e0 = s * ((bx - ax) * (py - ay) - (by - ay) * (px - ax));
      const e1 = s * ((cx - bx) * (py - by) - (cy - by) * (px - bx));
      const e2 = s * ((ax - cx) * (py - cy) - (ay - cy) * (px - cx));
      if (e0 >= -eps && e1 >= -eps && e2 >= -eps) setPixel(img, i, j, rgb);
    }
  }
}

/**
 * Arrow from (x0, y0) to the tip (x1, y1): a shaft of `thickness` and a filled triangular head
 * `headSize` long and `headSize` wide (default max(6, 3 * thickness)). Nothing for zero length.
 */
export function drawArrow(
  img: RgbaImage, x0: number, y0: number, x1: number, y1: number, rgb: Rgb, thickness = 1, headSize = Math.max(6, 3 * thickness),
): void {
  const dx = x1 - x0, dy = y1 - y0;
  const len = Math.hypot(dx, dy);
  if (!(len > 0)) return;
  const ux = dx / len, uy = dy / len;
  const head = Math.min(headSize, len);
  const bx = x1 - ux * head, by = y1 - uy * head;
  if (len > head) drawLine(img, x0, y0, bx, by, rgb, thickness);
  const hw = headSize / 2;
  fillTriangle(img, x1, y1, bx - uy * hw, by + ux * hw, bx + uy * hw, by - ux * hw, rgb);
}

/** Fills the pixels whose centres lie within `radius` of (cx, cy). */
export function fillCircle(img: RgbaImage, cx: number, cy: number, radius: number, rgb: Rgb): void {
  const r2 = radius * radius + 1e-9;
  const i0 = Math.max(0, Math.floor(cx - radius - 0.5)), i1 = Math.min(img.width - 1, Math.ceil(cx + radius - 0.5));
  const j0 = Math.max(0, Math.floor(cy - radius - 0.5)), j1 = Math.min(img.height - 1, Math.ceil(cy + radius - 0.5));
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) {
      const px = i + 0.5 - cx, py = j + 0.5 - cy;
      if (px * px + py * py <= r2) setPixel(img, i, j, rgb);
    }
  }
}

// 5x7 font: for each character of FONT_CHARS, 7 rows (top first) of 5 bits (MSB = leftmost),
// each written as one base-32 digit.
const FONT_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ .,:;-_+=/()[]#%<>!?'*|";
const FONT_ROWS =
  'EHJLPHE4C4444EEH1248VV2421HE26AIV22VGU11HE68GUHHEV124888EHHEHHEEHHF12CEHHHVHHUHHUHHUEHGGGHESIHHHISVGGUGGVVGGUGGG' +
  'EHGNHHFHHHVHHHE44444E72222ICHIKOKIHGGGGGGVHRLLHHHHHPLJHHEHHHHHEUHHUGGGEHHHLIDUHHUKIHFGGE11UV444444HHHHHHEHHHHHA4' +
  'HHHLLLAHHA4AHHHHHA444V1248GV000000000000CC0000C480CC0CC00CC0C48000V000000000V044V44000V0V0001248G024888428422248E8' +
  '8888EE22222EAAVAVAAOP248J3248G84284212484444404EH12404448000004LEL404444444';
const UNKNOWN_GLYPH = [31, 17, 17, 17, 17, 17, 31];
const GLYPHS = new Map<string, number[]>();
for (let c = 0; c < FONT_CHARS.length; c++) {
  const rows: number[] = [];
  for (let r = 0; r < 7; r++) rows.push(parseInt(FONT_ROWS[c * 7 + r]!, 32));
  GLYPHS.set(FONT_CHARS[c]!, rows);
}

/** Glyph advance and line height of the font, in unscaled pixels. */
export const FONT = { glyphWidth: 5, glyphHeight: 7, advance: 6, lineHeight: 9 } as const;

/** Pixel size of `text` drawn by `drawText` at `scale` (lines split at '\n'). */
export function textSize(text: string, scale = 1): { width: number; height: number } {
  const s = Math.max(1, Math.round(scale));
  const lines = text.split('\n');
  const longest = Math.max(...lines.map((l) => [...l].length));
  return {
    width: longest > 0 ? (longest * FONT.advance - 1) * s : 0,
    height: (lines.length * FONT.lineHeight - 2) * s,
  };
}

/**
 * Draws `text` with its top-left corner at integer (x, y), each font pixel a scale x scale block.
 * Lower case renders as upper case; characters outside the font render as a box; '\n' starts a
 * new line.
 */
export function drawText(img: RgbaImage, x: number, y: number, text: string, rgb: Rgb, scale = 1): void {
  const s = Math.max(1, Math.round(scale));
  let cx = Math.round(x);
  let cy = Math.round(y);
  for (const ch of text) {
    if (ch === '\n') {
      cx = Math.round(x);
      cy += FONT.lineHeight * s;
      continue;
    }
    const upper = ch.toUpperCase();
    const rows = GLYPHS.get(upper.length === 1 ? upper : ch) ?? UNKNOWN_GLYPH;
    for (let r = 0; r < 7; r++) {
      const bits = rows[r]!;
      for (let c = 0; c < 5; c++) {
        if (bits & (16 >> c)) fillRect(img, cx + c * s, cy + r * s, s, s, rgb);
      }
    }
    cx += FONT.advance * s;
  }
}
