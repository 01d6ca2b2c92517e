"""Bad inputs, fifth round: broadcast heatmaps, Gaussians that would need absurd tables or
maps, boolean boxes, even pooling windows, a float64 image for a float32 model, NaN
pixels, items of different sizes, files where folders belong, states that cannot be
saved or restored, schedules and boxes out of range, and a demo that takes no arguments.

One test per cause: the exact error type and a pattern naming the argument at fault;
then the valid inputs next to them that must keep working.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch

import centernet_edu as ce
from centernet_edu import demo
from centernet_edu.checkpoint import (
    CheckpointError,
    check_writable,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from centernet_edu.data import (
    CocoDataset,
    ShapesDataset,
    collate_with_targets,
    denormalize_image,
    write_coco,
)
from centernet_edu.evaluate import (
    METRICS,
    centred_boxes,
    collect_detections,
    evaluate,
    oracle_ablations,
)
from centernet_edu.fast import encode_ctdet_batch, render_gaussians, window_max
from centernet_edu.model import CenterNetLite
from centernet_edu.oracle import flood_fill
from centernet_edu.train import model_config
from centernet_edu.train_config import lr_factor
from centernet_edu.widgets.explorer import Control, Explorer, Shown

MAPS, CENTERS, RADII = torch.tensor([0, 1]), torch.tensor([[3, 4], [7, 7]]), torch.tensor([2, 1])


def tiny_model(C: int = 3) -> CenterNetLite:
    torch.manual_seed(0)
    return CenterNetLite(C, channels=(4, 8, 8, 8), head_channels=4)


def shapes(n: int = 2, size: int = 32, **kw) -> ShapesDataset:
    kw.setdefault("objects", (1, 2))
    return ShapesDataset(length=n, image_size=size, size_range=(8.0, 16.0), seed=3, **kw)


def record(H: int = 32, W: int = 32) -> dict:
    image = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)
    return {"image": image, "boxes": np.array([[4.0, 4, 14, 14]]), "labels": np.array([0])}


# --------------------------------------------------------------------------- heatmaps


def test_draw_gaussian_refuses_a_broadcast_heatmap():
    heatmap = torch.zeros(1, 8).expand(8, 8)
    with pytest.raises(ValueError, match=r"^heatmap must own its pixels .*broadcast view"):
        ce.draw_gaussian(heatmap, (3, 3), 1)
    assert ce.draw_gaussian(torch.zeros(8, 8), (3, 3), 1)[3, 3] == 1  # an ordinary map


def test_render_gaussians_names_a_shape_without_pixels():
    with pytest.raises(ValueError, match=r"^shape must be >= 1 a side .*got \(2, 0, 8\)$"):
        render_gaussians((2, 0, 8), MAPS, CENTERS, RADII)
    empty = render_gaussians((0, 0, 0), *(t[:0] for t in (MAPS, CENTERS, RADII)))
    assert empty.shape == (0, 0, 0)  # nothing to draw on nothing is fine


def test_render_gaussians_refuses_an_absurd_shape_up_front():
    with pytest.raises(ValueError, match=r"^shape asks for an array of 1e\+18 elements"):
        render_gaussians((10**6, 10**6, 10**6), MAPS, CENTERS, RADII)


def test_render_gaussians_refuses_a_radius_whose_table_is_absurd():
    with pytest.raises(ValueError, match=r"^radii must be at most 1023 .*got 1000000000$"):
        render_gaussians((2, 8, 8), MAPS, CENTERS, torch.tensor([10**9, 1]))
    out = render_gaussians((2, 8, 8), MAPS, CENTERS, torch.tensor([40, 1]))
    assert out[0, 4, 3] == 1 and out[1, 7, 7] == 1  # a radius past the map is drawn, cut


def test_render_gaussians_refuses_boolean_radii():
    with pytest.raises(ValueError, match=r"^radii must be a 1-D integer tensor, got dtype torch\.bool$"):  # fmt: skip
        render_gaussians((2, 8, 8), MAPS, CENTERS, torch.tensor([True, False]))


def test_render_gaussians_refuses_centres_on_the_meta_device():
    with pytest.raises(ValueError, match=r"^centers is on the meta device"):
        render_gaussians((2, 8, 8), MAPS, CENTERS.to("meta"), RADII)


# --------------------------------------------------------------------------- targets


def test_encoders_refuse_boolean_boxes():
    with pytest.raises(ValueError, match=r"^boxes must be numbers x1, y1, x2, y2, got booleans"):
        ce.encode_ctdet(torch.ones(1, 4, dtype=torch.bool), [0], 3, (16, 16), 8)
    with pytest.raises(ValueError, match=r"^boxes must be numbers, got booleans"):
        encode_ctdet_batch(torch.ones(1, 1, 4, dtype=torch.bool), [[0]], 3, (16, 16), 8)
    assert ce.encode_ctdet(torch.tensor([[2, 2, 9, 9]]), [0], 3, (16, 16), 8)["reg_mask"][0] == 1


def test_encode_ctdet_batch_refuses_an_absurd_batch_up_front():
    boxes, labels = torch.zeros(10**5, 1, 4), -torch.ones(10**5, 1, dtype=torch.long)
    with pytest.raises(ValueError, match=r"^boxes asks for an array of 2\.62e\+13 elements"):
        encode_ctdet_batch(boxes, labels, 1000, (512, 512), 8)


# --------------------------------------------------------------------------- decoding, model


@pytest.mark.parametrize("kernel", [4, 0, -3, 2.0, True])
def test_window_max_needs_an_odd_kernel(kernel):
    with pytest.raises(ValueError, match=rf"^kernel must be a positive odd integer, got {kernel!r}$"):  # fmt: skip
        window_max(torch.rand(1, 3, 16, 16), kernel)


def test_window_max_still_pools_as_max_pool2d():
    x = torch.rand(1, 3, 16, 16)
    want = torch.nn.functional.max_pool2d(x, 5, stride=1, padding=2)
    assert torch.equal(window_max(x, 5), want)
    with pytest.raises(ValueError, match=r"^x must have shape \(B, C, H, W\), got \(16, 16\)$"):
        window_max(x[0, 0], 3)


def test_the_model_names_images_of_another_dtype_than_its_weights():
    model = tiny_model()
    with pytest.raises(ValueError, match=r"^images must have the dtype of the model's weights, torch\.float32, got torch\.float64"):  # fmt: skip
        model(torch.zeros(1, 3, 32, 32, dtype=torch.float64))
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast casts for the convolutions
        assert model(torch.zeros(1, 3, 32, 32))["hm"].shape == (1, 3, 8, 8)
    assert model.double()(torch.zeros(1, 3, 32, 32, dtype=torch.float64))["hm"].dtype == torch.float64  # fmt: skip


# --------------------------------------------------------------------------- data


def test_denormalize_image_refuses_nan_pixels():
    x = torch.zeros(3, 8, 8)
    x[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"^image must be finite, got NaN at \(0, 0, 0\)$"):
        denormalize_image(x)
    assert denormalize_image(torch.zeros(3, 8, 8)).shape == (8, 8, 3)


def test_collate_with_targets_names_items_of_different_sizes():
    items = [shapes(targets=False)[0], shapes(size=64, targets=False)[0]]
    with pytest.raises(ValueError, match=r"^items must have tensors of one shape .*items\[0\]\['image'\] \(3, 32, 32\) and items\[1\]\['image'\] \(3, 64, 64\)$"):  # fmt: skip
        collate_with_targets(items, 5, 4)
    same = [shapes(targets=False)[0], shapes(targets=False)[1]]
    assert collate_with_targets(same, 5, 4)["hm"].shape == (2, 5, 8, 8)


@pytest.mark.parametrize("size", [(2**20, 2**20), (65536, 65536), (4100, 64)])
def test_coco_dataset_caps_input_size(tmp_path, size):
    path = write_coco(tmp_path, [(0, record())], ["a"])
    with pytest.raises(ValueError, match=rf"^input_size must be at most 4096, got {re.escape(repr(size))}$"):  # fmt: skip
        CocoDataset(path, input_size=size)
    assert CocoDataset(path, input_size=(64, 32))[0]["image"].shape == (3, 64, 32)


def test_write_coco_names_a_root_that_is_a_file(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    for root in (f, f / "below"):
        with pytest.raises(ValueError, match=rf"^root must be a folder, got {re.escape(str(root))}, where {re.escape(str(f))} is a file$"):  # fmt: skip
            write_coco(root, [(0, record())], ["a"])
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "images").write_text("x")
    with pytest.raises(ValueError, match=r"^image_dir must be a folder"):
        write_coco(tmp_path / "r", [(0, record())], ["a"])
    assert f.read_text() == "x"
    assert write_coco(tmp_path / "new" / "deeper", [(0, record())], ["a"]).is_file()


# --------------------------------------------------------------------------- evaluation


def test_evaluation_takes_k_up_to_the_map_size_by_default():
    # 32 x 32 images: 8 x 8 heatmaps, fewer pixels than the default K = 100.
    assert set(evaluate(tiny_model(5), shapes(), batch_size=2)) == set(METRICS)
    assert oracle_ablations(None, shapes(n=3), oracles=("gt_all",))["gt_all"]["AP50"] == 1.0
    model = tiny_model(5).train()
    gt, results = collect_detections(model, shapes())
    assert not model.training and len(results["model"]) > 0
    assert len(collect_detections(model, shapes(), K=7)[1]["model"]) <= 2 * 7
    with pytest.raises(ValueError, match=r"^K = 100 is larger than the map's H\*W = 8\*8 \(64\)"):
        collect_detections(model, shapes(), K=100)  # a K given is taken as given


def test_centred_boxes_refuses_negative_sizes():
    with pytest.raises(ValueError, match=r"^width must be a finite number >= 0, got -4$"):
        centred_boxes(-4, 2, 0, 0)
    with pytest.raises(ValueError, match=r"^height must be a finite number >= 0, got -1$"):
        centred_boxes(4, -1, 0, 0)
    assert centred_boxes(4, 2, -6, 0) == ((-2, -1, 2, 1), (-0.0, -1, 0.0, 1))


def test_flood_fill_refuses_an_absurd_map_up_front():
    with pytest.raises(ValueError, match=r"^height and width asks for an array of 2e\+10 elements"):
        flood_fill(torch.tensor([[[3.0, 4.0]]]), torch.tensor([[1]]), 10**5, 10**5)
    filled = flood_fill(torch.tensor([[[3.0, 4.0]]]), torch.tensor([[1]]), 2, 2)
    assert filled[0, :, 1, 1].tolist() == [3.0, 4.0]
    empty = flood_fill(torch.zeros(0, 1, 2), torch.zeros(0, 1, dtype=torch.long), 4, 4)
    assert empty.shape == (0, 2, 4, 4)  # an empty batch fills nothing


# --------------------------------------------------------------------------- checkpoints


def test_load_checkpoint_refuses_the_meta_device(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"a": torch.ones(2)})
    for where in ("meta", torch.device("meta")):
        with pytest.raises(ValueError, match=r"^map_location must be a device that holds values"):  # fmt: skip
            load_checkpoint(path, map_location=where)
    assert torch.equal(load_checkpoint(path, map_location="cpu")["a"], torch.ones(2))


def test_save_checkpoint_names_a_state_it_cannot_store(tmp_path):
    with pytest.raises(ValueError, match=r"^state must hold only dicts, lists, tensors and plain values"):  # fmt: skip
        save_checkpoint(tmp_path / "c.pt", {"f": lambda: 1})
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_save_checkpoint_names_a_path_under_a_regular_file(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    for call in (save_checkpoint, lambda p, _: check_writable(p)):
        with pytest.raises(CheckpointError, match=r"^checkpoint .*f/c\.pt cannot be written: .*f is a file"):  # fmt: skip
            call(f / "c.pt", {"a": 1})
    with pytest.raises(CheckpointError, match=r"cannot be written: .* is a folder"):
        save_checkpoint(tmp_path, {"a": 1})
    save_checkpoint(tmp_path / "new" / "c.pt", {"a": 1})
    assert load_checkpoint(tmp_path / "new" / "c.pt")["a"] == 1


def test_set_rng_state_names_a_state_missing_generators():
    with pytest.raises(ValueError, match=r"^state must hold \['torch', 'numpy', 'python'\], missing \['torch', 'numpy', 'python'\]$"):  # fmt: skip
        set_rng_state({})


def test_set_rng_state_names_a_state_that_is_not_a_dict():
    with pytest.raises(ValueError, match=r"^state must be a dict holding \['torch', 'numpy', 'python'\], got NoneType$"):  # fmt: skip
        set_rng_state(None)
    state = rng_state()
    drawn = (torch.rand(3), np.random.rand(), random.random())  # noqa: NPY002
    set_rng_state(state)
    again = (torch.rand(3), np.random.rand(), random.random())  # noqa: NPY002
    assert torch.equal(drawn[0], again[0]) and drawn[1:] == again[1:]


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize(
    "args, pattern",
    [
        ((0, 0, 0, 0.01), r"^steps must be a positive integer, got 0$"),
        ((5, 100, 10, 2), r"^min_lr_ratio must be a number in \[0, 1\], got 2$"),
        ((5, 100, float("nan"), 0.01), r"^warmup_steps must be a non-negative integer, got nan$"),
        ((5, 100, 10, float("nan")), r"^min_lr_ratio must be a number in \[0, 1\], got nan$"),
    ],
)
def test_lr_factor_checks_its_schedule(args, pattern):
    with pytest.raises(ValueError, match=pattern):
        lr_factor(*args)


def test_lr_factor_keeps_its_values():
    assert lr_factor(0, 100, 10, 0.01) == pytest.approx(0.1)
    assert lr_factor(10, 100, 10, 0.01) == 1.0
    assert lr_factor(100, 100, 10, 0.01) == pytest.approx(0.01)
    assert lr_factor(3, 100, 0, 0.5) < 1.0


def test_model_config_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match=r"^model must be a torch\.nn\.Module, got int$"):
        model_config(5)
    assert model_config(torch.nn.Linear(2, 2)) is None
    assert model_config(tiny_model())["num_classes"] == 3


# --------------------------------------------------------------------------- widgets, demo


def test_explorer_names_controls_and_shown_that_are_not_lists():
    with pytest.raises(TypeError, match=r"^controls must be a list of Control, got None$"):
        Explorer("focal", None, None, None)
    controls = [Control("width", "w", 1, 64), Control("height", "h", 1, 64)]
    controls.append(Control("min_overlap", "o", 0.1, 0.9, 0.1))
    with pytest.raises(TypeError, match=r"^shown must be a list of Shown, got 'r'$"):
        Explorer("radius", controls, "r", {"width": 8, "height": 8, "min_overlap": 0.7})
    values = {"width": 8, "height": 8, "min_overlap": 0.7}
    e = Explorer("radius", iter(controls), (Shown("r_centernet", "r"),), values)
    assert e.at({"width": 9}).values["width"] == 9  # any iterable, a generator included


def test_the_demo_takes_no_arguments(capsys):
    for argv in (["--bogus"], ["junk"]):
        with pytest.raises(SystemExit) as stop:
            demo.main(argv)
        assert stop.value.code == 2
        assert f"error: unrecognized arguments: {argv[0]}" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        demo.main(["--help"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("usage: python -m centernet_edu.demo")
    demo.main([])
    assert "decoded from the perfect prediction" in capsys.readouterr().out
