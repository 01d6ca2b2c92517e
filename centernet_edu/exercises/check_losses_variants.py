"""Checkers for two variants of the loss terms that the package does not ship, so their
answers are not on any page: the focal loss L_k normalised per image (chapter 3), and the
original CenterNet code's ``NormRegL1Loss``, an L1 loss on the ratio of prediction to
target (chapter 4). The expected results come from private references written here from
the definitions the chapters give."""

from __future__ import annotations

import functools

import torch

from .check_losses import heatmap_targets, judge_loss
from .judge import Case, Exercise, run, seed_of
from .report import Report

__all__ = ["check_focal_loss_per_image", "check_norm_reg_l1_loss"]


# The focal loss normalised per image ------------------------------------------------------


def _image_sums(pred: torch.Tensor, gt: torch.Tensor, sign: int = 1):
    """Per image b: the summed terms of L_k, (B,), and N_b, its pixels where Y = 1, (B,)."""
    pos = gt.eq(1)
    terms = torch.where(
        pos,
        (1 - pred) ** 2 * torch.log(pred),
        (1 - gt) ** 4 * pred**2 * torch.log(1 - pred),
    )
    dims = tuple(range(1, gt.ndim))  # all but the batch: (C, H, W)
    return -sign * terms.sum(dims), pos.sum(dims)


def _focal_per_image(pred, gt, *, per="objects", empty="negatives", reduce="mean", sign=1):
    """L_k per image (its sum over its own max(N_b, 1)), averaged over the B images; or
    one of the classic mistakes the keywords name."""
    total, n = _image_sums(pred, gt, sign)
    if per == "batch":  # the package's focal_loss: the batch's sum over the batch's N
        return total.sum() / n.sum().clamp(min=1)
    if per == "pixels":  # a mean over the pixels, not over the objects
        return total.sum() / gt.numel()
    if empty == "divide by zero":
        per_image = total / n
    elif empty == "zero":
        per_image = torch.where(n > 0, total / n.clamp(min=1), torch.zeros_like(total))
    else:
        per_image = total / n.clamp(min=1)
    return per_image.mean() if reduce == "mean" else per_image.sum()


_PER_IMAGE_MISTAKES = (
    (
        "you divided the batch's summed terms by the batch's N, as focal_loss does: divide "
        "each image's sum by its own N_b (that image's pixels where Y = 1), then take the "
        "mean of the B per-image losses",
        functools.partial(_focal_per_image, per="batch"),
    ),
    (
        "a mean over pixels is not a mean over objects: divide each image's summed terms by "
        "its number of positives N_b, not by its number of pixels C * H * W",
        functools.partial(_focal_per_image, per="pixels"),
    ),
    (
        "an image without objects does not cost 0: its negative terms still count (divide "
        "its sum by max(N_b, 1), the fallback focal_loss uses for a batch without objects)",
        functools.partial(_focal_per_image, empty="zero"),
    ),
    (
        "the batch's loss is the mean of the per-image losses over the B images, not their sum",
        functools.partial(_focal_per_image, reduce="sum"),
    ),
    (
        "L_k is minus the sum of the terms: a log of a probability is negative, so L_k >= 0",
        functools.partial(_focal_per_image, sign=-1),
    ),
)

_DIVIDE_BY_ZERO = (
    "an image without objects has N_b = 0, and its sum / 0 is inf (or NaN): divide by "
    "max(N_b, 1), which leaves that image's negative terms, as focal_loss does for a batch "
    "without objects"
)


def _random_heatmaps(g: torch.Generator, B: int) -> torch.Tensor:
    """(B, 2, 6, 7) float64 soft targets with a random number (0 to 4) of positives each."""
    gt = torch.rand(B, 2, 6, 7, generator=g, dtype=torch.float64) ** 4
    for b in range(B):
        k = int(torch.randint(0, 5, (1,), generator=g))
        gt[b].view(-1)[torch.randperm(gt[b].numel(), generator=g)[:k]] = 1.0
    return gt


