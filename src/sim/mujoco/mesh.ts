/**
 * Mesh files referenced by URDFs: path resolution (`package://`, `file://`, relative, absolute)
 * confined to a root directory, a tolerant OBJ / STL reader, and the shape statistics used to
 * decide how a mesh collides in MuJoCo (convex hull, or an oriented box for flat/degenerate
 * meshes on which MuJoCo's qhull fails with "initial simplex is flat").
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { Vec3 } from '../../core/math.js';

export interface MeshData {
  /** Packed xyz (scaled). */
  positions: Float32Array;
  /** Triangle vertex indices. */
  indices: Uint32Array;
}

function insideRoot(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..'));
}

/**
 * Resolves a URDF mesh filename to a host file. `package://PKG/rest` is looked up as
 * `A/PKG/rest` and `A/rest` for every directory A from the URDF's directory up to `root`;
 * relative paths resolve against the URDF's directory; absolute and `file://` paths are used as
 * they are. Returns null when nothing exists or the file lies outside `root` (when
 * `confineToRoot`).
 */
export function resolveMeshPath(filename: string, urdfDir: string, root: string, confineToRoot: boolean): string | null {
  const rootAbs = resolve(root);
  const ok = (p: string): boolean => existsSync(p) && statSync(p).isFile() && (!confineToRoot || insideRoot(rootAbs, resolve(p)));
  let name = filename.trim();
  try {
    name = decodeURI(name);
  } catch {
    // keep as is
  }
  if (name.startsWith('package://')) {
    const rest = name.slice('package://'.length).replace(/^\/+/, '');
    const slash = rest.indexOf('/');
    const tail = slash >= 0 ? rest.slice(slash + 1) : rest;
    let dir = resolve(urdfDir);
    for (;;) {
      for (const cand of [join(dir, rest), join(dir, tail)]) if (ok(cand)) return resolve(cand);
      if (confineToRoot && !insideRoot(rootAbs, dir)) break;
      if (dir === rootAbs) break;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    return null;
  }
  if (name.startsWith('file://')) name = name.slice('file://'.length);
  const p = isAbsolute(name) ? name : resolve(urdfDir, name);
  return ok(p) ? resolve(p) : null;
}

/** Reads an OBJ (v/f lines; polygons fan-triangulated; negative indices) or STL (binary/ASCII). */
export function readMeshFile(path: string, scale: Vec3 = [1, 1, 1]): MeshData {
  const lower = path.toLowerCase();
  const bytes = readFileSync(path);
  let mesh: MeshData;
  if (lower.endsWith('.obj')) mesh = parseObj(bytes.toString('utf8'));
  else if (lower.endsWith('.stl')) mesh = parseStl(bytes);
  else throw new Error(`MeshFile: ${path}: unsupported mesh format; expected .obj or .stl`);
  if (scale[0] !== 1 || scale[1] !== 1 || scale[2] !== 1) {
    const p = mesh.positions;
    for (let i = 0; i < p.length; i += 3) {
      p[i] = p[i]! * scale[0];
      p[i + 1] = p[i + 1]! * scale[1];
      p[i + 2] = p[i + 2]! * scale[2];
    }
  }
  return mesh;
}

export function parseObj(text: string): MeshData {
  const pos: number[] = [];
  const idx: number[] = [];
  let vcount = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('v ') || line.startsWith('v\t')) {
      const parts = line.split(/\s+/);
      const x = Number(parts[1]), y = Number(parts[2]), z = Number(parts[3]);
      pos.push(Number.isFinite(x) ? x : 0, Number.isFinite(y) ? y : 0, Number.isFinite(z) ? z : 0);
      vcount++;
    } else if (line.startsWith('f ') || line.startsWith('f\t')) {
      const vs: number[] = [];
      for (const tok of line.split(/\s+/).slice(1)) {
        const k = Number.parseInt(tok.split('/')[0] ?? '', 10);
        if (!Number.isFinite(k) || k === 0) continue;
        const v = k > 0 ? k - 1 : vcount + k;
        if (v >= 0 && v < vcount) vs.push(v);
      }
      for (let t = 1; t + 1 < vs.length; t++) idx.push(vs[0]!, vs[t]!, vs[t + 1]!);
    }
  }
  return { positions: Float32Array.from(pos), indices: Uint32Array.from(idx) };
}

