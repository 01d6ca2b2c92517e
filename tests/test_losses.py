import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from centernet_edu import (
    CenterNetLoss,
    ExtremeNetLoss,
    clamped_sigmoid,
    encode_ctdet,
    encode_exdet,
    focal_loss,
    focal_loss_terms,
    focal_loss_with_logits,
    reg_l1_loss,
)
from centernet_edu.losses import prior_loss, prior_losses

seeds = st.integers(0, 2**31 - 1)


def random_problem(seed: int, shape=(2, 3, 9, 11), n_pos=4, logit_scale=3.0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=g) * logit_scale
    gt = torch.rand(shape, generator=g) ** 3
    flat = gt.view(-1)
    flat[torch.randperm(flat.numel(), generator=g)[:n_pos]] = 1.0
    return logits, gt


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 6))
def test_focal_loss_is_non_negative(seed, n_pos):
    logits, gt = random_problem(seed, n_pos=n_pos)
    assert focal_loss(clamped_sigmoid(logits), gt) >= 0
    assert focal_loss_with_logits(logits, gt) >= 0


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 6))
def test_logit_form_equals_probability_form_where_the_clamp_is_inactive(seed, n_pos):
    logits, gt = random_problem(seed, n_pos=n_pos)
    logits = logits.clamp(-9, 9)  # sigmoid stays inside [1e-4, 1 - 1e-4]
    want = focal_loss(clamped_sigmoid(logits.double()), gt.double())
    got = focal_loss_with_logits(logits.double(), gt.double())
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        focal_loss_with_logits(logits, gt), want.float(), rtol=1e-5, atol=1e-6
    )


def test_no_positives_falls_back_to_the_negative_sum():
    logits, gt = random_problem(0, n_pos=0)
    logits, gt = logits.double(), gt.double()
    p = torch.sigmoid(logits)
    neg = (torch.log(1 - p) * p**2 * (1 - gt) ** 4).sum()
    torch.testing.assert_close(focal_loss(p, gt), -neg)
    torch.testing.assert_close(focal_loss_with_logits(logits, gt), -neg)


def test_positives_normalise_the_sum():
    logits, gt = random_problem(1, n_pos=5)
    p = torch.sigmoid(logits)
    pos = gt == 1
    pos_sum = (torch.log(p) * (1 - p) ** 2)[pos].sum()
    neg_sum = (torch.log(1 - p) * p**2 * (1 - gt) ** 4)[~pos].sum()
    torch.testing.assert_close(focal_loss(p, gt), -(pos_sum + neg_sum) / 5)


def test_a_perfect_prediction_costs_nothing_at_the_peaks():
    gt = torch.zeros(1, 1, 5, 5)
    gt[0, 0, 2, 2] = 1
    logits = torch.full_like(gt, -30.0)
    logits[0, 0, 2, 2] = 30.0
    assert focal_loss_with_logits(logits, gt).item() < 1e-12


@pytest.mark.parametrize("magnitude", [1e2, 1e3, 1e4])
def test_logit_form_is_finite_for_huge_logits(magnitude):
    logits, gt = random_problem(2)
    logits = (torch.sign(logits) * magnitude).requires_grad_()
    loss = focal_loss_with_logits(logits, gt)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    # Confident mistakes still get a gradient, where the clamped form has none.
    wrong = ((gt == 1) & (logits < 0)) | ((gt < 1) & (logits > 0))
    assert (logits.grad[wrong] != 0).all()
    clamped = logits.detach().clone().requires_grad_()
    focal_loss(clamped_sigmoid(clamped), gt).backward()
    assert (clamped.grad[wrong] == 0).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_logit_form_is_finite_in_half_precision(dtype):
    logits, gt = random_problem(3, shape=(2, 4, 64, 64))
    for scale in (1.0, 1e4):
        x = (logits * scale).clamp(-6e4, 6e4).to(dtype).requires_grad_()
        loss = focal_loss_with_logits(x, gt.to(dtype))
        loss.backward()
        assert loss.dtype == torch.float32
        assert torch.isfinite(loss) and torch.isfinite(x.grad).all() and x.grad.dtype == dtype


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_logit_form_is_finite_under_autocast(dtype, scale):
    logits, gt = random_problem(4, shape=(2, 4, 32, 32))
    conv = torch.nn.Conv2d(4, 4, 1)
    with torch.autocast("cpu", dtype=dtype):
        # Large but finite in both half formats (float16 overflows past 65504).
        x = (conv(logits) * scale).clamp(-6e4, 6e4)
        assert x.dtype == dtype and torch.isfinite(x).all()
        x.retain_grad()
        loss = focal_loss_with_logits(x, gt)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(x.grad).all()


