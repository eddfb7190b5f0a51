import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RgbaImage } from '../src/core/image.js';
import { psnr, rgbaToImageF32 } from '../src/gaussians/metrics.js';
import { renderGaussians } from '../src/gaussians/render.js';
import { decomposeSimilarity, transformGaussians } from '../src/gaussians/ops.js';
import { mat4FromQuaternion } from '../src/core/math.js';
import {
  PartRMModel,
  buildDragTensors,
  compositeOnBackground,
  gaussiansFromOutput,
  loadManifest,
  parseManifest,
  pluckerRays,
  resizeBilinear,
  resizeForModel,
  toDragSpace,
} from '../src/model/index.js';

const FIXTURE = 'test/fixtures/model-runtime/manifest.json';
const fixtureJson = (): Record<string, unknown> => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;

/** A synthetic test image: a coloured disc on a transparent background. */
function discImage(size: number): RgbaImage {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 4;
      const inside = (x + 0.5 - size / 2) ** 2 + (y + 0.5 - size / 2) ** 2 < (size * 0.35) ** 2;
      if (inside) {
        data[o] = Math.round((255 * x) / size);
        data[o + 1] = 60;
        data[o + 2] = Math.round((255 * y) / size);
        data[o + 3] = 255;
      }
    }
  }
  return { width: size, height: size, data };
}

describe('model manifest', () => {
  it('parses the fixture and resolves the model path beside it', () => {
    const m = loadManifest(FIXTURE);
    assert.equal(m.views, 1);
    assert.equal(m.gaussians, 256);
    assert.ok(m.modelPath.endsWith('test/fixtures/model-runtime/fixture.onnx'));
    assert.equal(m.camerasC2wOpengl.length, 1);
    assert.equal(m.worldCameraView0.intrinsics.width, 64);
  });

  const bad: Array<[string, (j: Record<string, unknown>) => void, RegExp]> = [
    ['wrong format', (j) => (j.format = 'lgm'), /format/],
    ['missing drags', (j) => delete j.drags, /drags/],
    ['camera count differs from views', (j) => (j.views = 2), /cameras_c2w_opengl: has 1 poses, expected one per view \(views = 2\)/],
    ['short matrix', (j) => (j.model_to_world = [1, 0, 0]), /model_to_world/],
    ['zero std', (j) => (j.normalization = { mean: [0, 0, 0], std: [0, 1, 1] }), /normalization\.std/],
    ['NaN as string', (j) => (j.fovy_deg = 'wide'), /fovy_deg/],
  ];
  for (const [name, mutate, re] of bad) {
    it(`rejects a manifest with ${name}`, () => {
      const j = fixtureJson();
      mutate(j);
      assert.throws(() => parseManifest(j, 'x/manifest.json'), (e: Error) => /^ModelManifest: x\/manifest\.json is not a valid/.test(e.message) && re.test(e.message));
    });
  }
  it('names unreadable and non-JSON manifests', () => {
    assert.throws(() => loadManifest('/nonexistent/manifest.json'), /ModelManifest: cannot read \/nonexistent\/manifest\.json/);
    const dir = mkdtempSync(join(tmpdir(), 'partrm-manifest-'));
    writeFileSync(join(dir, 'manifest.json'), '{ not json');
    assert.throws(() => loadManifest(join(dir, 'manifest.json')), /is not JSON/);
    rmSync(dir, { recursive: true });
  });
});

