/**
 * Training = cross-entropy-method search over the policy's tunable parameters, in simulation on
 * the given URDF. Each candidate runs `trialsPerCandidate` perturbed starts (common random numbers
 * within an iteration); the score rewards success first, then the reached opening fraction (capped
 * at fully open), and slightly prefers faster opening. At the end the best few candidates and the
 * initial policy are re-checked on fresh starts and the best of them is returned.
 */
import { Rng } from '../core/random.js';
import { paramRanges } from './derive.js';
import type { OpeningEnv } from './env.js';
import { perturbedStart } from './evaluate.js';
import { runRollout } from './rollout.js';
import type { OpeningPolicy, OpeningPolicyParams } from './types.js';

export interface TrainOptions {
  iterations: number;
  population: number;
  seed: number;
  trialsPerCandidate?: number;
  /** Fraction of the population kept as elites (default 0.25, at least 2). */
  eliteFraction?: number;
  /** Fresh perturbed starts on which the best candidates are re-checked at the end (default 6, 0 = off). */
  validationStarts?: number;
  onProgress?: (done: number, total: number, best: number, message: string) => void;
  signal?: AbortSignal;
}

export interface TrainResult {
  policy: OpeningPolicy;
  bestScore: number;
  /** Success rate of the best candidate on its training starts. */
  bestSuccess: number;
  evaluations: number;
  history: Array<{ iteration: number; best: number; mean: number }>;
}

export const PARAM_KEYS: ReadonlyArray<keyof OpeningPolicyParams> = ['graspDepth', 'graspLateral', 'graspVertical', 'standoff', 'speed', 'gripClosure', 'overshoot', 'arcRadiusScale', 'wristFollow', 'approachPitch'];

export function validateBudget(iterations: number, population: number): void {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 1000) throw new Error(`PolicyTrain: iterations must be an integer in 1..1000, got ${iterations}`);
  if (!Number.isInteger(population) || population < 2 || population > 1000) throw new Error(`PolicyTrain: population must be an integer in 2..1000, got ${population}`);
}

export function trainPolicy(env: OpeningEnv, initial: OpeningPolicy, options: TrainOptions): TrainResult {
  validateBudget(options.iterations, options.population);
  const trials = options.trialsPerCandidate ?? 2;
  const ranges = paramRanges(initial.joint.type);
  const keys = PARAM_KEYS.filter((k) => ranges[k][1] > ranges[k][0]);
  const rng = new Rng(options.seed).fork(7);
  const toUnit = (k: keyof OpeningPolicyParams, v: number): number => {
    const [lo, hi] = ranges[k];
    return Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
  };
  const fromUnit = (k: keyof OpeningPolicyParams, u: number): number => {
    const [lo, hi] = ranges[k];
    return lo + Math.min(1, Math.max(0, u)) * (hi - lo);
  };
  let mean = keys.map((k) => toUnit(k, initial.params[k]));
  let std = keys.map(() => 0.3);
  const eliteN = Math.max(2, Math.round(options.population * (options.eliteFraction ?? 0.25)));
  const total = options.iterations * options.population;
  let done = 0;
  let best: { params: OpeningPolicyParams; score: number; success: number } | null = null;
  const seen: Array<{ params: OpeningPolicyParams; score: number }> = [];
  const history: TrainResult['history'] = [];

  const withParams = (u: number[]): OpeningPolicy => {
    const params: OpeningPolicyParams = { ...initial.params };
    keys.forEach((k, i) => (params[k] = fromUnit(k, u[i]!)));
    return { ...initial, params };
  };
  let perfectStreak = 0;
  for (let it = 0; it < options.iterations; it++) {
    const iterSeed = rng.nextUint32();
    const samples: number[][] = [];
    for (let c = 0; c < options.population; c++) {
      // The first candidate of the first iteration is the initial policy itself.
      samples.push(it === 0 && c === 0 ? [...mean] : mean.map((m, i) => Math.min(1, Math.max(0, m + std[i]! * rng.normal()))));
    }
    const scored = samples.map((u) => {
      if (options.signal?.aborted) throw new Error('PolicyTrain: aborted');
      const policy = withParams(u);
      let score = 0;
      let successes = 0;
      for (let k = 0; k < trials; k++) {
        const r = runRollout(env.sim, policy, env.joint, env.partLinks, perturbedStart(env, iterSeed, k));
        const frac = Math.max(-0.5, Math.min(1, r.fraction));
        score += (r.success ? 1 : 0) + frac - 0.005 * (r.steps * env.sim.timestep);
        if (r.success) successes++;
      }
      score /= trials;
      done++;
      seen.push({ params: policy.params, score });
      if (!best || score > best.score) best = { params: policy.params, score, success: successes / trials };
      options.onProgress?.(done, total, best.score, `iteration ${it + 1}/${options.iterations}`);
      return { u, score, successes };
    });
    scored.sort((a, b) => b.score - a.score);
    const elites = scored.slice(0, eliteN);
    mean = keys.map((_, i) => elites.reduce((s, e) => s + e.u[i]!, 0) / elites.length);
    std = keys.map((_, i) => Math.max(0.03, Math.sqrt(elites.reduce((s, e) => s + (e.u[i]! - mean[i]!) ** 2, 0) / elites.length)));
    history.push({ iteration: it + 1, best: scored[0]!.score, mean: scored.reduce((s, e) => s + e.score, 0) / scored.length });
    // Early stop: every elite succeeded on every start in two consecutive iterations.
    if (elites.every((e) => e.successes === trials)) perfectStreak++;
    else perfectStreak = 0;
    if (perfectStreak >= 2) {
      options.onProgress?.(total, total, best!.score, `converged after ${it + 1} iterations`);
      done = total;
      break;
    }
  }
  // Validation: the few best candidates (and the initial policy) on fresh starts; a candidate that
  // was lucky on its two training starts does not win.
  const validation = options.validationStarts ?? 6;
  let b: { params: OpeningPolicyParams; score: number; success: number } = best!;
  if (validation > 0) {
    const pool = [...seen].sort((x, y) => y.score - x.score).slice(0, 3);
    pool.push({ params: initial.params, score: -Infinity });
    const vSeed = rng.nextUint32();
    let chosen: { params: OpeningPolicyParams; score: number; success: number } | null = null;
    for (const c of pool) {
      if (options.signal?.aborted) throw new Error('PolicyTrain: aborted');
      const policy: OpeningPolicy = { ...initial, params: c.params };
      let score = 0;
      let successes = 0;
      for (let k = 0; k < validation; k++) {
        const r = runRollout(env.sim, policy, env.joint, env.partLinks, perturbedStart(env, vSeed, k));
        score += (r.success ? 1 : 0) + Math.max(-0.5, Math.min(1, r.fraction)) - 0.005 * (r.steps * env.sim.timestep);
        if (r.success) successes++;
      }
      score /= validation;
      if (!chosen || score > chosen.score) chosen = { params: c.params, score, success: successes / validation };
    }
    b = chosen!;
  }
  return {
    policy: { ...initial, params: b.params, robotBase: Array.from(env.base), meta: { ...initial.meta, trainScore: b.score, trainSuccess: b.success, trainedWith: 'cem', seed: options.seed } },
    bestScore: b.score,
    bestSuccess: b.success,
    evaluations: done,
    history,
  };
}
