import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intrinsicsFromFovY, lookAtOpencv, type Camera } from '../src/core/camera.js';
import { mat4InvertRigid } from '../src/core/math.js';
import { Rng } from '../src/core/random.js';
import type { GaussianSet } from '../src/core/types.js';
import { emptyGaussians } from '../src/gaussians/ops.js';
import { psnr, ssim, type ImageF32 } from '../src/gaussians/metrics.js';
import { renderGaussians, splatToRgba } from '../src/gaussians/render.js';

function makeSet(items: Array<{ p: number[]; o: number; s: number[]; q?: number[]; c: number[] }>): GaussianSet {
  const n = items.length;
  const set = emptyGaussians(n);
  items.forEach((g, i) => {
    set.positions.set(g.p, 3 * i);
    set.opacities[i] = g.o;
    set.scales.set(g.s, 3 * i);
    set.rotations.set(g.q ?? [1, 0, 0, 0], 4 * i);
    set.colors.set(g.c, 3 * i);
  });
  return set;
}

function randomSet(rng: Rng, n: number): GaussianSet {
  const items = [];
  for (let i = 0; i < n; i++) {
    const q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
    items.push({
      p: [rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)],
      o: rng.uniform(0, 1),
      s: [rng.uniform(0.005, 0.08), rng.uniform(0.005, 0.08), rng.uniform(0.005, 0.08)],
      q,
      c: [rng.next(), rng.next(), rng.next()],
    });
  }
  return makeSet(items);
}

