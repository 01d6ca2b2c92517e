"""Decoding: from the three head outputs back to boxes.

No box-level NMS is needed: a 3 x 3 max-pool keeps only pixels that are the largest in
their neighbourhood (the heatmap's peaks), and the top K peaks over all classes become
detections. Each peak (x~, y~) of class c and score Yhat reads the offset
(dx, dy) (the ``reg`` head) and size (w, h) predicted at that pixel:

    box = (x~ + dx - w/2,  y~ + dy - h/2,  x~ + dx + w/2,  y~ + dy + h/2)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

from . import validate
from .targets import EXTREME_PARTS, gather_feat

__all__ = ["max_pool", "heatmap_nms", "topk", "decode_ctdet", "decode_exdet", "TopK"]

# The most groupings decode_exdet scores at once (a few hundred MB of temporaries): each
# image has K^4 of them, so K is at most 64, and a batch is decoded a few images at a time.
_MAX_GROUPINGS = 2**24


class TopK(NamedTuple):
    """The K best peaks of each image, each field ``(B, K)``."""

    scores: torch.Tensor  # Yhat at the peak
    inds: torch.Tensor  # flat position y * W + x within the class map (int64)
    clses: torch.Tensor  # class c (int64)
    ys: torch.Tensor  # y~, as floats: float32 for a half-precision map, else its dtype
    xs: torch.Tensor  # x~, likewise (half precision cannot hold every pixel's x)


def max_pool(x: torch.Tensor, kernel: int = 3) -> torch.Tensor:
    """The maximum over each ``kernel x kernel`` window of ``x (B, C, H, W)``, centred.

    The reference's max-pool: stride 1, padded so that off-map pixels never win.
    """
    return F.max_pool2d(x, kernel, stride=1, padding=kernel // 2)


Pool = Callable[[torch.Tensor, int], torch.Tensor]


def heatmap_nms(heat: torch.Tensor, kernel: int = 3, *, pool: Pool = max_pool) -> torch.Tensor:
    """Keep the local maxima of ``heat (B, C, H, W)``, zero elsewhere (a new tensor).

    A pixel survives when it equals the maximum of its ``kernel x kernel`` neighbourhood,
    ``pool(heat, kernel)``; equal neighbours (a plateau) all survive, as in the reference.
    ``pool`` is ``max_pool``, or ``fast.window_max`` for the same numbers in less time.
    Where ``heat`` requires grad the result is ``heat`` times the 0/1 mask of maxima, so
    each surviving peak passes its gradient through; the mask itself has none.
    """
    kernel = validate.nms_args(heat, kernel, pool)
    return _nms(heat, kernel, pool)


def _nms(heat: torch.Tensor, kernel: int, pool: Pool) -> torch.Tensor:
    """``heatmap_nms`` on checked arguments."""
    flat = heat.detach()  # the mask is a comparison: nothing to differentiate
    keep = pool(flat, kernel).eq_(flat)
    if heat.requires_grad:
        return heat * keep
    return keep.mul_(heat)  # 1 where heat is the maximum, times heat


def topk(scores: torch.Tensor, K: int = 100) -> TopK:
    """The K highest scores of ``(B, C, H, W)`` over all classes and positions.

    As in the reference: the top K of each class first, then the top K of those C*K.

    Returns:
        ``TopK(scores, inds, clses, ys, xs)``, each ``(B, K)``: the score, the flat
        position ``y * W + x`` within the class map, the class (int64), and y, x as floats
        (float32 for a float16 or bfloat16 map, whose 8 or 11 bits of precision would round
        x = 599 or x = 4095 to a neighbour; else the map's dtype).
    """
    K = validate.topk_args(scores, K)
    return _topk(scores, K)


def _topk(scores: torch.Tensor, K: int) -> TopK:
    """``topk`` on checked arguments."""
    B, C, H, W = scores.shape
    cls_scores, cls_inds = torch.topk(scores.reshape(B, C, H * W), K)  # (B, C, K)
    top_scores, top = torch.topk(cls_scores.reshape(B, C * K), K)  # (B, K)
    inds = cls_inds.reshape(B, C * K).gather(1, top)
    clses = torch.div(top, K, rounding_mode="floor")
    coords = torch.promote_types(scores.dtype, torch.float32)
    ys = torch.div(inds, W, rounding_mode="floor").to(coords)
    xs = (inds % W).to(coords)
    return TopK(top_scores, inds, clses, ys, xs)


def _centres(peaks: TopK, reg: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Sub-pixel positions: the peak plus its predicted offset, or the pixel centre."""
    if reg is None:
        return peaks.xs + 0.5, peaks.ys + 0.5
    off = gather_feat(reg, peaks.inds)
    return peaks.xs + off[..., 0], peaks.ys + off[..., 1]


def decode_ctdet(
    heat: torch.Tensor,
    wh: torch.Tensor,
    reg: torch.Tensor | None = None,
    K: int = 100,
    *,
    kernel: int = 3,
    pool: Pool = max_pool,
):
    """Detections from CenterNet's heads (the reference ``ctdet_decode``).

    Args:
        heat: Yhat, ``(B, C, H, W)`` probabilities (apply a sigmoid to the logits first).
        wh: ``(B, 2, H, W)`` sizes (w, h) in heatmap pixels.
        reg: ``(B, 2, H, W)`` offsets (dx, dy), or None for the pixel centre (+0.5).
        K: detections per image, at most H*W.
        kernel: the max-pool window of ``heatmap_nms`` (the reference's 3); 1 keeps
            every pixel, that is no suppression at all.
        pool: the window maximum of ``heatmap_nms``: ``max_pool``, or ``fast.window_max``.

    Returns:
        ``(B, K, 6)``: x1, y1, x2, y2 (heatmap pixels), score, class; sorted by score.
        In ``heat``'s dtype, or float32 when ``heat`` is float16 or bfloat16 (whose
        precision cannot hold every pixel position). NaN or infinite sizes or offsets give
        such boxes: ``evaluate`` refuses them.
    """
    K, kernel = validate.decode_ctdet_args(heat, wh, reg, K, kernel, pool)
    peaks = _topk(_nms(heat, kernel, pool), K)
    cx, cy = _centres(peaks, reg)
    size = gather_feat(wh, peaks.inds)
    half_w, half_h = size[..., 0] / 2, size[..., 1] / 2
    boxes = torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], dim=2)
    scores, classes = peaks.scores.unsqueeze(2), peaks.clses.to(boxes.dtype).unsqueeze(2)
    return torch.cat([boxes, scores, classes], dim=2)


