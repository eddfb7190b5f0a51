"""Small helpers: seeds, PNG writing and line plots without matplotlib, PSNR."""
import json
import math
import random
import struct
import zlib

import numpy as np
import torch


def seed_all(seed: int):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def write_png(path: str, img: np.ndarray):
    """img [H, W, 3] uint8 -> PNG (filter 0 on every row)."""
    img = np.ascontiguousarray(img.astype(np.uint8))
    H, W, C = img.shape
    raw = b''.join(b'\x00' + img[y].tobytes() for y in range(H))

    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', W, H, 8, 2 if C == 3 else 6, 0, 0, 0))
    png += chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(png)


# 3x5 digit font for axis labels
_FONT = {
    '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111',
    '4': '101101111001001', '5': '111100111001111', '6': '111100111101111', '7': '111001001001001',
    '8': '111101111101111', '9': '111101111001111', '.': '000000000000010', '-': '000000111000000',
    'e': '000111101110011', ' ': '000000000000000', '_': '000000000000111',
    # lower-case letters for the legend (3x5; enough to read s0_rgb, s1_distill, ...)
    'a': '000011101101011', 'b': '100110101101110', 'd': '001011101101011', 'g': '000011101011110',
    'h': '100110101101101', 'i': '010000010010010', 'l': '010010010010010', 'p': '000110101110100',
    'r': '000101110100100', 's': '000011110001110', 't': '010111010010011', 'x': '000101010010101',
    'y': '000101101011110', 'z': '000111001100111',
}


def _text(img, x, y, s, color, scale=2):
    for ch in s:
        bits = _FONT.get(ch, _FONT[' '])
        for i, b in enumerate(bits):
            if b == '1':
                r, c = divmod(i, 3)
                img[y + r * scale:y + (r + 1) * scale, x + c * scale:x + (c + 1) * scale] = color
        x += 4 * scale


def _line(img, x0, y0, x1, y1, color):
    n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
    xs = np.linspace(x0, x1, n).round().astype(int)
    ys = np.linspace(y0, y1, n).round().astype(int)
    ok = (xs >= 0) & (xs < img.shape[1]) & (ys >= 0) & (ys < img.shape[0])
    img[ys[ok], xs[ok]] = color


COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194)]


def plot_curves(path: str, curves: dict, width=900, height=420, log_y=True, smooth=20):
    """Line plot of {name: [(x, y), ...]} (log10 y); legend = colour order of the names, printed in
    the JSON sidecar (path + '.json') since the PNG has no text font beyond digits."""
    img = np.full((height, width, 3), 255, np.uint8)
    L, R, T, B = 70, 20, 20, 40
    pts = {k: np.array(v, dtype=np.float64) for k, v in curves.items() if len(v) > 1}
    if not pts:
        write_png(path, img)
        return
    allx = np.concatenate([p[:, 0] for p in pts.values()])
    ally = np.concatenate([p[:, 1] for p in pts.values()])
    ally = ally[np.isfinite(ally) & (ally > 0)] if log_y else ally[np.isfinite(ally)]
    f = (lambda y: np.log10(np.maximum(y, 1e-12))) if log_y else (lambda y: y)
    x0, x1 = allx.min(), max(allx.max(), allx.min() + 1)
    y0, y1 = f(ally).min(), f(ally).max()
    if y1 - y0 < 1e-9:
        y1 = y0 + 1
    sx = lambda x: L + (x - x0) / (x1 - x0) * (width - L - R)
    sy = lambda y: T + (1 - (y - y0) / (y1 - y0)) * (height - T - B)
    grey = (200, 200, 200)
    for t in np.linspace(y0, y1, 5):
        _line(img, L, sy(t), width - R, sy(t), grey)
        _text(img, 2, int(sy(t)) - 5, (f'{10 ** t:.0e}' if log_y else f'{t:.2f}')[:7], (0, 0, 0))
    for t in np.linspace(x0, x1, 5):
        _line(img, sx(t), T, sx(t), height - B, grey)
        _text(img, int(sx(t)) - 10, height - B + 8, f'{int(t)}', (0, 0, 0))
    legend = {}
    for i, (k, p) in enumerate(pts.items()):
        c = COLORS[i % len(COLORS)]
        legend[k] = c
        y = p[:, 1]
        if smooth > 1 and len(y) > smooth:
            y = np.convolve(y, np.ones(smooth) / smooth, mode='valid')
            x = p[smooth - 1:, 0]
        else:
            x = p[:, 0]
        for j in range(len(x) - 1):
            _line(img, sx(x[j]), sy(f(y[j])), sx(x[j + 1]), sy(f(y[j + 1])), c)
        img[T + 4 + 14 * i:T + 10 + 14 * i, width - R - 130:width - R - 110] = c
        _text(img, width - R - 104, T + 2 + 14 * i, k, (0, 0, 0))
    write_png(path, img)
    with open(path + '.json', 'w') as fh:
        json.dump({'legend_rgb': legend, 'log10_y': log_y, 'smoothing': smooth}, fh, indent=1)


def psnr(mse: float) -> float:
    return -10.0 * math.log10(max(mse, 1e-12))
