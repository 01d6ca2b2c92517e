"""Data: a synthetic shapes data set, and COCO-format files for your own.

``ShapesDataset`` draws coloured shapes (circles, squares, triangles, ellipses,
diamonds; the class is the kind of shape) on a noisy, cluttered background. Each image
is a pure function of ``(seed, index)``, so nothing is downloaded and every run sees the
same pictures. Because the shapes are geometric, their boxes and extreme points are
exact: they come from the geometry, not from a mask, and the rasteriser samples the same
geometry, so the drawn pixels span exactly the box (up to the pixel grid).

Coordinates are continuous image pixels: pixel (row i, column j) covers
[j, j + 1) x [i, i + 1), so its centre is (j + 0.5, i + 0.5) and an image W pixels wide
spans x in [0, W]. Dividing by the output stride R gives heatmap coordinates, which is
what ``encode_ctdet`` takes.

``write_coco`` and ``read_coco`` move data sets in and out of the COCO format (one JSON
file plus a folder of images), and ``CocoDataset`` trains on one.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate

from .fast import encode_ctdet_batch
from .targets import encode_ctdet, encode_exdet

__all__ = [
    "SHAPES",
    "MEAN",
    "STD",
    "normalize_image",
    "denormalize_image",
    "make_item",
    "collate_with_targets",
    "ShapesDataset",
    "write_coco",
    "read_coco",
    "CocoData",
    "CocoImage",
    "CocoDataset",
]

SHAPES = ("circle", "square", "triangle", "ellipse", "diamond")

# Images are normalised per channel as (x / 255 - MEAN) / STD.
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)

_SUPERSAMPLE = 4  # sub-samples per pixel side: coverage is measured on a 4 x 4 grid
_MARGIN = 4.0  # shapes stay this far inside the image, so the heatmap never clips a box
_RING = np.array([[0, 0], [1.5, 0], [-1.5, 0], [0, 1.5], [0, -1.5]])  # around an extreme point


# --------------------------------------------------------------------------- images


def normalize_image(image: np.ndarray) -> torch.Tensor:
    """``(H, W, 3) uint8`` -> ``(3, H, W) float32``, normalised with ``MEAN`` and ``STD``."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"image must be an (H, W, 3) array, got {getattr(image, 'shape', type(image))}"
        )
    # numpy, not torch: this runs per image in data-loading code, where small torch ops
    # pay a threading overhead many times their cost.
    x = image.transpose(2, 0, 1).astype(np.float32)
    scale = 1 / (255 * np.asarray(STD, dtype=np.float32))
    shift = np.asarray(MEAN, dtype=np.float32) / np.asarray(STD, dtype=np.float32)
    x *= scale[:, None, None]
    x -= shift[:, None, None]
    return torch.from_numpy(x)


