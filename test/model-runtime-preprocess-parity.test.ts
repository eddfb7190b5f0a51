/**
 * The runtime builds the `images` tensor exactly as training does: training/model.py build_images +
 * input_rays on training/data.py's box-downsampled view (live, with Debian's python3-torch; skipped
 * with the reason when it is missing).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodePngRgba } from '../src/core/image.js';
import { decodeNpy } from '../src/core/npy.js';
import { buildImagesTensor, parseManifest } from '../src/model/index.js';

const PYTHON = process.env.PARTRM_PYTHON ?? '/usr/bin/python3';

const SCRIPT = `
import json, sys
import numpy as np, torch
from PIL import Image
from training import options as options_mod
from training.model import build_images, input_rays, model_input_poses_gl
from training.data import downsample2
out = sys.argv[1]
o = options_mod.tiny()
im = np.asarray(Image.open('samples/cabinet/image.png'))
small = downsample2(im, im.shape[0] // o.input_size)
rgb = torch.from_numpy(small[..., :3] / 255.0).float().permute(2, 0, 1)[None, None]
x = build_images(rgb, input_rays(o), o)
np.save(out + '/images.npy', x.numpy().astype(np.float32))
eye = [1.0] + [0.0] * 15
json.dump({'views': o.views, 'height': o.input_size, 'width': o.input_size, 'drags': o.drags, 'gaussians': o.gaussians,
           'fovy_deg': o.fovy_deg, 'camera_radius': o.camera_radius, 'drag_space': o.drag_space,
           'cameras_c2w_opengl': [p.reshape(-1).tolist() for p in model_input_poses_gl(o)],
           'normalization': {'mean': list(o.mean), 'std': list(o.std)}, 'background': list(o.background)}, open(out + '/cfg.json', 'w'))
`;

function pythonReason(): string | undefined {
  if (!existsSync('training/model.py')) return 'training/ is not present';
  const r = spawnSync(PYTHON, ['-c', 'import torch, PIL, numpy'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${PYTHON} lacks torch/PIL/numpy`;
}

test('images tensor: runtime == training (build_images on the box-downsampled view)', { skip: pythonReason() ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'partrm-preprocess-parity-'));
  try {
    const r = spawnSync(PYTHON, ['-c', SCRIPT, dir], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: process.cwd() } });
    assert.equal(r.status, 0, r.stderr);
    const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8')) as Record<string, unknown>;
    const identity = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    const manifest = parseManifest({
      format: 'partrm-onnx', version: 1, model: 'unused.onnx', config: 'tiny', ...cfg,
      model_to_world: identity, world_camera_view0_c2w_opencv: identity,
      world_intrinsics_view0: { fx: 1, fy: 1, cx: 0, cy: 0, width: 1, height: 1 },
    });
    const want = decodeNpy(new Uint8Array(readFileSync(join(dir, 'images.npy')))).data as Float32Array;
    const got = buildImagesTensor(manifest, [decodePngRgba(readFileSync('samples/cabinet/image.png'))]);
    assert.equal(got.length, want.length);
    let max = 0;
    for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i]! - want[i]!));
    assert.ok(max < 1e-5, `max |diff| ${max}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
