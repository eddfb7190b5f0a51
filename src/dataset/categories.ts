/**
 * The eight PartDrag-4D categories as procedural generators with real-world sizes (metres).
 * Every movable part carries a handle; hinges can sit on any side where the category allows.
 */
import type { Vec3 } from '../core/math.js';
import { Rng } from '../core/random.js';
import type { ArticulatedObject, Category } from './articulated.js';
import { ObjectBuilder } from './builder.js';

const WHITE: Vec3 = [0.92, 0.92, 0.9];
const STEEL: Vec3 = [0.74, 0.75, 0.77];
const BLACK: Vec3 = [0.13, 0.13, 0.14];
const GLASS: Vec3 = [0.08, 0.1, 0.12];
const WOODS: Vec3[] = [[0.66, 0.46, 0.28], [0.82, 0.67, 0.47], [0.45, 0.3, 0.2], [0.58, 0.38, 0.24]];
const PAINTS: Vec3[] = [[0.55, 0.62, 0.7], [0.52, 0.64, 0.5], [0.85, 0.83, 0.78], [0.7, 0.35, 0.3], [0.3, 0.35, 0.45]];

type Generator = (b: ObjectBuilder) => void;

/** A body finish: white enamel, brushed steel or black, as appliances come. */
function applianceFinish(b: ObjectBuilder): { body: number; front: number; handle: number; dark: number } {
  const kind = b.rng.int(0, 2);
  const base = kind === 0 ? WHITE : kind === 1 ? STEEL : BLACK;
  const pattern = kind === 1 ? 'brushed' : 'plain';
  const body = b.material('body', b.jitter(base, 0.03), pattern);
  const front = b.material('front', b.jitter(base, 0.05), pattern);
  const handle = b.material('handle', kind === 2 ? b.jitter(STEEL, 0.03) : b.jitter(b.rng.bool() ? STEEL : BLACK, 0.03), 'brushed', 2700);
  const dark = b.material('glass', GLASS, 'plain', 2500);
  return { body, front, handle, dark };
}

const dishwasher: Generator = (b) => {
  const r = b.rng;
  const W = r.uniform(0.55, 0.62), D = r.uniform(0.55, 0.63), H = r.uniform(0.8, 0.88);
  const t = 0.02;
  const f = applianceFinish(b);
  const inner = b.carcass(W, D, 0.09, H, t, f.body);
  b.box(0, [D / 2 - 0.04, 0, 0.045], [0.02, W - 0.02, 0.09], f.dark, 'plinth');
  b.shelf(inner, inner.z[0] + (inner.z[1] - inner.z[0]) * 0.5, 0.01, f.dark); // a rack level
  b.door({ name: 'door', rect: { min: [-W / 2, 0.09], max: [W / 2, H] }, front: D / 2, hinge: 'bottom', thickness: 0.04, upper: r.uniform(1.35, 1.57), material: f.front, handleMaterial: f.handle });
};

const laptop: Generator = (b) => {
  const r = b.rng;
  const W = r.uniform(0.3, 0.38), D = r.uniform(0.21, 0.26), H = r.uniform(0.014, 0.022);
  const shell = b.material('shell', b.jitter(r.pick([STEEL, BLACK, [0.8, 0.8, 0.82] as Vec3]), 0.04), 'brushed', 1800);
  const keys = b.material('keys', b.jitter(BLACK, 0.03), 'checker', 1200);
  const screen = b.material('screen', b.jitter([0.12, 0.16, 0.24], 0.04), 'plain', 2500);
  b.box(0, [0, 0, H / 2], [D, W, H], shell, 'base');
  b.box(0, [-D * 0.12, 0, H + 0.001], [D * 0.5, W * 0.85, 0.002], keys, 'keyboard');
  b.box(0, [D * 0.3, 0, H + 0.001], [D * 0.22, W * 0.3, 0.002], screen, 'touchpad');
  const lidT = r.uniform(0.006, 0.01);
  const lid = b.lid({ name: 'screen', rect: { min: [-D / 2, -W / 2], max: [D / 2, W / 2] }, top: H, thickness: lidT, upper: r.uniform(1.9, 2.3), material: shell, handleMaterial: shell, handle: 'tab' });
  // The display faces the keyboard when closed (underside of the lid).
  b.box(lid, [D / 2, 0, -0.0005], [D * 0.85, W * 0.88, 0.001], screen, 'display');
};