def denormalize_image(image: torch.Tensor) -> np.ndarray:
    """The inverse of ``normalize_image``: ``(3, H, W)`` -> ``(H, W, 3) uint8``."""
    if not isinstance(image, torch.Tensor) or image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(
            f"image must be a (3, H, W) tensor, got {getattr(image, 'shape', type(image))}"
        )
    mean = torch.tensor(MEAN, device=image.device).view(3, 1, 1)
    std = torch.tensor(STD, device=image.device).view(3, 1, 1)
    x = (image.detach().float() * std + mean).clamp(0, 1) * 255
    return x.round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def make_item(
    image: np.ndarray,
    boxes: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    *,
    extreme_points: np.ndarray | None = None,
    max_objs: int = 32,
    stride: int = 4,
    extreme: bool = False,
    targets: bool = True,
    image_id: int = 0,
) -> dict:
    """One training example: the normalised image, its targets, and the raw annotations.

    Args:
        image: ``(H, W, 3) uint8``; H and W divisible by ``stride``.
        boxes: ``(N, 4)`` x1, y1, x2, y2 in image pixels.
        labels: ``(N,)`` classes in ``[0, num_classes)``.
        extreme_points: ``(N, 8)`` t, l, b, r (x, y each) in image pixels; needed when
            ``extreme`` is set.
        max_objs: M, the object slots of the targets and of the padded annotations.
        stride: R, the output stride: targets live on an ``(H / R, W / R)`` map.
        extreme: also return the ``encode_exdet`` targets.
        targets: return the ``encode_ctdet`` targets; without them ``collate_with_targets``
            encodes a whole batch of items at once, with the same result.

    Returns:
        dict of tensors: ``image (3, H, W) float32``; the ``encode_ctdet`` targets
        ``hm (C, H/R, W/R)``, ``wh, reg (M, 2)``, ``ind, reg_mask (M,)`` (unless
        ``targets`` is False); when ``extreme``
        also ``hm_t .. hm_c``, ``reg_t .. reg_r``, ``ind_t .. ind_r``; and for evaluation
        ``boxes (M, 4)`` and ``extreme_points (M, 8)`` in image pixels (zero padded),
        ``labels (M,)`` (padded with -1), ``num_objs`` and ``image_id`` (int64 scalars).
    """
    H, W = image.shape[:2]
    if H % stride or W % stride:
        raise ValueError(f"image size must be divisible by the stride {stride}, got {H} x {W}")
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    n = len(boxes)
    if n > max_objs:
        raise ValueError(f"an image holds {n} objects, more than max_objs = {max_objs}")
    out_size = (H // stride, W // stride)
    item = {"image": normalize_image(image)}
    if targets:
        item.update(encode_ctdet(boxes / stride, labels, num_classes, out_size, max_objs=max_objs))
    pad_boxes = np.zeros((max_objs, 4), dtype=np.float32)
    pad_boxes[:n] = boxes
    pad_labels = np.full(max_objs, -1, dtype=np.int64)
    pad_labels[:n] = labels
    pad_ext = np.zeros((max_objs, 8), dtype=np.float32)
    if extreme_points is not None:
        extreme_points = np.asarray(extreme_points, dtype=np.float32).reshape(-1, 8)
        pad_ext[:n] = extreme_points
    if extreme:
        if extreme_points is None:
            raise ValueError("extreme=True needs extreme_points")
        ex = encode_exdet(extreme_points / stride, labels, num_classes, out_size, max_objs=max_objs)
        ex.pop("reg_mask")  # the same objects as the centre targets' reg_mask
        item.update(ex)
    item["boxes"] = torch.from_numpy(pad_boxes)
    item["labels"] = torch.from_numpy(pad_labels)
    item["extreme_points"] = torch.from_numpy(pad_ext)
    item["num_objs"] = torch.tensor(n, dtype=torch.int64)
    item["image_id"] = torch.tensor(int(image_id), dtype=torch.int64)
    return item


def collate_with_targets(items: list[dict], num_classes: int, stride: int) -> dict:
    """Batch items of ``make_item(..., targets=False)`` and add their ``encode_ctdet`` targets.

    The targets of all B images come from one call of ``encode_ctdet_batch`` on the padded
    ``boxes (B, M, 4)`` (divided by the stride R) and ``labels (B, M)``, instead of one
    ``encode_ctdet`` per item: the same tensors, ``hm (B, C, H/R, W/R)``, ``wh, reg
    (B, M, 2)``, ``ind, reg_mask (B, M)``, as collating items that carry their own.
    Items that do carry them are collated as they are.
    """
    batch = default_collate(items)
    if "hm" not in batch:
        H, W = batch["image"].shape[-2:]
        labels = batch["labels"]
        batch.update(
            encode_ctdet_batch(
                batch["boxes"] / stride,
                labels,
                num_classes,
                (H // stride, W // stride),
                max_objs=labels.shape[1],
            )
        )
    return batch


# --------------------------------------------------------------------------- geometry


class _Shape:
    """A convex shape: an ellipse (centre, semi-axes a, b, angle) or a polygon.

    Its extreme points (top, left, bottom, right) and box are computed once, exactly.
    """

    def __init__(self, kind: str, center, ellipse=None, vertices=None):
        self.kind = kind
        self.center = (float(center[0]), float(center[1]))
        self.ellipse = ellipse  # (a, b, theta) or None
        self.vertices = vertices  # (K, 2), counter-clockwise on screen, or None
        self.extremes = self._extreme_points()  # (4, 2): t, l, b, r
        p = self.extremes
        self.box = np.array([p[1, 0], p[0, 1], p[3, 0], p[2, 1]])  # x1, y1, x2, y2

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether the points (x, y) lie inside (boundary included)."""
        if self.ellipse is not None:
            a, b, t = self.ellipse
            dx, dy = x - self.center[0], y - self.center[1]
            c, s = math.cos(t), math.sin(t)
            u = (dx * c + dy * s) / a
            v = (-dx * s + dy * c) / b
            return u * u + v * v <= 1
        v0 = self.vertices
        v1 = np.roll(v0, -1, axis=0)
        inside = np.ones(np.broadcast(x, y).shape, dtype=bool)
        for (ax, ay), (bx, by) in zip(v0, v1, strict=True):
            # Left of every edge (on screen, with y pointing down, that is cross >= 0).
            inside &= (bx - ax) * (y - ay) - (by - ay) * (x - ax) >= 0
        return inside

    def _extreme_points(self) -> np.ndarray:
        cx, cy = self.center
        if self.ellipse is not None:
            # The ellipse is {p : (p - c)^T S^-1 (p - c) <= 1} with S = R diag(a^2, b^2) R^T;
            # the point furthest along a unit direction e is c + S e / sqrt(e^T S e).
            a, b, t = self.ellipse
            c, s = math.cos(t), math.sin(t)
            sxx = a * a * c * c + b * b * s * s
            syy = a * a * s * s + b * b * c * c
            sxy = (a * a - b * b) * c * s
            right = np.array([sxx, sxy]) / math.sqrt(sxx)
            down = np.array([sxy, syy]) / math.sqrt(syy)
            return np.array([-down, -right, down, right]) + np.array([cx, cy])
        v = self.vertices
        out = []
        for coord, pick in ((1, np.min), (0, np.min), (1, np.max), (0, np.max)):
            best = pick(v[:, coord])
            # A flat extreme edge (a tie) is represented by its midpoint.
            out.append(v[np.abs(v[:, coord] - best) < 1e-9].mean(axis=0))
        return np.array(out)

    def moved(self, center) -> _Shape:
        """The same shape, translated to ``center``."""
        d = np.array([center[0] - self.center[0], center[1] - self.center[1]])
        out = object.__new__(_Shape)
        out.kind, out.ellipse = self.kind, self.ellipse
        out.center = (float(center[0]), float(center[1]))
        out.vertices = None if self.vertices is None else self.vertices + d
        out.extremes = self.extremes + d
        out.box = self.box + np.tile(d, 2)
        return out


def _polygon(kind: str, center, vertices: np.ndarray) -> _Shape:
    v = np.asarray(vertices, dtype=np.float64) + np.asarray(center)
    # Shoelace area; on screen (y down) a positive value means counter-clockwise.
    x, y = v[:, 0], v[:, 1]
    area2 = np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    if area2 < 0:
        v = v[::-1].copy()
    return _Shape(kind, center, vertices=v)


def _rotate(points: np.ndarray, theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    return points @ np.array([[c, s], [-s, c]])


def _make_shape(kind: str, scale: float, rng: np.random.Generator, center=(0.0, 0.0)) -> _Shape:
    """A shape of ``kind`` whose larger extent is about ``scale`` pixels."""
    r = scale / 2
    if kind == "circle":
        return _Shape(kind, center, ellipse=(r, r, 0.0))
    if kind == "ellipse":
        ratio = rng.uniform(0.45, 0.7)
        return _Shape(kind, center, ellipse=(r, r * ratio, rng.uniform(0, math.pi)))
    if kind == "square":
        half = r / math.sqrt(2) * 1.2
        pts = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
        return _polygon(kind, center, _rotate(pts, math.radians(rng.uniform(-15, 15))))
    if kind == "triangle":
        angles = rng.uniform(0, 2 * math.pi) + np.array([0, 2, 4]) * math.pi / 3
        pts = np.stack([np.cos(angles), np.sin(angles)], axis=1) * r * 1.1
        return _polygon(kind, center, pts)
    if kind == "diamond":
        ratio = rng.uniform(0.5, 0.75)
        pts = np.array([[0, -r], [r * ratio, 0], [0, r], [-r * ratio, 0]])
        return _polygon(kind, center, _rotate(pts, math.radians(rng.uniform(-10, 10))))
    raise ValueError(f"unknown shape {kind!r}; expected one of {SHAPES}")


def _coverage(shape: _Shape, height: int, width: int):
    """The fraction of each pixel inside ``shape``, over the window around its box.

    Returns ``(coverage (h, w) float32, (top, left))``: the window and where it starts.
    """
    x1, y1, x2, y2 = shape.box
    left, top = max(0, int(math.floor(x1)) - 1), max(0, int(math.floor(y1)) - 1)
    right = min(width, int(math.ceil(x2)) + 1)
    bottom = min(height, int(math.ceil(y2)) + 1)
    s = _SUPERSAMPLE
    offs = (np.arange(s) + 0.5) / s
    xs = (np.arange(left, right)[:, None] + offs).reshape(-1)
    ys = (np.arange(top, bottom)[:, None] + offs).reshape(-1)
    inside = shape.contains(xs[None, :], ys[:, None])
    cov = inside.reshape(bottom - top, s, right - left, s).mean(axis=(1, 3), dtype=np.float32)
    return cov, (top, left)


def _segment_coverage(p0, p1, thickness: float, height: int, width: int):
    """An anti-aliased line segment (a clutter stroke): ``(coverage (h, w), (top, left))``."""
    reach = thickness / 2 + 1
    left = max(0, int(min(p0[0], p1[0]) - reach))
    right = min(width, int(max(p0[0], p1[0]) + reach) + 1)
    top = max(0, int(min(p0[1], p1[1]) - reach))
    bottom = min(height, int(max(p0[1], p1[1]) + reach) + 1)
    xs = np.arange(left, right, dtype=np.float32)[None, :] + 0.5
    ys = np.arange(top, bottom, dtype=np.float32)[:, None] + 0.5
    d = np.asarray(p1, dtype=np.float32) - np.asarray(p0, dtype=np.float32)
    t = ((xs - p0[0]) * d[0] + (ys - p0[1]) * d[1]) / max(float(d @ d), 1e-6)
    t = np.clip(t, 0, 1)
    dist = np.hypot(xs - (p0[0] + t * d[0]), ys - (p0[1] + t * d[1]))
    return np.clip(thickness / 2 + 0.5 - dist, 0, 1).astype(np.float32), (top, left)


def _paint(img: np.ndarray, cov: np.ndarray, top: int, left: int, colour) -> None:
    """Alpha-blend ``colour`` into ``img (3, H, W)`` in place; ``cov`` is the alpha of a
    window starting at ``(top, left)``."""
    h, w = cov.shape
    win = img[:, top : top + h, left : left + w]
    win += cov * (np.asarray(colour, dtype=np.float32)[:, None, None] - win)


# --------------------------------------------------------------------------- the data set


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class ShapesDataset(Dataset):
    """Synthetic detection data: coloured shapes on a noisy, cluttered background.

    Item ``index`` is drawn from ``np.random.default_rng([seed, index])`` alone, so it is
    the same in every process, worker and run. The class of an object is the index of its
    kind in ``shapes``. Objects keep ``4`` pixels from the border, may overlap (their
    boxes up to ``max_overlap`` IoU) and hide parts of each other, but never one another's
    extreme points, so the visible pixels of every object still span its box exactly.
    Object centres fall on distinct heatmap pixels, so a perfect heatmap can recover every
    object.

    Args:
        length: number of images.
        image_size: ``S`` or ``(H, W)``, divisible by ``stride``.
        seed: selects the images; use different seeds for training and held-out data.
        shapes: the kinds of shape, a subset of ``SHAPES``; C = ``len(shapes)``.
        objects: ``(min, max)`` objects per image (fewer when the image is too full).
        size_range: ``(min, max)`` object scale in pixels, drawn log-uniformly, so small
            objects are as common as large ones.
        max_overlap: the largest IoU allowed between two objects' boxes.
        clutter: the largest number of thin distractor strokes per image.
        noise: standard deviation of the Gaussian pixel noise (image in [0, 1]).
        max_objs: M, object slots in the targets.
        stride: R, the output stride of the model.
        extreme: add the ``encode_exdet`` targets to each item.
        targets: add the ``encode_ctdet`` targets to each item; with False, batch items
            with ``collate_with_targets`` (``fit`` does), which encodes a batch at once.

    Items are dicts of tensors; see ``make_item``.
    """

    def __init__(
        self,
        length: int = 1000,
        image_size: int | tuple[int, int] = 128,
        seed: int = 0,
        *,
        shapes: Sequence[str] = SHAPES,
        objects: tuple[int, int] = (1, 6),
        size_range: tuple[float, float] = (8.0, 48.0),
        max_overlap: float = 0.3,
        clutter: int = 3,
        noise: float = 0.04,
        max_objs: int = 32,
        stride: int = 4,
        extreme: bool = False,
        targets: bool = True,
    ):
        self.length = _check_int("length", length, 0)
        size = (image_size, image_size) if isinstance(image_size, Integral) else image_size
        if len(size) != 2 or any(
            isinstance(s, bool) or not isinstance(s, Integral) or s < 1 for s in size
        ):
            raise ValueError(f"image_size must be a positive integer or (H, W), got {image_size!r}")
        self.stride = _check_int("stride", stride, 1)
        if size[0] % self.stride or size[1] % self.stride:
            raise ValueError(
                f"image_size must be divisible by the stride {self.stride}, got {tuple(size)}"
            )
        self.image_size = (int(size[0]), int(size[1]))
        self.seed = _check_int("seed", seed, 0)
        unknown = [s for s in shapes if s not in SHAPES]
        if unknown or not shapes or len(set(shapes)) != len(shapes):
            raise ValueError(f"shapes must be distinct names from {SHAPES}, got {shapes!r}")
        self.shapes = tuple(shapes)
        if len(objects) != 2 or not 0 <= objects[0] <= objects[1]:
            raise ValueError(f"objects must be (min, max) with 0 <= min <= max, got {objects!r}")
        self.objects = (int(objects[0]), int(objects[1]))
        lo, hi = size_range
        room = min(self.image_size) - 2 * _MARGIN
        if not 2 <= lo <= hi <= room:
            raise ValueError(
                f"size_range must satisfy 2 <= min <= max <= {room:g} (the image less its "
                f"margins), got {size_range!r}"
            )
        self.size_range = (float(lo), float(hi))
        if not isinstance(max_overlap, Real) or not 0 <= max_overlap <= 1:
            raise ValueError(f"max_overlap must lie in [0, 1], got {max_overlap!r}")
        self.max_overlap = float(max_overlap)
        self.clutter = _check_int("clutter", clutter, 0)
        if not isinstance(noise, Real) or not 0 <= noise < 1:
            raise ValueError(f"noise must lie in [0, 1), got {noise!r}")
        self.noise = float(noise)
        self.max_objs = _check_int("max_objs", max_objs, 1)
        if self.objects[1] > self.max_objs:
            raise ValueError(
                f"objects max {self.objects[1]} exceeds max_objs = {self.max_objs} slots"
            )
        self.extreme = bool(extreme)
        self.targets = bool(targets)

    @property
    def num_classes(self) -> int:
        return len(self.shapes)

    @property
    def categories(self) -> list[str]:
        return list(self.shapes)

    def __len__(self) -> int:
        return self.length

    def _index(self, index) -> int:
        if isinstance(index, bool) or not isinstance(index, Integral):
            raise ValueError(f"index must be an integer, got {index!r}")
        if not -self.length <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} images")
        return int(index) % self.length

    def _scene(self, rng: np.random.Generator) -> list[_Shape]:
        """Place the objects: random kind, scale and position, rejecting bad overlaps."""
        H, W = self.image_size
        lo, hi = self.size_range
        n_target = int(rng.integers(self.objects[0], self.objects[1] + 1))
        placed: list[_Shape] = []
        for _ in range(n_target):
            kind = self.shapes[int(rng.integers(len(self.shapes)))]
            scale = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            proto = _make_shape(kind, scale, rng)
            px1, py1, px2, py2 = proto.box
            for _attempt in range(20):
                cx = rng.uniform(_MARGIN - px1, W - _MARGIN - px2)
                cy = rng.uniform(_MARGIN - py1, H - _MARGIN - py2)
                shape = proto.moved((cx, cy))
                if self._fits(shape, placed):
                    placed.append(shape)
                    break
        return placed

    def _centre_pixel(self, box) -> tuple[int, int]:
        """The heatmap pixel of a box's centre, computed as ``encode_ctdet`` does (float32)."""
        b = np.asarray(box, dtype=np.float32) / np.float32(self.stride)
        return int((b[0] + b[2]) / np.float32(2)), int((b[1] + b[3]) / np.float32(2))

    def _fits(self, shape: _Shape, placed: list[_Shape]) -> bool:
        """Whether ``shape`` may join ``placed``: small box overlaps, its own centre pixel,
        and every extreme point of the others left visible."""
        x1, y1, x2, y2 = shape.box.tolist()
        area = (x2 - x1) * (y2 - y1)
        centre = self._centre_pixel(shape.box)
        for other in placed:
            a1, b1, a2, b2 = other.box.tolist()
            inter = max(0.0, min(x2, a2) - max(x1, a1)) * max(0.0, min(y2, b2) - max(y1, b1))
            if inter > self.max_overlap * (area + (a2 - a1) * (b2 - b1) - inter):
                return False
            if self._centre_pixel(other.box) == centre:
                return False
        if not placed:
            return True
        # The new shape is drawn on top: it must leave the others' extreme points visible,
        # with a pixel and a half to spare.
        pts = np.concatenate([o.extremes for o in placed])[:, None, :] + _RING
        return not shape.contains(pts[..., 0], pts[..., 1]).any()

    def _noise_field(self) -> np.ndarray:
        """``(3, 2H, 2W)`` standard Gaussian noise, a function of ``seed`` alone."""
        if getattr(self, "_field", None) is None:
            H, W = self.image_size
            rng = np.random.default_rng([self.seed, 2**32 - 1])
            self._field = rng.standard_normal((3, 2 * H, 2 * W), dtype=np.float32)
        return self._field

    def _colour(self, rng: np.random.Generator, background: np.ndarray) -> np.ndarray:
        for _ in range(50):
            c = rng.uniform(0, 1, 3)
            if np.linalg.norm(c - background) > 0.45:
                return c
        return 1 - background

    def render(self, index: int, masks: bool = False) -> dict:
        """Image ``index`` as numpy arrays, before normalisation.

        Returns a dict with ``image (H, W, 3) uint8``, ``boxes (N, 4) float32`` and
        ``extreme_points (N, 8) float32`` in image pixels, ``labels (N,) int64``, and with
        ``masks=True`` also ``masks (N, H, W) float32``: the visible fraction of each
        pixel covered by each object (what is left after the objects drawn on top).
        """
        index = self._index(index)
        rng = np.random.default_rng([self.seed, index])
        H, W = self.image_size
        # Channels first: numpy's inner loops then run along rows, not over 3 channels.
        # Background: a random colour with a linear gradient.
        base = rng.uniform(0.1, 0.9, 3).astype(np.float32)[:, None, None]
        gy, gx = rng.uniform(-0.25, 0.25, 2).astype(np.float32)
        yy = (np.arange(H, dtype=np.float32) / H - 0.5)[:, None]
        xx = (np.arange(W, dtype=np.float32) / W - 0.5)[None, :]
        img = base + (gy * yy + gx * xx)
        # Clutter: thin strokes that belong to no class, under the objects.
        for _ in range(int(rng.integers(0, self.clutter + 1))):
            p0, p1 = rng.uniform(0, [W, H]), rng.uniform(0, [W, H])
            cov, (top, left) = _segment_coverage(p0, p1, rng.uniform(0.8, 2.0), H, W)
            _paint(img, cov, top, left, rng.uniform(0, 1, 3))
        shapes = self._scene(rng)
        covs = []
        for shape in shapes:
            cov, (top, left) = _coverage(shape, H, W)
            h, w = cov.shape
            bg = img[:, top : top + h, left : left + w].mean(axis=(1, 2))
            _paint(img, cov, top, left, self._colour(rng, bg))
            covs.append((cov, top, left))
        if self.noise:
            # Pixel noise: a window of the data set's fixed noise field, at a random place
            # and strength (drawing fresh Gaussian noise would cost more than the shapes).
            field = self._noise_field()
            oy, ox = int(rng.integers(H + 1)), int(rng.integers(W + 1))
            strength = np.float32(self.noise * rng.uniform(0.5, 1.0))
            img += strength * field[:, oy : oy + H, ox : ox + W]
        image = (img * 255 + 0.5).clip(0, 255).astype(np.uint8).transpose(1, 2, 0)
        n = len(shapes)
        out = {
            "image": image,
            "boxes": np.array([s.box for s in shapes], dtype=np.float32).reshape(n, 4),
            "extreme_points": np.array(
                [s.extremes.reshape(8) for s in shapes], dtype=np.float32
            ).reshape(n, 8),
            "labels": np.array([self.shapes.index(s.kind) for s in shapes], dtype=np.int64),
        }
        if masks:
            full = np.zeros((n, H, W), dtype=np.float32)
            for k, (cov, top, left) in enumerate(covs):
                full[k, top : top + cov.shape[0], left : left + cov.shape[1]] = cov
            # What object k keeps is what the objects drawn after it leave uncovered.
            visible = full.copy()
            for k in range(n):
                visible[k] *= np.prod(1 - full[k + 1 :], axis=0)
            out["masks"] = visible
        return out

    def __getitem__(self, index) -> dict:
        index = self._index(index)
        r = self.render(index)
        return make_item(
            r["image"],
            r["boxes"],
            r["labels"],
            self.num_classes,
            extreme_points=r["extreme_points"],
            max_objs=self.max_objs,
            stride=self.stride,
            extreme=self.extreme,
            targets=self.targets,
            image_id=index,
        )

    def records(self, indices: Iterable[int] | None = None):
        """``(image_id, render(i))`` for each index: the input of ``write_coco``."""
        for i in range(self.length) if indices is None else indices:
            yield int(i), self.render(i)


# --------------------------------------------------------------------------- COCO files


def write_coco(
    root,
    records: Iterable[tuple[int, dict]],
    categories: Sequence[str],
    *,
    json_name: str = "annotations.json",
    image_dir: str = "images",
) -> Path:
    """Write a data set in the COCO format: ``root/<json_name>`` and PNGs in ``root/<image_dir>``.

    Args:
        root: the folder (created if missing).
        records: ``(image_id, record)`` pairs; each record holds ``image (H, W, 3) uint8``,
            ``boxes (N, 4)`` x1, y1, x2, y2 in image pixels, ``labels (N,)`` in
            ``[0, len(categories))`` and optionally ``extreme_points (N, 8)``
            (``ShapesDataset.records()`` yields exactly these).
        categories: class names; class k gets COCO category id k + 1.

    COCO boxes are ``[x, y, width, height]``; ``area`` is the box area. Extreme points,
    when given, go to a non-standard ``extreme_points`` field of each annotation
    (t_x, t_y, l_x, l_y, b_x, b_y, r_x, r_y).

    Returns:
        the path of the JSON file.
    """
    from PIL import Image

    root = Path(root)
    (root / image_dir).mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for image_id, rec in records:
        image = np.asarray(rec["image"])
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"image {image_id}: expected an (H, W, 3) uint8 array, got {image.dtype} {image.shape}"
            )
        file_name = f"{int(image_id):06d}.png"
        Image.fromarray(image).save(root / image_dir / file_name)
        H, W = image.shape[:2]
        images.append({"id": int(image_id), "file_name": file_name, "width": W, "height": H})
        boxes = np.asarray(rec["boxes"], dtype=np.float64).reshape(-1, 4)
        ext = rec.get("extreme_points")
        for k, (box, label) in enumerate(zip(boxes, rec["labels"], strict=True)):
            label = int(label)
            if not 0 <= label < len(categories):
                raise ValueError(f"image {image_id}: label {label} outside [0, {len(categories)})")
            x1, y1, x2, y2 = (float(v) for v in box)
            ann = {
                "id": len(annotations) + 1,
                "image_id": int(image_id),
                "category_id": label + 1,
                "bbox": [x1, y1, x2 - x1, y2 - y1],
                "area": (x2 - x1) * (y2 - y1),
                "iscrowd": 0,
            }
            if ext is not None:
                ann["extreme_points"] = [float(v) for v in np.asarray(ext[k]).reshape(8)]
            annotations.append(ann)
    doc = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": k + 1, "name": str(name)} for k, name in enumerate(categories)],
    }
    path = root / json_name
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, path)
    return path


