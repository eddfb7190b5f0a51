/**
 * PLY input/output for 3D Gaussians and point clouds.
 *
 * Gaussian files use the Inria 3DGS layout (x y z nx ny nz f_dc_0..2 [f_rest_*] opacity
 * scale_0..2 rot_0..3) with *raw* parameters: log scale, logit opacity, SH DC coefficients and a
 * w-first quaternion, so any splat viewer opens what we write. `GaussianSet` holds *activated*
 * values, so reading applies exp / sigmoid / 0.5 + C0 * f_dc and writing inverts them.
 *
 * The reader also accepts LGM's 14-property variant (x y z opacity scale_0..2 rot_0..3 and either
 * f_dc_0..2 or red/green/blue) and plain point PLYs (x y z [red green blue]); ascii, binary little
 * endian and binary big endian are all read. Writers emit binary little endian.
 */
import { readFileSync } from 'node:fs';
import type { GaussianSet, PointCloud } from '../core/types.js';
import { emptyGaussians } from './ops.js';

/** Zeroth-order spherical-harmonic constant: rgb = 0.5 + C0 * f_dc. */
export const SH_C0 = 0.28209479177387814;

type PlyScalar = 'char' | 'uchar' | 'short' | 'ushort' | 'int' | 'uint' | 'float' | 'double';

interface PlyProperty {
  name: string;
  type: PlyScalar;
  /** Set for list properties (e.g. face vertex_indices): the count's type. */
  listCountType?: PlyScalar;
}

interface PlyElement {
  name: string;
  count: number;
  properties: PlyProperty[];
}

interface PlyHeader {
  format: 'ascii' | 'binary_little_endian' | 'binary_big_endian';
  elements: PlyElement[];
  /** Byte offset of the first data byte. */
  dataOffset: number;
}

const TYPE_ALIASES: Record<string, PlyScalar> = {
  char: 'char', int8: 'char',
  uchar: 'uchar', uint8: 'uchar',
  short: 'short', int16: 'short',
  ushort: 'ushort', uint16: 'ushort',
  int: 'int', int32: 'int',
  uint: 'uint', uint32: 'uint',
  float: 'float', float32: 'float',
  double: 'double', float64: 'double',
};

const TYPE_SIZE: Record<PlyScalar, number> = {
  char: 1, uchar: 1, short: 2, ushort: 2, int: 4, uint: 4, float: 4, double: 8,
};

function scalarType(name: string | undefined, line: string): PlyScalar {
  const t = name === undefined ? undefined : TYPE_ALIASES[name];
  if (t === undefined) throw new Error(`Ply: unknown property type in header line "${line}"`);
  return t;
}

/** Parses the ASCII header; throws naming what is wrong. */
function parseHeader(bytes: Uint8Array): PlyHeader {
  // The header is ASCII and ends with "end_header\n"; search the first 64 KiB for it.
  const limit = Math.min(bytes.length, 65536);
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, limit).toString('latin1');
  if (!head.startsWith('ply')) throw new Error('Ply: not a PLY file (missing "ply" magic)');
  const marker = head.search(/end_header\r?\n/);
  if (marker < 0) throw new Error('Ply: header has no end_header line');
  const endLine = head.slice(marker).match(/end_header\r?\n/)!;
  const dataOffset = marker + endLine[0].length;
  const lines = head.slice(0, marker).split(/\r?\n/);
  let format: PlyHeader['format'] | undefined;
  const elements: PlyElement[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line === 'ply') continue;
    const parts = line.split(/\s+/);
    switch (parts[0]) {
      case 'format': {
        const f = parts[1];
        if (f !== 'ascii' && f !== 'binary_little_endian' && f !== 'binary_big_endian') {
          throw new Error(`Ply: unsupported format "${f ?? ''}" (expected ascii, binary_little_endian or binary_big_endian)`);
        }
        format = f;
        break;
      }
      case 'element': {
        const count = Number(parts[2]);
        if (parts[1] === undefined || !Number.isInteger(count) || count < 0) {
          throw new Error(`Ply: bad element line "${line}" (expected "element <name> <count>")`);
        }
        elements.push({ name: parts[1], count, properties: [] });
        break;
      }
      case 'property': {
        const el = elements[elements.length - 1];
        if (!el) throw new Error(`Ply: property before any element: "${line}"`);
        if (parts[1] === 'list') {
          el.properties.push({ name: parts[4] ?? '', listCountType: scalarType(parts[2], line), type: scalarType(parts[3], line) });
        } else {
          el.properties.push({ name: parts[2] ?? '', type: scalarType(parts[1], line) });
        }
        break;
      }
      case 'comment':
      case 'obj_info':
        break;
      default:
        throw new Error(`Ply: unexpected header line "${line}"`);
    }
  }
  if (!format) throw new Error('Ply: header has no format line');
  return { format, elements, dataOffset };
}

