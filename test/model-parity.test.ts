/**
 * PyTorch (training/) vs onnxruntime-node on the same PartRM network and inputs: max |diff| <= 1e-4.
 * 1. Committed fixture (test/fixtures/model, micro config, written by `python3 -m training.make_fixture`):
 *    runs everywhere, PyTorch not needed.
 * 2. Live: a random-weight `tiny` model exported by /usr/bin/python3 into a temp dir (skipped, with the
 *    reason, when python3-torch is missing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeNpy } from '../src/core/npy.js';

const FIXTURE = join('test', 'fixtures', 'model');
const PYTHON = process.env.PARTRM_PYTHON ?? '/usr/bin/python3';

function npy(path: string): { data: Float32Array; shape: number[] } {
  const r = decodeNpy(new Uint8Array(readFileSync(path)));
  assert.ok(r.data instanceof Float32Array, `${path}: expected float32`);
  return { data: r.data as Float32Array, shape: r.shape };
}

async function runParity(dir: string, onnxName: string): Promise<number> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const images = npy(join(dir, 'images.npy'));
  const s = npy(join(dir, 'drags_start.npy'));
  const e = npy(join(dir, 'drags_end.npy'));
  const want = npy(join(dir, 'gaussians_torch.npy'));
  // the manifest describes the tensors
  assert.equal(manifest.format, 'partrm-onnx');
  assert.deepEqual(images.shape.slice(1), [manifest.views, 9, manifest.height, manifest.width]);
  assert.deepEqual(s.shape.slice(1), [manifest.views, manifest.drags, 2]);
  assert.deepEqual(want.shape.slice(1), [manifest.gaussians, 14]);
  const session = await ort.InferenceSession.create(join(dir, onnxName), { intraOpNumThreads: 1 });
  assert.deepEqual([...session.inputNames].sort(), ['drags_end', 'drags_start', 'images']);
  assert.deepEqual([...session.outputNames], ['gaussians']);
  const out = await session.run({
    images: new ort.Tensor('float32', images.data, images.shape),
    drags_start: new ort.Tensor('float32', s.data, s.shape),
    drags_end: new ort.Tensor('float32', e.data, e.shape),
  });
  const got = out.gaussians!;
  assert.deepEqual([...got.dims], want.shape);
  const g = got.data as Float32Array;
  let max = 0;
  for (let i = 0; i < g.length; i++) max = Math.max(max, Math.abs(g[i]! - want.data[i]!));
  await session.release();
  return max;
}

test('ONNX parity: committed micro fixture, onnxruntime-node vs PyTorch output (<= 1e-4)', async (t) => {
  const max = await runParity(FIXTURE, 'micro.onnx');
  t.diagnostic(`max abs diff ${max.toExponential(2)}`);
  assert.ok(max <= 1e-4, `max abs diff ${max}`);
});

function hasTorch(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not runnable (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} lacks torch/onnx (apt: python3-torch python3-onnx)`;
  return null;
}

const missing = hasTorch();
test('ONNX parity: random-weight tiny model exported now by training/export_onnx.py (<= 1e-4)', { skip: missing ?? false, timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'partrm-parity-'));
  try {
    const r = spawnSync(PYTHON, ['-m', 'training.export_onnx', '--config', 'tiny', '--seed', '3', '--out', join(dir, 'tiny.onnx'), '--save-io', dir, '--batch', '1', '--threads', '1'], {
      encoding: 'utf8',
      env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
    });
    assert.equal(r.status, 0, `export failed:\n${r.stderr.slice(-3000)}`);
    assert.ok(existsSync(join(dir, 'tiny.onnx')));
    const max = await runParity(dir, 'tiny.onnx');
    t.diagnostic(`max abs diff ${max.toExponential(2)}`);
    assert.ok(max <= 1e-4, `max abs diff ${max}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
