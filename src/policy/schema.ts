/** Validation of policy.json (zod): clear errors naming the field and what was expected. */
import { z } from 'zod';
import type { OpeningPolicy } from './types.js';
import { OPENING_POLICY_VERSION } from './types.js';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const vec3 = z.tuple([finite, finite, finite]);
const unit = vec3.refine((v) => Math.abs(Math.hypot(v[0], v[1], v[2]) - 1) < 1e-3, 'must be a unit vector');

export const openingPolicySchema = z.object({
  version: z.literal(OPENING_POLICY_VERSION),
  task: z.enum(['drawer', 'door']),
  jointName: z.string().min(1),
  joint: z.object({
    type: z.enum(['prismatic', 'revolute']),
    axis: unit,
    origin: vec3,
    limits: z.tuple([finite, finite]).refine((l) => l[1] > l[0], 'lower must be < upper'),
  }),
  grasp: vec3,
  approach: unit,
  handleAxis: unit,
  openSign: z.union([z.literal(1), z.literal(-1)]),
  params: z.object({
    graspDepth: finite,
    graspLateral: finite,
    graspVertical: finite,
    standoff: finite.refine((v) => v >= 0 && v <= 0.5, 'must be in 0..0.5 m'),
    speed: finite.refine((v) => v > 0 && v <= 5, 'must be in (0, 5]'),
    gripClosure: finite.refine((v) => v >= 0 && v <= 0.04, 'must be in 0..0.04 m'),
    overshoot: finite.refine((v) => v >= 0 && v <= 1, 'must be in 0..1'),
    arcRadiusScale: finite.refine((v) => v > 0.5 && v < 1.5, 'must be in (0.5, 1.5)'),
    wristFollow: finite.refine((v) => v >= 0 && v <= 1, 'must be in 0..1').default(1),
    approachPitch: finite.refine((v) => v >= 0 && v <= 1.2, 'must be in 0..1.2 rad').default(0),
  }),
  robotBase: z
    .array(finite)
    .length(16)
    .refine((m) => m[12] === 0 && m[13] === 0 && m[14] === 0 && m[15] === 1, 'must be a 4x4 row-major pose (last row 0 0 0 1)')
    .optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

/** Parses and validates a policy object; throws `OpeningPolicy: <source>: <field>: <problem>`. */
export function parseOpeningPolicy(value: unknown, source = 'policy'): OpeningPolicy {
  const r = openingPolicySchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.length ? issue.path.join('.') : '(root)';
    throw new Error(`OpeningPolicy: ${source}: ${path}: ${issue.message}`);
  }
  return r.data as OpeningPolicy;
}

export function parseOpeningPolicyJson(text: string, source = 'policy.json'): OpeningPolicy {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`OpeningPolicy: ${source} is not valid JSON: ${(err as Error).message}`);
  }
  return parseOpeningPolicy(value, source);
}
