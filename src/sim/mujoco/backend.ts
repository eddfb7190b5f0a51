/**
 * The embedded simulator: an object URDF (+ the Franka Panda) in MuJoCo WASM.
 *
 * The scene is composed by {@link buildScene} (src/sim/mujoco/scene.ts), written into a private
 * MEMFS directory and compiled once; `reset` restores the state from scratch, so one instance
 * runs many rollouts. Arrays of MjModel/MjData are re-read on every access (the WASM heap can
 * grow and detach old views).
 */
import type { Camera } from '../../core/camera.js';
import type { RgbaImage } from '../../core/image.js';
import type { Mat4, Vec3 } from '../../core/math.js';
import { mat4ToQuaternion, transformPoint } from '../../core/math.js';
import { boxMesh, cylinderMesh, mergeMeshes, transformMesh, type TriangleMesh } from '../../core/mesh.js';
import { renderScene, type RenderItem } from '../../dataset/render.js';
import type { JointInfo, RobotControl, SimContact, Simulator } from '../simulator.js';
import { dlsStep, IK_LAMBDA, poseError } from './ik.js';
import type { MainModule } from './runtime.js';
import { captureMujocoOutput, getMujoco, mujocoErrorMessage, mujocoFS, MEMFS_ROOT, poseFromMujoco, removeMemfsDir } from './runtime.js';
import type { BuiltScene, SceneOptions } from './scene.js';
import { buildScene, GRASP_WELD, OBJECT_PREFIX, PANDA_ARM_JOINTS, PANDA_FINGER_BODIES, PANDA_FINGER_JOINTS, PANDA_HOME, PANDA_TCP_SITE } from './scene.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

const MJ_OBJ_BODY = 1;
const MJ_OBJ_JOINT = 3;
const MJ_OBJ_GEOM = 5;
const MJ_OBJ_SITE = 6;
const MJ_OBJ_ACTUATOR = 19;
const MJ_OBJ_EQUALITY = 17;

let sceneCounter = 0;

/** Upper bounds of the gravity-holding friction: N for slides, N m for hinges. */
export const HOLD_CAP = { prismatic: 40, revolute: 10 } as const;

export interface MujocoSimulatorOptions extends SceneOptions {
  /**
   * Raise each object joint's friction loss to 1.3x the largest gravity torque/force on it over
   * its range, at most {@link HOLD_CAP} (default true), like the friction hinges and stays of real furniture: a flap or a
   * lid stays where it is left instead of falling shut, but a gripper still moves it.
   */
  holdAgainstGravity?: boolean;
}

export class MujocoSimulator implements Simulator, RobotControl {
  readonly timestep: number;
  readonly scene: BuiltScene;
  private readonly mj: MainModule;
  private readonly m: Any;
  private readonly d: Any;
  private readonly dir: string;
  private disposed = false;
  private readonly bodyNames: string[];
  private readonly joints: JointInfo[];
  private readonly jointQpos = new Map<string, number>();
  private readonly jointDof = new Map<string, number>();
  private readonly armQposAdr: number[] = [];
  private readonly armDofAdr: number[] = [];
  private readonly armAct: number[] = [];
  private readonly fingerQposAdr: number[] = [];
  private readonly fingerAct: number[] = [];
  private readonly limits: Array<[number, number]> = [];
  private readonly tcpSite: number = -1;
  private readonly weldId: number = -1;
  private readonly handBody: number = -1;
  private readonly jacp: Any = null;
  private readonly jacr: Any = null;
  private renderTemplates: Array<{ geom: number; mesh: TriangleMesh; color: [number, number, number] }> | null = null;

