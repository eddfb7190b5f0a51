/**
 * Composes one MJCF scene from an object URDF (the project's or PartNet-Mobility layout) and,
 * optionally, the Franka Panda of urdf_templates/panda/panda.urdf placed at a given base pose.
 *
 * The URDFs are converted here (not by MuJoCo's URDF importer) so that every quirk of real assets
 * is handled in one place:
 * - mesh paths: `package://`, `file://`, relative and absolute, confined to a root directory;
 *   each mesh is re-written as a clean OBJ (vertices + triangles) under a generated name, so
 *   duplicate/odd file names, textures and `.mtl` files do not matter;
 * - collision: mesh collisions become MuJoCo convex hulls; meshes that are flat or degenerate
 *   (single-sided panels, on which qhull fails with "initial simplex is flat") become oriented
 *   boxes fitted to their vertices (PCA frame, minimum thickness 4 mm); links without collision
 *   elements collide through their visual meshes the same way;
 * - inertials: links without (valid) `<inertial>` get a mass from the bounding box of their
 *   geometry (hollow panels: 4 kg per m^2 of box surface, clamped to 0.2..20 kg) and the inertia
 *   of that box;
 * - names: bodies `obj:<link>`, joints `obj:<joint>`; geoms and meshes get generated names, so
 *   duplicate visual/collision names in the URDF are harmless;
 * - joint dynamics: at least {@link MIN_DYNAMICS} damping and friction loss, so doors do not swing
 *   open on a touch (importers and PartNet files often carry none).
 * Contact filtering: object geoms (contype 1, conaffinity 2) collide only with robot geoms
 * (contype 2, conaffinity 1); neither collides with itself (object parts overlap in their hulls,
 * the Panda's neighbouring links overlap in their simplified shapes).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mat4, Vec3 } from '../../core/math.js';
import { mat4FromRpy, mat4Identity, mat4Multiply, mat4ToQuaternion, transformDirection, transformPoint } from '../../core/math.js';
import type { UrdfGeometry, UrdfLink, UrdfOrigin } from '../../urdf/document.js';
import type { MeshData } from './mesh.js';
import { isDegenerateForHull, meshShape, readMeshFile, resolveMeshPath } from './mesh.js';
import type { ReadUrdf } from './urdf-read.js';
import { readUrdfText } from './urdf-read.js';

export const OBJECT_PREFIX = 'obj:';
export const MIN_DYNAMICS = {
  prismatic: { damping: 10, friction: 1 },
  revolute: { damping: 2, friction: 0.5 },
} as const;
export const PANDA_ARM_JOINTS = ['panda_joint1', 'panda_joint2', 'panda_joint3', 'panda_joint4', 'panda_joint5', 'panda_joint6', 'panda_joint7'] as const;
export const PANDA_FINGER_JOINTS = ['panda_finger_joint1', 'panda_finger_joint2'] as const;
/** Menagerie gains: kp per arm joint, kv = kp / 10. */
export const PANDA_KP = [4500, 4500, 3500, 3500, 2000, 2000, 2000] as const;
export const PANDA_FORCE = [87, 87, 87, 87, 12, 12, 12] as const;
/** Menagerie's home configuration. */
export const PANDA_HOME = [0, 0, 0, -1.5708, 0, 1.5708, -0.7853] as const;
export const PANDA_TCP_SITE = 'tcp';
export const PANDA_FINGER_BODIES = ['panda_leftfinger', 'panda_rightfinger'] as const;
export const GRASP_WELD = 'grasp';

/** Directory of the bundled URDF templates (works from src/ with tsx and from dist/). */
export function urdfTemplatesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/sim/mujoco -> repo root, or dist/src/sim/mujoco -> repo root
  for (const up of ['../../..', '../../../..']) {
    const dir = resolve(here, up, 'urdf_templates');
    try {
      readFileSync(resolve(dir, 'panda/panda.urdf'));
      return dir;
    } catch {
      // try the next
    }
  }
  throw new Error(`SimScene: cannot find urdf_templates/panda/panda.urdf above ${here}`);
}

export function pandaUrdfPath(): string {
  return resolve(urdfTemplatesDir(), 'panda/panda.urdf');
}

