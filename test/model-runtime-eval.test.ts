import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../src/cli/main.js';
import { decodePngRgba } from '../src/core/image.js';
import { DEFAULT_GENERATE, generateDataset } from '../src/dataset/generate.js';
import { readDatasetIndex } from '../src/dataset/read.js';
import { psnr, rgbaToImageF32 } from '../src/gaussians/metrics.js';
import { renderGaussians } from '../src/gaussians/render.js';
import { evaluateModel } from '../src/model/evaluate.js';
import { PartRMModel } from '../src/model/model.js';

const PART_MANIFEST = 'test/fixtures/model-runtime/part-manifest.json';

describe('evaluateModel / partrm eval model (fixture model, generated data)', () => {
  let dir: string;
  let model: PartRMModel;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'partrm-eval-'));
    // One trashcan (the unseen category) and one dishwasher, 3 views at 64 px.
    await generateDataset({ ...DEFAULT_GENERATE, out: join(dir, 'd'), objects: 2, categories: ['trashcan', 'dishwasher'], size: 64, views: 3, statesPerPart: 2, points: 1500, dragsPerPair: 2, seed: 5 });
    model = await PartRMModel.load(PART_MANIFEST, { inWorker: false });
  });
  after(async () => {
    await model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the model frame and the dataset cameras agree: the input view re-renders the input', async () => {
    const root = join(dir, 'd');
    const index = await readDatasetIndex(root);
    const state = index.objects[0]!.states[0]!;
    const image = decodePngRgba(readFileSync(join(root, state.rgba[0]!)));
    for (let p = 3; p < image.data.length; p += 4) image.data[p] = 255;
    const pred = await model.predict({ image, drags: [{ start: [32, 32], end: [32, 32] }] });
    const c = index.cameras[0]!;
    const r = renderGaussians(pred.initial, { intrinsics: c.intrinsics, camToWorld: Float64Array.from(c.camToWorld.flat()) });
    const score = psnr({ width: 64, height: 64, channels: 3, data: r.rgb }, rgbaToImageF32(image));
    assert.ok(score > 20, `view-0 PSNR ${score.toFixed(2)}`);
  });

  it('scores predicted and no-motion states per split and category', async () => {
    const r = await evaluateModel(join(dir, 'd'), model, { splits: ['train', 'unseen'], pairsPerJoint: 1 });
    assert.ok(r.pairs.length >= 2);
    assert.deepEqual(Object.keys(r.bySplit).sort(), ['all', 'train', 'unseen']);
    assert.ok(r.byCategory['trashcan'] && r.byCategory['dishwasher']);
    for (const p of r.pairs) {
      for (const s of [p.predicted, p.baseline]) {
        assert.ok(Number.isFinite(s.psnr) && s.psnr > 5 && s.psnr < 60, `psnr ${s.psnr}`);
        assert.ok(s.ssim > 0 && s.ssim <= 1);
        assert.ok(Number.isFinite(s.psnrPart));
      }
    }
    assert.ok(Math.abs(r.bySplit['all']!.gainPartDb - (r.bySplit['all']!.predicted.psnrPart - r.bySplit['all']!.baseline.psnrPart)) < 1e-9);
  });

  it('partrm eval model --json prints the same structure; no pairs is a clear error', async () => {
    const log = console.log;
    let out = '';
    console.log = (...a: unknown[]) => (out += a.join(' '));
    try {
      await main(['node', 'partrm', 'eval', 'model', '--data', join(dir, 'd'), '--model', PART_MANIFEST, '--splits', 'unseen', '--pairs', '1', '--json']);
    } finally {
      console.log = log;
    }
    const j = JSON.parse(out) as { bySplit: Record<string, { pairs: number }>; provider: string };
    assert.equal(j.bySplit['unseen']!.pairs, 1);
    await assert.rejects(evaluateModel(join(dir, 'd'), model, { splits: ['eval'] }), /evaluateModel: .* has no state pairs with drags in split\(s\) eval/);
  });
});
