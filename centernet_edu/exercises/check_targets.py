"""Checkers for the heatmap targets: the Gaussian radius, the splat, and ``encode_ctdet``."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np
import torch

from .. import validate
from ..heatmap import draw_gaussian, gaussian_2d, gaussian_radius
from ..targets import encode_ctdet
from .judge import Case, Exercise, Outcome, Verdict, as_tensor, judge_tensor, kind_of, run, seed_of
from .report import Report

__all__ = ["check_gaussian_radius", "check_draw_gaussian", "check_encode_ctdet"]


# The Gaussian radius --------------------------------------------------------------------


def _roots(h, w, o, larger: bool = False, over_two: bool = False) -> tuple[float, float, float]:
    """The three cases' roots: right, or with the original code's two slips."""
    s, hw = h + w, h * w

    def root(a, b, c, sign):
        return (-b + sign * math.sqrt(b * b - 4 * a * c)) / (2 if over_two else 2 * a)

    near = 1 if larger else -1
    return (
        root(1, -s, hw * (1 - o) / (1 + o), near),
        root(4, -2 * s, (1 - o) * hw, near),
        root(4 * o, 2 * o * s, -(1 - o) * hw, 1),
    )


def _radius_mistakes(variant: str) -> tuple:
    other = "corrected" if variant == "centernet" else "centernet"
    fixed = (
        "use min_overlap: your radius is the one for min_overlap = 0.7, whatever it is",
        lambda h, w, o: gaussian_radius(h, w, 0.7, variant),
    )
    if variant == "centernet":
        return (
            (
                'this checks the original CenterNet formula (variant="centernet"), flaws '
                "included; yours is the corrected radius",
                lambda h, w, o: gaussian_radius(h, w, o, other),
            ),
            fixed,
        )
    return (
        (
            "your radius is the original CenterNet formula, flaws included: cases 1 and 2 "
            "take the larger root, and cases 2 and 3 divide by 2 where 2a belongs",
            lambda h, w, o: gaussian_radius(h, w, o, other),
        ),
        (
            "take the smaller root in cases 1 and 2: the larger one shrinks the box past zero",
            lambda h, w, o: min(_roots(h, w, o, larger=True)),
        ),
        (
            "divide each root by 2a (2, 8 and 8 min_overlap), not by 2",
            lambda h, w, o: min(_roots(h, w, o, over_two=True)),
        ),
        (
            "the safe radius is the smallest of the three roots, not the largest",
            lambda h, w, o: max(_roots(h, w, o)),
        ),
        fixed,
    )


def _judge_radius(outcome: Outcome, want: float) -> Verdict:
    t = as_tensor(outcome.result)
    if t is not None and t.ndim == 0 and not t.is_floating_point() and not t.is_complex():
        return Verdict(
            f"your radius is an integer ({outcome.result!r}) where {want:.4g} belongs: do "
            "not round it (the targets take int(r) themselves)"
        )
    return judge_tensor(outcome.result, torch.tensor(want, dtype=torch.float64), "radius")


def _radius_cases(seed: int) -> list[Case]:
    cases = [
        Case("a square 10 x 10 box, min_overlap 0.7", (10.0, 10.0, 0.7)),
        Case("a thin box, height 2 x width 80, min_overlap 0.7", (2.0, 80.0, 0.7)),
        Case("a tall box, height 80 x width 2, min_overlap 0.7", (80.0, 2.0, 0.7)),
        Case("a one-pixel box, 1 x 1, min_overlap 0.7", (1.0, 1.0, 0.7)),
        Case("whole-number sizes (ints), 300 x 500, min_overlap 0.7", (300, 500, 0.7)),
        Case("a loose overlap: a 20 x 30 box, min_overlap 0.1", (20.0, 30.0, 0.1)),
        Case("a strict overlap: a 20 x 30 box, min_overlap 0.95", (20.0, 30.0, 0.95)),
        Case(
            "float32 sizes (numpy), 37.5 x 12.25, min_overlap 0.7",
            (np.float32(37.5), np.float32(12.25), 0.7),
        ),
    ]
    g = torch.Generator().manual_seed(seed_of(seed))
    for i in range(14):
        h, w = (torch.rand(2, generator=g, dtype=torch.float64) * 200 + 1).tolist()
        o = float(torch.rand((), generator=g, dtype=torch.float64) * 0.8 + 0.1)
        cases.append(Case(f"random case {i}: h={h:.3f}, w={w:.3f}, min_overlap={o:.3f}", (h, w, o)))
    return cases


def exercise_gaussian_radius(
    variant: str = "corrected", seed: int = 0
) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_gaussian_radius`` and its cases."""
    validate.choice("variant", variant, ("centernet", "corrected"))
    exercise = Exercise(
        name=f"gaussian_radius ({variant})",
        arg_names=("height", "width", "min_overlap"),
        reference=lambda h, w, o: gaussian_radius(h, w, o, variant=variant),
        judge=_judge_radius,
        mistakes=_radius_mistakes(variant),
    )
    return exercise, _radius_cases(seed)


