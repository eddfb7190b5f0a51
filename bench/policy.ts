/**
 * Franka opening policies in the embedded MuJoCo simulator:
 * - simulated steps per second (Franka + object scene, raw physics and full rollouts with IK);
 * - oracle: trained (CEM) and evaluated on the same ground-truth URDF, per procedural object with
 *   a drawer / a door; training time per object;
 * - zero-shot (--zero-shot): trained on the URDF that the articulation extraction writes from
 *   ground-truth point clouds (closed and fully open states), grasping at the drag start (a sampled
 *   point on the handle, as the operator's drag starts there), evaluated on the ground truth;
 * - the PartNet-Mobility-layout fixture (door + drawer).
 * Usage: npx tsx bench/policy.ts [--drawers 20] [--doors 20] [--iterations 4] [--population 8]
 *        [--trials 10] [--zero-shot] [--partnet] [--json out.json]
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { derivePolicyFromUrdf } from '../src/policy/derive.js';
import { createOpeningEnv } from '../src/policy/env.js';
import { evaluatePolicy, perturbedStart } from '../src/policy/evaluate.js';
import { openingCases, writePartNetFixture, type OpeningCase } from '../src/policy/fixtures.js';
import { runRollout } from '../src/policy/rollout.js';
import { trainPolicy } from '../src/policy/train.js';
import type { OpeningPolicy } from '../src/policy/types.js';
import type { Vec3 } from '../src/core/math.js';

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

/** Cases whose handle path leaves the fixed Panda's reach shell by more than this are flagged. */
export const REACH_TOLERANCE = -0.05;

export interface Budget {
  iterations: number;
  population: number;
  trials: number;
}

/** Trains (CEM) on one URDF and evaluates the trained policy on another (or the same). */
export async function trainAndEval(budget: Budget, trainUrdf: string, trainJoint: string, task: 'drawer' | 'door', evalUrdf: string, evalJoint: string, seed: number, grasp?: Vec3) {
  const initial = derivePolicyFromUrdf(trainUrdf, trainJoint, task, grasp ? { grasp } : {});
  const t0 = performance.now();
  const env = await createOpeningEnv(trainUrdf, trainJoint, initial);
  let policy: OpeningPolicy;
  try {
    policy = trainPolicy(env, initial, { iterations: budget.iterations, population: budget.population, seed }).policy;
  } finally {
    env.dispose();
  }
  const trainS = (performance.now() - t0) / 1000;
  const evalEnv = await createOpeningEnv(evalUrdf, evalJoint, policy);
  try {
    const r = evaluatePolicy(evalEnv, policy, { trials: budget.trials, seed: seed + 7777 });
    return { trainS, successRate: r.successRate, finalFractions: r.fractions, reachable: evalEnv.reachMargin > REACH_TOLERANCE, reachMargin: evalEnv.reachMargin };
  } finally {
    evalEnv.dispose();
  }
}

/**
 * Simulated steps per second with the Franka and one procedural object: raw physics
 * (`physicsSteps` steps) and full rollouts (IK + control at 100 Hz, contacts, grasp).
 */
export async function simSpeed(dir: string, physicsSteps = 20000, rollouts = 5) {
  const [c] = await openingCases(dir, 1, 0, 99);
  const policy = derivePolicyFromUrdf(c!.urdf, c!.joint, c!.task);
  const env = await createOpeningEnv(c!.urdf, c!.joint, policy);
  try {
    env.sim.reset({}, env.startQ(0.2));
    let t0 = performance.now();
    env.sim.step(physicsSteps);
    const physics = physicsSteps / ((performance.now() - t0) / 1000);
    let steps = 0;
    t0 = performance.now();
    for (let k = 0; k < rollouts; k++) steps += runRollout(env.sim, policy, env.joint, env.partLinks, perturbedStart(env, 1, k)).steps;
    const rollout = steps / ((performance.now() - t0) / 1000);
    const scene = `Franka + ${c!.id} (${env.sim.model.nbody} bodies, ${env.sim.model.ngeom} geoms, dt ${env.sim.timestep} s)`;
    return { scene, physics, rollout, realtimeFactor: rollout * env.sim.timestep };
  } finally {
    env.dispose();
  }
}

