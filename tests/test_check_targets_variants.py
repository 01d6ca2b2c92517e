"""The checkers of the targets' transfer exercises: boxes read back from the slot targets
(chapter 1) and TTFNet's elliptical splat (chapter 2). Each passes its reference and a
float32 variant, names each classic mistake by its hint, reports a function that raises,
returns None or NaN, and grades the same cases for a seed, other cases for another."""

import numpy as np
import pytest
import torch

from centernet_edu import draw_gaussian, encode_ctdet, exercises
from centernet_edu.exercises import check_targets_variants as variants

check_boxes = exercises.check_boxes_from_targets
check_ellipse = exercises.check_draw_elliptic_gaussian


def boxes_from_targets(wh, reg, ind, reg_mask, output_size):
    """Written from the formula, independently of the checker's reference."""
    W = output_size[1]
    rows = []
    for k in range(len(ind)):
        if reg_mask[k]:
            x, y = int(ind[k]) % W, int(ind[k]) // W
            cx, cy = x + float(reg[k, 0]), y + float(reg[k, 1])
            w, h = float(wh[k, 0]), float(wh[k, 1])
            rows.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    return torch.tensor(rows, dtype=wh.dtype).reshape(-1, 4)


def boxes_in_float32(wh, reg, ind, reg_mask, output_size):
    return boxes_from_targets(wh.float(), reg.float(), ind, reg_mask, output_size)


def ellipse(heatmap, center, radius_x, radius_y, dtype=np.float64):
    """Pixel by pixel, independently of the checker's reference."""
    rx, ry = int(radius_x), int(radius_y)
    sx, sy = (2 * rx + 1) / 6, (2 * ry + 1) / 6
    x, y = int(center[0]), int(center[1])
    H, W = heatmap.shape
    for j in range(max(0, y - ry), min(H, y + ry + 1)):
        for i in range(max(0, x - rx), min(W, x + rx + 1)):
            g = np.exp(-((i - x) ** 2 / (2 * sx**2) + (j - y) ** 2 / (2 * sy**2)), dtype=dtype)
            heatmap[j, i] = max(heatmap[j, i], g)
    return heatmap


def ellipse_in_float32(heatmap, center, radius_x, radius_y):
    return ellipse(heatmap, center, radius_x, radius_y, dtype=np.float32)


def test_the_solutions_and_their_float32_variants_pass():
    for fn in (boxes_from_targets, boxes_in_float32):
        report = check_boxes(fn)
        assert report.ok and report.total >= 7, str(report)
    for fn in (ellipse, ellipse_in_float32):
        report = check_ellipse(fn)
        assert report.ok and report.total >= 7, str(report)


def test_equal_radii_give_draw_gaussian():
    hm = ellipse(np.zeros((9, 11)), (4, 5), 3, 3)
    np.testing.assert_allclose(hm, draw_gaussian(np.zeros((9, 11)), (4, 5), 3), atol=1e-12)


def test_boxes_come_back_as_encode_ctdet_clipped_them():
    boxes = np.array([[1.0, 2.0, 7.5, 6.0], [8.0, 3.0, 20.0, 9.0]], np.float32)
    t = encode_ctdet(boxes, [0, 0], 1, (10, 12), max_objs=4)
    got = boxes_from_targets(t["wh"], t["reg"], t["ind"], t["reg_mask"], (10, 12))
    np.testing.assert_allclose(got.numpy(), [[1, 2, 7.5, 6], [8, 3, 11, 9]], atol=1e-6)


def swapped_index(wh, reg, ind, reg_mask, output_size):
    W = output_size[1]
    keep = reg_mask.bool()
    centre = torch.stack([ind[keep] // W, ind[keep] % W], 1).to(wh.dtype) + reg[keep]
    return torch.cat([centre - wh[keep] / 2, centre + wh[keep] / 2], 1)


def no_offset(wh, reg, *rest):
    return boxes_from_targets(wh, torch.zeros_like(reg), *rest)


def full_size(wh, reg, *rest):
    return boxes_from_targets(2 * wh, reg, *rest)


def every_slot(wh, reg, ind, reg_mask, output_size):
    return boxes_from_targets(wh, reg, ind, torch.ones_like(reg_mask), output_size)


def nonzero_ind(wh, reg, ind, reg_mask, output_size):
    return boxes_from_targets(wh, reg, ind, (ind > 0).to(torch.uint8), output_size)


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        (swapped_index, "p~_x = ind % W (the column)"),
        (no_offset, "add the offset"),
        (full_size, "w / 2 and h / 2 on each side"),
        (every_slot, "the filled slots only"),
        (nonzero_ind, "not with ind > 0"),
    ],
)
def test_each_box_mistake_fails_with_its_hint(mistake, hint):
    report = check_boxes(mistake)
    assert not report.ok and report.hint and hint in report.hint, str(report)