  private constructor(mj: MainModule, m: Any, d: Any, dir: string, scene: BuiltScene) {
    this.mj = mj;
    this.m = m;
    this.d = d;
    this.dir = dir;
    this.scene = scene;
    this.timestep = m.opt.timestep as number;
    this.bodyNames = Array.from({ length: m.nbody as number }, (_, i) => this.name(MJ_OBJ_BODY, i));
    this.joints = [];
    for (const j of scene.object.joints) {
      if (j.type !== 'prismatic' && j.type !== 'revolute' && j.type !== 'continuous') continue;
      const id = mj.mj_name2id(m, MJ_OBJ_JOINT, OBJECT_PREFIX + j.name);
      if (id < 0) continue;
      this.jointQpos.set(j.name, m.jnt_qposadr[id]);
      this.jointDof.set(j.name, m.jnt_dofadr[id]);
      this.joints.push({ name: j.name, type: j.type, lower: j.limit?.lower ?? -Infinity, upper: j.limit?.upper ?? Infinity });
    }
    if (scene.hasRobot) {
      for (const n of PANDA_ARM_JOINTS) {
        const id = mj.mj_name2id(m, MJ_OBJ_JOINT, n);
        this.armQposAdr.push(m.jnt_qposadr[id]);
        this.armDofAdr.push(m.jnt_dofadr[id]);
        this.limits.push([m.jnt_range[id * 2], m.jnt_range[id * 2 + 1]]);
        this.armAct.push(mj.mj_name2id(m, MJ_OBJ_ACTUATOR, `act_${n}`));
      }
      for (const n of PANDA_FINGER_JOINTS) {
        const id = mj.mj_name2id(m, MJ_OBJ_JOINT, n);
        this.fingerQposAdr.push(m.jnt_qposadr[id]);
        this.fingerAct.push(mj.mj_name2id(m, MJ_OBJ_ACTUATOR, `act_${n}`));
      }
      this.tcpSite = mj.mj_name2id(m, MJ_OBJ_SITE, PANDA_TCP_SITE);
      this.weldId = mj.mj_name2id(m, MJ_OBJ_EQUALITY, GRASP_WELD);
      this.handBody = mj.mj_name2id(m, MJ_OBJ_BODY, 'panda_hand');
      this.jacp = new mj.DoubleBuffer(3 * (m.nv as number));
      this.jacr = new mj.DoubleBuffer(3 * (m.nv as number));
    }
  }

  /** Builds the scene for `objectUrdfPath` and compiles it. */
  static async create(objectUrdfPath: string, options: MujocoSimulatorOptions = {}): Promise<MujocoSimulator> {
    const scene = buildScene(objectUrdfPath, options);
    const mj = await getMujoco();
    const fs = mujocoFS(mj);
    const dir = `${MEMFS_ROOT}/scene-${process.pid}-${++sceneCounter}`;
    fs.mkdirTree(dir);
    let m: Any = null;
    try {
      for (const [name, text] of scene.files) fs.writeFile(`${dir}/${name}`, text);
      fs.writeFile(`${dir}/scene.xml`, scene.xml);
      let printed: string[] = [];
      try {
        const r = captureMujocoOutput(() => mj.MjModel.loadFromXML(`${dir}/scene.xml`) as Any);
        m = r.value;
        printed = r.output;
      } catch (err) {
        const out = ((err as { mujocoOutput?: string[] }).mujocoOutput ?? []).join('\n');
        throw new Error(`MujocoSimulator: MuJoCo rejected the scene for ${scene.objectUrdfPath}: ${mujocoErrorMessage(mj, err)}${out ? `\n${out}` : ''}`);
      }
      if (!m) throw new Error(`MujocoSimulator: MuJoCo rejected the scene for ${scene.objectUrdfPath}: ${printed.join('\n') || 'no model'}`);
      const d = new mj.MjData(m);
      const sim = new MujocoSimulator(mj, m, d, dir, scene);
      if (options.holdAgainstGravity ?? true) sim.holdAgainstGravity();
      sim.reset();
      return sim;
    } catch (err) {
      m?.delete?.();
      removeMemfsDir(mj, dir);
      throw err;
    }
  }

  private name(type: number, id: number): string {
    const adr = (type === MJ_OBJ_BODY ? this.m.name_bodyadr : type === MJ_OBJ_GEOM ? this.m.name_geomadr : this.m.name_jntadr)[id] as number;
    const raw = this.m.names as Int8Array;
    let end = adr;
    while (end < raw.length && raw[end] !== 0) end++;
    return new TextDecoder().decode(new Uint8Array(raw.buffer, raw.byteOffset + adr, end - adr));
  }

  private live(): void {
    if (this.disposed) throw new Error('MujocoSimulator: used after dispose()');
  }

