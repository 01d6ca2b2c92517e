"""Checkers for two transfer exercises on the targets, whose answers the package does not hold.

``boxes_from_targets`` (chapter 1) reads boxes back out of the slot targets of
``encode_ctdet``: the pixel p~ from ``ind``, plus the offset, spread by half the size.
``draw_elliptic_gaussian`` (chapter 2) is the splat of TTFNet (Liu et al., 2020): a
Gaussian with its own sigma on each axis, sigma_x = (2 r_x + 1) / 6 and sigma_y =
(2 r_y + 1) / 6, cut to the map and combined by an element-wise maximum.

Both answers are computed here, by private reference implementations.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..targets import encode_ctdet
from .check_targets import judge_drawn_heatmap
from .judge import Case, Exercise, Outcome, Verdict, judge_tensor, run, seed_of
from .report import Report

__all__ = ["check_boxes_from_targets", "check_draw_elliptic_gaussian"]


# Boxes from the slot targets ------------------------------------------------------------


def _boxes(wh, reg, ind, reg_mask, output_size, *, cols=None, offset=True, half=0.5, keep=None):
    """The boxes (K, 4), x1, y1, x2, y2 in heatmap pixels, of the K filled slots; the
    keywords make the classic mistakes: ``cols(ind, H, W)`` gives (p~_x, p~_y),
    ``offset=False`` drops the offset, ``half`` is the share of the size on each side and
    ``keep(ind, reg_mask)`` picks the slots."""
    H, W = output_size
    kept = reg_mask.bool() if keep is None else keep(ind, reg_mask)
    ind = ind[kept]
    x, y = (ind % W, ind // W) if cols is None else cols(ind, H, W)
    centre = torch.stack([x, y], 1).to(wh.dtype)  # p~, the top-left corner of its pixel
    if offset:
        centre = centre + reg[kept].to(wh.dtype)  # p / R
    size = wh[kept]
    return torch.cat([centre - half * size, centre + half * size], 1)


def _corner_boxes(wh, reg, ind, reg_mask, output_size):
    """The centre taken for the top-left corner: (p / R, p / R + size)."""
    centre = _boxes(wh, reg, ind, reg_mask, output_size, half=0.0)[:, :2]
    return torch.cat([centre, centre + wh[reg_mask.bool()]], 1)


_INDEX = (
    "ind = p~_y * W + p~_x, row by row: p~_x = ind % W (the column) and p~_y = ind // W "
    "(the row), with W = output_size[1], the map's width"
)
_HALF = "wh is the whole width and height: the box reaches w / 2 and h / 2 on each side of p / R"
_BOX_MISTAKES = (
    (_INDEX, functools.partial(_boxes, cols=lambda ind, H, W: (ind // W, ind % W))),
    (_INDEX, functools.partial(_boxes, cols=lambda ind, H, W: (ind % H, ind // H))),
    (
        "add the offset: p~ from ind is the corner of the centre's pixel, the centre is "
        "p / R = p~ + reg",
        functools.partial(_boxes, offset=False),
    ),
    (_HALF, functools.partial(_boxes, half=1.0)),
    (_HALF, _corner_boxes),
    (
        "return the filled slots only (reg_mask == 1), in slot order: a (K, 4) tensor for "
        "K objects, not one row per slot",
        functools.partial(_boxes, keep=lambda ind, mask: torch.ones_like(mask, dtype=torch.bool)),
    ),
    (
        "find the objects with reg_mask, not with ind > 0: an object whose centre is in "
        "pixel (0, 0) has ind 0",
        functools.partial(_boxes, keep=lambda ind, mask: ind > 0),
    ),
    (
        "wh is (w, h), the width first",
        lambda wh, *rest: _boxes(wh.flip(1), *rest),
    ),
)


def _judge_boxes(outcome: Outcome, want: torch.Tensor) -> Verdict:
    names = ("x1", "y1", "x2", "y2")
    return judge_tensor(
        outcome.result, want, "boxes tensor", lambda i: f"box {i[0]}, {names[i[1]]}"
    )


_M = (10, 12)
# words, boxes (x1, y1, x2, y2, heatmap pixels), output_size (H, W), max_objs, hint
_BOX_SCENES = (
    ("one object in the middle", [[3, 2, 9.5, 7]], _M, 4, None),
    (
        "an image without objects",
        [],
        _M,
        4,
        "with no filled slot there are no boxes: a (0, 4) tensor",
    ),
    ("an object in the top-left pixel (its ind is 0)", [[0, 0, 1.5, 1]], _M, 4, None),
    ("an object at the right and bottom borders, clipped", [[8, 6, 15, 13]], _M, 4, None),
    (
        "an empty slot (a box off the map) before a real one",
        [[20, 20, 25, 25], [2, 2, 6, 5]],
        _M,
        4,
        None,
    ),
    (
        "a map that is not square (8 x 14), objects off the diagonal",
        [[10, 1, 13, 5], [1, 4, 4, 7.5]],
        (8, 14),
        3,
        None,
    ),
    ("every slot filled (max_objs = 3)", [[1, 1, 4, 4], [5, 2, 9, 6], [2, 5, 6, 9]], _M, 3, None),
    (
        "two objects with one centre, one inside the other",
        [[2, 2, 8, 8], [3, 4, 7, 6]],
        _M,
        4,
        None,
    ),
)


def _slots(words, boxes, size, max_objs, hint=None, dtype=torch.float32) -> Case:
    rows = np.array(boxes, np.float32).reshape(-1, 4)
    t = encode_ctdet(rows, np.zeros(len(rows), np.int64), 1, size, max_objs)
    args = (t["wh"].to(dtype), t["reg"].to(dtype), t["ind"], t["reg_mask"], size)
    return Case(words, args, hint)


def _box_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed_of(seed))
    H, W = (int(v) for v in rng.integers(9, 21, 2))
    corner = rng.integers(0, 8 * min(H, W) - 8, (5, 2)) / 8  # eighths: exact in float32
    boxes = np.concatenate([corner, corner + 1 + rng.integers(0, 64, (5, 2)) / 8], 1)
    return [_slots(*scene) for scene in _BOX_SCENES] + [
        _slots("float64 targets, fractional centres", boxes, (H, W), 6, dtype=torch.float64),
        _slots(f"random objects on a {H} x {W} map", boxes[::-1], (H, W), 7),
    ]


def exercise_boxes_from_targets(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_boxes_from_targets`` and its cases."""
    exercise = Exercise(
        name="boxes_from_targets",
        arg_names=("wh", "reg", "ind", "reg_mask", "output_size"),
        reference=_boxes,
        judge=_judge_boxes,
        mistakes=_BOX_MISTAKES,
        mutation_hint="compute on new tensors: the targets must stay as they were",
    )
    return exercise, _box_cases(seed)


