"""Checkers for decoding: the heatmap's peaks (``heatmap_nms``) and the boxes
(``decode_ctdet``)."""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

from ..decode import decode_ctdet, heatmap_nms, topk
from ..targets import gather_feat
from .judge import Case, Exercise, Outcome, Verdict, as_tensor, judge_tensor, kind_of, run, seed_of
from .report import Report

__all__ = ["check_heatmap_nms", "check_decode_ctdet"]


def _where(i: tuple) -> str:
    b, c, y, x = i
    return f"image {b}, class {c}, x = {x}, y = {y}"


# The peaks ------------------------------------------------------------------------------


def _strict_peaks(heat: torch.Tensor) -> torch.Tensor:
    """Pixels larger than all 8 neighbours: ties between neighbours are dropped."""
    H, W = heat.shape[-2:]
    padded = F.pad(heat, (1, 1, 1, 1), value=-torch.inf)
    around = [
        padded[..., dy : dy + H, dx : dx + W]
        for dy in range(3)
        for dx in range(3)
        if (dy, dx) != (1, 1)
    ]
    return heat * (heat > torch.stack(around).amax(0))


def _peaks_across_classes(heat: torch.Tensor) -> torch.Tensor:
    pooled = F.max_pool2d(heat.amax(1, keepdim=True), 3, stride=1, padding=1)
    return heat * (heat == pooled)


_NMS_MISTAKES = (
    (
        "equal neighbours (a plateau) all survive, as in the original code: keep a pixel "
        "when it equals the maximum of its 3 x 3 window (==, not >)",
        _strict_peaks,
    ),
    (
        "multiply by the heatmap: the peaks keep their scores, the rest become 0",
        lambda heat: (heat == F.max_pool2d(heat, 3, stride=1, padding=1)).to(heat.dtype),
    ),
    (
        "each class has its own peaks: pool over (H, W) only, not across classes",
        _peaks_across_classes,
    ),
    ("the window is 3 x 3 (kernel 3)", functools.partial(heatmap_nms, kernel=5)),
)


def _nms_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))

    def blank(B=1, C=1, H=6, W=7, dtype=torch.float64):
        return torch.rand(B, C, H, W, generator=g, dtype=dtype) * 0.05  # distinct low scores

    def peak(heat, b, c, y, x, score=0.9):
        heat[b, c, y, x] = score
        return heat

    plateau = peak(peak(blank(), 0, 0, 2, 3, 0.8), 0, 0, 2, 4, 0.8)
    both = peak(peak(blank(C=2), 0, 0, 3, 3, 0.7), 0, 1, 3, 3, 0.6)
    close = peak(peak(blank(), 0, 0, 3, 3, 0.5), 0, 0, 3, 4, 0.5 - 1e-6)
    return [
        Case("a single peak in the middle", (peak(blank(), 0, 0, 3, 3),)),
        Case("a peak in the top-left corner", (peak(blank(), 0, 0, 0, 0),)),
        Case("a peak at the right border", (peak(blank(), 0, 0, 2, 6),)),
        Case("a plateau: two equal neighbours (a tie)", (plateau,)),
        Case("a map of zeros", (torch.zeros(1, 1, 6, 7, dtype=torch.float64),)),
        Case(
            "a constant map: every pixel is a maximum",
            (torch.full((1, 2, 4, 5), 0.3, dtype=torch.float64),),
        ),
        Case("two classes with peaks at the same pixel", (both,)),
        Case("two neighbours 1e-6 apart: only the larger survives", (close,)),
        Case("random float32 scores, a batch of two", (torch.rand(2, 3, 6, 7, generator=g),)),
        Case("random float64 scores", (torch.rand(1, 2, 9, 5, generator=g, dtype=torch.float64),)),
    ]


def _judge_nms(outcome: Outcome, want: torch.Tensor) -> Verdict:
    return judge_tensor(outcome.result, want, "result", _where)


