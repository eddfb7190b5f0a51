/**
 * The Franka opening policy as stored in policy.json. Everything is in the object's URDF world
 * frame (z up, metres, radians) as the object is loaded by the simulator (root link at the world
 * origin), so a policy trained on one URDF of an object can be run on another URDF of the same
 * object (zero-shot): the joint trajectory is re-derived from the *policy's* joint description,
 * never from the evaluation URDF.
 */
import type { Vec3 } from '../core/math.js';

export const OPENING_POLICY_VERSION = 1;

/** Tunable parameters searched by training (CEM). Units in the comments. */
export interface OpeningPolicyParams {
  /** Grasp point offset along the approach direction (m, + = deeper into the part). */
  graspDepth: number;
  /** Grasp point offset along the world up / lateral direction of the handle (m). */
  graspLateral: number;
  graspVertical: number;
  /** Pre-grasp standoff along -approach (m). */
  standoff: number;
  /** Opening speed: metres/second along the line, or radians/second about the axis. */
  speed: number;
  /** Finger opening commanded while gripping (m per finger, 0 = fully closed). */
  gripClosure: number;
  /** Extra motion past the target (fraction of the range, e.g. 0.1 = 10% overshoot). */
  overshoot: number;
  /** Fraction of the end effector's radial offset kept while following a revolute arc (1 = rigid). */
  arcRadiusScale: number;
  /**
   * Revolute only: how much of the part's rotation the gripper orientation follows (1 = rigidly,
   * 0 = keeps its start orientation and pivots about the handle bar).
   */
  wristFollow: number;
  /**
   * Tilt of the gripper's approach below the horizontal (rad) for horizontal approaches (the
   * Panda reaches a handle more comfortably pointing down-forward); ignored for vertical ones.
   */
  approachPitch: number;
}

export interface OpeningPolicyJoint {
  type: 'prismatic' | 'revolute';
  /** Unit axis in the world frame. */
  axis: Vec3;
  /** A point on the axis in the world frame (revolute), or the joint frame origin (prismatic). */
  origin: Vec3;
  /** Joint limits (m or rad) as in the URDF. */
  limits: [number, number];
}

export interface OpeningPolicy {
  version: number;
  task: 'drawer' | 'door';
  /** Name of the joint in the URDF the policy was derived from. */
  jointName: string;
  joint: OpeningPolicyJoint;
  /** Handle / grasp point in the world frame at joint value 0 (closed). */
  grasp: Vec3;
  /** Unit approach direction (world, from the gripper towards the part, i.e. into the surface). */
  approach: Vec3;
  /** Unit long axis of the handle bar (fingers close across it), perpendicular to `approach`. */
  handleAxis: Vec3;
  /** Opening direction sign along/about the axis: +1 opens towards `limits[1]`, -1 towards `limits[0]`. */
  openSign: 1 | -1;
  params: OpeningPolicyParams;
  /**
   * World pose (4x4 row-major, 16 numbers) of the robot base (panda_link0) the policy was trained
   * from. Environments place the robot there when it is given (the trained stance relative to the
   * object, also on another URDF of it: zero-shot); without it they place the robot from the
   * geometry (geometry.ts placeRobot, env.ts chooseBaseByReach).
   */
  robotBase?: number[];
  /** Provenance: the URDF trained on, the score reached, the seed. */
  meta?: Record<string, unknown>;
}
