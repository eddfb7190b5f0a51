/**
 * Building blocks for procedural objects: carcasses with open fronts, doors hinged on any side,
 * drawers, lids, knobs and bar handles. Geometry is in metres, in the frames described in
 * articulated.ts (base frame: floor centre, front faces +x, y to the viewer's right, z up).
 */
import type { Vec3 } from '../core/math.js';
import type { Rng } from '../core/random.js';
import type { ArticulatedObject, Category, HingeSide, LinkSpec, Material, Pattern, Primitive } from './articulated.js';

/** A rectangle on a front plane (y right, z up) or, for lids, on the top plane (x forward, y right). */
export interface Rect {
  min: [number, number];
  max: [number, number];
}

export interface Interior {
  x: [number, number];
  y: [number, number];
  z: [number, number];
}

/** Gap between a moving panel and the fixed body, so that collision boxes never touch at rest. */
export const GAP = 0.003;
/** Bar handles: cross-section and stand-off from the panel (room for Franka fingers, 8 cm max opening). */
const BAR = 0.014;
const STANDOFF = 0.032;

export class ObjectBuilder {
  readonly materials: Material[] = [];
  readonly links: LinkSpec[] = [{ name: 'base', primitives: [] }];
  readonly joints: ArticulatedObject['joints'] = [];

  constructor(
    readonly id: string,
    readonly category: Category,
    readonly seed: number,
    readonly rng: Rng,
  ) {}

  material(name: string, rgb: Vec3, pattern: Pattern = 'plain', density = 500): number {
    this.materials.push({ name: `${name}_${this.materials.length}`, rgb, pattern, density });
    return this.materials.length - 1;
  }

  /** A colour jittered around `rgb` so that no two objects look identical. */
  jitter(rgb: Vec3, amount = 0.06): Vec3 {
    return rgb.map((c) => Math.min(1, Math.max(0, c + this.rng.uniform(-amount, amount)))) as Vec3;
  }

  box(link: number, center: Vec3, size: Vec3, material: number, role: string): void {
    if (size.some((s) => !(s > 0))) throw new Error(`ObjectBuilder: ${this.category} ${role} has non-positive size ${size.join(', ')}`);
    this.links[link]!.primitives.push({ kind: 'box', center, size, material, role });
  }

  cylinder(link: number, center: Vec3, radius: number, length: number, axis: 0 | 1 | 2, material: number, role: string): void {
    if (!(radius > 0 && length > 0)) throw new Error(`ObjectBuilder: ${this.category} ${role} has non-positive size`);
    this.links[link]!.primitives.push({ kind: 'cylinder', center, radius, length, axis, material, role });
  }

  /**
   * A five-sided carcass (back, sides, top, bottom) open at the front, between heights z0..z1.
   * Returns the open interior.
   */
  carcass(width: number, depth: number, z0: number, z1: number, t: number, material: number): Interior {
    const h = z1 - z0;
    const zc = (z0 + z1) / 2;
    this.box(0, [-depth / 2 + t / 2, 0, zc], [t, width, h], material, 'back');
    this.box(0, [t / 2, -width / 2 + t / 2, zc], [depth - t, t, h], material, 'side');
    this.box(0, [t / 2, width / 2 - t / 2, zc], [depth - t, t, h], material, 'side');
    this.box(0, [t / 2, 0, z1 - t / 2], [depth - t, width - 2 * t, t], material, 'top');
    this.box(0, [t / 2, 0, z0 + t / 2], [depth - t, width - 2 * t, t], material, 'bottom');
    return { x: [-depth / 2 + t, depth / 2], y: [-width / 2 + t, width / 2 - t], z: [z0 + t, z1 - t] };
  }

  /** A horizontal shelf / vertical divider inside an interior (part of the base). */
  shelf(inner: Interior, z: number, t: number, material: number): void {
    this.box(0, [(inner.x[0] + inner.x[1]) / 2, (inner.y[0] + inner.y[1]) / 2, z], [inner.x[1] - inner.x[0], inner.y[1] - inner.y[0], t], material, 'shelf');
  }

  divider(inner: Interior, y: number, t: number, material: number): void {
    this.box(0, [(inner.x[0] + inner.x[1]) / 2, y, (inner.z[0] + inner.z[1]) / 2], [inner.x[1] - inner.x[0], t, inner.z[1] - inner.z[0]], material, 'divider');
  }

