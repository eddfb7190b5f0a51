/**
 * CPU splat renderer for activated 3D Gaussians (no spherical harmonics). This is the one
 * definition of "a camera and a splat" that the PyTorch rasteriser in training/ mirrors; a parity
 * test compares the two on the same Gaussians and camera. Keep both in step.
 *
 * Specification (all arithmetic in float64):
 * - Camera: OpenCV pinhole intrinsics (fx, fy, cx, cy, width, height) + camToWorld 4x4 (OpenCV
 *   optical: x right, y down, z forward). Pixel (x, y) is sampled at its centre (x + 0.5, y + 0.5).
 * - Per Gaussian: camera-space mean t = W p + b (W, b: world->camera rotation and translation);
 *   skipped when t.z <= 0.01 (NEAR). Projected mean u = (fx t.x / t.z + cx, fy t.y / t.z + cy).
 * - Σ3D = R S Sᵀ Rᵀ, R from the quaternion (w, x, y, z) normalised, S = diag(scale).
 * - Σ2D = J W Σ3D Wᵀ Jᵀ + 0.3·I with the perspective Jacobian at t:
 *   J = [[fx/t.z, 0, -fx t.x / t.z²], [0, fy/t.z, -fy t.y / t.z²]] (EWA splatting).
 *   Gaussians whose Σ2D determinant is not positive are skipped.
 * - Colour = rgb (already activated, [0, 1]).
 * - Order: camera z ascending (front to back); ties keep the input order.
 * - Per pixel, for each Gaussian in that order: d = pixel centre - u,
 *   α = min(0.99, opacity · exp(-½ dᵀ Σ2D⁻¹ d)); skip when α < 1/255; C += c α T; T *= (1 - α);
 *   once T < 1e-4 the pixel takes no further Gaussians (the Gaussian that crossed it is included).
 * - alpha = 1 - T_final, output rgb = C + T_final · background.
 *
 * Speed: each Gaussian only visits the bounding box of the ellipse where its α can reach 1/255,
 * dᵀ Σ2D⁻¹ d <= 2 ln(255 · min(opacity, 0.99)) (at most ~3.3σ): every pixel it skips would have been
 * skipped by the α < 1/255 rule anyway, so the result equals a dense evaluation.
 */
import type { Camera } from '../core/camera.js';
import type { RgbaImage } from '../core/image.js';
import { mat4InvertRigid } from '../core/math.js';
import type { GaussianSet } from '../core/types.js';

export const SPLAT_NEAR = 0.01;
export const SPLAT_DILATION = 0.3;
export const SPLAT_MAX_ALPHA = 0.99;
export const SPLAT_MIN_ALPHA = 1 / 255;
export const SPLAT_T_STOP = 1e-4;

export interface SplatRenderOptions {
  /** Output size; default: the camera intrinsics' width and height. */
  width?: number;
  height?: number;
  /** Background rgb in [0, 1]; default white. */
  background?: readonly [number, number, number];
}

export interface SplatRender {
  width: number;
  height: number;
  /** Composited rgb (C + (1 - alpha) · background), packed, length 3·W·H, row-major. */
  rgb: Float32Array;
  /** Accumulated coverage 1 - T_final, length W·H. */
  alpha: Float32Array;
  /**
   * Expected camera-z depth Σ zᵢ αᵢ Tᵢ / alpha (the usual depth render of 3DGS), length W·H; NaN where
   * alpha < 1e-3.
   */
  depth: Float32Array;
  /** Gaussians that reached the rasterisation stage (in front of the camera, valid Σ2D). */
  visible: number;
}

function checkSet(set: GaussianSet): void {
  const n = set.count;
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`renderGaussians: count must be a non-negative integer, got ${n}`);
  const expect: Array<[string, number, number]> = [
    ['positions', set.positions.length, 3 * n],
    ['opacities', set.opacities.length, n],
    ['scales', set.scales.length, 3 * n],
    ['rotations', set.rotations.length, 4 * n],
    ['colors', set.colors.length, 3 * n],
  ];
  for (const [name, got, want] of expect) {
    if (got !== want) throw new Error(`renderGaussians: ${name} has ${got} values, expected ${want} for ${n} Gaussians`);
  }
}

