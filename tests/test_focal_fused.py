"""focal_loss_with_logits_fused: the same loss and gradient as focal_loss_with_logits."""

import json
import math
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from centernet_edu import (
    CenterNetLoss,
    ExtremeNetLoss,
    clamped_sigmoid,
    encode_ctdet_batch,
    fast,
    focal_loss,
    focal_loss_with_logits,
    focal_loss_with_logits_fused,
)

REFERENCE = json.loads((Path(__file__).parent / "data" / "centernet_reference.json").read_text())


def loss_and_grad(fn, logits, gt):
    x = logits.detach().clone().requires_grad_(True)
    loss = fn(x, gt)
    loss.backward()
    return loss.detach(), x.grad


def assert_matches_straightforward(logits, gt):
    """Fused in float32 against the straightforward form in float32 and in float64."""
    loss, grad = loss_and_grad(focal_loss_with_logits_fused, logits, gt)
    want, want_grad = loss_and_grad(focal_loss_with_logits, logits, gt)
    exact, exact_grad = loss_and_grad(focal_loss_with_logits, logits.double(), gt.double())
    assert loss.dtype == torch.float32 and grad.dtype == torch.float32
    torch.testing.assert_close(loss, want, rtol=2e-6, atol=1e-6)
    torch.testing.assert_close(loss.double(), exact, rtol=2e-6, atol=1e-6)
    # Per pixel, within a few float32 roundings of the largest gradient.
    atol = 1e-6 * float(exact_grad.abs().max()) + 1e-30
    torch.testing.assert_close(grad, want_grad, rtol=1e-5, atol=atol)
    torch.testing.assert_close(grad.double(), exact_grad, rtol=1e-5, atol=atol)


@st.composite
def logits_and_targets(draw):
    shape = tuple(draw(st.integers(1, n)) for n in (2, 3, 9, 9))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31)))
    logits = torch.randn(shape, generator=g) * draw(st.sampled_from([1.0, 4.0, 12.0, 40.0]))
    gt = torch.rand(shape, generator=g) ** draw(st.sampled_from([1.0, 8.0]))
    gt[torch.rand(shape, generator=g) < draw(st.sampled_from([0.0, 0.05, 0.5]))] = 1
    gt[torch.rand(shape, generator=g) < draw(st.sampled_from([0.0, 0.3]))] = 0
    # A few exact values: zeros of both signs and saturated logits.
    flat = logits.view(-1)
    for i in draw(st.lists(st.integers(0, flat.numel() - 1), max_size=4)):
        flat[i] = draw(st.sampled_from([0.0, -0.0, 30.0, -30.0, 100.0, -100.0]))
    return logits, gt


@settings(max_examples=40, deadline=None)
@given(logits_and_targets())
def test_equals_straightforward(case):
    assert_matches_straightforward(*case)


@pytest.mark.parametrize("chunk", [1000, 1 << 16])
def test_equals_straightforward_across_chunks(monkeypatch, chunk):
    # 80 000 pixels, walked in chunks of `chunk` and a remainder.
    monkeypatch.setattr(fast, "_chunk_size", lambda device: chunk)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(1, 2, 200, 200, generator=g) * 4 - 2
    gt = torch.rand(1, 2, 200, 200, generator=g) ** 6
    gt[gt > 0.97] = 1
    assert int(gt.eq(1).sum()) > 10
    assert_matches_straightforward(logits, gt)


@pytest.mark.parametrize("positives", [True, False])
def test_gradcheck_float64(positives):
    g = torch.Generator().manual_seed(1)
    logits = (torch.randn(2, 2, 5, 4, generator=g, dtype=torch.float64) * 3).requires_grad_(True)
    gt = torch.rand(2, 2, 5, 4, generator=g, dtype=torch.float64)
    if positives:
        gt[0, 1, 2, 3] = gt[1, 0, 0, 0] = 1
        with torch.no_grad():
            logits[0, 1, 2, 3], logits[1, 0, 0, 0] = 0.5, -1.5
    assert torch.autograd.gradcheck(lambda x: focal_loss_with_logits_fused(x, gt), (logits,))


@pytest.mark.parametrize("case", range(len(REFERENCE["focal_loss"])))
def test_reference_cases(case):
    c = REFERENCE["focal_loss"][case]
    logits, gt = torch.tensor(c["logits"]), torch.tensor(c["gt"])
    want = focal_loss_with_logits(logits, gt)
    torch.testing.assert_close(focal_loss_with_logits_fused(logits, gt), want, rtol=2e-6, atol=0)
    # Where the reference's clamp of the sigmoid to [1e-4, 1 - 1e-4] is inactive, the
    # logit form is the reference loss.
    inside = logits.clamp(-9, 9)
    got = focal_loss_with_logits_fused(inside, gt)
    torch.testing.assert_close(got, focal_loss(clamped_sigmoid(inside), gt), rtol=1e-5, atol=0)