def exercise_heatmap_nms(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_heatmap_nms`` and its cases."""
    exercise = Exercise(
        name="heatmap_nms",
        arg_names=("heat",),
        reference=heatmap_nms,
        judge=_judge_nms,
        mistakes=_NMS_MISTAKES,
        mutation_hint="return a new tensor (heat * keep), not heat *= keep",
        error_hints=(
            (
                "must match the size",
                "max_pool2d shrinks the map unless you pad it: "
                "padding=1 keeps (H, W) for a 3 x 3 window",
            ),
        ),
    )
    return exercise, _nms_cases(seed)


def check_heatmap_nms(fn, seed: int = 0) -> Report:
    """Grade ``fn(heat) -> peaks`` against ``heatmap_nms`` (its 3 x 3 window).

    ``heat (B, C, H, W)`` holds probabilities; ``peaks`` has the same shape, each pixel
    that equals the maximum of its 3 x 3 neighbourhood keeps its score, the others are 0.
    """
    exercise, cases = exercise_heatmap_nms(seed)
    return run(exercise, fn, cases)


# The boxes ------------------------------------------------------------------------------


def _decode(
    heat,
    wh,
    reg=None,
    K=100,
    *,
    nms=True,
    swap=False,
    span=2.0,
    wh_flip=False,
    middle=0.5,
    sign=1.0,
):
    """``decode_ctdet``, or one of its classic mistakes."""
    peaks = topk(heatmap_nms(heat) if nms else heat, K)
    xs, ys = peaks.xs, peaks.ys
    if swap:
        W = heat.shape[-1]
        xs, ys = (peaks.inds // W).to(heat.dtype), (peaks.inds % W).to(heat.dtype)
    if reg is None:
        cx, cy = xs + middle, ys + middle
    else:
        off = gather_feat(reg, peaks.inds)
        cx, cy = xs + sign * off[..., 0], ys + sign * off[..., 1]
    size = gather_feat(wh, peaks.inds)
    w, h = (size[..., 1], size[..., 0]) if wh_flip else (size[..., 0], size[..., 1])
    boxes = [cx - w / span, cy - h / span, cx + w / span, cy + h / span]
    return torch.stack([*boxes, peaks.scores, peaks.clses.to(heat.dtype)], dim=2)


_DECODE_MISTAKES = (
    (
        "keep only the peaks (heatmap_nms) before the top K: without it a peak's neighbours "
        "come out as duplicate boxes",
        functools.partial(_decode, nms=False),
    ),
    (
        "the flat index is y * W + x: y = ind // W and x = ind % W",
        functools.partial(_decode, swap=True),
    ),
    (
        "the box spans w / 2 on each side of its centre: x1 = cx - w / 2, x2 = cx + w / 2",
        functools.partial(_decode, span=1.0),
    ),
    ("wh holds (w, h): the width first", functools.partial(_decode, wh_flip=True)),
    (
        "without an offset map (reg=None) the centre is the pixel's middle: x + 0.5, y + 0.5",
        functools.partial(_decode, middle=0.0),
    ),
    (
        "add the offset: the centre is the peak's pixel plus its offset",
        functools.partial(_decode, sign=-1.0),
    ),
)


def _canonical(dets: torch.Tensor) -> torch.Tensor:
    """Each image's detections by score, equal scores ordered by class and box."""
    d = dets.to(torch.float64).numpy()
    order = [
        np.lexsort([*(d[b, :, j] for j in (3, 2, 1, 0, 5)), -d[b, :, 4]]) for b in range(len(d))
    ]
    return dets[torch.arange(len(d))[:, None], torch.as_tensor(np.array(order)).reshape(len(d), -1)]


def _judge_decode(outcome: Outcome, want: torch.Tensor) -> Verdict:
    got = as_tensor(outcome.result)
    if got is None:
        return Verdict(
            f"your function returned {kind_of(outcome.result)} where a (B, K, 6) tensor belongs"
        )
    verdict = judge_tensor(got, want, "detection table")
    if verdict.problem and (tuple(got.shape) != tuple(want.shape) or not got.is_floating_point()):
        return verdict
    scores = got[..., 4]
    unsorted = (scores[:, 1:] > scores[:, :-1]).nonzero()
    if len(unsorted):
        b, k = (int(v) for v in unsorted[0])
        return Verdict(
            f"your detections are not sorted by score: in image {b}, detection {k + 1} "
            f"scores {scores[b, k + 1]:.4g} after {scores[b, k]:.4g}"
        )

    got, want = _canonical(got), _canonical(want)
    verdict = judge_tensor(got, want, "detections")
    if verdict.problem is None or verdict.nonfinite:
        return verdict
    for b, k in np.ndindex(*got.shape[:2]):
        if judge_tensor(got[b, k], want[b, k], "detection").problem:
            mine, right = (", ".join(f"{v:.4g}" for v in d[b, k].tolist()) for d in (got, want))
            return Verdict(
                f"your detection {k} of image {b} is ({mine}) where ({right}) "
                "belongs (x1, y1, x2, y2, score, class)"
            )
    return verdict


def _heads(g, B, C, H, W, objects, dtype=torch.float64):
    """heat, wh, reg with the given peaks (image, class, y, x, score) on distinct low scores."""
    heat = torch.rand(B, C, H, W, generator=g, dtype=dtype) * 0.05
    for b, c, y, x, score in objects:
        heat[b, c, y, x] = score
    wh = 2 + 8 * torch.rand(B, 2, H, W, generator=g, dtype=dtype)
    reg = torch.rand(B, 2, H, W, generator=g, dtype=dtype)
    return heat, wh, reg


def _decode_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))
    blob = _heads(g, 1, 1, 8, 8, [(0, 0, 4, 4, 0.9)])
    blob[0][0, 0, 3:6, 3:6] = torch.maximum(
        blob[0][0, 0, 3:6, 3:6], torch.tensor(0.6, dtype=torch.float64)
    )
    blob[0][0, 0, 4, 4] = 0.9
    return [
        Case("one object", (*_heads(g, 1, 2, 8, 8, [(0, 1, 3, 5, 0.9)]), 5)),
        Case(
            "two objects of different classes",
            (*_heads(g, 1, 2, 8, 8, [(0, 0, 1, 2, 0.8), (0, 1, 6, 5, 0.7)]), 5),
        ),
        Case(
            "an object at the left border (its peak at x = 0)",
            (*_heads(g, 1, 1, 8, 8, [(0, 0, 3, 0, 0.9)]), 4),
        ),
        Case(
            "no offset map (reg=None)",
            (*_heads(g, 1, 2, 8, 8, [(0, 0, 2, 6, 0.9)])[:2], None, 4),
            "reg may be None: the centre is then the pixel's middle, x + 0.5, y + 0.5",
            on_error=True,
        ),
        Case(
            "ties: two objects with the same score",
            (*_heads(g, 1, 2, 8, 8, [(0, 0, 1, 1, 0.8), (0, 1, 6, 6, 0.8)]), 5),
        ),
        Case(
            "a plateau: two equal neighbouring pixels",
            (*_heads(g, 1, 1, 8, 8, [(0, 0, 4, 4, 0.7), (0, 0, 4, 5, 0.7)]), 4),
        ),
        Case("a blob: a peak with high neighbours", (*blob, 4)),
        Case(
            "float32 heads, a batch of two",
            (*_heads(g, 2, 2, 8, 8, [(0, 0, 2, 2, 0.9), (1, 1, 5, 6, 0.8)], torch.float32), 6),
        ),
        Case(
            "K = H * W: every pixel of a one-class 4 x 4 map",
            (*_heads(g, 1, 1, 4, 4, [(0, 0, 1, 2, 0.9)]), 16),
        ),
        Case("random heads, a batch of two", (*_heads(g, 2, 3, 8, 8, []), 10)),
    ]


def exercise_decode_ctdet(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_decode_ctdet`` and its cases."""
    exercise = Exercise(
        name="decode_ctdet",
        arg_names=("heat", "wh", "reg", "K"),
        reference=decode_ctdet,
        judge=_judge_decode,
        mistakes=_DECODE_MISTAKES,
    )
    return exercise, _decode_cases(seed)


def check_decode_ctdet(fn, seed: int = 0) -> Report:
    """Grade ``fn(heat, wh, reg, K) -> detections`` against ``decode_ctdet``.

    ``heat (B, C, H, W)`` probabilities, ``wh`` and ``reg`` ``(B, 2, H, W)`` (``reg`` may
    be None: the centre is then the pixel's middle), ``K`` detections an image. The
    result is ``(B, K, 6)``: x1, y1, x2, y2, score, class, sorted by score; detections
    with equal scores may come in any order.
    """
    exercise, cases = exercise_decode_ctdet(seed)
    return run(exercise, fn, cases)
