/**
 * SimServer and SimWorker logic over in-memory transports (no sockets): authentication, hostile
 * frames, dispatch across workers, re-queue when a worker dies, cancellation, bundle handling.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectBundle, encodeBundle } from '../src/sim/bundle.js';
import { type SimMessage, PROTOCOL_VERSION, parseMessage, serialiseMessage, makeMessage } from '../src/sim/protocol.js';
import { SimServer, silentLogger } from '../src/sim/server.js';
import type { SimTaskResult, SimTaskSpec } from '../src/sim/task.js';
import { memoryPair, type MemoryConnection } from '../src/sim/transport.js';
import { type SimExecutor, SimWorker } from '../src/sim/worker.js';

const TOKEN = 'test-token-123';
const URDF = `<?xml version="1.0"?>
<robot name="cab">
  <link name="base"><visual><geometry><mesh filename="meshes/base.obj"/></geometry></visual></link>
  <link name="drawer"><visual><geometry><mesh filename="package://cab/meshes/drawer.obj"/></geometry></visual></link>
  <joint name="joint_0" type="prismatic"><parent link="base"/><child link="drawer"/><axis xyz="1 0 0"/>
    <limit lower="0" upper="0.35" effort="100" velocity="1"/></joint>
</robot>
`;
const spec: SimTaskSpec = { kind: 'evaluate', urdf: 'object.urdf', joint: 'joint_0', task: 'drawer', trials: 2, seed: 3 };
const entries = [
  { path: 'object.urdf', data: new Uint8Array(Buffer.from(URDF)) },
  { path: 'meshes/base.obj', data: new Uint8Array(Buffer.from('v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n')) },
  { path: 'meshes/drawer.obj', data: new Uint8Array(Buffer.from('mtllib drawer.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n')) },
];

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A deterministic executor computed from the bundle: the joint's upper limit as the final state. */
function bundleExecutor(opts: { delayMs?: number; seen?: string[]; gate?: Promise<void> } = {}): SimExecutor {
  return async (dir, s, onProgress, signal) => {
    const urdf = readFileSync(join(dir, s.urdf), 'utf8');
    opts.seen?.push(dir);
    for (const f of ['meshes/base.obj', 'meshes/drawer.obj']) assert.ok(existsSync(join(dir, f)), `${f} missing in the task dir`);
    const m = new RegExp(`<joint name="${s.joint}"[\\s\\S]*?upper="([^"]+)"`).exec(urdf);
    if (!m) throw new Error(`joint ${s.joint} not in ${s.urdf}`);
    onProgress(0.5, 'half way');
    if (opts.gate) await opts.gate;
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (signal.aborted) throw new Error('aborted');
    onProgress(1, 'done');
    const upper = Number(m[1]);
    return { kind: s.kind, successRate: 1, trials: s.trials ?? 1, finalStates: Array.from({ length: s.trials ?? 1 }, () => upper) };
  };
}

function newServer(over: Partial<ConstructorParameters<typeof SimServer>[0]> = {}): SimServer {
  return new SimServer({ token: TOKEN, log: silentLogger, ...over });
}

function memoryWorker(server: SimServer, opts: { name: string; executor: SimExecutor; token?: string; maxParallel?: number; conns?: MemoryConnection[] }): SimWorker {
  return new SimWorker({
    url: 'ws://memory',
    token: opts.token ?? TOKEN,
    name: opts.name,
    executor: opts.executor,
    maxParallel: opts.maxParallel ?? 1,
    log: silentLogger,
    reconnect: { initialMs: 5, maxMs: 20, maxAttempts: 3 },
    dial: async () => {
      const [w, s] = memoryPair([opts.name, 'server']);
      server.attach(s);
      opts.conns?.push(w);
      return w;
    },
  });
}

