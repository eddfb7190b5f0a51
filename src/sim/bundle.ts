/**
 * Task bundles: the URDF and the files it references, with paths relative to a bundle root.
 *
 * {@link collectBundle} reads a URDF under a root directory and gathers the mesh files it names
 * (relative paths, `package://` and `file://`/absolute paths that stay inside the root), the
 * `mtllib` files of OBJ meshes and the texture maps of those MTL files. Nothing outside the root
 * is ever read. {@link writeBundle} materialises a received bundle in a directory, checking every
 * path again (the worker side).
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, realpath, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bundle, type ProtocolLimits, DEFAULT_LIMITS, base64DecodedLength, bundlePathProblem, sha256Hex } from './protocol.js';

/** A file in memory, path relative to the bundle root. */
export interface BundleEntry {
  path: string;
  data: Uint8Array;
}

export class BundleError extends Error {
  constructor(message: string) {
    super(`SimBundle: ${message}`);
    this.name = 'BundleError';
  }
}

/** Mesh references of a URDF (`<mesh filename="...">`), in document order, de-duplicated. */
export function urdfMeshReferences(urdfText: string): string[] {
  const out: string[] = [];
  const re = /<mesh\b[^>]*?\bfilename\s*=\s*("([^"]*)"|'([^']*)')/g;
  for (let m = re.exec(urdfText); m; m = re.exec(urdfText)) {
    const f = decodeXmlEntities((m[2] ?? m[3] ?? '').trim());
    if (f && !out.includes(f)) out.push(f);
  }
  return out;
}

function decodeXmlEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e] ?? _);
}

/** `mtllib` names of an OBJ file. */
export function objMaterialLibraries(objText: string): string[] {
  const out: string[] = [];
  for (const line of objText.split(/\r?\n/)) {
    const m = /^\s*mtllib\s+(.+?)\s*$/.exec(line);
    if (m) for (const name of m[1]!.split(/\s+/)) if (name && !out.includes(name)) out.push(name);
  }
  return out;
}

/** Texture file names of an MTL file (`map_Kd`, `map_Ka`, `bump`, ...; options before the name are skipped). */
export function mtlTextures(mtlText: string): string[] {
  const out: string[] = [];
  for (const line of mtlText.split(/\r?\n/)) {
    const m = /^\s*(map_\w+|bump|disp|decal|refl|norm)\s+(.+?)\s*$/.exec(line);
    if (!m) continue;
    const parts = m[2]!.split(/\s+/);
    const name = parts[parts.length - 1];
    if (name && !out.includes(name)) out.push(name);
  }
  return out;
}

/** Joins a bundle-relative directory and a reference, normalising `./` and `../` (result may escape: check it). */
function joinRel(dir: string, ref: string): string {
  return posix.normalize(posix.join(dir, ref.replace(/\\/g, '/')));
}

export interface CollectOptions {
  /** Extra files (relative to the root) to ship, e.g. a robot description. */
  extra?: string[];
  limits?: ProtocolLimits;
  /** Called for referenced files that are skipped (missing textures/material libraries). */
  warn?: (message: string) => void;
}

/**
 * Collects the URDF at `root/urdfRel` and everything it references. Throws {@link BundleError}
 * when the URDF or a mesh is missing, when a reference leaves the root, or when limits are exceeded.
 * Missing `.mtl` files and textures are skipped with a warning (simulators ignore them).
 */
