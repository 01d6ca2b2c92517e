"""The checkers of the two transfer exercises on the losses: the focal loss normalised per
image (chapter 3) and the original code's NormRegL1Loss (chapter 4). Each passes its
reference, names the classic mistakes, reports broken functions, and is deterministic."""

import functools
import json

import pytest
import torch

from centernet_edu import focal_loss
from centernet_edu.exercises import channel, check_focal_loss_per_image, check_norm_reg_l1_loss
from centernet_edu.exercises import check_losses_variants as variants


def per_image_in_float32(pred, gt):
    """A correct answer that computes in float32 whatever comes in."""
    return variants._focal_per_image(pred.float(), gt.float())


def per_image_loop(pred, gt):
    """A correct answer written with a loop over the images."""
    losses = []
    for p, y in zip(pred, gt, strict=True):
        pos = y == 1
        terms = torch.where(
            pos, (1 - p) ** 2 * torch.log(p), (1 - y) ** 4 * p**2 * torch.log(1 - p)
        )
        losses.append(-terms.sum() / max(int(pos.sum()), 1))
    return torch.stack(losses).mean()


def norm_l1_boolean(output, mask, ind, target):
    """A correct answer that gathers with ``gather`` and masks by multiplying."""
    B, D, H, W = output.shape
    index = ind[:, None, :].expand(B, D, ind.shape[1])
    pred = output.reshape(B, D, H * W).gather(2, index).transpose(1, 2)
    m = mask[:, :, None].expand_as(pred).to(pred.dtype)
    return (pred / (target + 1e-4) * m - m).abs().sum() / (m.sum() + 1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_references_and_other_right_answers_pass_every_seed(seed):
    for fn in (variants._focal_per_image, per_image_loop, per_image_in_float32):
        report = check_focal_loss_per_image(fn, seed)
        assert report.ok, str(report)
    for fn in (variants._norm_l1, norm_l1_boolean):
        report = check_norm_reg_l1_loss(fn, seed)
        assert report.ok, str(report)
    assert str(check_norm_reg_l1_loss(norm_l1_boolean, seed)).endswith("Well done.")


def test_a_float32_answer_passes_with_a_note():
    report = check_focal_loss_per_image(per_image_in_float32)
    assert report.ok and report.notes and "float32" in report.notes[0]


def test_there_are_enough_targeted_cases():
    for build in (variants.exercise_focal_loss_per_image, variants.exercise_norm_reg_l1_loss):
        exercise, cases = build(0)
        assert len(cases) >= 7 and len(exercise.mistakes) >= 3


PER_IMAGE = functools.partial


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        (focal_loss, "the batch's N, as focal_loss does"),
        (PER_IMAGE(variants._focal_per_image, per="pixels"), "a mean over pixels"),
        (PER_IMAGE(variants._focal_per_image, empty="divide by zero"), "N_b = 0, and its sum / 0"),
        (PER_IMAGE(variants._focal_per_image, empty="zero"), "does not cost 0"),
        (PER_IMAGE(variants._focal_per_image, reduce="sum"), "not their sum"),
        (PER_IMAGE(variants._focal_per_image, sign=-1), "minus the sum"),
    ],
)
def test_each_per_image_mistake_fails_with_its_hint(mistake, words):
    report = check_focal_loss_per_image(mistake)
    assert not report.ok and words in (report.hint or ""), str(report)


def test_dividing_by_zero_is_reported_as_an_infinity_on_the_image_without_objects():
    report = check_focal_loss_per_image(
        PER_IMAGE(variants._focal_per_image, empty="divide by zero")
    )
    assert "an image without objects beside one with two: your loss is inf" in report.failures[0]


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        (PER_IMAGE(variants._norm_l1, flip=True), "divided the target by the prediction"),
        (PER_IMAGE(variants._norm_l1, per="objects"), "twice too large"),
        (PER_IMAGE(variants._norm_l1, eps=0.0), "inf * 0 = NaN"),
        (PER_IMAGE(variants._norm_l1, masked=False), "multiply by the mask"),
        (variants._transposed, "ind is y * W + x"),
    ],
)
def test_each_norm_l1_mistake_fails_with_its_hint(mistake, words):
    report = check_norm_reg_l1_loss(mistake)
    assert not report.ok and words in (report.hint or ""), str(report)


def test_the_hint_of_a_mistake_is_not_given_to_another_failure():
    def off_by_a_bit(output, mask, ind, target):
        return variants._norm_l1(output, mask, ind, target) * 1.01

    report = check_norm_reg_l1_loss(off_by_a_bit)
    assert not report.ok and report.hint is None


def broken(kind):
    def fn(*args):
        if kind == "raises":
            raise RuntimeError("boom")
        if kind == "nan":
            return torch.tensor(float("nan"), dtype=torch.float64)
        return None

    return fn


@pytest.mark.parametrize("check", [check_focal_loss_per_image, check_norm_reg_l1_loss])
def test_a_function_that_raises_returns_none_or_nan_is_reported(check):
    raised = check(broken("raises"))
    assert raised.passed == 0 and "raised RuntimeError: boom" in raised.failures[0]
    none = check(broken("none"))
    assert none.passed == 0 and "returned None" in none.failures[0]
    nan = check(broken("nan"))
    assert not nan.ok and "NaN" in nan.failures[-1]
    assert "not yet" in str(check("not a function"))


@pytest.mark.parametrize(
    "build", [variants.exercise_focal_loss_per_image, variants.exercise_norm_reg_l1_loss]
)
def test_the_cases_are_deterministic_for_a_seed_and_differ_across_seeds(build):
    def flat(cases):
        return [a for c in cases for a in c.args]

    same = zip(flat(build(5)[1]), flat(build(5)[1]), strict=True)
    assert all(torch.equal(a, b) for a, b in same)
    other = zip(flat(build(0)[1]), flat(build(1)[1]), strict=True)
    assert not all(a.shape == b.shape and torch.equal(a, b) for a, b in other)
    words = [c.words for c in build(0)[1]]
    assert len(set(words)) == len(words)


def test_the_per_image_loss_differs_from_the_package_when_images_differ():
    _, cases = variants.exercise_focal_loss_per_image(0)
    differ = [
        c.words
        for c in cases
        if not torch.isclose(variants._focal_per_image(*c.args), focal_loss(*c.args))
    ]
    assert len(differ) >= 6


@pytest.mark.parametrize(
    "build", [variants.exercise_focal_loss_per_image, variants.exercise_norm_reg_l1_loss]
)
def test_the_cases_cross_the_class_graders_channel_unchanged(build):
    exercise, cases = build(2)
    for case in cases:
        back = channel.decode(json.loads(json.dumps(channel.encode(case.args))))
        for a, b in zip(case.args, back, strict=True):
            assert b.dtype == a.dtype and torch.equal(a, b)
        want = exercise.reference(*case.args)
        assert torch.isfinite(want) and want.dtype == case.args[0].dtype
