/**
 * `partrm run` (image + drags -> Gaussians -> articulation -> URDF) and `partrm predict`
 * (image + drags -> Gaussians of both states).
 *
 * drags.json: `{"drags": [{"start": [x, y], "end": [x, y]}]}` or the bare array, in the image's
 * pixels (x = column, y = row, origin at the top-left corner).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { decodePngRgba, encodePngRgba, writeFileAtomic, type RgbaImage } from '../core/image.js';
import { Rng } from '../core/random.js';
import type { Drag } from '../core/types.js';
import { propagateOperatorDrags } from '../drag/propagate.js';
import { GraphSegmenter } from '../drag/graph.js';
import { RegionGrowSegmenter } from '../drag/region.js';
import { SamOnnxSegmenter } from '../drag/sam.js';
import type { Segmenter } from '../drag/segmenter.js';
import { writeGaussianPly } from '../gaussians/ply.js';
import { loadManifest } from '../model/manifest.js';
import { PartRMModel } from '../model/model.js';
import { checkDrag } from '../model/preprocess.js';
import type { ExecutionProvider } from '../model/session.js';
import { PartRMPipeline, defaultManifestPath, resolveManifestPath } from '../pipeline.js';
import { maskPicture, previewPicture } from '../pictures/pictures.js';
import { policyCommand } from './policy.js';

const point = z.tuple([z.number().finite(), z.number().finite()]);
const dragList = z.array(z.object({ start: point, end: point })).min(1);
const DragsFile = z.union([dragList, z.object({ drags: dragList })]);

/** Reads and validates drags.json. */
export function readDragsFile(path: string): Drag[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`run: cannot read --drags ${path} (${(err as Error).message})`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`run: --drags ${path} is not JSON (${(err as Error).message})`, { cause: err });
  }
  const r = DragsFile.safeParse(json);
  if (!r.success) {
    throw new Error(`run: --drags ${path} must be {"drags": [{"start": [x, y], "end": [x, y]}, ...]} with at least one drag of finite pixel coordinates`);
  }
  const list = Array.isArray(r.data) ? r.data : r.data.drags;
  return list.map((d) => ({ start: [d.start[0], d.start[1]], end: [d.end[0], d.end[1]] }));
}

/** Reads a PNG camera image as RGBA. */
export function readImageFile(path: string): RgbaImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`run: cannot read --image ${path} (${(err as Error).message})`, { cause: err });
  }
  try {
    return decodePngRgba(bytes);
  } catch (err) {
    throw new Error(`run: --image ${path} is not a readable PNG (${(err as Error).message.replace(/^Image: /, '')})`, { cause: err });
  }
}

function providersOption(value: string): ExecutionProvider[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of list) if (p !== 'cuda' && p !== 'cpu') throw new InvalidArgumentError(`--providers expects a list of cuda, cpu; got "${p}"`);
  if (list.length === 0) throw new InvalidArgumentError('--providers is empty');
  return list as ExecutionProvider[];
}

function matrixOption(value: string): Float64Array {
  const v = value.split(/[\s,]+/).filter(Boolean).map(Number);
  if (v.length !== 16 || !v.every(Number.isFinite)) throw new InvalidArgumentError(`--rig-to-world expects 16 comma-separated numbers (row-major 4x4), got "${value}"`);
  return Float64Array.from(v);
}

function intArg(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`--${name} expects a non-negative integer, got "${value}"`);
    return Number(value);
  };
}

interface CommonOptions {
  image: string;
  drags: string;
  model?: string;
  out: string;
  segmenter: string;
  samEncoder?: string;
  samDecoder?: string;
  providers?: ExecutionProvider[];
  seed: number;
  json?: boolean;
  pictures: boolean;
  rigToWorld?: Float64Array;
}

async function makeSegmenter(o: CommonOptions): Promise<Segmenter> {
  if (o.segmenter === 'graph') return new GraphSegmenter();
  if (o.segmenter === 'region') return new RegionGrowSegmenter();
  if (o.segmenter === 'sam') {
    if (!o.samEncoder || !o.samDecoder) throw new Error('run: --segmenter sam needs --sam-encoder ENC.onnx and --sam-decoder DEC.onnx');
    return SamOnnxSegmenter.load({ encoder: o.samEncoder, decoder: o.samDecoder, ...(o.providers ? { providers: o.providers } : {}) });
  }
  throw new Error(`run: --segmenter must be graph, region or sam, got "${o.segmenter}"`);
}

