/**
 * IsaacGymBackend's code paths end to end on a KINEMATIC stand-in for Isaac Gym
 * (test/fixtures/fake_isaacgym: URDF forward kinematics, DOFs that track their targets, a grip
 * that latches when the fingers close at the handle). Real Isaac Gym is not installable here; this
 * checks the backend's plumbing (asset options, lookups by name, tensor layout, episode
 * controller, IK, robot placement, evaluate/train results that the protocol accepts), not physics.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateObject } from '../src/dataset/categories.js';
import { derivePolicyFromUrdf } from '../src/policy/derive.js';
import { makeMessage, parseMessage, serialiseMessage } from '../src/sim/protocol.js';
import type { SimTaskResult, SimTaskSpec } from '../src/sim/task.js';
import { type WrittenObject, writeObjectUrdf } from './fixtures/sim-object.js';

const PYTHON = '/usr/bin/python3';
const hasNumpy = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const skip = hasNumpy ? false : `${PYTHON} lacks numpy`;
const PYTHONPATH = [resolve('isaac'), resolve('test/fixtures/fake_isaacgym')].join(':');

let root = '';
let drawer: WrittenObject;
let door: WrittenObject;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'partrm-isaac-fake-'));
  const seedWith = (type: 'prismatic' | 'revolute') => {
    for (let s = 1; s < 200; s++) if (generateObject('storage_furniture', s).joints[0]?.type === type) return s;
    throw new Error(`no storage_furniture with a ${type} first joint`);
  };
  drawer = writeObjectUrdf(join(root, 'drawer'), 'storage_furniture', seedWith('prismatic'));
  door = writeObjectUrdf(join(root, 'door'), 'storage_furniture', seedWith('revolute'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** `bundleFranka`: ship the Panda in the bundle (franka/panda.urdf) instead of passing --franka. */
function runBackend(obj: WrittenObject, spec: SimTaskSpec, handle: readonly number[], bundleFranka = false): { result: SimTaskResult; progress: string[] } {
  if (bundleFranka) {
    mkdirSync(join(obj.dir, 'franka'), { recursive: true });
    copyFileSync(resolve('urdf_templates/panda/panda.urdf'), join(obj.dir, 'franka', 'panda.urdf'));
  }
  const script = `
import json, sys
from partrm_isaac.gym_backend import IsaacGymBackend
d = json.load(sys.stdin)
progress = []
b = IsaacGymBackend(device="cpu", franka_urdf=d["franka"]) if d["franka"] else IsaacGymBackend(device="cpu")
r = b.run(d["dir"], d["spec"], lambda f, m: progress.append("%.2f %s" % (f, m)), lambda: False)
print(json.dumps({"result": r, "progress": progress}))
`;
  const r = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify({ dir: obj.dir, spec, franka: bundleFranka ? null : resolve('urdf_templates/panda/panda.urdf') }),
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH, PARTRM_FAKE_HANDLE: handle.join(','), PARTRM_FAKE_JOINT: spec.joint },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { result: SimTaskResult; progress: string[] };
}

for (const which of ['drawer', 'door'] as const) {
  test(`IsaacGymBackend evaluates a ${which} policy end to end on the kinematic stand-in`, { skip, timeout: 240_000 }, (t) => {
    const obj = which === 'drawer' ? drawer : door;
    const joint = obj.joints[0]!;
    const policy = derivePolicyFromUrdf(join(obj.dir, obj.urdf), joint.name, which, { root: obj.dir });
    const trials = which === 'drawer' ? 2 : 1; // two envs side by side once; one is enough for the arc
    const spec: SimTaskSpec = { kind: 'evaluate', urdf: obj.urdf, joint: joint.name, task: which, policy, trials, seed: 4 };
    const t0 = Date.now();
    const { result, progress } = runBackend(obj, spec, policy.grasp, which === 'door');
    // The result is what the protocol accepts as a result message.
    const parsed = parseMessage(serialiseMessage(makeMessage({ type: 'result', taskId: 't', result })));
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
    assert.equal(result.trials, trials);
    assert.equal(result.finalStates.length, trials);
    for (const q of result.finalStates) assert.ok(q >= joint.lower - 1e-6 && q <= joint.upper + 1e-6, `final ${q}`);
    assert.ok(progress.some((p) => p.startsWith('1.00')));
    t.diagnostic(`${which} (${joint.type}, range ${joint.lower}..${joint.upper}): success ${result.successRate} over ${trials} trial(s), final states ${result.finalStates.map((q) => q.toFixed(3)).join(', ')} in ${Date.now() - t0} ms`);
    // The controller reaches the handle, closes on it and follows the line/arc: the part opens.
    assert.equal(result.successRate, 1, `final states ${result.finalStates.join(', ')}`);
  });
}

test('IsaacGymBackend trains with CEM over parallel envs and returns a policy', { skip, timeout: 240_000 }, () => {
  const joint = drawer.joints[0]!;
  const policy = derivePolicyFromUrdf(join(drawer.dir, drawer.urdf), joint.name, 'drawer', { root: drawer.dir });
  const spec: SimTaskSpec = { kind: 'train', urdf: drawer.urdf, joint: joint.name, task: 'drawer', policy, trials: 1, budget: { iterations: 1, population: 2 }, seed: 2 };
  const { result, progress } = runBackend(drawer, spec, policy.grasp);
  assert.equal(result.kind, 'train');
  assert.ok(result.policy, 'a trained policy');
  const trained = result.policy as unknown as { params: Record<string, number>; meta: Record<string, unknown>; joint: unknown };
  assert.deepEqual(trained.joint, policy.joint);
  assert.equal(trained.meta.trainedWith, 'cem-isaacgym');
  assert.ok(progress.some((p) => p.includes('iteration 1/1')), progress.join('; '));
  assert.ok(parseMessage(serialiseMessage(makeMessage({ type: 'result', taskId: 't', result }))).ok);
});
