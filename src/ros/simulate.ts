/**
 * The node's optional rollout: after a request, the generated URDF goes to the simulator (a
 * SimRunner: MuJoCo in-process or WebSocket workers) and an opening policy derived from the URDF's
 * movable joint is evaluated; the summary is published on ~/policy and its first trajectory is
 * written as rollout.json (which the operator page plays back).
 */
import { relative, sep } from 'node:path';
import { z } from 'zod';
import type { SimRunner } from '../sim/backend.js';

export const RolloutSummarySchema = z.object({
  request: z.number().int(),
  joint: z.string(),
  task: z.enum(['drawer', 'door']),
  success_rate: z.number(),
  trials: z.number().int(),
  final_states: z.array(z.number()),
  trajectory: z.object({ t: z.array(z.number()), joint: z.array(z.number()) }).optional(),
});
export type RolloutSummary = z.infer<typeof RolloutSummarySchema>;

export interface SimulateInput {
  request: number;
  /** The request's output directory (the bundle: URDF + meshes). */
  dir: string;
  urdf: string;
  files: Record<string, string>;
  signal: AbortSignal;
}

export type Simulate = (input: SimulateInput) => Promise<RolloutSummary>;

/** The first prismatic or revolute joint of a URDF (name and type). */
export function movableJoint(urdf: string): { name: string; type: 'prismatic' | 'revolute' } | undefined {
  for (const m of urdf.matchAll(/<joint\b[^>]*>/g)) {
    const name = /\bname="([^"]+)"/.exec(m[0])?.[1];
    const type = /\btype="([^"]+)"/.exec(m[0])?.[1];
    if (name && (type === 'prismatic' || type === 'revolute')) return { name, type };
  }
  return undefined;
}

/** Evaluates an opening policy derived from the URDF (`trials` perturbed starts) on `runner`. */
export function simRollout(runner: SimRunner, trials = 3): Simulate {
  return async ({ request, dir, urdf, files, signal }) => {
    const joint = movableJoint(urdf);
    if (!joint) throw new Error('BridgeSim: the URDF has no prismatic or revolute joint');
    const urdfPath = Object.values(files).find((p) => p.endsWith('.urdf') && p.startsWith(dir + sep));
    if (!urdfPath) throw new Error(`BridgeSim: no URDF file under ${dir}`);
    const rel = relative(dir, urdfPath).split(sep).join('/');
    const task = joint.type === 'prismatic' ? 'drawer' : 'door';
    const { derivePolicyFromUrdf } = await import('../policy/derive.js');
    const policy = derivePolicyFromUrdf(urdfPath, joint.name, task, { root: dir });
    const r = await runner.run(dir, { kind: 'evaluate', urdf: rel, joint: joint.name, task, policy, trials }, undefined, signal);
    const out: RolloutSummary = { request, joint: joint.name, task, success_rate: r.successRate, trials: r.trials, final_states: r.finalStates };
    if (r.trajectory) out.trajectory = { t: [...r.trajectory.t], joint: [...r.trajectory.joint] };
    return out;
  };
}
