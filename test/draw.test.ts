import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blit,
  createImage,
  drawArrow,
  drawLine,
  drawRect,
  drawText,
  fillCircle,
  resizeBox,
  resizeNearest,
  textSize,
  type Rgb,
} from '../src/dataset/draw.js';
import type { RgbaImage } from '../src/core/image.js';

const WHITE: Rgb = [255, 255, 255];
const RED: Rgb = [255, 0, 0];

function painted(img: RgbaImage, rgb: Rgb = RED): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * 4;
      if (img.data[o] === rgb[0] && img.data[o + 1] === rgb[1] && img.data[o + 2] === rgb[2]) out.push([x, y]);
    }
  }
  return out;
}

function distToSegment(px: number, py: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = x1 - x0, dy = y1 - y0;
  const t = Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - x0 - t * dx, py - y0 - t * dy);
}

test('createImage fills an opaque image', () => {
  const img = createImage(3, 2, [1, 2, 3]);
  assert.deepEqual([...img.data.subarray(0, 8)], [1, 2, 3, 255, 1, 2, 3, 255]);
  assert.throws(() => createImage(0, 2), /Draw: image size/);
});

test("a line's pixels lie on the segment and connect its ends", () => {
  const img = createImage(40, 30, WHITE);
  const [x0, y0, x1, y1] = [3.2, 4.7, 35.5, 22.1];
  drawLine(img, x0, y0, x1, y1, RED, 1);
  const px = painted(img);
  assert.ok(px.length >= 32, `only ${px.length} pixels`);
  for (const [x, y] of px) {
    const d = distToSegment(x + 0.5, y + 0.5, x0, y0, x1, y1);
    assert.ok(d <= 0.5 + 1e-9, `pixel ${x},${y} is ${d} from the segment`);
  }
  // Shallow line: every column between the ends has a pixel.
  for (let x = 4; x <= 34; x++) assert.ok(px.some(([i]) => i === x), `column ${x} empty`);
  // Thick line: pixels within thickness / 2.
  const thick = createImage(40, 30, WHITE);
  drawLine(thick, x0, y0, x1, y1, RED, 5);
  const tp = painted(thick);
  assert.ok(tp.length > 4 * px.length, 'thick line is thicker');
  for (const [x, y] of tp) assert.ok(distToSegment(x + 0.5, y + 0.5, x0, y0, x1, y1) <= 2.5 + 1e-9, `pixel ${x},${y}`);
});

test('arrow: shaft plus a head that is wider than the shaft near the tip', () => {
  const img = createImage(60, 40, WHITE);
  drawArrow(img, 5, 20.5, 50, 20.5, RED, 1, 10); // along the centres of row 20
  const rows = (x: number) => painted(img).filter(([i]) => i === x).length;
  assert.deepEqual(painted(img).filter(([i]) => i === 20), [[20, 20]]); // shaft: one pixel thick
  assert.ok(rows(42) >= 5, `head rows at x=42: ${rows(42)}`);
  assert.ok(rows(49) >= 1, 'tip present');
  assert.equal(rows(52), 0);
  // Zero-length arrows draw nothing.
  const none = createImage(10, 10, WHITE);
  drawArrow(none, 5, 5, 5, 5, RED);
  assert.equal(painted(none).length, 0);
});

test('text renders glyph pixels inside its box; unknown characters render as a box', () => {
  const img = createImage(120, 30, WHITE);
  drawText(img, 2, 3, 'Az 09.:-(%)', [0, 0, 0], 2);
  const px = painted(img, [0, 0, 0]);
  const size = textSize('Az 09.:-(%)', 2);
  assert.deepEqual(size, { width: (11 * 6 - 1) * 2, height: 14 });
  assert.ok(px.length > 50, `${px.length} pixels`);
  for (const [x, y] of px) assert.ok(x >= 2 && x < 2 + size.width && y >= 3 && y < 3 + size.height, `pixel ${x},${y} outside`);
  // Lower case is drawn as upper case.
  const a = createImage(6, 7, WHITE), b = createImage(6, 7, WHITE);
  drawText(a, 0, 0, 'q', RED);
  drawText(b, 0, 0, 'Q', RED);
  assert.deepEqual(a.data, b.data);
  const box = createImage(5, 7, WHITE);
  drawText(box, 0, 0, '\u00a7', RED);
  assert.equal(painted(box).length, 5 * 2 + 5 * 2); // 5x7 outline
});

test('fillCircle, drawRect and blit', () => {
  const img = createImage(20, 20, WHITE);
  fillCircle(img, 10, 10, 3, RED);
  const px = painted(img);
  for (const [x, y] of px) assert.ok(Math.hypot(x + 0.5 - 10, y + 0.5 - 10) <= 3, `pixel ${x},${y}`);
  assert.ok(Math.abs(px.length - Math.PI * 9) < 6, `${px.length} pixels`);

  const r = createImage(10, 10, WHITE);
  drawRect(r, 2, 3, 5, 4, RED);
  assert.equal(painted(r).length, 2 * 5 + 2 * 2);

  const dst = createImage(8, 8, WHITE);
  const src = createImage(3, 3, RED);
  src.data[3] = 0; // one transparent source pixel
  blit(dst, src, 6, -1); // clipped to a 2x2 corner
  assert.equal(painted(dst).length, 4);
  assert.equal(dst.data[(0 * 8 + 6) * 4 + 3], 255);
  const over = createImage(4, 4, WHITE);
  blit(over, src, 0, 0, 'over');
  assert.deepEqual([...over.data.subarray(0, 4)], [255, 255, 255, 255]); // transparent pixel keeps dst
  assert.deepEqual([...over.data.subarray(4, 8)], [255, 0, 0, 255]);
});

test('resizeNearest and resizeBox', () => {
  const src = createImage(4, 4, WHITE);
  drawRect(src, 0, 0, 2, 4, RED, 2); // left half red
  const near = resizeNearest(src, 8, 2);
  assert.equal(painted(near).length, 8);
  const box = resizeBox(src, 1, 1);
  assert.deepEqual([...box.data], [255, 128, 128, 255]);
  const half = resizeBox(src, 2, 2);
  assert.equal(painted(half).length, 2);
  const same = resizeBox(src, 4, 4);
  assert.deepEqual(same.data, src.data);
});
