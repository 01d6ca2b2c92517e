"""Heatmap targets: the Gaussian splat and the radius rule.

CenterNet trains its keypoint head against a heatmap Y in [0, 1]^(C x H x W) that is 1
at each object's (down-sampled, floored) centre p~ and falls off as a Gaussian

    Y_xyc = exp(-((x - p~_x)^2 + (y - p~_y)^2) / (2 sigma_p^2))

around it. The spread sigma_p depends on the object's size through a radius r: the
largest shift of a box's corners that still keeps its IoU with the ground truth above
``min_overlap``. The Gaussian is cut to a (2r + 1) x (2r + 1) window with
sigma_p = (2r + 1) / 6, so three sigmas fit inside the window on each side.

``draw_gaussian`` splats one object at a time, as the reference does;
``fast.render_gaussians`` draws a whole batch of objects at once, with the same numbers.
"""

from __future__ import annotations

import numpy as np
import torch

from . import validate

__all__ = ["gaussian_radius", "gaussian_2d", "draw_gaussian"]

_VARIANTS = ("centernet", "corrected")


def _as_float(x):
    """Array sizes as float64 (numpy) or a floating tensor: products of two uint8 sizes
    would otherwise wrap around before the square root sees them. Half precision goes to
    float32: the squares of sizes past 256 overflow float16."""
    if isinstance(x, np.ndarray) and not np.issubdtype(x.dtype, np.floating):
        return x.astype(np.float64)
    if isinstance(x, np.ndarray) and x.dtype == np.float16:
        return x.astype(np.float32)
    if isinstance(x, torch.Tensor) and not x.is_floating_point():
        return x.to(torch.float64)
    if isinstance(x, torch.Tensor) and x.dtype in (torch.float16, torch.bfloat16):
        return x.float()
    return x


def _result_dtype(height, width):
    """The half-precision dtype the radius is returned in, computed in float32; or None."""
    tensors = [x for x in (height, width) if isinstance(x, torch.Tensor)]
    if tensors:
        dtype = torch.result_type(*tensors) if len(tensors) == 2 else tensors[0].dtype
        return dtype if dtype in (torch.float16, torch.bfloat16) else None
    arrays = [x for x in (height, width) if isinstance(x, np.ndarray)]
    if arrays and np.result_type(*arrays) == np.float16:
        return np.float16
    return None


def _sqrt(x):
    return x**0.5


def gaussian_radius(height, width, min_overlap: float = 0.7, variant: str = "centernet"):
    r"""The Gaussian radius r of a box of size ``height`` x ``width`` (heatmap pixels).

    A detection whose corners lie within r of the ground truth's keeps an IoU of at least
    ``min_overlap`` (o) with the box, whichever of three ways the corners move: both the
    same way (the box slides), both inwards, both outwards. Each case is a quadratic in r;
    the safe radius is the smallest of their relevant roots, which ``variant="corrected"``
    returns (chapter 2 derives them).

    ``variant="centernet"`` reproduces the formula of the original CenterNet (and
    CornerNet) code, which most trained models used: two roots taken with the wrong sign
    and two divided by 2 instead of 2a. Its radius is a few times the corrected one
    (2.73 against 0.82 for a 10 x 10 box at o = 0.7).

    Args:
        height, width: box size, in [0, 1e18]. Python numbers, or numpy arrays / torch
            tensors of the same shape (evaluated element-wise).
        min_overlap: o in (0, 1).
        variant: ``"centernet"`` (reference, flaws included) or ``"corrected"``.

    Returns:
        r as a float (or an array / tensor for array input; half-precision input is
        computed in float32 and returned in its own dtype). Not rounded: the target
        code uses ``max(0, int(r))``.
    """
    o = validate.radius_args(height, width, min_overlap, variant, _VARIANTS)
    h, w = _as_float(height), _as_float(width)
    half = _result_dtype(height, width)
    roots = _reference_roots if variant == "centernet" else _corrected_roots
    r1, r2, r3 = roots(h + w, h * w, o)
    # Sides so small that their squares underflow can leave a tiny negative root.
    if isinstance(r1, torch.Tensor):
        r = torch.minimum(torch.minimum(r1, r2), r3).clamp_min(0)
        return r if half is None else r.to(half)
    if isinstance(r1, np.ndarray):
        r = np.maximum(np.minimum(np.minimum(r1, r2), r3), 0)
        return r if half is None else r.astype(half)
    return max(float(min(r1, r2, r3)), 0.0)