function withCommon(cmd: Command): Command {
  return cmd
    .requiredOption('--image <png>', 'camera image (PNG; transparency is composited on the model background)')
    .requiredOption('--drags <json>', 'drags.json: {"drags":[{"start":[x,y],"end":[x,y]}]} in image pixels')
    .requiredOption('--out <dir>', 'output directory')
    .option('--model <path>', `model manifest, model directory or .onnx (default: ${defaultManifestPath()})`)
    .option('--segmenter <name>', 'part segmenter for drag propagation: graph or region (no weights), or sam', 'graph')
    .option('--sam-encoder <onnx>', 'SAM image encoder ONNX (with --segmenter sam)')
    .option('--sam-decoder <onnx>', 'SAM prompt decoder ONNX (with --segmenter sam)')
    .option('--providers <list>', 'onnxruntime execution providers to try in order (default cuda,cpu)', providersOption)
    .option('--seed <n>', 'seed for drag and point sampling', intArg('seed'), 0)
    .option('--rig-to-world <m>', 'rig frame -> world: 16 comma-separated numbers, a row-major similarity (e.g. metres per rig unit; samples/*/sample.json has rigToGroundTruth)', matrixOption)
    .option('--no-pictures', 'skip preview.png')
    .option('--json', 'print the result as JSON');
}

/** Runs a `partrm policy` subcommand in-process (errors propagate instead of exiting). */
async function policySubcommand(args: string[]): Promise<void> {
  const cmd = policyCommand();
  cmd.exitOverride();
  for (const c of cmd.commands) c.exitOverride();
  await cmd.parseAsync(args, { from: 'user' });
}

/**
 * `--policy`: train a Franka opening policy on the generated URDF (drawer for a prismatic joint,
 * door for a revolute one) with `partrm policy train`, then, with `--ground-truth`, evaluate it
 * zero-shot on that URDF with `partrm policy eval`.
 */
async function trainPolicy(outDir: string, urdf: string, o: { sim: string; groundTruth?: string; groundTruthJoint?: string }): Promise<void> {
  const m = /<joint\s+name="([^"]+)"\s+type="(prismatic|revolute)"/.exec(urdf);
  if (!m) throw new Error('run: --policy: the generated URDF has no prismatic or revolute joint to open');
  const policy = join(resolve(outDir), 'policy.json');
  await policySubcommand(['train', '--urdf', join(resolve(outDir), 'object.urdf'), '--joint', m[1]!, '--task', m[2] === 'prismatic' ? 'drawer' : 'door', '--out', policy, '--sim', o.sim, '--no-progress']);
  if (o.groundTruth) {
    await policySubcommand(['eval', '--policy', policy, '--urdf', o.groundTruth, '--joint', o.groundTruthJoint!, '--sim', o.sim, '--no-progress']);
  }
}

