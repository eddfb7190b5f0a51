/**
 * DragJointFit on synthetic cabinets: Gaussians on the visible faces of a box body and of a part
 * (side-hinged door, drawer front, bottom-hinged door, lid), rendered from the rig's view 0; the
 * part moved by its true joint gives the dragged render and the drag end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Camera, project, rigCameras, scaleIntrinsics } from '../src/core/camera.js';
import type { Vec3 } from '../src/core/math.js';
import type { GaussianSet } from '../src/core/types.js';
import { type DepthView, fitJointToDrags, labelPointsByView } from '../src/articulation/drag-joint.js';
import { type Rigid, axisAngleErrorDeg, lineDistance, rigidApply, rigidRevolute } from '../src/articulation/rigid.js';
import { renderGaussians } from '../src/gaussians/render.js';

const SIZE = 64;
const rig = rigCameras()[0]!;
const camera: Camera = { intrinsics: scaleIntrinsics(rig.intrinsics, SIZE, SIZE), camToWorld: rig.camToWorld };

/** Points on an axis-aligned rectangle: fixed coordinate `k` = `at`, the other two over their ranges. */
function rect(k: number, at: number, a: [number, number], b: [number, number], step = 0.025): Vec3[] {
  const [i, j] = [0, 1, 2].filter((x) => x !== k) as [number, number];
  const out: Vec3[] = [];
  for (let u = a[0]; u <= a[1] + 1e-9; u += step) {
    for (let v = b[0]; v <= b[1] + 1e-9; v += step) {
      const p: Vec3 = [0, 0, 0];
      p[k] = at;
      p[i] = u;
      p[j] = v;
      out.push(p);
    }
  }
  return out;
}

function gaussians(points: Vec3[]): GaussianSet {
  const n = points.length;
  const set: GaussianSet = {
    count: n,
    positions: new Float32Array(points.flat()),
    opacities: new Float32Array(n).fill(0.9),
    scales: new Float32Array(3 * n).fill(0.02),
    rotations: new Float32Array(4 * n),
    colors: new Float32Array(3 * n).fill(0.5),
  };
  for (let i = 0; i < n; i++) set.rotations[4 * i] = 1;
  return set;
}

function view(points: Vec3[]): DepthView {
  const r = renderGaussians(gaussians(points), camera);
  return { camera, alpha: r.alpha, depth: r.depth };
}

/** Body: box x in [-0.4, 0.4] (front at +x), y in [-0.5, 0.5], z in [-0.6, 0.6]; the faces view 0 sees. */
const body: Vec3[] = [...rect(0, 0.4, [-0.5, 0.5], [-0.6, 0.6]), ...rect(2, 0.6, [-0.4, 0.4], [-0.5, 0.5]), ...rect(1, 0.5, [-0.4, 0.4], [-0.6, 0.6]), ...rect(1, -0.5, [-0.4, 0.4], [-0.6, 0.6])];

interface Case {
  name: string;
  part: Vec3[];
  handle: Vec3;
  motion: Rigid;
  type: 'prismatic' | 'revolute';
  axis: Vec3;
  origin?: Vec3;
}

const cases: Case[] = [
  {
    name: 'door hinged at its left edge (y = -0.45), opened 80 deg',
    part: rect(0, 0.42, [-0.45, 0.45], [-0.55, 0.55]),
    handle: [0.42, 0.35, 0],
    motion: rigidRevolute([0, 0, 1], [0.42, -0.45, 0], (-80 * Math.PI) / 180),
    type: 'revolute',
    axis: [0, 0, 1],
    origin: [0.42, -0.45, 0],
  },
  {
    name: 'door hinged at its right edge (y = 0.45), opened 70 deg',
    part: rect(0, 0.42, [-0.45, 0.45], [-0.55, 0.55]),
    handle: [0.42, -0.35, 0],
    motion: rigidRevolute([0, 0, 1], [0.42, 0.45, 0], (70 * Math.PI) / 180),
    type: 'revolute',
    axis: [0, 0, 1],
    origin: [0.42, 0.45, 0],
  },
  {
    name: 'drawer front pulled out 0.3',
    part: rect(0, 0.42, [-0.4, 0.4], [0.15, 0.5]),
    handle: [0.42, 0, 0.35],
    motion: { r: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), t: [0.3, 0, 0] },
    type: 'prismatic',
    axis: [1, 0, 0],
  },
  {
    name: 'door hinged at its bottom edge (z = -0.55), opened 85 deg',
    part: rect(0, 0.42, [-0.45, 0.45], [-0.55, 0.3]),
    handle: [0.42, 0, 0.25],
    motion: rigidRevolute([0, 1, 0], [0.42, 0, -0.55], (85 * Math.PI) / 180),
    type: 'revolute',
    axis: [0, 1, 0],
    origin: [0.42, 0, -0.55],
  },
  {
    name: 'lid hinged at its back edge (x = -0.4), opened 75 deg',
    part: rect(2, 0.62, [-0.4, 0.4], [-0.5, 0.5]),
    handle: [0.35, 0, 0.62],
    motion: rigidRevolute([0, 1, 0], [-0.4, 0, 0.62], (-75 * Math.PI) / 180),
    type: 'revolute',
    axis: [0, 1, 0],
    origin: [-0.4, 0, 0.62],
  },
];

