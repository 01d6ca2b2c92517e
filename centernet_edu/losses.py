"""The three CenterNet loss terms and their weighted sum.

    L_det = lambda_k L_k + lambda_size L_size + lambda_off L_off,   (1, 0.1, 1 by default)

L_k, the penalty-reduced focal loss on the heatmap, with Yhat the predicted probability
and Y the Gaussian target (alpha = 2, beta = 4, N objects):

    L_k = -1/N sum_xyc  (1 - Yhat)^alpha log(Yhat)                      if Y = 1
                        (1 - Y)^beta Yhat^alpha log(1 - Yhat)           otherwise

L_off and L_size are L1 losses on the offset and size heads, read only at the N object
centres (``reg_l1_loss``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .targets import EXTREME_PARTS

__all__ = [
    "clamped_sigmoid",
    "focal_loss",
    "focal_loss_with_logits",
    "focal_loss_terms",
    "gather_feat",
    "reg_l1_loss",
    "CenterNetLoss",
    "ExtremeNetLoss",
]

ALPHA = 2
BETA = 4


def _check_same_shape(a_name: str, a: torch.Tensor, b_name: str, b: torch.Tensor) -> None:
    for name, t in ((a_name, a), (b_name, b)):
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if a.shape != b.shape:
        raise ValueError(
            f"{a_name} and {b_name} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def clamped_sigmoid(x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """sigmoid(x) clamped to [eps, 1 - eps]: the reference ``_sigmoid``, never in place.

    The clamp keeps log(Yhat) and log(1 - Yhat) finite, at the price of a zero gradient
    wherever it is active (|x| > about 9.2 for eps = 1e-4).
    """
    if not 0 <= eps < 0.5:
        raise ValueError(f"eps must lie in [0, 0.5), got {eps!r}")
    return torch.sigmoid(x).clamp(min=eps, max=1 - eps)


def _reduce(pos_loss: torch.Tensor, neg_loss: torch.Tensor, num_pos: torch.Tensor) -> torch.Tensor:
    # Normalise by the number of objects; a batch with none falls back to the plain sum
    # of the negative terms, as the reference does. torch.where keeps this free of a
    # host-device synchronisation.
    return torch.where(num_pos > 0, -(pos_loss + neg_loss) / num_pos.clamp(min=1), -neg_loss)


def focal_loss(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Penalty-reduced focal loss L_k on probabilities (the reference ``_neg_loss``).

    Args:
        pred: Yhat, ``(B, C, H, W)`` probabilities in (0, 1). Exact 0 or 1 give
            infinities: clamp them first (``clamped_sigmoid``), or use
            ``focal_loss_with_logits``.
        gt: Y, ``(B, C, H, W)`` Gaussian targets in [0, 1]; pixels equal to 1 are the
            N positives.

    Returns:
        scalar: the summed loss divided by N, or the negative sum alone when N = 0.
    """
    _check_same_shape("pred", pred, "gt", gt)
    pos = gt.eq(1)
    pos_loss = torch.where(pos, torch.log(pred) * (1 - pred) ** ALPHA, 0).sum()
    neg_weight = (1 - gt) ** BETA
    neg_loss = torch.where(pos, 0, torch.log(1 - pred) * pred**ALPHA * neg_weight).sum()
    return _reduce(pos_loss, neg_loss, pos.sum())


def focal_loss_terms(
    logits: torch.Tensor, gt: torch.Tensor, alpha: float = ALPHA, beta: float = BETA
) -> torch.Tensor:
    """The per-pixel terms of L_k before normalisation, from logits x (same shape out).

        -(1 - Yhat)^alpha log(Yhat)                  where Y = 1
        -(1 - Y)^beta Yhat^alpha log(1 - Yhat)       elsewhere

    With Yhat = sigmoid(x), log(Yhat) = logsigmoid(x), log(1 - Yhat) = logsigmoid(-x) and
    1 - Yhat = sigmoid(-x): each is finite, with a finite gradient, for every finite x,
    so no clamp is needed. ``alpha`` and ``beta`` are CenterNet's 2 and 4 by default.

    Half-precision inputs (float16, bfloat16, e.g. under autocast) are computed in
    float32: the terms of confident mistakes overflow float16.
    """
    _check_same_shape("logits", logits, "gt", gt)
    dtype = torch.promote_types(logits.dtype, torch.float32)
    with torch.autocast(device_type=logits.device.type, enabled=False):
        x, y = logits.to(dtype), gt.to(dtype)
        pos = -F.logsigmoid(x) * torch.sigmoid(-x) ** alpha
        neg = -F.logsigmoid(-x) * torch.sigmoid(x) ** alpha * (1 - y) ** beta
        return torch.where(y.eq(1), pos, neg)


