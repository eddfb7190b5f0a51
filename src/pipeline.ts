/**
 * The product pipeline: one camera image + operator drags -> Gaussians of the initial and the
 * dragged state -> articulation -> URDF. The ROS node, the web page and the CLI all drive it
 * through the `Pipeline` interface below (`createPipeline` builds the real one).
 *
 * Steps (timings under these names):
 *   propagate  segment the part under each operator drag start, sample N drags on it (src/drag)
 *   predict    PartRM ONNX model on the image and the N drags: initial + dragged GaussianSets
 *   joint      both predicted states rendered from the input camera (coverage + depth), the part
 *              mask and the operator's drags -> joint type, axis, origin and motion
 *              (src/articulation/drag-joint.ts; `joint: 'fit'` skips it for the free two-state fit)
 *   sample     10k points per state, opacity-weighted, drawn inside the Gaussians (src/articulation
 *              sampling); 3D drag hints from the splatter image (Gaussian i of both states comes
 *              from the same pixel, so the Gaussian under a drag start gives start and end in 3D)
 *   extract    moving-part segmentation + joint fit + meshes + URDF (src/articulation extract)
 *   write      initial.ply, dragged.ply, articulation.json, base.obj, part.obj, object.urdf,
 *              preview.png, mask.png, drags.json (atomic writes) when `outDir` is given; the two
 *              pictures are painted on the pipeline's painter thread (src/pictures) while the
 *              joint, sample and extract steps run, so this step only writes them
 *
 * Frames: Gaussians come out of the model in its own frame and are mapped to the world/rig frame
 * with the manifest's `model_to_world` (z up). With `camera`, the rig's view-0 camera is placed at
 * `camera.camToWorld`, so everything (Gaussians, joint axis and origin, URDF) is in the caller's
 * world frame; the image is assumed to be taken like the rig's view 0 (the intrinsics are not used
 * by the model).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Camera, cameraCentre, scaleIntrinsics } from './core/camera.js';
import { writeFileAtomic, type RgbaImage } from './core/image.js';
import { type Mat4, type Vec3, mat4InvertRigid, mat4Multiply, transformDirection, transformPoint, transformPoints, vec3 } from './core/math.js';
import { Rng } from './core/random.js';
import type { Articulation, Drag, GaussianSet, PointCloud } from './core/types.js';
import { type DepthView, type DragJointFit, type ViewDrag, fitJointToDrags, labelPointsByView } from './articulation/drag-joint.js';
import type { Box } from './articulation/boxes.js';
import { type KnownJoint, articulationJson, extractArticulation } from './articulation/extract.js';
import { graspOnPart } from './articulation/grasp.js';
import { startFitHelper } from './articulation/pool.js';
import { sampleGaussians } from './articulation/sampling.js';
import { GraphSegmenter } from './drag/graph.js';
import type { Mask, Segmenter } from './drag/segmenter.js';
import { propagateOperatorDrags } from './drag/propagate.js';
import { decomposeSimilarity, transformGaussians } from './gaussians/ops.js';
import { writeGaussianPly } from './gaussians/ply.js';
import { renderGaussians } from './gaussians/render.js';
import { PicturePainter } from './pictures/painter.js';
import type { PictureJob } from './pictures/pictures.js';
import { loadManifest } from './model/manifest.js';
import { PartRMModel } from './model/model.js';
import { checkDrag } from './model/preprocess.js';
import type { OnnxSessionOptions } from './model/session.js';

export interface PipelineRequest {
  /** The camera image (RGBA; alpha < 255 is composited on the model's background). */
  image: RgbaImage;
  /** Operator drags in the image's pixels (x = column, y = row). At least one. */
  drags: Drag[];
  /** The camera that took `image` (OpenCV intrinsics + camToWorld). Default: the model's view-0 rig camera. */
  camera?: Camera;
  /** Where to write the outputs (PLYs, articulation.json, meshes, URDF, pictures); none when absent. */
  outDir?: string;
  /** Aborts between steps (the model forward itself is not interruptible). */
  signal?: AbortSignal;
  /** Images of the manifest's views 1..V-1, only for models with V > 1 input views. */
  extraViews?: RgbaImage[];
  /**
   * Rig frame -> caller's world frame as a similarity 4x4 (row-major; uniform scale allowed, e.g.
   * metres per rig unit). Applied after `camera`'s alignment when both are given.
   */
  rigToWorld?: Mat4;
}

