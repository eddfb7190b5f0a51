/**
 * The Python training code (training/, run by /usr/bin/python3): `python3 -m training.selftest`
 * checks the rasteriser (support-only == dense, values and gradients), the drag maps against the
 * official per-drag loop, the identity-initialised drag merges and the output activations; with a
 * small generated dataset it also reads the data, propagates drags and runs one step of each of the
 * three stages with evaluation, metrics.json, curves and checkpoints.
 * Skipped, with the reason, when python3-torch is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset, DEFAULT_GENERATE } from '../src/dataset/generate.js';

const PYTHON = process.env.PARTRM_PYTHON ?? '/usr/bin/python3';

function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch, PIL'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not runnable (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} lacks torch or PIL (apt: python3-torch python3-pil)`;
  return null;
}

const missing = torchMissing();

function selftest(args: string[]): string {
  const r = spawnSync(PYTHON, ['-m', 'training.selftest', ...args], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } });
  assert.equal(r.status, 0, `training.selftest failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stdout, /selftest passed/);
  return r.stdout;
}

test('training: rasteriser, drag maps vs the official loop, drag merges, activations', { skip: missing ?? false, timeout: 60_000 }, () => {
  const out = selftest([]);
  assert.match(out, /one-hot == official loop/);
  assert.match(out, /render == render_dense \(gradients\)/);
});

test('training: dataset reader, drag propagation, one step of each stage, eval, checkpoint', { skip: missing ?? false, timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'partrm-train-'));
  try {
    const data = join(dir, 'data');
    // 10 objects: index 9 is held out (eval) and index 7 is the unseen trashcan
    await generateDataset({ ...DEFAULT_GENERATE, out: data, objects: 10, size: 64, views: 3, statesPerPart: 2, points: 300, dragsPerPair: 4, seed: 5 });
    const out = selftest(['--data', data]);
    assert.match(out, /three stages trained/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
