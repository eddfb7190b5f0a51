/**
 * The Isaac Gym worker's protocol side (isaac/partrm_isaac) against the real TypeScript SimServer
 * over loopback. Isaac Gym itself is not installable here: the workers run a deterministic test
 * backend (test/fixtures/isaac_backend.py) that answers from the delivered bundle.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { collectBundle, pandaBundleEntry } from '../src/sim/bundle.js';
import { DEFAULT_LIMITS, parseMessage, sha256Hex } from '../src/sim/protocol.js';
import { SimServer } from '../src/sim/server.js';
import type { SimTaskSpec } from '../src/sim/task.js';
import { type WrittenObject, writeObjectUrdf } from './fixtures/sim-object.js';

const PYTHON = '/usr/bin/python3';
const TOKEN = 'isaac-loopback-token';
const PYTHONPATH = [resolve('isaac'), resolve('test/fixtures')].join(':');
const hasWebsockets = spawnSync(PYTHON, ['-c', 'import websockets'], { encoding: 'utf8' }).status === 0;
const skip = hasWebsockets ? false : `${PYTHON} lacks python3-websockets (apt-get install python3-websockets)`;

let root = '';
let drawer: WrittenObject;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'partrm-isaac-'));
  drawer = writeObjectUrdf(join(root, 'drawer'), 'storage_furniture', 2);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function spawnIsaacWorker(url: string, name: string, logs: string[], opts: { token?: string; delay?: number; extra?: string[] } = {}): ChildProcess {
  const child = spawn(
    PYTHON,
    ['-m', 'partrm_isaac', '--connect', url, '--name', name, '--backend', 'isaac_backend:UrdfLimitBackend', ...(opts.extra ?? [])],
    {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH, PARTRM_SIM_TOKEN: opts.token ?? TOKEN, PARTRM_TEST_TRIAL_DELAY: String(opts.delay ?? 0.02), PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (d: Buffer) => logs.push(`[${name}] ${d}`));
  child.stderr!.on('data', (d: Buffer) => logs.push(`[${name}] ${d}`));
  return child;
}

function exited(c: ChildProcess): Promise<number | null> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode);
  return new Promise((r) => c.once('exit', (code) => r(code)));
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what()}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

test('python protocol unit tests pass', { skip }, () => {
  const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', 'isaac/tests', '-t', 'isaac'], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH }, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /OK/);
});

test('the Python parser agrees with the TypeScript parser on valid and hostile frames', { skip }, () => {
  const spec = { kind: 'evaluate', urdf: 'o.urdf', joint: 'j', task: 'door', trials: 2 };
  const files = [{ path: 'o.urdf', data: Buffer.from('<robot/>').toString('base64'), sha256: sha256Hex(Buffer.from('<robot/>')) }];
  const env = { protocol: 1, id: 'x' };
  const frames: string[] = [
    JSON.stringify({ ...env, type: 'task', taskId: 't', bundle: { files }, spec }),
    JSON.stringify({ ...env, type: 'task', taskId: 't', bundle: { files: [...files, { path: '../x', data: '' }] }, spec }),
    JSON.stringify({ ...env, type: 'task', taskId: 't', bundle: { files: [...files, { path: '/etc/shadow', data: '' }] }, spec }),
    JSON.stringify({ ...env, type: 'task', taskId: 't', bundle: { files }, spec: { ...spec, urdf: 'x.urdf' } }),
    JSON.stringify({ ...env, type: 'task', taskId: 't', bundle: { files }, spec: { ...spec, kind: 'explode' } }),
    JSON.stringify({ ...env, type: 'result', taskId: 't', result: { kind: 'train', successRate: 0.5, trials: 2, finalStates: [0.1, 0.2], policy: { version: 1 } } }),
    JSON.stringify({ ...env, type: 'result', taskId: 't', result: { kind: 'train', successRate: 1.5, trials: 2, finalStates: [] } }),
    JSON.stringify({ ...env, type: 'progress', taskId: 't', fraction: 0.25, message: 'ok' }),
    JSON.stringify({ ...env, type: 'progress', taskId: 't', fraction: -0.1, message: 'ok' }),
    JSON.stringify({ ...env, type: 'hello', token: 't', worker: { name: 'n' }, capabilities: { backends: ['isaacgym', 'mujoco'], maxParallel: 4 } }),
    JSON.stringify({ ...env, type: 'hello', token: 't', worker: { name: '' }, capabilities: { backends: ['isaacgym'], maxParallel: 1 } }),
    JSON.stringify({ ...env, type: 'cancel', taskId: 't', reason: 'r' }),
    JSON.stringify({ ...env, type: 'pong', replyTo: 'p', time: 3 }),
    JSON.stringify({ protocol: 2, type: 'pong', id: 'x', replyTo: 'p', time: 3 }),
    JSON.stringify({ ...env, type: 'what' }),
    JSON.stringify({ protocol: 1, type: 'ping', time: 1 }),
    '{"protocol":1,"type":"ping","id":"x","time":1e999}',
    'garbage',
    '"just a string"',
  ];
  const ts = frames.map((f) => {
    const r = parseMessage(f, DEFAULT_LIMITS);
    return r.ok ? 'ok' : r.error.code;
  });
  const py = spawnSync(
    PYTHON,
    ['-c', 'import json,sys\nfrom partrm_isaac import protocol as P\nout=[]\nfor f in json.load(sys.stdin):\n  m,e=P.parse_message(f)\n  out.append("ok" if e is None else e.code)\nprint(json.dumps(out))'],
    { input: JSON.stringify(frames), env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH }, encoding: 'utf8' },
  );
  assert.equal(py.status, 0, py.stderr);
  assert.deepEqual(JSON.parse(py.stdout), ts);
  assert.ok(ts.filter((c) => c === 'ok').length >= 5 && ts.includes('bad_path'));
});

test('Isaac workers over loopback: wrong token refused; bundle delivered intact; progress and results; a killed worker’s task finishes on another', { skip, timeout: 180_000 }, async (t) => {
  const serverLog: string[] = [];
  const server = new SimServer({ token: TOKEN, log: (_l, m) => serverLog.push(m) });
  const url = await server.listen();
  const logs: string[] = [];

  // 1. Wrong token: the worker is refused and exits non-zero without retrying.
  const intruder = spawnIsaacWorker(url, 'intruder', logs, { token: 'not-the-token' });
  const code = await withTimeout(exited(intruder), 60_000, () => logs.join(''));
  assert.equal(code, 1);
  assert.match(logs.join(''), /IsaacWorker: server refused this worker: unauthorized/);
  assert.equal(server.stats().rejectedConnections, 1);
  assert.equal(server.stats().workers, 0);

  // 2. Two good workers; trials slow enough to kill the first one mid-task.
  const children = new Map<string, ChildProcess>([
    ['isaac-1', spawnIsaacWorker(url, 'isaac-1', logs, { delay: 0.4 })],
    ['isaac-2', spawnIsaacWorker(url, 'isaac-2', logs, { delay: 0.4 })],
  ]);
  try {
    await withTimeout(server.waitForWorkers(2), 60_000, () => logs.join(''));
    const joint = drawer.joints[0]!;
    const spec: SimTaskSpec = { kind: 'evaluate', urdf: drawer.urdf, joint: joint.name, task: 'door', trials: 4, seed: 1 };
    const franka = await pandaBundleEntry();
    const expected = Object.fromEntries([...(await collectBundle(drawer.dir, drawer.urdf)), franka].map((e) => [e.path, sha256Hex(e.data)]));
    const progress: string[] = [];
    let killed = '';
    const t0 = Date.now();
    const result = await withTimeout(
      server.submit(drawer.dir, spec, {
        backend: 'isaacgym',
        extra: [franka],
        onProgress: (f, m) => {
          progress.push(`${f.toFixed(2)} ${m}`);
          if (killed || !m.startsWith('trial')) return;
          const line = serverLog.filter((l) => l.includes('-> worker')).pop() ?? '';
          killed = /-> worker "([^"]+)"/.exec(line)?.[1] ?? '';
          children.get(killed)?.kill('SIGKILL');
        },
      }),
      90_000,
      () => `${serverLog.join('\n')}\n${logs.join('')}`,
    );
    const ms = Date.now() - t0;
    assert.ok(killed, `nobody killed; progress ${progress.join('; ')}`);
    const survivor = [...children.keys()].find((k) => k !== killed)!;
    assert.equal(result.finalStates.length, 4);
    for (const q of result.finalStates) assert.ok(Math.abs(q - joint.upper) < 1e-6, `final state ${q} vs upper limit ${joint.upper}`);
    assert.equal(result.trials, 4);
    assert.equal(result.successRate, 1);
    assert.deepEqual((result as unknown as { received: Record<string, string> }).received, expected, 'files delivered byte for byte');
    assert.equal((result as unknown as { pid: number }).pid, children.get(survivor)!.pid);
    assert.ok(progress.some((p) => p.startsWith('1.00 trial 4/4')), progress.join('; '));
    assert.equal(server.stats().requeued, 1);
    assert.ok(serverLog.some((l) => l.includes(`-> worker "${survivor}" (attempt 2)`)));
    t.diagnostic(`Isaac worker ${killed} killed at its first trial; task finished on ${survivor} in ${ms} ms; ${Object.keys(expected).length} files verified by sha256; ${progress.length} progress reports`);

    // 3. A task error on the worker comes back as a rejected submit (not retried).
    await assert.rejects(server.submit(drawer.dir, { ...spec, joint: 'no_such_joint' }, { backend: 'isaacgym' }), /failed on worker "isaac-\d": joint "no_such_joint" not found/);
    assert.equal(server.stats().requeued, 1);

    // 4. Cancel: the bridge aborts a running task; the Isaac worker stops it (the backend sees
    //    cancelled()) and takes the next task.
    const ac = new AbortController();
    await assert.rejects(
      server.submit(drawer.dir, spec, { backend: 'isaacgym', signal: ac.signal, onProgress: (_f, m) => m.startsWith('trial') && ac.abort() }),
      /SimServer: task .* aborted/,
    );
    const after = await withTimeout(server.submit(drawer.dir, { ...spec, trials: 1 }, { backend: 'isaacgym' }), 60_000, () => logs.join(''));
    assert.equal(after.trials, 1);
    assert.match(logs.join(''), /IsaacWorker: task \S+ cancelled \(aborted by the bridge\)/);
  } finally {
    for (const c of children.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    const codes = await Promise.all([...children.values()].map((c) => exited(c)));
    await server.close();
    // The survivor stops cleanly on SIGTERM.
    assert.ok(codes.includes(0), `exit codes ${codes.join(', ')}\n${logs.join('')}`);
  }
});
