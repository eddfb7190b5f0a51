"""Model/training configurations.

`big` reproduces the official PartRM shapes (LGM big U-Net + multi-scale drag embedding) so that
official checkpoints load with the key map documented in README.md. `tiny` is the CPU-trainable
configuration that the project ships: one input view (the product's real input is one camera
image), 64 px input, 32 px splatter image.
"""
from dataclasses import dataclass, field, asdict
from typing import Tuple
import math


@dataclass
class Options:
    name: str = 'tiny'
    # ---- network ----
    views: int = 1                 # input views V
    input_size: int = 64           # H = W of the network input
    splat_size: int = 32           # output splatter image per view (G = V * splat^2)
    down_channels: Tuple[int, ...] = (32, 64, 64, 128, 128)
    down_attention: Tuple[bool, ...] = (False, False, False, True, True)
    mid_attention: bool = True
    up_channels: Tuple[int, ...] = (128, 128, 64, 64)
    up_attention: Tuple[bool, ...] = (True, True, False, False)
    layers_per_block: int = 2
    attention_heads: int = 4
    norm_groups: int = 8           # LGM uses 32; tiny channels are too few for 32 groups to mean much
    skip_scale: float = math.sqrt(0.5)
    # up_channels[i] must equal down_channels[-1 - i] (LGM's skip layout assumes it)
    # ---- drags ----
    drags: int = 10                # N propagated drags
    drag_space: int = 128          # drags are pixels of a drag_space x drag_space view-0 image
    fourier_freqs: int = 8
    fourier_temperature: float = 100.0
    drag_hidden: Tuple[int, int] = (128, 256)
    # ---- cameras (LGM/PartRM convention) ----
    fovy_deg: float = 49.1
    camera_radius: float = 2.4
    mean: Tuple[float, float, float] = (0.485, 0.456, 0.406)   # ImageNet, as PartRM's PartDrag-4D model
    std: Tuple[float, float, float] = (0.229, 0.224, 0.225)
    background: Tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def gaussians(self) -> int:
        return self.views * self.splat_size * self.splat_size

    def drag_scales(self):
        """Resolution and channel count at the input of every down block (where drags are merged)."""
        scales, channels = [], []
        res, cin = self.input_size, self.down_channels[0]
        for i, c in enumerate(self.down_channels):
            scales.append(res)
            channels.append(cin)
            cin = c
            if i != len(self.down_channels) - 1:
                res //= 2
        return scales, channels

    def to_dict(self):
        d = asdict(self)
        d['gaussians'] = self.gaussians
        return d


def tiny() -> Options:
    return Options()


def big() -> Options:
    """The official PartRM network (LGM big + DragPositionNetMultiScale), 440,746,529 parameters."""
    return Options(
        name='big', views=4, input_size=256, splat_size=128,
        down_channels=(64, 128, 256, 512, 1024, 1024),
        down_attention=(False, False, False, True, True, True),
        mid_attention=True,
        up_channels=(1024, 1024, 512, 256, 128),
        up_attention=(True, True, True, False, False),
        layers_per_block=2, attention_heads=16, norm_groups=32,
        drags=10, drag_space=512,
    )


def micro() -> Options:
    """A few-kilobyte network with every feature of the others (attention, all drag scales,
    asymmetric up path), for committed ONNX parity fixtures only."""
    return Options(
        name='micro', views=2, input_size=32, splat_size=16,
        down_channels=(8, 16, 16, 16), down_attention=(False, False, True, True),
        up_channels=(16, 16, 16), up_attention=(True, True, False),
        layers_per_block=2, attention_heads=2, norm_groups=4, drags=4, drag_space=64,
        drag_hidden=(16, 16),
    )


CONFIGS = {'tiny': tiny, 'big': big, 'micro': micro}


def get(name: str) -> Options:
    if name not in CONFIGS:
        raise ValueError(f'Options: unknown config "{name}", expected one of {sorted(CONFIGS)}')
    return CONFIGS[name]()
