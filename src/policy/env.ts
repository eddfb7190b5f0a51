/**
 * An opening environment: the object URDF to act on plus the Panda placed for a policy, in the
 * embedded MuJoCo simulator. One environment runs many rollouts (reset between them).
 */
import { dirname, resolve } from 'node:path';
import type { Mat4, Vec3 } from '../core/math.js';
import { mat4FromRpy, mat4Multiply, transformPoint } from '../core/math.js';
import { MujocoSimulator } from '../sim/mujoco/backend.js';
import { subtreeLinks, urdfLinkPoses } from '../sim/mujoco/urdf-read.js';
import type { JointInfo } from '../sim/simulator.js';
import { defaultParams, openingRange } from './derive.js';
import type { BasePlacement } from './geometry.js';
import { backedOff, graspFrame, openingFrame, placeRobot, policyJointValue } from './geometry.js';
import type { OpeningPolicy } from './types.js';

export interface OpeningEnv {
  sim: MujocoSimulator;
  joint: JointInfo;
  partLinks: Set<string>;
  /** Arm posture at the pre-grasp pose for an opening fraction (kinematic IK, cached). */
  startQ(fraction: number): number[];
  /** Worst reach margin (m) of the handle path from the chosen base placement (< 0: out of reach). */
  reachMargin: number;
  /** World pose of the robot base (panda_link0). */
  base: Mat4;
  dispose(): void;
}

/** Retracted start posture (TCP about 0.37 m in front of the base, 0.42 m up, pointing down). */
export const PANDA_READY = [0, -0.6, 0, -2.4, 0, 1.8, 0.785] as const;

export interface EnvOptions {
  /** Mesh files must lie under this directory (default: the URDF's directory). */
  root?: string;
  confineMeshes?: boolean;
  timestep?: number;
  /** Re-rank the admissible robot bases by kinematic reach along the opening path (default true). */
  reachPlacement?: boolean;
}

/** Opening fractions at which the reach of a candidate base is checked (start .. open + overshoot). */
const REACH_FRACTIONS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.08];

/** Robot links whose contact with the object during the path counts as a collision. */
const ARM_LINKS = new Set(['panda_link1', 'panda_link2', 'panda_link3', 'panda_link4', 'panda_link5', 'panda_link6', 'panda_link7', 'panda_link8']);

/**
 * Reach of the opening path from the robot base the scene holds now: the largest opening fraction
 * up to which kinematic damped-least-squares IK tracks the pre-grasp, the grasp and every path
 * sample within 1 cm / 0.1 rad (continuing from the previous solution) with no arm link (hand and
 * fingers excepted) touching the object, the part set to the same opening fraction; the best start
 * seed and finger flip. Leaves the simulation reset.
 */
export function pathReach(sim: MujocoSimulator, joint: JointInfo, policy: OpeningPolicy, seeds: ReadonlyArray<readonly number[]>): { reached: number; error: number } {
  const evalRange = openingRange(joint.lower, joint.upper);
  const q0 = policyJointValue(policy, REACH_FRACTIONS[0]!);
  let best = { reached: 0, error: Infinity };
  const collides = (fraction: number, q: readonly number[]): boolean => {
    sim.reset({ [joint.name]: evalRange.closed + fraction * (evalRange.open - evalRange.closed) }, q);
    return sim.contacts().some((c) => (ARM_LINKS.has(c.body1) && !c.body2.startsWith('panda_')) || (ARM_LINKS.has(c.body2) && !c.body1.startsWith('panda_')));
  };
  for (const flip of [false, true]) {
    const frame0 = graspFrame(policy, flip);
    const f = openingFrame(policy, frame0, q0, q0);
    const pre = backedOff(f, policy.params.standoff);
    for (const seed of seeds) {
      sim.reset({ [joint.name]: evalRange.closed + REACH_FRACTIONS[0]! * (evalRange.open - evalRange.closed) });
      const start = sim.ikFrom(seed, pre, 80);
      if (start.posError > 0.01 || start.rotError > 0.1) continue; // the grasp itself needs the orientation
      let cur = start.q;
      let reached = 0;
      let error = 0;
      for (const fr of REACH_FRACTIONS) {
        const q = policyJointValue(policy, Math.min(fr, 1 + policy.params.overshoot));
        const r = sim.ikFrom(cur, openingFrame(policy, frame0, q, q0), 30);
        if (r.posError > 0.015 || r.rotError > 0.5 || collides(Math.min(1, fr), r.q)) break;
        cur = r.q;
        reached = fr;
        error += r.posError + 0.1 * r.rotError + 0.01 * sim.limitProximity(cur);
      }
      if (reached > best.reached || (reached === best.reached && error < best.error)) best = { reached, error };
      if (best.reached >= REACH_FRACTIONS[REACH_FRACTIONS.length - 1]!) break;
    }
  }
  sim.reset();
  return best;
}

