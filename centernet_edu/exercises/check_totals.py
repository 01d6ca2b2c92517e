"""Checkers for the weighted totals: CenterNet's L_det and the extreme-point loss.

The student's function takes the raw head outputs and the batched targets,
``fn(outputs, batch)``, and returns the loss, or ``(loss, stats)`` as ``CenterNetLoss``
and ``ExtremeNetLoss`` do (only the loss is graded). A class is built with its defaults
first, so ``check_centernet_loss(MyCenterNetLoss)`` grades ``MyCenterNetLoss()``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ..losses import CenterNetLoss, ExtremeNetLoss, focal_loss_with_logits, reg_l1_loss
from ..targets import EXTREME_PARTS, encode_ctdet, encode_exdet, scatter_targets
from .judge import Case, Exercise, Outcome, Verdict, judge_tensor, run, seed_of
from .report import Report

__all__ = ["check_centernet_loss", "check_extreme_net_loss"]


def build_and_call(fn, args):
    loss = fn() if isinstance(fn, type) else fn
    return loss(*args)


def judge_total(outcome: Outcome, want: torch.Tensor) -> Verdict:
    """Judge the total loss of ``fn``'s result, a tensor or ``(loss, stats)``."""
    got = outcome.result
    if isinstance(got, (tuple, list)) and len(got) == 2 and isinstance(got[1], Mapping):
        got = got[0]  # (loss, stats)
    return judge_tensor(got, want, "loss")


def cast_floats(dtype: torch.dtype, *dicts: dict) -> tuple[dict, ...]:
    """Copies of ``dicts`` with their floating-point tensors cast to ``dtype``."""
    return tuple(
        {k: v.to(dtype) if v.is_floating_point() else v for k, v in d.items()} for d in dicts
    )


def random_heads(batch: dict, g: torch.Generator, hm_keys, reg_keys, sizes: bool) -> dict:
    """Raw head outputs for ``batch``: logits inside the original code's clamp (|x| < 9.2,
    where the clamped and the log-sigmoid forms agree), sizes or offsets elsewhere."""
    out = {}
    for k in hm_keys:
        out[k] = (torch.randn(batch[k].shape, generator=g) * 3).clamp(-9, 9)
    B, _, H, W = batch[hm_keys[0]].shape
    for k in reg_keys:
        r = torch.rand(B, 2, H, W, generator=g)
        out[k] = 2 + 10 * r if sizes and k == "wh" else r
    return out


_NONFINITE = (
    "the heatmap heads hold logits: turn them into probabilities with a sigmoid (clamped, "
    "as the original code does) or use log-sigmoid terms; NaN also comes from 0 / 0 when "
    "a batch has no objects"
)
_IN_PLACE = (
    "the original CenterNet code applies sigmoid_ to the heatmap in place; use "
    "torch.sigmoid (or log-sigmoid terms), which leaves outputs as they were"
)


# CenterNet's total ----------------------------------------------------------------------


def ctdet_batch(images, num_classes=2, size=(8, 10), max_objs=5) -> dict:
    """Batched ``encode_ctdet`` targets, one list of (x1, y1, x2, y2, label) an image."""
    items = []
    for objects in images:
        boxes = np.array([o[:4] for o in objects], np.float32).reshape(-1, 4)
        labels = np.array([o[4] for o in objects], np.int64)
        items.append(encode_ctdet(boxes, labels, num_classes, size, max_objs))
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def _ctdet_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))
    one = [(2, 1, 7.5, 6, 0)]
    two = [(0, 0, 3, 4, 1), (5.5, 2, 10, 8, 0)]
    scenes = [
        ("one image, one object", [one], torch.float64),
        ("a batch of two, the first image without objects", [[], two], torch.float64),
        ("a batch without objects (N = 0)", [[], []], torch.float64),
        ("objects at the borders", [[(0, 0, 2, 3, 0), (8, 5, 10, 8, 1)]], torch.float64),
        (
            "two overlapping objects of one class",
            [[(1, 1, 6, 6, 0), (2, 2, 7, 6, 0)]],
            torch.float64,
        ),
        ("float32, a batch of two", [one, two], torch.float32),
        ("random heads, a batch of three", [one, two, one + two], torch.float64),
    ]
    empty = "with no objects L_k is the sum of the negative terms, and both L1 terms are 0"
    cases = []
    for words, images, dtype in scenes:
        batch = ctdet_batch(images)
        outputs = random_heads(batch, g, ("hm",), ("wh", "reg"), sizes=True)
        hint = empty if not any(images) else None
        cases.append(Case(words, cast_floats(dtype, outputs, batch), hint))
    batch = ctdet_batch([one, two])
    near = scatter_targets(batch)  # a model that predicts its targets
    near["hm"] = torch.logit(batch["hm"].clamp(1e-3, 1 - 1e-3))
    cases.append(
        Case(
            "a model that predicts its targets (a small loss)",
            cast_floats(torch.float64, near, batch),
        )
    )
    return cases