def _per_image_scenes(g: torch.Generator) -> list[tuple[str, torch.Tensor, torch.Tensor | None]]:
    """(words, gt (B, C, H, W), logits or None for random ones)."""
    pair = heatmap_targets([[(3, 2, 2, 0)], [(1, 1, 1, 0), (5, 4, 2, 1), (2, 4, 1, 1)]])
    mixed = heatmap_targets([[], [(2, 3, 1, 1)], [(0, 0, 1, 0), (6, 5, 2, 1), (3, 2, 1, 0)]])
    random_gt = _random_heatmaps(g, 3)
    return [
        (
            "one image with one object (its N_b is the batch's N)",
            heatmap_targets([[(3, 2, 2, 0)]]),
            None,
        ),
        ("an image with one object beside one with three", pair, None),
        (
            "an image without objects beside one with two",
            heatmap_targets([[], [(1, 1, 1, 0), (5, 4, 2, 1)]]),
            None,
        ),
        ("no object in the batch", heatmap_targets([[], []]), None),
        (
            "objects at the borders and corners, 1, 2 and 4 per image",
            heatmap_targets(
                [
                    [(0, 0, 2, 0)],
                    [(6, 5, 2, 1), (0, 3, 1, 0)],
                    [(6, 0, 1, 0), (0, 5, 1, 1), (3, 0, 1, 1), (6, 3, 2, 0)],
                ]
            ),
            None,
        ),
        (
            "two objects of one class at one pixel (one positive) beside an image with two",
            heatmap_targets([[(3, 2, 2, 0), (3, 2, 1, 0)], [(1, 1, 1, 0), (5, 4, 2, 1)]]),
            None,
        ),
        ("confident and wrong", pair, torch.where(pair.eq(1), -8.0, 3.0)),
        ("float32, three images with 0, 1 and 3 objects", mixed.float(), None),
        ("random targets, 0 to 4 positives per image", random_gt, None),
        ("random targets in float32", random_gt.float(), None),
    ]


def _per_image_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))
    cases = []
    for i, (words, gt, x) in enumerate(_per_image_scenes(g)):
        if x is None:  # inside |x| < 9, where sigmoid(x) stays away from 0 and 1
            x = (torch.randn(gt.shape, generator=g, dtype=torch.float64) * 3).clamp(-9, 9)
        n = gt.eq(1).flatten(1).sum(1).tolist()
        cases.append(
            Case(
                f"case {i} (positives per image {n}, shape {tuple(gt.shape)}): {words}",
                (torch.sigmoid(x.to(gt.dtype)), gt),
                _DIVIDE_BY_ZERO if 0 in n else None,
                functools.partial(_focal_per_image, empty="divide by zero") if 0 in n else None,
            )
        )
    return cases


