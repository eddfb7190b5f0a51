/**
 * End to end on held-out objects, what `partrm run --policy --ground-truth` does for the bundled
 * sample, over many objects: view 0 of a freshly generated object (seed never trained on) + one
 * operator drag on the handle (closed -> fully open, see below) -> PartRMPipeline (shipped model,
 * default segmenter and joint step) -> URDF in the object's metric frame (`rigToWorld` = the
 * dataset's normalisation inverted) -> Franka opening policy trained on that URDF (CEM, the CLI's
 * budget, grasping at the pipeline's grasp point) -> evaluated zero-shot on the ground-truth URDF.
 *
 * Per joint, and per kind of part (drawer = prismatic, door = revolute joint in the ground truth;
 * the policy's task follows the predicted joint): joint type right,
 * distance of the grasp point to the ground truth's handle (m), of the hinge line to the true one
 * (m, revolute read as revolute), success of the trained policy on the predicted URDF itself (the
 * training check) and zero-shot on the ground truth. bench/policy.ts --zero-shot gives the same
 * transfer from URDFs extracted from ground-truth points, the upper bound for a perfect model.
 *
 * The drag goes from the ground truth's handle (its centre, as the policies' handle heuristic finds
 * it) to where the handle is with the joint fully open, both projected into view 0: operators drag
 * handles, and the pipeline's grasp point is the drag start (moved along its camera ray onto the
 * part's collision boxes when they are near, see src/articulation/grasp.ts).
 *
 * Usage: npx tsx bench/end-to-end.ts [--objects 12] [--seed 2468] [--trials 10] [--iterations 6]
 *        [--population 10] [--model models/manifest.json]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineDistance, rigidApply, rigidRevolute } from '../src/articulation/rigid.js';
import { project, rigCameras } from '../src/core/camera.js';
import { decodePngRgba } from '../src/core/image.js';
import { type Vec3, transformPoint } from '../src/core/math.js';
import { DEFAULT_GENERATE, generateDataset } from '../src/dataset/generate.js';
import { normalisationMatrix, rigToMetresMatrix } from '../src/dataset/scene.js';
import { PartRMPipeline, defaultManifestPath, resolveManifestPath } from '../src/pipeline.js';
import { derivePolicyFromUrdf } from '../src/policy/derive.js';
import { createOpeningEnv } from '../src/policy/env.js';
import { evaluatePolicy } from '../src/policy/evaluate.js';
import { DEFAULT_BUDGET } from '../src/policy/run.js';
import { trainPolicy } from '../src/policy/train.js';
import type { OpeningPolicy } from '../src/policy/types.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const objects = Number(arg('objects', '12'));
const seed = Number(arg('seed', '2468'));
const trials = Number(arg('trials', '10'));
const budget = { iterations: Number(arg('iterations', String(DEFAULT_BUDGET.iterations))), population: Number(arg('population', String(DEFAULT_BUDGET.population))) };
const manifestPath = resolveManifestPath(arg('model', defaultManifestPath()));
const say = (key: string, value: string | number): void => console.log(`${key} ${typeof value === 'number' ? Number(value.toFixed(4)) : value}`);

interface Row {
  id: string;
  /** The ground truth's kind of part (prismatic: drawer); the policy's task follows the prediction. */
  truthTask: 'drawer' | 'door';
  task: 'drawer' | 'door';
  typeOk: boolean;
  graspErrorM: number;
  hingeErrorM?: number;
  trainCheck: number;
  zeroShot: number;
}

/** Trains on the predicted URDF, checks on it, evaluates zero-shot on the ground truth. */
async function trainCheckTransfer(predUrdf: string, predJoint: string, task: 'drawer' | 'door', grasp: Vec3, gtUrdf: string, gtJoint: string, runSeed: number): Promise<{ trainCheck: number; zeroShot: number }> {
  const initial = derivePolicyFromUrdf(predUrdf, predJoint, task, { grasp });
  const env = await createOpeningEnv(predUrdf, predJoint, initial);
  let policy: OpeningPolicy;
  let trainCheck: number;
  try {
    policy = trainPolicy(env, initial, { ...budget, seed: runSeed }).policy;
    trainCheck = evaluatePolicy(env, policy, { trials, seed: runSeed + 1 }).successRate;
  } finally {
    env.dispose();
  }
  const gtEnv = await createOpeningEnv(gtUrdf, gtJoint, policy);
  try {
    return { trainCheck, zeroShot: evaluatePolicy(gtEnv, policy, { trials, seed: runSeed + 7777 }).successRate };
  } finally {
    gtEnv.dispose();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'partrm-bench-e2e-'));
