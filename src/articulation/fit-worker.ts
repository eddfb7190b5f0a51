/** The joint fit's helper thread (see pool.ts): runs fit jobs posted on its port until the process ends. */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { runFitJob } from './fit.js';

const { ctl, port } = workerData as { ctl: Int32Array; port: MessagePort };
Atomics.store(ctl, 0, 1);
parentPort!.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(ctl, 1, seen);
  seen = Atomics.load(ctl, 1);
  const m = receiveMessageOnPort(port);
  let answer: { ok?: unknown; error?: string };
  try {
    answer = { ok: runFitJob(m?.message) };
  } catch (e) {
    answer = { error: String(e) };
  }
  port.postMessage(answer);
  Atomics.store(ctl, 2, seen);
  Atomics.notify(ctl, 2);
}
