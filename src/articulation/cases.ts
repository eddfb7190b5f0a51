/**
 * Synthetic two-state cases from the procedural dataset, for the articulation bench and tests:
 * the object at two joint states, surface points re-sampled independently per state (no
 * correspondences), Gaussian noise, uniform outliers, optionally only what view 0 sees; plus the
 * ground-truth joint in the base frame and the error metrics against an estimate.
 */
import { rigCameras } from '../core/camera.js';
import { type Vec3, transformDirection, transformPoint, vec3 } from '../core/math.js';
import { Rng } from '../core/random.js';
import type { JointEstimate, JointType } from '../core/types.js';
import { type Category, linkTransforms } from '../dataset/articulated.js';
import { generateObject } from '../dataset/categories.js';
import { visiblePoints } from '../dataset/generate.js';
import { renderScene } from '../dataset/render.js';
import { ObjectScene } from '../dataset/scene.js';
import { axisAngleErrorDeg, lineDistance } from './rigid.js';

export interface CaseOptions {
  points?: number;
  /** Gaussian noise standard deviation per coordinate, metres (default 0.005). */
  noise?: number;
  /** Fraction of the points replaced by uniform outliers in the object's box (default 0.1). */
  outliers?: number;
  /** Keep only the points visible from rig view 0 (single camera). */
  singleView?: boolean;
  /** Render size for the visibility test (default 256). */
  renderSize?: number;
}

export interface GroundTruthJoint {
  type: JointType;
  axis: Vec3;
  origin: Vec3;
  motion: number;
  /** Joint index and link index of the moving part. */
  joint: number;
  child: number;
}

export interface TwoStateCase {
  id: string;
  category: Category;
  initial: Float32Array;
  dragged: Float32Array;
  /** Per initial point: 1 when it lies on the moving link (outliers are 0). */
  initialMoving: Uint8Array;
  truth: GroundTruthJoint;
  qInitial: Float64Array;
  qDragged: Float64Array;
  scene: ObjectScene;
  /** Object size (largest side of the closed object), metres. */
  size: number;
}

/**
 * One case: a random joint of the object, two distinct states among 6 evenly spaced ones between
 * its limits (as PartDrag-4D renders them), the other joints at random fixed values.
 */
