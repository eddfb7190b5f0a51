import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_LIMITS,
  PROTOCOL_VERSION,
  type ProtocolLimits,
  type SimMessage,
  base64DecodedLength,
  bundlePathProblem,
  errorMessage,
  makeMessage,
  parseMessage,
  serialiseMessage,
  sha256Hex,
  tokensEqual,
} from '../src/sim/protocol.js';
import { checkEntries, decodeBundle, encodeBundle, mtlTextures, objMaterialLibraries, urdfMeshReferences } from '../src/sim/bundle.js';
import type { SimTaskSpec } from '../src/sim/task.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const spec: SimTaskSpec = { kind: 'evaluate', urdf: 'urdf/object.urdf', joint: 'joint_0', task: 'drawer', trials: 3, seed: 1 };
const files = [
  { path: 'urdf/object.urdf', data: b64('<robot name="x"/>') },
  { path: 'urdf/meshes/base.obj', data: b64('v 0 0 0\n'), sha256: sha256Hex(Buffer.from('v 0 0 0\n')) },
];
const env = { protocol: PROTOCOL_VERSION, id: 'm1' };

/** Every message type, valid. */
const VALID: SimMessage[] = [
  { ...env, type: 'hello', token: 'secret', worker: { name: 'w1' }, capabilities: { backends: ['mujoco'], maxParallel: 2 } },
  { ...env, type: 'welcome', replyTo: 'x', server: 'bridge', heartbeatMs: 5000, limits: { ...DEFAULT_LIMITS } },
  { ...env, type: 'error', code: 'bad_json', message: 'nope', fatal: false },
  { ...env, type: 'task', taskId: 't1', bundle: { files }, spec },
  { ...env, type: 'task', taskId: 't2', backend: 'isaacgym', bundle: { files }, spec: { kind: 'train', urdf: 'urdf/object.urdf', joint: 'j', task: 'door', budget: { iterations: 4, population: 8 }, policy: { version: 1, params: { speed: 0.1 } } as never } },
  { ...env, type: 'progress', taskId: 't1', fraction: 0.5, message: 'half' },
  { ...env, type: 'result', taskId: 't1', result: { kind: 'evaluate', successRate: 1, trials: 2, finalStates: [0.3, 0.31], trajectory: { t: [0, 1], joint: [0.1, 0.3] } } },
  { ...env, type: 'task_failed', taskId: 't1', error: 'boom', retryable: false },
  { ...env, type: 'cancel', taskId: 't1', reason: 'user' },
  { ...env, type: 'ping', time: 1 },
  { ...env, type: 'pong', replyTo: 'p', time: 2 },
];

test('every message type round-trips through serialise/parse', () => {
  for (const m of VALID) {
    const text = serialiseMessage(m);
    const r = parseMessage(text);
    assert.ok(r.ok, `${m.type}: ${!r.ok ? r.error.message : ''}`);
    assert.deepEqual(r.message, m);
  }
});

test('unknown spec/result fields survive (forward compatibility); unknown envelope fields are dropped', () => {
  const m = { ...VALID[3]!, extra: 1, spec: { ...spec, startFraction: 0.2 } };
  const r = parseMessage(JSON.stringify(m));
  assert.ok(r.ok);
  assert.equal((r.message as unknown as { extra?: number }).extra, undefined);
  assert.equal((r.message as unknown as { spec: { startFraction: number } }).spec.startFraction, 0.2);
});

const task = (over: Record<string, unknown>) => JSON.stringify({ ...VALID[3]!, ...over });
const taskFiles = (fs: unknown[]) => task({ bundle: { files: fs } });
const small: ProtocolLimits = { maxFrameBytes: 4096, maxBundleBytes: 1024, maxFiles: 4 };

