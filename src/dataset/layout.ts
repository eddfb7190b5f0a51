/**
 * The on-disk layout of a generated dataset and the types of its JSON index. Paths in the index
 * are relative to the dataset root, with forward slashes.
 *
 *   DIR/index.json                         this index (written last: its presence marks a complete dataset)
 *   DIR/<object>/urdf/object.urdf          ground-truth URDF (meshes/ beside it, relative paths)
 *   DIR/<object>/urdf/meshes/<link>.obj    visual mesh of each link in the link frame (+ <link>.mtl)
 *   DIR/<object>/points/local.npy          float32 [P, 3] surface points in their link frames (metres)
 *   DIR/<object>/points/links.npy          uint8 [P] link index of each point (part label)
 *   DIR/<object>/states/<state>/points.npy float32 [P, 3] the same points at that state (metres, base frame);
 *                                          row i is the same surface point in every state
 *   DIR/<object>/states/<state>/rgba_VV.png  RGBA render of view VV, composited on white, alpha = coverage
 *   DIR/<object>/states/<state>/depth_VV.png uint16 optical-axis depth in rig units x depth.scale (0 = empty)
 *   DIR/<object>/states/<state>/mask_VV.png  uint8 part mask: link index + 1, 0 = background
 *   DIR/<object>/drags/<joint>.npy         float32 [S, S, K, 4] drags from state a to state b of that joint's
 *                                          S states: start (x, y) in state a, end (x, y) in state b, view 0 pixels
 *   DIR/<object>/drags/<joint>_points.npy  int32 [S, S, K] surface point index of each drag, -1 = padding
 */
import type { Vec3 } from '../core/math.js';
import type { Category, HingeSide, PartSemantic } from './articulated.js';
import type { JointType } from '../core/types.js';

export const DATASET_FORMAT = 'partrm-dataset';
export const DATASET_VERSION = 1;
/** Depth PNG value = depth in rig units x DEPTH_SCALE (uint16: up to 6.55 rig units). */
export const DEPTH_SCALE = 10000;

export type Split = 'train' | 'eval' | 'unseen';

export interface CameraEntry {
  view: number;
  intrinsics: { width: number; height: number; fx: number; fy: number; cx: number; cy: number };
  /** Camera-to-world in the rig frame, OpenCV optical convention, row-major rows. */
  camToWorld: number[][];
}

export interface JointEntry {
  name: string;
  type: JointType;
  parentLink: string;
  childLink: string;
  /** Index of the child link; its mask label is childLink index + 1. */
  child: number;
  origin: Vec3;
  axis: Vec3;
  lower: number;
  upper: number;
  semantic: PartSemantic;
  hinge: HingeSide;
  /** Grasp point on the handle, child link frame at rest = base frame offset by `origin`. */
  handle: Vec3;
}

export interface StateEntry {
  id: string;
  /** The joint that this state's series moves (index into `joints`). */
  joint: number;
  /** Step 0..S-1 between the joint's limits. */
  step: number;
  /** Values of all joints (metres or radians), in joint order. */
  q: number[];
  points: string;
  rgba: string[];
  depth: string[];
  mask: string[];
}

export interface DragEntry {
  joint: number;
  /** State ids in step order; drags[a][b] go from states[a] to states[b]. */
  states: string[];
  file: string;
  pointsFile: string;
  perPair: number;
  /** Valid drags per pair (the rest is padding). */
  counts: number[][];
}

export interface ObjectEntry {
  id: string;
  category: Category;
  seed: number;
  split: Split;
  dir: string;
  urdf: string;
  /** Bounding box of the closed object, metres. */
  sizeMetres: Vec3;
  /** p_rig = scale * (p_metres - center). */
  normalisation: { center: Vec3; scale: number };
  links: Array<{ name: string; label: number; mesh: string }>;
  joints: JointEntry[];
  points: { count: number; local: string; links: string };
  states: StateEntry[];
  drags: DragEntry[];
}

export interface DatasetIndex {
  format: typeof DATASET_FORMAT;
  version: typeof DATASET_VERSION;
  generator: {
    seed: number;
    objects: number;
    categories: Category[];
    size: number;
    views: number;
    statesPerPart: number;
    points: number;
    dragsPerPair: number;
  };
  rig: { views: number; size: number; radius: number; height: number; fovyDeg: number; convention: 'opencv'; frame: 'rig' };
  cameras: CameraEntry[];
  depth: { scale: number; unit: 'rig' };
  masks: { background: 0; label: 'link index + 1' };
  splits: Record<Split, string[]>;
  objects: ObjectEntry[];
}
