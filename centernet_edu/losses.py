"""The three CenterNet loss terms and their weighted sum.

    L_det = lambda_k L_k + lambda_size L_size + lambda_off L_off,   (1, 0.1, 1 by default)

L_k, the penalty-reduced focal loss on the heatmap, with Yhat the predicted probability
and Y the Gaussian target (alpha = 2, beta = 4, N objects):

    L_k = -1/N sum_xyc  (1 - Yhat)^alpha log(Yhat)                      if Y = 1
                        (1 - Y)^beta Yhat^alpha log(1 - Yhat)           otherwise

L_off and L_size are L1 losses on the offset and size heads, read only at the N object
centres (``reg_l1_loss``; ``reg`` is the original code's name for the offset).

``focal_loss_with_logits`` writes L_k in a few lines of tensor algebra, the way the
book derives it. ``focal_loss_with_logits_fused`` computes the same number and gradient
with the hand-derived backward pass of ``fast.focal_loss_fused``, in a fraction of the
time and memory; ``CenterNetLoss(fused=True)`` and ``ExtremeNetLoss(fused=True)`` train
with it, and pass it their own alpha and beta, so the two forms cannot disagree.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import validate
from .fast import focal_loss_fused
from .targets import EXTREME_PARTS, gather_feat

__all__ = [
    "clamped_sigmoid",
    "focal_loss",
    "focal_loss_with_logits",
    "focal_loss_with_logits_fused",
    "focal_loss_terms",
    "prior_loss",
    "prior_losses",
    "reg_l1_loss",
    "CenterNetLoss",
    "ExtremeNetLoss",
    "ALPHA",
    "BETA",
]

ALPHA = 2  # alpha: how much a confident pixel's loss is reduced ((1 - Yhat)^alpha)
BETA = 4  # beta: how much a negative near an object is forgiven ((1 - Y)^beta)


_PROBABILITIES = " (probabilities: for logits use clamped_sigmoid or focal_loss_with_logits)"


def _check_dtypes(x_name: str, x, gt) -> None:
    validate.same_shape(x_name, x, "gt", gt)
    if x.is_complex() or x.dtype == torch.bool:
        raise ValueError(f"{x_name} must be a real (floating-point) tensor, got {x.dtype}")
    if gt.is_complex() or gt.dtype == torch.bool:
        raise ValueError(f"gt must be a real (floating-point) tensor in [0, 1], got {gt.dtype}")


def _check_exponents(alpha, beta) -> None:
    validate.number("alpha", alpha, 0)
    validate.number("beta", beta, 0)


def _check_heatmaps(x_name: str, x, gt, probabilities: bool = False) -> None:
    _check_dtypes(x_name, x, gt)
    if gt.numel():
        # One host-device synchronisation for the extremes of both maps.
        maps = (gt, x) if probabilities else (gt,)
        ranges = torch.stack([v for m in maps for v in m.detach().aminmax()]).tolist()
        validate.probability_target("gt", ranges[:2])
        if probabilities:
            validate.probability_target(x_name, ranges[2:], _PROBABILITIES)


def clamped_sigmoid(x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """sigmoid(x) clamped to [eps, 1 - eps]: the reference ``_sigmoid``, never in place.

    The clamp keeps log(Yhat) and log(1 - Yhat) finite, at the price of a zero gradient
    wherever it is active (|x| > about 9.2 for eps = 1e-4). In float16 and bfloat16,
    1 - eps rounds to 1, so Yhat can reach 1 exactly, as in the reference: compute in
    float32, or use focal_loss_with_logits, which is finite in every dtype.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = x.dtype if isinstance(x, torch.Tensor) else validate.type_name(x)
        raise ValueError(f"x must be a floating-point torch.Tensor of logits, got {got}")
    try:
        eps = validate.number("eps", eps, 0, 0.5, open_high=True)
    except ValueError:
        raise ValueError(f"eps must lie in [0, 0.5), got {eps!r}") from None
    # As the reference, in x's dtype: in float16 or bfloat16, 1 - eps rounds to 1 for
    # eps = 1e-4, so the upper clamp does not keep log(1 - Yhat) finite there.
    return torch.sigmoid(x).clamp(min=eps, max=1 - eps)


