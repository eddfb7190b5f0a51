/**
 * Derives an {@link OpeningPolicy} from a URDF joint: joint type, axis, origin and limits in the
 * world (root-link) frame, the grasp point (an explicit one, the part's handle geometry, or a
 * heuristic on the part's geometry) and the approach direction.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Mat4, Vec3 } from '../core/math.js';
import { mat4FromRpy, mat4Multiply, transformDirection, transformPoint, vec3 } from '../core/math.js';
import type { UrdfGeometry, UrdfOrigin } from '../urdf/document.js';
import { readMeshFile, resolveMeshPath } from '../sim/mujoco/mesh.js';
import type { ReadUrdf } from '../sim/mujoco/urdf-read.js';
import { readUrdfText, subtreeLinks, urdfJointWorld, urdfLinkPoses } from '../sim/mujoco/urdf-read.js';
import type { OpeningPolicy, OpeningPolicyJoint, OpeningPolicyParams } from './types.js';
import { OPENING_POLICY_VERSION } from './types.js';

export function defaultParams(type: 'prismatic' | 'revolute'): OpeningPolicyParams {
  return {
    graspDepth: 0,
    graspLateral: 0,
    graspVertical: 0,
    standoff: 0.1,
    speed: type === 'prismatic' ? 0.15 : 0.5,
    gripClosure: 0,
    overshoot: 0.08,
    arcRadiusScale: 1,
    wristFollow: type === 'prismatic' ? 1 : 0.6,
    approachPitch: type === 'prismatic' ? 0 : 0.45,
  };
}

/** Search ranges of the tunable parameters (CEM samples inside them). */
export function paramRanges(type: 'prismatic' | 'revolute'): Record<keyof OpeningPolicyParams, [number, number]> {
  return {
    graspDepth: [-0.015, 0.02],
    graspLateral: [-0.015, 0.015],
    graspVertical: [-0.01, 0.01],
    standoff: [0.05, 0.15],
    speed: type === 'prismatic' ? [0.05, 0.35] : [0.2, 1.0],
    gripClosure: [0, 0.004],
    overshoot: [0, 0.25],
    arcRadiusScale: type === 'prismatic' ? [1, 1] : [0.85, 1.05],
    wristFollow: type === 'prismatic' ? [1, 1] : [0.2, 1],
    approachPitch: type === 'prismatic' ? [0, 0.3] : [0, 0.9],
  };
}

/** Closed and fully open joint values: the limit nearest zero is taken as closed. */
export function openingRange(lower: number, upper: number): { closed: number; open: number; sign: 1 | -1 } {
  const sign: 1 | -1 = Math.abs(upper) >= Math.abs(lower) ? 1 : -1;
  return sign > 0 ? { closed: lower, open: upper, sign } : { closed: upper, open: lower, sign };
}

interface PartGeometry {
  points: Vec3[];
  /** Points of geometry named like a handle (not its posts). */
  handlePoints: Vec3[];
  handleBoxes: Array<{ center: Vec3; axes: Vec3[]; half: Vec3 }>;
  /** Vertices of the visual meshes (empty when there are none). */
  surfacePoints: Vec3[];
}

function geometryPoints(g: UrdfGeometry, T: Mat4, urdfDir: string, root: string): { points: Vec3[]; box?: { center: Vec3; axes: Vec3[]; half: Vec3 } } {
  const corners = (h: Vec3): Vec3[] => {
    const out: Vec3[] = [];
    for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const sz of [-1, 1]) out.push(transformPoint(T, [sx * h[0], sy * h[1], sz * h[2]]));
    return out;
  };
  const boxOf = (h: Vec3) => ({ center: transformPoint(T, [0, 0, 0]), axes: [0, 1, 2].map((k) => transformDirection(T, [k === 0 ? 1 : 0, k === 1 ? 1 : 0, k === 2 ? 1 : 0])), half: h });
  switch (g.type) {
    case 'box': {
      const h: Vec3 = [g.size[0] / 2, g.size[1] / 2, g.size[2] / 2];
      return { points: corners(h), box: boxOf(h) };
    }
    case 'cylinder': {
      const h: Vec3 = [g.radius, g.radius, g.length / 2];
      return { points: corners(h), box: boxOf(h) };
    }
    case 'sphere': {
      const h: Vec3 = [g.radius, g.radius, g.radius];
      return { points: corners(h), box: boxOf(h) };
    }
    case 'mesh': {
      const path = resolveMeshPath(g.filename, urdfDir, root, false);
      if (!path) return { points: [] };
      try {
        const m = readMeshFile(path, g.scale ?? [1, 1, 1]);
        const pts: Vec3[] = [];
        const step = Math.max(1, Math.floor(m.positions.length / 3 / 4000));
        for (let i = 0; i < m.positions.length / 3; i += step) pts.push(transformPoint(T, [m.positions[i * 3]!, m.positions[i * 3 + 1]!, m.positions[i * 3 + 2]!]));
        return { points: pts };
      } catch {
        return { points: [] };
      }
    }
  }
}

