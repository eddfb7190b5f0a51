/**
 * Bridge latency: from a drag message (CDR bytes of partrm/msg/DragArray arriving on the node's
 * drags topic) to the published ~/urdf, on the bundled sample (samples/cabinet: image + drag),
 * through the same node logic and codecs as the ROS node (in-process loopback transport), with the
 * real pipeline and the shipped model (or --model PATH; the runtime's analytic fixture model when
 * models/manifest.json is absent). Prints per-run latency, min/median/p90/max and the median step
 * timings. Usage: npx tsx bench/bridge.ts [--runs N] [--model PATH] [--out DIR]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codec } from '../src/ros/messages.js';
import { rgbaToImageMsg } from '../src/ros/image.js';
import { BridgeNode } from '../src/ros/node.js';
import { createBridgePipeline } from '../src/ros/pipeline-seam.js';
import { defaultTopics } from '../src/ros/replay.js';
import { LoopbackTransport, bridgePublisher, subscribeBridge } from '../src/ros/transport.js';
import { ArticulationJsonSchema, ROS_TYPE } from '../src/ros/types.js';
import { defaultSample } from '../src/web/server.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(arg('runs') ?? 5);
const model = arg('model') ?? (existsSync('models/manifest.json') ? undefined : 'test/fixtures/model-runtime/part-manifest.json');
const out = arg('out') ?? (await mkdtemp(join(tmpdir(), 'partrm-bench-bridge-')));
const sample = defaultSample();
const drag = sample.drags[0] ?? { start: [sample.image.width * 0.5, sample.image.height * 0.55], end: [sample.image.width * 0.6, sample.image.height * 0.7] };

const t0 = performance.now();
const pipeline = await createBridgePipeline(model ? { model } : {});
const loadMs = performance.now() - t0;
const transport = new LoopbackTransport();
const topics = defaultTopics();
let onUrdf: (() => void) | undefined;
const publish = bridgePublisher(transport, 'partrm_bridge');
const articulations: string[] = [];
const node = new BridgeNode({
  pipeline,
  outDir: out,
  publish: (o) => {
    publish(o);
    if (o.topic === 'articulation') articulations.push(o.msg.data);
    if (o.topic === 'urdf') onUrdf?.();
  },
});
subscribeBridge(transport, node, topics);
const header = { stamp: { sec: 0, nanosec: 0 }, frame_id: 'camera' };
transport.deliver(topics.image, codec(ROS_TYPE.image).encode(rgbaToImageMsg(sample.image, 'rgb8', header)));
const dragCdr = codec(ROS_TYPE.dragArray).encode({ header, image_width: sample.image.width, image_height: sample.image.height, drags: [{ start_x: drag.start[0], start_y: drag.start[1], end_x: drag.end[0], end_y: drag.end[1] }] });

const latencies: number[] = [];
for (let i = 0; i <= runs; i++) {
  const got = new Promise<void>((r) => (onUrdf = r));
  const t = performance.now();
  transport.deliver(topics.drags, dragCdr);
  await got;
  const ms = performance.now() - t;
  await node.idle();
  if (i === 0) console.log(`warm-up run: ${ms.toFixed(0)} ms (not counted)`);
  else {
    latencies.push(ms);
    console.log(`run ${i}: drag -> ~/urdf ${ms.toFixed(0)} ms`);
  }
}
await node.close();
await pipeline.dispose();
if (!arg('out')) await rm(out, { recursive: true, force: true });

const sorted = [...latencies].sort((a, b) => a - b);
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const steps = articulations.slice(1).map((a) => ArticulationJsonSchema.parse(JSON.parse(a)).timings);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const stepNames = Object.keys(steps[0] ?? {});
console.log(`bridge: sample ${sample.name} ${sample.image.width}x${sample.image.height}, model ${model ?? 'models/manifest.json'}, pipeline load ${loadMs.toFixed(0)} ms, ${runs} runs`);
console.log(`drag_to_urdf_ms min ${sorted[0]!.toFixed(0)} median ${q(0.5).toFixed(0)} p90 ${q(0.9).toFixed(0)} max ${sorted.at(-1)!.toFixed(0)}`);
console.log(`median step timings (ms): ${stepNames.map((k) => `${k} ${median(steps.map((s) => s[k] ?? 0)).toFixed(0)}`).join(', ')}`);
const j = articulations.at(-1) ? ArticulationJsonSchema.parse(JSON.parse(articulations.at(-1)!)).joints[0] : undefined;
if (j) console.log(`joint: ${j.type} axis (${j.axis.join(', ')}) motion ${j.motion}`);
