"""The argument checks of the public entry points, one function per entry point.

Each public function of ``heatmap``, ``targets``, ``losses``, ``decode`` and ``fast``
checks its arguments in one call to a function here, named for what it checks, and then
computes; the helpers it calls trust it. Every check raises a ``ValueError`` that names
the argument, says what was expected and shows what came. The checks of one value each
(an integer, a number in a range, a tensor) live in ``validate_base`` and are re-exported.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch

from . import validate_base as base
from .validate_base import *  # noqa: F403  (re-exported: the checks of one value each)

__all__ = [
    *base.__all__,
    "radius_args",
    "gaussian_2d_args",
    "draw_args",
    "encode_args",
    "encode_ctdet_args",
    "encode_exdet_args",
    "scatter_args",
    "sigmoid_args",
    "heatmap_pair",
    "focal_args",
    "fused_focal_args",
    "prior_args",
    "prior_losses_args",
    "reg_l1_args",
    "loss_args",
    "loss_keys",
    "heatmap_head",
    "offset_head",
    "nms_args",
    "topk_args",
    "decode_ctdet_args",
    "decode_exdet_args",
]


# --------------------------------------------------------------------------- heatmap

# The largest box side gaussian_radius takes: the squares of its quadratics stay finite
# in float32 (and in Python floats, whose ** raises OverflowError instead).
_MAX_SIZE = 1e18


def _sizes(height, width) -> None:
    """Sizes are real numbers: arrays and tensors of a real, non-boolean dtype, not a numpy
    array with a tensor; finite, >= 0 and below the bound; of broadcastable shapes."""
    for name, x in (("height", height), ("width", width)):
        base.not_meta(name, x)
        if isinstance(x, torch.Tensor):
            bad = x.dtype == torch.bool or x.is_complex()
        elif isinstance(x, np.ndarray):
            bad = x.dtype.kind not in "iuf"
        else:
            continue
        if bad:
            raise ValueError(f"{name} must hold real numbers (box sizes), got dtype {x.dtype}")
    sizes = (height, width)
    if any(isinstance(x, np.ndarray) for x in sizes) and any(
        isinstance(x, torch.Tensor) for x in sizes
    ):
        raise ValueError(
            "height and width must both be numpy arrays or both torch tensors (or numbers), "
            f"got height {base.type_name(height)} and width {base.type_name(width)}"
        )
    with np.errstate(over="ignore"):  # the bound overflows float16, whose sizes are below it
        base.nonnegative_finite("height", height, _MAX_SIZE)
        base.nonnegative_finite("width", width, _MAX_SIZE)
    try:
        np.broadcast_shapes(np.shape(height), np.shape(width))
    except ValueError:
        raise ValueError(
            "height and width must have broadcastable shapes, got height "
            f"{tuple(np.shape(height))} and width {tuple(np.shape(width))}"
        ) from None


def radius_args(height, width, min_overlap, variant, variants) -> float:
    """``gaussian_radius``: a known variant, sizes in [0, 1e18]; returns o in (0, 1)."""
    base.choice("variant", variant, variants)
    _sizes(height, width)
    return base.number("min_overlap", min_overlap, 0, 1, open_low=True, open_high=True)


def gaussian_2d_args(shape, sigma) -> tuple[int, int]:
    """``gaussian_2d``: a size of two positive integers, sigma > 0; returns the size."""
    size = base.int_pair("shape", shape, labels="")
    base.not_too_large("shape", shape, size)
    base.number("sigma", sigma, 0, open_low=True)
    return size


def draw_args(heatmap, center, radius, k) -> int:
    """``draw_gaussian``: a writeable floating (H, W) map, an integer radius, a finite
    centre and peak; returns the radius as an ``int``."""
    if not isinstance(heatmap, (np.ndarray, torch.Tensor)) or heatmap.ndim != 2:
        got = base.shape_of(heatmap)
        raise ValueError(f"heatmap must be a 2-D numpy array or torch tensor (H, W), got {got}")
    floating = (
        heatmap.is_floating_point()
        if isinstance(heatmap, torch.Tensor)
        else np.issubdtype(heatmap.dtype, np.floating)
    )
    if not floating:  # the Gaussian's values in (0, 1) would be truncated to 0
        raise ValueError(f"heatmap must have a floating-point dtype, got {heatmap.dtype}")
    if isinstance(heatmap, np.ndarray) and not heatmap.flags.writeable:
        raise ValueError(
            "heatmap must be writeable (it is drawn into in place), got a read-only array"
        )
    strides = heatmap.stride() if isinstance(heatmap, torch.Tensor) else heatmap.strides
    if any(s == 0 and n > 1 for s, n in zip(strides, heatmap.shape, strict=True)):
        raise ValueError(
            "heatmap must own its pixels (it is drawn into in place), got a broadcast view "
            "whose pixels share memory; pass a copy (heatmap.clone() or .copy())"
        )
    integral = isinstance(radius, Real) and not isinstance(radius, bool)
    integral = integral and math.isfinite(radius) and int(radius) == radius
    radius = base.nonnegative_int("radius", int(radius) if integral else radius)
    try:
        ok = len(center) == 2 and all(math.isfinite(float(c)) for c in center)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"center must be two finite numbers (x, y), got {center!r}")
    base.number("k", k)
    return radius


# --------------------------------------------------------------------------- targets


def encode_args(num_classes, output_size, max_objs) -> tuple[int, int]:
    """The arguments every encoder shares; returns ``(H, W)``."""
    base.positive_int("num_classes", num_classes)
    base.nonnegative_int("max_objs", max_objs)
    H, W = base.int_pair("output_size", output_size)
    base.not_too_large("max_objs", max_objs, (max_objs, 2))
    base.not_too_large("output_size", output_size, (H, W))
    base.not_too_large("num_classes", num_classes, (num_classes, H, W))
    return H, W


def _labels(labels, n: int, num_classes: int) -> np.ndarray:
    labels = base.real_array("labels", labels)
    base.numeric_labels("labels", labels)
    return base.class_labels("labels", labels, n, num_classes)


def encode_ctdet_args(b, labels, num_classes, output_size, max_objs):
    """``encode_ctdet``: returns ``H, W``, the boxes as a finite ``(N, 4)`` float32 array
    with x1 <= x2, y1 <= y2, the labels as ``(N,)`` int64 in [0, C), and the device."""
    H, W = encode_args(num_classes, output_size, max_objs)
    checked = base.boxes("boxes", base.real_array("boxes", b))
    return H, W, checked, _labels(labels, len(checked), num_classes), base.device_of(b, labels)


def encode_exdet_args(extreme_points, labels, num_classes, output_size, max_objs):
    """``encode_exdet``: returns ``H, W``, the points as ``(N, 4, 2)`` (t, l, b, r, each
    (x, y)) with t_y <= b_y and l_x <= r_x, the labels and the device."""
    H, W = encode_args(num_classes, output_size, max_objs)
    p = base.object_rows(
        "extreme_points",
        base.real_array("extreme_points", extreme_points),
        8,
        "t, l, b, r (x, y each)",
        what="objects",
    )
    pts = p.reshape(-1, 4, 2)
    inverted = (pts[:, 2, 1] < pts[:, 0, 1]) | (pts[:, 3, 0] < pts[:, 1, 0])
    if inverted.any():
        rows = np.flatnonzero(inverted).tolist()
        raise ValueError(
            "extreme points need top y <= bottom y and left x <= right x, "
            f"got {p[inverted].tolist()} (objects {rows})"
        )
    return H, W, pts, _labels(labels, len(pts), num_classes), base.device_of(extreme_points, labels)


def scatter_args(targets, kinds: dict) -> tuple[dict, tuple[int, int, int, int]]:
    """``scatter_targets``: batched targets of one of ``kinds`` (heatmap key -> its
    ``{value key: index key}``); returns those pairs and ``(B, M, H, W)``."""
    if not hasattr(targets, "keys"):
        raise ValueError(f"targets must be a dict of tensors, got {type(targets).__name__}")
    pairs = next((p for key, p in kinds.items() if key in targets), None)
    if pairs is None:
        raise ValueError(
            f"targets must come from encode_ctdet or encode_exdet, got keys {sorted(targets)}"
        )
    heat_keys = [k for k in targets if k.startswith("hm")]
    base.has_keys("targets", targets, [*heat_keys, *pairs, *set(pairs.values()), "reg_mask"])
    hm = base.tensor(heat_keys[0], targets[heat_keys[0]])
    if hm.ndim != 4:
        raise ValueError(
            f"targets must be batched: hm of shape (B, C, H, W), got {tuple(hm.shape)}"
        )
    B, _, H, W = hm.shape
    mask = base.tensor("reg_mask", targets["reg_mask"], 2, "(B, M)")
    if mask.shape[0] != B:
        raise ValueError(f"reg_mask must have shape ({B}, M) to match hm, got {tuple(mask.shape)}")
    M = mask.shape[1]
    for key, ind_key in pairs.items():
        for name, want in ((key, (B, M, 2)), (ind_key, (B, M))):
            t = targets[name]
            base.not_meta(name, t)
            if not isinstance(t, torch.Tensor) or tuple(t.shape) != want:
                raise ValueError(
                    f"{name} must have shape {want} to match reg_mask, got {base.shape_of(t)}"
                )
        base.finite(key, targets[key])
        base.flat_index(targets[ind_key], mask, H, W)
    return pairs, (B, M, H, W)


# --------------------------------------------------------------------------- losses

_PROBABILITIES = " (probabilities: for logits use clamped_sigmoid or focal_loss_with_logits)"


def sigmoid_args(x, eps) -> float:
    """``clamped_sigmoid``: a floating tensor and eps in [0, 0.5); returns eps."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = x.dtype if isinstance(x, torch.Tensor) else base.type_name(x)
        raise ValueError(f"x must be a floating-point torch.Tensor of logits, got {got}")
    try:
        return base.number("eps", eps, 0, 0.5, open_high=True)
    except ValueError:
        raise ValueError(f"eps must lie in [0, 0.5), got {eps!r}") from None


