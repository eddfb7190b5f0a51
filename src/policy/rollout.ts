/**
 * One episode of the opening policy in the embedded simulator:
 *   reach (pre-grasp, standoff behind the handle) -> approach -> close the gripper (grasp when both
 *   fingers touch the part, or one does when the closing time is up) -> follow the joint trajectory
 *   (line / arc) at `speed` from the joint value observed at the grasp to the open state plus
 *   overshoot -> hold. A miss (no finger contact with the part after closing: gripper feedback) is
 *   retried twice, shifted {@link RETRY_OFFSET} deeper and shallower along the approach. Until the
 *   grasp, the pre-grasp / grasp targets follow the observed joint value (a bump that swings a light
 *   door moves the handle; the gripper goes where the handle is now).
 * End-effector targets go through damped-least-squares IK on MuJoCo's TCP Jacobian at 100 Hz into
 * the arm's position actuators; while a revolute part is held the orientation error is weighted by
 * {@link PULL_ROT_WEIGHT}.
 *
 * Grasp model: when a finger touches the part after closing, a weld between hand and part freezes
 * their relative pose (a firm grip, see MujocoSimulator.setGrasp); it slips (releases) when the
 * hand is pulled more than {@link SLIP_DISTANCE} from where the grip holds it, e.g. when the
 * commanded trajectory fights the real joint. Without finger contact nothing holds the part.
 */
import type { Mat4, Vec3 } from '../core/math.js';
import { mat4FromQuaternion, mat4ToQuaternion, transformPoint } from '../core/math.js';
import type { MujocoSimulator } from '../sim/mujoco/backend.js';
import { dlsStep, IK_LAMBDA, poseError } from '../sim/mujoco/ik.js';
import { PANDA_FINGER_BODIES } from '../sim/mujoco/scene.js';
import type { JointInfo } from '../sim/simulator.js';
import { openingRange } from './derive.js';
import { backedOff, graspFrame, openingFrame, policyJointValue } from './geometry.js';
import type { OpeningPolicy } from './types.js';

export const SLIP_DISTANCE = 0.03;
export const SUCCESS_FRACTION = 0.9;
export const CONTROL_DT = 0.01;
/** Shift (m, along the approach) of the second and third grasp attempts after a miss. */
export const RETRY_OFFSET = 0.012;
/**
 * Weight of the orientation error in the IK while a revolute part is held (1 elsewhere). The grip
 * pivots about the handle bar (weld with torquescale 0 here, a bar turning between the fingers in
 * Isaac Gym), so the gripper orientation along the arc is a preference, not a constraint: the arm
 * gives the handle position priority and follows long door arcs (0.8 m fridge doors) further.
 */
export const PULL_ROT_WEIGHT = 0.3;

export interface RolloutStart {
  /** Opening fraction of the evaluated joint at the start (e.g. 0.2). */
  fraction: number;
  /** Robot arm start (7). */
  robotQ: readonly number[];
  /** Object pose perturbation: translation (m) and yaw (rad). */
  objectOffset?: { xyz: Vec3; yaw: number };
}

export interface RolloutOptions {
  /** Called every `frameEvery` seconds of simulated time (for picture strips). */
  onFrame?: (sim: MujocoSimulator, t: number, phase: string) => void;
  frameEvery?: number;
  /** Seconds between trace samples (default 0.05). */
  traceEvery?: number;
}

export interface RolloutResult {
  finalValue: number;
  fraction: number;
  success: boolean;
  grasped: boolean;
  slipped: boolean;
  trace: { t: number[]; joint: number[] };
  steps: number;
}

function slerpFrame(a: Mat4, b: Mat4, s: number): Mat4 {
  const qa = mat4ToQuaternion(a);
  let qb = mat4ToQuaternion(b);
  let dot = qa[0] * qb[0] + qa[1] * qb[1] + qa[2] * qb[2] + qa[3] * qb[3];
  if (dot < 0) {
    qb = [-qb[0], -qb[1], -qb[2], -qb[3]];
    dot = -dot;
  }
  let q: [number, number, number, number];
  if (dot > 0.9995) {
    q = [0, 1, 2, 3].map((k) => qa[k]! + s * (qb[k]! - qa[k]!)) as [number, number, number, number];
  } else {
    const th = Math.acos(Math.min(1, dot));
    const w1 = Math.sin((1 - s) * th) / Math.sin(th);
    const w2 = Math.sin(s * th) / Math.sin(th);
    q = [0, 1, 2, 3].map((k) => w1 * qa[k]! + w2 * qb[k]!) as [number, number, number, number];
  }
  const pa = transformPoint(a, [0, 0, 0]);
  const pb = transformPoint(b, [0, 0, 0]);
  return mat4FromQuaternion(q, [pa[0] + s * (pb[0] - pa[0]), pa[1] + s * (pb[1] - pa[1]), pa[2] + s * (pb[2] - pa[2])]);
}

