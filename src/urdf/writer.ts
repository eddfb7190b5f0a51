/**
 * URDF writing for extracted articulations from the templates in urdf_templates/
 * (drawer.urdf.in: prismatic; door.urdf.in: revolute doors and lids; object.urdf.in: generic).
 *
 * Frames: the base link frame is the input frame; the part link frame is the joint frame, at the
 * joint origin with no rotation, so the part's visual mesh (stored in the input frame, initial
 * state) gets a visual origin of -origin, and joint value 0 is the initial state. Collision
 * geometry is boxes that follow the sampled surfaces (src/articulation/boxes.ts) so cavities stay
 * open; inertials come from the same boxes, the mass capped by a panel shell (see linkBody). Names are XML-escaped, numbers are finite, limits
 * always carry effort and velocity (check_urdf rejects them otherwise), and the file is written
 * atomically beside its meshes with paths relative to the URDF.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '../core/image.js';
import type { Vec3 } from '../core/math.js';
import type { JointType } from '../core/types.js';
import type { Box } from '../articulation/boxes.js';
import { boxesExtent, boxesInertial } from '../articulation/boxes.js';
import { escapeXml, fmt } from './document.js';

export type UrdfTemplate = 'drawer' | 'door' | 'object';

export interface ArticulatedUrdfSpec {
  name: string;
  template?: UrdfTemplate;
  baseLink?: string;
  partLink?: string;
  jointName?: string;
  joint: { type: JointType; axis: Vec3; origin: Vec3; lower: number; upper: number };
  /** Visual mesh files relative to the URDF, vertices in the input frame (part: initial state). */
  baseMesh: string;
  partMesh: string;
  /** Collision boxes in the input frame (part: initial state). */
  baseBoxes: readonly Box[];
  partBoxes: readonly Box[];
  /** kg/m^3 of the boxes for inertials (default 300: hollow furniture panels). */
  density?: number;
}

/** Areal mass of furniture panels (kg per m^2 of bounding-box surface) capping link masses. */
export const SHELL_KG_PER_M2 = 4;

function fail(msg: string): never {
  throw new Error(`UrdfWriter: ${msg}`);
}

/** Directory of the bundled URDF templates (from src/ with tsx and from dist/). */
export function templatesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const dir = resolve(here, up, 'urdf_templates');
    if (existsSync(join(dir, 'object.urdf.in'))) return dir;
  }
  fail(`cannot find urdf_templates/object.urdf.in above ${here}`);
}

const vec = (v: readonly number[]): string => v.map((x) => fmt(x)).join(' ');

function checkVec(what: string, v: readonly number[]): void {
  if (v.length !== 3 || v.some((x) => !Number.isFinite(x))) fail(`${what} must be 3 finite numbers, got ${JSON.stringify(v)}`);
}

function checkMeshPath(what: string, p: string): void {
  if (!p || isAbsolute(p) || p.split(/[\\/]/).includes('..')) fail(`${what} mesh path "${p}" must be relative to the URDF, without ".."`);
}

function linkBody(name: string, mesh: string, boxes: readonly Box[], offset: Vec3, density: number, rgba: string): string {
  const out: string[] = [];
  const minSide = 1e-4;
  const usable = boxes.filter((b) => b.size.every((s) => s > minSide) && b.center.every(Number.isFinite));
  if (usable.length === 0) fail(`link "${name}" has no collision boxes; expected at least one`);
  const inertial = boxesInertial(usable, density);
  // Furniture parts are hollow panels, not solids: the boxes' volume at `density` overestimates a
  // door or drawer several-fold when the points are thick or noisy (a 0.6 x 0.8 m door as a 6 cm
  // slab at 300 kg/m^3 is 9 kg, a real one 2-5 kg), which makes the simulated part sluggish and
  // a policy trained on it pull the wrong way. So the mass is capped by a shell of
  // SHELL_KG_PER_M2 over the bounding box's surface (the estimate the simulator uses for links
  // without inertials: a 0.6 x 0.8 m door ~4 kg, a 0.4 x 0.4 x 0.15 m drawer ~2.2 kg).
  // Tiny parts still need a mass MuJoCo and Isaac Gym accept.
  const e = boxesExtent(usable);
  const shell = SHELL_KG_PER_M2 * 2 * (e[0] * e[1] + e[1] * e[2] + e[0] * e[2]);
  const target = Math.max(0.05, Math.min(inertial.mass, shell));
  const scale = target / inertial.mass;
  const I = inertial.inertia;
  const floor = 1e-6;
  out.push('    <inertial>\n');
  out.push(`      <origin xyz="${vec([inertial.com[0] + offset[0], inertial.com[1] + offset[1], inertial.com[2] + offset[2]])}" rpy="0 0 0"/>\n`);
  out.push(`      <mass value="${fmt(inertial.mass * scale)}"/>\n`);
  out.push(
    `      <inertia ixx="${fmt(Math.max(floor, I.ixx * scale), 9)}" ixy="${fmt(I.ixy * scale, 9)}" ixz="${fmt(I.ixz * scale, 9)}" iyy="${fmt(Math.max(floor, I.iyy * scale), 9)}" iyz="${fmt(I.iyz * scale, 9)}" izz="${fmt(Math.max(floor, I.izz * scale), 9)}"/>\n`,
  );
  out.push('    </inertial>\n');
  out.push(`    <visual name="${escapeXml(`${name}_visual`)}">\n      <origin xyz="${vec(offset)}" rpy="0 0 0"/>\n      <geometry>\n        <mesh filename="${escapeXml(mesh)}"/>\n      </geometry>\n`);
  out.push(`      <material name="${escapeXml(`${name}_material`)}">\n        <color rgba="${rgba}"/>\n      </material>\n    </visual>\n`);
  usable.forEach((b, i) => {
    out.push(`    <collision name="${escapeXml(`${name}_box_${i}`)}">\n`);
    out.push(`      <origin xyz="${vec([b.center[0] + offset[0], b.center[1] + offset[1], b.center[2] + offset[2]])}" rpy="0 0 0"/>\n`);
    out.push(`      <geometry>\n        <box size="${vec(b.size)}"/>\n      </geometry>\n    </collision>\n`);
  });
  return out.join('');
}

