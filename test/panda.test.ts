import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mat4Identity, mat4FromRpy } from '../src/core/math.js';
import { generateObject } from '../src/dataset/categories.js';
import { writeObjectUrdf } from '../src/policy/fixtures.js';
import { MujocoSimulator } from '../src/sim/mujoco/backend.js';
import { poseError } from '../src/sim/mujoco/ik.js';
import { PANDA_HOME, pandaUrdfPath } from '../src/sim/mujoco/scene.js';
import { readUrdfText } from '../src/sim/mujoco/urdf-read.js';

const dir = await mkdtemp(join(tmpdir(), 'partrm-panda-test-'));
test.after(() => rm(dir, { recursive: true, force: true }));

test('the Panda description carries the public kinematics (origins, axes, limits, flange, hand, fingers)', () => {
  const u = readUrdfText(readFileSync(pandaUrdfPath(), 'utf8'));
  const j = (n: string) => u.joints.find((x) => x.name === n)!;
  const table: Array<[string, number[], number[], [number, number]]> = [
    ['panda_joint1', [0, 0, 0.333], [0, 0, 0], [-2.8973, 2.8973]],
    ['panda_joint2', [0, 0, 0], [-Math.PI / 2, 0, 0], [-1.7628, 1.7628]],
    ['panda_joint3', [0, -0.316, 0], [Math.PI / 2, 0, 0], [-2.8973, 2.8973]],
    ['panda_joint4', [0.0825, 0, 0], [Math.PI / 2, 0, 0], [-3.0718, -0.0698]],
    ['panda_joint5', [-0.0825, 0.384, 0], [-Math.PI / 2, 0, 0], [-2.8973, 2.8973]],
    ['panda_joint6', [0, 0, 0], [Math.PI / 2, 0, 0], [-0.0175, 3.7525]],
    ['panda_joint7', [0.088, 0, 0], [Math.PI / 2, 0, 0], [-2.8973, 2.8973]],
    ['panda_finger_joint1', [0, 0, 0.0584], [0, 0, 0], [0, 0.04]],
  ];
  for (const [name, xyz, rpy, lim] of table) {
    const x = j(name);
    xyz.forEach((v, k) => assert.ok(Math.abs(x.origin.xyz[k]! - v) < 1e-6, `${name} xyz`));
    rpy.forEach((v, k) => assert.ok(Math.abs(x.origin.rpy[k]! - v) < 1e-5, `${name} rpy`));
    assert.deepEqual([x.limit!.lower, x.limit!.upper], lim);
  }
  assert.deepEqual(j('panda_joint8').origin.xyz, [0, 0, 0.107]);
  assert.ok(Math.abs(j('panda_hand_joint').origin.rpy[2] + Math.PI / 4) < 1e-6);
  assert.deepEqual(j('panda_finger_joint2').axis, [0, -1, 0]);
  assert.ok(u.links.every((l) => l.inertial && l.inertial.mass > 0), 'every link has an inertial');
  assert.equal(u.warnings.length, 0);
});

async function pandaSim() {
  const urdf = await writeObjectUrdf(generateObject('storage_furniture', 100007), join(dir, 'obj'));
  const base = mat4Identity();
  base[3] = 3; // far from the object
  return MujocoSimulator.create(urdf, { robot: { base } });
}

test('home pose: TCP in front of the base, pointing down; Jacobian matches finite differences', async () => {
  const sim = await pandaSim();
  try {
    sim.reset({}, PANDA_HOME);
    const p = sim.tcpPose();
    // Panda home: TCP about 0.55 m in front of the base, 0.52 m up, z axis down.
    assert.ok(Math.abs(p[3]! - 3 - 0.554) < 0.01 && Math.abs(p[7]!) < 1e-4 && Math.abs(p[11]! - 0.521) < 0.01, `tcp ${p[3]} ${p[7]} ${p[11]}`);
    assert.ok(Math.abs(p[10]! + 1) < 1e-3);
    const J = sim.tcpJacobian();
    const q0 = sim.armQ();
    for (let k = 0; k < 7; k++) {
      const q = Array.from(q0);
      q[k]! += 1e-6;
      sim.reset({}, q);
      const p1 = sim.tcpPose();
      const num = [(p1[3]! - p[3]!) / 1e-6, (p1[7]! - p[7]!) / 1e-6, (p1[11]! - p[11]!) / 1e-6];
      num.forEach((v, r) => assert.ok(Math.abs(v - J[r * 7 + k]!) < 1e-3, `J[${r},${k}] ${J[r * 7 + k]} vs ${v}`));
    }
  } finally {
    sim.dispose();
  }
});

test('damped-least-squares IK reaches poses (kinematic) and the position actuators track them (dynamic)', async () => {
  const sim = await pandaSim();
  try {
    const cases = [
      { xyz: [3.45, 0.1, 0.45], rpy: [Math.PI, 0, 0] },
      { xyz: [3.5, -0.15, 0.4], rpy: [0, (3 * Math.PI) / 4, 0] },
    ] as const;
    for (const c of cases) {
      const target = mat4FromRpy([...c.rpy], [...c.xyz]);
      const s = sim.solveArmIk(target, [[0, -0.3, 0, -2.2, 0, 2.0, 0.785], [...PANDA_HOME]]);
      assert.ok(s.posError < 2e-3 && s.rotError < 1e-2, JSON.stringify(s));
      sim.reset({}, PANDA_HOME);
      sim.setArmTargets(s.q);
      sim.step(1000);
      const e = poseError(sim.tcpPose(), target);
      assert.ok(Math.hypot(e[0]!, e[1]!, e[2]!) < 0.01, `tracking error ${Math.hypot(e[0]!, e[1]!, e[2]!)}`);
    }
    sim.reset();
    sim.setGripper(0);
    sim.step(300);
    assert.ok(sim.gripperOpening() < 0.005, `fingers close: ${sim.gripperOpening()}`);
  } finally {
    sim.dispose();
  }
});
