/**
 * Simulation speed and policy training time (the acceptance's `bench/sim`):
 * - simulated steps per second with the Franka and one procedural object in the embedded MuJoCo
 *   backend (raw physics, and full rollouts with IK + control at 100 Hz, contacts and grasp);
 * - policy training time per object (CEM on the object's URDF, default budget of the policy
 *   bench), over a few procedural drawers and doors; target: under 60 s per object.
 * The helpers come from bench/policy.ts (which runs the full oracle / zero-shot benchmark).
 * Usage: npx tsx bench/sim.ts [--drawers 2] [--doors 2] [--iterations 4] [--population 8]
 *        [--trials 4] [--steps 20000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openingCases } from '../src/policy/fixtures.js';
import { arg, simSpeed, trainAndEval } from './policy.js';

const drawers = arg('drawers', 2);
const doors = arg('doors', 2);
const budget = { iterations: arg('iterations', 4), population: arg('population', 8), trials: arg('trials', 4) };
const TARGET_S = 60;
const dir = await mkdtemp(join(tmpdir(), 'partrm-bench-sim-'));
try {
  const sp = await simSpeed(join(dir, 'speed'), arg('steps', 20000));
  console.log(`sim: ${sp.scene}`);
  console.log(`steps_per_second_physics ${sp.physics.toFixed(0)}`);
  console.log(`steps_per_second_rollout ${sp.rollout.toFixed(0)} (IK + control at 100 Hz, contacts, grasp)`);
  console.log(`realtime_factor ${sp.realtimeFactor.toFixed(1)}`);

  const cases = await openingCases(join(dir, 'gt'), drawers, doors, 1);
  console.log(`\ntraining: CEM ${budget.iterations}x${budget.population} (2 starts each), then ${budget.trials} evaluation starts on the same URDF`);
  console.log('case'.padEnd(44) + 'task    train_s  success');
  const times: number[] = [];
  for (const [i, c] of cases.entries()) {
    const r = await trainAndEval(budget, c.urdf, c.joint, c.task, c.urdf, c.joint, 1000 + i);
    times.push(r.trainS);
    console.log(`${c.id.padEnd(44)}${c.task.padEnd(8)}${r.trainS.toFixed(1).padStart(7)}  ${(r.successRate * 100).toFixed(0).padStart(6)}%`);
  }
  const mean = times.reduce((a, b) => a + b, 0) / Math.max(1, times.length);
  const max = Math.max(0, ...times);
  console.log(`train_seconds_per_object mean ${mean.toFixed(1)} max ${max.toFixed(1)} over ${times.length} objects (target < ${TARGET_S} s: ${max < TARGET_S ? 'met' : 'missed'})`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