  get model(): Any {
    return this.m;
  }
  get data(): Any {
    return this.d;
  }
  get hasRobot(): boolean {
    return this.scene.hasRobot;
  }

  /** See {@link MujocoSimulatorOptions.holdAgainstGravity}. Returns the friction set per joint. */
  holdAgainstGravity(): Record<string, number> {
    this.live();
    const out: Record<string, number> = {};
    const fl = this.m.dof_frictionloss as Float64Array;
    for (const j of this.joints) {
      const lo = Number.isFinite(j.lower) ? j.lower : -Math.PI;
      const hi = Number.isFinite(j.upper) ? j.upper : Math.PI;
      let maxG = 0;
      for (let i = 0; i <= 8; i++) {
        this.mj.mj_resetData(this.m, this.d);
        (this.d.qpos as Float64Array)[this.jointQpos.get(j.name)!] = lo + ((hi - lo) * i) / 8;
        this.mj.mj_forward(this.m, this.d);
        maxG = Math.max(maxG, Math.abs((this.d.qfrc_bias as Float64Array)[this.jointDof.get(j.name)!]!));
      }
      const dof = this.jointDof.get(j.name)!;
      // Capped so that a (mis-estimated) heavy part can still be moved by the arm.
      const cap = j.type === 'prismatic' ? HOLD_CAP.prismatic : HOLD_CAP.revolute;
      fl[dof] = Math.max(fl[dof]!, Math.min(cap, 1.3 * maxG));
      out[j.name] = fl[dof]!;
    }
    return out;
  }

  objectJoints(): JointInfo[] {
    return this.joints.map((j) => ({ ...j }));
  }

  reset(objectState: Readonly<Record<string, number>> = {}, robotQ: readonly number[] = PANDA_HOME): void {
    this.live();
    this.mj.mj_resetData(this.m, this.d);
    const qpos = this.d.qpos as Float64Array;
    for (const [name, v] of Object.entries(objectState)) {
      const adr = this.jointQpos.get(name);
      if (adr === undefined) throw new Error(`MujocoSimulator: unknown object joint "${name}"; known: ${[...this.jointQpos.keys()].join(', ')}`);
      if (!Number.isFinite(v)) throw new Error(`MujocoSimulator: joint "${name}" value must be finite, got ${v}`);
      qpos[adr] = v;
    }
    if (this.hasRobot) {
      if (robotQ.length !== 7) throw new Error(`MujocoSimulator: robot start needs 7 joint values, got ${robotQ.length}`);
      const ctrl = this.d.ctrl as Float64Array;
      this.armQposAdr.forEach((adr, i) => {
        const [lo, hi] = this.limits[i]!;
        const v = Math.min(hi, Math.max(lo, robotQ[i]!));
        qpos[adr] = v;
        ctrl[this.armAct[i]!] = v;
      });
      this.fingerQposAdr.forEach((adr, i) => {
        qpos[adr] = 0.04;
        ctrl[this.fingerAct[i]!] = 0.04;
      });
      if (this.weldId >= 0) (this.d.eq_active as Uint8Array)[this.weldId] = 0;
    }
    this.mj.mj_forward(this.m, this.d);
  }

  step(n = 1): void {
    this.live();
    for (let i = 0; i < n; i++) this.mj.mj_step(this.m, this.d);
  }

  time(): number {
    return this.d.time as number;
  }

  jointValue(name: string): number {
    this.live();
    const adr = this.jointQpos.get(name);
    if (adr === undefined) throw new Error(`MujocoSimulator: unknown object joint "${name}"; known: ${[...this.jointQpos.keys()].join(', ')}`);
    return (this.d.qpos as Float64Array)[adr]!;
  }

  jointVelocity(name: string): number {
    const adr = this.jointDof.get(name);
    if (adr === undefined) throw new Error(`MujocoSimulator: unknown object joint "${name}"`);
    return (this.d.qvel as Float64Array)[adr]!;
  }

  /** MuJoCo body id of an object link (URDF name) or robot link. */
  bodyId(name: string): number {
    let id = this.bodyNames.indexOf(OBJECT_PREFIX + name);
    if (id < 0) id = this.bodyNames.indexOf(name);
    if (id < 0) throw new Error(`MujocoSimulator: unknown link "${name}"`);
    return id;
  }

