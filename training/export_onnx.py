"""Export a PartRM checkpoint (or random weights) to ONNX + manifest.json (the runtime contract).

  /usr/bin/python3 -m training.export_onnx --config tiny --checkpoint training/runs/tiny/last.pt \
      --data out/train-v1 --metrics training/runs/tiny/metrics.json --out models/partrm-tiny.onnx

Tensors (opset 17, batch dimension dynamic):
  images [B,V,9,H,W], drags_start [B,V,N,2], drags_end [B,V,N,2] -> gaussians [B,G,14].
--save-io DIR writes inputs.npz-like .npy files (images, drags_start, drags_end) and PyTorch's
output (gaussians_torch.npy) for the onnxruntime parity test.
"""
import argparse
import datetime
import json
import math
import os
import sys
import time

import numpy as np
import torch

from . import options as options_mod
from .data import model_to_world
from .compress_onnx import compress, fake_quantize_state_dict
from .model import FLIP_YZ, PartRM, build_images, input_rays, model_input_poses_gl


def rig_view0(size=512, radius=2.4, height=1.5, fovy_deg=49.1):
    """src/core/camera.ts rigCameras view 0 (used when no dataset index is given)."""
    horiz = math.sqrt(radius * radius - height * height)
    eye = np.array([horiz, 0.0, height])
    z = -eye / np.linalg.norm(eye)
    x = np.cross(z, [0.0, 0.0, 1.0]); x /= np.linalg.norm(x)
    y = np.cross(z, x)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = x, y, z, eye
    f = size / 2 / math.tan(math.radians(fovy_deg) / 2)
    return c2w, dict(fx=f, fy=f, cx=size / 2, cy=size / 2, width=size, height=size)


def flat(m):
    return [float(v) for v in np.asarray(m, dtype=np.float64).reshape(-1)]


