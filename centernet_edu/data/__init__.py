"""Data: a synthetic shapes data set, COCO-format files for your own, and batching.

One module per concern, in the order a batch is made:

- ``shapes``: ``ShapesDataset``, coloured shapes with exact boxes and extreme points
  (its rasteriser, the exact convex shapes and their pixel coverage, is ``geometry``);
- ``coco``: ``write_coco``, ``read_coco`` and ``CocoDataset`` for COCO-format data sets;
- ``batching``: ``make_item`` packs an image and its annotations into the tensors the
  model and the losses read, ``collate_with_targets`` batches them.

Coordinates are continuous image pixels: pixel (row i, column j) covers
[j, j + 1) x [i, i + 1), so its centre is (j + 0.5, i + 0.5) and an image W pixels wide
spans x in [0, W]. Dividing by the output stride R gives heatmap coordinates, which is
what ``encode_ctdet`` takes.
"""

from .batching import (
    MEAN,
    STD,
    batch_with_targets,
    collate_with_targets,
    denormalize_image,
    make_item,
    normalize_image,
)
from .coco import CocoData, CocoDataset, CocoImage, ground_truth_to_coco, read_coco, write_coco
from .shapes import SHAPES, VIEWS, ShapesDataset

__all__ = [
    "SHAPES",
    "VIEWS",
    "MEAN",
    "STD",
    "normalize_image",
    "denormalize_image",
    "make_item",
    "collate_with_targets",
    "batch_with_targets",
    "ShapesDataset",
    "write_coco",
    "read_coco",
    "CocoData",
    "CocoImage",
    "CocoDataset",
    "ground_truth_to_coco",
]