/** A raw peer: sends frames, collects parsed replies. */
function rawPeer(server: SimServer) {
  const [me, s] = memoryPair(['raw', 'server']);
  server.attach(s);
  const replies: SimMessage[] = [];
  let closed = false;
  let closeCode = 0;
  me.onMessage((f) => {
    const r = parseMessage(f);
    if (r.ok) replies.push(r.message);
  });
  me.onClose((code) => {
    closed = true;
    closeCode = code;
  });
  return {
    conn: me,
    replies,
    get closed() {
      return closed;
    },
    get closeCode() {
      return closeCode;
    },
    send(m: SimMessage | string) {
      me.send(typeof m === 'string' ? m : serialiseMessage(m));
    },
    hello(token = TOKEN, name = 'raw') {
      me.send(serialiseMessage(makeMessage({ type: 'hello', token, worker: { name }, capabilities: { backends: ['mujoco'], maxParallel: 1 } })));
    },
  };
}

async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('a wrong token is rejected with an error and a closed connection; so is a non-hello first message', async () => {
  const server = newServer();
  const bad = rawPeer(server);
  bad.hello('wrong');
  await until(() => bad.closed, 'close after a wrong token');
  assert.equal(bad.replies[0]?.type, 'error');
  assert.equal((bad.replies[0] as { code: string }).code, 'unauthorized');
  assert.equal(bad.closeCode, 4001);
  const rude = rawPeer(server);
  rude.send(makeMessage({ type: 'ping', time: 1 }));
  await until(() => rude.closed, 'close after a non-hello');
  assert.equal((rude.replies[0] as { code: string }).code, 'hello_required');
  const garbage = rawPeer(server);
  garbage.send('not json at all');
  await until(() => garbage.closed, 'close after garbage before hello');
  assert.equal(server.stats().workers, 0);
  // A worker with the wrong token stops (no reconnect loop).
  const w = memoryWorker(server, { name: 'w-bad', executor: bundleExecutor(), token: 'nope' });
  await assert.rejects(w.run(), /SimWorker: server refused this worker: unauthorized/);
  await server.close();
});

test('1,000 hostile frames from an authenticated peer each get an error reply; the server keeps serving', async () => {
  const server = newServer({ limits: { maxFrameBytes: 1 << 20, maxBundleBytes: 1 << 19, maxFiles: 64 } });
  const good = memoryWorker(server, { name: 'good', executor: bundleExecutor() });
  const running = good.run();
  await server.waitForWorkers(1);
  const evil = rawPeer(server);
  evil.hello(TOKEN, 'evil');
  await until(() => evil.replies.some((m) => m.type === 'welcome'), 'welcome');
  const hostile: string[] = [];
  const kinds = [
    () => '{"protocol":1,"type":"result"',
    () => JSON.stringify({ protocol: 1, type: 'result', id: 'x', taskId: 't-none', result: { kind: 'evaluate', successRate: 1, trials: 1, finalStates: [1] } }),
    () => JSON.stringify({ protocol: 1, type: 'progress', id: 'x', taskId: 7, fraction: 'a', message: 1 }),
    () => JSON.stringify({ protocol: 1, type: 'task', id: 'x', taskId: 't', bundle: { files: [{ path: '../../etc/passwd', data: '' }] }, spec }),
    () => JSON.stringify({ protocol: 1, type: 'task', id: 'x', taskId: 't', bundle: { files: [{ path: '/etc/passwd', data: '' }] }, spec }),
    () => JSON.stringify({ protocol: 1, type: 'task', id: 'x', taskId: 't', bundle: { files: [{ path: 'object.urdf', data: 'A'.repeat(800_000) }] }, spec }),
    () => JSON.stringify({ protocol: 9, type: 'ping', id: 'x', time: 0 }),
    () => JSON.stringify({ protocol: 1, type: 'hello', id: 'x', token: 'wrong', worker: { name: 'again' }, capabilities: { backends: ['mujoco'], maxParallel: 1 } }),
    () => JSON.stringify({ protocol: 1, type: 'welcome', id: 'x', replyTo: 'y', server: 's', heartbeatMs: 1, limits: { maxFrameBytes: 1, maxBundleBytes: 1, maxFiles: 1 } }),
    () => '[]',
  ];
  for (let i = 0; i < 1000; i++) hostile.push(kinds[i % kinds.length]!());
  for (const f of hostile) evil.send(f);
  // Meanwhile the good worker serves a real task.
  const result = await server.submit(entries, spec);
  assert.deepEqual(result.finalStates, [0.35, 0.35]);
  await until(() => evil.replies.filter((m) => m.type === 'error').length >= 1000, '1000 error replies', 10_000);
  assert.equal(evil.closed, false, 'an authenticated peer is not dropped for bad messages');
  assert.ok(server.stats().badMessages >= 1000);
  const codes = new Set(evil.replies.filter((m) => m.type === 'error').map((m) => (m as { code: string }).code));
  for (const c of ['bad_json', 'unknown_task', 'bad_message', 'bad_path', 'bundle_too_large', 'unsupported_protocol', 'unexpected']) assert.ok(codes.has(c), `no ${c} reply (got ${[...codes].join(', ')})`);
  // And it still answers pings.
  evil.send(makeMessage({ type: 'ping', id: 'still-there', time: 0 }));
  await until(() => evil.replies.some((m) => m.type === 'pong' && m.replyTo === 'still-there'), 'pong');
  await good.stop();
  await running;
  await server.close();
});