function partGeometry(urdf: ReadUrdf, link: string, urdfDir: string, root: string): PartGeometry {
  const poses = urdfLinkPoses(urdf);
  const out: PartGeometry = { points: [], handlePoints: [], handleBoxes: [], surfacePoints: [] };
  for (const name of subtreeLinks(urdf, link)) {
    const l = urdf.links.find((x) => x.name === name)!;
    const pose = poses.get(name)!;
    const items: Array<{ name?: string; origin: UrdfOrigin; geometry: UrdfGeometry }> = l.collisions.length > 0 ? l.collisions : l.visuals;
    for (const c of items) {
      const T = mat4Multiply(pose, mat4FromRpy(c.origin.rpy, c.origin.xyz));
      const g = geometryPoints(c.geometry, T, urdfDir, root);
      out.points.push(...g.points);
      const nm = (c.name ?? '').toLowerCase();
      const fileName = c.geometry.type === 'mesh' ? c.geometry.filename.toLowerCase() : '';
      if ((/handle|knob/.test(nm) && !/post/.test(nm)) || (/handle|knob/.test(fileName) && !/post/.test(fileName))) {
        out.handlePoints.push(...g.points);
        if (g.box) out.handleBoxes.push(g.box);
      }
    }
    // Visual surfaces (mesh vertices) describe the shape more tightly than collision boxes.
    for (const v of l.visuals) {
      if (v.geometry.type !== 'mesh') continue;
      const T = mat4Multiply(pose, mat4FromRpy(v.origin.rpy, v.origin.xyz));
      out.surfacePoints.push(...geometryPoints(v.geometry, T, urdfDir, root).points);
    }
  }
  return out;
}

export interface DeriveOptions {
  /** Explicit grasp point (world = root-link frame, closed state = joint value 0). */
  grasp?: Vec3;
  /** Root directory for mesh lookups (default: the URDF's directory). */
  root?: string;
  params?: Partial<OpeningPolicyParams>;
}

/** Derives the policy for `jointName` of the URDF at `urdfPath`. */
export function derivePolicyFromUrdf(urdfPath: string, jointName: string, task: 'drawer' | 'door', options: DeriveOptions = {}): OpeningPolicy {
  const abs = resolve(urdfPath);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new Error(`PolicyDerive: cannot read URDF ${abs}: ${(err as Error).message}`);
  }
  const urdf = readUrdfText(text, abs);
  const grasp = options.grasp ?? articulationGrasp(dirname(abs));
  return derivePolicy(urdf, jointName, task, { ...options, ...(grasp ? { grasp } : {}), root: options.root ?? dirname(abs) }, dirname(abs));
}

/**
 * The operator's drag start recorded beside an extracted URDF (articulation.json "grasp", the
 * URDF's root frame, initial state = joint value 0): on a generated object the drag starts on the
 * handle, which blurred meshes hide from the geometric heuristics.
 */
