/**
 * The rclnodejs adapter: the only module that touches rclnodejs, loaded with a dynamic import so
 * the package builds and runs everywhere else without ROS 2. It runs the bridge node:
 *
 *   parameters  model ('default' = the shipped one), output_dir, sim_backend, simulate (none |
 *               evaluate: roll each URDF out in simulation, ~/policy), image_topic, camera_info_topic, drags_topic,
 *               drags_json_topic, frame_id, web_host, web_port (< 0: no page)
 *   subscribes  image + camera_info (best effort, keep last 1, raw CDR), ~/drags (DragArray),
 *               ~/drags_json (std_msgs/String); all decoded here with the bridge's codecs
 *   publishes   ~/urdf, ~/articulation, ~/status (std_msgs/String), ~/gaussians (PointCloud2),
 *               ~/markers (MarkerArray), as plain objects converted by rclnodejs
 *
 * Importing rclnodejs installs its own SIGINT handler; this module owns shutdown (SIGINT/SIGTERM:
 * close the page, finish or abort the running request, destroy the node, rclnodejs.shutdown()).
 */
import { mkdirSync } from 'node:fs';
import type { Pipeline } from '../pipeline.js';
import { BridgeNode } from './node.js';
import { simRollout } from './simulate.js';
import { createBridgePipeline } from './pipeline-seam.js';
import { DEFAULT_NODE_NAME, defaultTopics, type BridgeTopics } from './replay.js';
import { bridgePublisher, subscribeBridge, type QosKind, type RosTransport } from './transport.js';
import type { RosTypeName, StatusLevel } from './types.js';
import { untilShutdownSignal } from '../core/signals.js';

// ---------------------------------------------------------------- the parts of rclnodejs used here

interface RclQoS {
  history: number;
  depth: number;
  reliability: number;
  durability: number;
}
interface RclParameter {
  readonly name: string;
  readonly value: unknown;
}
interface RclLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}
interface RclPublisher {
  publish(msg: unknown): void;
}
interface RclNode {
  name(): string;
  namespace(): string;
  getLogger(): RclLogger;
  declareParameter(p: RclParameter): RclParameter;
  getParameter(name: string): RclParameter;
  createPublisher(type: string, topic: string, options?: { qos?: RclQoS | string }): RclPublisher;
  createSubscription(type: string, topic: string, options: { qos?: RclQoS | string; isRaw?: boolean }, cb: (msg: unknown) => void): unknown;
  spin(timeout?: number): void;
  destroy(): void;
}
/** The subset of the rclnodejs module (2.x) this adapter calls. */
export interface Rclnodejs {
  init(): Promise<void>;
  shutdown(): void;
  isShutdown?(): boolean;
  Node: new (name: string, namespace?: string) => RclNode;
  Parameter: new (name: string, type: number, value?: unknown) => RclParameter;
  ParameterType: { PARAMETER_STRING: number; PARAMETER_INTEGER: number };
  QoS: (new (history?: number, depth?: number, reliability?: number, durability?: number) => RclQoS) & {
    HistoryPolicy: { RMW_QOS_POLICY_HISTORY_KEEP_LAST: number };
    ReliabilityPolicy: { RMW_QOS_POLICY_RELIABILITY_RELIABLE: number; RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: number };
    DurabilityPolicy: { RMW_QOS_POLICY_DURABILITY_VOLATILE: number };
  };
}

export async function loadRclnodejs(): Promise<Rclnodejs> {
  const specifier = 'rclnodejs';
  try {
    const mod = (await import(specifier)) as { default?: Rclnodejs } & Rclnodejs;
    return mod.default ?? mod;
  } catch (err) {
    throw new Error(`RclnodejsAdapter: cannot load rclnodejs (${(err as Error).message}); source ROS 2 (humble/jazzy/kilted) and run "npm install rclnodejs" in the package, then "npx generate-ros-messages" after building the partrm package`, { cause: err });
  }
}

// ---------------------------------------------------------------- parameters

export interface BridgeParams {
  model: string;
  output_dir: string;
  sim_backend: string;
  simulate: string;
  image_topic: string;
  camera_info_topic: string;
  drags_topic: string;
  drags_json_topic: string;
  frame_id: string;
  web_host: string;
  web_port: number;
}

export function defaultParams(nodeName = DEFAULT_NODE_NAME): BridgeParams {
  const t = defaultTopics(nodeName);
  return {
    model: 'default',
    output_dir: '/tmp/partrm_bridge',
    sim_backend: 'local',
    simulate: 'none',
    image_topic: t.image,
    camera_info_topic: t.cameraInfo,
    drags_topic: '~/drags',
    drags_json_topic: '~/drags_json',
    frame_id: 'world',
    web_host: '127.0.0.1',
    web_port: -1,
  };
}

/** `~/x` -> `/<ns>/<node>/x`; other names unchanged. */
export function expandTopic(topic: string, nodeName: string, namespace: string): string {
  if (!topic.startsWith('~/')) return topic;
  const ns = namespace === '/' || namespace === '' ? '' : namespace.replace(/\/$/, '');
  return `${ns}/${nodeName}/${topic.slice(2)}`;
}

class RclTransport implements RosTransport {
  constructor(readonly rcl: Rclnodejs, readonly node: RclNode) {}

