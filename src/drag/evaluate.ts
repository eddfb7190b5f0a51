/**
 * Measures a segmenter against a generated dataset's part masks: for every joint's states, the
 * view-0 image is clicked at the drag start points of that state (visible points of the moving
 * part) and the predicted mask is compared with the moving part's ground-truth mask.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodePngGray, decodePngRgba } from '../core/image.js';
import { readDatasetIndex, readNpy } from '../dataset/read.js';
import { type Mask, type Segmenter, maskIou } from './segmenter.js';

export interface SegmenterScore {
  segmenter: string;
  clicks: number;
  meanIou: number;
  medianIou: number;
  /** Mean share of the predicted mask that lies on the right part (what drag sampling needs). */
  meanPrecision: number;
  /** Mean share of the sampled drag start pixels that land on the right part. */
  perCategory: Record<string, { clicks: number; meanIou: number; meanPrecision: number }>;
  /** The same for the masks' `extent`, when the segmenter gives one. */
  extent?: { meanIou: number; meanPrecision: number };
  ms: number;
}

export interface EvaluateOptions {
  /** Clicks per state (default 2). */
  clicksPerState?: number;
  /** States per joint, spread over the series (default 2). */
  statesPerJoint?: number;
  /** Only these splits (default all). */
  splits?: string[];
}

/** Share of a predicted mask's pixels on the ground-truth part (0 for an empty mask). */
function precisionOf(predicted: Uint8Array, truth: Uint8Array): number {
  let inter = 0, area = 0;
  for (let p = 0; p < truth.length; p++) {
    area += predicted[p]!;
    inter += predicted[p]! & truth[p]!;
  }
  return area === 0 ? 0 : inter / area;
}

export async function evaluateSegmenter(root: string, segmenter: Segmenter, options: EvaluateOptions = {}): Promise<SegmenterScore> {
  const index = await readDatasetIndex(root);
  const perState = options.clicksPerState ?? 2;
  const statesPerJoint = options.statesPerJoint ?? 2;
  const ious: number[] = [];
  const precisions: number[] = [];
  const extentIous: number[] = [];
  const extentPrecisions: number[] = [];
  const cats: Record<string, { ious: number[]; precisions: number[] }> = {};
  const t0 = performance.now();
  for (const obj of index.objects) {
    if (options.splits && !options.splits.includes(obj.split)) continue;
    for (const d of obj.drags) {
      const joint = obj.joints[d.joint]!;
      const label = joint.child + 1;
      const npy = await readNpy(root, d.file);
      const [S, , K] = npy.shape as [number, number, number, number];
      const steps = statesPerJoint >= S ? [...Array(S).keys()] : [...Array(statesPerJoint).keys()].map((i) => Math.round((i * (S - 1)) / Math.max(1, statesPerJoint - 1)));
      for (const a of steps) {
        const state = obj.states.find((s) => s.id === d.states[a]);
        if (!state) continue;
        const b = a === 0 ? S - 1 : 0;
        const count = d.counts[a]?.[b] ?? 0;
        if (count === 0) continue;
        const image = decodePngRgba(await readFile(join(root, state.rgba[0]!)));
        const gtRaw = decodePngGray(await readFile(join(root, state.mask[0]!)));
        const gt: Mask = { width: gtRaw.width, height: gtRaw.height, data: new Uint8Array(gtRaw.width * gtRaw.height) };
        for (let p = 0; p < gt.data.length; p++) gt.data[p] = gtRaw.data[p] === label ? 1 : 0;
        for (let k = 0; k < Math.min(perState, count); k++) {
          const o = ((a * S + b) * K + k) * 4;
          const x = Number(npy.data[o]), y = Number(npy.data[o + 1]);
          const mask = await segmenter.segment(image, [x, y]);
          const iou = maskIou(mask, gt);
          const precision = precisionOf(mask.data, gt.data);
          if (mask.extent) {
            extentIous.push(maskIou({ width: mask.width, height: mask.height, data: mask.extent }, gt));
            extentPrecisions.push(precisionOf(mask.extent, gt.data));
          }
          ious.push(iou);
          precisions.push(precision);
          const c = (cats[obj.category] ??= { ious: [], precisions: [] });
          c.ious.push(iou);
          c.precisions.push(precision);
        }
      }
    }
  }
  const mean = (a: number[]): number => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : Number.NaN);
  const sorted = [...ious].sort((a, b) => a - b);
  const perCategory: SegmenterScore['perCategory'] = {};
  for (const [k, v] of Object.entries(cats)) perCategory[k] = { clicks: v.ious.length, meanIou: mean(v.ious), meanPrecision: mean(v.precisions) };
  return {
    segmenter: segmenter.name,
    clicks: ious.length,
    meanIou: mean(ious),
    medianIou: sorted.length ? sorted[sorted.length >> 1]! : Number.NaN,
    meanPrecision: mean(precisions),
    perCategory,
    ...(extentIous.length === ious.length && ious.length > 0 ? { extent: { meanIou: mean(extentIous), meanPrecision: mean(extentPrecisions) } } : {}),
    ms: performance.now() - t0,
  };
}
