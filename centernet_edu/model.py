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

from dataclasses import dataclass
from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from .targets import EXTREME_PARTS
from .validate import MAX_ELEMENTS, positive_int, tensor

__all__ = ["CenterNetLite", "CenterNetLiteConfig", "HM_PRIOR_BIAS", "conv_bn_relu"]

HM_PRIOR_BIAS = -2.19


@dataclass(frozen=True)
class CenterNetLiteConfig:
    """The shape of a ``CenterNetLite``: plain values, so checkpoints store them
    (``dataclasses.asdict``) and ``load_model`` rebuilds the model from them."""

    num_classes: int  # C, the heatmap channels: one per class
    channels: tuple[int, int, int, int] = (16, 32, 64, 96)  # stage widths at stride 2, 4, 8, 16
    head_channels: int = 32  # width of each head's hidden layer
    extreme: bool = False  # the ExtremeNet heads (hm_t .. hm_c, reg_t .. reg_r), not hm, wh, reg

    def __post_init__(self):
        # Frozen: the checked values are set once, here, in the form the model computes with.
        set_field = object.__setattr__
        set_field(self, "num_classes", positive_int("num_classes", self.num_classes))
        set_field(self, "channels", _four_positive_ints("channels", self.channels))
        set_field(self, "head_channels", positive_int("head_channels", self.head_channels))
        if not isinstance(self.extreme, bool):
            raise ValueError(f"extreme must be True or False, got {self.extreme!r}")
        _check_weights(self)


def _check_weights(config: CenterNetLiteConfig) -> None:
    """The model's weights fit in ``MAX_ELEMENTS``; a model too large names the argument
    that makes it so: the backbone's ``channels``, then ``head_channels``, then
    ``num_classes`` (the weights of the convolutions; biases and BatchNorm add a few per
    channel)."""
    c0, c1, c2, c3 = config.channels
    hc, C = config.head_channels, config.num_classes
    heatmaps, offsets = (5, 4) if config.extreme else (1, 2)
    backbone = 9 * (3 * c0 + c0 * c1 + c1 * c1 + c1 * c2 + 2 * c2 * c2 + c2 * c3 + c3 * c3)
    backbone += c3 * c2 + c2 * c1 + 9 * c1 * c1
    hidden = (heatmaps + offsets) * 9 * c1 * hc + offsets * hc * 2
    parts = (
        ("channels", config.channels, backbone),
        ("head_channels", hc, backbone + hidden),
        ("num_classes", C, backbone + hidden + heatmaps * hc * C),
    )
    for name, value, weights in parts:
        if weights > MAX_ELEMENTS:
            raise ValueError(
                f"{name} asks for a model of {weights:.3g} weights, more than the "
                f"{MAX_ELEMENTS:.3g} allowed, got {value!r}"
            )


def _four_positive_ints(name: str, value) -> tuple[int, int, int, int]:
    # A general n-tuple check (int_pair covers two) that belongs in validate.py.
    try:
        ok = len(value) == 4 and all(
            isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in value
        )
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must be four positive integers, got {value!r}")
    return tuple(int(v) for v in value)


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

    The arguments are kept, checked, as ``model.config`` (a ``CenterNetLiteConfig``), so
    ``CenterNetLite(**dataclasses.asdict(model.config))`` builds the same architecture.

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
        self.config = CenterNetLiteConfig(num_classes, channels, head_channels, extreme)
        c0, c1, c2, c3 = self.config.channels
        self.stem = conv_bn_relu(3, c0, stride=2)
        self.stage1 = nn.Sequential(conv_bn_relu(c0, c1, stride=2), conv_bn_relu(c1, c1))
        self.stage2 = nn.Sequential(conv_bn_relu(c1, c2, stride=2), conv_bn_relu(c2, c2))
        self.stage3 = nn.Sequential(conv_bn_relu(c2, c3, stride=2), conv_bn_relu(c3, c3))
        # Decoder: project the deeper map to the skip's width, add, refine.
        self.lateral3 = nn.Conv2d(c3, c2, 1)
        self.fuse2 = conv_bn_relu(c2, c2)
        self.lateral2 = nn.Conv2d(c2, c1, 1)
        self.fuse1 = conv_bn_relu(c1, c1)

        C, hc = self.config.num_classes, self.config.head_channels
        heads = {}
        if self.config.extreme:
            for part in "tlbrc":
                heads[f"hm_{part}"] = _head(c1, hc, C, bias=HM_PRIOR_BIAS)
            for part in EXTREME_PARTS:
                heads[f"reg_{part}"] = _head(c1, hc, 2)
        else:
            heads["hm"] = _head(c1, hc, C, bias=HM_PRIOR_BIAS)
            heads["wh"] = _head(c1, hc, 2)
            heads["reg"] = _head(c1, hc, 2)
        self.heads = nn.ModuleDict(heads)

    @property
    def num_classes(self) -> int:
        """C, ``config.num_classes``."""
        return self.config.num_classes

    @property
    def extreme(self) -> bool:
        """Whether the heads are ExtremeNet's, ``config.extreme``."""
        return self.config.extreme

    def _check(self, images) -> None:
        tensor("images", images, 4, "(B, 3, H, W)")
        if images.shape[1] != 3:
            raise ValueError(f"images must be a (B, 3, H, W) tensor, got {tuple(images.shape)}")
        H, W = images.shape[2:]
        d = self.size_divisor
        if H < d or W < d:
            raise ValueError(
                f"images must be at least {d} x {d} pixels (one pixel of the deepest, "
                f"stride-{d} map), got {H} x {W}"
            )
        if H % d or W % d:
            raise ValueError(
                f"image height and width must be multiples of {d} (the deepest stride), got {H} x {W}"
            )
        if not images.is_floating_point():
            raise ValueError(f"images must be a floating-point tensor, got {images.dtype}")
        weights = self.stem[0].weight.dtype
        if images.dtype != weights and not torch.is_autocast_enabled(images.device.type):
            raise ValueError(
                f"images must have the dtype of the model's weights, {weights}, got "
                f"{images.dtype}; convert one to the other (images.to({weights}))"
            )

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
