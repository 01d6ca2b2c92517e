"""Training targets: from boxes (or extreme points) to what the losses consume.

For each object with box (x1, y1, x2, y2) in heatmap pixels (image pixels / R):

- its centre p = ((x1 + x2) / 2, (y1 + y2) / 2) is floored to the pixel p~ = floor(p);
- the heatmap of its class gets a Gaussian of radius r(h, w) at p~ (``draw_gaussian``);
- ``ind`` records where p~ sits in the flattened map, ``y * W + x``, so the losses can
  gather the size and offset predictions at exactly that pixel;
- ``wh`` is the size s = (x2 - x1, y2 - y1), ``reg`` the offset p - p~ in [0, 1)^2 lost
  by flooring, and ``reg_mask`` marks the slots that hold an object.

The per-object slots ``(M, ...)`` hold at most ``max_objs`` objects; slot k belongs to
the k-th input box, so skipped boxes leave an empty slot, as in the reference code.

``encode_ctdet`` follows the reference one object at a time; ``encode_ctdet_batch`` encodes
a padded batch in a few tensor operations on the inputs' device, with the same numbers.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from .heatmap import draw_gaussian, gaussian_radius, render_gaussians

__all__ = [
    "encode_ctdet",
    "encode_ctdet_batch",
    "encode_exdet",
    "scatter_targets",
    "EXTREME_PARTS",
]

EXTREME_PARTS = ("t", "l", "b", "r")


def _as_numpy(name: str, x, dtype) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be numeric, got {x!r}") from e


def _check_common(num_classes, output_size, max_objs) -> tuple[int, int]:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if len(output_size) != 2 or any(
        isinstance(s, bool) or int(s) != s or s < 1 for s in output_size
    ):
        raise ValueError(f"output_size must be two positive integers (H, W), got {output_size!r}")
    if isinstance(max_objs, bool) or not isinstance(max_objs, (int, np.integer)) or max_objs < 0:
        raise ValueError(f"max_objs must be a non-negative integer, got {max_objs!r}")
    return int(output_size[0]), int(output_size[1])


def _check_labels(labels, n: int, num_classes: int) -> np.ndarray:
    raw = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if raw.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match the objects, got {raw.shape}")
    if n and not (np.issubdtype(raw.dtype, np.integer) or np.all(np.mod(raw, 1) == 0)):
        raise ValueError(f"labels must be integers, got {raw}")
    lab = raw.astype(np.int64)
    bad = (lab < 0) | (lab >= num_classes)
    if bad.any():
        raise ValueError(
            f"labels must lie in [0, {num_classes}), got {lab[bad].tolist()} "
            f"(objects {np.flatnonzero(bad).tolist()})"
        )
    return lab


def _device_of(*xs) -> torch.device:
    for x in xs:
        if isinstance(x, torch.Tensor):
            return x.device
    return torch.device("cpu")


def _radius(h: float, w: float) -> int:
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
        ``hm (C, H, W) float32``, ``wh (M, 2) float32``, ``reg (M, 2) float32``,
        ``ind (M,) int64``, ``reg_mask (M,) uint8``.
    """
    H, W = _check_common(num_classes, output_size, max_objs)
    b = _as_numpy("boxes", boxes, np.float32)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4) as x1, y1, x2, y2, got {b.shape}")
    if not np.isfinite(b).all():
        rows = np.flatnonzero(~np.isfinite(b).all(axis=1)).tolist()
        raise ValueError(f"boxes must be finite, got NaN or infinity in boxes {rows}")
    inverted = (b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1])
    if inverted.any():
        rows = np.flatnonzero(inverted).tolist()
        raise ValueError(
            f"boxes need x1 <= x2 and y1 <= y2, got {b[inverted].tolist()} (boxes {rows})"
        )
    lab = _check_labels(labels, len(b), num_classes)

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
        radius = _radius(h, w)
        ct = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], dtype=np.float32)
        ct_int = ct.astype(np.int32)
        draw_gaussian(hm[lab[k]], ct_int, radius)
        wh[k] = w, h
        ind[k] = ct_int[1] * W + ct_int[0]
        reg[k] = ct - ct_int
        reg_mask[k] = 1

    device = _device_of(boxes, labels)
    out = {"hm": hm, "wh": wh, "reg": reg, "ind": ind, "reg_mask": reg_mask}
    return {key: torch.from_numpy(v).to(device) for key, v in out.items()}


