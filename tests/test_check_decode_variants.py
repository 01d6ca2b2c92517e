"""The checkers of chapter 8's oracle fill and chapter 9's class-agnostic grouping."""

from __future__ import annotations

import pytest
import torch

from centernet_edu.exercises import check_group_agnostic, check_oracle_fill
from centernet_edu.exercises.check_decode_variants import (
    _FILL_MISTAKES,
    _GROUP_MISTAKES,
    _agnostic,
    _fill,
    exercise_group_agnostic,
    exercise_oracle_fill,
)
from centernet_edu.oracle import flood_fill

CHECKS = [
    (check_oracle_fill, exercise_oracle_fill, _fill, _FILL_MISTAKES),
    (check_group_agnostic, exercise_group_agnostic, _agnostic, _GROUP_MISTAKES),
]
IDS = ["oracle_fill", "group_agnostic"]


def _float32_fill(values, ind, height, width):
    """The fill through a float32 buffer, as the original's ``gen_oracle_map``."""
    return _fill(values.float(), ind, height, width).to(values.dtype)


def _float32_group(t, l, b, r, hm_c):  # noqa: E741
    score, cls = _agnostic(t.float(), l.float(), b.float(), r.float(), hm_c.float())
    return score.to(hm_c.dtype), cls


@pytest.mark.parametrize("check, build, reference, mistakes", CHECKS, ids=IDS)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_reference_passes_every_seed(check, build, reference, mistakes, seed):
    report = check(reference, seed=seed)
    assert report.passed == report.total >= 7, report


@pytest.mark.parametrize("fn", [flood_fill, _float32_fill])
def test_the_package_fill_and_a_float32_fill_pass(fn):
    report = check_oracle_fill(fn)
    assert report.passed == report.total, report


def test_a_float32_grouping_passes():
    report = check_group_agnostic(_float32_group)
    assert report.passed == report.total, report


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_reference_fill_is_the_package_fill(seed):
    _, cases = exercise_oracle_fill(seed)
    for case in cases:
        assert torch.equal(_fill(*case.args), flood_fill(*case.args)), case.words


@pytest.mark.parametrize("check, build, reference, mistakes", CHECKS, ids=IDS)
def test_each_named_mistake_fails_with_its_hint(check, build, reference, mistakes):
    assert len(mistakes) >= 3
    for hint, mistaken in mistakes:
        report = check(mistaken)
        assert report.passed < report.total, hint
        assert report.hint == hint


def _raises(*args):
    raise RuntimeError("boom")


def _returns_none(*args):
    return None


def _nan_fill(values, ind, height, width):
    return torch.full_like(_fill(values, ind, height, width), float("nan"))


def _nan_group(*args):
    score, cls = _agnostic(*args)
    return torch.full_like(score, float("nan")), cls


@pytest.mark.parametrize(
    "check, nan", [(check_oracle_fill, _nan_fill), (check_group_agnostic, _nan_group)], ids=IDS
)
def test_errors_none_and_nan_are_reported(check, nan):
    for fn, words in [(_raises, "RuntimeError: boom"), (_returns_none, "None"), (nan, "NaN")]:
        report = check(fn)
        assert report.passed == 0 or fn is nan
        assert report.passed < report.total
        assert words in report.failures[0]


def test_the_stub_is_told_it_is_the_stub():
    def stub(*args):
        raise NotImplementedError("write it")

    for check in (check_oracle_fill, check_group_agnostic):
        report = check(stub)
        assert report.passed == 0 and "still the stub" in report.hint


def test_a_wrong_pair_is_reported():
    report = check_group_agnostic(lambda *args: _agnostic(*args)[0])
    assert report.passed == 0 and "pair (score, cls)" in report.failures[0]


@pytest.mark.parametrize("check, build, reference, mistakes", CHECKS, ids=IDS)
def test_cases_are_deterministic_and_depend_on_the_seed(check, build, reference, mistakes):
    def outputs(seed):
        return [reference(*case.args) for case in build(seed)[1]]

    def same(a, b):
        flat = [
            (x, y) for u, v in zip(a, b, strict=True) for x, y in zip(*_pairs(u, v), strict=True)
        ]
        return all(x.shape == y.shape and torch.equal(x, y) for x, y in flat)

    assert same(outputs(0), outputs(0))
    assert not same(outputs(0), outputs(1)) or not same(outputs(0), outputs(2))


def _pairs(u, v):
    return (u, v) if isinstance(u, tuple) else ((u,), (v,))


def test_a_changed_input_is_reported():
    def in_place(values, ind, height, width):
        out = _fill(values, ind, height, width)
        values.zero_()
        return out

    report = check_oracle_fill(in_place)
    assert report.passed < report.total and "changed its input" in report.failures[0]


def test_the_shipped_extreme_point_model_matches_the_centre_models_schedule():
    """Chapter 9 groups the shipped extreme-point model's heads; it was trained at the
    centre model's steps, so the two compare at equal steps."""
    from centernet_edu.pretrained import shapes_exdet_model, shapes_exdet_run, shapes_run

    model = shapes_exdet_model()
    assert model.extreme and not model.training
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 32, 32))
    assert {f"hm_{p}" for p in "tlbrc"} <= set(out) and out["hm_c"].shape == (1, 5, 8, 8)
    ex, ct = shapes_exdet_run(), shapes_run()
    assert [c["step"] for c in ex["curve"]] == [c["step"] for c in ct["curve"]]
    for flag in ("--steps 800", "--batch-size 32", "--lr 0.002", "--seed 0"):
        assert flag in ex["command"] and flag in ct["command"]
