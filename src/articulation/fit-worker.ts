/** The joint fit's helper thread (see pool.ts): runs fit jobs posted on its port until the process ends. */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { runFitJob } from './fit.js';
import { receiveSoon } from './pool.js';

const { ctl, port } = workerData as { ctl: Int32Array; port: MessagePort };
Atomics.store(ctl, 0, 1);
parentPort!.postMessage('ready');
// Jobs are answered one by one in the order posted ([1] counts the posted ones, [2] the answered).
let done = 0;
for (;;) {
  const posted = Atomics.load(ctl, 1);
  if (posted === done) {
    Atomics.wait(ctl, 1, posted);
    continue;
  }
  const m = receiveSoon(port);
  let answer: { ok?: unknown; error?: string };
  try {
    answer = { ok: runFitJob(m?.message as Parameters<typeof runFitJob>[0]) };
  } catch (e) {
    answer = { error: String(e) };
  }
  port.postMessage(answer);
  done++;
  Atomics.store(ctl, 2, done);
  Atomics.notify(ctl, 2);
}
