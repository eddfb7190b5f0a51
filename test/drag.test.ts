import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RgbaImage } from '../src/core/image.js';
import { Rng } from '../src/core/random.js';
import { DEFAULT_GENERATE, generateDataset } from '../src/dataset/generate.js';
import {
  GraphSegmenter,
  type GraphSegmenterOptions,
  RegionGrowSegmenter,
  maskThickness,
  evaluateSegmenter,
  fillHoles,
  foregroundOf,
  maskIou,
  propagateDrags,
  propagateOperatorDrags,
  type Mask,
  type Segmenter,
} from '../src/drag/index.js';

/** Two flat panels (left red, right blue, a dark seam between) on a transparent background, a white knob on the red one. */
function panels(): RgbaImage {
  const W = 40, H = 30;
  const data = new Uint8Array(W * H * 4);
  for (let y = 5; y < 25; y++) {
    for (let x = 5; x < 35; x++) {
      const o = (y * W + x) * 4;
      const c = x === 20 ? [20, 20, 20] : x < 20 ? [200, 40, 40] : [40, 40, 200];
      const knob = (x - 10) ** 2 + (y - 15) ** 2 <= 2;
      data.set(knob ? [250, 250, 250, 255] : [...c, 255], o);
    }
  }
  return { width: W, height: H, data };
}

function rectMask(W: number, H: number, x0: number, x1: number, y0: number, y1: number): Mask {
  const data = new Uint8Array(W * H);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * W + x] = 1;
  return { width: W, height: H, data };
}

for (const seg of [new GraphSegmenter(), new RegionGrowSegmenter()]) describe(seg.name.split(' ')[0]!, () => {
  const cases: Array<[string, [number, number], Mask]> = [
    ['a click on the left panel', [8.5, 20.5], rectMask(40, 30, 5, 20, 5, 25)],
    ['a click on the right panel', [30.2, 10.7], rectMask(40, 30, 21, 35, 5, 25)],
    ['a click on the knob (selects the panel around it)', [10.5, 15.5], rectMask(40, 30, 5, 20, 5, 25)],
  ];
  for (const [name, point, want] of cases) {
    it(`segments ${name}`, async () => {
      const m = await seg.segment(panels(), point);
      assert.ok(maskIou(m, want) > 0.9, `IoU ${maskIou(m, want).toFixed(3)}`);
    });
  }
  it('returns an empty mask for a click on the background and rejects points outside the image', async () => {
    const m = await seg.segment(panels(), [1, 1]);
    assert.equal(m.data.reduce((a, b) => a + b, 0), 0);
    await assert.rejects(seg.segment(panels(), [41, 3]), /Segmenter: point \(41, 3\) lies outside the 40x30 image/);
    await assert.rejects(seg.segment(panels(), [Number.NaN, 3]), /must be finite/);
  });
  it('treats the white background of an opaque image as background', async () => {
    const img = panels();
    for (let p = 0; p < img.width * img.height; p++) if (img.data[4 * p + 3] === 0) img.data.set([255, 255, 255, 255], 4 * p);
    assert.deepEqual(Array.from(foregroundOf(img).slice(0, 3)), [0, 0, 0]);
    const m = await seg.segment(img, [8.5, 20.5]);
    assert.ok(maskIou(m, rectMask(40, 30, 5, 20, 5, 25)) > 0.9);
  });
  it('segments a large image at a downsampled copy and returns a full-size mask', async () => {
    const small = panels();
    const k = 4;
    const big = { width: small.width * k, height: small.height * k, data: new Uint8Array(small.width * k * small.height * k * 4) };
    for (let y = 0; y < big.height; y++) for (let x = 0; x < big.width; x++) {
      const s = (Math.floor(y / k) * small.width + Math.floor(x / k)) * 4;
      big.data.set(small.data.subarray(s, s + 4), (y * big.width + x) * 4);
    }
    const tiny = seg.name.startsWith('graph') ? new GraphSegmenter({ maxSide: 50 }) : new RegionGrowSegmenter({ maxSide: 50 });
    const m = await tiny.segment(big, [8.5 * k, 20.5 * k]);
    assert.equal(m.data.length, big.width * big.height);
    if (seg instanceof GraphSegmenter) assert.equal(m.extent?.length, big.width * big.height, 'the extent is upsampled too');
    assert.ok(maskIou(m, rectMask(big.width, big.height, 5 * k, 20 * k, 5 * k, 25 * k)) > 0.85);
  });
  it('fills holes', () => {
    const m = rectMask(5, 5, 0, 5, 0, 5);
    m.data[12] = 0;
    assert.equal(fillHoles(m).data[12], 1);
  });
});

