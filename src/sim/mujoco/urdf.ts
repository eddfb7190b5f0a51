/**
 * Loads a URDF straight into MuJoCo (WASM) through MuJoCo's built-in URDF importer.
 *
 * The URDF's directory is copied into a private MEMFS directory so relative mesh paths
 * (`meshes/<link>.obj`) resolve exactly as they do on disk, and a `<mujoco><compiler/></mujoco>`
 * extension element is injected into the in-memory copy (the file on disk is never touched).
 *
 * Verified behaviour of MuJoCo 3.3.8's URDF importer with the compiler settings below:
 * - Every URDF link becomes a body named like the link; the body frame IS the URDF link frame
 *   (body_pos/quat = joint origin xyz/rpy, jnt_pos = 0), and each joint's axis is normalised.
 * - The root link is a child of the world body with no joint (welded, no free joint).
 * - revolute -> hinge, prismatic -> slide (limited, range = lower/upper, radians/metres),
 *   continuous -> unlimited hinge, fixed -> no joint (child body kept because fusestatic=false).
 *   `<dynamics damping friction>` become dof_damping / dof_frictionloss.
 * - Visual meshes (with discardvisual=false) become mesh geoms in group 1 with contype =
 *   conaffinity = 0 (never collide); collision elements become geoms in group 0.
 * - OBJ is read natively; `mtllib`/`usemtl` are ignored (a missing .mtl is harmless). A URDF
 *   `<material><color rgba/>` becomes the geom's rgba.
 * - `package://` and absolute mesh paths are NOT resolved (they would need rewriting first).
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, posix, resolve } from 'node:path';
import type { MjData, MjModel } from 'mujoco-js';
import type { Mat4 } from '../../core/math.js';
import type { MainModule } from './runtime.js';
import {
  captureMujocoOutput,
  copyDirToMemfs,
  getMujoco,
  mujocoErrorMessage,
  mujocoFS,
  poseFromMujoco,
  removeMemfsDir,
} from './runtime.js';

/**
 * `<compiler>` attributes the loader always sets (they override any in the URDF):
 * - `strippath="false"`: MuJoCo's URDF default (true) strips directories from mesh file names
 *   (ROS habit of flat mesh folders), turning `meshes/base.obj` into `base.obj`, which then does
 *   not resolve. With false the path is kept and resolved relative to the URDF's directory.
 * - `fusestatic="false"`: the URDF default (true) merges joint-less bodies into their parent, so
 *   the root link vanishes into `world` and links on fixed joints vanish into their parent; we
 *   need every link as a body to read its pose.
 * - `balanceinertia="true"`: MuJoCo rejects inertias violating A + B >= C (common after
 *   rounding or in downloaded assets); this nudges the diagonal instead of failing to compile.
 * `discardvisual` is set from {@link LoadUrdfOptions.discardVisual} (URDF default there: true).
 */
export const URDF_COMPILER_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  strippath: 'false',
  fusestatic: 'false',
  balanceinertia: 'true',
});

export interface LoadUrdfOptions {
  /**
   * Drop `<visual>` geometry at compile time (default false). Kept visuals are mesh geoms in
   * group 1 that never collide; discarding them saves memory and load time (their mesh files
   * are then not even read, so a missing visual mesh goes unnoticed).
   */
  discardVisual?: boolean;
  /**
   * Extra/overriding `<compiler>` attributes, e.g. `{ inertiafromgeom: 'true' }` for URDFs without
   * `<inertial>` (MuJoCo refuses moving bodies with zero mass) or `{ meshdir: '...' }`.
   * Applied last, so they win over the defaults and over the URDF's own `<mujoco>` element.
   */
  compilerAttributes?: Readonly<Record<string, string>>;
}

