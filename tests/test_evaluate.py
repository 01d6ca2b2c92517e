"""COCO mAP through pycocotools, and the oracle ablations."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from centernet_edu.data import ShapesDataset
from centernet_edu.evaluate import (
    METRICS,
    ORACLES,
    coco_map,
    collect_detections,
    collect_exdet_detections,
    detections_to_coco,
    evaluate,
    evaluate_exdet,
    format_metrics,
    oracle_ablations,
)
from centernet_edu.model import CenterNetLite


def _gt(boxes):
    """A one-image COCO ground truth from ``[x, y, w, h]`` boxes of class 1."""
    return {
        "images": [{"id": 7, "width": 100, "height": 100}],
        "annotations": [
            {"id": k + 1, "image_id": 7, "category_id": 1, "bbox": b, "area": b[2] * b[3]}
            | {"iscrowd": 0}
            for k, b in enumerate(boxes)
        ],
        "categories": [{"id": 1, "name": "a"}],
    }


def test_map_of_a_shifted_box_follows_its_iou():
    # Shifted by 2 of 10 pixels: IoU = 80 / 120 = 2/3, a hit at IoU thresholds
    # 0.50, 0.55, 0.60, 0.65 and a miss at the six above.
    gt = _gt([[10, 10, 10, 10]])
    dets = [{"image_id": 7, "category_id": 1, "bbox": [12, 10, 10, 10], "score": 0.9}]
    m = coco_map(gt, dets)
    assert m["AP50"] == pytest.approx(1.0)
    assert m["AP75"] == pytest.approx(0.0)
    assert m["AP"] == pytest.approx(0.4)
    assert m["AP_small"] == pytest.approx(0.4)
    assert math.isnan(m["AP_medium"]) and math.isnan(m["AP_large"])


def test_map_counts_misses_and_false_positives():
    gt = _gt([[10, 10, 10, 10], [50, 50, 10, 10]])
    hit = {"image_id": 7, "category_id": 1, "bbox": [10, 10, 10, 10]}
    assert coco_map(gt, [hit | {"score": 0.9}])["AP"] == pytest.approx(0.5, abs=0.01)
    assert coco_map(gt, [])["AP"] == 0.0
    wrong_class = [hit | {"score": 0.9, "category_id": 2}]
    gt["categories"].append({"id": 2, "name": "b"})
    assert coco_map(gt, wrong_class)["AP"] == 0.0
    with pytest.raises(ValueError, match="image 3, not in the ground truth"):
        coco_map(gt, [hit | {"score": 0.5, "image_id": 3}])


def test_pycocotools_output_is_silenced(capsys):
    coco_map(_gt([[1, 1, 5, 5]]), [])
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_detections_to_coco_scales_and_drops_empty_peaks():
    dets = torch.tensor([[[1.0, 2.0, 3.0, 5.0, 0.75, 2.0], [0, 0, 0, 0, 0.0, 0]]])
    out = detections_to_coco(dets, torch.tensor([11]), stride=4)
    assert out == [{"image_id": 11, "category_id": 3, "bbox": [4.0, 8.0, 8.0, 12.0], "score": 0.75}]
    with pytest.raises(ValueError, match="image_ids must hold 1"):
        detections_to_coco(dets, [1, 2], stride=4)


def test_the_perfect_prediction_scores_one():
    ds = ShapesDataset(24, 128, seed=5, objects=(1, 8))
    gt, results = collect_detections(None, ds, ("gt_all",), batch_size=8)
    assert len(gt["annotations"]) == len(results["gt_all"]) > 24
    m = coco_map(gt, results["gt_all"])
    assert m["AP"] == m["AP50"] == m["AP75"] == 1.0
    assert m["AP_small"] == 1.0


def test_oracle_ablations_report_every_mixture():
    ds = ShapesDataset(8, 64, seed=1, shapes=("circle", "square"), size_range=(6, 24))
    torch.manual_seed(0)
    model = CenterNetLite(2, channels=(8, 8, 16, 16), head_channels=8)
    res = oracle_ablations(model, ds, batch_size=4)
    assert set(res) == set(ORACLES)
    for metrics in res.values():
        assert set(metrics) == set(METRICS)
    assert res["gt_all"]["AP"] == 1.0
    # An untrained model finds little; with the true heatmap, size and offset it is perfect
    # again only when all three are true.
    assert res["model"]["AP50"] < 0.2
    assert res["gt_hm_wh"]["AP"] > res["model"]["AP"]
    assert evaluate(model, ds, batch_size=4) == pytest.approx(res["model"], nan_ok=True)
    assert "AP50" in format_metrics(res["model"])


def test_evaluate_scores_its_own_detections_as_coco_map_does():
    # evaluate and oracle_ablations skip coco_map's checks of what they made themselves.
    ds = ShapesDataset(12, 64, seed=3, shapes=("circle", "square"), size_range=(6, 24))
    torch.manual_seed(1)
    model = CenterNetLite(2, channels=(8, 8, 16, 16), head_channels=8)
    gt, results = collect_detections(model, ds, ("model", "gt_hm_wh"), batch_size=4)
    before = copy.deepcopy((gt, results))
    checked = {name: coco_map(gt, dets) for name, dets in results.items()}
    assert (gt, results) == before
    assert evaluate(model, ds, batch_size=4) == pytest.approx(checked["model"], nan_ok=True)
    made = oracle_ablations(model, ds, ("model", "gt_hm_wh"), batch_size=4)
    assert made.keys() == checked.keys() and checked["gt_hm_wh"]["AP50"] > 0
    for name, metrics in made.items():
        assert metrics == pytest.approx(checked[name], nan_ok=True), name


def test_unknown_oracle_and_missing_model():
    ds = ShapesDataset(2, 64)
    with pytest.raises(ValueError, match="unknown oracles"):
        collect_detections(None, ds, ("gt_everything",))
    with pytest.raises(ValueError, match="a model is needed"):
        collect_detections(None, ds, ("gt_hm",))


def _exdet_items():
    """Two images with one object each, given by extreme points t, l, b, r (image pixels)
    whose rounded heatmap centre is the centre pixel of the target."""
    from centernet_edu.data import make_item

    points = [
        [30, 10, 12, 26, 26, 50, 50, 30],
        [20, 6, 6, 22, 22, 40, 42, 18],
    ]
    items = []
    for k, p in enumerate(points):
        x, y = p[0::2], p[1::2]
        box = [min(x), min(y), max(x), max(y)]
        image = np.zeros((64, 64, 3), dtype=np.uint8)
        items.append(
            make_item(image, [box], [k], 2, extreme_points=[p], max_objs=4, extreme=True)
            | {"image_id": torch.tensor(k + 1)}
        )
    return items


def test_exdet_evaluation_of_the_true_maps_recovers_the_boxes():
    items = _exdet_items()
    gt, results = collect_exdet_detections(None, items, K=2, num_dets=4, batch_size=2)
    assert len(results) == 2
    for r in results:
        (want,) = [a["bbox"] for a in gt["annotations"] if a["image_id"] == r["image_id"]]
        np.testing.assert_allclose(r["bbox"], want, atol=1e-4)
    assert evaluate_exdet(None, items, K=2, num_dets=4)["AP"] == pytest.approx(1.0)


def test_exdet_evaluation_of_a_model_and_bad_input():
    items = _exdet_items()
    torch.manual_seed(0)
    model = CenterNetLite(2, channels=(8, 8, 16, 16), head_channels=8, extreme=True)
    metrics = evaluate_exdet(model, items, K=3, num_dets=10)
    assert set(metrics) == set(METRICS) and metrics["AP50"] < 0.2
    with pytest.raises(ValueError, match=r"extreme-point heads \(extreme=True\)"):
        evaluate_exdet(CenterNetLite(2, channels=(8, 8, 16, 16)), items)
    with pytest.raises(ValueError, match="must hold the extreme-point targets"):
        evaluate_exdet(None, ShapesDataset(2, 64))


# --------------------------------------------------------------------------- what is scored


def test_a_nan_detection_raises_in_coco_map():
    gt = _gt([[10, 10, 10, 10]])
    nan_box = {"image_id": 7, "category_id": 1, "bbox": [math.nan] * 4, "score": 0.9}
    with pytest.raises(ValueError, match=r"result 0 \(image_id 7\): bbox must be 4 finite"):
        coco_map(gt, [nan_box])
    hit = {"image_id": 7, "category_id": 1, "bbox": [10, 10, 10, 10]}
    for score in (math.nan, math.inf):
        with pytest.raises(ValueError, match=r"result 1 \(image_id 7\): score must be a finite"):
            coco_map(gt, [hit | {"score": 0.5}, hit | {"score": score}])
    inf_box = hit | {"score": 0.5, "bbox": [10, 10, math.inf, 10]}
    with pytest.raises(ValueError, match=r"result 0 \(image_id 7\): bbox must be 4 finite"):
        coco_map(gt, [inf_box])


def test_an_unknown_category_is_an_error_not_a_miss():
    gt = _gt([[10, 10, 10, 10]])
    det = {"image_id": 7, "category_id": 2, "bbox": [10, 10, 10, 10], "score": 0.9}
    with pytest.raises(
        ValueError, match=r"result 0 \(image_id 7\): category_id 2 is not among .* \[1\]"
    ):
        coco_map(gt, [det])


def test_coco_map_leaves_its_arguments_as_they_were():
    gt = _gt([[10, 10, 10, 10], [50, 50, 10, 10]])
    dets = [{"image_id": 7, "category_id": 1, "bbox": [12, 10, 10, 10], "score": 0.9}]
    gt_before, dets_before = copy.deepcopy(gt), copy.deepcopy(dets)
    first = coco_map(gt, dets)
    assert gt == gt_before and dets == dets_before
    assert coco_map(gt, dets) == pytest.approx(first, nan_ok=True)  # the same numbers again


@pytest.mark.parametrize(
    ("break_it", "match"),
    [
        (lambda gt, r: gt.pop("categories"), r"ground_truth must hold .* missing \['categories'\]"),
        (
            lambda gt, r: gt["annotations"][0].pop("area"),
            r"ground_truth\['annotations'\]\[0\] must hold .* missing \['area'\]",
        ),
        (
            lambda gt, r: gt["annotations"][0].update(bbox=[1, 2, math.nan, 4]),
            r"ground_truth\['annotations'\]\[0\] \(image_id 7\): bbox must be 4 finite",
        ),
        (
            lambda gt, r: gt["annotations"][0].update(image_id=8),
            r"ground_truth\['annotations'\]\[0\] \(image_id 8\): image_id is not among",
        ),
        (lambda gt, r: gt["images"][0].pop("id"), r"ground_truth\['images'\]\[0\] must hold"),
        (lambda gt, r: r[0].pop("score"), r"results\[0\] must hold .* missing \['score'\]"),
        (lambda gt, r: r[0].update(image_id=3), r"result 0 names image 3, not in the ground truth"),
    ],
)
def test_missing_or_broken_coco_entries_are_named(break_it, match):
    gt = _gt([[10, 10, 10, 10]])
    results = [{"image_id": 7, "category_id": 1, "bbox": [10, 10, 10, 10], "score": 0.9}]
    break_it(gt, results)
    with pytest.raises(ValueError, match=match):
        coco_map(gt, results)


class _NaNSize(torch.nn.Module):
    """A diverged model: a confident heatmap peak, and NaN sizes everywhere."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.num_classes = num_classes
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, images):
        B, _, H, W = images.shape
        hm = torch.full((B, self.num_classes, H // 4, W // 4), -5.0) * self.scale
        hm[:, 0, 3, 3] = 5.0
        wh = torch.full((B, 2, H // 4, W // 4), math.nan)
        return {"hm": hm, "wh": wh, "reg": torch.zeros(B, 2, H // 4, W // 4)}


def test_evaluate_names_a_nan_detection_of_a_diverged_model():
    ds = ShapesDataset(3, 64, seed=2, shapes=("circle", "square"), size_range=(6, 24))
    with pytest.raises(
        ValueError, match=r"detection 0 of image_id 0 \(dets\[0, 0\]\) is not finite"
    ):
        evaluate(_NaNSize(2), ds, batch_size=2)


def test_a_model_with_other_classes_than_the_data_set_is_refused():
    ds = ShapesDataset(4, 64, seed=1)  # 5 classes
    model = CenterNetLite(3, channels=(8, 8, 16, 16), head_channels=8)
    match = "the model predicts 3 classes .* but the data set has 5 classes"
    with pytest.raises(ValueError, match=match):
        evaluate(model, ds, batch_size=2)
    with pytest.raises(ValueError, match=match):
        oracle_ablations(model, ds, ("gt_hm",), batch_size=2)


def test_evaluation_works_on_items_without_targets():
    kw = dict(length=6, image_size=64, seed=4, shapes=("circle", "square"), size_range=(6, 24))
    with_targets, without = ShapesDataset(**kw), ShapesDataset(targets=False, **kw)
    assert "hm" not in without[0]
    torch.manual_seed(0)
    model = CenterNetLite(2, channels=(8, 8, 16, 16), head_channels=8)
    want = oracle_ablations(model, with_targets, batch_size=4)
    got = oracle_ablations(model, without, batch_size=4)
    assert got.keys() == want.keys()
    for name in want:
        assert got[name] == pytest.approx(want[name], nan_ok=True), name
    assert evaluate(model, without, batch_size=4) == pytest.approx(want["model"], nan_ok=True)
    assert oracle_ablations(None, without, ("gt_all",))["gt_all"]["AP"] == 1.0
    # A plain list of such items has no stride to encode its targets at, but a model does.
    items = [without[i] for i in range(len(without))]
    with pytest.raises(ValueError, match=r"no targets \('hm'\) and dataset has no stride"):
        collect_detections(None, items, ("gt_all",))
    assert evaluate(model, items, batch_size=4) == pytest.approx(want["model"], nan_ok=True)