export interface PipelineResult {
  /** The generated URDF text (mesh paths relative to `outDir`). */
  urdf: string;
  articulation: Articulation;
  /** Predicted Gaussians of the dragged state, world/rig frame. */
  dragged: GaussianSet;
  /** Predicted Gaussians of the initial state, world/rig frame. */
  initial: GaussianSet;
  /** Output name -> absolute path of each file written (empty without `outDir`). */
  files: Record<string, string>;
  /** Step name -> milliseconds. */
  timings: Record<string, number>;
}

export interface Pipeline {
  run(req: PipelineRequest): Promise<PipelineResult>;
  dispose(): Promise<void>;
}

/** What the articulation step gets: point samples of both states (same frame). */
export interface ExtractionInput {
  /** Points of the initial state (no correspondence with `dragged` is implied). */
  initial: PointCloud;
  dragged: PointCloud;
  /** 3D drag hints (a point on the moving part in the initial state and where it went). */
  drags3d: Array<{ start: Vec3; end: Vec3 }>;
  /** Deterministic seed. */
  seed: number;
  signal?: AbortSignal;
  /** The joint from the `joint` step with the initial points' part labels (absent with `joint: 'fit'`). */
  joint?: KnownJoint;
}

export interface ExtractionOutput {
  articulation: Articulation;
  /** URDF text referencing the meshes by the relative names in `meshes` (e.g. base.obj). */
  urdf: string;
  /** Relative file name -> OBJ text (base.obj, part.obj). */
  meshes: Record<string, string>;
  /** The moving part's collision boxes in the URDF (initial state, output frame): the grasp is placed on them. */
  partBoxes?: Box[];
}

/** Moving-part segmentation + joint fit + meshes + URDF (the articulation module provides it). */
export type ArticulationStep = (input: ExtractionInput) => Promise<ExtractionOutput>;

export interface PipelineOptions {
  /** Manifest path, a directory holding manifest.json, an .onnx path (manifest.json beside it), or a loaded model. Default: the shipped models/manifest.json. */
  model?: string | PartRMModel;
  /** Default: GraphSegmenter (weight-free). */
  segmenter?: Segmenter;
  /** Default: the articulation module's `extractArticulation` (see `defaultArticulationStep`). */
  extract?: ArticulationStep;
  /** Drag sampling's preference for mask pixels near the click (see `PropagateOptions.locality`; default 0.3, 0 = uniform as PartRM). */
  locality?: number;
  /**
   * How the joint is found: 'drags' (default) chooses among drawer/door/lid joint hypotheses of the
   * part's box by the operator's drags and the renders of both predicted states
   * (src/articulation/drag-joint.ts), robust to a coarse model; 'fit' fits the joint freely between
   * the two predicted point clouds (src/articulation/fit.ts), for models whose prediction keeps the
   * part's shape (e.g. the official weights).
   */
  joint?: 'drags' | 'fit';
  /** Points sampled per state for the articulation step (default 10000). */
  points?: number;
  /** Seed for drag and point sampling (default 0): same input, same output. */
  seed?: number;
  /** Render preview.png (initial | dragged from the input view and two more) when writing (default true). */
  pictures?: boolean;
  /** onnxruntime session options (providers, threads, worker). */
  session?: OnnxSessionOptions;
}

/** Package root (src/pipeline.ts and dist/src/pipeline.js sit below it). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (extname(dir) === '' && (dir.endsWith('/src') || dir.endsWith('/dist'))) return dirname(dir);
    dir = dirname(dir);
  }
  return process.cwd();
}

/** The shipped default model's manifest. */
export function defaultManifestPath(): string {
  return join(packageRoot(), 'models', 'manifest.json');
}

/**
 * A manifest path from a manifest path, a model directory (its manifest.json), or an .onnx path
 * (X.json beside X.onnx when present, else manifest.json beside it; `PartRMPipeline.create` checks
 * that the manifest describes that .onnx).
 */
export function resolveManifestPath(model: string): string {
  const p = resolve(model);
  if (p.endsWith('.json')) return p;
  if (p.endsWith('.onnx')) {
    const own = p.slice(0, -'.onnx'.length) + '.json';
    return existsSync(own) ? own : join(dirname(p), 'manifest.json');
  }
  return join(p, 'manifest.json');
}