/**
 * Chooses the robot base for the opening and moves the scene's robot there: the shell placement
 * (geometry.ts placeRobot) when the arm reaches the whole path from it (pathReach); otherwise the
 * admissible base (clear of the object and of the part's sweep; placeRobot's candidates on a
 * 10 cm / 20 cm lattice, best shell score first) that reaches the whole path, or, when none does,
 * the shell placement. Long door arcs (fridge doors) need the base beside the arc rather than in
 * front of the handle, with the arm out of the door's way.
 */
export function chooseBaseByReach(sim: MujocoSimulator, joint: JointInfo, policy: OpeningPolicy, placement: BasePlacement, seedsFor: (b: Mat4) => number[][], budget = 120): { base: Mat4; margin: number; reached: number } {
  const full = REACH_FRACTIONS[REACH_FRACTIONS.length - 1]!;
  const few = (b: Mat4): number[][] => seedsFor(b).filter((_, i) => i === 0 || i === 5 || i === 8 || i === 12);
  sim.setRobotBase(placement.base);
  const own = pathReach(sim, joint, policy, few(placement.base));
  if (own.reached >= full) return { base: placement.base, margin: placement.margin, reached: own.reached };
  const seen = new Set<string>();
  const g = policy.grasp;
  let tried = 0;
  let best = { base: placement.base, margin: placement.margin, reached: own.reached, error: own.error };
  for (const c of placement.candidates) {
    const b = c.base;
    const key = `${Math.round(b[3]! / 0.1)},${Math.round(b[7]! / 0.1)},${Math.round(b[11]! / 0.2)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const rho = Math.hypot(g[0] - b[3]!, g[1] - b[7]!);
    const dz = g[2] - b[11]!;
    if (rho < 0.3 || rho > 0.95 || dz < -0.3 || dz > 1.0) continue;
    if (++tried > budget) break;
    sim.setRobotBase(b);
    const r = pathReach(sim, joint, policy, few(b));
    if (r.reached >= full) return { base: b, margin: c.margin, reached: r.reached };
    if (r.reached > best.reached + 0.05) best = { base: b, margin: c.margin, reached: r.reached, error: r.error };
  }
  sim.setRobotBase(best.base);
  sim.reset();
  return { base: best.base, margin: best.margin, reached: best.reached };
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
  const nominal: OpeningPolicy = { ...policy, params: defaultParams(policy.joint.type) };
  const placement = placeRobot(nominal, points, 0.42, partPoints);
  const seedsFor = (b: Mat4): number[][] => {
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
    return seeds;
  };
  const createSim = (base: Mat4): Promise<MujocoSimulator> =>
    MujocoSimulator.create(abs, {
      root: options.root ?? dirname(abs),
      confineMeshes: options.confineMeshes ?? true,
      robot: { base },
      graspLink: child,
      ...(options.timestep ? { timestep: options.timestep } : {}),
    });
  const stored = policy.robotBase ? Float64Array.from(policy.robotBase) : null;
  let base = stored ?? placement.base;
  const sim = await createSim(base);
  let seeds = seedsFor(base);
  let reachMargin = placement.margin;
  if (stored) {
    // The trained stance: the shell margin of the nearest admissible base, for reporting.
    let nearest = Infinity;
    for (const c of placement.candidates) {
      const d = Math.hypot(c.base[3]! - stored[3]!, c.base[7]! - stored[7]!, c.base[11]! - stored[11]!);
      if (d < nearest) [nearest, reachMargin] = [d, c.margin];
    }
  } else if (options.reachPlacement ?? true) {
    try {
      const chosen = chooseBaseByReach(sim, joint!, nominal, placement, seedsFor);
      reachMargin = chosen.margin;
      base = chosen.base;
      seeds = seedsFor(base);
    } catch (err) {
      sim.dispose();
      throw err;
    }
  }
  const cache = new Map<string, number[]>();
  const startQ = (fraction: number): number[] => {
    const key = fraction.toFixed(3);
    const hit = cache.get(key);
    if (hit) return [...hit];
    // Pick the start posture (seed x finger flip) that can follow the whole opening path:
    // kinematic IK along the path from each candidate, scored by tracking error and limit margin.
    // Geometry + default tunables only: every candidate policy of a training run, and the trained
    // policy later, start from the same posture.
    const q = policyJointValue(nominal, fraction);
    const qEnd = policyJointValue(nominal, 1 + nominal.params.overshoot);
    let best: { q: number[]; score: number } | null = null;
    for (const flip of [false, true]) {
      const frame0 = graspFrame(nominal, flip);
      const f = openingFrame(nominal, frame0, q, q);
      const pre = backedOff(f, nominal.params.standoff);
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
  return { sim, joint: joint!, partLinks, startQ, reachMargin, base, dispose: () => sim.dispose() };
}

export { mat4FromRpy };