  private bodyPoseById(id: number): Mat4 {
    return poseFromMujoco(this.d.xpos as Float64Array, this.d.xmat as Float64Array, id);
  }

  linkPose(name: string): Mat4 {
    this.live();
    return this.bodyPoseById(this.bodyId(name));
  }

  private bodyLabel(id: number): string {
    const n = this.bodyNames[id] ?? String(id);
    return n.startsWith(OBJECT_PREFIX) ? n.slice(OBJECT_PREFIX.length) : n;
  }

  contacts(): SimContact[] {
    this.live();
    const out: SimContact[] = [];
    const n = this.d.ncon as number;
    const vec = this.d.contact;
    const gb = this.m.geom_bodyid as Int32Array;
    for (let i = 0; i < n; i++) {
      const c = vec.get(i);
      if (!c) continue;
      const pos = c.pos as Float64Array;
      out.push({ body1: this.bodyLabel(gb[c.geom1]!), body2: this.bodyLabel(gb[c.geom2]!), pos: [pos[0]!, pos[1]!, pos[2]!], dist: c.dist });
      c.delete?.();
    }
    return out;
  }

  /**
   * Moves the whole object (its root body) by a small rigid offset from its nominal pose at the
   * world origin: a translation and a rotation `yaw` (rad) about the vertical through the origin.
   * Takes effect at the next reset/forward. Used to perturb evaluation starts.
   */
  setObjectOffset(xyz: Vec3, yaw: number): void {
    this.live();
    const id = this.bodyId(this.scene.object.root);
    const pos = this.m.body_pos as Float64Array;
    const quat = this.m.body_quat as Float64Array;
    pos[id * 3] = xyz[0];
    pos[id * 3 + 1] = xyz[1];
    pos[id * 3 + 2] = xyz[2];
    quat[id * 4] = Math.cos(yaw / 2);
    quat[id * 4 + 1] = 0;
    quat[id * 4 + 2] = 0;
    quat[id * 4 + 3] = Math.sin(yaw / 2);
  }

  // ---- robot ----

  /**
   * Moves the robot's base (panda_link0) to the world pose `base` (rigid). Takes effect at the
   * next reset/forward; used to compare base placements in one scene (src/policy/env.ts).
   */
  setRobotBase(base: Mat4): void {
    this.needRobot();
    const id = this.bodyId('panda_link0');
    const pos = this.m.body_pos as Float64Array;
    const quat = this.m.body_quat as Float64Array;
    const q = mat4ToQuaternion(base);
    pos[id * 3] = base[3]!;
    pos[id * 3 + 1] = base[7]!;
    pos[id * 3 + 2] = base[11]!;
    for (let k = 0; k < 4; k++) quat[id * 4 + k] = q[k]!;
  }

  private needRobot(): void {
    this.live();
    if (!this.hasRobot) throw new Error('MujocoSimulator: this scene has no robot');
  }

  armQ(): Float64Array {
    this.needRobot();
    const qpos = this.d.qpos as Float64Array;
    return Float64Array.from(this.armQposAdr, (a) => qpos[a]!);
  }

  armLimits(): Array<[number, number]> {
    return this.limits.map((l) => [l[0], l[1]]);
  }

  setArmTargets(q: ArrayLike<number>): void {
    this.needRobot();
    const ctrl = this.d.ctrl as Float64Array;
    for (let i = 0; i < 7; i++) {
      const [lo, hi] = this.limits[i]!;
      const v = q[i]!;
      ctrl[this.armAct[i]!] = Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : ctrl[this.armAct[i]!]!;
    }
  }

  setGripper(opening: number): void {
    this.needRobot();
    const ctrl = this.d.ctrl as Float64Array;
    const v = Math.min(0.04, Math.max(0, opening));
    for (const a of this.fingerAct) ctrl[a] = v;
  }

  gripperOpening(): number {
    this.needRobot();
    const qpos = this.d.qpos as Float64Array;
    return (qpos[this.fingerQposAdr[0]!]! + qpos[this.fingerQposAdr[1]!]!) / 2;
  }