def _total(outputs, batch, hm_w=1.0, wh_w=0.1, off_w=1.0, wh_key="wh", reg_key="reg"):
    """L_det with other weights, or with the size and offset targets swapped."""
    at = (batch["reg_mask"], batch["ind"])
    hm = focal_loss_with_logits(outputs["hm"], batch["hm"])
    wh = reg_l1_loss(outputs["wh"], *at, batch[wh_key])
    off = reg_l1_loss(outputs["reg"], *at, batch[reg_key])
    return hm_w * hm + wh_w * wh + off_w * off


_CTDET_MISTAKES = (
    (
        "L_det = L_k + 0.1 L_size + L_off: the size term is weighted by 0.1",
        lambda o, b: _total(o, b, wh_w=1.0),
    ),
    ("include the offset term L_off (weight 1)", lambda o, b: _total(o, b, off_w=0.0)),
    ("include the size term 0.1 L_size", lambda o, b: _total(o, b, wh_w=0.0)),
    (
        "the weights are 0.1 for L_size and 1 for L_off, not the other way round",
        lambda o, b: _total(o, b, wh_w=1.0, off_w=0.1),
    ),
    (
        "compare outputs['wh'] with batch['wh'] and outputs['reg'] with batch['reg']",
        lambda o, b: _total(o, b, wh_key="reg", reg_key="wh"),
    ),
)