/** Column-wise data of one element: one Float64Array per scalar property (lists are skipped). */
type Columns = Map<string, Float64Array>;

function readBinaryScalar(view: DataView, offset: number, type: PlyScalar, le: boolean): number {
  switch (type) {
    case 'char': return view.getInt8(offset);
    case 'uchar': return view.getUint8(offset);
    case 'short': return view.getInt16(offset, le);
    case 'ushort': return view.getUint16(offset, le);
    case 'int': return view.getInt32(offset, le);
    case 'uint': return view.getUint32(offset, le);
    case 'float': return view.getFloat32(offset, le);
    case 'double': return view.getFloat64(offset, le);
  }
}

/** Reads the first element named `want` into columns, skipping the elements before it. */
function readElement(bytes: Uint8Array, header: PlyHeader, want: string): { element: PlyElement; columns: Columns } {
  const index = header.elements.findIndex((e) => e.name === want);
  if (index < 0) throw new Error(`Ply: no "${want}" element (found: ${header.elements.map((e) => e.name).join(', ') || 'none'})`);
  const element = header.elements[index]!;
  const columns: Columns = new Map();
  for (const p of element.properties) if (!p.listCountType) columns.set(p.name, new Float64Array(element.count));
  const cols = element.properties.map((p) => (p.listCountType ? undefined : columns.get(p.name)));

  if (header.format === 'ascii') {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + header.dataOffset, bytes.length - header.dataOffset).toString('latin1');
    const tokens = text.split(/\s+/).filter((t) => t !== '');
    let t = 0;
    const next = (): number => {
      const tok = tokens[t++];
      if (tok === undefined) throw new Error(`Ply: ascii data ends early (element "${want}" needs ${element.count} rows)`);
      const v = Number(tok);
      if (Number.isNaN(v) && tok.toLowerCase() !== 'nan') throw new Error(`Ply: bad ascii number "${tok}"`);
      return v;
    };
    // Elements before the wanted one: skip row by row (lists have per-row lengths).
    for (let e = 0; e <= index; e++) {
      const el = header.elements[e]!;
      for (let r = 0; r < el.count; r++) {
        el.properties.forEach((p, k) => {
          if (p.listCountType) {
            const n = next();
            for (let i = 0; i < n; i++) next();
          } else {
            const v = next();
            if (e === index) cols[k]![r] = v;
          }
        });
      }
    }
    return { element, columns };
  }

  const le = header.format === 'binary_little_endian';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = header.dataOffset;
  const need = (n: number): void => {
    if (off + n > bytes.length) throw new Error(`Ply: binary data ends early (element "${want}" needs ${element.count} rows, file is ${bytes.length} bytes)`);
  };
  for (let e = 0; e <= index; e++) {
    const el = header.elements[e]!;
    const fixed = el.properties.every((p) => !p.listCountType);
    if (fixed && e < index) {
      const row = el.properties.reduce((s, p) => s + TYPE_SIZE[p.type], 0);
      need(row * el.count);
      off += row * el.count;
      continue;
    }
    for (let r = 0; r < el.count; r++) {
      el.properties.forEach((p, k) => {
        if (p.listCountType) {
          need(TYPE_SIZE[p.listCountType]);
          const n = readBinaryScalar(view, off, p.listCountType, le);
          off += TYPE_SIZE[p.listCountType];
          need(n * TYPE_SIZE[p.type]);
          off += n * TYPE_SIZE[p.type];
        } else {
          need(TYPE_SIZE[p.type]);
          if (e === index) cols[k]![r] = readBinaryScalar(view, off, p.type, le);
          off += TYPE_SIZE[p.type];
        }
      });
    }
  }
  return { element, columns };
}

function toBytes(input: Uint8Array | string): Uint8Array {
  if (typeof input !== 'string') return input;
  try {
    return readFileSync(input);
  } catch (err) {
    throw new Error(`Ply: cannot read ${input} (${(err as Error).message})`, { cause: err });
  }
}

