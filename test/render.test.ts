import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intrinsicsFromFovY, lookAtOpencv, project, type Camera } from '../src/core/camera.js';
import type { Vec3 } from '../src/core/math.js';
import { boxMesh, mergeMeshes, triangleCount, type TriangleMesh } from '../src/core/mesh.js';
import { DEFAULT_LIGHT_DIR_CAMERA, renderScene, type RenderItem, type RenderOutput } from '../src/dataset/render.js';

const W = 128;
const H = 128;

function camera(eye: Vec3, target: Vec3 = [0, 0, 0], size = W): Camera {
  return { intrinsics: intrinsicsFromFovY(size, size, 60), camToWorld: lookAtOpencv(eye, target) };
}

function solid(mesh: TriangleMesh, rgb: Vec3, extra: Partial<RenderItem> = {}): RenderItem {
  const n = triangleCount(mesh);
  const triangleColors = new Float32Array(n * 3);
  for (let t = 0; t < n; t++) triangleColors.set(rgb, t * 3);
  return { mesh, triangleColors, ...extra };
}

function pixel(out: RenderOutput, x: number, y: number) {
  const p = Math.floor(y) * out.width + Math.floor(x);
  return {
    rgba: [...out.rgba.subarray(p * 4, p * 4 + 4)],
    depth: out.depth[p]!,
    label: out.labels[p]!,
  };
}

test('a fronto-parallel unit box: centre depth, silhouette area, background outside', () => {
  const cam = camera([0, -3, 0]);
  const out = renderScene([solid(boxMesh([0, 0, 0], [1, 1, 1]), [1, 0, 0])], cam);
  assert.equal(out.width, W);
  assert.equal(out.rgba.length, W * H * 4);
  // The front face (y = -0.5) is 2.5 in front of the camera and fills the image centre.
  const c = pixel(out, W / 2, H / 2);
  assert.ok(Math.abs(c.depth - 2.5) <= 1e-4, `centre depth ${c.depth}`);
  assert.equal(c.label, 1);
  assert.equal(c.rgba[3], 255);
  // Flat shading of a face whose normal is the optical axis: (ambient + diffuse * |l_z|) * red.
  const expectedRed = Math.round(255 * (0.35 + 0.65 * Math.abs(DEFAULT_LIGHT_DIR_CAMERA[2])));
  assert.ok(Math.abs(c.rgba[0]! - expectedRed) <= 1 && c.rgba[1] === 0 && c.rgba[2] === 0, `centre rgba ${c.rgba}`);

  // Silhouette: the front face's projection, a square of side fy * 1 / 2.5 around (W/2, H/2).
  const k = cam.intrinsics;
  const half = (k.fy * 0.5) / 2.5;
  let covered = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const inside = Math.abs(x + 0.5 - k.cx) < half - 0.5 && Math.abs(y + 0.5 - k.cy) < half - 0.5;
      const outside = Math.abs(x + 0.5 - k.cx) > half + 0.5 || Math.abs(y + 0.5 - k.cy) > half + 0.5;
      if (out.labels[p] !== 0) covered++;
      if (inside) {
        assert.equal(out.labels[p], 1, `pixel ${x},${y} should be covered`);
        assert.ok(Math.abs(out.depth[p]! - 2.5) <= 1e-4, `depth ${out.depth[p]} at ${x},${y}`);
      }
      if (outside) {
        assert.equal(out.labels[p], 0, `pixel ${x},${y} should be background`);
        assert.equal(out.depth[p], Infinity);
        assert.deepEqual([...out.rgba.subarray(p * 4, p * 4 + 4)], [255, 255, 255, 0]);
      }
    }
  }
  const analytic = (2 * half) ** 2;
  assert.ok(Math.abs(covered - analytic) / analytic < 0.03, `covered ${covered} vs analytic ${analytic}`);
});

test('depth is perspective-correct on a slanted face', () => {
  // A large ground plane (box top at z = 0) seen obliquely: every covered pixel's depth must equal
  // the ray/plane intersection depth.
  const cam = camera([0, -3, 1.5], [0, 0, 0]);
  const out = renderScene([solid(boxMesh([0, 0, -0.5], [4, 4, 1]), [0.5, 0.5, 0.5])], cam);
  const k = cam.intrinsics;
  const m = cam.camToWorld;
  let checked = 0;
  for (let y = 0; y < H; y += 7) {
    for (let x = 0; x < W; x += 7) {
      const d = out.depth[y * W + x]!;
      if (!Number.isFinite(d)) continue;
      // Ray direction in world for camera z = 1; plane z = 0 hit at depth t: eye_z + t * dir_z = 0.
      const rx = (x + 0.5 - k.cx) / k.fx, ry = (y + 0.5 - k.cy) / k.fy;
      const dirZ = m[8]! * rx + m[9]! * ry + m[10]!;
      const t = -m[11]! / dirZ;
      const hitX = m[3]! + t * (m[0]! * rx + m[1]! * ry + m[2]!);
      const hitY = m[7]! + t * (m[4]! * rx + m[5]! * ry + m[6]!);
      if (Math.abs(hitX) > 1.95 || Math.abs(hitY) > 1.95) continue; // near the plane's border
      assert.ok(Math.abs(d - t) <= 1e-4 * t, `pixel ${x},${y}: depth ${d} vs ${t}`);
      checked++;
    }
  }
  assert.ok(checked > 50, `checked ${checked}`);
});