def check_boxes_from_targets(fn, seed: int = 0) -> Report:
    """Grade ``fn(wh, reg, ind, reg_mask, output_size) -> boxes``.

    The slot targets are those of ``encode_ctdet``: ``wh``, ``reg`` ``(M, 2)`` float,
    ``ind`` ``(M,)`` int64, ``reg_mask`` ``(M,)`` uint8, ``output_size`` ``(H, W)``.
    ``boxes`` is ``(K, 4)``, x1, y1, x2, y2 in heatmap pixels, one row per filled slot in
    slot order, in the dtype of ``wh``.
    """
    exercise, cases = exercise_boxes_from_targets(seed)
    return run(exercise, fn, cases)


# An elliptical Gaussian -----------------------------------------------------------------


def _kernel(rx: int, ry: int, sx: float, sy: float) -> np.ndarray:
    """exp(-(dx^2 / (2 sx^2) + dy^2 / (2 sy^2))) on a (2 ry + 1, 2 rx + 1) grid."""
    dx = np.arange(-rx, rx + 1, dtype=np.float64)[None, :]
    dy = np.arange(-ry, ry + 1, dtype=np.float64)[:, None]
    return np.exp(-(dx**2 / (2 * sx**2) + dy**2 / (2 * sy**2)))


def _ellipse(heatmap, center, radius_x, radius_y, *, combine="max", sigma=None, swap=False, end=1):
    """The elliptical splat, in place, or one of its classic mistakes: ``sigma(rx, ry)``
    gives (sigma_x, sigma_y), ``swap`` reads center as (y, x), ``end=0`` stops the window
    one row or column short at the far borders."""
    rx, ry = int(radius_x), int(radius_y)
    sx, sy = ((2 * rx + 1) / 6, (2 * ry + 1) / 6) if sigma is None else sigma(rx, ry)
    x, y = int(center[0]), int(center[1])
    if swap:
        x, y = y, x
    H, W = heatmap.shape
    top, bottom = max(0, y - ry), min(H - 1 + end, y + ry + 1)
    left, right = max(0, x - rx), min(W - 1 + end, x + rx + 1)
    if top < bottom and left < right:
        patch = _kernel(rx, ry, sx, sy)[
            top - y + ry : bottom - y + ry, left - x + rx : right - x + rx
        ]
        region = heatmap[top:bottom, left:right]
        combined = {"max": np.maximum, "sum": np.add, "set": lambda old, new: new}[combine]
        region[...] = combined(region, patch)
    return heatmap


