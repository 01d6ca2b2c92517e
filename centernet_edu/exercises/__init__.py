"""Exercises: grade your own implementation of each key piece against the package.

Each ``check_*`` function calls your function on targeted cases (objects at the borders,
empty images, overlapping objects, ties, huge logits, float32 and float64 inputs),
compares it with the package, and returns a ``Report``: printing it says how many cases
pass, the first that does not, in words, and a hint when the mistake is a classic one.

    >>> from centernet_edu.exercises import check_focal_loss
    >>> print(check_focal_loss(my_focal_loss))

What each checker calls (the package function of the same name is the answer, when there
is one; the variants of the original code and of later work have theirs in the chapters,
as collapsed worked solutions):

================================  =================================================================
``check_boxes_from_targets``      ``fn(wh, reg, ind, reg_mask, output_size) -> boxes (K, 4)``
``check_gaussian_radius``         ``fn(height, width, min_overlap) -> float``
``check_draw_gaussian``           ``fn(heatmap, center, radius) -> heatmap, drawn in place``
``check_encode_ctdet``            ``fn(boxes, labels, num_classes, output_size, max_objs) -> dict``
``check_draw_elliptic_gaussian``  ``fn(heatmap, center, radius_x, radius_y) -> heatmap, in place``
``check_focal_loss``              ``fn(pred, gt) -> loss``
``check_focal_loss_with_logits``  ``fn(logits, gt) -> loss``
``check_focal_loss_per_image``    ``fn(pred, gt) -> loss``, each image over its own N
``check_reg_l1_loss``             ``fn(output, mask, ind, target) -> loss``
``check_norm_reg_l1_loss``        ``fn(output, mask, ind, target) -> loss``, L1 of Ohat / O
``check_dense_size_loss``         ``fn(wh, dense_wh, dense_wh_mask) -> loss``, Gaussian-weighted L1
``check_centernet_loss``          ``fn(outputs, batch) -> loss, or (loss, stats)``
``check_stacked_centernet_loss``  ``fn(outputs_list, batch) -> loss``, terms averaged over stacks
``check_heatmap_nms``             ``fn(heat) -> peaks``
``check_decode_ctdet``            ``fn(heat, wh, reg, K) -> detections (B, K, 6)``
``check_oracle_fill``             ``fn(values, ind, height, width) -> maps (B, D, H, W)``
``check_extreme_net_loss``        ``fn(outputs, batch) -> loss, or (loss, stats)``
``check_group_agnostic``          ``fn(t, l, b, r, hm_c) -> (score, cls)``, each (K, K, K, K)
================================  =================================================================

A checker runs beside the student's code, which can change it: it is for learning. A
whole class is graded from the command line, where every verdict is computed in the
grader's own process and each submission runs isolated in a process of its own:
``python -m centernet_edu.exercises grade SUBMISSIONS --assignment A.toml --out DIR``
(see ``centernet_edu.exercises.grade`` and ``centernet_edu.exercises.assignment``).
"""

from .check_decode import check_decode_ctdet, check_heatmap_nms
from .check_decode_variants import check_group_agnostic, check_oracle_fill
from .check_encode import check_encode_ctdet
from .check_losses import check_focal_loss, check_focal_loss_with_logits, check_reg_l1_loss
from .check_losses_variants import check_focal_loss_per_image, check_norm_reg_l1_loss
from .check_targets import check_draw_gaussian, check_gaussian_radius
from .check_targets_variants import check_boxes_from_targets, check_draw_elliptic_gaussian
from .check_totals import check_centernet_loss, check_extreme_net_loss
from .check_totals_variants import check_dense_size_loss, check_stacked_centernet_loss
from .report import Report

__all__ = [
    "Report",
    "check_boxes_from_targets",
    "check_gaussian_radius",
    "check_draw_gaussian",
    "check_encode_ctdet",
    "check_draw_elliptic_gaussian",
    "check_focal_loss",
    "check_focal_loss_with_logits",
    "check_focal_loss_per_image",
    "check_reg_l1_loss",
    "check_norm_reg_l1_loss",
    "check_dense_size_loss",
    "check_centernet_loss",
    "check_stacked_centernet_loss",
    "check_heatmap_nms",
    "check_decode_ctdet",
    "check_oracle_fill",
    "check_extreme_net_loss",
    "check_group_agnostic",
]
