/**
 * CPU rasteriser for coloured, labelled triangle meshes: RGBA, optical-axis depth and label
 * images for dataset generation.
 *
 * - Sampling: a pixel (i, j) is covered when its CENTRE (i + 0.5, j + 0.5) lies inside the
 *   projected triangle (pixel convention of src/core/camera.ts). Vertices are snapped to 1/16 px
 *   and edge functions are evaluated exactly in integer arithmetic with the top-left fill rule, so
 *   triangles sharing an edge neither leave gaps nor both cover a pixel on it.
 * - Depth: camera z (distance along the optical axis), perspective-correct: 1/z is affine in screen
 *   space and is evaluated from each triangle's exact camera-space plane; a z-buffer keeps the nearest surface, ties go to the earlier item or
 *   triangle. Empty pixels hold +Infinity.
 * - Near plane: triangles with ANY vertex closer than `near` (camera z) are skipped, not clipped.
 *   Dataset cameras keep objects well in front of them, so this never matters there.
 * - Shading: flat per-triangle normals, two-sided Lambert, colour * (ambient + diffuse * |n.l|),
 *   clamped to [0, 1], no gamma.
 */
import type { Camera } from '../core/camera.js';
import { mat4InvertRigid, type Vec3 } from '../core/math.js';
import type { TriangleMesh } from '../core/mesh.js';

export interface RenderItem {
  /** World coordinates. */
  mesh: TriangleMesh;
  /** rgb in [0, 1] per triangle (3 per triangle). */
  triangleColors: Float32Array;
  /** Label per triangle, 1..255 (0 is the background). Overrides `label`. */
  triangleLabels?: Uint8Array;
  /** One label for the whole item, 1..255 (default 1). */
  label?: number;
  /**
   * Per-vertex coordinates in the part's own frame (same layout as mesh.positions) for the
   * procedural patterns, so a pattern moves with its part. Default: the world positions.
   */
  localPositions?: Float32Array;
  /** Per triangle: 0 plain, 1 wood stripes, 2 checker, 3 brushed metal (see `PATTERN`). */
  trianglePatterns?: Uint8Array;
}

export interface RenderOptions {
  /** Ambient term (default 0.35). */
  ambient?: number;
  /** Diffuse term (default 0.65). */
  diffuse?: number;
  /**
   * Direction from the surface toward the light in the OpenCV camera frame (x right, y down,
   * z forward); normalised here. Default `DEFAULT_LIGHT_DIR_CAMERA`: from the upper left, on the
   * camera's side. Shading is two-sided, so only the line matters, not its sign.
   */
  lightDirCamera?: Vec3;
  /** Background rgb in [0, 1] (default white). */
  background?: [number, number, number];
  /** Triangles with a vertex nearer than this camera z are skipped (default 1e-3). */
  near?: number;
}

export interface RenderOutput {
  width: number;
  height: number;
  /** Row-major rgba composited over the background; alpha 255 on covered pixels, 0 elsewhere. */
  rgba: Uint8Array;
  /** Optical-axis depth (camera z); +Infinity where empty. */
  depth: Float32Array;
  /** Item/triangle labels; 0 is the background. */
  labels: Uint8Array;
}

export const PATTERN = { plain: 0, wood: 1, checker: 2, brushed: 3 } as const;

/** Upper-left-front light: normalise([-0.4, -0.6, -1]) in OpenCV camera coordinates. */
export const DEFAULT_LIGHT_DIR_CAMERA: Vec3 = (() => {
  const l = Math.hypot(0.4, 0.6, 1);
  return [-0.4 / l, -0.6 / l, -1 / l];
})();

/** Sub-pixel precision of snapped vertex coordinates (1/16 px). */
const SUB = 16;
const HALF_SUB = SUB / 2;
const TWO_PI = 2 * Math.PI;

function fail(message: string): never {
  throw new Error(`Render: ${message}`);
}

