import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RgbaImage } from '../src/core/image.js';
import { SamOnnxSegmenter, maskArea, samResizeShape } from '../src/drag/index.js';

const ENC = 'test/fixtures/sam/encoder.onnx';
const DEC = 'test/fixtures/sam/decoder.onnx';

function image(width: number, height: number): RgbaImage {
  return { width, height, data: new Uint8Array(width * height * 4).fill(200) };
}

function centroid(m: { width: number; data: Uint8Array }): [number, number] {
  let sx = 0, sy = 0, n = 0;
  for (let p = 0; p < m.data.length; p++) {
    if (!m.data[p]) continue;
    sx += (p % m.width) + 0.5;
    sy += Math.floor(p / m.width) + 0.5;
    n++;
  }
  return [sx / n, sy / n];
}

describe('SamOnnxSegmenter (fake SAM-export-shaped encoder/decoder)', () => {
  let smallest: SamOnnxSegmenter;
  before(async () => {
    smallest = await SamOnnxSegmenter.load({ encoder: ENC, decoder: DEC, inWorker: false });
  });
  after(async () => {
    await smallest.dispose();
  });

  it('resizes the long side to 1024 like ResizeLongestSide', () => {
    assert.deepEqual(samResizeShape(200, 100, 1024), { width: 1024, height: 512 });
    assert.deepEqual(samResizeShape(480, 640, 1024), { width: 768, height: 1024 });
  });

  it('maps the click into the encoder frame and keeps the smallest mask (PartRM)', async () => {
    const m = await smallest.segment(image(200, 100), [50, 40]);
    assert.equal(m.width, 200);
    const [cx, cy] = centroid(m);
    assert.ok(Math.abs(cx - 50) < 1 && Math.abs(cy - 40) < 1, `centroid ${cx}, ${cy}`);
    const r = (60 * 200) / 1024; // radius 60 in the 1024 frame
    const area = maskArea(m);
    assert.ok(Math.abs(area - Math.PI * r * r) / (Math.PI * r * r) < 0.15, `area ${area}`);
  });

  it("'best' keeps the mask with the highest predicted IoU", async () => {
    const best = await SamOnnxSegmenter.load({ encoder: ENC, decoder: DEC, inWorker: false, select: 'best' });
    try {
      const m = await best.segment(image(200, 100), [50, 40]);
      const r = (120 * 200) / 1024;
      assert.ok(Math.abs(maskArea(m) - Math.PI * r * r) / (Math.PI * r * r) < 0.15);
    } finally {
      await best.dispose();
    }
  });

  it('names missing or mismatched models', async () => {
    await assert.rejects(SamOnnxSegmenter.load({ encoder: '/nonexistent.onnx', decoder: DEC }), /SamOnnxSegmenter: encoder model \/nonexistent\.onnx does not exist/);
    await assert.rejects(SamOnnxSegmenter.load({ encoder: DEC, decoder: DEC, inWorker: false }), /SamOnnxSegmenter: encoder .* must take one image input/);
    await assert.rejects(SamOnnxSegmenter.load({ encoder: ENC, decoder: ENC, inWorker: false }), /SamOnnxSegmenter: decoder .* lacks input\(s\) image_embeddings, point_coords/);
  });
});