  #qos(kind: QosKind): RclQoS {
    const Q = this.rcl.QoS;
    return kind === 'sensor'
      ? new Q(Q.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST, 1, Q.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT, Q.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE)
      : new Q(Q.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST, 10, Q.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE, Q.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE);
  }

  subscribeRaw(type: RosTypeName, topic: string, qos: QosKind, onMessage: (cdr: Uint8Array) => void): void {
    this.node.createSubscription(type, topic, { qos: this.#qos(qos), isRaw: true }, (msg) => {
      // isRaw gives the serialized message as a Buffer (CDR with its 4-byte encapsulation header).
      if (msg instanceof Uint8Array) onMessage(msg);
    });
  }

  advertise(type: RosTypeName, topic: string): (msg: unknown) => void {
    const pub = this.node.createPublisher(type, topic, { qos: this.#qos('reliable') });
    return (msg) => pub.publish(msg);
  }
}

export interface RunBridgeOptions {
  /** Injected pipeline (default: the real one from the seam, with the `model` parameter). */
  pipeline?: Pipeline;
  rclnodejs?: Rclnodejs;
  /** Stops the node when it settles (default: SIGINT or SIGTERM). */
  until?: Promise<void>;
  /** Called once the node is up. */
  onReady?: (info: { topics: BridgeTopics; params: BridgeParams; webUrl?: string; bridge: BridgeNode }) => void;
}

/** Starts the ROS 2 node and resolves when it has shut down (SIGINT / SIGTERM). */
export async function runRosBridge(options: RunBridgeOptions = {}): Promise<void> {
  const rcl = options.rclnodejs ?? (await loadRclnodejs());
  await rcl.init();
  const ros = new rcl.Node(DEFAULT_NODE_NAME);
  const log = ros.getLogger();
  const defaults = defaultParams(ros.name());
  const p = {} as Record<keyof BridgeParams, string | number>;
  for (const [name, value] of Object.entries(defaults) as [keyof BridgeParams, string | number][]) {
    const type = typeof value === 'number' ? rcl.ParameterType.PARAMETER_INTEGER : rcl.ParameterType.PARAMETER_STRING;
    ros.declareParameter(new rcl.Parameter(name, type, value));
    const v = ros.getParameter(name).value;
    p[name] = typeof value === 'number' ? Number(v) : String(v ?? value);
  }
  const params = p as unknown as BridgeParams;
  const nodeName = ros.name();
  const ns = ros.namespace();
  const topics: BridgeTopics = {
    image: expandTopic(params.image_topic, nodeName, ns),
    cameraInfo: expandTopic(params.camera_info_topic, nodeName, ns),
    drags: expandTopic(params.drags_topic, nodeName, ns),
    dragsJson: expandTopic(params.drags_json_topic, nodeName, ns),
  };
  const pipeline = options.pipeline ?? (await createBridgePipeline({ ...(params.model && params.model !== 'default' ? { model: params.model } : {}), ...(params.sim_backend ? { sim: params.sim_backend } : {}) }));
  mkdirSync(params.output_dir, { recursive: true });
  const transport = new RclTransport(rcl, ros);
  const logLine = (level: StatusLevel, text: string): void => (level === 'error' ? log.error(text) : level === 'warn' ? log.warn(text) : log.info(text));
  // (not "off": YAML reads an unquoted off as a boolean in launch files)
  if (params.simulate !== 'none' && params.simulate !== 'evaluate') throw new Error(`RclnodejsAdapter: parameter simulate must be none or evaluate, got "${params.simulate}"`);
  const runner = params.simulate === 'evaluate' ? (await import('../sim/backend.js')).createSimBackend(params.sim_backend) : undefined;
  const bridge = new BridgeNode({ pipeline, publish: bridgePublisher(transport, nodeName, ns), outDir: params.output_dir, frameId: params.frame_id, log: logLine, ...(runner ? { simulate: simRollout(runner) } : {}) });
  subscribeBridge(transport, bridge, topics);
  let web: { url: string; close(): Promise<void> } | undefined;
  if (params.web_port >= 0) {
    const { startWebServer } = await import('../web/server.js');
    web = await startWebServer({ node: bridge, host: params.web_host, port: params.web_port, live: true, log: (t) => log.warn(t) });
    log.info(`operator page: ${web.url}`);
  }
  log.info(`listening: image ${topics.image}, camera_info ${topics.cameraInfo}, drags ${topics.drags} (partrm/msg/DragArray) and ${topics.dragsJson} (std_msgs/String JSON); outputs under ${params.output_dir}`);
  ros.spin();
  bridge.info('ready', `listening on ${topics.image}, ${topics.cameraInfo}, ${topics.drags}, ${topics.dragsJson}`, { topics, ...(web ? { web: web.url } : {}) });
  options.onReady?.({ topics, params, bridge, ...(web ? { webUrl: web.url } : {}) });
  // Our handlers run beside rclnodejs' own; removing theirs is not part of its public API.
  await (options.until ?? untilShutdownSignal());
  log.info('shutting down');
  await web?.close();
  await bridge.close();
  await runner?.close();
  await pipeline.dispose();
  ros.destroy();
  if (!rcl.isShutdown?.()) rcl.shutdown();
}
