"""The three CenterNet loss terms and their weighted sum.

    L_det = lambda_k L_k + lambda_size L_size + lambda_off L_off,   (1, 0.1, 1 by default)

L_k, the penalty-reduced focal loss on the heatmap, with Yhat the predicted probability
and Y the Gaussian target (alpha = 2, beta = 4, N objects):

    L_k = -1/N sum_xyc  (1 - Yhat)^alpha log(Yhat)                      if Y = 1
                        (1 - Y)^beta Yhat^alpha log(1 - Yhat)           otherwise

L_off and L_size are L1 losses on the offset and size heads, read only at the N object
centres (``reg_l1_loss``).

``focal_loss_with_logits`` writes L_k in a few lines of tensor algebra, the way the
book derives it; ``focal_loss_with_logits_fused`` computes the same number and gradient
with a hand-derived backward pass, a fraction of the time and memory, and is what
``CenterNetLoss`` and ``ExtremeNetLoss`` use.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from .targets import EXTREME_PARTS

__all__ = [
    "clamped_sigmoid",
    "focal_loss",
    "focal_loss_with_logits",
    "focal_loss_with_logits_fused",
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


def _neg_logs(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(-log Yhat, -log(1 - Yhat)) for logits x, with Yhat = sigmoid(x), accurate for any x.

    With e = exp(-|x|) in (0, 1] and sp = log1p(e) = softplus(-|x|):
    -log Yhat = softplus(-x) = sp - min(x, 0) and -log(1 - Yhat) = softplus(x) =
    max(x, 0) + sp. Each is a sum of two non-negative terms, so nothing cancels; the
    probabilities are then exp(-softplus), never 1 - (something close to 1).
    """
    e = x.abs().neg_().exp_()
    sp = torch.log1p(e)
    nlog_q = x.clamp_min(0).add_(sp)
    return sp.sub_(x.clamp_max(0)), nlog_q


def _chunk_size(device: torch.device) -> int:
    # On a CPU, 2^16 float32 elements (256 KB) per thread and temporary keep a chunk's
    # dozen temporaries in each core's cache, so each elementwise pass reads and writes
    # cache, not main memory. A GPU gains nothing from it and would pay a kernel launch
    # per operation and chunk, so it takes the tensor whole.
    if device.type == "cpu":
        return (1 << 16) * torch.get_num_threads()
    return 1 << 62


class _FusedFocalLoss(torch.autograd.Function):
    """L_k and its gradient, saving only the inputs; see focal_loss_with_logits_fused."""

    @staticmethod
    def forward(ctx, logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        dtype = torch.promote_types(logits.dtype, torch.float32)
        x_all, y_all = logits.contiguous().view(-1), gt.contiguous().view(-1)
        neg_sum = torch.zeros((), dtype=dtype, device=logits.device)
        step = _chunk_size(logits.device)
        positives = []  # the N positives are few: collect them, and handle them apart
        for start in range(0, x_all.numel(), step):
            x, y = x_all[start : start + step].to(dtype), y_all[start : start + step].to(dtype)
            positives.append(y.eq(1).nonzero().squeeze(1) + start)
            nlog_p, nlog_q = _neg_logs(x)
            neg_weight = (1 - y).square_().square_()  # (1 - Y)^beta, 0 at the positives
            # (1 - Y)^4 Yhat^2 (-log(1 - Yhat)), with Yhat^2 = exp(-2 (-log Yhat))
            neg_sum += nlog_p.mul_(-2).exp_().mul_(nlog_q).mul_(neg_weight).sum()
        pos = torch.cat(positives) if positives else y_all.new_zeros(0, dtype=torch.int64)
        nlog_p, nlog_q = _neg_logs(x_all[pos].to(dtype))
        pos_sum = nlog_q.mul_(-2).exp_().mul_(nlog_p).sum()  # (1 - Yhat)^2 (-log Yhat)
        num_pos = pos.numel()
        ctx.scale = 1 / num_pos if num_pos else 1.0
        ctx.save_for_backward(logits, gt, pos)
        return (pos_sum + neg_sum) * ctx.scale

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_loss: torch.Tensor):
        logits, gt, pos = ctx.saved_tensors
        dtype = torch.promote_types(logits.dtype, torch.float32)
        coef = grad_loss.to(dtype) * ctx.scale
        x_all, y_all = logits.contiguous().view(-1), gt.contiguous().view(-1)
        grad = torch.empty(x_all.shape, dtype=logits.dtype, device=logits.device)
        step = _chunk_size(logits.device)
        for x, y, g in zip(x_all.split(step), y_all.split(step), grad.split(step), strict=True):
            x, y = x.to(dtype), y.to(dtype)
            nlog_p, nlog_q = _neg_logs(x)
            p, q = nlog_p.neg_().exp_(), nlog_q.neg().exp_()
            neg_weight = (1 - y).square_().square_()
            # d/dx [(1 - Y)^4 Yhat^2 (-log(1 - Yhat))] = (1 - Y)^4 Yhat^2 (2 (1 - Yhat) (-log(1 - Yhat)) + Yhat)
            d = nlog_q.mul_(q).mul_(2).add_(p).mul_(p.square()).mul_(neg_weight).mul_(coef)
            g.copy_(d)
        # d/dx [(1 - Yhat)^2 (-log Yhat)] = -(1 - Yhat)^2 (2 Yhat (-log Yhat) + (1 - Yhat))
        nlog_p, nlog_q = _neg_logs(x_all[pos].to(dtype))
        p, q = nlog_p.neg().exp_(), nlog_q.neg_().exp_()
        d_pos = nlog_p.mul_(p).mul_(2).add_(q).mul_(q.square()).neg_().mul_(coef)
        grad[pos] = d_pos.to(grad.dtype)
        return grad.view(logits.shape), None


