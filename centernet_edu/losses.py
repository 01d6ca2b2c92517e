"""The three CenterNet loss terms and their weighted sum.

    L_det = lambda_k L_k + lambda_size L_size + lambda_off L_off,   (1, 0.1, 1 by default)

L_k, the penalty-reduced focal loss on the heatmap, with Yhat the predicted probability
and Y the Gaussian target (alpha = 2, beta = 4, N objects):

    L_k = -1/N sum_xyc  (1 - Yhat)^alpha log(Yhat)                      if Y = 1
                        (1 - Y)^beta Yhat^alpha log(1 - Yhat)           otherwise

L_off and L_size are L1 losses on the offset and size heads, read only at the N object
centres (``reg_l1_loss``; ``reg`` is the original code's name for the offset).

Each public function checks its arguments once and calls a private form that trusts
them; ``CenterNetLoss`` and ``ExtremeNetLoss`` check shapes on every step and call the
private forms, so a training step never waits for the device to check a value.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import validate
from .targets import EXTREME_PARTS, gather_feat

__all__ = [
    "clamped_sigmoid",
    "focal_loss",
    "focal_loss_with_logits",
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


def clamped_sigmoid(x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """sigmoid(x) clamped to [eps, 1 - eps]: the reference ``_sigmoid``, never in place.

    The clamp keeps log(Yhat) and log(1 - Yhat) finite, at the price of a zero gradient
    wherever it is active (|x| > about 9.2 for eps = 1e-4). In float16 and bfloat16,
    1 - eps rounds to 1, so Yhat can reach 1 exactly, as in the reference: compute in
    float32, or use focal_loss_with_logits, which is finite in every dtype.
    """
    eps = validate.sigmoid_args(x, eps)
    return torch.sigmoid(x).clamp(min=eps, max=1 - eps)


def _normalise(loss_sum: torch.Tensor, num_pos: torch.Tensor) -> torch.Tensor:
    # Divide by the number of objects N; with none, keep the plain sum of the negative
    # terms, as the reference does. A tensor operation: no wait for the device.
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
    validate.heatmap_pair("pred", pred, gt, probabilities=True)
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
    so no clamp is needed. A logit of +-inf or NaN gives NaN, so a model whose outputs
    overflowed cannot pass for one with a finite loss. Half-precision inputs are computed
    in float32, where the terms of confident mistakes do not overflow.
    """
    validate.focal_args(logits, gt, alpha, beta)
    return _focal_terms(logits, gt, alpha, beta)


def _focal_terms(logits, gt, alpha: float = ALPHA, beta: float = BETA) -> torch.Tensor:
    """``focal_loss_terms`` on checked arguments."""
    dtype = torch.promote_types(logits.dtype, torch.float32)
    with torch.autocast(device_type=logits.device.type, enabled=False):
        x, y = logits.to(dtype), gt.to(dtype)
        pos = -F.logsigmoid(x) * torch.sigmoid(-x) ** alpha
        neg = -F.logsigmoid(-x) * torch.sigmoid(x) ** alpha * (1 - y) ** beta
        terms = torch.where(y.eq(1), pos, neg)
        return torch.where(torch.isfinite(x), terms, torch.nan)


def focal_loss_with_logits(
    logits: torch.Tensor, gt: torch.Tensor, alpha: float = ALPHA, beta: float = BETA
) -> torch.Tensor:
    """L_k computed from logits x on log-sigmoid terms, so it needs no clamp.

    The sum of ``focal_loss_terms`` divided by the number of positives N (or by 1 when
    N = 0, the reference's fallback to the plain negative sum). It equals
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
    validate.focal_args(logits, gt, alpha, beta)
    return _focal_loss(logits, gt, alpha, beta)


def _focal_loss(logits, gt, alpha: float, beta: float) -> torch.Tensor:
    """``focal_loss_with_logits`` on checked arguments."""
    return _normalise(_focal_terms(logits, gt, alpha, beta).sum(), gt.eq(1).sum())


def prior_loss(gt: torch.Tensor, pi: float) -> tuple[float, float]:
    """L_k split into its positive and negative parts when every pixel predicts ``pi``.

    What the heatmap head's initial bias b = log(pi / (1 - pi)) costs at initialisation.
    Returns ``(positive, negative)``, each summed over ``gt (B, C, H, W)`` and divided by
    the number of objects N, as in L_k.
    """
    pi = validate.prior_args(gt, pi)
    logits = torch.full_like(gt, math.log(pi / (1 - pi)), dtype=torch.float64)
    terms = _focal_terms(logits, gt.double())
    pos = gt == 1
    n = max(int(pos.sum()), 1)
    return float(terms[pos].sum()) / n, float(terms[~pos].sum()) / n


def prior_losses(gt: torch.Tensor, pis) -> np.ndarray:
    """``prior_loss(gt, pi)`` at each pi of ``pis (n,)``, as an ``(n, 2)`` array: the term
    of each distinct target value computed once and counted as often as it occurs."""
    p = validate.prior_losses_args(gt, pis)
    values, counts = torch.unique(gt.double(), return_counts=True)  # (U,)
    logits, targets = torch.broadcast_tensors(torch.log(p / (1 - p))[:, None], values)  # (n, U)
    terms = _focal_terms(logits, targets) * counts
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
    validate.reg_l1_args(output, mask, ind, target)
    return _reg_l1_loss(output, mask, ind, target)


def _reg_l1_loss(output, mask, ind, target) -> torch.Tensor:
    """``reg_l1_loss`` on checked arguments."""
    pred = gather_feat(output, ind)
    m = mask.unsqueeze(2).to(pred.dtype)
    loss = (pred * m - target * m).abs().sum()
    return loss / (m.sum() * output.shape[1] + 1e-4)


FocalLoss = Callable[[torch.Tensor, torch.Tensor, float, float], torch.Tensor]


class _DetectionLoss(nn.Module):
    """What CenterNetLoss and ExtremeNetLoss share: how each head's loss is computed.

    ``forward`` checks shapes and keys only (host metadata): checking values would wait
    for the device on every step. Call ``focal_loss_with_logits`` or ``reg_l1_loss``
    directly to have values checked too.
    """

    def __init__(self, focal: FocalLoss, alpha: float, beta: float):
        super().__init__()
        self.focal, self.alpha, self.beta = focal, alpha, beta

    def heatmap_loss(self, logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        """L_k of one heatmap head, with this loss's alpha and beta."""
        if self.focal is focal_loss_with_logits:  # its checks were made in forward
            return _focal_loss(logits, gt, self.alpha, self.beta)
        return self.focal(logits, gt, self.alpha, self.beta)

    def _head_loss(self, outputs: dict, batch: dict, key: str) -> torch.Tensor:
        """L_k of ``outputs[key]`` (logits) against ``batch[key]`` (gt)."""
        validate.heatmap_head(outputs, batch, key)
        return self.heatmap_loss(outputs[key], batch[key])

    @staticmethod
    def _offset_loss(outputs: dict, batch: dict, key: str, ind: str, like: str) -> torch.Tensor:
        """``reg_l1_loss`` of head ``key`` at ``batch[ind]``; ``like`` is a head of its size."""
        validate.offset_head(outputs, batch, key, ind, like)
        return _reg_l1_loss(outputs[key], batch["reg_mask"], batch[ind], batch[key])


