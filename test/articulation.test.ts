import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KdTree } from '../src/articulation/kdtree.js';
import { PointGrid } from '../src/articulation/grid.js';
import { axisAngleErrorDeg, kabsch, lineDistance, rigidApply, rigidRevolute, screwOf } from '../src/articulation/rigid.js';
import { fitJoint } from '../src/articulation/fit.js';
import { helperJobs, startFitHelper } from '../src/articulation/pool.js';
import { jointErrors, makeCase } from '../src/articulation/cases.js';
import { sampleGaussians } from '../src/articulation/sampling.js';
import { boxesFromPoints } from '../src/articulation/boxes.js';
import { extractMesh, meshoptReady } from '../src/articulation/mesh.js';
import { Rng } from '../src/core/random.js';
import type { Vec3 } from '../src/core/math.js';

function randomCloud(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: 3 * n }, () => r.uniform(-1, 1));
}

test('KdTree nearest, knn and radius agree with brute force', () => {
  const pts = randomCloud(500, 1);
  const tree = new KdTree(pts);
  const r = new Rng(2);
  for (let q = 0; q < 50; q++) {
    const x = r.uniform(-1.2, 1.2), y = r.uniform(-1.2, 1.2), z = r.uniform(-1.2, 1.2);
    const d = Array.from({ length: 500 }, (_, i) => ({ i, d2: (pts[3 * i]! - x) ** 2 + (pts[3 * i + 1]! - y) ** 2 + (pts[3 * i + 2]! - z) ** 2 })).sort((a, b) => a.d2 - b.d2);
    const nn = tree.nearest(x, y, z);
    assert.equal(nn.index, d[0]!.i);
    assert.ok(Math.abs(nn.d2 - d[0]!.d2) < 1e-9);
    const idx = new Int32Array(5), d2 = new Float64Array(5);
    assert.equal(tree.knn(x, y, z, 5, idx, d2), 5);
    assert.deepEqual(Array.from(idx), d.slice(0, 5).map((e) => e.i));
    const inside: number[] = [];
    tree.radius(x, y, z, 0.3, (i) => inside.push(i));
    assert.deepEqual(inside.sort((a, b) => a - b), d.filter((e) => e.d2 <= 0.09).map((e) => e.i).sort((a, b) => a - b));
    // Bounded search finds nothing beyond the bound.
    assert.equal(tree.nearestD2(x, y, z, Math.sqrt(d[0]!.d2) * 0.99), Infinity);
  }
});

test('PointGrid nearest, first-hit and k-nearest queries agree with brute force at any cell size', () => {
  // A noisy plane plus scattered points: dense cells, empty cells and queries outside the box.
  const r = new Rng(5);
  const pts = new Float32Array(3 * 800);
  for (let i = 0; i < 800; i++) {
    const onPlane = i < 600;
    pts[3 * i] = r.uniform(-1, 1);
    pts[3 * i + 1] = r.uniform(-1, 1);
    pts[3 * i + 2] = onPlane ? 0.01 * r.normal() : r.uniform(-1, 1);
  }
  for (const cell of [0.05, 0.15, 0.5]) {
    const grid = new PointGrid(pts, cell);
    for (let q = 0; q < 60; q++) {
      const x = r.uniform(-1.3, 1.3), y = r.uniform(-1.3, 1.3), z = q % 2 ? r.uniform(-0.05, 0.05) : r.uniform(-1.3, 1.3);
      const d = Array.from({ length: 800 }, (_, i) => ({ i, d2: (pts[3 * i]! - x) ** 2 + (pts[3 * i + 1]! - y) ** 2 + (pts[3 * i + 2]! - z) ** 2 })).sort((a, b) => a.d2 - b.d2);
      for (const k of [1, 9, 30]) {
        const idx = new Int32Array(k), d2 = new Float64Array(k);
        assert.equal(grid.knn(x, y, z, k, idx, d2), k);
        for (let j = 0; j < k; j++) assert.ok(Math.abs(d2[j]! - d[j]!.d2) < 1e-9, `cell ${cell} k ${k} rank ${j}: ${d2[j]} vs ${d[j]!.d2}`);
      }
      // knnUnlessNear: -1 only when the true k nearest (past the first) sum to at most the
      // bound, -2 only when they sum to more than the far bound, and otherwise exactly knn's answer.
      for (const bound of [0.05, 0.3, 1, 5]) {
        const k = 9;
        const idx = new Int32Array(k), d2 = new Float64Array(k);
        const far = 3 * bound;
        const got = grid.knnUnlessNear(x, y, z, k, bound, idx, d2, far);
        let sum = 0;
        for (let j = 1; j < k; j++) sum += Math.sqrt(d[j]!.d2);
        if (got === -1) assert.ok(sum <= bound + 1e-9, `cell ${cell} bound ${bound}: stopped early with the true sum ${sum}`);
        else if (got === -2) assert.ok(sum > far - 1e-9, `cell ${cell} bound ${far}: stopped as far with the true sum ${sum}`);
        else {
          assert.equal(got, k);
          for (let j = 0; j < k; j++) assert.ok(Math.abs(d2[j]! - d[j]!.d2) < 1e-9);
        }
      }
      for (const rad of [0.02, 0.1, 0.4]) {
        const within = d[0]!.d2 < rad * rad;
        assert.equal(grid.anyWithin(x, y, z, rad), within);
        const nd = grid.nearestD2(x, y, z, rad);
        if (within) {
          assert.ok(Math.abs(nd - d[0]!.d2) < 1e-9);
          const j = grid.lastIndex;
          assert.ok(Math.abs((pts[3 * j]! - x) ** 2 + (pts[3 * j + 1]! - y) ** 2 + (pts[3 * j + 2]! - z) ** 2 - d[0]!.d2) < 1e-9);
        } else assert.equal(nd, Infinity);
      }
    }
  }
});

