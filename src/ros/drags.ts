/**
 * Operator drags from partrm/msg/DragArray or from the std_msgs/String JSON form, validated and
 * scaled to the pixels of the image they apply to. Pure; errors are `RosDrags:`-prefixed.
 */
import type { Drag } from '../core/types.js';
import { DragJsonSchema, type DragArrayMsg, type StringMsg } from './types.js';

export const MAX_DRAGS = 64;

export interface DragSet {
  drags: Drag[];
  /** Size the drags were drawn on (0 = the target image's size). */
  width: number;
  height: number;
}

export function dragArrayToDragSet(msg: DragArrayMsg): DragSet {
  if (msg === null || typeof msg !== 'object' || !Array.isArray(msg.drags)) throw new Error('RosDrags: not a partrm/msg/DragArray message');
  if (msg.drags.length === 0) throw new Error('RosDrags: the message has no drags; expected at least one');
  if (msg.drags.length > MAX_DRAGS) throw new Error(`RosDrags: ${msg.drags.length} drags; at most ${MAX_DRAGS}`);
  return {
    drags: msg.drags.map((d) => ({ start: [d.start_x, d.start_y], end: [d.end_x, d.end_y] })),
    width: msg.image_width,
    height: msg.image_height,
  };
}

export function dragJsonToDragSet(msg: StringMsg): DragSet {
  if (msg === null || typeof msg !== 'object' || typeof msg.data !== 'string') throw new Error('RosDrags: not a std_msgs/String message');
  let json: unknown;
  try {
    json = JSON.parse(msg.data);
  } catch (err) {
    throw new Error(`RosDrags: invalid JSON (${(err as Error).message}); expected {"drags": [{"start": [x, y], "end": [x, y]}]}`);
  }
  const r = DragJsonSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'message';
    throw new Error(`RosDrags: invalid drag JSON at ${where}: ${issue?.message ?? 'invalid'}; expected {"drags": [{"start": [x, y], "end": [x, y]}], "image_width"?: W, "image_height"?: H}`);
  }
  return { drags: r.data.drags.map((d) => ({ start: [...d.start], end: [...d.end] })), width: r.data.image_width ?? 0, height: r.data.image_height ?? 0 };
}

/**
 * Drags in the pixels of a `width` x `height` image: scaled from the size they were drawn on, and
 * checked: finite, start inside the image, end within the image (closed bounds), non-zero length.
 */
export function resolveDrags(set: DragSet, width: number, height: number): Drag[] {
  const fromW = set.width || width;
  const fromH = set.height || height;
  if ((set.width === 0) !== (set.height === 0)) throw new Error(`RosDrags: image size ${set.width}x${set.height}: give both or neither`);
  if (!(Number.isInteger(fromW) && Number.isInteger(fromH) && fromW > 0 && fromH > 0)) throw new Error(`RosDrags: invalid image size ${fromW}x${fromH}`);
  const sx = width / fromW;
  const sy = height / fromH;
  return set.drags.map((d, i) => {
    const v = [d.start[0], d.start[1], d.end[0], d.end[1]];
    if (!v.every((n) => typeof n === 'number' && Number.isFinite(n))) throw new Error(`RosDrags: drag ${i} has a non-finite coordinate (${v.join(', ')})`);
    const [x0, y0, x1, y1] = v as [number, number, number, number];
    if (x0 < 0 || y0 < 0 || x0 >= fromW || y0 >= fromH) throw new Error(`RosDrags: drag ${i} starts at (${x0}, ${y0}), outside the ${fromW}x${fromH} image`);
    if (x1 < 0 || y1 < 0 || x1 > fromW || y1 > fromH) throw new Error(`RosDrags: drag ${i} ends at (${x1}, ${y1}), outside the ${fromW}x${fromH} image`);
    if (x0 === x1 && y0 === y1) throw new Error(`RosDrags: drag ${i} has zero length`);
    return { start: [x0 * sx, y0 * sy], end: [x1 * sx, y1 * sy] };
  });
}
