"""The book's figures and explorers, driven without a notebook."""

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")

from matplotlib.figure import Figure  # noqa: E402

from centernet_edu import gaussian_radius, viz, widgets  # noqa: E402
from centernet_edu.evaluate import box_iou, match_detections  # noqa: E402

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


def test_prior_explorer_reports_the_loss_on_its_public_targets():
    gt = widgets.prior_targets()
    assert gt.shape[0] == 8 and int((gt == 1).sum()) > 0
    pos, neg = viz.prior_loss(gt, 0.1)
    e = widgets.prior_explorer(pi=0.1)
    assert f"= <b>{pos + neg:.2f}</b> per object" in e.summary.value


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
    assert box_iou((0, 0, 2, 2), (1, 0, 3, 2)) == pytest.approx(1 / 3)
    assert box_iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0


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


def _perfect_heads():
    """One shapes image and the head outputs a perfect model would give for it."""
    from torch.utils.data import default_collate

    from centernet_edu import ShapesDataset, scatter_targets
    from centernet_edu.data import denormalize_image

    shapes = ("circle", "square", "triangle")
    ds = ShapesDataset(1, 64, seed=3, shapes=shapes, size_range=(12, 40), objects=(3, 4))
    item = ds[0]
    heads = {k: v[0] for k, v in scatter_targets(default_collate([item])).items()}
    n = int(item["num_objs"])
    return denormalize_image(item["image"]), heads, (item["boxes"][:n], item["labels"][:n])


def test_decode_explorer_counts_hits_and_false_positives():
    image, heads, gt = _perfect_heads()
    n = len(gt[1])
    e = widgets.decode_explorer(image, heads, gt, threshold=0.3, K=20, kernel=3)
    assert f"<b>{n}</b> of {n} objects found at IoU 0.5, <b>0</b> false positives" in (
        e.summary.value
    )
    first = bytes(e.image.value)
    # Without suppression the shoulders of each Gaussian become detections of size 0.
    e.controls["kernel"].value = 1
    assert f"<b>{n}</b> of {n} objects found" in e.summary.value
    assert "<b>0</b> false positives" not in e.summary.value
    assert bytes(e.image.value) != first
    e.controls["threshold"].value = 0.95  # only the peaks themselves (1.0) pass
    assert "<b>0</b> false positives" in e.summary.value
    e.controls["K"].value = 1
    assert f"<b>1</b> of {n} objects found" in e.summary.value
    assert repr(e) == "Explorer(threshold=0.95, K=1, kernel=1)"


def test_match_detections_is_greedy_per_class():
    gt_boxes, gt_labels = [[0, 0, 10, 10], [20, 0, 30, 10]], [0, 1]
    boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [20, 0, 30, 10], [20, 0, 30, 10]]
    # The second box overlaps the first object, which is taken; the last one has the
    # wrong class.
    assert match_detections(boxes, [0, 0, 1, 0], gt_boxes, gt_labels) == [0, -1, 1, -1]
    assert match_detections(boxes[:1], [0], gt_boxes, gt_labels, iou=1.01) == [-1]
    # The better overlap wins when two free objects of the class qualify (IoU 0.905 and
    # 0.818), whichever comes first.
    det, near, far = [1, 0, 11, 10], [1.5, 0, 11.5, 10], [0, 0, 10, 10]
    assert match_detections([det], [0], [near, far], [0, 0]) == [0]
    assert match_detections([det], [0], [far, near], [0, 0]) == [1]


def test_extreme_explorer_shows_what_the_centre_check_rejects():
    import numpy as np
    from torch.utils.data import default_collate

    from centernet_edu import scatter_targets
    from centernet_edu.data import make_item

    # Two objects of one class side by side: the left points of the first and the right
    # points of the second also span a box (a ghost), whose centre is background.
    points = np.array([[14, 20, 4, 30, 14, 40, 24, 30], [46, 20, 36, 30, 46, 40, 56, 30]])
    boxes = np.array([[4, 20, 24, 40], [36, 20, 56, 40]])
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    item = make_item(image, boxes, [0, 0], 1, extreme_points=points, max_objs=2, extreme=True)
    keys = [f"hm_{p}" for p in "tlbrc"] + [f"{k}_{p}" for k in ("reg", "ind") for p in "tlbr"]
    heads = scatter_targets(default_collate([{k: item[k] for k in keys + ["reg_mask"]}]))
    heads = {k: v[0] for k, v in heads.items()}
    gt = (boxes, np.array([0, 0]))

    e = widgets.extreme_explorer(image, heads, gt, K=2, center_thresh=0.1, threshold=0.3)
    assert "K = 2: 16 quadruples (t, l, b, r); <b>2</b> pass" in e.summary.value
    assert "<b>2</b> of 2 objects found at IoU 0.5, <b>0</b> false positives" in e.summary.value
    first = bytes(e.image.value)
    e.controls["center_thresh"].value = 0.0  # l of one, r of the other, any t and b
    assert "<b>6</b> pass" in e.summary.value and "<b>4</b> false positives" in e.summary.value
    assert bytes(e.image.value) != first
    assert repr(e) == "Explorer(K=2, center_thresh=0.0, threshold=0.3)"
