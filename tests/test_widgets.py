"""The book's figures and explorers, driven without a notebook."""

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")

from matplotlib.figure import Figure  # noqa: E402

from centernet_edu import gaussian_radius, viz, widgets  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
EXPLORERS = [
    widgets.radius_explorer,
    widgets.focal_loss_explorer,
    widgets.offset_explorer,
    widgets.size_explorer,
    widgets.prior_explorer,
]


@pytest.mark.parametrize("make", EXPLORERS)
def test_explorer_shows_a_figure_and_follows_its_controls(make):
    e = make()
    assert bytes(e.image.value).startswith(PNG)
    first_png, first_summary = bytes(e.image.value), e.summary.value
    name, control = next(iter(e.controls.items()))
    options = getattr(control, "options", None)
    control.value = options[0] if options else control.min + control.step
    assert e.values[name] == control.value
    assert bytes(e.image.value) != first_png and e.summary.value != first_summary


def test_radius_explorer_reports_the_package_radii():
    e = widgets.radius_explorer(width=30, height=10, min_overlap=0.5)
    ref = gaussian_radius(10, 30, 0.5)
    fixed = gaussian_radius(10, 30, 0.5, variant="corrected")
    assert f"<b>{ref:.2f}</b>" in e.summary.value and f"<b>{fixed:.2f}</b>" in e.summary.value


def test_size_explorer_reports_l1_and_iou():
    e = widgets.size_explorer(width=10, height=10, dw=10, dh=0)
    assert "<b>10.00</b> px" in e.summary.value and "<b>1.000</b>" in e.summary.value
    assert "IoU with the ground truth 0.500" in e.summary.value


def test_offset_explorer_reports_the_quantisation_error():
    e = widgets.offset_explorer(x=6.0, y=4.0, stride=4)
    assert "cell (1, 1)" in e.summary.value and "offset target (0.500, 0.000)" in e.summary.value
    assert "<b>2.00</b> image pixels" in e.summary.value


def test_box_iou():
    assert viz.box_iou((0, 0, 2, 2), (1, 0, 3, 2)) == pytest.approx(1 / 3)
    assert viz.box_iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert viz.box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0


@pytest.mark.parametrize("h, w, o", [(10, 10, 0.7), (40, 8, 0.5), (3, 90, 0.9)])
def test_overlap_cases_reach_the_minimum_iou(h, w, o):
    axes = Figure().subplots(1, 3)
    viz.draw_overlap_cases(axes, h, w, o)
    ious = [float(ax.get_title().rsplit("IoU ", 1)[1]) for ax in axes]
    assert min(ious) == pytest.approx(o, abs=1e-3) and all(i >= o - 1e-3 for i in ious)


def test_show_heatmap_rejects_other_shapes():
    import numpy as np

    with pytest.raises(
        ValueError, match=r"heat must have shape \(H, W\) or \(C, H, W\), got \(2,\)"
    ):
        viz.show_heatmap(Figure().subplots(), np.zeros(2))


def test_explorer_text_is_short_and_stable():
    e = widgets.size_explorer(width=10, height=10, dw=1, dh=0)
    assert repr(e) == "Explorer(width=10.0, height=10.0, dw=1.0, dh=0.0)"


def test_prior_loss_splits_lk_at_a_constant_prediction():
    import math

    import torch

    gt = torch.zeros(1, 1, 4, 4)
    gt[0, 0, 1, 1] = 1
    gt[0, 0, 1, 2] = 0.5
    pos, neg = viz.prior_loss(gt, 0.1)
    assert pos == pytest.approx(-(0.9**2) * math.log(0.1))
    # 14 far negatives and one at Y = 0.5, each weighted by (1 - Y)^4 pi^2 log(1 - pi).
    assert neg == pytest.approx(-(14 + 0.5**4) * 0.1**2 * math.log(0.9))


def test_prior_explorer_reports_the_bias():
    e = widgets.prior_explorer(pi=0.1)
    assert "<b>-2.20</b>" in e.summary.value