class _Candidates(NamedTuple):
    """One extreme-point head's K peaks, each field ``(B, K)``."""

    scores: torch.Tensor
    clses: torch.Tensor
    xs: torch.Tensor  # the peak's pixel, int64
    ys: torch.Tensor
    fx: torch.Tensor  # the sub-pixel point: pixel plus predicted offset
    fy: torch.Tensor


def _candidates(outputs: dict, part: str, K: int, pool: Pool) -> _Candidates:
    peaks = _topk(_nms(outputs[f"hm_{part}"], 3, pool), K)
    fx, fy = _centres(peaks, outputs.get(f"reg_{part}"))
    return _Candidates(peaks.scores, peaks.clses, peaks.xs.long(), peaks.ys.long(), fx, fy)


def _grid(part: str, value: torch.Tensor) -> torch.Tensor:
    """Part ``part``'s K candidates on its own axis of a ``(B, K, K, K, K)`` grid."""
    shape = [value.shape[0], 1, 1, 1, 1]
    shape[1 + EXTREME_PARTS.index(part)] = value.shape[1]
    return value.reshape(shape)


def _group_scores(cands: dict, hm_c: torch.Tensor, score_thresh, center_thresh):
    """The score of each of the K^4 groupings ``(B, K, K, K, K)``, -1 where invalid."""
    B, C, H, W = hm_c.shape
    s, c, x, y = (
        {p: _grid(p, getattr(cands[p], f)) for p in EXTREME_PARTS}
        for f in ("scores", "clses", "xs", "ys")
    )
    valid = (c["t"] == c["l"]) & (c["t"] == c["b"]) & (c["t"] == c["r"])
    for p in EXTREME_PARTS:
        valid = valid & (s[p] >= score_thresh)
    # t is the highest point, b the lowest, l the leftmost, r the rightmost.
    valid = (
        valid & (y["t"] <= y["l"]) & (y["t"] <= y["r"]) & (y["b"] >= y["l"]) & (y["b"] >= y["r"])
    )
    valid = (
        valid & (x["l"] <= x["t"]) & (x["l"] <= x["b"]) & (x["r"] >= x["t"]) & (x["r"] >= x["b"])
    )
    cx = torch.div(x["l"] + x["r"], 2, rounding_mode="floor")
    cy = torch.div(y["t"] + y["b"], 2, rounding_mode="floor")
    flat = ((c["t"] * H + cy) * W + cx).expand(valid.shape)
    # (B, -1) cannot be inferred for an empty batch: name its 0 columns.
    center = hm_c.reshape(B, C * H * W).gather(1, flat.reshape(B, -1 if B else 0))
    center = center.reshape(valid.shape)
    valid = valid & (center >= center_thresh)
    score = (s["t"] + s["l"] + s["b"] + s["r"] + 2 * center) / 6
    return torch.where(valid, score, torch.full_like(score, -1))