def heatmap_pair(x_name: str, x, gt, *, probabilities: bool = False) -> None:
    """A prediction ``x`` and its target ``gt``: real tensors of one shape, gt in [0, 1]
    (and x too, for ``probabilities``), with one host-device synchronisation for both."""
    base.real_pair(x_name, x, gt)
    if gt.numel():
        maps = (gt, x) if probabilities else (gt,)
        ranges = torch.stack([v for m in maps for v in m.detach().aminmax()]).tolist()
        base.probability_target("gt", ranges[:2])
        if probabilities:
            base.probability_target(x_name, ranges[2:], _PROBABILITIES)


def _exponents(alpha, beta) -> None:
    base.number("alpha", alpha, 0)
    base.number("beta", beta, 0)


def focal_args(logits, gt, alpha, beta) -> None:
    """The focal loss from logits: ``heatmap_pair`` and the exponents alpha, beta >= 0."""
    heatmap_pair("logits", logits, gt)
    _exponents(alpha, beta)


def fused_focal_args(logits, gt, alpha, beta) -> None:
    """The fused focal loss: shapes and dtypes (its kernel checks gt on its own pass over
    it), alpha >= 0 and beta > 0."""
    base.real_pair("logits", logits, gt)
    _exponents(alpha, beta)
    if beta == 0:
        raise ValueError(
            "beta must be a finite number > 0, got 0: the fused kernel leaves out the "
            "negative term at the positives because (1 - Y)^beta vanishes there, which "
            "needs beta > 0 (focal_loss_with_logits accepts beta = 0)"
        )


