/**
 * Model evaluation on a generated dataset (`partrm eval model`): for state pairs (a -> b) of
 * held-out objects, the model sees view 0 of state a and N drags propagated over the moving
 * part's ground-truth view-0 mask (as in training; or over a segmenter's mask) with the
 * displacement of a dataset drag a -> b; the predicted dragged state is rendered by the CPU
 * splat renderer at every dataset view (white background) and compared with the ground-truth
 * renders of state b: PSNR, SSIM, and PSNR inside the moving part (the union of its masks in
 * states a and b at that view). The no-motion baseline is the predicted initial state (zero
 * drags) scored the same way against state b.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodePngGray, decodePngRgba, type RgbaImage } from '../core/image.js';
import { Rng } from '../core/random.js';
import type { Camera } from '../core/camera.js';
import type { Drag } from '../core/types.js';
import { readDatasetIndex, readNpy } from '../dataset/read.js';
import type { ObjectEntry } from '../dataset/layout.js';
import { propagateDrags, propagateOperatorDrags } from '../drag/propagate.js';
import type { Mask, Segmenter } from '../drag/segmenter.js';
import { psnr, rgbaToImageF32, ssim, type ImageF32 } from '../gaussians/metrics.js';
import { renderGaussians } from '../gaussians/render.js';
import type { PartRMModel } from './model.js';

export interface EvaluateModelOptions {
  /** Splits to evaluate (default eval + unseen). */
  splits?: string[];
  /** At most this many state pairs per joint (default 2: closed -> open and open -> closed). */
  pairsPerJoint?: number;
  /** At most this many pairs in all (default unlimited). */
  limit?: number;
  /** Propagate with this segmenter instead of the ground-truth mask. */
  segmenter?: Segmenter;
  /** Drag sampling's preference for pixels near the click (default 0 = uniform, as training). */
  locality?: number;
  /** Render size (default the dataset's). */
  renderSize?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ScoreSet {
  psnr: number;
  ssim: number;
  /** PSNR inside the moving part's masks (states a and b). */
  psnrPart: number;
}

export interface PairResult {
  object: string;
  category: string;
  split: string;
  joint: string;
  from: string;
  to: string;
  predicted: ScoreSet;
  baseline: ScoreSet;
}

export interface GroupSummary {
  pairs: number;
  predicted: ScoreSet;
  baseline: ScoreSet;
  /** predicted.psnrPart - baseline.psnrPart */
  gainPartDb: number;
}

export interface ModelEvaluation {
  model: string;
  data: string;
  propagation: string;
  pairs: PairResult[];
  bySplit: Record<string, GroupSummary>;
  byCategory: Record<string, GroupSummary>;
  ms: number;
}

function mean(values: number[]): number {
  const v = values.filter(Number.isFinite);
  return v.length ? v.reduce((s, x) => s + x, 0) / v.length : Number.NaN;
}

function summarise(pairs: PairResult[]): GroupSummary {
  const pick = (f: (p: PairResult) => number): number => mean(pairs.map(f));
  const predicted = { psnr: pick((p) => p.predicted.psnr), ssim: pick((p) => p.predicted.ssim), psnrPart: pick((p) => p.predicted.psnrPart) };
  const baseline = { psnr: pick((p) => p.baseline.psnr), ssim: pick((p) => p.baseline.ssim), psnrPart: pick((p) => p.baseline.psnrPart) };
  return { pairs: pairs.length, predicted, baseline, gainPartDb: predicted.psnrPart - baseline.psnrPart };
}

function downsampleRgba(img: RgbaImage, size: number): RgbaImage {
  if (img.width === size && img.height === size) return img;
  const k = img.width / size;
  if (!Number.isInteger(k) || img.height / size !== k) throw new Error(`evaluateModel: render size ${size} must divide the dataset size ${img.width}`);
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 4; c++) {
        let s = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) s += img.data[((y * k + dy) * img.width + x * k + dx) * 4 + c]!;
        data[(y * size + x) * 4 + c] = Math.round(s / (k * k));
      }
    }
  }
  return { width: size, height: size, data };
}

function downsampleMask(m: Uint8Array, width: number, size: number): Uint8Array {
  const k = width / size;
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = m[(y * k + (k >> 1)) * width + x * k + (k >> 1)]!;
  return out;
}

/** Scores of one rendered state against ground truth at every view. */
function score(renders: ImageF32[], truths: ImageF32[], partMasks: Uint8Array[]): ScoreSet {
  const ps: number[] = [], ss: number[] = [], pp: number[] = [];
  renders.forEach((r, v) => {
    ps.push(psnr(r, truths[v]!));
    ss.push(ssim(r, truths[v]!));
    const m = partMasks[v]!;
    if (m.some((x) => x)) pp.push(psnr(r, truths[v]!, m));
  });
  return { psnr: mean(ps), ssim: mean(ss), psnrPart: mean(pp) };
}

