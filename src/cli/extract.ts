/**
 * `partrm extract` (two states -> joint, meshes, URDF, picture) and `partrm sample` (points of any
 * URDF, procedural or PartNet-Mobility layout, at a joint state).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { type Camera, projectPoints, unproject } from '../core/camera.js';
import { writeFileAtomicSync } from '../core/image.js';
import { type Vec3, mat4FromRows } from '../core/math.js';
import { Rng } from '../core/random.js';
import type { PointCloud } from '../core/types.js';
import { extractArticulation, writeArticulationOutputs } from '../articulation/extract.js';
import type { Drag3D } from '../articulation/fit.js';
import { sampleGaussians, subsampleCloud } from '../articulation/sampling.js';
import { isGaussianPly, readGaussianPly, readPointPly, writePointPly } from '../gaussians/ply.js';
import { loadArticulatedUrdf, movableJoints, sampleArticulatedUrdf } from '../urdf/partnet.js';

function fail(msg: string): never {
  throw new Error(`Extract: ${msg}`);
}

function positiveInt(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new InvalidArgumentError(`--${name} expects a positive integer, got "${v}"`);
    return Number(v);
  };
}

/** Reads a state: Gaussian PLYs are sampled opacity-weighted, point PLYs subsampled to `points`. */
export function readState(path: string, points: number, seed: number): { cloud: PointCloud; gaussian: boolean } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    fail(`cannot read ${path} (${(err as Error).message})`);
  }
  const gaussian = isGaussianPly(bytes);
  if (gaussian) {
    const g = readGaussianPly(bytes);
    if (g.count === 0) fail(`${path} has no Gaussians; expected a non-empty PLY`);
    return { cloud: sampleGaussians(g, points, new Rng(seed)), gaussian };
  }
  const cloud = readPointPly(bytes);
  const n = cloud.positions.length / 3;
  if (n === 0) fail(`${path} has no points; expected a non-empty PLY`);
  return { cloud: subsampleCloud(cloud, points, new Rng(seed)), gaussian };
}

function vec3Of(v: unknown, what: string): Vec3 {
  if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) fail(`${what} must be [x, y, z] numbers`);
  return v as Vec3;
}

function readCamera(path: string): Camera {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    fail(`cannot read camera ${path} (${(err as Error).message}); expected {"intrinsics":{width,height,fx,fy,cx,cy},"camToWorld":[[4 numbers] x 4]} (OpenCV convention)`);
  }
  const o = j as { intrinsics?: Record<string, unknown>; camToWorld?: unknown };
  const k = o.intrinsics;
  const keys = ['width', 'height', 'fx', 'fy', 'cx', 'cy'];
  if (!k || keys.some((x) => typeof k[x] !== 'number' || !Number.isFinite(k[x] as number))) fail(`camera ${path}: intrinsics need numeric ${keys.join(', ')}`);
  if (!Array.isArray(o.camToWorld)) fail(`camera ${path}: camToWorld must be a 4x4 array of rows (camera-to-world, OpenCV)`);
  let m;
  try {
    m = mat4FromRows(o.camToWorld as number[][]);
  } catch {
    fail(`camera ${path}: camToWorld must be 4 rows of 4 numbers`);
  }
  return { intrinsics: k as unknown as Camera['intrinsics'], camToWorld: m };
}

/**
 * Drags from JSON: a list (or {"drags": list}) of {start, end}; 3D when start has 3 numbers,
 * pixels (x = column, y = row) when 2, which needs the camera: the start is lifted to the
 * initial-state point under it nearest the camera, the end to the same depth.
 */
export function readDrags(path: string, initial: Float32Array, cameraPath?: string): Drag3D[] {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    fail(`cannot read drags ${path} (${(err as Error).message})`);
  }
  const list = Array.isArray(j) ? j : (j as { drags?: unknown }).drags;
  if (!Array.isArray(list) || list.length === 0) fail(`drags ${path}: expected a non-empty list of {"start": [...], "end": [...]}`);
  const out: Drag3D[] = [];
  let camera: Camera | undefined;
  let proj: ReturnType<typeof projectPoints> | undefined;
  list.forEach((d: unknown, i) => {
    const s = (d as { start?: unknown }).start, e = (d as { end?: unknown }).end;
    if (!Array.isArray(s) || !Array.isArray(e) || s.length !== e.length) fail(`drags ${path}: drag ${i} needs start and end of equal length`);
    if (s.length === 3) {
      out.push({ start: vec3Of(s, `drag ${i} start`), end: vec3Of(e, `drag ${i} end`) });
      return;
    }
    if (s.length !== 2 || [...s, ...e].some((x) => typeof x !== 'number' || !Number.isFinite(x))) fail(`drags ${path}: drag ${i} must be 3D points or 2D pixels`);
    if (!cameraPath) fail('pixel drags need --camera cam.json to be lifted into 3D');
    camera ??= readCamera(cameraPath);
    proj ??= projectPoints(camera, initial);
    let best = -1, bestScore = Infinity;
    const n = proj.depth.length;
    for (let k = 0; k < n; k++) {
      if (!(proj.depth[k]! > 0)) continue;
      const dp = Math.hypot(proj.pixels[2 * k]! - (s[0] as number), proj.pixels[2 * k + 1]! - (s[1] as number));
      if (dp > 6) continue;
      // Nearest to the camera among the points under the pixel (what the operator saw).
      const score = proj.depth[k]! + 1e-3 * dp;
      if (score < bestScore) {
        bestScore = score;
        best = k;
      }
    }
    if (best < 0) return; // the drag starts off the object: no hint from it
    const start: Vec3 = [initial[3 * best]!, initial[3 * best + 1]!, initial[3 * best + 2]!];
    out.push({ start, end: unproject(camera, e[0] as number, e[1] as number, proj.depth[best]!) });
  });
  return out;
}