/** Renders `set` from `camera` following the specification in this module's header. */
export function renderGaussians(set: GaussianSet, camera: Camera, options: SplatRenderOptions = {}): SplatRender {
  checkSet(set);
  const k = camera.intrinsics;
  const width = options.width ?? k.width;
  const height = options.height ?? k.height;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`renderGaussians: output size must be positive integers, got ${width}x${height}`);
  }
  const bg = options.background ?? [1, 1, 1];
  const { fx, fy, cx, cy } = k;
  const w2c = mat4InvertRigid(camera.camToWorld);
  const W00 = w2c[0]!, W01 = w2c[1]!, W02 = w2c[2]!, B0 = w2c[3]!;
  const W10 = w2c[4]!, W11 = w2c[5]!, W12 = w2c[6]!, B1 = w2c[7]!;
  const W20 = w2c[8]!, W21 = w2c[9]!, W22 = w2c[10]!, B2 = w2c[11]!;

  const n = set.count;
  const P = set.positions, S = set.scales, Q = set.rotations, O = set.opacities;
  // Per visible Gaussian: mean (u, v), inverse conic (a, b, c), opacity, bbox, depth.
  const depth = new Float64Array(n);
  const mu = new Float64Array(2 * n);
  const conic = new Float64Array(3 * n);
  const bbox = new Int32Array(4 * n);
  const index: number[] = [];

  for (let i = 0; i < n; i++) {
    const px = P[3 * i]!, py = P[3 * i + 1]!, pz = P[3 * i + 2]!;
    const tx = W00 * px + W01 * py + W02 * pz + B0;
    const ty = W10 * px + W11 * py + W12 * pz + B1;
    const tz = W20 * px + W21 * py + W22 * pz + B2;
    if (!(tz > SPLAT_NEAR)) continue;
    const op = O[i]!;
    if (!(op >= SPLAT_MIN_ALPHA)) continue; // can never reach α >= 1/255 (also rejects NaN)

    // Rotation from the normalised quaternion (w, x, y, z).
    let qw = Q[4 * i]!, qx = Q[4 * i + 1]!, qy = Q[4 * i + 2]!, qz = Q[4 * i + 3]!;
    const qn = Math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz);
    if (!(qn > 0)) continue;
    qw /= qn; qx /= qn; qy /= qn; qz /= qn;
    const r00 = 1 - 2 * (qy * qy + qz * qz), r01 = 2 * (qx * qy - qw * qz), r02 = 2 * (qx * qz + qw * qy);
    const r10 = 2 * (qx * qy + qw * qz), r11 = 1 - 2 * (qx * qx + qz * qz), r12 = 2 * (qy * qz - qw * qx);
    const r20 = 2 * (qx * qz - qw * qy), r21 = 2 * (qy * qz + qw * qx), r22 = 1 - 2 * (qx * qx + qy * qy);
    const s0 = S[3 * i]!, s1 = S[3 * i + 1]!, s2 = S[3 * i + 2]!;
    // M = R S; Σ3D = M Mᵀ.
    const m00 = r00 * s0, m01 = r01 * s1, m02 = r02 * s2;
    const m10 = r10 * s0, m11 = r11 * s1, m12 = r12 * s2;
    const m20 = r20 * s0, m21 = r21 * s1, m22 = r22 * s2;
    // T = J W (2x3), then Σ2D = (T M)(T M)ᵀ.
    const iz = 1 / tz;
    const iz2 = iz * iz;
    const j00 = fx * iz, j02 = -fx * tx * iz2;
    const j11 = fy * iz, j12 = -fy * ty * iz2;
    const t00 = j00 * W00 + j02 * W20, t01 = j00 * W01 + j02 * W21, t02 = j00 * W02 + j02 * W22;
    const t10 = j11 * W10 + j12 * W20, t11 = j11 * W11 + j12 * W21, t12 = j11 * W12 + j12 * W22;
    const a0 = t00 * m00 + t01 * m10 + t02 * m20;
    const a1 = t00 * m01 + t01 * m11 + t02 * m21;
    const a2 = t00 * m02 + t01 * m12 + t02 * m22;
    const b0 = t10 * m00 + t11 * m10 + t12 * m20;
    const b1 = t10 * m01 + t11 * m11 + t12 * m21;
    const b2 = t10 * m02 + t11 * m12 + t12 * m22;
    const sxx = a0 * a0 + a1 * a1 + a2 * a2 + SPLAT_DILATION;
    const sxy = a0 * b0 + a1 * b1 + a2 * b2;
    const syy = b0 * b0 + b1 * b1 + b2 * b2 + SPLAT_DILATION;
    const det = sxx * syy - sxy * sxy;
    if (!(det > 0) || !Number.isFinite(det)) continue;
    const u = fx * tx * iz + cx;
    const v = fy * ty * iz + cy;
    // Support: q = dᵀ Σ⁻¹ d <= qMax, where opacity' · exp(-q/2) can still reach 1/255.
    const qMax = 2 * Math.log(Math.min(op, SPLAT_MAX_ALPHA) * 255);
    const hx = Math.sqrt(qMax * sxx);
    const hy = Math.sqrt(qMax * syy);
    // Pixel centres x + 0.5 within [u - hx, u + hx].
    const x0 = Math.max(0, Math.ceil(u - hx - 0.5));
    const x1 = Math.min(width - 1, Math.floor(u + hx - 0.5));
    const y0 = Math.max(0, Math.ceil(v - hy - 0.5));
    const y1 = Math.min(height - 1, Math.floor(v + hy - 0.5));
    if (x0 > x1 || y0 > y1) continue;
    depth[i] = tz;
    mu[2 * i] = u;
    mu[2 * i + 1] = v;
    conic[3 * i] = syy / det;
    conic[3 * i + 1] = -sxy / det;
    conic[3 * i + 2] = sxx / det;
    bbox[4 * i] = x0;
    bbox[4 * i + 1] = x1;
    bbox[4 * i + 2] = y0;
    bbox[4 * i + 3] = y1;
    index.push(i);
  }
  index.sort((a, b) => depth[a]! - depth[b]! || a - b);

  const npx = width * height;
  const T = new Float64Array(npx).fill(1);
  const C = new Float64Array(3 * npx);
  const Z = new Float64Array(npx);
  const done = new Uint8Array(npx);
  const col = set.colors;
  for (const i of index) {
    const u = mu[2 * i]!, v = mu[2 * i + 1]!;
    const ca = conic[3 * i]!, cb = conic[3 * i + 1]!, cc = conic[3 * i + 2]!;
    const op = O[i]!;
    const z = depth[i]!;
    const cr = col[3 * i]!, cg = col[3 * i + 1]!, cbl = col[3 * i + 2]!;
    const x0 = bbox[4 * i]!, x1 = bbox[4 * i + 1]!, y0 = bbox[4 * i + 2]!, y1 = bbox[4 * i + 3]!;
    // Beyond qCut, op · exp(-q/2) < 1/255: the pixel would be skipped after its exp anyway (the
    // bbox is a rectangle around the ellipse; the margin keeps the skip exact under rounding).
    const qCut = 2 * Math.log(op * 255) + 1e-6;
    for (let y = y0; y <= y1; y++) {
      const dy = y + 0.5 - v;
      const row = y * width;
      for (let x = x0; x <= x1; x++) {
        const p = row + x;
        if (done[p]) continue;
        const dx = x + 0.5 - u;
        const q = ca * dx * dx + 2 * cb * dx * dy + cc * dy * dy;
        if (q > qCut) continue;
        let a = op * Math.exp(-0.5 * q);
        if (a < SPLAT_MIN_ALPHA) continue;
        if (a > SPLAT_MAX_ALPHA) a = SPLAT_MAX_ALPHA;
        const t = T[p]!;
        const w = a * t;
        C[3 * p] = C[3 * p]! + cr * w;
        C[3 * p + 1] = C[3 * p + 1]! + cg * w;
        C[3 * p + 2] = C[3 * p + 2]! + cbl * w;
        Z[p] = Z[p]! + z * w;
        const tn = t * (1 - a);
        T[p] = tn;
        if (tn < SPLAT_T_STOP) done[p] = 1;
      }
    }
  }

  const rgb = new Float32Array(3 * npx);
  const alpha = new Float32Array(npx);
  const zOut = new Float32Array(npx);
  for (let p = 0; p < npx; p++) {
    const t = T[p]!;
    alpha[p] = 1 - t;
    zOut[p] = 1 - t >= 1e-3 ? Z[p]! / (1 - t) : Number.NaN;
    rgb[3 * p] = C[3 * p]! + t * bg[0];
    rgb[3 * p + 1] = C[3 * p + 1]! + t * bg[1];
    rgb[3 * p + 2] = C[3 * p + 2]! + t * bg[2];
  }
  return { width, height, rgb, alpha, depth: zOut, visible: index.length };
}

/** 8-bit RGBA picture of a render: composited rgb, alpha = coverage. */
export function splatToRgba(render: SplatRender): RgbaImage {
  const n = render.width * render.height;
  const data = new Uint8Array(4 * n);
  const q = (v: number): number => Math.max(0, Math.min(255, Math.round(v * 255)));
  for (let p = 0; p < n; p++) {
    data[4 * p] = q(render.rgb[3 * p]!);
    data[4 * p + 1] = q(render.rgb[3 * p + 1]!);
    data[4 * p + 2] = q(render.rgb[3 * p + 2]!);
    data[4 * p + 3] = q(render.alpha[p]!);
  }
  return { width: render.width, height: render.height, data };
}
