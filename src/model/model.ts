/**
 * PartRMModel: a PartRM-compatible ONNX model and its manifest. `predict` builds the input tensors
 * from the camera image and the (propagated) drags, runs the initial state (zero-displacement drags:
 * end = start) and the dragged state, and returns both GaussianSets in the world frame.
 */
import { existsSync } from 'node:fs';
import type { RgbaImage } from '../core/image.js';
import type { Drag, GaussianSet } from '../core/types.js';
import { type ModelManifest, loadManifest } from './manifest.js';
import { gaussiansFromOutput, modelToWorldGaussians } from './postprocess.js';
import { buildDragTensors, buildImagesTensor, checkDrag, toDragSpace } from './preprocess.js';
import { OnnxSession, type OnnxSessionOptions, type TensorData, type TensorInfo } from './session.js';

export interface PredictRequest {
  /** The camera image (view 0). */
  image: RgbaImage;
  /** Drags in `image` pixels (already propagated: up to `manifest.drags`; fewer are repeated). */
  drags: Drag[];
  /** Images of manifest views 1..V-1 for models with V > 1 (this product has no view generator). */
  extraViews?: RgbaImage[];
}

export interface Prediction {
  /** Initial state (zero-displacement drags), world frame. */
  initial: GaussianSet;
  /** Dragged state, world frame. */
  dragged: GaussianSet;
  /** Both states in the model frame (before `model_to_world`). */
  modelFrame: { initial: GaussianSet; dragged: GaussianSet };
  /** The drag-space drags fed to the model (start, end), before clamping and repetition. */
  dragSpaceDrags: Drag[];
  provider: string;
  timings: { preprocessMs: number; inferenceMs: number; postprocessMs: number };
}

export const INPUT_NAMES = ['images', 'drags_start', 'drags_end'] as const;
export const OUTPUT_NAME = 'gaussians';

function shapeMatches(actual: Array<number | string>, expected: Array<number | null>): boolean {
  if (actual.length === 0) return true; // unknown shape: checked at run time
  if (actual.length !== expected.length) return false;
  return expected.every((e, i) => {
    const a = actual[i];
    return e === null || typeof a !== 'number' || a < 0 || a === e;
  });
}

/** Batch size the model accepts: null = dynamic; a number when fixed. */
function batchDim(info: TensorInfo): number | null {
  const b = info.shape[0];
  return typeof b === 'number' && b > 0 ? b : null;
}