async function main(): Promise<void> {
  const jsonOut = (() => {
    const i = process.argv.indexOf('--json');
    return i >= 0 ? process.argv[i + 1] : undefined;
  })();
  const drawers = arg('drawers', 20);
  const doors = arg('doors', 20);
  const budget: Budget = { iterations: arg('iterations', 4), population: arg('population', 8), trials: arg('trials', 10) };
  const { iterations, population, trials } = budget;
  const dir = await mkdtemp(join(tmpdir(), 'partrm-bench-policy-'));
  const results: Record<string, unknown> = { iterations, population, trials };

  try {
    // --- simulation speed ---
    {
      const sp = await simSpeed(join(dir, 'speed'));
      console.log(`sim: ${sp.scene}`);
      console.log(`steps_per_second_physics ${sp.physics.toFixed(0)}`);
      console.log(`steps_per_second_rollout ${sp.rollout.toFixed(0)} (IK + control at 100 Hz, contacts, grasp)`);
      console.log(`realtime_factor ${sp.realtimeFactor.toFixed(1)}`);
      results.stepsPerSecondPhysics = sp.physics;
      results.stepsPerSecondRollout = sp.rollout;
    }

    // --- oracle ---
    const cases = await openingCases(join(dir, 'gt'), drawers, doors, 1);
    const oracle: Array<{ id: string; task: string; successRate: number; trainS: number; reachable: boolean }> = [];
    console.log(`\noracle: train (CEM ${iterations}x${population}, 2 starts each) and evaluate (${trials} perturbed starts) on the same ground-truth URDF`);
    console.log('case'.padEnd(44) + 'task    success  train_s  reach_margin_m');
    for (const [i, c] of cases.entries()) {
      const r = await trainAndEval(budget, c.urdf, c.joint, c.task, c.urdf, c.joint, 1000 + i);
      oracle.push({ id: c.id, task: c.task, successRate: r.successRate, trainS: r.trainS, reachable: r.reachable });
      console.log(`${c.id.padEnd(44)}${c.task.padEnd(8)}${(r.successRate * 100).toFixed(0).padStart(6)}%  ${r.trainS.toFixed(1).padStart(7)}  ${r.reachMargin.toFixed(2)}${r.reachable ? '' : ' (out of reach of a fixed Panda)'}`);
    }
    const summary = (rows: Array<{ task: string; successRate: number; trainS?: number }>, task: string) => {
      const sel = rows.filter((r) => r.task === task);
      const mean = sel.reduce((s, r) => s + r.successRate, 0) / Math.max(1, sel.length);
      return { objects: sel.length, meanSuccess: mean, meanTrainS: sel.reduce((s, r) => s + (r.trainS ?? 0), 0) / Math.max(1, sel.length) };
    };
    const od = summary(oracle, 'drawer');
    const or = summary(oracle, 'door');
    console.log(`oracle drawers: ${(od.meanSuccess * 100).toFixed(1)}% over ${od.objects} objects; doors: ${(or.meanSuccess * 100).toFixed(1)}% over ${or.objects} objects`);
    const rd = summary(oracle.filter((o) => o.reachable), 'drawer');
    const rr = summary(oracle.filter((o) => o.reachable), 'door');
    console.log(`oracle, reachable cases only: drawers ${(rd.meanSuccess * 100).toFixed(1)}% over ${rd.objects}; doors ${(rr.meanSuccess * 100).toFixed(1)}% over ${rr.objects}`);
    console.log(`train_seconds_per_object mean ${((od.meanTrainS * od.objects + or.meanTrainS * or.objects) / Math.max(1, od.objects + or.objects)).toFixed(1)} (max ${Math.max(...oracle.map((o) => o.trainS)).toFixed(1)})`);
    results.oracle = { rows: oracle, drawers: od, doors: or };

    // --- zero-shot on extraction URDFs ---
    if (flag('zero-shot')) {
      const { loadArticulatedUrdf, sampleArticulatedUrdf } = await import('../src/urdf/partnet.js');
      const { extractArticulation } = await import('../src/articulation/extract.js');
      const zs: Array<{ id: string; task: string; successRate: number; oracle: number }> = [];
      console.log('\nzero-shot: trained on the extracted URDF (GT points at closed and fully open), evaluated on the ground truth');
      for (const [i, c] of cases.entries()) {
        const gt = loadArticulatedUrdf(c.urdf);
        const j = gt.urdf.joints.find((x) => x.name === c.joint)!;
        const open = j.limit!.upper;
        const initial = sampleArticulatedUrdf(gt, { state: { [c.joint]: 0 }, points: 10000, seed: 1 });
        const dragged = sampleArticulatedUrdf(gt, { state: { [c.joint]: open }, points: 10000, seed: 2 });
        // The operator's drag starts on the handle: the sampled point nearest the handle's centre
        // (from the ground truth's handle geometry), in the input frame = the extracted URDF's frame.
        const handle = derivePolicyFromUrdf(c.urdf, c.joint, c.task).grasp;
        let dragStart: Vec3 = handle;
        let bestD = Infinity;
        const P = initial.positions;
        for (let k = 0; k < P.length; k += 3) {
          const d = (P[k]! - handle[0]) ** 2 + (P[k + 1]! - handle[1]) ** 2 + (P[k + 2]! - handle[2]) ** 2;
          if (d < bestD) [bestD, dragStart] = [d, [P[k]!, P[k + 1]!, P[k + 2]!]];
        }
        let row: { id: string; task: string; successRate: number; oracle: number };
        try {
          const x = await extractArticulation({ initial, dragged, seed: 1, name: 'extracted' });
          const gen = join(dir, 'gen', String(i));
          await mkdir(gen, { recursive: true });
          await writeFile(join(gen, 'object.urdf'), x.urdf);
          for (const [name, text] of Object.entries(x.meshes)) await writeFile(join(gen, name), text);
          const genJoint = /<joint name="([^"]+)" type="(?:prismatic|revolute)"/.exec(x.urdf)?.[1] ?? 'joint';
          const r = await trainAndEval(budget, join(gen, 'object.urdf'), genJoint, c.task, c.urdf, c.joint, 2000 + i, dragStart);
          row = { id: c.id, task: c.task, successRate: r.successRate, oracle: oracle[i]!.successRate };
        } catch (e) {
          console.log(`${c.id}: extraction/training failed: ${(e as Error).message.split('\n')[0]}`);
          row = { id: c.id, task: c.task, successRate: 0, oracle: oracle[i]!.successRate };
        }
        zs.push(row);
        console.log(`${c.id.padEnd(44)}${c.task.padEnd(8)}${(row.successRate * 100).toFixed(0).padStart(6)}%  (oracle ${(row.oracle * 100).toFixed(0)}%)`);
      }
      const zd = summary(zs, 'drawer');
      const zr = summary(zs, 'door');
      console.log(`zero-shot drawers: ${(zd.meanSuccess * 100).toFixed(1)}% (${((zd.meanSuccess / Math.max(1e-9, od.meanSuccess)) * 100).toFixed(0)}% of oracle); doors: ${(zr.meanSuccess * 100).toFixed(1)}% (${((zr.meanSuccess / Math.max(1e-9, or.meanSuccess)) * 100).toFixed(0)}% of oracle)`);
      results.zeroShot = { rows: zs, drawers: zd, doors: zr };
    }

    // --- PartNet-Mobility-layout fixture ---
    if (flag('partnet')) {
      const fx = await writePartNetFixture(join(dir, 'partnet'));
      console.log('\nPartNet-layout fixture (mobility.urdf, textured_objs, no inertials, flat panels):');
      for (const [joint, task] of [[fx.drawer, 'drawer'], [fx.door, 'door']] as const) {
        const r = await trainAndEval(budget, fx.urdf, joint, task, fx.urdf, joint, 3000);
        console.log(`  ${task} ${joint}: success ${(r.successRate * 100).toFixed(0)}% over ${trials} perturbed starts, train ${r.trainS.toFixed(1)} s`);
        results[`partnet_${task}`] = r;
      }
    }
    if (jsonOut) await writeFile(jsonOut, JSON.stringify(results, null, 2));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Run as a script (bench/sim.ts imports the helpers above).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
