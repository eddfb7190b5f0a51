/**
 * Model runtime and pipeline figures on this machine:
 * - inference: ms per prediction (both states, one batched forward where the model allows), CPU
 *   unless CUDA loads; session load time;
 * - pipeline: image + drags -> URDF on the bundled sample (samples/cabinet), median wall time, the
 *   share spent outside the model (and its milliseconds), per-step medians, peak RSS;
 * - accuracy: the full pipeline (image + one dataset drag -> joint) on freshly generated objects
 *   (seeds never trained on): joint type accuracy and median axis angle error, trashcan (the
 *   unseen category) separately; for the default joint step (drag joint) and for the free
 *   two-state fit on the same predictions (keys accuracy_fit_*);
 * - segmenters: mean IoU (and precision) of the weight-free segmenters with the part under the click on
 *   the view-0 images of a freshly generated dataset (all 8 categories), also of the graph
 *   segmenter's mask extent (what the joint step uses).
 *
 * Usage: npx tsx bench/pipeline.ts [--model models/manifest.json] [--runs 5] [--objects 16] [--size 256]
 *        [--accuracy-objects 48] [--accuracy-seed 987654] [--providers cpu] [--json]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDragsFile, readImageFile } from '../src/cli/run.js';
import { DEFAULT_GENERATE, generateDataset } from '../src/dataset/generate.js';
import { evaluateSegmenter } from '../src/drag/evaluate.js';
import { GraphSegmenter } from '../src/drag/graph.js';
import { RegionGrowSegmenter } from '../src/drag/region.js';
import { PartRMModel } from '../src/model/model.js';
import { axisAngleErrorDeg, lineDistance } from '../src/articulation/rigid.js';
import { decodePngRgba } from '../src/core/image.js';
import { readNpy } from '../src/dataset/read.js';
import { transformPoint } from '../src/core/math.js';
import { normalisationMatrix } from '../src/dataset/scene.js';
import { readFile } from 'node:fs/promises';
import type { ExecutionProvider } from '../src/model/session.js';
import { PartRMPipeline, defaultManifestPath, resolveManifestPath } from '../src/pipeline.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const json = process.argv.includes('--json');
const runs = Number(arg('runs', '5'));
const objects = Number(arg('objects', '16'));
const size = Number(arg('size', '256'));
const providers = arg('providers', 'cuda,cpu').split(',') as ExecutionProvider[];
const fallbackModel = 'test/fixtures/model-runtime/part-manifest.json';
const modelArg = arg('model', existsSync(defaultManifestPath()) ? defaultManifestPath() : fallbackModel);
const manifestPath = resolveManifestPath(modelArg);
const pipelineModelIsFixture = manifestPath.includes('test/fixtures/');

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? (s.length % 2 ? s[s.length >> 1]! : 0.5 * (s[s.length / 2 - 1]! + s[s.length / 2]!)) : Number.NaN;
};
const results: Record<string, unknown> = { model: manifestPath, runs };
const say = (k: string, v: string | number): void => {
  results[k] = v;
  if (!json) console.log(`${k} ${typeof v === 'number' ? Number(v.toFixed(3)) : v}`);
};

const image = readImageFile('samples/cabinet/image.png');
const drags = readDragsFile('samples/cabinet/drags.json');

// Inference.
{
  const t0 = performance.now();
  const model = await PartRMModel.load(manifestPath, { providers });
  say('session_load_ms', performance.now() - t0);
  say('provider', model.provider);
  say('model_config', `${model.manifest.config} V=${model.manifest.views} ${model.manifest.width}x${model.manifest.height} N=${model.manifest.drags} G=${model.manifest.gaussians}`);
  const times: number[] = [];
  await model.predict({ image, drags }); // warm-up
  for (let i = 0; i < runs; i++) {
    const p = await model.predict({ image, drags });
    times.push(p.timings.inferenceMs);
  }
  say('inference_ms_per_prediction_median', median(times));
  say('inference_ms_per_prediction_min', Math.min(...times));
  await model.dispose();
}

// Pipeline on the bundled sample.
{
  const pipeline = await PartRMPipeline.create({ model: manifestPath, session: { providers } });
  const totals: number[] = [];
  const steps: Record<string, number[]> = {};
  let joint = '';
  const outDir = await mkdtemp(join(tmpdir(), 'partrm-bench-model-'));
  try {
    await pipeline.run({ image, drags }); // warm-up
    for (let i = 0; i < runs; i++) {
      const r = await pipeline.run({ image, drags, outDir: join(outDir, String(i)) });
      totals.push(r.timings['total']!);
      for (const [k, v] of Object.entries(r.timings)) (steps[k] ??= []).push(v);
      const j = r.articulation.joints[0];
      if (j) joint = `${j.type} axis [${j.axis.map((v) => v.toFixed(3)).join(', ')}]`;
    }
  } finally {
    await pipeline.dispose();
    await rm(outDir, { recursive: true, force: true });
  }
  say('pipeline_ms_median', median(totals));
  for (const [k, v] of Object.entries(steps)) if (k !== 'total') say(`pipeline_${k}_ms_median`, median(v));
  const inference = median(steps['inference'] ?? []);
  say('pipeline_share_outside_model', 1 - inference / median(totals));
  // The same in milliseconds: a budget for the code around the model that does not depend on how
  // large the model is.
  say('pipeline_outside_model_ms_median', median(totals.map((total, i) => total - steps['inference']![i]!)));
  say('pipeline_joint', joint);
  say('peak_rss_mb', process.resourceUsage().maxRSS / 1024);
}

// Pipeline accuracy on held-out seeds: the default joint step (drag joint) and, as an ablation, the
// free two-state fit on the same predictions.
{
  const accObjects = Number(arg('accuracy-objects', '48'));
  const accSeed = Number(arg('accuracy-seed', '987654'));
  const dir = await mkdtemp(join(tmpdir(), 'partrm-bench-acc-'));
  try {
    const index = await generateDataset({ ...DEFAULT_GENERATE, out: join(dir, 'd'), objects: accObjects, size, views: 1, statesPerPart: 6, points: 2000, dragsPerPair: 4, seed: accSeed });
    say('accuracy_dataset', `${accObjects} objects, seed ${accSeed} (never trained on), ${size}px, one drag closed -> open per joint`);
    if (pipelineModelIsFixture) say('accuracy_note', 'analytic fixture model (moves the dragged region towards the camera): figures are not a model result');
    for (const method of ['drags', 'fit'] as const) {
      const pipeline = await PartRMPipeline.create({ model: manifestPath, session: { providers }, joint: method });
      const groups: Record<string, { n: number; typeOk: number; angles: number[]; hinges: number[]; failed: number }> = {};
      try {
        for (const obj of index.objects) {
          const group = obj.category === 'trashcan' ? 'unseen' : 'seen';
          for (const d of obj.drags) {
            const S = d.states.length;
            if ((d.counts[0]?.[S - 1] ?? 0) === 0) continue;
            const npy = await readNpy(join(dir, 'd'), d.file);
            const K = npy.shape[2]!;
            const o = (S - 1) * K * 4;
            const state = obj.states.find((st) => st.id === d.states[0])!;
            const image = decodePngRgba(await readFile(join(dir, 'd', state.rgba[0]!)));
            for (let p = 3; p < image.data.length; p += 4) image.data[p] = 255;
            const truth = obj.joints[d.joint]!;
            const g = (groups[group] ??= { n: 0, typeOk: 0, angles: [], hinges: [], failed: 0 });
            g.n++;
            try {
              const r = await pipeline.run({ image, drags: [{ start: [Number(npy.data[o]), Number(npy.data[o + 1])], end: [Number(npy.data[o + 2]), Number(npy.data[o + 3])] }] });
              const j = r.articulation.joints[0]!;
              if (j.type === truth.type) g.typeOk++;
              g.angles.push(axisAngleErrorDeg(j.axis, truth.axis));
              if (j.type === 'revolute' && truth.type === 'revolute') {
                // The ground-truth hinge in the rig frame (the dataset's normalisation).
                g.hinges.push(lineDistance(j.origin, j.axis, transformPoint(normalisationMatrix(obj.normalisation), truth.origin), truth.axis));
              }
            } catch {
              g.failed++;
            }
          }
        }
      } finally {
        await pipeline.dispose();
      }
      // The default method's keys keep their names; the ablation's carry "fit_".
      const prefix = method === 'drags' ? 'accuracy_' : 'accuracy_fit_';
      for (const [k, g] of Object.entries(groups)) {
        say(`${prefix}${k}_joints`, g.n);
        say(`${prefix}${k}_type_accuracy`, g.typeOk / Math.max(1, g.n));
        say(`${prefix}${k}_median_axis_error_deg`, median(g.angles));
        // Distance of the hinge line to the true one, in object units (the object ~1.5 across),
        // over the revolute joints read as revolute (how many: the next key).
        say(`${prefix}${k}_median_hinge_line_distance`, median(g.hinges));
        say(`${prefix}${k}_hinge_line_distance_joints`, g.hinges.length);
        say(`${prefix}${k}_failures`, g.failed);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Segmenter IoU on a generated dataset.
{
  const dir = await mkdtemp(join(tmpdir(), 'partrm-bench-seg-'));
  try {
    await generateDataset({ ...DEFAULT_GENERATE, out: join(dir, 'd'), objects, size, views: 1, statesPerPart: 3, points: 4000, dragsPerPair: 4, seed: 4242 });
    say('segmenter_dataset', `${objects} objects, ${size}px, view 0, seed 4242`);
    for (const [key, seg] of [['graph', new GraphSegmenter()], ['region', new RegionGrowSegmenter()]] as const) {
      const s = await evaluateSegmenter(join(dir, 'd'), seg, { clicksPerState: 2, statesPerJoint: 3 });
      say(`segmenter_${key}`, seg.name);
      say(`segmenter_${key}_clicks`, s.clicks);
      say(`segmenter_${key}_mean_iou`, s.meanIou);
      say(`segmenter_${key}_median_iou`, s.medianIou);
      say(`segmenter_${key}_mean_precision`, s.meanPrecision);
      if (s.extent) {
        say(`segmenter_${key}_extent_mean_iou`, s.extent.meanIou);
        say(`segmenter_${key}_extent_mean_precision`, s.extent.meanPrecision);
      }
      say(`segmenter_${key}_ms_per_click`, s.ms / Math.max(1, s.clicks));
      if (key === 'graph') for (const [k, v] of Object.entries(s.perCategory)) say(`segmenter_graph_iou_${k}`, `${v.meanIou.toFixed(3)} (${v.clicks} clicks, precision ${v.meanPrecision.toFixed(3)})`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
if (json) console.log(JSON.stringify(results, null, 1));