def _unclipped(heatmap, center, radius_x, radius_y):
    """The splat with the window's start left uncut: a negative start wraps around."""
    rx, ry = int(radius_x), int(radius_y)
    x, y = int(center[0]), int(center[1])
    region = heatmap[y - ry : y + ry + 1, x - rx : x + rx + 1]
    g = _kernel(rx, ry, (2 * rx + 1) / 6, (2 * ry + 1) / 6)
    region[...] = np.maximum(region, g[: region.shape[0], : region.shape[1]])
    return heatmap


_ONE_SIGMA = (
    "each axis has its own sigma: sigma_x = (2 r_x + 1) / 6 across the columns (x) and "
    "sigma_y = (2 r_y + 1) / 6 down the rows (y)"
)
_ELLIPSE_MISTAKES = (
    (
        "radius_x is the extent along x, the columns: the window is (2 r_y + 1) rows by "
        "(2 r_x + 1) columns",
        lambda hm, c, rx, ry: _ellipse(hm, c, ry, rx),
    ),
    (_ONE_SIGMA, functools.partial(_ellipse, sigma=lambda rx, ry: ((2 * rx + 1) / 6,) * 2)),
    (_ONE_SIGMA, functools.partial(_ellipse, sigma=lambda rx, ry: ((2 * ry + 1) / 6,) * 2)),
    (
        _ONE_SIGMA,
        functools.partial(_ellipse, sigma=lambda rx, ry: ((2 * max(rx, ry) + 1) / 6,) * 2),
    ),
    (
        _ONE_SIGMA,
        functools.partial(_ellipse, sigma=lambda rx, ry: ((2 * ry + 1) / 6, (2 * rx + 1) / 6)),
    ),
    (
        "combine with what is already there by an element-wise maximum, not a sum: "
        "overlapping objects would go above 1",
        functools.partial(_ellipse, combine="sum"),
    ),
    (
        "keep what is already in the map: take the element-wise maximum with it rather "
        "than overwrite it",
        functools.partial(_ellipse, combine="set"),
    ),
    (
        "center is (x, y): x is the column and y the row, heatmap[y, x]",
        functools.partial(_ellipse, swap=True),
    ),
    (
        "at the far borders the window ends at H and W, the map's size (a slice's end is "
        "excluded): min(H, y + r_y + 1), not min(H - 1, y + r_y + 1)",
        functools.partial(_ellipse, end=0),
    ),
)
_BORDER = (
    "near a border, cut the window to the map: in numpy a negative start index counts "
    "from the other end of the array"
)


