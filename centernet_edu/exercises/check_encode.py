"""The checker of ``encode_ctdet``: one image's boxes as CenterNet's training targets."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np
import torch

from ..heatmap import draw_gaussian, gaussian_radius
from ..targets import encode_ctdet
from .judge import Case, Exercise, Outcome, Verdict, judge_tensor, kind_of, run, seed_of
from .report import Report

__all__ = ["check_encode_ctdet"]


_ENCODED = (
    ("hm", "float", lambda i: f"class {i[0]}, x = {i[2]}, y = {i[1]}"),
    ("wh", "float", lambda i: f"slot {i[0]} ({'width' if i[1] == 0 else 'height'})"),
    ("reg", "float", lambda i: f"slot {i[0]} ({'x' if i[1] == 0 else 'y'} offset)"),
    ("ind", "int", lambda i: f"slot {i[0]}"),
    ("reg_mask", "mask", lambda i: f"slot {i[0]}"),
)


def _judge_encode(outcome: Outcome, want: dict) -> Verdict:
    got = outcome.result
    if not isinstance(got, Mapping):
        return Verdict(
            f"your function returned {kind_of(got)} where a dict "
            "(hm, wh, reg, ind, reg_mask) belongs"
        )
    note = None
    for key, kind, where in _ENCODED:
        if key not in got:
            return Verdict(f"your dict has no {key!r}")
        verdict = judge_tensor(got[key], want[key], key, where, kind)
        if verdict.problem:
            return verdict
        note = note or verdict.note
    return Verdict(note=note)


def _heatmap(boxes, labels, num_classes, output_size, max_objs, radius_of) -> torch.Tensor:
    """The ``hm`` target with another radius rule (boxes clipped as encode_ctdet does)."""
    H, W = output_size
    hm = np.zeros((num_classes, H, W), np.float32)
    for box, label in zip(boxes[:max_objs], labels[:max_objs], strict=True):
        x1, x2 = np.clip(box[[0, 2]], 0, W - 1)
        y1, y2 = np.clip(box[[1, 3]], 0, H - 1)
        if y2 - y1 > 0 and x2 - x1 > 0:
            centre = np.array([(x1 + x2) / 2, (y1 + y2) / 2], np.float32).astype(np.int32)
            draw_gaussian(hm[label], centre, max(0, int(radius_of(y2 - y1, x2 - x1))))
    return torch.from_numpy(hm)


def _encode_but(**change):
    """encode_ctdet with one key replaced by ``change[key](out, args)``."""

    def mistaken(*args):
        out = encode_ctdet(*args)
        return {**out, **{k: f(out, args) for k, f in change.items()}}

    return mistaken


def _transposed(out, args, stride_of=lambda H, W: H):
    H, W = args[3]
    ind = out["ind"]
    return (ind % W * stride_of(H, W) + ind // W) * out["reg_mask"]


def _encode_as(boxes, labels, num_classes, output_size, max_objs, *, centre=np.floor, far=1):
    """``encode_ctdet`` with another rule for the centre's pixel (``centre``) or for the
    far border (boxes clipped to ``W - far`` and ``H - far``): a classic mistake."""
    H, W = output_size
    out = encode_ctdet(boxes, labels, num_classes, output_size, max_objs)
    hm, wh, reg = (
        np.zeros((num_classes, H, W), np.float32),
        np.zeros((max_objs, 2), np.float32),
        np.zeros((max_objs, 2), np.float32),
    )
    ind, mask = np.zeros(max_objs, np.int64), np.zeros(max_objs, np.uint8)
    for k, (box, c) in enumerate(
        zip(np.asarray(boxes, np.float32)[:max_objs], labels[:max_objs], strict=False)
    ):
        x1, x2 = np.clip(box[[0, 2]], 0, W - far)
        y1, y2 = np.clip(box[[1, 3]], 0, H - far)
        if not (x2 - x1 > 0 and y2 - y1 > 0):
            continue
        p = np.array([(x1 + x2) / 2, (y1 + y2) / 2], np.float32)
        q = centre(p).astype(np.int32)
        radius = max(0, int(gaussian_radius(math.ceil(y2 - y1), math.ceil(x2 - x1))))
        draw_gaussian(hm[int(c)], q, radius)
        wh[k], reg[k], ind[k], mask[k] = (x2 - x1, y2 - y1), p - q, q[1] * W + q[0], 1
    mine = {"hm": hm, "wh": wh, "reg": reg, "ind": ind, "reg_mask": mask}
    return {k: torch.as_tensor(v).to(out[k].dtype) for k, v in mine.items()}


_INDEX = "ind is y * W + x (row by row): row y, column x, with W the map's width"


def _half_up(x: torch.Tensor) -> torch.Tensor:
    return torch.floor(x + 0.5)


def _rounded_offset(out, args, rounding) -> torch.Tensor:
    """The offset taken from the rounded centre, ind and the peak left floored."""
    W = args[3][1]
    pixel = torch.stack([out["ind"] % W, out["ind"] // W], 1).to(out["reg"].dtype)
    centre = pixel + out["reg"]
    return (centre - rounding(centre)) * out["reg_mask"][:, None]


_ROUNDED = (
    "the centre's pixel is the centre floored (int() of a positive number), not rounded: "
    "the offset reg = centre - floor(centre) lies in [0, 1), and ind and the peak use the "
    "floored pixel"
)
_ENCODE_MISTAKES = (
    (_ROUNDED, functools.partial(_encode_as, centre=np.round)),  # half to even
    (_ROUNDED, functools.partial(_encode_as, centre=lambda p: np.floor(p + 0.5))),  # half up
    (_ROUNDED, _encode_but(reg=lambda out, args: _rounded_offset(out, args, torch.round))),
    (_ROUNDED, _encode_but(reg=lambda out, args: _rounded_offset(out, args, _half_up))),
    (
        "clip the boxes to [0, W - 1] and [0, H - 1], the last pixel's index, not to W and "
        "H: an off-by-one at the far border",
        functools.partial(_encode_as, far=0),
    ),
    (_INDEX, _encode_but(ind=_transposed)),
    (_INDEX, _encode_but(ind=lambda out, args: _transposed(out, args, lambda H, W: W))),
    ("wh is (w, h): the width first", _encode_but(wh=lambda out, args: out["wh"].flip(1))),
    (
        "reg is the offset lost by flooring the centre: centre - floor(centre), in [0, 1)",
        _encode_but(reg=lambda out, args: -out["reg"]),
    ),
    (
        "the targets use the original CenterNet radius, gaussian_radius(ceil(h), ceil(w)) "
        'with variant="centernet" (the default); yours is the corrected one',
        _encode_but(
            hm=lambda out, a: _heatmap(
                *a, lambda h, w: gaussian_radius(math.ceil(h), math.ceil(w), variant="corrected")
            )
        ),
    ),
    (
        "the radius takes the box size rounded up: gaussian_radius(ceil(h), ceil(w))",
        _encode_but(hm=lambda out, a: _heatmap(*a, gaussian_radius)),
    ),
)
_CLIP = "clip the box to the map first (x to [0, W - 1], y to [0, H - 1]), then take its centre and size"


_M = (10, 12)
# words, boxes (x1, y1, x2, y2), labels, num_classes, output_size, max_objs, hint
_ENCODE_SCENES = (
    ("one object in the middle", [[3, 2, 9.5, 7]], [0], 2, _M, 8, None),
    (
        "an image without objects",
        [],
        [],
        2,
        _M,
        8,
        "with no boxes every target is zeros (hm (C, H, W), the slots (max_objs, ...))",
    ),
    ("an object at the left border (its centre at x = 0)", [[0, 3, 1, 8]], [1], 2, _M, 8, None),
    (
        "an object reaching past the right and bottom borders",
        [[7, 6, 15, 13]],
        [0],
        2,
        _M,
        8,
        _CLIP,
    ),
    ("two overlapping objects of one class", [[2, 2, 8, 8], [4, 3, 10, 9]], [0, 0], 2, _M, 8, None),
    ("two objects of different classes", [[1, 1, 5, 6], [6, 4, 11, 9]], [1, 0], 2, _M, 8, None),
    (
        "a map that is not square (8 x 14), objects off the diagonal",
        [[10, 1, 13, 5], [1, 4, 4, 7.5]],
        [0, 1],
        2,
        (8, 14),
        8,
        None,
    ),
    (
        "more objects than max_objs (3 boxes, max_objs = 2)",
        [[1, 1, 4, 4], [5, 2, 9, 6], [2, 5, 6, 9]],
        [0, 1, 0],
        2,
        _M,
        2,
        "keep the first max_objs objects: the slots are (max_objs, ...) whatever the number of boxes",
    ),
    (
        "a box outside the map (an empty slot) before a real one",
        [[20, 20, 25, 25], [2, 2, 6, 6]],
        [0, 1],
        2,
        _M,
        8,
        _CLIP,
    ),
    ("a tiny object (radius 0)", [[4.25, 4.5, 5.125, 5.375]], [1], 2, _M, 8, None),
)


def _encode_cases(seed: int) -> list[Case]:
    def case(words, boxes, labels, num_classes, size, max_objs, hint=None, dtype=np.float32):
        rows = np.array(boxes, dtype).reshape(-1, 4)
        return Case(words, (rows, np.array(labels, np.int64), num_classes, size, max_objs), hint)

    rng = np.random.default_rng(seed_of(seed))
    corner = rng.integers(0, 96, (4, 2)) / 8  # eighths: exact in float32 as in float64
    boxes = np.concatenate([corner, corner + 1 + rng.integers(0, 48, (4, 2)) / 8], 1)
    return [case(*scene) for scene in _ENCODE_SCENES] + [
        case(
            "float64 boxes with fractional centres",
            boxes,
            rng.integers(0, 3, 4),
            3,
            (16, 16),
            6,
            dtype=np.float64,
        ),
        case("random objects, 3 classes", boxes[::-1], [2, 0, 1, 2], 3, (16, 16), 6),
    ]


def exercise_encode_ctdet(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_encode_ctdet`` and its cases."""
    exercise = Exercise(
        name="encode_ctdet",
        arg_names=("boxes", "labels", "num_classes", "output_size", "max_objs"),
        reference=encode_ctdet,
        judge=_judge_encode,
        mistakes=_ENCODE_MISTAKES,
        mutation_hint="clip a copy of the boxes (np.clip without out=): the caller's boxes "
        "must stay as they were",
    )
    return exercise, _encode_cases(seed)


def check_encode_ctdet(fn, seed: int = 0) -> Report:
    """Grade ``fn(boxes, labels, num_classes, output_size, max_objs) -> dict``.

    ``boxes`` is a numpy ``(N, 4)`` array of x1, y1, x2, y2 in heatmap pixels, ``labels``
    ``(N,)`` int64, ``output_size`` ``(H, W)``. The dict holds ``hm (C, H, W)``,
    ``wh (M, 2)``, ``reg (M, 2)``, ``ind (M,)`` and ``reg_mask (M,)`` (tensors or
    arrays), as ``encode_ctdet`` returns them.
    """
    exercise, cases = exercise_encode_ctdet(seed)
    return run(exercise, fn, cases)
