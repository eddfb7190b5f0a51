/**
 * Message definitions and CDR codecs, from one source: the ROS 2 (Humble) common interfaces of
 * @foxglove/rosmsg-msgs-common plus the bridge's own ros/msg/*.msg (mirrored below, pinned by a
 * test). `schemaText(type)` is the `ros2msg` MCAP schema (root definition, then each dependency
 * after a `=====` line and `MSG: pkg/Type`), and `codec(type)` encodes / decodes CDR.
 */
import { ros2humble } from '@foxglove/rosmsg-msgs-common';
import { parse, stringify } from '@foxglove/rosmsg';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import type { MessageDefinition } from '@foxglove/message-definition';
import { ROS_TYPE, type RosTypeName } from './types.js';

/** ros/msg/Drag.msg */
export const DRAG_MSG = `# One operator drag in image pixels: x = column, y = row, origin at the top-left corner of
# the top-left pixel (so the centre of pixel (i, j) is (i + 0.5, j + 0.5)).
float64 start_x
float64 start_y
float64 end_x
float64 end_y
`;

/** ros/msg/DragArray.msg */
export const DRAG_ARRAY_MSG = `# Operator drags on one camera image. The bridge runs the pipeline once per message.
std_msgs/Header header
# Size of the image the drags were drawn on; 0 x 0 = the pixels of the latest image received.
# Drags are scaled from this size to the latest image's size.
uint32 image_width
uint32 image_height
# At least one, at most 64.
Drag[] drags
`;

const SEPARATOR = '='.repeat(80);

/** Short name (`pkg/Type`) of a fully qualified one (`pkg/msg/Type`). */
export function shortTypeName(type: string): string {
  return type.replace('/msg/', '/');
}

/** Fully qualified name (`pkg/msg/Type`) of a short one. */
export function longTypeName(type: string): string {
  const parts = type.split('/');
  return parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : type;
}

type Defs = Record<string, MessageDefinition>;

const OWN: Defs = (() => {
  const out: Defs = {};
  const drag = parse(DRAG_MSG, { ros2: true })[0]!;
  out['partrm/Drag'] = { ...drag, name: 'partrm/Drag' };
  const arr = parse(DRAG_ARRAY_MSG, { ros2: true, skipTypeFixup: true })[0]!;
  out['partrm/DragArray'] = {
    name: 'partrm/DragArray',
    definitions: arr.definitions.map((f) => (f.isComplex && f.type === 'Drag' ? { ...f, type: 'partrm/Drag' } : f)),
  };
  return out;
})();

function lookup(short: string): MessageDefinition {
  const def = OWN[short] ?? (ros2humble as unknown as Defs)[short];
  if (!def) throw new Error(`RosMessages: unknown message type ${short}`);
  return def;
}

/** Root definition first, then its dependencies (depth-first, each once). */
function closure(short: string): MessageDefinition[] {
  const seen = new Set<string>();
  const out: MessageDefinition[] = [];
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const def = lookup(name);
    out.push(def);
    for (const f of def.definitions) {
      if (f.isConstant) continue;
      if (f.isComplex) visit(f.type);
      else if (f.type === 'time') visit('builtin_interfaces/Time');
      else if (f.type === 'duration') visit('builtin_interfaces/Duration');
    }
  };
  visit(short);
  return out;
}

function definitionText(def: MessageDefinition): string {
  return stringify([{ definitions: def.definitions }])
    .replace(/^time /gm, 'builtin_interfaces/Time ')
    .replace(/^duration /gm, 'builtin_interfaces/Duration ')
    .trim();
}

const schemaCache = new Map<string, string>();

/** The `ros2msg` schema text of a type (as rosbag2 writes it into MCAP). */
export function schemaText(type: RosTypeName | string): string {
  const short = shortTypeName(type);
  let text = schemaCache.get(short);
  if (text === undefined) {
    const [root, ...deps] = closure(short);
    text = [definitionText(root!), ...deps.map((d) => `${SEPARATOR}\nMSG: ${d.name}\n${definitionText(d)}`)].join('\n') + '\n';
    schemaCache.set(short, text);
  }
  return text;
}

export interface Codec<T = unknown> {
  type: string;
  encode(msg: T): Uint8Array;
  decode(data: ArrayBufferView): T;
}

/** A CDR codec for parsed ros2msg schema text (e.g. a schema read from a bag). */
export function codecFromSchema<T = unknown>(type: string, text: string): Codec<T> {
  let defs: MessageDefinition[];
  try {
    defs = parse(text, { ros2: true });
  } catch (err) {
    throw new Error(`RosMessages: cannot parse the schema of ${type} (${(err as Error).message})`, { cause: err });
  }
  const reader = new MessageReader<T>(defs);
  const writer = new MessageWriter(defs);
  return {
    type,
    encode: (msg) => {
      const bad = findNonAscii(msg, '');
      if (bad !== undefined) {
        // @foxglove/cdr 3.5 sizes strings by UTF-16 length and silently truncates multi-byte UTF-8.
        throw new Error(`RosMessages: ${type}${bad} has non-ASCII characters; escape them (asciiJson, xmlAscii) before CDR encoding`);
      }
      return writer.writeMessage(msg);
    },
    decode: (data) => {
      try {
        return reader.readMessage<T>(data);
      } catch (err) {
        throw new Error(`RosMessages: cannot decode ${type} (${(err as Error).message})`, { cause: err });
      }
    },
  };
}

const codecCache = new Map<string, Codec>();

/** The CDR codec of a known type (Humble layout). */
export function codec<T = unknown>(type: RosTypeName | string): Codec<T> {
  const long = longTypeName(type);
  let c = codecCache.get(long);
  if (!c) {
    c = codecFromSchema(long, schemaText(long));
    codecCache.set(long, c);
  }
  return c as Codec<T>;
}

export const KNOWN_TYPES: readonly RosTypeName[] = Object.values(ROS_TYPE);

export function zeroTime(): { sec: number; nanosec: number } {
  return { sec: 0, nanosec: 0 };
}

/** Milliseconds since the epoch -> builtin_interfaces/Time. */
export function timeFromMs(ms: number): { sec: number; nanosec: number } {
  const sec = Math.floor(ms / 1000);
  return { sec, nanosec: Math.round((ms - sec * 1000) * 1e6) % 1_000_000_000 };
}

/** Nanoseconds (bigint) -> builtin_interfaces/Time. */
export function timeFromNs(ns: bigint): { sec: number; nanosec: number } {
  return { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) };
}

export function timeToNs(t: { sec: number; nanosec: number }): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nanosec);
}

function findNonAscii(v: unknown, path: string, depth = 0): string | undefined {
  if (typeof v === 'string') return /[^\x00-\x7f]/.test(v) ? path || '.' : undefined;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || depth > 8) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== 'string' && typeof v[i] !== 'object') return undefined;
      const r = findNonAscii(v[i], `${path}[${i}]`, depth + 1);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    const r = findNonAscii(x, `${path}.${k}`, depth + 1);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** JSON.stringify with every non-ASCII character as a \uXXXX escape (same JSON value, CDR-safe). */
export function asciiJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** XML text with every non-ASCII character as a character reference (same document, CDR-safe). */
export function xmlAscii(text: string): string {
  return text.replace(/[^\x00-\x7f]/gu, (c) => `&#x${c.codePointAt(0)!.toString(16)};`);
}
