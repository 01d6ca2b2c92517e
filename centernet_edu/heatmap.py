"""Heatmap targets: the Gaussian splat and the radius rule.

CenterNet trains its keypoint head against a heatmap Y in [0, 1]^(C x H x W) that is 1
at each object's (down-sampled, floored) centre p~ and falls off as a Gaussian

    Y_xyc = exp(-((x - p~_x)^2 + (y - p~_y)^2) / (2 sigma_p^2))

around it. The spread sigma_p depends on the object's size through a radius r: the
largest shift of a box's corners that still keeps its IoU with the ground truth above
``min_overlap``. The Gaussian is cut to a (2r + 1) x (2r + 1) window with
sigma_p = (2r + 1) / 6, so three sigmas fit inside the window on each side.

``draw_gaussian`` splats one object at a time, as the reference does; ``render_gaussians``
draws a whole batch of objects in a few tensor operations, with the same numbers.
"""

from __future__ import annotations

import functools
import math
from numbers import Real

import numpy as np
import torch

__all__ = ["gaussian_radius", "gaussian_2d", "draw_gaussian", "render_gaussians"]

_VARIANTS = ("centernet", "corrected")


def _is_array(x) -> bool:
    return isinstance(x, (np.ndarray, torch.Tensor))


def _check_size(name: str, value) -> None:
    if isinstance(value, torch.Tensor):
        ok = bool((torch.isfinite(value) & (value >= 0)).all())
    elif isinstance(value, np.ndarray):
        ok = bool((np.isfinite(value) & (value >= 0)).all())
    else:
        ok = isinstance(value, Real) and math.isfinite(value) and value >= 0
    if not ok:
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")


def _sqrt(x):
    return x**0.5


def gaussian_radius(height, width, min_overlap: float = 0.7, variant: str = "centernet"):
    r"""The Gaussian radius r of a box of size ``height`` x ``width`` (heatmap pixels).

    A detection whose corners lie within r of the ground-truth corners still has an
    IoU of at least ``min_overlap`` (o below) with the box, whichever of three ways the
    corners move. Writing h, w for the box size, each case gives a quadratic in r:

    1. Both corners shift the same way (the box slides diagonally by r, keeping its
       size). Overlap (h - r)(w - r), union 2hw - (h - r)(w - r), so
       IoU = o  <=>  r^2 - (h + w) r + hw (1 - o) / (1 + o) = 0.
    2. Both corners move inwards (a box shrunk by r on every side):
       IoU = (h - 2r)(w - 2r) / (hw) = o  <=>  4 r^2 - 2(h + w) r + (1 - o) hw = 0.
    3. Both corners move outwards (a box grown by r on every side):
       IoU = hw / ((h + 2r)(w + 2r)) = o  <=>  4o r^2 + 2o(h + w) r - (1 - o) hw = 0.

    The radius that is safe in every case is the smallest of the three relevant roots:
    the smaller root in cases 1 and 2 (the larger one shrinks the box past zero), the
    positive root in case 3. ``variant="corrected"`` returns exactly that.

    ``variant="centernet"`` reproduces the formula of the original CenterNet (and
    CornerNet) code, which most trained models used: cases 1 and 2 take the *larger*
    root ``(b + sqrt(b^2 - 4ac)) / 2`` with b = h + w and b = 2(h + w), and cases 2 and 3
    divide by 2 instead of 2a (8 and 8o). The case-3 term is then always the minimum
    (it is at most (sqrt(o) - o)(h + w), the other two at least (h + w) / 2), and it is
    exactly 4o times the correct case-3 root. The reference radius is therefore a few
    times the corrected one (2.73 against 0.82 for a 10 x 10 box at o = 0.7).

    Args:
        height, width: box size, >= 0. Python numbers, or numpy arrays / torch tensors
            of the same shape (evaluated element-wise).
        min_overlap: o in (0, 1).
        variant: ``"centernet"`` (reference, flaws included) or ``"corrected"``.

    Returns:
        r as a float (or an array / tensor for array input). Not rounded: the target
        code uses ``max(0, int(r))``.
    """
    if variant not in _VARIANTS:
        raise ValueError(f"variant must be one of {_VARIANTS}, got {variant!r}")
    _check_size("height", height)
    _check_size("width", width)
    if not isinstance(min_overlap, Real) or not 0 < min_overlap < 1:
        raise ValueError(f"min_overlap must be a number in (0, 1), got {min_overlap!r}")
    h, w, o = height, width, float(min_overlap)
    s = h + w
    hw = h * w

    if variant == "centernet":
        # The reference formula, term for term.
        r1 = (s + _sqrt(s**2 - 4 * hw * (1 - o) / (1 + o))) / 2
        b2 = 2 * s
        r2 = (b2 + _sqrt(b2**2 - 16 * (1 - o) * hw)) / 2
        b3 = -2 * o * s
        r3 = (b3 + _sqrt(b3**2 - 16 * o * (o - 1) * hw)) / 2
    else:
        r1 = (s - _sqrt(s**2 - 4 * hw * (1 - o) / (1 + o))) / 2
        r2 = (2 * s - _sqrt(4 * s**2 - 16 * (1 - o) * hw)) / 8
        r3 = (-2 * o * s + _sqrt(4 * o**2 * s**2 + 16 * o * (1 - o) * hw)) / (8 * o)

    if isinstance(r1, torch.Tensor):
        return torch.minimum(torch.minimum(r1, r2), r3)
    if isinstance(r1, np.ndarray):
        return np.minimum(np.minimum(r1, r2), r3)
    return float(min(r1, r2, r3))