function column(columns: Columns, name: string, what: string): Float64Array {
  const c = columns.get(name);
  if (!c) throw new Error(`Ply: ${what} needs a "${name}" vertex property (found: ${[...columns.keys()].join(' ')})`);
  return c;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Whether the vertex element looks like Gaussians (has opacity, scales and rotations). */
export function isGaussianPly(input: Uint8Array | string): boolean {
  const header = parseHeader(toBytes(input));
  const v = header.elements.find((e) => e.name === 'vertex');
  const names = new Set(v?.properties.map((p) => p.name));
  return ['opacity', 'scale_0', 'rot_0'].every((n) => names.has(n));
}

/**
 * Reads 3D Gaussians (Inria layout or LGM's 14-property variant) and returns activated values.
 *
 * Inria files store raw parameters (logit opacity, log scale, SH DC colour). LGM's exporter writes
 * the raw convention by default and *activated* values with `compatible=False` (opacity in [0, 1],
 * positive scales, rgb in f_dc_*). Unless `options.activated` says which, a file whose opacities
 * all lie in [0, 1] and whose scales are all positive is taken as activated: raw log scales that
 * are all positive would mean every Gaussian is wider than a metre, which no real scene has.
 */
export function readGaussianPly(input: Uint8Array | string, options: { activated?: boolean } = {}): GaussianSet {
  const bytes = toBytes(input);
  const header = parseHeader(bytes);
  const { element, columns } = readElement(bytes, header, 'vertex');
  const n = element.count;
  const what = 'a Gaussian PLY';
  const x = column(columns, 'x', what), y = column(columns, 'y', what), z = column(columns, 'z', what);
  const op = column(columns, 'opacity', what);
  const s = [0, 1, 2].map((k) => column(columns, `scale_${k}`, what));
  const r = [0, 1, 2, 3].map((k) => column(columns, `rot_${k}`, what));
  const dc = [0, 1, 2].map((k) => columns.get(`f_dc_${k}`));
  const rgb = ['red', 'green', 'blue'].map((k) => columns.get(k));
  const hasDc = dc.every((c) => c !== undefined);
  const hasRgb = rgb.every((c) => c !== undefined);
  if (!hasDc && !hasRgb) throw new Error('Ply: a Gaussian PLY needs f_dc_0..2 or red/green/blue vertex properties');
  let activated = options.activated;
  if (activated === undefined) {
    activated = n > 0;
    for (let i = 0; i < n && activated; i++) {
      if (!(op[i]! >= 0 && op[i]! <= 1)) activated = false;
      for (let k = 0; k < 3; k++) if (!(s[k]![i]! > 0)) activated = false;
    }
  }
  // red/green/blue as uchar means 0..255.
  const rgbScale = !hasDc && element.properties.find((p) => p.name === 'red')?.type === 'uchar' ? 1 / 255 : 1;

  const out = emptyGaussians(n);
  for (let i = 0; i < n; i++) {
    out.positions[3 * i] = x[i]!;
    out.positions[3 * i + 1] = y[i]!;
    out.positions[3 * i + 2] = z[i]!;
    out.opacities[i] = activated ? op[i]! : sigmoid(op[i]!);
    for (let k = 0; k < 3; k++) {
      out.scales[3 * i + k] = activated ? s[k]![i]! : Math.exp(s[k]![i]!);
      const c = hasDc ? (activated ? dc[k]![i]! : 0.5 + SH_C0 * dc[k]![i]!) : rgb[k]![i]! * rgbScale;
      out.colors[3 * i + k] = Math.min(1, Math.max(0, c));
    }
    const w = r[0]![i]!, qx = r[1]![i]!, qy = r[2]![i]!, qz = r[3]![i]!;
    const len = Math.hypot(w, qx, qy, qz);
    if (len > 0) {
      out.rotations[4 * i] = w / len;
      out.rotations[4 * i + 1] = qx / len;
      out.rotations[4 * i + 2] = qy / len;
      out.rotations[4 * i + 3] = qz / len;
    } else {
      out.rotations[4 * i] = 1;
    }
  }
  return out;
}

function logit(p: number): number {
  // Clamp so fully opaque / transparent Gaussians stay finite in the file.
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
}

/** Writes Gaussians in the Inria 3DGS layout, binary little endian (viewers open it directly). */
export function writeGaussianPly(set: GaussianSet): Uint8Array {
  const n = set.count;
  if (!Number.isInteger(n) || n < 0) throw new Error(`Ply: GaussianSet count must be a non-negative integer, got ${n}`);
  const lengths: Array<[string, number, number]> = [
    ['positions', set.positions.length, 3 * n],
    ['opacities', set.opacities.length, n],
    ['scales', set.scales.length, 3 * n],
    ['rotations', set.rotations.length, 4 * n],
    ['colors', set.colors.length, 3 * n],
  ];
  for (const [name, got, want] of lengths) {
    if (got !== want) throw new Error(`Ply: GaussianSet.${name} has length ${got}, expected ${want} for ${n} Gaussians`);
  }
  const props = ['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2', 'opacity',
    'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3'];
  const header = `ply\nformat binary_little_endian 1.0\nelement vertex ${n}\n${props.map((p) => `property float ${p}\n`).join('')}end_header\n`;
  const headerBytes = Buffer.from(header, 'latin1');
  const out = new Uint8Array(headerBytes.length + n * props.length * 4);
  out.set(headerBytes, 0);
  const f = new Float32Array(n * props.length);
  for (let i = 0; i < n; i++) {
    const o = i * props.length;
    f[o] = set.positions[3 * i]!;
    f[o + 1] = set.positions[3 * i + 1]!;
    f[o + 2] = set.positions[3 * i + 2]!;
    // Normals are unused by 3DGS; zeros are what the reference implementation writes.
    for (let k = 0; k < 3; k++) f[o + 6 + k] = (set.colors[3 * i + k]! - 0.5) / SH_C0;
    f[o + 9] = logit(set.opacities[i]!);
    for (let k = 0; k < 3; k++) f[o + 10 + k] = Math.log(Math.max(1e-12, set.scales[3 * i + k]!));
    for (let k = 0; k < 4; k++) f[o + 13 + k] = set.rotations[4 * i + k]!;
  }
  // Copy through a little-endian view so the output is LE regardless of the host.
  const dv = new DataView(out.buffer, out.byteOffset + headerBytes.length, n * props.length * 4);
  for (let i = 0; i < f.length; i++) dv.setFloat32(i * 4, f[i]!, true);
  return out;
}

/**
 * Reads x y z (and red/green/blue or f_dc_* colours when present) from any PLY's vertex element,
 * including Gaussian PLYs (centres only). Faces and other elements are ignored.
 */
export function readPointPly(input: Uint8Array | string): PointCloud {
  const bytes = toBytes(input);
  const header = parseHeader(bytes);
  const { element, columns } = readElement(bytes, header, 'vertex');
  const what = 'a point PLY';
  const x = column(columns, 'x', what), y = column(columns, 'y', what), z = column(columns, 'z', what);
  const n = element.count;
  const positions = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    positions[3 * i] = x[i]!;
    positions[3 * i + 1] = y[i]!;
    positions[3 * i + 2] = z[i]!;
  }
  const cloud: PointCloud = { positions };
  const rgb = ['red', 'green', 'blue'].map((k) => columns.get(k));
  const dc = [0, 1, 2].map((k) => columns.get(`f_dc_${k}`));
  if (rgb.every((c) => c !== undefined)) {
    const type = element.properties.find((p) => p.name === 'red')!.type;
    const scale = type === 'uchar' ? 1 / 255 : type === 'ushort' ? 1 / 65535 : 1;
    const colors = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) colors[3 * i + k] = rgb[k]![i]! * scale;
    cloud.colors = colors;
  } else if (dc.every((c) => c !== undefined)) {
    const colors = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) colors[3 * i + k] = Math.min(1, Math.max(0, 0.5 + SH_C0 * dc[k]![i]!));
    cloud.colors = colors;
  }
  const labels = columns.get('label');
  if (labels) cloud.labels = Int32Array.from(labels);
  return cloud;
}