/** [name, frame, expected error code, limits?] */
const BAD: Array<[string, string, string, ProtocolLimits?]> = [
  ['not JSON', '{"type":', 'bad_json'],
  ['empty frame', '', 'bad_json'],
  ['JSON array', '[1,2]', 'bad_message'],
  ['JSON null', 'null', 'bad_message'],
  ['JSON number', '42', 'bad_message'],
  ['missing protocol', JSON.stringify({ type: 'ping', id: 'x', time: 1 }), 'unsupported_protocol'],
  ['protocol 2', JSON.stringify({ protocol: 2, type: 'ping', id: 'x', time: 1 }), 'unsupported_protocol'],
  ['protocol as string', JSON.stringify({ protocol: '1', type: 'ping', id: 'x', time: 1 }), 'unsupported_protocol'],
  ['unknown type', JSON.stringify({ ...env, type: 'launch_missiles' }), 'bad_message'],
  ['type not a string', JSON.stringify({ ...env, type: 7 }), 'bad_message'],
  ['missing id', JSON.stringify({ protocol: 1, type: 'ping', time: 1 }), 'bad_message'],
  ['empty id', JSON.stringify({ protocol: 1, type: 'ping', id: '', time: 1 }), 'bad_message'],
  ['id too long', JSON.stringify({ protocol: 1, type: 'ping', id: 'x'.repeat(200), time: 1 }), 'bad_message'],
  ['ping time as string', JSON.stringify({ ...env, type: 'ping', time: 'now' }), 'bad_message'],
  ['hello without token', JSON.stringify({ ...env, type: 'hello', worker: { name: 'w' }, capabilities: { backends: ['mujoco'], maxParallel: 1 } }), 'bad_message'],
  ['hello unknown backend', JSON.stringify({ ...VALID[0]!, capabilities: { backends: ['bullet'], maxParallel: 1 } }), 'bad_message'],
  ['hello zero parallel', JSON.stringify({ ...VALID[0]!, capabilities: { backends: ['mujoco'], maxParallel: 0 } }), 'bad_message'],
  ['progress fraction > 1', JSON.stringify({ ...VALID[5]!, fraction: 1.5 }), 'bad_message'],
  ['progress huge message', JSON.stringify({ ...VALID[5]!, message: 'x'.repeat(5000) }), 'bad_message'],
  ['result successRate NaN-ish', JSON.stringify({ ...VALID[6]!, result: { kind: 'evaluate', successRate: 'NaN', trials: 1, finalStates: [] } }), 'bad_message'],
  ['result finalStates strings', JSON.stringify({ ...VALID[6]!, result: { kind: 'evaluate', successRate: 1, trials: 1, finalStates: ['a'] } }), 'bad_message'],
  ['task spec unknown task', task({ spec: { ...spec, task: 'window' } }), 'bad_message'],
  ['task spec trials 0', task({ spec: { ...spec, trials: 0 } }), 'bad_message'],
  ['task spec urdf not in bundle', task({ spec: { ...spec, urdf: 'other.urdf' } }), 'bad_message'],
  ['task spec urdf escapes', task({ spec: { ...spec, urdf: '../object.urdf' } }), 'bad_path'],
  ['task empty bundle', taskFiles([]), 'bad_message'],
  ['task ../ path', taskFiles([files[0], { path: '../x', data: b64('x') }]), 'bad_path'],
  ['task nested ../ path', taskFiles([files[0], { path: 'urdf/../../etc/passwd', data: b64('x') }]), 'bad_path'],
  ['task absolute path', taskFiles([files[0], { path: '/etc/passwd', data: b64('x') }]), 'bad_path'],
  ['task backslash path', taskFiles([files[0], { path: 'urdf\\..\\x', data: b64('x') }]), 'bad_path'],
  ['task drive letter', taskFiles([files[0], { path: 'C:/Windows/x', data: b64('x') }]), 'bad_path'],
  ['task ./ segment', taskFiles([files[0], { path: './x', data: b64('x') }]), 'bad_path'],
  ['task empty segment', taskFiles([files[0], { path: 'a//x', data: b64('x') }]), 'bad_path'],
  ['task NUL in path', taskFiles([files[0], { path: 'a\u0000b', data: b64('x') }]), 'bad_path'],
  ['task empty path', taskFiles([files[0], { path: '', data: b64('x') }]), 'bad_path'],
  ['task duplicate path', taskFiles([files[0], files[0]]), 'bad_path'],
  ['task data not base64', taskFiles([files[0], { path: 'x', data: 'not base64!' }]), 'bad_message'],
  ['task sha256 malformed', taskFiles([files[0], { path: 'x', data: b64('x'), sha256: 'abc' }]), 'bad_message'],
  ['task files not an array', task({ bundle: { files: 'lots' } }), 'bad_message'],
  ['frame over the limit', JSON.stringify({ ...env, type: 'ping', time: 1, pad: 'x'.repeat(5000) }), 'frame_too_large', small],
  ['too many files', taskFiles([files[0], ...[1, 2, 3, 4].map((i) => ({ path: `f${i}`, data: b64('x') }))]), 'bundle_too_large', small],
  ['bundle over the limit', taskFiles([files[0], { path: 'big', data: 'A'.repeat(2000) }]), 'bundle_too_large', { ...small, maxFrameBytes: 8192 }],
];

