import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitJoint } from '../src/articulation/fit.js';
import { jointErrors } from '../src/articulation/cases.js';
import { checkUrdf } from '../src/urdf/check.js';
import { loadArticulatedUrdf, movableJoints, sampleArticulatedUrdf } from '../src/urdf/partnet.js';
import { readPointPly, writeGaussianPly, writePointPly } from '../src/gaussians/ply.js';
import { buildProgram } from '../src/cli/main.js';
import { Rng } from '../src/core/random.js';

const FIXTURE = 'test/fixtures/partnet/cabinet_0001/mobility.urdf';

function linkStats(cloud: { positions: Float32Array; labels?: Int32Array }, label: number): { n: number; mean: [number, number, number]; min: number[]; max: number[] } {
  const mean: [number, number, number] = [0, 0, 0];
  const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
  let n = 0;
  for (let i = 0; i < cloud.labels!.length; i++) {
    if (cloud.labels![i] !== label) continue;
    n++;
    for (let k = 0; k < 3; k++) {
      const v = cloud.positions[3 * i + k]!;
      mean[k]! += v;
      min[k] = Math.min(min[k]!, v);
      max[k] = Math.max(max[k]!, v);
    }
  }
  return { n, mean: mean.map((v) => v / n) as [number, number, number], min, max };
}

test('PartNet-Mobility layout: lenient reading, y-up meshes turned z-up, links move with their joints', async () => {
  // The layout's limits have no effort: urdfdom rejects the file, our reader must not.
  const chk = await checkUrdf(FIXTURE);
  assert.equal(chk.ok, false);
  const u = loadArticulatedUrdf(FIXTURE);
  assert.deepEqual(movableJoints(u).sort(), ['joint_0', 'joint_1']);
  assert.deepEqual([...u.linkMeshes.keys()].sort(), ['link_0', 'link_1', 'link_2']);
  const links = u.urdf.links.map((l) => l.name);
  const door = links.indexOf('link_0'), drawer = links.indexOf('link_1'), body = links.indexOf('link_2');

  const rest = sampleArticulatedUrdf(u, { points: 4000, seed: 3 });
  const b = linkStats(rest, body);
  // Mesh y (0..0.8) is height: after the fixed root joint it is z.
  assert.ok(Math.abs(b.min[2]! - 0) < 1e-3 && Math.abs(b.max[2]! - 0.8) < 1e-3, `body z range ${b.min[2]}..${b.max[2]}`);
  // Mesh +z (the front) becomes -x; mesh x becomes -y.
  const d0 = linkStats(rest, door);
  assert.ok(Math.abs(d0.mean[0] + 0.2) < 0.01, `door front at x = -0.2, got ${d0.mean[0]}`);

  // Same seed, same samples: the drawer moves rigidly by 0.2 along its axis (mesh +z = world -x).
  const open = sampleArticulatedUrdf(u, { state: { joint_1: 0.2 }, points: 4000, seed: 3 });
  const m0 = linkStats(rest, drawer), m1 = linkStats(open, drawer);
  assert.ok(Math.abs(m1.mean[0] - m0.mean[0] + 0.2) < 1e-5 && Math.abs(m1.mean[1] - m0.mean[1]) < 1e-5 && Math.abs(m1.mean[2] - m0.mean[2]) < 1e-5);
  assert.deepEqual(linkStats(open, body).mean.map((v) => v.toFixed(6)), b.mean.map((v) => v.toFixed(6)));

  assert.throws(() => sampleArticulatedUrdf(u, { state: { joint_9: 1 } }), /PartNetReader: no joint named "joint_9"; movable joints: joint_0, joint_1/);
  assert.throws(() => sampleArticulatedUrdf(u, { state: { joint_2: 1 } }), /joint "joint_2" is fixed/);
  assert.throws(() => loadArticulatedUrdf('test/fixtures/partnet/nope.urdf'), /PartNetReader: cannot read/);
});

test('the joint fit finds the PartNet door from two independently sampled states', () => {
  const u = loadArticulatedUrdf(FIXTURE);
  const a = sampleArticulatedUrdf(u, { points: 10000, seed: 1 });
  const b = sampleArticulatedUrdf(u, { state: { joint_0: 1.1 }, points: 10000, seed: 2 });
  const f = fitJoint(a.positions, b.positions);
  // Hinge: mesh line x = -0.3, z = 0.2 along y -> world (x, y) = (-0.2, 0.3) along z.
  const e = jointErrors(f, { type: 'revolute', axis: [0, 0, 1], origin: [-0.2, 0.3, 0], motion: 1.1, joint: 0, child: 0 });
  assert.equal(f.type, 'revolute');
  assert.ok(e.angleDeg < 3, `angle ${e.angleDeg}`);
  assert.ok(e.lineDistance < 0.03, `line ${e.lineDistance}`);
  assert.ok(e.motionRelative < 0.1, `motion ${e.motionRelative}`);
});

