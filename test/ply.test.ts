import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isGaussianPly, readGaussianPly, readPointPly, SH_C0, writeGaussianPly, writePointPly } from '../src/gaussians/ply.js';
import type { GaussianSet } from '../src/core/types.js';
import { emptyGaussians } from '../src/gaussians/ops.js';
import { Rng } from '../src/core/random.js';

function randomGaussians(n: number, seed: number): GaussianSet {
  const rng = new Rng(seed);
  const g = emptyGaussians(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      g.positions[3 * i + k] = rng.uniform(-1, 1);
      g.scales[3 * i + k] = rng.uniform(0.001, 0.05);
      g.colors[3 * i + k] = rng.uniform(0.05, 0.95);
    }
    g.opacities[i] = rng.uniform(0.01, 0.99);
    const q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
    const l = Math.hypot(...q);
    for (let k = 0; k < 4; k++) g.rotations[4 * i + k] = q[k]! / l;
  }
  return g;
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

function header(format: string, props: string[], n: number): string {
  return `ply\nformat ${format} 1.0\ncomment made by test\nelement vertex ${n}\n${props.map((p) => `property float ${p}\n`).join('')}end_header\n`;
}

test('writeGaussianPly -> readGaussianPly round-trips activated values (Inria layout)', () => {
  const g = randomGaussians(50, 1);
  const bytes = writeGaussianPly(g);
  const text = Buffer.from(bytes.subarray(0, 600)).toString('latin1');
  assert.match(text, /format binary_little_endian 1\.0/);
  assert.match(text, /property float x\nproperty float y\nproperty float z\nproperty float nx\nproperty float ny\nproperty float nz\nproperty float f_dc_0\nproperty float f_dc_1\nproperty float f_dc_2\nproperty float opacity\nproperty float scale_0\nproperty float scale_1\nproperty float scale_2\nproperty float rot_0\nproperty float rot_1\nproperty float rot_2\nproperty float rot_3\nend_header\n/);
  const back = readGaussianPly(bytes);
  assert.equal(back.count, 50);
  assertClose(back.positions, g.positions, 1e-6, 'positions');
  assertClose(back.opacities, g.opacities, 1e-5, 'opacities');
  assertClose(back.scales, g.scales, 1e-6, 'scales');
  assertClose(back.rotations, g.rotations, 1e-6, 'rotations');
  assertClose(back.colors, g.colors, 1e-5, 'colors');
  assert.equal(isGaussianPly(bytes), true);
});

test('writeGaussianPly stores raw parameters (logit opacity, log scale, SH DC, w-first quaternion)', () => {
  const g: GaussianSet = {
    count: 1,
    positions: Float32Array.of(1, 2, 3),
    opacities: Float32Array.of(0.5),
    scales: Float32Array.of(1, Math.E, 0.5),
    rotations: Float32Array.of(1, 0, 0, 0),
    colors: Float32Array.of(0.5, 1, 0),
  };
  const bytes = writeGaussianPly(g);
  const body = bytes.length - 17 * 4;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + body);
  const v = Array.from({ length: 17 }, (_, i) => dv.getFloat32(i * 4, true));
  assertClose(v, [1, 2, 3, 0, 0, 0, 0, 0.5 / SH_C0, -0.5 / SH_C0, 0, 0, 1, Math.log(0.5), 1, 0, 0, 0], 1e-5, 'raw row');
});

