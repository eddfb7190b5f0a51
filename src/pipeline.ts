/**
 * The product pipeline: one camera image + operator drags -> Gaussians of the initial and the
 * dragged state -> articulation -> URDF. The ROS node, the web page and the CLI all drive it
 * through the `Pipeline` interface below.
 */
import type { RgbaImage } from './core/image.js';
import type { Articulation, Camera, Drag, GaussianSet } from './core/types.js';

export interface PipelineRequest {
  /** The camera image (RGBA; alpha < 255 is composited on the model's background). */
  image: RgbaImage;
  /** Operator drags in the image's pixels (x = column, y = row). At least one. */
  drags: Drag[];
  /** The camera that took `image` (OpenCV intrinsics + camToWorld). Default: the model's view-0 rig camera. */
  camera?: Camera;
  /** Where to write the outputs (PLYs, articulation.json, meshes, URDF, pictures); none when absent. */
  outDir?: string;
  /** Aborts between steps (the model forward itself is not interruptible). */
  signal?: AbortSignal;
}

export interface PipelineResult {
  /** The generated URDF text (mesh paths relative to `outDir`). */
  urdf: string;
  articulation: Articulation;
  /** Predicted Gaussians of the dragged state, world/rig frame. */
  dragged: GaussianSet;
  /** Predicted Gaussians of the initial state, world/rig frame. */
  initial: GaussianSet;
  /** Output name -> absolute path of each file written (empty without `outDir`). */
  files: Record<string, string>;
  /** Step name -> milliseconds. */
  timings: Record<string, number>;
}

export interface Pipeline {
  run(req: PipelineRequest): Promise<PipelineResult>;
  dispose(): Promise<void>;
}
