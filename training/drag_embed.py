"""Multi-scale drag embedding (PartRM Eq. 4), written so that it exports to ONNX.

Official behaviour kept for weight compatibility:
- Fourier features of the raw pixel coordinates, frequencies temperature^(k/F), ordered
  [sin f0 x, sin f0 y, cos f0 x, cos f0 y, sin f1 x, ...].
- One MLP per scale, shared by start and end points: Linear(4F,128)-SiLU-Linear(128,256)-SiLU-Linear(256,C/2).
- Drag maps: map[:, x // r, y // r] += emb with r = drag_space / S. x (the column) indexes the
  map's FIRST spatial axis (H): the maps are transposed relative to the image. This is a quirk of
  the official code that the trained weights depend on, so we copy it.
- GaussianBlur(kernel 5, sigma 1, reflect padding) on each map.
The Python loop over drags of the official code is replaced by a one-hot matmul (exportable and
vectorised); results are identical because the loop sums per cell too.
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


def fourier_features(p: torch.Tensor, freqs: int, temperature: float) -> torch.Tensor:
    """p [..., 2] -> [..., 4 * freqs] in the official order."""
    bands = temperature ** (torch.arange(freqs, dtype=p.dtype, device=p.device) / freqs)  # [F]
    x = p.unsqueeze(-2) * bands.view(-1, 1)            # [..., F, 2]
    feat = torch.cat([torch.sin(x), torch.cos(x)], -1)  # [..., F, 4] = sin x, sin y, cos x, cos y
    return feat.flatten(-2)


def gaussian_kernel(size: int = 5, sigma: float = 1.0) -> torch.Tensor:
    # torchvision's GaussianBlur kernel: exp(-x^2 / (2 sigma^2)) normalised, x = -2..2
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k = k / k.sum()
    return k[:, None] * k[None, :]


class DragPositionNetMultiScale(nn.Module):
    def __init__(self, scales, channels, drag_space: int, freqs: int = 8, temperature: float = 100.0, hidden=(128, 256)):
        super().__init__()
        self.scales = list(scales)
        self.channels = list(channels)
        self.drag_space = drag_space
        self.freqs = freqs
        self.temperature = temperature
        # name kept from the official code: linears_drags.{scale}.{0,2,4}
        self.linears_drags = nn.ModuleList([
            nn.Sequential(
                nn.Linear(4 * freqs, hidden[0]), nn.SiLU(),
                nn.Linear(hidden[0], hidden[1]), nn.SiLU(),
                nn.Linear(hidden[1], c // 2),
            ) for c in channels
        ])
        # one depthwise kernel per scale, as buffers so the ONNX graph holds them as constants
        k = gaussian_kernel(5, 1.0)
        for i, c in enumerate(channels):
            self.register_buffer(f'blur{i}', k.expand(c // 2, 1, 5, 5).clone(), persistent=False)

    def drag_map(self, pts: torch.Tensor, emb: torch.Tensor, S: int) -> torch.Tensor:
        """pts [BV, N, 2] pixels, emb [BV, N, C] -> [BV, C, S, S] summed per cell (transposed quirk)."""
        r = self.drag_space / S
        # official: int(p) // r on non-negative coordinates == floor(p / r) for integer r
        cell = torch.floor(pts / r).clamp(0, S - 1)
        idx = cell[..., 0] * S + cell[..., 1]                                        # x -> first axis
        onehot = (idx.unsqueeze(-1) == torch.arange(S * S, dtype=pts.dtype, device=pts.device)).to(emb.dtype)  # [BV, N, S*S]
        m = torch.matmul(emb.transpose(1, 2), onehot)                                # [BV, C, S*S]
        return m.reshape(m.shape[0], m.shape[1], S, S)

    def blur_map(self, m: torch.Tensor, i: int, S: int) -> torch.Tensor:
        if S < 3:   # reflect padding of 2 needs at least 3 cells; tiny maps are left unblurred
            return m
        w = getattr(self, f'blur{i}')
        return F.conv2d(F.pad(m, (2, 2, 2, 2), mode='reflect'), w, groups=w.shape[0])

    def forward(self, drags_start: torch.Tensor, drags_end: torch.Tensor):
        """drags [B, V, N, 2] -> lists of per-scale start/end maps [B*V, C/2, S, S]."""
        B, V, N, _ = drags_start.shape
        s = drags_start.reshape(B * V, N, 2).clamp(0, self.drag_space - 1)
        e = drags_end.reshape(B * V, N, 2).clamp(0, self.drag_space - 1)
        fs = fourier_features(s, self.freqs, self.temperature)
        fe = fourier_features(e, self.freqs, self.temperature)
        starts, ends = [], []
        for i, (mlp, S) in enumerate(zip(self.linears_drags, self.scales)):
            starts.append(self.blur_map(self.drag_map(s, mlp(fs), S), i, S))
            ends.append(self.blur_map(self.drag_map(e, mlp(fe), S), i, S))
        return starts, ends
