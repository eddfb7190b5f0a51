"""PartRM: U-Net with drag merges -> splatter image -> 14 activated Gaussian parameters per pixel.

Gaussian layout (ARCHITECTURE.md, model contract): xyz (3) clamp[-1,1], opacity (1) sigmoid,
scale (3) 0.1*softplus, rotation (4, w first) normalised, rgb (3) 0.5*tanh+0.5;
index = view * splat^2 + row * splat + col.
"""
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .unet import UNet


class PartRM(nn.Module):
    def __init__(self, o):
        super().__init__()
        self.opt = o
        self.unet = UNet(o, 9, 14)
        self.conv = nn.Conv2d(14, 14, 1)
        self.init_head()

    @torch.no_grad()
    def init_head(self):
        """Start from small, faint, unrotated grey splats (training from scratch only; official
        weights overwrite this). Scale 0.1*softplus(-1.25) = 0.025 rig units is about one splat
        cell of a unit-size object, so the first renders are neither holes nor huge blobs (which
        would also make the rasteriser slow)."""
        self.conv.weight.mul_(0.1)
        b = torch.zeros(14)
        b[3] = -2.0                 # opacity sigmoid(-2) = 0.12
        b[4:7] = -1.25              # scale 0.025
        b[7] = 1.0                  # rotation w
        self.conv.bias.copy_(b)

    def forward(self, images, drags_start, drags_end):
        """images [B,V,9,H,W], drags [B,V,N,2] -> gaussians [B, V*S*S, 14]."""
        B, V, C, H, W = images.shape
        x = self.unet(images.reshape(B * V, C, H, W), drags_start, drags_end)
        x = self.conv(x)
        S = self.opt.splat_size
        x = x.reshape(B, V, 14, S, S).permute(0, 1, 3, 4, 2).reshape(B, V * S * S, 14)
        pos = x[..., 0:3].clamp(-1, 1)
        opacity = torch.sigmoid(x[..., 3:4])
        scale = 0.1 * F.softplus(x[..., 4:7])
        rot = x[..., 7:11]
        # F.normalize exports as ReduceL2 + Div; eps as in F.normalize
        rot = rot / torch.sqrt((rot * rot).sum(-1, keepdim=True)).clamp_min(1e-12)
        rgb = 0.5 * torch.tanh(x[..., 11:14]) + 0.5
        return torch.cat([pos, opacity, scale, rot, rgb], -1)


# ---------------------------------------------------------------------------- cameras / rays

FLIP_YZ = np.diag([1.0, -1.0, -1.0, 1.0])


def model_input_poses_gl(o) -> np.ndarray:
    """Input view poses in the model frame, OpenGL c2w [V,4,4].

    View 0 sits at (0, 0, radius) with identity rotation (LGM/PartRM normalisation); further views
    orbit the model y axis by 90 degrees each (LGM's 4-view layout: azimuth 0, 90, 180, 270 at the
    elevation of view 0).
    """
    poses = []
    for v in range(o.views):
        a = math.radians(90.0 * v)
        R = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
        T = np.eye(4)
        T[:3, :3] = R
        T[:3, 3] = R @ np.array([0.0, 0.0, o.camera_radius])
        poses.append(T)
    return np.stack(poses)


def plucker_rays(pose_gl: np.ndarray, size: int, fovy_deg: float) -> np.ndarray:
    """LGM get_rays + Plücker: [6, H, W] = (cross(o, d), d), OpenGL camera looking down -z."""
    f = 0.5 * size / math.tan(0.5 * math.radians(fovy_deg))
    ys, xs = np.meshgrid(np.arange(size, dtype=np.float64), np.arange(size, dtype=np.float64), indexing='ij')
    dirs = np.stack([(xs - size / 2 + 0.5) / f, -(ys - size / 2 + 0.5) / f, -np.ones_like(xs)], -1)
    d = dirs @ pose_gl[:3, :3].T
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    o = np.broadcast_to(pose_gl[:3, 3], d.shape)
    return np.concatenate([np.cross(o, d), d], -1).transpose(2, 0, 1).astype(np.float32)


def input_rays(o) -> torch.Tensor:
    """[V, 6, H, W] Plücker rays of the model's input views."""
    return torch.from_numpy(np.stack([plucker_rays(p, o.input_size, o.fovy_deg) for p in model_input_poses_gl(o)]))


def build_images(rgb: torch.Tensor, rays: torch.Tensor, o) -> torch.Tensor:
    """rgb [B,V,3,H,W] in [0,1] on white -> network input [B,V,9,H,W]."""
    mean = torch.tensor(o.mean, dtype=rgb.dtype).view(1, 1, 3, 1, 1)
    std = torch.tensor(o.std, dtype=rgb.dtype).view(1, 1, 3, 1, 1)
    x = (rgb - mean) / std
    return torch.cat([x, rays.unsqueeze(0).expand(rgb.shape[0], -1, -1, -1, -1)], 2)
