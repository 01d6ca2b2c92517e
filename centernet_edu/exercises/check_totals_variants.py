"""Checkers for two variants of the losses that the original CenterNet code offers.

``check_dense_size_loss``: the size loss of its ``--dense_wh`` option, an L1 loss over
the whole Gaussian of each object instead of at the centre alone (chapter 5).
``check_stacked_centernet_loss``: ``CtdetLoss`` (``src/lib/trains/ctdet.py``) for a
model of several stacks, such as the two of the hourglass network (chapter 6).

Neither is a package function: the answers are the private ``_dense_size_loss`` and
``_stacked_loss`` below.
"""

from __future__ import annotations

import numpy as np
import torch

from ..heatmap import draw_gaussian
from ..losses import focal_loss_with_logits, reg_l1_loss
from .check_totals import build_and_call, cast_floats, ctdet_batch, judge_total, random_heads
from .judge import Case, Exercise, Outcome, Verdict, judge_tensor, run, seed_of
from .report import Report

__all__ = ["check_dense_size_loss", "check_stacked_centernet_loss"]


# The dense size loss --------------------------------------------------------------------


def _dense_size_loss(wh, dense_wh, mask, *, masked="both", per="weights", square=False):
    """L_size^dense = sum |M * S_hat - M * S| / (sum M + 1e-4), all maps (B, 2, H, W);
    or, with other ``masked``, ``per`` or ``square``, one of its classic mistakes."""
    pred = wh * mask if masked == "both" else wh
    target = dense_wh * mask if masked in ("both", "target") else dense_wh
    diff = pred - target
    err = (diff.square() if square else diff.abs()).sum()
    if per == "weights":
        return err / (mask.sum() + 1e-4)
    if per == "pixels":
        return err / wh.numel()
    if per == "objects":  # the centres are the pixels where the Gaussian weight is 1
        return err / (mask[:, 0].eq(1).sum().to(err.dtype) + 1e-4)
    if per == "one channel":
        return err / (mask[:, 0].sum() + 1e-4)
    raise ValueError(f"per must be weights, pixels, objects or one channel, got {per!r}")


def _dense_targets(images, size, radius_of=lambda w, h: max(1, int(min(w, h) / 3))) -> tuple:
    """``dense_wh`` and ``dense_wh_mask`` (B, 2, H, W) float64 for lists of boxes
    (cx, cy, w, h) in heatmap pixels: the mask is the largest Gaussian over the objects
    (both channels alike), and each pixel under it holds the size of the object whose
    Gaussian is largest there."""
    H, W = size
    dense = np.zeros((len(images), 2, H, W))
    mask = np.zeros((len(images), 2, H, W))
    for b, objects in enumerate(images):
        best = np.zeros((H, W))
        for cx, cy, w, h in objects:
            own = draw_gaussian(np.zeros((H, W)), (int(cx), int(cy)), radius_of(w, h))
            wins = own > best
            dense[b, 0][wins], dense[b, 1][wins] = w, h
            best = np.maximum(best, own)
        mask[b] = best
    return torch.from_numpy(dense), torch.from_numpy(mask)


def _dense_case(g, words, images, size=(8, 10), dtype=torch.float64, hint=None) -> Case:
    dense, mask = _dense_targets(images, size)
    wh = 2 + 10 * torch.rand(len(images), 2, *size, generator=g, dtype=torch.float64)
    return Case(words, tuple(t.to(dtype) for t in (wh, dense, mask)), hint)


def _dense_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))
    rng = np.random.default_rng(seed_of(seed))
    one = [(4, 3, 6.0, 5.0)]
    two = [(2, 2, 4.0, 3.5), (7, 5, 9.0, 6.0)]
    empty = "with no objects the mask is all 0: the + 1e-4 in the denominator makes the loss 0"
    hard = torch.zeros(1, 2, 6, 6, dtype=torch.float64)
    hard[..., 1:3, 2:5] = 1  # a 0/1 mask: the loss is the mean L1 over its pixels
    hard_case = (
        4 * torch.rand(1, 2, 6, 6, generator=g, dtype=torch.float64),
        4 * torch.rand(1, 2, 6, 6, generator=g, dtype=torch.float64) * hard,
        hard,
    )
    centres = rng.integers((0, 0), (12, 9), (4, 2))
    sizes = rng.uniform(3, 30, (4, 2))
    scattered = [(x, y, w, h) for (x, y), (w, h) in zip(centres, sizes, strict=True)]
    return [
        _dense_case(g, "no object in the batch (the mask is all 0)", [[], []], hint=empty),
        _dense_case(g, "one object", [one]),
        _dense_case(
            g, "an object at the corner (its Gaussian cut by the border)", [[(0, 0, 5, 7)]]
        ),
        _dense_case(g, "two overlapping objects", [[(3, 3, 6, 6), (5, 4, 8, 5)]]),
        _dense_case(g, "a batch of two, the first without objects", [[], two]),
        _dense_case(
            g, "a map that is not square (5 x 12)", [[(1, 4, 3.0, 2.5), (10, 2, 7.0, 5.0)]], (5, 12)
        ),
        _dense_case(
            g, "float32 sizes of 3 to 30 pixels", [scattered[:2], one], (9, 12), torch.float32
        ),
        _dense_case(g, "random objects, a batch of three", [scattered, one, two], size=(9, 12)),
        Case("a hard mask of 0 and 1", hard_case),
    ]


