import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import {
  decodePng,
  decodePngGray,
  decodePngRgba,
  encodePngGray16,
  encodePngGray8,
  encodePngRgba,
  writeFileAtomic,
  writeFileAtomicSync,
  type RgbaImage,
} from '../src/core/image.js';

function pattern(n: number, seed: number, mod: number): number[] {
  const out: number[] = [];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push((x >>> 8) % mod);
  }
  return out;
}

test('RGBA PNG round trip is exact', () => {
  const img: RgbaImage = { width: 7, height: 5, data: new Uint8Array(pattern(7 * 5 * 4, 1, 256)) };
  const bytes = encodePngRgba(img);
  assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  const back = decodePngRgba(bytes);
  assert.equal(back.width, 7);
  assert.equal(back.height, 5);
  assert.deepEqual(back.data, img.data);
  const raw = decodePng(bytes);
  assert.equal(raw.channels, 4);
  assert.equal(raw.depth, 8);
});

test('8-bit and 16-bit gray PNG round trips are exact', () => {
  const g8 = new Uint8Array(pattern(9 * 4, 2, 256));
  const d8 = decodePngGray(encodePngGray8(9, 4, g8));
  assert.equal(d8.width, 9);
  assert.equal(d8.height, 4);
  assert.ok(d8.data instanceof Uint8Array, 'Uint8Array for 8-bit');
  assert.deepEqual([...d8.data], [...g8]);

  const g16 = new Uint16Array(pattern(6 * 3, 3, 65536));
  g16[0] = 65535;
  g16[1] = 0;
  g16[2] = 256;
  const d16 = decodePngGray(encodePngGray16(6, 3, g16));
  assert.ok(d16.data instanceof Uint16Array, 'Uint16Array for 16-bit');
  assert.deepEqual([...d16.data], [...g16]);
});

test('decodePngRgba expands gray, gray+alpha, rgb, 16-bit and palette images', () => {
  const gray = decodePngRgba(encodePngGray8(2, 1, new Uint8Array([10, 200])));
  assert.deepEqual([...gray.data], [10, 10, 10, 255, 200, 200, 200, 255]);
  const ga = decodePngRgba(encode({ width: 1, height: 1, data: new Uint8Array([30, 40]), channels: 2, depth: 8 }));
  assert.deepEqual([...ga.data], [30, 30, 30, 40]);
  const rgb = decodePngRgba(encode({ width: 1, height: 1, data: new Uint8Array([1, 2, 3]), channels: 3, depth: 8 }));
  assert.deepEqual([...rgb.data], [1, 2, 3, 255]);
  const g16 = decodePngRgba(encodePngGray16(1, 1, new Uint16Array([0xabcd])));
  assert.deepEqual([...g16.data], [0xab, 0xab, 0xab, 255]);
  const pal = decodePngRgba(
    encode({ width: 2, height: 1, data: new Uint8Array([1, 0]), channels: 1, depth: 8, palette: [[9, 8, 7], [4, 5, 6]] }),
  );
  assert.deepEqual([...pal.data], [4, 5, 6, 255, 9, 8, 7, 255]);
});

test('errors name what was wrong', () => {
  assert.throws(() => encodePngGray8(4, 4, new Uint8Array(15)), /^Error: Image: .*needs 16 samples, got 15/);
  assert.throws(() => encodePngRgba({ width: 0, height: 2, data: new Uint8Array(0) }), /Image: size/);
  assert.throws(() => decodePng(new Uint8Array([1, 2, 3, 4])), /Image: not a readable PNG/);
  const rgb = encodePngRgba({ width: 1, height: 1, data: new Uint8Array([1, 2, 3, 4]) });
  assert.throws(() => decodePngGray(rgb), /Image: expected a single-channel .* got 4 channels/);
});

test('writeFileAtomic replaces the target and leaves no temporary files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'image-test-'));
  try {
    const target = join(dir, 'out.png');
    writeFileSync(target, 'old contents');
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...readFileSync(target)], [1, 2, 3]);
    writeFileAtomicSync(target, new Uint8Array([4, 5]));
    assert.deepEqual([...readFileSync(target)], [4, 5]);
    assert.deepEqual(readdirSync(dir), ['out.png']);

    // Renaming over a directory fails: the error names the path and the temporary file is gone.
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'child'), { recursive: true });
    await assert.rejects(writeFileAtomic(blocked, new Uint8Array([1])), /^Error: Image: could not write .*blocked/);
    assert.throws(() => writeFileAtomicSync(blocked, new Uint8Array([1])), /Image: could not write/);
    assert.deepEqual(readdirSync(dir).sort(), ['blocked', 'out.png']);
    // A missing directory: nothing is created.
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'x.png'), new Uint8Array([1])), /Image: could not write/);
    assert.deepEqual(readdirSync(dir).sort(), ['blocked', 'out.png']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
