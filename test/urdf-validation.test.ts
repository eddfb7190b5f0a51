import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mat4, Vec3 } from '../src/core/math.js';
import { mat4AxisAngle, mat4FromRpy, mat4Multiply, mat4Translation, vec3 } from '../src/core/math.js';
import { checkUrdf } from '../src/urdf/check.js';
import { getMujoco, mujocoFS } from '../src/sim/mujoco/runtime.js';
import { injectMujocoCompiler, loadUrdfModel } from '../src/sim/mujoco/urdf.js';
import { parseWithUrdfLoader } from './support/urdf-loader.js';

// ---------------------------------------------------------------------------------------------
// Fixture: base (box collision + OBJ visual), drawer on a prismatic joint, door on a revolute
// joint whose axis is not a world axis and whose origin has both offset and rotation.

const SLIDE = { xyz: [0.1, 0.0, 0.2] as Vec3, rpy: [0, 0, 0.3] as Vec3, axis: [1, 0, 0] as Vec3, lower: 0, upper: 0.3 };
const HINGE = { xyz: [-0.1, 0.2, 0.3] as Vec3, rpy: [0.1, 0.2, 0.3] as Vec3, axis: [0.3, 0.5, 0.8] as Vec3, lower: -1.5, upper: 1.5 };

const CUBE_OBJ = `# unit-ish cube
mtllib base.mtl
o cube
v -0.1 -0.1 -0.1
v 0.1 -0.1 -0.1
v 0.1 0.1 -0.1
v -0.1 0.1 -0.1
v -0.1 -0.1 0.1
v 0.1 -0.1 0.1
v 0.1 0.1 0.1
v -0.1 0.1 0.1
usemtl body
f 1 3 2
f 1 4 3
f 5 6 7
f 5 7 8
f 1 2 6
f 1 6 5
f 2 3 7
f 2 7 6
f 3 4 8
f 3 8 7
f 4 1 5
f 4 5 8
`;
const CUBE_MTL = 'newmtl body\nKd 0.8 0.2 0.2\n';

const inertial = (mass: number, xyz = '0 0 0') =>
  `<inertial><origin xyz="${xyz}" rpy="0 0 0"/><mass value="${mass}"/>` +
  `<inertia ixx="0.001" ixy="0" ixz="0" iyy="0.001" iyz="0" izz="0.001"/></inertial>`;

function fixtureUrdf(opts: { mesh?: string; slideLimit?: string; mujocoBlock?: string } = {}): string {
  const mesh = opts.mesh ?? 'meshes/base.obj';
  const slideLimit = opts.slideLimit ?? `<limit lower="${SLIDE.lower}" upper="${SLIDE.upper}" effort="10" velocity="1"/>`;
  return `<?xml version="1.0"?>
<!-- <robot name="decoy"> inside a comment must be ignored -->
<robot name="fixture">${opts.mujocoBlock ?? ''}
  <link name="base">
    ${inertial(2)}
    <visual><origin xyz="0 0 0" rpy="0 0 0"/><geometry><mesh filename="${mesh}"/></geometry></visual>
    <collision><origin xyz="0 0 0.05" rpy="0 0 0"/><geometry><box size="0.2 0.2 0.1"/></geometry></collision>
  </link>
  <link name="drawer">
    ${inertial(0.5, '0.01 0 0')}
    <collision><origin xyz="0 0 0" rpy="0 0 0"/><geometry><box size="0.1 0.1 0.05"/></geometry></collision>
  </link>
  <link name="door">
    ${inertial(0.3, '0 0.05 0')}
    <collision><origin xyz="0 0.05 0" rpy="0.3 0 0"/><geometry><cylinder radius="0.02" length="0.1"/></geometry></collision>
  </link>
  <joint name="slide" type="prismatic">
    <parent link="base"/><child link="drawer"/>
    <origin xyz="${SLIDE.xyz.join(' ')}" rpy="${SLIDE.rpy.join(' ')}"/>
    <axis xyz="${SLIDE.axis.join(' ')}"/>
    ${slideLimit}
    <dynamics damping="0.5" friction="0.1"/>
  </joint>
  <joint name="hinge" type="revolute">
    <parent link="base"/><child link="door"/>
    <origin xyz="${HINGE.xyz.join(' ')}" rpy="${HINGE.rpy.join(' ')}"/>
    <axis xyz="${HINGE.axis.join(' ')}"/>
    <limit lower="${HINGE.lower}" upper="${HINGE.upper}" effort="5" velocity="2"/>
    <dynamics damping="0.2" friction="0.05"/>
  </joint>
</robot>
`;
}