describe('model preprocessing', () => {
  it('resizes like F.interpolate(bilinear, align_corners=False)', () => {
    const src = Float32Array.from({ length: 15 }, (_, i) => i ** 1.5);
    // Reference values from PyTorch for a 5x3 -> 4x2 and 5x3 -> 9x7 resize.
    const down = resizeBilinear(src, 5, 3, 1, 4, 2);
    const wantDown = [2.998729, 5.296916, 8.502999, 12.350496, 27.077694, 32.825359, 38.934479, 45.384098];
    wantDown.forEach((v, i) => assert.ok(Math.abs(down[i]! - v) < 1e-4, `down[${i}] ${down[i]} vs ${v}`));
    const up = resizeBilinear(src, 5, 3, 1, 9, 7);
    const wantUp = [0.0, 0.333333, 0.888889, 1.812634, 2.828427, 4.14383, 5.507691, 7.065385, 8.0, 1.597191, 2.050363, 2.805649];
    wantUp.forEach((v, i) => assert.ok(Math.abs(up[i]! - v) < 1e-4, `up[${i}] ${up[i]} vs ${v}`));
    assert.deepEqual(resizeBilinear(src, 5, 3, 1, 5, 3), src);
    assert.throws(() => resizeBilinear(src, 4, 3, 1, 2, 2), /resize input 4x3x1 needs 12 values, got 15/);
  });

  it('downsamples integer factors by box averaging (== bilinear for factor 2), others bilinearly', () => {
    const src = Float32Array.from({ length: 8 * 4 }, (_, i) => (i * 7) % 11);
    assert.deepEqual(resizeForModel(src, 8, 4, 1, 4, 2), resizeBilinear(src, 8, 4, 1, 4, 2));
    const box = resizeForModel(src, 8, 4, 1, 2, 1);
    const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(box[0]! - mean([0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27].map((i) => src[i]!))) < 1e-6);
    assert.deepEqual(resizeForModel(src, 8, 4, 1, 3, 2), resizeBilinear(src, 8, 4, 1, 3, 2));
  });

  it('computes Plücker rays like LGM get_rays (OpenGL)', () => {
    const a = 0.7;
    const pose = Float64Array.from([Math.cos(a), 0, Math.sin(a), 1, 0, 1, 0, 0.5, -Math.sin(a), 0, Math.cos(a), 2, 0, 0, 0, 1]);
    const got = pluckerRays(pose, 4, 3, 49.1);
    // Reference from LGM's get_rays (float64) for a 4x3 image: [6, H, W] = (cross(o, d), d).
    const want = [-0.740132, -0.892129, -0.984984, -0.998084, -0.214018, -0.329578, -0.426549, -0.481682, 0.327629, 0.260954, 0.1681, 0.069677, -1.329431, -0.80899, -0.182317, 0.411475, -1.379488, -0.844855, -0.1904, 0.426969, -1.329431, -0.80899, -0.182317, 0.411475, 0.702424, 0.648312, 0.538071, 0.396173, 0.451881, 0.376003, 0.260875, 0.134099, 0.168543, 0.07177, -0.038471, -0.137707, -0.870967, -0.720082, -0.499601, -0.258466, -0.903762, -0.752006, -0.521749, -0.268198, -0.870967, -0.720082, -0.499601, -0.258466, 0.26694, 0.288271, 0.288271, 0.26694, 0.0, 0.0, 0.0, 0.0, -0.26694, -0.288271, -0.288271, -0.26694, -0.412503, -0.631175, -0.816884, -0.928406, -0.428036, -0.659157, -0.853099, -0.963364, -0.412503, -0.631175, -0.816884, -0.928406];
    assert.equal(got.length, want.length);
    want.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) < 1e-5, `ray[${i}] ${got[i]} vs ${v}`));
  });

  it('composites straight alpha on the background', () => {
    const img: RgbaImage = { width: 2, height: 1, data: Uint8Array.from([255, 0, 0, 255, 0, 0, 255, 0]) };
    assert.deepEqual(Array.from(compositeOnBackground(img, [1, 1, 1])), [1, 0, 0, 1, 1, 1]);
  });

  it('maps drags into drag space, repeats them to N, copies views and clamps', () => {
    assert.deepEqual(toDragSpace([100, 50], 200, 100, 64), [32, 32]);
    const t = buildDragTensors([{ start: [1, 2], end: [70, -3] }, { start: [5, 6], end: [7, 8] }], 2, 3, 64);
    assert.deepEqual(Array.from(t.start), [1, 2, 5, 6, 1, 2, 1, 2, 5, 6, 1, 2]);
    assert.deepEqual(Array.from(t.end), [63, 0, 7, 8, 63, 0, 63, 0, 7, 8, 63, 0]);
    assert.throws(() => buildDragTensors([], 1, 3, 64), /at least one drag/);
    assert.throws(() => buildDragTensors(Array(4).fill({ start: [0, 0], end: [0, 0] }), 1, 3, 64), /takes 3 drags, got 4/);
  });
});