function validateItem(item: RenderItem, index: number): void {
  const { positions, indices } = item.mesh;
  if (positions.length % 3 !== 0) fail(`item ${index}: positions length ${positions.length} is not a multiple of 3`);
  if (indices.length % 3 !== 0) fail(`item ${index}: indices length ${indices.length} is not a multiple of 3`);
  const nv = positions.length / 3;
  const nt = indices.length / 3;
  for (let i = 0; i < indices.length; i++) {
    if (indices[i]! >= nv) fail(`item ${index}: index ${indices[i]} out of range for ${nv} vertices`);
  }
  if (item.triangleColors.length !== nt * 3) {
    fail(`item ${index}: triangleColors needs ${nt * 3} values (3 per triangle), got ${item.triangleColors.length}`);
  }
  if (item.triangleLabels) {
    if (item.triangleLabels.length !== nt) fail(`item ${index}: triangleLabels needs ${nt} values, got ${item.triangleLabels.length}`);
    if (item.triangleLabels.includes(0)) fail(`item ${index}: triangleLabels contains 0, which is reserved for the background`);
  }
  if (item.label !== undefined && !(Number.isInteger(item.label) && item.label >= 1 && item.label <= 255)) {
    fail(`item ${index}: label must be an integer in 1..255, got ${item.label}`);
  }
  if (item.localPositions && item.localPositions.length !== positions.length) {
    fail(`item ${index}: localPositions length ${item.localPositions.length} differs from positions length ${positions.length}`);
  }
  if (item.trianglePatterns) {
    if (item.trianglePatterns.length !== nt) fail(`item ${index}: trianglePatterns needs ${nt} values, got ${item.trianglePatterns.length}`);
    for (let t = 0; t < nt; t++) {
      if (item.trianglePatterns[t]! > 3) fail(`item ${index}: unknown pattern ${item.trianglePatterns[t]} on triangle ${t}`);
    }
  }
}

/**
 * Pattern coordinates per vertex: (g, u, v) = the part's local coordinates divided by its largest
 * extent, with g along the longest axis (the "grain" of wood and brushed metal).
 */
function patternCoords(source: Float32Array): Float64Array {
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < source.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const v = source[i + k]!;
      if (v < min[k]!) min[k] = v;
      if (v > max[k]!) max[k] = v;
    }
  }
  const ext = [0, 1, 2].map((k) => max[k]! - min[k]!);
  let a = 0;
  if (ext[1]! > ext[a]!) a = 1;
  if (ext[2]! > ext[a]!) a = 2;
  const b = (a + 1) % 3;
  const c = (a + 2) % 3;
  const s = ext[a]! > 0 ? 1 / ext[a]! : 1;
  const out = new Float64Array(source.length);
  for (let i = 0; i < source.length; i += 3) {
    out[i] = (source[i + a]! - min[a]!) * s;
    out[i + 1] = (source[i + b]! - min[b]!) * s;
    out[i + 2] = (source[i + c]! - min[c]!) * s;
  }
  return out;
}

