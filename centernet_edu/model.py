"""CenterNetLite: a small stride-4 encoder-decoder with CenterNet's three heads.

CenterNet needs dense maps at output stride R = 4: a heatmap Yhat of C channels (one per
class), a size map (w, h) and an offset map (dx, dy). Any backbone that produces stride-4
features will do; this one is small enough to train on a laptop CPU:

    image (3, H, W)
      -> stem    conv s2                  (H/2)
      -> stage 1 conv s2, conv            (H/4)  --- skip ---------------+
      -> stage 2 conv s2, conv            (H/8)  --- skip ----------+    |
      -> stage 3 conv s2, conv            (H/16)                    |    |
      -> up x2, + skip, conv              (H/8)  <------------------+    |
      -> up x2, + skip, conv              (H/4)  <-----------------------+
      -> heads: 3x3 conv, ReLU, 1x1 conv  (H/4)

Every conv is conv-BatchNorm-ReLU. The heatmap head's last bias starts at -2.19, about
-log((1 - pi) / pi) for pi = 0.1: every pixel starts at probability sigmoid(-2.19) = 0.1,
so the many background pixels do not swamp the focal loss in the first steps (the
prior-probability initialisation of RetinaNet, with the value of the reference code).
"""

from __future__ import annotations

from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from .targets import EXTREME_PARTS

__all__ = ["CenterNetLite", "HM_PRIOR_BIAS", "conv_bn_relu"]

HM_PRIOR_BIAS = -2.19


def conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution (no bias: BatchNorm has one), BatchNorm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def _head(c_in: int, c_mid: int, c_out: int, bias: float | None = None) -> nn.Sequential:
    head = nn.Sequential(
        nn.Conv2d(c_in, c_mid, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(c_mid, c_out, 1)
    )
    if bias is not None:
        nn.init.constant_(head[-1].bias, bias)
    return head


class CenterNetLite(nn.Module):
    """A small CenterNet: ``forward(images (B, 3, H, W)) -> {"hm", "wh", "reg"}`` at stride 4.

    Args:
        num_classes: C, the heatmap channels.
        channels: widths of the four stages (stride 2, 4, 8, 16).
        head_channels: width of each head's hidden layer.
        extreme: predict the ExtremeNet heads instead (``hm_t, hm_l, hm_b, hm_r, hm_c``
            with C channels, ``reg_t .. reg_r`` with 2), for ``ExtremeNetLoss``.

    Outputs (all ``(B, ., H/4, W/4)``, float): ``hm`` raw logits of Yhat (apply a sigmoid
    for probabilities), ``wh`` the size (w, h) and ``reg`` the offset (dx, dy), both in
    heatmap pixels. H and W must be multiples of 16, the deepest stride.
    """

    stride = 4
    size_divisor = 16

    def __init__(
        self,
        num_classes: int,
        channels: tuple[int, int, int, int] = (16, 32, 64, 96),
        head_channels: int = 32,
        extreme: bool = False,
    ):
        super().__init__()
        if (
            isinstance(num_classes, bool)
            or not isinstance(num_classes, Integral)
            or num_classes < 1
        ):
            raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
        if len(channels) != 4 or any(
            isinstance(c, bool) or not isinstance(c, Integral) or c < 1 for c in channels
        ):
            raise ValueError(f"channels must be four positive integers, got {channels!r}")
        if (
            isinstance(head_channels, bool)
            or not isinstance(head_channels, Integral)
            or head_channels < 1
        ):
            raise ValueError(f"head_channels must be a positive integer, got {head_channels!r}")
        self.config = {
            "num_classes": int(num_classes),
            "channels": tuple(int(c) for c in channels),
            "head_channels": int(head_channels),
            "extreme": bool(extreme),
        }
        self.num_classes = int(num_classes)
        self.extreme = bool(extreme)
        c0, c1, c2, c3 = channels
        self.stem = conv_bn_relu(3, c0, stride=2)
        self.stage1 = nn.Sequential(conv_bn_relu(c0, c1, stride=2), conv_bn_relu(c1, c1))
        self.stage2 = nn.Sequential(conv_bn_relu(c1, c2, stride=2), conv_bn_relu(c2, c2))
        self.stage3 = nn.Sequential(conv_bn_relu(c2, c3, stride=2), conv_bn_relu(c3, c3))
        # Decoder: project the deeper map to the skip's width, add, refine.
        self.lateral3 = nn.Conv2d(c3, c2, 1)
        self.fuse2 = conv_bn_relu(c2, c2)
        self.lateral2 = nn.Conv2d(c2, c1, 1)
        self.fuse1 = conv_bn_relu(c1, c1)

        C, hc = self.num_classes, int(head_channels)
        heads = {}
        if self.extreme:
            for part in "tlbrc":
                heads[f"hm_{part}"] = _head(c1, hc, C, bias=HM_PRIOR_BIAS)
            for part in EXTREME_PARTS:
                heads[f"reg_{part}"] = _head(c1, hc, 2)
        else:
            heads["hm"] = _head(c1, hc, C, bias=HM_PRIOR_BIAS)
            heads["wh"] = _head(c1, hc, 2)
            heads["reg"] = _head(c1, hc, 2)
        self.heads = nn.ModuleDict(heads)

    def _check(self, images) -> None:
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(
                f"images must be a (B, 3, H, W) tensor, got {getattr(images, 'shape', type(images))}"
            )
        H, W = images.shape[2:]
        d = self.size_divisor
        if H % d or W % d:
            raise ValueError(
                f"image height and width must be multiples of {d} (the deepest stride), got {H} x {W}"
            )
        if not images.is_floating_point():
            raise ValueError(f"images must be a floating-point tensor, got {images.dtype}")

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The shared stride-4 features ``(B, channels[1], H/4, W/4)``."""
        self._check(images)
        s4 = self.stage1(self.stem(images))
        s8 = self.stage2(s4)
        s16 = self.stage3(s8)
        x = F.interpolate(self.lateral3(s16), scale_factor=2, mode="nearest") + s8
        x = self.fuse2(x)
        x = F.interpolate(self.lateral2(x), scale_factor=2, mode="nearest") + s4
        return self.fuse1(x)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.features(images)
        return {name: head(x) for name, head in self.heads.items()}
