"""Bad input, third round: half-precision decoding, logits given as probabilities, needless
huge allocations, meta tensors, exceptions that cannot be shown, and files that are not
what they claim (a decompression bomb, a 16-bit PNG, a damaged record, a bad notebook).

As ``test_bad_inputs.py``: one row per refused case (an id, a call, a pattern its message
must match, naming the argument or the file at fault), then the cases whose answer is a
right result rather than an error.
"""

from __future__ import annotations

import importlib.util
import io
import json
import math
import struct
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

import centernet_edu as ce
import centernet_edu.decode as decode_module
import centernet_edu.pretrained as pretrained
from centernet_edu import exercises
from centernet_edu.data import CocoDataset, ShapesDataset, read_coco, write_coco

ROOT = Path(__file__).resolve().parents[1]
Z = torch.zeros


def meta(*shape):
    return torch.zeros(*shape, device="meta")


def exdet_heads(B=1, size=(8, 8), **changes):
    return {f"hm_{p}": Z(B, 2, *size) for p in "tlbrc"} | changes


CASES = [
    # B: logits where probabilities belong
    (
        "focal_loss: logits for pred",
        lambda: ce.focal_loss(torch.tensor([[[[3.0, -2.0]]]]), torch.tensor([[[[1.0, 0.0]]]])),
        r"pred must hold values in \[0, 1\] \(probabilities: for logits use clamped_sigmoid "
        r"or focal_loss_with_logits\), got values in \[-2, 3\]",
    ),
    (
        "focal_loss: NaN in pred",
        lambda: ce.focal_loss(torch.tensor([[[[math.nan, 0.5]]]]), Z(1, 1, 1, 2)),
        r"pred must hold values in \[0, 1\]",
    ),
    # C: sizes whose arithmetic would overflow, K whose K^4 groupings would not fit
    (
        "radius: 1e200 x 1e200",
        lambda: ce.gaussian_radius(1e200, 1e200),
        r"height must be finite and >= 0 and <= 1e\+18, got 1e\+200",
    ),
    (
        "radius: width 1e200",
        lambda: ce.gaussian_radius(4, 1e200),
        r"width must be finite and >= 0 and <= 1e\+18, got 1e\+200",
    ),
    (
        "radius: float32 tensor past 1e18",
        lambda: ce.gaussian_radius(torch.tensor([1e20]), torch.ones(1)),
        r"height must be finite and >= 0 and <= 1e\+18",
    ),
    (
        "exdet decode: K = 150",
        lambda: ce.decode_exdet(exdet_heads(size=(16, 16)), K=150),
        r"K must be at most 64 \(its K\^4 = 506250000 groupings are too many\), got 150",
    ),
    (
        "exdet decode: K = 65",
        lambda: ce.decode_exdet(exdet_heads(size=(16, 16)), K=65, num_dets=1),
        r"K must be at most 64.*got 65",
    ),
    # D: meta tensors hold no values
    (
        "radius: meta height",
        lambda: ce.gaussian_radius(meta(2), torch.ones(2)),
        "height is on the meta device, which holds no values",
    ),
    (
        "radius: meta width",
        lambda: ce.gaussian_radius(torch.ones(2), meta(2)),
        "width is on the meta device, which holds no values",
    ),
    (
        "ctdet: meta boxes",
        lambda: ce.encode_ctdet(torch.tensor([[1.0, 1, 4, 4]], device="meta"), [0], 1, (8, 8)),
        "boxes is on the meta device, which holds no values",
    ),
    (
        "ctdet: meta labels",
        lambda: ce.encode_ctdet([[1.0, 1, 4, 4]], meta(1).long(), 1, (8, 8)),
        "labels is on the meta device, which holds no values",
    ),
    (
        "decode: meta heat",
        lambda: ce.decode_ctdet(meta(1, 1, 8, 8), meta(1, 2, 8, 8), K=1),
        "heat is on the meta device, which holds no values",
    ),
    (
        "decode: meta wh",
        lambda: ce.decode_ctdet(Z(1, 1, 8, 8), meta(1, 2, 8, 8), K=1),
        "wh is on the meta device, which holds no values",
    ),
    (
        "decode: meta reg",
        lambda: ce.decode_ctdet(Z(1, 1, 8, 8), Z(1, 2, 8, 8), meta(1, 2, 8, 8), K=1),
        "reg is on the meta device, which holds no values",
    ),
    (
        "focal_loss: meta pred",
        lambda: ce.focal_loss(meta(1, 1, 2, 2), Z(1, 1, 2, 2)),
        "pred is on the meta device, which holds no values",
    ),
    (
        "shapes_model: meta",
        lambda: pretrained.shapes_model(map_location="meta"),
        r"map_location 'meta' is the meta device, which holds no values: the weights of "
        r".*shapes_ctdet\.pt",
    ),
    (
        "shapes_model: not a device",
        lambda: pretrained.shapes_model(map_location="gpu0"),
        "map_location must name a device, got 'gpu0'",
    ),
]

