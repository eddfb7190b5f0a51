/**
 * Where the CLI runs simulation tasks: `local` (the default: MuJoCo in-process, no socket) or
 * `listen:PORT` / `listen:HOST:PORT` (a {@link SimServer} that workers dial into; tasks wait in
 * its queue until a worker takes them).
 */
import { type SimBackend, type SimProgress, type SimTaskResult, type SimTaskSpec, parseSimBackend, runSimTaskLocal } from './task.js';
import { type SimLogger, SimServer, randomToken, stderrLogger } from './server.js';
import { pandaBundleEntry } from './bundle.js';
import type { SimBackendName } from './protocol.js';

export interface SimRunner {
  readonly kind: 'local' | 'listen';
  /** Runs one task on the URDF `spec.urdf` under `bundleDir` (and the files it references). */
  run(bundleDir: string, spec: SimTaskSpec, onProgress?: SimProgress, signal?: AbortSignal): Promise<SimTaskResult>;
  /** For `listen`: the URL workers dial, once listening. For `local`: "local". */
  ready(): Promise<string>;
  close(): Promise<void>;
}

export interface CreateSimBackendOptions {
  /** Worker token for `listen` (default: $PARTRM_SIM_TOKEN, else a random one that is logged). */
  token?: string;
  log?: SimLogger;
  /** Extra server options for `listen` (tests). */
  server?: Partial<ConstructorParameters<typeof SimServer>[0]>;
  /**
   * `listen` only: send tasks to workers of this backend only (default: any). With 'isaacgym' the
   * project's Panda travels in each bundle as franka/panda.urdf.
   */
  workerBackend?: SimBackendName;
}

/** `local` | `listen:PORT` | `listen:HOST:PORT` (or the parsed {@link SimBackend}). */
export function createSimBackend(backend: string | SimBackend, opts: CreateSimBackendOptions = {}): SimRunner {
  const b = typeof backend === 'string' ? parseSimBackend(backend) : backend;
  if (b.kind === 'local') {
    return {
      kind: 'local',
      run: (bundleDir, spec, onProgress, signal) => runSimTaskLocal(bundleDir, spec, onProgress, signal),
      ready: async () => 'local',
      close: async () => {},
    };
  }
  const log = opts.log ?? stderrLogger;
  const envToken = process.env.PARTRM_SIM_TOKEN;
  const token = opts.token ?? (envToken && envToken.length > 0 ? envToken : randomToken());
  const server = new SimServer({ ...opts.server, token, port: b.port, ...(b.host ? { host: b.host } : {}), log });
  const listening = server.listen().then((url) => {
    const shown = opts.token || envToken ? '<your token>' : token;
    log('info', `SimServer: waiting for workers; start one with: partrm sim worker --connect ${url} --token ${shown}`);
    return url;
  });
  listening.catch(() => {});
  return {
    kind: 'listen',
    async run(bundleDir, spec, onProgress, signal) {
      await listening;
      const extra = opts.workerBackend === 'isaacgym' ? [await pandaBundleEntry()] : [];
      return server.submit(bundleDir, spec, {
        ...(onProgress ? { onProgress } : {}),
        ...(signal ? { signal } : {}),
        ...(opts.workerBackend ? { backend: opts.workerBackend } : {}),
        extra,
      });
    },
    ready: () => listening,
    async close() {
      await listening.catch(() => {});
      await server.close();
    },
  };
}