@pytest.mark.parametrize(
    ("dtype", "big"), [(torch.float16, 6e4), (torch.bfloat16, 1e30), (torch.float32, 1e30)]
)
def test_finite_for_any_finite_logits(dtype, big):
    logits = torch.tensor([[[[-big, big, 0.0], [-30.0, 30.0, 5.0]]]], dtype=dtype)
    gt = torch.tensor([[[[1.0, 0.0, 1.0], [0.5, 1.0, 0.0]]]], dtype=dtype)
    loss, grad = loss_and_grad(focal_loss_with_logits_fused, logits, gt)
    assert loss.dtype == torch.float32 and grad.dtype == dtype
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    # Half precision is upcast chunk by chunk: the float32 computation on the same values.
    want, want_grad = loss_and_grad(focal_loss_with_logits, logits.float(), gt.float())
    torch.testing.assert_close(loss, want, rtol=1e-5, atol=0)
    torch.testing.assert_close(grad, want_grad.to(dtype), rtol=1e-2, atol=1e-6)


def test_under_autocast():
    g = torch.Generator().manual_seed(2)
    logits = (torch.randn(1, 2, 8, 8, generator=g) * 3).requires_grad_(True)
    gt = torch.rand(1, 2, 8, 8, generator=g)
    gt[0, 0, 3, 3] = 1
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = focal_loss_with_logits_fused(logits.bfloat16(), gt)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_inputs_are_not_changed_and_layouts_agree():
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 3, 6, 5, generator=g)
    gt = torch.rand(2, 3, 6, 5, generator=g)
    gt[1, 2, 4, 4] = 1
    before = logits.clone(), gt.clone()
    channels_last = logits.to(memory_format=torch.channels_last)
    a, grad_a = loss_and_grad(focal_loss_with_logits_fused, logits, gt)
    b, grad_b = loss_and_grad(focal_loss_with_logits_fused, channels_last, gt)
    assert torch.equal(logits, before[0]) and torch.equal(gt, before[1])
    assert torch.equal(a, b) and torch.equal(grad_a, grad_b)


def test_gradient_to_gt_falls_back_to_straightforward():
    logits = torch.tensor([[[[0.3, -2.0], [1.0, 4.0]]]], requires_grad=True)
    gt = torch.tensor([[[[1.0, 0.2], [0.5, 0.0]]]], requires_grad=True)
    focal_loss_with_logits_fused(logits, gt).backward()
    got = gt.grad.clone()
    gt.grad = None
    focal_loss_with_logits(logits, gt).backward()
    assert torch.equal(got, gt.grad)


def test_shape_mismatch():
    with pytest.raises(ValueError, match=r"logits and gt must have the same shape"):
        focal_loss_with_logits_fused(torch.zeros(1, 2, 3, 3), torch.zeros(1, 2, 3, 4))


def test_centernet_loss_with_the_fused_focal_loss_matches_reference():
    for c in REFERENCE["ctdet_loss"]:
        t = REFERENCE["ctdet_targets"][int(c["target_case"])]
        targets = encode_ctdet_batch(
            torch.tensor([t["boxes"]]),
            torch.tensor([t["labels"]]),
            t["num_classes"],
            (t["height"], t["width"]),
            t["max_objs"],
        )
        outputs = {k: torch.tensor(v) for k, v in c["outputs"].items()}
        loss, stats = CenterNetLoss(focal=focal_loss_with_logits_fused)(outputs, targets)
        for key in ("hm_loss", "wh_loss", "off_loss", "loss"):
            assert stats[key].item() == pytest.approx(float(c[key]), rel=1e-5), key
        assert torch.equal(
            stats["hm_loss"], focal_loss_with_logits_fused(outputs["hm"], targets["hm"])
        )


@pytest.mark.parametrize("focal", [focal_loss_with_logits, focal_loss_with_logits_fused])
def test_extremenet_loss_uses_the_focal_loss_it_is_given(focal):
    g = torch.Generator().manual_seed(4)
    outputs = {f"hm_{p}": torch.randn(1, 2, 12, 12, generator=g) for p in "tlbrc"}
    batch = {f"hm_{p}": torch.rand(1, 2, 12, 12, generator=g) ** 4 for p in "tlbrc"}
    _, stats = ExtremeNetLoss(off_weight=0, focal=focal)(outputs, batch)
    want = sum(focal(outputs[k], batch[k]) for k in outputs)
    assert torch.equal(stats["hm_loss"], want)