test('an oversize frame closes the connection (1009)', async () => {
  const server = newServer({ limits: { maxFrameBytes: 2048, maxBundleBytes: 1024, maxFiles: 8 } });
  const p = rawPeer(server);
  p.hello();
  await until(() => p.replies.some((m) => m.type === 'welcome'), 'welcome');
  p.send(JSON.stringify({ protocol: 1, type: 'ping', id: 'x', time: 0, pad: 'x'.repeat(4096) }));
  await until(() => p.closed, 'close');
  assert.equal(p.closeCode, 1009);
  await server.close();
});

test('tasks spread over two workers in parallel; bundle files arrive intact in a fresh dir that is removed afterwards', async () => {
  const server = newServer();
  const seen: string[] = [];
  const perWorker = new Map<string, number>();
  let active = 0;
  let peak = 0;
  const exec = (name: string): SimExecutor => {
    const inner = bundleExecutor({ delayMs: 40, seen });
    return async (dir, s, p, sig) => {
      active += 1;
      peak = Math.max(peak, active);
      perWorker.set(name, (perWorker.get(name) ?? 0) + 1);
      try {
        for (const e of entries) assert.deepEqual(new Uint8Array(readFileSync(join(dir, e.path))), e.data);
        return await inner(dir, s, p, sig);
      } finally {
        active -= 1;
      }
    };
  };
  const w1 = memoryWorker(server, { name: 'w1', executor: exec('w1') });
  const w2 = memoryWorker(server, { name: 'w2', executor: exec('w2') });
  const runs = [w1.run(), w2.run()];
  await server.waitForWorkers(2);
  const progress: number[] = [];
  const t0 = Date.now();
  const results = await Promise.all([1, 2, 3, 4].map((seed) => server.submit(entries, { ...spec, seed }, { onProgress: (f) => progress.push(f) })));
  const elapsed = Date.now() - t0;
  assert.equal(results.length, 4);
  for (const r of results) assert.deepEqual(r.finalStates, [0.35, 0.35]);
  assert.equal(peak, 2, 'both workers ran at once');
  assert.equal(perWorker.get('w1'), 2);
  assert.equal(perWorker.get('w2'), 2);
  assert.ok(elapsed < 4 * 40 + 100, `4 tasks of 40 ms on 2 workers took ${elapsed} ms`);
  assert.ok(progress.includes(0) && progress.includes(1), `progress ${progress.join(', ')}`);
  assert.equal(new Set(seen).size, 4, 'a fresh directory per task');
  for (const d of seen) assert.equal(existsSync(d), false, `${d} not cleaned up`);
  assert.deepEqual(server.stats(), { workers: 2, queued: 0, running: 0, completed: 4, failed: 0, requeued: 0, badMessages: 0, rejectedConnections: 0 });
  await Promise.all([w1.stop(), w2.stop()]);
  await Promise.all(runs);
  await server.close();
});