export interface MujocoUrdf {
  readonly model: MjModel;
  readonly data: MjData;
  /** Absolute path of the URDF this was loaded from. */
  readonly urdfPath: string;
  /** MEMFS directory holding the copy of the URDF's directory (removed by dispose()). */
  readonly memfsDir: string;
  /** Lines MuJoCo printed while compiling (normally empty). */
  readonly compileOutput: readonly string[];
  /** Joint names in MuJoCo order (one per non-fixed URDF joint). */
  jointNames(): string[];
  /** Body names in MuJoCo order; index 0 is MuJoCo's `world`, then one body per URDF link. */
  bodyNames(): string[];
  /** Writes qpos for the named hinge/slide joints (radians / metres); call forward() afterwards. */
  setJointPositions(values: Readonly<Record<string, number>>): void;
  /** Current qpos of every hinge/slide joint, by name. */
  jointPositions(): Record<string, number>;
  /** mj_forward: recomputes body poses (and everything else) from qpos. */
  forward(): void;
  /** World pose of a body (URDF link frame) as a row-major 4x4, as of the last forward(). */
  bodyPose(name: string): Mat4;
  /** Frees data and model and removes the MEMFS copy. Idempotent. */
  dispose(): void;
}

// mjtJoint values
const MJ_JNT_FREE = 0;
const MJ_JNT_BALL = 1;
const MJ_JNT_SLIDE = 2;
const MJ_JNT_HINGE = 3;
const JOINT_TYPE_NAMES: Record<number, string> = {
  [MJ_JNT_FREE]: 'free',
  [MJ_JNT_BALL]: 'ball',
  [MJ_JNT_SLIDE]: 'slide',
  [MJ_JNT_HINGE]: 'hinge',
};

/**
 * Loads `urdfPath` into MuJoCo. Rejects with `MujocoUrdf: failed to load <path>: <reason>` when
 * MuJoCo cannot parse or compile it (reason = MuJoCo's message, with MEMFS paths mapped back to
 * host paths).
 */
export async function loadUrdfModel(urdfPath: string, options: LoadUrdfOptions = {}): Promise<MujocoUrdf> {
  const absPath = resolve(urdfPath);
  const fail = (reason: string): Error => new Error(`MujocoUrdf: failed to load ${absPath}: ${reason}`);

  let text: string;
  try {
    text = await readFile(absPath, 'utf8');
  } catch (err) {
    throw fail((err as Error).message);
  }
  const compiler: Record<string, string> = {
    ...URDF_COMPILER_DEFAULTS,
    discardvisual: options.discardVisual ? 'true' : 'false',
    ...options.compilerAttributes,
  };
  let patched: string;
  try {
    patched = injectMujocoCompiler(text, compiler);
  } catch (err) {
    throw fail((err as Error).message);
  }

  const mujoco = await getMujoco();
  const hostDir = dirname(absPath);
  let memfsDir: string;
  try {
    memfsDir = copyDirToMemfs(mujoco, hostDir);
  } catch (err) {
    throw fail((err as Error).message);
  }
  const memPath = posix.join(memfsDir, basename(absPath));
  const toHostPaths = (s: string): string => s.split(memfsDir).join(hostDir);

  let model: MjModel | null = null;
  let data: MjData | null = null;
  let compileOutput: string[] = [];
  try {
    mujocoFS(mujoco).writeFile(memPath, patched);
    try {
      const r = captureMujocoOutput(() => mujoco.MjModel.loadFromXML(memPath) as MjModel | null);
      model = r.value;
      compileOutput = r.output.map(toHostPaths);
    } catch (err) {
      const printed = ((err as { mujocoOutput?: string[] } | null)?.mujocoOutput ?? []).join('\n');
      const reason = toHostPaths(mujocoErrorMessage(mujoco, err)) + (printed ? `\n${toHostPaths(printed)}` : '');
      throw fail(reason);
    }
    if (!model) {
      // Parse-level failures are printed ("Loading error: ...") and null is returned.
      const printed = compileOutput.map((l) => l.replace(/^Loading error:\s*/, '')).join('\n').trim();
      throw fail(printed || 'MuJoCo returned no model');
    }
    data = new mujoco.MjData(model);
  } catch (err) {
    data?.delete();
    model?.delete();
    removeMemfsDir(mujoco, memfsDir);
    throw err;
  }

  return createHandle(mujoco, model, data, absPath, memfsDir, compileOutput);
}

