/**
 * Consistency checks of a generated dataset, used by `partrm dataset verify` and the tests:
 * - every URDF passes urdfdom's check_urdf (optional: needs liburdfdom-tools) and loads in MuJoCo;
 * - MuJoCo's forward kinematics at each stored state maps the link-frame points onto the stored
 *   points of that state (the URDF and the renders describe the same object);
 * - drag starts fall on the moving part's mask in view 0, and drag ends are the projection of the
 *   same surface point in the other state.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectPoints } from '../core/camera.js';
import { decodePngGray } from '../core/image.js';
import { mat4FromRows } from '../core/math.js';
import { checkUrdf } from '../urdf/check.js';
import { loadUrdfModel } from '../sim/mujoco/urdf.js';
import type { DatasetIndex, ObjectEntry } from './layout.js';
import { readDatasetIndex, readNpy } from './read.js';
import { normalisationMatrix } from './scene.js';
import { transformPoints } from '../core/math.js';

export interface ObjectReport {
  id: string;
  category: string;
  checkUrdf: 'ok' | 'skipped' | string;
  mujoco: 'ok' | string;
  /** Largest distance between MuJoCo-posed points and stored points, metres. */
  maxPointError: number;
  drags: number;
  dragsOnMask: number;
  /** Largest distance between a stored drag end and the re-projected point, pixels. */
  maxEndError: number;
}

export interface DatasetReport {
  objects: ObjectReport[];
  drags: number;
  dragsOnMaskFraction: number;
  maxPointError: number;
  maxEndError: number;
  urdfFailures: string[];
}

async function verifyKinematics(root: string, obj: ObjectEntry): Promise<{ status: string; maxError: number }> {
  let sim;
  try {
    sim = await loadUrdfModel(join(root, obj.urdf), { discardVisual: false });
  } catch (e) {
    return { status: (e as Error).message, maxError: Infinity };
  }
  try {
    const local = (await readNpy(root, obj.points.local)).data;
    const links = (await readNpy(root, obj.points.links)).data;
    let maxError = 0;
    for (const s of obj.states) {
      const q: Record<string, number> = {};
      obj.joints.forEach((j, i) => (q[j.name] = s.q[i]!));
      sim.setJointPositions(q);
      sim.forward();
      const poses = obj.links.map((l) => sim.bodyPose(l.name));
      const stored = (await readNpy(root, s.points)).data;
      for (let i = 0; i < links.length; i++) {
        const m = poses[links[i]!]!;
        const x = local[i * 3]!, y = local[i * 3 + 1]!, z = local[i * 3 + 2]!;
        const dx = m[0]! * x + m[1]! * y + m[2]! * z + m[3]! - stored[i * 3]!;
        const dy = m[4]! * x + m[5]! * y + m[6]! * z + m[7]! - stored[i * 3 + 1]!;
        const dz = m[8]! * x + m[9]! * y + m[10]! * z + m[11]! - stored[i * 3 + 2]!;
        const e = Math.hypot(dx, dy, dz);
        if (e > maxError) maxError = e;
      }
    }
    return { status: 'ok', maxError };
  } finally {
    sim.dispose();
  }
}

async function verifyDrags(root: string, index: DatasetIndex, obj: ObjectEntry): Promise<{ drags: number; onMask: number; maxEndError: number }> {
  const cam0 = index.cameras[0]!;
  const camera = { intrinsics: cam0.intrinsics, camToWorld: mat4FromRows(cam0.camToWorld) };
  const toRig = normalisationMatrix(obj.normalisation);
  const byId = new Map(obj.states.map((s) => [s.id, s]));
  let drags = 0, onMask = 0, maxEndError = 0;
  for (const d of obj.drags) {
    const { data, shape } = await readNpy(root, d.file);
    const idx = (await readNpy(root, d.pointsFile)).data;
    const S = shape[0]!, K = shape[2]!;
    const label = obj.joints[d.joint]!.child + 1;
    const masks = await Promise.all(d.states.map(async (id) => decodePngGray(await readFile(join(root, byId.get(id)!.mask[0]!)))));
    const projected = await Promise.all(
      d.states.map(async (id) => projectPoints(camera, transformPoints(toRig, Float32Array.from((await readNpy(root, byId.get(id)!.points)).data))).pixels),
    );
    for (let a = 0; a < S; a++) {
      const mask = masks[a]!;
      for (let b = 0; b < S; b++) {
        for (let k = 0; k < d.counts[a]![b]!; k++) {
          const o = ((a * S + b) * K + k) * 4;
          const px = Math.floor(data[o]!), py = Math.floor(data[o + 1]!);
          drags++;
          if (px >= 0 && py >= 0 && px < mask.width && py < mask.height && mask.data[py * mask.width + px] === label) onMask++;
          const i = idx[(a * S + b) * K + k]!;
          const p = projected[b]!;
          const e = Math.hypot(p[i * 2]! - data[o + 2]!, p[i * 2 + 1]! - data[o + 3]!);
          if (e > maxEndError) maxEndError = e;
        }
      }
    }
  }
  return { drags, onMask, maxEndError };
}

export async function verifyDataset(root: string, options: { checkUrdf?: boolean; onObject?: (r: ObjectReport) => void } = {}): Promise<DatasetReport> {
  const index = await readDatasetIndex(root);
  const objects: ObjectReport[] = [];
  for (const obj of index.objects) {
    let urdfStatus = 'skipped';
    if (options.checkUrdf !== false) {
      const r = await checkUrdf(join(root, obj.urdf));
      urdfStatus = r.ok ? 'ok' : r.output.trim().split('\n').slice(-3).join(' | ');
    }
    const kin = await verifyKinematics(root, obj);
    const drag = await verifyDrags(root, index, obj);
    const report: ObjectReport = {
      id: obj.id,
      category: obj.category,
      checkUrdf: urdfStatus,
      mujoco: kin.status,
      maxPointError: kin.maxError,
      drags: drag.drags,
      dragsOnMask: drag.onMask,
      maxEndError: drag.maxEndError,
    };
    options.onObject?.(report);
    objects.push(report);
  }
  const drags = objects.reduce((n, o) => n + o.drags, 0);
  return {
    objects,
    drags,
    dragsOnMaskFraction: drags > 0 ? objects.reduce((n, o) => n + o.dragsOnMask, 0) / drags : 0,
    maxPointError: Math.max(...objects.map((o) => o.maxPointError)),
    maxEndError: Math.max(...objects.map((o) => o.maxEndError)),
    urdfFailures: objects.filter((o) => o.checkUrdf !== 'ok' && o.checkUrdf !== 'skipped').map((o) => `${o.id}: ${o.checkUrdf}`),
  };
}