class CenterNetLoss(_DetectionLoss):
    """L_det = hm_weight L_k + wh_weight L_size + off_weight L_off.

    ``forward(outputs, batch)`` takes the raw head outputs ``hm (B, C, H, W)`` logits,
    ``wh (B, 2, H, W)`` sizes and ``reg (B, 2, H, W)`` offsets, and the batched targets of
    ``encode_ctdet`` (``hm, wh, reg, ind, reg_mask``). It never changes ``outputs``.

    ``focal`` computes L_k: any function ``(logits, gt, alpha, beta) -> scalar``, called
    with this loss's ``alpha`` and ``beta``. The default is the plain form the book
    derives; pass ``fast.focal_loss_with_logits_fused`` for the hand-derived kernel.

    Returns ``(loss, stats)`` where stats holds detached ``loss, hm_loss, wh_loss,
    off_loss``. The offset term is skipped (0) when ``off_weight`` is 0.
    """

    def __init__(
        self,
        hm_weight: float = 1.0,
        wh_weight: float = 0.1,
        off_weight: float = 1.0,
        *,
        focal: FocalLoss = focal_loss_with_logits,
        alpha: float = ALPHA,
        beta: float = BETA,
    ):
        weights = {"hm_weight": hm_weight, "wh_weight": wh_weight, "off_weight": off_weight}
        super().__init__(focal, *validate.loss_args(focal, alpha, beta, **weights))
        self.hm_weight, self.wh_weight, self.off_weight = hm_weight, wh_weight, off_weight

    def forward(self, outputs: dict, batch: dict) -> tuple[torch.Tensor, dict]:
        heads = ("hm", "wh", "reg") if self.off_weight > 0 else ("hm", "wh")
        validate.loss_keys(outputs, batch, heads, ("ind", "reg_mask"))
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
    ``focal``, ``alpha`` and ``beta`` as in ``CenterNetLoss``.

    Returns ``(loss, stats)`` with detached ``loss, hm_loss, off_loss``.
    """

    def __init__(
        self,
        hm_weight: float = 1.0,
        off_weight: float = 1.0,
        *,
        focal: FocalLoss = focal_loss_with_logits,
        alpha: float = ALPHA,
        beta: float = BETA,
    ):
        weights = {"hm_weight": hm_weight, "off_weight": off_weight}
        super().__init__(focal, *validate.loss_args(focal, alpha, beta, **weights))
        self.hm_weight, self.off_weight = hm_weight, off_weight

    def forward(self, outputs: dict, batch: dict) -> tuple[torch.Tensor, dict]:
        hm_keys = [f"hm_{p}" for p in "tlbrc"]
        reg_parts = EXTREME_PARTS if self.off_weight > 0 else ()
        reg_keys = [f"reg_{p}" for p in reg_parts]
        ind_keys = [f"ind_{p}" for p in reg_parts] + (["reg_mask"] if reg_parts else [])
        validate.loss_keys(outputs, batch, hm_keys + reg_keys, ind_keys)
        hm_loss = sum(self._head_loss(outputs, batch, k) for k in hm_keys)
        off_loss = hm_loss.new_zeros(())
        for p in reg_parts:
            off_loss = off_loss + self._offset_loss(
                outputs, batch, f"reg_{p}", f"ind_{p}", f"hm_{p}"
            )
        loss = self.hm_weight * hm_loss + self.off_weight * off_loss
        stats = {"loss": loss, "hm_loss": hm_loss, "off_loss": off_loss}
        return loss, {k: v.detach() for k, v in stats.items()}
