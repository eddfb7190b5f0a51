/**
 * What the node publishes, built from a PipelineResult: PointCloud2 of Gaussians (x y z rgb
 * opacity), the MarkerArray (joint axis arrow + moving-part points), the articulation JSON and
 * status JSON. Pure.
 */
import type { Articulation, Drag, GaussianSet } from '../core/types.js';
import type { ArticulationJson, ColorRGBA, Header, MarkerArrayMsg, MarkerMsg, Point, PointCloud2Msg, PointFieldMsg, RosTime, Status, StatusLevel } from './types.js';

/** sensor_msgs/PointField datatypes. */
export const POINT_FIELD = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, FLOAT32: 7, FLOAT64: 8 } as const;
/** visualization_msgs/Marker types and actions used here. */
export const MARKER = { ARROW: 0, SPHERE: 2, POINTS: 8, ADD: 0, DELETEALL: 3 } as const;

/** The joint axis colour everywhere (RViz markers and the operator page): magenta. */
export const AXIS_COLOR: ColorRGBA = { r: 1, g: 0, b: 1, a: 1 };
export const MOVING_COLOR: ColorRGBA = { r: 1, g: 0.75, b: 0, a: 1 };

export const GAUSSIAN_FIELDS: PointFieldMsg[] = [
  { name: 'x', offset: 0, datatype: POINT_FIELD.FLOAT32, count: 1 },
  { name: 'y', offset: 4, datatype: POINT_FIELD.FLOAT32, count: 1 },
  { name: 'z', offset: 8, datatype: POINT_FIELD.FLOAT32, count: 1 },
  // PCL convention: packed 0x00RRGGBB bytes reinterpreted as float32 (RViz "RGB8").
  { name: 'rgb', offset: 12, datatype: POINT_FIELD.FLOAT32, count: 1 },
  { name: 'opacity', offset: 16, datatype: POINT_FIELD.FLOAT32, count: 1 },
];
export const GAUSSIAN_POINT_STEP = 20;

function byte(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v * 255)));
}

export function gaussiansToPointCloud2(set: GaussianSet, header: Header): PointCloud2Msg {
  const n = set.count;
  const data = new Uint8Array(n * GAUSSIAN_POINT_STEP);
  const view = new DataView(data.buffer);
  let dense = true;
  for (let i = 0; i < n; i++) {
    const o = i * GAUSSIAN_POINT_STEP;
    const x = set.positions[i * 3]!, y = set.positions[i * 3 + 1]!, z = set.positions[i * 3 + 2]!;
    if (!(Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z))) dense = false;
    view.setFloat32(o, x, true);
    view.setFloat32(o + 4, y, true);
    view.setFloat32(o + 8, z, true);
    const rgb = (byte(set.colors[i * 3]!) << 16) | (byte(set.colors[i * 3 + 1]!) << 8) | byte(set.colors[i * 3 + 2]!);
    view.setUint32(o + 12, rgb, true);
    view.setFloat32(o + 16, set.opacities[i]!, true);
  }
  return {
    header,
    height: 1,
    width: n,
    fields: GAUSSIAN_FIELDS.map((f) => ({ ...f })),
    is_bigendian: false,
    point_step: GAUSSIAN_POINT_STEP,
    row_step: n * GAUSSIAN_POINT_STEP,
    data,
    is_dense: dense,
  };
}

/** Reads back positions / colours / opacities of a cloud written by gaussiansToPointCloud2. */
export function pointCloud2ToPoints(msg: PointCloud2Msg): { positions: Float32Array; colors: Uint8Array; opacities: Float32Array } {
  const names = msg.fields.map((f) => `${f.name}@${f.offset}`).join(',');
  if (names !== GAUSSIAN_FIELDS.map((f) => `${f.name}@${f.offset}`).join(',') || msg.point_step !== GAUSSIAN_POINT_STEP) {
    throw new Error(`RosOutputs: PointCloud2 fields ${names} are not the bridge's Gaussian layout`);
  }
  const n = msg.width * msg.height;
  const bytes = msg.data;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const positions = new Float32Array(n * 3);
  const colors = new Uint8Array(n * 3);
  const opacities = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * GAUSSIAN_POINT_STEP;
    positions[i * 3] = view.getFloat32(o, true);
    positions[i * 3 + 1] = view.getFloat32(o + 4, true);
    positions[i * 3 + 2] = view.getFloat32(o + 8, true);
    const rgb = view.getUint32(o + 12, true);
    colors[i * 3] = (rgb >> 16) & 255;
    colors[i * 3 + 1] = (rgb >> 8) & 255;
    colors[i * 3 + 2] = rgb & 255;
    opacities[i] = view.getFloat32(o + 16, true);
  }
  return { positions, colors, opacities };
}

/**
 * Indices of the moving Gaussians of the dragged state: those displaced between the two states by
 * more than 10% of the largest displacement (PartRM's outputs are pixel-aligned, so Gaussian i is
 * the same splat in both states). A joint's movingIndices index the sampled point cloud, not the
 * Gaussians, so they are used only when the two sets cannot be compared and they fit the set.
 */