@functools.lru_cache(maxsize=16)
def _radius_table(height: int, width: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """``table[h, w] = _radius(h, w)`` for every integer box size h < height, w < width.

    Vectorised in numpy float64, then every entry within 1e-6 of an integer is
    recomputed by the scalar rule itself. Integer sizes often give a radius that is an
    integer in exact arithmetic (7 for a 15 x 70 box), and there the last bit of the
    square root decides what ``int`` returns: numpy's ``sqrt`` and the scalar code's
    ``** 0.5`` may round that bit differently (torch's CPU ``sqrt`` does, and gives 6).
    Elsewhere the two differ by a few 1e-14 at most, far from changing ``int(r)``.
    """
    h, w = np.meshgrid(
        np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64), indexing="ij"
    )
    r = gaussian_radius(h, w)
    table = np.maximum(0, r.astype(np.int64))
    near = np.abs(r - np.round(r)) < 1e-6
    for i, j in zip(*np.nonzero(near), strict=True):
        table[i, j] = _radius(int(i), int(j))
    return torch.from_numpy(table).to(device)


def _float32_tensor(name: str, x, device) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().to(device=device, dtype=torch.float32)
    return torch.from_numpy(_as_numpy(name, x, np.float32)).to(device)


def _check_batch_labels(labels, shape: tuple[int, int], num_classes: int, device) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor):
        try:
            labels = torch.as_tensor(np.asarray(labels))
        except (TypeError, ValueError) as e:
            raise ValueError(f"labels must be numeric, got {labels!r}") from e
    if tuple(labels.shape) != shape:
        raise ValueError(
            f"labels must have shape {shape} to match the boxes, got {tuple(labels.shape)}"
        )
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


def encode_ctdet_batch(boxes, labels, num_classes: int, output_size, max_objs: int = 128) -> dict:
    """``encode_ctdet`` for a padded batch of images, without a loop over objects.

    Image b holds the boxes ``boxes[b, n]`` whose label is not -1; padding rows (label
    -1) must follow all real rows of their image, and their coordinates are ignored. Box
    n goes to slot n, so the result for image b is exactly
    ``encode_ctdet(boxes[b, :n_b], labels[b, :n_b], ...)`` with n_b its number of real
    boxes, stacked on a new batch axis: the same clipping, the same skipped (empty)
    slots, the same radius r = max(0, int(gaussian_radius(ceil(h), ceil(w)))), the same
    float32 centres p, floored centres p~, offsets p - p~ and sizes, the same heatmap to
    the last bit. Boxes in rows n >= ``max_objs`` are dropped.

    All objects are encoded together in torch, on the device of the inputs:
    ``render_gaussians`` draws every Gaussian of the batch at once, and the radius comes
    from a cached table of ``gaussian_radius`` over all integer box sizes of the map.

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
        ``reg (B, M, 2) float32``, ``ind (B, M) int64``, ``reg_mask (B, M) uint8``.

    Raises:
        ValueError: as ``encode_ctdet`` does (shapes, NaN or infinite coordinates,
            x2 < x1 or y2 < y1, labels outside ``[0, num_classes)``), for real boxes;
            and for a real box after padding in its image.
    """
    H, W = _check_common(num_classes, output_size, max_objs)
    device = _device_of(boxes, labels)
    b = _float32_tensor("boxes", boxes, device)
    if b.ndim != 3 or b.shape[2] != 4:
        raise ValueError(f"boxes must have shape (B, N, 4) as x1, y1, x2, y2, got {tuple(b.shape)}")
    B, N = b.shape[:2]
    lab = _check_batch_labels(labels, (B, N), num_classes, device)
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

    k = min(N, max_objs)
    b, lab = b[:, :k], lab[:, :k]
    # float32 throughout, operation for operation as encode_ctdet does it in numpy.
    x1, x2 = b[..., 0].clamp(0, W - 1), b[..., 2].clamp(0, W - 1)
    y1, y2 = b[..., 1].clamp(0, H - 1), b[..., 3].clamp(0, H - 1)
    h, w = y2 - y1, x2 - x1
    keep = (lab >= 0) & (h > 0) & (w > 0)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    ix, iy = cx.long(), cy.long()  # truncation = floor, since centres are >= 0

    radius_table = _radius_table(H, W, device)
    radius = radius_table[
        torch.ceil(h).long().clamp(0, H - 1), torch.ceil(w).long().clamp(0, W - 1)
    ]
    img = torch.arange(B, device=device).unsqueeze(1).expand(B, k)
    hm = render_gaussians(
        (B * num_classes, H, W),
        (img * num_classes + lab)[keep],
        torch.stack([ix, iy], dim=-1)[keep],
        radius[keep],
    ).reshape(B, num_classes, H, W)

    zero = torch.zeros((), dtype=torch.float32, device=device)
    wh = torch.zeros(B, max_objs, 2, dtype=torch.float32, device=device)
    reg = torch.zeros(B, max_objs, 2, dtype=torch.float32, device=device)
    ind = torch.zeros(B, max_objs, dtype=torch.int64, device=device)
    reg_mask = torch.zeros(B, max_objs, dtype=torch.uint8, device=device)
    wh[:, :k] = torch.where(keep.unsqueeze(-1), torch.stack([w, h], dim=-1), zero)
    off = torch.stack([cx - ix.to(torch.float32), cy - iy.to(torch.float32)], dim=-1)
    reg[:, :k] = torch.where(keep.unsqueeze(-1), off, zero)
    ind[:, :k] = torch.where(keep, iy * W + ix, 0)
    reg_mask[:, :k] = keep.to(torch.uint8)
    return {"hm": hm, "wh": wh, "reg": reg, "ind": ind, "reg_mask": reg_mask}


