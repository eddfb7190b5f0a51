/**
 * SimServer over real WebSockets on 127.0.0.1: round trips with in-process workers, hostile raw
 * clients, and two `partrm sim worker` processes running the real MuJoCo executor, one of them
 * killed mid-task.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { buildProgram } from '../src/cli/main.js';
import { derivePolicyFromUrdf } from '../src/policy/derive.js';
import { createSimBackend } from '../src/sim/backend.js';
import { type SimMessage, makeMessage, parseMessage, serialiseMessage } from '../src/sim/protocol.js';
import { SimServer, silentLogger } from '../src/sim/server.js';
import type { SimTaskSpec } from '../src/sim/task.js';
import { type SimExecutor, SimWorker } from '../src/sim/worker.js';
import { type WrittenObject, writeObjectUrdf } from './fixtures/sim-object.js';

const TOKEN = 'loopback-token';
let root = '';
let door: WrittenObject;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'partrm-sim-loopback-'));
  door = writeObjectUrdf(join(root, 'door'), 'storage_furniture', 5);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Final state = the joint's upper limit read from the delivered URDF. */
const upperLimitExecutor: SimExecutor = async (dir, spec, onProgress) => {
  const urdf = readFileSync(join(dir, spec.urdf), 'utf8');
  const m = new RegExp(`<joint name="${spec.joint}"[\\s\\S]*?upper="([^"]+)"`).exec(urdf);
  if (!m) throw new Error(`joint ${spec.joint} missing`);
  onProgress(1, 'done');
  return { kind: spec.kind, successRate: 1, trials: spec.trials ?? 1, finalStates: [Number(m[1])] };
};

function rawClient(url: string) {
  const ws = new WebSocket(url);
  const replies: SimMessage[] = [];
  let closeCode = 0;
  ws.on('message', (d: Buffer) => {
    const r = parseMessage(d.toString('utf8'));
    if (r.ok) replies.push(r.message);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve((closeCode = code))));
  ws.on('error', () => {});
  const open = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, replies, closed, open, get closeCode() { return closeCode; } };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('round trips over real WebSockets with two in-process workers', async (t) => {
  const server = new SimServer({ token: TOKEN, log: silentLogger });
  const url = await server.listen();
  assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/);
  const workers = ['a', 'b'].map((name) => new SimWorker({ url, token: TOKEN, name, executor: upperLimitExecutor, log: silentLogger }));
  const runs = workers.map((w) => w.run());
  await server.waitForWorkers(2);
  const joint = door.joints[0]!;
  const spec: SimTaskSpec = { kind: 'evaluate', urdf: door.urdf, joint: joint.name, task: 'door', trials: 1 };
  const n = 40;
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: n }, () => server.submit(door.dir, spec)));
  const ms = performance.now() - t0;
  for (const r of results) assert.ok(Math.abs(r.finalStates[0]! - joint.upper) < 1e-6);
  const done = workers.map((w) => w.stats().tasksDone);
  assert.equal(done[0]! + done[1]!, n);
  assert.ok(done[0]! > 0 && done[1]! > 0, `both workers served (${done.join('/')})`);
  t.diagnostic(`${n} task round trips (bundle of ${readFileSync(join(door.dir, door.urdf)).byteLength} B URDF + meshes) in ${ms.toFixed(0)} ms: ${(n / (ms / 1000)).toFixed(0)} tasks/s over 2 workers`);
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(runs);
  await server.close();
});

