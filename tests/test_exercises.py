import math

import torch

from centernet_edu import (
    exercises,
    focal_loss,
    focal_loss_with_logits,
    gaussian_radius,
    reg_l1_loss,
)


def test_the_package_itself_passes_every_checker():
    assert exercises.check_focal_loss(focal_loss).ok
    assert exercises.check_focal_loss_with_logits(focal_loss_with_logits).ok
    assert exercises.check_reg_l1_loss(reg_l1_loss).ok
    r = exercises.check_gaussian_radius(
        lambda h, w, o: gaussian_radius(h, w, o, variant="corrected")
    )
    assert r.ok and str(r).endswith("Well done.")


def test_a_focal_loss_without_the_fallback_fails_on_the_empty_case():
    def no_fallback(pred, gt):
        pos = gt.eq(1)
        pos_loss = (torch.log(pred) * (1 - pred) ** 2)[pos].sum()
        neg_loss = (torch.log(1 - pred) * pred**2 * (1 - gt) ** 4)[~pos].sum()
        return -(pos_loss + neg_loss) / pos.sum()  # 0/0 when there are no positives

    report = exercises.check_focal_loss(no_fallback)
    assert not report.ok and report.passed == report.total - 1
    assert "case 0 (0 positives" in str(report)


def test_a_clamped_logit_loss_fails_on_huge_logits():
    def clamped(logits, gt):
        return focal_loss(torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4), gt)

    report = exercises.check_focal_loss_with_logits(clamped)
    assert not report and "huge logits" in report.failures[0]


def test_the_reference_radius_fails_the_corrected_check_and_errors_are_reported():
    report = exercises.check_gaussian_radius(lambda h, w, o: gaussian_radius(h, w, o))
    assert report.passed == 0 and "square 10 x 10" in report.failures[0]

    def broken(output, mask, ind, target):
        raise RuntimeError("not written yet")

    report = exercises.check_reg_l1_loss(broken)
    assert report.passed == 0 and "raised RuntimeError: not written yet" in str(report)


def test_a_radius_with_the_right_roots_passes():
    def corrected(h, w, o):
        r1 = ((h + w) - math.sqrt((h + w) ** 2 - 4 * h * w * (1 - o) / (1 + o))) / 2
        r2 = (2 * (h + w) - math.sqrt(4 * (h + w) ** 2 - 16 * (1 - o) * h * w)) / 8
        r3 = (-2 * o * (h + w) + math.sqrt(4 * o**2 * (h + w) ** 2 + 16 * o * (1 - o) * h * w)) / (
            8 * o
        )
        return min(r1, r2, r3)

    assert exercises.check_gaussian_radius(corrected).ok