test('occlusion: the nearer box wins regardless of item order', () => {
  const cam = camera([0, -3, 0]);
  const near = solid(boxMesh([0, 0, 0], [0.5, 0.5, 0.5]), [1, 0, 0], { label: 7 });
  const far = solid(boxMesh([0, 2, 0], [2, 1, 2]), [0, 0, 1], { label: 9 });
  for (const items of [[near, far], [far, near]]) {
    const out = renderScene(items, cam);
    const c = pixel(out, W / 2, H / 2);
    assert.equal(c.label, 7);
    assert.ok(Math.abs(c.depth - 2.75) <= 1e-4, `centre depth ${c.depth}`);
    assert.ok(c.rgba[0]! > 100 && c.rgba[2] === 0, `centre rgba ${c.rgba}`);
    // Beside the small box but inside the far one's silhouette.
    const side = pixel(out, W / 2 + 18, H / 2);
    assert.equal(side.label, 9);
    assert.ok(Math.abs(side.depth - 4.5) <= 1e-4, `side depth ${side.depth}`);
  }
});

test('faces with different normals get different shading; triangleLabels are honoured', () => {
  const cam = camera([3, -2.5, 2]);
  const mesh = boxMesh([0, 0, 0], [1, 1, 1]);
  // boxMesh faces in order +x, -x, +y, -y, +z, -z, two triangles each: label = face index + 1.
  const triangleLabels = new Uint8Array(12);
  for (let t = 0; t < 12; t++) triangleLabels[t] = Math.floor(t / 2) + 1;
  const out = renderScene([solid(mesh, [0.8, 0.8, 0.8], { triangleLabels, label: 200 })], cam);
  const at = (p: Vec3) => {
    const pr = project(cam, p);
    return pixel(out, pr.x, pr.y);
  };
  const right = at([0.5, 0, 0]);
  const front = at([0, -0.5, 0]);
  const top = at([0, 0, 0.5]);
  assert.equal(right.label, 1);
  assert.equal(front.label, 4);
  assert.equal(top.label, 5);
  const shades = [right, front, top].map((p) => p.rgba[0]!);
  assert.equal(new Set(shades).size, 3, `shades ${shades}`);
  for (const p of [right, front, top]) assert.ok(p.rgba[0] === p.rgba[1] && p.rgba[1] === p.rgba[2], `grey expected, got ${p.rgba}`);
  // No pixel carries the item label when every triangle has its own.
  assert.ok(!out.labels.includes(200), 'item label used despite triangleLabels');
});

test('a tessellated surface has no gaps along shared edges', () => {
  // A tessellated plane (many triangles sharing edges) seen obliquely: every pixel inside is covered.
  const tiles: TriangleMesh[] = [];
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) tiles.push(boxMesh([-0.7 + i * 0.2, -0.7 + j * 0.2, 0], [0.2, 0.2, 0.2]));
  const mesh = mergeMeshes(tiles);
  const cam = camera([0.3, -2.2, 1.7]);
  const out = renderScene([solid(mesh, [0.2, 0.6, 0.3])], cam);
  const k = cam.intrinsics;
  const centre = project(cam, [0, 0, 0.1]);
  assert.equal(pixel(out, centre.x, centre.y).label, 1);
  // Scan rows through the centre of the slab: the covered run is contiguous.
  for (let y = Math.floor(centre.y) - 10; y <= Math.floor(centre.y) + 10; y++) {
    const row = [...out.labels.subarray(y * W, (y + 1) * W)];
    const first = row.indexOf(1);
    const last = row.lastIndexOf(1);
    assert.ok(first >= 0 && first < k.cx && last > k.cx, `row ${y} covers ${first}..${last}`);
    for (let x = first; x <= last; x++) assert.equal(row[x], 1, `gap at ${x},${y}`);
  }
});

