/** `partrm dataset generate` and `partrm dataset preview`. */
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { parseCategory, CATEGORIES } from '../dataset/articulated.js';
import { DEFAULT_GENERATE, generateDataset } from '../dataset/generate.js';
import { writePreview } from '../dataset/preview.js';
import { verifyDataset } from '../dataset/verify.js';

export function intOption(name: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`--${name} expects an integer, got "${value}"`);
    return Number(value);
  };
}

export function datasetCommand(): Command {
  const cmd = new Command('dataset').description('procedural PartDrag-4D-style articulated-object dataset');
  cmd
    .command('generate')
    .description('generate objects, ground-truth URDFs, renders, part masks, points and drags')
    .requiredOption('--out <dir>', 'output directory (must not exist or be empty)')
    .option('--objects <n>', 'number of objects', intOption('objects'), DEFAULT_GENERATE.objects)
    .option('--categories <list>', `comma-separated categories (${CATEGORIES.join(', ')})`, CATEGORIES.join(','))
    .option('--seed <s>', 'dataset seed', intOption('seed'), DEFAULT_GENERATE.seed)
    .option('--size <px>', 'render size in pixels (square)', intOption('size'), DEFAULT_GENERATE.size)
    .option('--views <v>', 'views around the object', intOption('views'), DEFAULT_GENERATE.views)
    .option('--states <k>', 'states per movable part', intOption('states'), DEFAULT_GENERATE.statesPerPart)
    .option('--points <n>', 'surface points per state', intOption('points'), DEFAULT_GENERATE.points)
    .option('--drags <k>', 'drags stored per state pair', intOption('drags'), DEFAULT_GENERATE.dragsPerPair)
    .option('--no-progress', 'no progress bar')
    .action(async (o: { out: string; objects: number; categories: string; seed: number; size: number; views: number; states: number; points: number; drags: number; progress: boolean }) => {
      const categories = o.categories.split(',').filter((s) => s.trim().length > 0).map(parseCategory);
      const bar = o.progress && process.stderr.isTTY !== false
        ? new cliProgress.SingleBar({ format: 'dataset |{bar}| {value}/{total} states | objects {objects} | {current} | eta {eta_formatted}', stream: process.stderr }, cliProgress.Presets.shades_classic)
        : null;
      const t0 = Date.now();
      let started = false;
      try {
        const index = await generateDataset(
          { out: o.out, objects: o.objects, categories, seed: o.seed, size: o.size, views: o.views, statesPerPart: o.states, points: o.points, dragsPerPair: o.drags },
          (p) => {
            if (!bar) return;
            if (!started) {
              bar.start(p.statesPlanned, 0, { objects: `0/${p.objects}`, current: p.current });
              started = true;
            }
            bar.setTotal(Math.max(p.statesPlanned, 1));
            bar.update(p.statesDone, { objects: `${p.objectsDone}/${p.objects}`, current: p.current });
          },
        );
        bar?.stop();
        const states = index.objects.reduce((n, ob) => n + ob.states.length, 0);
        const s = (Date.now() - t0) / 1000;
        console.log(`wrote ${index.objects.length} objects, ${states} states to ${o.out} in ${s.toFixed(1)} s (${(states / s).toFixed(2)} states/s); splits: train ${index.splits.train.length}, eval ${index.splits.eval.length}, unseen ${index.splits.unseen.length}`);
      } catch (e) {
        bar?.stop();
        throw e;
      }
    });
  cmd
    .command('preview')
    .description('write a contact sheet PNG of views, states and drags')
    .requiredOption('--data <dir>', 'dataset directory')
    .requiredOption('--out <png>', 'output PNG')
    .option('--tile <px>', 'tile size', intOption('tile'), 160)
    .option('--max-objects <n>', 'objects shown', intOption('max-objects'), 24)
    .action(async (o: { data: string; out: string; tile: number; maxObjects: number }) => {
      if (o.tile < 16 || o.tile > 1024) throw new Error(`Preview: --tile must be in [16, 1024], got ${o.tile}`);
      if (o.maxObjects < 1) throw new Error(`Preview: --max-objects must be positive, got ${o.maxObjects}`);
      const r = await writePreview({ data: o.data, out: o.out, tile: o.tile, maxObjects: o.maxObjects });
      console.log(`wrote ${o.out} (${r.width}x${r.height}, ${r.objects} objects)`);
    });
  cmd
    .command('verify')
    .description('check a dataset: check_urdf, MuJoCo kinematics vs stored points, drags vs masks and projections')
    .requiredOption('--data <dir>', 'dataset directory')
    .option('--no-check-urdf', 'skip urdfdom check_urdf (needs Debian liburdfdom-tools)')
    .option('--json', 'print the report as JSON')
    .action(async (o: { data: string; checkUrdf: boolean; json?: boolean }) => {
      const r = await verifyDataset(o.data, { checkUrdf: o.checkUrdf, onObject: o.json ? undefined : (ob) => console.log(`${ob.id}: check_urdf ${ob.checkUrdf}, mujoco ${ob.mujoco}, max point error ${(ob.maxPointError * 1000).toFixed(4)} mm, drags on mask ${ob.dragsOnMask}/${ob.drags}, max drag end error ${ob.maxEndError.toFixed(4)} px`) });
      const ok = r.urdfFailures.length === 0 && r.objects.every((ob) => ob.mujoco === 'ok') && r.maxPointError < 1e-3 && r.dragsOnMaskFraction >= 0.99 && r.maxEndError <= 0.5;
      if (o.json) console.log(JSON.stringify({ ok, ...r }, null, 1));
      else console.log(`${ok ? 'OK' : 'FAILED'}: ${r.objects.length} objects, max point error ${(r.maxPointError * 1000).toFixed(4)} mm (limit 1), drags on mask ${(100 * r.dragsOnMaskFraction).toFixed(2)}% of ${r.drags} (limit 99%), max drag end error ${r.maxEndError.toFixed(4)} px (limit 0.5)`);
      if (!ok) process.exitCode = 1;
    });
  return cmd;
}
