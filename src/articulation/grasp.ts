/**
 * GraspOnPart: the operator's grasp (the first drag's start) placed on the extracted part's
 * collision boxes, along the camera ray through the drag start.
 *
 * Why: the pipeline reads the grasp's depth from the render of the predicted Gaussians, an
 * alpha-blended depth. A coarse model's part is a thick, semi-transparent blob, so that depth
 * often falls between the sampled surfaces: 6-23 cm from the part's collision boxes on most doors
 * of bench/end-to-end, where a policy trained on the extracted URDF then closes its fingers on air
 * and never learns to open it. The pixel is what the operator chose; only the depth is uncertain,
 * so the point moves along the ray, never sideways beyond `lateral`.
 */
import type { Vec3 } from '../core/math.js';
import { type Box, boxesExtent } from './boxes.js';

export interface GraspOnPart {
  point: Vec3;
  /**
   * 'ray hits part': where the ray enters a box; 'ray passes part': the point of a box the ray
   * passes within `lateral` nearest the ray; 'drag start': no box surface within reach, the input
   * point unchanged.
   */
  method: 'ray hits part' | 'ray passes part' | 'drag start';
  /** Distance the point moved. */
  shift: number;
}

export interface GraspOnPartOptions {
  /**
   * Largest distance between the ray and the part's boxes for which the grasp still moves onto
   * them (default: 10% of the part's largest side): a part further off the ray is a different
   * region than the one the operator grasped.
   */
  lateral?: number;
  /** Longest move of the grasp (default: 10% of the part's largest side). */
  reach?: number;
}

/** Entry distance of the ray eye + t dir into the box (slab test); Infinity when it misses or starts inside. */
function rayEntry(eye: Vec3, dir: Vec3, box: Box): number {
  let t0 = -Infinity, t1 = Infinity;
  for (let k = 0; k < 3; k++) {
    const lo = box.center[k]! - box.size[k]! / 2, hi = box.center[k]! + box.size[k]! / 2;
    const d = dir[k]!, e = eye[k]!;
    if (Math.abs(d) < 1e-12) {
      if (e < lo || e > hi) return Infinity;
      continue;
    }
    let a = (lo - e) / d, b = (hi - e) / d;
    if (a > b) [a, b] = [b, a];
    t0 = Math.max(t0, a);
    t1 = Math.min(t1, b);
  }
  return t0 <= t1 && t0 > 0 ? t0 : Infinity;
}

function closestOnBox(p: Vec3, box: Box): Vec3 {
  return [0, 1, 2].map((k) => Math.min(box.center[k]! + box.size[k]! / 2, Math.max(box.center[k]! - box.size[k]! / 2, p[k]!))) as Vec3;
}

const dist = (a: Vec3, b: Vec3): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/**
 * Moves `start` (a 3D point on the ray from `eye`) along that ray onto the part's first surface
 * within `reach` of it: where the ray enters a box, or a box's point nearest the ray when the ray
 * passes it within `lateral`. With no surface within reach the start stays as it is: the part's
 * boxes further off are another region than the one the operator grasped.
 */
export function graspOnPart(eye: Vec3, start: Vec3, boxes: readonly Box[], options: GraspOnPartOptions = {}): GraspOnPart {
  if (![...eye, ...start].every(Number.isFinite)) throw new Error('GraspOnPart: eye and start must be finite 3D points');
  const range = dist(eye, start);
  if (!(range > 0)) throw new Error('GraspOnPart: the start point coincides with the eye; expected a point in front of the camera');
  const keep: GraspOnPart = { point: [...start], method: 'drag start', shift: 0 };
  if (boxes.length === 0) return keep;
  const dir: Vec3 = [(start[0] - eye[0]) / range, (start[1] - eye[1]) / range, (start[2] - eye[2]) / range];
  const at = (t: number): Vec3 => [eye[0] + dir[0] * t, eye[1] + dir[1] * t, eye[2] + dir[2] * t];
  const side = Math.max(...boxesExtent(boxes));
  const lateral = options.lateral ?? 0.1 * side;
  const reach = options.reach ?? 0.1 * side;
  // Of the surfaces within reach, the first along the ray: the gripper comes from the camera's
  // side, and a handle stands in front of the panel it is mounted on.
  let best: (GraspOnPart & { t: number }) | undefined;
  const offer = (t: number, point: Vec3, method: GraspOnPart['method']): void => {
    const shift = dist(point, start);
    if (shift <= reach && (!best || t < best.t)) best = { point, method, shift, t };
  };
  // The distance from a point on a line to a convex box is convex along the line: a golden-section
  // search per box finds the closest approach.
  const g = (Math.sqrt(5) - 1) / 2;
  for (const b of boxes) {
    const entry = rayEntry(eye, dir, b);
    if (entry <= 2 * range) {
      offer(entry, at(entry), 'ray hits part');
      continue;
    }
    const f = (t: number): number => dist(at(t), closestOnBox(at(t), b));
    let a = 0, c = 2 * range;
    let x1 = c - g * (c - a), x2 = a + g * (c - a);
    let f1 = f(x1), f2 = f(x2);
    for (let i = 0; i < 60 && c - a > 1e-6 * range; i++) {
      if (f1 <= f2) {
        c = x2;
        x2 = x1;
        f2 = f1;
        x1 = c - g * (c - a);
        f1 = f(x1);
      } else {
        a = x1;
        x1 = x2;
        f1 = f2;
        x2 = a + g * (c - a);
        f2 = f(x2);
      }
    }
    const t = (a + c) / 2;
    if (f(t) <= lateral) offer(t, closestOnBox(at(t), b), 'ray passes part');
  }
  return best ? { point: best.point, method: best.method, shift: best.shift } : keep;
}