const microwave: Generator = (b) => {
  const r = b.rng;
  const W = r.uniform(0.45, 0.6), D = r.uniform(0.34, 0.45), H = r.uniform(0.26, 0.35);
  const t = 0.015;
  const f = applianceFinish(b);
  const inner = b.carcass(W, D, 0, H, t, f.body);
  const panelW = W * r.uniform(0.22, 0.3);
  const split = W / 2 - panelW;
  b.divider(inner, split, t, f.body);
  b.box(0, [D / 2 - 0.01, split + panelW / 2, H / 2], [0.02, panelW, H], f.front, 'control_panel');
  b.knobs(D / 2, [split + panelW / 2], H * 0.65, 0.018, f.handle);
  b.knobs(D / 2, [split + panelW / 2], H * 0.35, 0.018, f.handle);
  const hinge = r.bool(0.8) ? 'left' : 'right';
  b.door({ name: 'door', rect: { min: [-W / 2, 0], max: [split, H] }, front: D / 2, hinge, thickness: 0.03, upper: r.uniform(1.5, 1.9), material: f.front, handleMaterial: f.handle, window: f.dark });
};

const oven: Generator = (b) => {
  const r = b.rng;
  const W = r.uniform(0.55, 0.76), D = r.uniform(0.55, 0.65), H = r.uniform(0.85, 0.95);
  const t = 0.02;
  const f = applianceFinish(b);
  const withDrawer = r.bool(0.5);
  const zDoor = withDrawer ? 0.2 : 0.06;
  const zPanel = H - 0.12;
  const inner = b.carcass(W, D, 0, H, t, f.body);
  b.shelf(inner, zPanel, t, f.body);
  if (withDrawer) b.shelf(inner, zDoor, t, f.body);
  b.box(0, [D / 2 - 0.01, 0, (zPanel + H) / 2], [0.02, W, H - zPanel], f.front, 'control_panel');
  const nk = r.int(2, 5);
  b.knobs(D / 2, Array.from({ length: nk }, (_, i) => -W / 2 + (W * (i + 1)) / (nk + 1)), (zPanel + H) / 2, 0.02, f.handle);
  b.door({ name: 'door', rect: { min: [-W / 2, zDoor], max: [W / 2, zPanel] }, front: D / 2, hinge: 'bottom', thickness: 0.045, upper: r.uniform(1.35, 1.57), material: f.front, handleMaterial: f.handle, window: f.dark });
  if (withDrawer) {
    const cell = { x: inner.x, y: inner.y, z: [inner.z[0], zDoor - t / 2] as [number, number] };
    b.drawer({ name: 'drawer', rect: { min: [-W / 2, 0.01], max: [W / 2, zDoor - 0.004] }, front: D / 2, inner: cell, thickness: 0.03, travel: D * 0.7, material: f.front, trayMaterial: f.body, handleMaterial: f.handle });
  } else {
    b.box(0, [D / 2 - 0.01, 0, 0.03], [0.02, W, 0.06], f.dark, 'plinth');
  }
};

const refrigerator: Generator = (b) => {
  const r = b.rng;
  const W = r.uniform(0.6, 0.9), D = r.uniform(0.6, 0.75), H = r.uniform(1.5, 1.9);
  const t = 0.03;
  const f = applianceFinish(b);
  const inner = b.carcass(W, D, 0.05, H, t, f.body);
  b.box(0, [D / 2 - 0.03, 0, 0.025], [0.02, W - 0.04, 0.05], f.dark, 'plinth');
  const layout = r.pick(['single', 'top_freezer', 'bottom_drawer', 'side_by_side'] as const);
  const hingeSide = r.bool() ? 'left' : 'right';
  const door = { front: D / 2, thickness: 0.06, material: f.front, handleMaterial: f.handle };
  const upper = () => r.uniform(1.5, 2.0);
  for (let k = 1; k <= 2; k++) b.shelf(inner, 0.05 + ((H - 0.05) * k) / 3, 0.012, f.body);
  if (layout === 'single') {
    b.door({ ...door, name: 'door', rect: { min: [-W / 2, 0.05], max: [W / 2, H] }, hinge: hingeSide, upper: upper() });
  } else if (layout === 'top_freezer' || layout === 'bottom_drawer') {
    const zs = layout === 'top_freezer' ? H - (H - 0.05) * r.uniform(0.25, 0.33) : 0.05 + (H - 0.05) * r.uniform(0.28, 0.36);
    b.shelf(inner, zs, t, f.body);
    if (layout === 'top_freezer') {
      b.door({ ...door, name: 'freezer_door', rect: { min: [-W / 2, zs + 0.004], max: [W / 2, H] }, hinge: hingeSide, upper: upper() });
      b.door({ ...door, name: 'fridge_door', rect: { min: [-W / 2, 0.05], max: [W / 2, zs - 0.004] }, hinge: hingeSide, upper: upper() });
    } else {
      b.door({ ...door, name: 'fridge_door', rect: { min: [-W / 2, zs + 0.004], max: [W / 2, H] }, hinge: hingeSide, upper: upper() });
      const cell = { x: inner.x, y: inner.y, z: [inner.z[0], zs - t / 2] as [number, number] };
      b.drawer({ name: 'freezer_drawer', rect: { min: [-W / 2, 0.05], max: [W / 2, zs - 0.004] }, front: D / 2, inner: cell, thickness: 0.06, travel: D * 0.6, material: f.front, trayMaterial: f.body, handleMaterial: f.handle });
    }
  } else {
    b.divider(inner, 0, t, f.body);
    b.door({ ...door, name: 'left_door', rect: { min: [-W / 2, 0.05], max: [-0.002, H] }, hinge: 'left', upper: upper() });
    b.door({ ...door, name: 'right_door', rect: { min: [0.002, 0.05], max: [W / 2, H] }, hinge: 'right', upper: upper() });
  }
};

