/**
 * The MuJoCo implementation of a simulation task (src/sim/task.ts): training (CEM) or evaluation
 * of an opening policy on a URDF inside a bundle directory. Used in-process (`--sim local`) and
 * by `partrm sim worker`.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { SimProgress, SimTaskResult, SimTaskSpec } from '../sim/task.js';
import { derivePolicyFromUrdf } from './derive.js';
import { createOpeningEnv } from './env.js';
import { evaluatePolicy } from './evaluate.js';
import { parseOpeningPolicy } from './schema.js';
import { trainPolicy } from './train.js';

function bundlePath(bundleDir: string, rel: string): string {
  if (!rel || isAbsolute(rel) || rel.includes('\\') || rel.split('/').includes('..')) {
    throw new Error(`SimTask: urdf "${rel}" must be a relative path inside the bundle (forward slashes, no "..")`);
  }
  const root = resolve(bundleDir);
  const p = resolve(root, rel);
  const r = relative(root, p);
  if (r.startsWith('..') || isAbsolute(r) || r.split(sep).includes('..')) throw new Error(`SimTask: urdf "${rel}" escapes the bundle directory`);
  return p;
}

export const DEFAULT_TRIALS = 20;
export const DEFAULT_BUDGET = { iterations: 6, population: 10 } as const;

export async function runSimTaskMujoco(bundleDir: string, spec: SimTaskSpec, onProgress?: SimProgress, signal?: AbortSignal): Promise<SimTaskResult> {
  const urdf = bundlePath(bundleDir, spec.urdf);
  const seed = spec.seed ?? 1;
  const root = resolve(bundleDir);
  if (spec.kind === 'evaluate') {
    if (!spec.policy) throw new Error('SimTask: an evaluate task needs a policy');
    const policy = parseOpeningPolicy(spec.policy, 'task policy');
    const trials = spec.trials ?? DEFAULT_TRIALS;
    const env = await createOpeningEnv(urdf, spec.joint, policy, { root });
    try {
      const r = evaluatePolicy(env, policy, {
        trials,
        seed,
        onTrial: (k) => onProgress?.((k + 1) / trials, `trial ${k + 1}/${trials}`),
        ...(signal ? { signal } : {}),
      });
      return { kind: 'evaluate', successRate: r.successRate, trials: r.trials, finalStates: r.finalStates, trajectory: r.rollouts[0]!.trace };
    } finally {
      env.dispose();
    }
  }
  if (spec.kind === 'train') {
    const initial = spec.policy ? parseOpeningPolicy(spec.policy, 'task policy') : derivePolicyFromUrdf(urdf, spec.joint, spec.task, { root });
    const budget = spec.budget ?? DEFAULT_BUDGET;
    const env = await createOpeningEnv(urdf, spec.joint, initial, { root });
    try {
      const t = trainPolicy(env, initial, {
        iterations: budget.iterations,
        population: budget.population,
        seed,
        onProgress: (done, total, best, message) => onProgress?.(done / total, `${message} best ${best.toFixed(3)}`),
        ...(signal ? { signal } : {}),
      });
      const check = evaluatePolicy(env, t.policy, { trials: Math.max(1, spec.trials ?? 5), seed: seed + 1000 });
      return {
        kind: 'train',
        successRate: check.successRate,
        trials: check.trials,
        finalStates: check.finalStates,
        policy: t.policy,
        trajectory: check.rollouts[0]!.trace,
      };
    } finally {
      env.dispose();
    }
  }
  throw new Error(`SimTask: unknown task kind "${String((spec as { kind: unknown }).kind)}"; expected evaluate or train`);
}