def exercise_centernet_loss(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_centernet_loss`` and its cases."""
    exercise = Exercise(
        name="CenterNetLoss",
        arg_names=("outputs", "batch"),
        reference=lambda outputs, batch: CenterNetLoss()(outputs, batch)[0],
        judge=judge_total,
        mistakes=_CTDET_MISTAKES,
        invoke=build_and_call,
        mutation_hint=_IN_PLACE,
        nonfinite_hint=_NONFINITE,
    )
    return exercise, _ctdet_cases(seed)


def check_centernet_loss(fn, seed: int = 0) -> Report:
    """Grade ``fn(outputs, batch) -> loss`` (or ``(loss, stats)``) against ``CenterNetLoss()``.

    ``outputs`` holds the raw heads ``hm (B, C, H, W)`` logits, ``wh`` and ``reg``
    ``(B, 2, H, W)``; ``batch`` the batched ``encode_ctdet`` targets ``hm, wh, reg, ind,
    reg_mask``. The loss is L_det = L_k + 0.1 L_size + L_off, one number; ``outputs``
    must come back unchanged. A class is built with its defaults first.
    """
    exercise, cases = exercise_centernet_loss(seed)
    return run(exercise, fn, cases)


# The extreme-point total -----------------------------------------------------------------


def _points(x1, y1, x2, y2, label) -> list[float]:
    """Extreme points t, l, b, r of a box, as a shape would touch its edges."""
    return [(x1 + x2) / 2, y1, x1, (y1 + y2) / 2 + 0.5, x2 - 1, y2, x2, y1 + 1, label]


def _exdet_batch(images, num_classes=2, size=(8, 10), max_objs=4) -> dict:
    items = []
    for objects in images:
        rows = np.array([_points(*o) for o in objects], np.float32).reshape(-1, 9)
        items.append(
            encode_exdet(rows[:, :8], rows[:, 8].astype(np.int64), num_classes, size, max_objs)
        )
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def _exdet_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed_of(seed))
    one = [(2, 1, 7.5, 6, 0)]
    two = [(0, 0, 4, 4, 1), (5.5, 2, 10, 8, 0)]
    scenes = [
        ("one object", [one], torch.float64),
        ("a batch of two, the first image without objects", [[], two], torch.float64),
        ("a batch without objects", [[], []], torch.float64),
        ("an object touching the borders", [[(0, 0, 10, 8, 1)]], torch.float64),
        (
            "two overlapping objects of one class",
            [[(1, 1, 6, 6, 0), (2, 2, 8, 7, 0)]],
            torch.float64,
        ),
        ("float32, a batch of two", [one, two], torch.float32),
        ("random heads, a batch of three", [one, two, one + two], torch.float64),
    ]
    hm_keys = tuple(f"hm_{p}" for p in "tlbrc")
    reg_keys = tuple(f"reg_{p}" for p in EXTREME_PARTS)
    cases = []
    for words, images, dtype in scenes:
        batch = _exdet_batch(images)
        outputs = random_heads(batch, g, hm_keys, reg_keys, sizes=False)
        cases.append(Case(words, cast_floats(dtype, outputs, batch)))
    return cases


def _exdet(outputs, batch, parts="tlbrc", shared_ind=False, mean=False, off_w=1.0):
    """The extreme-point loss, or one of its classic mistakes."""
    hm = sum(focal_loss_with_logits(outputs[f"hm_{p}"], batch[f"hm_{p}"]) for p in parts)
    off = sum(
        reg_l1_loss(
            outputs[f"reg_{p}"],
            batch["reg_mask"],
            batch["ind_t" if shared_ind else f"ind_{p}"],
            batch[f"reg_{p}"],
        )
        for p in EXTREME_PARTS
    )
    if mean:
        hm, off = hm / len(parts), off / len(EXTREME_PARTS)
    return hm + off_w * off


_EXDET_MISTAKES = (
    (
        "L_k sums five heatmaps: the four extreme points and the centre, hm_c",
        lambda o, b: _exdet(o, b, parts="tlbr"),
    ),
    (
        "each extreme point's offset is read at its own index: ind_t, ind_l, ind_b, ind_r",
        lambda o, b: _exdet(o, b, shared_ind=True),
    ),
    (
        "sum the heatmap losses and the offset losses of the parts, do not average them",
        lambda o, b: _exdet(o, b, mean=True),
    ),
    ("include the offset term (weight 1)", lambda o, b: _exdet(o, b, off_w=0.0)),
)


def exercise_extreme_net_loss(seed: int = 0) -> tuple[Exercise, list[Case]]:
    """The exercise of ``check_extreme_net_loss`` and its cases."""
    exercise = Exercise(
        name="ExtremeNetLoss",
        arg_names=("outputs", "batch"),
        reference=lambda outputs, batch: ExtremeNetLoss()(outputs, batch)[0],
        judge=judge_total,
        mistakes=_EXDET_MISTAKES,
        invoke=build_and_call,
        mutation_hint=_IN_PLACE,
        nonfinite_hint=_NONFINITE,
    )
    return exercise, _exdet_cases(seed)


def check_extreme_net_loss(fn, seed: int = 0) -> Report:
    """Grade ``fn(outputs, batch) -> loss`` (or ``(loss, stats)``) against ``ExtremeNetLoss()``.

    ``outputs`` holds ``hm_t, hm_l, hm_b, hm_r, hm_c (B, C, H, W)`` logits and ``reg_t ..
    reg_r (B, 2, H, W)``; ``batch`` the batched ``encode_exdet`` targets. The loss is the
    sum of the five focal losses plus the sum of the four offset L1 losses, one number.
    """
    exercise, cases = exercise_extreme_net_loss(seed)
    return run(exercise, fn, cases)
