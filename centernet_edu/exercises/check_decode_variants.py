"""Checkers of two variants the chapters describe but do not write out: the original
code's oracle flood fill (chapter 8) and the class-agnostic grouping of extreme points
(chapter 9). Their answers are private reference implementations here, not package
functions."""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Sequence

import numpy as np
import torch

from .judge import Case, Exercise, Outcome, Verdict, judge_tensor, kind_of, run, seed_of
from .report import Report

__all__ = ["check_oracle_fill", "check_group_agnostic"]


# The oracle fill ------------------------------------------------------------------------

_FOUR = ((0, 1), (0, -1), (1, 0), (-1, 0))  # (dx, dy), the original's order
_EIGHT = _FOUR + ((1, 1), (1, -1), (-1, 1), (-1, -1))


def _fill(values, ind, height, width, *, steps=_FOUR, reverse=False, skip_zero=True, spread=True):
    """The reference fill, or one of its classic mistakes.

    values (B, M, D), ind (B, M) flat y * W + x: (B, D, H, W) in values' dtype. A
    breadth-first fill per image, as the original's ``gen_oracle_map``: every slot with
    ind > 0 writes its value at its pixel and joins the queue in slot order; a pixel
    taken from the front hands its value to each unvisited 4-neighbour, which joins the
    back."""
    B, M, D = values.shape
    out = torch.zeros(B, D, height, width, dtype=values.dtype)
    for b in range(B):
        seen = torch.zeros(height, width, dtype=torch.bool)
        queue = deque()
        slots = range(M - 1, -1, -1) if reverse else range(M)
        for j in slots:
            k = int(ind[b, j])
            if k <= 0 and (skip_zero or k < 0):
                continue
            y, x = divmod(k, width)
            out[b, :, y, x] = values[b, j]
            seen[y, x] = True
            queue.append((x, y, values[b, j]))
        while queue and spread:
            x, y, v = queue.popleft()
            for dx, dy in steps:
                xx, yy = x + dx, y + dy
                if 0 <= xx < width and 0 <= yy < height and not seen[yy, xx]:
                    out[b, :, yy, xx] = v
                    seen[yy, xx] = True
                    queue.append((xx, yy, v))
    return out


