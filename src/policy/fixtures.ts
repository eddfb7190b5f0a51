/**
 * Writes procedural objects (src/dataset) as ground-truth URDF directories for simulation
 * benchmarks and tests: `<dir>/object.urdf` + `meshes/<link>.obj/.mtl`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArticulatedObject, Category } from '../dataset/articulated.js';
import { linkObj, toUrdf } from '../dataset/articulated.js';
import { generateObject } from '../dataset/categories.js';
import { serializeUrdf } from '../urdf/document.js';

export async function writeObjectUrdf(obj: ArticulatedObject, dir: string): Promise<string> {
  await mkdir(join(dir, 'meshes'), { recursive: true });
  for (const link of obj.links) {
    const { obj: objText, mtl } = linkObj(link, obj.materials, `${link.name}.mtl`);
    await writeFile(join(dir, 'meshes', `${link.name}.obj`), objText);
    await writeFile(join(dir, 'meshes', `${link.name}.mtl`), mtl);
  }
  const path = join(dir, 'object.urdf');
  await writeFile(path, serializeUrdf(toUrdf(obj, (l) => `meshes/${l.name}.obj`)));
  return path;
}

export interface OpeningCase {
  id: string;
  urdf: string;
  joint: string;
  task: 'drawer' | 'door';
  category: Category;
}

/**
 * Procedural objects with a drawer (prismatic) or a door (revolute, semantic door) until `drawers`
 * and `doors` cases are collected; objects are generated from consecutive seeds.
 */
export async function openingCases(dir: string, drawers: number, doors: number, seed = 1): Promise<OpeningCase[]> {
  const out: OpeningCase[] = [];
  let nd = 0;
  let nr = 0;
  const doorCats: Category[] = ['storage_furniture', 'microwave', 'refrigerator', 'oven', 'dishwasher', 'washing_machine'];
  for (let i = 0; (nd < drawers || nr < doors) && i < 10000; i++) {
    const category = i % 2 === 0 ? 'storage_furniture' : doorCats[(i >> 1) % doorCats.length]!;
    const obj = generateObject(category, seed * 100003 + i);
    const drawer = obj.joints.find((j) => j.type === 'prismatic' && j.semantic === 'drawer');
    const door = obj.joints.find((j) => j.type === 'revolute' && j.semantic === 'door');
    const wantDrawer = drawer && nd < drawers;
    const wantDoor = door && nr < doors;
    if (!wantDrawer && !wantDoor) continue;
    const urdf = await writeObjectUrdf(obj, join(dir, obj.id));
    if (wantDrawer) {
      out.push({ id: `${obj.id}/${drawer.name}`, urdf, joint: drawer.name, task: 'drawer', category });
      nd++;
    }
    if (wantDoor) {
      out.push({ id: `${obj.id}/${door.name}`, urdf, joint: door.name, task: 'door', category });
      nr++;
    }
  }
  return out;
}
