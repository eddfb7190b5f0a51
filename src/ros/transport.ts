/**
 * The small interface between the bridge node and a ROS client library: raw CDR subscriptions
 * and typed publishers. The rclnodejs adapter implements it; tests use an in-memory loopback.
 */
import { codec } from './messages.js';
import type { BridgeNode } from './node.js';
import { OUTPUT_TYPES, ROS_TYPE, type NodeOutput, type OutputTopic, type RosTypeName } from './types.js';
import type { BridgeTopics } from './replay.js';

export type QosKind = 'sensor' | 'reliable';

export interface RosTransport {
  /** `sensor` = best effort, keep last 1 (camera streams); `reliable` = reliable, keep last 10. */
  subscribeRaw(type: RosTypeName, topic: string, qos: QosKind, onMessage: (cdr: Uint8Array) => void): void;
  /** A publisher of decoded messages (the adapter converts as its library needs). */
  advertise(type: RosTypeName, topic: string): (msg: unknown) => void;
}

/** `~/name` under the node's namespace and name. */
export function privateTopic(nodeName: string, namespace: string, name: string): string {
  const ns = namespace === '/' || namespace === '' ? '' : namespace.replace(/\/$/, '');
  return `${ns}/${nodeName}/${name}`;
}

/** Wires the node's inputs and outputs to a transport; returns the `publish` the node needs. */
export function bridgePublisher(transport: RosTransport, nodeName: string, namespace = ''): (out: NodeOutput) => void {
  const pubs = new Map<OutputTopic, (msg: unknown) => void>();
  for (const topic of Object.keys(OUTPUT_TYPES) as OutputTopic[]) {
    pubs.set(topic, transport.advertise(OUTPUT_TYPES[topic], privateTopic(nodeName, namespace, topic)));
  }
  return (out) => pubs.get(out.topic)!(out.msg);
}

export function subscribeBridge(transport: RosTransport, node: BridgeNode, topics: BridgeTopics): void {
  transport.subscribeRaw(ROS_TYPE.image, topics.image, 'sensor', (cdr) => node.handleRaw(ROS_TYPE.image, topics.image, cdr));
  transport.subscribeRaw(ROS_TYPE.cameraInfo, topics.cameraInfo, 'sensor', (cdr) => node.handleRaw(ROS_TYPE.cameraInfo, topics.cameraInfo, cdr));
  transport.subscribeRaw(ROS_TYPE.dragArray, topics.drags, 'reliable', (cdr) => node.handleRaw(ROS_TYPE.dragArray, topics.drags, cdr));
  transport.subscribeRaw(ROS_TYPE.string, topics.dragsJson, 'reliable', (cdr) => node.handleRaw(ROS_TYPE.string, topics.dragsJson, cdr));
}

/** An in-process transport: publishing a decoded message delivers its CDR bytes to subscribers. */
export class LoopbackTransport implements RosTransport {
  readonly subs = new Map<string, ((cdr: Uint8Array) => void)[]>();
  readonly published: { topic: string; type: RosTypeName; cdr: Uint8Array }[] = [];
  readonly qos = new Map<string, QosKind>();

  subscribeRaw(type: RosTypeName, topic: string, qos: QosKind, onMessage: (cdr: Uint8Array) => void): void {
    this.qos.set(topic, qos);
    this.subs.set(topic, [...(this.subs.get(topic) ?? []), onMessage]);
  }

  advertise(type: RosTypeName, topic: string): (msg: unknown) => void {
    return (msg) => {
      const cdr = codec(type).encode(msg);
      this.published.push({ topic, type, cdr });
      for (const s of this.subs.get(topic) ?? []) s(cdr);
    };
  }

  /** Injects CDR bytes as if received on `topic`. */
  deliver(topic: string, cdr: Uint8Array): void {
    for (const s of this.subs.get(topic) ?? []) s(cdr);
  }
}
