"""Bad input to the losses and the decoders: one row per refused case (an id, a call, a
pattern its message must match, naming the argument at fault), then the cases whose
answer is a right result rather than an error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import centernet_edu as ce

NAN, INF = float("nan"), float("inf")


def P_(B=1, C=2, H=8, W=8, v=0.3, dtype=torch.float32):
    return torch.full((B, C, H, W), v, dtype=dtype)


def hm_gt(B=1, C=2, H=8, W=8):
    g = torch.zeros(B, C, H, W)
    g[:, 0, 3, 3] = 1.0
    g[:, 0, 3, 4] = 0.6
    return g


def ctdet_batch(B=1, C=3, H=16, W=16):
    t = ce.encode_ctdet([[2, 3, 12.5, 10]], [0], C, (H, W))
    return {k: torch.stack([v] * B) for k, v in t.items()}


def ctdet_outputs(B=1, C=3, H=16, W=16):
    return {k: torch.zeros(B, c, H, W) for k, c in (("hm", C), ("wh", 2), ("reg", 2))}


def exdet_batch(B=1, C=3, H=16, W=16):
    t = ce.encode_exdet([[5, 2, 2, 6, 6, 10, 10, 5]], [0], C, (H, W))
    return {k: torch.stack([v] * B) for k, v in t.items()}


def exdet_outputs(B=1, C=3, H=16, W=16):
    o = {f"hm_{p}": torch.zeros(B, C, H, W) for p in "tlbrc"}
    o.update({f"reg_{p}": torch.zeros(B, 2, H, W) for p in "tlbr"})
    return o


def cl_out(**changes):
    return ce.CenterNetLoss()(dict(ctdet_outputs(), **changes), ctdet_batch())


def cl_bat(**changes):
    return ce.CenterNetLoss()(ctdet_outputs(), dict(ctdet_batch(), **changes))


def xl_out(**changes):
    return ce.ExtremeNetLoss()(dict(exdet_outputs(), **changes), exdet_batch())


def xl_bat(**changes):
    return ce.ExtremeNetLoss()(exdet_outputs(), dict(exdet_batch(), **changes))


def RL(**changes):
    mask = torch.zeros(1, 4, dtype=torch.uint8)
    mask[:, 0] = 1
    ind = torch.zeros(1, 4, dtype=torch.long)
    ind[:, 0] = 9
    a = dict(output=torch.rand(1, 2, 8, 8), mask=mask, ind=ind, target=torch.zeros(1, 4, 2))
    a.update(changes)
    return ce.reg_l1_loss(a["output"], a["mask"], a["ind"], a["target"])


def Hh(B=1, C=2, H=8, W=8):
    return torch.rand(B, C, H, W, generator=torch.Generator().manual_seed(2))


def Wh():
    return torch.full((1, 2, 8, 8), 3.0)


def Rg():
    return torch.full((1, 2, 8, 8), 0.25)


def EXO(**changes):
    g = torch.Generator().manual_seed(3)
    o = {f"hm_{p}": torch.rand(1, 2, 8, 8, generator=g) for p in "tlbrc"}
    o.update({f"reg_{p}": torch.zeros(1, 2, 8, 8) for p in "tlbr"})
    o.update(changes)
    return o


CS = ce.clamped_sigmoid
FAMILY = {
    "focal_loss_with_logits": ce.focal_loss_with_logits,
    "focal_loss_terms": ce.focal_loss_terms,
    "focal_loss_with_logits_fused": ce.focal_loss_with_logits_fused,
}

REFUSED = [
    ("cs-x-numpy", lambda: CS(np.zeros(3)), r"\bx\b"),
    ("cs-x-list", lambda: CS([0.0, 1.0]), r"\bx\b"),
    ("cs-x-none", lambda: CS(None), r"\bx\b"),
    ("cs-x-str", lambda: CS("x"), r"\bx\b"),
    ("cs-x-float", lambda: CS(0.5), r"\bx\b"),
    ("cs-x-complex", lambda: CS(torch.zeros(3, dtype=torch.complex64)), r"\bx\b"),
    ("cs-eps-str", lambda: CS(torch.zeros(3), "x"), "eps"),
    ("cs-eps-none", lambda: CS(torch.zeros(3), None), "eps"),
    ("cs-eps-tensor", lambda: CS(torch.zeros(3), torch.tensor([1e-4, 1e-4])), "eps"),
    ("fl-pred-complex", lambda: ce.focal_loss(P_().to(torch.complex64), hm_gt()), "pred"),
    ("fl-gt-bool", lambda: ce.focal_loss(P_(), hm_gt() == 1), r"\bgt\b"),
    ("rl-mask-negative", lambda: RL(mask=torch.full((1, 4), -1.0)), "mask"),
    ("rl-mask-nan", lambda: RL(mask=torch.full((1, 4), NAN)), "mask"),
    (
        "rl-output-complex",
        lambda: RL(output=torch.zeros(1, 2, 8, 8, dtype=torch.complex64)),
        "output",
    ),
    ("cl-hm-classes", lambda: cl_out(hm=torch.zeros(1, 2, 16, 16)), r"outputs\['hm'\]"),
    ("cl-hm-size", lambda: cl_out(hm=torch.zeros(1, 3, 8, 8)), r"outputs\['hm'\]"),
    (
        "cl-batch-2-vs-1",
        lambda: ce.CenterNetLoss()(ctdet_outputs(B=2), ctdet_batch(B=1)),
        r"batch\['hm'\]",
    ),
    ("cl-wh-3-channels", lambda: cl_out(wh=torch.zeros(1, 3, 16, 16)), r"outputs\['wh'\]"),
    ("cl-reg-8x8", lambda: cl_out(reg=torch.zeros(1, 2, 8, 8)), r"outputs\['reg'\]"),
    ("cl-hm-numpy", lambda: cl_out(hm=np.zeros((1, 3, 16, 16), np.float32)), r"outputs\['hm'\]"),
    ("cl-batch-wh-3", lambda: cl_bat(wh=torch.zeros(1, 128, 3)), r"batch\['wh'\]"),
    (
        "cl-unbatched-targets",
        lambda: ce.CenterNetLoss()(ctdet_outputs(), {k: v[0] for k, v in ctdet_batch().items()}),
        r"batch\['hm'\]",
    ),
    ("xl-hm_t-size", lambda: xl_out(hm_t=torch.zeros(1, 3, 8, 8)), r"outputs\['hm_t'\]"),
    (
        "xl-batch-2-vs-1",
        lambda: ce.ExtremeNetLoss()(exdet_outputs(B=2), exdet_batch()),
        r"batch\['hm_t'\]",
    ),
    ("xl-reg_r-3", lambda: xl_out(reg_r=torch.zeros(1, 3, 16, 16)), r"outputs\['reg_r'\]"),
    ("nms-heat-nan", lambda: ce.heatmap_nms(torch.full((1, 2, 8, 8), NAN)), "heat"),
    ("topk-scores-nan", lambda: ce.topk(torch.full((1, 2, 8, 8), NAN), 5), "scores"),
    ("dc-heat-nan", lambda: ce.decode_ctdet(torch.full((1, 2, 8, 8), NAN), Wh(), Rg(), 5), "heat"),
    ("dc-heat-logits", lambda: ce.decode_ctdet(Hh() * 10 - 5, Wh(), Rg(), 5), "heat"),
    (
        "dx-hm_t-nan",
        lambda: ce.decode_exdet(EXO(hm_t=torch.full((1, 2, 8, 8), NAN)), 4, 10),
        "hm_t",
    ),
    (
        "dx-hm_c-over-1",
        lambda: ce.decode_exdet(EXO(hm_c=torch.full((1, 2, 8, 8), 3.0)), 4, 10),
        "hm_c",
    ),
]

for _name, _f in FAMILY.items():
    REFUSED.append(
        (f"{_name}-logits-complex", lambda f=_f: f(P_().to(torch.complex64), hm_gt()), "logits")
    )
    for _arg, _bad in [("alpha", v) for v in (-1, NAN, "2", None, INF)] + [
        ("beta", v) for v in (-1, NAN, "4", None, INF)
    ]:
        REFUSED.append(
            (
                f"{_name}-{_arg}={_bad!r}",
                lambda f=_f, a=_arg, b=_bad: f(P_(), hm_gt(), **{a: b}),
                _arg,
            )
        )


@pytest.mark.parametrize("call, pattern", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused(call, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        call()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_clamped_sigmoid_half_precision_reaches_one_as_the_reference(dtype):
    """1 - 1e-4 rounds to 1 in half precision: the clamp lets Yhat = 1 through there,
    which chapter 3 shows; the docstring says so and points to the logits form."""
    y = CS(torch.tensor([30.0, -30.0], dtype=dtype))
    assert y.dtype == dtype
    assert float(y[0]) == 1.0 and float(y[1]) > 0
    assert "float16" in CS.__doc__ and "focal_loss_with_logits" in CS.__doc__


def test_clamped_sigmoid_float32_numbers_unchanged():
    x = torch.tensor([30.0, -30.0, 0.3, float("inf")])
    assert torch.equal(CS(x), torch.sigmoid(x).clamp(min=1e-4, max=1 - 1e-4))
    assert float(CS(torch.zeros(3), 0)[0]) == 0.5


@pytest.mark.parametrize("name", ["focal_loss_with_logits", "focal_loss_terms"])
def test_empty_tensors_give_zero(name):
    r = FAMILY[name](P_(B=0), hm_gt(B=0))
    assert float(r.sum()) == 0.0


def test_fused_refuses_beta_zero_and_says_why():
    with pytest.raises(ValueError, match=r"beta must be a finite number > 0, got 0: the fused"):
        ce.focal_loss_with_logits_fused(P_(), hm_gt(), alpha=0, beta=0)
    plain = ce.focal_loss_with_logits(P_(), hm_gt(), alpha=0, beta=0)
    assert math.isfinite(float(plain))


def test_training_losses_check_shapes_and_leave_values_to_the_public_functions():
    """A training step checks no values (that would wait for the device): a target above
    1 passes CenterNetLoss and ExtremeNetLoss, and the public functions refuse it."""
    hm = ctdet_batch()["hm"] * 3
    loss, _ = cl_bat(hm=hm)
    assert math.isfinite(float(loss))
    loss, _ = xl_bat(hm_c=exdet_batch()["hm_c"] * 2)
    assert math.isfinite(float(loss))
    with pytest.raises(ValueError, match=r"gt must hold values in \[0, 1\]"):
        ce.focal_loss_with_logits(ctdet_outputs()["hm"], hm)


def test_valid_calls_still_work():
    loss, _ = ce.CenterNetLoss()(ctdet_outputs(), ctdet_batch())
    assert math.isfinite(float(loss))
    loss, _ = ce.ExtremeNetLoss()(exdet_outputs(), exdet_batch())
    assert math.isfinite(float(loss))
    assert ce.decode_ctdet(Hh(), Wh(), Rg(), K=5).shape == (1, 5, 6)
    assert ce.decode_exdet(EXO(), K=4, num_dets=10).shape == (1, 10, 14)
    assert math.isfinite(float(RL(mask=torch.tensor([[True, False, False, False]]))))


def test_non_finite_sizes_and_offsets_pass_through_decoding_to_be_named_by_evaluate():
    dets = ce.decode_ctdet(Hh(), torch.full((1, 2, 8, 8), NAN), torch.full((1, 2, 8, 8), INF), 5)
    assert dets.shape == (1, 5, 6) and not torch.isfinite(dets[..., :4]).any()