  tcpPose(): Mat4 {
    this.needRobot();
    return poseFromMujoco(this.d.site_xpos as Float64Array, this.d.site_xmat as Float64Array, this.tcpSite);
  }

  tcpJacobian(): Float64Array {
    this.needRobot();
    this.mj.mj_jacSite(this.m, this.d, this.jacp, this.jacr, this.tcpSite);
    const jp = this.jacp.GetView() as Float64Array;
    const jr = this.jacr.GetView() as Float64Array;
    const nv = this.m.nv as number;
    const J = new Float64Array(6 * 7);
    for (let c = 0; c < 7; c++) {
      const dof = this.armDofAdr[c]!;
      for (let r = 0; r < 3; r++) {
        J[r * 7 + c] = jp[r * nv + dof]!;
        J[(r + 3) * 7 + c] = jr[r * nv + dof]!;
      }
    }
    return J;
  }

  /**
   * Kinematic IK (no dynamics): from each seed, `iterations` damped-least-squares steps toward
   * the TCP pose `target` with joint limits enforced; returns the best solution (lowest error,
   * then farthest from the limits). Leaves the simulation state modified: reset() afterwards.
   */
  solveArmIk(target: Mat4, seeds: ReadonlyArray<readonly number[]>, iterations = 150): { q: number[]; posError: number; rotError: number } {
    this.needRobot();
    const lim = this.limits;
    let best: { q: number[]; posError: number; rotError: number; score: number } | null = null;
    for (const seed of seeds) {
      const r = this.ikFrom(seed, target, iterations);
      const score = r.posError + 0.1 * r.rotError + 0.01 * this.limitProximity(r.q);
      if (!best || score < best.score) best = { ...r, score };
    }
    return { q: best!.q, posError: best!.posError, rotError: best!.rotError };
  }

  /** 0 at the middle of every joint's range, 1 when some joint is at a limit. */
  limitProximity(q: readonly number[]): number {
    let near = 0;
    q.forEach((v, k) => {
      const [lo, hi] = this.limits[k]!;
      near = Math.max(near, 1 - Math.min(v - lo, hi - v) / ((hi - lo) / 2));
    });
    return near;
  }

  /** Kinematic DLS IK from `seed` toward `target` (limits enforced); see {@link solveArmIk}. */
  ikFrom(seed: readonly number[], target: Mat4, iterations: number): { q: number[]; posError: number; rotError: number } {
    this.needRobot();
    const lim = this.limits;
    const mid = lim.map(([lo, hi]) => (lo + hi) / 2);
    {
      const qpos = this.d.qpos as Float64Array;
      this.armQposAdr.forEach((a, k) => (qpos[a] = Math.min(lim[k]![1], Math.max(lim[k]![0], seed[k]!))));
      this.mj.mj_kinematics(this.m, this.d);
      this.mj.mj_comPos(this.m, this.d);
      let e = poseError(this.tcpPose(), target);
      for (let it = 0; it < iterations; it++) {
        const q = this.armQ();
        const dq = dlsStep(this.tcpJacobian(), e, 7, IK_LAMBDA, mid, q, 0.02);
        const qp = this.d.qpos as Float64Array;
        this.armQposAdr.forEach((a, k) => (qp[a] = Math.min(lim[k]![1] - 0.02, Math.max(lim[k]![0] + 0.02, q[k]! + dq[k]!))));
        this.mj.mj_kinematics(this.m, this.d);
        this.mj.mj_comPos(this.m, this.d);
        e = poseError(this.tcpPose(), target);
      }
      const q = Array.from(this.armQ());
      return { q, posError: Math.hypot(e[0]!, e[1]!, e[2]!), rotError: Math.hypot(e[3]!, e[4]!, e[5]!) };
    }
  }

  /** Bodies (link names) the fingers touch right now. */
  fingerContacts(): string[] {
    const fingers = new Set<string>(PANDA_FINGER_BODIES);
    const out = new Set<string>();
    for (const c of this.contacts()) {
      if (fingers.has(c.body1)) out.add(c.body2);
      if (fingers.has(c.body2)) out.add(c.body1);
    }
    return [...out];
  }

  /** Whether the grasp weld (hand <-> grasp link) is active. */
  graspActive(): boolean {
    return this.weldId >= 0 && (this.d.eq_active as Uint8Array)[this.weldId] === 1;
  }