function scene(c: Case): { initial: DepthView; dragged: DepthView; partMask: Uint8Array; start: [number, number]; end: [number, number] } {
  // The body's front face sits behind the part: leave out body points the part covers (the door is
  // in front of the box anyway; the lid replaces the box's top).
  const initial = view([...body, ...c.part]);
  const partOnly = view(c.part);
  const partMask = new Uint8Array(SIZE * SIZE);
  for (let p = 0; p < partMask.length; p++) {
    partMask[p] = partOnly.alpha[p]! > 0.5 && Math.abs(partOnly.depth[p]! - initial.depth[p]!) < 0.03 ? 1 : 0;
  }
  const movedPart = c.part.map((q) => rigidApply(c.motion, q));
  const dragged = view([...body, ...movedPart]);
  const s = project(camera, c.handle), e = project(camera, rigidApply(c.motion, c.handle));
  return { initial, dragged, partMask, start: [s.x, s.y], end: [e.x, e.y] };
}

describe('DragJointFit (synthetic cabinets from the rig camera)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const s = scene(c);
      const fit = fitJointToDrags({ initial: s.initial, dragged: s.dragged, partMask: s.partMask, drags: [{ start: s.start, end: s.end }] });
      assert.equal(fit.best.type, c.type, `best ${fit.best.label} (cost ${fit.best.cost.toFixed(3)}); next ${fit.hypotheses[1]!.label} (${fit.hypotheses[1]!.cost.toFixed(3)})`);
      const b = fit.joint; // what the pipeline reports
      assert.ok(axisAngleErrorDeg(b.axis, c.axis) < 5, `axis ${b.axis.map((v) => v.toFixed(3))}`);
      if (c.origin) assert.ok(lineDistance(b.origin, b.axis, c.origin, c.axis) < 0.1, `hinge ${b.origin.map((v) => v.toFixed(3))} vs ${c.origin}`);
      // The solved motion moves the handle to where the operator dragged it.
      assert.ok(b.residual < 0.1, `residual ${b.residual}`);
    });
  }

  it('skips motions that cannot win and still finds every hypothesis the exhaustive search finds', () => {
    for (const c of cases) {
      const s = scene(c);
      const input = { initial: s.initial, dragged: s.dragged, partMask: s.partMask, drags: [{ start: s.start, end: s.end }] };
      const pruned = fitJointToDrags(input), exhaustive = fitJointToDrags({ ...input, exhaustive: true });
      // Every hypothesis: the same motion and the same scores to the last bit.
      assert.deepEqual(pruned.hypotheses, exhaustive.hypotheses, c.name);
      assert.deepEqual(pruned.joint, exhaustive.joint, c.name);
    }
  });

  it('reports a door hinge at the grasped surface, not at the front of a blurry part box', () => {
    // The shipped model's Gaussians spread a flat door over ~0.2 in depth: here the bottom-hinged
    // door bulges up to 0.15 towards the camera at its sides, away from the handle in its middle.
    // The part box's front face then lies in front of the door's hinge: the hinge is chosen there
    // and reported at the surface the handle was grasped on.
    const c = cases[3]!;
    const blurry = c.part.map((p): Vec3 => [p[0] + 0.15 * (p[1] / 0.45) ** 2, p[1], p[2]]);
    const s = scene({ ...c, part: blurry });
    const fit = fitJointToDrags({ initial: s.initial, dragged: s.dragged, partMask: s.partMask, drags: [{ start: s.start, end: s.end }] });
    assert.equal(fit.best.type, 'revolute', fit.best.label);
    assert.ok(axisAngleErrorDeg(fit.joint.axis, c.axis) < 5);
    assert.match(fit.joint.label, /hinge at the grasped surface/);
    const chosen = lineDistance(fit.best.origin, fit.best.axis, c.origin!, c.axis);
    const reported = lineDistance(fit.joint.origin, fit.joint.axis, c.origin!, c.axis);
    assert.ok(chosen > 0.1 && reported < 0.05, `reported ${fit.joint.origin.map((v) => v.toFixed(3))} (${reported.toFixed(3)} off), chosen ${fit.best.origin.map((v) => v.toFixed(3))} (${chosen.toFixed(3)} off)`);
    assert.ok(fit.joint.residual < 0.1, `residual ${fit.joint.residual}`);
  });

  it('labels points by the view: part pixels near the surface move, points behind them do not', () => {
    const c = cases[0]!;
    const s = scene(c);
    const pts = new Float32Array([...c.handle, c.handle[0] - 0.5, c.handle[1], c.handle[2], 0.4, 0.48, 0.58, 3, 3, 3]);
    const { onObject, moving } = labelPointsByView(pts, s.initial, s.partMask, 0.1);
    assert.deepEqual([...onObject], [1, 1, 1, 0]);
    assert.deepEqual([...moving], [1, 0, 0, 0]);
  });

  const bad: Array<[string, () => Parameters<typeof fitJointToDrags>[0], RegExp]> = [
    ['no drags', () => ({ ...scene(cases[0]!), drags: [] }), /DragJointFit: at least one drag/],
    ['a mask of the wrong size', () => ({ ...scene(cases[0]!), partMask: new Uint8Array(10), drags: [{ start: [30, 30], end: [20, 30] }] }), /partMask must have 4096 values/],
    ['a mask off the object', () => ({ ...scene(cases[0]!), partMask: new Uint8Array(SIZE * SIZE).fill(1, 0, SIZE), drags: [{ start: [2, 0.5], end: [8, 0.5] }] }), /the part covers 0 visible pixels/],
    ['a NaN drag', () => ({ ...scene(cases[0]!), drags: [{ start: [30, Number.NaN], end: [20, 30] }] }), /drag 0 has a non-finite coordinate/],
  ];
  for (const [name, make, re] of bad) {
    it(`rejects ${name}`, () => assert.throws(() => fitJointToDrags(make()), re));
  }
});
