"""Redraws a run's loss curves from its checkpoint history (x = global step across stages).

  /usr/bin/python3 -m training.plot_curves out/runs/tiny-v1/last.pt models/partrm-tiny-curves.png
"""
import sys

import torch

from .utils import plot_curves


def curves_from_history(history):
    last = {}
    for h in history:
        last[h['stage']] = max(last.get(h['stage'], 0), h['step'])
    offs = {0: 0, 1: last.get(0, 0), 2: last.get(0, 0) + last.get(1, 0)}
    cur = {}
    for h in history:
        for k in ('xyz', 'rgb', 'alpha', 'part', 'distill'):
            if k in h:
                cur.setdefault(f's{h["stage"]}_{k}', []).append((offs[h['stage']] + h['step'], h[k]))
    return cur


if __name__ == '__main__':
    ck = torch.load(sys.argv[1], map_location='cpu')
    plot_curves(sys.argv[2], curves_from_history(ck['history']))
    print(f'wrote {sys.argv[2]}')