export function parseStl(bytes: Buffer): MeshData {
  const head = bytes.subarray(0, 256).toString('latin1');
  if (bytes.length >= 84) {
    const n = bytes.readUInt32LE(80);
    if (84 + n * 50 === bytes.length) {
      const positions = new Float32Array(n * 9);
      for (let t = 0; t < n; t++) {
        const o = 84 + t * 50 + 12;
        for (let k = 0; k < 9; k++) positions[t * 9 + k] = bytes.readFloatLE(o + k * 4);
      }
      return { positions, indices: Uint32Array.from({ length: n * 3 }, (_, i) => i) };
    }
  }
  if (!/^\s*solid/.test(head)) throw new Error('MeshFile: STL is neither binary (size mismatch) nor ASCII');
  const pos: number[] = [];
  for (const m of bytes.toString('latin1').matchAll(/vertex\s+(\S+)\s+(\S+)\s+(\S+)/g)) pos.push(Number(m[1]), Number(m[2]), Number(m[3]));
  return { positions: Float32Array.from(pos, (v) => (Number.isFinite(v) ? v : 0)), indices: Uint32Array.from({ length: pos.length / 3 }, (_, i) => i) };
}

export interface MeshShape {
  vertexCount: number;
  /** Mean of the vertices. */
  center: Vec3;
  /** Principal axes (columns of a rotation, row-major 3x3: axes[r*3+c], column c = axis c). */
  axes: Float64Array;
  /** Min/max of the vertices along each principal axis, relative to `center`. */
  min: Vec3;
  max: Vec3;
  /** Axis-aligned bounds in the mesh frame. */
  aabbMin: Vec3;
  aabbMax: Vec3;
}

/** PCA frame and extents of the vertices (distinct vertices are not required). */
export function meshShape(positions: Float32Array): MeshShape {
  const n = positions.length / 3;
  if (n === 0) throw new Error('MeshFile: mesh has no vertices');
  const c: Vec3 = [0, 0, 0];
  const aabbMin: Vec3 = [Infinity, Infinity, Infinity];
  const aabbMax: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const v = positions[i * 3 + k]!;
      c[k] = c[k]! + v;
      if (v < aabbMin[k]!) aabbMin[k] = v;
      if (v > aabbMax[k]!) aabbMax[k] = v;
    }
  }
  c[0] /= n; c[1] /= n; c[2] /= n;
  const cov = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const d = [positions[i * 3]! - c[0], positions[i * 3 + 1]! - c[1], positions[i * 3 + 2]! - c[2]];
    for (let r = 0; r < 3; r++) for (let s = 0; s < 3; s++) cov[r * 3 + s] = cov[r * 3 + s]! + d[r]! * d[s]!;
  }
  const evd = new EigenvalueDecomposition(new Matrix([cov.slice(0, 3), cov.slice(3, 6), cov.slice(6, 9)]), { assumeSymmetric: true });
  const V = evd.eigenvectorMatrix;
  // Make it a proper rotation (det +1).
  const axes = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let s = 0; s < 3; s++) axes[r * 3 + s] = V.get(r, s);
  const det =
    axes[0]! * (axes[4]! * axes[8]! - axes[5]! * axes[7]!) - axes[1]! * (axes[3]! * axes[8]! - axes[5]! * axes[6]!) + axes[2]! * (axes[3]! * axes[7]! - axes[4]! * axes[6]!);
  if (det < 0) for (let r = 0; r < 3; r++) axes[r * 3 + 2] = -axes[r * 3 + 2]!;
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    const d = [positions[i * 3]! - c[0], positions[i * 3 + 1]! - c[1], positions[i * 3 + 2]! - c[2]];
    for (let s = 0; s < 3; s++) {
      const v = d[0]! * axes[s]! + d[1]! * axes[3 + s]! + d[2]! * axes[6 + s]!;
      if (v < min[s]!) min[s] = v;
      if (v > max[s]!) max[s] = v;
    }
  }
  return { vertexCount: n, center: c, axes, min, max, aabbMin, aabbMax };
}

/**
 * True when MuJoCo's convex hull would fail or be meaningless: fewer than 4 vertices or a
 * thickness (smallest principal extent) below `minThickness` relative to the largest extent.
 */
export function isDegenerateForHull(shape: MeshShape, minThickness = 1e-3): boolean {
  if (shape.vertexCount < 4) return true;
  const ext = [0, 1, 2].map((k) => shape.max[k]! - shape.min[k]!);
  const largest = Math.max(...ext);
  const smallest = Math.min(...ext);
  return !(largest > 0) || smallest < Math.max(minThickness * 0.5, largest * 1e-3);
}