export async function evaluateModel(root: string, model: PartRMModel, options: EvaluateModelOptions = {}): Promise<ModelEvaluation> {
  const t0 = performance.now();
  const index = await readDatasetIndex(root);
  const splits = options.splits ?? ['eval', 'unseen'];
  const pairsPerJoint = options.pairsPerJoint ?? 2;
  const rng = new Rng(options.seed ?? 0);
  const size = options.renderSize ?? index.generator.size;
  const cameras: Camera[] = index.cameras.map((c) => {
    const k = c.intrinsics;
    const s = size / k.width;
    return {
      intrinsics: { width: size, height: size, fx: k.fx * s, fy: k.fy * s, cx: k.cx * s, cy: k.cy * s },
      camToWorld: Float64Array.from(c.camToWorld.flat()),
    };
  });
  // The work list: (object, drag series, a, b).
  const work: Array<{ obj: ObjectEntry; series: number; a: number; b: number }> = [];
  for (const obj of index.objects) {
    if (!splits.includes(obj.split)) continue;
    obj.drags.forEach((d, si) => {
      const S = d.states.length;
      const pairs: Array<[number, number]> = [[0, S - 1], [S - 1, 0], [0, Math.floor(S / 2)], [S - 1, Math.floor(S / 2)]];
      let taken = 0;
      for (const [a, b] of pairs) {
        if (taken >= pairsPerJoint || a === b) continue;
        if ((d.counts[a]?.[b] ?? 0) === 0) continue;
        work.push({ obj, series: si, a, b });
        taken++;
      }
    });
  }
  if (options.limit !== undefined) work.splice(options.limit);
  if (work.length === 0) throw new Error(`evaluateModel: ${root} has no state pairs with drags in split(s) ${splits.join(', ')}`);

  const results: PairResult[] = [];
  const m = model.manifest;
  for (const [wi, w] of work.entries()) {
    const d = w.obj.drags[w.series]!;
    const joint = w.obj.joints[d.joint]!;
    const label = joint.child + 1;
    const stA = w.obj.states.find((s) => s.id === d.states[w.a])!;
    const stB = w.obj.states.find((s) => s.id === d.states[w.b])!;
    const npy = await readNpy(root, d.file);
    const [S, , K] = npy.shape as [number, number, number, number];
    const k = rng.int(0, (d.counts[w.a]?.[w.b] ?? 1) - 1);
    const o = ((w.a * S + w.b) * K + k) * 4;
    const operator: Drag = { start: [Number(npy.data[o]), Number(npy.data[o + 1])], end: [Number(npy.data[o + 2]), Number(npy.data[o + 3])] };
    // The model's input: view 0 of state a, opaque (its rgb is already composited on white).
    const input = decodePngRgba(await readFile(join(root, stA.rgba[0]!)));
    const opaque: RgbaImage = { ...input, data: input.data.slice() };
    for (let p = 3; p < opaque.data.length; p += 4) opaque.data[p] = 255;
    let drags: Drag[];
    if (options.segmenter) {
      drags = (await propagateOperatorDrags(opaque, [operator], options.segmenter, m.drags, rng.fork(wi), { locality: options.locality ?? 0 })).drags;
    } else {
      const gt = decodePngGray(await readFile(join(root, stA.mask[0]!)));
      const mask: Mask = { width: gt.width, height: gt.height, data: new Uint8Array(gt.width * gt.height) };
      for (let p = 0; p < mask.data.length; p++) mask.data[p] = gt.data[p] === label ? 1 : 0;
      drags = propagateDrags(mask, operator, m.drags, rng.fork(wi), { locality: options.locality ?? 0 });
    }
    const pred = await model.predict({ image: opaque, drags });
    const renders = (set: typeof pred.initial): ImageF32[] =>
      cameras.map((cam) => ({ width: size, height: size, channels: 3 as const, data: renderGaussians(set, cam, { background: [1, 1, 1] }).rgb }));
    const truths: ImageF32[] = [];
    const partMasks: Uint8Array[] = [];
    for (let v = 0; v < cameras.length; v++) {
      truths.push(rgbaToImageF32(downsampleRgba(decodePngRgba(await readFile(join(root, stB.rgba[v]!))), size)));
      const ma = decodePngGray(await readFile(join(root, stA.mask[v]!)));
      const mb = decodePngGray(await readFile(join(root, stB.mask[v]!)));
      const union = new Uint8Array(ma.width * ma.height);
      for (let p = 0; p < union.length; p++) union[p] = ma.data[p] === label || mb.data[p] === label ? 1 : 0;
      partMasks.push(downsampleMask(union, ma.width, size));
    }
    results.push({
      object: w.obj.id,
      category: w.obj.category,
      split: w.obj.split,
      joint: joint.name,
      from: stA.id,
      to: stB.id,
      predicted: score(renders(pred.dragged), truths, partMasks),
      baseline: score(renders(pred.initial), truths, partMasks),
    });
    options.onProgress?.(wi + 1, work.length);
  }
  const group = (key: (p: PairResult) => string): Record<string, GroupSummary> => {
    const out: Record<string, PairResult[]> = {};
    for (const r of results) (out[key(r)] ??= []).push(r);
    return Object.fromEntries(Object.entries(out).map(([k2, v]) => [k2, summarise(v)]));
  };
  return {
    model: m.path,
    data: root,
    propagation: `${options.segmenter ? options.segmenter.name : 'ground-truth part mask (as in training)'}, locality ${options.locality ?? 0}`,
    pairs: results,
    bySplit: { all: summarise(results), ...group((p) => p.split) },
    byCategory: group((p) => p.category),
    ms: performance.now() - t0,
  };
}
