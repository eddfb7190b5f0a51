/**
 * Lenient URDF reading for simulation: the project's own URDFs and PartNet-Mobility-layout files
 * (no <inertial>, limits without effort/velocity, duplicate visual names, malformed numbers,
 * `package://` and relative mesh paths). Problems that can be worked around become warnings;
 * only structural errors (no links, unknown parent/child, cycles, several roots) throw.
 */
import type { Mat4, Vec3 } from '../../core/math.js';
import { mat4AxisAngle, mat4FromRpy, mat4Identity, mat4Multiply, mat4Translation, transformDirection, transformPoint, vec3 } from '../../core/math.js';
import type { UrdfCollision, UrdfGeometry, UrdfInertial, UrdfJoint, UrdfJointType, UrdfLink, UrdfOrigin, UrdfRobot, UrdfVisual } from '../../urdf/document.js';
import type { XmlElement } from './xml.js';
import { child, childrenNamed, parseXml } from './xml.js';

export interface ReadUrdf extends UrdfRobot {
  /** Name of the root link (the one that is nobody's child). */
  root: string;
  /** Things that were wrong but could be worked around. */
  warnings: string[];
}

const JOINT_TYPES: readonly UrdfJointType[] = ['revolute', 'continuous', 'prismatic', 'fixed', 'floating', 'planar'];