export function articulationGrasp(dir: string): Vec3 | undefined {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(resolve(dir, 'articulation.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const g = (json as { grasp?: unknown } | null)?.grasp;
  return Array.isArray(g) && g.length === 3 && g.every((v) => typeof v === 'number' && Number.isFinite(v)) ? [g[0], g[1], g[2]] : undefined;
}

export function derivePolicy(urdf: ReadUrdf, jointName: string, task: 'drawer' | 'door', options: DeriveOptions, urdfDir: string): OpeningPolicy {
  const jw = urdfJointWorld(urdf, jointName);
  const j = jw.joint;
  if (j.type !== 'prismatic' && j.type !== 'revolute' && j.type !== 'continuous') {
    throw new Error(`PolicyDerive: joint "${jointName}" is ${j.type}; expected a prismatic, revolute or continuous joint`);
  }
  const type: 'prismatic' | 'revolute' = j.type === 'prismatic' ? 'prismatic' : 'revolute';
  let limits: [number, number];
  if (j.limit && j.limit.upper > j.limit.lower) limits = [j.limit.lower, j.limit.upper];
  else if (j.type === 'continuous') limits = [0, Math.PI / 2];
  else throw new Error(`PolicyDerive: joint "${jointName}" has no usable <limit> (lower < upper expected)`);
  const { sign } = openingRange(limits[0], limits[1]);
  const axis = jw.axis;
  const origin = jw.origin;
  const geo = partGeometry(urdf, j.child, urdfDir, options.root ?? urdfDir);
  if (geo.points.length === 0 && !options.grasp) {
    throw new Error(`PolicyDerive: the part moved by "${jointName}" (link ${j.child}) has no readable geometry; pass an explicit grasp point`);
  }
  const centroid: Vec3 = geo.points.length ? vec3.scale(geo.points.reduce((a, p) => vec3.add(a, p), [0, 0, 0] as Vec3), 1 / geo.points.length) : options.grasp!;
  const radialOf = (p: Vec3): Vec3 => {
    const d = vec3.sub(p, origin);
    return vec3.sub(d, vec3.scale(axis, vec3.dot(d, axis)));
  };
  // Outward "front" direction of the part.
  let front: Vec3;
  const frontFrom = (p: Vec3): Vec3 | null => {
    if (type === 'prismatic') return vec3.scale(axis, sign);
    const r = radialOf(p);
    const t = vec3.cross(axis, r);
    return vec3.length(t) > 1e-6 ? vec3.scale(vec3.normalize(t), sign) : null;
  };
  front = frontFrom(options.grasp ?? centroid) ?? [1, 0, 0];

  let grasp: Vec3;
  let handleAxis: Vec3 | null = null;
  let source: string;
  if (options.grasp) {
    grasp = options.grasp;
    source = 'explicit';
  } else if (geo.handleBoxes.length > 0) {
    // The largest handle piece (the bar), its centre and long axis.
    const vol = (b: { half: Vec3 }): number => b.half[0] * b.half[1] * b.half[2];
    const bar = geo.handleBoxes.reduce((a, b) => (vol(b) > vol(a) ? b : a));
    grasp = bar.center;
    const k = bar.half.indexOf(Math.max(...bar.half));
    handleAxis = bar.axes[k]!;
    source = 'handle geometry';
  } else {
    const pts = geo.handlePoints.length ? geo.handlePoints : geo.surfacePoints.length >= 8 ? geo.surfacePoints : geo.points;
    let cand = pts;
    if (type === 'revolute') {
      // Keep the side of the axis where the part is (robust to stray points), then its far edge.
      const rc = radialOf(centroid);
      const rcl = vec3.length(rc);
      if (rcl > 1e-6) {
        const side = cand.filter((p) => vec3.dot(radialOf(p), rc) > 0.5 * rcl * vec3.length(radialOf(p)));
        if (side.length >= 4) cand = side;
      }
    }
    let maxF = -Infinity;
    for (const p of cand) maxF = Math.max(maxF, vec3.dot(p, front));
    cand = cand.filter((p) => vec3.dot(p, front) >= maxF - 0.01);
    if (type === 'revolute') {
      const radii = cand.map((p) => vec3.length(radialOf(p))).sort((a, b) => a - b);
      const maxR = radii[Math.floor(0.95 * (radii.length - 1))] ?? 0;
      const far = cand.filter((p) => vec3.length(radialOf(p)) >= 0.85 * maxR);
      if (far.length) cand = far;
    }
    const c = vec3.scale(cand.reduce((a, p) => vec3.add(a, p), [0, 0, 0] as Vec3), 1 / cand.length);
    // Vertically: the middle of the front layer (for drawers) / of the far edge (doors).
    grasp = vec3.sub(c, vec3.scale(front, 0.01));
    source = geo.handlePoints.length ? 'handle mesh (front layer)' : 'part geometry (front-most layer)';
  }
  const f2 = frontFrom(grasp);
  if (f2) front = f2;
  const approach = vec3.scale(front, -1);
  if (!handleAxis) {
    if (type === 'revolute') handleAxis = axis;
    else {
      const side = vec3.cross(front, [0, 0, 1]);
      handleAxis = vec3.length(side) > 1e-3 ? vec3.normalize(side) : [0, 1, 0];
    }
  }
  // Make the handle axis perpendicular to the approach.
  const ha = vec3.sub(handleAxis, vec3.scale(approach, vec3.dot(handleAxis, approach)));
  handleAxis = vec3.length(ha) > 1e-6 ? vec3.normalize(ha) : vec3.normalize(vec3.cross(approach, Math.abs(approach[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0]));

  const clean = (v: Vec3): Vec3 => [v[0] + 0, v[1] + 0, v[2] + 0]; // no -0 in policy.json
  const joint: OpeningPolicyJoint = { type, axis: clean(axis), origin: clean(origin), limits };
  return {
    version: OPENING_POLICY_VERSION,
    task,
    jointName,
    joint,
    grasp: clean(grasp),
    approach: clean(approach),
    handleAxis: clean(handleAxis),
    openSign: sign,
    params: { ...defaultParams(type), ...options.params },
    meta: { derivedFrom: urdf.name, graspSource: source },
  };
}
