/**
 * Pure geometry of an opening policy: where the handle / grasp frame is for a given joint value
 * (line for prismatic, arc about the axis for revolute), the gripper orientation, and the robot
 * base placement in front of the object within the Panda's reach.
 */
import type { Mat4, Vec3 } from '../core/math.js';
import { mat4AxisAngle, mat4Identity, mat4Multiply, mat4Translation, transformDirection, transformPoint, vec3 } from '../core/math.js';
import { openingRange } from './derive.js';
import type { OpeningPolicy } from './types.js';

/** Rigid motion of the part for a joint displacement `dq` from the grasp's reference state. */
export function partMotion(policy: OpeningPolicy, dq: number): Mat4 {
  const { axis, origin, type } = policy.joint;
  if (type === 'prismatic') return mat4Translation(vec3.scale(axis, dq));
  return mat4Multiply(mat4Translation(origin), mat4Multiply(mat4AxisAngle(axis, dq), mat4Translation(vec3.scale(origin, -1))));
}

/** Policy joint value for an opening fraction (0 closed, 1 fully open). */
export function policyJointValue(policy: OpeningPolicy, fraction: number): number {
  const { closed, open } = openingRange(policy.joint.limits[0], policy.joint.limits[1]);
  return closed + fraction * (open - closed);
}

/**
 * Gripper (TCP) frame at the grasp in the closed state (joint value 0): z = approach, y = finger
 * closing direction (across the handle bar), x = y cross z. `flip` turns it 180 degrees about z.
 */
export function graspFrame(policy: OpeningPolicy, flip = false): Mat4 {
  let z = vec3.normalize(policy.approach);
  const pitch = policy.params.approachPitch ?? 0;
  if (pitch !== 0 && Math.abs(z[2]) < 0.7) {
    // Tilt the approach downward about the horizontal axis perpendicular to it.
    const r = vec3.normalize(vec3.cross(z, [0, 0, 1]));
    const rz = vec3.cross(r, z);
    z = vec3.normalize(vec3.sub(vec3.scale(z, Math.cos(pitch)), vec3.scale(rz, Math.sin(pitch))));
  }
  let y = vec3.cross(policy.handleAxis, z);
  y = vec3.length(y) > 1e-6 ? vec3.normalize(y) : vec3.normalize(vec3.cross(z, Math.abs(z[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0]));
  if (flip) y = vec3.scale(y, -1);
  const x = vec3.cross(y, z);
  const p = policy.params;
  const up: Vec3 = [0, 0, 1];
  const vertical = vec3.sub(up, vec3.scale(z, vec3.dot(up, z)));
  const vdir: Vec3 = vec3.length(vertical) > 1e-3 ? vec3.normalize(vertical) : x;
  const lateral = vec3.cross(z, vdir);
  const pos = vec3.add(
    vec3.add(policy.grasp, vec3.scale(z, p.graspDepth)),
    vec3.add(vec3.scale(lateral, p.graspLateral), vec3.scale(vdir, p.graspVertical)),
  );
  const m = mat4Identity();
  for (let r = 0; r < 3; r++) {
    m[r * 4] = x[r]!;
    m[r * 4 + 1] = y[r]!;
    m[r * 4 + 2] = z[r]!;
    m[r * 4 + 3] = pos[r]!;
  }
  return m;
}

/** The pre-grasp frame: `frame` moved back by `standoff` along its approach (z) axis. */
export function backedOff(frame: Mat4, standoff: number): Mat4 {
  const f = Float64Array.from(frame);
  for (let r = 0; r < 3; r++) f[r * 4 + 3] = frame[r * 4 + 3]! - frame[r * 4 + 2]! * standoff;
  return f;
}

/**
 * Gripper frame while opening: the grasp frame at joint value 0 moved by the part's motion to
 * `q`; for revolute joints the radial offset is scaled progressively by `arcRadiusScale`
 * (fully applied after 0.3 rad of travel from `qStart`).
 */
export function openingFrame(policy: OpeningPolicy, frame0: Mat4, q: number, qStart: number): Mat4 {
  let f0 = frame0;
  if (policy.joint.type === 'revolute' && policy.params.arcRadiusScale !== 1) {
    const k = 1 + (policy.params.arcRadiusScale - 1) * Math.min(1, Math.abs(q - qStart) / 0.3);
    const { axis, origin } = policy.joint;
    const p: Vec3 = [frame0[3]!, frame0[7]!, frame0[11]!];
    const d = vec3.sub(p, origin);
    const along = vec3.scale(axis, vec3.dot(d, axis));
    const radial = vec3.sub(d, along);
    const np = vec3.add(origin, vec3.add(along, vec3.scale(radial, k)));
    f0 = Float64Array.from(frame0);
    f0[3] = np[0];
    f0[7] = np[1];
    f0[11] = np[2];
  }
  const moved = mat4Multiply(partMotion(policy, q), f0);
  const follow = policy.joint.type === 'revolute' ? Math.min(1, Math.max(0, policy.params.wristFollow ?? 1)) : 1;
  if (follow < 1) {
    // Orientation: only `follow` of the rotation since qStart (position still on the arc).
    const partial = mat4Multiply(mat4AxisAngle(policy.joint.axis, qStart + (q - qStart) * follow), f0);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) moved[r * 4 + c] = partial[r * 4 + c]!;
  }
  return moved;
}

