import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateObject } from '../src/dataset/categories.js';
import { derivePolicyFromUrdf, openingRange } from '../src/policy/derive.js';
import { createOpeningEnv, pathReach } from '../src/policy/env.js';
import { evaluatePolicy } from '../src/policy/evaluate.js';
import { writeObjectUrdf, writePartNetFixture } from '../src/policy/fixtures.js';
import { graspFrame, openingFrame, policyJointValue } from '../src/policy/geometry.js';
import { parseOpeningPolicy, parseOpeningPolicyJson } from '../src/policy/schema.js';
import { trainPolicy } from '../src/policy/train.js';
import { runSimTaskLocal } from '../src/sim/task.js';

const dir = await mkdtemp(join(tmpdir(), 'partrm-policy-test-'));
test.after(() => rm(dir, { recursive: true, force: true }));

// storage_furniture 100007 has a drawer (joint_drawer_2_0) and a side-hinged door (joint_door_1_0).
const obj = generateObject('storage_furniture', 100007);
const urdf = await writeObjectUrdf(obj, join(dir, 'sf'));
const drawerJoint = obj.joints.find((j) => j.type === 'prismatic')!;
const doorJoint = obj.joints.find((j) => j.type === 'revolute')!;

test('policies are derived from the URDF joint and the handle geometry', () => {
  const drawer = derivePolicyFromUrdf(urdf, drawerJoint.name, 'drawer');
  assert.equal(drawer.joint.type, 'prismatic');
  assert.deepEqual(drawer.joint.axis, drawerJoint.axis);
  assert.deepEqual(drawer.approach, drawerJoint.axis.map((v) => -v + 0));
  assert.equal(drawer.meta?.graspSource, 'handle geometry');
  // the handle of the ground truth (child frame) = origin + handle for an unrotated joint frame
  drawerJoint.handle.forEach((v, k) => assert.ok(Math.abs(drawer.grasp[k]! - (drawerJoint.origin[k]! + v)) < 0.02, `grasp ${drawer.grasp} vs handle`));
  const door = derivePolicyFromUrdf(urdf, doorJoint.name, 'door');
  assert.equal(door.joint.type, 'revolute');
  // the arc: the grasp point moves on a circle about the axis
  const f0 = graspFrame(door);
  const f1 = openingFrame(door, f0, policyJointValue(door, 1), 0);
  const r = (m: Float64Array) => Math.hypot(m[3]! - door.joint.origin[0], m[7]! - door.joint.origin[1]);
  assert.ok(Math.abs(r(f0) - r(f1)) < 1e-6);
  assert.deepEqual(openingRange(-1.5, 0), { closed: 0, open: -1.5, sign: -1 });
  const explicit = derivePolicyFromUrdf(urdf, drawerJoint.name, 'drawer', { grasp: [1, 2, 3] });
  assert.deepEqual(explicit.grasp, [1, 2, 3]);
  // The operator's drag start recorded beside an extracted URDF (articulation.json "grasp").
  writeFileSync(join(dir, 'sf', 'articulation.json'), JSON.stringify({ joints: [], grasp: [0.4, 0.1, 0.5] }));
  try {
    assert.deepEqual(derivePolicyFromUrdf(urdf, drawerJoint.name, 'drawer').grasp, [0.4, 0.1, 0.5]);
    assert.deepEqual(derivePolicyFromUrdf(urdf, drawerJoint.name, 'drawer', { grasp: [1, 2, 3] }).grasp, [1, 2, 3], '--grasp wins');
  } finally {
    rmSync(join(dir, 'sf', 'articulation.json'));
  }
  assert.throws(() => derivePolicyFromUrdf(urdf, 'nope', 'drawer'), /no joint named "nope"/);
  assert.throws(() => derivePolicyFromUrdf(join(dir, 'missing.urdf'), 'j', 'drawer'), /PolicyDerive: cannot read URDF/);
});

test('policy.json validation names the field and what was expected', () => {
  const good = derivePolicyFromUrdf(urdf, drawerJoint.name, 'drawer');
  const roundTrip = JSON.parse(JSON.stringify(good));
  assert.deepEqual(parseOpeningPolicy(roundTrip), roundTrip);
  const cases: Array<[(p: Record<string, any>) => void, RegExp]> = [
    [(p) => (p.version = 2), /version/],
    [(p) => (p.task = 'lid'), /task/],
    [(p) => (p.joint.axis = [0, 0, 2]), /joint\.axis: must be a unit vector/],
    [(p) => (p.joint.limits = [1, 0]), /joint\.limits: lower must be < upper/],
    [(p) => (p.params.speed = -1), /params\.speed/],
    [(p) => (p.grasp = [0, 0]), /grasp/],
  ];
  for (const [mutate, re] of cases) {
    const p = JSON.parse(JSON.stringify(good));
    mutate(p);
    assert.throws(() => parseOpeningPolicy(p, 'p.json'), (e: Error) => /^OpeningPolicy: p\.json: /.test(e.message) && re.test(e.message));
  }
  assert.throws(() => parseOpeningPolicyJson('{', 'x.json'), /OpeningPolicy: x\.json is not valid JSON/);
});

