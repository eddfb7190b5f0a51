/**
 * DragJointFit: the joint from two depth renders of the predicted states, the part's mask and the
 * operator's drags, for predictions too coarse for the free two-state fit (fit.ts). The shipped CPU
 * model's 1,024 Gaussians move the part's blob the right way but do not keep its shape, so a rigid
 * fit between the two predicted clouds reads most door swings as translations. Their renders from
 * the input camera are better determined: the initial state's depth places the part and the body,
 * and the dragged state's silhouette shows where the part went.
 *
 * Hypotheses (a small discrete set, as articulated furniture has few plausible joints):
 *   - prismatic along each axis of the object frame (front, side, up);
 *   - revolute about each edge of the part's box that is parallel to one of those axes (12 lines).
 * For each, the motion s (distance or angle) minimises
 *   cost(s) = residual + silhouette + penetration + range
 *   residual     RMS distance of the moved drag starts' projections to the drag ends, over the mean
 *                drag length (the operator's intent);
 *   silhouette   1 - IoU of the moved part plus the body, projected, with the predicted dragged
 *                state's silhouette (the model's prediction);
 *   penetration  share of moved part points hidden behind the initial state's visible surface (a
 *                door swinging into its cabinet, a drawer pushed into it);
 *   range        how far the motion exceeds what furniture does (105 deg, 0.6 object sizes),
 * each with a weight; the hypothesis with the lowest cost wins. A winning hinge on the front face
 * of the part's box is then reported at the grasped surface instead (`DragJointFit.joint`): the
 * blurry render spreads a flat door's depth, so that face lies in front of the door. On seven
 * generated seeds (the pipeline with the graph segmenter) this moved each seed's median hinge line
 * distance to the ground truth down, from 0.107-0.173 to 0.094-0.160 object units, and left every
 * joint type as it was.
 */
import { type Camera, project, projectPoints, unproject } from '../core/camera.js';
import { type Mat4, type Vec2, type Vec3, mat4InvertRigid, vec3 } from '../core/math.js';
import { type Rigid, rigidApply, rigidIdentity, rigidRevolute } from './rigid.js';

/** A render of one state from one camera: coverage and expected depth per pixel (camera z). */
export interface DepthView {
  /** Its intrinsics' width x height is the pixel grid of `alpha` and `depth`. */
  camera: Camera;
  alpha: Float32Array;
  depth: Float32Array;
}

/** One operator drag in the views' pixels: start on the part, end where the operator dragged it. */
export interface ViewDrag {
  start: Vec2;
  end: Vec2;
}

export interface DragJointInput {
  /** The initial state rendered from the input camera. */
  initial: DepthView;
  /** The predicted dragged state from the same camera (optional: without it no silhouette term). */
  dragged?: DepthView;
  /** 1 where a pixel of `initial` shows the moving part. */
  partMask: Uint8Array;
  drags: readonly ViewDrag[];
  /** The object's up direction (default +z). */
  up?: Vec3;
  /** Coverage above which a pixel is the object (default 0.5). */
  minAlpha?: number;
  weights?: Partial<DragJointWeights>;
  /**
   * Project the part at every motion of the search (default false: motions whose cheap cost
   * terms already reach the best cost so far are skipped; the result is the same, see
   * `canPrune`). For checking that equality.
   */
  exhaustive?: boolean;
}

export interface DragJointWeights {
  residual: number;
  silhouette: number;
  penetration: number;
  range: number;
  /** Added to joints outside the furniture vocabulary (see `furnitureJoint`). */
  prior: number;
}

/**
 * The silhouette term is a tie-breaker: with the shipped 64 px model its blurry dragged silhouette
 * decided little (tuning seeds 555 and 31337, 67 joints: weight 0 -> 54 types right, 0.25 -> 53,
 * 1 -> 51); a sharper model can be given more weight through `weights`.
 */
export const DEFAULT_DRAG_JOINT_WEIGHTS: DragJointWeights = { residual: 1, silhouette: 0.25, penetration: 1, range: 1, prior: 0.5 };

/**
 * The joints that drawers, doors and lids have: a slide along the front normal, a hinge about the
 * up axis (side-hinged doors) or about the side axis (bottom-hinged doors, lids hinged at the back).
 * Slides sideways or up and rotations about the front normal (dials) are possible but rare, so they
 * pay `prior` and need clearer evidence to win.
 */