export function makeCase(category: Category, seed: number, options: CaseOptions = {}): TwoStateCase {
  const obj = generateObject(category, seed);
  const scene = new ObjectScene(obj);
  const rng = new Rng(seed ^ 0x2f6b1c3d);
  const j = rng.int(0, obj.joints.length - 1);
  const joint = obj.joints[j]!;
  const steps = 6;
  const a = rng.int(0, steps - 1);
  let b = rng.int(0, steps - 2);
  if (b >= a) b++;
  const others = obj.joints.map((o) => (rng.bool(0.5) ? o.lower : rng.uniform(o.lower, o.upper)));
  const at = (k: number): Float64Array => {
    const q = Float64Array.from(others);
    q[j] = joint.lower + ((joint.upper - joint.lower) * k) / (steps - 1);
    return q;
  };
  const qA = at(a), qB = at(b);
  const n = options.points ?? 10000;
  const noise = options.noise ?? 0.005;
  const outlierFraction = options.outliers ?? 0.1;
  const cams = options.singleView ? rigCameras({ views: 1, size: options.renderSize ?? 256 }) : [];

  const stateCloud = (q: Float64Array, stream: number): { points: Float32Array; moving: Uint8Array } => {
    const r = rng.fork(stream);
    const surf = scene.samplePoints(n, r);
    let pts = scene.posePoints(surf, q);
    let links = surf.links;
    if (options.singleView) {
      const cam = cams[0]!;
      const render = renderScene(scene.renderItems(q), cam);
      const rig = scene.toRig(pts);
      const lab = Uint8Array.from(links, (l) => ObjectScene.labelOf(l));
      const { visible } = visiblePoints(cam, rig, scene.poseNormals(surf, q), lab, render);
      const keep: number[] = [];
      for (let i = 0; i < visible.length; i++) if (visible[i]) keep.push(i);
      pts = Float32Array.from(keep.flatMap((i) => [pts[3 * i]!, pts[3 * i + 1]!, pts[3 * i + 2]!]));
      links = Uint8Array.from(keep, (i) => links[i]!);
    }
    const m = pts.length / 3;
    const nOut = Math.round((outlierFraction * m) / (1 - outlierFraction));
    const out = new Float32Array((m + nOut) * 3);
    const moving = new Uint8Array(m + nOut);
    for (let i = 0; i < m; i++) {
      for (let k = 0; k < 3; k++) out[3 * i + k] = pts[3 * i + k]! + noise * r.normal();
      moving[i] = links[i] === joint.child ? 1 : 0;
    }
    // Outliers uniform in the bounding box of the state's points, grown by 10%.
    const lo: Vec3 = [Infinity, Infinity, Infinity], hi: Vec3 = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < m; i++) for (let k = 0; k < 3; k++) {
      lo[k] = Math.min(lo[k]!, pts[3 * i + k]!);
      hi[k] = Math.max(hi[k]!, pts[3 * i + k]!);
    }
    for (let i = m; i < m + nOut; i++) for (let k = 0; k < 3; k++) {
      const pad = 0.1 * (hi[k]! - lo[k]!);
      out[3 * i + k] = r.uniform(lo[k]! - pad, hi[k]! + pad);
    }
    // Shuffle so the outliers are not a recognisable block at the end.
    const perm = r.shuffle(Array.from({ length: m + nOut }, (_, i) => i));
    const shuffled = new Float32Array(out.length);
    const movingShuffled = new Uint8Array(moving.length);
    perm.forEach((src, dst) => {
      shuffled.set(out.subarray(3 * src, 3 * src + 3), 3 * dst);
      movingShuffled[dst] = moving[src]!;
    });
    return { points: shuffled, moving: movingShuffled };
  };

  const A = stateCloud(qA, 1);
  const B = stateCloud(qB, 2);
  // Ground truth in the base frame: the joint frame is the parent's pose times the origin offset.
  const parentPose = linkTransforms(obj, qA)[joint.parent]!;
  const truth: GroundTruthJoint = {
    type: joint.type,
    axis: vec3.normalize(transformDirection(parentPose, joint.axis)),
    origin: transformPoint(parentPose, joint.origin),
    motion: qB[j]! - qA[j]!,
    joint: j,
    child: joint.child,
  };
  const ext = 1 / scene.normalisation.scale;
  return { id: `${category}_${seed}`, category, initial: A.points, dragged: B.points, initialMoving: A.moving, truth, qInitial: qA, qDragged: qB, scene, size: ext };
}

export interface JointErrors {
  typeCorrect: boolean;
  angleDeg: number;
  /** Revolute only (NaN otherwise): distance between the axis lines (Plücker), metres. */
  lineDistance: number;
  /**
   * Revolute only: distance from the true hinge point (on the part) to the estimated axis line.
   * Stricter than the line distance for nearly parallel lines, whose closest approach can lie
   * far outside the object.
   */
  pivotDistance: number;
  /** |motion error| / |true motion| (sign taken relative to the axes' agreement). */
  motionRelative: number;
}

export function jointErrors(est: Pick<JointEstimate, 'type' | 'axis' | 'origin' | 'motion'>, truth: GroundTruthJoint): JointErrors {
  const angleDeg = axisAngleErrorDeg(est.axis, truth.axis);
  const sameSense = vec3.dot(est.axis, truth.axis) >= 0 ? 1 : -1;
  const motion = sameSense * est.motion;
  return {
    typeCorrect: est.type === truth.type,
    angleDeg,
    lineDistance: truth.type === 'revolute' && est.type === 'revolute' ? lineDistance(est.origin, est.axis, truth.origin, truth.axis) : NaN,
    pivotDistance: truth.type === 'revolute' && est.type === 'revolute' ? pointLineDistance(truth.origin, est.origin, est.axis) : NaN,
    motionRelative: Math.abs(motion - truth.motion) / Math.abs(truth.motion),
  };
}

function pointLineDistance(p: Vec3, o: Vec3, d: Vec3): number {
  const u = vec3.normalize(d);
  const w = vec3.sub(p, o);
  return vec3.length(vec3.sub(w, vec3.scale(u, vec3.dot(w, u))));
}