export async function collectBundle(root: string, urdfRel: string, opts: CollectOptions = {}): Promise<BundleEntry[]> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const rootAbs = await realpath(resolve(root)).catch(() => {
    throw new BundleError(`bundle root ${root} does not exist`);
  });
  const urdfPath = urdfRel.replace(/\\/g, '/');
  const why = bundlePathProblem(urdfPath);
  if (why) throw new BundleError(`URDF path "${urdfRel}" ${why}`);
  const files = new Map<string, Uint8Array>();
  let total = 0;

  const add = async (rel: string, what: string): Promise<Uint8Array> => {
    const problem = bundlePathProblem(rel);
    if (problem) throw new BundleError(`${what} "${rel}" ${problem}`);
    const existing = files.get(rel);
    if (existing) return existing;
    const abs = join(rootAbs, ...rel.split('/'));
    let real: string;
    try {
      real = await realpath(abs);
    } catch {
      throw new BundleError(`${what} "${rel}" not found under ${rootAbs}`);
    }
    if (!isInside(rootAbs, real)) throw new BundleError(`${what} "${rel}" resolves outside the bundle root ${rootAbs} (symlink?)`);
    const st = await lstat(real);
    if (!st.isFile()) throw new BundleError(`${what} "${rel}" is not a regular file`);
    const data = new Uint8Array(await readFile(real));
    total += data.byteLength;
    if (files.size + 1 > limits.maxFiles) throw new BundleError(`more than ${limits.maxFiles} files referenced by ${urdfRel}`);
    if (total > limits.maxBundleBytes) throw new BundleError(`files referenced by ${urdfRel} exceed ${limits.maxBundleBytes} bytes`);
    files.set(rel, data);
    return data;
  };

  const urdfData = await add(urdfPath, 'URDF');
  const urdfText = Buffer.from(urdfData).toString('utf8');
  const urdfDir = posix.dirname(urdfPath) === '.' ? '' : posix.dirname(urdfPath);
  for (const ref of urdfMeshReferences(urdfText)) {
    const rel = resolveMeshReference(rootAbs, urdfDir, ref);
    const data = await add(rel, `mesh "${ref}" of ${urdfRel}:`);
    if (/\.obj$/i.test(rel)) await addObjExtras(rel, data);
  }
  for (const extra of opts.extra ?? []) await add(extra.replace(/\\/g, '/'), 'extra file');
  return [...files].map(([path, data]) => ({ path, data }));

  async function addObjExtras(objRel: string, objData: Uint8Array): Promise<void> {
    const dir = posix.dirname(objRel) === '.' ? '' : posix.dirname(objRel);
    for (const lib of objMaterialLibraries(Buffer.from(objData).toString('utf8'))) {
      const mtlRel = joinRel(dir, lib);
      if (bundlePathProblem(mtlRel) || !existsSync(join(rootAbs, ...mtlRel.split('/')))) {
        opts.warn?.(`SimBundle: material library "${lib}" of ${objRel} skipped (missing or outside the bundle)`);
        continue;
      }
      const mtl = await add(mtlRel, `material library of ${objRel}:`);
      const mtlDir = posix.dirname(mtlRel) === '.' ? '' : posix.dirname(mtlRel);
      for (const tex of mtlTextures(Buffer.from(mtl).toString('utf8'))) {
        // Texture paths are relative to the MTL file (PartNet-Mobility: ../images/texture_N.jpg).
        const texRel = joinRel(mtlDir, tex);
        if (bundlePathProblem(texRel) || !existsSync(join(rootAbs, ...texRel.split('/')))) {
          opts.warn?.(`SimBundle: texture "${tex}" of ${mtlRel} skipped (missing or outside the bundle)`);
          continue;
        }
        await add(texRel, `texture of ${mtlRel}:`);
      }
    }
  }
}

/**
 * The bundle path of a URDF mesh reference: relative to the URDF's directory; `package://PKG/REST`
 * as REST relative to the URDF's directory, else `PKG/REST` or REST relative to the root (the
 * first that exists); `file://` and absolute paths only when they lie inside the root.
 */
export function resolveMeshReference(rootAbs: string, urdfDir: string, ref: string): string {
  const exists = (rel: string) => !bundlePathProblem(rel) && existsSync(join(rootAbs, ...rel.split('/')));
  if (ref.startsWith('package://')) {
    const rest = ref.slice('package://'.length);
    const slash = rest.indexOf('/');
    const inPkg = slash >= 0 ? rest.slice(slash + 1) : rest;
    const candidates = [joinRel(urdfDir, inPkg), posix.normalize(rest), posix.normalize(inPkg)];
    const found = candidates.find(exists);
    if (!found) throw new BundleError(`mesh "${ref}" not found under the bundle root (tried ${candidates.join(', ')})`);
    return found;
  }
  let path = ref;
  if (ref.startsWith('file://')) path = fileURLToPath(ref);
  if (isAbsolute(path)) {
    const rel = relative(rootAbs, path);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new BundleError(`mesh "${ref}" is outside the bundle root ${rootAbs}`);
    return rel.split(sep).join('/');
  }
  const rel = joinRel(urdfDir, path);
  if (rel === '..' || rel.startsWith('../')) throw new BundleError(`mesh "${ref}" leaves the bundle root (${rel})`);
  return rel;
}