test('readGaussianPly reads the ascii Inria layout with f_rest_* and the 14-property LGM variant', () => {
  const inriaProps = ['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2', 'f_rest_0', 'f_rest_1', 'f_rest_2',
    'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3'];
  const row = [0.1, 0.2, 0.3, 0, 0, 0, 0, 1, -1, 9, 9, 9, 0, Math.log(0.01), Math.log(0.02), Math.log(0.03), 2, 0, 0, 0];
  const ascii = header('ascii', inriaProps, 2) + `${row.join(' ')}\n${row.join(' ')}\n`;
  const g = readGaussianPly(Buffer.from(ascii));
  assert.equal(g.count, 2);
  assertClose(g.positions.subarray(0, 3), [0.1, 0.2, 0.3], 1e-6, 'xyz');
  assertClose([g.opacities[0]!], [0.5], 1e-6, 'opacity');
  assertClose(g.scales.subarray(0, 3), [0.01, 0.02, 0.03], 1e-6, 'scales');
  assertClose(g.rotations.subarray(0, 4), [1, 0, 0, 0], 1e-6, 'quaternion normalised');
  assertClose(g.colors.subarray(0, 3), [0.5, 0.5 + SH_C0, 0.5 - SH_C0], 1e-6, 'colour');

  // LGM save_ply(compatible=True): x y z f_dc opacity scale rot, binary, no normals.
  const lgmProps = ['x', 'y', 'z', 'f_dc_0', 'f_dc_1', 'f_dc_2', 'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3'];
  const h = Buffer.from(header('binary_little_endian', lgmProps, 1));
  const body = Buffer.alloc(14 * 4);
  [0, 0, 1, 0, 0, 0, -2, -4, -4, -4, 0, 0, 0, 1].forEach((v, i) => body.writeFloatLE(v, i * 4));
  const lgm = readGaussianPly(Buffer.concat([h, body]));
  assertClose([lgm.opacities[0]!], [1 / (1 + Math.exp(2))], 1e-6, 'lgm opacity');
  assertClose(lgm.scales, [Math.exp(-4), Math.exp(-4), Math.exp(-4)], 1e-7, 'lgm scale');
  assertClose(lgm.rotations, [0, 0, 0, 1], 1e-7, 'lgm quaternion');

  // LGM save_ply(compatible=False): activated values, big endian to exercise that path too.
  const hb = Buffer.from(header('binary_big_endian', lgmProps, 1));
  const bb = Buffer.alloc(14 * 4);
  [0, 0, 1, 0.2, 0.4, 0.6, 0.7, 0.01, 0.02, 0.03, 1, 0, 0, 0].forEach((v, i) => bb.writeFloatBE(v, i * 4));
  const act = readGaussianPly(Buffer.concat([hb, bb]));
  assertClose([act.opacities[0]!], [0.7], 1e-6, 'activated opacity');
  assertClose(act.scales, [0.01, 0.02, 0.03], 1e-6, 'activated scales');
  assertClose(act.colors, [0.2, 0.4, 0.6], 1e-6, 'activated colours');
});

test('point PLY: binary round trip with colours and labels; ascii with uchar colours and faces', () => {
  const cloud = {
    positions: Float32Array.of(0, 1, 2, 3, 4, 5),
    colors: Float32Array.of(1, 0, 0, 0, 0.5, 1),
    labels: Int32Array.of(0, 7),
  };
  const back = readPointPly(writePointPly(cloud));
  assertClose(back.positions, cloud.positions, 0, 'positions');
  assertClose(back.colors!, cloud.colors, 1 / 255, 'colors');
  assert.deepEqual(Array.from(back.labels!), [0, 7]);

  const ascii = 'ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n' +
    'property uchar red\nproperty uchar green\nproperty uchar blue\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n' +
    '0 0 0 255 0 0\n1 0 0 0 255 0\n0 1 0 0 0 255\n3 0 1 2\n';
  const p = readPointPly(Buffer.from(ascii));
  assertClose(p.positions, [0, 0, 0, 1, 0, 0, 0, 1, 0], 0, 'ascii positions');
  assertClose(p.colors!, [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-7, 'ascii colours');
  assert.equal(isGaussianPly(Buffer.from(ascii)), false);
  // A Gaussian file read as points gives its centres.
  const g = randomGaussians(5, 3);
  assertClose(readPointPly(writeGaussianPly(g)).positions, g.positions, 0, 'centres');
});

test('bad PLY input gets errors that name the problem', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['not a ply', Buffer.from('hello'), /Ply: not a PLY file/],
    ['no end_header', Buffer.from('ply\nformat ascii 1.0\nelement vertex 1\n'), /no end_header/],
    ['unknown format', Buffer.from('ply\nformat utf9 1.0\nend_header\n'), /unsupported format "utf9"/],
    ['truncated binary', Buffer.concat([Buffer.from(header('binary_little_endian', ['x', 'y', 'z'], 2)), Buffer.alloc(12)]), /binary data ends early/],
    ['truncated ascii', Buffer.from(header('ascii', ['x', 'y', 'z'], 2) + '1 2 3\n'), /ascii data ends early/],
    ['no z', Buffer.from(header('ascii', ['x', 'y'], 1) + '1 2\n'), /needs a "z" vertex property/],
    ['no vertex', Buffer.from('ply\nformat ascii 1.0\nelement face 0\nproperty list uchar int vertex_indices\nend_header\n'), /no "vertex" element/],
  ];
  for (const [name, bytes, re] of cases) assert.throws(() => readPointPly(bytes), re, name);
  assert.throws(() => readGaussianPly(Buffer.from(header('ascii', ['x', 'y', 'z'], 1) + '1 2 3\n')), /needs a "opacity"/);
  assert.throws(() => readPointPly('/nonexistent/file.ply'), /Ply: cannot read \/nonexistent\/file\.ply/);
  const bad = randomGaussians(2, 1);
  assert.throws(() => writeGaussianPly({ ...bad, opacities: new Float32Array(1) }), /opacities has length 1, expected 2/);
});