/** A dense, per-pixel reference written straight from the spec (no bounding boxes). */
function referenceRender(set: GaussianSet, cam: Camera, bg: number[]): { rgb: Float64Array; alpha: Float64Array } {
  const { width, height, fx, fy, cx, cy } = cam.intrinsics;
  const w2c = mat4InvertRigid(cam.camToWorld);
  const R = [0, 1, 2].map((r) => [0, 1, 2].map((c) => w2c[r * 4 + c]!));
  const list: Array<{ z: number; i: number; u: number; v: number; inv: number[]; o: number }> = [];
  for (let i = 0; i < set.count; i++) {
    const p = [0, 1, 2].map((k) => set.positions[3 * i + k]!);
    const t = [0, 1, 2].map((r) => R[r]![0]! * p[0]! + R[r]![1]! * p[1]! + R[r]![2]! * p[2]! + w2c[r * 4 + 3]!);
    if (t[2]! <= 0.01) continue;
    let [w, x, y, z] = [0, 1, 2, 3].map((k) => set.rotations[4 * i + k]!) as [number, number, number, number];
    const qn = Math.hypot(w, x, y, z);
    [w, x, y, z] = [w / qn, x / qn, y / qn, z / qn];
    const Rq = [
      [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
      [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
      [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ];
    const s = [0, 1, 2].map((k) => set.scales[3 * i + k]!);
    const S3 = [0, 1, 2].map((a) => [0, 1, 2].map((b) => [0, 1, 2].reduce((acc, k) => acc + Rq[a]![k]! * s[k]! ** 2 * Rq[b]![k]!, 0)));
    const J = [
      [fx / t[2]!, 0, (-fx * t[0]!) / t[2]! ** 2],
      [0, fy / t[2]!, (-fy * t[1]!) / t[2]! ** 2],
    ];
    const T = J.map((row) => [0, 1, 2].map((c) => row.reduce((acc, v, k) => acc + v * R[k]![c]!, 0)));
    const TS = T.map((row) => [0, 1, 2].map((c) => row.reduce((acc, v, k) => acc + v * S3[k]![c]!, 0)));
    const S2 = [0, 1].map((a) => [0, 1].map((b) => TS[a]!.reduce((acc, v, k) => acc + v * T[b]![k]!, 0) + (a === b ? 0.3 : 0)));
    const det = S2[0]![0]! * S2[1]![1]! - S2[0]![1]! ** 2;
    list.push({
      z: t[2]!,
      i,
      u: (fx * t[0]!) / t[2]! + cx,
      v: (fy * t[1]!) / t[2]! + cy,
      inv: [S2[1]![1]! / det, -S2[0]![1]! / det, S2[0]![0]! / det],
      o: set.opacities[i]!,
    });
  }
  list.sort((a, b) => a.z - b.z || a.i - b.i);
  const rgb = new Float64Array(3 * width * height);
  const alpha = new Float64Array(width * height);
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      let T = 1;
      const C = [0, 0, 0];
      for (const g of list) {
        const dx = px + 0.5 - g.u, dy = py + 0.5 - g.v;
        const a = Math.min(0.99, g.o * Math.exp(-0.5 * (g.inv[0]! * dx * dx + 2 * g.inv[1]! * dx * dy + g.inv[2]! * dy * dy)));
        if (a < 1 / 255) continue;
        for (let k = 0; k < 3; k++) C[k] = C[k]! + set.colors[3 * g.i + k]! * a * T;
        T *= 1 - a;
        if (T < 1e-4) break;
      }
      const p = py * width + px;
      alpha[p] = 1 - T;
      for (let k = 0; k < 3; k++) rgb[3 * p + k] = C[k]! + T * bg[k]!;
    }
  }
  return { rgb, alpha };
}

function camera(size: number, eye: [number, number, number] = [0, -2, 0.5]): Camera {
  return { intrinsics: intrinsicsFromFovY(size, size, 49.1), camToWorld: lookAtOpencv(eye, [0, 0, 0]) };
}

describe('renderGaussians', () => {
  it('matches a dense per-pixel reference of the specification', () => {
    const cases = [
      { seed: 1, n: 60, size: 32, eye: [0, -2, 0.5] as [number, number, number] },
      { seed: 2, n: 120, size: 40, eye: [1.5, 1.2, 1.0] as [number, number, number] },
      { seed: 3, n: 30, size: 24, eye: [0.3, 0.4, 1.6] as [number, number, number] },
    ];
    for (const c of cases) {
      const set = randomSet(new Rng(c.seed), c.n);
      const cam = camera(c.size, c.eye);
      const bg = [0.2, 0.5, 1];
      const got = renderGaussians(set, cam, { background: [0.2, 0.5, 1] });
      const want = referenceRender(set, cam, bg);
      let maxErr = 0;
      for (let i = 0; i < want.rgb.length; i++) maxErr = Math.max(maxErr, Math.abs(got.rgb[i]! - want.rgb[i]!));
      for (let i = 0; i < want.alpha.length; i++) maxErr = Math.max(maxErr, Math.abs(got.alpha[i]! - want.alpha[i]!));
      assert.ok(maxErr < 1e-5, `seed ${c.seed}: max difference ${maxErr}`);
    }
  });

  it('gives the analytic peak of one isotropic Gaussian on the optical axis', () => {
    const size = 33;
    const cam = camera(size, [0, -2, 0]);
    const s = 0.02;
    for (const o of [0.3, 0.8, 1.0]) {
      const r = renderGaussians(makeSet([{ p: [0, 0, 0], o, s: [s, s, s], c: [1, 0, 0] }]), cam, { background: [0, 0, 0] });
      // The mean projects to (16.5, 16.5): the centre of pixel (16, 16), so d = 0 there.
      const centre = 16 * size + 16;
      assert.ok(Math.abs(r.alpha[centre]! - Math.min(0.99, o)) < 1e-6);
      // One pixel to the right: α = o exp(-½ / σ²) with σ² = (f s / z)² + 0.3.
      const f = cam.intrinsics.fx;
      const var2 = ((f * s) / 2) ** 2 + 0.3;
      const expect = Math.min(0.99, o * Math.exp(-0.5 / var2));
      assert.ok(Math.abs(r.alpha[centre + 1]! - expect) < 1e-6, `o=${o}: ${r.alpha[centre + 1]} vs ${expect}`);
      assert.ok(Math.abs(r.rgb[3 * centre]! - Math.min(0.99, o)) < 1e-6);
    }
  });

  it('composites front to back: the nearer Gaussian wins, whatever the input order', () => {
    const cam = camera(16, [0, -2, 0]);
    const red = { p: [0, -0.5, 0], o: 0.99, s: [0.2, 0.2, 0.2], c: [1, 0, 0] };
    const blue = { p: [0, 0.5, 0], o: 0.99, s: [0.2, 0.2, 0.2], c: [0, 0, 1] };
    for (const items of [[red, blue], [blue, red]]) {
      const r = renderGaussians(makeSet(items), cam);
      const c = 8 * 16 + 8;
      assert.ok(r.rgb[3 * c]! > 0.9 && r.rgb[3 * c + 2]! < 0.1, `centre ${r.rgb.subarray(3 * c, 3 * c + 3).join(',')}`);
    }
  });

  it('skips Gaussians behind the near plane and renders the background there', () => {
    const cam = camera(8, [0, -2, 0]);
    const r = renderGaussians(makeSet([{ p: [0, -2.5, 0], o: 1, s: [1, 1, 1], c: [0, 0, 0] }]), cam, { background: [0.25, 0.5, 0.75] });
    assert.equal(r.visible, 0);
    assert.ok(r.alpha.every((a) => a === 0));
    assert.deepEqual([r.rgb[0], r.rgb[1], r.rgb[2]], [0.25, 0.5, 0.75]);
  });

  it('rejects inconsistent arrays with a clear error', () => {
    const bad = makeSet([{ p: [0, 0, 0], o: 1, s: [1, 1, 1], c: [0, 0, 0] }]);
    bad.rotations = new Float32Array(3);
    assert.throws(() => renderGaussians(bad, camera(8)), /renderGaussians: rotations has 3 values, expected 4/);
  });

  it('converts to an RGBA picture', () => {
    const r = renderGaussians(makeSet([{ p: [0, 0, 0], o: 1, s: [0.3, 0.3, 0.3], c: [0, 1, 0] }]), camera(8, [0, -2, 0]));
    const img = splatToRgba(r);
    const p = 4 * 8 + 4;
    const q = (v: number): number => Math.round(v * 255);
    assert.deepEqual(
      [img.data[4 * p], img.data[4 * p + 1], img.data[4 * p + 2], img.data[4 * p + 3]],
      [q(r.rgb[3 * p]!), 255, q(r.rgb[3 * p + 2]!), q(r.alpha[p]!)],
    );
    assert.ok(img.data[4 * p + 3]! > 200 && img.data[4 * p]! < 60);
  });
});

describe('metrics', () => {
  const img = (data: number[], channels: 1 | 3 = 1, width = data.length / channels): ImageF32 => ({ width, height: 1, channels, data: Float32Array.from(data) });
  it('PSNR: identical, known MSE, masked, empty mask', () => {
    assert.equal(psnr(img([0.5, 0.5]), img([0.5, 0.5])), Infinity);
    assert.ok(Math.abs(psnr(img([0, 0, 0, 0]), img([0.1, 0.1, 0.1, 0.1])) - 20) < 1e-5);
    assert.ok(Math.abs(psnr(img([0, 0]), img([0.1, 1]), [1, 0]) - 20) < 1e-5);
    assert.ok(Number.isNaN(psnr(img([0, 0]), img([0.1, 1]), [0, 0])));
    assert.throws(() => psnr(img([0, 0]), img([0, 0, 0])), /differ in shape/);
  });
  it('SSIM: 1 for identical images, lower for noise', () => {
    const rng = new Rng(5);
    const w = 24;
    const a: ImageF32 = { width: w, height: w, channels: 3, data: Float32Array.from({ length: 3 * w * w }, (_, i) => (i % 7) / 7) };
    const b: ImageF32 = { ...a, data: a.data.map((v) => Math.min(1, Math.max(0, v + 0.2 * rng.normal()))) };
    assert.ok(Math.abs(ssim(a, a) - 1) < 1e-9);
    const s = ssim(a, b);
    assert.ok(s < 0.9 && s > 0, `ssim ${s}`);
  });
});
