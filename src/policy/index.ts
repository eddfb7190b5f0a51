/** Franka Panda opening policies: derivation, simulation environment, rollout, evaluation, CEM training. */
export type { OpeningPolicy, OpeningPolicyJoint, OpeningPolicyParams } from './types.js';
export { derivePolicyFromUrdf, defaultParams, paramRanges, openingRange } from './derive.js';
export { createOpeningEnv, type OpeningEnv } from './env.js';
export { runRollout, SUCCESS_FRACTION, type RolloutResult, type RolloutStart } from './rollout.js';
export { evaluatePolicy, perturbedStart, DEFAULT_PERTURBATION, type EvaluationResult } from './evaluate.js';
export { trainPolicy, type TrainResult } from './train.js';
export { parseOpeningPolicy, parseOpeningPolicyJson } from './schema.js';
export { rolloutStrip, writeRolloutStrip } from './strip.js';
export { writePartNetFixture, writeObjectUrdf, openingCases } from './fixtures.js';