def _corrected_roots(s, hw, o: float):
    """The safe root of each case, for s = h + w and hw = h * w (numbers or arrays)."""
    r1 = (s - _sqrt(s**2 - 4 * hw * (1 - o) / (1 + o))) / 2
    r2 = (2 * s - _sqrt(4 * s**2 - 16 * (1 - o) * hw)) / 8
    r3 = (-2 * o * s + _sqrt(4 * o**2 * s**2 + 16 * o * (1 - o) * hw)) / (8 * o)
    return r1, r2, r3


def _reference_roots(s, hw, o: float):
    """The original code's three terms, term for term: larger roots, and /2 for /(2a)."""
    r1 = (s + _sqrt(s**2 - 4 * hw * (1 - o) / (1 + o))) / 2
    b2 = 2 * s
    r2 = (b2 + _sqrt(b2**2 - 16 * (1 - o) * hw)) / 2
    b3 = -2 * o * s
    r3 = (b3 + _sqrt(b3**2 - 16 * o * (o - 1) * hw)) / 2
    return r1, r2, r3


def gaussian_2d(shape: tuple[int, int], sigma: float = 1.0) -> np.ndarray:
    """An unnormalised 2-D Gaussian exp(-(x^2 + y^2) / (2 sigma^2)) on a ``shape`` grid.

    The grid is centred: for ``shape = (2r + 1, 2r + 1)`` the peak (1.0) sits at
    ``[r, r]``. As in the reference, values below ``eps * max`` (float64 eps) are set to
    0, so the kernel has exact zeros far from the centre.

    Returns:
        float64 array of ``shape``.
    """
    size = validate.gaussian_2d_args(shape, sigma)
    m, n = [(s - 1) / 2 for s in size]
    y = np.arange(-m, m + 1, dtype=np.float64)[:, None]
    x = np.arange(-n, n + 1, dtype=np.float64)[None, :]
    denominator = 2 * sigma * sigma
    if denominator > 0:
        g = np.exp(-(x * x + y * y) / denominator)
    else:  # sigma so small that 2 sigma^2 underflows: the limit, 1 at the centre, 0 elsewhere
        g = (x * x + y * y == 0).astype(np.float64)
    g[g < np.finfo(g.dtype).eps * g.max()] = 0
    return g


def _kernel_window(rows: range, cols: range, radius: int) -> np.ndarray:
    """The part of ``gaussian_2d((2r + 1, 2r + 1), sigma=(2r + 1) / 6)`` at offsets ``rows``
    x ``cols`` from its centre, value for value, without building the whole kernel (the
    whole kernel's maximum, which sets the cut-off, is its centre's 1.0)."""
    sigma = (2 * radius + 1) / 6
    y = np.arange(rows.start, rows.stop, dtype=np.float64)[:, None]
    x = np.arange(cols.start, cols.stop, dtype=np.float64)[None, :]
    g = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    g[g < np.finfo(g.dtype).eps] = 0
    return g


def draw_gaussian(heatmap, center, radius: int, k: float = 1.0):
    """Splat a Gaussian of ``radius`` at ``center`` into ``heatmap``, **in place**.

    The kernel is ``gaussian_2d((2r + 1, 2r + 1), sigma=(2r + 1) / 6)`` scaled by ``k``,
    centred on the integer pixel ``(int(x), int(y))``, cut at the map's borders, and
    combined with what is already there by an element-wise maximum, so overlapping
    objects of one class keep both peaks. Same numbers as the reference
    ``draw_umich_gaussian``.

    Args:
        heatmap: ``(H, W)`` numpy array or torch tensor (any float dtype, any device);
            written to in place.
        center: ``(x, y)`` in heatmap pixels; truncated to integers like the reference.
        radius: r, a non-negative integer.
        k: peak value.

    Returns:
        ``heatmap`` itself.
    """
    radius = validate.draw_args(heatmap, center, radius, k)
    x, y = int(center[0]), int(center[1])
    height, width = heatmap.shape

    # The window of the map the kernel covers, cut at the borders.
    top, bottom = max(0, y - radius), min(height, y + radius + 1)
    left, right = max(0, x - radius), min(width, x + radius + 1)
    if top >= bottom or left >= right:
        return heatmap
    patch = _kernel_window(range(top - y, bottom - y), range(left - x, right - x), radius) * k

    region = heatmap[top:bottom, left:right]
    if isinstance(heatmap, torch.Tensor):
        patch_t = torch.from_numpy(patch).to(device=heatmap.device, dtype=heatmap.dtype)
        try:
            region.copy_(torch.maximum(region, patch_t))
        except RuntimeError as e:
            if not heatmap.requires_grad:
                raise
            raise ValueError(
                "heatmap is drawn into in place, which autograd refuses for this tensor "
                "that requires grad; pass heatmap.detach() or draw under torch.no_grad()"
            ) from e
    else:
        np.maximum(region, patch, out=region, casting="unsafe")
    return heatmap
