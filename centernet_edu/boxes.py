"""Box geometry: the overlap of two boxes, and matching detections to the ground truth.

Boxes are x1, y1, x2, y2. ``box_iou`` is the intersection over union that every
detection metric thresholds (COCO's AP50 at 0.5); ``match_detections`` pairs detections
with ground-truth boxes greedily, as COCO does at one threshold; ``centred_boxes`` builds
the boxes the book's figures shift and scale.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch

from .validate import labelled_boxes, number, real_array

__all__ = ["box_iou", "centred_boxes", "match_detections"]


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _box(name: str, box) -> list[float]:
    """``box`` as 4 finite floats x1, y1, x2, y2 (a list, tuple, array or tensor of them)."""
    try:
        arr = None if isinstance(box, (str, bytes)) else _numpy(box)
    except (TypeError, ValueError, RuntimeError, NotImplementedError):
        arr = None
    values = arr.tolist() if arr is not None and arr.shape == (4,) else []
    if not (
        len(values) == 4
        and all(isinstance(v, Real) and not isinstance(v, bool) for v in values)
        and all(math.isfinite(v) for v in values)
    ):
        raise ValueError(f"box_iou's {name} must be 4 finite numbers x1, y1, x2, y2, got {box!r}")
    return [float(v) for v in values]


def box_iou(a, b) -> float:
    """IoU of two boxes x1, y1, x2, y2 (4 finite numbers each; a box with x2 < x1 or
    y2 < y1 is empty)."""
    return _iou(_box("a", a), _box("b", b))


def _iou(a, b) -> float:
    """``box_iou`` of boxes already checked."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = lambda r: max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])  # noqa: E731
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def centred_boxes(width: float, height: float, dw: float, dh: float):
    """Boxes ``width x height`` (both >= 0) and ``(width + dw, height + dh)`` (>= 0) centred
    on 0, 0."""
    width, height = number("width", width, 0), number("height", height, 0)
    dw, dh = number("dw", dw), number("dh", dh)
    pw, ph = max(width + dw, 0.0), max(height + dh, 0.0)
    return (-width / 2, -height / 2, width / 2, height / 2), (-pw / 2, -ph / 2, pw / 2, ph / 2)


def match_detections(boxes, labels, gt_boxes, gt_labels, iou: float = 0.5):
    """Greedy matching in the given order (sort by score first), as COCO does at one IoU.

    Each detection ``boxes (N, 4)`` of class ``labels (N,)`` takes the unmatched ground-truth
    box of the same class it overlaps most, if that IoU is at least ``iou`` (>= 0; none above 1).

    Returns:
        a list of N integers: the index of the ground-truth box each detection matched,
        or -1 for a false positive. Bad input is a ``ValueError`` naming the argument.
    """
    for name, x in zip(
        ("boxes", "labels", "gt_boxes", "gt_labels"),
        (boxes, labels, gt_boxes, gt_labels),
        strict=True,
    ):
        real_array(name, x)
    b, lab = labelled_boxes("boxes", boxes, "labels", labels)
    g, glab = labelled_boxes("gt_boxes", gt_boxes, "gt_labels", gt_labels)
    iou = number("iou", iou, 0)
    free = [True] * len(g)
    matches = []
    for box, c in zip(b.tolist(), lab.tolist(), strict=True):
        best, best_iou = None, 0.0
        for j, (gbox, gc) in enumerate(zip(g.tolist(), glab.tolist(), strict=True)):
            overlap = _iou(box, gbox)
            if free[j] and int(gc) == int(c) and overlap >= iou and overlap > best_iou:
                best, best_iou = j, overlap
        if best is not None:
            free[best] = False
        matches.append(-1 if best is None else best)
    return matches