def _normalise(loss_sum: torch.Tensor, num_pos: torch.Tensor) -> torch.Tensor:
    # Normalise by the number of objects N; a batch with none keeps the plain sum of the
    # negative terms, as the reference does. No host-device synchronisation.
    return loss_sum / num_pos.clamp(min=1)


def focal_loss(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Penalty-reduced focal loss L_k on probabilities (the reference ``_neg_loss``).

    Args:
        pred: Yhat, ``(B, C, H, W)`` probabilities in (0, 1). Exact 0 or 1 give
            infinities: clamp them first (``clamped_sigmoid``), or use
            ``focal_loss_with_logits``. Values outside [0, 1] (logits) or NaN are refused.
        gt: Y, ``(B, C, H, W)`` Gaussian targets in [0, 1]; pixels equal to 1 are the
            N positives.

    Returns:
        scalar: the summed loss divided by N, or the negative sum alone when N = 0.
    """
    _check_heatmaps("pred", pred, gt, probabilities=True)
    pos = gt.eq(1)
    pos_loss = torch.where(pos, torch.log(pred) * (1 - pred) ** ALPHA, 0).sum()
    neg_weight = (1 - gt) ** BETA
    neg_loss = torch.where(pos, 0, torch.log(1 - pred) * pred**ALPHA * neg_weight).sum()
    return _normalise(-(pos_loss + neg_loss), pos.sum())


def focal_loss_terms(
    logits: torch.Tensor, gt: torch.Tensor, alpha: float = ALPHA, beta: float = BETA
) -> torch.Tensor:
    """The per-pixel terms of L_k before normalisation, from logits x (same shape out).

        -(1 - Yhat)^alpha log(Yhat)                  where Y = 1
        -(1 - Y)^beta Yhat^alpha log(1 - Yhat)       elsewhere

    With Yhat = sigmoid(x), log(Yhat) = logsigmoid(x), log(1 - Yhat) = logsigmoid(-x) and
    1 - Yhat = sigmoid(-x): each is finite, with a finite gradient, for every finite x,
    so no clamp is needed. A logit of +-inf has no finite term: it gives NaN, so a
    model whose outputs overflowed cannot pass for one with a finite loss.

    Half-precision inputs (float16, bfloat16, e.g. under autocast) are computed in
    float32: the terms of confident mistakes overflow float16.
    """
    _check_heatmaps("logits", logits, gt)
    _check_exponents(alpha, beta)
    dtype = torch.promote_types(logits.dtype, torch.float32)
    with torch.autocast(device_type=logits.device.type, enabled=False):
        x, y = logits.to(dtype), gt.to(dtype)
        pos = -F.logsigmoid(x) * torch.sigmoid(-x) ** alpha
        neg = -F.logsigmoid(-x) * torch.sigmoid(x) ** alpha * (1 - y) ** beta
        terms = torch.where(y.eq(1), pos, neg)
        if x.numel() and not all(map(math.isfinite, torch.stack(x.detach().aminmax()).tolist())):
            terms = torch.where(torch.isfinite(x), terms, torch.nan)
        return terms


def focal_loss_with_logits(
    logits: torch.Tensor, gt: torch.Tensor, alpha: float = ALPHA, beta: float = BETA
) -> torch.Tensor:
    """L_k computed from logits x on log-sigmoid terms, so it needs no clamp.

    The sum of ``focal_loss_terms`` divided by the number of positives N (or by 1 when
    N = 0, which is the reference's fallback to the plain negative sum). It equals
    ``focal_loss(clamped_sigmoid(x), gt)`` wherever the clamp is inactive, and stays
    finite, with finite gradients, for every finite x: where the clamped sigmoid
    saturates (|x| > 9.2) and stops the gradient, confident mistakes still learn.

    Args:
        logits: x, ``(B, C, H, W)`` raw heatmap-head outputs, any float dtype.
        gt: Y, ``(B, C, H, W)`` Gaussian targets in [0, 1].
        alpha, beta: the focal exponents (CenterNet's 2 and 4).

    Returns:
        scalar, float32 for half-precision input, else the input's dtype.
    """
    return _normalise(focal_loss_terms(logits, gt, alpha, beta).sum(), gt.eq(1).sum())


def focal_loss_with_logits_fused(
    logits: torch.Tensor, gt: torch.Tensor, alpha: float = ALPHA, beta: float = BETA
) -> torch.Tensor:
    """``focal_loss_terms(logits, gt, alpha, beta).sum() / N`` with a hand-derived gradient.

    Same contract and same numbers (to float32 rounding) as ``focal_loss_with_logits``,
    gradients included; the kernel, its derivation and its memory savings are in
    ``fast.focal_loss_fused``. It gives no gradient to ``gt``: when ``gt`` requires one,
    this computes the plain form instead.

    Args:
        logits: x, ``(B, C, H, W)`` raw heatmap-head outputs (any shape works).
        gt: Y, same shape, Gaussian targets in [0, 1].
        alpha, beta: the focal exponents (CenterNet's 2 and 4), alpha >= 0, beta > 0.

    Returns:
        scalar L_k: float32 (float64 for float64 input).
    """
    _check_dtypes("logits", logits, gt)
    _check_exponents(alpha, beta)
    if beta == 0:
        raise ValueError(
            "beta must be a finite number > 0, got 0: the fused kernel leaves out the "
            "negative term at the positives because (1 - Y)^beta vanishes there, which "
            "needs beta > 0 (focal_loss_with_logits accepts beta = 0)"
        )
    if gt.requires_grad:
        return focal_loss_with_logits(logits, gt, alpha, beta)
    return focal_loss_fused(logits, gt, alpha, beta)


def prior_loss(gt: torch.Tensor, pi: float) -> tuple[float, float]:
    """L_k split into its positive and negative parts when every pixel predicts ``pi``.

    What the heatmap head's initial bias b = log(pi / (1 - pi)) costs at initialisation.
    Returns ``(positive, negative)``, each summed over ``gt (B, C, H, W)`` and divided by
    the number of objects N, as in L_k.
    """
    validate.tensor("gt", gt)
    pi = validate.number("pi", pi, 0, 1, open_low=True, open_high=True)
    logits = torch.full_like(gt, math.log(pi / (1 - pi)), dtype=torch.float64)
    terms = focal_loss_terms(logits, gt.double())
    pos = gt == 1
    n = max(int(pos.sum()), 1)
    return float(terms[pos].sum()) / n, float(terms[~pos].sum()) / n


def prior_losses(gt: torch.Tensor, pis) -> np.ndarray:
    """``prior_loss(gt, pi)`` at each pi of ``pis (n,)``, as an ``(n, 2)`` array: the term
    of each distinct target value computed once and counted as often as it occurs."""
    validate.tensor("gt", gt)
    p = torch.as_tensor(validate.numeric_array("pis", pis, np.float64))
    if p.ndim != 1 or not bool(((p > 0) & (p < 1)).all()):
        raise ValueError(f"pis must be a 1-D sequence of numbers in (0, 1), got {pis!r}")
    values, counts = torch.unique(gt.double(), return_counts=True)  # (U,)
    logits, targets = torch.broadcast_tensors(torch.log(p / (1 - p))[:, None], values)  # (n, U)
    terms = focal_loss_terms(logits, targets) * counts
    pos = values == 1
    n = max(int(counts[pos].sum()), 1)
    return torch.stack([terms[:, pos].sum(1), terms[:, ~pos].sum(1)], dim=1).numpy() / n


def reg_l1_loss(
    output: torch.Tensor, mask: torch.Tensor, ind: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """L1 loss of a regression head at the object centres (the reference ``RegL1Loss``).

        L = sum_k mask_k |output[ind_k] - target_k|_1 / (D * sum_k mask_k + 1e-4)

    Used for L_off (D = 2, target p/R - p~) and L_size (D = 2, target s_k). The mask
    covers all D channels of a slot, hence D in the denominator: with D = 2 this is the
    paper's 1/N sum_k |Shat - s_k| halved.

    Args:
        output: ``(B, D, H, W)`` dense head output.
        mask: ``(B, M)`` 1 where slot k holds an object.
        ind: ``(B, M)`` int flat positions ``y * W + x``.
        target: ``(B, M, D)``.

    Returns:
        scalar.
    """
    validate.tensor("output", output, 4, "(B, D, H, W)")
    if output.is_complex() or output.dtype == torch.bool:
        raise ValueError(f"output must be a real (floating-point) tensor, got {output.dtype}")
    B, D = output.shape[:2]
    for name, t, want in (("mask", mask, f"({B}, M)"), ("ind", ind, f"({B}, M)")):
        if not isinstance(t, torch.Tensor) or t.ndim != 2 or t.shape[0] != B:
            raise ValueError(f"{name} must have shape {want}, got {validate.shape_of(t)}")
        validate.not_meta(name, t)
    M = mask.shape[1]
    if ind.shape != mask.shape:
        raise ValueError(f"ind must have the shape of mask ({B}, {M}), got {tuple(ind.shape)}")
    if not isinstance(target, torch.Tensor) or target.shape != (B, M, D):
        raise ValueError(f"target must have shape ({B}, {M}, {D}), got {validate.shape_of(target)}")
    validate.not_meta("target", target)
    if target.is_complex() or target.dtype == torch.bool:
        raise ValueError(f"target must be a real (floating-point) tensor, got {target.dtype}")
    if mask.numel() and mask.dtype not in (torch.bool, torch.uint8):
        low = mask.min()
        if not bool(low >= 0):  # also catches NaN
            raise ValueError(f"mask must hold values >= 0 (1 for an object), got {float(low):g}")
    pred = gather_feat(output, ind)
    m = mask.unsqueeze(2).to(pred.dtype)
    loss = (pred * m - target * m).abs().sum()
    return loss / (m.sum() * D + 1e-4)


def _loss_weights(**weights: float) -> None:
    for name, v in weights.items():
        validate.number(name, v, 0, wanted=">= 0")


class _DetectionLoss(nn.Module):
    """What CenterNetLoss and ExtremeNetLoss share: how L_k is computed."""

    def __init__(self, fused: bool, alpha: float, beta: float):
        super().__init__()
        if not isinstance(fused, bool):
            raise ValueError(f"fused must be True or False, got {fused!r}")
        self.fused = fused
        self.alpha = validate.number("alpha", alpha, 0)
        self.beta = validate.number("beta", beta, 0, open_low=True)

    def heatmap_loss(self, logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        """L_k of one heatmap head, with this loss's alpha and beta."""
        if self.fused:  # the hand-derived kernel of fast.py: same numbers, less time and memory
            return focal_loss_with_logits_fused(logits, gt, self.alpha, self.beta)
        return focal_loss_with_logits(logits, gt, self.alpha, self.beta)  # the book's form

    def _head_loss(self, outputs: dict, batch: dict, key: str) -> torch.Tensor:
        """L_k of ``outputs[key]`` against ``batch[key]``; errors name both entries."""
        try:
            return self.heatmap_loss(outputs[key], batch[key])
        except ValueError as e:
            where = f"outputs[{key!r}] (logits) against batch[{key!r}] (gt)"
            raise ValueError(f"{where}: {e}") from None

    @staticmethod
    def _offset_loss(outputs: dict, batch: dict, key: str, ind: str, like: str) -> torch.Tensor:
        """``reg_l1_loss`` of head ``key``; errors name the entries of outputs and batch."""
        out, ref = outputs[key], outputs[like]
        if (
            isinstance(out, torch.Tensor)
            and isinstance(ref, torch.Tensor)
            and out.ndim == ref.ndim == 4
            and (out.shape[0], *out.shape[2:]) != (ref.shape[0], *ref.shape[2:])
        ):
            raise ValueError(
                f"outputs[{key!r}] must have the batch size and map size (B, ., H, W) of "
                f"outputs[{like!r}] {tuple(ref.shape)}, got {tuple(out.shape)}"
            )
        try:
            return reg_l1_loss(out, batch["reg_mask"], batch[ind], batch[key])
        except ValueError as e:
            where = (
                f"outputs[{key!r}] (output) against batch[{key!r}] (target), "
                f"batch[{ind!r}] (ind) and batch['reg_mask'] (mask)"
            )
            raise ValueError(f"{where}: {e}") from None


class CenterNetLoss(_DetectionLoss):
    """L_det = hm_weight L_k + wh_weight L_size + off_weight L_off.

    ``forward(outputs, batch)`` takes the raw head outputs ``hm (B, C, H, W)`` logits,
    ``wh (B, 2, H, W)`` sizes and ``reg (B, 2, H, W)`` offsets, and the batched targets of
    ``encode_ctdet`` (``hm, wh, reg, ind, reg_mask``). It never changes ``outputs``.

    ``fused`` chooses how L_k is computed: ``fast.focal_loss_fused`` (True, the default:
    less time and memory) or ``focal_loss_with_logits``, the plain form the book
    derives; both with this loss's ``alpha`` and ``beta``.

    Returns ``(loss, stats)`` where stats holds detached ``loss, hm_loss, wh_loss,
    off_loss``. The offset term is skipped (0) when ``off_weight`` is 0.
    """

    def __init__(
        self,
        hm_weight: float = 1.0,
        wh_weight: float = 0.1,
        off_weight: float = 1.0,
        *,
        fused: bool = True,
        alpha: float = ALPHA,
        beta: float = BETA,
    ):
        super().__init__(fused, alpha, beta)
        _loss_weights(hm_weight=hm_weight, wh_weight=wh_weight, off_weight=off_weight)
        self.hm_weight, self.wh_weight, self.off_weight = hm_weight, wh_weight, off_weight

    def forward(self, outputs: dict, batch: dict) -> tuple[torch.Tensor, dict]:
        heads = ("hm", "wh", "reg") if self.off_weight > 0 else ("hm", "wh")
        validate.has_keys("outputs", outputs, heads)
        validate.has_keys("batch", batch, heads + ("ind", "reg_mask"))
        hm_loss = self._head_loss(outputs, batch, "hm")
        wh_loss = self._offset_loss(outputs, batch, "wh", "ind", "hm")
        off_loss = hm_loss.new_zeros(())
        if self.off_weight > 0:
            off_loss = self._offset_loss(outputs, batch, "reg", "ind", "hm")
        loss = self.hm_weight * hm_loss + self.wh_weight * wh_loss + self.off_weight * off_loss
        stats = {"loss": loss, "hm_loss": hm_loss, "wh_loss": wh_loss, "off_loss": off_loss}
        return loss, {k: v.detach() for k, v in stats.items()}


class ExtremeNetLoss(_DetectionLoss):
    """The original ``ExdetLoss``: hm_weight L_k + off_weight L_off over extreme points.

    L_k sums the focal loss of the five heatmaps ``hm_t, hm_l, hm_b, hm_r, hm_c``
    (raw logits in ``outputs``); L_off sums the offset L1 of ``reg_t .. reg_r``, each
    gathered at its own ``ind_t .. ind_r``. Targets come from ``encode_exdet``.
    ``fused``, ``alpha`` and ``beta`` as in ``CenterNetLoss``.

    Returns ``(loss, stats)`` with detached ``loss, hm_loss, off_loss``.
    """

    def __init__(
        self,
        hm_weight: float = 1.0,
        off_weight: float = 1.0,
        *,
        fused: bool = True,
        alpha: float = ALPHA,
        beta: float = BETA,
    ):
        super().__init__(fused, alpha, beta)
        _loss_weights(hm_weight=hm_weight, off_weight=off_weight)
        self.hm_weight, self.off_weight = hm_weight, off_weight

    def forward(self, outputs: dict, batch: dict) -> tuple[torch.Tensor, dict]:
        hm_keys = [f"hm_{p}" for p in "tlbrc"]
        reg_parts = EXTREME_PARTS if self.off_weight > 0 else ()
        reg_keys = [f"reg_{p}" for p in reg_parts]
        ind_keys = [f"ind_{p}" for p in reg_parts] + (["reg_mask"] if reg_parts else [])
        validate.has_keys("outputs", outputs, hm_keys + reg_keys)
        validate.has_keys("batch", batch, hm_keys + reg_keys + ind_keys)
        hm_loss = sum(self._head_loss(outputs, batch, k) for k in hm_keys)
        off_loss = hm_loss.new_zeros(())
        for p in reg_parts:
            off_loss = off_loss + self._offset_loss(
                outputs, batch, f"reg_{p}", f"ind_{p}", f"hm_{p}"
            )
        loss = self.hm_weight * hm_loss + self.off_weight * off_loss
        stats = {"loss": loss, "hm_loss": hm_loss, "off_loss": off_loss}
        return loss, {k: v.detach() for k, v in stats.items()}
