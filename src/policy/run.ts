import type { SimProgress, SimTaskResult, SimTaskSpec } from '../sim/task.js';

/** Placeholder: replaced by the MuJoCo implementation. */
export async function runSimTaskMujoco(
  _bundleDir: string,
  spec: SimTaskSpec,
  _onProgress?: SimProgress,
  _signal?: AbortSignal,
): Promise<SimTaskResult> {
  throw new Error(`runSimTaskMujoco: not implemented yet (task ${spec.kind})`);
}
