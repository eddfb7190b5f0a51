/**
 * SAM-style ONNX segmenter for users who supply the weights (none ship with this project): an
 * image encoder ONNX and the prompt decoder exported by segment-anything's
 * `scripts/export_onnx_model.py` (inputs image_embeddings, point_coords, point_labels, mask_input,
 * has_mask_input, orig_im_size; outputs masks, iou_predictions, low_res_masks).
 *
 * Encoder input, detected from its metadata:
 * - [1, 3, S, S] float (the usual encoder export): the image is resized so its long side is S
 *   (1024 for SAM; bilinear, without PIL's antialiasing), normalised with SAM's pixel mean/std
 *   (123.675, 116.28, 103.53) / (58.395, 57.12, 57.375) and zero-padded bottom-right to S x S;
 * - [H, W, 3] float (exports that preprocess inside the graph): the resized image, 0..255 HWC.
 * One positive point at the click plus SAM's padding point (0, 0) with label -1; masks are logits
 * thresholded at 0; like PartRM (multimask output, smallest mask kept), the smallest non-empty
 * mask is returned (`select: 'best'` picks the highest predicted IoU instead).
 */
import { existsSync } from 'node:fs';
import type { RgbaImage } from '../core/image.js';
import type { Vec2 } from '../core/math.js';
import { resizeBilinear } from '../model/preprocess.js';
import { OnnxSession, type OnnxSessionOptions, type TensorData } from '../model/session.js';
import { type Mask, type Segmenter, checkPrompt } from './segmenter.js';

export const SAM_PIXEL_MEAN: [number, number, number] = [123.675, 116.28, 103.53];
export const SAM_PIXEL_STD: [number, number, number] = [58.395, 57.12, 57.375];
export const SAM_DECODER_INPUTS = ['image_embeddings', 'point_coords', 'point_labels', 'mask_input', 'has_mask_input', 'orig_im_size'] as const;

export interface SamOnnxOptions extends OnnxSessionOptions {
  encoder: string;
  decoder: string;
  /** 'smallest' (PartRM) or 'best' (highest iou_predictions). */
  select?: 'smallest' | 'best';
}

/** SAM's ResizeLongestSide target size for an image. */
export function samResizeShape(width: number, height: number, longSide: number): { width: number; height: number } {
  const scale = longSide / Math.max(width, height);
  return { width: Math.floor(width * scale + 0.5), height: Math.floor(height * scale + 0.5) };
}

export class SamOnnxSegmenter implements Segmenter {
  readonly name: string;
  private cache: { image: RgbaImage; embedding: TensorData } | undefined;

  private constructor(
    private readonly encoder: OnnxSession,
    private readonly decoder: OnnxSession,
    private readonly encoderInput: { name: string; layout: 'nchw' | 'hwc'; size: number },
    private readonly embeddingName: string,
    private readonly select: 'smallest' | 'best',
  ) {
    this.name = `sam-onnx (${encoder.modelPath}, ${decoder.modelPath})`;
  }

  static async load(options: SamOnnxOptions): Promise<SamOnnxSegmenter> {
    const { encoder: encPath, decoder: decPath, select = 'smallest', ...sessionOptions } = options;
    for (const [what, p] of [['encoder', encPath], ['decoder', decPath]] as const) {
      if (!existsSync(p)) throw new Error(`SamOnnxSegmenter: ${what} model ${p} does not exist`);
    }
    const encoder = await OnnxSession.open(encPath, sessionOptions);
    let decoder: OnnxSession | undefined;
    try {
      decoder = await OnnxSession.open(decPath, sessionOptions);
      const ins = encoder.info.inputs;
      if (ins.length !== 1) throw new Error(`SamOnnxSegmenter: encoder ${encPath} must take one image input, has ${ins.map((i) => i.name).join(', ')}`);
      const input = ins[0]!;
      const shape = input.shape;
      let layout: 'nchw' | 'hwc';
      let size = 1024;
      if (shape.length === 4) {
        layout = 'nchw';
        if (typeof shape[1] === 'number' && shape[1] !== 3) throw new Error(`SamOnnxSegmenter: encoder input '${input.name}' has ${shape[1]} channels, expected 3`);
        if (typeof shape[2] === 'number' && shape[2] > 0) size = shape[2];
      } else if (shape.length === 3) {
        layout = 'hwc';
      } else {
        throw new Error(`SamOnnxSegmenter: encoder input '${input.name}' has shape [${shape.join(', ')}], expected [1, 3, S, S] or [H, W, 3]`);
      }
      const decNames = decoder.info.inputs.map((i) => i.name);
      const missing = SAM_DECODER_INPUTS.filter((n) => !decNames.includes(n));
      if (missing.length) throw new Error(`SamOnnxSegmenter: decoder ${decPath} lacks input(s) ${missing.join(', ')} (has ${decNames.join(', ')})`);
      if (!decoder.info.outputs.some((o) => o.name === 'masks')) throw new Error(`SamOnnxSegmenter: decoder ${decPath} has no 'masks' output`);
      const embedding = encoder.info.outputs.find((o) => o.name === 'image_embeddings') ?? encoder.info.outputs[0];
      if (!embedding) throw new Error(`SamOnnxSegmenter: encoder ${encPath} has no output`);
      return new SamOnnxSegmenter(encoder, decoder, { name: input.name, layout, size }, embedding.name, select);
    } catch (err) {
      await encoder.close();
      await decoder?.close();
      throw err;
    }
  }