def swapped_axes(heatmap, center, radius_x, radius_y):
    return ellipse(heatmap, center, radius_y, radius_x)


def one_sigma(heatmap, center, radius_x, radius_y):
    r = max(int(radius_x), int(radius_y))
    window = np.zeros((2 * r + 1, 2 * r + 1))
    draw_gaussian(window, (r, r), r)
    rx, ry = int(radius_x), int(radius_y)
    patch = window[r - ry : r + ry + 1, r - rx : r + rx + 1]
    big = np.zeros((heatmap.shape[0] + 2 * ry, heatmap.shape[1] + 2 * rx))
    x, y = int(center[0]), int(center[1])
    big[y : y + 2 * ry + 1, x : x + 2 * rx + 1] = patch
    np.maximum(heatmap, big[ry : ry + heatmap.shape[0], rx : rx + heatmap.shape[1]], out=heatmap)
    return heatmap


def summed(heatmap, center, radius_x, radius_y):
    heatmap += ellipse(np.zeros_like(heatmap), center, radius_x, radius_y)
    return heatmap


def short_window(heatmap, center, radius_x, radius_y):
    H, W = heatmap.shape
    ellipse(heatmap[: H - 1, : W - 1], center, radius_x, radius_y)
    return heatmap


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        (swapped_axes, "radius_x is the extent along x"),
        (one_sigma, "each axis has its own sigma"),
        (summed, "not a sum"),
        (short_window, "the window ends at H and W"),
    ],
)
def test_each_splat_mistake_fails_with_its_hint(mistake, hint):
    report = check_ellipse(mistake)
    assert not report.ok and report.hint and hint in report.hint, str(report)


def raises(*args):
    raise RuntimeError("not written yet")


def returns_none(*args):
    return None


def nan_boxes(wh, reg, ind, reg_mask, output_size):
    return boxes_from_targets(wh, reg, ind, reg_mask, output_size) * float("nan")


def nan_splat(heatmap, center, radius_x, radius_y):
    ellipse(heatmap, center, radius_x, radius_y)
    heatmap[int(center[1]), int(center[0])] = np.nan
    return heatmap


@pytest.mark.parametrize("check", [check_boxes, check_ellipse])
def test_an_error_none_and_the_stub_are_reported(check):
    report = check(raises)
    assert report.passed == 0 and "raised RuntimeError: not written yet" in str(report)

    def stub(*args):
        raise NotImplementedError("write it here")

    report = check(stub)
    assert report.passed == 0 and "this is still the stub" in str(report)
    report = check(returns_none)
    assert report.passed == 0 and "returned None" in str(report)
    assert "not yet" in str(check(42))  # the result of a call, not the function


def test_nan_results_are_reported():
    report = check_boxes(nan_boxes)
    assert not report.ok and "NaN" in report.failures[0]
    report = check_ellipse(nan_splat)
    assert not report.ok and "NaN" in report.failures[0]


def test_a_splat_that_does_not_draw_in_place_is_told():
    def copy_first(heatmap, center, radius_x, radius_y):
        return ellipse(heatmap.copy(), center, radius_x, radius_y)

    report = check_ellipse(copy_first)
    assert not report.ok and "did not draw into the one it was given" in report.failures[0]


def test_changed_targets_are_told():
    def zeroes_reg(wh, reg, ind, reg_mask, output_size):
        out = boxes_from_targets(wh, reg, ind, reg_mask, output_size)
        reg.zero_()
        return out

    report = check_boxes(zeroes_reg)
    assert not report.ok and "changed its input reg" in report.failures[0]


def case_args(build, seed):
    return [c.args for c in build(seed)[1]]


def same(a, b) -> bool:
    if isinstance(a, (torch.Tensor, np.ndarray)):
        return type(a) is type(b) and a.shape == b.shape and bool((a == b).all())
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(map(same, a, b))
    return a == b


@pytest.mark.parametrize(
    "build", [variants.exercise_boxes_from_targets, variants.exercise_draw_elliptic_gaussian]
)
def test_cases_are_fixed_by_the_seed_and_differ_across_seeds(build):
    assert same(case_args(build, 0), case_args(build, 0))
    assert not same(case_args(build, 0), case_args(build, 1))
    assert len({repr(case_args(build, s)[-1]) for s in range(4)}) > 1


@pytest.mark.parametrize("seed", [1, 2, 3, 17])
def test_hidden_seeds_pass_the_reference(seed):
    assert check_boxes(boxes_from_targets, seed=seed).ok
    assert check_ellipse(ellipse, seed=seed).ok
