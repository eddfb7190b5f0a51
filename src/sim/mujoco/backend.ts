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
import { boxMesh, cylinderMesh, mergeMeshes, transformMesh, type TriangleMesh } from '../../core/mesh.js';
import { renderScene, type RenderItem } from '../../dataset/render.js';
import type { JointInfo, RobotControl, SimContact, Simulator } from '../simulator.js';
import type { MainModule } from './runtime.js';
import { captureMujocoOutput, getMujoco, mujocoErrorMessage, mujocoFS, MEMFS_ROOT, removeMemfsDir } from './runtime.js';
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

export interface MujocoSimulatorOptions extends SceneOptions {}

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
    const xpos = this.d.xpos as Float64Array;
    const xmat = this.d.xmat as Float64Array;
    const out = new Float64Array(16);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) out[r * 4 + c] = xmat[id * 9 + r * 3 + c]!;
      out[r * 4 + 3] = xpos[id * 3 + r]!;
    }
    out[15] = 1;
    return out;
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

  // ---- robot ----

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
    const p = this.d.site_xpos as Float64Array;
    const R = this.d.site_xmat as Float64Array;
    const s = this.tcpSite;
    const out = new Float64Array(16);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) out[r * 4 + c] = R[s * 9 + r * 3 + c]!;
      out[r * 4 + 3] = p[s * 3 + r]!;
    }
    out[15] = 1;
    return out;
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
  setGrasp(active: boolean): void {
    this.needRobot();
    if (this.weldId < 0) throw new Error('MujocoSimulator: the scene was built without a grasp link');
    const eqActive = this.d.eq_active as Uint8Array;
    if (!active) {
      eqActive[this.weldId] = 0;
      return;
    }
    const b2 = (this.m.eq_obj2id as Int32Array)[this.weldId]!;
    const rel = this.relativePose(this.handBody, b2);
    const data = this.m.eq_data as Float64Array;
    const o = this.weldId * 11;
    data[o] = 0; data[o + 1] = 0; data[o + 2] = 0;
    data[o + 3] = rel.pos[0]; data[o + 4] = rel.pos[1]; data[o + 5] = rel.pos[2];
    data[o + 6] = rel.quat[0]; data[o + 7] = rel.quat[1]; data[o + 8] = rel.quat[2]; data[o + 9] = rel.quat[3];
    data[o + 10] = 1;
    eqActive[this.weldId] = 1;
  }

  /** Distance (m) between the hand and where the active weld wants it (0 when released). */
  graspError(): number {
    if (!this.graspActive()) return 0;
    const b2 = (this.m.eq_obj2id as Int32Array)[this.weldId]!;
    const rel = this.relativePose(this.handBody, b2);
    const data = this.m.eq_data as Float64Array;
    const o = this.weldId * 11;
    return Math.hypot(rel.pos[0] - data[o + 3]!, rel.pos[1] - data[o + 4]!, rel.pos[2] - data[o + 5]!);
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