def decode_exdet(
    outputs: dict,
    K: int = 40,
    num_dets: int = 100,
    score_thresh: float = 0.1,
    center_thresh: float = 0.1,
    *,
    pool: Pool = max_pool,
):
    """Detections from the extreme-point heads, by grouping (as in ExtremeNet).

    The top K peaks of each of the four extreme-point heatmaps are combined in all K^4
    ways. A quadruple (t, l, b, r) is kept when all four share a class and score at least
    ``score_thresh``, their geometry is a box (t is the highest point, b the lowest, l the
    leftmost, r the rightmost: t_y <= l_y, r_y <= b_y and l_x <= t_x, b_x <= r_x), and
    the centre heatmap at the box's centre pixel scores at least ``center_thresh``. Its
    score is (Yhat_t + Yhat_l + Yhat_b + Yhat_r + 2 Yhat_c) / 6.

    Args:
        outputs: ``hm_t, hm_l, hm_b, hm_r, hm_c`` probabilities ``(B, C, H, W)``, and
            optionally ``reg_t .. reg_r`` offsets ``(B, 2, H, W)``.
        K: peaks per extreme-point heatmap, at most 64 (memory grows as K^4; a batch is
            decoded a few images at a time).
        num_dets: detections per image, at most K^4.
        pool: the 3 x 3 window maximum of ``heatmap_nms``, as in ``decode_ctdet``.

    Returns:
        ``(B, num_dets, 14)``: x1, y1, x2, y2, score, class (as ``decode_ctdet``), then
        the extreme points t_x, t_y, l_x, l_y, b_x, b_y, r_x, r_y. Rows that are not a
        valid grouping (fewer than num_dets exist) have score -1.
    """
    K, num_dets, *thresholds = validate.decode_exdet_args(
        outputs, K, num_dets, score_thresh, center_thresh, _MAX_GROUPINGS, pool
    )
    B = outputs["hm_c"].shape[0]
    step = max(1, _MAX_GROUPINGS // K**4)  # images decoded at once
    if B <= step:
        return _group(outputs, K, num_dets, *thresholds, pool)
    chunks = (
        {k: v[i : i + step] for k, v in outputs.items() if isinstance(v, torch.Tensor)}
        for i in range(0, B, step)
    )
    return torch.cat([_group(c, K, num_dets, *thresholds, pool) for c in chunks])


def _group(outputs: dict, K: int, num_dets: int, score_thresh, center_thresh, pool) -> torch.Tensor:
    """``decode_exdet`` on checked arguments, for a few images."""
    B = outputs["hm_c"].shape[0]
    cands = {p: _candidates(outputs, p, K, pool) for p in EXTREME_PARTS}
    score = _group_scores(cands, outputs["hm_c"], score_thresh, center_thresh)
    best, idx = torch.topk(score.reshape(B, K**4), num_dets)
    # idx is a flat index into (K, K, K, K): one base-K digit per part, t first.
    pick = {
        p: torch.div(idx, K ** (3 - j), rounding_mode="floor") % K
        for j, p in enumerate(EXTREME_PARTS)
    }
    fx = {p: cands[p].fx.gather(1, pick[p]) for p in EXTREME_PARTS}
    fy = {p: cands[p].fy.gather(1, pick[p]) for p in EXTREME_PARTS}
    cls = cands["t"].clses.gather(1, pick["t"]).to(fx["t"].dtype)
    cols = [fx["l"], fy["t"], fx["r"], fy["b"], best, cls]
    for p in EXTREME_PARTS:
        cols += [fx[p], fy[p]]
    return torch.stack(cols, dim=2)
