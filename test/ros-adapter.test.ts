import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRosBridge, expandTopic, type Rclnodejs } from '../src/ros/rclnodejs-adapter.js';
import { LoopbackTransport, bridgePublisher, subscribeBridge } from '../src/ros/transport.js';
import { BridgeNode } from '../src/ros/node.js';
import { codec } from '../src/ros/messages.js';
import { rgbaToImageMsg } from '../src/ros/image.js';
import { defaultTopics } from '../src/ros/replay.js';
import { ROS_TYPE } from '../src/ros/types.js';
import { fakePipeline } from './fixtures/ros/fake-pipeline.js';
import { renderSample } from './fixtures/ros/scene.js';

/** A stand-in for the rclnodejs module with the surface the adapter uses. */
function fakeRclnodejs(overrides: Record<string, unknown>) {
  const subs: { type: string; topic: string; options: { qos?: unknown; isRaw?: boolean }; cb: (m: unknown) => void }[] = [];
  const pubs: { type: string; topic: string; sent: unknown[] }[] = [];
  const logs: string[] = [];
  const calls: string[] = [];
  class QoS {
    static HistoryPolicy = { RMW_QOS_POLICY_HISTORY_KEEP_LAST: 1 };
    static ReliabilityPolicy = { RMW_QOS_POLICY_RELIABILITY_RELIABLE: 1, RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: 2 };
    static DurabilityPolicy = { RMW_QOS_POLICY_DURABILITY_VOLATILE: 2 };
    constructor(public history = 0, public depth = 0, public reliability = 0, public durability = 0) {}
  }
  class Parameter {
    constructor(public name: string, public type: number, public value?: unknown) {}
  }
  const params = new Map<string, Parameter>();
  class Node {
    constructor(public n: string, public ns = '/') {}
    name() { return this.n; }
    namespace() { return this.ns; }
    getLogger() { return { info: (m: string) => logs.push(`I ${m}`), warn: (m: string) => logs.push(`W ${m}`), error: (m: string) => logs.push(`E ${m}`) }; }
    declareParameter(p: Parameter) { const v = p.name in overrides ? new Parameter(p.name, p.type, overrides[p.name]) : p; params.set(p.name, v); return v; }
    getParameter(name: string) { return params.get(name)!; }
    createPublisher(type: string, topic: string) { const p = { type, topic, sent: [] as unknown[] }; pubs.push(p); return { publish: (m: unknown) => p.sent.push(m) }; }
    createSubscription(type: string, topic: string, options: { qos?: unknown; isRaw?: boolean }, cb: (m: unknown) => void) { subs.push({ type, topic, options, cb }); return {}; }
    spin() { calls.push('spin'); }
    destroy() { calls.push('destroy'); }
  }
  const rcl = { init: async () => void calls.push('init'), shutdown: () => void calls.push('shutdown'), Node, Parameter, ParameterType: { PARAMETER_STRING: 4, PARAMETER_INTEGER: 2 }, QoS };
  return { rcl: rcl as unknown as Rclnodejs, subs, pubs, logs, calls };
}

test('rclnodejs adapter: parameters, best-effort depth-1 raw image subscription, private topics, shutdown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'partrm-rcl-'));
  const fake = fakeRclnodejs({ output_dir: dir, image_topic: '/cam/image', frame_id: 'base_link' });
  const pipeline = fakePipeline();
  let stop!: () => void;
  const until = new Promise<void>((r) => (stop = r));
  let ready!: (b: BridgeNode) => void;
  const up = new Promise<BridgeNode>((r) => (ready = r));
  const done = runRosBridge({ rclnodejs: fake.rcl, pipeline, until, onReady: (info) => ready(info.bridge) });
  const bridge = await up;
  try {
    const image = fake.subs.find((s) => s.topic === '/cam/image')!;
    assert.equal(image.type, ROS_TYPE.image);
    assert.equal(image.options.isRaw, true);
    assert.deepEqual({ ...(image.options.qos as object) }, { history: 1, depth: 1, reliability: 2, durability: 2 });
    assert.deepEqual(fake.subs.map((s) => s.topic).sort(), ['/cam/image', '/camera/camera_info', '/partrm_bridge/drags', '/partrm_bridge/drags_json']);
    assert.deepEqual(fake.pubs.map((p) => p.topic).sort(), ['/partrm_bridge/articulation', '/partrm_bridge/gaussians', '/partrm_bridge/markers', '/partrm_bridge/policy', '/partrm_bridge/status', '/partrm_bridge/urdf']);
    image.cb(Buffer.from(codec(ROS_TYPE.image).encode(rgbaToImageMsg(renderSample(64), 'bgr8'))));
    fake.subs.find((s) => s.topic === '/partrm_bridge/drags_json')!.cb(Buffer.from(codec(ROS_TYPE.string).encode({ data: '{"drags":[{"start":[30,30],"end":[40,35]}]}' })));
    image.cb(Buffer.from([0, 1, 0, 0, 9])); // truncated CDR -> warning, node keeps going
    await bridge.idle();
    const status = fake.pubs.find((p) => p.topic === '/partrm_bridge/status')!.sent.map((m) => JSON.parse((m as { data: string }).data) as { event: string });
    assert.equal(status[0]!.event, 'ready');
    const urdf = fake.pubs.find((p) => p.topic === '/partrm_bridge/urdf')!;
    assert.equal(urdf.sent.length, 1);
    const cloud = fake.pubs.find((p) => p.topic === '/partrm_bridge/gaussians')!.sent[0] as { header: { frame_id: string } };
    assert.equal(cloud.header.frame_id, 'base_link');
    assert.ok(fake.logs.some((l) => l.startsWith('W bad_message: /cam/image: RosMessages: cannot decode')), fake.logs.join('\n'));
  } finally {
    stop();
    await done;
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(fake.calls, ['init', 'spin', 'destroy', 'shutdown']);
});

test('topic expansion and the loopback transport carry CDR end to end', async () => {
  assert.equal(expandTopic('~/drags', 'partrm_bridge', '/'), '/partrm_bridge/drags');
  assert.equal(expandTopic('~/drags', 'b', '/robot1'), '/robot1/b/drags');
  assert.equal(expandTopic('/camera/image_raw', 'b', '/robot1'), '/camera/image_raw');
  const t = new LoopbackTransport();
  const node = new BridgeNode({ pipeline: fakePipeline(), publish: bridgePublisher(t, 'partrm_bridge') });
  const topics = defaultTopics();
  subscribeBridge(t, node, topics);
  assert.equal(t.qos.get(topics.image), 'sensor');
  assert.equal(t.qos.get(topics.drags), 'reliable');
  t.deliver(topics.image, codec(ROS_TYPE.image).encode(rgbaToImageMsg(renderSample(32), 'mono8')));
  t.deliver(topics.drags, codec(ROS_TYPE.dragArray).encode({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' }, image_width: 0, image_height: 0, drags: [{ start_x: 10, start_y: 10, end_x: 12, end_y: 14 }] }));
  await node.idle();
  const urdf = t.published.filter((p) => p.topic === '/partrm_bridge/urdf');
  assert.equal(urdf.length, 1);
  assert.match(codec<{ data: string }>(ROS_TYPE.string).decode(urdf[0]!.cdr).data, /<robot/);
});