def check_gaussian_radius(fn, variant: str = "corrected", seed: int = 0) -> Report:
    """Grade ``fn(height, width, min_overlap) -> float`` against ``gaussian_radius``.

    ``variant`` is the formula it should reproduce: ``"corrected"`` (the three overlap
    cases solved properly) or ``"centernet"`` (the original code's, flaws included).
    """
    exercise, cases = exercise_gaussian_radius(variant, seed)
    return run(exercise, fn, cases)


# Drawing a Gaussian ---------------------------------------------------------------------


def _splat(heatmap, center, radius, *, combine="max", swap=False, sigma=None, rounding=int, end=1):
    """``draw_gaussian``, or one of its classic mistakes (numpy maps); ``end=0`` stops the
    window one row or column short at the far borders (an off-by-one)."""
    d = 2 * radius + 1
    kernel = gaussian_2d((d, d), sigma=d / 6 if sigma is None else sigma(radius))
    x, y = rounding(center[0]), rounding(center[1])
    if swap:
        x, y = y, x
    H, W = heatmap.shape
    top, bottom = max(0, y - radius), min(H - 1 + end, y + radius + 1)
    left, right = max(0, x - radius), min(W - 1 + end, x + radius + 1)
    if top < bottom and left < right:
        region = heatmap[top:bottom, left:right]
        patch = kernel[
            top - y + radius : bottom - y + radius, left - x + radius : right - x + radius
        ]
        combined = {"max": np.maximum, "sum": np.add, "set": lambda old, new: new}[combine]
        region[...] = combined(region, patch)
    return heatmap


_SIGMA = "sigma is (2r + 1) / 6, the window's diameter over 6: three sigmas on each side"
_DRAW_MISTAKES = (
    (
        "combine with what is already there by an element-wise maximum, not a sum: "
        "overlapping objects would go above 1",
        functools.partial(_splat, combine="sum"),
    ),
    (
        "keep what is already in the map: take the element-wise maximum with it rather "
        "than overwrite it",
        functools.partial(_splat, combine="set"),
    ),
    (
        "center is (x, y): x is the column and y the row, heatmap[y, x]",
        functools.partial(_splat, swap=True),
    ),
    (
        "truncate the centre with int(), as the original code does: rounding moves the peak",
        functools.partial(_splat, rounding=round),
    ),
    (_SIGMA, functools.partial(_splat, sigma=lambda r: r / 3)),
    (_SIGMA, functools.partial(_splat, sigma=lambda r: (2 * r + 1) / 3)),
    (_SIGMA, functools.partial(_splat, sigma=lambda r: r)),
    (
        "at the far borders the window ends at H and W, the map's size (a slice's end is "
        "excluded): min(H, y + r + 1), not min(H - 1, y + r + 1)",
        functools.partial(_splat, end=0),
    ),
)
_BORDER = (
    "near a border, cut the window to the map: in numpy a negative start index counts "
    "from the other end of the array"
)


def _unclipped(heatmap, center, radius):
    """``draw_gaussian`` with the window's start left uncut: a negative start wraps."""
    d = 2 * radius + 1
    kernel = gaussian_2d((d, d), sigma=d / 6)
    x, y = int(center[0]), int(center[1])
    region = heatmap[y - radius : y + radius + 1, x - radius : x + radius + 1]
    region[...] = np.maximum(region, kernel[: region.shape[0], : region.shape[1]])
    return heatmap


