"""Every reference case of the original CenterNet code, reproduced by the package."""

import numpy as np
import pytest
import torch
from conftest import t

import centernet_edu as ce

ATOL = 1e-6
RTOL_LOSS = 1e-5


def test_reference_file_has_every_kind(reference):
    assert set(reference) == {
        "gaussian_radius",
        "draw_gaussian",
        "ctdet_targets",
        "focal_loss",
        "reg_l1_loss",
        "decode",
        "ctdet_loss",
        "exdet",
    }
    assert all(len(cases) > 0 for cases in reference.values())


def test_gaussian_radius(reference):
    for case in reference["gaussian_radius"]:
        r = ce.gaussian_radius(case["height"], case["width"], case["min_overlap"])
        assert r == pytest.approx(case["radius"], abs=ATOL)


def test_gaussian_radius_vectorised(reference):
    cases = reference["gaussian_radius"]
    for o in {c["min_overlap"] for c in cases}:
        sub = [c for c in cases if c["min_overlap"] == o]
        h = np.array([c["height"] for c in sub])
        w = np.array([c["width"] for c in sub])
        want = np.array([c["radius"] for c in sub])
        np.testing.assert_allclose(ce.gaussian_radius(h, w, o), want, rtol=0, atol=ATOL)
        got = ce.gaussian_radius(torch.from_numpy(h), torch.from_numpy(w), o)
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=ATOL)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_draw_gaussian(reference, backend):
    for case in reference["draw_gaussian"]:
        shape = (case["height"], case["width"])
        hm = np.zeros(shape, np.float32) if backend == "numpy" else torch.zeros(shape)
        for d in case["draws"]:
            out = ce.draw_gaussian(hm, d["center"], d["radius"], d["k"])
            assert out is hm
        np.testing.assert_allclose(np.asarray(hm), case["heatmap"], rtol=0, atol=ATOL)


def test_ctdet_targets(reference):
    for case in reference["ctdet_targets"]:
        got = ce.encode_ctdet(
            case["boxes"],
            case["labels"],
            case["num_classes"],
            (case["height"], case["width"]),
            case["max_objs"],
        )
        assert got["hm"].dtype == torch.float32 and got["ind"].dtype == torch.int64
        assert got["reg_mask"].dtype == torch.uint8
        for key in ("hm", "wh", "reg"):
            np.testing.assert_allclose(got[key].numpy(), case[key], rtol=0, atol=ATOL)
        np.testing.assert_array_equal(got["ind"].numpy(), case["ind"])
        np.testing.assert_array_equal(got["reg_mask"].numpy(), case["reg_mask"])


def test_focal_loss_on_clamped_probabilities(reference):
    for case in reference["focal_loss"]:
        loss = ce.focal_loss(ce.clamped_sigmoid(t(case["logits"])), t(case["gt"]))
        assert loss.item() == pytest.approx(case["loss"], rel=RTOL_LOSS)


def test_focal_loss_with_logits_where_clamp_is_harmless(reference):
    # The clamp matters where it lifts a positive off 0 or holds any pixel below 1: there
    # the logit form is right and the reference is not. Where it only lifts negatives off 0,
    # each term changes by under 1e-8 and both must agree.
    checked = 0
    for case in reference["focal_loss"]:
        logits, gt = t(case["logits"]), t(case["gt"])
        p = torch.sigmoid(logits)
        if bool(((p > 1 - 1e-4) | ((p < 1e-4) & (gt == 1))).any()):
            continue
        loss = ce.focal_loss_with_logits(logits, gt)
        assert loss.item() == pytest.approx(case["loss"], rel=RTOL_LOSS)
        checked += 1
    assert checked >= 2


def test_focal_loss_kinds_present(reference):
    kinds = {c["kind"] for c in reference["focal_loss"]}
    assert kinds == {"moderate", "extreme", "empty"}


def test_reg_l1_loss(reference):
    for case in reference["reg_l1_loss"]:
        loss = ce.reg_l1_loss(
            t(case["output"]), t(case["mask"]), t(case["ind"], torch.int64), t(case["target"])
        )
        assert loss.item() == pytest.approx(case["loss"], rel=RTOL_LOSS)


def test_decode(reference):
    for case in reference["decode"]:
        reg = None if case["reg"] is None else t(case["reg"])
        det = ce.decode_ctdet(t(case["heat"]), t(case["wh"]), reg, K=case["K"])
        np.testing.assert_allclose(det.numpy(), case["detections"], rtol=0, atol=1e-5)


def _batched(targets: dict) -> dict:
    return {k: v.unsqueeze(0) for k, v in targets.items()}


def test_ctdet_loss(reference):
    for case in reference["ctdet_loss"]:
        tc = reference["ctdet_targets"][case["target_case"]]
        targets = ce.encode_ctdet(
            tc["boxes"],
            tc["labels"],
            tc["num_classes"],
            (tc["height"], tc["width"]),
            tc["max_objs"],
        )
        outputs = {k: t(v) for k, v in case["outputs"].items()}
        before = {k: v.clone() for k, v in outputs.items()}
        loss, stats = ce.CenterNetLoss(hm_weight=1, wh_weight=0.1, off_weight=1)(
            outputs, _batched(targets)
        )
        for key in ("loss", "hm_loss", "wh_loss", "off_loss"):
            assert stats[key].item() == pytest.approx(case[key], rel=RTOL_LOSS), key
        assert loss.item() == pytest.approx(case["loss"], rel=RTOL_LOSS)
        for k in outputs:  # the reference applies sigmoid_ in place; the package must not
            assert torch.equal(outputs[k], before[k])


def test_exdet_targets_and_loss(reference):
    for case in reference["exdet"]:
        points = np.asarray(case["extreme_points"], dtype=np.float32).reshape(-1, 8)
        targets = ce.encode_exdet(
            points,
            case["labels"],
            case["num_classes"],
            (case["size"], case["size"]),
            case["max_objs"],
        )
        for part in "tlbrc":
            np.testing.assert_allclose(
                targets[f"hm_{part}"].numpy(), case[f"hm_{part}"], rtol=0, atol=ATOL
            )
        for part in "tlbr":
            np.testing.assert_allclose(
                targets[f"reg_{part}"].numpy(), case[f"reg_{part}"], rtol=0, atol=ATOL
            )
            np.testing.assert_array_equal(targets[f"ind_{part}"].numpy(), case[f"ind_{part}"])
        np.testing.assert_array_equal(targets["reg_mask"].numpy(), case["reg_mask"])

        outputs = {k: t(v) for k, v in case["outputs"].items()}
        loss, stats = ce.ExtremeNetLoss()(outputs, _batched(targets))
        for key in ("loss", "hm_loss", "off_loss"):
            assert stats[key].item() == pytest.approx(case[key], rel=RTOL_LOSS, abs=1e-6), key