CHECKERS = [
    exercises.check_gaussian_radius,
    exercises.check_draw_gaussian,
    exercises.check_encode_ctdet,
    exercises.check_focal_loss,
    exercises.check_focal_loss_with_logits,
    exercises.check_reg_l1_loss,
    exercises.check_centernet_loss,
    exercises.check_extreme_net_loss,
    exercises.check_heatmap_nms,
    exercises.check_decode_ctdet,
]
# E: a checker's seed picks its random cases: an integer >= 0
CASES += [
    (
        f"{checker.__name__}: seed 'a'",
        lambda checker=checker: checker(lambda *a: None, seed="a"),
        "seed must be a non-negative integer, got 'a'",
    )
    for checker in CHECKERS
]


@pytest.mark.parametrize(("call", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_named(call, pattern):
    with pytest.raises(ValueError, match=pattern) as info:
        call()
    assert type(info.value) is ValueError


# A: decoding never rounds a pixel position to half precision ---------------------------


@pytest.mark.parametrize(("dtype", "x"), [(torch.bfloat16, 599), (torch.float16, 4095)])
def test_a_half_precision_peak_decodes_at_its_own_pixel(dtype, x):
    heat = Z(1, 1, 1, x + 5, dtype=dtype)
    heat[0, 0, 0, x] = 1
    det = ce.decode_ctdet(heat, Z(1, 2, 1, x + 5, dtype=dtype), K=1)
    assert det.dtype == torch.float32
    assert det[0, 0].tolist() == [x + 0.5, 0.5, x + 0.5, 0.5, 1.0, 0.0]
    peaks = ce.topk(heat, K=1)
    assert peaks.xs.dtype == torch.float32 and peaks.xs.item() == x
    # With offsets: the position is still exact, the offset added in float32.
    reg = torch.full((1, 2, 1, x + 5), 0.25, dtype=dtype)
    assert ce.decode_ctdet(heat, Z(1, 2, 1, x + 5, dtype=dtype), reg, K=1)[0, 0, 0] == x + 0.25


def test_float64_and_float32_decode_in_their_own_dtype():
    for dtype in (torch.float32, torch.float64):
        heat = Z(1, 1, 2, 700, dtype=dtype)
        heat[0, 0, 1, 599] = 0.9
        det = ce.decode_ctdet(heat, torch.ones(1, 2, 2, 700, dtype=dtype), K=1)
        assert det.dtype == dtype and det[0, 0, :4].tolist() == [599.0, 1.0, 600.0, 2.0]


def test_a_half_precision_extreme_point_decodes_at_its_own_pixel():
    heads = exdet_heads(size=(1, 700))
    heads = {k: v[:, :1].to(torch.bfloat16) for k, v in heads.items()}
    for v in heads.values():
        v[0, 0, 0, 599] = 1
    det = ce.decode_exdet(heads, K=1, num_dets=1)
    assert det.dtype == torch.float32
    assert det[0, 0, :5].tolist() == [599.5, 0.5, 599.5, 0.5, 1.0]
    assert det[0, 0, 6::2].tolist() == [599.5] * 4


# C: only what is needed is allocated ---------------------------------------------------


def test_a_huge_radius_draws_only_the_visible_window():
    start = time.perf_counter()
    hm = ce.draw_gaussian(np.zeros((8, 8), np.float32), (3, 4), 20000)
    assert time.perf_counter() - start < 1.0  # the whole kernel would be 11.9 GiB
    sigma = 40001 / 6
    y, x = np.mgrid[0:8, 0:8]
    want = np.exp(-((x - 3.0) ** 2 + (y - 4.0) ** 2) / (2 * sigma * sigma))
    np.testing.assert_array_equal(hm, want.astype(np.float32))
    assert hm[4, 3] == 1.0


@pytest.mark.parametrize("radius", [0, 1, 2, 7, 40, 300])
@pytest.mark.parametrize("center", [(3, 4), (-5, 2), (0, 0), (7.9, 7.2), (30, 3)])
def test_the_window_equals_the_cropped_whole_kernel(radius, center):
    """The former formulation: the whole (2r + 1)^2 kernel, then cropped."""
    hm = np.random.default_rng(radius).random((8, 9)).astype(np.float32) * 0.5
    want = hm.copy()
    x, y = int(center[0]), int(center[1])
    d = 2 * radius + 1
    kernel = ce.gaussian_2d((d, d), sigma=d / 6) * 0.8
    for row in range(max(0, y - radius), min(8, y + radius + 1)):
        for col in range(max(0, x - radius), min(9, x + radius + 1)):
            k = np.float32(kernel[row - y + radius, col - x + radius])
            want[row, col] = max(want[row, col], k)
    got = ce.draw_gaussian(hm, center, radius, k=0.8)
    np.testing.assert_array_equal(got, want)
    t = ce.draw_gaussian(torch.from_numpy(want * 0), center, radius, k=0.8)
    np.testing.assert_array_equal(t.numpy(), ce.draw_gaussian(want * 0, center, radius, k=0.8))


def test_the_largest_sizes_give_finite_radii():
    assert math.isfinite(ce.gaussian_radius(1e18, 1e18))
    assert math.isfinite(ce.gaussian_radius(1e18, 1e18, variant="corrected"))
    r = ce.gaussian_radius(torch.tensor([1e18, 3.0]), torch.tensor([1e18, 5.0]))
    assert torch.isfinite(r).all() and r[1] == pytest.approx(ce.gaussian_radius(3, 5))


def test_a_large_batch_is_grouped_a_few_images_at_a_time(monkeypatch):
    g = torch.Generator().manual_seed(0)
    heads = {f"hm_{p}": torch.rand(5, 2, 6, 7, generator=g) for p in "tlbrc"}
    heads |= {f"reg_{p}": torch.rand(5, 2, 6, 7, generator=g) for p in "tl"}
    heads["reg_b"] = None
    whole = ce.decode_exdet(heads, K=5, num_dets=30, score_thresh=0.0, center_thresh=0.0)
    monkeypatch.setattr(decode_module, "_MAX_GROUPINGS", 2 * 5**4)  # two images at a time
    chunked = ce.decode_exdet(heads, K=5, num_dets=30, score_thresh=0.0, center_thresh=0.0)
    assert torch.equal(whole, chunked) and chunked.shape == (5, 30, 14)
    assert ce.decode_exdet(
        {k: v[:0] for k, v in heads.items() if v is not None}, K=5, num_dets=3
    ).shape == (0, 3, 14)


# E: a student's exception is always told ------------------------------------------------


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no message")


class Unshowable(Unprintable):
    def __repr__(self):
        raise RuntimeError("no repr")


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (Unprintable("lost"), "Unprintable: Unprintable('lost')"),
        (Unshowable(), "Unshowable: <its message cannot be shown: Unshowable.__str__ fails>"),
    ],
)
def test_an_exception_whose_str_raises_is_still_reported(error, words):
    def my_focal_loss(pred, gt):
        raise error

    report = exercises.check_focal_loss(my_focal_loss)
    assert not report.ok
    assert f"your function raised {words}" in str(report)


