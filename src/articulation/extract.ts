/**
 * Articulation extraction, the library entry point: two states of one object (point clouds in
 * the same frame, z up, any units) -> joint (type, axis, origin, motion, limits, confidence),
 * base and part meshes, collision boxes and a URDF; and writing all of it to a directory.
 *
 *   const x = await extractArticulation({ initial, dragged, drags3d });
 *   await writeArticulationOutputs('out/dir', x);   // articulation.json, base.obj, part.obj,
 *                                                    // object.urdf, articulation.png
 *
 * The URDF's base frame is the input frame; feed z-up world coordinates so simulators see the
 * object upright.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { encodePngRgba } from '../core/image.js';
import type { TriangleMesh } from '../core/mesh.js';
import { type Vec3, transformPoints } from '../core/math.js';
import type { Articulation, JointType, PointCloud } from '../core/types.js';
import { renderArticulatedUrdf } from '../urdf/writer.js';
import { type Box, boxesFromPoints } from './boxes.js';
import { type Drag3D, type JointFit, fitJoint, prepareBoth } from './fit.js';
import { type MeshExtractionOptions, extractMesh, meshToObj, meshoptReady } from './mesh.js';
import { articulationPicture } from './picture.js';
import { KdTree } from './kdtree.js';
import { type Rigid, rigidIdentity, rigidInverse, rigidRevolute, rigidToMat4 } from './rigid.js';

export interface ExtractArticulationInput {
  initial: PointCloud;
  dragged: PointCloud;
  /** Optional operator drags in 3D (a point on the moving part and where it went). */
  drags3d?: readonly Drag3D[];
  /**
   * A joint already determined elsewhere (the pipeline's DragJointFit) with the initial points'
   * part labels: the free two-state fit is skipped; the dragged cloud is labelled by the moved part.
   */
  joint?: KnownJoint;
  seed?: number;
  /** Robot name in the URDF (default "object"). */
  name?: string;
  mesh?: MeshExtractionOptions;
  signal?: AbortSignal;
}

export interface KnownJoint {
  type: JointType;
  axis: Vec3;
  origin: Vec3;
  /** Displacement initial -> dragged (input units or radians). */
  motion: number;
  confidence: number;
  /** 1 for points of `initial` on the moving part. */
  movingInitial: Uint8Array;
  /** 1 for points of `initial` to use at all (default: all); outlier removal still applies. */
  keptInitial?: Uint8Array;
}

export interface ArticulationExtraction {
  articulation: Articulation;
  /** URDF text referencing base.obj and part.obj beside it. */
  urdf: string;
  /** Relative file name -> OBJ text. */
  meshes: { 'base.obj': string; 'part.obj': string };
  fit: JointFit;
  baseMesh: TriangleMesh;
  /** In the initial state. */
  partMesh: TriangleMesh;
  baseBoxes: Box[];
  partBoxes: Box[];
  /** Per-point moving flags of the inputs (1 = moving part), for pictures. */
  initialMoving: Uint8Array;
  draggedMoving: Uint8Array;
  initial: Float32Array;
  dragged: Float32Array;
  /** The first drag hint's start (initial state, input frame): the operator grasps there. */
  grasp?: [number, number, number];
  timings: { fitMs: number; meshMs: number };
}

function fail(msg: string): never {
  throw new Error(`ArticulationExtraction: ${msg}`);
}

function pick(points: Float32Array, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length * 3);
  for (let i = 0; i < idx.length; i++) {
    const o = idx[i]! * 3;
    out[3 * i] = points[o]!;
    out[3 * i + 1] = points[o + 1]!;
    out[3 * i + 2] = points[o + 2]!;
  }
  return out;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * A JointFit for a joint given from outside: the clouds' own outlier removal and spacing, the given
 * part labels for the initial cloud, and for the dragged cloud the points nearer to the moved part
 * than to the static body. The change statistics of the free fit do not apply and are 0.
 */