/** Parses URDF text leniently. `source` names the file in messages. */
export function readUrdfText(text: string, source = 'URDF'): ReadUrdf {
  const warnings: string[] = [];
  const robot = parseXml(text, source);
  if (robot.name !== 'robot') throw new Error(`UrdfRead: ${source}: root element is <${robot.name}>, expected <robot>`);

  const num = (s: string | undefined, what: string, fallback: number): number => {
    if (s === undefined) return fallback;
    const v = Number.parseFloat(s.trim());
    if (!Number.isFinite(v)) {
      warnings.push(`${what}: malformed number "${s}", using ${fallback}`);
      return fallback;
    }
    return v;
  };
  const vec = (s: string | undefined, what: string, fallback: Vec3): Vec3 => {
    if (s === undefined) return [...fallback];
    const parts = s.trim().split(/[\s,]+/).filter(Boolean);
    if (parts.length !== 3) {
      warnings.push(`${what}: expected 3 numbers, got "${s}"`);
    }
    return [0, 1, 2].map((k) => num(parts[k], what, fallback[k]!)) as Vec3;
  };
  const origin = (el: XmlElement | undefined, what: string): UrdfOrigin => {
    const o = el ? child(el, 'origin') : undefined;
    return { xyz: vec(o?.attrs.xyz, `${what} origin xyz`, [0, 0, 0]), rpy: vec(o?.attrs.rpy, `${what} origin rpy`, [0, 0, 0]) };
  };
  const geometry = (el: XmlElement, what: string): UrdfGeometry | null => {
    const g = child(el, 'geometry');
    const shape = g?.children[0];
    if (!shape) {
      warnings.push(`${what}: no geometry, skipped`);
      return null;
    }
    switch (shape.name) {
      case 'box':
        return { type: 'box', size: vec(shape.attrs.size, `${what} box size`, [0.01, 0.01, 0.01]).map((x) => Math.abs(x)) as Vec3 };
      case 'cylinder':
        return { type: 'cylinder', radius: Math.abs(num(shape.attrs.radius, `${what} radius`, 0.01)), length: Math.abs(num(shape.attrs.length, `${what} length`, 0.01)) };
      case 'sphere':
        return { type: 'sphere', radius: Math.abs(num(shape.attrs.radius, `${what} radius`, 0.01)) };
      case 'mesh': {
        const filename = shape.attrs.filename;
        if (!filename) {
          warnings.push(`${what}: mesh without filename, skipped`);
          return null;
        }
        return shape.attrs.scale !== undefined
          ? { type: 'mesh', filename, scale: vec(shape.attrs.scale, `${what} mesh scale`, [1, 1, 1]) }
          : { type: 'mesh', filename };
      }
      default:
        warnings.push(`${what}: unsupported geometry <${shape.name}>, skipped`);
        return null;
    }
  };

  const links: UrdfLink[] = [];
  const linkNames = new Set<string>();
  for (const l of childrenNamed(robot, 'link')) {
    const name = l.attrs.name;
    if (!name) throw new Error(`UrdfRead: ${source}: <link> without a name at line ${l.line}`);
    if (linkNames.has(name)) throw new Error(`UrdfRead: ${source}: duplicate link "${name}"`);
    linkNames.add(name);
    const visuals: UrdfVisual[] = [];
    const collisions: UrdfCollision[] = [];
    childrenNamed(l, 'visual').forEach((v, k) => {
      const g = geometry(v, `link ${name} visual ${k}`);
      if (!g) return;
      const vis: UrdfVisual = { origin: origin(v, `link ${name} visual ${k}`), geometry: g };
      if (v.attrs.name) vis.name = v.attrs.name;
      const mat = child(v, 'material');
      const color = mat ? child(mat, 'color') : undefined;
      if (color?.attrs.rgba) {
        const parts = color.attrs.rgba.trim().split(/\s+/).map(Number);
        if (parts.length === 4 && parts.every(Number.isFinite)) vis.material = { name: mat?.attrs.name ?? '', rgba: parts as [number, number, number, number] };
      }
      visuals.push(vis);
    });
    childrenNamed(l, 'collision').forEach((c, k) => {
      const g = geometry(c, `link ${name} collision ${k}`);
      if (!g) return;
      const col: UrdfCollision = { origin: origin(c, `link ${name} collision ${k}`), geometry: g };
      if (c.attrs.name) col.name = c.attrs.name;
      collisions.push(col);
    });
    const link: UrdfLink = { name, visuals, collisions };
    const inertialEl = child(l, 'inertial');
    if (inertialEl) {
      const massEl = child(inertialEl, 'mass');
      const inEl = child(inertialEl, 'inertia');
      const mass = num(massEl?.attrs.value, `link ${name} mass`, 0);
      const a = inEl?.attrs ?? {};
      const inertia = {
        ixx: num(a.ixx, `link ${name} ixx`, 0), ixy: num(a.ixy, `link ${name} ixy`, 0), ixz: num(a.ixz, `link ${name} ixz`, 0),
        iyy: num(a.iyy, `link ${name} iyy`, 0), iyz: num(a.iyz, `link ${name} iyz`, 0), izz: num(a.izz, `link ${name} izz`, 0),
      };
      if (mass > 0 && inertia.ixx > 0 && inertia.iyy > 0 && inertia.izz > 0) {
        const inertial: UrdfInertial = { origin: origin(inertialEl, `link ${name} inertial`), mass, inertia };
        link.inertial = inertial;
      } else if (mass > 0 || inEl) {
        warnings.push(`link ${name}: inertial with non-positive mass or inertia ignored (estimated from geometry)`);
      }
    }
    links.push(link);
  }
  if (links.length === 0) throw new Error(`UrdfRead: ${source}: no <link> elements`);

  const joints: UrdfJoint[] = [];
  const childOf = new Map<string, string>();
  const jointNames = new Set<string>();
  for (const j of childrenNamed(robot, 'joint')) {
    const name = j.attrs.name;
    if (!name) throw new Error(`UrdfRead: ${source}: <joint> without a name at line ${j.line}`);
    if (jointNames.has(name)) throw new Error(`UrdfRead: ${source}: duplicate joint "${name}"`);
    jointNames.add(name);
    const typeText = (j.attrs.type ?? '').trim();
    if (!(JOINT_TYPES as readonly string[]).includes(typeText)) {
      throw new Error(`UrdfRead: ${source}: joint "${name}" has type "${typeText}"; expected one of ${JOINT_TYPES.join(', ')}`);
    }
    const type = typeText as UrdfJointType;
    const parent = child(j, 'parent')?.attrs.link;
    const ch = child(j, 'child')?.attrs.link;
    if (!parent || !linkNames.has(parent)) throw new Error(`UrdfRead: ${source}: joint "${name}" has unknown parent link "${parent ?? ''}"`);
    if (!ch || !linkNames.has(ch)) throw new Error(`UrdfRead: ${source}: joint "${name}" has unknown child link "${ch ?? ''}"`);
    if (childOf.has(ch)) throw new Error(`UrdfRead: ${source}: link "${ch}" is the child of two joints`);
    childOf.set(ch, parent);
    const joint: UrdfJoint = { name, type, parent, child: ch, origin: origin(j, `joint ${name}`) };
    if (type !== 'fixed') {
      let axis = vec(child(j, 'axis')?.attrs.xyz, `joint ${name} axis`, [1, 0, 0]);
      const len = vec3.length(axis);
      if (!(len > 1e-9)) {
        warnings.push(`joint ${name}: zero axis, using 1 0 0`);
        axis = [1, 0, 0];
      } else axis = vec3.scale(axis, 1 / len);
      joint.axis = axis;
    }
    const lim = child(j, 'limit');
    if (lim) {
      let lower = num(lim.attrs.lower, `joint ${name} lower`, 0);
      let upper = num(lim.attrs.upper, `joint ${name} upper`, 0);
      if (lower > upper) {
        warnings.push(`joint ${name}: lower ${lower} > upper ${upper}, swapped`);
        [lower, upper] = [upper, lower];
      }
      joint.limit = { lower, upper, effort: num(lim.attrs.effort, `joint ${name} effort`, 0), velocity: num(lim.attrs.velocity, `joint ${name} velocity`, 0) };
    } else if (type === 'revolute' || type === 'prismatic') {
      warnings.push(`joint ${name}: ${type} joint without <limit>`);
    }
    const dyn = child(j, 'dynamics');
    if (dyn) joint.dynamics = { damping: num(dyn.attrs.damping, `joint ${name} damping`, 0), friction: num(dyn.attrs.friction, `joint ${name} friction`, 0) };
    joints.push(joint);
  }
  const roots = links.filter((l) => !childOf.has(l.name)).map((l) => l.name);
  if (roots.length !== 1) {
    throw new Error(`UrdfRead: ${source}: expected exactly one root link, found ${roots.length} (${roots.slice(0, 5).join(', ')})`);
  }
  // Cycle check: every link must reach the root.
  for (const l of links) {
    let cur = l.name;
    for (let steps = 0; childOf.has(cur); steps++) {
      if (steps > links.length) throw new Error(`UrdfRead: ${source}: kinematic loop through link "${l.name}"`);
      cur = childOf.get(cur)!;
    }
  }
  return { name: robot.attrs.name ?? 'robot', links, joints, root: roots[0]!, warnings };
}