export interface SceneRobot {
  /** World pose of panda_link0. */
  base: Mat4;
  /** Panda URDF to use (default: the bundled template). */
  urdfPath?: string;
  /** Grip force limit per finger (N, default 70). */
  gripForce?: number;
}

export interface SceneOptions {
  /** Root directory mesh files must lie in (default: the URDF's directory). */
  root?: string;
  /** Refuse mesh files outside `root` (default true). */
  confineMeshes?: boolean;
  robot?: SceneRobot;
  /** Object link the grasp weld attaches to (needs `robot`). */
  graspLink?: string;
  timestep?: number;
}

/** A geom of the scene as converted (kept for rendering and for tests). */
export interface SceneGeom {
  body: string;
  kind: 'box' | 'cylinder' | 'sphere' | 'mesh';
  /** Pose in the body frame. */
  local: Mat4;
  /** box: half sizes; cylinder: radius, half length; sphere: radius. */
  size: Vec3;
  mesh?: string;
  rgba: [number, number, number, number];
  /** Was a flat / degenerate mesh replaced by a box. */
  boxFromMesh?: boolean;
}

export interface BuiltScene {
  xml: string;
  /** MEMFS-relative file name -> contents (clean OBJ meshes). */
  files: Map<string, string>;
  object: ReadUrdf;
  objectUrdfPath: string;
  warnings: string[];
  geoms: SceneGeom[];
  /** Mesh name -> its triangles (in the mesh file frame, scaled) for rendering. */
  meshes: Map<string, MeshData>;
  hasRobot: boolean;
}

const f = (x: number): string => {
  if (!Number.isFinite(x)) throw new Error(`SimScene: non-finite number ${x}`);
  const s = x.toFixed(7).replace(/\.?0+$/, '');
  return s === '-0' || s === '' ? '0' : s;
};
const fv = (v: readonly number[]): string => v.map(f).join(' ');
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

function poseAttrs(m: Mat4): string {
  const q = mat4ToQuaternion(m);
  const p = transformPoint(m, [0, 0, 0]);
  const identityRot = Math.abs(q[0] - 1) < 1e-12;
  return `pos="${fv(p)}"${identityRot ? '' : ` quat="${fv(q)}"`}`;
}

function originMatrix(o: UrdfOrigin): Mat4 {
  return mat4FromRpy(o.rpy, o.xyz);
}

/** Rotates a symmetric inertia tensor given in frame R into the body frame: R I R^T. */
function rotateInertia(R: Mat4, I: { ixx: number; iyy: number; izz: number; ixy: number; ixz: number; iyz: number }): number[] {
  const M = [I.ixx, I.ixy, I.ixz, I.ixy, I.iyy, I.iyz, I.ixz, I.iyz, I.izz];
  const r = (i: number, j: number): number => R[i * 4 + j]!;
  const out = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) s += r(i, a) * M[a * 3 + b]! * r(j, b);
      out[i * 3 + j] = s;
    }
  // fullinertia order: ixx iyy izz ixy ixz iyz
  return [out[0]!, out[4]!, out[8]!, out[1]!, out[2]!, out[5]!];
}

interface ConvertContext {
  urdfDir: string;
  root: string;
  confine: boolean;
  warnings: string[];
  files: Map<string, string>;
  meshes: Map<string, MeshData>;
  meshByPath: Map<string, { name: string; data: MeshData; degenerate: boolean; shape: ReturnType<typeof meshShape> } | null>;
  geoms: SceneGeom[];
  assets: string[];
  counter: { mesh: number };
}