function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The project's Franka Panda (urdf_templates/panda/panda.urdf, primitives only) as the bundle file
 * `franka/panda.urdf`: Isaac Gym workers use it instead of Isaac Gym's own copy when present.
 */
export async function pandaBundleEntry(): Promise<BundleEntry> {
  const { pandaUrdfPath } = await import('./mujoco/scene.js');
  return { path: 'franka/panda.urdf', data: new Uint8Array(await readFile(pandaUrdfPath())) };
}

/** Checks paths and limits of in-memory files (e.g. handed to `SimServer.submit`). */
export function checkEntries(entries: readonly BundleEntry[], limits: ProtocolLimits = DEFAULT_LIMITS): void {
  if (entries.length === 0) throw new BundleError('bundle is empty');
  if (entries.length > limits.maxFiles) throw new BundleError(`bundle has ${entries.length} files, the limit is ${limits.maxFiles}`);
  const seen = new Set<string>();
  let total = 0;
  for (const e of entries) {
    const why = bundlePathProblem(e.path);
    if (why) throw new BundleError(`path "${e.path}" ${why}`);
    if (seen.has(e.path)) throw new BundleError(`duplicate path "${e.path}"`);
    seen.add(e.path);
    total += e.data.byteLength;
  }
  if (total > limits.maxBundleBytes) throw new BundleError(`bundle holds ${total} bytes, the limit is ${limits.maxBundleBytes} bytes`);
}

/** The wire form of a bundle (base64 + sha256 per file). */
export function encodeBundle(entries: readonly BundleEntry[], limits: ProtocolLimits = DEFAULT_LIMITS): Bundle {
  checkEntries(entries, limits);
  return { files: entries.map((e) => ({ path: e.path, data: Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('base64'), sha256: sha256Hex(e.data) })) };
}

/** Decodes a (schema-checked) wire bundle, verifying paths, sizes and checksums. */
export function decodeBundle(bundle: Bundle, limits: ProtocolLimits = DEFAULT_LIMITS): BundleEntry[] {
  const out: BundleEntry[] = [];
  for (const f of bundle.files) {
    if (base64DecodedLength(f.data) === null) throw new BundleError(`file "${f.path}" is not base64`);
    const data = new Uint8Array(Buffer.from(f.data, 'base64'));
    if (f.sha256 && sha256Hex(data) !== f.sha256) throw new BundleError(`file "${f.path}" fails its sha256 check`);
    out.push({ path: f.path, data });
  }
  checkEntries(out, limits);
  return out;
}

/**
 * Writes decoded entries under `dir` (which should be fresh and empty). Every target is checked to
 * stay inside `dir` after resolution; files are written to a temporary name and renamed.
 */
export async function writeBundle(dir: string, entries: readonly BundleEntry[]): Promise<void> {
  const rootAbs = await realpath(resolve(dir));
  for (const e of entries) {
    const why = bundlePathProblem(e.path);
    if (why) throw new BundleError(`path "${e.path}" ${why}`);
    const target = resolve(rootAbs, ...e.path.split('/'));
    if (!isInside(rootAbs, target) || target === rootAbs) throw new BundleError(`path "${e.path}" resolves outside ${rootAbs}`);
    const parent = dirname(target);
    await mkdir(parent, { recursive: true });
    // A symlinked directory inside the bundle dir cannot exist (we create everything), but check anyway.
    const realParent = await realpath(parent);
    if (!isInside(rootAbs, realParent)) throw new BundleError(`path "${e.path}" resolves outside ${rootAbs}`);
    const tmp = `${target}.partial-${process.pid}`;
    await writeFile(tmp, e.data, { flag: 'wx' });
    await rename(tmp, target);
  }
}
