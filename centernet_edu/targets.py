"""Training targets: from boxes (or extreme points) to what the losses consume.

For each object with box (x1, y1, x2, y2) in heatmap pixels (image pixels / R):

- its centre p = ((x1 + x2) / 2, (y1 + y2) / 2) is floored to the pixel p~ = floor(p);
- the heatmap of its class gets a Gaussian of radius r(h, w) at p~ (``draw_gaussian``);
- ``ind`` records where p~ sits in the flattened map, ``y * W + x``, so the losses can
  gather the size and offset predictions at exactly that pixel (``gather_feat``);
- ``wh`` is the size s = (x2 - x1, y2 - y1), ``reg`` the offset p - p~ in [0, 1)^2 lost
  by flooring (the key ``reg`` is the original code's name for the offset), and
  ``reg_mask`` marks the slots that hold an object.

The per-object slots ``(M, ...)`` hold at most ``max_objs`` objects; slot k belongs to
the k-th input box, so skipped boxes leave an empty slot, as in the reference code.

``encode_ctdet`` follows the reference one object at a time; ``fast.encode_ctdet_batch``
encodes a padded batch in a few tensor operations, with the same numbers.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import validate
from .heatmap import draw_gaussian, gaussian_radius

__all__ = [
    "encode_ctdet",
    "encode_exdet",
    "scatter_targets",
    "gather_feat",
    "target_radius",
    "EXTREME_PARTS",
]

EXTREME_PARTS = ("t", "l", "b", "r")
# The regression maps each kind of targets holds, by its heatmap key: {value: index}.
_REGRESSION_KEYS = {
    "hm": {"wh": "ind", "reg": "ind"},
    "hm_c": {f"reg_{p}": f"ind_{p}" for p in EXTREME_PARTS},
}


def target_radius(h: float, w: float) -> int:
    """The radius r the targets use for an h x w box: max(0, int(gaussian_radius(ceil h, ceil w)))."""
    return max(0, int(gaussian_radius(math.ceil(h), math.ceil(w))))


def encode_ctdet(boxes, labels, num_classes: int, output_size, max_objs: int = 128) -> dict:
    """CenterNet targets for one image.

    Args:
        boxes: ``(N, 4)`` x1, y1, x2, y2 in heatmap coordinates (already divided by the
            output stride R). Boxes may reach outside the map: they are clipped to it,
            and those left with zero width or height are skipped (empty slot).
        labels: ``(N,)`` integer classes in ``[0, num_classes)``.
        num_classes: C.
        output_size: ``(H, W)`` of the heatmap.
        max_objs: M, the number of object slots; objects past M are dropped.

    Returns:
        dict of torch tensors, on the device of ``boxes`` if it is a tensor:
        ``hm (C, H, W) float32``, ``wh (M, 2) float32`` sizes s, ``reg (M, 2) float32``
        offsets p - p~, ``ind (M,) int64``, ``reg_mask (M,) uint8``.
    """
    H, W, b, lab, device = validate.encode_ctdet_args(
        boxes, labels, num_classes, output_size, max_objs
    )

    hm = np.zeros((num_classes, H, W), dtype=np.float32)
    wh = np.zeros((max_objs, 2), dtype=np.float32)
    reg = np.zeros((max_objs, 2), dtype=np.float32)
    ind = np.zeros(max_objs, dtype=np.int64)
    reg_mask = np.zeros(max_objs, dtype=np.uint8)

    for k in range(min(len(b), max_objs)):
        box = b[k].copy()
        box[[0, 2]] = np.clip(box[[0, 2]], 0, W - 1)
        box[[1, 3]] = np.clip(box[[1, 3]], 0, H - 1)
        h, w = box[3] - box[1], box[2] - box[0]
        if not (h > 0 and w > 0):
            continue
        ct = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], dtype=np.float32)
        ct_int = ct.astype(np.int32)
        draw_gaussian(hm[lab[k]], ct_int, target_radius(h, w))
        wh[k] = w, h
        ind[k] = ct_int[1] * W + ct_int[0]
        reg[k] = ct - ct_int
        reg_mask[k] = 1

    out = {"hm": hm, "wh": wh, "reg": reg, "ind": ind, "reg_mask": reg_mask}
    return {key: torch.from_numpy(v).to(device) for key, v in out.items()}


def encode_exdet(
    extreme_points, labels, num_classes: int, output_size, max_objs: int = 128
) -> dict:
    """ExtremeNet-style targets (the original ``ExdetLoss``'s) for one image.

    Each object is given by its four extreme points: top, left, bottom, right. Every
    point gets a Gaussian on its own heatmap (``hm_t, hm_l, hm_b, hm_r``), an offset and
    an index, like a CenterNet centre; the box centre ((l_x + r_x) / 2, (t_y + b_y) / 2)
    gets a Gaussian on ``hm_c``. All five use the radius of the box the points span.

    Args:
        extreme_points: ``(N, 8)`` as t_x, t_y, l_x, l_y, b_x, b_y, r_x, r_y in heatmap
            coordinates. Points are clipped to the map; objects left with zero width or
            height are skipped.
        labels: ``(N,)`` integer classes in ``[0, num_classes)``.
        num_classes: C.
        output_size: ``(H, W)`` of the heatmaps.
        max_objs: M.

    Returns:
        dict of torch tensors: ``hm_t, hm_l, hm_b, hm_r, hm_c (C, H, W) float32``,
        ``reg_t .. reg_r (M, 2) float32`` offsets, ``ind_t .. ind_r (M,) int64``,
        ``reg_mask (M,) uint8``.
    """
    H, W, pts, lab, device = validate.encode_exdet_args(
        extreme_points, labels, num_classes, output_size, max_objs
    )

    out = {f"hm_{part}": np.zeros((num_classes, H, W), dtype=np.float32) for part in "tlbrc"}
    for part in EXTREME_PARTS:
        out[f"reg_{part}"] = np.zeros((max_objs, 2), dtype=np.float32)
        out[f"ind_{part}"] = np.zeros(max_objs, dtype=np.int64)
    out["reg_mask"] = np.zeros(max_objs, dtype=np.uint8)

    for k in range(min(len(pts), max_objs)):
        q = pts[k].copy()
        q[:, 0] = np.clip(q[:, 0], 0, W - 1)
        q[:, 1] = np.clip(q[:, 1], 0, H - 1)
        h, w = q[2, 1] - q[0, 1], q[3, 0] - q[1, 0]
        if not (h > 0 and w > 0):
            continue
        radius = target_radius(h, w)
        q_int = q.astype(np.int32)
        for j, part in enumerate(EXTREME_PARTS):
            draw_gaussian(out[f"hm_{part}"][lab[k]], q_int[j], radius)
            out[f"reg_{part}"][k] = q[j] - q_int[j]
            out[f"ind_{part}"][k] = q_int[j, 1] * W + q_int[j, 0]
        centre = np.array([(q[3, 0] + q[1, 0]) / 2, (q[0, 1] + q[2, 1]) / 2], np.float32)
        draw_gaussian(out["hm_c"][lab[k]], centre.astype(np.int32), radius)
        out["reg_mask"][k] = 1

    return {key: torch.from_numpy(v).to(device) for key, v in out.items()}


def gather_feat(feat: torch.Tensor, ind: torch.Tensor) -> torch.Tensor:
    """Read a dense map at M flat positions: ``(B, D, H, W)``, ``(B, M)`` -> ``(B, M, D)``.

    ``ind[b, m] = y * W + x`` picks pixel (x, y) of image b, all D channels: the inverse
    of the ``ind`` the encoders record, used by the losses and by decoding. An inner
    helper: its callers check that ``ind`` is an integer tensor inside the map.
    """
    B, D = feat.shape[:2]
    idx = ind.long().unsqueeze(1).expand(B, D, ind.shape[1])
    return feat.flatten(2).gather(2, idx).transpose(1, 2)


def scatter_targets(targets: dict) -> dict:
    """The dense head outputs that a perfect model would predict for ``targets``.

    The inverse of the gather in the losses: each object's size and offset are written
    back at its pixel ``ind``, zeros elsewhere; the heatmaps are the targets themselves.
    Decoding the result (``decode_ctdet`` / ``decode_exdet``) recovers the encoded
    objects, and swapping one of its maps in for a model's output is an oracle ablation.
    A dense map holds one value per pixel: where several objects share a pixel (two
    centres, or two extreme points of one part, of different classes), the object in
    the later slot keeps it, as a model can only predict one of them.

    Args:
        targets: batched ``encode_ctdet`` output (``hm (B, C, H, W)``, ``wh, reg
            (B, M, 2)``, ``ind, reg_mask (B, M)``) or batched ``encode_exdet`` output.

    Returns:
        dict with every ``hm*`` map as probabilities ``(B, C, H, W)`` and every
        regression map ``(B, 2, H, W)``: ``wh, reg``, or ``reg_t .. reg_r``.
    """
    pairs, (B, M, H, W) = validate.scatter_args(targets, _REGRESSION_KEYS)
    mask = targets["reg_mask"].bool()
    later = torch.ones(M, M, dtype=torch.bool, device=mask.device).triu(1)  # [k, j]: j > k
    out = {k: targets[k].clone() for k in targets if k.startswith("hm")}
    for key, ind_key in pairs.items():
        ind = targets[ind_key]
        # Slot k gives way when a later object's slot j writes the same pixel.
        shared = (ind.unsqueeze(2) == ind.unsqueeze(1)) & later & mask.unsqueeze(1)
        keep = mask & ~shared.any(2)
        values = targets[key] * keep.unsqueeze(2)
        dense = values.new_zeros(B, 2, H * W)
        # Every pixel now has at most one writer; empty slots point at pixel 0 with zero
        # values, so adding them changes nothing.
        index = (ind * keep).unsqueeze(1).expand(B, 2, -1)
        dense.scatter_add_(2, index, values.transpose(1, 2))
        out[key] = dense.reshape(B, 2, H, W)
    return out