/** The articulation module's extraction (joint fit, meshes, collision boxes, URDF). */
export const defaultArticulationStep: ArticulationStep = async (input) => {
  const x = await extractArticulation({
    initial: input.initial,
    dragged: input.dragged,
    drags3d: input.drags3d,
    seed: input.seed,
    ...(input.joint ? { joint: input.joint } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  });
  return { articulation: x.articulation, urdf: x.urdf, meshes: x.meshes, partBoxes: x.partBoxes };
};

/** 3D drag hints through the splatter image: the Gaussian under each drag start, in both states. */
function dragHints(model: PartRMModel, image: RgbaImage, drags: Drag[], initial: GaussianSet, dragged: GaussianSet): Array<{ start: Vec3; end: Vec3 }> {
  const m = model.manifest;
  const perView = m.gaussians / m.views;
  const side = Math.round(Math.sqrt(perView));
  if (side * side !== perView) return [];
  const out: Array<{ start: Vec3; end: Vec3 }> = [];
  for (const d of drags) {
    const col = Math.min(side - 1, Math.max(0, Math.floor((d.start[0] / image.width) * side)));
    const row = Math.min(side - 1, Math.max(0, Math.floor((d.start[1] / image.height) * side)));
    const i = row * side + col;
    if (initial.opacities[i]! < 0.05) continue;
    const p = initial.positions, q = dragged.positions;
    out.push({ start: [p[3 * i]!, p[3 * i + 1]!, p[3 * i + 2]!], end: [q[3 * i]!, q[3 * i + 1]!, q[3 * i + 2]!] });
  }
  return out;
}

/** Side of the square renders the joint step works on (the shipped model's input size). */
const JOINT_VIEW_SIZE = 64;

function depthView(set: GaussianSet, camera: Camera): DepthView {
  const r = renderGaussians(set, camera);
  return { camera, alpha: r.alpha, depth: r.depth };
}

/**
 * The initial state rendered from the rig's view 0 (the input camera) and the candidate part
 * regions on that grid: the union of the segmenter's masks and, where the segmenter gives one,
 * the union of their extents (see `Mask.extent`).
 */
function jointViews(model: PartRMModel, image: RgbaImage, masks: Mask[], initial: GaussianSet): { view: DepthView; parts: Array<{ region: 'segment' | 'extent'; mask: Uint8Array }> } {
  const cam0 = model.manifest.worldCameraView0;
  const S = JOINT_VIEW_SIZE;
  const camera: Camera = { intrinsics: scaleIntrinsics(cam0.intrinsics, S, S), camToWorld: cam0.camToWorld };
  const usable = masks.filter((m) => m.width === image.width && m.height === image.height);
  const onGrid = (pick: (m: Mask) => Uint8Array | undefined): Uint8Array => {
    const out = new Uint8Array(S * S);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const ix = Math.min(image.width - 1, Math.floor(((x + 0.5) / S) * image.width));
        const iy = Math.min(image.height - 1, Math.floor(((y + 0.5) / S) * image.height));
        out[y * S + x] = usable.some((m) => pick(m)?.[iy * image.width + ix]) ? 1 : 0;
      }
    }
    return out;
  };
  const parts: Array<{ region: 'segment' | 'extent'; mask: Uint8Array }> = [{ region: 'segment', mask: onGrid((m) => m.data) }];
  if (usable.some((m) => m.extent)) {
    const extent = onGrid((m) => m.extent ?? m.data);
    if (extent.some((v, i) => v !== parts[0]!.mask[i])) parts.push({ region: 'extent', mask: extent });
  }
  return { view: depthView(initial, camera), parts };
}

/**
 * The drag joint (rig frame) in the output frame; confidence from the cost margin to the best
 * hypothesis of another type or axis.
 */
function knownJointToWorld(fit: DragJointFit, worldFromRig: Mat4): Omit<KnownJoint, 'movingInitial' | 'keptInitial'> {
  const b = fit.joint;
  const alt = fit.hypotheses.find((h) => h.type !== b.type || Math.abs(vec3.dot(h.axis, b.axis)) < 0.9);
  const confidence = alt ? Math.max(0, Math.min(1, (alt.cost - fit.best.cost) / Math.max(alt.cost, 1e-9))) : 1;
  const { scale, rotation } = decomposeSimilarity(worldFromRig);
  return {
    type: b.type,
    axis: vec3.normalize(transformDirection(rotation, b.axis)),
    origin: transformPoint(worldFromRig, b.origin),
    motion: b.type === 'prismatic' ? b.motion * scale : b.motion,
    confidence,
  };
}