export function movingGaussianIndices(articulation: Articulation, initial: GaussianSet, dragged: GaussianSet): number[] {
  const joint = articulation.joints[0];
  if (initial.count !== dragged.count) {
    const idx = joint?.movingIndices;
    return idx && idx.length > 0 && idx.every((i) => i < dragged.count) ? Array.from(idx) : [];
  }
  const d = new Float32Array(dragged.count);
  let max = 0;
  for (let i = 0; i < dragged.count; i++) {
    const dx = dragged.positions[i * 3]! - initial.positions[i * 3]!;
    const dy = dragged.positions[i * 3 + 1]! - initial.positions[i * 3 + 1]!;
    const dz = dragged.positions[i * 3 + 2]! - initial.positions[i * 3 + 2]!;
    d[i] = Math.hypot(dx, dy, dz);
    if (d[i]! > max) max = d[i]!;
  }
  if (!(max > 0)) return [];
  const out: number[] = [];
  for (let i = 0; i < dragged.count; i++) if (d[i]! > 0.1 * max) out.push(i);
  return out;
}

function blankMarker(header: Header, ns: string, id: number, type: number, action: number): MarkerMsg {
  return {
    header,
    ns,
    id,
    type,
    action,
    pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
    scale: { x: 1, y: 1, z: 1 },
    color: { r: 1, g: 1, b: 1, a: 1 },
    lifetime: { sec: 0, nanosec: 0 },
    frame_locked: false,
    points: [],
    colors: [],
    texture_resource: '',
    texture: { header, format: '', data: new Uint8Array(0) },
    uv_coordinates: [],
    text: '',
    mesh_resource: '',
    mesh_file: { filename: '', data: new Uint8Array(0) },
    mesh_use_embedded_materials: false,
  };
}

export interface MarkerOptions {
  /** Most points in the moving-part marker (evenly subsampled). */
  maxPoints?: number;
  /** Arrow length in world units (default: 0.6 x the extent of the dragged Gaussians, at least 0.1). */
  axisLength?: number;
}

function extent(set: GaussianSet): number {
  if (set.count === 0) return 1;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < set.count; i++) {
    for (let c = 0; c < 3; c++) {
      const v = set.positions[i * 3 + c]!;
      if (v < lo[c]!) lo[c] = v;
      if (v > hi[c]!) hi[c] = v;
    }
  }
  return Math.hypot(hi[0]! - lo[0]!, hi[1]! - lo[1]!, hi[2]! - lo[2]!);
}

/** DELETEALL, then per joint an axis arrow (magenta) through its origin, then the moving points. */
export function articulationMarkers(articulation: Articulation, initial: GaussianSet, dragged: GaussianSet, header: Header, options: MarkerOptions = {}): MarkerArrayMsg {
  const markers: MarkerMsg[] = [blankMarker(header, '', 0, MARKER.ARROW, MARKER.DELETEALL)];
  const len = options.axisLength ?? Math.max(0.1, 0.6 * extent(dragged));
  articulation.joints.forEach((j, k) => {
    const m = blankMarker(header, 'partrm/axis', k, MARKER.ARROW, MARKER.ADD);
    const o = j.origin, a = j.axis;
    const p0: Point = { x: o[0] - (a[0] * len) / 2, y: o[1] - (a[1] * len) / 2, z: o[2] - (a[2] * len) / 2 };
    const p1: Point = { x: o[0] + (a[0] * len) / 2, y: o[1] + (a[1] * len) / 2, z: o[2] + (a[2] * len) / 2 };
    m.points = [p0, p1];
    m.scale = { x: 0.02 * len, y: 0.05 * len, z: 0.1 * len };
    m.color = { ...AXIS_COLOR };
    m.text = j.type;
    markers.push(m);
  });
  const idx = movingGaussianIndices(articulation, initial, dragged);
  if (idx.length > 0) {
    const max = options.maxPoints ?? 5000;
    const stride = Math.max(1, Math.ceil(idx.length / max));
    const m = blankMarker(header, 'partrm/moving_part', 0, MARKER.POINTS, MARKER.ADD);
    for (let t = 0; t < idx.length; t += stride) {
      const i = idx[t]!;
      m.points.push({ x: dragged.positions[i * 3]!, y: dragged.positions[i * 3 + 1]!, z: dragged.positions[i * 3 + 2]! });
    }
    m.scale = { x: 0.01 * len, y: 0.01 * len, z: 0 };
    m.color = { ...MOVING_COLOR };
    markers.push(m);
  }
  return { markers };
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

export function articulationToJson(request: number, frameId: string, articulation: Articulation, drags: Drag[], files: Record<string, string>, timings: Record<string, number>, movingCount: number): ArticulationJson {
  return {
    request,
    frame_id: frameId,
    joints: articulation.joints.map((j, k) => ({
      type: j.type,
      axis: [round6(j.axis[0]), round6(j.axis[1]), round6(j.axis[2])],
      origin: [round6(j.origin[0]), round6(j.origin[1]), round6(j.origin[2])],
      motion: round6(j.motion),
      limits: [round6(j.limits[0]), round6(j.limits[1])],
      confidence: round6(j.confidence),
      moving_count: j.movingIndices?.length ?? (k === 0 ? movingCount : 0),
    })),
    drags: drags.map((d) => ({ start: [d.start[0], d.start[1]], end: [d.end[0], d.end[1]] })),
    files,
    timings: Object.fromEntries(Object.entries(timings).filter(([, v]) => Number.isFinite(v))),
  };
}

export function statusMessage(level: StatusLevel, event: string, message: string, stamp: RosTime, request?: number, details?: Record<string, unknown>): Status {
  const s: Status = { level, event, message, stamp };
  if (request !== undefined) s.request = request;
  if (details !== undefined) s.details = details;
  return s;
}
