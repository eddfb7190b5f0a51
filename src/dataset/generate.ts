/**
 * Dataset generation: procedural objects -> ground-truth URDFs, per-state points, renders from the
 * PartDrag-4D rig, part masks and drags; written under a temporary sibling directory and renamed
 * into place only when complete, so a failed or interrupted run leaves nothing half-written.
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type Camera, PARTDRAG_RIG, cameraCentre, projectPoints, rigCameras } from '../core/camera.js';
import { encodePngGray16, encodePngGray8, encodePngRgba } from '../core/image.js';
import { mat4ToRows } from '../core/math.js';
import { encodeNpy } from '../core/npy.js';
import { Rng, mixSeed } from '../core/random.js';
import { serializeUrdf } from '../urdf/document.js';
import { CATEGORIES, type ArticulatedObject, type Category, UNSEEN_CATEGORIES, linkObj, linkTransforms, restState, toUrdf } from './articulated.js';
import { generateObject } from './categories.js';
import { DATASET_FORMAT, DATASET_VERSION, DEPTH_SCALE, type DatasetIndex, type DragEntry, type ObjectEntry, type Split, type StateEntry } from './layout.js';
import { renderScene } from './render.js';
import { ObjectScene, type SurfacePoints } from './scene.js';
import { meshBounds, mergeMeshes } from '../core/mesh.js';
import { transformPoints } from '../core/math.js';

export interface GenerateOptions {
  out: string;
  objects: number;
  categories: readonly Category[];
  seed: number;
  size: number;
  views: number;
  statesPerPart: number;
  points: number;
  dragsPerPair: number;
}

export const DEFAULT_GENERATE: Omit<GenerateOptions, 'out'> = {
  objects: 8,
  categories: CATEGORIES,
  seed: 0,
  size: 512,
  views: 12,
  statesPerPart: 6,
  points: 10000,
  dragsPerPair: 32,
};

export interface GenerateProgress {
  objectsDone: number;
  objects: number;
  statesDone: number;
  /** Known once the object's parts are known; grows as objects are generated. */
  statesPlanned: number;
  current: string;
}

function checkInt(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`Dataset: --${name} must be an integer in [${lo}, ${hi}], got ${v}`);
}

export function validateGenerateOptions(o: GenerateOptions): void {
  checkInt('objects', o.objects, 1, 100000);
  checkInt('size', o.size, 16, 4096);
  checkInt('views', o.views, 1, 360);
  checkInt('seed', o.seed, 0, 2 ** 32 - 1);
  checkInt('states', o.statesPerPart, 2, 64);
  checkInt('points', o.points, 1, 1_000_000);
  checkInt('drags', o.dragsPerPair, 1, 10000);
  if (o.categories.length === 0) throw new Error('Dataset: --categories is empty; expected one or more of ' + CATEGORIES.join(', '));
  for (const c of o.categories) if (!CATEGORIES.includes(c)) throw new Error(`Dataset: unknown category "${c}"; expected one of ${CATEGORIES.join(', ')}`);
}

/** The split rule: unseen categories never train; every 10th seen object is held out for evaluation. */
export function splitOf(category: Category, index: number): Split {
  if (UNSEEN_CATEGORIES.includes(category)) return 'unseen';
  return index % 10 === 9 ? 'eval' : 'train';
}

async function prepareOutput(out: string): Promise<{ final: string; temp: string }> {
  const final = resolve(out);
  const st = await stat(final).catch(() => null);
  if (st) {
    if (!st.isDirectory()) throw new Error(`Dataset: output ${final} exists and is not a directory`);
    if ((await readdir(final)).length > 0) throw new Error(`Dataset: output directory ${final} is not empty; choose a new path or remove it`);
  }
  const parent = dirname(final);
  try {
    await mkdir(parent, { recursive: true });
  } catch (e) {
    throw new Error(`Dataset: cannot create output parent directory ${parent}: ${(e as Error).message}`);
  }
  const temp = join(parent, `.partial-${basename(final)}-${process.pid}-${Date.now().toString(36)}`);
  try {
    await mkdir(temp);
  } catch (e) {
    throw new Error(`Dataset: output directory ${final} is not writable: ${(e as Error).message}`);
  }
  return { final, temp };
}

