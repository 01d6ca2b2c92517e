"""Checkers for the loss terms: the focal loss L_k (on probabilities and on logits) and the
L1 loss of a regression head read at the object centres."""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..heatmap import draw_gaussian
from ..losses import focal_loss, focal_loss_with_logits, reg_l1_loss
from .judge import Case, Exercise, Outcome, Verdict, judge_tensor, run, seed_of
from .report import Report

__all__ = ["check_focal_loss", "check_focal_loss_with_logits", "check_reg_l1_loss"]


def judge_loss(outcome: Outcome, want: torch.Tensor) -> Verdict:
    """A loss is one number: a 0-d tensor or a plain float, close to the package's."""
    return judge_tensor(outcome.result, want, "loss")


# The focal loss -------------------------------------------------------------------------


def _focal(pred, gt, alpha=2, beta=4, divide_by="objects", sign=1, per_image=False):
    """L_k, or one of its classic mistakes."""
    pos = gt.eq(1)
    terms = torch.where(
        pos,
        torch.log(pred) * (1 - pred) ** alpha,
        torch.log(1 - pred) * pred**alpha * (1 - gt) ** beta,
    )
    dims = tuple(range(1, gt.ndim)) if per_image else tuple(range(gt.ndim))
    total, n = -sign * terms.sum(dims), pos.sum(dims)
    if divide_by == "zero when empty":
        return total / n.clamp(min=1) if n.all() else total * 0
    sizes = {"objects": n.clamp(min=1), "pixels": gt.numel(), "nothing": 1, "images": gt.shape[0]}
    return total / sizes[divide_by]


def _focal_mistakes(on_logits: bool) -> tuple:
    def make(**kw):
        if on_logits:
            return lambda x, gt: _focal(torch.sigmoid(x), gt, **kw)
        return functools.partial(_focal, **kw)

    n = "the number of objects N (the pixels where Y = 1)"
    found = [
        (f"divide by {n}, not by the number of pixels", make(divide_by="pixels")),
        (f"divide the summed terms by {n}", make(divide_by="nothing")),
        (f"divide by {n}, not by the number of images", make(divide_by="images")),
        (
            "sum over the whole batch, then divide by N: the loss is one number, not one per image",
            make(per_image=True),
        ),
        (
            "L_k is minus the sum of the terms: a log of a probability is negative, so L_k >= 0",
            make(sign=-1),
        ),
        (
            "with no objects the loss is not 0: the negative terms still count (divide by max(N, 1))",
            make(divide_by="zero when empty"),
        ),
    ]
    for a in range(5):
        for b in range(5):
            if (a, b) != (2, 4):
                found.append(
                    (
                        f"your loss matches alpha = {a}, beta = {b}: CenterNet's focal loss uses "
                        "alpha = 2 (the power of 1 - Yhat at the centres, of Yhat elsewhere) and "
                        "beta = 4 (the power of 1 - Y)",
                        make(alpha=a, beta=b),
                    )
                )
    return tuple(found)


def heatmap_targets(images, num_classes=2, size=(6, 7)) -> torch.Tensor:
    """``(B, C, H, W)`` float64 heatmap targets, one list of peaks (x, y, radius, class) an
    image, each a Gaussian as ``draw_gaussian`` splats it."""
    hm = np.zeros((len(images), num_classes, *size))
    for b, peaks in enumerate(images):
        for x, y, radius, c in peaks:
            draw_gaussian(hm[b, c], (x, y), radius)
    return torch.from_numpy(hm)


_EMPTY = (
    "with no objects N = 0: divide by max(N, 1), which leaves the sum of the negative "
    "terms (as the original code does)"
)


def _focal_scenes(g: torch.Generator) -> list[tuple[str, torch.Tensor, torch.Tensor | None]]:
    """(words, gt, logits or None for random ones), the targeted scenes of L_k."""
    one = heatmap_targets([[(3, 2, 2, 0)]])
    pair = heatmap_targets([[(1, 0, 1, 1), (3, 2, 2, 0), (1, 4, 1, 1)]] * 2)
    random_gt = torch.rand(2, 2, 6, 7, generator=g, dtype=torch.float64) ** 4
    random_gt.view(-1)[torch.randperm(random_gt.numel(), generator=g)[:3]] = 1.0
    return [
        ("no object in the batch", heatmap_targets([[], []]), None),
        ("one object in the middle", one, None),
        ("an object at the left border", heatmap_targets([[(0, 3, 2, 1)]]), None),
        ("an object in the bottom-right corner", heatmap_targets([[(6, 5, 2, 0)]]), None),
        (
            "two overlapping objects of one class",
            heatmap_targets([[(2, 2, 2, 0), (4, 3, 2, 0)]]),
            None,
        ),
        (
            "an image without objects next to one with two",
            heatmap_targets([[], [(1, 1, 1, 0), (5, 4, 2, 1)]]),
            None,
        ),
        ("confident and right", one, torch.where(one.eq(1), 4.0, -4.0)),
        ("confident and wrong", one, torch.where(one.eq(1), -8.0, 3.0)),
        ("float32 inputs, one object", one.float(), None),
        ("float32 inputs, a batch of two with three objects each", pair.float(), None),
        ("random targets", random_gt, None),
        ("random targets in float32", random_gt.float(), None),
    ]


