"""Writes a fixed random Gaussian scene, a camera and this rasteriser's renders (float32 and
float64) as .npy/.json into DIR, for test/model-parity-rasterizer.test.ts, which renders the same
scene with the TypeScript CPU renderer (src/gaussians/render.ts renderGaussians) and compares.

  /usr/bin/python3 -m training.parity_rasterizer DIR [--count 200] [--seed 0]
"""
import argparse
import json
import math
import os

import numpy as np
import torch

from .gaussians import render, render_dense


def look_at_opencv(eye, target, up=(0.0, 0.0, 1.0)):
    """Same construction as src/core/camera.ts lookAtOpencv."""
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, eye
    return m


def scene(count, seed):
    rng = np.random.default_rng(seed)
    xyz = rng.uniform(-0.5, 0.5, (count, 3))
    op = rng.uniform(0.05, 1.0, (count, 1))
    scale = rng.uniform(0.01, 0.08, (count, 3))
    q = rng.normal(size=(count, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    rgb = rng.uniform(0, 1, (count, 3))
    return np.concatenate([xyz, op, scale, q, rgb], 1).astype(np.float32)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument('dir')
    p.add_argument('--count', type=int, default=200)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args(argv)
    os.makedirs(a.dir, exist_ok=True)
    g = scene(a.count, a.seed)
    # non-square, fx != fy, off-centre principal point: every axis convention shows
    cam = dict(fx=90.0, fy=84.0, cx=41.3, cy=29.7, width=80, height=64)
    c2w = look_at_opencv([1.8735, 0.4, 1.5], [0.05, -0.02, 0.0])
    bg = (1.0, 1.0, 1.0)
    out = {}
    for name, dt in (('f32', torch.float32), ('f64', torch.float64)):
        rgb, alpha = render(torch.from_numpy(g).to(dt), cam, torch.from_numpy(c2w).to(dt), bg)
        out[name] = (rgb.permute(1, 2, 0).double().numpy(), alpha.double().numpy())
    rgb_d, alpha_d = render_dense(torch.from_numpy(g).double(), cam, torch.from_numpy(c2w), bg)
    np.save(os.path.join(a.dir, 'gaussians.npy'), g)
    np.save(os.path.join(a.dir, 'rgb_f32.npy'), out['f32'][0].astype(np.float32))
    np.save(os.path.join(a.dir, 'alpha_f32.npy'), out['f32'][1].astype(np.float32))
    np.save(os.path.join(a.dir, 'rgb_f64.npy'), out['f64'][0])
    np.save(os.path.join(a.dir, 'alpha_f64.npy'), out['f64'][1])
    with open(os.path.join(a.dir, 'camera.json'), 'w') as f:
        json.dump({'intrinsics': cam, 'camToWorld': [float(v) for v in c2w.reshape(-1)], 'background': bg,
                   'dense_vs_sparse_max_abs': float(np.abs(rgb_d.permute(1, 2, 0).numpy() - out['f64'][0]).max())}, f)
    print(f'wrote {a.dir}: {a.count} Gaussians, {cam["width"]}x{cam["height"]}')


if __name__ == '__main__':
    main()