test('screw decomposition recovers axis, angle and a point on the axis', () => {
  const cases: Array<[Vec3, Vec3, number]> = [
    [[0, 0, 1], [0.3, -0.2, 0], 1.2],
    [[1, 0, 0], [0, 0.5, 0.5], -0.4],
    [[0.6, 0.8, 0], [1, -1, 2], 3.0],
  ];
  for (const [axis, origin, angle] of cases) {
    const T = rigidRevolute(axis, origin, angle);
    const s = screwOf(T, origin);
    assert.ok(axisAngleErrorDeg(s.axis, axis) < 1e-6, `axis ${s.axis}`);
    const signed = Math.sign(s.axis[0] * axis[0] + s.axis[1] * axis[1] + s.axis[2] * axis[2]) * s.angle;
    assert.ok(Math.abs(signed - angle) < 1e-9, `angle ${signed} vs ${angle}`);
    assert.ok(lineDistance(s.point, s.axis, origin, axis) < 1e-9);
    assert.ok(Math.abs(s.along) < 1e-9);
  }
  // Kabsch recovers a known motion from exact correspondences.
  const src = Float64Array.from(randomCloud(20, 3));
  const T = rigidRevolute([0, 0, 1], [0.1, 0.2, 0], 0.7);
  const dst = new Float64Array(src.length);
  for (let i = 0; i < src.length; i += 3) dst.set(rigidApply(T, [src[i]!, src[i + 1]!, src[i + 2]!]), i);
  const K = kabsch(src, dst);
  for (let k = 0; k < 9; k++) assert.ok(Math.abs(K.r[k]! - T.r[k]!) < 1e-9);
});

// Held-out bench seeds start at 200000; these are test seeds.
const FIT_CASES: Array<{ category: 'storage_furniture' | 'microwave' | 'laptop' | 'dishwasher'; seed: number; singleView?: boolean }> = [
  { category: 'storage_furniture', seed: 15 }, // drawer (prismatic)
  { category: 'microwave', seed: 7 }, // side-hinged door
  { category: 'laptop', seed: 4 }, // lid
  { category: 'dishwasher', seed: 9, singleView: true }, // bottom-hinged door seen from one camera
];