def _targets_in_unit_interval(gt) -> None:
    if gt.numel():
        base.probability_target("gt", torch.stack(gt.detach().double().aminmax()).tolist())


def prior_args(gt, pi) -> float:
    """``prior_loss``: targets in [0, 1] and pi in (0, 1); returns pi."""
    base.tensor("gt", gt)
    pi = base.number("pi", pi, 0, 1, open_low=True, open_high=True)
    _targets_in_unit_interval(gt)
    return pi


def prior_losses_args(gt, pis) -> torch.Tensor:
    """``prior_losses``: targets in [0, 1] and a 1-D sequence of pi in (0, 1), returned
    as a float64 tensor."""
    base.tensor("gt", gt)
    p = torch.as_tensor(base.numeric_array("pis", pis, np.float64))
    if p.ndim != 1 or not bool(((p > 0) & (p < 1)).all()):
        raise ValueError(f"pis must be a 1-D sequence of numbers in (0, 1), got {pis!r}")
    _targets_in_unit_interval(gt)
    return p


def reg_l1_args(output, mask, ind, target, *, values: bool = True) -> None:
    """``reg_l1_loss``: ``output (B, D, H, W)``, ``mask`` and integer ``ind (B, M)``,
    ``target (B, M, D)``, real dtypes. With ``values`` (one host-device synchronisation
    each) also mask >= 0 and ind inside the map."""
    base.tensor("output", output, 4, "(B, D, H, W)")
    if output.is_complex() or output.dtype == torch.bool:
        raise ValueError(f"output must be a real (floating-point) tensor, got {output.dtype}")
    B, D, H, W = output.shape
    for name, t, want in (("mask", mask, f"({B}, M)"), ("ind", ind, f"({B}, M)")):
        if not isinstance(t, torch.Tensor) or t.ndim != 2 or t.shape[0] != B:
            raise ValueError(f"{name} must have shape {want}, got {base.shape_of(t)}")
        base.not_meta(name, t)
    M = mask.shape[1]
    if ind.shape != mask.shape:
        raise ValueError(f"ind must have the shape of mask ({B}, {M}), got {tuple(ind.shape)}")
    if not isinstance(target, torch.Tensor) or target.shape != (B, M, D):
        raise ValueError(f"target must have shape ({B}, {M}, {D}), got {base.shape_of(target)}")
    base.not_meta("target", target)
    if target.is_complex() or target.dtype == torch.bool:
        raise ValueError(f"target must be a real (floating-point) tensor, got {target.dtype}")
    if values and mask.numel() and mask.dtype not in (torch.bool, torch.uint8):
        low = mask.min()
        if not bool(low >= 0):  # also catches NaN
            raise ValueError(f"mask must hold values >= 0 (1 for an object), got {float(low):g}")
    if values:
        base.flat_index(ind, None, H, W)
    elif ind.dtype.is_floating_point or ind.dtype.is_complex or ind.dtype == torch.bool:
        raise ValueError(f"ind must be an integer tensor, got {ind.dtype}")


