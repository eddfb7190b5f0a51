/**
 * The pictures a pipeline run writes for people: mask.png (where the drags were sampled) and
 * preview.png (both predicted states from a few views). `paintPng` is what the painter thread
 * (painter.ts) runs; the same functions serve callers that paint on their own thread.
 */
import type { Camera } from '../core/camera.js';
import { encodePngRgba, type RgbaImage } from '../core/image.js';
import { type Mat4, mat4Multiply } from '../core/math.js';
import type { Drag, GaussianSet } from '../core/types.js';
import type { Mask } from '../drag/segmenter.js';
import { decomposeSimilarity } from '../gaussians/ops.js';
import { renderGaussians, splatToRgba } from '../gaussians/render.js';

/** One picture to paint: its inputs, by kind. */
export type PictureJob =
  | { kind: 'mask'; image: RgbaImage; masks: Mask[]; drags: Drag[] }
  | { kind: 'preview'; camera: Camera; initial: GaussianSet; dragged: GaussianSet; worldFromRig: Mat4 };

/** The job's picture, PNG-encoded. */
export function paintPng(job: PictureJob): Uint8Array {
  switch (job.kind) {
    case 'mask':
      return encodePngRgba(maskPicture(job.image, job.masks, job.drags));
    case 'preview':
      return encodePngRgba(previewPicture(job.camera, job.initial, job.dragged, job.worldFromRig));
  }
}

/** The input image washed out except the segmenter's part regions, with the operator's drags drawn on it. */
export function maskPicture(image: RgbaImage, masks: Mask[], drags: Drag[]): RgbaImage {
  const { width: W, height: H } = image;
  const data = new Uint8Array(W * H * 4);
  // 2 inside a mask (where drags are sampled), 1 in an extent only (the joint step's other
  // candidate part region), 0 elsewhere.
  const region = new Uint8Array(W * H);
  for (const m of masks) {
    if (m.width !== W || m.height !== H) continue;
    for (let p = 0; p < W * H; p++) region[p] = Math.max(region[p]!, m.data[p] ? 2 : m.extent?.[p] ? 1 : 0);
  }
  const rgb = [0, 0, 0];
  for (let p = 0; p < W * H; p++) {
    const a = image.data[4 * p + 3]! / 255;
    // In a mask: the image; in an extent only: the image half washed out; elsewhere: washed-out grey.
    for (let c = 0; c < 3; c++) rgb[c] = image.data[4 * p + c]! * a + 255 * (1 - a);
    const wash = 0.35 * (0.3 * rgb[0]! + 0.59 * rgb[1]! + 0.11 * rgb[2]!) + 0.65 * 255;
    const r = region[p]!;
    for (let c = 0; c < 3; c++) data[4 * p + c] = Math.round(r === 2 ? rgb[c]! : r === 1 ? 0.5 * (rgb[c]! + wash) : wash);
    data[4 * p + 3] = 255;
  }
  const dot = (x: number, y: number, rgb: [number, number, number]): void => {
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const xx = Math.floor(x) + dx, yy = Math.floor(y) + dy;
      if (xx >= 0 && yy >= 0 && xx < W && yy < H) data.set([...rgb, 255], 4 * (yy * W + xx));
    }
  };
  for (const d of drags) {
    const steps = Math.ceil(Math.hypot(d.end[0] - d.start[0], d.end[1] - d.start[1]));
    for (let s = 0; s <= steps; s++) {
      const t = steps ? s / steps : 0;
      const x = Math.floor(d.start[0] + t * (d.end[0] - d.start[0])), y = Math.floor(d.start[1] + t * (d.end[1] - d.start[1]));
      if (x >= 0 && y >= 0 && x < W && y < H) data.set([0, 160, 255, 255], 4 * (y * W + x));
    }
    dot(d.start[0], d.start[1], [0, 200, 0]);
  }
  return { width: W, height: H, data };
}

/** Initial (top row) and dragged (bottom row) rendered from the input camera and two views turned ±45° about world z. */
export function previewPicture(cam0: Camera, initial: GaussianSet, dragged: GaussianSet, worldFromRig: Mat4): RgbaImage {
  const size = Math.min(256, cam0.intrinsics.width, cam0.intrinsics.height);
  const k = cam0.intrinsics;
  const intrinsics = { width: size, height: size, fx: (k.fx * size) / k.width, fy: (k.fy * size) / k.height, cx: (k.cx * size) / k.width, cy: (k.cy * size) / k.height };
  const views: Mat4[] = [];
  const { scale, rotation, translation } = decomposeSimilarity(worldFromRig);
  for (const angle of [0, Math.PI / 4, -Math.PI / 4]) {
    const c = Math.cos(angle), s = Math.sin(angle);
    const rz = Float64Array.from([c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    // A similarity times a rigid pose: rotate, scale only the camera centre.
    const pose = mat4Multiply(rotation, mat4Multiply(rz, cam0.camToWorld));
    for (let r = 0; r < 3; r++) pose[r * 4 + 3] = scale * pose[r * 4 + 3]! + translation[r]!;
    views.push(pose);
  }
  const W = size * views.length, H = size * 2;
  const data = new Uint8Array(W * H * 4);
  [initial, dragged].forEach((set, row) => {
    views.forEach((camToWorld, col) => {
      const img = splatToRgba(renderGaussians(set, { intrinsics, camToWorld }, { background: [1, 1, 1] }));
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const s = 4 * (y * size + x), o = 4 * ((row * size + y) * W + col * size + x);
          data[o] = img.data[s]!;
          data[o + 1] = img.data[s + 1]!;
          data[o + 2] = img.data[s + 2]!;
          data[o + 3] = 255;
        }
      }
    });
  });
  return { width: W, height: H, data };
}
