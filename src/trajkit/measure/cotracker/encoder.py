"""CoTracker3's frame encoder: a small ResNet that turns each frame into a 128-channel feature map at 1/4 resolution.

Shapes: ``(F, 3, H, W)`` frames normalised to ``[-1, 1]`` → ``(F, 128, H/4, W/4)`` features. Every normalisation is
an instance norm without parameters, so frames never influence each other (batch size does not matter).

Module attribute names form the checkpoint keys (``fnet.conv1.weight``, ``fnet.layer2.0.downsample.0.weight``, …)
and follow the released ``scaled_offline.pth`` / ``scaled_online.pth`` files.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional


class ResidualUnit(nn.Module):
    """Two 3×3 convolutions, each followed by instance norm and ReLU, added to a (possibly strided 1×1) shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, stride=stride)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.norm1 = nn.InstanceNorm2d(out_channels)
        self.norm2 = nn.InstanceNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.downsample: nn.Module | None = None
        if stride != 1:
            # Index 0 / 1 inside the Sequential are part of the checkpoint key layout (downsample.0.weight).
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride),
                                            nn.InstanceNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch = self.relu(self.norm1(self.conv1(x)))
        branch = self.relu(self.norm2(self.conv2(branch)))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(shortcut + branch)


def _stage(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    return nn.Sequential(ResidualUnit(in_channels, out_channels, stride), ResidualUnit(out_channels, out_channels))


class FeatureEncoder(nn.Module):
    """Frames → features at ``1/stride`` resolution.

    A 7×7 stride-2 stem (64 channels), four stages of two residual units (64, 96, 128, 128 channels at strides
    2, 4, 8, 16), every stage output resized bilinearly (corner-aligned) to ``(H/stride, W/stride)``, concatenated
    (416 channels), fused by a 3×3 convolution to 256 channels (instance norm, ReLU) and projected by a 1×1
    convolution to ``out_channels``.
    """

    def __init__(self, out_channels: int = 128, stride: int = 4) -> None:
        super().__init__()
        self.stride = stride
        stem = out_channels // 2
        widths = (out_channels // 2, out_channels // 4 * 3, out_channels, out_channels)
        self.conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3)
        self.norm1 = nn.InstanceNorm2d(stem)
        self.relu1 = nn.ReLU()
        self.layer1 = _stage(stem, widths[0], 1)
        self.layer2 = _stage(widths[0], widths[1], 2)
        self.layer3 = _stage(widths[1], widths[2], 2)
        self.layer4 = _stage(widths[2], widths[3], 2)
        self.conv2 = nn.Conv2d(sum(widths), out_channels * 2, kernel_size=3, padding=1)
        self.norm2 = nn.InstanceNorm2d(out_channels * 2)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(out_channels * 2, out_channels, kernel_size=1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """``(F, 3, H, W)`` in ``[-1, 1]`` → ``(F, out_channels, H/stride, W/stride)``."""
        size = (frames.shape[-2] // self.stride, frames.shape[-1] // self.stride)
        x = self.relu1(self.norm1(self.conv1(frames)))
        scales = []
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)
            scales.append(functional.interpolate(x, size, mode="bilinear", align_corners=True))
        fused = self.relu2(self.norm2(self.conv2(torch.cat(scales, dim=1))))
        return self.conv3(fused)
