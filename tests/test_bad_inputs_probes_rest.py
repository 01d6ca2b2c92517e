"""Bad input to evaluation, training, the pretrained model, the data sets, the explorers'
numbers and the command line: each row an exact input, the error type and a pattern
naming the argument at fault."""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import centernet_edu as c
from centernet_edu import pretrained as pre
from centernet_edu import widgets as w
from centernet_edu.train import fit

ev = importlib.import_module("centernet_edu.evaluate")  # the module, not the function
NAN, INF = math.nan, math.inf
CUDA = torch.cuda.is_available()


def rec(image=None):
    image = np.zeros((32, 32, 3), np.uint8) if image is None else image
    return {"image": image, "boxes": np.array([[2, 2, 10, 12]], np.float32), "labels": [0]}


def coco_file(tmp_path, mut):
    p = c.write_coco(tmp_path / "d", [(1, rec()), (2, rec())], ["a", "b"])
    j = json.loads(p.read_text())
    mut(j)
    p.write_text(json.dumps(j))
    return p


def gt():
    ann = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 8, 8], "area": 64}
    return {
        "images": [{"id": 1, "width": 32, "height": 32}],
        "annotations": [ann | {"iscrowd": 0}],
        "categories": [{"id": 1, "name": "a"}],
    }


def res(**changes):
    return [{"image_id": 1, "category_id": 1, "bbox": [2, 2, 8, 8], "score": 0.9} | changes]


def tiny(classes=5):
    return c.CenterNetLite(classes, (4, 4, 4, 4), 4)


FIT = {"steps": 1, "batch_size": 2, "progress": False}


def snaps():
    keys = {"loss": 1.0, "hm_loss": 0.5, "wh_loss": 0.2, "off_loss": 0.3}
    return [{"step": i * 10, "hm": torch.rand(2, 8, 8)} | keys for i in range(2)]


def heads():
    return {
        "hm": torch.rand(2, 8, 8),
        "wh": torch.full((2, 8, 8), 3.0),
        "reg": torch.zeros(2, 8, 8),
    }


