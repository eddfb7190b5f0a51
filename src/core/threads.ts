/**
 * Worker threads whose entry is a module of this package, from the built JavaScript (dist/) or
 * from the TypeScript sources run through tsx (tests, benches).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts `entry` (a module URL; `.ts` when the caller runs from sources) in a new thread. Worker
 * refuses a .ts entry point and Node 20 does not apply --import hooks to worker threads, so a .ts
 * entry is imported by a one-line eval that registers tsx's loader first. Throws when tsx cannot
 * be found for a .ts entry.
 */
export function startModuleWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(code, { ...options, eval: true });
}

/** The sibling module `name` (without extension) of `base`, with the extension `base` has (.ts or .js). */
export function siblingModule(base: string, name: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}