  private addLink(name: string): number {
    this.links.push({ name, primitives: [] });
    return this.links.length - 1;
  }

  /**
   * A bar handle on a panel whose outer face is the plane x = `face` of `link`, centred at (y, z),
   * running along y (axis 1) or z (axis 2). Returns the grasp point (bar centre).
   */
  barHandle(link: number, face: number, y: number, z: number, along: 1 | 2, length: number, material: number): Vec3 {
    const barX = face + STANDOFF + BAR / 2;
    const size: Vec3 = [BAR, along === 1 ? length : BAR, along === 2 ? length : BAR];
    this.box(link, [barX, y, z], size, material, 'handle');
    const postOffset = length / 2 - 0.012;
    for (const s of [-1, 1]) {
      const py = along === 1 ? y + s * postOffset : y;
      const pz = along === 2 ? z + s * postOffset : z;
      this.box(link, [face + STANDOFF / 2, py, pz], [STANDOFF, 0.012, 0.012], material, 'handle_post');
    }
    return [barX, y, z];
  }

  /**
   * A door covering `rect` (y/z on the front plane x = `front`), hinged on `hinge`, opening outwards
   * to `upper` radians. The joint origin lies on the hinge line at the door's back face.
   */
  door(opts: { name: string; rect: Rect; front: number; hinge: Exclude<HingeSide, 'back' | 'none'>; thickness: number; upper: number; material: number; handleMaterial: number; window?: number }): number {
    const { rect, front, hinge, thickness: td } = opts;
    const [y0, z0] = rect.min;
    const [y1, z1] = rect.max;
    const w = y1 - y0;
    const h = z1 - z0;
    const link = this.addLink(opts.name);
    const x0 = front + GAP;
    let origin: Vec3;
    let axis: Vec3;
    let panelCenter: Vec3;
    let handle: Vec3;
    const hl = (len: number) => Math.max(0.08, Math.min(0.32, len * 0.45));
    switch (hinge) {
      case 'left':
        origin = [x0, y0, (z0 + z1) / 2];
        axis = [0, 0, -1];
        panelCenter = [td / 2, w / 2, 0];
        handle = this.barHandle(link, td, w - Math.min(0.06, w * 0.15), 0, 2, hl(h), opts.handleMaterial);
        break;
      case 'right':
        origin = [x0, y1, (z0 + z1) / 2];
        axis = [0, 0, 1];
        panelCenter = [td / 2, -w / 2, 0];
        handle = this.barHandle(link, td, -w + Math.min(0.06, w * 0.15), 0, 2, hl(h), opts.handleMaterial);
        break;
      case 'bottom':
        origin = [x0, (y0 + y1) / 2, z0];
        axis = [0, 1, 0];
        panelCenter = [td / 2, 0, h / 2];
        handle = this.barHandle(link, td, 0, h - Math.min(0.06, h * 0.15), 1, hl(w), opts.handleMaterial);
        break;
      case 'top':
        origin = [x0, (y0 + y1) / 2, z1];
        axis = [0, -1, 0];
        panelCenter = [td / 2, 0, -h / 2];
        handle = this.barHandle(link, td, 0, -h + Math.min(0.06, h * 0.15), 1, hl(w), opts.handleMaterial);
        break;
    }
    this.box(link, panelCenter, [td, w, h], opts.material, 'door');
    if (opts.window !== undefined) {
      // A dark glass pane slightly proud of the door face, so windows read in the renders.
      this.box(link, [td + 0.002, panelCenter[1], panelCenter[2]], [0.004, w * 0.6, h * 0.5], opts.window, 'window');
    }
    this.joints.push({ name: `joint_${opts.name}`, type: 'revolute', parent: 0, child: link, origin, axis, lower: 0, upper: opts.upper, semantic: 'door', hinge, handle });
    return link;
  }