for (const c of FIT_CASES) {
  test(`fitJoint recovers the joint without correspondences: ${c.category} ${c.seed}${c.singleView ? ' (view 0 only)' : ''}`, () => {
    const k = makeCase(c.category, c.seed, { singleView: c.singleView ?? false });
    const f = fitJoint(k.initial, k.dragged);
    const e = jointErrors(f, k.truth);
    assert.equal(f.type, k.truth.type, `type (scores prismatic ${f.stats.scorePrismatic.toFixed(3)} revolute ${f.stats.scoreRevolute.toFixed(3)})`);
    assert.ok(e.angleDeg < 5, `axis angle error ${e.angleDeg.toFixed(2)} deg`);
    // One camera may not see the hinge side, and a door slab seen from the front is matched as
    // well by its mirror swing: the acceptance asks only type and axis direction there.
    if (!c.singleView) assert.ok(e.motionRelative < 0.15, `motion error ${(100 * e.motionRelative).toFixed(1)}%`);
    if (k.truth.type === 'revolute' && !c.singleView) assert.ok(e.lineDistance < 0.05, `axis line distance ${e.lineDistance.toFixed(3)} m`);
    assert.ok(f.motion > 0, 'motion is reported positive along the reported axis');
    assert.deepEqual(f.limits, [0, f.motion]);
    assert.ok(f.confidence > 0 && f.confidence <= 1);
    if (c.singleView) return;
    // Moving points: mostly on the true moving link.
    const truthMoving = k.initialMoving;
    let hits = 0;
    for (const i of f.movingIndices) hits += truthMoving[i]!;
    const precision = hits / f.movingIndices.length;
    const recall = hits / truthMoving.reduce((a, b) => a + b, 0);
    // A drawer's sides slide within a centimetre of the carcass walls, which both motions then
    // explain; those wall points may be taken for the part, hence the lower bar for drawers.
    assert.ok(precision > (k.truth.type === 'prismatic' ? 0.5 : 0.8), `moving-point precision ${precision.toFixed(2)}`);
    assert.ok(recall > 0.5, `moving-point recall ${recall.toFixed(2)}`);
  });
}

test('fitJoint gives the same result with and without its helper thread', async () => {
  // A door, and a drawer with drag hints and both states segmented (every helper job kind).
  const c = makeCase('storage_furniture', 11);
  const d = makeCase('storage_furniture', 15);
  assert.equal(d.truth.type, 'prismatic');
  const drags = [0, 1, 2].map((j) => {
    let i = 0;
    for (let seen = 0; i < d.initialMoving.length; i++) if (d.initialMoving[i] && seen++ === 40 * j) break;
    const start: Vec3 = [d.initial[3 * i]!, d.initial[3 * i + 1]!, d.initial[3 * i + 2]!];
    const end: Vec3 = [start[0] + d.truth.axis[0] * d.truth.motion, start[1] + d.truth.axis[1] * d.truth.motion, start[2] + d.truth.axis[2] * d.truth.motion];
    return { start, end };
  });
  const fits = [
    () => fitJoint(c.initial, c.dragged),
    () => fitJoint(d.initial, d.dragged, { drags, segmentDragged: true }),
  ];
  const alone = fits.map((f) => f()); // before the helper is ready: all on this thread
  assert.equal(await startFitHelper(), true, 'the helper thread starts');
  const before = process.env.PARTRM_FIT_THREADS;
  process.env.PARTRM_FIT_THREADS = '2'; // use it even on a loaded machine
  try {
    fits.forEach((f, k) => {
      const jobs = helperJobs();
      const helped = f();
      assert.ok(helperJobs() > jobs, 'the helper took part');
      assert.equal(helped.type, alone[k]!.type);
      assert.deepEqual(helped.transform, alone[k]!.transform);
      assert.deepEqual(helped.axis, alone[k]!.axis);
      assert.deepEqual(helped.keptDragged, alone[k]!.keptDragged);
      assert.deepEqual(helped.movingIndices, alone[k]!.movingIndices);
      assert.deepEqual(helped.movingIndicesDragged, alone[k]!.movingIndicesDragged);
      assert.deepEqual(helped.stats, alone[k]!.stats);
    });
  } finally {
    if (before === undefined) delete process.env.PARTRM_FIT_THREADS;
    else process.env.PARTRM_FIT_THREADS = before;
  }
});