function rotationAngle(a: Mat4, b: Mat4): number {
  let tr = 0;
  for (let r = 0; r < 3; r++) for (let k = 0; k < 3; k++) tr += a[r * 4 + k]! * b[r * 4 + k]!;
  return Math.acos(Math.min(1, Math.max(-1, (tr - 1) / 2)));
}

const smooth = (s: number): number => {
  const x = Math.min(1, Math.max(0, s));
  return x * x * (3 - 2 * x);
};

/**
 * Runs one episode. `joint` is the evaluated object's joint (its limits define success);
 * `partLinks` are the links of the part it moves (finger contact with them = grasp).
 */
export function runRollout(
  sim: MujocoSimulator,
  policy: OpeningPolicy,
  joint: JointInfo,
  partLinks: ReadonlySet<string>,
  start: RolloutStart,
  options: RolloutOptions = {},
): RolloutResult {
  const evalRange = openingRange(joint.lower, joint.upper);
  const polRange = openingRange(policy.joint.limits[0], policy.joint.limits[1]);
  const off = start.objectOffset ?? { xyz: [0, 0, 0] as Vec3, yaw: 0 };
  sim.setObjectOffset(off.xyz, off.yaw);
  const q0 = evalRange.closed + start.fraction * (evalRange.open - evalRange.closed);
  sim.reset({ [joint.name]: q0 }, start.robotQ);
  const p = policy.params;
  const dt = sim.timestep;
  const stepsPerTick = Math.max(1, Math.round(CONTROL_DT / dt));

  // Observed opening fraction -> the policy's joint value (robust to different zero/sign conventions).
  const observedQ = (): number => policyJointValue(policy, (sim.jointValue(joint.name) - evalRange.closed) / (evalRange.open - evalRange.closed || 1));
  let qPolStart = observedQ();
  const qPolEnd = policyJointValue(policy, 1 + p.overshoot);

  const tcp0 = sim.tcpPose();
  const framesAtZero = [graspFrame(policy, false), graspFrame(policy, true)];
  const starts = framesAtZero.map((f) => openingFrame(policy, f, qPolStart, qPolStart));
  const flip = rotationAngle(tcp0, starts[1]!) < rotationAngle(tcp0, starts[0]!) ? 1 : 0;
  const frame0 = framesAtZero[flip]!;

  const tReach = 1.0;
  const tApproach = 0.85;
  const tClose = 0.35;
  const tRetry = 0.55;
  let tPull = Math.min(8, Math.abs(qPolEnd - qPolStart) / Math.max(1e-3, p.speed));
  const tHold = 0.4;

  const rest = Float64Array.from(start.robotQ);
  const trace = { t: [] as number[], joint: [] as number[] };
  const traceEvery = options.traceEvery ?? 0.05;
  let nextTrace = 0;
  let nextFrame = 0;
  let grasped = false;
  let slipped = false;
  let steps = 0;
  const qCmd = sim.armQ();
  // Grasp attempts: when the fingers close on nothing (gripper feedback: no contact with the part),
  // open, shift along the approach by the next offset and close again.
  const offsets = [0, RETRY_OFFSET, -RETRY_OFFSET];
  const shifted = (d: number): Mat4 => {
    const f = Float64Array.from(frame0);
    for (let r = 0; r < 3; r++) f[r * 4 + 3] = frame0[r * 4 + 3]! + frame0[r * 4 + 2]! * d;
    return f;
  };
  let attempt = 0;
  let frameK = frame0;
  let prevFrameK = frame0;
  let retryStart = -1;
  let closeStart = tReach + tApproach;
  let pullStart = -1;
  // Before the grasp the targets follow the observed joint: a bump during the approach that moves
  // the part (a light door swinging on) moves the handle, and the gripper goes where it is now.
  const at = (f0: Mat4, q: number): Mat4 => openingFrame(policy, f0, q, q);
  const bothFingersTouch = (): boolean => {
    let left = false;
    let right = false;
    for (const c of sim.contacts()) {
      const [f, other] = c.body1.startsWith('panda_') ? [c.body1, c.body2] : [c.body2, c.body1];
      if (!partLinks.has(other)) continue;
      if (f === PANDA_FINGER_BODIES[0]) left = true;
      else if (f === PANDA_FINGER_BODIES[1]) right = true;
    }
    return left && right;
  };
  const preOf = (g: Mat4): Mat4 => backedOff(g, p.standoff);

  for (let t = 0; pullStart < 0 || t < pullStart + tPull + tHold; t = sim.time()) {
    let phase: string;
    let target: Mat4;
    let grip = 0.04;
    const qNow = pullStart < 0 ? observedQ() : qPolStart;
    if (t < tReach) {
      phase = 'reach';
      target = slerpFrame(tcp0, preOf(at(frame0, qNow)), smooth(t / (tReach * 0.7)));
    } else if (t < tReach + tApproach) {
      phase = 'approach';
      const g = at(frame0, qNow);
      target = slerpFrame(preOf(g), g, smooth((t - tReach) / (tApproach * 0.6)));
    } else if (pullStart < 0 && retryStart >= 0 && t < closeStart) {
      phase = 'regrasp';
      target = slerpFrame(at(prevFrameK, qNow), at(frameK, qNow), smooth((t - retryStart - 0.15) / (tRetry - 0.3)));
    } else if (pullStart < 0 && t < closeStart + tClose && !(t > closeStart + 0.1 && bothFingersTouch())) {
      phase = 'close';
      target = at(frameK, qNow);
      grip = p.gripClosure;
    } else {
      if (pullStart < 0) {
        // Grasped: both fingers on the part while closing (a clamp; the part cannot be pushed
        // away by the first finger and lost), or any finger contact when the closing time is up.
        const touching = sim.fingerContacts().some((b) => partLinks.has(b));
        if (touching) {
          sim.setGrasp(true, policy.joint.type === 'revolute');
          grasped = true;
          pullStart = t;
          // The part may have moved while the gripper closed: the path starts where it is now.
          qPolStart = observedQ();
          tPull = Math.min(8, Math.abs(qPolEnd - qPolStart) / Math.max(1e-3, p.speed));
        } else if (attempt + 1 < offsets.length) {
          attempt++;
          prevFrameK = frameK;
          frameK = shifted(offsets[attempt]!);
          retryStart = t;
          closeStart = t + tRetry;
        } else {
          pullStart = t;
        }
      }
      if (pullStart < 0) {
        phase = 'regrasp';
        target = at(prevFrameK, qNow);
      } else {
        const s = Math.min(1, (t - pullStart) / Math.max(tPull, 1e-6));
        const q = qPolStart + (qPolEnd - qPolStart) * s;
        phase = s < 1 ? 'pull' : 'hold';
        target = openingFrame(policy, frameK, q, qPolStart);
        grip = p.gripClosure;
        if (sim.graspActive() && sim.graspError() > SLIP_DISTANCE) {
          sim.setGrasp(false);
          slipped = true;
        }
      }
    }
    // IK: one damped-least-squares step toward the target from the measured configuration.
    const q = sim.armQ();
    const e = poseError(sim.tcpPose(), target, pullStart >= 0 && policy.joint.type === 'revolute' ? PULL_ROT_WEIGHT : 1);
    const dq = dlsStep(sim.tcpJacobian(), e, 7, IK_LAMBDA, rest, q, 0.02);
    let maxStep = 0;
    for (let k = 0; k < 7; k++) maxStep = Math.max(maxStep, Math.abs(dq[k]!));
    const scale = maxStep > 0.08 ? 0.08 / maxStep : 1;
    for (let k = 0; k < 7; k++) qCmd[k] = q[k]! + dq[k]! * scale;
    sim.setArmTargets(qCmd);
    sim.setGripper(grip);

    if (t >= nextTrace) {
      trace.t.push(Number(t.toFixed(4)));
      trace.joint.push(sim.jointValue(joint.name));
      nextTrace += traceEvery;
    }
    if (options.onFrame && t >= nextFrame) {
      options.onFrame(sim, t, phase);
      nextFrame += options.frameEvery ?? 0.5;
    }
    sim.step(stepsPerTick);
    steps += stepsPerTick;
  }
  const finalValue = sim.jointValue(joint.name);
  const fraction = (finalValue - evalRange.closed) / (evalRange.open - evalRange.closed || 1);
  trace.t.push(Number(sim.time().toFixed(4)));
  trace.joint.push(finalValue);
  if (options.onFrame) options.onFrame(sim, sim.time(), 'end');
  return { finalValue, fraction, success: fraction >= SUCCESS_FRACTION, grasped, slipped, trace, steps };
}
