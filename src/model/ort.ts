/**
 * onnxruntime-node, used by exactly one owner: the session worker (or, when asked, the caller's
 * thread). Execution providers are tried in order; a provider whose libraries are missing throws
 * at session creation (e.g. CUDA without `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild
 * onnxruntime-node`), and the next one is tried.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

export type ExecutionProvider = 'cuda' | 'cpu';

export interface OrtOptions {
  /** Tried in order; default ['cuda', 'cpu']. */
  providers?: ExecutionProvider[];
  /** Threads inside one operator; default onnxruntime's (all cores). */
  intraOpNumThreads?: number;
  /**
   * Let onnxruntime's operator threads spin after a run, waiting for the next one (default false).
   * Spinning makes back-to-back runs ~5 ms faster on 2 cores, but in the pipeline the model runs
   * once per request and the steps after it need those cores: on the bundled sample the joint
   * step took ~47 instead of ~32 ms while the threads spun.
   */
  allowSpinning?: boolean;
}

export interface TensorInfo {
  name: string;
  type: string;
  /** Numbers for fixed dimensions, strings (or -1) for symbolic ones; [] when unknown. */
  shape: Array<number | string>;
}

export interface SessionInfo {
  provider: ExecutionProvider;
  /** Providers tried before `provider` and why each failed. */
  fallbacks: Array<{ provider: ExecutionProvider; error: string }>;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  loadMs: number;
}

export interface TensorData {
  data: Float32Array;
  dims: number[];
}

export type WorkerRequest =
  | { type: 'load'; id: number; modelPath: string; options: OrtOptions }
  | { type: 'run'; id: number; feeds: Record<string, TensorData> }
  | { type: 'close'; id: number };

export type WorkerResponse =
  | { type: 'loaded'; id: number; info: SessionInfo }
  | { type: 'result'; id: number; outputs: Record<string, TensorData> }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string };

export interface OrtHandle {
  session: ort.InferenceSession;
  info: SessionInfo;
}

function describe(meta: readonly ort.InferenceSession.ValueMetadata[] | undefined, names: readonly string[]): TensorInfo[] {
  return names.map((name) => {
    const m = meta?.find((x) => x.name === name);
    if (m && m.isTensor) return { name, type: String(m.type), shape: [...m.shape] };
    return { name, type: 'unknown', shape: [] };
  });
}

/**
 * Why the CUDA provider cannot load, when that is known without trying (its libraries are not
 * installed beside the onnxruntime-node binding); undefined when it may load.
 */
export function cudaUnavailableReason(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `CUDA provider: onnxruntime-node ships it for linux/x64 only (this is ${process.platform}/${process.arch})`;
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    const lib = join(dirname(pkg), 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so');
    if (!existsSync(lib)) return `CUDA provider libraries are not installed (${lib} missing; see README "GPU inference")`;
  } catch {
    return undefined;
  }
  return undefined;
}

export async function createOrtSession(modelPath: string, options: OrtOptions = {}): Promise<OrtHandle> {
  const providers = options.providers ?? ['cuda', 'cpu'];
  if (providers.length === 0) throw new Error('OnnxSession: no execution provider to try');
  const fallbacks: SessionInfo['fallbacks'] = [];
  for (const provider of providers) {
    const t0 = performance.now();
    if (provider === 'cuda') {
      const reason = cudaUnavailableReason();
      if (reason) {
        fallbacks.push({ provider, error: reason });
        continue;
      }
    }
    try {
      const opts: ort.InferenceSession.SessionOptions = { executionProviders: [provider], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
      if (options.intraOpNumThreads) opts.intraOpNumThreads = options.intraOpNumThreads;
      // Session config entry session.intra_op.allow_spinning (the Node binding joins the keys with dots).
      opts.extra = { session: { intra_op: { allow_spinning: options.allowSpinning ? '1' : '0' } } };
      const session = await ort.InferenceSession.create(modelPath, opts);
      const info: SessionInfo = {
        provider,
        fallbacks,
        inputs: describe(session.inputMetadata, session.inputNames),
        outputs: describe(session.outputMetadata, session.outputNames),
        loadMs: performance.now() - t0,
      };
      return { session, info };
    } catch (err) {
      const message = (err as Error).message.split('\n')[0] ?? String(err);
      fallbacks.push({ provider, error: message });
    }
  }
  throw new Error(
    `OnnxSession: could not load ${modelPath} with any execution provider (${fallbacks.map((f) => `${f.provider}: ${f.error}`).join('; ')})`,
  );
}

export async function runOrtSession(handle: OrtHandle, feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
  const inputs: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor('float32', t.data, t.dims);
  let results: ort.InferenceSession.OnnxValueMapType;
  try {
    results = await handle.session.run(inputs);
  } catch (err) {
    throw new Error(`OnnxSession: inference failed (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  const out: Record<string, TensorData> = {};
  for (const [name, value] of Object.entries(results)) {
    const t = value as ort.Tensor;
    if (t.type !== 'float32') throw new Error(`OnnxSession: output '${name}' is ${t.type}, expected float32`);
    // Copy: the result may be a view into memory owned by onnxruntime.
    out[name] = { data: Float32Array.from(t.data as Float32Array), dims: t.dims.map(Number) };
    t.dispose?.();
  }
  return out;
}