export function runCommand(): Command {
  const cmd = new Command('run').description('image + drags -> 3D Gaussians (initial, dragged) -> joint -> meshes + URDF');
  withCommon(cmd)
    .option('--points <n>', 'points sampled per state for the joint fit', intArg('points'), 10000)
    .option('--joint <method>', 'how the joint is found: drags (hypotheses of the part box chosen by the drags and both predicted states; default) or fit (free two-state fit, for models that keep the part shape)', (v: string) => {
      if (v !== 'drags' && v !== 'fit') throw new Error(`run: --joint must be drags or fit, got "${v}"`);
      return v;
    }, 'drags')
    .option('--locality <x>', 'drag sampling preference for mask pixels near the click (0 = uniform as PartRM; default 0.3)', (v: string) => {
      const x = Number(v);
      if (!(x >= 0)) throw new InvalidArgumentError(`--locality expects a number >= 0, got "${v}"`);
      return x;
    })
    .option('--policy', 'then train a Franka opening policy on the generated URDF (partrm policy train; writes policy.json)')
    .option('--sim <backend>', 'simulation backend for --policy: local or listen:PORT', 'local')
    .option('--ground-truth <urdf>', 'with --policy: evaluate the policy zero-shot on this URDF (partrm policy eval)')
    .option('--ground-truth-joint <name>', 'the joint to open in --ground-truth')
    .action(async (o: CommonOptions & { points: number; joint: 'drags' | 'fit'; locality?: number; policy?: boolean; sim: string; groundTruth?: string; groundTruthJoint?: string }) => {
      if (o.groundTruth && !o.policy) throw new Error('run: --ground-truth needs --policy');
      if (o.groundTruth && !o.groundTruthJoint) throw new Error('run: --ground-truth needs --ground-truth-joint NAME (the joint to open in that URDF)');
      if (o.policy && o.json) throw new Error('run: --policy prints its own report; drop --json');
      const image = readImageFile(o.image);
      const drags = readDragsFile(o.drags);
      drags.forEach((d, i) => checkDrag(d, image.width, image.height, `drag ${i}`));
      const segmenter = await makeSegmenter(o);
      const t0 = performance.now();
      const pipeline = await PartRMPipeline.create({
        ...(o.model ? { model: o.model } : {}),
        segmenter,
        points: o.points,
        joint: o.joint,
        ...(o.locality !== undefined ? { locality: o.locality } : {}),
        seed: o.seed,
        pictures: o.pictures,
        ...(o.providers ? { session: { providers: o.providers } } : {}),
      }).catch(async (err: unknown) => {
        await segmenter.dispose?.();
        throw err;
      });
      const loadMs = performance.now() - t0;
      try {
        const r = await pipeline.run({ image, drags, outDir: o.out, ...(o.rigToWorld ? { rigToWorld: o.rigToWorld } : {}) });
        const joint = r.articulation.joints[0];
        const timings = { load: loadMs, ...r.timings };
        if (o.json) {
          console.log(JSON.stringify({
            provider: pipeline.model.provider,
            joints: r.articulation.joints.map((j) => ({ type: j.type, axis: j.axis, origin: j.origin, motion: j.motion, limits: j.limits, confidence: j.confidence })),
            files: r.files,
            timings,
          }, null, 1));
          return;
        }
        const f = (v: readonly number[]): string => `[${v.map((x) => x.toFixed(3)).join(', ')}]`;
        console.log(`model ${pipeline.model.manifest.path} (${pipeline.model.manifest.config}) on ${pipeline.model.provider}; segmenter ${segmenter.name}`);
        if (joint) {
          // Without --rig-to-world the outputs are in the rig frame (the object about 1 unit large), not metres.
          const unit = joint.type === 'revolute' ? `${((joint.motion * 180) / Math.PI).toFixed(1)} deg` : `${joint.motion.toFixed(3)} ${o.rigToWorld ? 'world units' : 'rig units'}`;
          console.log(`joint ${joint.type}: axis ${f(joint.axis)} origin ${f(joint.origin)} motion ${unit} confidence ${joint.confidence.toFixed(2)}`);
        }
        console.log(`wrote ${Object.keys(r.files).join(', ')} to ${resolve(o.out)}`);
        console.log(`timings (ms): ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
        if (o.policy) await trainPolicy(o.out, r.urdf, { sim: o.sim, ...(o.groundTruth ? { groundTruth: o.groundTruth, groundTruthJoint: o.groundTruthJoint! } : {}) });
      } finally {
        await pipeline.dispose();
      }
    });
  return cmd;
}

export function predictCommand(): Command {
  const cmd = new Command('predict').description('image + drags -> 3D Gaussians of the initial and the dragged state (PLY) + preview');
  withCommon(cmd)
    .option('--no-propagate', 'feed the drags as given (up to the model\'s N) instead of propagating them over the part mask')
    .action(async (o: CommonOptions & { propagate: boolean }) => {
      const image = readImageFile(o.image);
      const drags = readDragsFile(o.drags);
      drags.forEach((d, i) => checkDrag(d, image.width, image.height, `drag ${i}`));
      const manifest = loadManifest(resolveManifestPath(o.model ?? defaultManifestPath()));
      const model = await PartRMModel.load(manifest, o.providers ? { providers: o.providers } : {});
      const segmenter = o.propagate ? await makeSegmenter(o) : undefined;
      try {
        const out = resolve(o.out);
        mkdirSync(out, { recursive: true });
        let fed = drags;
        const files: Record<string, string> = {};
        if (segmenter) {
          const p = await propagateOperatorDrags(image, drags, segmenter, manifest.drags, new Rng(o.seed).fork(1));
          fed = p.drags;
          await writeFileAtomic(join(out, 'mask.png'), encodePngRgba(maskPicture(image, p.masks, drags)));
          files['mask.png'] = join(out, 'mask.png');
        }
        const pred = await model.predict({ image, drags: fed });
        const put = async (name: string, bytes: Uint8Array | string): Promise<void> => {
          await writeFileAtomic(join(out, name), bytes);
          files[name] = join(out, name);
        };
        await put('initial.ply', writeGaussianPly(pred.initial));
        await put('dragged.ply', writeGaussianPly(pred.dragged));
        await put('drags.json', JSON.stringify({ drags: fed }) + '\n');
        const identity = Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
        if (o.pictures) await put('preview.png', encodePngRgba(previewPicture(manifest.worldCameraView0, pred.initial, pred.dragged, identity)));
        if (o.json) {
          console.log(JSON.stringify({ provider: pred.provider, gaussians: pred.initial.count, files, timings: pred.timings }, null, 1));
        } else {
          console.log(`model ${manifest.path} on ${pred.provider}: ${pred.initial.count} Gaussians per state, inference ${pred.timings.inferenceMs.toFixed(0)} ms`);
          console.log(`wrote ${Object.keys(files).join(', ')} to ${out}`);
        }
      } finally {
        await segmenter?.dispose?.();
        await model.dispose();
      }
    });
  return cmd;
}
