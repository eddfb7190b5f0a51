import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCase } from '../src/articulation/cases.js';
import { extractArticulation, writeArticulationOutputs } from '../src/articulation/extract.js';
import { parseObj } from '../src/articulation/mesh.js';
import { rigidApply } from '../src/articulation/rigid.js';
import { transformPoints } from '../src/core/math.js';
import { decodePngRgba } from '../src/core/image.js';
import { checkUrdf } from '../src/urdf/check.js';
import { renderArticulatedUrdf, writeArticulatedUrdf, type ArticulatedUrdfSpec } from '../src/urdf/writer.js';
import { loadUrdfModel } from '../src/sim/mujoco/urdf.js';
import { readUrdfText, urdfLinkPoses } from '../src/sim/mujoco/urdf-read.js';
import { parseWithUrdfLoader } from './support/urdf-loader.js';

test('extracted articulation writes a URDF that check_urdf, MuJoCo and urdf-loader accept, and its joint maps the part onto the dragged state', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'partrm-urdf-'));
  try {
    const k = makeCase('microwave', 7);
    const x = await extractArticulation({ initial: { positions: k.initial }, dragged: { positions: k.dragged }, name: 'micro<wave> & "co"' });
    const out = join(dir, 'out');
    const files = await writeArticulationOutputs(out, x);
    assert.deepEqual(Object.keys(files).sort(), ['articulation.json', 'articulation.png', 'base.obj', 'object.urdf', 'part.obj']);
    assert.deepEqual(readdirSync(dir), ['out'], 'no temporary directory left behind');
    const json = JSON.parse(readFileSync(files['articulation.json']!, 'utf8'));
    assert.equal(json.joints.length, 1);
    for (const key of ['type', 'axis', 'origin', 'motion', 'limits', 'confidence']) assert.ok(key in json.joints[0], key);
    const png = decodePngRgba(readFileSync(files['articulation.png']!));
    assert.ok(png.width > 100 && png.height > 100);

    const urdf = files['object.urdf']!;
    const text = readFileSync(urdf, 'utf8');
    assert.match(text, /<robot name="micro&lt;wave&gt; &amp; &quot;co&quot;">/);
    assert.match(text, /filename="base\.obj"/);
    assert.match(text, /<inertial>/);
    assert.match(text, /<box size=/);
    const chk = await checkUrdf(urdf);
    assert.ok(chk.ok, chk.output);
    const parsed = await parseWithUrdfLoader(urdf);
    assert.deepEqual(parsed.joints.map((j) => j.type), ['revolute']);

    // Moving the URDF joint by `motion` carries the part's mesh exactly as the fitted motion does.
    const robot = readUrdfText(text, urdf);
    const joint = robot.joints[0]!;
    const poses = urdfLinkPoses(robot, { [joint.name]: x.fit.motion });
    const partVisual = robot.links.find((l) => l.name === joint.child)?.visuals[0];
    assert.ok(partVisual);
    const partObj = parseObj(readFileSync(join(out, 'part.obj'), 'utf8'));
    const visualOffset = partVisual!.origin.xyz;
    const pose = poses.get(joint.child)!;
    for (let i = 0; i < partObj.positions.length; i += 3 * 97) {
      const local: [number, number, number] = [partObj.positions[i]! + visualOffset[0], partObj.positions[i + 1]! + visualOffset[1], partObj.positions[i + 2]! + visualOffset[2]];
      const viaUrdf = transformPoints(pose, Float32Array.of(...local));
      const viaFit = rigidApply(x.fit.transform, [partObj.positions[i]!, partObj.positions[i + 1]!, partObj.positions[i + 2]!]);
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(viaUrdf[c]! - viaFit[c]!) < 1e-3, `vertex ${i / 3}: ${viaUrdf[c]} vs ${viaFit[c]}`);
    }

    // MuJoCo loads it and agrees on the part pose at the dragged state.
    const m = await loadUrdfModel(urdf);
    try {
      const [jn] = m.jointNames();
      m.setJointPositions({ [jn!]: x.fit.motion });
      m.forward();
      const mj = m.bodyPose(joint.child);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) assert.ok(Math.abs(mj[r * 4 + c]! - pose[r * 4 + c]!) < 1e-4, `pose[${r},${c}]`);
    } finally {
      m.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const spec = (over: Partial<ArticulatedUrdfSpec> = {}): ArticulatedUrdfSpec => ({
  name: 'cabinet',
  joint: { type: 'prismatic', axis: [1, 0, 0], origin: [0.3, 0, 0.2], lower: 0, upper: 0.25 },
  baseMesh: 'base.obj',
  partMesh: 'part.obj',
  baseBoxes: [{ center: [0, 0, 0.3], size: [0.5, 0.6, 0.02] }, { center: [0, 0, 0.01], size: [0.5, 0.6, 0.02] }],
  partBoxes: [{ center: [0.3, 0, 0.2], size: [0.02, 0.5, 0.2] }],
  ...over,
});

test('URDF writer: link masses are those of hollow panels (solid boxes capped by a 4 kg/m^2 shell)', () => {
  const massOf = (text: string, link: string): number => Number(new RegExp(`<link name="${link}">[\\s\\S]*?<mass value="([^"]+)"`).exec(text)![1]);
  // A thin 2 cm door panel: its solid mass (0.6 x 0.8 x 0.02 m at 300 kg/m^3 = 2.88 kg) stands.
  const thin = renderArticulatedUrdf(spec({ partBoxes: [{ center: [0.3, 0, 0.2], size: [0.02, 0.6, 0.8] }] }));
  assert.ok(Math.abs(massOf(thin, 'drawer') - 2.88) < 1e-3, thin);
  // The same door as a 10 cm slab (blurred, thick points): 14.4 kg solid, capped by the shell.
  const slab = renderArticulatedUrdf(spec({ partBoxes: [{ center: [0.3, 0, 0.2], size: [0.1, 0.6, 0.8] }] }));
  assert.ok(Math.abs(massOf(slab, 'drawer') - 4 * 2 * (0.06 + 0.48 + 0.08)) < 1e-3, slab);
});

test('URDF writer picks the template by joint type and rejects bad specs before writing', async () => {
  const drawer = renderArticulatedUrdf(spec());
  assert.match(drawer, /partrm template: a drawer/);
  assert.match(drawer, /type="prismatic"/);
  assert.match(drawer, /effort="100" velocity="0.5"/);
  const door = renderArticulatedUrdf(spec({ joint: { type: 'revolute', axis: [0, 0, 2], origin: [0.3, -0.3, 0], lower: 0, upper: 1.2 } }));
  assert.match(door, /partrm template: a door or lid/);
  assert.match(door, /<axis xyz="0 0 1"\/>/, 'axis normalised');
  const generic = renderArticulatedUrdf(spec({ template: 'object' }));
  assert.match(generic, /type="prismatic"/);
  const cases: Array<[string, Partial<ArticulatedUrdfSpec>, RegExp]> = [
    ['zero axis', { joint: { type: 'prismatic', axis: [0, 0, 0], origin: [0, 0, 0], lower: 0, upper: 1 } }, /UrdfWriter: joint axis is zero/],
    ['NaN origin', { joint: { type: 'prismatic', axis: [1, 0, 0], origin: [NaN, 0, 0], lower: 0, upper: 1 } }, /joint origin must be 3 finite numbers/],
    ['limits', { joint: { type: 'prismatic', axis: [1, 0, 0], origin: [0, 0, 0], lower: 1, upper: 0 } }, /lower <= upper/],
    ['template mismatch', { template: 'drawer', joint: { type: 'revolute', axis: [0, 0, 1], origin: [0, 0, 0], lower: 0, upper: 1 } }, /template "drawer" does not fit a revolute joint/],
    ['absolute mesh', { baseMesh: '/etc/base.obj' }, /must be relative to the URDF/],
    ['escaping mesh', { partMesh: '../part.obj' }, /must be relative to the URDF/],
    ['no boxes', { partBoxes: [] }, /has no collision boxes/],
    ['same link names', { baseLink: 'x', partLink: 'x' }, /different names/],
  ];
  for (const [name, over, re] of cases) assert.throws(() => renderArticulatedUrdf(spec(over)), re, name);

  const dir = mkdtempSync(join(tmpdir(), 'partrm-urdfw-'));
  try {
    const path = join(dir, 'object.urdf');
    assert.throws(() => writeArticulatedUrdf(path, spec()), /mesh base\.obj is missing/);
    assert.equal(existsSync(path), false, 'nothing written on failure');
    const tri = 'v 0 0 0\nv 0.1 0 0\nv 0 0.1 0\nf 1 2 3\n';
    writeFileSync(join(dir, 'base.obj'), tri);
    writeFileSync(join(dir, 'part.obj'), tri);
    assert.throws(() => writeArticulatedUrdf(path, spec()), /mesh base\.obj has 3 vertices; simulators need at least 4/);
    const tet = 'v 0 0 0\nv 0.1 0 0\nv 0 0.1 0\nv 0 0 0.1\nf 1 3 2\nf 1 2 4\nf 2 3 4\nf 3 1 4\n';
    writeFileSync(join(dir, 'base.obj'), tet);
    writeFileSync(join(dir, 'part.obj'), tet);
    writeArticulatedUrdf(path, spec({ name: 'a&b' }));
    const chk = await checkUrdf(path);
    assert.ok(chk.ok, chk.output);
    const m = await loadUrdfModel(path);
    assert.deepEqual(m.jointNames(), ['joint_drawer']);
    m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