  /**
   * Activates (or releases) the grasp weld, freezing the current relative pose of the hand and the
   * grasp link: the weld then holds them as they are (a firm grip), it does not pull them together.
   */
  setGrasp(active: boolean, pivot = false): void {
    this.needRobot();
    if (this.weldId < 0) throw new Error('MujocoSimulator: the scene was built without a grasp link');
    const eqActive = this.d.eq_active as Uint8Array;
    if (!active) {
      eqActive[this.weldId] = 0;
      return;
    }
    // MuJoCo's body-semantic weld: the point relpos (body1 frame) must coincide with the point
    // anchor (body2 frame), and body2's orientation relative to body1 stays relquat (scaled by
    // torquescale). Both points are set to the current TCP, so activation is violation-free.
    const b2 = (this.m.eq_obj2id as Int32Array)[this.weldId]!;
    const rel = this.relativePose(this.handBody, b2);
    const tcp = this.tcpPose();
    const P1 = this.bodyPoseById(this.handBody);
    const P2 = this.bodyPoseById(b2);
    const d1 = [tcp[3]! - P1[3]!, tcp[7]! - P1[7]!, tcp[11]! - P1[11]!];
    const d2 = [tcp[3]! - P2[3]!, tcp[7]! - P2[7]!, tcp[11]! - P2[11]!];
    const data = this.m.eq_data as Float64Array;
    const o = this.weldId * 11;
    for (let c = 0; c < 3; c++) {
      data[o + c] = P2[c]! * d2[0]! + P2[4 + c]! * d2[1]! + P2[8 + c]! * d2[2]!;
      data[o + 3 + c] = P1[c]! * d1[0]! + P1[4 + c]! * d1[1]! + P1[8 + c]! * d1[2]!;
    }
    data[o + 6] = rel.quat[0]; data[o + 7] = rel.quat[1]; data[o + 8] = rel.quat[2]; data[o + 9] = rel.quat[3];
    // torquescale 0: the grip holds the point but lets the part pivot about it (bar handle).
    data[o + 10] = pivot ? 0 : 1;
    eqActive[this.weldId] = 1;
  }

  /** Distance (m) between the hand and where the active weld wants it (0 when released). */
  graspError(): number {
    if (!this.graspActive()) return 0;
    const b2 = (this.m.eq_obj2id as Int32Array)[this.weldId]!;
    const data = this.m.eq_data as Float64Array;
    const o = this.weldId * 11;
    // Point on the hand: xpos1 + R1 relpos; on the part: xpos2 + R2 anchor.
    const P1 = this.bodyPoseById(this.handBody);
    const P2 = this.bodyPoseById(b2);
    const p1 = transformPoint(P1, [data[o + 3]!, data[o + 4]!, data[o + 5]!]);
    const p2 = transformPoint(P2, [data[o]!, data[o + 1]!, data[o + 2]!]);
    return Math.hypot(p1[0] - p2[0], p1[1] - p2[1], p1[2] - p2[2]);
  }

  /** Pose of body b2 in body b1's frame: position and quaternion (w, x, y, z). */
  private relativePose(b1: number, b2: number): { pos: Vec3; quat: [number, number, number, number] } {
    const xpos = this.d.xpos as Float64Array;
    const xq = this.d.xquat as Float64Array;
    const R1 = this.bodyPoseById(b1);
    const dp: Vec3 = [xpos[b2 * 3]! - xpos[b1 * 3]!, xpos[b2 * 3 + 1]! - xpos[b1 * 3 + 1]!, xpos[b2 * 3 + 2]! - xpos[b1 * 3 + 2]!];
    const pos: Vec3 = [0, 1, 2].map((c) => R1[c]! * dp[0] + R1[4 + c]! * dp[1] + R1[8 + c]! * dp[2]) as Vec3;
    const q1 = [xq[b1 * 4]!, -xq[b1 * 4 + 1]!, -xq[b1 * 4 + 2]!, -xq[b1 * 4 + 3]!];
    const q2 = [xq[b2 * 4]!, xq[b2 * 4 + 1]!, xq[b2 * 4 + 2]!, xq[b2 * 4 + 3]!];
    const quat: [number, number, number, number] = [
      q1[0]! * q2[0]! - q1[1]! * q2[1]! - q1[2]! * q2[2]! - q1[3]! * q2[3]!,
      q1[0]! * q2[1]! + q1[1]! * q2[0]! + q1[2]! * q2[3]! - q1[3]! * q2[2]!,
      q1[0]! * q2[2]! - q1[1]! * q2[3]! + q1[2]! * q2[0]! + q1[3]! * q2[1]!,
      q1[0]! * q2[3]! + q1[1]! * q2[2]! - q1[2]! * q2[1]! + q1[3]! * q2[0]!,
    ];
    return { pos, quat };
  }