test('fitJoint uses a 3D drag hint and stays correct with it', () => {
  const k = makeCase('microwave', 7);
  // Drags: three points of the moving link carried by the true motion (any points will do).
  const idx: number[] = [];
  for (let i = 0; i < k.initialMoving.length && idx.length < 3; i += 37) if (k.initialMoving[i]) idx.push(i);
  const T = rigidRevolute(k.truth.axis, k.truth.origin, k.truth.motion);
  const drags = idx.map((i) => {
    const start: Vec3 = [k.initial[3 * i]!, k.initial[3 * i + 1]!, k.initial[3 * i + 2]!];
    return { start, end: rigidApply(T, start) };
  });
  const f = fitJoint(k.initial, k.dragged, { drags });
  const e = jointErrors(f, k.truth);
  assert.equal(f.type, 'revolute');
  assert.ok(e.angleDeg < 5 && e.motionRelative < 0.15, `angle ${e.angleDeg} motion ${e.motionRelative}`);
});

test('fitJoint rejects bad input with errors that say what was expected', () => {
  const k = makeCase('trashcan', 5, { points: 3000 });
  const withNaN = Float32Array.from(k.initial);
  withNaN[30] = NaN;
  const scaled = k.dragged.map((v) => v * 10);
  const cases: Array<[string, Float32Array, Float32Array, RegExp]> = [
    ['empty', new Float32Array(0), k.dragged, /JointFit: initial cloud has 0 points; expected at least 50/],
    ['ragged', new Float32Array(10), k.dragged, /not a multiple of 3/],
    ['NaN', withNaN, k.dragged, /JointFit: initial cloud has a non-finite coordinate at point 10/],
    ['identical', k.initial, k.initial, /JointFit: no motion between the states/],
    ['scales', k.initial, scaled, /JointFit: the two states look like different scales/],
  ];
  for (const [name, a, b, re] of cases) assert.throws(() => fitJoint(a, b), re, name);
});

test('sampleGaussians is opacity-weighted and ignores near-transparent Gaussians', () => {
  const g = {
    count: 3,
    positions: Float32Array.of(0, 0, 0, 10, 0, 0, 20, 0, 0),
    opacities: Float32Array.of(0.9, 0.3, 0.01),
    scales: Float32Array.of(0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01),
    rotations: Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0),
    colors: new Float32Array(9),
  };
  const s = sampleGaussians(g, 4000, new Rng(1));
  let near0 = 0, near10 = 0, near20 = 0;
  for (let i = 0; i < 4000; i++) {
    const x = s.positions[3 * i]!;
    if (Math.abs(x) < 0.05) near0++;
    else if (Math.abs(x - 10) < 0.05) near10++;
    else if (Math.abs(x - 20) < 0.05) near20++;
  }
  assert.equal(near20, 0);
  assert.equal(near0 + near10, 4000);
  assert.ok(Math.abs(near0 / 4000 - 0.75) < 0.03, `opacity weighting: ${near0 / 4000}`);
  assert.throws(() => sampleGaussians({ ...g, opacities: new Float32Array(3) }, 10, new Rng(1)), /no Gaussian has opacity >= 0.05/);
});

