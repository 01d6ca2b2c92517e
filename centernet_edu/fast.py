"""The fast kernels: the same numbers as the plain forms the book derives, in less time.

Each function here imports or names its plain twin, and a test asserts the two agree:

====================================  ==============================================
fast                                  plain
====================================  ==============================================
``render_gaussians``                  ``heatmap.draw_gaussian``, one object at a time
``encode_ctdet_batch``                ``targets.encode_ctdet``, one image at a time
``focal_loss_with_logits_fused``      ``losses.focal_loss_with_logits``
``window_max``                        ``decode.max_pool``
====================================  ==============================================

They trade the reading order of the plain forms for fewer passes over memory: a loop
over a handful of window sizes instead of over objects, one table lookup instead of a
square root per object, a hand-derived gradient that keeps no intermediate maps, and
shifted maxima instead of a pooling kernel. The plain forms never import this module;
a visible switch chooses a kernel: ``CenterNetLoss(focal=focal_loss_with_logits_fused)``,
``decode_ctdet(..., pool=window_max)``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from . import validate
from .heatmap import gaussian_2d, gaussian_radius
from .losses import ALPHA, BETA, focal_loss_with_logits
from .targets import target_radius

__all__ = [
    "render_gaussians",
    "encode_ctdet_batch",
    "focal_loss_fused",
    "focal_loss_with_logits_fused",
    "window_max",
]


# --------------------------------------------------------------------------- Gaussians


@functools.lru_cache(maxsize=16)
def _kernel_table(max_radius: int, device: torch.device) -> torch.Tensor:
    """The quarter kernels of every radius up to ``max_radius``, from ``gaussian_2d`` itself.

    ``T[r, i, j]`` is the float32 value ``draw_gaussian`` writes at offset (+-j, +-i) from
    the centre of a Gaussian of radius r (0 where i or j exceeds r). The kernel is
    symmetric, so a quarter holds all of it. Built in numpy float64 by the very function
    the one-object path uses, then rounded once to float32, which is what
    ``draw_gaussian`` stores into a float32 map.
    """
    n = max_radius + 1
    table = np.zeros((n, n, n), dtype=np.float32)
    for r in range(n):
        d = 2 * r + 1
        table[r, : r + 1, : r + 1] = gaussian_2d((d, d), sigma=d / 6)[r:, r:]
    return torch.from_numpy(table).to(device)


def _zeros(n: int, device: torch.device) -> torch.Tensor:
    """n float32 zeros on ``device``.

    On the CPU, numpy's zeros come from ``calloc``: fresh pages the kernel has already
    zeroed (and numpy advises as huge pages), which is several times cheaper for a
    batch of heatmaps (tens of MB) than writing zeros through ``torch.zeros``.
    """
    if device.type == "cpu":
        return torch.from_numpy(np.zeros(n, dtype=np.float32))
    return torch.zeros(n, dtype=torch.float32, device=device)


# The largest radius render_gaussians draws: its kernel table holds n^3 values for n the
# power of two above the largest radius, 1024^3 < MAX_ELEMENTS here.
_MAX_RADIUS = 1023


def _check_render_args(shape, maps, centers, radii) -> tuple[int, int, int]:
    try:
        ok = len(shape) == 3 and not any(isinstance(s, bool) or int(s) != s or s < 0 for s in shape)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"shape must be three non-negative integers (num_maps, H, W), got {shape!r}"
        )
    validate.not_too_large("shape", shape, shape)
    for name, t, ndim in (("maps", maps, 1), ("centers", centers, 2), ("radii", radii, 1)):
        if not isinstance(t, torch.Tensor) or t.ndim != ndim:
            raise ValueError(
                f"{name} must be a {ndim}-D integer tensor, got {validate.shape_of(t)}"
            )
        if t.dtype.is_floating_point or t.is_complex() or t.dtype == torch.bool:
            raise ValueError(f"{name} must be a {ndim}-D integer tensor, got dtype {t.dtype}")
        validate.not_meta(name, t)
    K = len(radii)
    if maps.shape != (K,) or centers.shape != (K, 2):
        raise ValueError(
            f"maps (K,), centers (K, 2) and radii (K,) must agree in K, got "
            f"{tuple(maps.shape)}, {tuple(centers.shape)} and {tuple(radii.shape)}"
        )
    num_maps, height, width = (int(s) for s in shape)
    if K and not (num_maps and height and width):
        raise ValueError(f"shape must be >= 1 a side to draw {K} Gaussians on, got {shape!r}")
    cx, cy = centers[:, 0], centers[:, 1]
    bad = (radii < 0) | (maps < 0) | (maps >= num_maps)
    bad |= (cx < 0) | (cx >= width) | (cy < 0) | (cy >= height)
    if bool(bad.any()):
        raise ValueError(
            f"need radii >= 0, maps in [0, {num_maps}) and centres inside the {height} x "
            f"{width} map, got it wrong for Gaussians {bad.nonzero().flatten().tolist()}"
        )
    if K and int(radii.max()) > _MAX_RADIUS:
        raise ValueError(
            f"radii must be at most {_MAX_RADIUS} (the kernel table of larger ones holds "
            f"over {validate.MAX_ELEMENTS:.3g} values), got {int(radii.max())}"
        )
    return num_maps, height, width


def render_gaussians(shape, maps: torch.Tensor, centers: torch.Tensor, radii: torch.Tensor):
    """Draw K Gaussians at once on zero maps: the batched ``draw_gaussian``.

    Objects are grouped by window size: a group of half-width w (1, 3, 7, 15, ...: the
    sizes double) holds every object with w/2 < r_k <= w, and is drawn as one dense
    ``(K_w, 2w + 1, 2w + 1)`` block of pixels around the centres, so the loop runs over
    a handful of groups, never over objects. Each pixel reads its value from a table of
    the reference kernels, ``T[r, |dy|, |dx|]``, which is 0 outside radius r: the extra
    border of a window larger than the object's own adds nothing. One
    ``scatter_reduce(..., "amax")`` per group writes the pixels, so overlapping Gaussians
    on one map keep the element-wise maximum, and pixels off the map are dropped, which
    cuts the windows at the borders exactly as ``draw_gaussian`` does.

    Args:
        shape: ``(num_maps, H, W)`` of the result.
        maps: ``(K,)`` integer index of the map each Gaussian goes to.
        centers: ``(K, 2)`` integer pixel (x, y) of each peak, inside the map.
        radii: ``(K,)`` non-negative integer radii r_k, at most 1023.

    Returns:
        ``(num_maps, H, W)`` float32 on the device of ``centers``: the same numbers as
        ``draw_gaussian(hm[maps[k]], centers[k], radii[k])`` applied to a zero float32
        map for every k, in any order.
    """
    num_maps, height, width = _check_render_args(shape, maps, centers, radii)
    device = centers.device
    # One spare slot past the end receives every pixel that falls off the map.
    out = _zeros(num_maps * height * width + 1, device)
    spare = out.numel() - 1
    if len(radii) == 0:
        return out[:spare].reshape(num_maps, height, width)
    maps, radii = (t.to(device=device, dtype=torch.int64) for t in (maps, radii))
    cx, cy = centers[:, 0].long(), centers[:, 1].long()

    half_widths = [0]
    while half_widths[-1] < int(radii.max()):
        half_widths.append(2 * half_widths[-1] + 1)
    table = _kernel_table(half_widths[-1], device)
    n = table.shape[0]
    peak = (maps * height + cy) * width + cx  # flat position of each centre
    order = torch.argsort(radii)
    ends = torch.searchsorted(radii[order], torch.tensor(half_widths, device=device), right=True)
    begin = 0
    for w, end in zip(half_widths, ends.tolist(), strict=True):
        if end == begin:
            continue
        group = order[begin:end]
        begin = end
        d = torch.arange(-w, w + 1, device=device)
        x, y = cx[group, None] + d, cy[group, None] + d  # (K_w, 2w + 1) each
        on_map = ((y >= 0) & (y < height))[:, :, None] & ((x >= 0) & (x < width))[:, None, :]
        target = torch.where(on_map, peak[group, None, None] + d[:, None] * width + d, spare)
        lookup = radii[group, None, None] * (n * n) + d.abs()[:, None] * n + d.abs()
        out.scatter_reduce_(0, target.flatten(), table.flatten()[lookup.flatten()], "amax")
    return out[:spare].reshape(num_maps, height, width)


# --------------------------------------------------------------------------- targets


# The largest map whose radius table (one entry per integer box size) is built and kept;
# larger maps look up the radii of the box sizes they hold.
_MAX_RADIUS_TABLE = 1 << 20


def _integer_radii(h: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``target_radius(h, w)`` for arrays of integer box sizes, element by element.

    Vectorised in numpy float64, then every entry within 1e-6 of an integer is
    recomputed by the scalar rule itself. Integer sizes often give a radius that is an
    integer in exact arithmetic (7 for a 15 x 70 box), and there the last bit of the
    square root decides what ``int`` returns: numpy's ``sqrt`` and the scalar code's
    ``** 0.5`` may round that bit differently (torch's CPU ``sqrt`` does, and gives 6).
    Elsewhere the two differ by a few 1e-14 at most, far from changing ``int(r)``.
    """
    h, w = h.astype(np.float64), w.astype(np.float64)
    r = gaussian_radius(h, w)
    radii = np.maximum(0, r.astype(np.int64))
    for i in zip(*np.nonzero(np.abs(r - np.round(r)) < 1e-6), strict=True):
        radii[i] = target_radius(int(h[i]), int(w[i]))
    return radii


