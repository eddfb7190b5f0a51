/**
 * Runs simulation tasks in worker threads, so a worker process stays responsive (heartbeats,
 * cancels) while MuJoCo computes synchronously, and `--parallel N` really runs N tasks at once
 * (each thread has its own MuJoCo WASM instance). Cancelling a task terminates its thread; the
 * next task gets a fresh one. Threads are reused between tasks otherwise.
 *
 * The thread imports a module exporting `runSimTaskLocal(bundleDir, spec, onProgress, signal)`
 * (default: ./task.js, the MuJoCo backend) and answers over the thread's message port.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { SimProgress, SimTaskResult, SimTaskSpec } from './task.js';
import type { SimExecutor } from './worker.js';

type ToThread = { type: 'run'; bundleDir: string; spec: SimTaskSpec };
type FromThread =
  | { type: 'progress'; fraction: number; message: string }
  | { type: 'result'; result: SimTaskResult }
  | { type: 'error'; message: string };

interface ThreadData {
  partrmSimExecutorModule: string;
  partrmSelf: string;
}

export class SimThreadError extends Error {
  constructor(message: string) {
    super(`SimThread: ${message}`);
    this.name = 'SimThreadError';
  }
}

function selfUrl(): URL {
  return new URL(import.meta.url);
}

export interface ThreadExecutorOptions {
  /** URL of the module whose `runSimTaskLocal` runs the task (default: ./task.js beside this file). */
  module?: URL;
}

/** A pool of reusable threads as a {@link SimExecutor}; `close()` terminates idle threads. */
export function threadExecutor(options: ThreadExecutorOptions = {}): SimExecutor & { close(): Promise<void> } {
  const here = selfUrl();
  const ext = here.pathname.endsWith('.ts') ? '.ts' : '.js';
  const moduleUrl = options.module ?? new URL(`./task${ext}`, here);
  const idle: Worker[] = [];
  const all = new Set<Worker>();
  const spawn = (): Worker => {
    const data: ThreadData = { partrmSimExecutorModule: moduleUrl.href, partrmSelf: here.href };
    // Started through a one-line eval that imports this file: Worker refuses a .ts entry point,
    // while a dynamic import goes through the loaders inherited from the parent (tsx in tests).
    // From the TypeScript sources (tests, tsx) the thread registers tsx itself first.
    const boot = here.pathname.endsWith('.ts')
      ? `import('tsx/esm/api').then((t) => t.register()).then(() => import(require('node:worker_threads').workerData.partrmSelf))`
      : `import(require('node:worker_threads').workerData.partrmSelf)`;
    const w = new Worker(boot, { eval: true, workerData: data });
    w.unref();
    all.add(w);
    w.once('exit', () => {
      all.delete(w);
      const i = idle.indexOf(w);
      if (i >= 0) idle.splice(i, 1);
    });
    return w;
  };
  const exec = (bundleDir: string, spec: SimTaskSpec, onProgress: SimProgress, signal: AbortSignal): Promise<SimTaskResult> =>
    new Promise<SimTaskResult>((resolve, reject) => {
      if (signal.aborted) {
        reject(new SimThreadError('aborted before it started'));
        return;
      }
      const w = idle.pop() ?? spawn();
      w.ref();
      let done = false;
      const finish = (reuse: boolean) => {
        done = true;
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        signal.removeEventListener('abort', onAbort);
        w.unref();
        if (reuse) idle.push(w);
      };
      const onMessage = (m: FromThread) => {
        if (m.type === 'progress') onProgress(m.fraction, m.message);
        else if (m.type === 'result') {
          finish(true);
          resolve(m.result);
        } else {
          finish(true);
          reject(new Error(m.message));
        }
      };
      const onError = (e: Error) => {
        if (done) return;
        finish(false);
        reject(new SimThreadError(`thread crashed: ${e.message}`));
      };
      const onExit = (code: number) => {
        if (done) return;
        finish(false);
        reject(new SimThreadError(signal.aborted ? 'aborted' : `thread exited with code ${code}`));
      };
      const onAbort = () => {
        if (done) return;
        finish(false);
        void w.terminate();
        reject(new SimThreadError('aborted'));
      };
      w.on('message', onMessage);
      w.once('error', onError);
      w.once('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      const msg: ToThread = { type: 'run', bundleDir, spec };
      w.postMessage(msg);
    });
  return Object.assign(exec, {
    async close() {
      await Promise.all([...all].map((w) => w.terminate()));
    },
  });
}

// ---- thread side ------------------------------------------------------------------------------

if (!isMainThread && parentPort && (workerData as Partial<ThreadData> | null)?.partrmSimExecutorModule) {
  const port = parentPort;
  const modUrl = (workerData as ThreadData).partrmSimExecutorModule;
  const loaded = import(modUrl) as Promise<{ runSimTaskLocal: (d: string, s: SimTaskSpec, p: SimProgress, sig?: AbortSignal) => Promise<SimTaskResult> }>;
  port.on('message', (m: ToThread) => {
    if (m.type !== 'run') return;
    void (async () => {
      try {
        const mod = await loaded;
        const result = await mod.runSimTaskLocal(m.bundleDir, m.spec, (fraction, message) => port.postMessage({ type: 'progress', fraction, message } satisfies FromThread));
        port.postMessage({ type: 'result', result } satisfies FromThread);
      } catch (e) {
        port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies FromThread);
      }
    })();
  });
}
