"""Batching: one training example as a dict of tensors, and a batch of them.

``make_item`` packs an image and its annotations into what the model and the losses
read: the normalised image, the ``encode_ctdet`` targets and the padded boxes that
evaluation scores against. ``collate_with_targets`` batches items packed without their
targets and encodes the targets of the whole batch in one ``encode_ctdet_batch`` call.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np
import torch
from torch.utils.data import default_collate

from .. import validate
from ..fast import encode_ctdet_batch
from ..targets import encode_ctdet, encode_exdet
from ..validate import has_keys, integer, positive_int, shape_of

__all__ = [
    "MEAN",
    "STD",
    "normalize_image",
    "denormalize_image",
    "make_item",
    "collate_with_targets",
    "batch_with_targets",
]

# Images are normalised per channel as (x / 255 - MEAN) / STD.
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)


# --------------------------------------------------------------------------- checks


def check_annotations(where: str, boxes, labels, num_classes: int, extreme_points=None):
    """The checked ``boxes (N, 4)``, ``labels (N,)`` and ``extreme_points (N, 8)`` (or None)
    of one image; ``where`` starts the messages (``"image 3: "``)."""
    boxes = validate.boxes(f"{where}boxes", boxes, np.float64)
    labels = validate.class_labels(f"{where}labels", labels, len(boxes), num_classes)
    if extreme_points is not None:
        layout = "t, l, b, r (x, y each)"
        extreme_points = validate.object_rows(
            f"{where}extreme_points", extreme_points, 8, layout, len(boxes), np.float64
        )
    return boxes, labels, extreme_points


def _image(image) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be an (H, W, 3) numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be an (H, W, 3) array, got {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"image must be an (H, W, 3) array of uint8, got {image.dtype}")
    return image


def item_index(index, length: int) -> int:
    """A data set's ``index`` in ``[0, length)``; negative indices count from the end."""
    if isinstance(index, bool) or not isinstance(index, Integral):
        raise ValueError(f"index must be an integer, got {index!r}")
    if not -length <= index < length:
        raise IndexError(f"index {index} out of range for {length} images")
    return int(index) % length


# --------------------------------------------------------------------------- images


def normalize_image(image: np.ndarray) -> torch.Tensor:
    """``(H, W, 3) uint8`` -> ``(3, H, W) float32``, normalised with ``MEAN`` and ``STD``."""
    _image(image)
    # numpy, not torch: this runs per image in data-loading code, where small torch ops
    # pay a threading overhead many times their cost.
    x = image.transpose(2, 0, 1).astype(np.float32)
    scale = 1 / (255 * np.asarray(STD, dtype=np.float32))
    shift = np.asarray(MEAN, dtype=np.float32) / np.asarray(STD, dtype=np.float32)
    x *= scale[:, None, None]
    x -= shift[:, None, None]
    return torch.from_numpy(x)


def denormalize_image(image: torch.Tensor) -> np.ndarray:
    """The inverse of ``normalize_image``: ``(3, H, W)`` -> ``(H, W, 3) uint8``."""
    if not isinstance(image, torch.Tensor) or image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"image must be a (3, H, W) tensor, got {shape_of(image)}")
    validate.not_meta("image", image)
    if image.is_complex():
        raise ValueError(f"image must be a tensor of real numbers, got {image.dtype}")
    validate.finite("image", image)
    mean = torch.tensor(MEAN, device=image.device).view(3, 1, 1)
    std = torch.tensor(STD, device=image.device).view(3, 1, 1)
    x = (image.detach().float() * std + mean).clamp(0, 1) * 255
    return x.round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


# --------------------------------------------------------------------------- items


def make_item(
    image: np.ndarray,
    boxes: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    *,
    extreme_points: np.ndarray | None = None,
    max_objs: int = 32,
    stride: int = 4,
    extreme: bool = False,
    targets: bool = True,
    image_id: int = 0,
) -> dict:
    """One training example: the normalised image, its targets, and the raw annotations.

    Args:
        image: ``(H, W, 3) uint8``; H and W divisible by ``stride``.
        boxes: ``(N, 4)`` x1, y1, x2, y2 in image pixels, finite, x1 <= x2 and y1 <= y2.
        labels: ``(N,)`` classes in ``[0, num_classes)``.
        extreme_points: ``(N, 8)`` t, l, b, r (x, y each) in image pixels; needed when
            ``extreme`` is set.
        max_objs: M, the object slots of the targets and of the padded annotations.
        stride: R, the output stride: targets live on an ``(H / R, W / R)`` map.
        extreme: also return the ``encode_exdet`` targets.
        targets: return the ``encode_ctdet`` targets; without them ``collate_with_targets``
            encodes a whole batch of items at once, with the same result.

    Returns:
        dict of tensors: ``image (3, H, W) float32``; the ``encode_ctdet`` targets
        ``hm (C, H/R, W/R)``, ``wh, reg (M, 2)``, ``ind, reg_mask (M,)`` (unless ``targets``
        is False); when ``extreme`` also ``hm_t .. hm_c``, ``reg_t .. reg_r``, ``ind_t ..
        ind_r``; and for evaluation ``boxes (M, 4)`` and ``extreme_points (M, 8)`` in image
        pixels (zero padded), ``labels (M,)`` (padded with -1), ``num_objs`` and
        ``image_id`` (int64 scalars).
    """
    _nonempty(_image(image))
    num_classes = positive_int("num_classes", num_classes)
    max_objs, stride = positive_int("max_objs", max_objs), positive_int("stride", stride)
    image_id = _image_id(image_id)
    extreme, targets = boolean("extreme", extreme), boolean("targets", targets)
    boxes, labels, extreme_points = check_annotations(
        "", boxes, labels, num_classes, extreme_points
    )
    if extreme and extreme_points is None:
        raise ValueError("extreme=True needs extreme_points")
    H, W = image.shape[:2]
    if H % stride or W % stride:
        raise ValueError(f"image size must be divisible by the stride {stride}, got {H} x {W}")
    if len(boxes) > max_objs:
        raise ValueError(f"an image holds {len(boxes)} objects, more than max_objs = {max_objs}")
    return pack_item(
        image, boxes, labels, num_classes, extreme_points=extreme_points, max_objs=max_objs,
        stride=stride, extreme=extreme, targets=targets, image_id=image_id,
    )  # fmt: skip


