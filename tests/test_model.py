"""CenterNetLite: output shapes, the prior bias, the extreme-point heads, bad input."""

from __future__ import annotations

import pytest
import torch

from centernet_edu import CenterNetLoss
from centernet_edu.data import ShapesDataset
from centernet_edu.model import HM_PRIOR_BIAS, CenterNetLite


def tiny(**kw) -> CenterNetLite:
    torch.manual_seed(0)
    return CenterNetLite(3, channels=(8, 8, 16, 16), head_channels=8, **kw)


def test_outputs_at_stride_four():
    out = tiny()(torch.randn(2, 3, 64, 96))
    assert set(out) == {"hm", "wh", "reg"}
    assert out["hm"].shape == (2, 3, 16, 24)
    assert out["wh"].shape == out["reg"].shape == (2, 2, 16, 24)


def test_heatmap_bias_starts_at_the_prior():
    model = tiny()
    assert HM_PRIOR_BIAS == -2.19
    bias = model.heads["hm"][-1].bias
    assert torch.equal(bias, torch.full_like(bias, -2.19))
    # sigmoid(-2.19) is about 0.1: the probability every pixel starts near.
    assert torch.sigmoid(torch.tensor(HM_PRIOR_BIAS)).item() == pytest.approx(0.1, abs=0.001)
    with torch.no_grad():
        p = torch.sigmoid(model(torch.randn(2, 3, 64, 64))["hm"])
    assert 0.03 < p.mean().item() < 0.3


def test_extreme_heads():
    out = tiny(extreme=True)(torch.randn(1, 3, 32, 32))
    assert set(out) == {f"hm_{p}" for p in "tlbrc"} | {f"reg_{p}" for p in "tlbr"}
    for p in "tlbrc":
        assert out[f"hm_{p}"].shape == (1, 3, 8, 8)
    for p in "tlbr":
        assert out[f"reg_{p}"].shape == (1, 2, 8, 8)


def test_loss_on_model_output_is_finite_and_differentiable():
    ds = ShapesDataset(2, 64, shapes=("circle", "square", "triangle"), size_range=(6, 24))
    batch = torch.utils.data.default_collate([ds[0], ds[1]])
    model = tiny()
    loss, stats = CenterNetLoss()(model(batch["image"]), batch)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize(
    ("shape", "dtype", "match"),
    [
        ((2, 1, 64, 64), torch.float32, r"\(B, 3, H, W\)"),
        ((3, 64, 64), torch.float32, r"\(B, 3, H, W\)"),
        ((1, 3, 60, 64), torch.float32, "multiples of 16"),
        ((1, 3, 64, 72), torch.float32, "multiples of 16"),
        ((1, 3, 64, 64), torch.uint8, "floating-point"),
    ],
)
def test_bad_input(shape, dtype, match):
    with pytest.raises(ValueError, match=match):
        tiny()(torch.zeros(shape, dtype=dtype))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_classes": 0}, "num_classes"),
        ({"num_classes": 2, "channels": (8, 8, 8)}, "channels"),
        ({"num_classes": 2, "head_channels": 0}, "head_channels"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CenterNetLite(**kwargs)


def test_bfloat16_autocast_on_cpu():
    model = tiny().eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.randn(1, 3, 32, 32))
    assert out["hm"].dtype == torch.bfloat16
    assert all(torch.isfinite(v.float()).all() for v in out.values())


def test_the_configuration_is_a_dataclass_of_plain_values():
    import dataclasses

    from centernet_edu.model import CenterNetLiteConfig

    model = tiny(extreme=True)
    assert model.config == CenterNetLiteConfig(3, (8, 8, 16, 16), 8, True)
    plain = dataclasses.asdict(model.config)
    assert plain == {"num_classes": 3, "channels": (8, 8, 16, 16), "head_channels": 8, "extreme": True}  # fmt: skip
    rebuilt = CenterNetLite(**plain)
    assert rebuilt.config == model.config
    assert rebuilt.state_dict().keys() == model.state_dict().keys()
    assert model.num_classes == 3 and model.extreme is True  # read from the configuration
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.config.num_classes = 4


def test_the_configuration_keeps_values_in_the_form_the_model_uses():
    import numpy as np

    from centernet_edu.model import CenterNetLiteConfig

    config = CenterNetLiteConfig(np.int64(2), [8, 8, 16, 16], np.int32(4))
    assert config.channels == (8, 8, 16, 16) and type(config.num_classes) is int
    assert type(config.head_channels) is int and config.extreme is False
    assert CenterNetLiteConfig(2).channels == (16, 32, 64, 96)


def test_the_shipped_weights_detect_held_out_shapes():
    from centernet_edu import ShapesDataset, evaluate
    from centernet_edu.pretrained import shapes_model

    model = shapes_model()
    assert not model.training and model.config.num_classes == 5
    # A seed the training run never used (benchmarks/train_shapes.py trains on seed 0).
    metrics = evaluate(model, ShapesDataset(100, (128, 128), seed=12345))
    assert metrics["AP50"] >= 0.85


def test_the_shipped_extreme_point_model_groups_held_out_shapes():
    from centernet_edu import ShapesDataset
    from centernet_edu.evaluate import evaluate_exdet
    from centernet_edu.pretrained import shapes_exdet_model, shapes_exdet_run, shapes_run

    model = shapes_exdet_model()
    assert not model.training and model.config.extreme and model.config.num_classes == 5
    # The schedule of the centre model, step for step, so the two compare at equal steps.
    record, centre = shapes_exdet_run(), shapes_run()
    assert record["curve"][-1]["step"] == centre["curve"][-1]["step"]
    metrics = evaluate_exdet(model, ShapesDataset(60, (128, 128), seed=12345, extreme=True))
    assert metrics["AP50"] >= 0.6


def test_the_size_weight_record_holds_three_seeds_at_each_weight():
    from centernet_edu.pretrained import size_weight_seeds

    runs = size_weight_seeds()["runs"]
    for weight in (0.01, 0.1, 1.0):
        seeds = sorted(r["seed"] for r in runs if r["wh_weight"] == weight)
        assert len(seeds) >= 3, (weight, seeds)