function furnitureJoint(type: JointHypothesis['type'], axisIndex: number): boolean {
  return type === 'prismatic' ? axisIndex === 0 : axisIndex !== 0;
}

export interface JointHypothesis {
  type: 'prismatic' | 'revolute';
  /** e.g. "prismatic along front", "revolute about up at (side lo, front hi)". */
  label: string;
  axis: Vec3;
  origin: Vec3;
  /** Solved motion: distance (the views' world units) or angle (radians). */
  motion: number;
  transform: Rigid;
  residual: number;
  silhouette: number;
  penetration: number;
  range: number;
  prior: number;
  cost: number;
}

export interface DragJointFit {
  /** The lowest-cost hypothesis (its cost compares fits of other part regions). */
  best: JointHypothesis;
  /**
   * The joint to report: `best`, or for a hinge on the front face of the part's box, the same hinge
   * moved back to the surface the operator grasped with its angle solved again (see below).
   */
  joint: JointHypothesis;
  /** All hypotheses, best first. */
  hypotheses: JointHypothesis[];
  /** Object frame: front (towards the camera, horizontal), side, up. */
  frame: [Vec3, Vec3, Vec3];
  /** The object's size (diagonal of its visible points' box). */
  size: number;
  /** Visible points of the part and of the body (initial state, world frame). */
  part: Float32Array;
  body: Float32Array;
  /** The drag starts lifted onto the initial state's surface. */
  starts: Vec3[];
}

function fail(msg: string): never {
  throw new Error(`DragJointFit: ${msg}`);
}

function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
}

function checkView(name: string, v: DepthView | undefined): DepthView {
  const k = v?.camera?.intrinsics;
  if (!v || !k || !(k.width > 0 && k.height > 0)) fail(`${name} must be a depth view with a camera`);
  const n = k.width * k.height;
  if (v.alpha?.length !== n || v.depth?.length !== n) fail(`${name}: alpha and depth must have ${k.width}x${k.height} = ${n} values`);
  return v;
}

