/**
 * GraspOnPart: the drag start's grasp moved along its camera ray onto the part's collision boxes.
 * A door panel (x = 0.30..0.32) with a handle bar in front of it (x = 0.32..0.35), seen from
 * an eye on +x; the grasp's depth is wrong in the ways a blended render gets it wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Box } from '../src/articulation/boxes.js';
import { extractArticulation } from '../src/articulation/extract.js';
import { graspOnPart } from '../src/articulation/grasp.js';
import { makeCase } from '../src/articulation/cases.js';
import type { Vec3 } from '../src/core/math.js';

const panel: Box = { center: [0.31, 0, 0.5], size: [0.02, 0.5, 0.8] };
const handle: Box = { center: [0.335, 0.2, 0.5], size: [0.03, 0.02, 0.2] };
const eye: Vec3 = [2, 0.2, 1.2];
/** The point at distance fraction s from the eye towards `p`. */
const along = (p: Vec3, s: number): Vec3 => [eye[0] + (p[0] - eye[0]) * s, eye[1] + (p[1] - eye[1]) * s, eye[2] + (p[2] - eye[2]) * s];
/** Distance of q from the line eye -> p. */
function offRay(p: Vec3, q: Vec3): number {
  const d = [p[0] - eye[0], p[1] - eye[1], p[2] - eye[2]], v = [q[0] - eye[0], q[1] - eye[1], q[2] - eye[2]];
  const l = Math.hypot(d[0]!, d[1]!, d[2]!);
  const t = (d[0]! * v[0]! + d[1]! * v[1]! + d[2]! * v[2]!) / l;
  return Math.sqrt(Math.max(0, v[0]! ** 2 + v[1]! ** 2 + v[2]! ** 2 - t * t));
}
const onHandleFront: Vec3 = [0.35, 0.2, 0.5];

/** The point of the ray eye -> onHandleFront at coordinate x. */
function onRayAtX(x: number): Vec3 {
  const s = (x - eye[0]) / (onHandleFront[0] - eye[0]);
  return along(onHandleFront, s);
}