function loadMesh(ctx: ConvertContext, g: Extract<UrdfGeometry, { type: 'mesh' }>, what: string) {
  const hostPath = resolveMeshPath(g.filename, ctx.urdfDir, ctx.root, ctx.confine);
  if (!hostPath) {
    ctx.warnings.push(`${what}: mesh "${g.filename}" not found${ctx.confine ? ` inside ${ctx.root}` : ''}, skipped`);
    return null;
  }
  const scale = g.scale ?? [1, 1, 1];
  const key = `${hostPath}|${scale.join(',')}`;
  if (ctx.meshByPath.has(key)) return ctx.meshByPath.get(key)!;
  let entry: { name: string; data: MeshData; degenerate: boolean; shape: ReturnType<typeof meshShape> } | null = null;
  try {
    const data = readMeshFile(hostPath, scale);
    if (data.positions.length === 0) throw new Error('no vertices');
    const shape = meshShape(data.positions);
    const degenerate = isDegenerateForHull(shape) || data.indices.length < 12;
    const name = `mesh${ctx.counter.mesh++}`;
    entry = { name, data, degenerate, shape };
    ctx.meshes.set(name, data);
    if (!degenerate) {
      const lines: string[] = [];
      const p = data.positions;
      for (let i = 0; i < p.length; i += 3) lines.push(`v ${p[i]} ${p[i + 1]} ${p[i + 2]}`);
      const idx = data.indices;
      for (let t = 0; t < idx.length; t += 3) lines.push(`f ${idx[t]! + 1} ${idx[t + 1]! + 1} ${idx[t + 2]! + 1}`);
      ctx.files.set(`${name}.obj`, lines.join('\n') + '\n');
      ctx.assets.push(`<mesh name="${name}" file="${name}.obj" inertia="convex"/>`);
    }
  } catch (err) {
    ctx.warnings.push(`${what}: mesh "${g.filename}" unreadable (${(err as Error).message}), skipped`);
  }
  ctx.meshByPath.set(key, entry);
  return entry;
}

interface GeomOut {
  xml: string;
  /** Bounds of the geom in the link frame (for inertial estimates). */
  min: Vec3;
  max: Vec3;
}

function geomXml(
  ctx: ConvertContext,
  body: string,
  origin: UrdfOrigin,
  g: UrdfGeometry,
  what: string,
  attrs: string,
  rgba: [number, number, number, number],
): GeomOut | null {
  const T = originMatrix(origin);
  const bounds = (corners: Vec3[]): { min: Vec3; max: Vec3 } => {
    const min: Vec3 = [Infinity, Infinity, Infinity];
    const max: Vec3 = [-Infinity, -Infinity, -Infinity];
    for (const c of corners) {
      const p = transformPoint(T, c);
      for (let k = 0; k < 3; k++) {
        min[k] = Math.min(min[k]!, p[k]!);
        max[k] = Math.max(max[k]!, p[k]!);
      }
    }
    return { min, max };
  };
  const boxCorners = (h: Vec3, c: Vec3 = [0, 0, 0]): Vec3[] => {
    const out: Vec3[] = [];
    for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const sz of [-1, 1]) out.push([c[0] + sx * h[0], c[1] + sy * h[1], c[2] + sz * h[2]]);
    return out;
  };
  const color = ` rgba="${fv(rgba)}"`;
  switch (g.type) {
    case 'box': {
      const h: Vec3 = [Math.max(g.size[0] / 2, 1e-4), Math.max(g.size[1] / 2, 1e-4), Math.max(g.size[2] / 2, 1e-4)];
      ctx.geoms.push({ body, kind: 'box', local: T, size: h, rgba });
      return { xml: `<geom type="box" size="${fv(h)}" ${poseAttrs(T)}${attrs}${color}/>`, ...bounds(boxCorners(h)) };
    }
    case 'cylinder': {
      const r = Math.max(g.radius, 1e-4), hl = Math.max(g.length / 2, 1e-4);
      ctx.geoms.push({ body, kind: 'cylinder', local: T, size: [r, hl, 0], rgba });
      return { xml: `<geom type="cylinder" size="${f(r)} ${f(hl)}" ${poseAttrs(T)}${attrs}${color}/>`, ...bounds(boxCorners([r, r, hl])) };
    }
    case 'sphere': {
      const r = Math.max(g.radius, 1e-4);
      ctx.geoms.push({ body, kind: 'sphere', local: T, size: [r, 0, 0], rgba });
      return { xml: `<geom type="sphere" size="${f(r)}" ${poseAttrs(T)}${attrs}${color}/>`, ...bounds(boxCorners([r, r, r])) };
    }
    case 'mesh': {
      const m = loadMesh(ctx, g, what);
      if (!m) return null;
      const s = m.shape;
      if (m.degenerate) {
        // Oriented box from the PCA frame: centre, axes, half extents (min thickness 4 mm).
        const mid: Vec3 = [0, 1, 2].map((k) => (s.min[k]! + s.max[k]!) / 2) as Vec3;
        const c: Vec3 = [0, 1, 2].map((r) => s.center[r]! + s.axes[r * 3]! * mid[0] + s.axes[r * 3 + 1]! * mid[1] + s.axes[r * 3 + 2]! * mid[2]) as Vec3;
        const B = mat4Identity();
        for (let r = 0; r < 3; r++) {
          for (let k = 0; k < 3; k++) B[r * 4 + k] = s.axes[r * 3 + k]!;
          B[r * 4 + 3] = c[r]!;
        }
        const h: Vec3 = [0, 1, 2].map((k) => Math.max((s.max[k]! - s.min[k]!) / 2, 0.002)) as Vec3;
        const L = mat4Multiply(T, B);
        ctx.geoms.push({ body, kind: 'box', local: L, size: h, rgba, boxFromMesh: true, mesh: m.name });
        const corners = boxCorners(h).map((p) => transformPoint(B, p));
        return { xml: `<geom type="box" size="${fv(h)}" ${poseAttrs(L)}${attrs}${color}/>`, ...bounds(corners) };
      }
      ctx.geoms.push({ body, kind: 'mesh', local: T, size: [0, 0, 0], mesh: m.name, rgba });
      return { xml: `<geom type="mesh" mesh="${m.name}" ${poseAttrs(T)}${attrs}${color}/>`, ...bounds(boxCorners([(s.aabbMax[0] - s.aabbMin[0]) / 2, (s.aabbMax[1] - s.aabbMin[1]) / 2, (s.aabbMax[2] - s.aabbMin[2]) / 2], [(s.aabbMax[0] + s.aabbMin[0]) / 2, (s.aabbMax[1] + s.aabbMin[1]) / 2, (s.aabbMax[2] + s.aabbMin[2]) / 2])) };
    }
  }
}