test('malformed and hostile frames get the right error code, never an exception', () => {
  for (const [name, frame, code, limits] of BAD) {
    const r = parseMessage(frame, limits ?? DEFAULT_LIMITS);
    assert.equal(r.ok, false, `${name}: accepted`);
    if (!r.ok) {
      assert.equal(r.error.code, code, `${name}: ${r.error.message}`);
      assert.match(r.error.message, /^SimProtocol: /, name);
    }
  }
});

test('the error reply names the offending message id when it could be read', () => {
  const r = parseMessage(JSON.stringify({ protocol: 1, type: 'ping', id: 'abc', time: 'x' }));
  assert.ok(!r.ok);
  assert.equal(r.error.messageId, 'abc');
  assert.match(r.error.message, /ping\.time/);
});

test('bundle path rules', () => {
  const table: Array<[string, boolean]> = [
    ['object.urdf', true],
    ['urdf/meshes/base.obj', true],
    ['textured_objs/original-1.obj', true],
    ['a..b/c', true],
    ['..', false],
    ['../x', false],
    ['a/../../x', false],
    ['a/./x', false],
    ['/etc/passwd', false],
    ['C:x', false],
    ['a\\b', false],
    ['a/', false],
    ['', false],
    ['x'.repeat(600), false],
  ];
  for (const [p, ok] of table) assert.equal(bundlePathProblem(p) === null, ok, `${p}: ${bundlePathProblem(p)}`);
});

test('base64 length, constant-time token comparison, error clamping', () => {
  assert.equal(base64DecodedLength(b64('hello')), 5);
  assert.equal(base64DecodedLength(''), 0);
  assert.equal(base64DecodedLength('abc'), null);
  assert.equal(base64DecodedLength('ab!='), null);
  assert.ok(tokensEqual('s3cret', 's3cret'));
  assert.ok(!tokensEqual('s3cret', 's3cre'));
  assert.ok(!tokensEqual('', 's3cret'));
  assert.ok(!tokensEqual('s3creT', 's3cret'));
  const e = errorMessage('bad_message', 'x'.repeat(10_000), { replyTo: 'r' });
  assert.ok(parseMessage(serialiseMessage(e)).ok);
});

test('serialise refuses invalid messages', () => {
  const bad = makeMessage({ type: 'progress', taskId: 't', fraction: 2, message: '' } as never);
  assert.throws(() => serialiseMessage(bad), /SimProtocol: refusing to send an invalid progress/);
});

test('bundle encode/decode: checksums, paths, limits', () => {
  const entries = [
    { path: 'a.urdf', data: new Uint8Array(Buffer.from('<robot/>')) },
    { path: 'meshes/m.obj', data: new Uint8Array([1, 2, 3, 250]) },
  ];
  const wire = encodeBundle(entries);
  assert.deepEqual(decodeBundle(wire), entries);
  const tampered = { files: wire.files.map((f, i) => (i === 1 ? { ...f, data: b64('evil') } : f)) };
  assert.throws(() => decodeBundle(tampered), /SimBundle: file "meshes\/m.obj" fails its sha256 check/);
  assert.throws(() => checkEntries([{ path: '../x', data: new Uint8Array(1) }]), /SimBundle: path "..\/x"/);
  assert.throws(() => checkEntries([]), /empty/);
  assert.throws(() => encodeBundle(entries, { maxFrameBytes: 1e6, maxBundleBytes: 4, maxFiles: 10 }), /limit is 4 bytes/);
});

test('URDF/OBJ/MTL reference extraction', () => {
  const urdf = `<robot name="r"><link name="a"><visual><geometry><mesh filename="meshes/a.obj" scale="1 1 1"/></geometry></visual>
    <collision><geometry><mesh filename='meshes/a.obj'/></geometry></collision></link>
    <link name="b"><visual><geometry><mesh scale="1 1 1" filename="package://pkg/meshes/b&amp;c.stl"/></geometry></visual></link></robot>`;
  assert.deepEqual(urdfMeshReferences(urdf), ['meshes/a.obj', 'package://pkg/meshes/b&c.stl']);
  assert.deepEqual(objMaterialLibraries('# x\nmtllib a.mtl b.mtl\nv 0 0 0\nmtllib a.mtl\n'), ['a.mtl', 'b.mtl']);
  assert.deepEqual(mtlTextures('newmtl m\nmap_Kd -s 1 1 1 tex/wood.png\nbump n.png\nKd 1 1 1\n'), ['tex/wood.png', 'n.png']);
});
