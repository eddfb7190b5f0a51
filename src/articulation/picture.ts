/**
 * articulation.png: the initial and the dragged state side by side as point splats from one
 * 3/4 view (z up), the moving part in orange and the rest grey, the joint axis drawn in blue
 * (revolute: the hinge line; prismatic: an arrow along the slide, as long as the motion).
 */
import { lookAtOpencv, intrinsicsFromFovY, projectPoints, type Camera } from '../core/camera.js';
import type { RgbaImage } from '../core/image.js';
import type { Vec3 } from '../core/math.js';
import type { JointEstimate } from '../core/types.js';
import { createImage, drawArrow, drawLine, drawText, fillRect, type Rgb } from '../dataset/draw.js';

const GREY: Rgb = [150, 150, 155];
const ORANGE: Rgb = [235, 110, 30];
const BLUE: Rgb = [30, 90, 220];

export function articulationPicture(
  initial: Float32Array,
  initialMoving: Uint8Array,
  dragged: Float32Array,
  draggedMoving: Uint8Array,
  joint: Pick<JointEstimate, 'type' | 'axis' | 'origin' | 'motion'>,
  size = 384,
): RgbaImage {
  // Frame both states with one camera so they compare directly.
  const lo: Vec3 = [Infinity, Infinity, Infinity], hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const p of [initial, dragged]) for (let i = 0; i < p.length; i += 3) for (let k = 0; k < 3; k++) {
    lo[k] = Math.min(lo[k]!, p[i + k]!);
    hi[k] = Math.max(hi[k]!, p[i + k]!);
  }
  const c: Vec3 = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2];
  const r = Math.max(1e-6, Math.hypot(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) / 2);
  const eye: Vec3 = [c[0] + 2.2 * r * 0.8, c[1] + 2.2 * r * 0.45, c[2] + 2.2 * r * 0.55];
  const camera: Camera = { intrinsics: intrinsicsFromFovY(size, size, 50), camToWorld: lookAtOpencv(eye, c, [0, 0, 1]) };
  const img = createImage(2 * size, size + 16);
  const panel = (pts: Float32Array, moving: Uint8Array, x0: number, label: string): void => {
    const { pixels, depth } = projectPoints(camera, pts);
    const n = depth.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => depth[b]! - depth[a]!);
    for (const i of order) {
      if (!(depth[i]! > 0)) continue;
      const x = pixels[2 * i]!, y = pixels[2 * i + 1]!;
      if (x < 0 || y < 0 || x >= size || y >= size) continue;
      fillRect(img, Math.floor(x0 + x) - 1, Math.floor(y) - 1, 2, 2, moving[i] ? ORANGE : GREY);
    }
    drawAxis(img, camera, joint, x0, size, r);
    drawText(img, x0 + 6, size + 4, label, [40, 40, 40]);
  };
  panel(initial, initialMoving, 0, 'initial');
  panel(dragged, draggedMoving, size, `dragged: ${joint.type} ${joint.type === 'revolute' ? `${((joint.motion * 180) / Math.PI).toFixed(1)} deg` : `${joint.motion.toFixed(3)}`}`);
  drawLine(img, size, 0, size, size + 16, [200, 200, 200]);
  return img;
}

function drawAxis(img: RgbaImage, camera: Camera, j: Pick<JointEstimate, 'type' | 'axis' | 'origin' | 'motion'>, x0: number, size: number, r: number): void {
  const L = j.type === 'revolute' ? 0.8 * r : Math.abs(j.motion);
  const a: Vec3 = j.type === 'revolute' ? [j.origin[0] - L * j.axis[0], j.origin[1] - L * j.axis[1], j.origin[2] - L * j.axis[2]] : j.origin;
  const b: Vec3 = [j.origin[0] + L * j.axis[0] * Math.sign(j.motion || 1), j.origin[1] + L * j.axis[1] * Math.sign(j.motion || 1), j.origin[2] + L * j.axis[2] * Math.sign(j.motion || 1)];
  const { pixels, depth } = projectPoints(camera, Float32Array.of(...a, ...b));
  if (!(depth[0]! > 0 && depth[1]! > 0)) return;
  const clamp = (v: number) => Math.max(-size, Math.min(2 * size, v));
  const ax = clamp(pixels[0]!), ay = clamp(pixels[1]!), bx = clamp(pixels[2]!), by = clamp(pixels[3]!);
  // Endpoints are clamped to the panel so the axis never spills into the other state's panel.
  if (j.type === 'revolute') drawLine(img, x0 + Math.max(0, Math.min(size - 1, ax)), ay, x0 + Math.max(0, Math.min(size - 1, bx)), by, BLUE, 2);
  else drawArrow(img, x0 + Math.max(0, Math.min(size - 1, ax)), ay, x0 + Math.max(0, Math.min(size - 1, bx)), by, BLUE, 2);
}
