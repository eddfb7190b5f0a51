import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rigCameras } from '../src/core/camera.js';
import { Rng } from '../src/core/random.js';
import { CATEGORIES, linkTransforms, restState } from '../src/dataset/articulated.js';
import { generateObject } from '../src/dataset/categories.js';
import { DEFAULT_GENERATE, generateDataset, visiblePoints } from '../src/dataset/generate.js';
import type { DatasetIndex } from '../src/dataset/layout.js';
import { renderScene } from '../src/dataset/render.js';
import { ObjectScene } from '../src/dataset/scene.js';
import { verifyDataset } from '../src/dataset/verify.js';
import { parseWithUrdfLoader } from './support/urdf-loader.js';
import { writePreview } from '../src/dataset/preview.js';
import { decodePngRgba } from '../src/core/image.js';
import { readFileSync } from 'node:fs';

let dir = '';
let index: DatasetIndex;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'partrm-dataset-test-'));
  // One object per category, small renders and few views to stay fast; 10k points as specified.
  index = await generateDataset({ ...DEFAULT_GENERATE, out: join(dir, 'd'), objects: 8, seed: 11, size: 96, views: 4 });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('every category is generated, deterministic from its seed, with handles on every movable part', () => {
  assert.deepEqual(new Set(index.objects.map((o) => o.category)), new Set(CATEGORIES));
  for (const c of CATEGORIES) {
    const a = generateObject(c, 42);
    const b = generateObject(c, 42);
    assert.deepEqual(a, b, `${c} is not deterministic`);
    assert.notDeepEqual(generateObject(c, 43).links, a.links, `${c} ignores its seed`);
    for (const j of a.joints) {
      const child = a.links[j.child]!;
      assert.ok(child.primitives.some((p) => p.role === 'handle'), `${c}/${j.name} has no handle`);
      assert.ok(j.upper > j.lower, `${c}/${j.name} has an empty range`);
    }
  }
});

test('real-world sizes in metres and the normalisation to the rig', () => {
  const ranges: Record<string, [number, number]> = {
    laptop: [0.25, 0.45],
    refrigerator: [1.4, 2.0],
    trashcan: [0.25, 0.75],
    microwave: [0.4, 0.65],
  };
  for (const o of index.objects) {
    const largest = Math.max(...o.sizeMetres);
    const r = ranges[o.category];
    if (r) assert.ok(largest >= r[0] && largest <= r[1], `${o.id} largest side ${largest} m`);
    assert.ok(Math.abs(o.normalisation.scale * largest - 1) < 1e-9, `${o.id} rig scale`);
  }
});

test('layout: index lists states, cameras, splits and files that exist; trashcan is unseen', () => {
  assert.equal(index.cameras.length, 4);
  assert.deepEqual(index.splits.unseen, index.objects.filter((o) => o.category === 'trashcan').map((o) => o.id));
  assert.ok(!index.splits.train.some((id) => id.includes('trashcan')));
  for (const o of index.objects) {
    assert.equal(o.states.length, o.joints.length * 6);
    for (const s of o.states) for (const f of [s.points, ...s.rgba, ...s.depth, ...s.mask]) assert.ok(existsSync(join(dir, 'd', f)), f);
    assert.ok(existsSync(join(dir, 'd', o.urdf)));
  }
  assert.ok(!readdirSync(dir).some((n) => n.startsWith('.partial')), 'temporary directory left behind');
});

test('dataset consistency: check_urdf, MuJoCo kinematics within 1 mm, drags on the mask, drag ends within 0.5 px', async () => {
  const report = await verifyDataset(join(dir, 'd'));
  assert.deepEqual(report.urdfFailures, []);
  for (const o of report.objects) assert.equal(o.mujoco, 'ok', o.id);
  assert.ok(report.maxPointError < 1e-3, `max point error ${report.maxPointError} m`);
  assert.ok(report.drags > 1000);
  assert.ok(report.dragsOnMaskFraction >= 0.99, `on-mask fraction ${report.dragsOnMaskFraction}`);
  assert.ok(report.maxEndError <= 0.5, `max end error ${report.maxEndError} px`);
});

test('urdf-loader parses every category with its joints and meshes', async () => {
  for (const o of index.objects) {
    const parsed = await parseWithUrdfLoader(join(dir, 'd', o.urdf));
    assert.deepEqual(parsed.links.sort(), o.links.map((l) => l.name).sort());
    for (const j of o.joints) {
      const pj = parsed.joints.find((x) => x.name === j.name);
      assert.ok(pj, `${o.id}: joint ${j.name} missing`);
      assert.equal(pj.type, j.type);
      assert.ok(Math.abs(pj.upper - j.upper) < 1e-5);
    }
    assert.equal(parsed.meshCount, o.links.length);
  }
});