def draw_each(fn, args):
    """Every draw of a case, in order, on its one map; what the last call returned."""
    heatmap, draws = args
    result = None
    for center, radius_x, radius_y in draws:
        result = fn(heatmap, center, radius_x, radius_y)
    return result


_judge_ellipse = functools.partial(
    judge_drawn_heatmap, in_place="the splat works in place, as draw_gaussian does"
)


def _ellipse_cases(seed: int) -> list[Case]:
    def blank(h=9, w=13, dtype=np.float32):
        return np.zeros((h, w), dtype)

    rng = np.random.default_rng(seed_of(seed))
    held = (rng.random((9, 13)) * 0.4).astype(np.float32)
    held[4, 7] = 0.95  # beside the peak, above the Gaussian there
    x, y = (int(v) for v in rng.integers(0, (13, 9)))
    rx, ry = (int(v) for v in rng.integers(0, 6, 2))
    border = {"hint": _BORDER, "mistake": _unclipped}
    return [
        Case(
            "a wide object in the middle of a 9 x 13 map, r_x 4, r_y 2",
            (blank(), (((6, 4), 4, 2),)),
        ),
        Case("a tall object, r_x 1, r_y 3", (blank(), (((5, 4), 1, 3),))),
        Case(
            "equal radii, r_x = r_y = 3: draw_gaussian's round splat", (blank(), (((6, 4), 3, 3),))
        ),
        Case("r_y 0: a one-row splat, r_x 3", (blank(), (((6, 2), 3, 0),))),
        Case(
            "an object at the left border (x = 0), r_x 3, r_y 2",
            (blank(), (((0, 4), 3, 2),)),
            **border,
        ),
        Case(
            "an object at the bottom-right corner, r_x 2, r_y 4",
            (blank(), (((12, 8), 2, 4),)),
            **border,
        ),
        Case(
            "an object at the top border, r_y larger than the map",
            (blank(), (((4, 0), 2, 11),)),
            **border,
        ),
        Case("two overlapping objects", (blank(), (((4, 4), 4, 2), ((7, 5), 2, 3)))),
        Case(
            "a map that already holds values, one larger than the Gaussian",
            (held, (((7, 4), 3, 2),)),
        ),
        Case(
            "a centre with fractions, (5.7, 3.2): truncated like int()",
            (blank(), (((5.7, 3.2), 2, 3),)),
        ),
        Case("a float64 map, 12 x 7", (blank(12, 7, np.float64), (((4, 9), 2, 3),))),
        Case(
            f"an object at ({x}, {y}), r_x {rx}, r_y {ry}", (blank(), (((x, y), rx, ry),)), **border
        ),
    ]


def exercise_draw_elliptic_gaussian(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_draw_elliptic_gaussian`` and its cases."""
    exercise = Exercise(
        name="draw_elliptic_gaussian",
        arg_names=("heatmap", "draws"),
        reference=_ellipse,
        judge=_judge_ellipse,
        mistakes=_ELLIPSE_MISTAKES,
        invoke=draw_each,
        in_place=("heatmap",),
    )
    return exercise, _ellipse_cases(seed)


def check_draw_elliptic_gaussian(fn, seed: int = 0) -> Report:
    """Grade ``fn(heatmap, center, radius_x, radius_y)``: TTFNet's elliptical splat.

    ``heatmap`` is a 2-D numpy array (float32 or float64) to draw into **in place**;
    ``center`` is ``(x, y)``, truncated with ``int()``; the window is ``2 r_y + 1`` rows by
    ``2 r_x + 1`` columns, sigma_x = (2 r_x + 1) / 6, sigma_y = (2 r_y + 1) / 6; ``fn``
    returns ``heatmap``. Two overlapping objects are two calls on the same map.
    """
    exercise, cases = exercise_draw_elliptic_gaussian(seed)
    return run(exercise, fn, cases)
