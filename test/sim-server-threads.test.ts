/** The thread executor used by `partrm sim worker`: results and progress cross the thread, the
 * worker's own event loop stays free while a task computes synchronously, abort terminates. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadExecutor } from '../src/sim/executor-thread.js';
import type { SimTaskSpec } from '../src/sim/task.js';

const module = new URL('./fixtures/sim-busy-task.ts', import.meta.url);
const spec: SimTaskSpec = { kind: 'evaluate', urdf: 'o.urdf', joint: 'j', task: 'door', trials: 5 };

test('results and progress come back from the thread while the main loop keeps ticking', async () => {
  const exec = threadExecutor({ module });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const progress: string[] = [];
  try {
    const r = await exec('/nonexistent', spec, (f, m) => progress.push(`${f} ${m}`), new AbortController().signal);
    assert.equal(r.trials, 5);
    assert.notEqual(r.finalStates[0], 0, 'ran in a worker thread, not the main thread');
    assert.deepEqual(progress, [1, 2, 3, 4, 5].map((k) => `${k / 5} trial ${k}/5`));
    assert.ok(ticks >= 10, `main loop ticked ${ticks} times during 500 ms of synchronous work`);
    // The thread is reused for the next task; errors come back as rejections.
    const again = await exec('/nonexistent', { ...spec, trials: 1 }, () => {}, new AbortController().signal);
    assert.equal(again.finalStates[0], r.finalStates[0]);
    await assert.rejects(exec('/nonexistent', { ...spec, joint: 'explode' }, () => {}, new AbortController().signal), /BusyTask: joint "explode" blew up/);
  } finally {
    clearInterval(timer);
    await exec.close();
  }
});

test('abort terminates a busy thread at once; two tasks run on two threads', async () => {
  const exec = threadExecutor({ module });
  try {
    const ac = new AbortController();
    const t0 = Date.now();
    const pending = exec('/nonexistent', { ...spec, trials: 100 }, () => ac.abort(), ac.signal);
    await assert.rejects(pending, /SimThread: aborted/);
    assert.ok(Date.now() - t0 < 5000, 'not after all 100 trials');
    const [a, b] = await Promise.all([1, 2].map(() => exec('/nonexistent', { ...spec, trials: 2 }, () => {}, new AbortController().signal)));
    assert.notEqual(a!.finalStates[0], b!.finalStates[0], 'different threads');
  } finally {
    await exec.close();
  }
});
