/**
 * THE SEAM between the bridge (ROS node, replay, web page, bench) and the product pipeline:
 * everything here takes a `Pipeline`; this is the one place that builds the real one, from
 * `createPipeline` in src/pipeline.ts (looked up at run time so the bridge builds before the
 * pipeline lands; a missing factory is a clear error).
 */
import type { Pipeline } from '../pipeline.js';

export interface BridgePipelineOptions {
  /** Model directory or .onnx path (default: the shipped model). */
  model?: string;
  /** Simulation backend for an optional rollout (`local` | `listen:PORT`). */
  sim?: string;
}

type Factory = (options: Record<string, unknown>) => Pipeline | Promise<Pipeline>;

export async function findPipelineFactory(): Promise<Factory | undefined> {
  const mod = (await import('../pipeline.js')) as Record<string, unknown>;
  const f = mod['createPipeline'];
  return typeof f === 'function' ? (f as Factory) : undefined;
}

export async function createBridgePipeline(options: BridgePipelineOptions = {}): Promise<Pipeline> {
  const factory = await findPipelineFactory();
  if (!factory) {
    throw new Error('BridgePipeline: src/pipeline.ts does not export createPipeline yet; the real pipeline is not available in this build');
  }
  const opts: Record<string, unknown> = {};
  if (options.model) opts['model'] = options.model;
  if (options.sim) opts['sim'] = options.sim;
  return factory(opts);
}