def loss_args(focal, alpha, beta, **weights) -> tuple[float, float]:
    """A detection loss's settings: a focal-loss function, alpha >= 0, beta > 0 and
    weights >= 0; returns ``(alpha, beta)`` as floats."""
    if not callable(focal):
        raise ValueError(
            f"focal must be a function (logits, gt, alpha, beta) -> L_k, got {focal!r}"
        )
    alpha = base.number("alpha", alpha, 0)
    beta = base.number("beta", beta, 0, open_low=True)
    for name, v in weights.items():
        base.number(name, v, 0, wanted=">= 0")
    return alpha, beta


def loss_keys(outputs, batch, heads, targets) -> None:
    """``outputs`` holds the ``heads``; ``batch`` holds them and the ``targets`` keys."""
    base.has_keys("outputs", outputs, heads)
    base.has_keys("batch", batch, [*heads, *targets])


def heatmap_head(outputs: dict, batch: dict, key: str) -> None:
    """``outputs[key]`` (logits) and ``batch[key]`` (gt): real tensors of one shape.

    Their values are not read: that would wait for the device on every training step.
    """
    with base.naming(f"outputs[{key!r}] (logits) against batch[{key!r}] (gt)"):
        base.real_pair("logits", outputs[key], batch[key])


def offset_head(outputs: dict, batch: dict, key: str, ind: str, like: str) -> None:
    """Head ``key`` has the batch and map size of head ``like``, and fits its targets as
    ``reg_l1_args`` wants, values not read."""
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
    where = (
        f"outputs[{key!r}] (output) against batch[{key!r}] (target), "
        f"batch[{ind!r}] (ind) and batch['reg_mask'] (mask)"
    )
    with base.naming(where):
        reg_l1_args(out, batch["reg_mask"], batch[ind], batch[key], values=False)


