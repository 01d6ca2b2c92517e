"""The rasteriser of the shapes data set: exact convex shapes and their pixel coverage.

A shape is an ellipse or a convex polygon; its extreme points (top, left, bottom, right)
and its box come from the geometry itself, and the rasteriser samples the same geometry,
so the drawn pixels span exactly the box (up to the pixel grid).

Coordinates are continuous image pixels: pixel (row i, column j) covers
[j, j + 1) x [i, i + 1), so its centre is (j + 0.5, i + 0.5).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Shape", "polygon", "rotate", "coverage", "segment_coverage", "paint"]

_SUPERSAMPLE = 4  # sub-samples per pixel side: coverage is measured on a 4 x 4 grid


class Shape:
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
        inside = np.ones(np.broadcast(x, y).shape, dtype=bool)
        for ax, ay, bx, by in self._edges():
            # Left of every edge (on screen, with y pointing down, that is cross >= 0).
            inside &= (bx - ax) * (y - ay) - (by - ay) * (x - ax) >= 0
        return inside

    def _edges(self) -> list[list[float]]:
        """A polygon's edges ``[ax, ay, bx, by]``, each vertex to the next, as floats:
        ``contains`` runs for every candidate position of a scene's objects, where numpy
        calls on four-row arrays cost more than the arithmetic."""
        v = self.vertices
        return np.concatenate([v, np.concatenate([v[1:], v[:1]])], axis=1).tolist()

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

    def moved(self, center) -> Shape:
        """The same shape, translated to ``center``."""
        d = np.array([center[0] - self.center[0], center[1] - self.center[1]])
        out = object.__new__(Shape)
        out.kind, out.ellipse = self.kind, self.ellipse
        out.center = (float(center[0]), float(center[1]))
        out.vertices = None if self.vertices is None else self.vertices + d
        out.extremes = self.extremes + d
        out.box = self.box + np.concatenate([d, d])
        return out


def polygon(kind: str, center, vertices: np.ndarray) -> Shape:
    """A convex polygon of ``(K, 2)`` ``vertices`` around ``center``, in either order."""
    v = np.asarray(vertices, dtype=np.float64) + np.asarray(center)
    # Shoelace area; on screen (y down) a positive value means counter-clockwise.
    x, y = v[:, 0], v[:, 1]
    area2 = np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    if area2 < 0:
        v = v[::-1].copy()
    return Shape(kind, center, vertices=v)


def rotate(points: np.ndarray, theta: float) -> np.ndarray:
    """``(K, 2)`` points turned by ``theta`` radians about the origin."""
    c, s = math.cos(theta), math.sin(theta)
    return points @ np.array([[c, s], [-s, c]])


def coverage(shape: Shape, height: int, width: int):
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


def segment_coverage(p0, p1, thickness: float, height: int, width: int):
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


def paint(img: np.ndarray, cov: np.ndarray, top: int, left: int, colour) -> None:
    """Alpha-blend ``colour`` into ``img (3, H, W)`` in place; ``cov`` is the alpha of a
    window starting at ``(top, left)``."""
    h, w = cov.shape
    win = img[:, top : top + h, left : left + w]
    win += cov * (np.asarray(colour, dtype=np.float32)[:, None, None] - win)