@functools.lru_cache(maxsize=16)
def _radius_table(height: int, width: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """``table[h, w] = target_radius(h, w)`` for every integer box size h < height, w < width."""
    h, w = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    return torch.from_numpy(_integer_radii(h, w)).to(device)


def _radii(sizes: tuple[torch.Tensor, torch.Tensor], height: int, width: int) -> torch.Tensor:
    """``target_radius`` of each integer box size ``(h, w)``: from the cached table of the
    map's sizes, or, for a map too large for one, of the distinct sizes given."""
    device = sizes[0].device
    if height * width <= _MAX_RADIUS_TABLE:
        return _radius_table(height, width, device)[sizes]
    pairs = torch.stack(sizes, dim=-1).reshape(-1, 2).cpu()
    distinct, inverse = torch.unique(pairs, dim=0, return_inverse=True)
    h, w = distinct.numpy().T
    radii = torch.from_numpy(_integer_radii(h, w))[inverse]
    return radii.reshape(sizes[0].shape).to(device)


def _float32_tensor(name: str, x, device) -> torch.Tensor:
    x = validate.real_array(name, x)
    validate.not_bool(name, x)
    if isinstance(x, torch.Tensor):
        return x.detach().to(device=device, dtype=torch.float32)
    return torch.from_numpy(validate.numeric_array(name, x, np.float32)).to(device)


def _batch_labels(labels, shape: tuple[int, int], num_classes: int, device) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor):
        try:
            labels = torch.as_tensor(np.asarray(labels))
        except (TypeError, ValueError) as e:
            raise ValueError(f"labels must be numeric, got {labels!r}") from e
    if tuple(labels.shape) != shape:
        raise ValueError(
            f"labels must have shape {shape} to match the boxes, got {tuple(labels.shape)}"
        )
    if labels.is_complex():
        raise ValueError(f"labels must be integer class numbers, got {labels.dtype}")
    labels = labels.detach().to(device)
    if labels.dtype.is_floating_point and not bool((torch.remainder(labels, 1) == 0).all()):
        raise ValueError(f"labels must be integers, got {labels}")
    lab = labels.long()
    bad = (lab != -1) & ((lab < 0) | (lab >= num_classes))
    if bool(bad.any()):
        raise ValueError(
            f"labels must lie in [0, {num_classes}), or be -1 for padding, got "
            f"{lab[bad].tolist()} (image, box {bad.nonzero().tolist()})"
        )
    # A real box after padding: the count of padding rows up to it is already positive.
    misplaced = (lab >= 0) & ((lab < 0).cumsum(1) > 0)
    if bool(misplaced.any()):
        raise ValueError(
            "padding (label -1) must come after the real boxes of each image, got real "
            f"boxes after padding at (image, box) {misplaced.nonzero().tolist()}"
        )
    return lab


