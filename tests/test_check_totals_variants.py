"""The checkers of the two transfer exercises on the totals: the original code's dense size
loss (``--dense_wh``, chapter 5) and the loss of a stacked model (chapter 6). Each passes
its reference and other right answers, names the classic mistakes, reports broken
functions, and is deterministic for a seed."""

import functools

import pytest
import torch

from centernet_edu import CenterNetLoss, clamped_sigmoid, focal_loss, reg_l1_loss
from centernet_edu.exercises import check_dense_size_loss, check_stacked_centernet_loss
from centernet_edu.exercises import check_totals_variants as variants


def dense_with_l1_loss(wh, dense_wh, dense_wh_mask):
    """A right answer through torch's L1 loss, summed."""
    err = torch.nn.functional.l1_loss(wh * dense_wh_mask, dense_wh * dense_wh_mask, reduction="sum")
    return err / (dense_wh_mask.sum() + 1e-4)


def dense_in_float32(wh, dense_wh, dense_wh_mask):
    """A right answer that computes in float32 whatever comes in."""
    return variants._dense_size_loss(wh.float(), dense_wh.float(), dense_wh_mask.float())


def stacked_with_centernet_loss(outputs_list, batch):
    """A right answer: L_det is linear, so the mean of each stack's L_det is the same."""
    losses = [CenterNetLoss()(o, batch)[0] for o in outputs_list]
    return sum(losses) / len(losses)


class StackedLoss(torch.nn.Module):
    """A right answer written as the original's CtdetLoss is: a module with a loop over
    the stacks, returning (loss, stats); the sigmoid is clamped, never in place."""

    def forward(self, outputs_list, batch):
        S, at = len(outputs_list), (batch["reg_mask"], batch["ind"])
        hm = wh = off = 0
        for o in outputs_list:
            hm = hm + focal_loss(clamped_sigmoid(o["hm"]), batch["hm"]) / S
            wh = wh + reg_l1_loss(o["wh"], *at, batch["wh"]) / S
            off = off + reg_l1_loss(o["reg"], *at, batch["reg"]) / S
        loss = hm + 0.1 * wh + off
        return loss, {"loss": loss, "hm_loss": hm, "wh_loss": wh, "off_loss": off}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_references_and_other_right_answers_pass_every_seed(seed):
    for fn in (variants._dense_size_loss, dense_with_l1_loss):
        report = check_dense_size_loss(fn, seed)
        assert report.ok and not report.notes, str(report)
    for fn in (variants._stacked_loss, stacked_with_centernet_loss, StackedLoss):
        report = check_stacked_centernet_loss(fn, seed)
        assert report.ok, str(report)
    assert str(check_stacked_centernet_loss(StackedLoss, seed)).endswith("Well done.")


def test_a_float32_answer_passes():
    # judged at float32 precision where it returns float32 for float64 inputs
    report = check_dense_size_loss(dense_in_float32)
    assert report.ok, str(report)
    assert all("float32" in note for note in report.notes)


def test_there_are_enough_targeted_cases():
    for build in (variants.exercise_dense_size_loss, variants.exercise_stacked_centernet_loss):
        exercise, cases = build(0)
        assert len(cases) >= 7 and len(exercise.mistakes) >= 3
        dtypes = {
            leaf.dtype for c in cases for leaf in _tensors(c.args) if leaf.is_floating_point()
        }
        assert dtypes == {torch.float32, torch.float64}


def _tensors(x):
    if isinstance(x, torch.Tensor):
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from _tensors(v)
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _tensors(v)


