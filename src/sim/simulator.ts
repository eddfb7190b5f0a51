/**
 * The simulator interface the policy code runs against. The embedded backend is MuJoCo (WASM,
 * src/sim/mujoco/backend.ts); remote backends (Isaac Gym workers) run whole tasks instead (see
 * src/sim/task.ts), so this interface stays in-process.
 *
 * Frames: world = the object URDF's root link frame (z up, metres, radians).
 */
import type { Camera } from '../core/camera.js';
import type { RgbaImage } from '../core/image.js';
import type { Mat4, Vec3 } from '../core/math.js';

export interface SimContact {
  /** Bodies in contact (object bodies named by their URDF link, robot bodies by theirs). */
  body1: string;
  body2: string;
  /** Contact point (world). */
  pos: Vec3;
  /** Penetration distance (negative = penetrating). */
  dist: number;
}

export interface JointInfo {
  name: string;
  type: 'prismatic' | 'revolute' | 'continuous';
  lower: number;
  upper: number;
}

/** An object, optionally with a robot, loaded into a physics engine. */
export interface Simulator {
  /** Physics time step (s). */
  readonly timestep: number;
  /** Movable joints of the object (URDF names). */
  objectJoints(): JointInfo[];
  /**
   * Resets the whole scene: object joints to `objectState` (by name; others at 0), robot arm to
   * `robotQ` (7 values) with the gripper open; velocities zero, time zero.
   */
  reset(objectState?: Readonly<Record<string, number>>, robotQ?: readonly number[]): void;
  /** Advances `n` physics steps (default 1). */
  step(n?: number): void;
  /** Simulated time since the last reset (s). */
  time(): number;
  /** Current value of an object joint (URDF name): metres or radians. */
  jointValue(name: string): number;
  /** World pose of an object link (URDF name) or robot link. */
  linkPose(name: string): Mat4;
  /** Active contacts. */
  contacts(): SimContact[];
  /** Renders the current state (simple CPU rasteriser; for picture strips, not for learning). */
  render(camera: Camera): RgbaImage;
  /** Frees everything; the simulator is unusable afterwards. */
  dispose(): void;
}

/** The Franka Panda side of a simulator with a robot. */
export interface RobotControl {
  /** Arm joint positions (7). */
  armQ(): Float64Array;
  /** Sets the 7 arm position-actuator targets (clamped to the joint limits). */
  setArmTargets(q: ArrayLike<number>): void;
  /** Commands both fingers to `opening` metres each (0 closed .. 0.04 open). */
  setGripper(opening: number): void;
  /** Current finger opening (mean of the two finger joints). */
  gripperOpening(): number;
  /** World pose of the tool centre point (between the fingertips). */
  tcpPose(): Mat4;
  /** 6 x 7 TCP Jacobian (rows: linear xyz, angular xyz; columns: arm joints), row-major. */
  tcpJacobian(): Float64Array;
  /** Arm joint limits (7 x [lower, upper]). */
  armLimits(): Array<[number, number]>;
}