def encode_exdet(
    extreme_points, labels, num_classes: int, output_size, max_objs: int = 128
) -> dict:
    """ExtremeNet-style targets (the seed's ``ExdetLoss``) for one image.

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
        ``reg_t .. reg_r (M, 2) float32``, ``ind_t .. ind_r (M,) int64``,
        ``reg_mask (M,) uint8``.
    """
    H, W = _check_common(num_classes, output_size, max_objs)
    p = _as_numpy("extreme_points", extreme_points, np.float32)
    if p.ndim != 2 or p.shape[1] != 8:
        raise ValueError(
            f"extreme_points must have shape (N, 8) as t, l, b, r (x, y each), got {p.shape}"
        )
    if not np.isfinite(p).all():
        rows = np.flatnonzero(~np.isfinite(p).all(axis=1)).tolist()
        raise ValueError(f"extreme_points must be finite, got NaN or infinity in objects {rows}")
    pts = p.reshape(-1, 4, 2)
    inverted = (pts[:, 2, 1] < pts[:, 0, 1]) | (pts[:, 3, 0] < pts[:, 1, 0])
    if inverted.any():
        rows = np.flatnonzero(inverted).tolist()
        raise ValueError(
            "extreme points need top y <= bottom y and left x <= right x, "
            f"got {p[inverted].tolist()} (objects {rows})"
        )
    lab = _check_labels(labels, len(p), num_classes)

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
        radius = _radius(h, w)
        q_int = q.astype(np.int32)
        for j, part in enumerate(EXTREME_PARTS):
            draw_gaussian(out[f"hm_{part}"][lab[k]], q_int[j], radius)
            out[f"reg_{part}"][k] = q[j] - q_int[j]
            out[f"ind_{part}"][k] = q_int[j, 1] * W + q_int[j, 0]
        ct = np.array([(q[3, 0] + q[1, 0]) / 2, (q[0, 1] + q[2, 1]) / 2], dtype=np.float32)
        draw_gaussian(out["hm_c"][lab[k]], ct.astype(np.int32), radius)
        out["reg_mask"][k] = 1

    device = _device_of(extreme_points, labels)
    return {key: torch.from_numpy(v).to(device) for key, v in out.items()}


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
    if "hm" in targets:
        pairs = {"wh": "ind", "reg": "ind"}
    elif "hm_c" in targets:
        pairs = {f"reg_{p}": f"ind_{p}" for p in EXTREME_PARTS}
    else:
        raise ValueError(
            f"targets must come from encode_ctdet or encode_exdet, got keys {sorted(targets)}"
        )
    heat_keys = [k for k in targets if k.startswith("hm")]
    hm = targets[heat_keys[0]]
    if hm.ndim != 4:
        raise ValueError(
            f"targets must be batched: hm of shape (B, C, H, W), got {tuple(hm.shape)}"
        )
    B, _, H, W = hm.shape
    mask = targets["reg_mask"].bool()
    M = mask.shape[1]
    later = torch.ones(M, M, dtype=torch.bool, device=mask.device).triu(1)  # [k, j]: j > k
    out = {k: targets[k].clone() for k in heat_keys}
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
