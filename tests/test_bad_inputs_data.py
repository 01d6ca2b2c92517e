"""Bad inputs to the data and evaluation entry points, one row each.

Every row calls one public function with one thing wrong and expects that exact error
type, with a message naming the argument or the item at fault. A row's callable takes a
fresh ``tmp_path`` (the COCO rows write their files there).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from centernet_edu import (
    CocoDataset,
    ShapesDataset,
    coco_map,
    evaluate,
    oracle_ablations,
    read_coco,
    write_coco,
)
from centernet_edu.data import collate_with_targets, make_item, normalize_image
from centernet_edu.evaluate import detections_to_coco
from centernet_edu.model import CenterNetLite

IMG = np.zeros((64, 64, 3), np.uint8)
BOX = [[8.0, 8.0, 24.0, 20.0]]
EXT = [[16.0, 8.0, 8.0, 14.0, 16.0, 20.0, 24.0, 14.0]]


def shapes(**kw) -> ShapesDataset:
    return ShapesDataset(**({"length": 4, "image_size": 64, "seed": 1} | kw))


def model(num_classes: int = 5) -> CenterNetLite:
    torch.manual_seed(0)
    return CenterNetLite(num_classes, channels=(8, 8, 16, 16), head_channels=8)


def item(**kw) -> dict:
    """``make_item`` of one object in a 64 x 64 image, with ``kw`` changed."""
    args = {"image": IMG, "boxes": BOX, "labels": [0], "num_classes": 2} | kw
    return make_item(**args)


def bare_items(n: int = 2) -> list[dict]:
    return [item(targets=False) for _ in range(n)]


def record(**kw) -> dict:
    return {"image": IMG, "boxes": BOX, "labels": [0], "extreme_points": EXT} | kw


def write(tmp, records=None, **kw):
    """A two-image COCO set in ``tmp`` (or ``records``), written by ``write_coco``."""
    records = records if records is not None else [(0, record()), (1, record())]
    return write_coco(tmp, records, ["a", "b"], **kw)


def broken_coco(tmp, change):
    """A valid COCO set whose JSON document ``change`` then breaks in place."""
    path = write(tmp)
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return path


def gt(**ann) -> dict:
    """A one-image COCO ground truth with one annotation (``ann`` changed)."""
    a = {"id": 1, "image_id": 7, "category_id": 1, "bbox": [10, 10, 10, 10], "area": 100}
    a = {k: v for k, v in (a | {"iscrowd": 0} | ann).items() if v is not ...}
    return {"images": [{"id": 7}], "annotations": [a], "categories": [{"id": 1, "name": "a"}]}


def det(**kw) -> list[dict]:
    r = {"image_id": 7, "category_id": 1, "bbox": [10, 10, 10, 10], "score": 0.9} | kw
    return [{k: v for k, v in r.items() if v is not ...}]


class NaNSize(torch.nn.Module):
    """A diverged model: a confident peak in every image, and NaN sizes."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, x):
        B, _, H, W = x.shape
        hm = torch.full((B, 5, H // 4, W // 4), -5.0) * self.scale
        hm[:, 1, 2, 2] = 5.0
        wh = torch.full((B, 2, H // 4, W // 4), math.nan)
        return {"hm": hm, "wh": wh, "reg": torch.zeros(B, 2, H // 4, W // 4)}


def dets(score=0.5, box=(1.0, 1.0, 3.0, 3.0)) -> torch.Tensor:
    return torch.tensor([[[*box, score, 0.0]]])


V, F, I = ValueError, FileExistsError, IndexError  # noqa: E741

CASES = [
    # ShapesDataset ------------------------------------------------------------------
    ("shapes-length-negative", lambda t: shapes(length=-1), V, r"^length must be a non-negative integer, got -1$"),
    ("shapes-length-float", lambda t: shapes(length=2.5), V, r"^length must be a non-negative integer, got 2\.5$"),
    ("shapes-length-bool", lambda t: shapes(length=True), V, r"^length must be a non-negative integer, got True$"),
    ("shapes-size-zero", lambda t: shapes(image_size=0), V, r"^image_size must be two positive integers \(H, W\) or one integer S, got \(0, 0\)$"),
    ("shapes-size-one-of-two", lambda t: shapes(image_size=(64,)), V, r"^image_size must be two positive integers"),
    ("shapes-size-stride", lambda t: shapes(image_size=66), V, r"^image_size must be divisible by the stride 4, got \(66, 66\)$"),
    ("shapes-seed-negative", lambda t: shapes(seed=-3), V, r"^seed must be a non-negative integer, got -3$"),
    ("shapes-stride-zero", lambda t: shapes(stride=0), V, r"^stride must be a positive integer, got 0$"),
    ("shapes-max-objs-zero", lambda t: shapes(max_objs=0), V, r"^max_objs must be a positive integer, got 0$"),
    ("shapes-clutter-negative", lambda t: shapes(clutter=-1), V, r"^clutter must be a non-negative integer, got -1$"),
    ("shapes-names-repeated", lambda t: shapes(shapes=("circle", "circle")), V, r"^shapes must be distinct names from"),
    ("shapes-names-string", lambda t: shapes(shapes="circle"), V, r"^shapes must be distinct names from .*, got 'circle'$"),
    ("shapes-names-empty", lambda t: shapes(shapes=()), V, r"^shapes must be distinct names from"),
    ("shapes-names-unknown", lambda t: shapes(shapes=("hexagon",)), V, r"^shapes must be distinct names from .*'hexagon'"),
    ("shapes-objects-reversed", lambda t: shapes(objects=(3, 2)), V, r"^objects must be \(min, max\) with 0 <= min <= max, got \(3, 2\)$"),
    ("shapes-objects-float", lambda t: shapes(objects=(1.5, 3)), V, r"^objects must be two integers >= 0 \(min, max\), got \(1\.5, 3\)$"),
    ("shapes-objects-negative", lambda t: shapes(objects=(-1, 3)), V, r"^objects must be two integers >= 0"),
    ("shapes-objects-over-slots", lambda t: shapes(objects=(1, 40)), V, r"^objects max 40 exceeds max_objs = 32 slots$"),
    ("shapes-size-range-small", lambda t: shapes(size_range=(1, 10)), V, r"^size_range must satisfy 2 <= min <= max <= 56 "),
    ("shapes-size-range-nan", lambda t: shapes(size_range=(math.nan, 10)), V, r"^size_range must satisfy .*got \(nan, 10\)$"),
    ("shapes-size-range-word", lambda t: shapes(size_range="big"), V, r"^size_range must satisfy .*got 'big'$"),
    ("shapes-overlap-nan", lambda t: shapes(max_overlap=math.nan), V, r"^max_overlap must lie in \[0, 1\], got nan$"),
    ("shapes-noise-one", lambda t: shapes(noise=1.0), V, r"^noise must lie in \[0, 1\), got 1\.0$"),
    ("shapes-noise-word", lambda t: shapes(noise="low"), V, r"^noise must lie in \[0, 1\), got 'low'$"),
    ("shapes-index-past-end", lambda t: shapes()[4], I, r"^index 4 out of range for 4 images$"),
    ("shapes-index-float", lambda t: shapes()[1.0], V, r"^index must be an integer, got 1\.0$"),
    ("shapes-render-word", lambda t: shapes().render("0"), V, r"^index must be an integer, got '0'$"),
    # make_item, normalize_image, collate_with_targets ----------------------------------
    ("item-image-float", lambda t: item(image=IMG.astype(np.float32)), V, r"^image must be an \(H, W, 3\) array of uint8, got float32$"),
    ("item-image-grey", lambda t: item(image=np.zeros((64, 64), np.uint8)), V, r"^image must be an \(H, W, 3\) array, got \(64, 64\)$"),
    ("item-image-tensor", lambda t: normalize_image(torch.zeros(8, 8, 3)), V, r"^image must be an \(H, W, 3\) numpy array, got Tensor$"),
    ("item-boxes-three", lambda t: item(boxes=[[1, 2, 3]]), V, r"^boxes must have shape \(N, 4\) as x1, y1, x2, y2, got \(1, 3\)$"),
    ("item-boxes-nan", lambda t: item(boxes=[[1, 2, math.nan, 4]]), V, r"^boxes must be finite, got NaN or infinity in boxes \[0\]$"),
    ("item-boxes-inverted", lambda t: item(boxes=[[10, 2, 4, 8]]), V, r"^boxes need x1 <= x2 and y1 <= y2, got \[\[10\.0, 2\.0, 4\.0, 8\.0\]\] \(boxes \[0\]\)$"),
    ("item-boxes-words", lambda t: item(boxes=[["a", "b", "c", "d"]]), V, r"^boxes must be numeric, got \[\['a', 'b', 'c', 'd'\]\]$"),
    ("item-labels-range", lambda t: item(labels=[2]), V, r"^labels must lie in \[0, 2\), got \[2\] \(objects \[0\]\)$"),
    ("item-labels-negative", lambda t: item(labels=[-1]), V, r"^labels must lie in \[0, 2\), got \[-1\]"),
    ("item-labels-count", lambda t: item(labels=[0, 1]), V, r"^labels must have shape \(1,\) to match the objects, got \(2,\)$"),
    ("item-labels-fraction", lambda t: item(labels=[0.5]), V, r"^labels must be integers, got \[0\.5\]$"),
    ("item-classes-zero", lambda t: item(num_classes=0), V, r"^num_classes must be a positive integer, got 0$"),
    ("item-stride-divides", lambda t: item(stride=3), V, r"^image size must be divisible by the stride 3, got 64 x 64$"),
    ("item-stride-zero", lambda t: item(stride=0), V, r"^stride must be a positive integer, got 0$"),
    ("item-max-objs", lambda t: item(boxes=BOX * 2, labels=[0, 1], max_objs=1), V, r"^an image holds 2 objects, more than max_objs = 1$"),
    ("item-extreme-missing", lambda t: item(extreme=True), V, r"^extreme=True needs extreme_points$"),
    ("item-extreme-shape", lambda t: item(extreme_points=[[1, 2, 3, 4, 5, 6]]), V, r"^extreme_points must have shape \(1, 8\) as t, l, b, r \(x, y each\), got \(1, 6\)$"),
    ("item-extreme-inf", lambda t: item(extreme_points=[[math.inf] * 8]), V, r"^extreme_points must be finite"),
    ("item-image-id-word", lambda t: item(image_id="a"), V, r"^image_id must be an integer, got 'a'$"),
    ("collate-empty", lambda t: collate_with_targets([], 2, 4), V, r"^items must be a non-empty list of make_item dicts, got \[\]$"),
    ("collate-not-items", lambda t: collate_with_targets([{"image": torch.zeros(3, 8, 8)}], 2, 4), V, r"^items\[0\] must hold \['image', 'boxes', 'labels'\], missing \['boxes', 'labels'\]$"),
    ("collate-classes-zero", lambda t: collate_with_targets(bare_items(), 0, 4), V, r"^num_classes must be a positive integer, got 0$"),
    ("collate-stride-zero", lambda t: collate_with_targets(bare_items(), 2, 0), V, r"^stride must be a positive integer, got 0$"),
    ("collate-stride-divides", lambda t: collate_with_targets(bare_items(), 2, 3), V, r"^image size must be divisible by the stride 3, got 64 x 64$"),
    # write_coco ---------------------------------------------------------------------
    ("write-categories-string", lambda t: write_coco(t, [], "ab"), V, r"^categories must be a non-empty list of names, got 'ab'$"),
    ("write-categories-empty", lambda t: write_coco(t, [], []), V, r"^categories must be a non-empty list of names"),
    ("write-json-name-empty", lambda t: write(t, json_name=""), V, r"^json_name must be a non-empty string, got ''$"),
    ("write-image-dir-none", lambda t: write(t, image_dir=None), V, r"^image_dir must be a non-empty string, got None$"),
    ("write-record-not-pair", lambda t: write(t, [(0,)]), V, r"^records\[0\] must be an \(image_id, record\) pair, got \(0,\)$"),
    ("write-record-id-negative", lambda t: write(t, [(-1, record())]), V, r"^records\[0\] image_id must be a non-negative integer, got -1$"),
    ("write-record-id-word", lambda t: write(t, [("x", record())]), V, r"^records\[0\] image_id must be a non-negative integer, got 'x'$"),
    ("write-record-keys", lambda t: write(t, [(0, {"image": IMG})]), V, r"^image 0 must hold \['image', 'boxes', 'labels'\], missing \['boxes', 'labels'\]$"),
    ("write-record-duplicate", lambda t: write(t, [(3, record()), (3, record())]), V, r"^image 3: duplicate id$"),
    ("write-record-image", lambda t: write(t, [(0, record(image=IMG[..., :2]))]), V, r"^image 0: expected an \(H, W, 3\) uint8 array"),
    ("write-record-box-nan", lambda t: write(t, [(0, record(boxes=[[1, 2, math.nan, 4]]))]), V, r"^image 0: boxes must be finite"),
    ("write-record-box-inverted", lambda t: write(t, [(0, record(boxes=[[9, 2, 3, 4]]))]), V, r"^image 0: boxes need x1 <= x2"),
    ("write-record-label", lambda t: write(t, [(0, record(labels=[7]))]), V, r"^image 0: labels must lie in \[0, 2\), got \[7\]"),
    ("write-record-extreme", lambda t: write(t, [(0, record(extreme_points=[[1, 2]]))]), V, r"^image 0: extreme_points must have shape \(1, 8\)"),
    ("write-existing-json", lambda t: (write(t), write(t, image_dir="other")), F, r"annotations\.json already exists"),
    ("write-existing-image", lambda t: (write(t), write(t, json_name="b.json")), F, r"^image 0: .*000000\.png already exists$"),
    # read_coco: malformed files ------------------------------------------------------
    ("read-missing", lambda t: read_coco(t / "none.json"), V, r"^COCO file .*none\.json does not exist$"),
    ("read-folder", lambda t: read_coco(t), V, r"^COCO file .* cannot be read"),
    ("read-top-list", lambda t: (t / "a.json").write_text("[]") and read_coco(t / "a.json"), V, r"expected a JSON object at the top$"),
    ("read-no-categories", lambda t: read_coco(broken_coco(t, lambda d: d.update(categories={}))), V, r"expected a list under 'categories'$"),
    ("read-category-id", lambda t: read_coco(broken_coco(t, lambda d: d["categories"][0].pop("id"))), V, r"^category \{'name': 'a'\}: expected an object with an integer 'id'$"),
    ("read-category-twice", lambda t: read_coco(broken_coco(t, lambda d: d["categories"][1].update(id=1))), V, r"^category 1: duplicate id$"),
    ("read-image-id-word", lambda t: read_coco(broken_coco(t, lambda d: d["images"][0].update(id="0"))), V, r"^images\[0\]: expected an object with an integer 'id'"),
    ("read-image-file-name", lambda t: read_coco(broken_coco(t, lambda d: d["images"][0].update(file_name=""))), V, r"^image 0: 'file_name' must be a non-empty string$"),
    ("read-image-width-word", lambda t: read_coco(broken_coco(t, lambda d: d["images"][1].update(width="64"))), V, r"^image 1: 'width' must be a positive integer, got '64'$"),
    ("read-image-size", lambda t: read_coco(broken_coco(t, lambda d: d["images"][1].update(width=32))), V, r"^image 1: file is 64 x 64, the COCO file says 32 x 64$"),
    ("read-annotation-id", lambda t: read_coco(broken_coco(t, lambda d: d["annotations"][0].pop("id"))), V, r"^annotations\[0\]: expected an object with an integer 'id'"),
    ("read-annotation-bbox-nan", lambda t: read_coco(broken_coco(t, lambda d: d["annotations"][0].update(bbox=[1, 2, math.nan, 4]))), V, r"^annotation 1 \(image 0\): bbox must be 4 finite numbers"),
    ("read-annotation-extreme", lambda t: read_coco(broken_coco(t, lambda d: d["annotations"][1].update(extreme_points=[1] * 7))), V, r"^annotation 2 \(image 1\): extreme_points must be 8 finite numbers"),
    ("read-image-not-png", lambda t: (write(t), (t / "images" / "000001.png").write_text("text")) and read_coco(t / "annotations.json"), V, r"^image 1: file '.*000001\.png' cannot be read as an image"),
    ("read-image-truncated", lambda t: (write(t), (t / "images" / "000000.png").write_bytes((t / "images" / "000000.png").read_bytes()[:60])) and read_coco(t / "annotations.json"), V, r"^image 0: file '.*000000\.png' cannot be read as an image"),
    # CocoDataset ----------------------------------------------------------------------
    ("dataset-input-size-one", lambda t: CocoDataset(write(t), input_size=(64,)), V, r"^input_size must be two positive integers \(H, W\), got \(64,\)$"),
    ("dataset-input-size-stride", lambda t: CocoDataset(write(t), input_size=(66, 64)), V, r"^input_size must be divisible by the stride 4, got \(66, 64\)$"),
    ("dataset-stride-zero", lambda t: CocoDataset(write(t), stride=0), V, r"^stride must be a positive integer, got 0$"),
    ("dataset-max-objs", lambda t: CocoDataset(write(t, [(0, record(boxes=BOX * 2, labels=[0, 1], extreme_points=EXT * 2))]), max_objs=1), V, r"^image 0: 2 annotations, more than max_objs = 1$"),
    ("dataset-no-extremes", lambda t: CocoDataset(write(t, [(5, record(extreme_points=None))]), extreme=True), V, r"^image 5: extreme=True but its annotations lack extreme_points$"),
    ("dataset-index", lambda t: CocoDataset(write(t))[2], I, r"^index 2 out of range for 2 images$"),
    ("dataset-missing-json", lambda t: CocoDataset(t / "none.json"), V, r"^COCO file .*none\.json does not exist$"),
    # coco_map -------------------------------------------------------------------------
    ("map-gt-list", lambda t: coco_map([], det()), V, r"^ground_truth must be a dict holding \['images', 'annotations', 'categories'\], got list$"),
    ("map-gt-images-missing", lambda t: coco_map({"annotations": [], "categories": []}, []), V, r"^ground_truth must hold .*, missing \['images'\]$"),
    ("map-gt-iscrowd-missing", lambda t: coco_map(gt(iscrowd=...), det()), V, r"^ground_truth\['annotations'\]\[0\] must hold .*, missing \['iscrowd'\]$"),
    ("map-gt-category", lambda t: coco_map(gt(category_id=4), det()), V, r"^ground_truth\['annotations'\]\[0\] \(image_id 7\): category_id 4 is not among the categories \[1\]$"),
    ("map-gt-bbox-negative", lambda t: coco_map(gt(bbox=[1, 1, -2, 3]), det()), V, r"^ground_truth\['annotations'\]\[0\] \(image_id 7\): bbox must be 4 finite numbers"),
    ("map-gt-area-nan", lambda t: coco_map(gt(area=math.nan), det()), V, r"^ground_truth\['annotations'\]\[0\] \(image_id 7\): area must be a finite number >= 0, got nan$"),
    ("map-results-dict", lambda t: coco_map(gt(), det()[0]), V, r"^results must be a list of dicts, got dict$"),
    ("map-result-score-missing", lambda t: coco_map(gt(), det(score=...)), V, r"^results\[0\] must hold .*, missing \['score'\]$"),
    ("map-result-bbox-three", lambda t: coco_map(gt(), det(bbox=[1, 2, 3])), V, r"^result 0 \(image_id 7\): bbox must be 4 finite numbers \[x, y, width, height\], got \[1, 2, 3\]$"),
    ("map-result-bbox-nan", lambda t: coco_map(gt(), det(bbox=[math.nan] * 4)), V, r"^result 0 \(image_id 7\): bbox must be 4 finite numbers"),
    ("map-result-score-word", lambda t: coco_map(gt(), det(score="high")), V, r"^result 0 \(image_id 7\): score must be a finite number, got 'high'$"),
    ("map-result-score-inf", lambda t: coco_map(gt(), det(score=math.inf)), V, r"^result 0 \(image_id 7\): score must be a finite number, got inf$"),
    ("map-result-category", lambda t: coco_map(gt(), det(category_id=5)), V, r"^result 0 \(image_id 7\): category_id 5 is not among the ground truth's categories \[1\]$"),
    ("map-result-image", lambda t: coco_map(gt(), det(image_id=8)), V, r"^result 0 names image 8, not in the ground truth$"),
    # evaluate, oracle_ablations -----------------------------------------------------------
    ("evaluate-no-model", lambda t: evaluate(None, shapes()), V, r"^model must be a torch\.nn\.Module, got None$"),
    ("evaluate-model-word", lambda t: evaluate("model", shapes()), V, r"^model must be a torch\.nn\.Module or None, got str$"),
    ("evaluate-classes", lambda t: evaluate(model(3), shapes()), V, r"^the model predicts 3 classes \(heatmap channels\) but the data set has 5 classes$"),
    ("evaluate-empty", lambda t: evaluate(model(), shapes(length=0)), V, r"^dataset holds no images$"),
    ("evaluate-dataset-number", lambda t: evaluate(model(), 42), V, r"^dataset must be a data set of make_item dicts, got int$"),
    ("evaluate-batch-size", lambda t: evaluate(model(), shapes(), batch_size=0), V, r"^batch_size must be a positive integer, got 0$"),
    ("evaluate-workers", lambda t: evaluate(model(), shapes(), num_workers=-1), V, r"^num_workers must be a non-negative integer, got -1$"),
    ("evaluate-device", lambda t: evaluate(model(), shapes(), device="gpu"), V, r"^device must name a torch device, got 'gpu'$"),
    ("oracles-generator", lambda t: oracle_ablations(model(), shapes(), (o for o in ["gt_all", "gt_hm", "nope"])), V, r"^unknown oracles \['nope'\]"),
    ("evaluate-items-keys", lambda t: evaluate(model(), [{"image": torch.zeros(3, 64, 64)}]), V, r"^dataset items must hold .*, missing \['boxes', 'labels', 'num_objs', 'image_id'\]$"),
    ("evaluate-diverged", lambda t: evaluate(NaNSize(), shapes(), batch_size=2), V, r"^detection 0 of image_id 0 \(dets\[0, 0\]\) is not finite"),
    ("oracles-string", lambda t: oracle_ablations(model(), shapes(), "gt_hm"), V, r"^oracles must be a non-empty list of names from .*, got 'gt_hm'$"),
    ("oracles-empty", lambda t: oracle_ablations(model(), shapes(), ()), V, r"^oracles must be a non-empty list of names"),
    ("oracles-unknown", lambda t: oracle_ablations(model(), shapes(), ("gt_everything",)), V, r"^unknown oracles \['gt_everything'\]; expected names from"),
    ("oracles-no-model", lambda t: oracle_ablations(None, shapes(), ("gt_hm",)), V, r"^a model is needed for every oracle but 'gt_all'$"),
    ("oracles-stride", lambda t: oracle_ablations(model(), shapes(stride=8), ("gt_hm",)), V, r"^the model's heatmap is \(4, 5, 16, 16\) but the data set's targets are \(4, 5, 8, 8\)$"),
    ("oracles-classes", lambda t: oracle_ablations(model(2), shapes(), ("gt_wh",)), V, r"^the model predicts 2 classes"),
    # detections_to_coco ----------------------------------------------------------------
    ("dets-two-dims", lambda t: detections_to_coco(torch.zeros(2, 6), [1, 2], 4), V, r"^dets must have shape \(B, K, 6\), got \(2, 6\)$"),
    ("dets-five-columns", lambda t: detections_to_coco(torch.zeros(1, 3, 5), [1], 4), V, r"^dets must have shape \(B, K, 6\), got \(1, 3, 5\)$"),
    ("dets-list", lambda t: detections_to_coco([[[0] * 6]], [1], 4), V, r"^dets must have shape \(B, K, 6\), got list$"),
    ("dets-ids-count", lambda t: detections_to_coco(dets(), [1, 2], 4), V, r"^image_ids must hold 1 ids, got 2$"),
    ("dets-ids-words", lambda t: detections_to_coco(dets(), ["a"], 4), V, r"^image_ids must be 1 integers, got \['a'\]$"),
    ("dets-stride-zero", lambda t: detections_to_coco(dets(), [1], 0), V, r"^stride must be a finite number > 0, got 0$"),
    ("dets-stride-nan", lambda t: detections_to_coco(dets(), [1], math.nan), V, r"^stride must be a finite number > 0, got nan$"),
    ("dets-score-nan", lambda t: detections_to_coco(dets(score=math.nan), [5], 4), V, r"^detection 0 of image_id 5 \(dets\[0, 0\]\) is not finite"),
    ("dets-box-nan", lambda t: detections_to_coco(dets(box=(1.0, math.nan, 3.0, 3.0)), [5], 4), V, r"^detection 0 of image_id 5 \(dets\[0, 0\]\) is not finite"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "error", "match"), [pytest.param(c, e, m, id=i) for i, c, e, m in CASES]
)
def test_bad_input_is_refused_and_named(tmp_path, call, error, match):
    with pytest.raises(error, match=match) as raised:
        call(tmp_path)
    assert type(raised.value) is error


def test_the_table_is_large_and_its_ids_distinct():
    ids = [case[0] for case in CASES]
    assert len(ids) >= 50 and len(set(ids)) == len(ids)
