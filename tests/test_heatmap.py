import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from centernet_edu import draw_gaussian, gaussian_2d, gaussian_radius

sizes = st.floats(min_value=1.0, max_value=500.0, allow_nan=False)
overlaps = st.floats(min_value=0.05, max_value=0.95)


def case_ious(h: float, w: float, r: float) -> tuple[float, float, float]:
    """IoU with the ground truth of the three corner moves of the radius derivation."""
    slid = max(h - r, 0) * max(w - r, 0)
    shifted = slid / (2 * h * w - slid)
    shrunk = max(h - 2 * r, 0) * max(w - 2 * r, 0) / (h * w)
    grown = h * w / ((h + 2 * r) * (w + 2 * r))
    return shifted, shrunk, grown


@settings(max_examples=200, deadline=None)
@given(sizes, sizes, overlaps)
def test_corrected_radius_is_the_largest_safe_shift(h, w, o):
    r = gaussian_radius(h, w, o, variant="corrected")
    ious = case_ious(h, w, r)
    assert min(ious) == pytest.approx(o, rel=1e-6)
    assert all(iou >= o * (1 - 1e-6) for iou in ious)
    # A slightly larger radius breaks the overlap condition in some case.
    assert min(case_ious(h, w, r * 1.001 + 1e-9)) < o


@settings(max_examples=200, deadline=None)
@given(sizes, sizes, overlaps)
def test_reference_radius_is_4o_times_the_grown_box_root(h, w, o):
    # The documented flaw: the reference keeps only the outward case, divided by 2
    # instead of 2a = 8o.
    grown_root = (
        -2 * o * (h + w) + math.sqrt(4 * o**2 * (h + w) ** 2 + 16 * o * (1 - o) * h * w)
    ) / (8 * o)
    assert gaussian_radius(h, w, o) == pytest.approx(4 * o * grown_root, rel=1e-9)


def test_reference_radius_against_corrected_for_a_square():
    assert gaussian_radius(10, 10) == pytest.approx(2.7332005, abs=1e-6)
    assert gaussian_radius(10, 10, variant="corrected") == pytest.approx(0.8166999, abs=1e-6)


def test_radius_of_an_empty_box_is_zero():
    assert gaussian_radius(0, 0) == 0.0
    assert gaussian_radius(0, 0, variant="corrected") == 0.0


def test_radius_array_input_keeps_type_and_dtype():
    h = torch.tensor([4.0, 10.0, 50.0], dtype=torch.float64)
    r = gaussian_radius(h, h)
    assert isinstance(r, torch.Tensor) and r.dtype == torch.float64
    assert r.tolist() == pytest.approx([gaussian_radius(v, v) for v in (4.0, 10.0, 50.0)])
    assert isinstance(gaussian_radius(np.array([3.0]), np.array([5.0])), np.ndarray)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(height=-1, width=3), "height must be finite and >= 0"),
        (dict(height=3, width=float("nan")), "width must be finite and >= 0"),
        (dict(height=float("inf"), width=3), "height must be finite and >= 0"),
        (dict(height=np.array([1.0, -2.0]), width=np.array([1.0, 1.0])), "height must be finite"),
        (dict(height=3, width=3, min_overlap=1.0), r"min_overlap must be a number in \(0, 1\)"),
        (dict(height=3, width=3, min_overlap=0), r"min_overlap must be a number in \(0, 1\)"),
        (dict(height=3, width=3, variant="cornernet"), "variant must be one of"),
    ],
)
def test_radius_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gaussian_radius(**kwargs)


def test_gaussian_2d_peak_symmetry_and_cutoff():
    g = gaussian_2d((7, 9), sigma=1.0)
    assert g.shape == (7, 9) and g.dtype == np.float64
    assert g[3, 4] == 1.0 and g.max() == 1.0
    np.testing.assert_array_equal(g, g[::-1, ::-1])
    assert g[0, 0] == pytest.approx(math.exp(-(9 + 16) / 2))
    tiny = gaussian_2d((41, 41), sigma=1.0)
    assert (tiny == 0).any() and tiny[tiny > 0].min() >= np.finfo(np.float64).eps