/** Values of one joint's S evenly spaced states, the others fixed at random positions. */
function stateSeries(obj: ArticulatedObject, joint: number, steps: number, rng: Rng): Float64Array[] {
  const others = obj.joints.map((j) => (rng.bool(0.5) ? j.lower : rng.uniform(j.lower, j.upper)));
  const j = obj.joints[joint]!;
  return Array.from({ length: steps }, (_, k) => {
    const q = Float64Array.from(others);
    q[joint] = j.lower + ((j.upper - j.lower) * k) / (steps - 1);
    return q;
  });
}

/**
 * Which points are visible in a view: the point's surface faces the camera, the depth buffer at
 * the point's pixel agrees with the point's depth (within about a pixel's footprint), and the
 * pixel shows the point's part. All positions and normals in the camera's world (rig) frame.
 */
export function visiblePoints(
  camera: Camera,
  points: Float32Array,
  normals: Float32Array,
  labels: Uint8Array,
  render: { width: number; height: number; depth: Float32Array; labels: Uint8Array },
  requireLabel = true,
): { pixels: Float32Array; visible: Uint8Array } {
  const { pixels, depth } = projectPoints(camera, points);
  const [cx, cy, cz] = cameraCentre(camera);
  const fy = camera.intrinsics.fy;
  const n = depth.length;
  const visible = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const facing =
      normals[i * 3]! * (cx - points[i * 3]!) + normals[i * 3 + 1]! * (cy - points[i * 3 + 1]!) + normals[i * 3 + 2]! * (cz - points[i * 3 + 2]!);
    if (!(facing > 0)) continue;
    const px = Math.floor(pixels[i * 2]!), py = Math.floor(pixels[i * 2 + 1]!);
    if (px < 0 || py < 0 || px >= render.width || py >= render.height || !(depth[i]! > 0)) continue;
    const k = py * render.width + px;
    const tol = 0.003 + (1.5 * depth[i]!) / fy;
    if (Math.abs(render.depth[k]! - depth[i]!) <= tol && (!requireLabel || render.labels[k] === labels[i])) visible[i] = 1;
  }
  return { pixels, visible };
}

interface RenderedState {
  entry: StateEntry;
  pixels0: Float32Array;
  visible0: Uint8Array;
}

async function writeState(
  scene: ObjectScene,
  points: SurfacePoints,
  q: Float64Array,
  id: string,
  joint: number,
  step: number,
  cameras: Camera[],
  objDir: string,
  root: string,
): Promise<RenderedState> {
  const rel = `${objDir}/states/${id}`;
  const dir = join(root, rel);
  await mkdir(dir, { recursive: true });
  const metres = scene.posePoints(points, q);
  await writeFile(join(dir, 'points.npy'), encodeNpy(metres, [metres.length / 3, 3]));
  const items = scene.renderItems(q);
  const rig = scene.toRig(metres);
  const labels = Uint8Array.from(points.links, (l) => ObjectScene.labelOf(l));
  const entry: StateEntry = { id, joint, step, q: Array.from(q), points: `${rel}/points.npy`, rgba: [], depth: [], mask: [] };
  let pixels0: Float32Array = new Float32Array(0);
  let visible0: Uint8Array = new Uint8Array(0);
  for (let v = 0; v < cameras.length; v++) {
    const cam = cameras[v]!;
    const r = renderScene(items, cam);
    const vv = String(v).padStart(2, '0');
    const depth16 = new Uint16Array(r.depth.length);
    for (let k = 0; k < r.depth.length; k++) {
      const d = r.depth[k]!;
      depth16[k] = Number.isFinite(d) ? Math.min(65535, Math.round(d * DEPTH_SCALE)) : 0;
    }
    await writeFile(join(dir, `rgba_${vv}.png`), encodePngRgba({ width: r.width, height: r.height, data: r.rgba }));
    await writeFile(join(dir, `depth_${vv}.png`), encodePngGray16(r.width, r.height, depth16));
    await writeFile(join(dir, `mask_${vv}.png`), encodePngGray8(r.width, r.height, r.labels));
    entry.rgba.push(`${rel}/rgba_${vv}.png`);
    entry.depth.push(`${rel}/depth_${vv}.png`);
    entry.mask.push(`${rel}/mask_${vv}.png`);
    if (v === 0) {
      const vis = visiblePoints(cam, rig, scene.poseNormals(points, q), labels, r);
      pixels0 = vis.pixels;
      visible0 = vis.visible;
    }
  }
  return { entry, pixels0, visible0 };
}

