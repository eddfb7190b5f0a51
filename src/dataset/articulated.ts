/**
 * Procedural articulated objects: links built from boxes and cylinders (in the link frame),
 * joints with their origin on the hinge line (or anywhere for drawers), forward kinematics,
 * per-link meshes, mass properties, and the ground-truth URDF document.
 *
 * Frames: the base link frame is the object's world frame (z up, metres); its origin is the
 * centre of the footprint on the floor and the object's front faces +x. A child link's frame
 * is its joint frame: translated by `origin` from the parent frame, never rotated, so `axis`
 * is expressed in the parent (= child at rest) frame.
 */
import type { JointType } from '../core/types.js';
import {
  type Mat4,
  type Vec3,
  mat4AxisAngle,
  mat4Identity,
  mat4Multiply,
  mat4Translation,
  vec3,
} from '../core/math.js';
import { type TriangleMesh, boxMesh, cylinderMesh, mergeMeshes } from '../core/mesh.js';
import type { UrdfCollision, UrdfInertial, UrdfLink, UrdfJoint, UrdfRobot } from '../urdf/document.js';

export const CATEGORIES = [
  'dishwasher',
  'laptop',
  'microwave',
  'oven',
  'refrigerator',
  'storage_furniture',
  'washing_machine',
  'trashcan',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** PartDrag-4D holds trashcan out of training to measure generalisation to an unseen category. */
export const UNSEEN_CATEGORIES: readonly Category[] = ['trashcan'];

export function parseCategory(name: string): Category {
  const c = name.trim().toLowerCase().replace(/[\s-]+/g, '_');
  const alias: Record<string, Category> = { storage: 'storage_furniture', furniture: 'storage_furniture', washer: 'washing_machine', fridge: 'refrigerator' };
  const found = (CATEGORIES as readonly string[]).includes(c) ? (c as Category) : alias[c];
  if (!found) throw new Error(`Dataset: unknown category "${name}"; expected one of ${CATEGORIES.join(', ')}`);
  return found;
}

export type Pattern = 'plain' | 'wood' | 'checker' | 'brushed';
export const PATTERN_CODES: Record<Pattern, number> = { plain: 0, wood: 1, checker: 2, brushed: 3 };

export interface Material {
  name: string;
  /** Linear-ish rgb in [0, 1]. */
  rgb: Vec3;
  pattern: Pattern;
  /** kg/m^3 used for inertials. */
  density: number;
}

export type Primitive =
  | { kind: 'box'; center: Vec3; size: Vec3; material: number; role: string }
  | { kind: 'cylinder'; center: Vec3; radius: number; length: number; axis: 0 | 1 | 2; material: number; role: string };

export interface LinkSpec {
  name: string;
  primitives: Primitive[];
}

export type PartSemantic = 'drawer' | 'door' | 'lid';
export type HingeSide = 'left' | 'right' | 'top' | 'bottom' | 'back' | 'none';

export interface JointSpec {
  name: string;
  type: JointType;
  parent: number;
  child: number;
  /** Joint frame origin in the parent link frame; for revolute joints a point on the hinge line. */
  origin: Vec3;
  /** Unit axis; opening is the positive direction. */
  axis: Vec3;
  lower: number;
  upper: number;
  semantic: PartSemantic;
  hinge: HingeSide;
  /** Grasp point on the handle, in the child link frame. */
  handle: Vec3;
}

export interface ArticulatedObject {
  id: string;
  category: Category;
  seed: number;
  materials: Material[];
  /** links[0] is the base; parents always come before children. */
  links: LinkSpec[];
  joints: JointSpec[];
}

/** World (base-frame) pose of every link for joint values `q` (one per joint, in joint order). */
export function linkTransforms(obj: ArticulatedObject, q: ArrayLike<number>): Mat4[] {
  if (q.length !== obj.joints.length) {
    throw new Error(`ArticulatedObject: expected ${obj.joints.length} joint values, got ${q.length}`);
  }
  const poses: Mat4[] = obj.links.map(() => mat4Identity());
  obj.joints.forEach((j, i) => {
    const v = q[i]!;
    const motion = j.type === 'prismatic' ? mat4Translation(vec3.scale(j.axis, v)) : mat4AxisAngle(j.axis, v);
    poses[j.child] = mat4Multiply(poses[j.parent]!, mat4Multiply(mat4Translation(j.origin), motion));
  });
  return poses;
}

export function restState(obj: ArticulatedObject): Float64Array {
  return Float64Array.from(obj.joints, (j) => j.lower);
}

export interface LinkMesh {
  mesh: TriangleMesh;
  /** Material index per triangle. */
  triangleMaterials: Uint16Array;
}

export function primitiveMesh(p: Primitive): TriangleMesh {
  return p.kind === 'box' ? boxMesh(p.center, p.size) : cylinderMesh(p.center, p.radius, p.length, p.axis, 20);
}

/** The link's visual mesh in its own frame, with the material of every triangle. */
export function buildLinkMesh(link: LinkSpec): LinkMesh {
  const parts = link.primitives.map(primitiveMesh);
  const mesh = mergeMeshes(parts);
  const triangleMaterials = new Uint16Array(mesh.indices.length / 3);
  let t = 0;
  parts.forEach((m, k) => {
    triangleMaterials.fill(link.primitives[k]!.material, t, t + m.indices.length / 3);
    t += m.indices.length / 3;
  });
  return { mesh, triangleMaterials };
}

function primitiveVolume(p: Primitive): number {
  return p.kind === 'box' ? p.size[0] * p.size[1] * p.size[2] : Math.PI * p.radius * p.radius * p.length;
}

/** Inertia tensor of a solid primitive about its own centre (axis-aligned, so diagonal). */
function primitiveInertia(p: Primitive, mass: number): Vec3 {
  if (p.kind === 'box') {
    const [a, b, c] = p.size;
    return [(mass * (b * b + c * c)) / 12, (mass * (a * a + c * c)) / 12, (mass * (a * a + b * b)) / 12];
  }
  const along = (mass * p.radius * p.radius) / 2;
  const across = (mass * (3 * p.radius * p.radius + p.length * p.length)) / 12;
  const d: Vec3 = [across, across, across];
  d[p.axis] = along;
  return d;
}

/** Mass, centre of mass and inertia about the COM (parallel-axis theorem over primitives). */
export function linkInertial(link: LinkSpec, materials: readonly Material[]): UrdfInertial {
  const masses = link.primitives.map((p) => primitiveVolume(p) * materials[p.material]!.density);
  let mass = 0;
  let cx = 0, cy = 0, cz = 0;
  link.primitives.forEach((p, k) => {
    const m = masses[k]!;
    mass += m;
    cx += m * p.center[0];
    cy += m * p.center[1];
    cz += m * p.center[2];
  });
  if (!(mass > 0)) throw new Error(`ArticulatedObject: link "${link.name}" has no mass`);
  const com: Vec3 = [cx / mass, cy / mass, cz / mass];
  let ixx = 0, iyy = 0, izz = 0, ixy = 0, ixz = 0, iyz = 0;
  link.primitives.forEach((p, k) => {
    const m = masses[k]!;
    const [dx, dy, dz] = primitiveInertia(p, m);
    const [rx, ry, rz] = vec3.sub(p.center, com);
    ixx += dx + m * (ry * ry + rz * rz);
    iyy += dy + m * (rx * rx + rz * rz);
    izz += dz + m * (rx * rx + ry * ry);
    ixy -= m * rx * ry;
    ixz -= m * rx * rz;
    iyz -= m * ry * rz;
  });
  return {
    origin: { xyz: com, rpy: [0, 0, 0] },
    mass,
    inertia: { ixx, iyy, izz, ixy, ixz, iyz },
  };
}

function collisionOf(p: Primitive, name: string): UrdfCollision {
  if (p.kind === 'box') return { name, origin: { xyz: p.center, rpy: [0, 0, 0] }, geometry: { type: 'box', size: p.size } };
  // URDF cylinders run along their local z: rotate onto the primitive's axis.
  const rpy: Vec3 = p.axis === 0 ? [0, Math.PI / 2, 0] : p.axis === 1 ? [Math.PI / 2, 0, 0] : [0, 0, 0];
  return { name, origin: { xyz: p.center, rpy }, geometry: { type: 'cylinder', radius: p.radius, length: p.length } };
}

/** Per-joint effort/velocity/dynamics: drawers slide, doors and lids swing; damped so a touch does not fling them. */
function jointDynamics(j: JointSpec): { effort: number; velocity: number; damping: number; friction: number } {
  return j.type === 'prismatic'
    ? { effort: 100, velocity: 0.5, damping: 5, friction: 0.5 }
    : { effort: 50, velocity: 1.5, damping: 2, friction: 0.3 };
}

/**
 * The ground-truth URDF: one OBJ visual per link (`meshPath(link)`, relative to the URDF),
 * collision as the link's own boxes and cylinders (convex pieces, cavities stay open), inertials.
 */
export function toUrdf(obj: ArticulatedObject, meshPath: (link: LinkSpec) => string): UrdfRobot {
  const links: UrdfLink[] = obj.links.map((l) => ({
    name: l.name,
    visuals: [{ name: `${l.name}_visual`, origin: { xyz: [0, 0, 0], rpy: [0, 0, 0] }, geometry: { type: 'mesh', filename: meshPath(l) } }],
    collisions: l.primitives.map((p, k) => collisionOf(p, `${l.name}_${p.role}_${k}`)),
    inertial: linkInertial(l, obj.materials),
  }));
  const joints: UrdfJoint[] = obj.joints.map((j) => {
    const d = jointDynamics(j);
    return {
      name: j.name,
      type: j.type,
      parent: obj.links[j.parent]!.name,
      child: obj.links[j.child]!.name,
      origin: { xyz: j.origin, rpy: [0, 0, 0] },
      axis: j.axis,
      limit: { lower: j.lower, upper: j.upper, effort: d.effort, velocity: d.velocity },
      dynamics: { damping: d.damping, friction: d.friction },
    };
  });
  return { name: obj.id, links, joints };
}

/** Wavefront OBJ text (+ its MTL) for a link mesh, faces grouped by material. */
export function linkObj(link: LinkSpec, materials: readonly Material[], mtlFile: string): { obj: string; mtl: string } {
  const { mesh, triangleMaterials } = buildLinkMesh(link);
  const lines: string[] = [`# ${link.name}: generated by partrm dataset`, `mtllib ${mtlFile}`, `o ${link.name}`];
  const p = mesh.positions;
  for (let i = 0; i < p.length; i += 3) lines.push(`v ${p[i]!.toFixed(6)} ${p[i + 1]!.toFixed(6)} ${p[i + 2]!.toFixed(6)}`);
  const used = [...new Set(triangleMaterials)].sort((a, b) => a - b);
  for (const m of used) {
    lines.push(`usemtl ${materials[m]!.name}`);
    for (let t = 0; t < triangleMaterials.length; t++) {
      if (triangleMaterials[t] !== m) continue;
      const a = mesh.indices[t * 3]! + 1, b = mesh.indices[t * 3 + 1]! + 1, c = mesh.indices[t * 3 + 2]! + 1;
      lines.push(`f ${a} ${b} ${c}`);
    }
  }
  const mtl = used
    .map((m) => {
      const mat = materials[m]!;
      return `newmtl ${mat.name}\nKd ${mat.rgb.map((x) => x.toFixed(4)).join(' ')}\nKa 0 0 0\nd 1\nillum 1\n`;
    })
    .join('\n');
  return { obj: lines.join('\n') + '\n', mtl };
}
