// onnxruntime-node vs PyTorch on the parity inputs written by `export_onnx.py --save-io DIR`:
//   npx tsx training/check_onnx.mts DIR MODEL.onnx      -> prints the max abs difference
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy } from '../src/core/npy.js';

const [dir, model] = process.argv.slice(2);
if (!dir || !model) {
  console.error('usage: npx tsx training/check_onnx.mts DIR MODEL.onnx');
  process.exit(2);
}
const npy = (n: string) => decodeNpy(new Uint8Array(readFileSync(join(dir, `${n}.npy`))));
const tensor = (n: string) => {
  const a = npy(n);
  return new ort.Tensor('float32', a.data as Float32Array, a.shape);
};
// PARTRM_ORT_OPT=disabled|basic|extended|all (default all), to tell kernel fusions from real differences
const level = (process.env.PARTRM_ORT_OPT ?? 'all') as 'disabled' | 'basic' | 'extended' | 'all';
const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: level });
const out = await session.run({ images: tensor('images'), drags_start: tensor('drags_start'), drags_end: tensor('drags_end') });
const want = npy('gaussians_torch').data;
const got = out.gaussians!.data as Float32Array;
let max = 0;
for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i]! - want[i]!));
console.log(JSON.stringify({ model, max_abs_diff: max, values: got.length }));
process.exit(max <= 1e-4 ? 0 : 1);