/** Drags for every ordered pair of a joint's states: visible moving-part points in state a. */
function sampleDrags(series: RenderedState[], movingLink: number, links: Uint8Array, perPair: number, rng: Rng) {
  const S = series.length;
  const drags = new Float32Array(S * S * perPair * 4);
  const index = new Int32Array(S * S * perPair).fill(-1);
  const counts: number[][] = [];
  for (let a = 0; a < S; a++) {
    const from = series[a]!;
    const candidates: number[] = [];
    for (let i = 0; i < links.length; i++) if (links[i] === movingLink && from.visible0[i]) candidates.push(i);
    const row: number[] = [];
    for (let b = 0; b < S; b++) {
      const to = series[b]!;
      const chosen = rng.shuffle(candidates.slice()).slice(0, perPair);
      chosen.forEach((i, k) => {
        const o = ((a * S + b) * perPair + k) * 4;
        drags[o] = from.pixels0[i * 2]!;
        drags[o + 1] = from.pixels0[i * 2 + 1]!;
        drags[o + 2] = to.pixels0[i * 2]!;
        drags[o + 3] = to.pixels0[i * 2 + 1]!;
        index[(a * S + b) * perPair + k] = i;
      });
      row.push(chosen.length);
    }
    counts.push(row);
  }
  return { drags, index, counts };
}

async function writeObject(
  obj: ArticulatedObject,
  index: number,
  options: GenerateOptions,
  cameras: Camera[],
  root: string,
  onState: (planned: number) => void,
): Promise<ObjectEntry> {
  const scene = new ObjectScene(obj);
  const rng = new Rng(mixSeed(obj.seed, 0x5eed));
  const dirRel = obj.id;
  const urdfDir = join(root, dirRel, 'urdf');
  await mkdir(join(urdfDir, 'meshes'), { recursive: true });
  const meshRel = (name: string) => `meshes/${name}.obj`;
  for (const link of obj.links) {
    const { obj: objText, mtl } = linkObj(link, obj.materials, `${link.name}.mtl`);
    await writeFile(join(urdfDir, meshRel(link.name)), objText);
    await writeFile(join(urdfDir, 'meshes', `${link.name}.mtl`), mtl);
  }
  await writeFile(join(urdfDir, 'object.urdf'), serializeUrdf(toUrdf(obj, (l) => meshRel(l.name))));

  const points = scene.samplePoints(options.points, rng.fork(1));
  await mkdir(join(root, dirRel, 'points'), { recursive: true });
  await writeFile(join(root, dirRel, 'points', 'local.npy'), encodeNpy(points.local, [options.points, 3]));
  await writeFile(join(root, dirRel, 'points', 'links.npy'), encodeNpy(points.links, [options.points]));

  const restPoses = linkTransforms(obj, restState(obj));
  const closed = mergeMeshes(scene.linkMeshes.map((lm, i) => ({ positions: transformPoints(restPoses[i]!, lm.mesh.positions), indices: lm.mesh.indices })));
  const bounds = meshBounds(closed.positions);

  const states: StateEntry[] = [];
  const drags: DragEntry[] = [];
  onState(obj.joints.length * options.statesPerPart);
  await mkdir(join(root, dirRel, 'drags'), { recursive: true });
  for (let j = 0; j < obj.joints.length; j++) {
    const joint = obj.joints[j]!;
    const series: RenderedState[] = [];
    const qs = stateSeries(obj, j, options.statesPerPart, rng.fork(100 + j));
    for (let k = 0; k < qs.length; k++) {
      const rs = await writeState(scene, points, qs[k]!, `${joint.name}_s${k}`, j, k, cameras, dirRel, root);
      series.push(rs);
      states.push(rs.entry);
      onState(0);
    }
    const d = sampleDrags(series, joint.child, points.links, options.dragsPerPair, rng.fork(200 + j));
    const S = series.length;
    const file = `${dirRel}/drags/${joint.name}.npy`;
    const pointsFile = `${dirRel}/drags/${joint.name}_points.npy`;
    await writeFile(join(root, file), encodeNpy(d.drags, [S, S, options.dragsPerPair, 4]));
    await writeFile(join(root, pointsFile), encodeNpy(d.index, [S, S, options.dragsPerPair]));
    drags.push({ joint: j, states: series.map((s) => s.entry.id), file, pointsFile, perPair: options.dragsPerPair, counts: d.counts });
  }
  return {
    id: obj.id,
    category: obj.category,
    seed: obj.seed,
    split: splitOf(obj.category, index),
    dir: dirRel,
    urdf: `${dirRel}/urdf/object.urdf`,
    sizeMetres: [bounds.max[0] - bounds.min[0], bounds.max[1] - bounds.min[1], bounds.max[2] - bounds.min[2]],
    normalisation: scene.normalisation,
    links: obj.links.map((l, i) => ({ name: l.name, label: ObjectScene.labelOf(i), mesh: `${dirRel}/urdf/${meshRel(l.name)}` })),
    joints: obj.joints.map((j) => ({
      name: j.name,
      type: j.type,
      parentLink: obj.links[j.parent]!.name,
      childLink: obj.links[j.child]!.name,
      child: j.child,
      origin: j.origin,
      axis: j.axis,
      lower: j.lower,
      upper: j.upper,
      semantic: j.semantic,
      hinge: j.hinge,
      handle: j.handle,
    })),
    points: { count: options.points, local: `${dirRel}/points/local.npy`, links: `${dirRel}/points/links.npy` },
    states,
    drags,
  };
}