function createHandle(
  mujoco: MainModule,
  model: MjModel,
  data: MjData,
  urdfPath: string,
  memfsDir: string,
  compileOutput: string[],
): MujocoUrdf {
  const m = model as unknown as ModelArrays;
  const bodies = readNames(m, m.name_bodyadr, m.nbody);
  const joints = readNames(m, m.name_jntadr, m.njnt);
  const bodyIndex = new Map(bodies.map((n, i) => [n, i] as const));
  const jointIndex = new Map(joints.map((n, i) => [n, i] as const));
  let disposed = false;

  const live = (): { m: ModelArrays; d: DataArrays } => {
    if (disposed) throw new Error(`MujocoUrdf: ${urdfPath} was disposed`);
    return { m, d: data as unknown as DataArrays };
  };
  const scalarJoint = (name: string): { id: number; adr: number } => {
    const id = jointIndex.get(name);
    if (id === undefined) {
      throw new Error(`MujocoUrdf: unknown joint "${name}"; known: ${joints.join(', ') || '(none)'}`);
    }
    const type = m.jnt_type[id]!;
    if (type !== MJ_JNT_HINGE && type !== MJ_JNT_SLIDE) {
      throw new Error(`MujocoUrdf: joint "${name}" is a ${JOINT_TYPE_NAMES[type] ?? type} joint; only hinge/slide joints take a scalar position`);
    }
    return { id, adr: m.jnt_qposadr[id]! };
  };

  return {
    model,
    data,
    urdfPath,
    memfsDir,
    compileOutput,
    jointNames: () => [...joints],
    bodyNames: () => [...bodies],
    setJointPositions(values) {
      const { d } = live();
      // Validate everything first so a bad entry leaves qpos untouched.
      const writes = Object.entries(values).map(([name, v]) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new Error(`MujocoUrdf: joint "${name}" position must be a finite number, got ${String(v)}`);
        }
        return { adr: scalarJoint(name).adr, v };
      });
      const qpos = d.qpos; // fresh view: WASM memory may have grown since the last call
      for (const { adr, v } of writes) qpos[adr] = v;
    },
    jointPositions() {
      const { d } = live();
      const qpos = d.qpos;
      const out: Record<string, number> = {};
      joints.forEach((name, id) => {
        const type = m.jnt_type[id]!;
        if (type === MJ_JNT_HINGE || type === MJ_JNT_SLIDE) out[name] = qpos[m.jnt_qposadr[id]!]!;
      });
      return out;
    },
    forward() {
      live();
      mujoco.mj_forward(model, data);
    },
    bodyPose(name) {
      const { d } = live();
      const id = bodyIndex.get(name);
      if (id === undefined) {
        throw new Error(`MujocoUrdf: unknown body "${name}"; known: ${bodies.join(', ')}`);
      }
      return poseFromMujoco(d.xpos, d.xmat, id);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      data.delete();
      model.delete();
      removeMemfsDir(mujoco, memfsDir);
    },
  };
}

/** The MjModel/MjData fields used here (the d.ts types the arrays as `any`). */
interface ModelArrays {
  nbody: number;
  njnt: number;
  names: Int8Array;
  name_bodyadr: Int32Array;
  name_jntadr: Int32Array;
  jnt_type: Int32Array;
  jnt_qposadr: Int32Array;
}
interface DataArrays {
  qpos: Float64Array;
  xpos: Float64Array;
  xmat: Float64Array;
}