test('a worker that dies mid-task: the task is re-queued and finishes on another worker', async () => {
  const server = newServer();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const conns: MemoryConnection[] = [];
  const started: string[] = [];
  const doomedExec: SimExecutor = async (dir, s, p, sig) => {
    started.push('doomed');
    return bundleExecutor({ gate })(dir, s, p, sig);
  };
  const doomed = memoryWorker(server, { name: 'doomed', executor: doomedExec, conns });
  const doomedRun = doomed.run().catch(() => {});
  await server.waitForWorkers(1);
  const progress: string[] = [];
  const pending = server.submit(entries, spec, { onProgress: (_f, m) => progress.push(m) });
  await until(() => progress.includes('half way'), 'progress from the doomed worker');
  // Kill it: the connection drops without a goodbye, and the worker must not come back.
  conns[0]!.terminate();
  const doomedStopped = doomed.stop();
  const rescuer = memoryWorker(server, { name: 'rescuer', executor: bundleExecutor() });
  const rescuerRun = rescuer.run();
  const result: SimTaskResult = await pending;
  assert.deepEqual(result.finalStates, [0.35, 0.35]);
  assert.equal(server.stats().requeued, 1);
  assert.equal(server.stats().completed, 1);
  assert.equal(rescuer.stats().tasksDone, 1);
  release();
  await doomedStopped;
  await rescuer.stop();
  await Promise.all([doomedRun, rescuerRun]);
  await server.close();
});

test('a silent worker is dropped after the heartbeat timeout and its task re-queued; attempts are bounded', async () => {
  const server = newServer({ heartbeatMs: 20, heartbeatTimeoutMs: 80, maxAttempts: 2 });
  // A raw peer that says hello, takes the task, then never speaks again.
  const mute = rawPeer(server);
  mute.hello(TOKEN, 'mute');
  await until(() => mute.replies.some((m) => m.type === 'welcome'), 'welcome');
  const pending = server.submit(entries, spec);
  await until(() => mute.replies.some((m) => m.type === 'task'), 'task sent to the mute worker');
  await until(() => server.stats().requeued === 1, 're-queue after silence');
  // A second mute peer takes attempt 2 and also goes silent -> the task fails.
  const mute2 = rawPeer(server);
  mute2.hello(TOKEN, 'mute2');
  await assert.rejects(pending, /SimServer: task .* worker "mute2" disconnected .* after 2 attempt/);
  assert.equal(server.stats().failed, 1);
  await server.close();
});

test('a task that fails on its worker is reported, not retried; a cancelled task tells its worker', async () => {
  const server = newServer();
  const failing: SimExecutor = async () => {
    throw new Error('MujocoSim: joint "joint_9" not found');
  };
  const w = memoryWorker(server, { name: 'w', executor: failing });
  const run = w.run();
  await server.waitForWorkers(1);
  await assert.rejects(server.submit(entries, { ...spec, joint: 'joint_9' }), /failed on worker "w": MujocoSim: joint "joint_9" not found/);
  assert.equal(server.stats().requeued, 0);
  await w.stop();
  await run;

  let sawAbort = false;
  let release!: () => void;
  const windDown = new Promise<void>((r) => (release = r));
  const slow: SimExecutor = async (d, s, p, sig) => {
    if (s.seed === 99) return bundleExecutor()(d, s, p, sig);
    p(0.1, 'started');
    await new Promise<void>((resolve) => sig.addEventListener('abort', () => resolve(), { once: true }));
    sawAbort = true;
    await windDown; // a backend that takes a while to stop
    throw new Error('aborted');
  };
  const w2 = memoryWorker(server, { name: 'w2', executor: slow });
  const run2 = w2.run();
  await server.waitForWorkers(1);
  const ac = new AbortController();
  const pending = server.submit(entries, spec, { signal: ac.signal, onProgress: () => ac.abort() });
  await assert.rejects(pending, /SimServer: task .* aborted/);
  await until(() => sawAbort, 'the worker sees the cancel');
  assert.equal(w2.stats().tasksCancelled, 1);
  // The cancelled task keeps the worker's only slot until the worker confirms it has stopped:
  // the next task waits instead of being bounced as "busy".
  const next = server.submit(entries, { ...spec, seed: 99 });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.stats().queued, 1);
  release();
  assert.deepEqual((await next).finalStates, [0.35, 0.35]);
  assert.equal(server.stats().requeued, 0);
  await w2.stop();
  await run2;
  await server.close();
});