interface TreeOptions {
  prefix: string;
  geomAttrs: string;
  bodyAttrs: string;
  jointAttrs: (jointName: string, type: 'hinge' | 'slide') => string;
  estimateInertial: boolean;
  defaultRgba: [number, number, number, number];
  extraBodyXml?: (link: string) => string;
}

function linkBodyXml(ctx: ConvertContext, urdf: ReadUrdf, link: UrdfLink, opts: TreeOptions): { geoms: string[]; inertial: string } {
  const body = opts.prefix + link.name;
  const sources = link.collisions.length > 0 ? link.collisions : link.visuals;
  if (link.collisions.length === 0 && link.visuals.length > 0) ctx.warnings.push(`link ${link.name}: no <collision>, colliding through its visuals`);
  const geoms: string[] = [];
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  sources.forEach((c, k) => {
    const rgba = (link.visuals[k]?.material?.rgba as [number, number, number, number] | undefined) ?? opts.defaultRgba;
    const out = geomXml(ctx, body, c.origin, c.geometry, `link ${link.name} ${link.collisions.length ? 'collision' : 'visual'} ${k}`, opts.geomAttrs, rgba);
    if (!out) return;
    geoms.push(out.xml);
    for (let i = 0; i < 3; i++) {
      min[i] = Math.min(min[i]!, out.min[i]!);
      max[i] = Math.max(max[i]!, out.max[i]!);
    }
  });
  let inertial: string;
  if (link.inertial) {
    const R = originMatrix({ xyz: [0, 0, 0], rpy: link.inertial.origin.rpy });
    inertial = `<inertial pos="${fv(link.inertial.origin.xyz)}" mass="${f(link.inertial.mass)}" fullinertia="${fv(rotateInertia(R, link.inertial.inertia))}"/>`;
  } else {
    const has = Number.isFinite(min[0]);
    const size: Vec3 = has ? [0, 1, 2].map((k) => Math.max(max[k]! - min[k]!, 0.01)) as Vec3 : [0.05, 0.05, 0.05];
    const center: Vec3 = has ? [0, 1, 2].map((k) => (max[k]! + min[k]!) / 2) as Vec3 : [0, 0, 0];
    // Furniture parts are hollow panels: mass from the bounding box's surface (4 kg/m^2).
    const mass = Math.min(20, Math.max(0.2, 4 * 2 * (size[0] * size[1] + size[1] * size[2] + size[0] * size[2])));
    const I = [0, 1, 2].map((k) => (mass * (size[(k + 1) % 3]! ** 2 + size[(k + 2) % 3]! ** 2)) / 12);
    inertial = `<inertial pos="${fv(center)}" mass="${f(mass)}" diaginertia="${fv(I)}"/>`;
    if (link.name !== urdf.root) ctx.warnings.push(`link ${link.name}: no <inertial>, estimated ${mass.toFixed(2)} kg from its bounding box`);
  }
  return { geoms, inertial };
}

