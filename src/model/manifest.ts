/**
 * `manifest.json` beside a PartRM-compatible ONNX model: everything the runtime needs to know about
 * the model (sizes, input cameras, normalisation, drag space, model frame -> world). Nothing about a
 * particular model is hard-coded elsewhere.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { Intrinsics } from '../core/camera.js';
import type { Mat4 } from '../core/math.js';

const finite = z.number().finite();
const positiveInt = z.number().int().positive();
const mat16 = z.array(finite).length(16);
const vec3 = z.tuple([finite, finite, finite]);

export const ManifestSchema = z
  .object({
    format: z.literal('partrm-onnx'),
    version: z.literal(1),
    model: z.string().min(1),
    config: z.string().min(1),
    views: positiveInt,
    height: positiveInt,
    width: positiveInt,
    drags: positiveInt,
    gaussians: positiveInt,
    fovy_deg: finite.gt(0).lt(180),
    camera_radius: finite.gt(0),
    cameras_c2w_opengl: z.array(mat16).min(1),
    normalization: z.object({ mean: vec3, std: z.tuple([finite.gt(0), finite.gt(0), finite.gt(0)]) }),
    background: vec3,
    drag_space: positiveInt,
    model_to_world: mat16,
    world_camera_view0_c2w_opencv: mat16,
    world_intrinsics_view0: z.object({
      fx: finite.gt(0),
      fy: finite.gt(0),
      cx: finite,
      cy: finite,
      width: positiveInt,
      height: positiveInt,
    }),
    provenance: z.record(z.string(), z.unknown()).optional().default({}),
  })
  .superRefine((m, ctx) => {
    if (m.cameras_c2w_opengl.length !== m.views) {
      ctx.addIssue({
        code: 'custom',
        path: ['cameras_c2w_opengl'],
        message: `has ${m.cameras_c2w_opengl.length} poses, expected one per view (views = ${m.views})`,
      });
    }
  });

export type ManifestJson = z.infer<typeof ManifestSchema>;

/** A validated manifest with the model path resolved and matrices as Float64Array. */
export interface ModelManifest {
  /** Absolute path of the manifest file ('' when parsed from memory). */
  path: string;
  /** Absolute path of the .onnx file. */
  modelPath: string;
  config: string;
  views: number;
  height: number;
  width: number;
  drags: number;
  gaussians: number;
  fovyDeg: number;
  cameraRadius: number;
  /** Input view poses in the model frame, OpenGL camera-to-world, row-major. */
  camerasC2wOpengl: Mat4[];
  mean: [number, number, number];
  std: [number, number, number];
  background: [number, number, number];
  dragSpace: number;
  /** Model-frame xyz -> world/rig frame (z up), a similarity transform. */
  modelToWorld: Mat4;
  /** The world camera of view 0 (OpenCV optical), used when the caller gives no camera. */
  worldCameraView0: { intrinsics: Intrinsics; camToWorld: Mat4 };
  provenance: Record<string, unknown>;
  raw: ManifestJson;
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Validates parsed JSON; `manifestPath` (absolute or relative) anchors the relative model path. */
export function parseManifest(json: unknown, manifestPath = ''): ModelManifest {
  const where = manifestPath || 'manifest';
  const r = ManifestSchema.safeParse(json);
  if (!r.success) throw new Error(`ModelManifest: ${where} is not a valid partrm-onnx v1 manifest (${formatIssues(r.error)})`);
  const m = r.data;
  const base = manifestPath ? dirname(resolve(manifestPath)) : process.cwd();
  const k = m.world_intrinsics_view0;
  return {
    path: manifestPath ? resolve(manifestPath) : '',
    modelPath: isAbsolute(m.model) ? m.model : resolve(base, m.model),
    config: m.config,
    views: m.views,
    height: m.height,
    width: m.width,
    drags: m.drags,
    gaussians: m.gaussians,
    fovyDeg: m.fovy_deg,
    cameraRadius: m.camera_radius,
    camerasC2wOpengl: m.cameras_c2w_opengl.map((a) => Float64Array.from(a)),
    mean: [...m.normalization.mean],
    std: [...m.normalization.std],
    background: [...m.background],
    dragSpace: m.drag_space,
    modelToWorld: Float64Array.from(m.model_to_world),
    worldCameraView0: {
      intrinsics: { fx: k.fx, fy: k.fy, cx: k.cx, cy: k.cy, width: k.width, height: k.height },
      camToWorld: Float64Array.from(m.world_camera_view0_c2w_opencv),
    },
    provenance: m.provenance,
    raw: m,
  };
}

/** Reads and validates `manifest.json`. */
export function loadManifest(manifestPath: string): ModelManifest {
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (err) {
    throw new Error(`ModelManifest: cannot read ${manifestPath} (${(err as Error).message})`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`ModelManifest: ${manifestPath} is not JSON (${(err as Error).message})`, { cause: err });
  }
  return parseManifest(json, manifestPath);
}