export function extractCommand(): Command {
  return new Command('extract')
    .description('two states of an object (Gaussian or point PLYs, same frame, z up) -> joint, base/part meshes, URDF, picture')
    .requiredOption('--initial <ply>', 'initial state PLY (3DGS Inria/LGM layout or plain x y z points)')
    .requiredOption('--dragged <ply>', 'dragged state PLY, same kind and frame as --initial')
    .requiredOption('--out <dir>', 'output directory (articulation.json, base.obj, part.obj, object.urdf, articulation.png)')
    .option('--drags <json>', 'operator drags: [{"start":[x,y,z],"end":[x,y,z]}] or pixels [{"start":[u,v],"end":[u,v]}] with --camera')
    .option('--camera <json>', 'camera for pixel drags: {"intrinsics":{...},"camToWorld":[[...],...]} (OpenCV)')
    .option('--points <n>', 'points sampled per state', positiveInt('points'), 10000)
    .option('--seed <n>', 'seed for sampling', positiveInt('seed'), 1)
    .option('--name <name>', 'robot name in the URDF', 'object')
    .option('--no-picture', 'skip articulation.png')
    .action(async (o: { initial: string; dragged: string; out: string; drags?: string; camera?: string; points: number; seed: number; name: string; picture: boolean }) => {
      const a = readState(o.initial, o.points, o.seed);
      const b = readState(o.dragged, o.points, o.seed + 1);
      if (a.gaussian !== b.gaussian) {
        fail(`mismatched inputs: ${a.gaussian ? o.initial : o.dragged} holds Gaussians but ${a.gaussian ? o.dragged : o.initial} plain points; expected two states of the same kind`);
      }
      const drags3d = o.drags ? readDrags(o.drags, a.cloud.positions, o.camera) : [];
      const x = await extractArticulation({ initial: a.cloud, dragged: b.cloud, drags3d, seed: o.seed, name: o.name });
      const files = await writeArticulationOutputs(o.out, x, { picture: o.picture });
      const j = x.articulation.joints[0]!;
      const motion = j.type === 'revolute' ? `${((j.motion * 180) / Math.PI).toFixed(1)} deg` : `${j.motion.toFixed(4)} (input units)`;
      console.log(`${j.type} joint, axis [${j.axis.map((v) => v.toFixed(3)).join(', ')}], origin [${j.origin.map((v) => v.toFixed(3)).join(', ')}], motion ${motion}, confidence ${j.confidence.toFixed(2)}, ${j.movingIndices?.length ?? 0} moving points`);
      console.log(`wrote ${Object.keys(files).join(', ')} to ${resolve(o.out)} (fit ${x.timings.fitMs.toFixed(0)} ms, meshes ${x.timings.meshMs.toFixed(0)} ms)`);
    });
}

export function sampleCommand(): Command {
  return new Command('sample')
    .description('surface points of a URDF (procedural or PartNet-Mobility layout) at a joint state, as a point PLY')
    .requiredOption('--urdf <path>', 'URDF file (mobility.urdf or object.urdf)')
    .requiredOption('--joint <name>', 'joint to set')
    .requiredOption('--state <value>', 'joint value (radians or URDF length units)')
    .requiredOption('--out <ply>', 'output point PLY (x y z + link label)')
    .option('--points <n>', 'number of points', positiveInt('points'), 10000)
    .option('--seed <n>', 'seed', positiveInt('seed'), 1)
    .action((o: { urdf: string; joint: string; state: string; out: string; points: number; seed: number }) => {
      const q = Number(o.state);
      if (o.state.trim() === '' || !Number.isFinite(q)) fail(`--state must be a number, got "${o.state}"`);
      const u = loadArticulatedUrdf(o.urdf);
      if (!movableJoints(u).includes(o.joint)) fail(`${o.urdf} has no movable joint "${o.joint}"; movable joints: ${movableJoints(u).join(', ') || '(none)'}`);
      const cloud = sampleArticulatedUrdf(u, { state: { [o.joint]: q }, points: o.points, seed: o.seed });
      mkdirSync(dirname(resolve(o.out)), { recursive: true });
      writeFileAtomicSync(o.out, writePointPly(cloud));
      for (const w of u.warnings) console.warn(`warning: ${w}`);
      console.log(`wrote ${o.points} points of ${u.urdf.name} at ${o.joint} = ${q} to ${o.out}`);
    });
}