def test_a_checker_still_takes_an_integer_seed():
    assert exercises.check_focal_loss(ce.focal_loss, seed=np.int64(3)).ok


# F: files that are not what they claim --------------------------------------------------


def _coco_files(tmp_path):
    ds = ShapesDataset(length=3, image_size=(64, 64), objects=(2, 2), seed=0)
    return write_coco(tmp_path, ds.records(), ds.categories)


def _bomb_png(width: int, height: int) -> bytes:
    """A valid 1 x 1 PNG whose header declares ``width x height`` pixels."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = out.getvalue()
    ihdr = struct.pack(">II", width, height) + data[24:29]
    return data[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + data[33:]


def test_a_decompression_bomb_is_named_with_its_file(tmp_path):
    path = _coco_files(tmp_path)
    (tmp_path / "images" / "000001.png").write_bytes(_bomb_png(30000, 30000))
    with pytest.raises(ValueError, match=r"image 1: file '.*000001\.png' cannot be read") as e:
        read_coco(path)
    assert type(e.value) is ValueError and "900000000 pixels" in str(e.value)


def test_a_decompression_bomb_swapped_in_later_is_named_when_loaded(tmp_path):
    path = _coco_files(tmp_path)
    ds = CocoDataset(path, input_size=(64, 64))
    (tmp_path / "images" / "000001.png").write_bytes(_bomb_png(30000, 30000))
    with pytest.raises(ValueError, match=r"image 1: cannot load '.*000001\.png'"):
        ds[1]


def test_a_16_bit_png_reads_as_its_8_bit_twin(tmp_path):
    from PIL import Image

    path = _coco_files(tmp_path)
    file = tmp_path / "images" / "000000.png"
    grey = np.asarray(Image.open(file).convert("L"))
    Image.fromarray(grey).save(file)
    eight = CocoDataset(path, input_size=(64, 64))[0]
    Image.fromarray(grey.astype(np.uint16) * 257).save(file)
    assert Image.open(file).mode.startswith("I")
    sixteen = CocoDataset(path, input_size=(64, 64))[0]
    assert torch.equal(eight["image"], sixteen["image"])
    assert abs(float(sixteen["image"].mean() - eight["image"].mean())) < 1e-6


def test_a_damaged_run_record_is_named(tmp_path, monkeypatch):
    bad = tmp_path / "shapes_ctdet.json"
    bad.write_text('{"curve": [')
    monkeypatch.setattr(pretrained, "_SHAPES_RUN", bad)
    with pytest.raises(ValueError, match=r".*shapes_ctdet\.json is not a readable JSON record"):
        pretrained.shapes_run()
    bad.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ValueError, match=r".*shapes_ctdet\.json is not a readable JSON record"):
        pretrained.shapes_run()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("where", ["cuda", "cuda:0", torch.device("cuda")])
def test_cuda_weights_without_cuda_say_so(where):
    with pytest.raises(ValueError, match=r"asks for CUDA, which is not available here: load "):
        pretrained.shapes_model(map_location=where)


def test_the_shipped_records_and_weights_still_load():
    assert "curve" in pretrained.shapes_run()
    assert "runs" in pretrained.loss_weight_runs()
    assert not pretrained.shapes_model(map_location=torch.device("cpu")).training


# G: the student edition names a notebook it cannot read ---------------------------------


def _student_tool():
    spec = importlib.util.spec_from_file_location("student_tool_r3", ROOT / "tools" / "student.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not json", "NotJSONError"),
        (b"\xff\xfe", "UnicodeDecodeError"),
        (b"[1, 2]", "AttributeError"),
        (b'{"cells": 5}', "TypeError"),
        (
            json.dumps(
                {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"x": 1}]}
            ).encode(),
            "ValidationError",
        ),
    ],
)
def test_an_invalid_notebook_is_named(tmp_path, capsys, content, why):
    student = _student_tool()
    bad = tmp_path / "07_broken.ipynb"
    bad.write_bytes(content)
    with pytest.raises(
        student.EditionError, match=rf"07_broken\.ipynb is not a valid notebook \({why}"
    ):
        student.write_edition([bad], tmp_path / "out")
    assert student.main([str(bad), "--out", str(tmp_path / "out")]) == 1
    assert "07_broken.ipynb is not a valid notebook" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