test('the worker refuses a task with hostile paths from a malicious server and writes nothing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'partrm-worker-paths-'));
  dirs.push(root);
  const tmpRoot = join(root, 'tasks');
  mkdirSync(tmpRoot);
  let serverSide!: MemoryConnection;
  const received: SimMessage[] = [];
  let ran = 0;
  const w = new SimWorker({
    url: 'ws://memory',
    token: TOKEN,
    name: 'w',
    tmpRoot,
    log: silentLogger,
    executor: async () => {
      ran += 1;
      throw new Error('should not run');
    },
    reconnect: { maxAttempts: 1 },
    dial: async () => {
      const [a, b] = memoryPair();
      serverSide = b;
      b.onMessage((f) => {
        const r = parseMessage(f);
        if (r.ok) received.push(r.message);
      });
      return a;
    },
  });
  const run = w.run().catch(() => {});
  await until(() => received.some((m) => m.type === 'hello'), 'hello');
  serverSide.send(serialiseMessage(makeMessage({ type: 'welcome', replyTo: 'x', server: 'evil', heartbeatMs: 1000, limits: { maxFrameBytes: 1 << 20, maxBundleBytes: 1 << 20, maxFiles: 10 } })));
  const good = encodeBundle(entries);
  for (const bad of ['../escaped.txt', '/tmp/partrm-abs-escape.txt', 'a/../../escaped.txt']) {
    const frame = JSON.stringify({ protocol: PROTOCOL_VERSION, type: 'task', id: `t-${bad}`, taskId: 'evil', bundle: { files: [...good.files, { path: bad, data: Buffer.from('pwned').toString('base64') }] }, spec });
    serverSide.send(frame);
  }
  await until(() => received.filter((m) => m.type === 'error').length === 3, 'three error replies');
  for (const m of received.filter((m) => m.type === 'error')) assert.equal((m as { code: string }).code, 'bad_path');
  assert.equal(ran, 0);
  assert.deepEqual(await readdir(tmpRoot), []);
  assert.equal(existsSync(join(root, 'escaped.txt')), false);
  assert.equal(existsSync('/tmp/partrm-abs-escape.txt'), false);
  await w.stop();
  serverSide.close();
  await run;
});

test('the worker reconnects with backoff after the connection drops', async () => {
  const server = newServer();
  const conns: MemoryConnection[] = [];
  const w = memoryWorker(server, { name: 'w', executor: bundleExecutor(), conns });
  const run = w.run();
  await server.waitForWorkers(1);
  conns[0]!.terminate();
  await until(() => conns.length === 2 && server.stats().workers === 1, 'reconnect');
  assert.deepEqual((await server.submit(entries, spec)).finalStates, [0.35, 0.35]);
  await w.stop();
  await run;
  await server.close();
});

