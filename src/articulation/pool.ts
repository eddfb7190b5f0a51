/**
 * One persistent helper thread for the joint fit (the fit's two clouds are prepared at the same
 * time, its rotation candidates refined two at a time). The fit stays synchronous: a job goes
 * out on a MessagePort, the helper (blocked in Atomics.wait, not in its event loop) takes it
 * with receiveMessageOnPort, and the caller, after doing its own share, waits on a shared flag
 * and takes the answer the same way. The helper runs the same deterministic code, so a fit's
 * result does not depend on whether the helper took part. Nothing starts it by itself (a
 * one-shot command would pay its start for nothing): long-running callers (benches, servers)
 * call startFitHelper() once and await it (the thread's start needs the caller's event loop).
 * Until then, if it failed, or while the machine has no idle core, the caller does every job
 * itself.
 */
import { cpus } from 'node:os';
import { MessageChannel, type MessagePort, type Worker, receiveMessageOnPort } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../core/threads.js';

/** Control words: [0] helper ready, [1] jobs posted, [2] jobs answered. */
const READY = 0, POSTED = 1, ANSWERED = 2;

interface Helper {
  worker: Worker;
  ctl: Int32Array;
  port: MessagePort;
  /** Jobs posted so far. */
  seq: number;
  /** Answers taken so far (seq - taken jobs are out: queued or running, answered in order). */
  taken: number;
  ready: boolean;
}

/**
 * The next message on `port`, either side: a message is posted before the shared counter moves,
 * but can reach the other thread's port a moment after the counter does, so a few polls wait for it.
 */
export function receiveSoon(port: MessagePort): { message: unknown } | undefined {
  let r = receiveMessageOnPort(port);
  for (let spin = 0; !r && spin < 1000; spin++) r = receiveMessageOnPort(port);
  return r;
}

/** At most this many jobs out at once (the helper runs them in order). */
const MAX_OUT = 2;

let helper: Helper | null = null;
let starting: Promise<boolean> | null = null;
let failed = false;
let answered = 0;

/** How many jobs the helper has answered in this process (for tests and benches). */
export function helperJobs(): number {
  return answered;
}

/**
 * Starts the helper thread (once); resolves true when it takes jobs, false when there is none
 * (no worker threads, or it failed to start). Fits before then run on the calling thread alone.
 * PARTRM_FIT_THREADS=1: never start it; =2: use it whatever the load (see spareCore).
 */
export function startFitHelper(): Promise<boolean> {
  if (starting) return starting;
  if (process.env.PARTRM_FIT_THREADS === '1') return (starting = Promise.resolve(false));
  starting = new Promise<boolean>((resolve) => {
    try {
      const ctl = new Int32Array(new SharedArrayBuffer(16));
      const { port1, port2 } = new MessageChannel();
      // (Throws, hence no helper, when running from sources without tsx.)
      const worker = startModuleWorker(siblingModule(import.meta.url, 'fit-worker'), { workerData: { ctl, port: port2 }, transferList: [port2], stdout: false, stderr: false });
      const h: Helper = { worker, ctl, port: port1, seq: 0, taken: 0, ready: false };
      worker.unref();
      port1.unref();
      worker.once('message', () => {
        h.ready = Atomics.load(ctl, READY) === 1;
        if (h.ready) helper = h;
        resolve(h.ready);
      });
      const dead = () => {
        failed = true;
        if (helper === h) helper = null;
        resolve(false);
      };
      worker.once('error', dead);
      worker.once('exit', dead);
    } catch {
      failed = true;
      resolve(false);
    }
  });
  return starting;
}

let lastCheck = 0, lastBusy = 0, lastTotal = 0, lastOwn = 0, spare = false;

/**
 * Whether the machine has a core to spare: over the last quarter second or more (os.cpus() times,
 * refreshed at most every 250 ms), other processes left at least half a core beside the calling
 * thread's. On a machine kept busy by other work the helper would only take turns with the calling
 * thread (measured under a training job: no faster), so jobs stay on the caller then. This
 * process's own CPU time (its model worker's inference, GC threads) does not count against it:
 * counting it kept the helper out of half the pipeline runs on 2 cores, where it saves ~10 ms each.
 */
function spareCore(): boolean {
  if (process.env.PARTRM_FIT_THREADS === '2') return true;
  const now = performance.now();
  if (now - lastCheck < 250) return spare;
  let busy = 0, total = 0;
  const list = cpus();
  for (const c of list) {
    const t = c.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  const usage = process.cpuUsage();
  const own = (usage.user + usage.system) / 1000;
  if (lastCheck > 0 && total > lastTotal) {
    // Cores busy with other processes' work, averaged over the window.
    const others = (Math.max(0, busy - lastBusy - (own - lastOwn)) / (total - lastTotal)) * list.length;
    spare = list.length - 1 - others >= 0.5;
  }
  lastCheck = now;
  lastBusy = busy;
  lastTotal = total;
  lastOwn = own;
  return spare;
}

/** Whether the helper can take a job now (it may still be running earlier ones: they go first). */
export function helperFree(): boolean {
  return helper !== null && helper.ready && helper.seq - helper.taken < MAX_OUT && !failed && spareCore();
}

/** Takes and drops the answers to jobs whose caller threw (or did not need them) before collecting. */
export function drain(): void {
  while (helper && helper.seq > helper.taken) collect();
}

/** Hands a job to the helper; false when it cannot take one (then do the job yourself). */
export function submit(job: unknown): boolean {
  const h = helper;
  if (!h || !helperFree()) return false;
  h.port.postMessage(job);
  h.seq++;
  Atomics.store(h.ctl, POSTED, h.seq);
  Atomics.notify(h.ctl, POSTED);
  return true;
}

/**
 * The answer to the oldest submitted job not collected yet (waits for it); undefined when the
 * helper failed on it (then do the job yourself).
 */
export function collect<T>(): T | undefined {
  const h = helper;
  if (!h || h.seq === h.taken) return undefined;
  // Bounded waits: a helper that died mid-job must not hang the fit.
  const want = h.taken + 1;
  for (let waited = 0, got = Atomics.load(h.ctl, ANSWERED); got < want; waited++, got = Atomics.load(h.ctl, ANSWERED)) {
    if (waited >= 100) {
      failed = true;
      helper = null;
      void h.worker.terminate();
      return undefined;
    }
    Atomics.wait(h.ctl, ANSWERED, got, 100);
  }
  h.taken = want;
  const m = receiveSoon(h.port)?.message as { ok?: T; error?: string } | undefined;
  if (!m || m.error !== undefined) return undefined;
  answered++;
  return m.ok;
}
