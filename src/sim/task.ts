/**
 * The simulation task contract shared by the in-process MuJoCo backend, the WebSocket workers
 * (src/sim/worker.ts, isaac/) and the CLI. The protocol schemas (src/sim/protocol.ts) mirror
 * these types.
 */
import type { OpeningPolicy } from '../policy/types.js';

export type { OpeningPolicy };

export type SimTaskKind = 'evaluate' | 'train';

export interface SimTaskSpec {
  kind: SimTaskKind;
  /** Path of the URDF inside the bundle dir (relative, forward slashes). */
  urdf: string;
  /** Name of the joint to open. */
  joint: string;
  task: 'drawer' | 'door';
  /** For 'evaluate' (and as the initial mean for 'train'). */
  policy?: OpeningPolicy;
  /** evaluate: K perturbed starts. */
  trials?: number;
  /** train (CEM). */
  budget?: { iterations: number; population: number };
  seed?: number;
}

export interface SimTaskResult {
  kind: SimTaskKind;
  successRate: number;
  trials: number;
  /** Joint values at the end of each trial. */
  finalStates: number[];
  /** train: the trained policy. */
  policy?: OpeningPolicy;
  /** One representative rollout summary. */
  trajectory?: { t: number[]; joint: number[] };
}

export type SimProgress = (fraction: number, message: string) => void;

/** Where the CLI runs simulation: in-process MuJoCo, or a WebSocket server workers dial into. */
export type SimBackend = { kind: 'local' } | { kind: 'listen'; port: number; host?: string };

/** Parses `local` | `listen:PORT` | `listen:HOST:PORT`. */
export function parseSimBackend(text: string): SimBackend {
  if (text === 'local') return { kind: 'local' };
  const m = /^listen:(?:([^:]+):)?(\d{1,5})$/.exec(text);
  if (m) {
    const port = Number(m[2]);
    if (port >= 1 && port <= 65535) return m[1] ? { kind: 'listen', port, host: m[1] } : { kind: 'listen', port };
  }
  throw new Error(`SimBackend: invalid --sim "${text}"; expected "local" or "listen:PORT" (1..65535)`);
}

/** Runs a task on files already on disk under bundleDir (MuJoCo backend). */
export async function runSimTaskLocal(
  bundleDir: string,
  spec: SimTaskSpec,
  onProgress?: SimProgress,
  signal?: AbortSignal,
): Promise<SimTaskResult> {
  const { runSimTaskMujoco } = await import('../policy/run.js');
  return runSimTaskMujoco(bundleDir, spec, onProgress, signal);
}