/** A grey textured panel (`grey(x, y)`) beside a blue one, a dark seam between. */
function texturedPanels(grey: (x: number, y: number) => number): RgbaImage {
  const W = 60, H = 40;
  const data = new Uint8Array(W * H * 4);
  for (let y = 4; y < 36; y++) {
    for (let x = 4; x < 56; x++) {
      const v = grey(x, y);
      data.set([...(x === 30 ? [20, 20, 20] : x < 30 ? [v, v, v + 10] : [40, 40, 200]), 255], (y * W + x) * 4);
    }
  }
  return { width: W, height: H, data };
}

/** Brushed metal: grey rows that vary in brightness, as the dataset's textures. */
const stripedPanels = (): RgbaImage => texturedPanels((_x, y) => 150 + ((y * 7) % 5) * 12 + Math.round(y * 0.8));

/** 6 px wide vertical planks in two close greys (21 rgb units apart). */
const plankPanels = (): RgbaImage => texturedPanels((x) => (Math.floor((x - 4) / 6) % 2 ? 162 : 150));

describe('GraphSegmenter on textures', () => {
  const left = rectMask(60, 40, 4, 30, 4, 36), right = rectMask(60, 40, 31, 56, 4, 36);
  const big = (iou: number): boolean => iou > 0.95, small = (iou: number): boolean => iou < 0.5;
  // name, image, options, click, the panel clicked, test of the mask's IoU with it, of the extent's (undefined: no extent)
  type Row = [string, () => RgbaImage, Partial<GraphSegmenterOptions>, [number, number], Mask, (iou: number) => boolean, ((iou: number) => boolean) | undefined];
  const table: Row[] = [
    ['retries a one-row stripe and returns the whole striped panel (defaults)', stripedPanels, {}, [12.5, 20.5], left, big, big],
    ['without the thickness retry a click on stripes selects a stripe; its extent is the panel', stripedPanels, { minThickness: 0 }, [12.5, 20.5], left, small, big],
    ['a click on planks of close colours selects one plank; its extent is the panel (defaults)', plankPanels, {}, [12.5, 20.5], left, small, big],
    ['gives no extent with extentMerge 0', plankPanels, { extentMerge: 0 }, [12.5, 20.5], left, small, undefined],
    ['does not extend across the seam into the blue panel', plankPanels, {}, [45.5, 20.5], right, big, big],
  ];
  for (const [name, image, options, click, want, maskOk, extentOk] of table) {
    it(name, async () => {
      const m = await new GraphSegmenter(options).segment(image(), click);
      const iou = maskIou(m, want);
      assert.ok(maskOk(iou), `mask IoU ${iou.toFixed(3)}`);
      if (!extentOk) return assert.equal(m.extent, undefined);
      assert.ok(m.extent, 'an extent');
      const e = maskIou({ width: m.width, height: m.height, data: m.extent }, want);
      assert.ok(extentOk(e), `extent IoU ${e.toFixed(3)}`);
      for (let p = 0; p < m.data.length; p++) if (m.data[p]) assert.equal(m.extent[p], 1, 'the extent covers the mask');
    });
  }
  it('measures thickness as twice the inscribed city-block radius', () => {
    const cases: Array<[string, Mask, number]> = [
      ['a one-pixel line', rectMask(20, 20, 2, 18, 5, 6), 2],
      ['a 10 x 10 square', rectMask(20, 20, 5, 15, 5, 15), 10],
      ['a 4 x 12 bar', rectMask(20, 20, 2, 14, 3, 7), 4],
      ['nothing', rectMask(20, 20, 0, 0, 0, 0), 0],
    ];
    for (const [what, m, want] of cases) assert.equal(maskThickness(m.data, m.width, m.height), want, what);
  });
});

