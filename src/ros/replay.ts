/**
 * `partrm replay`: the bridge node over a recorded ROS 2 MCAP bag. Inputs are decoded with the
 * bag's own schemas; every drag message is processed (replay waits for the node after each one,
 * so nothing is superseded and the output is deterministic); published messages go to an output
 * bag on `/<node>/<topic>` stamped with the bag time of the drag that caused them.
 */
import { mkdir } from 'node:fs/promises';
import type { Pipeline } from '../pipeline.js';
import { BagWriter, readBag, type BagChannel } from './mcap.js';
import { codecFromSchema, timeFromNs, type Codec } from './messages.js';
import { BridgeNode } from './node.js';
import type { Simulate } from './simulate.js';
import { ROS_TYPE, type CameraInfoMsg, type DragArrayMsg, type ImageMsg, type NodeOutput, type OutputTopic, type StatusLevel, type StringMsg } from './types.js';

export interface BridgeTopics {
  image: string;
  cameraInfo: string;
  drags: string;
  dragsJson: string;
}

export const DEFAULT_NODE_NAME = 'partrm_bridge';

export function defaultTopics(nodeName = DEFAULT_NODE_NAME): BridgeTopics {
  return { image: '/camera/image_raw', cameraInfo: '/camera/camera_info', drags: `/${nodeName}/drags`, dragsJson: `/${nodeName}/drags_json` };
}

export interface ReplayOptions {
  bag: string;
  outDir: string;
  /** Output bag of the published messages. */
  write?: string;
  pipeline: Pipeline;
  /** Input topics; an image / camera_info / DragArray topic not given is found by its type when the bag has one such channel. */
  topics?: Partial<BridgeTopics>;
  nodeName?: string;
  log?: (level: StatusLevel, text: string) => void;
  /** Optional rollout of each URDF in simulation (published on ~/policy). */
  simulate?: Simulate;
}

export interface ReplaySummary {
  messages: number;
  used: Record<keyof BridgeTopics, string | null>;
  images: number;
  requests: number;
  done: number;
  failed: number;
  warnings: number;
  published: Partial<Record<OutputTopic, number>>;
}

type Kind = keyof BridgeTopics;
const KIND_TYPE: Record<Kind, string> = { image: ROS_TYPE.image, cameraInfo: ROS_TYPE.cameraInfo, drags: ROS_TYPE.dragArray, dragsJson: ROS_TYPE.string };

export async function replayBag(o: ReplayOptions): Promise<ReplaySummary> {
  const nodeName = o.nodeName ?? DEFAULT_NODE_NAME;
  const topics: BridgeTopics = { ...defaultTopics(nodeName), ...o.topics };
  const explicit = new Set(Object.keys(o.topics ?? {}) as Kind[]);
  const used: Record<Kind, string | null> = { image: null, cameraInfo: null, drags: null, dragsJson: null };
  const channelKind = new Map<number, { kind: Kind; codec: Codec | Error }>();
  const published: Partial<Record<OutputTopic, number>> = {};
  let now = 0n;
  let outTime = 0n;
  await mkdir(o.outDir, { recursive: true });
  const writer = o.write ? await BagWriter.create(o.write) : undefined;
  const pending: Promise<void>[] = [];
  const publish = (out: NodeOutput): void => {
    published[out.topic] = (published[out.topic] ?? 0) + 1;
    // Keep output times non-decreasing even when a run outlives later input messages.
    outTime = now > outTime ? now : outTime + 1n;
    if (writer) pending.push(writer.write(`/${nodeName}/${out.topic}`, out.type, out.msg, outTime));
  };
  const node = new BridgeNode({ pipeline: o.pipeline, publish, outDir: o.outDir, now: () => timeFromNs(now), ...(o.log ? { log: o.log } : {}), ...(o.simulate ? { simulate: o.simulate } : {}) });

  const assign = (c: BagChannel): void => {
    for (const kind of Object.keys(topics) as Kind[]) {
      const byName = c.topic === topics[kind];
      const byType = !explicit.has(kind) && kind !== 'dragsJson' && used[kind] === null && c.type === KIND_TYPE[kind];
      if (!byName && !byType) continue;
      if (used[kind] !== null && !byName) continue;
      let cd: Codec | Error;
      try {
        if (c.messageEncoding !== 'cdr') throw new Error(`McapBag: ${c.topic} uses message encoding "${c.messageEncoding}"; expected cdr`);
        if (c.schemaEncoding !== 'ros2msg') throw new Error(`McapBag: ${c.topic} uses schema encoding "${c.schemaEncoding}"; expected ros2msg`);
        if (c.type !== KIND_TYPE[kind]) throw new Error(`McapBag: ${c.topic} carries ${c.type}; expected ${KIND_TYPE[kind]}`);
        cd = codecFromSchema(c.type, c.schema);
      } catch (err) {
        cd = err as Error;
      }
      used[kind] = c.topic;
      channelKind.set(c.id, { kind, codec: cd });
      return;
    }
  };

  let messages = 0;
  try {
    const r = await readBag(
      o.bag,
      async (m) => {
        now = m.logTime;
        const k = channelKind.get(m.channel.id);
        if (!k) return;
        if (k.codec instanceof Error) {
          node.warn('bad_message', k.codec.message, { topic: m.channel.topic });
          return;
        }
        let msg: unknown;
        try {
          msg = k.codec.decode(m.data);
        } catch (err) {
          node.warn('bad_message', `${m.channel.topic}: ${(err as Error).message}`, { topic: m.channel.topic });
          return;
        }
        switch (k.kind) {
          case 'image':
            node.handleImage(msg as ImageMsg);
            break;
          case 'cameraInfo':
            node.handleCameraInfo(msg as CameraInfoMsg);
            break;
          case 'drags':
            node.handleDrags(msg as DragArrayMsg);
            await node.idle();
            break;
          case 'dragsJson':
            node.handleDragsJson(msg as StringMsg);
            await node.idle();
            break;
        }
      },
      assign,
    );
    messages = r.messages;
    await node.idle();
    await Promise.all(pending);
    await writer?.close();
  } catch (err) {
    await node.close();
    await writer?.abort();
    throw err;
  }
  const s = node.stats;
  return { messages, used, images: s.images, requests: s.requests, done: s.done, failed: s.failed, warnings: s.warnings, published };
}