  // ---- rendering ----

  private buildRenderTemplates(): Array<{ geom: number; mesh: TriangleMesh; color: [number, number, number] }> {
    const m = this.m;
    const out: Array<{ geom: number; mesh: TriangleMesh; color: [number, number, number] }> = [];
    const ng = m.ngeom as number;
    const types = m.geom_type as Int32Array;
    const sizes = m.geom_size as Float64Array;
    const rgba = m.geom_rgba as Float32Array;
    const dataid = m.geom_dataid as Int32Array;
    for (let g = 0; g < ng; g++) {
      const t = types[g]!;
      const s: Vec3 = [sizes[g * 3]!, sizes[g * 3 + 1]!, sizes[g * 3 + 2]!];
      let mesh: TriangleMesh | null = null;
      if (t === 6) mesh = boxMesh([0, 0, 0], [2 * s[0], 2 * s[1], 2 * s[2]]);
      else if (t === 5) mesh = cylinderMesh([0, 0, 0], s[0], 2 * s[1], 2, 16);
      else if (t === 3) mesh = mergeMeshes([cylinderMesh([0, 0, 0], s[0], 2 * s[1], 2, 12), boxMesh([0, 0, s[1]], [1.4 * s[0], 1.4 * s[0], 1.4 * s[0]]), boxMesh([0, 0, -s[1]], [1.4 * s[0], 1.4 * s[0], 1.4 * s[0]])]);
      else if (t === 2) mesh = boxMesh([0, 0, 0], [1.6 * s[0], 1.6 * s[0], 1.6 * s[0]]);
      else if (t === 7) {
        const id = dataid[g]!;
        const va = (m.mesh_vertadr as Int32Array)[id]!, vn = (m.mesh_vertnum as Int32Array)[id]!;
        const fa = (m.mesh_faceadr as Int32Array)[id]!, fn = (m.mesh_facenum as Int32Array)[id]!;
        const verts = (m.mesh_vert as Float32Array).slice(va * 3, (va + vn) * 3);
        const faces = Uint32Array.from((m.mesh_face as Int32Array).subarray(fa * 3, (fa + fn) * 3));
        mesh = { positions: verts, indices: faces };
      }
      if (mesh) out.push({ geom: g, mesh, color: [rgba[g * 4]!, rgba[g * 4 + 1]!, rgba[g * 4 + 2]!] });
    }
    return out;
  }

  render(camera: Camera): RgbaImage {
    this.live();
    this.renderTemplates ??= this.buildRenderTemplates();
    const gx = this.d.geom_xpos as Float64Array;
    const gm = this.d.geom_xmat as Float64Array;
    const items: RenderItem[] = this.renderTemplates.map(({ geom, mesh, color }) => {
      const T = new Float64Array(16);
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 3; c++) T[r * 4 + c] = gm[geom * 9 + r * 3 + c]!;
        T[r * 4 + 3] = gx[geom * 3 + r]!;
      }
      T[15] = 1;
      const world = transformMesh(mesh, T);
      const tri = world.indices.length / 3;
      const colors = new Float32Array(tri * 3);
      for (let i = 0; i < tri; i++) colors.set(color, i * 3);
      return { mesh: world, triangleColors: colors };
    });
    const out = renderScene(items, camera);
    return { width: out.width, height: out.height, data: out.rgba };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.jacp?.delete?.();
    this.jacr?.delete?.();
    this.d.delete();
    this.m.delete();
    removeMemfsDir(this.mj, this.dir);
  }
}
