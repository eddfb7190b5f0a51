/**
 * The bridge node's logic, free of any ROS client library: feed it decoded messages (or raw CDR
 * bytes), it runs the injected Pipeline and hands what to publish to `publish`. The rclnodejs
 * adapter, `partrm replay` (MCAP) and the tests all drive this one class.
 *
 * - Keeps the latest image (validated on arrival, converted to RGBA when a request starts) and
 *   camera_info.
 * - One pipeline run at a time; while one runs, the newest drag request waits and replaces any
 *   older waiting one (which gets a `request_superseded` status).
 * - Every malformed message -> a `warn` status on ~/status, and the node keeps serving.
 * - Outputs of request k go to `<outDir>/request-<k>/` (atomic writes).
 */
import { readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { encodePngRgba, writeFileAtomic, type RgbaImage } from '../core/image.js';
import type { Camera } from '../core/camera.js';
import { rigCameras } from '../core/camera.js';
import type { Mat4 } from '../core/math.js';
import type { Drag } from '../core/types.js';
import type { Pipeline, PipelineResult } from '../pipeline.js';
import { cameraInfoToCamera } from './camera-info.js';
import { dragArrayToDragSet, dragJsonToDragSet, resolveDrags, type DragSet } from './drags.js';
import { imageMsgToRgba, isImageEncoding, IMAGE_ENCODINGS } from './image.js';
import { asciiJson, codec, timeFromMs, xmlAscii } from './messages.js';
import { articulationMarkers, articulationToJson, gaussiansToPointCloud2, movingGaussianIndices, statusMessage, type MarkerOptions } from './outputs.js';
import type { RolloutSummary, Simulate } from './simulate.js';
import { ROS_TYPE, type ArticulationJson, type CameraInfoMsg, type DragArrayMsg, type Header, type ImageMsg, type NodeInput, type NodeOutput, type RosTime, type RosTypeName, type Status, type StatusLevel, type StringMsg } from './types.js';

export interface BridgeNodeOptions {
  pipeline: Pipeline;
  /** Receives every message to publish (may return a promise; errors are logged, not thrown). */
  publish: (out: NodeOutput) => void | Promise<void>;
  /** Per-request outputs go under this directory; none = no files. */
  outDir?: string;
  /** frame_id of published Gaussians and markers (default `world`). */
  frameId?: string;
  /** Camera-to-world (OpenCV optical) used with camera_info intrinsics (default: the PartDrag rig's view 0). */
  cameraPose?: Mat4;
  /** Clock for status stamps (default: wall clock). Replay passes the bag time. */
  now?: () => RosTime;
  /** Human-readable log lines (default: none). */
  log?: (level: StatusLevel, text: string) => void;
  markers?: MarkerOptions;
  /** Optional rollout of each request's URDF in simulation (see simulate.ts): ~/policy + rollout.json. */
  simulate?: Simulate;
}

export interface BridgeStats {
  images: number;
  requests: number;
  done: number;
  failed: number;
  superseded: number;
  warnings: number;
}

interface Request {
  id: number;
  image: ImageMsg;
  camera: Camera | undefined;
  dragSet: DragSet;
  drags: Drag[];
  /** Already-converted pixels (web page requests). */
  rgba?: RgbaImage;
  /** Settled when the request finishes, fails or is superseded (web page requests). */
  settle?: { resolve: (o: RunOutcome) => void; reject: (e: Error) => void };
}

/** What `submit` resolves to. */
export interface RunOutcome {
  request: number;
  result: PipelineResult;
  /** The request's output directory (when the node has an outDir). */
  dir: string | undefined;
  articulation: ArticulationJson;
  /** Every output file of the request (the pipeline's and the bridge's), name -> absolute path. */
  files: Record<string, string>;
  /** The simulated rollout, when the node simulates and it succeeded. */
  rollout?: RolloutSummary;
}

export class BridgeNode {
  readonly stats: BridgeStats = { images: 0, requests: 0, done: 0, failed: 0, superseded: 0, warnings: 0 };
  #opts: BridgeNodeOptions;
  #image: ImageMsg | undefined;
  #camera: Camera | undefined;
  #running: { req: Request; abort: AbortController; done: Promise<void> } | undefined;
  #pending: Request | undefined;
  #nextId = 1;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: BridgeNodeOptions) {
    this.#opts = options;
    // Continue numbering after request-* directories left by earlier runs.
    if (options.outDir) this.#nextId = lastRequestNumber(options.outDir) + 1;
  }

  /** Latest valid image message (undefined before the first). */
  get latestImage(): ImageMsg | undefined {
    return this.#image;
  }

  get busy(): boolean {
    return this.#running !== undefined || this.#pending !== undefined;
  }

  /** Feeds one input; never throws. */
  handle(input: NodeInput): void {
    switch (input.kind) {
      case 'image':
        return this.handleImage(input.msg);
      case 'camera_info':
        return this.handleCameraInfo(input.msg);
      case 'drags':
        return this.handleDrags(input.msg);
      case 'drags_json':
        return this.handleDragsJson(input.msg);
      case 'raw':
        return this.handleRaw(input.type, input.topic, input.data);
    }
  }

  /** CDR bytes of a known input type (what rclnodejs gives with `isRaw: true`). */
  handleRaw(type: RosTypeName, topic: string, data: Uint8Array): void {
    let msg: unknown;
    try {
      msg = codec(type).decode(data);
    } catch (err) {
      this.warn('bad_message', `${topic}: ${(err as Error).message}`, { topic, type });
      return;
    }
    switch (type) {
      case ROS_TYPE.image:
        return this.handleImage(msg as ImageMsg);
      case ROS_TYPE.cameraInfo:
        return this.handleCameraInfo(msg as CameraInfoMsg);
      case ROS_TYPE.dragArray:
        return this.handleDrags(msg as DragArrayMsg);
      case ROS_TYPE.string:
        return this.handleDragsJson(msg as StringMsg);
      default:
        this.warn('bad_message', `${topic}: the bridge does not consume ${type}`, { topic, type });
    }
  }

  handleImage(msg: ImageMsg): void {
    if (this.#closed) return;
    try {
      checkImageMsg(msg);
    } catch (err) {
      this.warn('bad_image', (err as Error).message);
      return;
    }
    this.#image = msg;
    this.stats.images++;
  }

  handleCameraInfo(msg: CameraInfoMsg): void {
    if (this.#closed) return;
    try {
      this.#camera = cameraInfoToCamera(msg, this.#opts.cameraPose ?? rigCameras({ views: 1 })[0]!.camToWorld);
    } catch (err) {
      this.warn('bad_camera_info', (err as Error).message);
    }
  }

  handleDrags(msg: DragArrayMsg): void {
    this.#request(() => dragArrayToDragSet(msg));
  }

  handleDragsJson(msg: StringMsg): void {
    this.#request(() => dragJsonToDragSet(msg));
  }

  /**
   * Runs the pipeline on an image and drags (in its pixels) through the same one-at-a-time queue
   * as drag messages, publishing the same outputs; rejects when the request is superseded by a
   * newer one, invalid, or fails.
   */
  submit(image: RgbaImage, drags: Drag[], camera?: Camera): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve, reject) => {
      if (this.#closed) return reject(new Error('BridgeNode: closed'));
      let resolved: Drag[];
      try {
        resolved = resolveDrags({ drags, width: 0, height: 0 }, image.width, image.height);
      } catch (err) {
        return reject(err as Error);
      }
      const msg: ImageMsg = { header: { stamp: this.#now(), frame_id: 'operator_page' }, width: image.width, height: image.height, encoding: 'rgba8', is_bigendian: 0, step: image.width * 4, data: image.data };
      this.#enqueue({ id: this.#nextId++, image: msg, camera, dragSet: { drags, width: 0, height: 0 }, drags: resolved, rgba: image, settle: { resolve, reject } });
    });
  }

  /** Resolves once no request is running or waiting. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops accepting input, aborts the running request (between pipeline steps) and waits for it. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#pending) {
      this.#pending.settle?.reject(new Error('BridgeNode: closed'));
      this.#pending = undefined;
    }
    if (this.#running) {
      this.#running.abort.abort(new Error('BridgeNode: closed'));
      await this.#running.done;
    }
    this.#wakeIdle();
  }

  /** Publishes an `info` status (e.g. `ready` once the transport is wired). */
  info(event: string, message: string, details?: Record<string, unknown>): void {
    this.#status('info', event, message, undefined, details);
  }

  warn(event: string, message: string, details?: Record<string, unknown>): void {
    this.stats.warnings++;
    this.#status('warn', event, message, undefined, details);
  }

  #request(parse: () => DragSet): void {
    if (this.#closed) return;
    let dragSet: DragSet;
    try {
      dragSet = parse();
    } catch (err) {
      this.warn('bad_drags', (err as Error).message);
      return;
    }
    const image = this.#image;
    if (!image) {
      this.warn('no_image', 'BridgeNode: drags received before any valid image; publish an image first');
      return;
    }
    let drags: Drag[];
    try {
      drags = resolveDrags(dragSet, image.width, image.height);
    } catch (err) {
      this.warn('bad_drags', (err as Error).message);
      return;
    }
    const camera = this.#camera && this.#camera.intrinsics.width === image.width && this.#camera.intrinsics.height === image.height ? this.#camera : undefined;
    this.#enqueue({ id: this.#nextId++, image, camera, dragSet, drags });
  }

  #enqueue(req: Request): void {
    this.stats.requests++;
    if (this.#running) {
      if (this.#pending) {
        this.stats.superseded++;
        this.#status('info', 'request_superseded', `request ${this.#pending.id} replaced by newer request ${req.id}`, this.#pending.id);
        this.#pending.settle?.reject(new Error(`BridgeNode: request ${this.#pending.id} was superseded by request ${req.id}`));
      }
      this.#pending = req;
      this.#status('info', 'request_queued', `request ${req.id} waits for request ${this.#running.req.id}`, req.id);
      return;
    }
    this.#start(req);
  }

  #start(req: Request): void {
    const abort = new AbortController();
    const slot = { req, abort, done: Promise.resolve() };
    this.#running = slot;
    slot.done = this.#run(req, abort.signal).finally(() => {
      this.#running = undefined;
      const next = this.#pending;
      this.#pending = undefined;
      if (next && !this.#closed) this.#start(next);
      else this.#wakeIdle();
    });
  }

  #wakeIdle(): void {
    if (this.busy) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  async #run(req: Request, signal: AbortSignal): Promise<void> {
    const t0 = performance.now();
    this.#status('info', 'running', `request ${req.id}: ${req.drags.length} drag(s) on a ${req.image.width}x${req.image.height} image`, req.id);
    try {
      const image = req.rgba ?? imageMsgToRgba(req.image);
      let dir: string | undefined;
      if (this.#opts.outDir) {
        dir = join(this.#opts.outDir, `request-${String(req.id).padStart(6, '0')}`);
        await mkdir(dir, { recursive: true });
        await writeFileAtomic(join(dir, 'input.png'), encodePngRgba(image));
        await writeFileAtomic(join(dir, 'bridge-request.json'), JSON.stringify({ drags: req.drags, image_width: image.width, image_height: image.height, drawn_on: { width: req.dragSet.width, height: req.dragSet.height } }, null, 2) + '\n');
      }
      const pr: Parameters<Pipeline['run']>[0] = { image, drags: req.drags, signal };
      if (req.camera) pr.camera = req.camera;
      if (dir) pr.outDir = dir;
      const result = await this.#opts.pipeline.run(pr);
      const frameId = this.#opts.frameId ?? 'world';
      const header: Header = { stamp: req.image.header?.stamp ?? this.#now(), frame_id: frameId };
      const moving = movingGaussianIndices(result.articulation, result.initial, result.dragged);
      const files = { ...result.files };
      const timings: Record<string, number> = { ...result.timings, bridge_total_ms: performance.now() - t0 };
      if (dir) {
        if (!Object.keys(files).some((k) => k.endsWith('.urdf') || files[k]!.endsWith('.urdf'))) {
          const p = join(dir, 'robot.urdf');
          await writeFileAtomic(p, result.urdf);
          files['robot.urdf'] = p;
        }
        files['input.png'] = join(dir, 'input.png');
        files['bridge-request.json'] = join(dir, 'bridge-request.json');
      }
      const art = articulationToJson(req.id, frameId, result.articulation, req.drags, files, timings, moving.length);
      if (dir) {
        const p = join(dir, 'bridge-articulation.json');
        await writeFileAtomic(p, JSON.stringify(art, null, 2) + '\n');
      }
      await this.#publish({ topic: 'urdf', type: ROS_TYPE.string, msg: { data: xmlAscii(result.urdf) } });
      await this.#publish({ topic: 'articulation', type: ROS_TYPE.string, msg: { data: asciiJson(art) } });
      await this.#publish({ topic: 'gaussians', type: ROS_TYPE.pointCloud2, msg: gaussiansToPointCloud2(result.dragged, header) });
      await this.#publish({ topic: 'markers', type: ROS_TYPE.markerArray, msg: articulationMarkers(result.articulation, result.initial, result.dragged, header, this.#opts.markers) });
      let rollout: RolloutSummary | undefined;
      if (this.#opts.simulate && dir) {
        try {
          const t1 = performance.now();
          rollout = await this.#opts.simulate({ request: req.id, dir, urdf: result.urdf, files, signal });
          if (rollout.trajectory) {
            const p = join(dir, 'rollout.json');
            await writeFileAtomic(p, JSON.stringify(rollout) + '\n');
            files['rollout.json'] = p;
          }
          timings['simulate'] = performance.now() - t1;
          await this.#publish({ topic: 'policy', type: ROS_TYPE.string, msg: { data: asciiJson(rollout) } });
        } catch (err) {
          this.warn('simulation_failed', `request ${req.id}: ${(err as Error).message}`);
        }
      }
      this.stats.done++;
      this.#status('info', 'done', `request ${req.id}: ${result.articulation.joints.map((j) => j.type).join(', ') || 'no joint'} in ${(performance.now() - t0).toFixed(0)} ms${rollout ? `; simulated opening success ${(rollout.success_rate * 100).toFixed(0)}% of ${rollout.trials}` : ''}`, req.id, { timings, dir });
      req.settle?.resolve({ request: req.id, result, dir, articulation: art, files, ...(rollout ? { rollout } : {}) });
    } catch (err) {
      this.stats.failed++;
      this.#status('error', 'failed', `request ${req.id}: ${(err as Error).message}`, req.id);
      req.settle?.reject(err as Error);
    }
  }

  #now(): RosTime {
    return this.#opts.now ? this.#opts.now() : timeFromMs(Date.now());
  }

  #status(level: StatusLevel, event: string, message: string, request?: number, details?: Record<string, unknown>): void {
    const s: Status = statusMessage(level, event, message, this.#now(), request, details);
    this.#opts.log?.(level, `${event}: ${message}`);
    void this.#publish({ topic: 'status', type: ROS_TYPE.string, msg: { data: asciiJson(s) } });
  }

  async #publish(out: NodeOutput): Promise<void> {
    try {
      await this.#opts.publish(out);
    } catch (err) {
      this.#opts.log?.('error', `BridgeNode: publishing ~/${out.topic} failed: ${(err as Error).message}`);
    }
  }
}

