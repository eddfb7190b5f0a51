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

/** Wavefront OBJ text of an axis-aligned box (8 vertices, 12 triangles) in mesh coordinates. */
function boxObj(min: readonly number[], max: readonly number[], mtl = true): string {
  const v: string[] = [];
  for (const x of [min[0]!, max[0]!]) for (const y of [min[1]!, max[1]!]) for (const z of [min[2]!, max[2]!]) v.push(`v ${x} ${y} ${z}`);
  // vertex index = 1 + 4*ix + 2*iy + iz
  const f = [
    [1, 2, 4, 3], [5, 7, 8, 6], [1, 5, 6, 2], [3, 4, 8, 7], [1, 3, 7, 5], [2, 6, 8, 4],
  ].map((q) => `f ${q[0]}/1 ${q[1]}/1 ${q[2]}/1\nf ${q[0]}/1 ${q[2]}/1 ${q[3]}/1`);
  return `${mtl ? 'mtllib original.mtl\nusemtl wood\n' : ''}${v.join('\n')}\nvt 0 0\n${f.join('\n')}\n`;
}

/** A flat, single-sided quad (4 vertices, 2 triangles) at z = `z`: MuJoCo's qhull fails on it. */
function quadObj(x0: number, x1: number, y0: number, y1: number, z: number): string {
  return `mtllib original.mtl\nv ${x0} ${y0} ${z}\nv ${x1} ${y0} ${z}\nv ${x1} ${y1} ${z}\nv ${x0} ${y1} ${z}\nf 1 2 3\nf 1 3 4\n`;
}

/**
 * A small PartNet-Mobility-layout cabinet (mobility.urdf + textured_objs/original-*.obj +
 * semantics.txt): y-up meshes turned z-up by a fixed root joint with rpy (pi/2, 0, -pi/2), no
 * <inertial> anywhere, duplicate visual names, limits without effort/velocity, several OBJ
 * visuals per link, collision through the same OBJs, flat single-sided panels (back panel, door
 * leaf), one mesh referenced through package://. Front of the cabinet: world +x (mesh -z).
 * link_0: drawer (prismatic, joint_0, 0..0.3 m); link_1: door (revolute, joint_1, 0..1.57 rad).
 */
export async function writePartNetFixture(dir: string): Promise<{ urdf: string; drawer: string; door: string }> {
  const tex = join(dir, 'textured_objs');
  await mkdir(tex, { recursive: true });
  const files: Record<string, string> = {
    // body: thin boxes (sides, top, bottom, middle shelf) + a flat back panel
    'original-1.obj': boxObj([-0.4, 0, -0.25], [-0.38, 0.8, 0.25]),
    'original-2.obj': boxObj([0.38, 0, -0.25], [0.4, 0.8, 0.25]),
    'original-3.obj': boxObj([-0.38, 0.78, -0.25], [0.38, 0.8, 0.25]),
    'original-4.obj': boxObj([-0.38, 0, -0.25], [0.38, 0.02, 0.25]),
    'original-5.obj': boxObj([-0.38, 0.39, -0.25], [0.38, 0.41, 0.25]),
    'original-6.obj': quadObj(-0.4, 0.4, 0, 0.8, 0.25),
    // drawer (link_0): front panel, tray bottom, horizontal bar handle (mesh x) on posts
    'original-7.obj': boxObj([-0.37, 0.03, -0.255], [0.37, 0.38, -0.235]),
    'original-8.obj': boxObj([-0.35, 0.03, -0.235], [0.35, 0.05, 0.2]),
    'original-9.obj': boxObj([-0.1, 0.28, -0.29], [0.1, 0.295, -0.275]),
    'original-10.obj': boxObj([-0.08, 0.28, -0.275], [-0.07, 0.295, -0.255]),
    'original-11.obj': boxObj([0.07, 0.28, -0.275], [0.08, 0.295, -0.255]),
    // door (link_1), in its own frame (hinge at mesh x=-0.38, z=-0.255 -> origin): flat leaf + vertical bar
    'original-12.obj': quadObj(0.005, 0.75, 0.42 - 0.6, 0.77 - 0.6, 0),
    'original-13.obj': boxObj([0.66, 0.5 - 0.6, -0.035], [0.675, 0.7 - 0.6, -0.02]),
    'original-14.obj': boxObj([0.665, 0.52 - 0.6, -0.02], [0.67, 0.53 - 0.6, 0]),
    'original-15.obj': boxObj([0.665, 0.67 - 0.6, -0.02], [0.67, 0.68 - 0.6, 0]),
    'original.mtl': 'newmtl wood\nKd 0.6 0.45 0.3\nmap_Kd ../images/texture_0.png\n',
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(tex, name), text);
  const vis = (name: string, file: string, origin = '0 0 0'): string =>
    `    <visual name="${name}">\n      <origin xyz="${origin}"/>\n      <geometry>\n        <mesh filename="${file}"/>\n      </geometry>\n    </visual>\n    <collision>\n      <origin xyz="${origin}"/>\n      <geometry>\n        <mesh filename="${file}"/>\n      </geometry>\n    </collision>\n`;
  const urdf = `<?xml version="1.0" ?>
<robot name="partnet_fixture">
  <link name="base"/>
  <link name="link_0">
${vis('drawer-1', 'textured_objs/original-7.obj', '0 0 0')}${vis('drawer-1', 'textured_objs/original-8.obj')}${vis('drawer-1', 'textured_objs/original-9.obj')}${vis('drawer-1', 'textured_objs/original-10.obj')}${vis('drawer-1', 'package://partnet_fixture/textured_objs/original-11.obj')}  </link>
  <joint name="joint_0" type="prismatic">
    <origin xyz="0 0 0" rpy="0 0 0"/>
    <axis xyz="0 0 -1"/>
    <child link="link_0"/>
    <parent link="link_2"/>
    <limit lower="0" upper="0.3"/>
  </joint>
  <link name="link_1">
${vis('door-2', 'textured_objs/original-12.obj')}${vis('door-2', 'textured_objs/original-13.obj')}${vis('door-2', 'textured_objs/original-14.obj')}${vis('door-2', 'textured_objs/original-15.obj')}  </link>
  <joint name="joint_1" type="revolute">
    <origin xyz="-0.38 0.6 -0.255"/>
    <axis xyz="0 1 0"/>
    <child link="link_1"/>
    <parent link="link_2"/>
    <limit lower="0.0" upper="1.5707963267948966"/>
  </joint>
  <link name="link_2">
${vis('body-3', 'textured_objs/original-1.obj')}${vis('body-3', 'textured_objs/original-2.obj')}${vis('body-3', 'textured_objs/original-3.obj')}${vis('body-3', 'textured_objs/original-4.obj')}${vis('body-3', 'textured_objs/original-5.obj')}${vis('body-3', 'textured_objs/original-6.obj')}  </link>
  <joint name="joint_2" type="fixed">
    <origin rpy="1.570796326794897 0 -1.570796326794897" xyz="0 0 0"/>
    <child link="link_2"/>
    <parent link="base"/>
  </joint>
</robot>
`;
  const path = join(dir, 'mobility.urdf');
  await writeFile(path, urdf);
  await writeFile(join(dir, 'semantics.txt'), 'link_0 slider drawer\nlink_1 hinge rotation_door\nlink_2 heavy furniture_body\n');
  return { urdf: path, drawer: 'joint_0', door: 'joint_1' };
}
