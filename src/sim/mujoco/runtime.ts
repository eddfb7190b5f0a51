/**
 * Process-wide MuJoCo WASM runtime (mujoco-js, the official build) plus helpers for its
 * Emscripten in-memory file system (MEMFS), which is the only place MuJoCo's XML/URDF
 * loader can read files from.
 *
 * Facts about mujoco-js 0.0.7 (MuJoCo 3.3.8) that the helpers here work around:
 * - The module prints through Emscripten's `print`/`printErr` (console.log/console.error by
 *   default). `MjModel.loadFromXML` reports some failures (file missing, XML syntax error) only by
 *   printing `Loading error: ...` and returning null, so we route the output through a sink that
 *   can be captured around a call ({@link captureMujocoOutput}).
 * - Compiler/parser errors are C++ exceptions (`mjCError`, `mjXError`) that escape to JS as an
 *   Emscripten `CppException` whose `name` is the C++ type and whose `message` is undefined (the
 *   types do not derive from std::exception). The text lives in the exception object's first
 *   field (`char message[...]`); {@link mujocoErrorMessage} reads it from WASM memory.
 *   C++ catch blocks inside MuJoCo do not run, so each failed compile leaks the half-built model
 *   (~20 KB for a small URDF); the module stays usable afterwards.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import loadMujoco from 'mujoco-js';
import type { MainModule } from 'mujoco-js';

export type { MainModule };

/** The subset of Emscripten's FS API used here (the shipped d.ts types it loosely). */
export interface EmscriptenFS {
  mkdir(path: string, mode?: number): unknown;
  mkdirTree(path: string, mode?: number): void;
  writeFile(path: string, data: string | ArrayBufferView): void;
  readFile(path: string, opts?: { encoding?: 'binary' | 'utf8' }): Uint8Array | string;
  readdir(path: string): string[];
  stat(path: string): { mode: number; size: number };
  isDir(mode: number): boolean;
  unlink(path: string): void;
  rmdir(path: string): void;
  analyzePath(path: string): { exists: boolean };
}

type OutputStream = 'out' | 'err';
type OutputSink = (stream: OutputStream, line: string) => void;

let mujocoPromise: Promise<MainModule> | null = null;
let outputSink: OutputSink | null = null;

function routeOutput(stream: OutputStream, line: string): void {
  if (outputSink) outputSink(stream, line);
  else if (stream === 'out') console.log(line);
  else console.error(line);
}

/**
 * The MuJoCo WASM module, instantiated once per process on first use (~0.3 s). Concurrent callers
 * share the same promise; a failed instantiation is retried on the next call.
 */
export function getMujoco(): Promise<MainModule> {
  if (!mujocoPromise) {
    mujocoPromise = loadMujoco({
      print: (line: string) => routeOutput('out', line),
      printErr: (line: string) => routeOutput('err', line),
    }).catch((err: unknown) => {
      mujocoPromise = null;
      throw err;
    });
  }
  return mujocoPromise;
}

/** Typed access to the module's Emscripten file system. */
export function mujocoFS(mujoco: MainModule): EmscriptenFS {
  return (mujoco as unknown as { FS: EmscriptenFS }).FS;
}

/**
 * Runs `fn` synchronously while collecting everything the WASM module prints (instead of letting
 * it reach the console). Returns the lines together with the result, or rethrows `fn`'s error
 * after attaching the lines as `error.mujocoOutput` when it is an object.
 */
export function captureMujocoOutput<T>(fn: () => T): { value: T; output: string[] } {
  const lines: string[] = [];
  const previous = outputSink;
  outputSink = (_stream, line) => lines.push(line);
  try {
    const value = fn();
    return { value, output: lines };
  } catch (err) {
    if (err !== null && typeof err === 'object') {
      try {
        (err as { mujocoOutput?: string[] }).mujocoOutput = lines;
      } catch {
        // frozen / exotic error object: the caller just won't see the output
      }
    }
    throw err;
  } finally {
    outputSink = previous;
  }
}

/** Current WASM linear memory (re-read every time: it is replaced when the heap grows). */
function wasmHeap(mujoco: MainModule): Uint8Array | null {
  // Emscripten's HEAPU8 is not exported by this build, but every embind typed-memory view aliases
  // the WASM memory, so a throwaway struct with an array field gives us the buffer.
  const opt = new mujoco.MjOption();
  try {
    const view = (opt as unknown as { gravity?: { buffer?: ArrayBufferLike } }).gravity;
    return view?.buffer ? new Uint8Array(view.buffer) : null;
  } finally {
    opt.delete();
  }
}