  /**
   * A drawer: a front panel covering `rect` on the plane x = `front`, and a tray that fits inside
   * the compartment `inner` (its interior), sliding along +x up to `travel` metres.
   */
  drawer(opts: { name: string; rect: Rect; front: number; inner: Interior; thickness: number; travel: number; material: number; trayMaterial: number; handleMaterial: number }): number {
    const { rect, front, inner, thickness: td } = opts;
    const [y0, z0] = rect.min;
    const [y1, z1] = rect.max;
    const yc = (y0 + y1) / 2;
    const zc = (z0 + z1) / 2;
    const link = this.addLink(opts.name);
    const origin: Vec3 = [front + GAP, yc, zc];
    this.box(link, [td / 2, 0, 0], [td, y1 - y0, z1 - z0], opts.material, 'drawer_front');
    const tw = 0.012;
    const clearance = 0.006;
    const length = inner.x[1] - inner.x[0] - 0.02;
    const wi = inner.y[1] - inner.y[0] - 2 * clearance;
    const hi = (inner.z[1] - inner.z[0]) * 0.7;
    const zb = inner.z[0] + clearance - zc; // tray bottom in the drawer frame
    const yi = (inner.y[0] + inner.y[1]) / 2 - yc;
    this.box(link, [-length / 2, yi, zb + tw / 2], [length, wi, tw], opts.trayMaterial, 'tray_bottom');
    for (const s of [-1, 1]) this.box(link, [-length / 2, yi + s * (wi / 2 - tw / 2), zb + tw + hi / 2], [length, tw, hi], opts.trayMaterial, 'tray_side');
    this.box(link, [-length + tw / 2, yi, zb + tw + hi / 2], [tw, wi - 2 * tw, hi], opts.trayMaterial, 'tray_back');
    const handle = this.barHandle(link, td, 0, (z1 - z0) * 0.15, 1, Math.max(0.08, Math.min(0.3, (y1 - y0) * 0.45)), opts.handleMaterial);
    this.joints.push({ name: `joint_${opts.name}`, type: 'prismatic', parent: 0, child: link, origin, axis: [1, 0, 0], lower: 0, upper: Math.min(opts.travel, length * 0.85), semantic: 'drawer', hinge: 'none', handle });
    return link;
  }

  /**
   * A lid on the plane z = `top`, covering `rect` (x forward, y right), hinged along its back edge
   * (x = rect.min[0]) and opening upwards to `upper` radians. `handle`: a bar on top near the front
   * edge, or a tab sticking out in front (laptops).
   */
  lid(opts: { name: string; rect: Rect; top: number; thickness: number; upper: number; material: number; handleMaterial: number; handle: 'bar' | 'tab' }): number {
    const [x0, y0] = opts.rect.min;
    const [x1, y1] = opts.rect.max;
    const len = x1 - x0;
    const w = y1 - y0;
    const tl = opts.thickness;
    const link = this.addLink(opts.name);
    const origin: Vec3 = [x0, (y0 + y1) / 2, opts.top + GAP];
    this.box(link, [len / 2, 0, tl / 2], [len, w, tl], opts.material, 'lid');
    let handle: Vec3;
    if (opts.handle === 'bar') {
      const hl = Math.max(0.08, Math.min(0.25, w * 0.45));
      const bx = len - Math.min(0.05, len * 0.15);
      const barZ = tl + STANDOFF + BAR / 2;
      this.box(link, [bx, 0, barZ], [BAR, hl, BAR], opts.handleMaterial, 'handle');
      for (const s of [-1, 1]) this.box(link, [bx, s * (hl / 2 - 0.012), tl + STANDOFF / 2], [0.012, 0.012, STANDOFF], opts.handleMaterial, 'handle_post');
      handle = [bx, 0, barZ];
    } else {
      const tab: Vec3 = [0.018, Math.min(0.08, w * 0.3), Math.max(0.004, tl * 0.8)];
      this.box(link, [len + tab[0] / 2, 0, tl / 2], tab, opts.handleMaterial, 'handle');
      handle = [len + tab[0] / 2, 0, tl / 2];
    }
    this.joints.push({ name: `joint_${opts.name}`, type: 'revolute', parent: 0, child: link, origin, axis: [0, -1, 0], lower: 0, upper: opts.upper, semantic: 'lid', hinge: 'back', handle });
    return link;
  }

  /** Control knobs: short cylinders sticking out of the plane x = `front`. */
  knobs(front: number, ys: number[], z: number, radius: number, material: number): void {
    for (const y of ys) this.cylinder(0, [front + 0.01, y, z], radius, 0.02, 0, material, 'knob');
  }

  build(): ArticulatedObject {
    if (this.joints.length === 0) throw new Error(`ObjectBuilder: ${this.category} ${this.id} has no movable part`);
    return { id: this.id, category: this.category, seed: this.seed, materials: this.materials, links: this.links, joints: this.joints };
  }
}