def test_clamped_sigmoid_bounds_and_does_not_change_its_input():
    x = torch.tensor([-50.0, 0.0, 50.0])
    before = x.clone()
    y = clamped_sigmoid(x)
    assert torch.equal(x, before)
    assert y.tolist() == pytest.approx([1e-4, 0.5, 1 - 1e-4])
    with pytest.raises(ValueError, match=r"eps must lie in \[0, 0.5\), got 0.5"):
        clamped_sigmoid(x, eps=0.5)


@pytest.mark.parametrize("fn", [focal_loss, focal_loss_with_logits])
def test_focal_losses_reject_mismatched_shapes(fn):
    first = "pred" if fn is focal_loss else "logits"
    with pytest.raises(
        ValueError,
        match=rf"{first} and gt must have the same shape, got \(1, 2, 4, 4\) and \(1, 3, 4, 4\)",
    ):
        fn(torch.rand(1, 2, 4, 4), torch.rand(1, 3, 4, 4))
    with pytest.raises(ValueError, match="gt must be a torch.Tensor, got list"):
        fn(torch.rand(2), [0.0, 1.0])


def test_reg_l1_loss_by_hand():
    output = torch.arange(2 * 2 * 3 * 4, dtype=torch.float32).reshape(2, 2, 3, 4)
    ind = torch.tensor([[5, 11, 0], [7, 0, 0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]], dtype=torch.uint8)
    target = torch.zeros(2, 3, 2)
    target[0, 0] = torch.tensor([5.0, 17.0])  # exact at pixel 5: channel values 5 and 17
    target[0, 1] = torch.tensor([10.0, 20.0])  # pixel 11 holds 11 and 23: error 1 + 3
    target[1, 0] = torch.tensor([31.0, 43.0])  # image 1, pixel 7: 31 and 43
    target[0, 2] = torch.tensor([100.0, 100.0])  # masked out
    loss = reg_l1_loss(output, mask, ind, target)
    assert loss.item() == pytest.approx(4 / (3 * 2 + 1e-4))


def test_reg_l1_loss_gradient_reaches_only_gathered_pixels():
    output = torch.zeros(1, 2, 4, 4, requires_grad=True)
    ind = torch.tensor([[6, 9]])
    reg_l1_loss(output, torch.tensor([[1, 0]]), ind, torch.ones(1, 2, 2)).backward()
    touched = output.grad.flatten(2).abs().sum(1)[0].nonzero().flatten().tolist()
    assert touched == [6]


@pytest.mark.parametrize(
    "shapes, message",
    [
        (
            ((1, 2, 4), (1, 3), (1, 3), (1, 3, 2)),
            r"output must have shape \(B, D, H, W\), got \(1, 2, 4\)",
        ),
        (((1, 2, 4, 4), (2, 3), (2, 3), (2, 3, 2)), r"mask must have shape \(1, M\), got \(2, 3\)"),
        (
            ((1, 2, 4, 4), (1, 3), (1, 4), (1, 3, 2)),
            r"ind must have the shape of mask \(1, 3\), got \(1, 4\)",
        ),
        (
            ((1, 2, 4, 4), (1, 3), (1, 3), (1, 3, 1)),
            r"target must have shape \(1, 3, 2\), got \(1, 3, 1\)",
        ),
    ],
)
def test_reg_l1_loss_rejects_mismatched_shapes(shapes, message):
    out, mask, ind, target = shapes
    with pytest.raises(ValueError, match=message):
        reg_l1_loss(
            torch.zeros(out),
            torch.ones(mask),
            torch.zeros(ind, dtype=torch.long),
            torch.zeros(target),
        )


def test_reg_l1_loss_rejects_indices_off_the_map():
    with pytest.raises(
        ValueError, match=r"ind must lie in \[0, H\*W\) = \[0, 16\), got values in \[0, 16\]"
    ):
        reg_l1_loss(
            torch.zeros(1, 2, 4, 4), torch.ones(1, 2), torch.tensor([[0, 16]]), torch.zeros(1, 2, 2)
        )
    with pytest.raises(ValueError, match="ind must be an integer tensor, got torch.float32"):
        reg_l1_loss(
            torch.zeros(1, 2, 4, 4), torch.ones(1, 2), torch.zeros(1, 2), torch.zeros(1, 2, 2)
        )


def ctdet_batch(num_classes=2, size=(16, 16)):
    t = encode_ctdet([[1, 1, 6, 7], [8, 3, 15, 14]], [0, 1], num_classes, size, max_objs=4)
    return {k: v[None] for k, v in t.items()}