test('top-left rule: two triangles sharing an edge through pixel centres split its pixels exactly', () => {
  const cam = camera([0, -3, 0]);
  const k = cam.intrinsics;
  // World point on the plane y = -0.5 (depth 2.5) that projects to pixel coordinates (px, py).
  const at = (px: number, py: number): number[] => [((px - k.cx) * 2.5) / k.fx, -0.5, (-(py - k.cy) * 2.5) / k.fy];
  // Square with corners on pixel centres; its edges and diagonal all pass through pixel centres.
  const positions = new Float32Array([...at(16.5, 16.5), ...at(48.5, 16.5), ...at(48.5, 48.5), ...at(16.5, 48.5)]);
  const tri = (i: number[]): RenderItem => solid({ positions, indices: new Uint32Array(i) }, [1, 1, 1]);
  const first = renderScene([tri([0, 1, 2])], cam).labels;
  const second = renderScene([tri([0, 2, 3])], cam).labels;
  let overlap = 0;
  let covered = 0;
  for (let p = 0; p < W * H; p++) {
    if (first[p] && second[p]) overlap++;
    if (first[p] || second[p]) covered++;
  }
  assert.equal(overlap, 0);
  assert.equal(covered, 32 * 32);
});

test('triangles behind the near plane are skipped; empty scene is background', () => {
  const cam = camera([0, -3, 0]);
  const empty = renderScene([], cam, { background: [0, 0, 0] });
  assert.ok(empty.labels.every((l) => l === 0), 'empty labels');
  assert.ok(empty.depth.every((d) => d === Infinity), 'empty depth');
  assert.ok(empty.rgba.every((v) => v === 0), 'empty rgba (black background, alpha 0)');
  // One vertex behind the camera: skipped, although the other two are in front.
  const straddling: TriangleMesh = {
    positions: new Float32Array([0, -4, 0, -1, 0, -0.5, 1, 0, -0.5]),
    indices: new Uint32Array([0, 1, 2]),
  };
  assert.equal(renderScene([solid(straddling, [1, 1, 1])], cam).labels.indexOf(1), -1);
  // A vertex in front of the camera but nearer than `near`.
  const close: TriangleMesh = {
    positions: new Float32Array([0, -2.9, 0, -1, 0, -0.5, 1, 0, -0.5]),
    indices: new Uint32Array([0, 1, 2]),
  };
  assert.ok(renderScene([solid(close, [1, 1, 1])], cam).labels.includes(1), 'a triangle beyond near is drawn');
  assert.equal(renderScene([solid(close, [1, 1, 1])], cam, { near: 0.2 }).labels.indexOf(1), -1);
});

test('patterns modulate the base colour moderately and move with their part', () => {
  const cam = camera([0, -3, 0]);
  const local = boxMesh([0, 0, 0], [1, 1, 1]);
  const k = cam.intrinsics;
  // Shift by exactly 8 pixels at the front face's depth.
  const dx = (8 * 2.5) / k.fx;
  const shifted = boxMesh([dx, 0, 0], [1, 1, 1]);
  for (const kind of [1, 2, 3]) {
    const patterns = new Uint8Array(12).fill(kind);
    const base = renderScene([solid(local, [0.6, 0.5, 0.4], { trianglePatterns: patterns })], cam);
    const plain = renderScene([solid(local, [0.6, 0.5, 0.4])], cam);
    const moved = renderScene([solid(shifted, [0.6, 0.5, 0.4], { trianglePatterns: patterns, localPositions: local.positions })], cam);
    const ref = pixel(plain, W / 2, H / 2).rgba[0]!;
    const values = new Set<number>();
    let same = 0;
    let total = 0;
    for (let y = 50; y < 78; y++) {
      for (let x = 50; x < 70; x++) {
        const v = base.rgba[(y * W + x) * 4]!;
        values.add(v);
        assert.ok(Math.abs(v - ref) <= 0.25 * ref + 1, `pattern ${kind}: ${v} vs plain ${ref}`);
        total++;
        if (moved.rgba[(y * W + x + 8) * 4] === v) same++;
      }
    }
    assert.ok(values.size >= 2, `pattern ${kind} shows no variation`);
    assert.ok(same / total > 0.9, `pattern ${kind} did not move with the part (${same}/${total})`);
  }
});

test('input validation errors are prefixed Render:', () => {
  const cam = camera([0, -3, 0]);
  const mesh = boxMesh([0, 0, 0], [1, 1, 1]);
  assert.throws(() => renderScene([{ mesh, triangleColors: new Float32Array(3) }], cam), /^Error: Render: .*triangleColors/);
  assert.throws(() => renderScene([solid(mesh, [1, 1, 1], { label: 0 })], cam), /Render: .*label/);
  assert.throws(() => renderScene([solid(mesh, [1, 1, 1], { triangleLabels: new Uint8Array(12) })], cam), /Render: .*reserved/);
});