_DENSE_MISTAKES = (
    (
        "divide by the sum of the weights, dense_wh_mask.sum() + 1e-4, not by the number of "
        "pixels: most pixels have weight 0 and must not dilute the loss",
        lambda wh, t, m: _dense_size_loss(wh, t, m, per="pixels"),
    ),
    (
        "multiply the prediction by the mask too: |wh * mask - dense_wh * mask|; a pixel "
        "with weight 0 must cost nothing, whatever the head predicts there",
        lambda wh, t, m: _dense_size_loss(wh, t, m, masked="target"),
    ),
    (
        "divide by dense_wh_mask.sum() + 1e-4, the sum of the Gaussian weights over both "
        "channels, not by the number of objects: every pixel near a centre counts a little",
        lambda wh, t, m: _dense_size_loss(wh, t, m, per="objects"),
    ),
    (
        "dense_wh_mask.sum() sums both channels (the mask is repeated for w and h): your "
        "loss is twice the right one",
        lambda wh, t, m: _dense_size_loss(wh, t, m, per="one channel"),
    ),
    (
        "the mask weights each pixel by its Gaussian: use it as it is, not its nonzero pixels",
        lambda wh, t, m: _dense_size_loss(wh, t, (m > 0).to(wh.dtype)),
    ),
    (
        "an L1 loss sums absolute differences, not squares",
        lambda wh, t, m: _dense_size_loss(wh, t, m, square=True),
    ),
)


def _judge_loss(outcome: Outcome, want: torch.Tensor) -> Verdict:
    return judge_tensor(outcome.result, want, "loss")