export class PartRMPipeline implements Pipeline {
  private constructor(
    readonly model: PartRMModel,
    private readonly ownsModel: boolean,
    readonly segmenter: Segmenter,
    private readonly extract: ArticulationStep,
    private readonly options: PipelineOptions,
    private readonly painter: PicturePainter,
  ) {}

  static async create(options: PipelineOptions = {}): Promise<PartRMPipeline> {
    // The joint fit's helper thread starts while the model loads (it uses the second core when
    // one is idle; a pipeline serves many requests, so its start is paid once).
    const fitHelper = startFitHelper();
    let model: PartRMModel;
    let owns = false;
    // So does the thread that paints mask.png and preview.png while a run's later steps go on
    // (given back when the pipeline cannot be made).
    const painter = PicturePainter.start();
    try {
      if (options.model instanceof PartRMModel) {
        model = options.model;
      } else {
        const given = options.model ?? defaultManifestPath();
        const manifestPath = resolveManifestPath(given);
        if (!existsSync(manifestPath)) {
          throw new Error(
            options.model === undefined
              ? `Pipeline: the default model's manifest ${manifestPath} does not exist; pass --model (a manifest.json, a model directory or an .onnx)`
              : `Pipeline: no manifest for model ${given} (looked for ${manifestPath})`,
          );
        }
        const manifest = loadManifest(manifestPath);
        if (given.endsWith('.onnx') && resolve(given) !== manifest.modelPath) {
          throw new Error(`Pipeline: ${manifestPath} describes ${manifest.modelPath}, not ${resolve(given)}`);
        }
        model = await PartRMModel.load(manifest, options.session ?? {});
        owns = true;
      }
    } catch (err) {
      await painter.dispose();
      throw err;
    }
    await fitHelper;
    return new PartRMPipeline(model, owns, options.segmenter ?? new GraphSegmenter(), options.extract ?? defaultArticulationStep, options, painter);
  }