def make_inputs(o, B=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    rgb = torch.rand(B, o.views, 3, o.input_size, o.input_size, generator=g)
    images = build_images(rgb, input_rays(o), o)
    s = torch.rand(B, o.views, o.drags, 2, generator=g) * (o.drag_space - 1)
    e = (s + (torch.rand(B, 1, 1, 2, generator=g) - 0.5) * o.drag_space * 0.3).clamp(0, o.drag_space - 1)
    return images, s, e


def export(model, o, path, B=1):
    images, s, e = make_inputs(o, B)
    model.eval()
    tmp = path + '.tmp'
    with torch.no_grad():
        torch.onnx.export(
            model, (images, s, e), tmp, opset_version=17,
            input_names=['images', 'drags_start', 'drags_end'], output_names=['gaussians'],
            dynamic_axes={'images': {0: 'batch'}, 'drags_start': {0: 'batch'}, 'drags_end': {0: 'batch'}, 'gaussians': {0: 'batch'}},
            do_constant_folding=True,
        )
    os.replace(tmp, path)


def manifest(o, onnx_name, index=None, provenance=None):
    if index is not None:
        c0 = np.array(index['cameras'][0]['camToWorld'], dtype=np.float64)
        k = dict(index['cameras'][0]['intrinsics'])
        M = model_to_world(index, o)
    else:
        c0, k = rig_view0()
        M = c0 @ np.linalg.inv(model_input_poses_gl(o)[0] @ FLIP_YZ)
    return {
        'format': 'partrm-onnx', 'version': 1,
        'model': onnx_name, 'config': o.name,
        'views': o.views, 'height': o.input_size, 'width': o.input_size, 'drags': o.drags, 'gaussians': o.gaussians,
        'fovy_deg': o.fovy_deg, 'camera_radius': o.camera_radius,
        'cameras_c2w_opengl': [flat(p) for p in model_input_poses_gl(o)],
        'normalization': {'mean': list(o.mean), 'std': list(o.std)},
        'background': list(o.background),
        'drag_space': o.drag_space,
        'model_to_world': flat(M),
        'world_camera_view0_c2w_opencv': flat(c0),
        'world_intrinsics_view0': {key: float(k[key]) if key not in ('width', 'height') else int(k[key]) for key in ('fx', 'fy', 'cx', 'cy', 'width', 'height')},
        'provenance': provenance or {},
    }


def main(argv=None):
    p = argparse.ArgumentParser(description='export PartRM to ONNX + manifest.json')
    p.add_argument('--config', default='tiny')
    p.add_argument('--checkpoint', default=None, help='training checkpoint (.pt); random weights when absent')
    p.add_argument('--seed', type=int, default=0, help='seed of random weights')
    p.add_argument('--data', default=None, help='dataset dir whose index.json gives the world camera')
    p.add_argument('--metrics', default=None, help='metrics.json of the training run (provenance)')
    p.add_argument('--out', required=True, help='.onnx path; manifest.json is written beside it')
    p.add_argument('--manifest', default=None, help='manifest path (default: DIR/manifest.json)')
    p.add_argument('--no-manifest', action='store_true')
    p.add_argument('--save-io', default=None, help='write parity inputs and the PyTorch output (.npy) here')
    p.add_argument('--batch', type=int, default=1, help='batch of the parity inputs')
    p.add_argument('--time-forward', action='store_true', help='time one PyTorch CPU forward')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--weights', choices=['fp32', 'fp16', 'int8'], default='fp32',
                   help='weight storage in the .onnx (int8/fp16: see compress_onnx.py; arithmetic stays fp32)')
    p.add_argument('--note', default=None, help='free text for provenance (e.g. how the run was resumed)')
    p.add_argument('--eval-data', default=None, help='re-evaluate the exported weights on this held-out dataset (manifest metrics)')
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    o = options_mod.get(a.config)
    model = PartRM(o)
    ck = None
    if a.checkpoint:
        ck = torch.load(a.checkpoint, map_location='cpu')
        model.load_state_dict(ck['model'] if 'model' in ck else ck)
    else:
        # random weights: also randomise the drag path so the parity test exercises it
        with torch.no_grad():
            for conv in model.unet.conv_merges:
                conv.weight.add_(torch.randn_like(conv.weight) * 0.02)
    model.eval()
    n_params = sum(q.numel() for q in model.parameters())
    if a.weights != 'fp32':
        # round PyTorch's weights exactly as the file stores them: parity and metrics then
        # describe the shipped numbers
        fake_quantize_state_dict(model, a.weights)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    t = time.time()
    if a.weights == 'fp32':
        export(model, o, a.out)
    else:
        export(model, o, a.out + '.fp32.onnx')
        st = compress(a.out + '.fp32.onnx', a.out, a.weights)
        os.remove(a.out + '.fp32.onnx')
        print(f'{a.weights}: {st["compressed"]} initializers compressed')
    size = os.path.getsize(a.out)
    print(f'exported {a.out}: {size / 1e6:.2f} MB, {n_params:,} parameters, {time.time() - t:.1f} s')
    if a.time_forward:
        images, s, e = make_inputs(o, 1)
        with torch.no_grad():
            t = time.time()
            model(images, s, e)
            print(f'PyTorch CPU forward ({a.threads} threads): {time.time() - t:.2f} s')
    if a.save_io:
        os.makedirs(a.save_io, exist_ok=True)
        images, s, e = make_inputs(o, a.batch, seed=a.seed + 1)
        with torch.no_grad():
            g = model(images, s, e)
        for name, arr in (('images', images), ('drags_start', s), ('drags_end', e), ('gaussians_torch', g)):
            np.save(os.path.join(a.save_io, f'{name}.npy'), arr.numpy().astype(np.float32))
        print(f'wrote parity inputs/outputs to {a.save_io}')
    if not a.no_manifest:
        index = None
        if a.data:
            with open(os.path.join(a.data, 'index.json')) as f:
                index = json.load(f)
        prov = {
            'created': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
            'torch': torch.__version__,
            'config': o.to_dict(),
            'parameters': n_params,
            'weights': 'random (seed %d)' % a.seed if not a.checkpoint else os.path.relpath(a.checkpoint),
            'weight_storage': a.weights,
            **({'note': a.note} if a.note else {}),
            'export_command': 'python3 -m training.export_onnx ' + ' '.join(argv if argv is not None else sys.argv[1:]),
        }
        if index is not None:
            prov['training_data'] = {'dir': os.path.relpath(a.data), 'generator': index['generator'],
                                     'splits': {k: len(v) for k, v in index['splits'].items()}}
        else:
            prov['training_data'] = 'none'
        if a.metrics and os.path.exists(a.metrics):
            with open(a.metrics) as f:
                m = json.load(f)
            prov['metrics'] = m.get('metrics', {})
            prov['stages'] = m.get('stages', {'seconds': m.get('seconds_per_stage')})
            prov['training_command'] = m.get('command')
            prov['training_args'] = m.get('args')
        else:
            prov['metrics'] = {}
            prov['stages'] = {}
        if a.eval_data:
            from .data import Dataset
            from .train import evaluate
            t = time.time()
            ds = Dataset(a.eval_data, o, 64)
            m = evaluate(model, ds, o, pairs=2)
            prov['metrics'] = dict(prov['metrics'])
            prov['metrics']['exported_weights'] = {'data': os.path.relpath(a.eval_data), **m}
            print(f'evaluated exported weights on {a.eval_data} in {time.time() - t:.0f} s: {json.dumps(m)}')
        man = manifest(o, os.path.basename(a.out), index, prov)
        mpath = a.manifest or os.path.join(os.path.dirname(os.path.abspath(a.out)), 'manifest.json')
        with open(mpath + '.tmp', 'w') as f:
            json.dump(man, f, indent=1)
        os.replace(mpath + '.tmp', mpath)
        print(f'wrote {mpath}')


if __name__ == '__main__':
    main()