function treeXml(ctx: ConvertContext, urdf: ReadUrdf, rootPose: Mat4, opts: TreeOptions): string {
  const links = new Map(urdf.links.map((l) => [l.name, l] as const));
  const out: string[] = [];
  const emit = (linkName: string, pose: Mat4, jointXml: string, depth: number): void => {
    const link = links.get(linkName)!;
    const ind = '  '.repeat(depth + 2);
    const { geoms, inertial } = linkBodyXml(ctx, urdf, link, opts);
    out.push(`${ind}<body name="${esc(opts.prefix + linkName)}" ${poseAttrs(pose)}${opts.bodyAttrs}>`);
    if (jointXml) out.push(`${ind}  ${jointXml}`);
    out.push(`${ind}  ${inertial}`);
    for (const g of geoms) out.push(`${ind}  ${g}`);
    if (opts.extraBodyXml) {
      const extra = opts.extraBodyXml(linkName);
      if (extra) out.push(`${ind}  ${extra}`);
    }
    for (const j of urdf.joints) {
      if (j.parent !== linkName) continue;
      let jx = '';
      const name = esc(opts.prefix + j.name);
      const axis = fv(j.axis ?? [1, 0, 0]);
      if (j.type === 'revolute' || j.type === 'continuous') {
        const range = j.type === 'revolute' && j.limit ? ` range="${f(j.limit.lower)} ${f(j.limit.upper)}"` : ' limited="false"';
        jx = `<joint name="${name}" type="hinge" axis="${axis}"${range}${opts.jointAttrs(j.name, 'hinge')}${dyn(j, 'revolute', opts)}/>`;
      } else if (j.type === 'prismatic') {
        const range = j.limit ? ` range="${f(j.limit.lower)} ${f(j.limit.upper)}"` : ' limited="false"';
        jx = `<joint name="${name}" type="slide" axis="${axis}"${range}${opts.jointAttrs(j.name, 'slide')}${dyn(j, 'prismatic', opts)}/>`;
      } else if (j.type !== 'fixed') {
        ctx.warnings.push(`joint ${j.name}: ${j.type} joints are simulated as fixed`);
      }
      emit(j.child, originMatrix(j.origin), jx, depth + 1);
    }
    out.push(`${ind}</body>`);
  };
  emit(urdf.root, rootPose, '', 0);
  return out.join('\n');
}

function dyn(j: ReadUrdf['joints'][number], kind: 'revolute' | 'prismatic', opts: TreeOptions): string {
  if (!opts.estimateInertial) {
    // robot: URDF dynamics as they are
    return j.dynamics ? ` damping="${f(Math.max(0, j.dynamics.damping))}" frictionloss="${f(Math.max(0, j.dynamics.friction))}"` : '';
  }
  const min = MIN_DYNAMICS[kind];
  const d = Math.max(min.damping, j.dynamics?.damping ?? 0);
  const fr = Math.max(min.friction, j.dynamics?.friction ?? 0);
  return ` damping="${f(d)}" frictionloss="${f(fr)}" armature="0.01"`;
}