describe('graspOnPart', () => {
  const cases: Array<{ name: string; start: Vec3; boxes: Box[]; lateral?: number; reach?: number; method: string; expect?: Vec3; near?: Box }> = [
    // The render's depth lies ~10 cm behind the handle: the ray meets the handle's front face.
    { name: 'start behind the part', start: along(onHandleFront, 1.06), boxes: [handle], reach: 0.15, method: 'ray hits part', expect: onHandleFront },
    // ... or in front of it (a blob spread towards the camera).
    { name: 'start in front of the part', start: along(onHandleFront, 0.95), boxes: [handle], reach: 0.15, method: 'ray hits part', expect: onHandleFront },
    // Inside the panel behind the handle: the handle's face is the first surface along the ray
    // within reach (default: 10% of the part's side, 8 cm), whatever the box order ...
    { name: 'first surface within reach wins', start: onRayAtX(0.3), boxes: [handle, panel], method: 'ray hits part', expect: onHandleFront },
    { name: 'box order does not matter', start: onRayAtX(0.3), boxes: [panel, handle], method: 'ray hits part', expect: onHandleFront },
    // ... and with a 3 cm reach the panel's front, just in front of the start.
    { name: 'only surfaces within reach', start: onRayAtX(0.3), boxes: [handle, panel], reach: 0.03, method: 'ray hits part', expect: onRayAtX(0.32) },
    // A surface further than `reach` (2 cm for the bar alone) is not taken.
    { name: 'surface beyond reach', start: along(onHandleFront, 1.06), boxes: [handle], method: 'drag start', expect: along(onHandleFront, 1.06) },
    // A ray that passes 2 cm beside the handle: onto the handle's point nearest the ray.
    { name: 'ray beside the part', start: [0.35, 0.23, 0.5], boxes: [handle], lateral: 0.05, reach: 0.1, method: 'ray passes part', near: handle },
    // A part 30 cm off the ray is another region: the start stays.
    { name: 'part far from the ray', start: [0.35, -0.2, 0.5], boxes: [{ center: [0.31, 0.2, 0.5], size: [0.02, 0.1, 0.1] }], method: 'drag start', expect: [0.35, -0.2, 0.5] },
    { name: 'no boxes', start: [0.4, 0, 0.5], boxes: [], method: 'drag start', expect: [0.4, 0, 0.5] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const g = graspOnPart(eye, c.start, c.boxes, { ...(c.lateral !== undefined ? { lateral: c.lateral } : {}), ...(c.reach !== undefined ? { reach: c.reach } : {}) });
      assert.equal(g.method, c.method, `${c.name}: method`);
      if (c.expect) for (let k = 0; k < 3; k++) assert.ok(Math.abs(g.point[k]! - c.expect[k]!) < 1e-6, `${c.name}: point ${g.point} expected ${c.expect}`);
      if (c.method === 'ray hits part') assert.ok(offRay(c.start, g.point) < 1e-9, `${c.name}: the point must stay on the ray`);
      if (c.near) {
        // On the box's surface, and as close to the ray as the box allows (2 cm here).
        for (let k = 0; k < 3; k++) assert.ok(Math.abs(g.point[k]! - c.near.center[k]!) <= c.near.size[k]! / 2 + 1e-9, `${c.name}: point ${g.point} inside the box's extent`);
        assert.ok(offRay(c.start, g.point) < 0.021, `${c.name}: ${offRay(c.start, g.point)} from the ray`);
      }
      const moved = Math.hypot(g.point[0] - c.start[0], g.point[1] - c.start[1], g.point[2] - c.start[2]);
      assert.ok(Math.abs(g.shift - moved) < 1e-9, `${c.name}: shift ${g.shift} is the distance moved ${moved}`);
    });
  }

  it('rejects a start at the eye and non-finite points', () => {
    assert.throws(() => graspOnPart(eye, eye, [panel]), /GraspOnPart: the start point coincides with the eye/);
    assert.throws(() => graspOnPart(eye, [Number.NaN, 0, 0], [panel]), /GraspOnPart: eye and start must be finite/);
  });

  it('finds the surface of an extracted door again from a depth 8 cm off', async () => {
    // A generated microwave: the front-most point of its door (the handle) seen from the front
    // and above, its depth pushed 8 cm back as the blended render does. Along that ray (reach
    // 10 cm) the grasp lands on the part's collision boxes within 2 cm of the true point.
    const c = makeCase('microwave', 7);
    const x = await extractArticulation({ initial: { positions: c.initial }, dragged: { positions: c.dragged }, seed: 1 });
    let front: Vec3 = [-Infinity, 0, 0];
    for (let i = 0; i < c.initialMoving.length; i++) {
      if (c.initialMoving[i] && c.initial[3 * i]! > front[0]) front = [c.initial[3 * i]!, c.initial[3 * i + 1]!, c.initial[3 * i + 2]!];
    }
    const camera: Vec3 = [front[0] + 1.5, front[1] + 0.1, front[2] + 0.9];
    const d = [front[0] - camera[0], front[1] - camera[1], front[2] - camera[2]];
    const l = Math.hypot(d[0]!, d[1]!, d[2]!);
    const start: Vec3 = [front[0] + (0.08 * d[0]!) / l, front[1] + (0.08 * d[1]!) / l, front[2] + (0.08 * d[2]!) / l];
    const g = graspOnPart(camera, start, x.partBoxes, { reach: 0.1 });
    assert.notEqual(g.method, 'drag start', `the start ${start} stays: no part box near its ray`);
    const gap = Math.min(...x.partBoxes.map((b) => Math.hypot(...([0, 1, 2].map((k) => Math.max(0, Math.abs(g.point[k]! - b.center[k]!) - b.size[k]! / 2)) as Vec3))));
    assert.ok(gap < 1e-6, `grasp ${g.point} is ${gap} from the part's boxes`);
    const err = Math.hypot(g.point[0] - front[0], g.point[1] - front[1], g.point[2] - front[2]);
    assert.ok(err < 0.02, `grasp ${g.point} is ${err} m from the true point ${front} (start was 0.08 off)`);
  });
});