let root: string;
/** Writes `<root>/<name>/urdf/object.urdf` + meshes/ and returns the URDF path. */
function writeObject(name: string, urdf: string, withMesh = true): string {
  const dir = join(root, name, 'urdf');
  mkdirSync(join(dir, 'meshes'), { recursive: true });
  if (withMesh) {
    writeFileSync(join(dir, 'meshes', 'base.obj'), CUBE_OBJ);
    writeFileSync(join(dir, 'meshes', 'base.mtl'), CUBE_MTL);
  }
  const path = join(dir, 'object.urdf');
  writeFileSync(path, urdf);
  return path;
}

function assertPoseClose(actual: Mat4, expected: Mat4, tol: number, label: string): void {
  for (let i = 0; i < 16; i++) {
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tol,
      `${label}: element ${i} differs: ${actual[i]} vs ${expected[i]}\nactual   ${[...actual].map((v) => v.toFixed(6))}\nexpected ${[...expected].map((v) => v.toFixed(6))}`,
    );
  }
}

const hasCheckUrdf = spawnSync('check_urdf', [], { stdio: 'ignore' }).error === undefined;

let goodUrdf: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'partrm-urdf-'));
  goodUrdf = writeObject('good', fixtureUrdf());
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('checkUrdf (urdfdom check_urdf)', { skip: hasCheckUrdf ? false : 'check_urdf not installed (liburdfdom-tools)' }, () => {
  it('accepts the fixture', async () => {
    const r = await checkUrdf(goodUrdf);
    assert.equal(r.ok, true, r.output);
    assert.match(r.output, /root Link: base has 2 child/);
  });

  it('rejects a joint limit without effort', async () => {
    const bad = writeObject('no-effort', fixtureUrdf({ slideLimit: '<limit lower="0" upper="0.3" velocity="1"/>' }));
    const r = await checkUrdf(bad);
    assert.equal(r.ok, false);
    assert.match(r.output, /no effort/);
    assert.match(r.output, /ERROR/);
  });

  it('rejects a missing file', async () => {
    const r = await checkUrdf(join(root, 'does-not-exist.urdf'));
    assert.equal(r.ok, false);
  });
});

describe('checkUrdf without the binary', () => {
  it('throws a clear error', async () => {
    await assert.rejects(
      checkUrdf(goodUrdf, { binary: join(root, 'no-such-check_urdf') }),
      /UrdfCheck: check_urdf not found; install Debian package liburdfdom-tools/,
    );
  });
});

describe('injectMujocoCompiler', () => {
  const attrs = { strippath: 'false', fusestatic: 'false' };
  it('inserts after <robot>, ignoring comments, on the same line', () => {
    const out = injectMujocoCompiler('<?xml version="1.0"?>\n<!-- <robot> -->\n<robot name="r">\n<link name="a"/></robot>', attrs);
    assert.equal(
      out,
      '<?xml version="1.0"?>\n<!-- <robot> -->\n<robot name="r"><mujoco><compiler strippath="false" fusestatic="false"/></mujoco>\n<link name="a"/></robot>',
    );
  });
  it('merges into an existing <mujoco><compiler>, keeping other attributes', () => {
    const out = injectMujocoCompiler(
      '<robot name="r"><link name="a"/><mujoco><compiler meshdir="m/" fusestatic="true"></compiler><option timestep="0.001"/></mujoco></robot>',
      attrs,
    );
    assert.equal(
      out,
      '<robot name="r"><link name="a"/><mujoco><compiler meshdir="m/" strippath="false" fusestatic="false"></compiler><option timestep="0.001"/></mujoco></robot>',
    );
  });
  it('adds a <compiler> to a <mujoco> without one', () => {
    const out = injectMujocoCompiler('<robot name="r"><mujoco><option timestep="0.001"/></mujoco></robot>', attrs);
    assert.equal(out, '<robot name="r"><mujoco><compiler strippath="false" fusestatic="false"/><option timestep="0.001"/></mujoco></robot>');
  });
  it('rejects text without <robot>', () => {
    assert.throws(() => injectMujocoCompiler('<sdf/>', attrs), /no <robot> element/);
  });
});

