"""Checkers for the heatmap targets' pieces: the Gaussian radius and the splat."""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from .. import validate
from ..heatmap import draw_gaussian, gaussian_2d, gaussian_radius
from .judge import Case, Exercise, Outcome, Verdict, as_tensor, judge_tensor, kind_of, run, seed_of
from .report import Report

__all__ = ["check_gaussian_radius", "check_draw_gaussian"]


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


def judge_drawn_heatmap(outcome: Outcome, want: np.ndarray, in_place: str) -> Verdict:
    """The verdict on a splat that draws into ``outcome.given[0]`` and returns it;
    ``in_place`` says why drawing into the given map matters, for the student who did not."""
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
            f"given: {in_place}"
        )
    tail = "; and your function returned None: is a `return` missing?" if result is None else ""
    return Verdict(drawn.problem + tail, nonfinite=drawn.nonfinite)


_judge_draw = functools.partial(
    judge_drawn_heatmap,
    in_place="draw_gaussian works in place (the encoder draws every object into one map)",
)


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
