"""Decoding: from the three head outputs back to boxes.

No box-level NMS is needed: a 3 x 3 max-pool keeps only pixels that are the largest in
their neighbourhood (the heatmap's peaks), and the top K peaks over all classes become
detections. Each peak (x~, y~) of class c and score Yhat reads the offset
(dx, dy) and size (w, h) predicted at that pixel:

    box = (x~ + dx - w/2,  y~ + dy - h/2,  x~ + dx + w/2,  y~ + dy + h/2)
"""

from __future__ import annotations

from numbers import Integral

import torch
import torch.nn.functional as F

from .losses import gather_feat
from .targets import EXTREME_PARTS

__all__ = ["heatmap_nms", "topk", "decode_ctdet", "decode_exdet"]


def _check_map(name: str, x, channels: int | None = None, like: torch.Tensor | None = None) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(
            f"{name} must be a (B, C, H, W) tensor, got {getattr(x, 'shape', type(x))}"
        )
    if channels is not None and like is not None:
        want = (like.shape[0], channels, *like.shape[2:])
        if tuple(x.shape) != want:
            raise ValueError(f"{name} must have shape {want} to match heat, got {tuple(x.shape)}")


def _check_k(name: str, k, limit: int, what: str) -> int:
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise ValueError(f"{name} must be a positive integer, got {k!r}")
    if k > limit:
        raise ValueError(f"{name} = {k} is larger than {what} ({limit})")
    return int(k)


def heatmap_nms(heat: torch.Tensor, kernel: int = 3) -> torch.Tensor:
    """Keep the local maxima of ``heat (B, C, H, W)``, zero elsewhere (a new tensor).

    A pixel survives when it equals the maximum of its ``kernel x kernel``
    neighbourhood; equal neighbours (a plateau) all survive, as in the reference.
    """
    _check_map("heat", heat)
    if (
        isinstance(kernel, bool)
        or not isinstance(kernel, Integral)
        or kernel < 1
        or kernel % 2 == 0
    ):
        raise ValueError(f"kernel must be a positive odd integer, got {kernel!r}")
    hmax = F.max_pool2d(heat, kernel, stride=1, padding=(kernel - 1) // 2)
    return heat * (hmax == heat).to(heat.dtype)


def topk(scores: torch.Tensor, K: int = 100):
    """The K highest scores of ``(B, C, H, W)`` over all classes and positions.

    As in the reference: the top K of each class first, then the top K of those C*K.

    Returns:
        ``(scores, inds, clses, ys, xs)``, each ``(B, K)``: the score, the flat position
        ``y * W + x`` within the class map, the class (int64), and y, x as floats.
    """
    _check_map("scores", scores)
    B, C, H, W = scores.shape
    K = _check_k("K", K, H * W, f"the map's H*W = {H}*{W}")
    cls_scores, cls_inds = torch.topk(scores.reshape(B, C, H * W), K)  # (B, C, K)
    top_scores, top = torch.topk(cls_scores.reshape(B, C * K), K)  # (B, K)
    inds = cls_inds.reshape(B, C * K).gather(1, top)
    clses = torch.div(top, K, rounding_mode="floor")
    ys = torch.div(inds, W, rounding_mode="floor").to(scores.dtype)
    xs = (inds % W).to(scores.dtype)
    return top_scores, inds, clses, ys, xs


def _centres(xs: torch.Tensor, ys: torch.Tensor, reg: torch.Tensor | None, inds: torch.Tensor):
    """Sub-pixel positions: the peak plus its predicted offset, or the pixel centre."""
    if reg is None:
        return xs + 0.5, ys + 0.5
    off = gather_feat(reg, inds)
    return xs + off[..., 0], ys + off[..., 1]


def decode_ctdet(
    heat: torch.Tensor,
    wh: torch.Tensor,
    reg: torch.Tensor | None = None,
    K: int = 100,
    *,
    kernel: int = 3,
):
    """Detections from CenterNet's heads (the reference ``ctdet_decode``).

    Args:
        heat: Yhat, ``(B, C, H, W)`` probabilities (apply a sigmoid to the logits first).
        wh: ``(B, 2, H, W)`` sizes (w, h) in heatmap pixels.
        reg: ``(B, 2, H, W)`` offsets (dx, dy), or None for the pixel centre (+0.5).
        K: detections per image, at most H*W.
        kernel: the max-pool window of ``heatmap_nms`` (the reference's 3); 1 keeps
            every pixel, that is no suppression at all.

    Returns:
        ``(B, K, 6)``: x1, y1, x2, y2 (heatmap pixels), score, class; sorted by score.
    """
    _check_map("heat", heat)
    _check_map("wh", wh, 2, heat)
    if reg is not None:
        _check_map("reg", reg, 2, heat)
    scores, inds, clses, ys, xs = topk(heatmap_nms(heat, kernel), K)
    cx, cy = _centres(xs, ys, reg, inds)
    size = gather_feat(wh, inds)
    half_w, half_h = size[..., 0] / 2, size[..., 1] / 2
    boxes = torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], dim=2)
    return torch.cat([boxes, scores.unsqueeze(2), clses.to(boxes.dtype).unsqueeze(2)], dim=2)


