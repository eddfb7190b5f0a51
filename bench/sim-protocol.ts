/**
 * Simulation protocol figures: task round trips per second (in-memory and real WebSockets on
 * 127.0.0.1, 2 workers, a 3-file bundle, a no-op executor), hostile frames handled per second by
 * the server, and the time from a worker's death to its task finishing on another worker.
 *
 *     npx tsx bench/sim-protocol.ts [--tasks 400] [--hostile 5000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { makeMessage, serialiseMessage } from '../src/sim/protocol.js';
import { SimServer, silentLogger } from '../src/sim/server.js';
import type { SimTaskSpec } from '../src/sim/task.js';
import { memoryPair, type SimConnection } from '../src/sim/transport.js';
import { type SimExecutor, SimWorker } from '../src/sim/worker.js';
import { writeObjectUrdf } from '../test/fixtures/sim-object.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const TASKS = arg('tasks', 400);
const HOSTILE = arg('hostile', 5000);
const TOKEN = 'bench';

const noop: SimExecutor = async (_d, spec, onProgress) => {
  onProgress(1, 'done');
  return { kind: spec.kind, successRate: 1, trials: 1, finalStates: [0] };
};

async function roundTrips(server: SimServer, dial: ((url: string) => Promise<SimConnection>) | undefined, dir: string, spec: SimTaskSpec): Promise<number> {
  const url = server.url;
  const workers = [1, 2].map((i) => new SimWorker({ url, token: TOKEN, name: `w${i}`, executor: noop, log: silentLogger, ...(dial ? { dial } : {}) }));
  const runs = workers.map((w) => w.run());
  await server.waitForWorkers(2);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: TASKS }, () => server.submit(dir, spec)));
  const s = (performance.now() - t0) / 1000;
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(runs);
  return TASKS / s;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'partrm-bench-sim-'));
  try {
    const obj = writeObjectUrdf(join(root, 'obj'), 'storage_furniture', 5);
    const spec: SimTaskSpec = { kind: 'evaluate', urdf: obj.urdf, joint: obj.joints[0]!.name, task: 'door', trials: 1 };

    const mem = new SimServer({ token: TOKEN, log: silentLogger });
    const memRate = await roundTrips(mem, async () => {
      const [w, s] = memoryPair();
      mem.attach(s);
      return w;
    }, obj.dir, spec);
    await mem.close();

    const server = new SimServer({ token: TOKEN, log: silentLogger });
    await server.listen();
    const wsRate = await roundTrips(server, undefined, obj.dir, spec);

    // Hostile frames from one authenticated peer, answered one by one.
    const ws = new WebSocket(server.url);
    await new Promise((r) => ws.once('open', r));
    let errors = 0;
    let welcomed!: () => void;
    const welcome = new Promise<void>((r) => (welcomed = r));
    ws.on('message', (d: Buffer) => {
      const t = d.toString();
      if (t.includes('"welcome"')) welcomed();
      else if (t.includes('"error"')) errors++;
    });
    ws.send(serialiseMessage(makeMessage({ type: 'hello', token: TOKEN, worker: { name: 'hostile' }, capabilities: { backends: ['mujoco'], maxParallel: 1 } })));
    await welcome;
    const frames = ['nope', '{"protocol":1,"type":"task","id":"x","taskId":"t","bundle":{"files":[{"path":"../etc/passwd","data":""}]},"spec":{}}', '{"protocol":1,"type":"result","id":"x","taskId":"none","result":{"kind":"evaluate","successRate":1,"trials":1,"finalStates":[]}}'];
    const t0 = performance.now();
    for (let i = 0; i < HOSTILE; i++) ws.send(frames[i % frames.length]!);
    while (errors < HOSTILE) await new Promise((r) => setTimeout(r, 1));
    const hostileRate = HOSTILE / ((performance.now() - t0) / 1000);
    ws.close();

    // Re-queue latency: a worker dies mid-task, another is connected and idle.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const doomed = new SimWorker({ url: server.url, token: TOKEN, name: 'doomed', log: silentLogger, executor: async (d, s, p, sig) => {
      p(0.5, 'started');
      await gate;
      return noop(d, s, p, sig);
    } });
    const doomedRun = doomed.run();
    await server.waitForWorkers(1);
    let died = 0;
    const pending = server.submit(obj.dir, spec, { onProgress: (_f, m) => {
      if (m === 'started' && !died) {
        died = performance.now();
        void doomed.stop();
      }
    } });
    const rescuer = new SimWorker({ url: server.url, token: TOKEN, name: 'rescuer', executor: noop, log: silentLogger });
    const rescuerRun = rescuer.run();
    await pending;
    const requeueMs = performance.now() - died;
    release();
    await Promise.all([rescuer.stop(), doomedRun]);
    await rescuerRun;
    await server.close();

    console.log(`sim protocol (${TASKS} tasks, 2 workers, ${spec.urdf} + meshes):`);
    console.log(`  round trips, in-memory transport: ${memRate.toFixed(0)} tasks/s`);
    console.log(`  round trips, WebSocket 127.0.0.1: ${wsRate.toFixed(0)} tasks/s`);
    console.log(`  hostile frames answered with an error: ${hostileRate.toFixed(0)} frames/s (${HOSTILE} frames)`);
    console.log(`  worker death -> task finished on another worker: ${requeueMs.toFixed(1)} ms`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