def test_the_training_losses_compute_the_plain_focal_loss_by_default():
    assert CenterNetLoss().focal is focal_loss_with_logits
    assert ExtremeNetLoss().focal is focal_loss_with_logits


@pytest.mark.parametrize(("alpha", "beta"), [(2, 4), (3, 2), (1, 1), (0.5, 3.5), (0, 0.5), (4, 8)])
def test_fused_equals_plain_terms_for_any_alpha_and_beta(alpha, beta):
    from centernet_edu import focal_loss_terms

    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 3, 9, 7, generator=g, dtype=torch.float64) * 5
    gt = torch.rand(2, 3, 9, 7, generator=g, dtype=torch.float64) ** 3
    gt[gt > 0.9] = 1

    def plain(x, y):
        return focal_loss_terms(x, y, alpha=alpha, beta=beta).sum() / y.eq(1).sum()

    def fused(x, y):
        return focal_loss_with_logits_fused(x, y, alpha=alpha, beta=beta)

    loss, grad = loss_and_grad(fused, logits, gt)
    want, want_grad = loss_and_grad(plain, logits, gt)
    torch.testing.assert_close(loss, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad, want_grad, rtol=1e-10, atol=1e-12)
    assert torch.autograd.gradcheck(lambda x: fused(x, gt), (logits.detach().requires_grad_(),))


@pytest.mark.parametrize("loss_cls", [CenterNetLoss, ExtremeNetLoss])
@pytest.mark.parametrize(("alpha", "beta"), [(2, 4), (3, 2)])
def test_training_losses_use_their_own_alpha_and_beta_in_both_forms(loss_cls, alpha, beta):
    from centernet_edu import encode_exdet

    if loss_cls is CenterNetLoss:
        t = encode_ctdet_batch(torch.tensor([[[2.0, 3, 9, 8]]]), torch.tensor([[1]]), 2, (12, 12))
        heads = ["hm", "wh", "reg"]
    else:
        t = encode_exdet([[5, 1, 2, 6, 6, 10, 10, 7]], [1], 2, (12, 12))
        t = {k: v[None] for k, v in t.items()}
        heads = [f"hm_{p}" for p in "tlbrc"] + [f"reg_{p}" for p in "tlbr"]
    g = torch.Generator().manual_seed(5)
    outputs = {k: torch.randn(1, 2, 12, 12, generator=g) for k in heads}
    fused = loss_cls(alpha=alpha, beta=beta, focal=focal_loss_with_logits_fused)
    plain = loss_cls(alpha=alpha, beta=beta)
    _, got = fused(outputs, t)
    _, want = plain(outputs, t)
    torch.testing.assert_close(got, want, rtol=2e-6, atol=1e-6)
    hm = [k for k in heads if k.startswith("hm")]
    want_hm = sum(focal_loss_with_logits(outputs[k], t[k], alpha, beta) for k in hm)
    torch.testing.assert_close(got["hm_loss"], want_hm, rtol=2e-6, atol=1e-6)
    if (alpha, beta) != (2, 4):  # the exponents reach the loss: it differs from the default
        _, default = loss_cls()(outputs, t)
        assert abs(float(default["hm_loss"]) - float(got["hm_loss"])) > 1e-3


def test_infinite_logits_give_nan_in_both_forms():
    # A finite loss with a NaN gradient would slip past a trainer's finiteness check.
    for x in (math.inf, -math.inf, math.nan):
        for y in (1.0, 0.5, 0.0):
            logits = torch.tensor([[[[x, 0.3]]]], requires_grad=True)
            gt = torch.tensor([[[[y, 1.0]]]])
            assert torch.isnan(focal_loss_with_logits(logits, gt)), (x, y)
            assert torch.isnan(focal_loss_with_logits_fused(logits, gt)), (x, y)


@pytest.mark.parametrize("fn", [focal_loss_with_logits, focal_loss_with_logits_fused])
@pytest.mark.parametrize("bad", [1.5, -0.25, math.nan])
def test_targets_outside_zero_one_are_refused(fn, bad):
    gt = torch.zeros(1, 2, 4, 4)
    gt[0, 1, 2, 3] = bad
    with pytest.raises(ValueError, match=r"gt must hold values in \[0, 1\], got values in"):
        fn(torch.zeros(1, 2, 4, 4), gt)


def test_exponents_are_checked():
    x, gt = torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match="beta must be a finite number > 0, got 0"):
        focal_loss_with_logits_fused(x, gt, beta=0)
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0, got -1"):
        CenterNetLoss(alpha=-1)
    with pytest.raises(ValueError, match=r"focal must be a function \(logits, gt, alpha, beta\)"):
        ExtremeNetLoss(focal="fused")
