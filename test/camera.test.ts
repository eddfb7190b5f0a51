import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cameraCentre,
  intrinsicsFromFovY,
  lookAtOpencv,
  opencvToOpenglPose,
  openglToOpencvPose,
  project,
  rigCameras,
  unproject,
} from '../src/core/camera.js';
import { mat4Column, mat4FromRpy, vec3, type Vec3 } from '../src/core/math.js';
import { Rng } from '../src/core/random.js';

const close = (a: number, b: number, tol: number, msg?: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${msg ?? ''} expected ${b}, got ${a}`);

test('project/unproject round trip over random points and cameras', () => {
  const rng = new Rng(1);
  for (let i = 0; i < 200; i++) {
    const eye: Vec3 = [rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(0.5, 3)];
    const cam = { intrinsics: intrinsicsFromFovY(rng.int(32, 640), rng.int(32, 480), rng.uniform(20, 90)), camToWorld: lookAtOpencv(eye, [0, 0, 0]) };
    const p: Vec3 = [rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)];
    const pr = project(cam, p);
    assert.ok(pr.depth > 0);
    const q = unproject(cam, pr.x, pr.y, pr.depth);
    for (let k = 0; k < 3; k++) close(q[k]!, p[k]!, 1e-9);
  }
});

test('pixel convention: the optical axis hits the image centre, a corner-origin pixel grid', () => {
  const cam = { intrinsics: intrinsicsFromFovY(128, 96, 60), camToWorld: lookAtOpencv([0, -2, 0], [0, 0, 0]) };
  const c = project(cam, [0, 0, 0]);
  close(c.x, 64, 1e-12);
  close(c.y, 48, 1e-12);
  close(c.depth, 2, 1e-12);
  // A point above the target (world +z) appears higher in the image: smaller row.
  assert.ok(project(cam, [0, 0, 0.1]).y < 48);
  // Top edge of the image is at fovy/2 above the axis.
  const top = unproject(cam, 64, 0, 1);
  close(Math.atan2(top[2], 1) * (180 / Math.PI), 30, 1e-9);
});

// Table of camera-frame axes in both conventions, expressed in world coordinates.
test('OpenCV <-> OpenGL pose conversion: same centre, y and z axes flipped, inverse of each other', () => {
  const rng = new Rng(2);
  for (let i = 0; i < 50; i++) {
    const cv = mat4FromRpy([rng.uniform(-3, 3), rng.uniform(-1.5, 1.5), rng.uniform(-3, 3)], [rng.normal(), rng.normal(), rng.normal()]);
    const gl = opencvToOpenglPose(cv);
    const cases: Array<[number, number]> = [[0, 1], [1, -1], [2, -1]];
    for (const [axis, sign] of cases) {
      const a = mat4Column(cv, axis);
      const b = mat4Column(gl, axis);
      for (let k = 0; k < 3; k++) close(b[k]!, sign * a[k]!, 1e-12);
    }
    for (let k = 0; k < 3; k++) close(gl[k * 4 + 3]!, cv[k * 4 + 3]!, 0);
    const back = openglToOpencvPose(gl);
    for (let k = 0; k < 16; k++) close(back[k]!, cv[k]!, 1e-12);
  }
});

test('OpenGL pose of a camera looking at the origin looks down its -z axis', () => {
  const cv = lookAtOpencv([0, 0, 2.4], [0, 0, 0], [0, 1, 0]);
  const gl = opencvToOpenglPose(cv);
  // LGM normalises view 0 to (0, 0, 2.4) with identity rotation (OpenGL).
  const expected = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2.4, 0, 0, 0, 1];
  for (let k = 0; k < 16; k++) close(gl[k]!, expected[k]!, 1e-12, `element ${k}`);
});

test('PartDrag-4D rig: 12 views evenly around, 2.4 away, 1.5 high, all looking at the object', () => {
  const cams = rigCameras();
  assert.equal(cams.length, 12);
  for (let i = 0; i < cams.length; i++) {
    const cam = cams[i]!;
    const c = cameraCentre(cam);
    close(vec3.length(c), 2.4, 1e-12);
    close(c[2], 1.5, 1e-12);
    close(Math.atan2(c[1], c[0]), Math.atan2(Math.sin((2 * Math.PI * i) / 12), Math.cos((2 * Math.PI * i) / 12)), 1e-12);
    const forward = mat4Column(cam.camToWorld, 2);
    const toCentre = vec3.normalize(vec3.scale(c, -1));
    close(vec3.dot(forward, toCentre), 1, 1e-12);
    const p = project(cam, [0, 0, 0]);
    close(p.x, 256, 1e-9);
    close(p.y, 256, 1e-9);
    // Image "down" points towards world -z (no roll).
    assert.ok(mat4Column(cam.camToWorld, 1)[2] < 0);
  }
  // View 0 faces the object's front (+x).
  assert.ok(cameraCentre(cams[0]!)[0] > 1.8);
});

test('bad camera input names the problem', () => {
  assert.throws(() => intrinsicsFromFovY(0, 10, 40), /Camera: image size/);
  assert.throws(() => intrinsicsFromFovY(10, 10, 0), /Camera: fovy/);
  assert.throws(() => rigCameras({ views: 0 }), /views must be a positive integer/);
});
