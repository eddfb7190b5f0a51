"""Fast self-checks of the training code (run by test/training.test.ts; ~10 s on one core).

  /usr/bin/python3 -m training.selftest [--data DIR]

1. rasteriser: support-only `render` == dense `render_dense` (values and gradients);
2. drag maps: one-hot matmul == the official per-drag Python loop (transposed indexing, sum per
   cell), Fourier feature order [sin f x, sin f y, cos f x, cos f y, ...];
3. drag merges start as the identity: drags change nothing before drag training;
4. model output layout and activations (ranges, unit quaternions);
5. with --data: dataset reader, drag propagation and one optimisation step of every stage.
"""
import argparse
import json
import math
import os
import sys
import tempfile

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np
import torch

from . import options
from .drag_embed import DragPositionNetMultiScale, fourier_features
from .gaussians import render, render_dense
from .model import PartRM, build_images, input_rays, model_input_poses_gl, FLIP_YZ


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f'ok  {what}')


def test_rasteriser():
    g = torch.Generator().manual_seed(0)
    G = 300
    xyz = torch.rand(G, 3, generator=g) - 0.5
    gs = torch.cat([xyz, torch.rand(G, 1, generator=g), torch.rand(G, 3, generator=g) * 0.06 + 0.005,
                    torch.randn(G, 4, generator=g), torch.rand(G, 3, generator=g)], 1).double()
    pose = model_input_poses_gl(options.tiny())[0] @ FLIP_YZ
    cam = dict(fx=60.0, fy=66.0, cx=30.5, cy=26.0, width=56, height=48)
    c2w = torch.from_numpy(pose)
    a = gs.clone().requires_grad_()
    b = gs.clone().requires_grad_()
    ra, aa = render(a, cam, c2w)
    rb, ab = render_dense(b, cam, c2w)
    w = torch.rand(3, 48, 56, generator=g).double()
    ((ra * w).sum() + aa.sum()).backward()
    ((rb * w).sum() + ab.sum()).backward()
    check((ra - rb).abs().max().item() < 1e-9 and (aa - ab).abs().max().item() < 1e-9, 'render == render_dense (values)')
    check((a.grad - b.grad).abs().max().item() < 1e-8, 'render == render_dense (gradients)')
    check(aa.max().item() > 0.9 and aa.min().item() == 0.0, 'scene covers part of the picture')


def test_drag_maps():
    o = options.micro()
    scales, channels = o.drag_scales()
    net = DragPositionNetMultiScale(scales, channels, o.drag_space, o.fourier_freqs, o.fourier_temperature, o.drag_hidden)
    g = torch.Generator().manual_seed(1)
    B, V, N = 2, o.views, o.drags
    s = torch.rand(B, V, N, 2, generator=g) * (o.drag_space - 1)
    s[0, 0, 1] = s[0, 0, 0]               # two drags in one cell: summed
    e = (s + 7.3).clamp(0, o.drag_space - 1)
    starts, ends = net(s, e)
    # official loop (DragPositionNetMultiScale.forward in the PartRM code), before the blur
    p = s.reshape(B * V, N, 2)
    for idx, S in enumerate(scales):
        emb = net.linears_drags[idx](fourier_features(p, o.fourier_freqs, o.fourier_temperature))
        ref = torch.zeros(B * V, channels[idx] // 2, S, S)
        r = o.drag_space // S
        for i in range(B * V):
            for j in range(N):
                ref[i, :, int(p[i, j, 0]) // r, int(p[i, j, 1]) // r] += emb[i, j]
        ref = net.blur_map(ref, idx, S)
        check(torch.allclose(starts[idx], ref, atol=1e-5), f'drag map scale {S}: one-hot == official loop (transposed, summed, blurred)')
    f = fourier_features(torch.tensor([[3.0, 5.0]]), 8, 100.0)[0]
    check(abs(f[0] - math.sin(3)) < 1e-6 and abs(f[1] - math.sin(5)) < 1e-6 and abs(f[2] - math.cos(3)) < 1e-6
          and abs(f[4] - math.sin(3 * 100 ** (1 / 8))) < 1e-5, 'Fourier order sin x, sin y, cos x, cos y per frequency')


def test_model():
    torch.manual_seed(0)
    o = options.micro()
    m = PartRM(o).eval()
    rgb = torch.rand(1, o.views, 3, o.input_size, o.input_size)
    img = build_images(rgb, input_rays(o), o)
    s = torch.rand(1, o.views, o.drags, 2) * 60
    with torch.no_grad():
        g0 = m(img, s, s)
        g1 = m(img, s, (s + 20).clamp(0, o.drag_space - 1))
    check(torch.equal(g0, g1), 'identity-initialised drag merges: drags change nothing before drag training')
    check(g0.shape == (1, o.gaussians, 14), f'output [B, G={o.gaussians}, 14]')
    check(g0[..., :3].abs().max() <= 1 and ((g0[..., 3] > 0) & (g0[..., 3] < 1)).all() and (g0[..., 4:7] > 0).all()
          and torch.allclose(g0[..., 7:11].norm(dim=-1), torch.ones(1), atol=1e-5) and ((g0[..., 11:] >= 0) & (g0[..., 11:] <= 1)).all(),
          'activations: xyz in [-1,1], opacity (0,1), scale > 0, unit quaternion, rgb [0,1]')
    n = sum(p.numel() for p in PartRM(options.tiny()).parameters())
    check(n == 7_544_097, f'tiny has 7,544,097 parameters ({n:,})')


def test_training(data):
    from .train import Trainer, parse_args
    with tempfile.TemporaryDirectory() as out:
        args = parse_args(['--data', data, '--out', out, '--batch', '2', '--render-views', '2', '--steps0', '1', '--steps1', '1', '--steps2', '1',
                           '--threads', '1', '--eval-pairs', '1'])
        tr = Trainer(args)
        x = tr.ds.sample_pair(np.random.default_rng(0), tr.train_series[0], a=0, b=len(tr.ds.series[tr.train_series[0]]['states']) - 1)
        check(x is not None and x['start'].shape == (tr.o.drags, 2), 'drag propagation: N start points on the part mask')
        d = x['end'] - x['start']
        check(np.allclose(d, d[0], atol=1e-4) or np.any(x['end'] == 0) or np.any(x['end'] == tr.o.drag_space - 1), 'every start point moves by the operator displacement')
        tr.run()
        m = json.load(open(os.path.join(out, 'metrics.json')))
        check(all(f'stage{k}' in m['metrics'] for k in range(3)), 'three stages trained, evaluated, metrics.json written')
        check(os.path.exists(os.path.join(out, 'curves.png')) and os.path.exists(os.path.join(out, 'last.pt')), 'curves.png and checkpoint written')


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--data', default=None)
    a = p.parse_args()
    torch.set_num_threads(1)
    test_rasteriser()
    test_drag_maps()
    test_model()
    if a.data:
        test_training(a.data)
    print('selftest passed')
