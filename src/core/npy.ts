/**
 * NumPy .npy (format 1.0) for the dataset's arrays, so the Python training code reads them with
 * numpy.load and TypeScript reads them back without a dependency.
 */
export type NpyArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array | Uint16Array | Int16Array;

const DTYPES: Array<[string, new (n: number) => NpyArray]> = [
  ['<f4', Float32Array],
  ['<f8', Float64Array],
  ['<i4', Int32Array],
  ['<u4', Uint32Array],
  ['|u1', Uint8Array],
  ['<u2', Uint16Array],
  ['<i2', Int16Array],
];

function dtypeOf(a: NpyArray): string {
  for (const [name, ctor] of DTYPES) if (a instanceof ctor) return name;
  throw new Error('Npy: unsupported array type');
}

export function encodeNpy(data: NpyArray, shape: readonly number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`Npy: shape [${shape.join(', ')}] holds ${n} values, array has ${data.length}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${dtypeOf(data)}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

export function decodeNpy(bytes: Uint8Array): { data: NpyArray; shape: number[] } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new Error('Npy: not a .npy file (bad magic)');
  const major = bytes[6]!;
  const headerLen = major === 1 ? bytes[8]! | (bytes[9]! << 8) : new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeStr === undefined) throw new Error(`Npy: unreadable header ${header.trim()}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('Npy: fortran_order arrays are not supported');
  const entry = DTYPES.find(([d]) => d === descr || d.replace('<', '|') === descr);
  if (!entry) throw new Error(`Npy: unsupported dtype ${descr}`);
  const shape = shapeStr.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new entry[1](n);
  const body = bytes.subarray(start + headerLen, start + headerLen + data.byteLength);
  if (body.length !== data.byteLength) throw new Error(`Npy: truncated data (${body.length} of ${data.byteLength} bytes)`);
  new Uint8Array(data.buffer).set(body);
  return { data, shape };
}