  private async embed(image: RgbaImage): Promise<TensorData> {
    if (this.cache && this.cache.image === image) return this.cache.embedding;
    const { layout, size, name } = this.encoderInput;
    const { width: W, height: H } = image;
    const rs = samResizeShape(W, H, size);
    const rgb = new Float32Array(3 * W * H);
    for (let p = 0; p < W * H; p++) {
      // Transparent pixels count as white (the dataset's and the model's background).
      const a = image.data[4 * p + 3]! / 255;
      for (let c = 0; c < 3; c++) rgb[3 * p + c] = image.data[4 * p + c]! * a + 255 * (1 - a);
    }
    const resized = resizeBilinear(rgb, W, H, 3, rs.width, rs.height);
    let feed: TensorData;
    if (layout === 'nchw') {
      const plane = size * size;
      const data = new Float32Array(3 * plane);
      for (let y = 0; y < rs.height; y++) {
        for (let x = 0; x < rs.width; x++) {
          const s = 3 * (y * rs.width + x);
          for (let c = 0; c < 3; c++) data[c * plane + y * size + x] = (resized[s + c]! - SAM_PIXEL_MEAN[c]!) / SAM_PIXEL_STD[c]!;
        }
      }
      feed = { data, dims: [1, 3, size, size] };
    } else {
      feed = { data: resized, dims: [rs.height, rs.width, 3] };
    }
    const out = await this.encoder.run({ [name]: feed });
    const embedding = out[this.embeddingName];
    if (!embedding) throw new Error(`SamOnnxSegmenter: encoder returned no '${this.embeddingName}'`);
    this.cache = { image, embedding };
    return embedding;
  }

  async segment(image: RgbaImage, point: Vec2, signal?: AbortSignal): Promise<Mask> {
    checkPrompt(image, point, 'SamOnnxSegmenter');
    const emb = await this.embed(image);
    signal?.throwIfAborted();
    const { width: W, height: H } = image;
    const rs = samResizeShape(W, H, this.encoderInput.size);
    const px = point[0] * (rs.width / W);
    const py = point[1] * (rs.height / H);
    const out = await this.decoder.run({
      image_embeddings: { data: emb.data.slice(), dims: emb.dims },
      point_coords: { data: Float32Array.from([px, py, 0, 0]), dims: [1, 2, 2] },
      point_labels: { data: Float32Array.from([1, -1]), dims: [1, 2] },
      mask_input: { data: new Float32Array(256 * 256), dims: [1, 1, 256, 256] },
      has_mask_input: { data: Float32Array.from([0]), dims: [1] },
      orig_im_size: { data: Float32Array.from([H, W]), dims: [2] },
    });
    const masks = out['masks'];
    if (!masks) throw new Error("SamOnnxSegmenter: decoder returned no 'masks'");
    const [, K = 1, mh, mw] = masks.dims;
    if (mh !== H || mw !== W) throw new Error(`SamOnnxSegmenter: decoder masks are ${mw}x${mh}, expected the image size ${W}x${H}`);
    const scores = out['iou_predictions']?.data;
    const plane = W * H;
    let best = -1;
    let bestKey = Infinity;
    for (let k = 0; k < K; k++) {
      let area = 0;
      for (let p = 0; p < plane; p++) area += masks.data[k * plane + p]! > 0 ? 1 : 0;
      if (area === 0) continue;
      const key = this.select === 'best' && scores ? -scores[k]! : area;
      if (key < bestKey) {
        bestKey = key;
        best = k;
      }
    }
    const data = new Uint8Array(plane);
    if (best >= 0) for (let p = 0; p < plane; p++) data[p] = masks.data[best * plane + p]! > 0 ? 1 : 0;
    return { width: W, height: H, data };
  }

  async dispose(): Promise<void> {
    this.cache = undefined;
    await this.encoder.close();
    await this.decoder.close();
  }
}