describe('loadUrdfModel (MuJoCo WASM)', () => {
  it('keeps every link as a body, welds the root to world and imports joints', async () => {
    const sim = await loadUrdfModel(goodUrdf);
    try {
      const m = sim.model;
      assert.deepEqual(sim.bodyNames(), ['world', 'base', 'drawer', 'door']);
      assert.deepEqual(sim.jointNames(), ['slide', 'hinge']);
      // No free joint: the root link is welded to the world body.
      assert.equal(m.njnt, 2);
      assert.equal(m.nq, 2);
      assert.equal(m.body_parentid[1], 0);
      assert.equal(m.body_jntnum[1], 0);
      // Joint types and limits (mjJNT_SLIDE = 2, mjJNT_HINGE = 3).
      assert.deepEqual([...m.jnt_type], [2, 3]);
      assert.deepEqual([...m.jnt_limited], [1, 1]);
      assert.deepEqual([...m.jnt_range], [SLIDE.lower, SLIDE.upper, HINGE.lower, HINGE.upper]);
      assert.deepEqual([...m.dof_damping], [0.5, 0.2]);
      assert.deepEqual([...m.dof_frictionloss], [0.1, 0.05]);
      // Visual OBJ kept as a non-colliding mesh geom in group 1 on the base body.
      assert.equal(m.nmesh, 1);
      const geomTypes = [...m.geom_type] as number[];
      const meshGeom = geomTypes.indexOf(7); // mjGEOM_MESH
      assert.ok(meshGeom >= 0, `no mesh geom among types ${geomTypes}`);
      assert.equal(m.geom_bodyid[meshGeom], 1);
      assert.equal(m.geom_group[meshGeom], 1);
      assert.equal(m.geom_contype[meshGeom], 0);
      assert.equal(m.geom_conaffinity[meshGeom], 0);
      // Collision primitives: 2 boxes (mjGEOM_BOX = 6) and 1 cylinder (5), group 0.
      assert.deepEqual(geomTypes.filter((t) => t !== 7).sort(), [5, 6, 6]);
      assert.deepEqual([...m.body_mass], [0, 2, 0.5, 0.3]);
    } finally {
      sim.dispose();
    }
  });

  it('places link bodies at the URDF link frames for any joint position', async () => {
    const sim = await loadUrdfModel(goodUrdf);
    try {
      const axis = vec3.normalize(HINGE.axis);
      for (const [qs, qh] of [
        [0, 0],
        [0.17, 0.6],
        [0.3, -1.2],
      ] as const) {
        sim.setJointPositions({ slide: qs, hinge: qh });
        sim.forward();
        assert.deepEqual(sim.jointPositions(), { slide: qs, hinge: qh });
        assertPoseClose(sim.bodyPose('base'), mat4FromRpy([0, 0, 0]), 1e-12, 'base');
        // child = parent * origin(xyz, rpy) * motion(axis, q); the axis is in the joint (child) frame.
        const drawer = mat4Multiply(mat4FromRpy(SLIDE.rpy, SLIDE.xyz), mat4Translation(vec3.scale(SLIDE.axis, qs)));
        const door = mat4Multiply(mat4FromRpy(HINGE.rpy, HINGE.xyz), mat4AxisAngle(axis, qh));
        assertPoseClose(sim.bodyPose('drawer'), drawer, 1e-6, `drawer q=${qs}`);
        assertPoseClose(sim.bodyPose('door'), door, 1e-6, `door q=${qh}`);
      }
    } finally {
      sim.dispose();
    }
  });

  it('reports unknown joints and bodies clearly', async () => {
    const sim = await loadUrdfModel(goodUrdf);
    try {
      assert.throws(() => sim.setJointPositions({ nope: 1 }), /MujocoUrdf: unknown joint "nope"; known: slide, hinge/);
      assert.throws(() => sim.setJointPositions({ slide: Number.NaN }), /finite number/);
      assert.throws(() => sim.bodyPose('nope'), /MujocoUrdf: unknown body "nope"/);
    } finally {
      sim.dispose();
    }
    assert.throws(() => sim.forward(), /disposed/);
    sim.dispose(); // idempotent
  });

  it('can discard visual geoms', async () => {
    const sim = await loadUrdfModel(goodUrdf, { discardVisual: true });
    try {
      assert.equal(sim.model.nmesh, 0);
      assert.equal(sim.model.ngeom, 3);
      assert.deepEqual(sim.bodyNames(), ['world', 'base', 'drawer', 'door']);
    } finally {
      sim.dispose();
    }
  });

  it('overrides conflicting settings of an existing <mujoco> element', async () => {
    const path = writeObject(
      'existing-mujoco',
      fixtureUrdf({ mujocoBlock: '<mujoco><compiler strippath="true" fusestatic="true" discardvisual="true"/></mujoco>' }),
    );
    const sim = await loadUrdfModel(path);
    try {
      assert.deepEqual(sim.bodyNames(), ['world', 'base', 'drawer', 'door']);
      assert.equal(sim.model.nmesh, 1);
    } finally {
      sim.dispose();
    }
  });

  it('fails with a clear error naming the URDF and the missing mesh, then loads the next model', async () => {
    const path = writeObject('missing-mesh', fixtureUrdf({ mesh: 'meshes/missing.obj' }));
    const meshPath = join(root, 'missing-mesh', 'urdf', 'meshes', 'missing.obj');
    await assert.rejects(loadUrdfModel(path), (err: Error) => {
      assert.ok(err.message.startsWith(`MujocoUrdf: failed to load ${path}: `), err.message);
      assert.ok(err.message.includes(meshPath), `host mesh path missing from: ${err.message}`);
      assert.ok(!err.message.includes('/partrm/'), `MEMFS path leaked into: ${err.message}`);
      return true;
    });
    const sim = await loadUrdfModel(goodUrdf);
    sim.dispose();
  });

  it('reports compiler errors (zero-mass moving body) and XML syntax errors', async () => {
    // A moving link with neither <inertial> nor collision geometry has zero mass (with
    // <inertial> missing, MuJoCo would otherwise derive mass from the collision geoms).
    const massless = writeObject(
      'massless',
      fixtureUrdf()
        .replace(inertial(0.3, '0 0.05 0'), '')
        .replace(/<collision><origin xyz="0 0.05 0"[^\n]*<\/collision>/, ''),
    );
    await assert.rejects(loadUrdfModel(massless), /MujocoUrdf: failed to load .*massless.*mass and inertia of moving bodies/s);
    const broken = writeObject('broken', fixtureUrdf().replace('</robot>', ''));
    await assert.rejects(loadUrdfModel(broken), /MujocoUrdf: failed to load .*broken.*XML parse error/s);
    await assert.rejects(loadUrdfModel(join(root, 'nope', 'object.urdf')), /MujocoUrdf: failed to load .*nope.*ENOENT/);
  });

  it('uses a separate MEMFS directory per load and removes it on dispose', async () => {
    const [a, b] = await Promise.all([loadUrdfModel(goodUrdf), loadUrdfModel(goodUrdf)]);
    const fs = mujocoFS(await getMujoco());
    assert.notEqual(a.memfsDir, b.memfsDir);
    assert.ok(fs.analyzePath(`${a.memfsDir}/meshes/base.obj`).exists);
    a.setJointPositions({ hinge: 1 });
    a.forward();
    b.forward();
    assert.notDeepEqual(a.bodyPose('door'), b.bodyPose('door'));
    a.dispose();
    assert.equal(fs.analyzePath(a.memfsDir).exists, false);
    assert.ok(fs.analyzePath(b.memfsDir).exists);
    b.dispose();
    assert.equal(fs.analyzePath(b.memfsDir).exists, false);
  });
});

