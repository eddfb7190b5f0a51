/**
 * The Isaac Gym backend re-implements the opening-policy semantics in numpy
 * (isaac/partrm_isaac/policy.py). This pins it to the TypeScript originals (src/policy/geometry.ts,
 * src/sim/mujoco/ik.ts): grasp frames, opening frames along the line/arc, joint values, pose error
 * and the DLS step must agree to 1e-9.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { dlsStep, IK_LAMBDA, poseError } from '../src/sim/mujoco/ik.js';
import { defaultParams, paramRanges } from '../src/policy/derive.js';
import { PULL_ROT_WEIGHT } from '../src/policy/rollout.js';
import { graspFrame, openingFrame, policyJointValue } from '../src/policy/geometry.js';
import type { OpeningPolicy } from '../src/policy/types.js';

const PYTHON = '/usr/bin/python3';
const hasNumpy = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

const drawer: OpeningPolicy = {
  version: 1,
  task: 'drawer',
  jointName: 'drawer_joint',
  joint: { type: 'prismatic', axis: [0.9950371902, 0.0995037190, 0], origin: [0.3, 0, 0.5], limits: [0, 0.4] },
  grasp: [0.42, 0.05, 0.61],
  approach: [-0.9950371902, -0.0995037190, 0],
  handleAxis: [-0.0995037190, 0.9950371902, 0],
  openSign: 1,
  params: { ...defaultParams('prismatic'), graspDepth: 0.01, graspLateral: -0.02, graspVertical: 0.005 },
};
const door: OpeningPolicy = {
  version: 1,
  task: 'door',
  jointName: 'door_joint',
  joint: { type: 'revolute', axis: [0, 0, 1], origin: [0.35, -0.3, 0.4], limits: [-1.57, 0] },
  grasp: [0.4, 0.25, 0.7],
  approach: [-1, 0, 0],
  handleAxis: [0, 0, 1],
  openSign: -1,
  params: { ...defaultParams('revolute'), arcRadiusScale: 0.92, wristFollow: 0.4, approachPitch: 0.6, overshoot: 0.12 },
};
const lid: OpeningPolicy = { ...door, joint: { ...door.joint, axis: [0, 1, 0] }, approach: [0, 0, -1], handleAxis: [0, 1, 0], params: { ...door.params, wristFollow: 1, arcRadiusScale: 1 } };

test('numpy policy geometry and DLS IK match the TypeScript originals', { skip: hasNumpy ? false : `${PYTHON} lacks numpy` }, () => {
  const cases = [drawer, door, lid].map((policy) => {
    const frames = [false, true].map((flip) => {
      const f0 = graspFrame(policy, flip);
      const qs = [0.2, 0.55, 1.1].map((fr) => policyJointValue(policy, fr));
      return { flip, grasp: [...f0], opening: qs.map((q) => [...openingFrame(policy, f0, q, qs[0]!)]), qs };
    });
    return { policy, frames };
  });
  // A deterministic 6x7 Jacobian and an error.
  const J = Float64Array.from({ length: 42 }, (_, i) => Math.sin(i * 1.7 + 0.3) * 0.6);
  const cur = graspFrame(door);
  const tgt = openingFrame(door, cur, -0.4, 0);
  const e = poseError(cur, tgt);
  const eHeld = poseError(cur, tgt, PULL_ROT_WEIGHT);
  const rest = [0, -0.3, 0, -2.2, 0, 2, 0.785];
  const q = [0.1, -0.2, 0.05, -2.0, 0.1, 1.9, 0.7];
  const dq = dlsStep(J, e, 7, IK_LAMBDA, rest, q, 0.02);
  // Default tunables and CEM search ranges are the TypeScript ones too.
  const params = Object.fromEntries((['prismatic', 'revolute'] as const).map((t) => [t, { defaults: defaultParams(t), ranges: paramRanges(t) }]));
  const payload = { cases, params, ik: { J: [...J], cur: [...cur], tgt: [...tgt], e: [...e], eHeld: [...eHeld], pullRotWeight: PULL_ROT_WEIGHT, rest, q, dq: [...dq] } };
  const script = `
import json, sys
import numpy as np
from partrm_isaac import policy as P
d = json.load(sys.stdin)
worst = 0.0
def cmp(a, b):
    global worst
    worst = max(worst, float(np.max(np.abs(np.asarray(a, dtype=float).ravel() - np.asarray(b, dtype=float).ravel()))))
for c in d["cases"]:
    pol = c["policy"]
    for fr in c["frames"]:
        f0 = P.grasp_frame(pol, fr["flip"])
        cmp(f0, fr["grasp"])
        qs = [P.policy_joint_value(pol, x) for x in (0.2, 0.55, 1.1)]
        cmp(qs, fr["qs"])
        for q, want in zip(qs, fr["opening"]):
            cmp(P.opening_frame(pol, f0, q, qs[0]), want)
for t, want in d["params"].items():
    if P.default_params(t) != want["defaults"]:
        sys.exit("default_params(%s) differs: %r vs TypeScript %r" % (t, P.default_params(t), want["defaults"]))
    got = {k: list(v) for k, v in P.param_ranges(t).items()}
    if got != want["ranges"]:
        sys.exit("param_ranges(%s) differs: %r vs TypeScript %r" % (t, got, want["ranges"]))
ik = d["ik"]
cur = np.array(ik["cur"]).reshape(4, 4); tgt = np.array(ik["tgt"]).reshape(4, 4)
e = P.pose_error(cur, tgt)
cmp(e, ik["e"])
if P.PULL_ROT_WEIGHT != ik["pullRotWeight"]:
    sys.exit("PULL_ROT_WEIGHT differs: %r vs TypeScript %r" % (P.PULL_ROT_WEIGHT, ik["pullRotWeight"]))
cmp(P.pose_error(cur, tgt, P.PULL_ROT_WEIGHT), ik["eHeld"])
J = np.array(ik["J"]).reshape(6, 7)
cmp(P.dls_step(J, e, P.IK_LAMBDA, np.array(ik["rest"]), np.array(ik["q"]), 0.02), ik["dq"])
print(json.dumps({"worst": worst}))
`;
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(payload), env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: resolve('isaac') }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { worst } = JSON.parse(r.stdout) as { worst: number };
  assert.ok(worst < 1e-9, `largest difference ${worst}`);
});

test('the numpy episode controller runs the full phase schedule and the robot is placed in front of the part', { skip: hasNumpy ? false : `${PYTHON} lacks numpy` }, () => {
  const script = `
import json, sys
import numpy as np
from partrm_isaac import policy as P
pol = json.load(sys.stdin)
c = P.OpeningController(pol, -1.57, 0.0, 0.2, np.eye(4), [0]*7)
phases = [c.target(t)[0] for t in np.arange(0, c.duration, 0.05)]
base, margin = P.place_robot(pol, [pol["grasp"]], 0.42, P.handle_sweep_points(pol))
# Before the pull the grasp follows the observed joint (the door bumped to 15% open); the pull then
# starts from the last observed value and is not moved by later observations.
d = P.OpeningController(pol, -1.57, 0.0, 0.2, np.eye(4), [0]*7)
g0 = d.target(P.T_REACH + P.T_APPROACH)[1]
d.observe(-1.57 * 0.15)
g1 = d.target(P.T_REACH + P.T_APPROACH)[1]
want = P.opening_frame(pol, d.frame0, P.policy_joint_value(pol, 0.15), P.policy_joint_value(pol, 0.15))
pull0 = d.target(P.T_REACH + P.T_APPROACH + P.T_CLOSE)[1]
d.observe(-1.57 * 0.5)
pull1 = d.target(P.T_REACH + P.T_APPROACH + P.T_CLOSE)[1]
stored = dict(pol); stored["robotBase"] = [1, 0, 0, 2.0, 0, 1, 0, -0.5, 0, 0, 1, 0.1, 0, 0, 0, 1]
sbase, _m = P.place_robot(stored, [pol["grasp"]], 0.42, P.handle_sweep_points(pol))
print(json.dumps({"phases": sorted(set(phases)), "duration": c.duration, "base": base[:3, 3].tolist(), "margin": margin, "storedBase": sbase.ravel().tolist(),
  "moved": float(np.linalg.norm(g1[:3, 3] - g0[:3, 3])), "tracks": float(np.max(np.abs(g1 - want))), "pullFixed": float(np.max(np.abs(pull1 - pull0)))}))
`;
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(door), env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: resolve('isaac') }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { phases: string[]; duration: number; base: number[]; margin: number; moved: number; tracks: number; pullFixed: number; storedBase: number[] };
  // A policy that carries the stance it was trained from is placed there.
  assert.deepEqual(out.storedBase, [1, 0, 0, 2.0, 0, 1, 0, -0.5, 0, 0, 1, 0.1, 0, 0, 0, 1]);
  assert.ok(out.moved > 0.01 && out.tracks < 1e-12, JSON.stringify(out));
  assert.ok(out.pullFixed < 1e-12, JSON.stringify(out));
  assert.deepEqual(out.phases, ['approach', 'close', 'hold', 'pull', 'reach']);
  // 1.0 reach + 0.85 approach + 0.35 close + pull (|q range| * 1.12 / 0.5 rad/s, capped at 8 s) + 0.4 hold
  assert.ok(Math.abs(out.duration - (2.6 + Math.min(8, (1.57 * (1.12 - 0.2)) / 0.5))) < 1e-9, String(out.duration));
  // The base stands in front of the door (approach -x => base at larger x than the handle).
  assert.ok(out.base[0]! > door.grasp[0] + 0.3, JSON.stringify(out.base));
});