function fitFromKnownJoint(A: Float32Array, B: Float32Array, j: KnownJoint): JointFit {
  const nA = A.length / 3;
  if (j.movingInitial.length !== nA) fail(`joint.movingInitial has ${j.movingInitial.length} flags; expected one per initial point (${nA})`);
  if (j.keptInitial && j.keptInitial.length !== nA) fail(`joint.keptInitial has ${j.keptInitial.length} flags; expected one per initial point (${nA})`);
  if (!(j.type === 'revolute' || j.type === 'prismatic') || ![...j.axis, ...j.origin, j.motion].every(Number.isFinite)) fail('joint must have a type (revolute or prismatic) and a finite axis, origin and motion');
  const [pa, pb] = prepareBoth(A, B);
  const keptInitial = Uint32Array.from(Array.from(pa.index).filter((i) => !j.keptInitial || j.keptInitial[i]));
  const movingIndices = Uint32Array.from(Array.from(keptInitial).filter((i) => j.movingInitial[i]));
  const staticIndices = Array.from(keptInitial).filter((i) => !j.movingInitial[i]);
  if (movingIndices.length < 4) fail(`the given part has ${movingIndices.length} points after outlier removal; expected a visible moving part`);
  if (staticIndices.length < 4) fail('the static body has almost no points; expected an object with a fixed body');
  const transform: Rigid = j.type === 'revolute' ? rigidRevolute(j.axis, j.origin, j.motion) : { r: rigidIdentity().r, t: [j.axis[0] * j.motion, j.axis[1] * j.motion, j.axis[2] * j.motion] };
  const movedPart = transformPoints(rigidToMat4(transform), pick(A, movingIndices));
  const partTree = new KdTree(movedPart), bodyTree = new KdTree(pick(A, staticIndices));
  const movingDragged: number[] = [];
  for (const i of pb.index) {
    const x = B[3 * i]!, y = B[3 * i + 1]!, z = B[3 * i + 2]!;
    if (partTree.nearestD2(x, y, z) < bodyTree.nearestD2(x, y, z)) movingDragged.push(i);
  }
  return {
    type: j.type,
    axis: j.axis,
    origin: j.origin,
    motion: j.motion,
    limits: [Math.min(0, j.motion), Math.max(0, j.motion)],
    confidence: j.confidence,
    transform,
    movingIndices,
    movingIndicesDragged: Uint32Array.from(movingDragged),
    keptInitial,
    keptDragged: pb.index,
    stats: {
      spacing: Math.max(pa.spacing, pb.spacing),
      threshold: 0,
      changedInitial: 0,
      changedDragged: 0,
      outliersInitial: nA - keptInitial.length,
      outliersDragged: pb.outliers,
      candidates: 0,
      explained: 0,
      rigidAngle: j.type === 'revolute' ? Math.abs(j.motion) : 0,
      scorePrismatic: 0,
      scoreRevolute: 0,
    },
  };
}

export async function extractArticulation(input: ExtractArticulationInput): Promise<ArticulationExtraction> {
  const A = input.initial?.positions, B = input.dragged?.positions;
  if (!(A instanceof Float32Array) || !(B instanceof Float32Array)) fail('initial and dragged must be point clouds with Float32Array positions');
  await meshoptReady();
  input.signal?.throwIfAborted();
  const t0 = performance.now();
  const fit = input.joint ? fitFromKnownJoint(A, B, input.joint) : fitJoint(A, B, { drags: input.drags3d ?? [], seed: input.seed ?? 1, segmentDragged: true });
  const fitMs = performance.now() - t0;
  input.signal?.throwIfAborted();
  const nA = A.length / 3, nB = B.length / 3;
  const movA = new Uint8Array(nA), movB = new Uint8Array(nB);
  for (const i of fit.movingIndices) movA[i] = 1;
  for (const i of fit.movingIndicesDragged) movB[i] = 1;
  const keptA = new Uint8Array(nA), keptB = new Uint8Array(nB);
  for (const i of fit.keptInitial) keptA[i] = 1;
  for (const i of fit.keptDragged) keptB[i] = 1;
  // Base: static points of both states (the dragged state shows what the part hid). Part: moving
  // points of the initial state plus the dragged state's moved back by the inverse motion.
  const baseIdxA: number[] = [], baseIdxB: number[] = [], partIdxA: number[] = [], partIdxB: number[] = [];
  for (let i = 0; i < nA; i++) if (keptA[i]) (movA[i] ? partIdxA : baseIdxA).push(i);
  for (let i = 0; i < nB; i++) if (keptB[i]) (movB[i] ? partIdxB : baseIdxB).push(i);
  if (partIdxA.length + partIdxB.length < 8) fail(`the moving part has only ${partIdxA.length + partIdxB.length} points; expected a visible moving part`);
  if (baseIdxA.length + baseIdxB.length < 8) fail('the static base has almost no points; expected an object with a fixed body');
  const basePts = concat(pick(A, baseIdxA), pick(B, baseIdxB));
  const partPts = concat(pick(A, partIdxA), transformPoints(rigidToMat4(rigidInverse(fit.transform)), pick(B, partIdxB)));
  const t1 = performance.now();
  const voxel = input.mesh?.voxel ?? 2 * fit.stats.spacing;
  const baseMesh = extractMesh(basePts, { ...input.mesh, voxel });
  const partMesh = extractMesh(partPts, { ...input.mesh, voxel });
  const meshMs = performance.now() - t1;
  // Collision boxes. Base points lying on that state's moving part (misclassified part points near
  // the hinge or on the open door's edge) would be phantom obstacles exactly where the gripper holds
  // the handle, so the base boxes leave them out. The part's grid is as fine as the point spacing
  // allows (cells of 2.5 spacings, 10..60 along the largest side) so that the handle gets boxes of
  // its own instead of one slab from the panel to the handle's front.
  const clearOfPart = (pts: Float32Array, baseIdx: number[], partIdx: number[], spacings: number): Float32Array => {
    if (partIdx.length === 0) return pick(pts, baseIdx);
    const tree = new KdTree(pick(pts, partIdx));
    const r = spacings * fit.stats.spacing;
    return pick(pts, baseIdx.filter((i) => tree.nearestD2(pts[3 * i]!, pts[3 * i + 1]!, pts[3 * i + 2]!, r) === Infinity));
  };
  // In the dragged state the part has swung away from the body, so a wider margin (4 spacings, a
  // handle's stand-off) only removes stray part points, e.g. on the open door's handle.
  const baseClear = concat(clearOfPart(A, baseIdxA, partIdxA, 2), clearOfPart(B, baseIdxB, partIdxB, 4));
  const baseBoxes = boxesFromPoints(baseClear.length >= 3 ? baseClear : basePts, { resolution: 16 });
  let partExtent = 0;
  for (let k = 0; k < 3; k++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = k; i < partPts.length; i += 3) {
      lo = Math.min(lo, partPts[i]!);
      hi = Math.max(hi, partPts[i]!);
    }
    partExtent = Math.max(partExtent, hi - lo);
  }
  const partResolution = Math.min(60, Math.max(10, Math.round(partExtent / (2.5 * fit.stats.spacing))));
  const partBoxes = boxesFromPoints(partPts, { resolution: partResolution, maxBoxes: 160 });
  const joint = {
    type: fit.type,
    axis: fit.axis,
    origin: fit.origin,
    motion: fit.motion,
    limits: fit.limits,
    confidence: fit.confidence,
    movingIndices: fit.movingIndices,
  };
  const urdf = renderArticulatedUrdf({
    name: input.name ?? 'object',
    joint: { type: fit.type, axis: fit.axis, origin: fit.origin, lower: fit.limits[0], upper: fit.limits[1] },
    baseMesh: 'base.obj',
    partMesh: 'part.obj',
    baseBoxes,
    partBoxes,
  });
  return {
    articulation: { joints: [joint] },
    urdf,
    meshes: { 'base.obj': meshToObj(baseMesh, 'base'), 'part.obj': meshToObj(partMesh, 'part') },
    fit,
    baseMesh,
    partMesh,
    baseBoxes,
    partBoxes,
    initialMoving: movA,
    draggedMoving: movB,
    initial: A,
    dragged: B,
    ...(input.drags3d?.[0] ? { grasp: [...input.drags3d[0].start] as [number, number, number] } : {}),
    timings: { fitMs, meshMs },
  };
}