function hash2(a: number, b: number): number {
  let h = Math.imul(a, 0x27d4eb2d) ^ Math.imul(b ^ 0x5bd1e995, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Brightness factor in about [0.77, 1.08] at pattern coordinates (g, u, v). */
function patternFactor(kind: number, g: number, u: number, v: number): number {
  if (kind === 1) {
    // Wood: growth rings about an axis parallel to the grain, outside the part -> gently curved
    // bands along the grain, with a slow wobble and fine grain lines.
    const du = u + 0.9;
    const dv = v + 1.7;
    const r = Math.sqrt(du * du + dv * dv);
    const s = 0.5 + 0.5 * Math.sin(TWO_PI * (r * 9 + 0.06 * Math.sin(g * 11 + u * 3)));
    return 1.04 - 0.24 * s * s * s + 0.03 * Math.sin(TWO_PI * r * 47);
  }
  if (kind === 2) {
    // Checker: 6 cells across the largest extent; the quarter-cell offset keeps the faces of a
    // box-shaped part off the cell boundaries.
    const c = Math.floor(g * 6 + 0.25) + Math.floor(u * 6 + 0.25) + Math.floor(v * 6 + 0.25);
    return (c & 1) === 1 ? 0.84 : 1.04;
  }
  if (kind === 3) {
    // Brushed metal: random fine streaks running along the grain axis, plus a faint sheen.
    const h = hash2(Math.floor(u * 240), Math.floor(v * 240));
    return 0.9 + 0.14 * h + 0.04 * Math.sin(TWO_PI * (u * 3 + v * 2 + g * 0.5));
  }
  return 1;
}

function clampByte(x: number): number {
  return x <= 0 ? 0 : x >= 255 ? 255 : Math.round(x);
}

export function renderScene(items: readonly RenderItem[], camera: Camera, options: RenderOptions = {}): RenderOutput {
  const k = camera.intrinsics;
  const W = k.width;
  const H = k.height;
  if (!(Number.isInteger(W) && Number.isInteger(H) && W > 0 && H > 0)) fail(`image size must be positive integers, got ${W}x${H}`);
  if (!(W * SUB < 2 ** 24 && H * SUB < 2 ** 24)) fail(`image ${W}x${H} is too large`);
  const ambient = options.ambient ?? 0.35;
  const diffuse = options.diffuse ?? 0.65;
  const near = options.near ?? 1e-3;
  const bg = options.background ?? [1, 1, 1];
  if (!(near > 0)) fail(`near must be positive, got ${near}`);
  const ld = options.lightDirCamera ?? DEFAULT_LIGHT_DIR_CAMERA;
  const ll = Math.hypot(ld[0], ld[1], ld[2]);
  if (!(ll > 0)) fail('lightDirCamera must be a non-zero vector');
  const lx = ld[0] / ll, ly = ld[1] / ll, lz = ld[2] / ll;

  const n = W * H;
  const rgba = new Uint8Array(n * 4);
  const bgR = clampByte(bg[0] * 255), bgG = clampByte(bg[1] * 255), bgB = clampByte(bg[2] * 255);
  for (let p = 0; p < n * 4; p += 4) {
    rgba[p] = bgR;
    rgba[p + 1] = bgG;
    rgba[p + 2] = bgB;
  }
  const depth = new Float32Array(n).fill(Infinity);
  const labels = new Uint8Array(n);

  const m = mat4InvertRigid(camera.camToWorld);
  const m0 = m[0]!, m1 = m[1]!, m2 = m[2]!, m3 = m[3]!;
  const m4 = m[4]!, m5 = m[5]!, m6 = m[6]!, m7 = m[7]!;
  const m8 = m[8]!, m9 = m[9]!, m10 = m[10]!, m11 = m[11]!;
  const fx = k.fx * SUB, fy = k.fy * SUB, cx = k.cx * SUB, cy = k.cy * SUB;
  // Edge functions stay exact integers in float64 while snapped coordinates are below 2^25
  // (products < 2^52); triangles with vertices that far (2M px) outside the image are skipped.
  const limit = 2 ** 25;

  items.forEach((item, itemIndex) => {
    validateItem(item, itemIndex);
    const pos = item.mesh.positions;
    const idx = item.mesh.indices;
    const nv = pos.length / 3;
    const nt = idx.length / 3;
    const cam = new Float64Array(nv * 3);
    const sx = new Float64Array(nv);
    const sy = new Float64Array(nv);
    const iz = new Float64Array(nv);
    for (let v = 0; v < nv; v++) {
      const x = pos[v * 3]!, y = pos[v * 3 + 1]!, z = pos[v * 3 + 2]!;
      const X = m0 * x + m1 * y + m2 * z + m3;
      const Y = m4 * x + m5 * y + m6 * z + m7;
      const Z = m8 * x + m9 * y + m10 * z + m11;
      cam[v * 3] = X;
      cam[v * 3 + 1] = Y;
      cam[v * 3 + 2] = Z;
      if (Z >= near) {
        iz[v] = 1 / Z;
        sx[v] = Math.round((fx * X) / Z + cx);
        sy[v] = Math.round((fy * Y) / Z + cy);
      } else {
        iz[v] = NaN; // marks "behind the near plane"
      }
    }
    const patterns = item.trianglePatterns;
    const hasPattern = patterns !== undefined && patterns.some((p) => p !== 0);
    const pc = hasPattern ? patternCoords(item.localPositions ?? pos) : undefined;
    const colors = item.triangleColors;
    const tLabels = item.triangleLabels;
    const itemLabel = item.label ?? 1;

    for (let t = 0; t < nt; t++) {
      let a = idx[t * 3]!, b = idx[t * 3 + 1]!, c = idx[t * 3 + 2]!;
      let wa = iz[a]!, wb = iz[b]!, wc = iz[c]!;
      if (!(wa > 0 && wb > 0 && wc > 0)) continue; // a vertex is behind the near plane (or NaN)
      let Xa = sx[a]!, Ya = sy[a]!, Xb = sx[b]!, Yb = sy[b]!, Xc = sx[c]!, Yc = sy[c]!;
      const minXf = Math.min(Xa, Xb, Xc), maxXf = Math.max(Xa, Xb, Xc);
      const minYf = Math.min(Ya, Yb, Yc), maxYf = Math.max(Ya, Yb, Yc);
      if (!(minXf > -limit && maxXf < limit && minYf > -limit && maxYf < limit)) continue;
      // Pixels whose centre (SUB*i + SUB/2) lies in the bounding box, clamped to the image.
      const i0 = Math.max(0, Math.ceil((minXf - HALF_SUB) / SUB));
      const i1 = Math.min(W - 1, Math.floor((maxXf - HALF_SUB) / SUB));
      const j0 = Math.max(0, Math.ceil((minYf - HALF_SUB) / SUB));
      const j1 = Math.min(H - 1, Math.floor((maxYf - HALF_SUB) / SUB));
      if (i0 > i1 || j0 > j1) continue;
      let area = (Xb - Xa) * (Yc - Ya) - (Yb - Ya) * (Xc - Xa);
      if (area === 0) continue;
      if (area < 0) {
        // Two-sided: make every triangle positively oriented on screen.
        let tmp = b; b = c; c = tmp;
        tmp = wb; wb = wc; wc = tmp;
        tmp = Xb; Xb = Xc; Xc = tmp;
        tmp = Yb; Yb = Yc; Yc = tmp;
        area = -area;
      }

      // Flat shading from the camera-space normal.
      const ax = cam[a * 3]!, ay = cam[a * 3 + 1]!, az = cam[a * 3 + 2]!;
      const ux = cam[b * 3]! - ax, uy = cam[b * 3 + 1]! - ay, uz = cam[b * 3 + 2]! - az;
      const vx = cam[c * 3]! - ax, vy = cam[c * 3 + 1]! - ay, vz = cam[c * 3 + 2]! - az;
      const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
      const nl = Math.hypot(nx, ny, nz);
      const cosine = nl > 0 ? Math.abs(nx * lx + ny * ly + nz * lz) / nl : 0;
      const shade = 255 * (ambient + diffuse * cosine);
      const r = Math.min(255, Math.max(0, colors[t * 3]! * shade));
      const g = Math.min(255, Math.max(0, colors[t * 3 + 1]! * shade));
      const bl = Math.min(255, Math.max(0, colors[t * 3 + 2]! * shade));
      const R = clampByte(r), G = clampByte(g), B = clampByte(bl);
      const label = tLabels ? tLabels[t]! : itemLabel;
      const pattern = hasPattern ? patterns[t]! : 0;

      // Edge functions E(P) = A * (Px - Xp) + B * (Py - Yp) for edge p -> q (A = Yp - Yq,
      // B = Xq - Xp): positive inside; E_bc, E_ca, E_ab are area * barycentrics of a, b, c.
      const Aab = Ya - Yb, Bab = Xb - Xa;
      const Abc = Yb - Yc, Bbc = Xc - Xb;
      const Aca = Yc - Ya, Bca = Xa - Xc;
      // Top-left rule: a pixel centre exactly on an edge belongs to the triangle only if the edge
      // is a left edge (interior on its +x side) or a horizontal top edge (interior below).
      const biasAb = Aab > 0 || (Aab === 0 && Bab > 0) ? 0 : -1;
      const biasBc = Abc > 0 || (Abc === 0 && Bbc > 0) ? 0 : -1;
      const biasCa = Aca > 0 || (Aca === 0 && Bca > 0) ? 0 : -1;
      const stepAb = Aab * SUB, stepBc = Abc * SUB, stepCa = Aca * SUB;
      const inv = 1 / area;
      const Px0 = i0 * SUB + HALF_SUB;
      // 1/z from the triangle's camera-space plane n.X = d: with X = z * (rx, ry, 1) for the
      // pixel's ray, 1/z = (nx * rx + ny * ry + nz) / d, exact (unaffected by the vertex snapping)
      // and affine in the pixel position. Clamped to the vertices' depth range, since pixels at
      // the snapped border may lie a hair outside the true triangle.
      const planeD = nx * ax + ny * ay + nz * az;
      if (planeD === 0) continue; // plane through the camera centre: seen edge-on
      const wx = nx / (k.fx * planeD), wy = ny / (k.fy * planeD);
      const w0 = nz / planeD - wx * k.cx - wy * k.cy;
      const zMin = 1 / Math.max(wa, wb, wc), zMax = 1 / Math.min(wa, wb, wc);

      // Pattern coordinates divided by z, interpolated linearly like 1/z.
      let ga = 0, gb = 0, gc = 0, ua = 0, ub = 0, uc = 0, va = 0, vb = 0, vc = 0;
      if (pattern !== 0 && pc) {
        ga = pc[a * 3]! * wa; ua = pc[a * 3 + 1]! * wa; va = pc[a * 3 + 2]! * wa;
        gb = pc[b * 3]! * wb; ub = pc[b * 3 + 1]! * wb; vb = pc[b * 3 + 2]! * wb;
        gc = pc[c * 3]! * wc; uc = pc[c * 3 + 1]! * wc; vc = pc[c * 3 + 2]! * wc;
      }

      for (let j = j0; j <= j1; j++) {
        const Py = j * SUB + HALF_SUB;
        let eAb = Aab * (Px0 - Xa) + Bab * (Py - Ya);
        let eBc = Abc * (Px0 - Xb) + Bbc * (Py - Yb);
        let eCa = Aca * (Px0 - Xc) + Bca * (Py - Yc);
        let w = w0 + wx * (i0 + 0.5) + wy * (j + 0.5);
        let p = j * W + i0;
        let entered = false;
        for (let i = i0; i <= i1; i++, p++, eAb += stepAb, eBc += stepBc, eCa += stepCa, w += wx) {
          if (eAb + biasAb < 0 || eBc + biasBc < 0 || eCa + biasCa < 0) {
            if (entered) break; // convex: the row's span is over
            continue;
          }
          entered = true;
          let zf = 1 / w;
          if (!(zf >= zMin)) zf = zMin;
          else if (zf > zMax) zf = zMax;
          const z = Math.fround(zf);
          if (!(z < depth[p]!)) continue;
          depth[p] = z;
          labels[p] = label;
          const o = p * 4;
          if (pattern === 0) {
            rgba[o] = R;
            rgba[o + 1] = G;
            rgba[o + 2] = B;
          } else {
            const zz = 1 / (eBc * wa + eCa * wb + eAb * wc) * area;
            const f = patternFactor(
              pattern,
              (eBc * ga + eCa * gb + eAb * gc) * inv * zz,
              (eBc * ua + eCa * ub + eAb * uc) * inv * zz,
              (eBc * va + eCa * vb + eAb * vc) * inv * zz,
            );
            rgba[o] = clampByte(r * f);
            rgba[o + 1] = clampByte(g * f);
            rgba[o + 2] = clampByte(bl * f);
          }
          rgba[o + 3] = 255;
        }
      }
    }
  });

  return { width: W, height: H, rgba, depth, labels };
}