DENSE = functools.partial(functools.partial, variants._dense_size_loss)
STACKED = functools.partial(functools.partial, variants._stacked_loss)


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        (DENSE(per="pixels"), "not by the number of pixels"),
        (DENSE(masked="target"), "multiply the prediction by the mask too"),
        (DENSE(per="objects"), "not by the number of objects"),
        (DENSE(per="one channel"), "sums both channels"),
        (DENSE(square=True), "not squares"),
        (lambda wh, t, m: variants._dense_size_loss(wh, t, (m > 0).double()), "not its nonzero"),
    ],
)
def test_each_dense_mistake_fails_with_its_hint(mistake, words):
    report = check_dense_size_loss(mistake)
    assert not report.ok and words in (report.hint or ""), str(report)


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        (STACKED(per=1), "your loss grows with the number of stacks"),
        (STACKED(stacks=[-1]), "not only the last"),
        (STACKED(stacks=[0]), "not only the first"),
        (STACKED(wh_w=1.0), "the size term is weighted by 0.1"),
        (STACKED(wh_w=1.0, off_w=0.1), "not the other way round"),
    ],
)
def test_each_stacked_mistake_fails_with_its_hint(mistake, words):
    report = check_stacked_centernet_loss(mistake)
    assert not report.ok and words in (report.hint or ""), str(report)


def test_a_stacked_loss_that_changes_its_outputs_is_told_of_sigmoid_():
    def in_place(outputs_list, batch):
        for o in outputs_list:
            o["hm"].sigmoid_()
        return variants._stacked_loss(outputs_list, batch)

    report = check_stacked_centernet_loss(in_place)
    assert not report.ok and "changed its input" in report.failures[0]
    assert "sigmoid_" in report.hint


def _raises(*args):
    raise RuntimeError("shapes do not match")


def _returns_none(*args):
    return None


def _returns_nan(*args):
    return torch.tensor(float("nan"), dtype=torch.float64)


@pytest.mark.parametrize("check", [check_dense_size_loss, check_stacked_centernet_loss])
def test_broken_functions_are_reported(check):
    report = check(_raises)
    assert report.passed == 0 and "raised RuntimeError: shapes do not match" in report.failures[0]
    report = check(_returns_none)
    assert report.passed == 0 and "returned None" in report.failures[0]
    report = check(_returns_nan)
    assert report.passed == 0 and "NaN" in report.failures[0]
    assert "0 / 0" in report.hint or "1e-4" in report.hint  # the empty batch's hint
    stub = check(lambda *a: (_ for _ in ()).throw(NotImplementedError("write it")))
    assert "0/" in str(stub) and "still the stub" in str(stub)
    assert "the checker needs your function itself" in check(1.5).failures[0]


@pytest.mark.parametrize(
    "build", [variants.exercise_dense_size_loss, variants.exercise_stacked_centernet_loss]
)
def test_the_cases_are_deterministic_for_a_seed_and_differ_across_seeds(build):
    def leaves(seed):
        return [t for c in build(seed)[1] for t in _tensors(c.args)]

    first, again, other = leaves(0), leaves(0), leaves(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(
        a.shape == b.shape and torch.equal(a, b) for a, b in zip(first, other, strict=True)
    )
    exercise, cases = build(5)
    want = [exercise.invoke(exercise.reference, c.args) for c in cases]
    assert all(torch.isfinite(w).all() for w in want)


def test_the_reference_losses_hold_what_they_claim():
    # A single stack is the plain L_det; a 0/1 mask makes the dense loss the mean L1
    # over the masked numbers.
    exercise, cases = variants.exercise_stacked_centernet_loss(0)
    outputs_list, batch = cases[0].args
    assert len(outputs_list) == 1
    plain = CenterNetLoss()(outputs_list[0], batch)[0]
    torch.testing.assert_close(variants._stacked_loss(outputs_list, batch), plain)
    wh, dense, mask = next(
        c.args for c in variants.exercise_dense_size_loss(0)[1] if "hard" in c.words
    )
    inside = mask.bool()
    torch.testing.assert_close(
        variants._dense_size_loss(wh, dense, mask),
        (wh[inside] - dense[inside]).abs().sum() / (inside.sum() + 1e-4),
    )
    with pytest.raises(ValueError, match="per must be"):
        variants._dense_size_loss(wh, dense, mask, per="images")