@pytest.mark.parametrize(
    "args, message",
    [
        (((0, 3),), "shape must be two positive integers"),
        (((3,),), "shape must be two positive integers"),
        (((2.5, 3),), "shape must be two positive integers"),
        (((3, 3), 0.0), "sigma must be a finite number > 0"),
        (((3, 3), float("nan")), "sigma must be a finite number > 0"),
    ],
)
def test_gaussian_2d_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        gaussian_2d(*args)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_draw_gaussian_properties(backend):
    shape = (20, 30)
    hm = np.zeros(shape, np.float32) if backend == "numpy" else torch.zeros(shape)
    out = draw_gaussian(hm, (10.7, 5.2), 3)
    assert out is hm
    a = np.asarray(hm)
    assert a[5, 10] == 1.0 and a.max() == 1.0 and a.min() == 0.0
    # Only the (2r + 1)^2 window around the floored centre is written.
    assert np.count_nonzero(a) <= 7 * 7 and a[5, 14] == 0 and a[9, 10] == 0
    # A weaker second splat on top keeps the stronger values (element-wise max).
    before = a.copy()
    draw_gaussian(hm, (12, 5), 2, k=0.5)
    after = np.asarray(hm)
    assert (after >= before).all() and after[5, 10] == 1.0 and after[5, 12] > 0


@pytest.mark.parametrize("center", [(0, 0), (29, 19), (0, 19), (29, 0)])
def test_draw_gaussian_clips_at_borders_like_a_cropped_full_map(center):
    # Drawing at a corner equals drawing on a padded map and cropping.
    r = 4
    small = draw_gaussian(np.zeros((20, 30), np.float32), center, r)
    big = draw_gaussian(
        np.zeros((20 + 2 * r, 30 + 2 * r), np.float32), (center[0] + r, center[1] + r), r
    )
    np.testing.assert_array_equal(small, big[r:-r, r:-r])


def test_draw_gaussian_center_off_the_map_draws_the_visible_tail():
    hm = draw_gaussian(np.zeros((10, 10), np.float32), (12, 5), 4)
    ref = draw_gaussian(np.zeros((10, 20), np.float32), (12, 5), 4)[:, :10]
    np.testing.assert_array_equal(hm, ref)
    assert hm.max() > 0
    far = draw_gaussian(np.zeros((10, 10), np.float32), (40, 40), 2)
    assert far.max() == 0


def test_draw_gaussian_follows_tensor_dtype():
    hm = torch.zeros(9, 9, dtype=torch.float64)
    draw_gaussian(hm, (4, 4), 3, k=0.25)
    assert hm.dtype == torch.float64 and hm.max().item() == 0.25
    np.testing.assert_array_equal(hm[1:8, 1:8].numpy(), gaussian_2d((7, 7), 7 / 6) * 0.25)


@pytest.mark.parametrize(
    "heatmap, center, radius, message",
    [
        (np.zeros((3, 4, 4)), (1, 1), 1, r"heatmap must be a 2-D numpy array or torch tensor"),
        ([[0.0]], (0, 0), 1, r"heatmap must be a 2-D"),
        (np.zeros((4, 4)), (1, 1), -1, "radius must be a non-negative integer"),
        (np.zeros((4, 4)), (1, 1), 1.5, "radius must be a non-negative integer"),
        (np.zeros((4, 4)), (float("nan"), 1), 1, r"center must be two finite numbers \(x, y\)"),
        (np.zeros((4, 4)), (1, 1, 1), 1, r"center must be two finite numbers"),
    ],
)
def test_draw_gaussian_rejects_bad_input(heatmap, center, radius, message):
    with pytest.raises(ValueError, match=message):
        draw_gaussian(heatmap, center, radius)


@pytest.mark.parametrize(
    "as_array",
    [
        lambda v: np.full(3, v, dtype=np.uint8),
        lambda v: np.full(3, v, dtype=np.int16),
        lambda v: torch.full((3,), v, dtype=torch.uint8),
        lambda v: torch.full((3,), v, dtype=torch.int32),
    ],
)
def test_radius_of_small_integer_sizes_does_not_wrap_around(as_array):
    # 20 * 20 = 400 does not fit in a uint8: the products must be taken in floating point.
    for variant in ("centernet", "corrected"):
        r = gaussian_radius(as_array(20), as_array(20), variant=variant)
        assert np.allclose(
            np.asarray(r, dtype=np.float64), gaussian_radius(20, 20, variant=variant)
        )


@pytest.mark.parametrize(
    "heatmap",
    [
        np.zeros((5, 5), dtype=np.int64),
        torch.zeros(5, 5, dtype=torch.bool),
        torch.zeros(5, 5, dtype=torch.uint8),
    ],
)
def test_draw_gaussian_refuses_maps_that_would_truncate_it(heatmap):
    with pytest.raises(ValueError, match="heatmap must have a floating-point dtype, got"):
        draw_gaussian(heatmap, (2, 2), 2)