def gaussian_2d(shape: tuple[int, int], sigma: float = 1.0) -> np.ndarray:
    """An unnormalised 2-D Gaussian exp(-(x^2 + y^2) / (2 sigma^2)) on a ``shape`` grid.

    The grid is centred: for ``shape = (2r + 1, 2r + 1)`` the peak (1.0) sits at
    ``[r, r]``. As in the reference, values below ``eps * max`` (float64 eps) are set to
    0, so the kernel has exact zeros far from the centre.

    Returns:
        float64 array of ``shape``.
    """
    if len(shape) != 2 or any(int(n) != n or n < 1 for n in shape):
        raise ValueError(f"shape must be two positive integers, got {shape!r}")
    if not isinstance(sigma, Real) or not sigma > 0 or not math.isfinite(sigma):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    m, n = [(int(s) - 1) / 2 for s in shape]
    y = np.arange(-m, m + 1, dtype=np.float64)[:, None]
    x = np.arange(-n, n + 1, dtype=np.float64)[None, :]
    g = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    g[g < np.finfo(g.dtype).eps * g.max()] = 0
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
    if not _is_array(heatmap) or heatmap.ndim != 2:
        got = getattr(heatmap, "shape", type(heatmap).__name__)
        raise ValueError(f"heatmap must be a 2-D numpy array or torch tensor (H, W), got {got}")
    if isinstance(radius, bool) or not isinstance(radius, Real) or int(radius) != radius:
        raise ValueError(f"radius must be a non-negative integer, got {radius!r}")
    if radius < 0:
        raise ValueError(f"radius must be a non-negative integer, got {radius!r}")
    if len(center) != 2 or not all(math.isfinite(float(c)) for c in center):
        raise ValueError(f"center must be two finite numbers (x, y), got {center!r}")
    radius = int(radius)
    x, y = int(center[0]), int(center[1])
    height, width = heatmap.shape

    diameter = 2 * radius + 1
    kernel = gaussian_2d((diameter, diameter), sigma=diameter / 6) * k
    # The window of the map the kernel covers, cut at the borders.
    top, bottom = max(0, y - radius), min(height, y + radius + 1)
    left, right = max(0, x - radius), min(width, x + radius + 1)
    if top >= bottom or left >= right:
        return heatmap
    patch = kernel[
        top - (y - radius) : bottom - (y - radius), left - (x - radius) : right - (x - radius)
    ]

    region = heatmap[top:bottom, left:right]
    if isinstance(heatmap, torch.Tensor):
        patch_t = torch.from_numpy(patch).to(device=heatmap.device, dtype=heatmap.dtype)
        region.copy_(torch.maximum(region, patch_t))
    else:
        np.maximum(region, patch, out=region, casting="unsafe")
    return heatmap


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
        radii: ``(K,)`` non-negative integer radii r_k.

    Returns:
        ``(num_maps, H, W)`` float32 on the device of ``centers``: the same numbers as
        ``draw_gaussian(hm[maps[k]], centers[k], radii[k])`` applied to a zero float32
        map for every k, in any order.
    """
    if len(shape) != 3 or any(isinstance(s, bool) or int(s) != s or s < 0 for s in shape):
        raise ValueError(
            f"shape must be three non-negative integers (num_maps, H, W), got {shape!r}"
        )
    num_maps, height, width = (int(s) for s in shape)
    for name, t, ndim in (("maps", maps, 1), ("centers", centers, 2), ("radii", radii, 1)):
        if not isinstance(t, torch.Tensor) or t.dtype.is_floating_point or t.ndim != ndim:
            got = getattr(t, "shape", type(t).__name__)
            raise ValueError(f"{name} must be a {ndim}-D integer tensor, got {got}")
    K = len(radii)
    if maps.shape != (K,) or centers.shape != (K, 2):
        raise ValueError(
            f"maps (K,), centers (K, 2) and radii (K,) must agree in K, got "
            f"{tuple(maps.shape)}, {tuple(centers.shape)} and {tuple(radii.shape)}"
        )
    device = centers.device
    # One spare slot past the end receives every pixel that falls off the map.
    out = _zeros(num_maps * height * width + 1, device)
    spare = out.numel() - 1
    if K == 0:
        return out[:spare].reshape(num_maps, height, width)
    maps, radii = (t.to(device=device, dtype=torch.int64) for t in (maps, radii))
    cx, cy = centers[:, 0].long(), centers[:, 1].long()
    bad = (radii < 0) | (maps < 0) | (maps >= num_maps)
    bad |= (cx < 0) | (cx >= width) | (cy < 0) | (cy >= height)
    if bool(bad.any()):
        raise ValueError(
            f"need radii >= 0, maps in [0, {num_maps}) and centres inside the {height} x "
            f"{width} map, got it wrong for Gaussians {bad.nonzero().flatten().tolist()}"
        )

    max_radius = int(radii.max())
    half_widths = [0]
    while half_widths[-1] < max_radius:
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