/** Reads the object URDF (leniently) and builds the scene. */
export function buildScene(objectUrdfPath: string, options: SceneOptions = {}): BuiltScene {
  const urdfPath = resolve(objectUrdfPath);
  let text: string;
  try {
    text = readFileSync(urdfPath, 'utf8');
  } catch (err) {
    throw new Error(`SimScene: cannot read ${urdfPath}: ${(err as Error).message}`);
  }
  const object = readUrdfText(text, urdfPath);
  const warnings = [...object.warnings];
  const ctx: ConvertContext = {
    urdfDir: dirname(urdfPath),
    root: resolve(options.root ?? dirname(urdfPath)),
    confine: options.confineMeshes ?? true,
    warnings,
    files: new Map(),
    meshes: new Map(),
    meshByPath: new Map(),
    geoms: [],
    assets: [],
    counter: { mesh: 0 },
  };
  if (options.graspLink !== undefined && !object.links.some((l) => l.name === options.graspLink)) {
    throw new Error(`SimScene: grasp link "${options.graspLink}" is not a link of ${urdfPath}`);
  }
  const objectXml = treeXml(ctx, object, mat4Identity(), {
    prefix: OBJECT_PREFIX,
    geomAttrs: ' contype="1" conaffinity="2" friction="1 0.01 0.001" condim="4"',
    bodyAttrs: '',
    jointAttrs: () => '',
    estimateInertial: true,
    defaultRgba: [0.75, 0.62, 0.45, 1],
  });

  let robotXml = '';
  let actuators = '';
  let equality = '';
  let contactExcl = '';
  if (options.robot) {
    const rp = options.robot.urdfPath ?? pandaUrdfPath();
    const robot = readUrdfText(readFileSync(rp, 'utf8'), rp);
    const armIndex = (n: string): number => (PANDA_ARM_JOINTS as readonly string[]).indexOf(n);
    for (const n of [...PANDA_ARM_JOINTS, ...PANDA_FINGER_JOINTS]) {
      if (!robot.joints.some((j) => j.name === n)) throw new Error(`SimScene: robot URDF ${rp} has no joint "${n}"`);
    }
    const robotCtx: ConvertContext = { ...ctx, urdfDir: dirname(rp), root: dirname(rp), confine: true };
    robotXml = treeXml(robotCtx, robot, options.robot.base, {
      prefix: '',
      geomAttrs: ' contype="2" conaffinity="1" friction="1.5 0.01 0.001" condim="4"',
      bodyAttrs: ' gravcomp="1"',
      jointAttrs: (n) => (armIndex(n) >= 0 ? ' armature="0.1"' : ' armature="0.01"'),
      estimateInertial: false,
      defaultRgba: [0.92, 0.92, 0.92, 1],
      extraBodyXml: (link) => (link === 'panda_tcp' ? `<site name="${PANDA_TCP_SITE}" size="0.005"/>` : ''),
    });
    const grip = options.robot.gripForce ?? 70;
    const acts = PANDA_ARM_JOINTS.map((n, i) => {
      const kp = PANDA_KP[i]!;
      const fr = PANDA_FORCE[i]!;
      return `<position name="act_${n}" joint="${n}" kp="${kp}" kv="${kp / 10}" forcerange="${-fr} ${fr}"/>`;
    });
    for (const n of PANDA_FINGER_JOINTS) acts.push(`<position name="act_${n}" joint="${n}" kp="1000" kv="20" forcerange="${-grip} ${grip}" ctrlrange="0 0.04"/>`);
    actuators = `<actuator>\n    ${acts.join('\n    ')}\n  </actuator>`;
    if (options.graspLink !== undefined) {
      equality = `<equality>\n    <weld name="${GRASP_WELD}" body1="panda_hand" body2="${esc(OBJECT_PREFIX + options.graspLink)}" active="false" solref="0.02 1"/>\n  </equality>`;
    }
    contactExcl = '';
  }
  const timestep = options.timestep ?? 0.002;
  const xml = `<mujoco model="partrm_scene">
  <compiler angle="radian" autolimits="true" meshdir="." inertiafromgeom="false"/>
  <option timestep="${f(timestep)}" integrator="implicitfast" cone="elliptic" impratio="5"/>
  <size memory="64M"/>
  <asset>
    ${ctx.assets.join('\n    ')}
  </asset>
  <worldbody>
${objectXml}
${robotXml}
  </worldbody>
  ${contactExcl}
  ${equality}
  ${actuators}
</mujoco>
`;
  return {
    xml,
    files: ctx.files,
    object,
    objectUrdfPath: urdfPath,
    warnings,
    geoms: ctx.geoms,
    meshes: ctx.meshes,
    hasRobot: !!options.robot,
  };
}

/** World-frame helper: direction of `d` under `m` (re-exported for callers building poses). */
export { transformDirection };