/** Handle path (grasp positions) for opening fractions in [from, to]. */
export function handlePath(policy: OpeningPolicy, from: number, to: number, samples = 12): Vec3[] {
  const frame = graspFrame(policy);
  const out: Vec3[] = [];
  for (let i = 0; i <= samples; i++) {
    const q = policyJointValue(policy, from + ((to - from) * i) / samples);
    out.push(transformPoint(openingFrame(policy, frame, q, q), [0, 0, 0]));
  }
  return out;
}

export interface BasePlacement {
  /** World pose of panda_link0 (z up, x toward the object). */
  base: Mat4;
  /** Worst-case reach margin over the path (m, positive = inside the comfortable shell). */
  margin: number;
  /**
   * Every admissible base (clear of the object and of the part's sweep), with its shell score and
   * margin, best score first: {@link createOpeningEnv} re-ranks them by kinematic reach.
   */
  candidates: Array<{ base: Mat4; score: number; margin: number }>;
}

/** Base pose (panda_link0) at `pos` with its x axis along -h (towards the object), z up. */
export function baseFacing(pos: Vec3, h: Vec3): Mat4 {
  const x = vec3.scale(h, -1);
  const y = vec3.cross([0, 0, 1], x);
  const base = mat4Identity();
  for (let r = 0; r < 3; r++) {
    base[r * 4] = x[r]!;
    base[r * 4 + 1] = y[r]!;
    base[r * 4 + 2] = r === 2 ? 1 : 0;
    base[r * 4 + 3] = pos[r]!;
  }
  return base;
}

/**
 * Places the Panda base in front of the part so that the pre-grasp point and the whole handle
 * path (20% .. 100% + overshoot) lie in the arm's comfortable shell: horizontal distance 0.3 ..
 * 0.72 m, height -0.1 .. 0.65 m above the base, at least `clearance` from `objectFront`
 * (the object's extent along the front direction, so the base does not sit inside the object).
 */