def _batch_boxes(boxes, labels, num_classes: int):
    """Checked ``(B, N, 4)`` float32 boxes, ``(B, N)`` int64 labels, and their device."""
    validate.not_meta("boxes", boxes)
    validate.not_meta("labels", labels)
    device = validate.device_of(boxes, labels)
    b = _float32_tensor("boxes", boxes, device)
    if b.ndim != 3 or b.shape[2] != 4:
        raise ValueError(f"boxes must have shape (B, N, 4) as x1, y1, x2, y2, got {tuple(b.shape)}")
    lab = _batch_labels(labels, tuple(b.shape[:2]), num_classes, device)
    real = lab >= 0
    nonfinite = real & ~torch.isfinite(b).all(2)
    if bool(nonfinite.any()):
        raise ValueError(
            "boxes must be finite, got NaN or infinity in (image, box) "
            f"{nonfinite.nonzero().tolist()}"
        )
    inverted = real & ((b[..., 2] < b[..., 0]) | (b[..., 3] < b[..., 1]))
    if bool(inverted.any()):
        raise ValueError(
            f"boxes need x1 <= x2 and y1 <= y2, got {b[inverted].tolist()} "
            f"(image, box {inverted.nonzero().tolist()})"
        )
    return b, lab, device


def encode_ctdet_batch(boxes, labels, num_classes: int, output_size, max_objs: int = 128) -> dict:
    """``encode_ctdet`` for a padded batch of images, without a loop over objects.

    Image b holds the boxes ``boxes[b, n]`` whose label is not -1; padding rows (label
    -1) must follow all real rows of their image, and their coordinates are ignored. Box
    n goes to slot n, so the result for image b is exactly
    ``encode_ctdet(boxes[b, :n_b], labels[b, :n_b], ...)`` with n_b its number of real
    boxes, stacked on a new batch axis: the same clipping, the same skipped (empty)
    slots, the same radius, the same float32 centres p, floored centres p~, offsets
    p - p~ and sizes, the same heatmap to the last bit. Rows n >= ``max_objs`` are dropped.
    ``render_gaussians`` draws every Gaussian at once; radii come from a cached table.
    Bad input raises as in ``encode_ctdet``, and so does a real box after padding.

    Args:
        boxes: ``(B, N, 4)`` x1, y1, x2, y2 in heatmap coordinates; any real dtype (cast
            to float32 first, as ``encode_ctdet`` does).
        labels: ``(B, N)`` integer classes in ``[0, num_classes)``, -1 for padding.
        num_classes: C.
        output_size: ``(H, W)`` of the heatmap.
        max_objs: M, the number of object slots per image.

    Returns:
        dict of torch tensors on the device of ``boxes`` (of ``labels`` if ``boxes`` is
        not a tensor): ``hm (B, C, H, W) float32``, ``wh (B, M, 2) float32``,
        ``reg (B, M, 2) float32`` (offsets), ``ind (B, M) int64``, ``reg_mask (B, M) uint8``.
    """
    H, W = validate.encode_args(num_classes, output_size, max_objs)
    b, lab, device = _batch_boxes(boxes, labels, num_classes)
    B, N = lab.shape
    validate.not_too_large("boxes", tuple(b.shape), (B, num_classes, H, W))
    k = min(N, max_objs)
    b, lab = b[:, :k], lab[:, :k]
    # float32 throughout, operation for operation as encode_ctdet does it in numpy.
    x1, x2 = b[..., 0].clamp(0, W - 1), b[..., 2].clamp(0, W - 1)
    y1, y2 = b[..., 1].clamp(0, H - 1), b[..., 3].clamp(0, H - 1)
    h, w = y2 - y1, x2 - x1
    keep = (lab >= 0) & (h > 0) & (w > 0)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    ix, iy = cx.long(), cy.long()  # truncation = floor, since centres are >= 0

    sizes = torch.ceil(h).long().clamp(0, H - 1), torch.ceil(w).long().clamp(0, W - 1)
    radius = _radii(sizes, H, W)
    img = torch.arange(B, device=device).unsqueeze(1).expand(B, k)
    hm = render_gaussians(
        (B * num_classes, H, W),
        (img * num_classes + lab)[keep],
        torch.stack([ix, iy], dim=-1)[keep],
        radius[keep],
    ).reshape(B, num_classes, H, W)

    offset = torch.stack([cx - ix.to(torch.float32), cy - iy.to(torch.float32)], dim=-1)
    return {
        "hm": hm,
        "wh": _slots(torch.stack([w, h], dim=-1), keep, max_objs),
        "reg": _slots(offset, keep, max_objs),
        "ind": _slots(iy * W + ix, keep, max_objs),
        "reg_mask": _slots(keep.to(torch.uint8), keep, max_objs),
    }


