/**
 * Evaluation of an opening policy on a URDF: K perturbed starts (joint at 20% of its range +-
 * a little, arm start jittered, object pose shifted by up to 1 cm and rotated by up to 1.5 deg),
 * success when the joint ends at >= 90% of its range.
 */
import { Rng } from '../core/random.js';
import type { Vec3 } from '../core/math.js';
import type { OpeningEnv } from './env.js';
import type { RolloutOptions, RolloutResult, RolloutStart } from './rollout.js';
import { runRollout } from './rollout.js';
import type { OpeningPolicy } from './types.js';

export interface Perturbation {
  /** Start fraction jitter (+-, default 0.03). */
  fraction: number;
  /** Arm joint jitter (+- rad, default 0.03). */
  robotQ: number;
  /** Object translation (+- m per axis, default 0.01). */
  objectXyz: number;
  /** Object yaw (+- rad, default 1.5 deg). */
  objectYaw: number;
}

export const DEFAULT_PERTURBATION: Perturbation = { fraction: 0.03, robotQ: 0.03, objectXyz: 0.01, objectYaw: (1.5 * Math.PI) / 180 };
export const START_FRACTION = 0.2;

/** The k-th perturbed start for `seed` (deterministic). */
export function perturbedStart(env: OpeningEnv, seed: number, k: number, p: Perturbation = DEFAULT_PERTURBATION): RolloutStart {
  const rng = new Rng(seed).fork(k);
  const fraction = START_FRACTION + rng.uniform(-p.fraction, p.fraction);
  const q = env.startQ(START_FRACTION).map((v) => v + rng.uniform(-p.robotQ, p.robotQ));
  const xyz: Vec3 = [rng.uniform(-p.objectXyz, p.objectXyz), rng.uniform(-p.objectXyz, p.objectXyz), rng.uniform(-p.objectXyz, p.objectXyz) * 0.5];
  return { fraction, robotQ: q, objectOffset: { xyz, yaw: rng.uniform(-p.objectYaw, p.objectYaw) } };
}

export interface EvaluationResult {
  successRate: number;
  trials: number;
  finalStates: number[];
  fractions: number[];
  rollouts: RolloutResult[];
}

export interface EvaluateOptions {
  trials: number;
  seed: number;
  perturbation?: Perturbation;
  /** Options for the first rollout (pictures). */
  firstRollout?: RolloutOptions;
  onTrial?: (k: number, r: RolloutResult) => void;
  signal?: AbortSignal;
}

export function evaluatePolicy(env: OpeningEnv, policy: OpeningPolicy, options: EvaluateOptions): EvaluationResult {
  if (!Number.isInteger(options.trials) || options.trials < 1) throw new Error(`PolicyEval: trials must be a positive integer, got ${options.trials}`);
  const rollouts: RolloutResult[] = [];
  for (let k = 0; k < options.trials; k++) {
    if (options.signal?.aborted) throw new Error('PolicyEval: aborted');
    const start = perturbedStart(env, options.seed, k, options.perturbation);
    const r = runRollout(env.sim, policy, env.joint, env.partLinks, start, k === 0 ? options.firstRollout : {});
    rollouts.push(r);
    options.onTrial?.(k, r);
  }
  const successes = rollouts.filter((r) => r.success).length;
  return {
    successRate: successes / rollouts.length,
    trials: rollouts.length,
    finalStates: rollouts.map((r) => r.finalValue),
    fractions: rollouts.map((r) => r.fraction),
    rollouts,
  };
}