/** Cheap validation of an image message on arrival (no pixel conversion). */
export function checkImageMsg(msg: ImageMsg): void {
  if (msg === null || typeof msg !== 'object') throw new Error('RosImage: not a sensor_msgs/Image message');
  if (typeof msg.encoding !== 'string' || !isImageEncoding(msg.encoding)) {
    throw new Error(`RosImage: unsupported encoding "${String(msg.encoding)}"; expected one of ${IMAGE_ENCODINGS.join(', ')}`);
  }
  // Validate with a 1-row view: same checks as the full conversion, constant cost.
  const { width, height, step } = msg;
  const len = msg.data?.length;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`RosImage: image size must be positive, got ${width}x${height}`);
  }
  if (typeof len !== 'number') throw new Error('RosImage: data is not a byte array');
  const bpp = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1 }[msg.encoding];
  if (!(Number.isInteger(step) && step >= width * bpp)) {
    throw new Error(`RosImage: step ${step} is less than width * ${bpp} = ${width * bpp} for ${msg.encoding}`);
  }
  if (len < step * (height - 1) + width * bpp || len > step * height) {
    throw new Error(`RosImage: data has ${len} bytes; ${width}x${height} ${msg.encoding} with step ${step} needs ${step * height}`);
  }
  imageMsgToRgba({ ...msg, height: 1, data: sliceBytes(msg.data, 0, width * bpp) });
}

function sliceBytes(data: ImageMsg['data'], start: number, end: number): ImageMsg['data'] {
  return data instanceof Uint8Array ? data.subarray(start, end) : data.slice(start, end);
}

function lastRequestNumber(outDir: string): number {
  let max = 0;
  try {
    for (const n of readdirSync(outDir)) {
      const m = /^request-(\d+)$/.exec(n);
      if (m) max = Math.max(max, Number(m[1]));
    }
  } catch {
    // No directory yet: start at 1.
  }
  return max;
}