def _slots(values: torch.Tensor, keep: torch.Tensor, max_objs: int) -> torch.Tensor:
    """Per-object ``(B, k, ...)`` values in ``(B, M, ...)`` slots, 0 where not kept."""
    B, k = keep.shape
    out = values.new_zeros(B, max_objs, *values.shape[2:])
    mask = keep.reshape(B, k, *[1] * (values.ndim - 2))
    out[:, :k] = torch.where(
        mask, values, torch.zeros((), dtype=values.dtype, device=values.device)
    )
    return out


# --------------------------------------------------------------------------- focal loss


def _chunk_size(device: torch.device) -> int:
    # On a CPU, 2^16 float32 elements (256 KB) per thread and temporary keep a chunk's
    # dozen temporaries in each core's cache, so each elementwise pass reads and writes
    # cache, not main memory. A GPU gains nothing from it and would pay a kernel launch
    # per operation and chunk, so it takes the tensor whole.
    if device.type == "cpu":
        return (1 << 16) * torch.get_num_threads()
    return 1 << 62


def _power_(t: torch.Tensor, exponent: float) -> torch.Tensor:
    """t^exponent, in place. Factors of 2 in the exponent are squarings, several times
    cheaper on a CPU than a general power: CenterNet's beta = 4 is two of them."""
    while exponent > 1 and exponent % 2 == 0:
        t, exponent = t.square_(), exponent / 2
    return t if exponent == 1 else t.pow_(exponent)


