import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateObject } from '../src/dataset/categories.js';
import { writeObjectUrdf, writePartNetFixture } from '../src/policy/fixtures.js';
import { MujocoSimulator } from '../src/sim/mujoco/backend.js';
import { isDegenerateForHull, meshShape, parseObj, resolveMeshPath } from '../src/sim/mujoco/mesh.js';
import { readUrdfText, urdfJointWorld } from '../src/sim/mujoco/urdf-read.js';
import { parseSimBackend } from '../src/sim/task.js';

const dir = await mkdtemp(join(tmpdir(), 'partrm-sim-test-'));
test.after(() => rm(dir, { recursive: true, force: true }));

const minimal = (joint: string, extra = ''): string =>
  `<robot name="r"><link name="a"/><link name="b">${extra}</link>${joint}</robot>`;

test('URDF reading is lenient where it can be and names what is wrong where it cannot', () => {
  const ok = [
    // limit without effort/velocity (PartNet), malformed number -> warning, zero axis -> warning
    { text: minimal('<joint name="j" type="revolute"><parent link="a"/><child link="b"/><axis xyz="0 0 0"/><limit lower="0" upper="1.5x"/></joint>'), warnings: 1 },
    { text: minimal('<joint name="j" type="prismatic"><parent link="a"/><child link="b"/><axis xyz="0 0 2"/><limit lower="0" upper="0.3"/></joint>'), warnings: 0 },
  ];
  for (const c of ok) {
    const u = readUrdfText(c.text);
    assert.equal(u.root, 'a');
    assert.ok(u.warnings.length >= c.warnings, JSON.stringify(u.warnings));
  }
  const axis = urdfJointWorld(readUrdfText(ok[1]!.text), 'j').axis;
  assert.deepEqual(axis, [0, 0, 1]);
  const bad: Array<[string, RegExp]> = [
    ['<robot name="r"></robot>', /no <link>/],
    [minimal('<joint name="j" type="hinge"><parent link="a"/><child link="b"/></joint>'), /type "hinge"/],
    [minimal('<joint name="j" type="fixed"><parent link="a"/><child link="zz"/></joint>'), /unknown child link "zz"/],
    ['<robot name="r"><link name="a"/><link name="a"/></robot>', /duplicate link "a"/],
    ['<robot name="r"><link name="a"/><link name="b"/></robot>', /exactly one root link/],
    ['<robot name="r"><link name="a"></robot>', /Xml:/],
  ];
  for (const [text, re] of bad) assert.throws(() => readUrdfText(text, 'x.urdf'), re);
});

test('mesh helpers: flat quads are degenerate for qhull, boxes are not; package:// resolves inside the root only', async () => {
  const quad = parseObj('v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n');
  assert.equal(quad.indices.length, 6);
  assert.equal(isDegenerateForHull(meshShape(quad.positions)), true);
  const cube = parseObj('v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nv 1 1 1\nf 1 2 3\nf -1 -2 -3\n');
  assert.equal(isDegenerateForHull(meshShape(cube.positions)), false);
  const root = join(dir, 'pkgroot');
  await mkdir(join(root, 'pkg', 'meshes'), { recursive: true });
  await writeFile(join(root, 'pkg', 'meshes', 'm.obj'), 'v 0 0 0\n');
  const urdfDir = join(root, 'pkg', 'urdf');
  await mkdir(urdfDir, { recursive: true });
  assert.equal(resolveMeshPath('package://pkg/meshes/m.obj', urdfDir, root, true), join(root, 'pkg', 'meshes', 'm.obj'));
  assert.equal(resolveMeshPath('../meshes/m.obj', urdfDir, root, true), join(root, 'pkg', 'meshes', 'm.obj'));
  assert.equal(resolveMeshPath('../../../etc/passwd', urdfDir, root, true), null);
  assert.equal(resolveMeshPath('missing.obj', urdfDir, root, true), null);
});

test('SimBackend option parsing', () => {
  assert.deepEqual(parseSimBackend('local'), { kind: 'local' });
  assert.deepEqual(parseSimBackend('listen:8765'), { kind: 'listen', port: 8765 });
  assert.deepEqual(parseSimBackend('listen:0.0.0.0:9000'), { kind: 'listen', port: 9000, host: '0.0.0.0' });
  for (const bad of ['remote', 'listen:', 'listen:99999', 'listen:abc']) assert.throws(() => parseSimBackend(bad), /SimBackend: invalid --sim/);
});