def decode_exdet(
    outputs: dict,
    K: int = 40,
    num_dets: int = 100,
    score_thresh: float = 0.1,
    center_thresh: float = 0.1,
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
        K: peaks per extreme-point heatmap (memory grows as K^4).
        num_dets: detections per image, at most K^4.

    Returns:
        ``(B, num_dets, 14)``: x1, y1, x2, y2, score, class (as ``decode_ctdet``), then
        the extreme points t_x, t_y, l_x, l_y, b_x, b_y, r_x, r_y. Rows that are not a
        valid grouping (fewer than num_dets exist) have score -1.
    """
    missing = [f"hm_{p}" for p in "tlbrc" if f"hm_{p}" not in outputs]
    if missing:
        raise ValueError(f"outputs must hold hm_t, hm_l, hm_b, hm_r, hm_c; missing {missing}")
    hm_c = outputs["hm_c"]
    _check_map("hm_c", hm_c)
    B, C, H, W = hm_c.shape
    for p in EXTREME_PARTS:
        _check_map(f"hm_{p}", outputs[f"hm_{p}"], C, hm_c)
        if outputs.get(f"reg_{p}") is not None:
            _check_map(f"reg_{p}", outputs[f"reg_{p}"], 2, hm_c)
    K = _check_k("K", K, H * W, f"the map's H*W = {H}*{W}")
    num_dets = _check_k("num_dets", num_dets, K**4, f"the K^4 = {K**4} groupings")

    peaks = {}
    for p in EXTREME_PARTS:
        scores, inds, clses, ys, xs = topk(heatmap_nms(outputs[f"hm_{p}"]), K)
        fx, fy = _centres(xs, ys, outputs.get(f"reg_{p}"), inds)
        peaks[p] = (scores, clses, xs.long(), ys.long(), fx, fy)

    def axis(p: str, value: torch.Tensor) -> torch.Tensor:
        # Put part p's K candidates on its own axis of a (B, K, K, K, K) grid.
        shape = [B, 1, 1, 1, 1]
        shape[1 + EXTREME_PARTS.index(p)] = K
        return value.reshape(shape)

    s = {p: axis(p, peaks[p][0]) for p in EXTREME_PARTS}
    c = {p: axis(p, peaks[p][1]) for p in EXTREME_PARTS}
    x = {p: axis(p, peaks[p][2]) for p in EXTREME_PARTS}
    y = {p: axis(p, peaks[p][3]) for p in EXTREME_PARTS}

    valid = (c["t"] == c["l"]) & (c["t"] == c["b"]) & (c["t"] == c["r"])
    for p in EXTREME_PARTS:
        valid = valid & (s[p] >= score_thresh)
    valid = (
        valid & (y["t"] <= y["l"]) & (y["t"] <= y["r"]) & (y["b"] >= y["l"]) & (y["b"] >= y["r"])
    )
    valid = (
        valid & (x["l"] <= x["t"]) & (x["l"] <= x["b"]) & (x["r"] >= x["t"]) & (x["r"] >= x["b"])
    )

    cx = torch.div(x["l"] + x["r"], 2, rounding_mode="floor")
    cy = torch.div(y["t"] + y["b"], 2, rounding_mode="floor")
    flat = (c["t"] * H + cy) * W + cx  # broadcasts to (B, K, K, K, K)
    center = hm_c.reshape(B, -1).gather(1, flat.expand(B, K, K, K, K).reshape(B, -1))
    center = center.reshape(B, K, K, K, K)
    valid = valid & (center >= center_thresh)
    score = (s["t"] + s["l"] + s["b"] + s["r"] + 2 * center) / 6
    score = torch.where(valid, score, torch.full_like(score, -1))

    best, idx = torch.topk(score.reshape(B, -1), num_dets)
    pick = {
        "t": torch.div(idx, K**3, rounding_mode="floor"),
        "l": torch.div(idx, K**2, rounding_mode="floor") % K,
        "b": torch.div(idx, K, rounding_mode="floor") % K,
        "r": idx % K,
    }
    fx = {p: peaks[p][4].gather(1, pick[p]) for p in EXTREME_PARTS}
    fy = {p: peaks[p][5].gather(1, pick[p]) for p in EXTREME_PARTS}
    cls = peaks["t"][1].gather(1, pick["t"]).to(best.dtype)
    cols = [fx["l"], fy["t"], fx["r"], fy["b"], best, cls]
    for p in EXTREME_PARTS:
        cols += [fx[p], fy[p]]
    return torch.stack(cols, dim=2)