def exercise_dense_size_loss(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_dense_size_loss`` and its cases."""
    exercise = Exercise(
        name="dense_size_loss",
        arg_names=("wh", "dense_wh", "dense_wh_mask"),
        reference=_dense_size_loss,
        judge=_judge_loss,
        mistakes=_DENSE_MISTAKES,
        mutation_hint="multiply into new tensors (wh * mask), not in place (wh.mul_(mask))",
        nonfinite_hint="NaN or inf comes from 0 / 0: with no objects dense_wh_mask.sum() is 0",
    )
    return exercise, _dense_cases(seed)


def check_dense_size_loss(fn, seed: int = 0) -> Report:
    """Grade ``fn(wh, dense_wh, dense_wh_mask) -> loss``, the original code's ``--dense_wh``
    size loss.

    All three are ``(B, 2, H, W)``: the size head S_hat, the dense size targets and their
    Gaussian weights (the heatmap's maximum over classes, repeated for w and h). The loss
    is one number, sum |mask * wh - mask * dense_wh| / (mask.sum() + 1e-4).
    """
    exercise, cases = exercise_dense_size_loss(seed)
    return run(exercise, fn, cases)


# The loss of a stacked model ------------------------------------------------------------


def _stacked_loss(outputs_list, batch, *, wh_w=0.1, off_w=1.0, stacks=None, per=None):
    """L_det of a model with S stacks: each term averaged over the stacks, then weighted,
    L_det = mean_s L_k^s + 0.1 mean_s L_size^s + mean_s L_off^s; or, with ``stacks`` (the
    stacks used), ``per`` (the divisor) or other weights, one of its classic mistakes."""
    used = outputs_list if stacks is None else [outputs_list[s] for s in stacks]
    per = len(used) if per is None else per
    at = (batch["reg_mask"], batch["ind"])
    hm = sum(focal_loss_with_logits(o["hm"], batch["hm"]) for o in used) / per
    wh = sum(reg_l1_loss(o["wh"], *at, batch["wh"]) for o in used) / per
    off = sum(reg_l1_loss(o["reg"], *at, batch["reg"]) for o in used) / per
    return hm + wh_w * wh + off_w * off


def _stacked_case(g, words, images, stacks, dtype=torch.float64, drift=1.0) -> Case:
    """``stacks`` head outputs for one batch; ``drift`` scales how far the earlier stacks
    are from the last one (an earlier stack predicts worse)."""
    batch = ctdet_batch(images)
    last = random_heads(batch, g, ("hm",), ("wh", "reg"), sizes=True)
    outputs = []
    for s in range(stacks - 1):
        noisy = random_heads(batch, g, ("hm",), ("wh", "reg"), sizes=True)
        far = drift * (stacks - 1 - s)
        outputs.append({k: last[k] + far * (noisy[k] - last[k]) for k in last})
    outputs.append(last)
    outputs = [o | {"hm": o["hm"].clamp(-9, 9)} for o in outputs]
    cast = [cast_floats(dtype, o)[0] for o in outputs]
    return Case(words, (cast, cast_floats(dtype, batch)[0]))


def _stacked_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))
    one = [(2, 1, 7.5, 6, 0)]
    two = [(0, 0, 3, 4, 1), (5.5, 2, 10, 8, 0)]
    return [
        _stacked_case(g, "one stack (the plain L_det)", [one, two], 1),
        _stacked_case(g, "two stacks (the hourglass network), one object", [one], 2),
        _stacked_case(g, "two stacks, a batch without objects (N = 0)", [[], []], 2),
        _stacked_case(g, "two stacks, the first image without objects", [[], two], 2),
        _stacked_case(
            g, "two stacks, objects at the borders", [[(0, 0, 2, 3, 0), (8, 5, 10, 8, 1)]], 2
        ),
        _stacked_case(g, "two stacks that predict the same maps", [two], 2, drift=0.0),
        _stacked_case(g, "three stacks, a batch of three", [one, two, one + two], 3),
        _stacked_case(g, "float32, two stacks", [one, two], 2, dtype=torch.float32),
    ]


_STACKED_MISTAKES = (
    (
        "average each term over the stacks (divide the sums by len(outputs_list)), as "
        "CtdetLoss divides by num_stacks: your loss grows with the number of stacks",
        lambda outs, b: _stacked_loss(outs, b, per=1),
    ),
    (
        "every stack is supervised (intermediate supervision): average over all of them, "
        "not only the last, which is the one decoded at test time",
        lambda outs, b: _stacked_loss(outs, b, stacks=[-1]),
    ),
    (
        "every stack is supervised: average over all of them, not only the first",
        lambda outs, b: _stacked_loss(outs, b, stacks=[0]),
    ),
    (
        "L_det = L_k + 0.1 L_size + L_off: the size term is weighted by 0.1",
        lambda outs, b: _stacked_loss(outs, b, wh_w=1.0),
    ),
    (
        "the weights are 0.1 for L_size and 1 for L_off, not the other way round",
        lambda outs, b: _stacked_loss(outs, b, wh_w=1.0, off_w=0.1),
    ),
)


def exercise_stacked_centernet_loss(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_stacked_centernet_loss`` and its cases."""
    exercise = Exercise(
        name="stacked_centernet_loss",
        arg_names=("outputs_list", "batch"),
        reference=_stacked_loss,
        judge=judge_total,
        mistakes=_STACKED_MISTAKES,
        invoke=build_and_call,
        mutation_hint="the original CenterNet code applies sigmoid_ to each stack's heatmap in "
        "place; use focal_loss_with_logits (or torch.sigmoid), which leaves outputs as they were",
        nonfinite_hint="the heatmap heads hold logits: use focal_loss_with_logits, or a clamped "
        "sigmoid; NaN also comes from 0 / 0 when a batch has no objects",
    )
    return exercise, _stacked_cases(seed)


def check_stacked_centernet_loss(fn, seed: int = 0) -> Report:
    """Grade ``fn(outputs_list, batch) -> loss`` (or ``(loss, stats)``), the loss of a model
    of S stacks as the original code's ``CtdetLoss`` computes it.

    ``outputs_list`` holds one dict per stack, each the raw heads ``hm (B, C, H, W)``
    logits, ``wh`` and ``reg (B, 2, H, W)``, the last stack last; ``batch`` the batched
    ``encode_ctdet`` targets. Each term is averaged over the stacks, then weighted:
    L_det = mean_s L_k + 0.1 mean_s L_size + mean_s L_off. A class is built with its
    defaults first.
    """
    exercise, cases = exercise_stacked_centernet_loss(seed)
    return run(exercise, fn, cases)
