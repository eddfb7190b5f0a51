/**
 * A typed URDF document and its XML serialisation. Every URDF the project writes goes through
 * `serializeUrdf`, so names are escaped and numbers formatted the same way everywhere, and the
 * limits always carry effort/velocity (urdfdom's check_urdf rejects limits without them).
 */
import type { Vec3 } from '../core/math.js';

export interface UrdfOrigin {
  xyz: Vec3;
  rpy: Vec3;
}

export type UrdfGeometry =
  | { type: 'box'; size: Vec3 }
  | { type: 'cylinder'; radius: number; length: number }
  | { type: 'sphere'; radius: number }
  | { type: 'mesh'; filename: string; scale?: Vec3 };

export interface UrdfMaterial {
  name: string;
  rgba: [number, number, number, number];
}

export interface UrdfVisual {
  name?: string;
  origin: UrdfOrigin;
  geometry: UrdfGeometry;
  material?: UrdfMaterial;
}

export interface UrdfCollision {
  name?: string;
  origin: UrdfOrigin;
  geometry: UrdfGeometry;
}

export interface UrdfInertia {
  ixx: number;
  ixy: number;
  ixz: number;
  iyy: number;
  iyz: number;
  izz: number;
}

export interface UrdfInertial {
  origin: UrdfOrigin;
  mass: number;
  inertia: UrdfInertia;
}

export interface UrdfLink {
  name: string;
  visuals: UrdfVisual[];
  collisions: UrdfCollision[];
  inertial?: UrdfInertial;
}

export type UrdfJointType = 'revolute' | 'continuous' | 'prismatic' | 'fixed' | 'floating' | 'planar';

export interface UrdfJoint {
  name: string;
  type: UrdfJointType;
  parent: string;
  child: string;
  origin: UrdfOrigin;
  axis?: Vec3;
  limit?: { lower: number; upper: number; effort: number; velocity: number };
  dynamics?: { damping: number; friction: number };
}

export interface UrdfRobot {
  name: string;
  links: UrdfLink[];
  joints: UrdfJoint[];
}

export const IDENTITY_ORIGIN: UrdfOrigin = { xyz: [0, 0, 0], rpy: [0, 0, 0] };

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Fixed-precision numbers without exponent noise; -0 printed as 0. */
export function fmt(x: number, digits = 6): string {
  if (!Number.isFinite(x)) throw new Error(`UrdfWriter: non-finite number ${x}`);
  const s = x.toFixed(digits).replace(/\.?0+$/, '');
  return s === '-0' || s === '' ? '0' : s;
}

const vec = (v: readonly number[], digits = 6): string => v.map((x) => fmt(x, digits)).join(' ');

function originXml(o: UrdfOrigin, indent: string): string {
  return `${indent}<origin xyz="${vec(o.xyz)}" rpy="${vec(o.rpy)}"/>\n`;
}

function geometryXml(g: UrdfGeometry, indent: string): string {
  let inner: string;
  switch (g.type) {
    case 'box':
      if (g.size.some((s) => !(s > 0))) throw new Error(`UrdfWriter: box size must be positive, got ${vec(g.size)}`);
      inner = `<box size="${vec(g.size)}"/>`;
      break;
    case 'cylinder':
      if (!(g.radius > 0 && g.length > 0)) throw new Error('UrdfWriter: cylinder radius and length must be positive');
      inner = `<cylinder radius="${fmt(g.radius)}" length="${fmt(g.length)}"/>`;
      break;
    case 'sphere':
      if (!(g.radius > 0)) throw new Error('UrdfWriter: sphere radius must be positive');
      inner = `<sphere radius="${fmt(g.radius)}"/>`;
      break;
    case 'mesh':
      inner = `<mesh filename="${escapeXml(g.filename)}"${g.scale ? ` scale="${vec(g.scale)}"` : ''}/>`;
      break;
  }
  return `${indent}<geometry>\n${indent}  ${inner}\n${indent}</geometry>\n`;
}

