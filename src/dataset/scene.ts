/**
 * An articulated object placed in the rig: its links' meshes, the normalisation from metres to
 * rig units, render items for any joint state, and the fixed set of surface points whose index is
 * the same in every state (point correspondence across states).
 */
import { type Mat4, type Vec3, mat4Multiply, transformPoints, vec3 } from '../core/math.js';
import { meshBounds, sampleMeshSurface, mergeMeshes, type TriangleMesh } from '../core/mesh.js';
import type { Rng } from '../core/random.js';
import { type ArticulatedObject, type LinkMesh, PATTERN_CODES, buildLinkMesh, linkTransforms, restState } from './articulated.js';
import type { RenderItem } from './render.js';

/** Metres (base frame) -> rig units: p_rig = scale * (p - center). */
export interface Normalisation {
  center: Vec3;
  scale: number;
}

export function normalisationMatrix(n: Normalisation): Mat4 {
  const s = n.scale;
  return new Float64Array([s, 0, 0, -s * n.center[0], 0, s, 0, -s * n.center[1], 0, 0, s, -s * n.center[2], 0, 0, 0, 1]);
}

/** Its inverse, rig units -> metres: p = p_rig / scale + center (`partrm run --rig-to-world` for the ground truth's frame). */
export function rigToMetresMatrix(n: Normalisation): Mat4 {
  const k = 1 / n.scale;
  return new Float64Array([k, 0, 0, n.center[0], 0, k, 0, n.center[1], 0, 0, k, n.center[2], 0, 0, 0, 1]);
}

export interface SurfacePoints {
  /** Packed xyz in each point's own link frame, metres. */
  local: Float32Array;
  /** Link index of every point (the part label). */
  links: Uint8Array;
  /** Packed outward unit normals of the sampled triangles, in link frames. */
  normals: Float32Array;
}

export class ObjectScene {
  readonly linkMeshes: LinkMesh[];
  readonly normalisation: Normalisation;
  private readonly colors: Float32Array[];
  private readonly patterns: Uint8Array[];

  constructor(readonly object: ArticulatedObject) {
    if (object.links.length > 254) throw new Error('ObjectScene: at most 254 links fit the 8-bit part masks');
    this.linkMeshes = object.links.map(buildLinkMesh);
    this.colors = this.linkMeshes.map(({ triangleMaterials }) => {
      const c = new Float32Array(triangleMaterials.length * 3);
      triangleMaterials.forEach((m, t) => c.set(object.materials[m]!.rgb, t * 3));
      return c;
    });
    this.patterns = this.linkMeshes.map(({ triangleMaterials }) => Uint8Array.from(triangleMaterials, (m) => PATTERN_CODES[object.materials[m]!.pattern]));
    // Normalise the closed (rest) object: centred on its bounding box, largest side = 1 rig unit.
    const rest = linkTransforms(object, restState(object));
    const world = mergeMeshes(this.linkMeshes.map((lm, i) => ({ positions: transformPoints(rest[i]!, lm.mesh.positions), indices: lm.mesh.indices })));
    const { min, max } = meshBounds(world.positions);
    const extent = Math.max(max[0] - min[0], max[1] - min[1], max[2] - min[2]);
    this.normalisation = { center: [(min[0] + max[0]) / 2, (min[1] + max[1]) / 2, (min[2] + max[2]) / 2], scale: 1 / extent };
  }

  /** Label of link i in part masks (0 is background). */
  static labelOf(link: number): number {
    return link + 1;
  }

  /** Render items in rig units for joint values `q`. */
  renderItems(q: ArrayLike<number>): RenderItem[] {
    const norm = normalisationMatrix(this.normalisation);
    return linkTransforms(this.object, q).map((pose, i) => {
      const lm = this.linkMeshes[i]!;
      return {
        mesh: { positions: transformPoints(mat4Multiply(norm, pose), lm.mesh.positions), indices: lm.mesh.indices },
        triangleColors: this.colors[i]!,
        label: ObjectScene.labelOf(i),
        localPositions: lm.mesh.positions,
        trianglePatterns: this.patterns[i]!,
      };
    });
  }

  /** `count` area-weighted surface points over all links, in link frames. */
  samplePoints(count: number, rng: Rng): SurfacePoints {
    const meshes: TriangleMesh[] = this.linkMeshes.map((l) => l.mesh);
    const merged = mergeMeshes(meshes);
    const triLink = new Uint8Array(merged.indices.length / 3);
    let t = 0;
    meshes.forEach((m, i) => {
      triLink.fill(i, t, t + m.indices.length / 3);
      t += m.indices.length / 3;
    });
    const sample = sampleMeshSurface(merged, count, rng);
    const normals = new Float32Array(count * 3);
    const p = merged.positions;
    sample.triangles.forEach((tri, i) => {
      const a = merged.indices[tri * 3]! * 3, b = merged.indices[tri * 3 + 1]! * 3, c = merged.indices[tri * 3 + 2]! * 3;
      const n = vec3.cross(
        [p[b]! - p[a]!, p[b + 1]! - p[a + 1]!, p[b + 2]! - p[a + 2]!],
        [p[c]! - p[a]!, p[c + 1]! - p[a + 1]!, p[c + 2]! - p[a + 2]!],
      );
      normals.set(vec3.normalize(n), i * 3);
    });
    return { local: sample.positions, links: Uint8Array.from(sample.triangles, (tri) => triLink[tri]!), normals };
  }

  /** The points at joint values `q`, in metres (base frame). */
  posePoints(points: SurfacePoints, q: ArrayLike<number>): Float32Array {
    const poses = linkTransforms(this.object, q);
    const out = new Float32Array(points.local.length);
    const n = points.links.length;
    for (let i = 0; i < n; i++) {
      const m = poses[points.links[i]!]!;
      const x = points.local[i * 3]!, y = points.local[i * 3 + 1]!, z = points.local[i * 3 + 2]!;
      out[i * 3] = m[0]! * x + m[1]! * y + m[2]! * z + m[3]!;
      out[i * 3 + 1] = m[4]! * x + m[5]! * y + m[6]! * z + m[7]!;
      out[i * 3 + 2] = m[8]! * x + m[9]! * y + m[10]! * z + m[11]!;
    }
    return out;
  }

  /** The points' normals at joint values `q` (base frame; the rig's uniform scale keeps them). */
  poseNormals(points: SurfacePoints, q: ArrayLike<number>): Float32Array {
    const poses = linkTransforms(this.object, q);
    const out = new Float32Array(points.normals.length);
    for (let i = 0; i < points.links.length; i++) {
      const m = poses[points.links[i]!]!;
      const x = points.normals[i * 3]!, y = points.normals[i * 3 + 1]!, z = points.normals[i * 3 + 2]!;
      out[i * 3] = m[0]! * x + m[1]! * y + m[2]! * z;
      out[i * 3 + 1] = m[4]! * x + m[5]! * y + m[6]! * z;
      out[i * 3 + 2] = m[8]! * x + m[9]! * y + m[10]! * z;
    }
    return out;
  }

  toRig(pointsMetres: Float32Array): Float32Array {
    return transformPoints(normalisationMatrix(this.normalisation), pointsMetres);
  }
}
