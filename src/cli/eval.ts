/** `partrm eval model`: rendering metrics of a model's predicted dragged states on a dataset. */
import { Command, InvalidArgumentError } from 'commander';
import { GraphSegmenter } from '../drag/graph.js';
import { loadManifest } from '../model/manifest.js';
import { evaluateModel, type GroupSummary } from '../model/evaluate.js';
import { PartRMModel } from '../model/model.js';
import type { ExecutionProvider } from '../model/session.js';
import { defaultManifestPath, resolveManifestPath } from '../pipeline.js';

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError(`--${name} expects a positive integer, got "${value}"`);
    return Number(value);
  };
}

function line(name: string, g: GroupSummary): string {
  const f = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  return `${name.padEnd(18)} pairs ${String(g.pairs).padStart(4)}  PSNR ${f(g.predicted.psnr)} (no-motion ${f(g.baseline.psnr)})  SSIM ${f(g.predicted.ssim, 4)} (${f(g.baseline.ssim, 4)})  part PSNR ${f(g.predicted.psnrPart)} (${f(g.baseline.psnrPart)})  gain ${f(g.gainPartDb)} dB`;
}

export function evalCommand(): Command {
  const cmd = new Command('eval').description('evaluation');
  cmd
    .command('model')
    .description('PSNR/SSIM of predicted dragged states rendered at the dataset views vs ground truth, and the no-motion baseline')
    .requiredOption('--data <dir>', 'dataset written by "partrm dataset generate"')
    .option('--model <path>', `model manifest, model directory or .onnx (default: ${defaultManifestPath()})`)
    .option('--splits <list>', 'comma-separated splits', 'eval,unseen')
    .option('--pairs <n>', 'state pairs per joint', positiveInt('pairs'), 2)
    .option('--limit <n>', 'at most this many pairs', positiveInt('limit'))
    .option('--render-size <px>', 'render size (must divide the dataset size; default the dataset size)', positiveInt('render-size'))
    .option('--segmenter', 'propagate drags with the default segmenter instead of the ground-truth part mask')
    .option('--locality <x>', 'drag sampling preference for pixels near the click (0 = uniform, as training)', (v: string) => {
      const x = Number(v);
      if (!(x >= 0)) throw new InvalidArgumentError(`--locality expects a number >= 0, got "${v}"`);
      return x;
    }, 0)
    .option('--providers <list>', 'onnxruntime execution providers (default cuda,cpu)')
    .option('--seed <n>', 'seed', positiveInt('seed'), 1)
    .option('--json', 'print JSON (summaries and per-pair scores)')
    .action(async (o: { data: string; model?: string; splits: string; pairs: number; limit?: number; renderSize?: number; segmenter?: boolean; locality: number; providers?: string; seed: number; json?: boolean }) => {
      const manifest = loadManifest(resolveManifestPath(o.model ?? defaultManifestPath()));
      const providers = o.providers?.split(',').map((s) => s.trim()) as ExecutionProvider[] | undefined;
      const model = await PartRMModel.load(manifest, providers ? { providers } : {});
      try {
        const r = await evaluateModel(o.data, model, {
          splits: o.splits.split(',').map((s) => s.trim()).filter(Boolean),
          pairsPerJoint: o.pairs,
          ...(o.limit ? { limit: o.limit } : {}),
          ...(o.renderSize ? { renderSize: o.renderSize } : {}),
          ...(o.segmenter ? { segmenter: new GraphSegmenter() } : {}),
          seed: o.seed,
          locality: o.locality,
          onProgress: o.json || !process.stderr.isTTY ? undefined : (done, total) => process.stderr.write(`\reval model: ${done}/${total} pairs`),
        });
        if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
        if (o.json) {
          console.log(JSON.stringify({ ...r, provider: model.provider }, null, 1));
          return;
        }
        console.log(`model ${r.model} on ${model.provider}; data ${r.data}; drags: ${r.propagation}; ${(r.ms / 1000).toFixed(1)} s`);
        for (const [k, g] of Object.entries(r.bySplit)) console.log(line(k, g));
        for (const [k, g] of Object.entries(r.byCategory)) console.log(line(k, g));
      } finally {
        await model.dispose();
      }
    });
  return cmd;
}
