/**
 * Dataset generation throughput: states per second at 256x256 with 12 views (renders, masks,
 * depth, PNG encoding, points and drags included), one object per category.
 * Usage: npx tsx bench/dataset.ts [--objects N] [--size PX]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_GENERATE, generateDataset } from '../src/dataset/generate.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const objects = arg('objects', 8);
const size = arg('size', 256);
const dir = await mkdtemp(join(tmpdir(), 'partrm-bench-dataset-'));
try {
  const t0 = performance.now();
  const index = await generateDataset({ ...DEFAULT_GENERATE, out: join(dir, 'd'), objects, size, views: 12, seed: 1234 });
  const s = (performance.now() - t0) / 1000;
  const states = index.objects.reduce((n, o) => n + o.states.length, 0);
  console.log(`dataset: ${objects} objects, ${states} states, ${size}x${size}, 12 views: ${s.toFixed(2)} s`);
  console.log(`states_per_second ${(states / s).toFixed(2)}`);
  console.log(`views_per_second ${((states * 12) / s).toFixed(1)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