test('hostile clients over real sockets: wrong token, 1,000 malformed frames, an oversize frame; the good worker keeps working', async () => {
  const server = new SimServer({ token: TOKEN, log: silentLogger, limits: { maxFrameBytes: 256 * 1024, maxBundleBytes: 128 * 1024, maxFiles: 64 } });
  const url = await server.listen();
  const good = new SimWorker({ url, token: TOKEN, name: 'good', executor: upperLimitExecutor, log: silentLogger });
  const goodRun = good.run();
  await server.waitForWorkers(1);

  const wrong = rawClient(url);
  await wrong.open;
  wrong.ws.send(serialiseMessage(makeMessage({ type: 'hello', token: 'guess', worker: { name: 'intruder' }, capabilities: { backends: ['mujoco'], maxParallel: 1 } })));
  assert.equal(await wrong.closed, 4001);
  assert.equal((wrong.replies[0] as { code?: string } | undefined)?.code, 'unauthorized');

  const evil = rawClient(url);
  await evil.open;
  evil.ws.send(serialiseMessage(makeMessage({ type: 'hello', token: TOKEN, worker: { name: 'evil' }, capabilities: { backends: ['mujoco'], maxParallel: 1 } })));
  await until(() => evil.replies.some((m) => m.type === 'welcome'), 'welcome');
  const spec = { kind: 'evaluate', urdf: 'object.urdf', joint: 'j', task: 'door' };
  const frames = [
    'definitely not json',
    '{"protocol":1',
    JSON.stringify({ protocol: 1, type: 'task_failed', id: 'x', taskId: 'nope', error: 'e', retryable: true }),
    JSON.stringify({ protocol: 1, type: 'task', id: 'x', taskId: 't', bundle: { files: [{ path: '../../../etc/cron.d/x', data: 'eA==' }] }, spec }),
    JSON.stringify({ protocol: 1, type: 'task', id: 'x', taskId: 't', bundle: { files: [{ path: '/etc/passwd', data: 'eA==' }] }, spec }),
    JSON.stringify({ protocol: 1, type: 'task', id: 'x', taskId: 't', bundle: { files: [{ path: 'object.urdf', data: 'A'.repeat(200_000) }] }, spec }),
    JSON.stringify({ protocol: 1, type: 'progress', id: 'x', taskId: { $ne: null }, fraction: 1e309, message: [] }),
    JSON.stringify({ protocol: 0, type: 'hello', id: 'x' }),
    JSON.stringify({ protocol: 1, type: 'hello', id: 'x', token: 'again', worker: { name: 'e' }, capabilities: { backends: ['mujoco'], maxParallel: 1 } }),
    JSON.stringify({ __proto__: { polluted: true }, constructor: { prototype: { polluted: true } }, protocol: 1, type: 'pong', id: 'x' }),
  ];
  const pending = server.submit(door.dir, { kind: 'evaluate', urdf: door.urdf, joint: door.joints[0]!.name, task: 'door', trials: 1 });
  for (let i = 0; i < 1000; i++) evil.ws.send(frames[i % frames.length]!);
  evil.ws.send(Buffer.from([0xff, 0xfe, 0x00, 0x01]), { binary: true });
  const result = await pending;
  assert.equal(result.finalStates.length, 1);
  await until(() => evil.replies.filter((m) => m.type === 'error').length >= 1001, '1001 error replies');
  assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  // Still connected and served: a ping is answered.
  evil.ws.send(serialiseMessage(makeMessage({ type: 'ping', id: 'alive?', time: 0 })));
  await until(() => evil.replies.some((m) => m.type === 'pong'), 'pong after the storm');
  // A frame over maxFrameBytes closes that connection (1009) and nothing else.
  evil.ws.send(JSON.stringify({ protocol: 1, type: 'ping', id: 'big', time: 0, pad: 'x'.repeat(300 * 1024) }));
  assert.equal(await evil.closed, 1009);
  assert.deepEqual((await server.submit(door.dir, { kind: 'evaluate', urdf: door.urdf, joint: door.joints[0]!.name, task: 'door' })).successRate, 1);
  assert.equal(server.stats().workers, 1);
  await good.stop();
  await goodRun;
  await server.close();
});

test('createSimBackend(listen:HOST:PORT) queues tasks until a worker dials in', async () => {
  const logs: string[] = [];
  assert.throws(() => createSimBackend('listen:0'), /SimBackend: invalid --sim "listen:0"/);
  const port = await freePort();
  const sim = createSimBackend(`listen:${port}`, { token: TOKEN, log: (_l, m) => logs.push(m) });
  const url = await sim.ready();
  assert.equal(url, `ws://127.0.0.1:${port}`);
  assert.ok(logs.some((l) => l.includes(`partrm sim worker --connect ${url}`)));
  const pending = sim.run(door.dir, { kind: 'evaluate', urdf: door.urdf, joint: door.joints[0]!.name, task: 'door', trials: 1 });
  const w = new SimWorker({ url, token: TOKEN, name: 'late', executor: upperLimitExecutor, log: silentLogger });
  const run = w.run();
  assert.ok(Math.abs((await pending).finalStates[0]! - door.joints[0]!.upper) < 1e-6);
  await w.stop();
  await run;
  await sim.close();
  assert.equal(createSimBackend('local').kind, 'local');

  // workerBackend 'isaacgym': a MuJoCo worker is passed over; the Isaac one gets the Panda too.
  const isaacSim = createSimBackend({ kind: 'listen', port: 0 }, { token: TOKEN, log: () => {}, workerBackend: 'isaacgym' });
  const isaacUrl = await isaacSim.ready();
  const seen: string[] = [];
  const mj = new SimWorker({ url: isaacUrl, token: TOKEN, name: 'mj', executor: upperLimitExecutor, log: silentLogger });
  const ig = new SimWorker({
    url: isaacUrl,
    token: TOKEN,
    name: 'ig',
    backends: ['isaacgym'],
    log: silentLogger,
    executor: async (dir, s, p, sig) => {
      seen.push(readFileSync(join(dir, 'franka', 'panda.urdf'), 'utf8').slice(0, 200));
      return upperLimitExecutor(dir, s, p, sig);
    },
  });
  const runs = [mj.run()];
  const r2 = isaacSim.run(door.dir, { kind: 'evaluate', urdf: door.urdf, joint: door.joints[0]!.name, task: 'door', trials: 1 });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(mj.stats().tasksDone, 0);
  runs.push(ig.run());
  await r2;
  assert.equal(mj.stats().tasksDone, 0);
  assert.equal(ig.stats().tasksDone, 1);
  assert.match(seen[0]!, /Panda/);
  await Promise.all([mj.stop(), ig.stop()]);
  await Promise.all(runs);
  await isaacSim.close();
});