test('visibility by depth and facing alone puts >= 99% of visible points on their own part in the render', () => {
  // Independent of the label test used when storing drags: checks that projection and renderer agree.
  for (const c of CATEGORIES) {
    const obj = generateObject(c, 5);
    const scene = new ObjectScene(obj);
    const pts = scene.samplePoints(10000, new Rng(3));
    const q = Float64Array.from(obj.joints, (j) => (j.lower + j.upper) / 2);
    const cam = rigCameras({ views: 12, size: 128 })[0]!;
    const r = renderScene(scene.renderItems(q), cam);
    const labels = Uint8Array.from(pts.links, (l) => l + 1);
    const { pixels, visible } = visiblePoints(cam, scene.toRig(scene.posePoints(pts, q)), scene.poseNormals(pts, q), labels, r, false);
    let n = 0, ok = 0;
    for (let i = 0; i < visible.length; i++) {
      if (!visible[i]) continue;
      n++;
      const k = Math.floor(pixels[i * 2 + 1]!) * r.width + Math.floor(pixels[i * 2]!);
      if (r.labels[k] === labels[i]) ok++;
    }
    assert.ok(n > 500, `${c}: only ${n} visible points`);
    assert.ok(ok / n >= 0.99, `${c}: ${ok}/${n} visible points on their part`);
  }
});

test('stored states move only their own joint and span its limits', () => {
  for (const o of index.objects) {
    for (const [j, joint] of o.joints.entries()) {
      const series = o.states.filter((s) => s.joint === j).sort((a, b) => a.step - b.step);
      assert.ok(Math.abs(series[0]!.q[j]! - joint.lower) < 1e-12);
      assert.ok(Math.abs(series[5]!.q[j]! - joint.upper) < 1e-12);
      for (const s of series) s.q.forEach((v, k) => k !== j && assert.equal(v, series[0]!.q[k]));
    }
  }
  const obj = generateObject('oven', 3);
  assert.equal(linkTransforms(obj, restState(obj)).length, obj.links.length);
});

test('preview writes a readable contact sheet', async () => {
  const out = join(dir, 'sheet.png');
  const r = await writePreview({ data: join(dir, 'd'), out, tile: 64 });
  const img = decodePngRgba(readFileSync(out));
  assert.equal(img.width, r.width);
  assert.equal(r.objects, 8);
  let dark = 0, red = 0;
  for (let p = 0; p < img.data.length; p += 4) {
    if (img.data[p]! < 100 && img.data[p + 1]! < 100) dark++;
    if (img.data[p]! > 180 && img.data[p + 1]! < 60 && img.data[p + 2]! < 60) red++;
  }
  assert.ok(dark > 1000, 'no text or objects drawn');
  assert.ok(red > 50, 'no drag arrows drawn');
});

// Table of bad inputs: each fails with a clear message and leaves nothing on disk.
const BAD: Array<[string, Record<string, unknown>, RegExp]> = [
  ['unknown category', { categories: ['sofa'] }, /unknown category "sofa"/],
  ['zero size', { size: 0 }, /--size must be an integer/],
  ['negative size', { size: -64 }, /--size must be an integer/],
  ['zero objects', { objects: 0 }, /--objects must be an integer/],
  ['zero views', { views: 0 }, /--views must be an integer/],
  ['fractional seed', { seed: 1.5 }, /--seed must be an integer/],
];

for (const [name, patch, message] of BAD) {
  test(`bad input: ${name}`, async () => {
    const out = join(dir, `bad-${name.replace(/\s/g, '-')}`);
    await assert.rejects(generateDataset({ ...DEFAULT_GENERATE, objects: 1, size: 32, views: 1, out, ...patch } as never), message);
    assert.ok(!existsSync(out));
    assert.ok(!readdirSync(dir).some((n) => n.startsWith('.partial')));
  });
}

test('bad input: unwritable output (parent is a file) and non-empty output directory', async () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  await assert.rejects(generateDataset({ ...DEFAULT_GENERATE, objects: 1, size: 32, views: 1, out: join(file, 'sub') }), /Dataset: .*(not writable|cannot create)/);
  await assert.rejects(generateDataset({ ...DEFAULT_GENERATE, objects: 1, size: 32, views: 1, out: join(dir, 'd') }), /is not empty/);
  assert.ok(!readdirSync(dir).some((n) => n.startsWith('.partial')));
});