function readNames(m: ModelArrays, adr: Int32Array, count: number): string[] {
  const raw = m.names; // Int8Array view: reinterpret as bytes for UTF-8
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  const dec = new TextDecoder();
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = adr[i]!;
    let end = start;
    while (end < bytes.length && bytes[end] !== 0) end++;
    out.push(dec.decode(bytes.subarray(start, end)));
  }
  return out;
}

/**
 * Returns `urdfText` with a MuJoCo `<compiler>` carrying `attrs`:
 * - no `<mujoco>` element yet: `<mujoco><compiler .../></mujoco>` is inserted right after the
 *   opening `<robot ...>` tag, on the same line (so MuJoCo's line numbers still match the file);
 * - an existing `<mujoco>` element (MuJoCo rejects a second one): its `<compiler>` gets `attrs`
 *   merged in (ours win; its other attributes are kept), or a `<compiler>` is added to it.
 */
export function injectMujocoCompiler(urdfText: string, attrs: Readonly<Record<string, string>>): string {
  const masked = maskXmlNoise(urdfText);
  const robotOpen = /<robot(?=[\s/>])[^>]*>/.exec(masked);
  if (!robotOpen) throw new Error('no <robot> element');
  if (robotOpen[0].endsWith('/>')) throw new Error('<robot/> element is empty');
  const afterRobot = robotOpen.index + robotOpen[0].length;

  const mujocoRe = /<mujoco(?=[\s/>])[^>]*>/g;
  mujocoRe.lastIndex = afterRobot;
  const mj = mujocoRe.exec(masked);
  if (!mj) {
    return urdfText.slice(0, afterRobot) + `<mujoco>${compilerTag({}, attrs)}</mujoco>` + urdfText.slice(afterRobot);
  }
  const mjStart = mj.index;
  const mjOpenEnd = mj.index + mj[0].length;
  if (mj[0].endsWith('/>')) {
    return urdfText.slice(0, mjStart) + `<mujoco>${compilerTag({}, attrs)}</mujoco>` + urdfText.slice(mjOpenEnd);
  }
  const mjClose = masked.indexOf('</mujoco', mjOpenEnd);
  if (mjClose < 0) throw new Error('<mujoco> element is not closed');
  const compilerRe = /<compiler(?=[\s/>])[^>]*>/g;
  compilerRe.lastIndex = mjOpenEnd;
  const comp = compilerRe.exec(masked);
  if (!comp || comp.index > mjClose) {
    return urdfText.slice(0, mjOpenEnd) + compilerTag({}, attrs) + urdfText.slice(mjOpenEnd);
  }
  const original = urdfText.slice(comp.index, comp.index + comp[0].length);
  const selfClosing = comp[0].endsWith('/>');
  const existing: Record<string, string> = {};
  for (const a of original.matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    existing[a[1]!] = a[2] ?? a[3] ?? '';
  }
  const tag = compilerTag(existing, attrs, /* rawExisting */ true);
  return (
    urdfText.slice(0, comp.index) + (selfClosing ? tag : tag.replace(/\/>$/, '>')) + urdfText.slice(comp.index + comp[0].length)
  );
}

function compilerTag(existing: Record<string, string>, attrs: Readonly<Record<string, string>>, rawExisting = false): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(existing)) {
    if (k in attrs) continue;
    if (!rawExisting) parts.push(`${k}="${escapeAttr(v)}"`);
    else parts.push(v.includes('"') ? `${k}='${v}'` : `${k}="${v}"`);
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (!/^[A-Za-z_][\w.:-]*$/.test(k)) throw new Error(`invalid compiler attribute name "${k}"`);
    parts.push(`${k}="${escapeAttr(v)}"`);
  }
  return `<compiler ${parts.join(' ')}/>`;
}

function escapeAttr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

/** Replaces comments, CDATA and processing instructions by spaces (newlines kept, length kept). */
function maskXmlNoise(text: string): string {
  return text.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>/g, (s) => s.replace(/[^\n]/g, ' '));
}