/** Object i of a dataset: categories round-robin, seed derived from the dataset seed. */
export function datasetObject(options: Pick<GenerateOptions, 'seed' | 'categories'>, i: number): ArticulatedObject {
  const category = options.categories[i % options.categories.length]!;
  const seed = mixSeed(options.seed, i);
  return generateObject(category, seed, `${String(i).padStart(4, '0')}_${category}`);
}

export async function generateDataset(options: GenerateOptions, onProgress?: (p: GenerateProgress) => void): Promise<DatasetIndex> {
  validateGenerateOptions(options);
  const { final, temp } = await prepareOutput(options.out);
  const cameras = rigCameras({ views: options.views, size: options.size });
  const progress: GenerateProgress = { objectsDone: 0, objects: options.objects, statesDone: 0, statesPlanned: 0, current: '' };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const objects: ObjectEntry[] = [];
    for (let i = 0; i < options.objects; i++) {
      if (interrupted) throw new Error('Dataset: interrupted; nothing was written');
      const obj = datasetObject(options, i);
      progress.current = obj.id;
      const entry = await writeObject(obj, i, options, cameras, temp, (planned) => {
        if (planned > 0) progress.statesPlanned += planned;
        else progress.statesDone += 1;
        onProgress?.(progress);
      });
      objects.push(entry);
      progress.objectsDone += 1;
      onProgress?.(progress);
    }
    const splits: Record<Split, string[]> = { train: [], eval: [], unseen: [] };
    for (const o of objects) splits[o.split].push(o.id);
    const index: DatasetIndex = {
      format: DATASET_FORMAT,
      version: DATASET_VERSION,
      generator: {
        seed: options.seed,
        objects: options.objects,
        categories: [...options.categories],
        size: options.size,
        views: options.views,
        statesPerPart: options.statesPerPart,
        points: options.points,
        dragsPerPair: options.dragsPerPair,
      },
      rig: { views: options.views, size: options.size, radius: PARTDRAG_RIG.radius, height: PARTDRAG_RIG.height, fovyDeg: PARTDRAG_RIG.fovyDeg, convention: 'opencv', frame: 'rig' },
      cameras: cameras.map((c, view) => ({ view, intrinsics: c.intrinsics, camToWorld: mat4ToRows(c.camToWorld) })),
      depth: { scale: DEPTH_SCALE, unit: 'rig' },
      masks: { background: 0, label: 'link index + 1' },
      splits,
      objects,
    };
    await writeFile(join(temp, 'index.json'), JSON.stringify(index, null, 1));
    await rm(final, { recursive: true, force: true }); // only ever an empty directory here (checked above)
    await rename(temp, final);
    return index;
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