export function fitJointToDrags(input: DragJointInput): DragJointFit {
  const view = checkView('initial', input.initial);
  const after = input.dragged ? checkView('dragged', input.dragged) : undefined;
  const cam = view.camera;
  const { width: W, height: H } = cam.intrinsics;
  if (after && (after.camera.intrinsics.width !== W || after.camera.intrinsics.height !== H)) fail('dragged must have the same pixel grid as initial');
  if (input.partMask?.length !== W * H) fail(`partMask must have ${W * H} values (the initial view's pixels)`);
  if (!input.drags?.length) fail('at least one drag is needed');
  for (const [i, d] of input.drags.entries()) {
    if (![...d.start, ...d.end].every(Number.isFinite)) fail(`drag ${i} has a non-finite coordinate`);
  }
  const upRaw = input.up ?? [0, 0, 1];
  if (!(vec3.length(upRaw) > 0)) fail('up must be a non-zero vector');
  const up = vec3.normalize(upRaw);
  const minAlpha = input.minAlpha ?? 0.5;
  const w = { ...DEFAULT_DRAG_JOINT_WEIGHTS, ...input.weights };

  // Visible points of part and body.
  const part: number[] = [], body: number[] = [];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      if (!(view.alpha[p]! > minAlpha) || !Number.isFinite(view.depth[p]!)) continue;
      (input.partMask[p] ? part : body).push(...unproject(cam, x + 0.5, y + 0.5, view.depth[p]!));
    }
  }
  if (part.length < 9) fail(`the part covers ${part.length / 3} visible pixels of the initial view; expected at least 3 (is the mask on the object?)`);
  if (body.length < 9) fail(`the body covers ${body.length / 3} visible pixels of the initial view; expected at least 3`);

  // Frame: front = the horizontal direction towards the camera (the model sees objects from the
  // front, as its training views do), side = up x front.
  const c2w = cam.camToWorld;
  const toCamera: Vec3 = [-c2w[2]!, -c2w[6]!, -c2w[10]!];
  const flat = vec3.sub(toCamera, vec3.scale(up, vec3.dot(toCamera, up)));
  if (!(vec3.length(flat) > 1e-6)) fail('the camera looks straight along up; expected a view of the object from the side or above');
  const front = vec3.normalize(flat);
  const frame: [Vec3, Vec3, Vec3] = [front, vec3.cross(up, front), up];
  const names = ['front', 'side', 'up'];
  const coords = (pts: number[], k: number): Float64Array => {
    const e = frame[k]!;
    const c = new Float64Array(pts.length / 3);
    for (let i = 0; i < c.length; i++) c[i] = e[0] * pts[3 * i]! + e[1] * pts[3 * i + 1]! + e[2] * pts[3 * i + 2]!;
    return c;
  };
  const all = part.concat(body);
  const partBox = [0, 1, 2].map((k) => {
    const c = coords(part, k);
    return [quantile(c, 0.03), quantile(c, 0.97)] as [number, number];
  });
  const objBox = [0, 1, 2].map((k) => {
    const c = coords(all, k);
    return [quantile(c, 0.01), quantile(c, 0.99)] as [number, number];
  });
  const size = Math.hypot(...objBox.map(([lo, hi]) => hi - lo)) || 1;
  const toWorld = (c: Vec3): Vec3 => [0, 1, 2].map((k) => frame[0][k]! * c[0] + frame[1][k]! * c[1] + frame[2][k]! * c[2]) as Vec3;

  // Drag starts on the surface: the median depth of the part's pixels within 2 px of the start
  // (the render is soft at the part's edges), else of the nearest visible pixels.
  const starts: Vec3[] = input.drags.map((d) => {
    const x0 = Math.floor(d.start[0]), y0 = Math.floor(d.start[1]);
    for (const [radius, needPart] of [[2, true], [4, false], [8, false]] as const) {
      const z: number[] = [];
      for (let y = y0 - radius; y <= y0 + radius; y++) {
        for (let x = x0 - radius; x <= x0 + radius; x++) {
          if (x < 0 || y < 0 || x >= W || y >= H) continue;
          const p = y * W + x;
          if (view.alpha[p]! > minAlpha && Number.isFinite(view.depth[p]!) && (!needPart || input.partMask[p])) z.push(view.depth[p]!);
        }
      }
      if (z.length) return unproject(cam, d.start[0], d.start[1], quantile(z, 0.5));
    }
    return fail(`drag start (${d.start[0]}, ${d.start[1]}) is not on the object in the initial view`);
  });
  let dragLength = 0;
  for (const d of input.drags) dragLength += Math.hypot(d.end[0] - d.start[0], d.end[1] - d.start[1]) / input.drags.length;
  dragLength = Math.max(dragLength, 1);

  const w2c: Mat4 = mat4InvertRigid(c2w);
  const k = cam.intrinsics;

  const partPts = part.length / 3;
  const stride = Math.max(1, Math.floor(partPts / 400));
  const sampleCount = Math.ceil(partPts / stride);
  const sample = new Float64Array(3 * sampleCount);
  for (let i = 0, n = 0; i < partPts; i += stride, n++) {
    sample[3 * n] = part[3 * i]!;
    sample[3 * n + 1] = part[3 * i + 1]!;
    sample[3 * n + 2] = part[3 * i + 2]!;
  }
  // The body's silhouette: every visible pixel outside the part.
  const bodySil = new Uint8Array(W * H);
  for (let p = 0; p < W * H; p++) bodySil[p] = view.alpha[p]! > minAlpha && !input.partMask[p] ? 1 : 0;
  const afterSil = new Uint8Array(W * H);
  if (after) for (let p = 0; p < W * H; p++) afterSil[p] = after.alpha[p]! > minAlpha ? 1 : 0;
  const margin = 0.03 * size;
  // A slide cannot travel further than the object is deep along it (a drawer stays in its runners).
  const travel = objBox.map(([lo, hi]) => Math.max(hi - lo, 0.05 * size));
  // The silhouette IoU only changes where the moved part lands: the body's own intersection and
  // union with the dragged silhouette are counted once, and each evaluation visits only the
  // pixels it stamps (`moved` holds the evaluation's stamp, so it is never cleared).
  let bodyInter = 0, bodyUnion = 0;
  for (let p = 0; p < W * H; p++) {
    bodyInter += bodySil[p]! & afterSil[p]!;
    bodyUnion += bodySil[p]! | afterSil[p]!;
  }
  const moved = new Uint32Array(W * H);
  let stamp = 0;

  // The silhouette and penetration terms cost a projection of the part's sample; the others are
  // cheap. With both of those weights non-negative, the cheap terms' sum (added in the order the
  // cost adds them) is a lower bound on the cost even in floating point (rounding is monotonic),
  // so a motion whose bound already reaches the best cost so far cannot replace it and is not
  // projected: the same argmin, bit for bit, at a fraction of the projections.
  const canPrune = !input.exhaustive && w.silhouette >= 0 && w.penetration >= 0;
  const evaluate = (type: JointHypothesis['type'], axisIndex: number, T: Rigid, s: number, bound?: number): Omit<JointHypothesis, 'type' | 'label' | 'axis' | 'origin' | 'transform' | 'motion'> | undefined => {
    let e2 = 0;
    for (let i = 0; i < starts.length; i++) {
      const { x, y, depth } = project(cam, rigidApply(T, starts[i]!), w2c);
      const d = input.drags[i]!;
      e2 += depth > 0 ? (x - d.end[0]) ** 2 + (y - d.end[1]) ** 2 : 1e6;
    }
    const residual = Math.sqrt(e2 / starts.length) / dragLength;
    const range = type === 'revolute' ? Math.max(0, Math.abs(s) - (105 * Math.PI) / 180) / (Math.PI / 2) : Math.max(0, Math.abs(s) - travel[axisIndex]!) / travel[axisIndex]!;
    const prior = furnitureJoint(type, axisIndex) ? 0 : 1;
    if (canPrune && bound !== undefined && w.residual * residual + w.range * range + w.prior * prior >= bound) return undefined;
    stamp++;
    let inter = bodyInter, union = bodyUnion;
    let hidden = 0;
    // rigidApply then project, written out: ~1,300 evaluations of ~400 points each made this the
    // joint step's main cost while it allocated two arrays and an object per point (same
    // arithmetic in the same order, so the same costs to the last bit).
    const r = T.r, t = T.t;
    for (let n = 0; n < sampleCount; n++) {
      const q0 = sample[3 * n]!, q1 = sample[3 * n + 1]!, q2 = sample[3 * n + 2]!;
      const m0 = r[0]! * q0 + r[1]! * q1 + r[2]! * q2 + t[0];
      const m1 = r[3]! * q0 + r[4]! * q1 + r[5]! * q2 + t[1];
      const m2 = r[6]! * q0 + r[7]! * q1 + r[8]! * q2 + t[2];
      const c0 = w2c[0]! * m0 + w2c[1]! * m1 + w2c[2]! * m2 + w2c[3]!;
      const c1 = w2c[4]! * m0 + w2c[5]! * m1 + w2c[6]! * m2 + w2c[7]!;
      const z = w2c[8]! * m0 + w2c[9]! * m1 + w2c[10]! * m2 + w2c[11]!;
      const px = Math.floor((k.fx * c0) / z + k.cx), py = Math.floor((k.fy * c1) / z + k.cy);
      if (px < 0 || py < 0 || px >= W || py >= H || !(z > 0)) continue;
      const p = py * W + px;
      if (view.alpha[p]! > minAlpha && z > view.depth[p]! + margin) hidden++;
      // Splat 2x2 so the thinned sample still covers the part's pixels.
      for (let corner = 0; corner < 4; corner++) {
        const o = p + (corner & 1) + (corner >> 1) * W;
        if (o >= W * H || moved[o] === stamp) continue;
        moved[o] = stamp;
        // A pixel the body already covers counts in both sums already.
        if (!bodySil[o]) {
          inter += afterSil[o]!;
          union += 1 - afterSil[o]!;
        }
      }
    }
    const silhouette = after && union ? 1 - inter / union : 0;
    const penetration = hidden / sampleCount;
    const cost = w.residual * residual + w.silhouette * silhouette + w.penetration * penetration + w.range * range + w.prior * prior;
    return { residual, silhouette, penetration, range, prior, cost };
  };

  const hypotheses: JointHypothesis[] = [];
  const solve = (type: JointHypothesis['type'], axisIndex: number, label: string, axis: Vec3, origin: Vec3, make: (s: number) => Rigid, lo: number, hi: number, steps: number): JointHypothesis => {
    // Grid search, then a finer grid around the best sample (the cost is piecewise: silhouettes).
    let best = { s: 0, ...evaluate(type, axisIndex, make(0), 0)! };
    let h = (hi - lo) / steps;
    for (let k = 0; k <= steps; k++) {
      const s = lo + k * h;
      const e = evaluate(type, axisIndex, make(s), s, best.cost);
      if (e && e.cost < best.cost) best = { s, ...e };
    }
    const centre = best.s;
    h /= 8;
    for (let k = -8; k <= 8; k++) {
      const s = centre + k * h;
      const e = evaluate(type, axisIndex, make(s), s, best.cost);
      if (e && e.cost < best.cost) best = { s, ...e };
    }
    const { s, ...scores } = best;
    return { type, label, axis, origin, motion: s, transform: make(s), ...scores };
  };
  const revoluteAbout = (a: number, c: Vec3, label: string): JointHypothesis => {
    const axis = frame[a]!, origin = toWorld(c);
    return solve('revolute', a, label, axis, origin, (s) => rigidRevolute(axis, origin, s), -Math.PI, Math.PI, 72);
  };
  // Where each revolute hypothesis's hinge sits in the part's box (object-frame coordinates).
  const hingeAt = new Map<JointHypothesis, { a: number; c: Vec3; frontFace: boolean }>();
  for (let a = 0; a < 3; a++) {
    const axis = frame[a]!;
    hypotheses.push(solve('prismatic', a, `prismatic along ${names[a]}`, axis, toWorld([0.5 * (partBox[0]![0] + partBox[0]![1]), 0.5 * (partBox[1]![0] + partBox[1]![1]), 0.5 * (partBox[2]![0] + partBox[2]![1])]), (s) => ({ r: rigidIdentity().r, t: vec3.scale(axis, s) }), -size, size, 64));
    const [i, j] = [0, 1, 2].filter((x) => x !== a) as [number, number];
    for (const bi of [0, 1] as const) {
      for (const bj of [0, 1] as const) {
        const c: Vec3 = [0, 0, 0];
        c[a] = 0.5 * (partBox[a]![0] + partBox[a]![1]);
        c[i] = partBox[i]![bi];
        c[j] = partBox[j]![bj];
        const h = revoluteAbout(a, c, `revolute about ${names[a]} at (${names[i]} ${bi ? 'hi' : 'lo'}, ${names[j]} ${bj ? 'hi' : 'lo'})`);
        hingeAt.set(h, { a, c, frontFace: (i === 0 && bi === 1) || (j === 0 && bj === 1) });
        hypotheses.push(h);
      }
    }
  }
  hypotheses.sort((x, y) => x.cost - y.cost);
  // The hypotheses put a door's hinge on the front face of the part's box, but the blurry render
  // spreads a flat door's depth over ~0.2 object units, so that face lies in front of the door. It
  // is where the joint is chosen (choosing with the hinges moved back lost 10 of 280 joint types
  // on five seeds: the door's points in front of the hinge then swing into the body below it) but
  // not what is reported: the winner's hinge moves back to the surface the operator grasped (the
  // drag starts) and its angle is solved again.
  const best = hypotheses[0]!;
  const hinge = hingeAt.get(best);
  const grasped = Math.max(...starts.map((p) => vec3.dot(p, front)));
  let joint = best;
  if (hinge?.frontFace && grasped < hinge.c[0]) {
    const [, side, upAt] = hinge.c;
    joint = revoluteAbout(hinge.a, [Math.max(partBox[0]![0], grasped), side, upAt], `${best.label}, hinge at the grasped surface`);
  }
  return { best, joint, hypotheses, frame, size, part: new Float32Array(part), body: new Float32Array(body), starts };
}

