"""The shapes data set: coloured shapes on a noisy, cluttered background.

``ShapesDataset`` draws circles, squares, triangles, ellipses and diamonds (the class is
the kind of shape). Each image is a pure function of ``(seed, index)``, so nothing is
downloaded and every run sees the same pictures. Because the shapes are geometric, their
boxes and extreme points are exact: they come from the geometry (``geometry.Shape``), not
from a mask, and the rasteriser samples the same geometry, so the drawn pixels span
exactly the box (up to the pixel grid).

Coordinates are continuous image pixels: an image W pixels wide spans x in [0, W].
Dividing by the output stride R gives heatmap coordinates, which is what
``encode_ctdet`` takes.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from numbers import Integral, Real

import numpy as np
from torch.utils.data import Dataset

from ..validate import int_pair, nonnegative_int, positive_int
from .batching import boolean, item_index, pack_item
from .geometry import Shape, coverage, paint, polygon, rotate, segment_coverage

__all__ = ["SHAPES", "VIEWS", "ShapesDataset"]

SHAPES = ("circle", "square", "triangle", "ellipse", "diamond")

_MARGIN = 4.0  # shapes stay this far inside the image, so the heatmap never clips a box
_RING = np.array([[0, 0], [1.5, 0], [-1.5, 0], [0, 1.5], [0, -1.5]])  # around an extreme point
VIEWS = (1, 2, 4)  # how many mirror images of each scene a data set may show
_CACHE_BYTES = 128 * 2**20  # drawn scenes kept for their other views, at most this much image
MAX_IMAGE_SIZE = 4096  # pixels a side: one float image of this size is 200 MB
MAX_CLUTTER = 1000  # background strokes a scene may hold
# Objects a scene may hold: placing each one tests it against all placed before it, so a
# scene of this many takes seconds to draw.
MAX_OBJECTS = 1000


def _make_shape(kind: str, scale: float, rng: np.random.Generator, center=(0.0, 0.0)) -> Shape:
    """A shape of ``kind`` whose larger extent is about ``scale`` pixels."""
    r = scale / 2
    if kind == "circle":
        return Shape(kind, center, ellipse=(r, r, 0.0))
    if kind == "ellipse":
        ratio = rng.uniform(0.45, 0.7)
        return Shape(kind, center, ellipse=(r, r * ratio, rng.uniform(0, math.pi)))
    if kind == "square":
        half = r / math.sqrt(2) * 1.2
        pts = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
        return polygon(kind, center, rotate(pts, math.radians(rng.uniform(-15, 15))))
    if kind == "triangle":
        angles = rng.uniform(0, 2 * math.pi) + np.array([0, 2, 4]) * math.pi / 3
        pts = np.stack([np.cos(angles), np.sin(angles)], axis=1) * r * 1.1
        return polygon(kind, center, pts)
    if kind == "diamond":
        ratio = rng.uniform(0.5, 0.75)
        pts = np.array([[0, -r], [r * ratio, 0], [0, r], [-r * ratio, 0]])
        return polygon(kind, center, rotate(pts, math.radians(rng.uniform(-10, 10))))
    raise ValueError(f"unknown shape {kind!r}; expected one of {SHAPES}")


def _shape_names(shapes) -> tuple[str, ...]:
    names = tuple(shapes) if isinstance(shapes, Iterable) and not isinstance(shapes, str) else ()
    if not names or any(s not in SHAPES for s in names) or len(set(names)) != len(names):
        raise ValueError(f"shapes must be distinct names from {SHAPES}, got {shapes!r}")
    return names


def _size_range(value, room: float) -> tuple[float, float]:
    try:
        lo, hi = value
        ok = all(isinstance(v, Real) and not isinstance(v, bool) for v in (lo, hi))
    except (TypeError, ValueError):
        ok = False
    if not (ok and 2 <= lo <= hi <= room):
        raise ValueError(
            f"size_range must satisfy 2 <= min <= max <= {room:g} (the image less its "
            f"margins), got {value!r}"
        )
    return float(lo), float(hi)


def _fraction(name: str, value, *, open_high: bool = False) -> float:
    """A number in [0, 1], or [0, 1) with ``open_high``."""
    ok = isinstance(value, Real) and not isinstance(value, bool)
    if not (ok and 0 <= value and (value < 1 if open_high else value <= 1)):
        raise ValueError(f"{name} must lie in [0, 1{')' if open_high else ']'}, got {value!r}")
    return float(value)


def _mirrored(drawn: dict, view: int, size: tuple[int, int]) -> dict:
    """View ``view`` of a ``render`` dict: bit 0 mirrors it left to right (x -> W - x),
    bit 1 upside down (y -> H - y). The extreme points keep their order t, l, b, r: a
    left-right mirror swaps the left and right points, an upside-down one the top and
    bottom. View 0 is ``drawn`` itself."""
    if view == 0:
        return drawn
    H, W = size
    out = dict(drawn)
    image, boxes, ext = drawn["image"], drawn["boxes"].copy(), drawn["extreme_points"]
    ext = ext.reshape(-1, 4, 2).copy()  # t, l, b, r; (x, y) each
    masks = drawn.get("masks")
    if view & 1:
        image = image[:, ::-1]
        boxes[:, [0, 2]] = W - boxes[:, [2, 0]]
        ext[:, :, 0] = W - ext[:, :, 0]
        ext = ext[:, [0, 3, 2, 1]]
        masks = None if masks is None else masks[:, :, ::-1]
    if view & 2:
        image = image[::-1]
        boxes[:, [1, 3]] = H - boxes[:, [3, 1]]
        ext[:, :, 1] = H - ext[:, :, 1]
        ext = ext[:, [2, 1, 0, 3]]
        masks = None if masks is None else masks[:, ::-1]
    out["image"] = np.ascontiguousarray(image)
    out["boxes"], out["extreme_points"] = boxes, np.ascontiguousarray(ext.reshape(-1, 8))
    if masks is not None:
        out["masks"] = np.ascontiguousarray(masks)
    return out


class _Placed:
    """The objects of a scene so far, with what ``_fits`` compares a candidate against:
    their boxes, their centre pixels and the points around their extreme points (kept
    as each object is added, not recomputed for every candidate position)."""

    def __init__(self):
        self.shapes: list[Shape] = []
        self.boxes: list[list[float]] = []
        self.centres: set[tuple[int, int]] = set()
        self.ring = np.empty((0, len(_RING), 2))

    def add(self, shape: Shape, centre: tuple[int, int]) -> None:
        self.shapes.append(shape)
        self.boxes.append(shape.box.tolist())
        self.centres.add(centre)
        self.ring = np.concatenate([self.ring, shape.extremes[:, None, :] + _RING])


class ShapesDataset(Dataset):
    """Synthetic detection data: coloured shapes on a noisy, cluttered background.

    Item ``index`` is drawn from ``np.random.default_rng([seed, index])`` alone, so it is
    the same in every process, worker and run. The class of an object is the index of its
    kind in ``shapes``. Objects keep ``4`` pixels from the border, may overlap (their
    boxes up to ``max_overlap`` IoU) and hide parts of each other, but never one another's
    extreme points, so the visible pixels of every object still span its box exactly.
    Object centres fall on distinct heatmap pixels, so a perfect heatmap can recover every
    object.

    With ``views`` 2 or 4, each scene drawn is shown that many times, mirrored: item
    ``index`` is view ``index % views`` of scene ``index // views`` (drawn from
    ``default_rng([seed, index // views])``): as drawn, mirrored left to right, upside
    down, and both. Every mirror image is as exact as the scene (boxes and extreme points
    are mirrored with it) and is a fair sample of the same data: no kind of shape, no
    size and no place in the image is favoured by a mirror. Drawing a crowded scene costs
    more than a training step's share of it, so a scene is drawn once and kept (up to
    128 MiB of images per process) until its other views are read.

    Args:
        length: number of images.
        image_size: ``S`` or ``(H, W)``, divisible by ``stride``.
        seed: selects the images; use different seeds for training and held-out data.
        shapes: the kinds of shape, a subset of ``SHAPES``; C = ``len(shapes)``.
        objects: ``(min, max)`` objects per image (fewer when the image is too full), at
            most 1000.
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
        views: 1, 2 or 4 mirror images of each scene (above); ``length`` counts the
            images, so the data set draws ``ceil(length / views)`` scenes.

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
        views: int = 1,
    ):
        self.length = nonnegative_int("length", length)
        self.seed = nonnegative_int("seed", seed)
        self.stride = positive_int("stride", stride)
        self.max_objs = positive_int("max_objs", max_objs)
        self.clutter = nonnegative_int("clutter", clutter)
        if self.clutter > MAX_CLUTTER:
            raise ValueError(f"clutter must be at most {MAX_CLUTTER} strokes, got {clutter!r}")
        pair = (image_size, image_size) if isinstance(image_size, Integral) else image_size
        self.image_size = int_pair("image_size", pair, labels="(H, W) or one integer S")
        if max(self.image_size) > MAX_IMAGE_SIZE:
            raise ValueError(f"image_size must be at most {MAX_IMAGE_SIZE}, got {image_size!r}")
        if self.image_size[0] % self.stride or self.image_size[1] % self.stride:
            raise ValueError(
                f"image_size must be divisible by the stride {self.stride}, got {self.image_size}"
            )
        self.shapes = _shape_names(shapes)
        self.objects = int_pair("objects", objects, minimum=0, labels="(min, max)")
        if self.objects[0] > self.objects[1]:
            raise ValueError(f"objects must be (min, max) with 0 <= min <= max, got {objects!r}")
        if self.objects[1] > MAX_OBJECTS:
            raise ValueError(
                f"objects max must be at most {MAX_OBJECTS} objects per image, got {objects!r}"
            )
        if self.objects[1] > self.max_objs:
            raise ValueError(
                f"objects max {self.objects[1]} exceeds max_objs = {self.max_objs} slots"
            )
        self.size_range = _size_range(size_range, min(self.image_size) - 2 * _MARGIN)
        self.max_overlap = _fraction("max_overlap", max_overlap)
        self.noise = _fraction("noise", noise, open_high=True)
        self.extreme, self.targets = boolean("extreme", extreme), boolean("targets", targets)
        if isinstance(views, bool) or views not in VIEWS:
            raise ValueError(f"views must be one of {VIEWS}, got {views!r}")
        self.views = int(views)
        self._drawn: OrderedDict[int, dict] = OrderedDict()  # scene -> render(), the cache

    @property
    def num_classes(self) -> int:
        return len(self.shapes)

    @property
    def categories(self) -> list[str]:
        return list(self.shapes)

    def __len__(self) -> int:
        return self.length

    def _scene(self, rng: np.random.Generator) -> list[Shape]:
        """Place the objects: random kind, scale and position, rejecting bad overlaps."""
        H, W = self.image_size
        lo, hi = self.size_range
        n_target = int(rng.integers(self.objects[0], self.objects[1] + 1))
        placed = _Placed()
        for _ in range(n_target):
            kind = self.shapes[int(rng.integers(len(self.shapes)))]
            scale = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            proto = _make_shape(kind, scale, rng)
            px1, py1, px2, py2 = proto.box
            if px2 - px1 > W - 2 * _MARGIN or py2 - py1 > H - 2 * _MARGIN:
                continue  # a rotated shape near the top of size_range can outgrow the image
            for _attempt in range(20):
                cx = rng.uniform(_MARGIN - px1, W - _MARGIN - px2)
                cy = rng.uniform(_MARGIN - py1, H - _MARGIN - py2)
                shape = proto.moved((cx, cy))
                centre = self._centre_pixel(shape.box)
                if self._fits(shape, centre, placed):
                    placed.add(shape, centre)
                    break
        return placed.shapes

    def _centre_pixel(self, box) -> tuple[int, int]:
        """The heatmap pixel of a box's centre, computed as ``encode_ctdet`` does (float32)."""
        b = np.asarray(box, dtype=np.float32) / np.float32(self.stride)
        return int((b[0] + b[2]) / np.float32(2)), int((b[1] + b[3]) / np.float32(2))

    def _fits(self, shape: Shape, centre: tuple[int, int], placed: _Placed) -> bool:
        """Whether ``shape``, whose box centre falls on heatmap pixel ``centre``, may join
        ``placed``: its own centre pixel, small box overlaps, and every extreme point of
        the others left visible."""
        if centre in placed.centres:
            return False
        x1, y1, x2, y2 = shape.box.tolist()
        area = (x2 - x1) * (y2 - y1)
        for a1, b1, a2, b2 in placed.boxes:
            inter = max(0.0, min(x2, a2) - max(x1, a1)) * max(0.0, min(y2, b2) - max(y1, b1))
            if inter > self.max_overlap * (area + (a2 - a1) * (b2 - b1) - inter):
                return False
        if not placed.shapes:
            return True
        # The new shape is drawn on top: it must leave the others' extreme points visible,
        # with a pixel and a half to spare.
        pts = placed.ring
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
        index = item_index(index, self.length)
        scene, view = divmod(index, self.views)
        if self.views == 1 or masks:
            return _mirrored(self._draw(scene, masks), view, self.image_size)
        drawn = self._drawn.get(scene)
        if drawn is None:
            drawn = self._draw(scene, False)
            self._drawn[scene] = drawn
            H, W = self.image_size
            while len(self._drawn) * H * W * 3 > _CACHE_BYTES:
                self._drawn.popitem(last=False)  # the scene drawn longest ago
        # Copies: what the caller does with them must not reach the kept scene.
        return {k: v.copy() for k, v in _mirrored(drawn, view, self.image_size).items()}

    def __getstate__(self) -> dict:
        # A data loader's worker gets a copy of the data set: without the drawn scenes.
        return {**self.__dict__, "_drawn": OrderedDict()}

    def _draw(self, scene: int, masks: bool) -> dict:
        """Scene ``scene`` as drawn: ``render`` without a mirror."""
        rng = np.random.default_rng([self.seed, scene])
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
            cov, (top, left) = segment_coverage(p0, p1, rng.uniform(0.8, 2.0), H, W)
            paint(img, cov, top, left, rng.uniform(0, 1, 3))
        shapes = self._scene(rng)
        covs = []
        for shape in shapes:
            cov, (top, left) = coverage(shape, H, W)
            h, w = cov.shape
            bg = img[:, top : top + h, left : left + w].mean(axis=(1, 2))
            paint(img, cov, top, left, self._colour(rng, bg))
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
        index = item_index(index, self.length)
        r = self.render(index)
        return pack_item(
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