describe('model postprocessing', () => {
  it('reads [B, G, 14] and applies a similarity transform to every parameter', () => {
    const raw = Float32Array.from([0.1, 0.2, 0.3, 0.5, 0.01, 0.02, 0.03, 2, 0, 0, 0, 0.1, 0.2, 0.3]);
    const set = gaussiansFromOutput(raw, 1, 1);
    assert.deepEqual(Array.from(set.rotations), [1, 0, 0, 0]);
    const m = mat4FromQuaternion([Math.cos(0.4), 0, 0, Math.sin(0.4)], [1, 2, 3]);
    for (let i = 0; i < 12; i++) m[i] = m[i]! * ((i % 4) === 3 ? 1 : 2); // scale 2
    const t = transformGaussians(set, m);
    assert.ok(Math.abs(t.scales[0]! - 0.02) < 1e-7);
    const r = decomposeSimilarity(m);
    assert.ok(Math.abs(r.scale - 2) < 1e-12);
    // Rotation about z by 0.8 rad: the quaternion becomes (cos 0.4, 0, 0, sin 0.4).
    assert.ok(Math.abs(t.rotations[0]! - Math.cos(0.4)) < 1e-6 && Math.abs(t.rotations[3]! - Math.sin(0.4)) < 1e-6);
    assert.throws(() => gaussiansFromOutput(raw, 1, 2), /expected \[1, 2, 14\] = 28/);
    const bad = raw.slice();
    bad[4] = Number.NaN;
    assert.throws(() => gaussiansFromOutput(bad, 1, 1), /non-finite value at \[0, 0, 4\]/);
    const shear = Float64Array.from([1, 0.5, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    assert.throws(() => transformGaussians(set, shear), /similarity/);
  });
});

describe('PartRMModel (analytic ONNX fixture, CPU)', () => {
  let model: PartRMModel;
  before(async () => {
    model = await PartRMModel.load(FIXTURE);
  });
  after(async () => {
    await model.dispose();
  });

  it('loads on CPU and says why CUDA was not used', () => {
    assert.equal(model.provider, 'cpu');
    const cuda = model.sessionInfo.fallbacks.find((f) => f.provider === 'cuda');
    assert.ok(cuda && cuda.error.length > 0);
  });

  it('predicts Gaussians that re-render the input image from the world camera of view 0', async () => {
    const image = discImage(48);
    const p = await model.predict({ image, drags: [{ start: [24, 24], end: [24, 24] }] });
    assert.equal(p.initial.count, 256);
    const cam = model.manifest.worldCameraView0;
    const r = renderGaussians(p.initial, cam, { background: [1, 1, 1] });
    // The reference: the input composited on white, resized to the render size.
    const ref = resizeBilinear(compositeOnBackground(image, [1, 1, 1]), 48, 48, 3, 64, 64);
    const score = psnr({ width: 64, height: 64, channels: 3, data: r.rgb }, { width: 64, height: 64, channels: 3, data: ref });
    assert.ok(score > 18, `PSNR ${score.toFixed(2)} dB`);
    // Zero drags: the dragged state equals the initial one.
    assert.deepEqual(p.dragged.positions, p.initial.positions);
  });

  it('moves the dragged state by the drag (image right = model +x)', async () => {
    const image = discImage(32);
    const p = await model.predict({ image, drags: [{ start: [10, 10], end: [18, 10] }] });
    // Fixture: shift = mean displacement / drag_space = (8 / 32 · 64) / 64 = 0.25 model units along +x.
    const i = 100;
    const dx = p.modelFrame.dragged.positions[3 * i]! - p.modelFrame.initial.positions[3 * i]!;
    const dy = p.modelFrame.dragged.positions[3 * i + 1]! - p.modelFrame.initial.positions[3 * i + 1]!;
    assert.ok(Math.abs(dx - 0.25) < 1e-5 && Math.abs(dy) < 1e-6, `shift ${dx}, ${dy}`);
    assert.deepEqual(p.dragSpaceDrags[0], { start: [20, 20], end: [36, 20] });
  });

  const badRequests: Array<[string, () => Parameters<PartRMModel['predict']>[0], RegExp]> = [
    ['no drags', () => ({ image: discImage(16), drags: [] }), /at least one drag/],
    ['a drag outside the image', () => ({ image: discImage(16), drags: [{ start: [17, 3], end: [3, 3] }] }), /drag 0 start \(17, 3\) lies outside the 16x16 image/],
    ['a NaN drag', () => ({ image: discImage(16), drags: [{ start: [1, Number.NaN], end: [3, 3] }] }), /drag 0 start must be two finite numbers/],
    ['a truncated image', () => ({ image: { width: 16, height: 16, data: new Uint8Array(10) }, drags: [{ start: [1, 1], end: [3, 3] }] }), /RGBA image with width \* height \* 4 bytes/],
    ['extra views for a one-view model', () => ({ image: discImage(16), drags: [{ start: [1, 1], end: [3, 3] }], extraViews: [discImage(16)] }), /takes one view, got 1 extra/],
  ];
  for (const [name, req, re] of badRequests) {
    it(`rejects ${name}`, async () => {
      await assert.rejects(model.predict(req()), re);
    });
  }

  it('serves concurrent predictions through its one worker', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await Promise.all([1, 2, 3, 4].map(() => model.predict({ image: discImage(256), drags: [{ start: [1, 1], end: [3, 3] }] })));
    clearInterval(timer);
    assert.ok(ticks >= 0);
  });
});

describe('PartRMModel: models that do not match their manifest', () => {
  const cases: Array<[string, (j: Record<string, unknown>) => void, RegExp]> = [
    ['another input size', (j) => (j.height = 32), /input 'images' of .*fixture\.onnx has shape \[batch, 1, 9, 16, 16\], the manifest declares \[B, 1, 9, 32, 16\]/],
    ['another drag count', (j) => (j.drags = 10), /input 'drags_start' .* declares \[B, 1, 10, 2\]/],
    ['a missing model file', (j) => (j.model = 'nope.onnx'), /model file .*nope\.onnx .* does not exist/],
  ];
  for (const [name, mutate, re] of cases) {
    it(`fails clearly for ${name}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'partrm-model-'));
      try {
        copyFileSync('test/fixtures/model-runtime/fixture.onnx', join(dir, 'fixture.onnx'));
        const j = fixtureJson();
        mutate(j);
        writeFileSync(join(dir, 'manifest.json'), JSON.stringify(j));
        await assert.rejects(PartRMModel.load(join(dir, 'manifest.json'), { inWorker: false }), re);
      } finally {
        rmSync(dir, { recursive: true });
      }
    });
  }

  it('fails clearly for a file that is not an ONNX model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'partrm-model-'));
    try {
      writeFileSync(join(dir, 'fixture.onnx'), 'not a model');
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(fixtureJson()));
      await assert.rejects(PartRMModel.load(join(dir, 'manifest.json')), /OnnxSession: could not load .*fixture\.onnx with any execution provider \(cuda: .*; cpu: /);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('fails clearly when the output count differs from the manifest (checked at run time)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'partrm-model-'));
    try {
      copyFileSync('test/fixtures/model-runtime/fixture.onnx', join(dir, 'fixture.onnx'));
      const j = fixtureJson();
      j.gaussians = 100;
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(j));
      const m = await PartRMModel.load(join(dir, 'manifest.json'), { inWorker: false });
      try {
        await assert.rejects(m.predict({ image: discImage(16), drags: [{ start: [1, 1], end: [3, 3] }] }), /output 'gaussians' has shape \[2, 256, 14\], the manifest declares \[2, 100, 14\]/);
      } finally {
        await m.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

void rgbaToImageF32;

describe('PartRMModel with more than one input view (training/ micro export, if present)', () => {
  const MICRO = 'test/fixtures/model/manifest.json';
  it('needs the extra views and then predicts', { skip: !existsSync(MICRO) && 'no test/fixtures/model' }, async () => {
    const model = await PartRMModel.load(MICRO, { inWorker: false });
    try {
      assert.ok(model.manifest.views > 1);
      const drags = [{ start: [10, 10] as [number, number], end: [14, 12] as [number, number] }];
      await assert.rejects(model.predict({ image: discImage(64), drags }), /takes \d+ views; pass the \d+ extra view image\(s\)/);
      const extraViews = Array.from({ length: model.manifest.views - 1 }, () => discImage(64));
      const p = await model.predict({ image: discImage(64), drags, extraViews });
      assert.equal(p.dragged.count, model.manifest.gaussians);
    } finally {
      await model.dispose();
    }
  });
});