/** articulation.json content: the joints in the input frame (no per-point data). */
export function articulationJson(a: Articulation): { joints: Array<Record<string, unknown>> } {
  return {
    joints: a.joints.map((j) => ({
      type: j.type,
      axis: j.axis,
      origin: j.origin,
      motion: j.motion,
      limits: j.limits,
      confidence: j.confidence,
      movingPoints: j.movingIndices?.length ?? 0,
    })),
  };
}

/**
 * Writes articulation.json, base.obj, part.obj, object.urdf and (unless `picture: false`)
 * articulation.png into `dir`. Everything goes into a temporary sibling directory first; `dir`
 * appears (or its files are replaced) only when all files are complete. Returns name -> path.
 */
export async function writeArticulationOutputs(dir: string, x: ArticulationExtraction, options: { picture?: boolean } = {}): Promise<Record<string, string>> {
  const final = resolve(dir);
  const temp = join(dirname(final), `.partial-${basename(final)}-${process.pid}-${Date.now().toString(36)}`);
  const files: Record<string, Uint8Array | string> = {
    // "grasp": where a policy derived from object.urdf grasps (src/policy/derive.ts reads it).
    'articulation.json': JSON.stringify({ ...articulationJson(x.articulation), ...(x.grasp ? { grasp: x.grasp } : {}) }, null, 2) + '\n',
    'base.obj': x.meshes['base.obj'],
    'part.obj': x.meshes['part.obj'],
    'object.urdf': x.urdf,
  };
  if (options.picture ?? true) {
    const j = x.articulation.joints[0]!;
    files['articulation.png'] = encodePngRgba(articulationPicture(x.initial, x.initialMoving, x.dragged, x.draggedMoving, j));
  }
  await mkdir(dirname(final), { recursive: true });
  await mkdir(temp, { recursive: true });
  try {
    for (const [name, data] of Object.entries(files)) await writeFile(join(temp, name), data);
    await mkdir(final, { recursive: true });
    // Each file is renamed into place; a rename replaces atomically, so readers never see a
    // partial file.
    for (const name of Object.keys(files)) await rename(join(temp, name), join(final, name));
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return Object.fromEntries(Object.keys(files).map((n) => [n, join(final, n)]));
}