const storageFurniture: Generator = (b) => {
  const r = b.rng;
  const W = r.uniform(0.4, 1.2), D = r.uniform(0.35, 0.6), H = r.uniform(0.4, 1.8);
  const t = 0.018;
  const wood = r.bool(0.6);
  const bodyRgb = wood ? r.pick(WOODS) : r.pick(PAINTS);
  const body = b.material('carcass', b.jitter(bodyRgb, 0.05), wood ? 'wood' : 'plain', 600);
  const fronts = b.material('fronts', b.jitter(r.bool(0.7) ? bodyRgb : r.pick(PAINTS), 0.05), wood ? 'wood' : 'plain', 600);
  const handle = b.material('handle', b.jitter(r.pick([STEEL, BLACK, [0.72, 0.6, 0.3] as Vec3]), 0.03), 'brushed', 2700);
  const zBase = r.uniform(0.03, 0.08);
  const inner = b.carcass(W, D, zBase, H, t, body);
  b.box(0, [D / 2 - 0.04, 0, zBase / 2], [0.02, W - 0.06, zBase], body, 'plinth');
  const cols = W > 0.75 ? r.int(1, 3) : W > 0.5 ? r.int(1, 2) : 1;
  const rowsMax = Math.max(1, Math.min(4, Math.floor((H - zBase) / 0.22)));
  const rows = r.int(1, rowsMax);
  const cellW = (inner.y[1] - inner.y[0] - (cols - 1) * t) / cols;
  const cellH = (inner.z[1] - inner.z[0] - (rows - 1) * t) / rows;
  for (let c = 1; c < cols; c++) b.divider(inner, inner.y[0] + c * (cellW + t) - t / 2, t, body);
  for (let k = 1; k < rows; k++) b.shelf(inner, inner.z[0] + k * (cellH + t) - t / 2, t, body);
  // Keep at most four movable parts (6 states each), at least one.
  const cells: Array<[number, number]> = [];
  for (let c = 0; c < cols; c++) for (let k = 0; k < rows; k++) cells.push([c, k]);
  r.shuffle(cells);
  const movable = cells.slice(0, Math.min(cells.length, r.int(1, 4)));
  for (const [c, k] of movable) {
    const y0 = inner.y[0] + c * (cellW + t), y1 = y0 + cellW;
    const z0 = inner.z[0] + k * (cellH + t), z1 = z0 + cellH;
    // Fronts overlay half of the surrounding frame, leaving a small reveal between neighbours.
    const rect = { min: [y0 - t / 2 + 0.002, z0 - t / 2 + 0.002] as [number, number], max: [y1 + t / 2 - 0.002, z1 + t / 2 - 0.002] as [number, number] };
    const name = `${c}_${k}`;
    const isDrawer = cellH < 0.3 ? r.bool(0.8) : r.bool(0.25);
    if (isDrawer) {
      b.drawer({ name: `drawer_${name}`, rect, front: D / 2, inner: { x: inner.x, y: [y0, y1], z: [z0, z1] }, thickness: 0.02, travel: D * 0.75, material: fronts, trayMaterial: body, handleMaterial: handle });
    } else {
      const wide = cellW > cellH * 1.3;
      const hinge = wide ? r.pick(['top', 'bottom', 'left', 'right'] as const) : r.pick(['left', 'right'] as const);
      b.door({ name: `door_${name}`, rect, front: D / 2, hinge, thickness: 0.02, upper: hinge === 'top' || hinge === 'bottom' ? r.uniform(1.2, 1.57) : r.uniform(1.4, 2.0), material: fronts, handleMaterial: handle });
    }
  }
};