def focal_loss_with_logits(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """L_k computed from logits x on log-sigmoid terms, so it needs no clamp.

    The sum of ``focal_loss_terms`` divided by the number of positives N (or by 1 when
    N = 0, which is the reference's fallback to the plain negative sum). It equals
    ``focal_loss(clamped_sigmoid(x), gt)`` wherever the clamp is inactive, and stays
    finite, with finite gradients, for every finite x: where the clamped sigmoid
    saturates (|x| > 9.2) and stops the gradient, confident mistakes still learn.

    Args:
        logits: x, ``(B, C, H, W)`` raw heatmap-head outputs, any float dtype.
        gt: Y, ``(B, C, H, W)`` Gaussian targets in [0, 1].

    Returns:
        scalar, float32 for half-precision input, else the input's dtype.
    """
    terms = focal_loss_terms(logits, gt)
    return terms.sum() / gt.eq(1).sum().clamp(min=1)


def gather_feat(feat: torch.Tensor, ind: torch.Tensor) -> torch.Tensor:
    """Read a dense map at M flat positions: ``(B, D, H, W)``, ``(B, M)`` -> ``(B, M, D)``.

    ``ind[b, m] = y * W + x`` picks pixel (x, y) of image b, all D channels.
    """
    if feat.ndim != 4:
        raise ValueError(f"feature map must have shape (B, D, H, W), got {tuple(feat.shape)}")
    B, D, H, W = feat.shape
    if ind.ndim != 2 or ind.shape[0] != B:
        raise ValueError(f"ind must have shape ({B}, M) to match the map, got {tuple(ind.shape)}")
    if ind.dtype.is_floating_point or ind.dtype == torch.bool:
        raise ValueError(f"ind must be an integer tensor, got {ind.dtype}")
    if ind.numel() and bool((ind.min() < 0) | (ind.max() >= H * W)):
        raise ValueError(
            f"ind must lie in [0, H*W) = [0, {H * W}), got values in "
            f"[{int(ind.min())}, {int(ind.max())}]"
        )
    idx = ind.long().unsqueeze(1).expand(B, D, ind.shape[1])
    return feat.flatten(2).gather(2, idx).transpose(1, 2)


def reg_l1_loss(
    output: torch.Tensor, mask: torch.Tensor, ind: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """L1 loss of a regression head at the object centres (the reference ``RegL1Loss``).

        L = sum_k mask_k |output[ind_k] - target_k|_1 / (D * sum_k mask_k + 1e-4)

    Used for L_off (D = 2, target p/R - p~) and L_size (D = 2, target s_k).

    Args:
        output: ``(B, D, H, W)`` dense head output.
        mask: ``(B, M)`` 1 where slot k holds an object.
        ind: ``(B, M)`` int flat positions ``y * W + x``.
        target: ``(B, M, D)``.

    Returns:
        scalar.
    """
    if not isinstance(output, torch.Tensor) or output.ndim != 4:
        raise ValueError(
            f"output must have shape (B, D, H, W), got {tuple(getattr(output, 'shape', ()))}"
        )
    B, D = output.shape[:2]
    if mask.ndim != 2 or mask.shape[0] != B:
        raise ValueError(f"mask must have shape ({B}, M), got {tuple(mask.shape)}")
    M = mask.shape[1]
    if ind.shape != mask.shape:
        raise ValueError(f"ind must have the shape of mask ({B}, {M}), got {tuple(ind.shape)}")
    if target.shape != (B, M, D):
        raise ValueError(f"target must have shape ({B}, {M}, {D}), got {tuple(target.shape)}")
    pred = gather_feat(output, ind)
    m = mask.unsqueeze(2).to(pred.dtype)
    loss = (pred * m - target * m).abs().sum()
    return loss / (m.sum() * D + 1e-4)


def _check_keys(where: str, d: dict, keys) -> None:
    missing = [k for k in keys if k not in d]
    if missing:
        raise ValueError(f"{where} must hold {list(keys)}, missing {missing}")


class CenterNetLoss(nn.Module):
    """L_det = hm_weight L_k + wh_weight L_size + off_weight L_off.

    ``forward(outputs, batch)`` takes the raw head outputs ``hm (B, C, H, W)`` logits,
    ``wh (B, 2, H, W)`` and ``reg (B, 2, H, W)``, and the batched targets of
    ``encode_ctdet`` (``hm, wh, reg, ind, reg_mask``). It never changes ``outputs``.

    Returns ``(loss, stats)`` where stats holds detached ``loss, hm_loss, wh_loss,
    off_loss``. The offset term is skipped (0) when ``off_weight`` is 0.
    """

    def __init__(self, hm_weight: float = 1.0, wh_weight: float = 0.1, off_weight: float = 1.0):
        super().__init__()
        for name, v in (
            ("hm_weight", hm_weight),
            ("wh_weight", wh_weight),
            ("off_weight", off_weight),
        ):
            if not v >= 0:
                raise ValueError(f"{name} must be >= 0, got {v!r}")
        self.hm_weight, self.wh_weight, self.off_weight = hm_weight, wh_weight, off_weight

    def forward(self, outputs: dict, batch: dict) -> tuple[torch.Tensor, dict]:
        heads = ("hm", "wh", "reg") if self.off_weight > 0 else ("hm", "wh")
        _check_keys("outputs", outputs, heads)
        _check_keys("batch", batch, heads + ("ind", "reg_mask"))
        hm_loss = focal_loss_with_logits(outputs["hm"], batch["hm"])
        wh_loss = reg_l1_loss(outputs["wh"], batch["reg_mask"], batch["ind"], batch["wh"])
        if self.off_weight > 0:
            off_loss = reg_l1_loss(outputs["reg"], batch["reg_mask"], batch["ind"], batch["reg"])
        else:
            off_loss = hm_loss.new_zeros(())
        loss = self.hm_weight * hm_loss + self.wh_weight * wh_loss + self.off_weight * off_loss
        stats = {"loss": loss, "hm_loss": hm_loss, "wh_loss": wh_loss, "off_loss": off_loss}
        return loss, {k: v.detach() for k, v in stats.items()}


class ExtremeNetLoss(nn.Module):
    """The seed's ``ExdetLoss``: hm_weight L_k + off_weight L_off over extreme points.

    L_k sums the focal loss of the five heatmaps ``hm_t, hm_l, hm_b, hm_r, hm_c``
    (raw logits in ``outputs``); L_off sums the offset L1 of ``reg_t .. reg_r``, each
    gathered at its own ``ind_t .. ind_r``. Targets come from ``encode_exdet``.

    Returns ``(loss, stats)`` with detached ``loss, hm_loss, off_loss``.
    """

    def __init__(self, hm_weight: float = 1.0, off_weight: float = 1.0):
        super().__init__()
        for name, v in (("hm_weight", hm_weight), ("off_weight", off_weight)):
            if not v >= 0:
                raise ValueError(f"{name} must be >= 0, got {v!r}")
        self.hm_weight, self.off_weight = hm_weight, off_weight

    def forward(self, outputs: dict, batch: dict) -> tuple[torch.Tensor, dict]:
        hm_keys = [f"hm_{p}" for p in "tlbrc"]
        reg_keys = [f"reg_{p}" for p in EXTREME_PARTS] if self.off_weight > 0 else []
        ind_keys = [f"ind_{p}" for p in EXTREME_PARTS] + ["reg_mask"] if reg_keys else []
        _check_keys("outputs", outputs, hm_keys + reg_keys)
        _check_keys("batch", batch, hm_keys + reg_keys + ind_keys)
        hm_loss = sum(focal_loss_with_logits(outputs[k], batch[k]) for k in hm_keys)
        off_loss = hm_loss.new_zeros(())
        for p in EXTREME_PARTS if self.off_weight > 0 else ():
            off_loss = off_loss + reg_l1_loss(
                outputs[f"reg_{p}"], batch["reg_mask"], batch[f"ind_{p}"], batch[f"reg_{p}"]
            )
        loss = self.hm_weight * hm_loss + self.off_weight * off_loss
        stats = {"loss": loss, "hm_loss": hm_loss, "off_loss": off_loss}
        return loss, {k: v.detach() for k, v in stats.items()}