def _nearest_euclidean(values, ind, height, width):
    """Each pixel the value of the nearest centre in straight-line distance (a mistake)."""
    B, M, D = values.shape
    out = torch.zeros(B, D, height, width, dtype=values.dtype)
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    for b in range(B):
        live = [j for j in range(M) if int(ind[b, j]) > 0]
        if not live:
            continue
        cy = torch.tensor([int(ind[b, j]) // width for j in live])
        cx = torch.tensor([int(ind[b, j]) % width for j in live])
        d2 = (xs[..., None] - cx) ** 2 + (ys[..., None] - cy) ** 2  # (H, W, live)
        owner = d2.argmin(-1)  # the first of equals: the earlier slot
        out[b] = values[b, live][owner].permute(2, 0, 1)
    return out


_FILL_MISTAKES = (
    (
        "fill the whole map: every pixel takes the value of the fill that reaches it first, "
        "not only the centre pixels (that map is scatter_targets', zeros off the centres)",
        functools.partial(_fill, spread=False),
    ),
    (
        "a fill steps to the 4 neighbours (x, y + 1), (x, y - 1), (x + 1, y), (x - 1, y), "
        "not to the 8 around a pixel: its reach is the distance |dx| + |dy|",
        functools.partial(_fill, steps=_EIGHT),
    ),
    (
        "a pixel keeps the first value that reaches it: start the fills in slot order and "
        "never overwrite a pixel already filled (a tie goes to the earlier slot)",
        functools.partial(_fill, reverse=True),
    ),
    (
        "skip the slots whose ind is 0, as the original (it tests ind > 0): an empty slot "
        "has ind 0 and value 0, and must not start a fill at pixel (0, 0)",
        functools.partial(_fill, skip_zero=False),
    ),
    (
        "a fill reaches a pixel in |dx| + |dy| steps of 4 neighbours, not in the straight-line "
        "distance",
        _nearest_euclidean,
    ),
)


def _judge_fill(outcome: Outcome, want: torch.Tensor) -> Verdict:
    def where(i):
        b, d, y, x = i
        return f"image {b}, channel {d}, x = {x}, y = {y}"

    return judge_tensor(outcome.result, want, "filled map", where)


def _fill_case(words, centres, height, width, dtype=torch.float64, D=2, g=None, hint=None):
    """centres: per image, the (x, y) of each slot, or None for an empty slot."""
    M = max(len(c) for c in centres)
    ind = torch.zeros(len(centres), M, dtype=torch.int64)
    values = torch.zeros(len(centres), M, D, dtype=dtype)
    for b, image in enumerate(centres):
        for j, c in enumerate(image):
            if c is not None:
                ind[b, j] = c[1] * width + c[0]
                # Eighths: exact in float32 too, so a fill through a float32 buffer (as
                # the original's) is exact as well.
                values[b, j] = 1 + torch.randint(0, 72, (D,), generator=g).to(dtype) / 8
    return Case(words, (values, ind, height, width), hint)


def _fill_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))
    rng = np.random.default_rng(seed_of(seed))
    H, W = int(rng.integers(6, 9)), int(rng.integers(7, 11))
    spots = rng.choice(np.arange(1, H * W), size=4, replace=False)
    random = [(int(k % W), int(k // W)) for k in spots]
    case = functools.partial(_fill_case, g=g)
    return [
        case("one object in the middle", [[(3, 2)]], 6, 7),
        case("two objects (a tie between them goes to the earlier slot)", [[(1, 1), (5, 4)]], 6, 7),
        case(
            "an image without objects (every slot empty, ind 0)",
            [[None, None]],
            5,
            5,
            hint="with no object nothing is filled: the map stays zeros",
        ),
        case("an object in the bottom-right corner", [[(6, 5)]], 6, 7),
        case(
            "an object at pixel (0, 0), skipped as in the original, and another",
            [[(0, 0), (4, 3)]],
            6,
            7,
        ),
        case("two objects sharing a centre pixel", [[(2, 2), (2, 2), (5, 4)]], 6, 7),
        case("a filled slot after an empty one", [[None, (3, 3), None]], 6, 6),
        case(
            "float32 values, a batch of two whose first image is empty",
            [[None, None], [(1, 4), (6, 1)]],
            6,
            8,
            dtype=torch.float32,
        ),
        case("three objects in a row, one value each", [[(1, 3), (4, 3), (7, 3)]], 7, 9, D=1),
        case("random objects on a map that is not square", [random], H, W, D=3),
    ]


def exercise_oracle_fill(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_oracle_fill`` and its cases."""
    exercise = Exercise(
        name="oracle_fill",
        arg_names=("values", "ind", "height", "width"),
        reference=_fill,
        judge=_judge_fill,
        mistakes=_FILL_MISTAKES,
        mutation_hint="write into a new map (torch.zeros(B, D, H, W)); leave values and ind as they came",
    )
    return exercise, _fill_cases(seed)


def check_oracle_fill(fn, seed: int = 0) -> Report:
    """Grade ``fn(values, ind, height, width) -> maps``: the original code's oracle fill.

    ``values (B, M, D)`` one value per slot, ``ind (B, M)`` int64 centre pixels
    ``y * W + x``; the result is ``(B, D, H, W)`` in ``values``' dtype: each pixel the
    value of the slot whose 4-neighbour breadth-first fill, started at the centres in slot
    order, reaches it first; slots with ``ind`` 0 are skipped.
    """
    exercise, cases = exercise_oracle_fill(seed)
    return run(exercise, fn, cases)


# The class-agnostic grouping ------------------------------------------------------------

_PARTS = "tlbr"


def _axis(v: torch.Tensor, j: int) -> torch.Tensor:
    """Part j's K values on its own axis of a (K, K, K, K) grid."""
    shape = [1, 1, 1, 1]
    shape[j] = len(v)
    return v.reshape(shape)


def _agnostic(
    t,
    l,  # noqa: E741 (the paper's name for the left-most point)
    b,
    r,
    hm_c,
    score_thresh=0.1,
    center_thresh=0.1,
    *,
    centre_weight=2.0,
    geometry="extreme",
    centre=torch.floor,
    swap=False,
):
    """The reference grouping, or one of its classic mistakes: (score, cls), (K, K, K, K)."""
    parts = (t, l, b, r)
    s, x, y = (
        {p: _axis(q[:, i], j) for j, (p, q) in enumerate(zip(_PARTS, parts, strict=True))}
        for i in range(3)
    )
    valid = (s["t"] >= score_thresh) & (s["l"] >= score_thresh)
    valid = valid & (s["b"] >= score_thresh) & (s["r"] >= score_thresh)
    if geometry == "extreme":  # each point is extreme among the four
        valid = valid & (y["t"] <= y["l"]) & (y["t"] <= y["r"])
        valid = valid & (y["b"] >= y["l"]) & (y["b"] >= y["r"])
        valid = valid & (x["l"] <= x["t"]) & (x["l"] <= x["b"])
        valid = valid & (x["r"] >= x["t"]) & (x["r"] >= x["b"])
    else:  # only a box of positive size
        valid = valid & (y["t"] <= y["b"]) & (x["l"] <= x["r"])
    cx = centre((x["l"] + x["r"]) / 2).long()
    cy = centre((y["t"] + y["b"]) / 2).long()
    cx, cy = torch.broadcast_tensors(cx, cy)  # (K, K, K, K) each
    best, cls = hm_c.max(0)  # (H, W): the best class at each pixel, and its score
    row, col = (cx, cy) if swap else (cy, cx)
    c, k = best[row, col], cls[row, col]
    valid = valid & (c >= center_thresh)
    score = (s["t"] + s["l"] + s["b"] + s["r"] + centre_weight * c) / (4 + centre_weight)
    score = torch.where(valid, score, torch.full_like(score, -1))
    return score, torch.where(valid, k, torch.full_like(k, -1))


_GROUP_MISTAKES = (
    (
        "the grouping's score counts the centre twice, as decode_exdet's: "
        "(s_t + s_l + s_b + s_r + 2 s_c) / 6, not the plain mean of the five",
        functools.partial(_agnostic, centre_weight=1.0),
    ),
    (
        "each point must be extreme among the four (t_y <= l_y, r_y; b_y >= l_y, r_y; "
        "l_x <= t_x, b_x; r_x >= t_x, b_x), not only t above b and l left of r",
        functools.partial(_agnostic, geometry="box"),
    ),
    (
        "the centre pixel is floored: (floor((l_x + r_x) / 2), floor((t_y + b_y) / 2)), "
        "not rounded",
        functools.partial(_agnostic, centre=torch.round),
    ),
    (
        "hm_c is (C, H, W): read it at [:, y, x], the row first",
        functools.partial(_agnostic, swap=True),
    ),
)


def _judge_group(outcome: Outcome, want: tuple) -> Verdict:
    got = outcome.result
    if not isinstance(got, Sequence) or isinstance(got, str) or len(got) != 2:
        return Verdict(
            f"your function returned {kind_of(got)} where a pair (score, cls) of "
            "(K, K, K, K) tensors belongs"
        )

    def where(i):
        return ", ".join(f"{p} {k}" for p, k in zip(_PARTS, i, strict=True))

    verdict = judge_tensor(got[0], want[0], "score", where)
    if verdict.problem:
        return verdict
    second = judge_tensor(got[1], want[1], "cls", where, "int")
    return second if second.problem else verdict


def _peaks(g, K, size, dtype, points=()):
    """(K, 3) rows (score, x, y) of one part: given points first, then random low ones."""
    rows = torch.zeros(K, 3, dtype=dtype)
    rows[:, 0] = torch.rand(K, generator=g, dtype=dtype) * 0.08  # under score_thresh
    rows[:, 1:] = torch.randint(0, size, (K, 2), generator=g).to(dtype)
    for k, (score, x, y) in enumerate(points):
        rows[k] = torch.tensor([score, x, y], dtype=dtype)
    return rows


def _centre_map(g, C, size, dtype, spots=()):
    """(C, H, W) low random scores, with (class, x, y, score) spots."""
    hm = torch.rand(C, size, size, generator=g, dtype=dtype) * 0.05
    for c, x, y, score in spots:
        hm[c, y, x] = score
    return hm


def _group_case(g, words, parts, spots, *, K=3, C=3, size=12, dtype=torch.float64):
    """parts: the points (score, x, y) of t, l, b, r; spots: the centre map's."""
    peaks = [_peaks(g, K, size, dtype, p) for p in parts]
    return Case(words, (*peaks, _centre_map(g, C, size, dtype, spots)))


def _group_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))
    rng = np.random.default_rng(seed_of(seed))
    # Where the object sits; never where reading hm_c at [x, y] would find its centre too.
    x0, y0 = [(0, 0), (1, 1), (1, 0)][int(rng.integers(3))]
    # One object: t (6, 1), l (2, 5), b (7, 9), r (10, 4), moved by (x0, y0); centre (6, 5).
    one = tuple(
        [(score, x + x0, y + y0)]
        for score, x, y in ((0.9, 6, 1), (0.8, 2, 5), (0.7, 7, 9), (0.6, 10, 4))
    )
    centre = [(1, 6 + x0, 5 + y0, 0.8)]
    low_b = (one[0], one[1], [(0.05, 7 + x0, 9 + y0)], one[3])
    box_only = ([(0.9, 1, 2)], [(0.8, 3, 5)], [(0.7, 6, 9)], [(0.6, 9, 4)])  # l right of t
    odd = ([(0.9, 4, 1)], [(0.8, 1, 3)], [(0.7, 3, 6)], [(0.6, 6, 4)])  # centre (3.5, 3.5)
    edges = ([(0.9, 5, 0)], [(0.8, 0, 4)], [(0.7, 6, 11)], [(0.6, 11, 7)])  # on all borders
    second = ((0.5, 9, 6), (0.5, 7, 8), (0.4, 10, 11), (0.6, 11, 9))  # centre (9, 8)
    two = tuple([a[0], p] for a, p in zip(odd, second, strict=True))
    r = rng.uniform(0.2, 1, (4, 4))
    randomly = [
        [(float(r[j, k]), *map(int, rng.integers(0, 12, 2))) for k in range(4)] for j in range(4)
    ]
    dense = torch.rand(3, 12, 12, generator=g, dtype=torch.float64)  # most centres pass
    case = functools.partial(_group_case, g)
    return [
        case("one object", one, centre),
        case("one object whose centre's best class is 2", one, [(2, 6 + x0, 5 + y0, 0.7)]),
        case("a point under score_thresh (0.1)", low_b, centre),
        case("a centre under center_thresh (0.1)", one, [(1, 6 + x0, 5 + y0, 0.09)]),
        case("four points that span a box but are not its extremes", box_only, [(0, 6, 5, 0.9)]),
        case("a centre at half a pixel (l_x + r_x odd)", odd, [(0, 3, 3, 0.9), (1, 4, 4, 0.9)]),
        case("points on the borders of the map", edges, [(2, 5, 5, 0.8), (1, 6, 6, 0.8)]),
        case(
            "two objects whose points mix, float32",
            two,
            [(0, 3, 3, 0.9), (1, 9, 8, 0.6), (2, 6, 6, 0.4)],
            dtype=torch.float32,
        ),
        Case(
            "random points and a random centre map, K = 4",
            (*(_peaks(g, 4, 12, torch.float64, p) for p in randomly), dense),
        ),
    ]


def exercise_group_agnostic(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_group_agnostic`` and its cases."""
    exercise = Exercise(
        name="group_agnostic",
        arg_names=("t", "l", "b", "r", "hm_c"),
        reference=_agnostic,
        judge=_judge_group,
        mistakes=_GROUP_MISTAKES,
        mutation_hint="compute on new tensors: leave the peaks and hm_c as they came",
    )
    return exercise, _group_cases(seed)


def check_group_agnostic(fn, seed: int = 0) -> Report:
    """Grade ``fn(t, l, b, r, hm_c) -> (score, cls)``: class-agnostic grouping.

    ``t, l, b, r`` are ``(K, 3)``: the K peaks of one image's class-agnostic extreme
    heatmaps, rows (score, x, y) with integer pixel coordinates; ``hm_c (C, H, W)`` the
    centre heatmap. ``score (K, K, K, K)``, indexed [t, l, b, r], is
    ``(s_t + s_l + s_b + s_r + 2 s_c) / 6`` for a valid quadruple and -1 otherwise;
    ``cls (K, K, K, K)`` int64, the centre's best class there, -1 where invalid.
    """
    exercise, cases = exercise_group_agnostic(seed)
    return run(exercise, fn, cases)