def focal_loss_with_logits_fused(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """``focal_loss_with_logits``, with a hand-derived gradient: less time, less memory.

    Same contract and same numbers (to float32 rounding) as ``focal_loss_with_logits``.
    Autograd would keep every intermediate of the loss (a dozen tensors the size of the
    heatmap) for the backward pass; this one saves only x and Y and recomputes what the
    gradient needs, element by element. On a CPU it walks the heatmap in cache-sized
    chunks, so each of its elementwise operations reads and writes cache, not memory.

    The gradient. With Yhat = sigmoid(x), dYhat/dx = Yhat (1 - Yhat), so
    d(-log Yhat)/dx = -(1 - Yhat) and d(-log(1 - Yhat))/dx = Yhat. Per pixel, with
    alpha = 2 and beta = 4:

    - a positive (Y = 1) contributes (1 - Yhat)^2 (-log Yhat), whose derivative is
      -(1 - Yhat)^2 [2 Yhat (-log Yhat) + (1 - Yhat)];
    - any other pixel contributes (1 - Y)^4 Yhat^2 (-log(1 - Yhat)), whose derivative
      is (1 - Y)^4 Yhat^2 [2 (1 - Yhat) (-log(1 - Yhat)) + Yhat].

    dL_k/dx is that, divided by N (not divided when N = 0, as the loss). The negative
    term needs no mask: (1 - Y)^4 = 0 at the positives. -log Yhat = softplus(-x) and
    -log(1 - Yhat) = softplus(x) are computed without cancellation (``_neg_logs``),
    so loss and gradient stay finite and accurate for any finite x.

    Half-precision inputs are computed in float32 chunk by chunk (never as a float32
    copy of the whole map); the loss is float32 (float64 for float64 input), the
    gradient has the dtype of ``logits`` (non-contiguous inputs, such as channels-last
    maps, are read through one contiguous copy). No gradient flows to ``gt``: when ``gt``
    requires one, this falls back to ``focal_loss_with_logits``. The backward pass
    cannot itself be differentiated (no double backward).

    Args:
        logits: x, ``(B, C, H, W)`` raw heatmap-head outputs (any shape works).
        gt: Y, same shape, Gaussian targets in [0, 1].

    Returns:
        scalar L_k.
    """
    _check_same_shape("logits", logits, "gt", gt)
    if gt.requires_grad:
        return focal_loss_with_logits(logits, gt)
    with torch.autocast(device_type=logits.device.type, enabled=False):
        return _FusedFocalLoss.apply(logits, gt)


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
        hm_loss = focal_loss_with_logits_fused(outputs["hm"], batch["hm"])
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
        hm_loss = sum(focal_loss_with_logits_fused(outputs[k], batch[k]) for k in hm_keys)
        off_loss = hm_loss.new_zeros(())
        for p in EXTREME_PARTS if self.off_weight > 0 else ():
            off_loss = off_loss + reg_l1_loss(
                outputs[f"reg_{p}"], batch["reg_mask"], batch[f"ind_{p}"], batch[f"reg_{p}"]
            )
        loss = self.hm_weight * hm_loss + self.off_weight * off_loss
        stats = {"loss": loss, "hm_loss": hm_loss, "off_loss": off_loss}
        return loss, {k: v.detach() for k, v in stats.items()}