const rows: Row[] = [];
let pipelineFailures = 0;
try {
  const data = join(dir, 'd');
  // Trashcans (the unseen category) and laptops are left out, as in bench/policy.ts: the policies'
  // tasks are drawers and doors.
  const index = await generateDataset({ ...DEFAULT_GENERATE, out: data, objects, size: 256, views: 1, statesPerPart: 6, points: 2000, dragsPerPair: 4, seed });
  say('dataset', `${objects} objects, seed ${seed} (never trained on), 256px, one handle drag closed -> open per joint; trashcans and laptops left out`);
  say('budget', `CEM ${budget.iterations}x${budget.population}, ${trials} perturbed starts per evaluation`);
  const pipeline = await PartRMPipeline.create({ model: manifestPath, session: { providers: ['cpu'] } });
  // The dataset's view 0 (generateDataset's rig).
  const camera = rigCameras({ views: 1, size: 256 })[0]!;
  try {
    for (const obj of index.objects) {
      if (obj.category === 'trashcan' || obj.category === 'laptop') continue;
      for (const d of obj.drags) {
        const S = d.states.length;
        if ((d.counts[0]?.[S - 1] ?? 0) === 0) continue; // the part shows no drag in view 0
        const truth = obj.joints[d.joint]!;
        const gtUrdf = join(data, obj.urdf);
        const handle = derivePolicyFromUrdf(gtUrdf, truth.name, truth.type === 'prismatic' ? 'drawer' : 'door').grasp;
        const toRig = normalisationMatrix(obj.normalisation);
        // The operator drags the handle: from its pixel in the closed state to its pixel with the
        // joint at the pair's fully open value.
        const closed = obj.states.find((st) => st.id === d.states[0])!;
        const open = obj.states.find((st) => st.id === d.states[S - 1])!;
        const q = open.q[d.joint]! - closed.q[d.joint]!;
        const moved: Vec3 = truth.type === 'prismatic' ? [handle[0] + truth.axis[0] * q, handle[1] + truth.axis[1] * q, handle[2] + truth.axis[2] * q] : rigidApply(rigidRevolute(truth.axis, truth.origin, q), handle);
        const pixel = (p: Vec3): [number, number] => {
          const x = project(camera, transformPoint(toRig, p));
          return [x.x, x.y];
        };
        const drag = { start: pixel(handle), end: pixel(moved) };
        const image = decodePngRgba(await readFile(join(data, closed.rgba[0]!)));
        for (let p = 3; p < image.data.length; p += 4) image.data[p] = 255;
        const rigToWorld = rigToMetresMatrix(obj.normalisation);
        const out = join(dir, 'runs', `${obj.id}_${d.joint}`);
        const id = `${obj.id} ${truth.name}`;
        let r: Awaited<ReturnType<typeof pipeline.run>>;
        try {
          r = await pipeline.run({ image, drags: [drag], rigToWorld, outDir: out });
        } catch (err) {
          pipelineFailures++;
          console.log(`${id}: pipeline failed: ${(err as Error).message.split('\n')[0]}`);
          continue;
        }
        const joint = r.articulation.joints[0]!;
        const task = joint.type === 'prismatic' ? 'drawer' : 'door';
        const grasp = (JSON.parse(await readFile(join(out, 'articulation.json'), 'utf8')) as { grasp: Vec3 }).grasp;
        const predJoint = /<joint\s+name="([^"]+)"\s+type="(?:prismatic|revolute)"/.exec(r.urdf)?.[1] ?? 'joint';
        const row: Row = {
          id,
          truthTask: truth.type === 'prismatic' ? 'drawer' : 'door',
          task,
          typeOk: joint.type === truth.type,
          graspErrorM: Math.hypot(grasp[0] - handle[0], grasp[1] - handle[1], grasp[2] - handle[2]),
          ...(joint.type === 'revolute' && truth.type === 'revolute' ? { hingeErrorM: lineDistance(joint.origin, joint.axis, truth.origin, truth.axis) } : {}),
          trainCheck: 0,
          zeroShot: 0,
        };
        try {
          Object.assign(row, await trainCheckTransfer(join(out, 'object.urdf'), predJoint, task, grasp, gtUrdf, truth.name, 1000 + rows.length));
        } catch (err) {
          console.log(`${id}: policy failed: ${(err as Error).message.split('\n')[0]}`);
        }
        rows.push(row);
        console.log(
          `${id.padEnd(44)} ${task.padEnd(6)} type ${row.typeOk ? 'ok ' : 'BAD'} grasp ${row.graspErrorM.toFixed(3)} m` +
            `${row.hingeErrorM !== undefined ? ` hinge ${row.hingeErrorM.toFixed(3)} m` : ''} train check ${(row.trainCheck * 100).toFixed(0)}% zero-shot ${(row.zeroShot * 100).toFixed(0)}%`,
        );
      }
    }
  } finally {
    await pipeline.dispose();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[s.length >> 1]! : Number.NaN;
};
const mean = (a: number[]): number => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : Number.NaN);
for (const task of ['drawer', 'door'] as const) {
  const t = rows.filter((r) => r.truthTask === task);
  say(`${task}_joints`, t.length);
  say(`${task}_type_accuracy`, mean(t.map((r) => (r.typeOk ? 1 : 0))));
  say(`${task}_median_grasp_error_m`, median(t.map((r) => r.graspErrorM)));
  if (task === 'door') say('door_median_hinge_error_m', median(t.flatMap((r) => (r.hingeErrorM !== undefined ? [r.hingeErrorM] : []))));
  say(`${task}_train_check_success`, mean(t.map((r) => r.trainCheck)));
  say(`${task}_zero_shot_success`, mean(t.map((r) => r.zeroShot)));
}
say('all_zero_shot_success', mean(rows.map((r) => r.zeroShot)));
say('pipeline_failures', pipelineFailures);
