/**
 * `partrm policy train` and `partrm policy eval`: Franka Panda opening policies for a URDF joint,
 * trained by CEM in simulation (in-process MuJoCo, or on workers with --sim listen:PORT) and
 * evaluated over K perturbed starts.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { writeFileAtomic } from '../core/image.js';
import type { Vec3 } from '../core/math.js';
import { createSimBackend } from '../sim/backend.js';
import { parseSimBackend } from '../sim/task.js';
import { derivePolicyFromUrdf } from '../policy/derive.js';
import { createOpeningEnv } from '../policy/env.js';
import { perturbedStart } from '../policy/evaluate.js';
import { DEFAULT_BUDGET, DEFAULT_TRIALS } from '../policy/run.js';
import { parseOpeningPolicyJson } from '../policy/schema.js';
import { writeRolloutStrip } from '../policy/strip.js';
import type { OpeningPolicy } from '../policy/types.js';

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError(`--${name} expects a positive integer, got "${value}"`);
    return Number(value);
  };
}

function intArg(name: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`--${name} expects an integer, got "${value}"`);
    return Number(value);
  };
}

function simArg(value: string): string {
  try {
    parseSimBackend(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return value;
}

function graspArg(value: string): Vec3 {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v))) throw new InvalidArgumentError(`--grasp expects x,y,z in metres, got "${value}"`);
  return parts as Vec3;
}

function taskArg(value: string): 'drawer' | 'door' {
  if (value !== 'drawer' && value !== 'door') throw new InvalidArgumentError(`--task expects drawer or door, got "${value}"`);
  return value;
}

function progressBar(label: string, enabled: boolean): { update(f: number, msg: string): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) {
    let last = -1;
    return {
      update(f, msg) {
        const pct = Math.floor(f * 10);
        if (enabled && pct !== last) {
          last = pct;
          process.stderr.write(`${label} ${Math.round(f * 100)}% ${msg}\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar({ format: `${label} |{bar}| {percentage}% | {msg} | eta {eta_formatted}`, stream: process.stderr }, cliProgress.Presets.shades_classic);
  bar.start(1000, 0, { msg: '' });
  return {
    update: (f, msg) => bar.update(Math.round(f * 1000), { msg }),
    stop: () => bar.stop(),
  };
}

async function loadPolicy(path: string): Promise<OpeningPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`OpeningPolicy: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseOpeningPolicyJson(text, path);
}

export function policyCommand(): Command {
  const cmd = new Command('policy').description('Franka Panda opening policies: train in simulation, evaluate zero-shot on another URDF');
  cmd
    .command('train')
    .description('derive an opening policy from a URDF joint and tune it by CEM search in simulation')
    .requiredOption('--urdf <file>', 'URDF to train on (meshes relative to it)')
    .requiredOption('--joint <name>', 'the joint to open')
    .requiredOption('--task <kind>', 'drawer or door', taskArg)
    .requiredOption('--out <file>', 'policy.json to write')
    .option('--sim <backend>', 'local (in-process MuJoCo) or listen:PORT (workers dial in)', simArg, 'local')
    .option('--iterations <n>', 'CEM iterations', positiveInt('iterations'), DEFAULT_BUDGET.iterations)
    .option('--population <n>', 'CEM candidates per iteration', positiveInt('population'), DEFAULT_BUDGET.population)
    .option('--seed <s>', 'random seed', intArg('seed'), 1)
    .option('--grasp <x,y,z>', 'grasp point, e.g. the operator\'s drag start (URDF root frame, closed state); default: "grasp" of articulation.json beside the URDF, else the handle heuristic', graspArg)
    .option('--trials <k>', 'perturbed starts of the check after training', positiveInt('trials'), 5)
    .option('--no-progress', 'no progress bar')
    .action(async (o: { urdf: string; joint: string; task: 'drawer' | 'door'; out: string; sim: string; iterations: number; population: number; seed: number; grasp?: Vec3; trials: number; progress: boolean }) => {
      const urdf = resolve(o.urdf);
      const initial = derivePolicyFromUrdf(urdf, o.joint, o.task, o.grasp ? { grasp: o.grasp } : {});
      const runner = createSimBackend(o.sim);
      const bar = progressBar('train', o.progress);
      const t0 = Date.now();
      try {
        const r = await runner.run(
          dirname(urdf),
          { kind: 'train', urdf: basename(urdf), joint: o.joint, task: o.task, policy: initial, budget: { iterations: o.iterations, population: o.population }, trials: o.trials, seed: o.seed },
          (f, m) => bar.update(f, m),
        );
        bar.stop();
        if (!r.policy) throw new Error('PolicyTrain: the simulator returned no policy');
        const policy: OpeningPolicy = { ...r.policy, meta: { ...r.policy.meta, trainedOn: urdf, checkSuccessRate: r.successRate, checkTrials: r.trials } };
        await writeFileAtomic(o.out, JSON.stringify(policy, null, 2) + '\n');
        const s = (Date.now() - t0) / 1000;
        console.log(`wrote ${o.out}: ${policy.joint.type} ${o.task} policy for ${o.joint}; check success ${(r.successRate * 100).toFixed(0)}% over ${r.trials} starts; ${s.toFixed(1)} s`);
      } finally {
        bar.stop();
        await runner.close();
      }
    });
  cmd
    .command('eval')
    .description('run a policy on a URDF over K perturbed starts (joint at 20% of its range); success = joint >= 90% of its range')
    .requiredOption('--policy <file>', 'policy.json')
    .requiredOption('--urdf <file>', 'URDF to evaluate on (e.g. the ground truth)')
    .requiredOption('--joint <name>', 'the joint to open in that URDF')
    .option('--trials <k>', 'perturbed starts', positiveInt('trials'), DEFAULT_TRIALS)
    .option('--seed <s>', 'random seed of the perturbations', intArg('seed'), 1)
    .option('--sim <backend>', 'local (in-process MuJoCo) or listen:PORT (workers dial in)', simArg, 'local')
    .option('--json', 'print {"success_rate","trials","final_states"} only')
    .option('--strip <png>', 'also write a picture strip of one rollout (rendered locally)')
    .option('--no-progress', 'no progress bar')
    .action(async (o: { policy: string; urdf: string; joint: string; trials: number; seed: number; sim: string; json?: boolean; strip?: string; progress: boolean }) => {
      const policy = await loadPolicy(o.policy);
      const urdf = resolve(o.urdf);
      const runner = createSimBackend(o.sim);
      const bar = progressBar('eval', o.progress && !o.json);
      try {
        const r = await runner.run(dirname(urdf), { kind: 'evaluate', urdf: basename(urdf), joint: o.joint, task: policy.task, policy, trials: o.trials, seed: o.seed }, (f, m) => bar.update(f, m));
        bar.stop();
        if (o.strip) {
          const env = await createOpeningEnv(urdf, o.joint, policy);
          try {
            await writeRolloutStrip(o.strip, env, policy, perturbedStart(env, o.seed, 0));
          } finally {
            env.dispose();
          }
        }
        const out = { success_rate: r.successRate, trials: r.trials, final_states: r.finalStates.map((v) => Number(v.toFixed(6))) };
        if (o.json) console.log(JSON.stringify(out));
        else {
          console.log(`success ${(r.successRate * 100).toFixed(1)}% over ${r.trials} starts (${o.joint} of ${o.urdf})`);
          console.log(`final states: ${out.final_states.map((v) => v.toFixed(3)).join(' ')}`);
          if (o.strip) console.log(`wrote ${o.strip}`);
        }
      } finally {
        bar.stop();
        await runner.close();
      }
    });
  return cmd;
}