const washingMachine: Generator = (b) => {
  const r = b.rng;
  const W = r.uniform(0.58, 0.62), D = r.uniform(0.55, 0.65), H = r.uniform(0.82, 0.88);
  const f = applianceFinish(b);
  const drumMat = b.material('drum', b.jitter(STEEL, 0.03), 'brushed', 2700);
  const t = 0.02;
  if (r.bool(0.7)) {
    // Front loader: a closed body with a porthole door on the front.
    const inner = b.carcass(W, D, 0, H, t, f.body);
    b.box(0, [D / 2 - t / 2, 0, H - 0.06], [t, W - 2 * t, 0.12 - 0.001], f.front, 'control_panel');
    b.box(0, [D / 2 - t / 2, 0, (H - 0.12) / 2], [t, W - 2 * t, H - 0.12 - 0.001], f.body, 'front_panel');
    b.cylinder(0, [(inner.x[0] + inner.x[1]) / 2 - t, 0, H * 0.45], Math.min(W, H) * 0.3, D * 0.55, 0, drumMat, 'drum');
    b.knobs(D / 2, [W * 0.3], H - 0.06, 0.025, f.handle);
    const radius = r.uniform(0.17, 0.21);
    const zc = H * 0.45;
    const hinge = r.bool(0.75) ? 'left' : 'right';
    const door = b.door({ name: 'door', rect: { min: [-radius, zc - radius], max: [radius, zc + radius] }, front: D / 2, hinge, thickness: 0.012, upper: r.uniform(1.5, 1.9), material: f.front, handleMaterial: f.handle });
    // The glass bowl of the porthole on top of the door panel.
    const sign = hinge === 'left' ? 1 : -1;
    b.cylinder(door, [0.022, sign * radius, 0], radius * 0.6, 0.02, 0, f.dark, 'porthole');
  } else {
    // Top loader: an open-top tub with a lid hinged at the back.
    const lidZ = H - 0.02;
    b.box(0, [-D / 2 + t / 2, 0, H / 2], [t, W, H], f.body, 'back');
    for (const s of [-1, 1]) b.box(0, [t / 2, s * (W / 2 - t / 2), lidZ / 2], [D - t, t, lidZ], f.body, 'side');
    b.box(0, [D / 2 - t / 2, 0, lidZ / 2], [t, W - 2 * t, lidZ], f.body, 'front');
    b.box(0, [t / 2, 0, t / 2], [D - t, W - 2 * t, t], f.body, 'bottom');
    b.box(0, [-D / 2 + t + 0.04, 0, H - 0.06], [0.08, W - 2 * t, 0.08], f.front, 'control_panel');
    b.cylinder(0, [0.04, 0, H * 0.55], Math.min(W, D) * 0.38, H * 0.6, 2, drumMat, 'drum');
    b.lid({ name: 'lid', rect: { min: [-D / 2 + t + 0.085, -W / 2 + t], max: [D / 2 - t, W / 2 - t] }, top: lidZ, thickness: 0.02, upper: r.uniform(1.3, 1.7), material: f.front, handleMaterial: f.handle, handle: 'bar' });
  }
};

const trashcan: Generator = (b) => {
  const r = b.rng;
  const W = r.uniform(0.25, 0.4), D = r.uniform(0.24, 0.35), H = r.uniform(0.3, 0.7);
  const t = 0.008;
  const body = b.material('bin', b.jitter(r.pick([STEEL, BLACK, WHITE, ...PAINTS]), 0.05), r.bool() ? 'brushed' : 'plain', 1200);
  const lidMat = b.material('lid', b.jitter(r.pick([STEEL, BLACK, WHITE]), 0.05), 'plain', 1200);
  const handle = b.material('handle', b.jitter(BLACK, 0.03), 'plain', 1200);
  for (const s of [-1, 1]) b.box(0, [s * (D / 2 - t / 2), 0, H / 2], [t, W, H], body, 'wall');
  for (const s of [-1, 1]) b.box(0, [0, s * (W / 2 - t / 2), H / 2], [D - 2 * t, t, H], body, 'wall');
  b.box(0, [0, 0, t / 2], [D - 2 * t, W - 2 * t, t], body, 'bottom');
  if (r.bool(0.5)) b.box(0, [D / 2 + 0.03, 0, 0.015], [0.06, W * 0.4, 0.02], handle, 'pedal');
  b.lid({ name: 'lid', rect: { min: [-D / 2, -W / 2], max: [D / 2, W / 2] }, top: H, thickness: 0.015, upper: r.uniform(1.3, 1.9), material: lidMat, handleMaterial: handle, handle: 'bar' });
};

const GENERATORS: Record<Category, Generator> = {
  dishwasher,
  laptop,
  microwave,
  oven,
  refrigerator,
  storage_furniture: storageFurniture,
  washing_machine: washingMachine,
  trashcan,
};

/** A deterministic articulated object of `category` from `seed`. */
export function generateObject(category: Category, seed: number, id = `${category}_${seed}`): ArticulatedObject {
  const gen = GENERATORS[category];
  if (!gen) throw new Error(`Dataset: unknown category "${category}"`);
  const b = new ObjectBuilder(id, category, seed, new Rng(seed));
  gen(b);
  return b.build();
}
