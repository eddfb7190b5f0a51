// Times onnxruntime-node on an exported model: session load and forward passes (CPU, N threads).
//   node training/time_onnx.mjs MODEL.onnx [threads=2] [runs=2]
// Inputs are random, shaped from the model's manifest-free input metadata (batch 1).
import * as ort from 'onnxruntime-node';

const [model, threadsArg = '2', runsArg = '2'] = process.argv.slice(2);
if (!model) {
  console.error('usage: node training/time_onnx.mjs MODEL.onnx [threads] [runs]');
  process.exit(2);
}
const t0 = performance.now();
const session = await ort.InferenceSession.create(model, { intraOpNumThreads: Number(threadsArg), interOpNumThreads: 1 });
const load = (performance.now() - t0) / 1000;
const feeds = {};
for (const name of session.inputNames) {
  const meta = session.inputMetadata.find ? session.inputMetadata.find((m) => m.name === name) : session.inputMetadata[name];
  const dims = meta.shape.map((d) => (typeof d === 'number' ? d : 1));
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = name === 'images' ? Math.random() - 0.5 : Math.random() * 100;
  feeds[name] = new ort.Tensor('float32', data, dims);
}
const times = [];
for (let r = 0; r < Number(runsArg); r++) {
  const t = performance.now();
  const out = await session.run(feeds);
  times.push((performance.now() - t) / 1000);
  if (r === 0) console.log(`output ${session.outputNames[0]} dims [${out[session.outputNames[0]].dims.join(', ')}]`);
}
console.log(JSON.stringify({ model, threads: Number(threadsArg), load_s: +load.toFixed(2), forward_s: times.map((x) => +x.toFixed(2)) }));
