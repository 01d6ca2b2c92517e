"""centernet_edu: the losses of CenterNet ("Objects as Points"), small enough to read.

Modules in reading order: heatmap -> targets -> losses -> decode -> model, data ->
train, evaluate; ``fast`` holds the fast kernels, each equal to its plain form and
chosen by a visible switch (the plain forms never import it); ``viz``
draws the book's figures (matplotlib, the ``plot`` extra) and ``widgets`` holds its
explorers (widgets in a live kernel with the ``explorers`` extra). The trainer lives in ``centernet_edu.train`` (``fit``, ``TrainConfig``;
``python -m centernet_edu.cli`` or ``centernet-edu-train`` on the command line).
"""

from .data import CocoDataset, ShapesDataset, read_coco, write_coco
from .decode import decode_ctdet, decode_exdet, heatmap_nms, topk
from .evaluate import coco_map, evaluate, oracle_ablations
from .fast import encode_ctdet_batch, focal_loss_with_logits_fused, render_gaussians
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
from .model import CenterNetLite
from .targets import encode_ctdet, encode_exdet, scatter_targets

__version__ = "0.1.0"

__all__ = [
    "gaussian_radius",
    "gaussian_2d",
    "draw_gaussian",
    "render_gaussians",
    "encode_ctdet",
    "encode_ctdet_batch",
    "encode_exdet",
    "scatter_targets",
    "clamped_sigmoid",
    "focal_loss",
    "focal_loss_with_logits",
    "focal_loss_with_logits_fused",
    "focal_loss_terms",
    "reg_l1_loss",
    "CenterNetLoss",
    "ExtremeNetLoss",
    "heatmap_nms",
    "topk",
    "decode_ctdet",
    "decode_exdet",
    "CenterNetLite",
    "ShapesDataset",
    "CocoDataset",
    "read_coco",
    "write_coco",
    "coco_map",
    "evaluate",
    "oracle_ablations",
]