def _minus_logs(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(-log p, -log q)`` for logits x, with p = Yhat = sigmoid(x) and q = 1 - p.

    With softplus(z) = log(1 + e^z): -log p = softplus(-x) and -log q = softplus(x).
    Both are written around log1p(e^-|x|), a number in (0, log 2]:

        -log p = log1p(e^-|x|) - min(x, 0)        -log q = log1p(e^-|x|) + max(x, 0)

    Each is a sum of two non-negative terms, so nothing cancels, for any finite x; the
    probabilities are then exp(-(-log p)), never 1 - (something close to 1).
    """
    log1p_exp = x.abs().neg_().exp_().log1p_()  # log1p(e^-|x|)
    minus_log_q = x.clamp_min(0).add_(log1p_exp)
    minus_log_p = log1p_exp.sub_(x.clamp_max(0))
    return minus_log_p, minus_log_q


class _FocalLossFunction(torch.autograd.Function):
    """L_k and its gradient from logits, saving only the inputs; see ``focal_loss_fused``."""

    @staticmethod
    def forward(ctx, logits, gt, alpha: float, beta: float):
        dtype = torch.promote_types(logits.dtype, torch.float32)
        x_all, y_all = logits.contiguous().view(-1), gt.contiguous().view(-1)
        neg_sum = torch.zeros((), dtype=dtype, device=logits.device)
        ranges = []  # per chunk: min and max of x and of Y, for the checks at the end
        positives = []  # the N positives are few: collect them, and handle them apart
        step = _chunk_size(logits.device)
        for start in range(0, x_all.numel(), step):
            x, y = x_all[start : start + step].to(dtype), y_all[start : start + step].to(dtype)
            positives.append(y.eq(1).nonzero().squeeze(1) + start)
            ranges.append(torch.stack([*x.aminmax(), *y.aminmax()]))
            minus_log_p, minus_log_q = _minus_logs(x)
            neg_weight = _power_(1 - y, beta)  # (1 - Y)^beta, 0 at the positives
            # (1 - Y)^beta p^alpha (-log q), with p^alpha = exp(-alpha (-log p))
            neg_sum += minus_log_p.mul_(-alpha).exp_().mul_(minus_log_q).mul_(neg_weight).sum()
        finite = True
        if ranges:
            x_low, x_high, y_low, y_high = torch.stack(ranges).T.tolist()
            validate.probability_target("gt", (min(y_low), max(y_high)))
            finite = math.isfinite(min(x_low)) and math.isfinite(max(x_high))  # NaN too
        pos = torch.cat(positives) if positives else y_all.new_zeros(0, dtype=torch.int64)
        minus_log_p, minus_log_q = _minus_logs(x_all[pos].to(dtype))
        # q^alpha (-log p), with q^alpha = exp(-alpha (-log q))
        pos_sum = minus_log_q.mul_(-alpha).exp_().mul_(minus_log_p).sum()
        ctx.scale = 1 / pos.numel() if pos.numel() else 1.0
        ctx.alpha, ctx.beta = alpha, beta
        ctx.save_for_backward(logits, gt, pos)
        loss = (pos_sum + neg_sum) * ctx.scale
        # A logit of +-inf or NaN has no finite L_k: say so with NaN, as the plain form does.
        return loss if finite else torch.full_like(loss, math.nan)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_loss):
        logits, gt, pos = ctx.saved_tensors
        alpha, beta = ctx.alpha, ctx.beta
        dtype = torch.promote_types(logits.dtype, torch.float32)
        coef = grad_loss.to(dtype) * ctx.scale
        x_all, y_all = logits.contiguous().view(-1), gt.contiguous().view(-1)
        grad = torch.empty(x_all.shape, dtype=logits.dtype, device=logits.device)
        step = _chunk_size(logits.device)
        for x, y, g in zip(x_all.split(step), y_all.split(step), grad.split(step), strict=True):
            minus_log_p, minus_log_q = _minus_logs(x.to(dtype))
            p, q = minus_log_p.neg().exp_(), minus_log_q.neg().exp_()
            neg_weight = _power_(1 - y.to(dtype), beta)
            # d/dx [(1 - Y)^beta p^alpha (-log q)] = (1 - Y)^beta p^alpha (alpha q (-log q) + p)
            p_alpha = _power_(minus_log_p.copy_(p), alpha)
            d = minus_log_q.mul_(q).mul_(alpha).add_(p).mul_(p_alpha).mul_(neg_weight)
            g.copy_(d.mul_(coef))
        # d/dx [q^alpha (-log p)] = -q^alpha (alpha p (-log p) + q)
        minus_log_p, minus_log_q = _minus_logs(x_all[pos].to(dtype))
        p, q = minus_log_p.neg().exp_(), minus_log_q.neg().exp_()
        q_alpha = minus_log_q.mul_(-alpha).exp_()
        d_pos = minus_log_p.mul_(p).mul_(alpha).add_(q).mul_(q_alpha).neg_().mul_(coef)
        grad[pos] = d_pos.to(grad.dtype)
        return grad.view(logits.shape), None, None, None


def focal_loss_fused(logits: torch.Tensor, gt: torch.Tensor, alpha: float, beta: float):
    """L_k from logits ``(B, C, H, W)`` with a hand-derived gradient (no checks of shapes).

    Autograd would keep a dozen heatmap-sized intermediates for the backward pass; this
    saves only x and Y and recomputes, per pixel, the derivative chapter 3 derives:
    -q^alpha [alpha p (-log p) + q] / N at a positive, (1 - Y)^beta p^alpha
    [alpha q (-log q) + p] / N elsewhere, with p = sigmoid(x), q = 1 - p. On a CPU it
    walks the map in cache-sized chunks. Half precision is computed in float32 chunk by
    chunk; the loss is float32 (float64 for float64 input), the gradient has the dtype of
    ``logits``, ``gt`` gets none. ``gt`` outside [0, 1] is a ``ValueError``; a
    non-finite logit gives NaN.
    """
    with torch.autocast(device_type=logits.device.type, enabled=False):
        return _FocalLossFunction.apply(logits, gt, float(alpha), float(beta))


def focal_loss_with_logits_fused(
    logits: torch.Tensor, gt: torch.Tensor, alpha: float = ALPHA, beta: float = BETA
) -> torch.Tensor:
    """``focal_loss_with_logits`` through ``focal_loss_fused``: the same L_k and gradient.

    Same contract and numbers (to float32 rounding), gradients included, with alpha >= 0
    and beta > 0: the kernel leaves out the negative term at the positives, where
    (1 - Y)^beta vanishes. Where ``gt`` requires grad, which the kernel does not give,
    this computes the plain form. ``CenterNetLoss(focal=focal_loss_with_logits_fused)``
    trains with it.
    """
    validate.fused_focal_args(logits, gt, alpha, beta)
    if gt.requires_grad:
        return focal_loss_with_logits(logits, gt, alpha, beta)
    return focal_loss_fused(logits, gt, alpha, beta)


# --------------------------------------------------------------------------- peaks


def _max_along(x: torch.Tensor, dim: int, half: int) -> torch.Tensor:
    """The maximum of each window of 2 half + 1 entries along ``dim`` (a new tensor)."""
    out = x.clone()
    n = x.shape[dim]
    for shift in range(1, min(half, n - 1) + 1):
        # Each entry meets its neighbours `shift` before and after it, in place.
        later, earlier = out.narrow(dim, shift, n - shift), out.narrow(dim, 0, n - shift)
        torch.maximum(later, x.narrow(dim, 0, n - shift), out=later)
        torch.maximum(earlier, x.narrow(dim, shift, n - shift), out=earlier)
    return out


def window_max(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """The maximum over each ``kernel x kernel`` window of ``x (B, C, H, W)``, centred.

    Exactly ``decode.max_pool(x, kernel)``, the reference's max-pool, computed as the
    maximum over columns of the maximum over rows: 2(k - 1) elementwise maxima of shifted
    views instead of k^2 comparisons per pixel. ``kernel`` is odd. Decoding takes it as
    ``pool=window_max``.
    """
    validate.tensor("x", x, 4, "(B, C, H, W)")
    half = validate.odd_positive_int("kernel", kernel) // 2
    return _max_along(_max_along(x, 2, half), 3, half)