export function placeRobot(policy: OpeningPolicy, objectPoints: readonly Vec3[] = [], clearance = 0.12, partPoints: readonly Vec3[] = []): BasePlacement {
  const f = vec3.scale(policy.approach, -1);
  let h: Vec3 = [f[0], f[1], 0];
  if (vec3.length(h) < 0.3) {
    // A lid (front points up): stand on the side of the handle, away from the hinge.
    const d = vec3.sub(policy.grasp, policy.joint.origin);
    h = [d[0], d[1], 0];
    if (vec3.length(h) < 1e-6) h = [1, 0, 0];
  }
  h = vec3.normalize(h);
  const side: Vec3 = [-h[1], h[0], 0];
  const overshoot = Math.max(0, policy.params.overshoot);
  // Sample the gripper frames along the opening (TCP and wrist centre ~0.25 m behind it).
  const frame = graspFrame(policy);
  const tcps: Vec3[] = [];
  const wrists: Vec3[] = [];
  const addFrame = (f: Mat4): void => {
    tcps.push(transformPoint(f, [0, 0, 0]));
    wrists.push(transformPoint(f, [0, 0, -0.25]));
  };
  for (let i = 0; i <= 12; i++) {
    const q = policyJointValue(policy, 0.15 + ((1 + overshoot - 0.15) * i) / 12);
    const f = openingFrame(policy, frame, q, q);
    addFrame(f);
    if (i === 0) {
      addFrame(backedOff(f, Math.max(0.05, policy.params.standoff)));
    }
  }
  const centre = vec3.scale(tcps.reduce((a, p) => vec3.add(a, p), [0, 0, 0] as Vec3), 1 / tcps.length);
  let frontExtent = -Infinity;
  for (const p of objectPoints) frontExtent = Math.max(frontExtent, vec3.dot(p, h));
  // Where the moving part sweeps while opening (the robot's base column must stay out of it).
  const swept: Vec3[] = [];
  const stride = Math.max(1, Math.floor(partPoints.length / 150));
  for (let i = 0; i <= 8; i++) {
    const M = partMotion(policy, policyJointValue(policy, 0.1 + ((1 + overshoot - 0.1) * i) / 8));
    for (let k = 0; k < partPoints.length; k += stride) swept.push(transformPoint(M, partPoints[k]!));
  }
  let best: { pos: Vec3; score: number; margin: number } | null = null;
  const admissible: Array<{ pos: Vec3; score: number; margin: number }> = [];
  for (let d = 0.1; d <= 1.2001; d += 0.025) {
    for (let l = -0.5; l <= 0.5001; l += 0.05) {
      for (let dz = -0.8; dz <= 0.2001; dz += 0.05) {
        const pos: Vec3 = vec3.add(vec3.add(centre, vec3.scale(h, d)), vec3.add(vec3.scale(side, l), [0, 0, dz]));
        if (Number.isFinite(frontExtent) && vec3.dot(pos, h) < frontExtent + clearance) continue;
        let hit = false;
        for (const p of swept) {
          if (p[2] < pos[2] + 0.45 && Math.hypot(p[0] - pos[0], p[1] - pos[1]) < 0.16) {
            hit = true;
            break;
          }
        }
        if (hit) continue;
        const shoulder: Vec3 = [pos[0], pos[1], pos[2] + 0.333];
        let margin = Infinity;
        let cost = 0;
        for (let i = 0; i < tcps.length; i++) {
          const t = tcps[i]!;
          const w = wrists[i]!;
          const rho = Math.hypot(t[0] - pos[0], t[1] - pos[1]);
          const reach = vec3.distance(w, shoulder);
          const wz = w[2] - pos[2];
          const m = Math.min(rho - 0.3, 0.82 - rho, reach - 0.25, 0.66 - reach, wz + 0.1, 0.9 - wz);
          margin = Math.min(margin, m);
          cost += Math.max(0, -m) * 10 + Math.abs(reach - 0.46) + 0.3 * Math.abs(wz - 0.35);
        }
        const score = -cost / tcps.length + 2 * Math.min(margin, 0.08);
        admissible.push({ pos, score, margin });
        if (!best || score > best.score) best = { pos, score, margin };
      }
    }
  }
  admissible.sort((a, b) => b.score - a.score);
  const candidates = admissible.map((c) => ({ base: baseFacing(c.pos, h), score: c.score, margin: c.margin }));
  return { base: baseFacing(best!.pos, h), margin: best!.margin, candidates };
}

export { transformDirection };
