"""LGM's asymmetric U-Net with PartRM's multi-scale drag merges (UNetWithMSDrag).

Module and parameter names follow the official code (conv_in, down_blocks.i.nets.j.norm1, ...,
attns.j.attn.qkv, drag_position_net.linears_drags.i, conv_merges.i) so official checkpoints
load by name; see README.md for the key map.

Differences that do not change the maths:
- attention is plain softmax(QK^T/sqrt(d))V (the official code calls xformers' memory-efficient
  kernel), so it exports to ONNX;
- the drag-map loop is a one-hot matmul (drag_embed.py).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .drag_embed import DragPositionNetMultiScale


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, groups=32, eps=1e-5, skip_scale=1.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2 = nn.GroupNorm(groups, cout, eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.shortcut = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1, bias=True)
        self.skip_scale = skip_scale

    def forward(self, x):
        res = x
        x = self.conv1(F.silu(self.norm1(x)))
        x = self.conv2(F.silu(self.norm2(x)))
        return (x + self.shortcut(res)) * self.skip_scale


class Attention(nn.Module):
    """dinov2-style attention (qkv without bias, proj with bias), plain softmax."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.proj = nn.Linear(dim, dim, bias=True)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                     # [B, h, N, d]
        a = torch.softmax(torch.matmul(q * self.scale, k.transpose(-2, -1)), dim=-1)
        x = torch.matmul(a, v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class MVAttention(nn.Module):
    """Self-attention over the tokens of all V views of one sample jointly (multi-view consistency)."""

    def __init__(self, dim, heads, views, groups=32, eps=1e-5, skip_scale=1.0):
        super().__init__()
        self.views = views
        self.skip_scale = skip_scale
        self.norm = nn.GroupNorm(groups, dim, eps)
        self.attn = Attention(dim, heads)

    def forward(self, x):
        BV, C, H, W = x.shape
        B = BV // self.views
        res = x
        x = self.norm(x)
        x = x.reshape(B, self.views, C, H, W).permute(0, 1, 3, 4, 2).reshape(B, -1, C)
        x = self.attn(x)
        x = x.reshape(B, self.views, H, W, C).permute(0, 1, 4, 2, 3).reshape(BV, C, H, W)
        return (x + res) * self.skip_scale


class DownBlock(nn.Module):
    def __init__(self, cin, cout, layers, downsample, attention, o):
        super().__init__()
        self.nets = nn.ModuleList()
        self.attns = nn.ModuleList()
        for i in range(layers):
            self.nets.append(ResnetBlock(cin if i == 0 else cout, cout, o.norm_groups, skip_scale=o.skip_scale))
            self.attns.append(MVAttention(cout, o.attention_heads, o.views, o.norm_groups, skip_scale=o.skip_scale) if attention else nn.Identity())
        self.downsample = nn.Conv2d(cout, cout, 3, 2, 1) if downsample else None

    def forward(self, x):
        xs = []
        for attn, net in zip(self.attns, self.nets):
            x = attn(net(x))
            xs.append(x)
        if self.downsample is not None:
            x = self.downsample(x)
            xs.append(x)
        return x, xs


class MidBlock(nn.Module):
    def __init__(self, c, attention, o):
        super().__init__()
        self.nets = nn.ModuleList([ResnetBlock(c, c, o.norm_groups, skip_scale=o.skip_scale) for _ in range(2)])
        self.attns = nn.ModuleList([MVAttention(c, o.attention_heads, o.views, o.norm_groups, skip_scale=o.skip_scale) if attention else nn.Identity()])

    def forward(self, x):
        x = self.nets[0](x)
        return self.nets[1](self.attns[0](x))


class UpBlock(nn.Module):
    def __init__(self, cin, cskip_last, cout, layers, upsample, attention, o):
        super().__init__()
        self.nets = nn.ModuleList()
        self.attns = nn.ModuleList()
        for i in range(layers):
            c0 = cin if i == 0 else cout
            cs = cskip_last if i == layers - 1 else cout
            self.nets.append(ResnetBlock(c0 + cs, cout, o.norm_groups, skip_scale=o.skip_scale))
            self.attns.append(MVAttention(cout, o.attention_heads, o.views, o.norm_groups, skip_scale=o.skip_scale) if attention else nn.Identity())
        self.upsample = nn.Conv2d(cout, cout, 3, 1, 1) if upsample else None

    def forward(self, x, xs):
        for attn, net in zip(self.attns, self.nets):
            x = attn(net(torch.cat([x, xs.pop()], 1)))
        if self.upsample is not None:
            x = self.upsample(F.interpolate(x, scale_factor=2.0, mode='nearest'))
        return x


class UNet(nn.Module):
    def __init__(self, o, in_channels=9, out_channels=14):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, o.down_channels[0], 3, 1, 1)
        self.down_blocks = nn.ModuleList()
        cout = o.down_channels[0]
        for i, c in enumerate(o.down_channels):
            cin, cout = cout, c
            self.down_blocks.append(DownBlock(cin, cout, o.layers_per_block, i != len(o.down_channels) - 1, o.down_attention[i], o))
        self.mid_block = MidBlock(o.down_channels[-1], o.mid_attention, o)
        self.up_blocks = nn.ModuleList()
        cout = o.up_channels[0]
        for i, c in enumerate(o.up_channels):
            cin, cout = cout, c
            cskip = o.down_channels[max(-2 - i, -len(o.down_channels))]   # asymmetric: fewer up blocks
            self.up_blocks.append(UpBlock(cin, cskip, cout, o.layers_per_block + 1, i != len(o.up_channels) - 1, o.up_attention[i], o))
        self.norm_out = nn.GroupNorm(o.norm_groups, o.up_channels[-1], 1e-5)
        self.conv_out = nn.Conv2d(o.up_channels[-1], out_channels, 3, 1, 1)

        scales, channels = o.drag_scales()
        self.drag_position_net = DragPositionNetMultiScale(scales, channels, o.drag_space, o.fourier_freqs, o.fourier_temperature, o.drag_hidden)
        # Official layout: x = conv_merge(cat[x, start_map, end_map]), 2C -> C. The paper's
        # "zero-initialised residual conv" (I = O + Conv(M (+) O)) is obtained by initialising the
        # conv to the identity on x and zero on the drag maps: the static network is untouched at
        # the start of drag training, and official weights still load without any transform.
        self.conv_merges = nn.ModuleList([nn.Conv2d(2 * c, c, 3, 1, 1) for c in channels])
        self.alpha = nn.Parameter(torch.tensor(0.0))   # unused; exists in the official checkpoint
        self.reset_drag_merges()

    @torch.no_grad()
    def reset_drag_merges(self):
        for conv in self.conv_merges:
            c = conv.out_channels
            conv.weight.zero_()
            conv.bias.zero_()
            conv.weight[torch.arange(c), torch.arange(c), 1, 1] = 1.0

    def forward(self, x, drags_start, drags_end):
        starts, ends = self.drag_position_net(drags_start, drags_end)
        x = self.conv_in(x)
        xss = [x]
        for i, block in enumerate(self.down_blocks):
            x = self.conv_merges[i](torch.cat([x, starts[i], ends[i]], 1))
            x, xs = block(x)
            xss.extend(xs)
        x = self.mid_block(x)
        for block in self.up_blocks:
            n = len(block.nets)
            xs = xss[-n:]
            xss = xss[:-n]
            x = block(x, xs)
        return self.conv_out(F.silu(self.norm_out(x)))
