/**
 * The worker thread that owns the onnxruntime InferenceSession (its `run()` blocks the thread, so
 * it must not run on the main event loop). Protocol: see `session.ts`.
 */
import { parentPort } from 'node:worker_threads';
import { createOrtSession, runOrtSession, type OrtHandle, type WorkerRequest, type WorkerResponse } from './ort.js';

const port = parentPort;
if (!port) throw new Error('OnnxSession worker: must run inside a worker thread');

let handle: OrtHandle | undefined;

function reply(msg: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

port.on('message', (msg: WorkerRequest) => {
  void (async () => {
    try {
      if (msg.type === 'load') {
        handle = await createOrtSession(msg.modelPath, msg.options);
        reply({ type: 'loaded', id: msg.id, info: handle.info });
      } else if (msg.type === 'run') {
        if (!handle) throw new Error('OnnxSession worker: run before load');
        const outputs = await runOrtSession(handle, msg.feeds);
        reply({ type: 'result', id: msg.id, outputs }, Object.values(outputs).map((o) => o.data.buffer as ArrayBuffer));
      } else if (msg.type === 'close') {
        await handle?.session.release();
        handle = undefined;
        reply({ type: 'closed', id: msg.id });
      }
    } catch (err) {
      reply({ type: 'error', id: msg.id, message: (err as Error).message });
    }
  })();
});