test('the derived policy opens the procedural drawer and door from 20% to >= 90% (real simulation)', async () => {
  for (const [joint, task] of [[drawerJoint.name, 'drawer'], [doorJoint.name, 'door']] as const) {
    const policy = derivePolicyFromUrdf(urdf, joint, task);
    const env = await createOpeningEnv(urdf, joint, policy);
    try {
      const r = evaluatePolicy(env, policy, { trials: 1, seed: 5, perturbation: { fraction: 0, robotQ: 0, objectXyz: 0, objectYaw: 0 } });
      assert.equal(r.trials, 1);
      assert.ok(r.rollouts[0]!.grasped, `${joint}: grasped`);
      assert.equal(r.successRate, 1, `${joint}: final ${r.finalStates} of ${env.joint.lower}..${env.joint.upper}`);
      assert.ok(r.rollouts[0]!.trace.t.length > 10);
    } finally {
      env.dispose();
    }
  }
});

test('a fridge door (0.77 m arc): the robot base is re-ranked by collision-free kinematic reach along the whole arc', async () => {
  const fridge = generateObject('refrigerator', 100020);
  const furl = await writeObjectUrdf(fridge, join(dir, 'fridge'));
  const fj = fridge.joints.find((j) => j.type === 'revolute')!;
  const policy = derivePolicyFromUrdf(furl, fj.name, 'door');
  const shell = await createOpeningEnv(furl, fj.name, policy, { reachPlacement: false });
  const ranked = await createOpeningEnv(furl, fj.name, policy);
  try {
    const seeds = [[0, -0.3, 0, -2.2, 0, 2.0, 0.785], [0, 0.2, 0, -1.8, 0, 1.6, -0.785], [0, -0.2, 0, -2.4, 1.0, 2.4, 2.35]];
    const a = pathReach(shell.sim, shell.joint, policy, seeds);
    const b = pathReach(ranked.sim, ranked.joint, policy, seeds);
    assert.ok(b.reached > a.reached, `reach from the re-ranked base ${b.reached} vs the shell placement ${a.reached}`);
    const p0 = shell.sim.linkPose('panda_link0');
    const p1 = ranked.sim.linkPose('panda_link0');
    assert.ok(Math.hypot(p0[3]! - p1[3]!, p0[7]! - p1[7]!, p0[11]! - p1[11]!) > 0.05, 'the base moved');
  } finally {
    shell.dispose();
    ranked.dispose();
  }
});

test('the PartNet-layout fixture drawer opens with the derived policy (handle from the front-most geometry)', async () => {
  const fx = await writePartNetFixture(join(dir, 'partnet'));
  const policy = derivePolicyFromUrdf(fx.urdf, fx.drawer, 'drawer');
  const env = await createOpeningEnv(fx.urdf, fx.drawer, policy);
  try {
    const r = evaluatePolicy(env, policy, { trials: 1, seed: 3, perturbation: { fraction: 0, robotQ: 0, objectXyz: 0, objectYaw: 0 } });
    assert.equal(r.successRate, 1, `final ${r.finalStates}`);
  } finally {
    env.dispose();
  }
});

test('CEM training runs within its budget, keeps a valid policy, and is deterministic', async () => {
  const initial = derivePolicyFromUrdf(urdf, drawerJoint.name, 'drawer');
  const env = await createOpeningEnv(urdf, drawerJoint.name, initial);
  try {
    const progress: number[] = [];
    const a = trainPolicy(env, initial, { iterations: 1, population: 2, seed: 9, trialsPerCandidate: 1, validationStarts: 1, onProgress: (done) => progress.push(done) });
    assert.equal(a.evaluations, 2);
    assert.deepEqual(progress, [1, 2]);
    parseOpeningPolicy(a.policy);
    const b = trainPolicy(env, initial, { iterations: 1, population: 2, seed: 9, trialsPerCandidate: 1, validationStarts: 1 });
    assert.deepEqual(a.policy.params, b.policy.params);
    assert.throws(() => trainPolicy(env, initial, { iterations: 0, population: 2, seed: 1 }), /iterations must be an integer/);
  } finally {
    env.dispose();
  }
});

test('runSimTaskLocal: evaluate task on a bundle dir; paths must stay inside the bundle', async () => {
  const policy = derivePolicyFromUrdf(urdf, drawerJoint.name, 'drawer');
  const fractions: number[] = [];
  const r = await runSimTaskLocal(join(dir, 'sf'), { kind: 'evaluate', urdf: 'object.urdf', joint: drawerJoint.name, task: 'drawer', policy, trials: 1, seed: 2 }, (f) => fractions.push(f));
  assert.equal(r.kind, 'evaluate');
  assert.equal(r.trials, 1);
  assert.equal(r.finalStates.length, 1);
  assert.deepEqual(fractions, [1]);
  assert.ok(r.trajectory && r.trajectory.t.length === r.trajectory.joint.length);
  for (const bad of ['../sf/object.urdf', '/etc/passwd', 'a\\b.urdf']) {
    await assert.rejects(runSimTaskLocal(join(dir, 'sf'), { kind: 'evaluate', urdf: bad, joint: 'j', task: 'drawer', policy }), /SimTask: urdf/);
  }
  await assert.rejects(runSimTaskLocal(join(dir, 'sf'), { kind: 'evaluate', urdf: 'object.urdf', joint: drawerJoint.name, task: 'drawer' }), /needs a policy/);
});