test('`partrm sim worker` is registered in the CLI', () => {
  const sim = buildProgram().commands.find((c) => c.name() === 'sim');
  assert.ok(sim?.commands.some((c) => c.name() === 'worker'));
});

function spawnWorker(url: string, name: string, logs: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/sim-cli.ts', 'worker', '--connect', url, '--name', name], {
    env: { ...process.env, PARTRM_SIM_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => logs.push(`[${name}] ${d}`));
  child.stderr!.on('data', (d: Buffer) => logs.push(`[${name}] ${d}`));
  return child;
}

test('two MuJoCo worker processes: the one running the task is killed mid-task, the task finishes on the other', { timeout: 180_000 }, async (t) => {
  const serverLog: string[] = [];
  const server = new SimServer({ token: TOKEN, log: (_l, m) => serverLog.push(m) });
  const url = await server.listen();
  const childLogs: string[] = [];
  const children = new Map<string, ChildProcess>([
    ['mj-1', spawnWorker(url, 'mj-1', childLogs)],
    ['mj-2', spawnWorker(url, 'mj-2', childLogs)],
  ]);
  try {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      server.waitForWorkers(2),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`workers did not connect:\n${childLogs.join('')}`)), 90_000);
      }),
    ]).finally(() => clearTimeout(timer));
    const joint = door.joints[0]!;
    const policy = derivePolicyFromUrdf(join(door.dir, door.urdf), joint.name, 'door', { root: door.dir });
    const spec: SimTaskSpec = { kind: 'evaluate', urdf: door.urdf, joint: joint.name, task: 'door', policy, trials: 3, seed: 7 };
    let killed = '';
    const progress: string[] = [];
    const t0 = Date.now();
    const result = await server.submit(door.dir, spec, {
      onProgress: (f, m) => {
        progress.push(`${f.toFixed(2)} ${m}`);
        if (killed || !m.startsWith('trial')) return;
        // The first trial finished on some worker: kill that worker's process outright.
        const line = serverLog.filter((l) => l.includes('-> worker')).pop() ?? '';
        killed = /-> worker "([^"]+)"/.exec(line)?.[1] ?? '';
        children.get(killed)?.kill('SIGKILL');
      },
    });
    const ms = Date.now() - t0;
    assert.ok(killed, `no worker was killed; progress: ${progress.join('; ')}`);
    assert.equal(result.kind, 'evaluate');
    assert.equal(result.trials, 3);
    assert.equal(result.finalStates.length, 3);
    for (const q of result.finalStates) assert.ok(Number.isFinite(q) && q >= joint.lower - 0.05 && q <= joint.upper + 0.05, `final state ${q}`);
    const stats = server.stats();
    assert.equal(stats.requeued, 1);
    assert.equal(stats.completed, 1);
    assert.equal(stats.workers, 1);
    const survivor = [...children.keys()].find((k) => k !== killed)!;
    assert.ok(serverLog.some((l) => l.includes(`-> worker "${survivor}" (attempt 2)`)), serverLog.join('\n'));
    t.diagnostic(`worker ${killed} killed after its first trial; task finished on ${survivor} (attempt 2) in ${ms} ms total; success ${result.successRate}, final states ${result.finalStates.map((q) => q.toFixed(3)).join(', ')}`);
  } finally {
    for (const c of children.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all([...children.values()].map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r)))));
    await server.close();
  }
});