test('collectBundle gathers the URDF, its meshes (relative and package://), their MTLs; refuses escapes', async () => {
  const root = await mkdtemp(join(tmpdir(), 'partrm-bundle-'));
  dirs.push(root);
  mkdirSync(join(root, 'meshes'));
  writeFileSync(join(root, 'object.urdf'), URDF);
  writeFileSync(join(root, 'meshes/base.obj'), 'v 0 0 0\n');
  writeFileSync(join(root, 'meshes/drawer.obj'), 'mtllib drawer.mtl\nv 0 0 0\n');
  writeFileSync(join(root, 'meshes/drawer.mtl'), 'newmtl m\nmap_Kd wood.png\n');
  writeFileSync(join(root, 'unrelated.bin'), 'x');
  const warnings: string[] = [];
  const got = await collectBundle(root, 'object.urdf', { warn: (m) => warnings.push(m) });
  assert.deepEqual(got.map((e) => e.path).sort(), ['meshes/base.obj', 'meshes/drawer.mtl', 'meshes/drawer.obj', 'object.urdf']);
  assert.equal(warnings.length, 1, 'missing texture warned about');
  const cases: Array<[string, string, RegExp]> = [
    ['escape.urdf', '<robot><link name="a"><visual><geometry><mesh filename="../outside.obj"/></geometry></visual></link></robot>', /leaves the bundle root/],
    ['abs.urdf', '<robot><link name="a"><visual><geometry><mesh filename="/etc/passwd"/></geometry></visual></link></robot>', /outside the bundle root/],
    ['missing.urdf', '<robot><link name="a"><visual><geometry><mesh filename="meshes/nope.obj"/></geometry></visual></link></robot>', /not found/],
    ['link.urdf', '<robot><link name="a"><visual><geometry><mesh filename="meshes/link.obj"/></geometry></visual></link></robot>', /outside the bundle root .*symlink/],
  ];
  symlinkSync('/etc/hostname', join(root, 'meshes/link.obj'));
  for (const [name, text, re] of cases) {
    writeFileSync(join(root, name), text);
    await assert.rejects(collectBundle(root, name), re, name);
  }
  await assert.rejects(collectBundle(root, '../object.urdf'), /SimBundle: URDF path/);

  // PartNet-Mobility layout: mobility.urdf, many textured_objs/original-*.obj (visual and
  // collision), MTLs whose textures live in ../images, unrelated files left out.
  const pn = join(root, 'partnet');
  mkdirSync(join(pn, 'textured_objs'), { recursive: true });
  mkdirSync(join(pn, 'images'));
  const objs = ['original-1.obj', 'original-2.obj', 'original-3.obj'];
  for (const o of objs) writeFileSync(join(pn, 'textured_objs', o), `mtllib ${o.replace('.obj', '.mtl')}\nv 0 0 0\n`);
  for (const o of objs) writeFileSync(join(pn, 'textured_objs', o.replace('.obj', '.mtl')), 'newmtl m\nmap_Kd ../images/texture_0.jpg\n');
  writeFileSync(join(pn, 'images', 'texture_0.jpg'), 'jpg');
  writeFileSync(join(pn, 'semantics.txt'), 'link_0 slider drawer\n');
  const link = (name: string, files: string[]) =>
    `<link name="${name}">${files.map((f) => `<visual name="v"><geometry><mesh filename="textured_objs/${f}"/></geometry></visual><collision><geometry><mesh filename="textured_objs/${f}"/></geometry></collision>`).join('')}</link>`;
  writeFileSync(
    join(pn, 'mobility.urdf'),
    `<?xml version="1.0" ?><robot name="partnet">${link('base', [])}${link('link_0', ['original-1.obj', 'original-2.obj'])}${link('link_1', ['original-3.obj'])}` +
      `<joint name="joint_0" type="prismatic"><parent link="link_1"/><child link="link_0"/><limit lower="0" upper="0.3"/></joint>` +
      `<joint name="joint_1" type="fixed"><origin rpy="1.570796 0 -1.570796"/><parent link="base"/><child link="link_1"/></joint></robot>`,
  );
  const partnet = await collectBundle(pn, 'mobility.urdf');
  assert.deepEqual(
    partnet.map((e) => e.path).sort(),
    ['images/texture_0.jpg', 'mobility.urdf', ...objs.flatMap((o) => [`textured_objs/${o}`, `textured_objs/${o.replace('.obj', '.mtl')}`])].sort(),
  );
});
