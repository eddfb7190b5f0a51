/**
 * An onnxruntime session owned by one worker thread (default) so that inference does not block the
 * event loop; or, with `inWorker: false`, by the calling thread.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../core/threads.js';
import { createOrtSession, runOrtSession, type OrtHandle, type OrtOptions, type SessionInfo, type TensorData, type WorkerRequest, type WorkerResponse } from './ort.js';

export type { ExecutionProvider, OrtOptions, SessionInfo, TensorData, TensorInfo } from './ort.js';

export interface OnnxSessionOptions extends OrtOptions {
  /** Run the session in a worker thread (default true). */
  inWorker?: boolean;
}

type Pending = { resolve: (msg: WorkerResponse) => void; reject: (err: Error) => void };

function spawnWorker(): Worker {
  return startModuleWorker(siblingModule(import.meta.url, 'session-worker'));
}

export class OnnxSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private failure: Error | undefined;

  private constructor(
    readonly modelPath: string,
    readonly info: SessionInfo,
    private readonly worker: Worker | undefined,
    private readonly local: OrtHandle | undefined,
  ) {}

  static async open(modelPath: string, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
    const { inWorker = true, ...ortOptions } = options;
    if (!inWorker) {
      const handle = await createOrtSession(modelPath, ortOptions);
      return new OnnxSession(modelPath, handle.info, undefined, handle);
    }
    const worker = spawnWorker();
    const loaded = await new Promise<SessionInfo>((resolve, reject) => {
      const onError = (err: Error): void => reject(new Error(`OnnxSession: worker failed while loading ${modelPath} (${err.message})`));
      worker.once('error', onError);
      worker.once('message', (msg: WorkerResponse) => {
        worker.off('error', onError);
        if (msg.type === 'loaded') resolve(msg.info);
        else if (msg.type === 'error') reject(new Error(msg.message));
        else reject(new Error(`OnnxSession: unexpected worker message ${msg.type}`));
      });
      worker.postMessage({ type: 'load', id: 0, modelPath, options: ortOptions } satisfies WorkerRequest);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    const s = new OnnxSession(modelPath, loaded, worker, undefined);
    worker.on('message', (msg: WorkerResponse) => s.onMessage(msg));
    worker.on('error', (err) => s.failAll(new Error(`OnnxSession: worker crashed (${err.message})`)));
    worker.on('exit', (code) => {
      if (!s.closed) s.failAll(new Error(`OnnxSession: worker exited with code ${code}`));
    });
    worker.unref();
    return s;
  }

  get provider(): SessionInfo['provider'] {
    return this.info.provider;
  }

  private onMessage(msg: WorkerResponse): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (msg.type === 'error') p.reject(new Error(msg.message));
    else p.resolve(msg);
  }

  private failAll(err: Error): void {
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private request(msg: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerResponse> {
    const worker = this.worker!;
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      worker.ref(); // keep the process alive while a request is in flight
      worker.postMessage(msg, transfer);
    });
  }

  /** Runs the model. Input buffers are transferred to the worker (do not reuse them). */
  async run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    if (this.closed) throw new Error('OnnxSession: run after close');
    if (this.failure) throw this.failure;
    if (this.local) return runOrtSession(this.local, feeds);
    const id = this.nextId++;
    const msg = await this.request(
      { type: 'run', id, feeds },
      Object.values(feeds).map((f) => f.data.buffer as ArrayBuffer),
    );
    if (msg.type !== 'result') throw new Error(`OnnxSession: unexpected worker message ${msg.type}`);
    return msg.outputs;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.local) {
      this.closed = true;
      await this.local.session.release();
      return;
    }
    if (!this.failure) {
      try {
        await this.request({ type: 'close', id: this.nextId++ });
      } catch {
        // The worker is going away regardless.
      }
    }
    this.closed = true;
    await this.worker!.terminate();
  }
}
