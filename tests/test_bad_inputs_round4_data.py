"""Bad inputs to the data pipeline and to evaluation: image ids that are not integers,
complex numbers where boxes belong, a shapes scene asked to hold more objects than can be
placed in reasonable time, batches and COCO documents with a wrong or missing field, and
paths that are not paths or that collide.

One row per refused case: an id, a call (given a fresh ``tmp_path``), the error type and a
pattern its message must match, naming the argument or the entry at fault. Then the cases
whose answer is a right result rather than an error.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from centernet_edu.data import (
    ShapesDataset,
    batch_with_targets,
    ground_truth_to_coco,
    make_item,
    read_coco,
    write_coco,
)
from centernet_edu.evaluate import (
    box_iou,
    centred_boxes,
    coco_map,
    detections_to_coco,
    evaluate,
    format_metrics,
    match_detections,
)
from centernet_edu.model import CenterNetLite

V, T = ValueError, TypeError
IMG = np.zeros((8, 8, 3), np.uint8)
BOX = (1, 1, 3, 3)


def item(**kw) -> dict:
    """``make_item`` of one object in an 8 x 8 image, with ``kw`` changed."""
    args = {"image": IMG, "boxes": [[1.0, 1.0, 3.0, 3.0]], "labels": [0], "num_classes": 1}
    return make_item(**(args | kw))


def batch(without: str | None = None) -> dict:
    """A collated batch of two items without their targets, less the key ``without``."""
    b = default_collate([item(targets=False), item(targets=False)])
    b.pop(without, None)
    return b


def gt(image=None, **ann) -> dict:
    """A one-image COCO ground truth with one annotation (``ann`` changed)."""
    a = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 0}
    images = [{"id": 1} if image is None else image]
    return {"images": images, "annotations": [a | ann], "categories": [{"id": 1}]}


def coco(tmp, change=None):
    """A one-image COCO set written in ``tmp``; ``change`` edits its first annotation."""
    record = {"image": IMG, "boxes": [[1.0, 1.0, 3.0, 3.0]], "labels": [0]}
    path = write_coco(tmp, [(0, record)], ["a"])
    if change is not None:
        doc = json.loads(path.read_text())
        doc["annotations"][0].update(change)
        path.write_text(json.dumps(doc))
    return path


def small_model() -> CenterNetLite:
    torch.manual_seed(0)
    return CenterNetLite(5, channels=(8, 8, 16, 16), head_channels=8)


DETS = torch.zeros(1, 2, 6)

CASES = [
    # detections_to_coco
    ("DT04 image_ids 1.5", lambda t: detections_to_coco(DETS, [1.5], 4), V, r"^image_ids must be 1 integers, got \[1\.5\]$"),
    ("DT04 image_ids float tensor", lambda t: detections_to_coco(DETS, torch.tensor([2.5]), 4), V, r"^image_ids must be 1 integers"),
    ("DT04 image_ids bool", lambda t: detections_to_coco(DETS, [True], 4), V, r"^image_ids must be 1 integers"),
    ("DT13 complex dets", lambda t: detections_to_coco(torch.zeros(1, 2, 6, dtype=torch.complex64), [1], 4), V, r"^dets must be real numbers, got complex values \(torch\.complex64\)$"),
    # match_detections
    ("MT12 complex boxes", lambda t: match_detections(np.array([[0, 0, 1, 1]], dtype=complex), [0], [[0, 0, 1, 1]], [0]), V, r"^boxes must be real numbers, got complex values"),
    ("MT12 complex gt_boxes", lambda t: match_detections([[0, 0, 1, 1]], [0], [[0, 0, 1j, 1]], [0]), V, r"^gt_boxes must be real numbers, got complex values"),
    # box_iou, centred_boxes
    ("BI02 strings", lambda t: box_iou("abcd", "efgh"), V, r"^box_iou's a must be 4 finite numbers x1, y1, x2, y2, got 'abcd'$"),
    ("BI02 b a string", lambda t: box_iou(BOX, "efgh"), V, r"^box_iou's b must be 4 finite numbers x1, y1, x2, y2, got 'efgh'$"),
    ("BI03 None", lambda t: box_iou(None, BOX), V, r"^box_iou's a must be 4 finite numbers .*, got None$"),
    ("BI04 a number", lambda t: box_iou(5, BOX), V, r"^box_iou's a must be 4 finite numbers .*, got 5$"),
    ("BI05 NaN", lambda t: box_iou((0, 0, math.nan, 2), (1, 1, 3, 3)), V, r"^box_iou's a must be 4 finite numbers .*, got \(0, 0, nan, 2\)$"),
    ("BI05 complex", lambda t: box_iou(BOX, (1j, 1, 3, 3)), V, r"^box_iou's b must be 4 finite numbers"),
    ("BI08 width a string", lambda t: centred_boxes("a", 2, 1, 1), V, r"^width must be a finite number >= 0, got 'a'$"),
    ("BI08 dh NaN", lambda t: centred_boxes(2, 2, 1, math.nan), V, r"^dh must be a finite number, got nan$"),
    # coco_map
    ("CM17 image id a list", lambda t: coco_map(gt(image={"id": [1]}), []), V, r"^ground_truth\['images'\]\[0\]: id must be an integer \(a hashable id\), got \[1\]$"),
    ("CM18 iscrowd 'yes'", lambda t: coco_map(gt(iscrowd="yes"), []), V, r"^ground_truth\['annotations'\]\[0\] \(image_id 1\): iscrowd must be 0 or 1, got 'yes'$"),
    ("CM18 iscrowd 2", lambda t: coco_map(gt(iscrowd=2), []), V, r"^ground_truth\['annotations'\]\[0\] \(image_id 1\): iscrowd must be 0 or 1, got 2$"),
    # ground_truth_to_coco
    ("GT04 batches None", lambda t: ground_truth_to_coco(None, 5), V, r"^batches must be an iterable of batch dicts .*, got NoneType$"),
    ("GT04 one batch dict", lambda t: ground_truth_to_coco(batch(), 1), V, r"^batches must be an iterable of batch dicts .*, got dict$"),
    # format_metrics
    ("FM03 a word", lambda t: format_metrics({"AP": "x"}), T, r"^metrics\['AP'\] must be a number, got 'x'$"),
    ("FM04 None", lambda t: format_metrics({"AP": None}), T, r"^metrics\['AP'\] must be a number, got None$"),
    # evaluate
    ("EV09 meta device", lambda t: evaluate(small_model(), ShapesDataset(2, 32, size_range=(4, 16)), device="meta"), V, r"^device must be one that computes, such as 'cpu' or 'cuda', got 'meta' \(the meta device holds no values\)$"),
    ("EV09 meta model", lambda t: evaluate(small_model().to("meta"), ShapesDataset(2, 32, size_range=(4, 16))), V, r"^model's weights are on the meta device, which holds no values$"),
    # ShapesDataset
    ("SD19 10^5 objects", lambda t: ShapesDataset(1, 64, objects=(10**5, 10**5), max_objs=10**5, size_range=(4, 16))[0], V, r"^objects max must be at most 1000 objects per image, got \(100000, 100000\)$"),
    ("SD19 1001 objects", lambda t: ShapesDataset(1, 64, objects=(0, 1001), max_objs=2000), V, r"^objects max must be at most 1000"),
    # batch_with_targets
    ("CO09 no labels", lambda t: batch_with_targets(batch(without="labels"), 1, 4), V, r"^batch must hold \['image', 'boxes', 'labels'\], missing \['labels'\]$"),
    ("CO11 a list", lambda t: batch_with_targets([1], 1, 4), V, r"^batch must be a dict of batched tensors \(image, boxes, labels\), got list$"),
    ("CO stride 0", lambda t: batch_with_targets(batch(), 1, 0), V, r"^stride must be a positive integer, got 0$"),
    # read_coco
    ("RC12 image_id a list", lambda t: read_coco(coco(t, {"image_id": [1]})), V, r"^annotation 1: image_id must be an integer, got \[1\]$"),
    ("RC13 category_id a dict", lambda t: read_coco(coco(t, {"category_id": {"a": 1}})), V, r"^annotation 1: category_id must be an integer, got \{'a': 1\}$"),
    ("RC28 image_dir 5", lambda t: read_coco(coco(t), image_dir=5), T, r"^image_dir must be a path \(str or os\.PathLike\), got int$"),
    # write_coco
    ("WC20 json_name = image_dir", lambda t: write_coco(t, [], ["a"], json_name="images"), V, r"^json_name must differ from image_dir .*, got json_name='images', image_dir='images'$"),
    ("WC20 json_name above image_dir", lambda t: write_coco(t, [], ["a"], json_name="data", image_dir="data/png"), V, r"^json_name must differ from image_dir"),
    # make_item
    ("MI05 empty image", lambda t: item(image=np.zeros((0, 0, 3), np.uint8), boxes=np.zeros((0, 4)), labels=[]), V, r"^image must be an \(H, W, 3\) array with H, W >= 1, got \(0, 0, 3\)$"),
    ("MI10 extreme 'yes'", lambda t: item(extreme_points=np.zeros((1, 8)), extreme="yes"), T, r"^extreme must be True or False, got 'yes'$"),
    ("MI10 targets 'no'", lambda t: item(targets="no"), T, r"^targets must be True or False, got 'no'$"),
    ("MI13 image_id 2^64", lambda t: item(image_id=2**64), V, r"^image_id must be an integer that fits in int64, got 18446744073709551616$"),
    ("MI13 image_id 2^63", lambda t: item(image_id=2**63), V, r"^image_id must be an integer that fits in int64"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "error", "match"), [pytest.param(c, e, m, id=i) for i, c, e, m in CASES]
)
def test_bad_input_is_refused_and_named(tmp_path, call, error, match):
    with pytest.raises(error, match=match) as raised:
        call(tmp_path)
    assert type(raised.value) is error


def test_the_table_ids_are_distinct():
    ids = [case[0] for case in CASES]
    assert len(set(ids)) == len(ids)


# Right answers -----------------------------------------------------------------------


def test_whole_float_image_ids_and_int_tensors_still_convert():
    dets = torch.tensor([[[1.0, 1.0, 2.0, 2.0, 0.5, 0.0]]])
    assert detections_to_coco(dets, [3.0], 4)[0]["image_id"] == 3
    assert detections_to_coco(dets, torch.tensor([7]), 4)[0]["image_id"] == 7


def test_box_iou_takes_tuples_arrays_and_tensors_and_empty_boxes():
    assert box_iou((0, 0, 2, 2), np.array([1.0, 0, 3, 2])) == pytest.approx(1 / 3)
    assert box_iou(torch.tensor([0.0, 0, 2, 2]), [1, 0, 3, 2]) == pytest.approx(1 / 3)
    assert box_iou((0, 0, 2, 2), (2, 2, 1, 1)) == 0.0  # an inverted box is empty


def test_format_metrics_takes_nan_and_numpy_and_tensor_scalars():
    text = format_metrics({"AP": math.nan, "AP50": np.float32(0.5), "AP75": torch.tensor(0.25)})
    assert text == "AP   nan  AP50 0.500  AP75 0.250"


def test_coco_map_takes_a_boolean_or_float_iscrowd():
    for iscrowd in (False, 0.0):
        ap = coco_map(gt(iscrowd=iscrowd), [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "score": 1.0}])  # fmt: skip
        assert ap["AP"] == pytest.approx(1.0)


def test_make_item_image_id_at_the_int64_bounds():
    assert int(item(image_id=2**63 - 1)["image_id"]) == 2**63 - 1
    assert int(item(image_id=-(2**63))["image_id"]) == -(2**63)


def test_a_full_scene_of_the_most_objects_allowed_is_drawn():
    """At MAX_OBJECTS the scene is drawn (the refusal above keeps the time bounded)."""
    ds = ShapesDataset(1, 64, objects=(1000, 1000), max_objs=1000, size_range=(4, 16))
    n = int(ds[0]["num_objs"])
    assert 0 < n <= 256  # one object per heatmap pixel at most


def test_json_name_inside_image_dir_is_allowed(tmp_path):
    record = {"image": IMG, "boxes": [[1.0, 1.0, 3.0, 3.0]], "labels": [0]}
    path = write_coco(tmp_path, [(0, record)], ["a"], json_name="images/coco.json")
    assert read_coco(path, tmp_path / "images").images[0].boxes.tolist() == [[1, 1, 3, 3]]