def _heatmap_cases(seed: int, logits: bool) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))
    cases = []
    for i, (words, gt, x) in enumerate(_focal_scenes(g)):
        if x is None:  # inside the original code's clamp (|x| < 9.2), where all forms agree
            x = (torch.randn(gt.shape, generator=g, dtype=torch.float64) * 3).clamp(-9, 9)
        x = x.to(gt.dtype)
        n = int(gt.eq(1).sum())
        cases.append(
            Case(
                f"case {i} ({n} positive{'' if n == 1 else 's'}, shape {tuple(gt.shape)}): {words}",
                (x if logits else torch.sigmoid(x), gt),
                _EMPTY if n == 0 else None,
            )
        )
    return cases


_NONFINITE = (
    "NaN or inf comes from log(0) (a probability of exactly 0 or 1) or from 0 / 0 (a "
    "batch without objects)"
)


def exercise_focal_loss(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_focal_loss`` and its cases."""
    exercise = Exercise(
        name="focal_loss",
        arg_names=("pred", "gt"),
        reference=focal_loss,
        judge=judge_loss,
        mistakes=_focal_mistakes(on_logits=False),
        nonfinite_hint=_NONFINITE,
    )
    return exercise, _heatmap_cases(seed, logits=False)


def check_focal_loss(fn, seed: int = 0) -> Report:
    """Grade ``fn(pred, gt) -> loss`` against ``focal_loss``.

    ``pred`` are probabilities Yhat and ``gt`` the targets Y, both ``(B, C, H, W)``
    (float64 or float32); the loss is one number (a 0-d tensor or a float).
    """
    exercise, cases = exercise_focal_loss(seed)
    return run(exercise, fn, cases)


_HUGE = (
    "for large |x| sigmoid(x) rounds to exactly 0 or 1 and its log is -inf: compute "
    "log(Yhat) as logsigmoid(x), log(1 - Yhat) as logsigmoid(-x) and 1 - Yhat as sigmoid(-x)"
)


def _huge_logit_cases() -> list[Case]:
    x64 = torch.tensor([[[[40.0, -40.0, 3.0], [-60.0, 60.0, -2.0]]]], dtype=torch.float64)
    gt = torch.tensor([[[[1.0, 0.0, 0.2], [1.0, 0.5, 0.0]]]], dtype=torch.float64)
    x32 = torch.tensor([[[[-100.0, 100.0], [30.0, -30.0]]]])
    gt32 = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    right = torch.where(gt32.eq(1), 50.0, -50.0)
    return [
        Case("huge logits, confident mistakes (the loss must stay finite)", (x64, gt), _HUGE),
        Case("huge logits in float32, confident mistakes", (x32, gt32), _HUGE),
        Case("huge logits, confident and right (a loss near 0)", (right, gt32), _HUGE),
    ]


def exercise_focal_loss_with_logits(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_focal_loss_with_logits`` and its cases."""
    exercise = Exercise(
        name="focal_loss_with_logits",
        arg_names=("logits", "gt"),
        reference=focal_loss_with_logits,
        judge=judge_loss,
        mistakes=(
            (
                "a clamped sigmoid changes the loss where |x| > 9.2: compute log(Yhat) as "
                "logsigmoid(x) and log(1 - Yhat) as logsigmoid(-x), no clamp needed",
                lambda x, gt: _focal(torch.sigmoid(x).clamp(1e-4, 1 - 1e-4), gt),
            ),
            *_focal_mistakes(on_logits=True),
        ),
        nonfinite_hint=_NONFINITE,
    )
    return exercise, _heatmap_cases(seed, logits=True) + _huge_logit_cases()


def check_focal_loss_with_logits(fn, seed: int = 0) -> Report:
    """Grade ``fn(logits, gt) -> loss`` against ``focal_loss_with_logits``.

    ``logits`` are the raw heatmap-head outputs x (Yhat = sigmoid(x)), ``gt`` the
    targets Y, both ``(B, C, H, W)``; the loss must stay finite for huge logits.
    """
    exercise, cases = exercise_focal_loss_with_logits(seed)
    return run(exercise, fn, cases)


# The L1 loss at the centres --------------------------------------------------------------


def _rows(ind: torch.Tensor, H: int, W: int) -> tuple[torch.Tensor, torch.Tensor]:
    return ind // W, ind % W


def _l1(output, mask, ind, target, *, rows=_rows, masked=True, per="values", square=False):
    """``reg_l1_loss``, or one of its classic mistakes; ``rows(ind, H, W)`` gives (y, x)."""
    B, D, H, W = output.shape
    y, x = rows(ind, H, W)
    pred = output[torch.arange(B)[:, None], :, y, x]  # (B, M, D)
    m = mask.unsqueeze(2).to(pred.dtype) if masked else torch.ones_like(pred)
    diff = pred * m - target * m
    err = (diff.square() if square else diff.abs()).sum()
    n = mask.to(pred.dtype).sum()
    return (
        err / {"values": n * D + 1e-4, "objects": n + 1e-4, "slots": pred.numel(), "none": 1}[per]
    )


_INDEX = (
    "ind is y * W + x for a (H, W) map: the row is ind // W and the column ind % W; "
    "flatten with output.reshape(B, D, H * W), not a transposed map"
)
_L1_MISTAKES = (
    (
        "multiply by the mask: slots without an object (mask 0) hold no target and must not count",
        functools.partial(_l1, masked=False),
    ),
    (
        "divide by D * N + 1e-4: the mask covers both channels of a slot, and your loss is "
        "divided by N alone",
        functools.partial(_l1, per="objects"),
    ),
    (
        "normalise by the objects (D * N + 1e-4), not by the number of slots or pixels",
        functools.partial(_l1, per="slots"),
    ),
    (
        "divide the summed L1 by D * N + 1e-4, N the number of objects",
        functools.partial(_l1, per="none"),
    ),
    ("an L1 loss sums absolute differences, not squares", functools.partial(_l1, square=True)),
    (_INDEX, functools.partial(_l1, rows=lambda ind, H, W: (ind % W, ind // W))),
    (_INDEX, functools.partial(_l1, rows=lambda ind, H, W: (ind % H, ind // H))),
)


def _l1_case(g, words, B, H, W, M, objects, dtype=torch.float64, scale=1.0, hint=None) -> Case:
    """``objects`` lists (image, slot, flat index) of the filled slots; other slots hold
    leftovers that the mask must hide."""
    output = torch.randn(B, 2, H, W, generator=g, dtype=dtype)
    target = torch.randn(B, M, 2, generator=g, dtype=dtype)
    if scale > 1:  # sizes: positive, in pixels
        output, target = 10 + scale * output.sigmoid(), 10 + scale * target.sigmoid()
    ind = torch.randint(0, H * W, (B, M), generator=g)
    mask = torch.zeros(B, M, dtype=torch.uint8)
    for b, k, i in objects:
        ind[b, k], mask[b, k] = i, 1
    return Case(words, (output, mask, ind, target), hint)


def _l1_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))
    empty = "with no objects mask.sum() is 0: the + 1e-4 in the denominator makes the loss 0"
    return [
        _l1_case(g, "no object in the batch (the mask is all 0)", 2, 6, 7, 4, [], hint=empty),
        _l1_case(g, "one object", 1, 6, 7, 4, [(0, 0, 17)]),
        _l1_case(g, "objects at the first and the last pixel", 1, 6, 7, 4, [(0, 0, 0), (0, 2, 41)]),
        _l1_case(
            g, "a map that is not square (5 x 9)", 2, 5, 9, 3, [(0, 0, 12), (1, 1, 40), (1, 2, 8)]
        ),
        _l1_case(g, "two objects at the same pixel", 1, 6, 7, 4, [(0, 0, 20), (0, 1, 20)]),
        _l1_case(
            g, "empty slots holding leftovers between objects", 1, 6, 7, 5, [(0, 1, 9), (0, 3, 30)]
        ),
        _l1_case(
            g, "a batch of two, the first without objects", 2, 6, 7, 3, [(1, 0, 5), (1, 1, 33)]
        ),
        _l1_case(
            g,
            "float32 sizes of 10 to 40 pixels",
            2,
            6,
            7,
            3,
            [(0, 0, 3), (1, 2, 26)],
            torch.float32,
            30.0,
        ),
        _l1_case(
            g, "float32 offsets", 1, 8, 8, 4, [(0, 0, 9), (0, 1, 54), (0, 3, 63)], torch.float32
        ),
        _l1_case(
            g,
            "random slots, a batch of three",
            3,
            6,
            7,
            5,
            [(b, k, (7 * b + 5 * k) % 42) for b in range(3) for k in range(b + 2)],
        ),
    ]


def exercise_reg_l1_loss(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_reg_l1_loss`` and its cases."""
    exercise = Exercise(
        name="reg_l1_loss",
        arg_names=("output", "mask", "ind", "target"),
        reference=reg_l1_loss,
        judge=judge_loss,
        mistakes=_L1_MISTAKES,
        nonfinite_hint="NaN or inf comes from 0 / 0: a batch without objects has mask.sum() = 0",
    )
    return exercise, _l1_cases(seed)


def check_reg_l1_loss(fn, seed: int = 0) -> Report:
    """Grade ``fn(output, mask, ind, target) -> loss`` against ``reg_l1_loss``.

    ``output (B, D, H, W)`` a head's dense map, ``mask (B, M)`` uint8, ``ind (B, M)``
    int64 flat positions ``y * W + x``, ``target (B, M, D)``; the loss is one number.
    """
    exercise, cases = exercise_reg_l1_loss(seed)
    return run(exercise, fn, cases)
