"""centernet_edu: the losses of CenterNet ("Objects as Points"), small enough to read.

Modules in reading order: heatmap -> targets -> losses -> decode; ``viz`` and
``widgets`` (the ``book`` extra) draw the book's figures and explorers.
"""

from .decode import decode_ctdet, decode_exdet, heatmap_nms, topk
from .heatmap import draw_gaussian, gaussian_2d, gaussian_radius
from .losses import (
    CenterNetLoss,
    ExtremeNetLoss,
    clamped_sigmoid,
    focal_loss,
    focal_loss_terms,
    focal_loss_with_logits,
    reg_l1_loss,
)
from .targets import encode_ctdet, encode_exdet, scatter_targets

__version__ = "0.1.0"

__all__ = [
    "gaussian_radius",
    "gaussian_2d",
    "draw_gaussian",
    "encode_ctdet",
    "encode_exdet",
    "scatter_targets",
    "clamped_sigmoid",
    "focal_loss",
    "focal_loss_with_logits",
    "focal_loss_terms",
    "reg_l1_loss",
    "CenterNetLoss",
    "ExtremeNetLoss",
    "heatmap_nms",
    "topk",
    "decode_ctdet",
    "decode_exdet",
]