@dataclass
class CocoImage:
    """One image of a COCO file, with its annotations in ``CocoData.categories`` order.

    ``boxes (N, 4)`` are x1, y1, x2, y2 in image pixels, ``labels (N,)`` the index of each
    annotation's category in ``CocoData.category_ids``, ``extreme_points`` ``(N, 8)`` or
    None when not every annotation has them.
    """

    id: int
    path: Path
    width: int
    height: int
    boxes: np.ndarray
    labels: np.ndarray
    annotation_ids: list[int]
    extreme_points: np.ndarray | None


@dataclass
class CocoData:
    """A validated COCO file: its images (in file order) and categories (sorted by id)."""

    images: list[CocoImage]
    category_ids: list[int]
    categories: list[str]


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def read_coco(json_path, image_dir=None) -> CocoData:
    """Read and check a COCO detection file and the images it names.

    Args:
        json_path: the COCO JSON file.
        image_dir: the folder of the images; by default ``images/`` next to the JSON
            file if it exists, else the JSON file's own folder.

    Crowd annotations (``iscrowd: 1``) are left out. Every problem raises a
    ``ValueError`` naming the image or annotation at fault: a missing field, a bbox that
    is not 4 finite numbers, a negative width or height, an unknown ``image_id`` or
    ``category_id``, a duplicate id, an image file that does not exist.
    """
    json_path = Path(json_path)
    try:
        doc = json.loads(json_path.read_text())
    except FileNotFoundError as e:
        raise ValueError(f"COCO file {json_path} does not exist") from e
    except json.JSONDecodeError as e:
        raise ValueError(f"COCO file {json_path} is not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise ValueError(f"COCO file {json_path}: expected a JSON object at the top")
    for key in ("images", "annotations", "categories"):
        if not isinstance(doc.get(key), list):
            raise ValueError(f"COCO file {json_path}: expected a list under '{key}'")
    if image_dir is None:
        image_dir = json_path.parent / "images"
        if not image_dir.is_dir():
            image_dir = json_path.parent
    image_dir = Path(image_dir)

    cats = {}
    for cat in doc["categories"]:
        if not isinstance(cat, dict) or not _is_int(cat.get("id")):
            raise ValueError(f"category {cat!r}: expected an object with an integer 'id'")
        if cat["id"] in cats:
            raise ValueError(f"category {cat['id']}: duplicate id")
        cats[cat["id"]] = str(cat.get("name", cat["id"]))
    category_ids = sorted(cats)
    label_of = {cid: k for k, cid in enumerate(category_ids)}

    images: dict[int, dict] = {}
    for k, img in enumerate(doc["images"]):
        if not isinstance(img, dict) or not _is_int(img.get("id")):
            raise ValueError(f"images[{k}]: expected an object with an integer 'id', got {img!r}")
        iid = img["id"]
        if iid in images:
            raise ValueError(f"image {iid}: duplicate id")
        for field in ("file_name", "width", "height"):
            if field not in img:
                raise ValueError(f"image {iid}: missing field '{field}'")
        if not isinstance(img["file_name"], str) or not img["file_name"]:
            raise ValueError(f"image {iid}: 'file_name' must be a non-empty string")
        for field in ("width", "height"):
            if not _is_int(img[field]) or img[field] < 1:
                raise ValueError(
                    f"image {iid}: '{field}' must be a positive integer, got {img[field]!r}"
                )
        path = image_dir / img["file_name"]
        if not path.is_file():
            raise ValueError(f"image {iid}: file '{img['file_name']}' not found in {image_dir}")
        images[iid] = {"info": img, "path": path, "anns": []}

    seen = set()
    for k, ann in enumerate(doc["annotations"]):
        if not isinstance(ann, dict) or not _is_int(ann.get("id")):
            raise ValueError(
                f"annotations[{k}]: expected an object with an integer 'id', got {ann!r}"
            )
        aid = ann["id"]
        if aid in seen:
            raise ValueError(f"annotation {aid}: duplicate id")
        seen.add(aid)
        for field in ("image_id", "category_id", "bbox"):
            if field not in ann:
                raise ValueError(f"annotation {aid}: missing field '{field}'")
        if ann["image_id"] not in images:
            raise ValueError(f"annotation {aid}: unknown image_id {ann['image_id']!r}")
        if ann["category_id"] not in cats:
            raise ValueError(f"annotation {aid}: unknown category_id {ann['category_id']!r}")
        bbox = ann["bbox"]
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(map(_is_number, bbox)):
            raise ValueError(
                f"annotation {aid} (image {ann['image_id']}): bbox must be 4 finite numbers "
                f"[x, y, width, height], got {bbox!r}"
            )
        if bbox[2] < 0 or bbox[3] < 0:
            raise ValueError(
                f"annotation {aid} (image {ann['image_id']}): bbox has a negative size "
                f"(width {bbox[2]}, height {bbox[3]})"
            )
        ext = ann.get("extreme_points")
        if ext is not None and (
            not isinstance(ext, list) or len(ext) != 8 or not all(map(_is_number, ext))
        ):
            raise ValueError(
                f"annotation {aid} (image {ann['image_id']}): extreme_points must be 8 finite "
                f"numbers, got {ext!r}"
            )
        if ann.get("iscrowd", 0):
            continue
        images[ann["image_id"]]["anns"].append(ann)

    out = []
    for iid, entry in images.items():
        anns = entry["anns"]
        boxes = np.array(
            [[b[0], b[1], b[0] + b[2], b[1] + b[3]] for b in (a["bbox"] for a in anns)],
            dtype=np.float64,
        ).reshape(-1, 4)
        labels = np.array([label_of[a["category_id"]] for a in anns], dtype=np.int64)
        has_ext = bool(anns) and all(a.get("extreme_points") is not None for a in anns)
        ext = np.array([a["extreme_points"] for a in anns], dtype=np.float64) if has_ext else None
        info = entry["info"]
        out.append(
            CocoImage(
                id=iid,
                path=entry["path"],
                width=info["width"],
                height=info["height"],
                boxes=boxes,
                labels=labels,
                annotation_ids=[a["id"] for a in anns],
                extreme_points=ext,
            )
        )
    return CocoData(
        images=out, category_ids=category_ids, categories=[cats[c] for c in category_ids]
    )


class CocoDataset(Dataset):
    """Train or evaluate on a COCO-format data set (``read_coco``).

    Images are loaded with Pillow as RGB and resized to ``input_size`` when they differ
    (boxes and extreme points scaled with them), so every item has the shape the model
    expects. Items are the dicts of ``make_item``, with boxes in ``input_size`` pixels.

    Args:
        json_path, image_dir: as ``read_coco``.
        input_size: ``(H, W)`` of the images given to the model, divisible by ``stride``.
        max_objs, stride, extreme, targets: as ``ShapesDataset``.
    """

    def __init__(
        self,
        json_path,
        image_dir=None,
        *,
        input_size: tuple[int, int] = (128, 128),
        max_objs: int = 32,
        stride: int = 4,
        extreme: bool = False,
        targets: bool = True,
    ):
        self.coco = read_coco(json_path, image_dir)
        if len(input_size) != 2 or any(int(s) != s or s < 1 for s in input_size):
            raise ValueError(f"input_size must be two positive integers (H, W), got {input_size!r}")
        if input_size[0] % stride or input_size[1] % stride:
            raise ValueError(
                f"input_size must be divisible by the stride {stride}, got {tuple(input_size)}"
            )
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.max_objs = _check_int("max_objs", max_objs, 1)
        self.stride = _check_int("stride", stride, 1)
        self.extreme = bool(extreme)
        self.targets = bool(targets)
        for img in self.coco.images:
            if len(img.boxes) > self.max_objs:
                raise ValueError(
                    f"image {img.id}: {len(img.boxes)} annotations, more than max_objs = {self.max_objs}"
                )
            if self.extreme and len(img.boxes) and img.extreme_points is None:
                raise ValueError(
                    f"image {img.id}: extreme=True but its annotations lack extreme_points"
                )

    @property
    def num_classes(self) -> int:
        return len(self.coco.category_ids)

    @property
    def categories(self) -> list[str]:
        return list(self.coco.categories)

    def __len__(self) -> int:
        return len(self.coco.images)

    def __getitem__(self, index) -> dict:
        from PIL import Image

        img = self.coco.images[index]
        with Image.open(img.path) as f:
            pil = f.convert("RGB")
        if pil.size != (img.width, img.height):
            raise ValueError(
                f"image {img.id}: file is {pil.size[0]} x {pil.size[1]}, the COCO file says "
                f"{img.width} x {img.height}"
            )
        H, W = self.input_size
        sx, sy = W / img.width, H / img.height
        if (sx, sy) != (1.0, 1.0):
            pil = pil.resize((W, H), Image.BILINEAR)
        boxes = img.boxes * [sx, sy, sx, sy]
        ext = img.extreme_points
        if ext is not None:
            ext = ext * np.tile([sx, sy], 4)
        return make_item(
            np.asarray(pil),
            boxes,
            img.labels,
            self.num_classes,
            extreme_points=ext,
            max_objs=self.max_objs,
            stride=self.stride,
            extreme=self.extreme,
            targets=self.targets,
            image_id=img.id,
        )
