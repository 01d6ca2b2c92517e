"""Bad inputs to the heatmaps, the targets, the losses, the model and training: sizes that
would need huge tables or models, complex numbers, meta tensors, read-only or grad-tracking
heatmaps, a numpy array mixed with a tensor, a loss function that returns the wrong thing,
and command-line options that do not go together.

As ``test_bad_inputs.py``: one row per refused case (an id, a call, a pattern its message
must match, naming the argument at fault), then the cases whose answer is a right result
rather than an error.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from tiny_run import tiny_config, tiny_data, tiny_model

import centernet_edu as ce
from centernet_edu.checkpoint import load_checkpoint, save_checkpoint
from centernet_edu.cli import main
from centernet_edu.data import denormalize_image
from centernet_edu.fast import encode_ctdet_batch, render_gaussians
from centernet_edu.losses import CenterNetLoss
from centernet_edu.model import CenterNetLite
from centernet_edu.train import fit
from centernet_edu.train_config import autocast_dtype, lr_factor

Z = torch.zeros
NO_MAPS = (Z(0, dtype=torch.long), Z(0, 2, dtype=torch.long), Z(0, dtype=torch.long))


def meta(*shape, **kw):
    return torch.zeros(*shape, device="meta", **kw)


def read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _reg_l1(mask=None, ind=None, target=None):
    return lambda: ce.reg_l1_loss(
        Z(1, 2, 4, 4),
        torch.ones(1, 3) if mask is None else mask,
        Z(1, 3, dtype=torch.long) if ind is None else ind,
        Z(1, 3, 2) if target is None else target,
    )


def _ctdet_targets(**changes):
    t = {"hm": Z(1, 1, 4, 4), "wh": Z(1, 3, 2), "reg": Z(1, 3, 2)}
    t |= {"ind": Z(1, 3, dtype=torch.long), "reg_mask": torch.ones(1, 3, dtype=torch.uint8)}
    return t | changes


def _fit(loss_fn):
    return lambda: fit(tiny_model(), tiny_data(), tiny_config(steps=1), loss_fn=loss_fn)


def _loss_without_total(outputs, batch):
    return CenterNetLoss()(outputs, batch)[0], {}


# fmt: off
CASES = [
    # encode_ctdet_batch, render_gaussians
    ("EB13 complex boxes", lambda: encode_ctdet_batch(torch.tensor([[[1, 1, 4, 4]]], dtype=torch.complex64), torch.tensor([[0]]), 1, (8, 8)),
     ValueError, r"^boxes must be real numbers, got complex values \(torch\.complex64\)$"),
    ("complex labels of a batch", lambda: encode_ctdet_batch([[[1.0, 1, 4, 4]]], torch.tensor([[0j]]), 1, (8, 8)),
     ValueError, r"^labels must be integer class numbers, got torch\.complex64$"),
    ("RG03 shape None", lambda: render_gaussians(None, *NO_MAPS),
     ValueError, r"^shape must be three non-negative integers \(num_maps, H, W\), got None$"),
    ("RG04 shape 'abc'", lambda: render_gaussians("abc", *NO_MAPS),
     ValueError, r"^shape must be three non-negative integers \(num_maps, H, W\), got 'abc'$"),
    # draw_gaussian, gaussian_radius
    ("DG24 heatmap requires grad", lambda: ce.draw_gaussian(Z(5, 5, requires_grad=True), (2, 2), 1),
     ValueError, r"^heatmap is drawn into in place, which autograd refuses .*heatmap\.detach\(\)"),
    ("view of a heatmap that requires grad", lambda: ce.draw_gaussian(Z(2, 5, 5, requires_grad=True)[0], (2, 2), 1),
     ValueError, r"^heatmap is drawn into in place"),
    ("DG25 read-only heatmap", lambda: ce.draw_gaussian(read_only(np.zeros((5, 5))), (2, 2), 1),
     ValueError, r"^heatmap must be writeable \(it is drawn into in place\), got a read-only array$"),
    ("GR25 strings", lambda: ce.gaussian_radius(np.array(["a"]), 3),
     ValueError, r"^height must hold real numbers \(box sizes\), got dtype <U1$"),
    ("GR27 booleans", lambda: ce.gaussian_radius(np.ones(2, bool), 3),
     ValueError, r"^height must hold real numbers \(box sizes\), got dtype bool$"),
    ("boolean tensor width", lambda: ce.gaussian_radius(3, torch.ones(2, dtype=torch.bool)),
     ValueError, r"^width must hold real numbers \(box sizes\), got dtype torch\.bool$"),
    ("complex tensor height", lambda: ce.gaussian_radius(torch.ones(2, dtype=torch.complex64), 3),
     ValueError, r"^height must hold real numbers \(box sizes\), got dtype torch\.complex64$"),
    ("GR31 numpy with torch", lambda: ce.gaussian_radius(np.ones(2), torch.ones(2)),
     ValueError, r"^height and width must both be numpy arrays or both torch tensors \(or numbers\), got height numpy\.ndarray and width torch\.Tensor$"),
    # encode_ctdet, encode_exdet
    ("EC30 complex labels", lambda: ce.encode_ctdet([[1, 1, 4, 4]], torch.tensor([1 + 0j]), 2, (8, 8)),
     ValueError, r"^labels must be real numbers, got complex values \(torch\.complex64\)$"),
    ("complex labels of extreme points", lambda: ce.encode_exdet([[2, 1, 1, 2, 2, 4, 4, 2]], torch.tensor([0j]), 2, (8, 8)),
     ValueError, r"^labels must be real numbers, got complex values"),
    # reg_l1_loss, scatter_targets
    ("RL19 meta ind", _reg_l1(ind=meta(1, 3, dtype=torch.long)),
     ValueError, r"^ind is on the meta device, which holds no values$"),
    ("meta mask", _reg_l1(mask=meta(1, 3)),
     ValueError, r"^mask is on the meta device, which holds no values$"),
    ("RL24 meta target", _reg_l1(target=meta(1, 3, 2)),
     ValueError, r"^target is on the meta device, which holds no values$"),
    ("RL22 complex target", _reg_l1(target=Z(1, 3, 2, dtype=torch.complex64)),
     ValueError, r"^target must be a real \(floating-point\) tensor, got torch\.complex64$"),
    ("ST13 meta wh", lambda: ce.scatter_targets(_ctdet_targets(wh=meta(1, 3, 2))),
     ValueError, r"^wh is on the meta device, which holds no values$"),
    ("meta ind of targets", lambda: ce.scatter_targets(_ctdet_targets(ind=meta(1, 3, dtype=torch.long))),
     ValueError, r"^ind is on the meta device, which holds no values$"),
    # the model
    ("MD08 num_classes 10**9", lambda: CenterNetLite(10**9),
     ValueError, r"^num_classes asks for a model of 3\.2e\+10 weights, more than the 2\.15e\+09 allowed, got 1000000000$"),
    ("MD11 channels 10**6", lambda: CenterNetLite(2, channels=(10**6,) * 4),
     ValueError, r"^channels asks for a model of 7\.4e\+13 weights, more than the 2\.15e\+09 allowed, got \(1000000, 1000000, 1000000, 1000000\)$"),
    ("head_channels 10**8", lambda: CenterNetLite(2, head_channels=10**8),
     ValueError, r"^head_channels asks for a model of .* weights, more than the 2\.15e\+09 allowed, got 100000000$"),
    ("MD19 images 0 x 0", lambda: CenterNetLite(2)(Z(1, 3, 0, 0)),
     ValueError, r"^images must be at least 16 x 16 pixels \(one pixel of the deepest, stride-16 map\), got 0 x 0$"),
    # denormalize_image
    ("NI08 meta image", lambda: denormalize_image(meta(3, 4, 4)),
     ValueError, r"^image is on the meta device, which holds no values$"),
    ("NI09 complex image", lambda: denormalize_image(Z(3, 4, 4, dtype=torch.complex64)),
     ValueError, r"^image must be a tensor of real numbers, got torch\.complex64$"),
    # checkpoints
    ("CK04 path None", lambda: save_checkpoint(None, {"x": 1}),
     ValueError, r"^path must be a file path \(str or os\.PathLike\), got None$"),
    ("load path a number", lambda: load_checkpoint(3),
     ValueError, r"^path must be a file path \(str or os\.PathLike\), got 3$"),
    # the schedule, autocast
    ("TC05 step -5", lambda: lr_factor(-5, 10, 2, 0.1),
     ValueError, r"^step must be a non-negative integer, got -5$"),
    ("TC07 amp 'bogus'", lambda: autocast_dtype("bogus", torch.device("cpu")),
     ValueError, r"^amp must be one of \('auto', 'bf16', 'fp16', 'off'\), got 'bogus'$"),
    ("device not a device", lambda: autocast_dtype("auto", 3),
     TypeError, r"^device must be a torch\.device or its name, got int$"),
    ("device name unknown", lambda: autocast_dtype("auto", "gpu0"),
     ValueError, r"^device must be 'auto' or a torch device"),
    ("fit on meta", lambda: fit(tiny_model(), tiny_data(), tiny_config(device="meta")),
     ValueError, r"^device must be a device that can train, such as 'cpu' or 'cuda', got 'meta'"),
    # what fit's loss_fn returns
    ("FI37 loss_fn returns 5", _fit(lambda outputs, batch: 5),
     TypeError, r"^loss_fn must return \(loss, stats\): .*, got int$"),
    ("FI38 stats without 'loss'", _fit(_loss_without_total),
     ValueError, r"^loss_fn's stats must hold 'loss', the total loss .*got keys \[\]$"),
    ("stats of floats", _fit(lambda outputs, batch: (CenterNetLoss()(outputs, batch)[0], {"loss": 1.0})),
     TypeError, r"^loss_fn must return \(loss, stats\): .*got \(a tensor of shape \(\), a dict of \['float'\]\)$"),
]
# fmt: on


@pytest.mark.parametrize(
    ("call", "error", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_named(call, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        call()
    assert type(info.value) is error


# The command line: a usage error (status 2) naming the option ---------------------------

# fmt: off
USAGE = [
    ("CT18 --device meta", ["--device", "meta"], r"--device must be a device that can train.*got 'meta'"),
    ("CT43 --amp fp16 on the CPU", ["--amp", "fp16", "--device", "cpu"], r"--amp fp16 needs a CUDA device .*got --device cpu"),
    ("CT54 16 px, batch of 1", ["--image-size", "16", "--batch-size", "1"], r"--image-size 16 with --batch-size 1 .*BatchNorm.*--batch-size 2 or more, or --image-size 32"),
    ("--objects 0 100", ["--objects", "0", "100"], r"--objects MAX must be at most 32 \(the object slots of each image\), got 0 100"),
    ("--image-size 8192", ["--image-size", "8192"], r"--image-size must be at most 4096, got 8192"),
    ("--coco, 8192 px", ["--coco", "missing", "--image-size", "8192"], r"--image-size must be at most 4096, got 8192"),
]
# fmt: on


@pytest.mark.parametrize(("args", "pattern"), [u[1:] for u in USAGE], ids=[u[0] for u in USAGE])
def test_options_that_cannot_run_are_usage_errors(tmp_path, capsys, args, pattern):
    assert main([*args, "--out", str(tmp_path / "run"), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert re.search(pattern, lines[0]), lines[0]


def test_image_size_16_trains_with_a_batch_of_two(tmp_path, capsys):
    args = ["--image-size", "16", "--batch-size", "2", "--steps", "1", "--val-size", "0"]
    args += ["--channels", "8", "8", "16", "16", "--head-channels", "8", "--device", "cpu"]
    args += ["--workers", "0", "--no-progress", "--out", str(tmp_path / "run")]
    assert main(args) == 0, capsys.readouterr().err


# Right results ---------------------------------------------------------------------------


def test_EB28_a_huge_map_encodes_as_encode_ctdet_does_without_a_size_table():
    # Past 2**20 pixels, where the radius table would be as large as the map.
    box, size = [[1.0, 1.0, 40.0, 30.0]], (1500, 1500)
    out = encode_ctdet_batch(torch.tensor([box]), torch.tensor([[0]]), 1, size)
    ref = ce.encode_ctdet(box, [0], 1, size)
    for key in ("wh", "reg", "ind", "reg_mask"):
        assert torch.equal(out[key][0], ref[key]), key
    assert out["hm"].shape == (1, 1, *size)
    assert torch.equal(out["hm"][0, :, :64, :64], ref["hm"][:, :64, :64])


def test_radii_of_a_huge_map_equal_the_table(monkeypatch):
    import centernet_edu.fast as fast

    h, w = torch.randint(0, 300, (4000,)), torch.randint(0, 300, (4000,))
    table = fast._radius_table(300, 300)
    monkeypatch.setattr(fast, "_MAX_RADIUS_TABLE", 0)
    assert torch.equal(fast._radii((h, w), 300, 300), table[h, w])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_radius_is_computed_in_float32(dtype):
    want = ce.gaussian_radius(1000.0, 1000.0)
    r = ce.gaussian_radius(torch.tensor([1000.0], dtype=dtype), torch.tensor([1000.0], dtype=dtype))
    assert r.dtype == dtype and torch.isfinite(r).all()
    assert r.item() == pytest.approx(want, rel=1e-2)
    r = ce.gaussian_radius(torch.tensor([1000.0], dtype=dtype), 3)
    assert r.dtype == dtype and r.item() == pytest.approx(ce.gaussian_radius(1000.0, 3.0), rel=1e-2)


def test_half_precision_numpy_radius_is_finite():
    r = ce.gaussian_radius(np.array([1000.0], np.float16), np.array([1000.0], np.float16))
    assert r.dtype == np.float16
    assert float(r[0]) == pytest.approx(ce.gaussian_radius(1000.0, 1000.0), rel=1e-2)


def test_a_sigma_whose_square_underflows_gives_the_limit():
    g = ce.gaussian_2d((3, 3), sigma=1e-300)
    want = np.zeros((3, 3))
    want[1, 1] = 1
    assert np.array_equal(g, want)
    assert np.array_equal(ce.gaussian_2d((2, 2), sigma=1e-300), np.zeros((2, 2)))


def test_autocast_dtype_takes_a_device_name():
    assert autocast_dtype("auto", "cpu") is None
    assert autocast_dtype("bf16", "cpu") is torch.bfloat16


def test_a_loss_fn_that_returns_a_list_still_trains():
    result = fit(
        tiny_model(),
        tiny_data(),
        tiny_config(steps=1),
        loss_fn=lambda outputs, batch: list(CenterNetLoss()(outputs, batch)),
    )
    assert result.step == 1