/**
 * Human-readable message for something thrown by a MuJoCo call: the text of an `mjCError` /
 * `mjXError` C++ exception when it can be read, otherwise the usual Error message.
 */
export function mujocoErrorMessage(mujoco: MainModule, err: unknown): string {
  if (err instanceof Error) {
    const excPtr = (err as { excPtr?: unknown }).excPtr;
    if (typeof excPtr === 'number' && (err.name === 'mjCError' || err.name === 'mjXError')) {
      try {
        const heap = wasmHeap(mujoco);
        if (heap && excPtr > 0 && excPtr < heap.length) {
          // message[] is at most 1000 chars in both types; cap the scan in case the layout changed.
          const limit = Math.min(heap.length, excPtr + 1000);
          let end = excPtr;
          while (end < limit && heap[end] !== 0) end++;
          const text = new TextDecoder().decode(heap.subarray(excPtr, end)).trim();
          if (text) return `${err.name}: ${text}`;
        }
      } catch {
        // fall through to the generic message
      }
      return `${err.name} (MuJoCo gave no message)`;
    }
    return err.message || err.name;
  }
  return String(err);
}

let memfsCounter = 0;
/** Root under which {@link copyDirToMemfs} creates its per-call directories. */
export const MEMFS_ROOT = '/partrm';

export interface CopyToMemfsOptions {
  /** Refuse to copy more than this many bytes in total (default 1 GiB). */
  maxBytes?: number;
}

/**
 * Copies the host directory tree `hostDir` into a fresh, uniquely named MEMFS directory and
 * returns its absolute MEMFS path. Only regular files and directories are copied; symlinks
 * (to files or directories) and special files are skipped so a link cannot pull in data from
 * outside the tree. Remove the copy with {@link removeMemfsDir}.
 */
export function copyDirToMemfs(mujoco: MainModule, hostDir: string, options: CopyToMemfsOptions = {}): string {
  const fs = mujocoFS(mujoco);
  const maxBytes = options.maxBytes ?? 1 << 30;
  const dir = posix.join(MEMFS_ROOT, `${process.pid}-${++memfsCounter}-${Math.random().toString(36).slice(2, 8)}`);
  fs.mkdirTree(dir);
  let total = 0;
  const copy = (hostPath: string, memPath: string): void => {
    for (const entry of readdirSync(hostPath, { withFileTypes: true })) {
      const src = join(hostPath, entry.name);
      const dst = posix.join(memPath, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) {
        fs.mkdir(dst);
        copy(src, dst);
      } else if (entry.isFile()) {
        total += lstatSync(src).size;
        if (total > maxBytes) {
          throw new Error(`copyDirToMemfs: ${hostDir} holds more than ${maxBytes} bytes; refusing to copy it into WASM memory`);
        }
        fs.writeFile(dst, readFileSync(src));
      }
    }
  };
  try {
    copy(hostDir, dir);
  } catch (err) {
    removeMemfsDir(mujoco, dir);
    throw err;
  }
  return dir;
}

/** Recursively deletes a MEMFS directory (no-op when it does not exist). */
export function removeMemfsDir(mujoco: MainModule, dir: string): void {
  const fs = mujocoFS(mujoco);
  if (!fs.analyzePath(dir).exists) return;
  const remove = (path: string): void => {
    if (fs.isDir(fs.stat(path).mode)) {
      for (const name of fs.readdir(path)) {
        if (name === '.' || name === '..') continue;
        remove(posix.join(path, name));
      }
      fs.rmdir(path);
    } else {
      fs.unlink(path);
    }
  };
  remove(dir);
}

/**
 * Pose of entry `i` (body or site) as a row-major 4x4 from MuJoCo's position and row-major 3x3
 * orientation arrays (`xpos`/`xmat`, `site_xpos`/`site_xmat`).
 */
export function poseFromMujoco(pos: ArrayLike<number>, mat: ArrayLike<number>, i: number): Float64Array {
  const out = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out[r * 4 + c] = mat[i * 9 + r * 3 + c]!;
    out[r * 4 + 3] = pos[i * 3 + r]!;
  }
  out[15] = 1;
  return out;
}