describe('propagateDrags', () => {
  it('samples N distinct mask pixels and gives each the operator displacement, clamped', () => {
    const mask = rectMask(40, 30, 5, 20, 5, 25);
    const drags = propagateDrags(mask, { start: [10, 10], end: [40, 12] }, 10, new Rng(3));
    assert.equal(drags.length, 10);
    const keys = new Set(drags.map((d) => `${d.start[0]},${d.start[1]}`));
    assert.equal(keys.size, 10);
    for (const d of drags) {
      // Eroded by one pixel: starts at least one pixel inside the mask's border.
      assert.ok(d.start[0] >= 6.5 && d.start[0] <= 18.5 && d.start[1] >= 6.5 && d.start[1] <= 23.5, `start ${d.start}`);
      assert.equal(d.end[1], d.start[1] + 2);
      assert.equal(d.end[0], Math.min(40, d.start[0] + 30));
    }
    assert.deepEqual(propagateDrags(mask, { start: [10, 10], end: [40, 12] }, 10, new Rng(3)), drags, 'deterministic for a seed');
  });
  it('prefers pixels near the click (locality), uniform with locality 0', () => {
    const mask = rectMask(100, 100, 0, 100, 0, 100);
    const meanDist = (locality: number): number => {
      const d = propagateDrags(mask, { start: [20, 20], end: [30, 30] }, 50, new Rng(9), { locality });
      return d.reduce((s, x) => s + Math.hypot(x.start[0] - 20, x.start[1] - 20), 0) / d.length;
    };
    assert.ok(meanDist(0.1) < 20, `local ${meanDist(0.1)}`);
    assert.ok(meanDist(0) > 40, `uniform ${meanDist(0)}`);
  });
  it('repeats pixels of a tiny mask and rejects an empty one', () => {
    const tiny = rectMask(10, 10, 2, 4, 2, 3);
    const d = propagateDrags(tiny, { start: [2, 2], end: [3, 3] }, 5, new Rng(1));
    assert.equal(d.length, 5);
    assert.throws(() => propagateDrags(rectMask(10, 10, 0, 0, 0, 0), { start: [2, 2], end: [3, 3] }, 5, new Rng(1)), /part mask is empty/);
  });
  it('shares N between operator drags and falls back to the operator drag for an empty mask', async () => {
    const emptyFirst: Segmenter = {
      name: 'test',
      segment: async (img, p) => (p[0] < 10 ? { width: img.width, height: img.height, data: new Uint8Array(img.width * img.height) } : rectMask(40, 30, 21, 35, 5, 25)),
    };
    const r = await propagateOperatorDrags(panels(), [{ start: [2, 2], end: [4, 4] }, { start: [30, 10], end: [30, 20] }], emptyFirst, 5, new Rng(2));
    assert.equal(r.drags.length, 5);
    assert.deepEqual(r.fallbacks, [0]);
    assert.deepEqual(r.drags.slice(0, 3).map((d) => d.start), [[2, 2], [2, 2], [2, 2]]);
    assert.ok(r.drags.slice(3).every((d) => d.start[0] > 21 && d.end[1] === Math.min(30, d.start[1] + 10)));
    await assert.rejects(propagateOperatorDrags(panels(), [], emptyFirst, 5, new Rng(2)), /at least one operator drag/);
  });
});

describe('segmenter on dataset renders', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'partrm-drag-'));
    await generateDataset({
      ...DEFAULT_GENERATE,
      out: join(dir, 'd'),
      objects: 3,
      categories: ['dishwasher', 'oven', 'storage_furniture'],
      size: 96,
      views: 1,
      statesPerPart: 2,
      points: 3000,
      dragsPerPair: 4,
      seed: 7,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const seg of [new GraphSegmenter(), new RegionGrowSegmenter()]) {
    it(`${seg.name.split(' ')[0]} finds the clicked part: mean IoU and precision well above chance`, async () => {
      const score = await evaluateSegmenter(join(dir, 'd'), seg, { clicksPerState: 2, statesPerJoint: 2 });
      assert.ok(score.clicks >= 8, `clicks ${score.clicks}`);
      assert.ok(score.meanIou > 0.4, `mean IoU ${score.meanIou.toFixed(3)}`);
      assert.ok(score.meanPrecision > 0.6, `mean precision ${score.meanPrecision.toFixed(3)}`);
    });
  }
});