  async run(req: PipelineRequest): Promise<PipelineResult> {
    const t = (): number => performance.now();
    const timings: Record<string, number> = {};
    const t0 = t();
    const { image, signal } = req;
    if (!image || !(image.width > 0 && image.height > 0) || image.data?.length !== image.width * image.height * 4) {
      throw new Error('Pipeline: image must be an RGBA image with width * height * 4 bytes');
    }
    if (!Array.isArray(req.drags) || req.drags.length === 0) throw new Error('Pipeline: at least one drag is needed');
    req.drags.forEach((d, i) => checkDrag(d, image.width, image.height, `drag ${i}`));
    if (req.camera) {
      const c = req.camera.camToWorld;
      if (!c || c.length !== 16 || !Array.from(c).every(Number.isFinite)) throw new Error('Pipeline: camera.camToWorld must be 16 finite numbers (row-major 4x4)');
      try {
        const sim = decomposeSimilarity(c);
        if (Math.abs(sim.scale - 1) > 1e-3) throw new Error(`scale ${sim.scale}`);
      } catch (err) {
        throw new Error(`Pipeline: camera.camToWorld must be a rigid transform (${(err as Error).message})`, { cause: err });
      }
    }
    if (req.rigToWorld) {
      try {
        decomposeSimilarity(req.rigToWorld);
      } catch (err) {
        throw new Error(`Pipeline: rigToWorld must be a similarity 4x4 (${(err as Error).message})`, { cause: err });
      }
    }
    const m = this.model.manifest;
    const seed = this.options.seed ?? 0;
    const rng = new Rng(seed);

    // propagate
    let ts = t();
    const propagated = await propagateOperatorDrags(image, req.drags, this.segmenter, m.drags, rng.fork(1), {
      ...(signal ? { signal } : {}),
      ...(this.options.locality !== undefined ? { locality: this.options.locality } : {}),
    });
    timings['propagate'] = t() - ts;
    signal?.throwIfAborted();
    // The pictures are painted on the painter's thread while the later steps run here.
    const paint = (job: PictureJob): Promise<Uint8Array> => {
      const png = this.painter.paint(job);
      png.catch(() => undefined); // awaited in the write step; a run that fails before then drops it
      return png;
    };
    const maskPng = req.outDir ? paint({ kind: 'mask', image, masks: propagated.masks, drags: req.drags }) : undefined;

    // predict
    ts = t();
    const prediction = await this.model.predict({ image, drags: propagated.drags, ...(req.extraViews ? { extraViews: req.extraViews } : {}) });
    timings['predict'] = t() - ts;
    timings['inference'] = prediction.timings.inferenceMs;
    signal?.throwIfAborted();
    let worldFromRig: Mat4 = Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    if (req.camera) worldFromRig = mat4Multiply(req.camera.camToWorld, mat4InvertRigid(m.worldCameraView0.camToWorld));
    if (req.rigToWorld) worldFromRig = mat4Multiply(req.rigToWorld, worldFromRig);
    const moved = req.camera !== undefined || req.rigToWorld !== undefined;
    const initial = moved ? transformGaussians(prediction.initial, worldFromRig) : prediction.initial;
    const dragged = moved ? transformGaussians(prediction.dragged, worldFromRig) : prediction.dragged;
    const previewPng = req.outDir && (this.options.pictures ?? true) ? paint({ kind: 'preview', camera: m.worldCameraView0, initial, dragged, worldFromRig }) : undefined;

    // joint (rig frame): renders of both predicted states from the input camera
    // The drag joint with the view and part region it was found on (they label the sampled points).
    let dragJoint: { fit: DragJointFit; view: DepthView; partMask: Uint8Array } | undefined;
    let jointNote = 'two-state fit (joint: fit)';
    if ((this.options.joint ?? 'drags') === 'drags') {
      ts = t();
      const views = jointViews(this.model, image, propagated.masks, prediction.initial);
      const draggedView = depthView(prediction.dragged, views.view.camera);
      const scaleX = JOINT_VIEW_SIZE / image.width, scaleY = JOINT_VIEW_SIZE / image.height;
      const drags: ViewDrag[] = req.drags.map((d) => ({ start: [d.start[0] * scaleX, d.start[1] * scaleY], end: [d.end[0] * scaleX, d.end[1] * scaleY] }));
      // Each candidate part region (the segment; its extent when the segmenter gives one) places
      // the part's box, hence the hinges; the lower-cost explanation of the drags wins (a segment
      // on one plank of a textured door puts its hinges inside the door; an extent that runs over
      // a neighbouring drawer of the same wood makes one part of two).
      let error: Error | undefined;
      for (const part of views.parts) {
        try {
          const fit = fitJointToDrags({ initial: views.view, dragged: draggedView, partMask: part.mask, drags });
          if (!dragJoint || fit.best.cost < dragJoint.fit.best.cost) {
            dragJoint = { fit, view: views.view, partMask: part.mask };
            jointNote = `drag joint (part: ${part.region}): ${fit.joint.label}`;
          }
        } catch (err) {
          error ??= err as Error;
        }
      }
      // A mask off the object or a part the model does not show: the free fit still answers.
      if (!dragJoint) jointNote = `two-state fit (drag joint failed: ${error?.message})`;
      timings['joint'] = t() - ts;
      signal?.throwIfAborted();
    }

    // sample (drawn in the rig frame so that the joint step's view labels them, then moved)
    ts = t();
    const count = this.options.points ?? 10000;
    const initialRig = sampleGaussians(prediction.initial, count, rng.fork(2));
    const draggedRig = sampleGaussians(prediction.dragged, count, rng.fork(3));
    const initialPts = moved ? { ...initialRig, positions: transformPoints(worldFromRig, initialRig.positions) } : initialRig;
    const draggedPts = moved ? { ...draggedRig, positions: transformPoints(worldFromRig, draggedRig.positions) } : draggedRig;
    const drags3d = dragHints(this.model, image, propagated.drags, initial, dragged);
    let joint: KnownJoint | undefined;
    if (dragJoint) {
      const labels = labelPointsByView(initialRig.positions, dragJoint.view, dragJoint.partMask, 0.1 * dragJoint.fit.size);
      joint = { ...knownJointToWorld(dragJoint.fit, worldFromRig), movingInitial: labels.moving, keptInitial: labels.onObject };
    }
    // The operator's first drag starts on the part's handle: its 3D point (initial state, output
    // frame) is the grasp point a policy derived from this URDF uses (articulation.json "grasp").
    const graspAtStart = dragJoint ? transformPoint(worldFromRig, dragJoint.fit.starts[0]!) : dragHints(this.model, image, req.drags.slice(0, 1), initial, dragged)[0]?.start;
    timings['sample'] = t() - ts;
    signal?.throwIfAborted();

    // extract
    ts = t();
    const base = { initial: initialPts, dragged: draggedPts, drags3d, seed, ...(signal ? { signal } : {}) };
    let extraction: ExtractionOutput;
    try {
      extraction = await this.extract(joint ? { ...base, joint } : base);
    } catch (err) {
      // The drag joint's part labels can leave too few points after outlier removal (a sliver of
      // a part): the free fit still answers, and articulation.json says so.
      if (!joint || signal?.aborted) throw err;
      jointNote = `two-state fit (drag joint's extraction failed: ${(err as Error).message})`;
      extraction = await this.extract(base);
    }
    // The grasp's depth came from a blended render; along the input camera's ray it moves onto
    // the part's collision boxes, so that a policy trained on this URDF closes its fingers on the
    // part (src/articulation/grasp.ts).
    let grasp = graspAtStart;
    const depthFrom = dragJoint ? 'depth of the render' : 'the Gaussian under its pixel';
    let graspMethod = grasp ? `drag start (${depthFrom})` : undefined;
    if (grasp && extraction.partBoxes && extraction.partBoxes.length > 0) {
      const on = graspOnPart(transformPoint(worldFromRig, cameraCentre(m.worldCameraView0)), grasp, extraction.partBoxes);
      grasp = on.point;
      graspMethod = on.method === 'drag start' ? `drag start (${depthFrom}; no part box near it on its camera ray)` : `${on.method} along the drag start's camera ray (moved ${on.shift.toPrecision(3)})`;
    }
    timings['extract'] = t() - ts;
    signal?.throwIfAborted();

    // write
    const files: Record<string, string> = {};
    if (req.outDir) {
      ts = t();
      const dir = resolve(req.outDir);
      mkdirSync(dir, { recursive: true });
      const put = async (name: string, bytes: Uint8Array | string): Promise<void> => {
        const path = join(dir, name);
        await writeFileAtomic(path, bytes);
        files[name] = path;
      };
      // Meshes before the URDF that references them.
      for (const [name, text] of Object.entries(extraction.meshes)) await put(name, text);
      await put('initial.ply', writeGaussianPly(initial));
      await put('dragged.ply', writeGaussianPly(dragged));
      await put(
        'articulation.json',
        JSON.stringify(
          {
            ...articulationJson(extraction.articulation),
            ...(grasp ? { grasp, graspMethod } : {}),
            frame: moved ? 'caller world (camera / rigToWorld)' : 'rig (manifest model_to_world)',
            worldFromRig: Array.from(worldFromRig),
            model: { manifest: m.path, config: m.config, provider: prediction.provider },
            segmenter: this.segmenter.name,
            jointMethod: jointNote,
            operatorDrags: req.drags,
            propagatedDrags: propagated.drags,
            segmenterFallbacks: propagated.fallbacks,
          },
          null,
          1,
        ) + '\n',
      );
      await put('drags.json', JSON.stringify({ drags: propagated.drags }) + '\n');
      if (maskPng) await put('mask.png', await maskPng);
      if (previewPng) await put('preview.png', await previewPng);
      await put('object.urdf', extraction.urdf);
      timings['write'] = t() - ts;
    }
    timings['total'] = t() - t0;
    return { urdf: extraction.urdf, articulation: extraction.articulation, initial, dragged, files, timings };
  }

  async dispose(): Promise<void> {
    await this.painter.dispose();
    await this.segmenter.dispose?.();
    if (this.ownsModel) await this.model.dispose();
  }
}

/**
 * The real pipeline, for the bridge's seam (src/ros/pipeline-seam.ts): `model` is a manifest path,
 * a model directory or an .onnx path; other keys are ignored.
 */
export async function createPipeline(options: PipelineOptions | Record<string, unknown> = {}): Promise<Pipeline> {
  const o = options as PipelineOptions;
  return PartRMPipeline.create(o);
}

/** One-shot convenience: builds a pipeline, runs one request, disposes what it created. */
export async function runPipeline(req: PipelineRequest & PipelineOptions): Promise<PipelineResult> {
  const { image, drags, camera, outDir, signal, extraViews, rigToWorld, ...options } = req;
  const pipeline = await PartRMPipeline.create(options);
  try {
    return await pipeline.run({ image, drags, camera, outDir, signal, extraViews, rigToWorld });
  } finally {
    await pipeline.dispose();
  }
}