def test_centernet_loss_weights_and_stats():
    batch = ctdet_batch()
    g = torch.Generator().manual_seed(0)
    outputs = {
        "hm": torch.randn(1, 2, 16, 16, generator=g),
        "wh": torch.randn(1, 2, 16, 16, generator=g),
        "reg": torch.randn(1, 2, 16, 16, generator=g),
    }
    before = {k: v.clone() for k, v in outputs.items()}
    loss, stats = CenterNetLoss(hm_weight=2.0, wh_weight=0.5, off_weight=3.0)(outputs, batch)
    assert set(stats) == {"loss", "hm_loss", "wh_loss", "off_loss"}
    assert all(not v.requires_grad for v in stats.values())
    torch.testing.assert_close(
        loss, 2.0 * stats["hm_loss"] + 0.5 * stats["wh_loss"] + 3.0 * stats["off_loss"]
    )
    torch.testing.assert_close(stats["hm_loss"], focal_loss_with_logits(outputs["hm"], batch["hm"]))
    torch.testing.assert_close(
        stats["wh_loss"], reg_l1_loss(outputs["wh"], batch["reg_mask"], batch["ind"], batch["wh"])
    )
    assert all(torch.equal(outputs[k], before[k]) for k in outputs)


def test_centernet_loss_without_offsets():
    batch = ctdet_batch()
    outputs = {"hm": torch.zeros(1, 2, 16, 16), "wh": torch.zeros(1, 2, 16, 16)}
    loss, stats = CenterNetLoss(off_weight=0)(outputs, batch)
    assert stats["off_loss"] == 0
    torch.testing.assert_close(loss, stats["hm_loss"] + 0.1 * stats["wh_loss"])


def test_centernet_loss_rejects_missing_heads_and_bad_weights():
    with pytest.raises(
        ValueError, match=r"outputs must hold \['hm', 'wh', 'reg'\], missing \['reg'\]"
    ):
        CenterNetLoss()(
            {"hm": torch.zeros(1, 2, 16, 16), "wh": torch.zeros(1, 2, 16, 16)}, ctdet_batch()
        )
    with pytest.raises(ValueError, match="wh_weight must be >= 0, got -0.1"):
        CenterNetLoss(wh_weight=-0.1)


def test_extremenet_loss_sums_five_heatmaps_and_four_offsets():
    t = encode_exdet([[5, 1, 2, 6, 6, 12, 10, 7]], [0], 1, (16, 16), max_objs=2)
    batch = {k: v[None] for k, v in t.items()}
    g = torch.Generator().manual_seed(1)
    outputs = {f"hm_{p}": torch.randn(1, 1, 16, 16, generator=g) for p in "tlbrc"}
    outputs |= {f"reg_{p}": torch.rand(1, 2, 16, 16, generator=g) for p in "tlbr"}
    loss, stats = ExtremeNetLoss(hm_weight=1.0, off_weight=2.0)(outputs, batch)
    hm = sum(focal_loss_with_logits(outputs[f"hm_{p}"], batch[f"hm_{p}"]) for p in "tlbrc")
    off = sum(
        reg_l1_loss(outputs[f"reg_{p}"], batch["reg_mask"], batch[f"ind_{p}"], batch[f"reg_{p}"])
        for p in "tlbr"
    )
    torch.testing.assert_close(stats["hm_loss"], hm)
    torch.testing.assert_close(stats["off_loss"], off)
    torch.testing.assert_close(loss, hm + 2.0 * off)
    with pytest.raises(ValueError, match=r"missing \['hm_c'\]"):
        ExtremeNetLoss()({k: v for k, v in outputs.items() if k != "hm_c"}, batch)


def test_focal_loss_terms_sum_to_the_loss_and_reduce_to_cross_entropy():
    logits, gt = random_problem(5, n_pos=3)
    logits, gt = logits.double(), gt.double()
    terms = focal_loss_terms(logits, gt)
    assert terms.shape == logits.shape and (terms >= 0).all()
    torch.testing.assert_close(terms.sum() / 3, focal_loss_with_logits(logits, gt))
    # alpha = beta = 0: plain binary cross-entropy against a hard 0/1 target.
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, gt.eq(1).double(), reduction="none"
    )
    torch.testing.assert_close(focal_loss_terms(logits, gt, alpha=0, beta=0), bce)


def test_prior_loss_is_the_focal_loss_when_every_pixel_predicts_the_prior():
    gt = torch.zeros(2, 3, 8, 8, dtype=torch.float64)
    gt[0, 1, 3, 4], gt[1, 2, 6, 1], gt[0, 1, 3, 5] = 1.0, 1.0, 0.5
    pos, neg = prior_loss(gt, 0.1)
    logits = torch.full_like(gt, math.log(0.1 / 0.9))
    assert pos + neg == pytest.approx(float(focal_loss_with_logits(logits, gt)), rel=1e-12)
    assert pos > 0 and neg > 0
    assert prior_losses(gt, [0.1, 0.5]).tolist()[0] == pytest.approx([pos, neg], rel=1e-12)
    for pi in (0, 1, float("nan"), -0.5):
        with pytest.raises(ValueError, match="pi must be"):
            prior_loss(gt, pi)
    with pytest.raises(ValueError, match="pis must be"):
        prior_losses(gt, [0.1, 1.0])
    with pytest.raises(ValueError, match="gt must be"):
        prior_loss(gt.tolist(), 0.1)
