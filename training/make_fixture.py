"""Writes the committed ONNX parity fixture test/fixtures/model/ (micro config, random weights):
micro.onnx, manifest.json, images/drags_start/drags_end .npy and PyTorch's gaussians_torch.npy.
CI without PyTorch still checks onnxruntime-node against this PyTorch output.

  /usr/bin/python3 -m training.make_fixture
"""
import os
import sys

from . import export_onnx

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'model')

if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    export_onnx.main(['--config', 'micro', '--seed', '0', '--out', os.path.join(OUT, 'micro.onnx'),
                      '--save-io', OUT, '--batch', '2', '--threads', '1'] + sys.argv[1:])