/** The URDF text for a base + one moving part. */
export function renderArticulatedUrdf(spec: ArticulatedUrdfSpec): string {
  const j = spec.joint;
  if (j.type !== 'prismatic' && j.type !== 'revolute') fail(`joint type must be prismatic or revolute, got "${String(j.type)}"`);
  checkVec('joint axis', j.axis);
  checkVec('joint origin', j.origin);
  const an = Math.hypot(...j.axis);
  if (!(an > 1e-9)) fail('joint axis is zero');
  if (!(Number.isFinite(j.lower) && Number.isFinite(j.upper) && j.lower <= j.upper)) fail(`joint limits must be finite with lower <= upper, got [${j.lower}, ${j.upper}]`);
  checkMeshPath('base', spec.baseMesh);
  checkMeshPath('part', spec.partMesh);
  const template = spec.template ?? (j.type === 'prismatic' ? 'drawer' : 'door');
  if ((template === 'drawer' && j.type !== 'prismatic') || (template === 'door' && j.type !== 'revolute')) {
    fail(`template "${template}" does not fit a ${j.type} joint (drawer: prismatic, door: revolute, object: either)`);
  }
  const baseLink = spec.baseLink ?? 'base';
  const partLink = spec.partLink ?? (j.type === 'prismatic' ? 'drawer' : 'door');
  if (baseLink === partLink) fail(`base and part links must have different names, both are "${baseLink}"`);
  const density = spec.density ?? 300;
  const text = readFileSync(join(templatesDir(), `${template}.urdf.in`), 'utf8');
  const origin = j.origin;
  const values: Record<string, string> = {
    robot_name: escapeXml(spec.name),
    base_link: escapeXml(baseLink),
    part_link: escapeXml(partLink),
    joint_name: escapeXml(spec.jointName ?? `joint_${partLink}`),
    joint_type: j.type,
    joint_xyz: vec(origin),
    joint_axis: vec(j.axis.map((a) => a / an)),
    lower: fmt(j.lower),
    upper: fmt(j.upper),
    base_body: linkBody(baseLink, spec.baseMesh, spec.baseBoxes, [0, 0, 0], density, '0.75 0.75 0.78 1'),
    part_body: linkBody(partLink, spec.partMesh, spec.partBoxes, [-origin[0], -origin[1], -origin[2]], density, '0.85 0.35 0.25 1'),
  };
  return text.replace(/\{\{(\w+)\}\}/g, (m, key: string) => {
    const v = values[key];
    if (v === undefined) fail(`template ${template}.urdf.in has an unknown placeholder ${m}`);
    return v;
  });
}

/** Writes the URDF atomically at `urdfPath` (meshes must already be beside it). */
export function writeArticulatedUrdf(urdfPath: string, spec: ArticulatedUrdfSpec): void {
  const text = renderArticulatedUrdf(spec);
  const dir = dirname(urdfPath);
  for (const m of [spec.baseMesh, spec.partMesh]) {
    const file = join(dir, m);
    if (!existsSync(file)) fail(`mesh ${m} is missing beside ${urdfPath}; write the meshes first`);
    // MuJoCo refuses meshes with fewer than 4 vertices ("at least 4 vertices required").
    const vertices = (readFileSync(file, 'utf8').match(/^v\s/gm) ?? []).length;
    if (m.toLowerCase().endsWith('.obj') && vertices < 4) fail(`mesh ${m} has ${vertices} vertices; simulators need at least 4`);
  }
  writeFileAtomicSync(urdfPath, text);
}
