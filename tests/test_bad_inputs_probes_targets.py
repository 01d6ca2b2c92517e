"""Bad input to the heatmap and target entry points: mismatched or degenerate radius
sizes, absurd array sizes (refused before anything is allocated), a non-finite peak,
complex boxes, string labels, meta tensors, NaN sizes; and half-precision boxes, which
are encoded like float16 ones.

One row per refused case (an id, a call, the error type, a pattern its message must
match, naming the argument at fault), then the cases whose answer is a right result.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import centernet_edu as ce

B0 = [[2, 3, 12.5, 10]]


def zmap():
    return np.zeros((16, 16), np.float32)


def ctdet_batch(B=1):
    t = ce.encode_ctdet(B0, [0], 3, (16, 16))
    return {k: torch.stack([v] * B) for k, v in t.items()}


def nan_wh():
    t = ctdet_batch()
    t["wh"][0, 0, 0] = float("nan")
    return ce.scatter_targets(t)


def batch_boxes():
    return torch.tensor([[[2, 3, 12.5, 10], [0, 0, 0, 0]]])


def batch_labels():
    return torch.tensor([[0, -1]])


REFUSED = [
    (
        "radius-shapes-not-broadcastable",
        lambda: ce.gaussian_radius(np.ones(2), np.ones(3)),
        r"height and width must have broadcastable shapes, got height \(2,\) and width \(3,\)",
    ),
    ("gaussian_2d-shape-1e9", lambda: ce.gaussian_2d((1e9, 1e9)), "shape"),
    ("gaussian_2d-shape-2**40", lambda: ce.gaussian_2d((2**40, 1)), "shape"),
    ("draw-k-nan", lambda: ce.draw_gaussian(zmap(), (5, 5), 2, math.nan), "k"),
    ("draw-k-inf", lambda: ce.draw_gaussian(zmap(), (5, 5), 2, math.inf), "k"),
    ("draw-k-str", lambda: ce.draw_gaussian(zmap(), (5, 5), 2, "1"), "k"),
    ("draw-k-none", lambda: ce.draw_gaussian(zmap(), (5, 5), 2, None), "k"),
    (
        "ctdet-boxes-complex",
        lambda: ce.encode_ctdet(np.ones((1, 4), complex), [0], 3, (16, 16)),
        "boxes",
    ),
    ("ctdet-labels-str", lambda: ce.encode_ctdet(B0, ["a"], 3, (16, 16)), "labels"),
    ("ctdet-num_classes-1e12", lambda: ce.encode_ctdet(B0, [0], 10**12, (16, 16)), "num_classes"),
    ("ctdet-output_size-1e6", lambda: ce.encode_ctdet(B0, [0], 3, (10**6, 10**6)), "output_size"),
    ("ctdet-max_objs-1e10", lambda: ce.encode_ctdet(B0, [0], 3, (16, 16), 10**10), "max_objs"),
    (
        "batch-boxes-meta",
        lambda: ce.encode_ctdet_batch(
            torch.zeros(1, 2, 4, device="meta"), batch_labels(), 3, (16, 16)
        ),
        "boxes",
    ),
    (
        "batch-output_size-1e6",
        lambda: ce.encode_ctdet_batch(batch_boxes(), batch_labels(), 3, (10**6, 10**6)),
        "output_size",
    ),
    (
        "batch-max_objs-1e10",
        lambda: ce.encode_ctdet_batch(batch_boxes(), batch_labels(), 3, (16, 16), 10**10),
        "max_objs",
    ),
    (
        "exdet-output_size-1e6",
        lambda: ce.encode_exdet([[5, 2, 2, 6, 6, 10, 10, 5]], [0], 3, (10**6, 10**6)),
        "output_size",
    ),
    (
        "exdet-max_objs-1e10",
        lambda: ce.encode_exdet([[5, 2, 2, 6, 6, 10, 10, 5]], [0], 3, (16, 16), 10**10),
        "max_objs",
    ),
    (
        "exdet-points-complex",
        lambda: ce.encode_exdet(np.ones((1, 8), complex), [0], 3, (16, 16)),
        "extreme_points",
    ),
    (
        "exdet-points-meta",
        lambda: ce.encode_exdet(torch.zeros(1, 8, device="meta"), [0], 3, (16, 16)),
        "extreme_points",
    ),
    ("scatter-wh-nan", nan_wh, "wh"),
]


@pytest.mark.parametrize("call, pattern", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused(call, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        call()


def test_radius_of_tiny_sides_is_not_negative():
    for variant in ("centernet", "corrected"):
        r = ce.gaussian_radius(1e-300, 1e-300, variant=variant)
        assert math.isfinite(r) and r >= 0
        a = ce.gaussian_radius(np.full(2, 1e-300), np.full(2, 1e-300), variant=variant)
        assert (a >= 0).all()
        t = ce.gaussian_radius(torch.full((2,), 1e-300), torch.full((2,), 1e-300), variant=variant)
        assert bool((t >= 0).all())


def test_radius_of_same_shape_arrays_still_works():
    r = ce.gaussian_radius(np.array([10.0, 20.0]), np.array([10.0, 20.0]))
    assert r.shape == (2,) and r[0] == ce.gaussian_radius(10, 10)


def test_radius_broadcasts_height_against_width():
    """A scalar against an array, and a column against a row, as chapter 2 draws them."""
    r = ce.gaussian_radius(10, np.array([1.0, 2.0]))
    assert r.shape == (2,) and r[1] == ce.gaussian_radius(10, 2)
    grid = ce.gaussian_radius(
        torch.arange(1.0, 4).reshape(3, 1), torch.arange(1.0, 5).reshape(1, 4)
    )
    assert grid.shape == (3, 4) and float(grid[2, 3]) == pytest.approx(ce.gaussian_radius(3, 4))


def test_bfloat16_boxes_encode_like_float16():
    got = ce.encode_ctdet(torch.tensor(B0, dtype=torch.bfloat16), [0], 3, (16, 16))
    want = ce.encode_ctdet(torch.tensor(B0, dtype=torch.bfloat16).float(), [0], 3, (16, 16))
    assert got["reg_mask"].sum() == 1
    for key in want:
        assert torch.equal(got[key], want[key]), key


def test_finite_k_and_bool_labels_still_accepted():
    assert ce.draw_gaussian(zmap(), (5, 5), 2, -1.0).sum() == 0  # max with the zeros
    assert ce.draw_gaussian(zmap(), (5, 5), 2, 0.0).sum() == 0
    assert ce.encode_ctdet(B0, torch.tensor([True]), 3, (16, 16))["hm"][1].max() == 1
    assert ce.encode_ctdet(B0, [1.0], 3, (16, 16))["hm"][1].max() == 1