describe('parseWithUrdfLoader (urdf-loader + three OBJLoader)', () => {
  it('parses links, joints, limits and loads the OBJ meshes', async () => {
    const r = await parseWithUrdfLoader(goodUrdf);
    assert.deepEqual(r.links.sort(), ['base', 'door', 'drawer']);
    assert.equal(r.meshCount, 1);
    const byName = Object.fromEntries(r.joints.map((j) => [j.name, j]));
    assert.equal(byName.slide?.type, 'prismatic');
    assert.equal(byName.hinge?.type, 'revolute');
    assert.deepEqual([byName.slide?.lower, byName.slide?.upper], [SLIDE.lower, SLIDE.upper]);
    assert.deepEqual([byName.hinge?.lower, byName.hinge?.upper], [HINGE.lower, HINGE.upper]);
    assert.deepEqual(byName.slide?.axis, [1, 0, 0]);
    const axis = vec3.normalize(HINGE.axis);
    byName.hinge!.axis.forEach((v, i) => assert.ok(Math.abs(v - axis[i]!) < 1e-12));
  });

  it('throws when a mesh cannot be loaded', async () => {
    const path = writeObject('missing-mesh-loader', fixtureUrdf({ mesh: 'meshes/missing.obj' }));
    await assert.rejects(parseWithUrdfLoader(path), /1 mesh\(es\) failed to load.*missing\.obj/s);
  });
});
