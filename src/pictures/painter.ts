/**
 * PicturePainter: paints a run's pictures (pictures.ts) on a thread of its own, so that they are
 * ready when the run reaches its write step instead of costing it their time there: the pipeline
 * hands the preview over as soon as the model has answered, and the painter renders its six
 * views on the second core while the joint step and the extraction run on this one (on the
 * bundled sample, 2 cores: the write step 70 -> 7 ms).
 *
 * Pictures come out the same either way: where the thread cannot start or dies, the painter
 * paints on the calling thread instead.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../core/threads.js';
import { type PictureJob, paintPng } from './pictures.js';

/** Painter thread protocol: a job with its id in, its PNG (or the error's message) out. */
export type PainterRequest = { id: number; job: PictureJob };
export type PainterResponse = { id: number; png: Uint8Array } | { id: number; error: string };

interface Pending {
  job: PictureJob;
  resolve: (png: Uint8Array) => void;
  reject: (err: Error) => void;
}

export class PicturePainter {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(private worker: Worker | undefined) {
    if (!worker) return;
    worker.on('message', (msg: PainterResponse) => this.onMessage(msg));
    // A thread that fails (it could not load, or crashed) leaves its jobs to this one.
    worker.once('error', () => this.fallBack());
    worker.once('exit', () => this.fallBack());
    worker.unref();
  }

  /**
   * A painter with its own thread when one starts (`thread: false`, or a failed start: one that
   * paints on the calling thread). Jobs can be given at once; the thread takes them once it runs.
   */
  static start(options: { thread?: boolean } = {}): PicturePainter {
    if (options.thread === false) return new PicturePainter(undefined);
    try {
      return new PicturePainter(startModuleWorker(siblingModule(import.meta.url, 'painter-worker')));
    } catch {
      return new PicturePainter(undefined);
    }
  }

  /** Whether pictures are painted on a thread of their own. */
  get threaded(): boolean {
    return this.worker !== undefined;
  }

  /** The job's picture as PNG bytes. The job's arrays are copied to the thread, not moved. */
  paint(job: PictureJob): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('PicturePainter: paint after dispose'));
    const worker = this.worker;
    if (!worker) return paintHere(job);
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { job, resolve, reject });
      worker.ref(); // keep the process alive while a picture is on its way
      worker.postMessage({ id, job } satisfies PainterRequest);
    });
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new Error('PicturePainter: disposed before the picture was painted'));
    this.pending.clear();
    await worker?.terminate();
  }

  private onMessage(msg: PainterResponse): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('error' in msg) p.reject(new Error(`PicturePainter: ${msg.error}`));
    else p.resolve(msg.png);
  }

  private fallBack(): void {
    if (!this.worker) return;
    this.worker = undefined;
    for (const p of this.pending.values()) paintHere(p.job).then(p.resolve, p.reject);
    this.pending.clear();
  }
}

function paintHere(job: PictureJob): Promise<Uint8Array> {
  try {
    return Promise.resolve(paintPng(job));
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
