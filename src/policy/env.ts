/**
 * An opening environment: the object URDF to act on plus the Panda placed for a policy, in the
 * embedded MuJoCo simulator. One environment runs many rollouts (reset between them).
 */
import { dirname, resolve } from 'node:path';
import type { Vec3 } from '../core/math.js';
import { mat4FromRpy, mat4Multiply, transformPoint } from '../core/math.js';
import { MujocoSimulator } from '../sim/mujoco/backend.js';
import { subtreeLinks, urdfLinkPoses } from '../sim/mujoco/urdf-read.js';
import type { JointInfo } from '../sim/simulator.js';
import { defaultParams } from './derive.js';
import { graspFrame, openingFrame, placeRobot, policyJointValue } from './geometry.js';
import type { OpeningPolicy } from './types.js';

export interface OpeningEnv {
  sim: MujocoSimulator;
  joint: JointInfo;
  partLinks: Set<string>;
  /** Arm posture at the pre-grasp pose for an opening fraction (kinematic IK, cached). */
  startQ(fraction: number): number[];
  /** Worst reach margin (m) of the handle path from the chosen base placement (< 0: out of reach). */
  reachMargin: number;
  dispose(): void;
}

/** Retracted start posture (TCP about 0.37 m in front of the base, 0.42 m up, pointing down). */
export const PANDA_READY = [0, -0.6, 0, -2.4, 0, 1.8, 0.785] as const;

export interface EnvOptions {
  /** Mesh files must lie under this directory (default: the URDF's directory). */
  root?: string;
  confineMeshes?: boolean;
  timestep?: number;
}

