/**
 * The PyTorch rasteriser (training/gaussians.py) and the TypeScript CPU splat renderer
 * (src/gaussians/render.ts) follow one specification: on the same ~200 random Gaussians and camera
 * (non-square, fx != fy, off-centre principal point) their pictures agree.
 * Skipped, with the reason, when /usr/bin/python3 lacks torch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy } from '../src/core/npy.js';
import { renderGaussians } from '../src/gaussians/render.js';
import { gaussiansFromOutput } from '../src/model/postprocess.js';

const PYTHON = process.env.PARTRM_PYTHON ?? '/usr/bin/python3';

function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not runnable (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} lacks torch (apt: python3-torch)`;
  return null;
}

function npy(dir: string, name: string): { data: Float32Array | Float64Array; shape: number[] } {
  const r = decodeNpy(new Uint8Array(readFileSync(join(dir, name))));
  return { data: r.data as Float32Array | Float64Array, shape: r.shape };
}

const missing = torchMissing();
test('rasteriser parity: PyTorch training/gaussians.py vs TypeScript renderGaussians (max abs <= 2e-3)', { skip: missing ?? false, timeout: 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'partrm-rpar-'));
  try {
    const r = spawnSync(PYTHON, ['-m', 'training.parity_rasterizer', dir, '--count', '200', '--seed', '0'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `python failed:\n${r.stderr.slice(-3000)}`);
    const g = npy(dir, 'gaussians.npy');
    const n = g.shape[0]!;
    assert.equal(g.shape[1], 14);
    // Same [G, 14] row layout as the model's output tensor.
    const set = gaussiansFromOutput(Float32Array.from(g.data), 1, n);
    const cam = JSON.parse(readFileSync(join(dir, 'camera.json'), 'utf8'));
    const out = renderGaussians(set, { intrinsics: cam.intrinsics, camToWorld: Float64Array.from(cam.camToWorld) }, { background: cam.background });
    assert.ok(out.visible > 100, `only ${out.visible} Gaussians visible: the scene does not test much`);
    for (const prec of ['f64', 'f32']) {
      const rgb = npy(dir, `rgb_${prec}.npy`);
      const alpha = npy(dir, `alpha_${prec}.npy`);
      assert.deepEqual(rgb.shape, [out.height, out.width, 3]);
      let maxRgb = 0, maxAlpha = 0, covered = 0;
      for (let i = 0; i < out.rgb.length; i++) maxRgb = Math.max(maxRgb, Math.abs(out.rgb[i]! - rgb.data[i]!));
      for (let i = 0; i < out.alpha.length; i++) {
        maxAlpha = Math.max(maxAlpha, Math.abs(out.alpha[i]! - alpha.data[i]!));
        if (out.alpha[i]! > 0.5) covered++;
      }
      t.diagnostic(`${prec}: max |rgb diff| ${maxRgb.toExponential(2)}, max |alpha diff| ${maxAlpha.toExponential(2)}, ${covered} covered pixels`);
      assert.ok(covered > out.width * out.height * 0.1, 'scene covers too little of the picture');
      assert.ok(maxRgb <= 2e-3, `${prec} rgb differs by ${maxRgb}`);
      assert.ok(maxAlpha <= 2e-3, `${prec} alpha differs by ${maxAlpha}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