test('CLI: partrm sample then partrm extract; identical states exit with a clear error and write nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'partrm-cli-'));
  const run = (args: string[]) => buildProgram().parseAsync(['node', 'partrm', ...args]);
  const log = console.log;
  console.log = () => undefined;
  try {
    await run(['sample', '--urdf', FIXTURE, '--joint', 'joint_1', '--state', '0', '--out', join(dir, 'a.ply'), '--points', '6000']);
    await run(['sample', '--urdf', FIXTURE, '--joint', 'joint_1', '--state', '0.25', '--out', join(dir, 'b.ply'), '--points', '6000', '--seed', '2']);
    const a = readPointPly(join(dir, 'a.ply'));
    assert.equal(a.positions.length, 18000);
    assert.ok(a.labels, 'link labels are written');
    await run(['extract', '--initial', join(dir, 'a.ply'), '--dragged', join(dir, 'b.ply'), '--out', join(dir, 'out')]);
    const json = JSON.parse(readFileSync(join(dir, 'out', 'articulation.json'), 'utf8'));
    const j = json.joints[0];
    assert.equal(j.type, 'prismatic');
    assert.ok(Math.abs(Math.abs(j.axis[0]) - 1) < 0.02, `axis ${j.axis}`);
    assert.ok(Math.abs(j.motion - 0.25) < 0.02, `motion ${j.motion}`);
    for (const f of ['base.obj', 'part.obj', 'object.urdf', 'articulation.png']) assert.ok(existsSync(join(dir, 'out', f)), f);
    const chk = await checkUrdf(join(dir, 'out', 'object.urdf'));
    assert.ok(chk.ok, chk.output);

    await assert.rejects(run(['extract', '--initial', join(dir, 'a.ply'), '--dragged', join(dir, 'a.ply'), '--out', join(dir, 'same')]), /JointFit: no motion between the states/);
    assert.equal(existsSync(join(dir, 'same')), false);
    await assert.rejects(run(['sample', '--urdf', FIXTURE, '--joint', 'joint_1', '--state', 'abc', '--out', join(dir, 'x.ply')]), /--state must be a number/);
    await assert.rejects(run(['extract', '--initial', join(dir, 'missing.ply'), '--dragged', join(dir, 'a.ply'), '--out', join(dir, 'm')]), /Extract: cannot read/);
    writeFileSync(join(dir, 'empty.ply'), writePointPly({ positions: new Float32Array(0) }));
    await assert.rejects(run(['extract', '--initial', join(dir, 'empty.ply'), '--dragged', join(dir, 'a.ply'), '--out', join(dir, 'e')]), /empty\.ply has no points; expected a non-empty PLY/);
    // A Gaussian PLY paired with a point PLY: a mismatch, not silently mixed.
    const n = 200;
    const g = { count: n, positions: a.positions.slice(0, 3 * n), opacities: new Float32Array(n).fill(0.9), scales: new Float32Array(3 * n).fill(0.005), rotations: new Float32Array(4 * n).map((_, i) => (i % 4 === 0 ? 1 : 0)), colors: new Float32Array(3 * n).fill(0.5) };
    writeFileSync(join(dir, 'g.ply'), writeGaussianPly(g));
    await assert.rejects(run(['extract', '--initial', join(dir, 'g.ply'), '--dragged', join(dir, 'a.ply'), '--out', join(dir, 'mm')]), /Extract: mismatched inputs/);
    for (const d of ['m', 'e', 'mm']) assert.equal(existsSync(join(dir, d)), false);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: partrm extract on Gaussian PLYs (opacity-weighted sampling, transparent floaters ignored)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'partrm-cli-g-'));
  const log = console.log;
  console.log = () => undefined;
  try {
    const u = loadArticulatedUrdf(FIXTURE);
    const toGaussians = (positions: Float32Array, seed: number) => {
      const n = positions.length / 3;
      const r = new Rng(seed);
      // Every fifth Gaussian is a near-transparent floater somewhere in the box: sampling must skip it.
      const pos = Float32Array.from(positions);
      const opacities = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        if (i % 5 === 0) {
          opacities[i] = 0.01;
          for (let k = 0; k < 3; k++) pos[3 * i + k] = r.uniform(-0.5, 0.8);
        } else opacities[i] = r.uniform(0.3, 1);
      }
      return { count: n, positions: pos, opacities, scales: new Float32Array(3 * n).fill(0.003), rotations: new Float32Array(4 * n).map((_, i) => (i % 4 === 0 ? 1 : 0)), colors: new Float32Array(3 * n).fill(0.6) };
    };
    const a = sampleArticulatedUrdf(u, { points: 12000, seed: 5 });
    const b = sampleArticulatedUrdf(u, { state: { joint_0: 0.9 }, points: 12000, seed: 6 });
    writeFileSync(join(dir, 'a.ply'), writeGaussianPly(toGaussians(a.positions, 1)));
    writeFileSync(join(dir, 'b.ply'), writeGaussianPly(toGaussians(b.positions, 2)));
    await buildProgram().parseAsync(['node', 'partrm', 'extract', '--initial', join(dir, 'a.ply'), '--dragged', join(dir, 'b.ply'), '--out', join(dir, 'out'), '--no-picture']);
    const j = JSON.parse(readFileSync(join(dir, 'out', 'articulation.json'), 'utf8')).joints[0];
    assert.equal(j.type, 'revolute');
    assert.ok(Math.abs(Math.abs(j.axis[2]) - 1) < 0.03, `axis ${j.axis}`);
    assert.ok(Math.abs(j.motion - 0.9) < 0.08, `motion ${j.motion}`);
    assert.equal(existsSync(join(dir, 'out', 'articulation.png')), false);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
});