export class PartRMModel {
  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: OnnxSession,
    private readonly fixedBatch: number | null,
  ) {}

  /** Loads the manifest and its model; checks the model's tensors against the manifest. */
  static async load(manifestOrPath: string | ModelManifest, options: OnnxSessionOptions = {}): Promise<PartRMModel> {
    const manifest = typeof manifestOrPath === 'string' ? loadManifest(manifestOrPath) : manifestOrPath;
    if (!existsSync(manifest.modelPath)) {
      throw new Error(`PartRMModel: model file ${manifest.modelPath} (from ${manifest.path || 'the manifest'}) does not exist`);
    }
    const session = await OnnxSession.open(manifest.modelPath, options);
    try {
      const fixedBatch = PartRMModel.check(manifest, session);
      return new PartRMModel(manifest, session, fixedBatch);
    } catch (err) {
      await session.close();
      throw err;
    }
  }

  private static check(m: ModelManifest, session: OnnxSession): number | null {
    const { inputs, outputs } = session.info;
    const where = `${m.modelPath}`;
    const find = (list: TensorInfo[], name: string, kind: string): TensorInfo => {
      const t = list.find((x) => x.name === name);
      if (!t) throw new Error(`PartRMModel: ${where} has no ${kind} '${name}' (has ${list.map((x) => x.name).join(', ') || 'none'})`);
      if (t.type !== 'unknown' && t.type !== 'float32') throw new Error(`PartRMModel: ${kind} '${name}' of ${where} is ${t.type}, expected float32`);
      return t;
    };
    const expected: Record<string, Array<number | null>> = {
      images: [null, m.views, 9, m.height, m.width],
      drags_start: [null, m.views, m.drags, 2],
      drags_end: [null, m.views, m.drags, 2],
    };
    let fixed: number | null = null;
    for (const name of INPUT_NAMES) {
      const t = find(inputs, name, 'input');
      const want = expected[name]!;
      if (!shapeMatches(t.shape, want)) {
        throw new Error(
          `PartRMModel: input '${name}' of ${where} has shape [${t.shape.join(', ')}], the manifest declares [B, ${want.slice(1).join(', ')}]`,
        );
      }
      fixed = batchDim(t) ?? fixed;
    }
    const out = find(outputs, OUTPUT_NAME, 'output');
    if (!shapeMatches(out.shape, [null, m.gaussians, 14])) {
      throw new Error(`PartRMModel: output 'gaussians' of ${where} has shape [${out.shape.join(', ')}], the manifest declares [B, ${m.gaussians}, 14]`);
    }
    if (inputs.length !== INPUT_NAMES.length) {
      throw new Error(`PartRMModel: ${where} takes inputs ${inputs.map((x) => x.name).join(', ')}, expected exactly ${INPUT_NAMES.join(', ')}`);
    }
    if (fixed !== null && fixed !== 1 && fixed !== 2) throw new Error(`PartRMModel: ${where} has a fixed batch size ${fixed}; 1, 2 or dynamic is needed`);
    return fixed;
  }

  get provider(): string {
    return this.session.provider;
  }

  get sessionInfo(): OnnxSession['info'] {
    return this.session.info;
  }

  /**
   * Runs the network on prepared tensors for `batch` samples: images [B, V, 9, H, W], drags
   * [B, V, N, 2]. Returns the raw [B, G, 14] output.
   */
  async runTensors(batch: number, images: Float32Array, start: Float32Array, end: Float32Array): Promise<Float32Array> {
    const { views: V, height: H, width: W, drags: N, gaussians: G } = this.manifest;
    const feeds: Record<string, TensorData> = {
      images: { data: images, dims: [batch, V, 9, H, W] },
      drags_start: { data: start, dims: [batch, V, N, 2] },
      drags_end: { data: end, dims: [batch, V, N, 2] },
    };
    for (const [name, t] of Object.entries(feeds)) {
      const want = t.dims.reduce((a, b) => a * b, 1);
      if (t.data.length !== want) throw new Error(`PartRMModel: ${name} has ${t.data.length} values, expected [${t.dims.join(', ')}] = ${want}`);
    }
    const outputs = await this.session.run(feeds);
    const out = outputs[OUTPUT_NAME];
    if (!out) throw new Error(`PartRMModel: the model returned no '${OUTPUT_NAME}' output`);
    const dims = out.dims;
    if (dims.length !== 3 || dims[0] !== batch || dims[1] !== G || dims[2] !== 14) {
      throw new Error(`PartRMModel: output 'gaussians' has shape [${dims.join(', ')}], the manifest declares [${batch}, ${G}, 14]`);
    }
    return out.data;
  }

  async predict(req: PredictRequest): Promise<Prediction> {
    const m = this.manifest;
    const t0 = performance.now();
    const { image } = req;
    if (!image || !(image.width > 0 && image.height > 0) || image.data?.length !== image.width * image.height * 4) {
      throw new Error('PartRMModel: image must be an RGBA image with width * height * 4 bytes');
    }
    if (!Array.isArray(req.drags) || req.drags.length === 0) throw new Error('PartRMModel: at least one drag is needed');
    req.drags.forEach((d, i) => checkDrag(d, image.width, image.height, `drag ${i}`));
    const extra = req.extraViews ?? [];
    if (m.views > 1 && extra.length !== m.views - 1) {
      throw new Error(
        `PartRMModel: this model takes ${m.views} views; pass the ${m.views - 1} extra view image(s) rendered at the manifest's cameras 1..${m.views - 1} as extraViews (got ${extra.length})`,
      );
    }
    if (m.views === 1 && extra.length > 0) throw new Error(`PartRMModel: this model takes one view, got ${extra.length} extra view(s)`);

    const dragSpaceDrags: Drag[] = req.drags.map((d) => ({
      start: toDragSpace(d.start, image.width, image.height, m.dragSpace),
      end: toDragSpace(d.end, image.width, image.height, m.dragSpace),
    }));
    const still = dragSpaceDrags.map((d) => ({ start: d.start, end: d.start }));
    const one = buildImagesTensor(m, [image, ...extra]);
    const d0 = buildDragTensors(still, m.views, m.drags, m.dragSpace);
    const d1 = buildDragTensors(dragSpaceDrags, m.views, m.drags, m.dragSpace);
    const t1 = performance.now();

    let raw0: Float32Array, raw1: Float32Array;
    const G = m.gaussians;
    if (this.fixedBatch === 1) {
      raw0 = await this.runTensors(1, one.slice(), d0.start, d0.end);
      raw1 = await this.runTensors(1, one, d1.start, d1.end);
    } else {
      const images = new Float32Array(2 * one.length);
      images.set(one, 0);
      images.set(one, one.length);
      const start = new Float32Array(2 * d0.start.length);
      const end = new Float32Array(2 * d0.end.length);
      start.set(d0.start, 0);
      start.set(d1.start, d0.start.length);
      end.set(d0.end, 0);
      end.set(d1.end, d0.end.length);
      const raw = await this.runTensors(2, images, start, end);
      raw0 = raw.subarray(0, G * 14);
      raw1 = raw.subarray(G * 14);
    }
    const t2 = performance.now();
    const initialModel = gaussiansFromOutput(raw0, 1, G);
    const draggedModel = gaussiansFromOutput(raw1, 1, G);
    const initial = modelToWorldGaussians(initialModel, m.modelToWorld);
    const dragged = modelToWorldGaussians(draggedModel, m.modelToWorld);
    const t3 = performance.now();
    return {
      initial,
      dragged,
      modelFrame: { initial: initialModel, dragged: draggedModel },
      dragSpaceDrags,
      provider: this.provider,
      timings: { preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: t3 - t2 },
    };
  }

  async dispose(): Promise<void> {
    await this.session.close();
  }
}