/** Builds the scene for acting on `jointName` of `urdfPath` with the robot placed for `policy`. */
export async function createOpeningEnv(urdfPath: string, jointName: string, policy: OpeningPolicy, options: EnvOptions = {}): Promise<OpeningEnv> {
  const abs = resolve(urdfPath);
  // First pass without the robot: read the object, check the joint, collect its points.
  const probe = await MujocoSimulator.create(abs, { root: options.root ?? dirname(abs), confineMeshes: options.confineMeshes ?? true });
  let joint: JointInfo | undefined;
  const points: Vec3[] = [];
  const partPoints: Vec3[] = [];
  let child: string;
  let partLinks: Set<string>;
  try {
    joint = probe.objectJoints().find((j) => j.name === jointName);
    const urdfJoint = probe.scene.object.joints.find((j) => j.name === jointName);
    if (!joint || !urdfJoint) {
      throw new Error(`OpeningEnv: ${abs} has no movable joint "${jointName}"; movable joints: ${probe.objectJoints().map((j) => j.name).join(', ') || '(none)'}`);
    }
    if (!(joint.upper > joint.lower) || !Number.isFinite(joint.upper - joint.lower)) {
      if (joint.type === 'continuous') joint = { ...joint, lower: 0, upper: Math.PI / 2 };
      else throw new Error(`OpeningEnv: joint "${jointName}" of ${abs} has no usable limits (lower < upper expected)`);
    }
    child = urdfJoint.child;
    partLinks = new Set(subtreeLinks(probe.scene.object, child));
    const poses = urdfLinkPoses(probe.scene.object);
    for (const g of probe.scene.geoms) {
      const link = g.body.slice(4);
      const pose = poses.get(link);
      if (!pose) continue;
      const T = mat4Multiply(pose, g.local);
      const sink = partLinks.has(link) ? partPoints : points;
      const h = g.kind === 'box' ? g.size : g.kind === 'cylinder' ? [g.size[0], g.size[0], g.size[1]] : g.kind === 'sphere' ? [g.size[0], g.size[0], g.size[0]] : null;
      if (h) {
        for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const sz of [-1, 1]) sink.push(transformPoint(T, [sx * h[0]!, sy * h[1]!, sz * h[2]!]));
      } else if (g.mesh) {
        const m = probe.scene.meshes.get(g.mesh);
        if (m) for (let i = 0; i < m.positions.length; i += 3 * 8) sink.push(transformPoint(T, [m.positions[i]!, m.positions[i + 1]!, m.positions[i + 2]!]));
      }
    }
  } finally {
    probe.dispose();
  }
  // The fixed parts limit where the robot may stand; the moving part's sweep is kept clear too.
  // Placement depends on the policy's geometry only (default tunables), so a policy trained in this
  // environment meets the same robot placement when it is evaluated.
  const placement = placeRobot({ ...policy, params: defaultParams(policy.joint.type) }, points, 0.42, partPoints);
  const b = placement.base;
  const g = policy.grasp;
  const rel = [g[0] - b[3]!, g[1] - b[7]!, g[2] - b[11]!];
  // base frame x = column 0, y = column 1
  const gx = rel[0]! * b[0]! + rel[1]! * b[4]! + rel[2]! * b[8]!;
  const gy = rel[0]! * b[1]! + rel[1]! * b[5]! + rel[2]! * b[9]!;
  const yaw = Math.max(-2.5, Math.min(2.5, Math.atan2(gy, gx)));
  const seeds: number[][] = [];
  for (const q7 of [0.785, 2.35, -0.785]) {
    seeds.push([yaw, -0.3, 0, -2.2, 0, 2.0, q7]);
    seeds.push([yaw, 0.2, 0, -1.8, 0, 1.6, q7]);
    seeds.push([yaw, -0.2, 0, -2.4, 1.0, 2.4, q7]);
    seeds.push([yaw, -0.2, 0, -2.4, -1.0, 2.4, q7]);
  }
  seeds.push([yaw, 0, 0, -1.5708, 0, 1.5708, -0.7853]);
  const sim = await MujocoSimulator.create(abs, {
    root: options.root ?? dirname(abs),
    confineMeshes: options.confineMeshes ?? true,
    robot: { base: placement.base },
    graspLink: child,
    ...(options.timestep ? { timestep: options.timestep } : {}),
  });
  const cache = new Map<string, number[]>();
  const startQ = (fraction: number): number[] => {
    const key = fraction.toFixed(3);
    const hit = cache.get(key);
    if (hit) return [...hit];
    // Pick the start posture (seed x finger flip) that can follow the whole opening path:
    // kinematic IK along the path from each candidate, scored by tracking error and limit margin.
    // Geometry + default tunables only: every candidate policy of a training run, and the trained
    // policy later, start from the same posture.
    const nominal: OpeningPolicy = { ...policy, params: defaultParams(policy.joint.type) };
    const q = policyJointValue(nominal, fraction);
    const qEnd = policyJointValue(nominal, 1 + nominal.params.overshoot);
    let best: { q: number[]; score: number } | null = null;
    for (const flip of [false, true]) {
      const frame0 = graspFrame(nominal, flip);
      const f = openingFrame(nominal, frame0, q, q);
      const pre = Float64Array.from(f);
      for (let r = 0; r < 3; r++) pre[r * 4 + 3] = f[r * 4 + 3]! - f[r * 4 + 2]! * nominal.params.standoff;
      for (const seed of seeds) {
        const start = sim.ikFrom(seed, pre, 150);
        let cur = start.q;
        let worst = start.posError + 0.1 * start.rotError;
        let near = sim.limitProximity(cur);
        for (let i = 0; i <= 10; i++) {
          const target = openingFrame(nominal, frame0, q + ((qEnd - q) * i) / 10, q);
          const r = sim.ikFrom(cur, target, i === 0 ? 60 : 30);
          cur = r.q;
          worst = Math.max(worst, r.posError + 0.1 * r.rotError);
          near = Math.max(near, sim.limitProximity(cur));
        }
        const score = worst + 2 * Math.max(0, near - 0.75);
        if (!best || score < best.score) best = { q: start.q, score };
      }
    }
    sim.reset();
    cache.set(key, best!.q);
    return [...best!.q];
  };
  return { sim, joint: joint!, partLinks, startQ, reachMargin: placement.margin, dispose: () => sim.dispose() };
}

export { mat4FromRpy };