test('a PartNet-Mobility-layout object loads: no inertials, flat panels, package:// paths, y-up root rotation', async () => {
  const fx = await writePartNetFixture(join(dir, 'partnet'));
  const sim = await MujocoSimulator.create(fx.urdf);
  try {
    assert.deepEqual(sim.objectJoints().map((j) => [j.name, j.type]), [['joint_0', 'prismatic'], ['joint_1', 'revolute']]);
    assert.ok(sim.scene.geoms.filter((g) => g.boxFromMesh).length >= 2, 'flat back panel and door leaf collide as boxes');
    assert.ok(sim.scene.warnings.some((w) => /no <inertial>/.test(w)));
    // the root rpy (pi/2, 0, -pi/2) makes the door hinge vertical and the drawer slide along +x
    const door = urdfJointWorld(sim.scene.object, 'joint_1');
    assert.ok(Math.abs(Math.abs(door.axis[2]) - 1) < 1e-9, JSON.stringify(door.axis));
    const drawer = urdfJointWorld(sim.scene.object, 'joint_0');
    assert.ok(Math.abs(drawer.axis[0] - 1) < 1e-9, JSON.stringify(drawer.axis));
    // a door left half open stays there (damping, friction): no swinging on its own
    sim.reset({ joint_1: 0.5, joint_0: 0.1 });
    sim.step(500);
    assert.ok(Math.abs(sim.jointValue('joint_1') - 0.5) < 0.02, String(sim.jointValue('joint_1')));
    assert.ok(Math.abs(sim.jointValue('joint_0') - 0.1) < 0.01, String(sim.jointValue('joint_0')));
    assert.throws(() => sim.jointValue('nope'), /unknown object joint "nope"/);
  } finally {
    sim.dispose();
  }
});

test('procedural objects load; a top-hinged flap holds against gravity; frames render', async () => {
  const obj = generateObject('storage_furniture', 100009);
  const urdf = await writeObjectUrdf(obj, join(dir, 'sf'));
  const joint = obj.joints.find((j) => j.type === 'revolute')!;
  const sim = await MujocoSimulator.create(urdf);
  try {
    const start = joint.lower + 0.3 * (joint.upper - joint.lower);
    sim.reset({ [joint.name]: start });
    sim.step(250);
    assert.ok(Math.abs(sim.jointValue(joint.name) - start) < 0.05, `${joint.name}: ${start} -> ${sim.jointValue(joint.name)}`);
    const img = sim.render({ intrinsics: { width: 32, height: 24, fx: 30, fy: 30, cx: 16, cy: 12 }, camToWorld: new Float64Array([0, 0, -1, 3, -1, 0, 0, 0, 0, -1, 0, 0.5, 0, 0, 0, 1]) });
    assert.equal(img.data.length, 32 * 24 * 4);
    assert.ok(img.data.some((v, i) => i % 4 === 3 && v === 255), 'something was drawn');
  } finally {
    sim.dispose();
  }
});

test('a mesh outside the root is skipped with a warning, a URDF without readable geometry still loads', async () => {
  const d = join(dir, 'outside');
  await mkdir(d, { recursive: true });
  await writeFile(
    join(d, 'o.urdf'),
    '<robot name="o"><link name="a"><collision><geometry><mesh filename="../../../../etc/hostname"/></geometry></collision></link>' +
      '<link name="b"><collision><geometry><box size="0.1 0.1 0.1"/></geometry></collision></link>' +
      '<joint name="j" type="prismatic"><parent link="a"/><child link="b"/><axis xyz="1 0 0"/><limit lower="0" upper="0.2"/></joint></robot>',
  );
  const sim = await MujocoSimulator.create(join(d, 'o.urdf'));
  try {
    assert.ok(sim.scene.warnings.some((w) => /not found inside/.test(w)), JSON.stringify(sim.scene.warnings));
    assert.equal(sim.objectJoints().length, 1);
  } finally {
    sim.dispose();
  }
  await assert.rejects(MujocoSimulator.create(join(d, 'missing.urdf')), /SimScene: cannot read/);
});