test('mesh extraction wraps the sampled surfaces and boxes keep a cavity open', async () => {
  await meshoptReady();
  // An open box (5 faces, no top) sampled densely: the cavity must stay free of collision boxes.
  const r = new Rng(4);
  const pts: number[] = [];
  for (let i = 0; i < 6000; i++) {
    const face = r.int(0, 4);
    const u = r.uniform(-0.5, 0.5), v = r.uniform(-0.5, 0.5);
    const p: Vec3 = face === 0 ? [u, v, -0.5] : face === 1 ? [-0.5, u, v] : face === 2 ? [0.5, u, v] : face === 3 ? [u, -0.5, v] : [u, 0.5, v];
    pts.push(...p);
  }
  const cloud = Float32Array.from(pts);
  const mesh = extractMesh(cloud, { targetTriangles: 3000 });
  assert.ok(mesh.indices.length / 3 > 100 && mesh.indices.length / 3 <= 3000, `${mesh.indices.length / 3} triangles`);
  // Every vertex lies close to the sampled surface.
  const tree = new KdTree(cloud);
  let worst = 0;
  for (let i = 0; i < mesh.positions.length; i += 3) worst = Math.max(worst, Math.sqrt(tree.nearestD2(mesh.positions[i]!, mesh.positions[i + 1]!, mesh.positions[i + 2]!)));
  assert.ok(worst < 3 * mesh.voxel, `max vertex distance ${worst} vs voxel ${mesh.voxel}`);
  const boxes = boxesFromPoints(cloud, { resolution: 10 });
  const coversCentre = boxes.some((b) => b.center.every((c, k) => Math.abs(c) <= b.size[k]! / 2));
  assert.equal(coversCentre, false, 'the cavity centre is not inside any collision box');
  // Boxes hug the sampled sheet (4 mm padding, 1 cm minimum), not whole grid cells.
  const sheet = new Float32Array(3 * 400);
  for (let i = 0; i < 400; i++) sheet.set([(i % 20) / 19 - 0.5, Math.floor(i / 20) / 19 - 0.5, 0.1], 3 * i);
  const tight = boxesFromPoints(sheet, { resolution: 10 });
  assert.ok(tight.every((b) => b.size[2] <= 0.0101 && Math.abs(b.center[2] - 0.1) < 1e-6), JSON.stringify(tight));
  assert.ok(tight.every((b) => b.center[0] + b.size[0] / 2 <= 0.5041 && b.center[0] - b.size[0] / 2 >= -0.5041));
  assert.ok(boxesFromPoints(sheet, { resolution: 10, tighten: false }).every((b) => b.size[2] >= 0.09), 'whole cells without tightening');
  assert.throws(() => extractMesh(new Float32Array(6)), /MeshExtraction: need at least 4 points/);
});

test('drag files: 3D drags pass through; pixel drags are lifted onto the nearest visible point with --camera', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { readDrags } = await import('../src/cli/extract.js');
  const { lookAtOpencv, intrinsicsFromFovY, projectPoints } = await import('../src/core/camera.js');
  const { mat4ToRows } = await import('../src/core/math.js');
  const dir = mkdtempSync(join(tmpdir(), 'partrm-drags-'));
  try {
    // A front plane (x = 0.5) and a back plane (x = -0.5) behind it, seen from +x.
    const pts: number[] = [];
    for (let i = 0; i < 21; i++) for (let j = 0; j < 21; j++) pts.push(0.5, -0.5 + i / 20, -0.5 + j / 20, -0.5, -0.5 + i / 20, -0.5 + j / 20);
    const cloud = Float32Array.from(pts);
    const camera = { intrinsics: intrinsicsFromFovY(200, 200, 50), camToWorld: lookAtOpencv([3, 0, 0], [0, 0, 0], [0, 0, 1]) };
    writeFileSync(join(dir, 'cam.json'), JSON.stringify({ intrinsics: camera.intrinsics, camToWorld: mat4ToRows(camera.camToWorld) }));
    const target = projectPoints(camera, Float32Array.of(0.5, 0.1, 0.2)).pixels;
    writeFileSync(join(dir, 'px.json'), JSON.stringify({ drags: [{ start: [target[0], target[1]], end: [target[0]! + 10, target[1]] }] }));
    const lifted = readDrags(join(dir, 'px.json'), cloud, join(dir, 'cam.json'));
    assert.equal(lifted.length, 1);
    assert.ok(Math.abs(lifted[0]!.start[0] - 0.5) < 1e-6, 'the front point, not the one behind it');
    assert.ok(Math.hypot(lifted[0]!.start[1] - 0.1, lifted[0]!.start[2] - 0.2) < 0.06);
    assert.ok(Math.abs(lifted[0]!.end[0] - 0.5) < 1e-3, 'end at the start depth');
    writeFileSync(join(dir, 'd3.json'), JSON.stringify([{ start: [0, 0, 0], end: [0.1, 0, 0] }]));
    assert.deepEqual(readDrags(join(dir, 'd3.json'), cloud), [{ start: [0, 0, 0], end: [0.1, 0, 0] }]);
    assert.throws(() => readDrags(join(dir, 'px.json'), cloud), /pixel drags need --camera/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify([{ start: [0, 0, 0] }]));
    assert.throws(() => readDrags(join(dir, 'bad.json'), cloud), /drag 0 needs start and end/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