# --------------------------------------------------------------------------- decode


def _window(kernel, pool) -> int:
    kernel = base.odd_positive_int("kernel", kernel)
    if not callable(pool):
        raise ValueError(f"pool must be a function (x, kernel) -> window maxima, got {pool!r}")
    return kernel


def nms_args(heat, kernel, pool) -> int:
    """``heatmap_nms``: a ``(B, C, H, W)`` map without NaN, an odd kernel, a pooling
    function; returns the kernel."""
    base.dense_map("heat", heat)
    kernel = _window(kernel, pool)
    base.map_values([("heat", heat, "scores")])
    return kernel


def topk_args(scores, K) -> int:
    """``topk``: a ``(B, C, H, W)`` map without NaN and 1 <= K <= H*W; returns K."""
    base.dense_map("scores", scores)
    H, W = scores.shape[2:]
    K = base.count("K", K, H * W, f"the map's H*W = {H}*{W}")
    base.map_values([("scores", scores, "scores")])
    return K


def decode_ctdet_args(heat, wh, reg, K, kernel, pool) -> tuple[int, int]:
    """``decode_ctdet``: probabilities ``heat (B, C, H, W)``, ``wh`` and ``reg`` (or None)
    ``(B, 2, H, W)``, 1 <= K <= H*W, an odd kernel; returns ``(K, kernel)``.

    Sizes and offsets pass as they are: a diverged model's NaN makes NaN boxes, which
    ``evaluate`` names detection by detection.
    """
    base.dense_map("heat", heat)
    base.dense_map("wh", wh, 2, heat)
    if reg is not None:
        base.dense_map("reg", reg, 2, heat)
    kernel = _window(kernel, pool)
    H, W = heat.shape[2:]
    K = base.count("K", K, H * W, f"the map's H*W = {H}*{W}")
    base.map_values([("heat", heat, "probabilities")])
    return K, kernel


def decode_exdet_args(outputs, K, num_dets, score_thresh, center_thresh, max_groupings, pool):
    """``decode_exdet``: five probability maps ``hm_t .. hm_c`` of one shape, offsets
    ``reg_t .. reg_r`` (or none) ``(B, 2, H, W)``, K^4 <= ``max_groupings``, 1 <= num_dets
    <= K^4; returns ``K, num_dets, score_thresh, center_thresh``."""
    base.has_keys("outputs", outputs, [f"hm_{p}" for p in "tlbrc"])
    base.dense_map("hm_c", outputs["hm_c"])
    for p in "tlbr":
        base.dense_map(f"hm_{p}", outputs[f"hm_{p}"], None, outputs["hm_c"])
        if outputs.get(f"reg_{p}") is not None:
            base.dense_map(f"reg_{p}", outputs[f"reg_{p}"], 2, outputs["hm_c"])
    H, W = outputs["hm_c"].shape[2:]
    K = base.count("K", K, H * W, f"the map's H*W = {H}*{W}")
    if K**4 > max_groupings:
        raise ValueError(f"K must be at most 64 (its K^4 = {K**4} groupings are too many), got {K}")
    num_dets = base.count("num_dets", num_dets, K**4, f"the K^4 = {K**4} groupings")
    score_thresh = base.number("score_thresh", score_thresh)
    center_thresh = base.number("center_thresh", center_thresh)
    _window(3, pool)
    base.map_values([(f"hm_{p}", outputs[f"hm_{p}"], "probabilities") for p in "tlbrc"])
    return K, num_dets, score_thresh, center_thresh