q = w.quantities
CASES = [
    # evaluation
    ("box_iou 3 numbers", lambda: ev.box_iou([0, 0, 1], [0, 0, 1, 1]), ValueError, r"\ba\b"),
    ("format_metrics None", lambda: ev.format_metrics(None), TypeError, "metrics"),
    ("coco_map negative width", lambda: c.coco_map(gt(), res(bbox=[2, 2, -8, 8])), ValueError,
     "bbox"),
    ("detections_to_coco class -1",
     lambda: ev.detections_to_coco(torch.tensor([[[0, 0, 1, 1, 0.5, -1]]]), [1], 4),
     ValueError, "class"),
    # fit
    ("fit model None", lambda: fit(None, c.ShapesDataset(4, 64), **FIT), TypeError, "model"),
    ("fit model str", lambda: fit("m", c.ShapesDataset(4, 64), **FIT), TypeError, "model"),
    ("fit dataset None", lambda: fit(tiny(), None, **FIT), TypeError, "dataset"),
    ("fit device meta", lambda: fit(tiny(), c.ShapesDataset(4, 64), **FIT, device="meta"),
     ValueError, "device 'meta'"),
    ("fit callback 5", lambda: fit(tiny(), c.ShapesDataset(4, 64), callback=5, **FIT),
     TypeError, "callback"),
    ("fit loss_fn str", lambda: fit(tiny(), c.ShapesDataset(4, 64), loss_fn="l1", **FIT),
     TypeError, "loss_fn"),
    ("fit classes 3 vs 5", lambda: fit(tiny(3), c.ShapesDataset(4, 64), **FIT), ValueError,
     r"num_classes \(3\).*dataset.num_classes \(5\)"),
    # pretrained
    ("shapes_model 5", lambda: pre.shapes_model(5), TypeError, "map_location"),
    ("shapes_model 3.5", lambda: pre.shapes_model(3.5), TypeError, "map_location"),
    # ShapesDataset
    ("image_size 10**6", lambda: c.ShapesDataset(image_size=10**6), ValueError, "image_size"),
    ("clutter 10**9", lambda: c.ShapesDataset(clutter=10**9), ValueError, "clutter"),
    ("extreme 'yes'", lambda: c.ShapesDataset(extreme="yes"), TypeError, "extreme"),
    ("targets None", lambda: c.ShapesDataset(targets=None), TypeError, "targets"),
    ("targets 1", lambda: c.ShapesDataset(targets=1), TypeError, "targets"),
    # explorers' numbers
    ("focal alpha -3",
     lambda: q("focal", {"alpha": -3, "beta": 4, "y": 0.5}, w.focal_loss_explorer().data),
     ValueError, "alpha"),
    ("focal y NaN",
     lambda: q("focal", {"alpha": 2, "beta": 4, "y": NAN}, w.focal_loss_explorer().data),
     ValueError, r"^y "),
    ("offset stride 0", lambda: q("offset", {"x": 1.0, "y": 2.0, "stride": 0}), ValueError,
     "stride"),
    ("offset x inf", lambda: q("offset", {"x": INF, "y": 2.0, "stride": 4}), ValueError, "^x "),
    ("size width -1",
     lambda: q("size", {"width": -1, "height": 5, "dw": 0, "dh": 0}, w.size_explorer().data),
     ValueError, "width"),
    ("prior log10_pi 0", lambda: q("prior", {"log10_pi": 0}, w.prior_explorer().data),
     ValueError, "log10_pi"),
    ("prior log10_pi NaN", lambda: q("prior", {"log10_pi": NAN}, w.prior_explorer().data),
     ValueError, "log10_pi"),
    ("prior log10_pi 5", lambda: q("prior", {"log10_pi": 5}, w.prior_explorer().data),
     ValueError, "log10_pi"),
    ("snapshot 99",
     lambda: q("snapshot", {"snapshot": 99, "threshold": 0.3}, w.snapshot_explorer(snaps()).data),
     ValueError, "snapshot"),
    ("loss_weights step -1",
     lambda: q("loss_weights", {"wh_weight": 0.1, "off_weight": 1.0, "step": -1},
               w.loss_weights_explorer().data),
     ValueError, "step"),
    ("shape sigma 0",
     lambda: q("shape", {"x": 18, "y": 14, "sigma": 0, "peak": 0.5}, w.shape_explorer().data),
     ValueError, "sigma"),
    ("centre cx NaN", lambda: q("centre", {"cx": NAN, "cy": 5}, w.centre_explorer().data),
     ValueError, "cx"),
    ("focal_gradient x inf",
     lambda: q("focal_gradient", {"alpha": 2, "beta": 4, "x": INF},
               w.focal_gradient_explorer().data),
     ValueError, "^x "),
    ("radius_cases r -1",
     lambda: q("radius_cases", {"width": 24, "height": 16, "min_overlap": 0.7, "r": -1}),
     ValueError, "^r "),
    ("decode_explorer 64x64 image vs 8x8 heads x 4",
     lambda: w.decode_explorer(np.zeros((64, 64, 3), np.uint8), heads()), ValueError,
     "image.*stride"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fn", "error", "pattern"), [r[1:] for r in CASES], ids=[r[0] for r in CASES]
)
def test_bad_input(fn, error, pattern):
    with pytest.raises(error, match=pattern):
        fn()


def test_match_detections_iou_above_one_matches_nothing():
    """As documented: no overlap reaches a threshold above 1."""
    assert ev.match_detections([[0, 0, 1, 1]], [0], [[0, 0, 1, 1]], [0], iou=2) == [-1]
    assert ev.match_detections([[0, 0, 1, 1]], [0], [[0, 0, 1, 1]], [0], iou=1) == [0]


@pytest.mark.parametrize("iou", [-0.5, math.nan, "0.5"])
def test_match_detections_iou_refused(iou):
    with pytest.raises(ValueError, match="iou must be"):
        ev.match_detections([[0, 0, 1, 1]], [0], [[0, 0, 1, 1]], [0], iou=iou)


@pytest.mark.skipif(CUDA, reason="the case needs a machine without CUDA")
def test_evaluate_cuda_without_cuda():
    with pytest.raises(ValueError, match="CUDA is not available"):
        c.evaluate(tiny(), c.ShapesDataset(2, 64), device="cuda")


COCO_WRITE = [
    ("empty image", lambda d: c.write_coco(d, [(1, rec(np.zeros((0, 0, 3), np.uint8)))], ["a"]),
     ValueError, "image 1"),
    ("duplicate categories", lambda d: c.write_coco(d, [(1, rec())], ["a", "a"]), ValueError,
     "categories"),
    ("root None", lambda d: c.write_coco(None, [(1, rec())], ["a"]), TypeError, "root"),
    ("json_name escapes", lambda d: c.write_coco(d, [(1, rec())], ["a"], json_name="../x.json"),
     ValueError, "json_name"),
    ("image_dir absolute",
     lambda d: c.write_coco(d, [(1, rec())], ["a"], image_dir=str(d.parent / "abs_images")),
     ValueError, "image_dir"),
    ("records None", lambda d: c.write_coco(d, None, ["a"]), TypeError, "records"),
    ("read_coco None", lambda d: c.read_coco(None), TypeError, "json_path"),
    ("read_coco int", lambda d: c.read_coco(5), TypeError, "json_path"),
    ("read_coco iscrowd 'yes'",
     lambda d: c.read_coco(coco_file(d, lambda j: j["annotations"][0].update(iscrowd="yes"))),
     ValueError, "iscrowd"),
    ("CocoDataset targets 'no'",
     lambda d: c.CocoDataset(coco_file(d, lambda j: None), targets="no"), TypeError, "targets"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fn", "error", "pattern"), [r[1:] for r in COCO_WRITE], ids=[r[0] for r in COCO_WRITE]
)
def test_bad_coco_input(tmp_path, fn, error, pattern):
    with pytest.raises(error, match=pattern):
        fn(tmp_path / "root")
    assert not (tmp_path / "x.json").exists()


FAST = ["--steps", "1", "--batch-size", "1", "--image-size", "32", "--val-size", "0"]
FAST += [
    "--workers",
    "0",
    "--no-progress",
    "--channels",
    "4",
    "4",
    "4",
    "4",
    "--head-channels",
    "4",
]


@pytest.mark.parametrize(
    ("module", "args", "status", "pattern"),
    [
        ("centernet_edu.cli", ["--out", ""], 2, "--out must name a folder"),
        ("centernet_edu.cli", ["--device", "meta", "--out", "r_meta", *FAST], 2, "meta"),
        ("centernet_edu.cli", ["--steps", "-1"], 2, "--steps"),
    ],
)
def test_command_line(tmp_path, module, args, status, pattern):
    r = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == status, r.stderr
    assert "Traceback" not in r.stderr
    assert "error:" in r.stderr and pattern in r.stderr
