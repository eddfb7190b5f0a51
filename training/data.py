"""Reader for the dataset written by `partrm dataset generate` (layout: src/dataset/layout.ts).

The whole dataset is decoded once into a compact cache (uint8 arrays in one .npz beside the
dataset's index, keyed by the network config's sizes) so that training never touches PNGs again:
- rgba [states, views, R, R, 4] uint8: every view downsampled to the render/loss size R by 2x2
  averaging (== bilinear, align_corners=False, no antialias, the runtime's resize, for factor 2);
- mask0 [states, S0, S0] uint8: view-0 part labels at the dataset size (drag propagation);
- masks [states, views, R, R] uint8: part labels at R (nearest; masked metrics);
- xyz0 [states, splat, splat, 3] float32 + valid: the view-0 surface point under each splat pixel
  (from the depth PNG), model frame; an optional geometric hint for the static stage.
Cameras, splits, joints and drags come from index.json and drags/*.npy.
"""
import json
import math
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image

from .model import FLIP_YZ, model_input_poses_gl


def read_png(path: str) -> np.ndarray:
    im = Image.open(path)
    return np.asarray(im)


def downsample2(a: np.ndarray, factor: int) -> np.ndarray:
    """Box-average by an integer factor over the first two axes (float)."""
    if factor == 1:
        return a.astype(np.float32)
    H, W = a.shape[:2]
    a = a.astype(np.float32).reshape(H // factor, factor, W // factor, factor, *a.shape[2:])
    return a.mean(axis=(1, 3))


def model_to_world(index: dict, o) -> np.ndarray:
    """4x4 mapping model-frame points to the dataset's rig (world) frame.

    The model frame puts input view 0 at (0, 0, radius) looking down -z (OpenGL). Identifying
    that camera with the dataset's view-0 camera (same radius: the PartDrag-4D rig is 2.4 rig
    units away, like the network's camera_radius) gives M = C0_world_cv @ inv(C0_model_cv).
    """
    c0 = np.array(index['cameras'][0]['camToWorld'], dtype=np.float64)
    c0_model_cv = model_input_poses_gl(o)[0] @ FLIP_YZ
    return c0 @ np.linalg.inv(c0_model_cv)


def _load_state(args):
    root, st, views, R, mask_label_size, splat, intr0, c2w0_model_cv = args
    rgba, masks = [], []
    for v in range(views):
        im = read_png(os.path.join(root, st['rgba'][v]))
        S = im.shape[0]
        rgba.append(np.clip(np.round(downsample2(im, S // R)), 0, 255).astype(np.uint8))
        m = read_png(os.path.join(root, st['mask'][v]))
        f = S // R
        masks.append(m[f // 2::f, f // 2::f].astype(np.uint8))
        if v == 0:
            mask0 = m.astype(np.uint8)
            depth = read_png(os.path.join(root, st['depth'][0])).astype(np.float64) / 10000.0
    # view-0 surface points per splat cell (mean depth of the valid pixels of the cell)
    S = depth.shape[0]
    f = S // splat
    d = depth.reshape(splat, f, splat, f)
    valid = (d > 0).sum(axis=(1, 3))
    dm = np.where(valid > 0, d.sum(axis=(1, 3)) / np.maximum(valid, 1), 0.0)
    ys, xs = np.meshgrid((np.arange(splat) + 0.5) * f, (np.arange(splat) + 0.5) * f, indexing='ij')
    cam = np.stack([(xs - intr0['cx']) / intr0['fx'] * dm, (ys - intr0['cy']) / intr0['fy'] * dm, dm], -1)
    xyz = cam @ c2w0_model_cv[:3, :3].T + c2w0_model_cv[:3, 3]
    ok = valid >= (f * f) // 2
    return np.stack(rgba), np.stack(masks), mask0, xyz.astype(np.float32), ok


class Dataset:
    def __init__(self, root: str, o, render_size: int = 64, workers: int = 2, log=print):
        self.root = root
        self.o = o
        self.R = render_size
        with open(os.path.join(root, 'index.json')) as f:
            self.index = json.load(f)
        idx = self.index
        if idx.get('format') != 'partrm-dataset':
            raise ValueError(f'Dataset: {root}/index.json is not a partrm-dataset index')
        self.views = idx['generator']['views']
        self.size = idx['generator']['size']
        self.M = model_to_world(idx, o)
        self.Minv = np.linalg.inv(self.M)
        # cameras at the render size, in the model frame (OpenCV c2w)
        s = self.R / self.size
        self.cams = []
        for c in idx['cameras']:
            k = c['intrinsics']
            self.cams.append(dict(fx=k['fx'] * s, fy=k['fy'] * s, cx=k['cx'] * s, cy=k['cy'] * s, width=self.R, height=self.R))
        self.c2w_model = np.stack([self.Minv @ np.array(c['camToWorld']) for c in idx['cameras']]).astype(np.float32)
        # states
        self.states = []       # (object index, state entry)
        self.state_id = {}
        for oi, ob in enumerate(idx['objects']):
            for st in ob['states']:
                self.state_id[(oi, st['id'])] = len(self.states)
                self.states.append((oi, st))
        self._load_cache(workers, log)
        # drag series: (object, joint entry, child label, [state indices], drags [S,S,K,4], counts)
        self.series = []
        for oi, ob in enumerate(idx['objects']):
            for de in ob['drags']:
                joint = ob['joints'][de['joint']]
                dr = np.load(os.path.join(root, de['file'])).astype(np.float32)
                sids = [self.state_id[(oi, s)] for s in de['states']]
                self.series.append(dict(obj=oi, split=ob['split'], category=ob['category'], label=joint['child'] + 1,
                                        states=sids, drags=dr, counts=np.array(de['counts'])))

    def _load_cache(self, workers, log):
        o = self.o
        path = os.path.join(self.root, f'cache_r{self.R}_s{o.splat_size}.npz')
        if os.path.exists(path):
            z = np.load(path)
            self.rgba, self.masks, self.mask0, self.xyz0, self.xyz0_ok = z['rgba'], z['masks'], z['mask0'], z['xyz0'], z['xyz0_ok']
            log(f'data: cache {path} ({len(self.states)} states)')
            return
        intr0 = self.index['cameras'][0]['intrinsics']
        c2w0_model_cv = self.Minv @ np.array(self.index['cameras'][0]['camToWorld'])
        args = [(self.root, st, self.views, self.R, self.size, o.splat_size, intr0, c2w0_model_cv) for _, st in self.states]
        out = []
        with ProcessPoolExecutor(workers) as ex:
            for i, r in enumerate(ex.map(_load_state, args, chunksize=16)):
                out.append(r)
                if (i + 1) % 500 == 0:
                    log(f'data: decoded {i + 1}/{len(args)} states')
        self.rgba = np.stack([r[0] for r in out])
        self.masks = np.stack([r[1] for r in out])
        self.mask0 = np.stack([r[2] for r in out])
        self.xyz0 = np.stack([r[3] for r in out])
        self.xyz0_ok = np.stack([r[4] for r in out])
        tmp = path + '.tmp.npz'
        np.savez(tmp, rgba=self.rgba, masks=self.masks, mask0=self.mask0, xyz0=self.xyz0, xyz0_ok=self.xyz0_ok)
        os.replace(tmp, path)
        log(f'data: wrote cache {path}')

    # ------------------------------------------------------------------ sampling

    def series_of(self, splits):
        return [i for i, s in enumerate(self.series) if s['split'] in splits]

    def propagate(self, rng: np.random.Generator, state: int, label: int, start, end):
        """Runtime drag propagation mirrored: N random pixels of the moving part's view-0 mask
        (state a) become start points, each moved by the operator's displacement (end - start).
        Returns drags_start, drags_end [N, 2] in drag space (None if the part is not visible)."""
        o = self.o
        ys, xs = np.nonzero(self.mask0[state] == label)
        if len(xs) == 0:
            return None
        pick = rng.integers(0, len(xs), size=o.drags)
        pts = np.stack([xs[pick], ys[pick]], -1).astype(np.float32) + rng.random((o.drags, 2), dtype=np.float32)
        k = o.drag_space / self.size
        s = np.clip(pts * k, 0, o.drag_space - 1)
        e = np.clip((pts + (np.asarray(end, np.float32) - np.asarray(start, np.float32))) * k, 0, o.drag_space - 1)
        return s, e

    def sample_pair(self, rng, series_idx, p_same=0.2, a=None, b=None):
        """A drag sample from one series: input state a, target state b (a == b with p_same)."""
        sr = self.series[series_idx]
        S = len(sr['states'])
        for _ in range(20):
            if a is None or b is None:
                a_ = int(rng.integers(S))
                b_ = a_ if rng.random() < p_same else int(rng.integers(S))
            else:
                a_, b_ = a, b
            n = int(sr['counts'][a_, b_])
            if n == 0:
                if a is not None:
                    return None
                continue
            k = int(rng.integers(n))
            d = sr['drags'][a_, b_, k]
            sa, sb = sr['states'][a_], sr['states'][b_]
            pr = self.propagate(rng, sa, sr['label'], d[0:2], d[2:4])
            if pr is None:
                if a is not None:
                    return None
                continue
            return dict(a=sa, b=sb, start=pr[0], end=pr[1], label=sr['label'], series=series_idx)
        return None