def exercise_focal_loss_per_image(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_focal_loss_per_image`` and its cases."""
    exercise = Exercise(
        name="focal_loss_per_image",
        arg_names=("pred", "gt"),
        reference=_focal_per_image,
        judge=judge_loss,
        mistakes=_PER_IMAGE_MISTAKES,
        nonfinite_hint="NaN or inf comes from log(0) or from x / 0 (an image without objects)",
    )
    return exercise, _per_image_cases(seed)


def check_focal_loss_per_image(fn, seed: int = 0) -> Report:
    """Grade ``fn(pred, gt) -> loss``: L_k with each image normalised by its own objects.

    ``pred`` are probabilities Yhat and ``gt`` the targets Y, both ``(B, C, H, W)``; the
    loss is one number: the mean over the B images of each image's summed terms divided
    by max(N_b, 1), N_b the pixels of image b where Y = 1, in the dtype of ``pred``.
    """
    exercise, cases = exercise_focal_loss_per_image(seed)
    return run(exercise, fn, cases)


# The original code's NormRegL1Loss -------------------------------------------------------


def _norm_l1(output, mask, ind, target, *, eps=1e-4, flip=False, per="values", masked=True):
    """NormRegL1Loss: sum of m |Ohat / (O + eps) - 1| over the mask expanded to the D
    channels, divided by that mask's sum + eps; or a classic mistake the keywords name."""
    B, D, H, W = output.shape
    y, x = ind // W, ind % W
    pred = output[torch.arange(B)[:, None], :, y, x]  # (B, M, D)
    keep = mask if masked else torch.ones_like(mask)
    m = keep[:, :, None].expand_as(pred).to(pred.dtype)  # (B, M, D): one per value
    ratio = target / (pred + eps) if flip else pred / (target + eps)
    err = (ratio * m - m).abs().sum()
    return err / ((m.sum() if per == "values" else m.sum() / D) + eps)


def _transposed(output, mask, ind, target):
    """The right loss read at x * H + y, as if ``ind`` were column-major."""
    H, W = output.shape[2:]
    return _norm_l1(output, mask, (ind % W) * H + ind // W, target)


_NO_EPS = (
    "an empty slot's target is 0, so Ohat / O is x / 0 = inf there, and inf * 0 = NaN "
    "under the mask: divide by (O + 1e-4), and the summed error by (mask sum + 1e-4)"
)
_NORM_MISTAKES = (
    (
        "the ratio is the prediction over the target, Ohat / (O + 1e-4): you divided the "
        "target by the prediction",
        functools.partial(_norm_l1, flip=True),
    ),
    (
        "divide by the sum of the mask expanded to both channels, D * N + 1e-4: your loss is "
        "divided by N + 1e-4, the number of objects, twice too large",
        functools.partial(_norm_l1, per="objects"),
    ),
    (
        "multiply by the mask: an empty slot (mask 0) has target 0, and Ohat / 1e-4 there is "
        "huge; only the slots that hold an object count",
        functools.partial(_norm_l1, masked=False),
    ),
    (
        "ind is y * W + x for a (H, W) map: the row is ind // W and the column ind % W",
        _transposed,
    ),
)


def _norm_case(g, words, B, H, W, M, objects, dtype=torch.float64, lo=2.0, span=30.0, exact=()):
    """Sizes (positive, in pixels) at the slots ``objects`` lists as (image, slot, flat
    index); empty slots hold ind 0 and target 0, as ``encode_ctdet`` leaves them. The
    prediction equals the target at the objects ``exact`` lists by index."""
    output = lo + span * torch.rand(B, 2, H, W, generator=g, dtype=torch.float64)
    target = torch.zeros(B, M, 2, dtype=torch.float64)
    ind = torch.zeros(B, M, dtype=torch.int64)
    mask = torch.zeros(B, M, dtype=torch.uint8)
    for j, (b, k, i) in enumerate(objects):
        ind[b, k], mask[b, k] = i, 1
        target[b, k] = lo + span * torch.rand(2, generator=g, dtype=torch.float64)
        if j in exact:
            output[b, :, i // W, i % W] = target[b, k]
    args = (output.to(dtype), mask, ind, target.to(dtype))
    return Case(words, args, _NO_EPS, functools.partial(_norm_l1, eps=0.0))


def _norm_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))
    n = [int(v) for v in torch.randint(0, 5, (3,), generator=g)]  # objects per image
    spread = [
        (b, k, int(torch.randint(0, 42, (1,), generator=g))) for b in range(3) for k in range(n[b])
    ]
    f32 = torch.float32
    return [
        _norm_case(g, "no object in the batch (mask all 0, targets 0)", 2, 6, 7, 4, []),
        _norm_case(g, "one object", 1, 6, 7, 4, [(0, 0, 17)]),
        _norm_case(
            g, "objects at the first and the last pixel", 1, 6, 7, 4, [(0, 0, 0), (0, 2, 41)]
        ),
        _norm_case(
            g, "a map that is not square (5 x 9)", 2, 5, 9, 3, [(0, 0, 12), (1, 1, 40), (1, 2, 8)]
        ),
        _norm_case(g, "two objects at the same pixel", 1, 6, 7, 4, [(0, 0, 20), (0, 1, 20)]),
        _norm_case(
            g, "a batch of two, the first without objects", 2, 6, 7, 3, [(1, 0, 5), (1, 1, 33)]
        ),
        _norm_case(
            g,
            "a perfect prediction (the loss is not exactly 0)",
            1,
            6,
            7,
            3,
            [(0, 0, 9), (0, 1, 30)],
            exact=(0, 1),
        ),
        _norm_case(g, "float32 sizes of 2 to 32 pixels", 2, 6, 7, 3, [(0, 0, 3), (1, 2, 26)], f32),
        _norm_case(
            g,
            "float32 tiny boxes, 0.5 to 1.5 pixels",
            1,
            8,
            8,
            4,
            [(0, 0, 9), (0, 1, 54), (0, 3, 63)],
            f32,
            0.5,
            1.0,
        ),
        _norm_case(g, f"random slots, a batch of three with {n} objects", 3, 6, 7, 5, spread),
    ]


def exercise_norm_reg_l1_loss(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_norm_reg_l1_loss`` and its cases."""
    exercise = Exercise(
        name="norm_reg_l1_loss",
        arg_names=("output", "mask", "ind", "target"),
        reference=_norm_l1,
        judge=judge_loss,
        mistakes=_NORM_MISTAKES,
        nonfinite_hint=_NO_EPS,
    )
    return exercise, _norm_cases(seed)


def check_norm_reg_l1_loss(fn, seed: int = 0) -> Report:
    """Grade ``fn(output, mask, ind, target) -> loss``: the original code's NormRegL1Loss.

    ``output (B, D, H, W)`` a head's dense map Ohat, ``mask (B, M)`` uint8, ``ind (B, M)``
    int64 flat positions ``y * W + x``, ``target (B, M, D)`` positive sizes O (0 in empty
    slots). The loss is sum m |Ohat / (O + 1e-4) - 1| / (sum m + 1e-4), with m the mask
    expanded to the D channels: one number.
    """
    exercise, cases = exercise_norm_reg_l1_loss(seed)
    return run(exercise, fn, cases)