export function originMatrix(o: UrdfOrigin): Mat4 {
  return mat4FromRpy(o.rpy, o.xyz);
}

/**
 * World pose of every link (root at the identity) for the given joint values (by joint name;
 * missing joints at 0). Prismatic: translation along the axis; revolute/continuous: rotation.
 */
export function urdfLinkPoses(urdf: UrdfRobot & { root: string }, q: Readonly<Record<string, number>> = {}): Map<string, Mat4> {
  const poses = new Map<string, Mat4>([[urdf.root, mat4Identity()]]);
  const byParent = new Map<string, UrdfJoint[]>();
  for (const j of urdf.joints) {
    const list = byParent.get(j.parent) ?? [];
    list.push(j);
    byParent.set(j.parent, list);
  }
  const visit = (link: string): void => {
    for (const j of byParent.get(link) ?? []) {
      const v = q[j.name] ?? 0;
      let t = mat4Multiply(poses.get(link)!, originMatrix(j.origin));
      if (j.axis && v !== 0) {
        if (j.type === 'prismatic') t = mat4Multiply(t, mat4Translation(vec3.scale(j.axis, v)));
        else if (j.type === 'revolute' || j.type === 'continuous') t = mat4Multiply(t, mat4AxisAngle(j.axis, v));
      }
      poses.set(j.child, t);
      visit(j.child);
    }
  };
  visit(urdf.root);
  return poses;
}

/** A joint's frame in the world at the zero configuration: axis (unit) and origin point. */
export function urdfJointWorld(urdf: UrdfRobot & { root: string }, jointName: string): { joint: UrdfJoint; axis: Vec3; origin: Vec3; frame: Mat4 } {
  const joint = urdf.joints.find((j) => j.name === jointName);
  if (!joint) {
    const movable = urdf.joints.filter((j) => j.type !== 'fixed').map((j) => j.name);
    throw new Error(`UrdfRead: no joint named "${jointName}"; movable joints: ${movable.join(', ') || '(none)'}`);
  }
  const poses = urdfLinkPoses(urdf);
  const frame = mat4Multiply(poses.get(joint.parent)!, originMatrix(joint.origin));
  const axis = vec3.normalize(transformDirection(frame, joint.axis ?? [1, 0, 0]));
  return { joint, axis, origin: transformPoint(frame, [0, 0, 0]), frame };
}

/** Names of `link` and every link below it. */
export function subtreeLinks(urdf: UrdfRobot, link: string): string[] {
  const out = [link];
  for (let k = 0; k < out.length; k++) for (const j of urdf.joints) if (j.parent === out[k]) out.push(j.child);
  return out;
}
