/**
 * Ground-truth URDFs as point clouds at a joint state: the project's procedural URDFs and the
 * PartNet-Mobility layout (mobility.urdf, many visual OBJs per link under textured_objs/, no
 * inertials, a fixed root joint that turns y-up meshes z-up, limits without effort, flat
 * single-sided parts). Reading is lenient (src/sim/mujoco/urdf-read.ts, shared with the
 * simulator); sampling is area-weighted over every link's visual meshes (collision meshes as a
 * fallback), so flat parts sample fine where a convex hull would fail.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Mat4, transformPoints } from '../core/math.js';
import { mergeMeshes, sampleMeshSurface, type TriangleMesh } from '../core/mesh.js';
import { Rng } from '../core/random.js';
import type { PointCloud } from '../core/types.js';
import { readMeshFile, resolveMeshPath } from '../sim/mujoco/mesh.js';
import { type ReadUrdf, originMatrix, readUrdfText, urdfLinkPoses } from '../sim/mujoco/urdf-read.js';
import type { UrdfGeometry } from './document.js';

export interface LoadedArticulatedUrdf {
  urdf: ReadUrdf;
  path: string;
  /** Per link: its geometry merged into one mesh in the link frame (absent for empty links). */
  linkMeshes: Map<string, TriangleMesh>;
  warnings: string[];
}

function fail(msg: string): never {
  throw new Error(`PartNetReader: ${msg}`);
}

function primitive(g: UrdfGeometry): TriangleMesh | null {
  if (g.type !== 'box') return null;
  const [x, y, z] = g.size.map((s) => s / 2) as [number, number, number];
  const positions = new Float32Array([-x, -y, -z, x, -y, -z, x, y, -z, -x, y, -z, -x, -y, z, x, -y, z, x, y, z, -x, y, z]);
  const indices = new Uint32Array([0, 2, 1, 0, 3, 2, 4, 5, 6, 4, 6, 7, 0, 1, 5, 0, 5, 4, 1, 2, 6, 1, 6, 5, 2, 3, 7, 2, 7, 6, 3, 0, 4, 3, 4, 7]);
  return { positions, indices };
}

/** Reads a URDF and every link's visual meshes (relative and package:// paths resolved). */
export function loadArticulatedUrdf(path: string): LoadedArticulatedUrdf {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(`cannot read ${path} (${(err as Error).message})`);
  }
  const urdf = readUrdfText(text, path);
  const dir = dirname(path);
  const warnings = [...urdf.warnings];
  const linkMeshes = new Map<string, TriangleMesh>();
  for (const link of urdf.links) {
    const parts: TriangleMesh[] = [];
    const sources = link.visuals.length > 0 ? link.visuals : link.collisions;
    for (const v of sources) {
      const g = v.geometry;
      let mesh: TriangleMesh | null = null;
      if (g.type === 'mesh') {
        const file = resolveMeshPath(g.filename, dir, dir, false);
        if (!file) {
          warnings.push(`link "${link.name}": mesh ${g.filename} not found`);
          continue;
        }
        try {
          mesh = readMeshFile(file, g.scale ?? [1, 1, 1]);
        } catch (err) {
          warnings.push(`link "${link.name}": ${(err as Error).message}`);
          continue;
        }
      } else {
        mesh = primitive(g);
      }
      if (!mesh || mesh.indices.length === 0) continue;
      parts.push({ positions: transformPoints(originMatrix(v.origin), mesh.positions), indices: mesh.indices });
    }
    if (parts.length > 0) linkMeshes.set(link.name, mergeMeshes(parts));
  }
  if (linkMeshes.size === 0) fail(`${path} has no readable visual or collision geometry`);
  return { urdf, path, linkMeshes, warnings };
}

/** Movable joints (revolute, prismatic, continuous) by name. */
export function movableJoints(u: LoadedArticulatedUrdf): string[] {
  return u.urdf.joints.filter((j) => j.type === 'revolute' || j.type === 'prismatic' || j.type === 'continuous').map((j) => j.name);
}

export interface SampleUrdfOptions {
  /** Joint name -> value (radians / model units); others at 0 clamped into their limits. */
  state?: Readonly<Record<string, number>>;
  points?: number;
  seed?: number;
}

/**
 * Area-weighted surface points of the whole object at a joint state, in the URDF's root frame
 * (PartNet-Mobility's fixed root joint already turns the y-up meshes z-up). `labels` holds each
 * point's link index in `urdf.links` order.
 */
export function sampleArticulatedUrdf(u: LoadedArticulatedUrdf, options: SampleUrdfOptions = {}): PointCloud {
  const state = options.state ?? {};
  for (const name of Object.keys(state)) {
    const j = u.urdf.joints.find((x) => x.name === name);
    if (!j) fail(`no joint named "${name}"; movable joints: ${movableJoints(u).join(', ') || '(none)'}`);
    if (j.type === 'fixed') fail(`joint "${name}" is fixed; movable joints: ${movableJoints(u).join(', ')}`);
    const v = state[name]!;
    if (!Number.isFinite(v)) fail(`state of joint "${name}" must be a finite number, got ${v}`);
  }
  const q: Record<string, number> = {};
  for (const j of u.urdf.joints) {
    if (j.type === 'fixed') continue;
    const lo = j.limit?.lower ?? -Infinity, hi = j.limit?.upper ?? Infinity;
    q[j.name] = state[j.name] ?? Math.min(hi, Math.max(lo, 0));
  }
  const poses = urdfLinkPoses(u.urdf, q);
  const meshes: TriangleMesh[] = [];
  const triLink: number[] = [];
  u.urdf.links.forEach((link, li) => {
    const m = u.linkMeshes.get(link.name);
    const pose: Mat4 | undefined = poses.get(link.name);
    if (!m || !pose) return;
    meshes.push({ positions: transformPoints(pose, m.positions), indices: m.indices });
    for (let t = 0; t < m.indices.length / 3; t++) triLink.push(li);
  });
  const merged = mergeMeshes(meshes);
  const count = options.points ?? 10000;
  if (!Number.isInteger(count) || count < 1) fail(`points must be a positive integer, got ${count}`);
  const s = sampleMeshSurface(merged, count, new Rng(options.seed ?? 0));
  return { positions: s.positions, labels: Int32Array.from(s.triangles, (t) => triLink[t]!) };
}