def draw_all(fn, args):
    heatmap, draws = args
    result = None
    for center, radius in draws:
        result = fn(heatmap, center, radius)
    return result


def _xy(i: tuple) -> str:
    return f"x = {i[-1]}, y = {i[-2]}"


def _judge_draw(outcome: Outcome, want: np.ndarray) -> Verdict:
    heatmap, result, want_t = outcome.given[0], outcome.result, torch.from_numpy(want)
    drawn = judge_tensor(heatmap, want_t, "heatmap", _xy)
    returned = result is heatmap or (
        result is not None and judge_tensor(result, want_t, "heatmap").problem is None
    )
    if drawn.problem is None:
        if result is None:
            return Verdict("your heatmap is right, but your function returned None: return it too")
        if not returned:
            return Verdict(
                f"your heatmap is right, but your function returned {kind_of(result)} "
                "that is not it: return the heatmap"
            )
        return drawn
    if result is not None and result is not heatmap and returned:
        return Verdict(
            "your function returned the right heatmap but did not draw into the one it was "
            "given: draw_gaussian works in place (the encoder draws every object into one map)"
        )
    tail = "; and your function returned None: is a `return` missing?" if result is None else ""
    return Verdict(drawn.problem + tail, nonfinite=drawn.nonfinite)


def _draw_cases(seed: int) -> list[Case]:
    def blank(h=9, w=11, dtype=np.float32):
        return np.zeros((h, w), dtype)

    held = (np.random.default_rng(seed_of(seed)).random((9, 11)) * 0.4).astype(np.float32)
    held[4, 6] = 0.95  # beside the peak, above the Gaussian there
    return [
        Case("an object in the middle of a 9 x 11 map, radius 2", (blank(), (((5, 4), 2),))),
        Case(
            "an object at the left border (x = 0), radius 2",
            (blank(), (((0, 4), 2),)),
            _BORDER,
            _unclipped,
        ),
        Case(
            "an object at the right border (x = 10), radius 3",
            (blank(), (((10, 5), 3),)),
            _BORDER,
            _unclipped,
        ),
        Case(
            "an object at the top-left corner (0, 0), radius 2",
            (blank(), (((0, 0), 2),)),
            _BORDER,
            _unclipped,
        ),
        Case(
            "an object at the bottom border (y = 8), radius 1",
            (blank(), (((6, 8), 1),)),
            _BORDER,
            _unclipped,
        ),
        Case("radius 0: a single pixel", (blank(), (((3, 2), 0),))),
        Case(
            "a radius larger than the map: radius 7 on 5 x 6",
            (blank(5, 6), (((2, 3), 7),)),
            _BORDER,
            _unclipped,
        ),
        Case("two overlapping objects, radius 3 and 2", (blank(), (((4, 4), 3), ((6, 5), 2)))),
        Case(
            "a map that already holds values, one larger than the Gaussian", (held, (((5, 4), 2),))
        ),
        Case(
            "a centre with fractions, (4.7, 3.2): truncated like int()",
            (blank(), (((4.7, 3.2), 2),)),
        ),
        Case(
            "a float64 map, 12 x 7, an object near the bottom right",
            (blank(12, 7, np.float64), (((6, 10), 3),)),
        ),
        Case(
            "a centre given as an int32 array, as the encoder passes it",
            (blank(), ((np.array([3, 5], np.int32), 2),)),
        ),
    ]


def exercise_draw_gaussian(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_draw_gaussian`` and its cases."""
    exercise = Exercise(
        name="draw_gaussian",
        arg_names=("heatmap", "center"),
        reference=draw_gaussian,
        judge=_judge_draw,
        mistakes=_DRAW_MISTAKES,
        invoke=draw_all,
        in_place=("heatmap",),
    )
    return exercise, _draw_cases(seed)


def check_draw_gaussian(fn, seed: int = 0) -> Report:
    """Grade ``fn(heatmap, center, radius)`` against ``draw_gaussian``.

    ``heatmap`` is a 2-D numpy array (float32 or float64) to draw into **in place**;
    ``center`` is ``(x, y)``; ``fn`` returns ``heatmap``. Two overlapping objects are
    two calls on the same map.
    """
    exercise, cases = exercise_draw_gaussian(seed)
    return run(exercise, fn, cases)


# Encoding the targets -------------------------------------------------------------------

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
