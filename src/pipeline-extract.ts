/**
 * The pipeline's own articulation step, used while the articulation module exports no
 * `extractArticulation`: the articulation module's joint fit (`fitJoint`) and mesh extraction
 * (`extractMesh`) composed with the URDF writer. Two links: `base` (static points) and `part`
 * (moving points), one joint; meshes in the input frame, the part's visual offset so that at
 * joint value 0 it sits where it was observed in the initial state.
 */
import type { Vec3 } from './core/math.js';
import type { Articulation, JointEstimate } from './core/types.js';
import { fitJoint } from './articulation/fit.js';
import { extractMesh, meshoptReady, meshToObj } from './articulation/mesh.js';
import { serializeUrdf, type UrdfInertial, type UrdfRobot } from './urdf/document.js';
import type { ExtractionInput, ExtractionOutput } from './pipeline.js';

function centroid(points: Float32Array): Vec3 {
  const n = points.length / 3;
  const c: Vec3 = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) c[k] = c[k]! + points[3 * i + k]! / n;
  return c;
}

function inertial(): UrdfInertial {
  return { origin: { xyz: [0, 0, 0], rpy: [0, 0, 0] }, mass: 1, inertia: { ixx: 0.01, ixy: 0, ixz: 0, iyy: 0.01, iyz: 0, izz: 0.01 } };
}

export async function basicExtraction(input: ExtractionInput): Promise<ExtractionOutput> {
  await meshoptReady();
  const a = input.initial.positions;
  const fit = fitJoint(a, input.dragged.positions, { drags: input.drags3d, seed: input.seed });
  input.signal?.throwIfAborted();
  const moving = new Uint8Array(a.length / 3);
  for (const i of fit.movingIndices) moving[i] = 1;
  const base: number[] = [];
  const part: number[] = [];
  for (let i = 0; i < moving.length; i++) (moving[i] ? part : base).push(a[3 * i]!, a[3 * i + 1]!, a[3 * i + 2]!);
  if (part.length < 12 || base.length < 12) {
    throw new Error(`PipelineExtract: the joint fit left ${part.length / 3} moving and ${base.length / 3} static points; need at least 4 of each for meshes`);
  }
  const basePts = Float32Array.from(base);
  const partPts = Float32Array.from(part);
  const baseMesh = extractMesh(basePts);
  const partMesh = extractMesh(partPts);
  const origin: Vec3 = fit.type === 'revolute' ? fit.origin : centroid(partPts);
  const [lo, hi] = fit.limits[0] <= fit.limits[1] ? fit.limits : [fit.limits[1], fit.limits[0]];
  const robot: UrdfRobot = {
    name: 'partrm_object',
    links: [
      {
        name: 'base',
        visuals: [{ origin: { xyz: [0, 0, 0], rpy: [0, 0, 0] }, geometry: { type: 'mesh', filename: 'base.obj' } }],
        collisions: [{ origin: { xyz: [0, 0, 0], rpy: [0, 0, 0] }, geometry: { type: 'mesh', filename: 'base.obj' } }],
        inertial: inertial(),
      },
      {
        name: 'part',
        visuals: [{ origin: { xyz: [-origin[0], -origin[1], -origin[2]], rpy: [0, 0, 0] }, geometry: { type: 'mesh', filename: 'part.obj' } }],
        collisions: [{ origin: { xyz: [-origin[0], -origin[1], -origin[2]], rpy: [0, 0, 0] }, geometry: { type: 'mesh', filename: 'part.obj' } }],
        inertial: inertial(),
      },
    ],
    joints: [
      {
        name: 'joint_part',
        type: fit.type,
        parent: 'base',
        child: 'part',
        origin: { xyz: origin, rpy: [0, 0, 0] },
        axis: fit.axis,
        limit: { lower: lo, upper: hi === lo ? lo + (fit.type === 'revolute' ? 0.1 : 0.01) : hi, effort: 100, velocity: 1 },
      },
    ],
  };
  const joint: JointEstimate = {
    type: fit.type,
    axis: fit.axis,
    origin,
    motion: fit.motion,
    limits: [lo, hi],
    confidence: fit.confidence,
    movingIndices: fit.movingIndices,
  };
  const articulation: Articulation = { joints: [joint] };
  return {
    articulation,
    urdf: serializeUrdf(robot),
    meshes: { 'base.obj': meshToObj(baseMesh, 'base'), 'part.obj': meshToObj(partMesh, 'part') },
  };
}