export function serializeUrdf(robot: UrdfRobot): string {
  const linkNames = new Set<string>();
  for (const l of robot.links) {
    if (linkNames.has(l.name)) throw new Error(`UrdfWriter: duplicate link name "${l.name}"`);
    linkNames.add(l.name);
  }
  const jointNames = new Set<string>();
  for (const j of robot.joints) {
    if (jointNames.has(j.name)) throw new Error(`UrdfWriter: duplicate joint name "${j.name}"`);
    jointNames.add(j.name);
    if (!linkNames.has(j.parent)) throw new Error(`UrdfWriter: joint "${j.name}" has unknown parent link "${j.parent}"`);
    if (!linkNames.has(j.child)) throw new Error(`UrdfWriter: joint "${j.name}" has unknown child link "${j.child}"`);
    if (j.type !== 'fixed' && j.axis) {
      const n = Math.hypot(...j.axis);
      if (!(n > 1e-9)) throw new Error(`UrdfWriter: joint "${j.name}" axis is zero`);
    }
    if ((j.type === 'revolute' || j.type === 'prismatic') && !j.limit) {
      throw new Error(`UrdfWriter: joint "${j.name}" (${j.type}) needs limits`);
    }
    if (j.limit && !(j.limit.lower <= j.limit.upper)) {
      throw new Error(`UrdfWriter: joint "${j.name}" lower limit ${j.limit.lower} exceeds upper ${j.limit.upper}`);
    }
  }
  const out: string[] = [];
  out.push('<?xml version="1.0"?>\n');
  out.push(`<robot name="${escapeXml(robot.name)}">\n`);
  const materials = new Map<string, UrdfMaterial>();
  for (const l of robot.links) for (const v of l.visuals) if (v.material) materials.set(v.material.name, v.material);
  for (const m of materials.values()) {
    out.push(`  <material name="${escapeXml(m.name)}">\n    <color rgba="${vec(m.rgba, 4)}"/>\n  </material>\n`);
  }
  for (const l of robot.links) {
    out.push(`  <link name="${escapeXml(l.name)}">\n`);
    if (l.inertial) {
      const i = l.inertial;
      if (!(i.mass > 0)) throw new Error(`UrdfWriter: link "${l.name}" mass must be positive, got ${i.mass}`);
      out.push('    <inertial>\n');
      out.push(originXml(i.origin, '      '));
      out.push(`      <mass value="${fmt(i.mass)}"/>\n`);
      const t = i.inertia;
      out.push(
        `      <inertia ixx="${fmt(t.ixx, 9)}" ixy="${fmt(t.ixy, 9)}" ixz="${fmt(t.ixz, 9)}" iyy="${fmt(t.iyy, 9)}" iyz="${fmt(t.iyz, 9)}" izz="${fmt(t.izz, 9)}"/>\n`,
      );
      out.push('    </inertial>\n');
    }
    for (const v of l.visuals) {
      out.push(`    <visual${v.name ? ` name="${escapeXml(v.name)}"` : ''}>\n`);
      out.push(originXml(v.origin, '      '));
      out.push(geometryXml(v.geometry, '      '));
      if (v.material) out.push(`      <material name="${escapeXml(v.material.name)}"/>\n`);
      out.push('    </visual>\n');
    }
    for (const c of l.collisions) {
      out.push(`    <collision${c.name ? ` name="${escapeXml(c.name)}"` : ''}>\n`);
      out.push(originXml(c.origin, '      '));
      out.push(geometryXml(c.geometry, '      '));
      out.push('    </collision>\n');
    }
    out.push('  </link>\n');
  }
  for (const j of robot.joints) {
    out.push(`  <joint name="${escapeXml(j.name)}" type="${j.type}">\n`);
    out.push(originXml(j.origin, '    '));
    out.push(`    <parent link="${escapeXml(j.parent)}"/>\n`);
    out.push(`    <child link="${escapeXml(j.child)}"/>\n`);
    if (j.axis && j.type !== 'fixed') {
      const n = Math.hypot(...j.axis);
      out.push(`    <axis xyz="${vec(j.axis.map((a) => a / n))}"/>\n`);
    }
    if (j.limit) {
      const l = j.limit;
      out.push(`    <limit lower="${fmt(l.lower)}" upper="${fmt(l.upper)}" effort="${fmt(l.effort)}" velocity="${fmt(l.velocity)}"/>\n`);
    }
    if (j.dynamics) out.push(`    <dynamics damping="${fmt(j.dynamics.damping)}" friction="${fmt(j.dynamics.friction)}"/>\n`);
    out.push('  </joint>\n');
  }
  out.push('</robot>\n');
  return out.join('');
}