def _nonempty(image: np.ndarray) -> None:
    if not image.size:
        raise ValueError(f"image must be an (H, W, 3) array with H, W >= 1, got {image.shape}")


def _image_id(image_id) -> int:
    """``image_id`` as an int that fits in int64, the dtype it is stored in."""
    image_id = integer("image_id", image_id, -(2**63), "an integer")
    if image_id >= 2**63:
        raise ValueError(f"image_id must be an integer that fits in int64, got {image_id!r}")
    return image_id


def pack_item(
    image,
    boxes,
    labels,
    num_classes,
    *,
    extreme_points,
    max_objs,
    stride,
    extreme,
    targets,
    image_id,
) -> dict:
    """``make_item`` for annotations already checked (a data set's own)."""
    H, W = image.shape[:2]
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    n = len(boxes)
    out_size = (H // stride, W // stride)
    item = {"image": normalize_image(image)}
    if targets:
        item.update(encode_ctdet(boxes / stride, labels, num_classes, out_size, max_objs=max_objs))
    pad_boxes = np.zeros((max_objs, 4), dtype=np.float32)
    pad_boxes[:n] = boxes
    pad_labels = np.full(max_objs, -1, dtype=np.int64)
    pad_labels[:n] = labels
    pad_ext = np.zeros((max_objs, 8), dtype=np.float32)
    if extreme_points is not None:
        extreme_points = np.asarray(extreme_points, dtype=np.float32).reshape(-1, 8)
        pad_ext[:n] = extreme_points
    if extreme:
        ex = encode_exdet(extreme_points / stride, labels, num_classes, out_size, max_objs=max_objs)
        ex.pop("reg_mask")  # the same objects as the centre targets' reg_mask
        item.update(ex)
    item["boxes"] = torch.from_numpy(pad_boxes)
    item["labels"] = torch.from_numpy(pad_labels)
    item["extreme_points"] = torch.from_numpy(pad_ext)
    item["num_objs"] = torch.tensor(n, dtype=torch.int64)
    item["image_id"] = torch.tensor(int(image_id), dtype=torch.int64)
    return item


# --------------------------------------------------------------------------- batches


def batch_with_targets(batch: dict, num_classes: int, stride: int) -> dict:
    """A collated batch with its ``encode_ctdet`` targets added (a new dict).

    The targets of all B images come from one call of ``encode_ctdet_batch`` on the padded
    ``boxes (B, M, 4)`` (divided by the stride R) and ``labels (B, M)``: ``hm (B, C, H/R,
    W/R)``, ``wh, reg (B, M, 2)``, ``ind, reg_mask (B, M)``. A batch that carries them is
    returned as it is.
    """
    if not hasattr(batch, "keys"):
        raise ValueError(
            f"batch must be a dict of batched tensors (image, boxes, labels), got {type(batch).__name__}"
        )
    if "hm" in batch:
        return batch
    has_keys("batch", batch, ("image", "boxes", "labels"))
    num_classes = positive_int("num_classes", num_classes)
    stride = positive_int("stride", stride)
    H, W = batch["image"].shape[-2:]
    if H % stride or W % stride:
        raise ValueError(f"image size must be divisible by the stride {stride}, got {H} x {W}")
    labels = batch["labels"]
    targets = encode_ctdet_batch(
        batch["boxes"] / stride,
        labels,
        num_classes,
        (H // stride, W // stride),
        max_objs=labels.shape[1],
    )
    return {**batch, **targets}


def collate_with_targets(items: list[dict], num_classes: int, stride: int) -> dict:
    """Batch items of ``make_item(..., targets=False)`` and add their ``encode_ctdet`` targets.

    The same tensors, ``hm (B, C, H/R, W/R)``, ``wh, reg (B, M, 2)``, ``ind, reg_mask (B,
    M)``, as collating items that carry their own, from one ``encode_ctdet_batch`` call
    (``batch_with_targets``) instead of one ``encode_ctdet`` per item. Items that do carry
    them are collated as they are.
    """
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence) or not items:
        raise ValueError(f"items must be a non-empty list of make_item dicts, got {items!r}")
    for k, item in enumerate(items):
        has_keys(f"items[{k}]", item, ("image", "boxes", "labels"))
    _check_same_shapes(items)
    num_classes = positive_int("num_classes", num_classes)
    stride = positive_int("stride", stride)
    return batch_with_targets(default_collate(list(items)), num_classes, stride)


def _check_same_shapes(items) -> None:
    """Every item has the tensors of the first, in the same shapes (a batch stacks them)."""
    for key, first in items[0].items():
        if not isinstance(first, torch.Tensor):
            continue
        for k, item in enumerate(items[1:], 1):
            other = item[key] if key in item else None
            if not isinstance(other, torch.Tensor) or other.shape != first.shape:
                raise ValueError(
                    f"items must have tensors of one shape to be batched, got items[0]['{key}'] "
                    f"{tuple(first.shape)} and items[{k}]['{key}'] {shape_of(other)}"
                )


def boolean(name: str, value) -> bool:
    """``value`` if it is a bool (numpy's included), else a ``TypeError`` naming it."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)