/** Writes x y z [red green blue as uchar] [label as int], binary little endian. */
export function writePointPly(cloud: PointCloud): Uint8Array {
  if (cloud.positions.length % 3 !== 0) throw new Error(`Ply: point positions length ${cloud.positions.length} is not a multiple of 3`);
  const n = cloud.positions.length / 3;
  const colors = cloud.colors;
  if (colors && colors.length !== 3 * n) throw new Error(`Ply: point colors have length ${colors.length}, expected ${3 * n}`);
  const labels = cloud.labels;
  if (labels && labels.length !== n) throw new Error(`Ply: point labels have length ${labels.length}, expected ${n}`);
  let header = `ply\nformat binary_little_endian 1.0\nelement vertex ${n}\nproperty float x\nproperty float y\nproperty float z\n`;
  if (colors) header += 'property uchar red\nproperty uchar green\nproperty uchar blue\n';
  if (labels) header += 'property int label\n';
  header += 'end_header\n';
  const headerBytes = Buffer.from(header, 'latin1');
  const row = 12 + (colors ? 3 : 0) + (labels ? 4 : 0);
  const out = new Uint8Array(headerBytes.length + n * row);
  out.set(headerBytes, 0);
  const dv = new DataView(out.buffer, out.byteOffset + headerBytes.length, n * row);
  for (let i = 0; i < n; i++) {
    let o = i * row;
    for (let k = 0; k < 3; k++, o += 4) dv.setFloat32(o, cloud.positions[3 * i + k]!, true);
    if (colors) for (let k = 0; k < 3; k++, o++) dv.setUint8(o, Math.round(Math.min(1, Math.max(0, colors[3 * i + k]!)) * 255));
    if (labels) dv.setInt32(o, labels[i]!, true);
  }
  return out;
}
