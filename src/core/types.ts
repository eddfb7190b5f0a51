/**
 * Shared data types. Large per-point / per-Gaussian data is stored as structure-of-arrays
 * in typed arrays (xyz packed as [x0, y0, z0, x1, ...]).
 */
import type { Vec2, Vec3 } from './math.js';

export type { Camera, Intrinsics } from './camera.js';
export type { Mat4, Vec2, Vec3 } from './math.js';

/** An operator drag in image pixels (x = column, y = row, origin at the top-left corner). */
export interface Drag {
  start: Vec2;
  end: Vec2;
}

export interface PointCloud {
  /** Packed xyz, length 3N. */
  positions: Float32Array;
  /** Optional per-point part/link label, length N. */
  labels?: Int32Array;
  /** Optional packed rgb in [0, 1], length 3N. */
  colors?: Float32Array;
}

/** 3D Gaussians with activated parameters (the model contract's 14 values per Gaussian). */
export interface GaussianSet {
  count: number;
  /** xyz, length 3N. */
  positions: Float32Array;
  /** opacity in [0, 1], length N. */
  opacities: Float32Array;
  /** per-axis scale (standard deviation), length 3N. */
  scales: Float32Array;
  /** unit quaternion w, x, y, z, length 4N. */
  rotations: Float32Array;
  /** rgb in [0, 1], length 3N. */
  colors: Float32Array;
}

export type JointType = 'prismatic' | 'revolute';

/** One estimated or ground-truth joint, in the frame of the input states. */
export interface JointEstimate {
  type: JointType;
  /** Unit axis. */
  axis: Vec3;
  /** A point on the axis (any point for prismatic). */
  origin: Vec3;
  /** Signed displacement initial -> dragged along/about `axis`: metres or radians. */
  motion: number;
  limits: [number, number];
  /** In [0, 1]. */
  confidence: number;
  /** Indices of the moving points in the initial state's cloud. */
  movingIndices?: Uint32Array;
}

export interface Articulation {
  joints: JointEstimate[];
}

export function pointCount(cloud: PointCloud): number {
  return cloud.positions.length / 3;
}