/**
 * Which points (e.g. 10k samples of the initial state's Gaussians) the render shows: `onObject`
 * when a point projects onto a covered pixel, `moving` when that pixel is the part's and the point
 * lies no more than `tolerance` behind the rendered surface (points further back are the body's
 * inside, seen through the part's pixels).
 */
export function labelPointsByView(points: Float32Array, view: DepthView, partMask: Uint8Array, tolerance: number, minAlpha = 0.5): { onObject: Uint8Array; moving: Uint8Array } {
  const cam = view.camera;
  const { width: W, height: H } = cam.intrinsics;
  if (partMask.length !== W * H) fail(`partMask must have ${W * H} values (the view's pixels)`);
  const { pixels, depth } = projectPoints(cam, points);
  const n = points.length / 3;
  const onObject = new Uint8Array(n), moving = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!(depth[i]! > 0)) continue;
    const x = Math.floor(pixels[2 * i]!), y = Math.floor(pixels[2 * i + 1]!);
    if (x < 0 || y < 0 || x >= W || y >= H) continue;
    const p = y * W + x;
    if (!(view.alpha[p]! > minAlpha)) continue;
    onObject[i] = 1;
    if (partMask[p] && depth[i]! <= view.depth[p]! + tolerance) moving[i] = 1;
  }
  return { onObject, moving };
}
