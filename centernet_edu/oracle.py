"""The ground-truth maps of the oracle ablations, filled as the original code fills them.

The CenterNet paper's error analysis (Appendix E, Table 7) swaps a ground-truth map in
for one of the model's: "we use the nearest ground truth size for each detection". The
original code makes that map dense: every pixel takes the size (or offset) of the object
whose flood fill reaches it first. The fill starts at the objects' centre pixels, in slot
order, and spreads one 4-neighbour step at a time (breadth first); when several fills
reach a pixel in the same step, the one queued first wins. So a centre found a pixel or
two off still reads its object's true size, where a map of zeros off the centres
(``scatter_targets``) would give it size 0.

Two quirks of the original are kept, for parity:

- an object whose flat index ``ind`` is 0 (its centre at pixel (0, 0)) is skipped, as
  the original tests ``ind > 0`` to find the filled slots;
- two objects sharing a centre pixel: the later slot's value is written at the pixel, but
  the fill spreads the earlier one's, which was queued first.
"""

from __future__ import annotations

import numpy as np
import torch

from . import validate
from .targets import scatter_targets

__all__ = ["flood_fill", "oracle_maps"]

# (dx, dy): the order in which a pixel's neighbours are visited, as in the original.
_STEPS = np.array([(0, 1), (0, -1), (1, 0), (-1, 0)])


def _fill_one(values: np.ndarray, ind: np.ndarray, height: int, width: int) -> np.ndarray:
    """One image: ``values (M, D)`` spread from the pixels ``ind (M,)``: ``(D, H * W)``."""
    out = np.zeros((values.shape[1], height * width), values.dtype)
    seeds = np.flatnonzero(ind > 0)  # the original's test for a filled slot
    if seeds.size == 0:
        return out
    owner = np.full(height * width, -1)
    pixels, slots = ind[seeds], seeds
    owner[pixels] = slots  # a later slot at the same pixel overwrites the value there
    out[:, pixels] = values[slots].T
    while pixels.size:
        x, y = pixels % width, pixels // width
        nx, ny = x[:, None] + _STEPS[:, 0], y[:, None] + _STEPS[:, 1]  # (queue, 4)
        # Order of discovery: the queue's order, then the steps' order.
        rank = np.arange(nx.size).reshape(nx.shape)
        inside = (nx >= 0) & (nx < width) & (ny >= 0) & (ny < height)
        target = np.where(inside, ny * width + nx, 0)
        fresh = inside & (owner[target] < 0)
        target, rank = target[fresh], rank[fresh]
        source = np.broadcast_to(slots[:, None], nx.shape)[fresh]
        order = np.argsort(rank, kind="stable")
        target, source = target[order], source[order]
        first = np.unique(target, return_index=True)[1]  # the first to reach each pixel
        first.sort()  # back in the order the pixels join the queue
        pixels, slots = target[first], source[first]
        owner[pixels] = slots
        out[:, pixels] = values[slots].T
    return out


def flood_fill(values: torch.Tensor, ind: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Dense maps from the objects' values: each pixel takes the value of the object
    whose 4-neighbour flood fill, from its centre pixel, reaches it first.

    Args:
        values: ``(B, M, D)`` per-slot values (``wh`` or ``reg`` of ``encode_ctdet``).
        ind: ``(B, M)`` flat centre pixels ``y * W + x``; slots with ``ind`` 0 are
            skipped, as in the original (an object centred at (0, 0) included).
        height, width: the map's size ``(H, W)``.

    Returns:
        ``(B, D, H, W)`` in ``values``' dtype, on its device; all zeros for an image
        without objects.
    """
    validate.tensor("values", values, 3, "(B, M, D)")
    validate.tensor("ind", ind, 2, "(B, M)")
    if ind.shape != values.shape[:2]:
        raise ValueError(
            f"ind must have the shape (B, M) {tuple(values.shape[:2])} of values, "
            f"got {tuple(ind.shape)}"
        )
    H = validate.positive_int("height", height)
    W = validate.positive_int("width", width)
    B, _, D = values.shape
    validate.not_too_large("height and width", (H, W), (B, max(D, 1), H, W))
    flat = ind.detach().cpu().numpy().astype(np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= H * W):
        raise ValueError(f"ind must hold pixels in [0, {H * W}) of a {H} x {W} map")
    v = values.detach().cpu().float().numpy()
    filled = np.zeros((0, D, H * W), np.float32)  # an empty batch
    if B:
        filled = np.stack([_fill_one(v[b], flat[b], H, W) for b in range(B)])
    out = torch.from_numpy(filled.reshape(B, D, H, W))
    return out.to(device=values.device, dtype=values.dtype)


def oracle_maps(targets: dict) -> dict:
    """The ground-truth maps ``hm, wh, reg`` of batched ``encode_ctdet`` targets, as the
    original's oracles use them: the heatmaps as they are, sizes and offsets flood-filled
    (``flood_fill``) over the whole map.

    ``targets`` holds ``hm (B, C, H, W)``, ``wh, reg (B, M, 2)``, ``ind, reg_mask (B, M)``.
    """
    maps = scatter_targets(targets)  # checks the targets; its heatmap is the truth's
    H, W = maps["hm"].shape[-2:]
    # An empty slot holds ind 0, so the fill skips it without reading reg_mask.
    live = targets["ind"] * targets["reg_mask"].to(targets["ind"].dtype)
    maps["wh"] = flood_fill(targets["wh"], live, H, W)
    maps["reg"] = flood_fill(targets["reg"], live, H, W)
    return maps
