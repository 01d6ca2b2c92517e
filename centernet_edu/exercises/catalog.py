"""The exercises a class is graded on, in the book's order.

For each: the names a submission may answer it under (the package's name, then the
student edition's stub), how to build its checker's exercise and cases, and the package
functions a student may not call while it is graded: the function under test and its
relatives, which compute the same thing another way. Every other package function stays
available; a few exercises are meant to build on some (``builds_on``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .check_decode import exercise_decode_ctdet, exercise_heatmap_nms
from .check_decode_variants import exercise_group_agnostic, exercise_oracle_fill
from .check_encode import exercise_encode_ctdet
from .check_losses import exercise_focal_loss, exercise_focal_loss_with_logits, exercise_reg_l1_loss
from .check_losses_variants import exercise_focal_loss_per_image, exercise_norm_reg_l1_loss
from .check_targets import (
    draw_all,
    exercise_draw_gaussian,
    exercise_gaussian_radius,
)
from .check_targets_variants import (
    draw_each,
    exercise_boxes_from_targets,
    exercise_draw_elliptic_gaussian,
)
from .check_totals import build_and_call, exercise_centernet_loss, exercise_extreme_net_loss
from .check_totals_variants import exercise_dense_size_loss, exercise_stacked_centernet_loss
from .judge import Case, Exercise, plain_call

__all__ = ["Spec", "CATALOG", "spec"]

_FOCAL = (
    "losses:focal_loss",
    "losses:focal_loss_with_logits",
    "fast:focal_loss_with_logits_fused",
    "fast:focal_loss_fused",
    "losses:focal_loss_terms",
    "losses:_focal_loss",
    "losses:_focal_terms",
)


@dataclass(frozen=True)
class Spec:
    """One exercise of the class.

    ``build(seed)`` gives the checker's ``Exercise`` and its cases; ``blocked`` names the
    package functions (``"module:name"``, or ``"module:Class"`` for a class's
    ``__init__`` and ``forward``) unavailable while it is graded.
    """

    name: str
    names: tuple[str, ...]
    build: Callable[[int], tuple[Exercise, list[Case]]]
    blocked: tuple[str, ...]
    builds_on: tuple[str, ...] = ()
    invoke: Callable = plain_call  # the exercise's way to call a function on a case


CATALOG: dict[str, Spec] = {
    s.name: s
    for s in (
        Spec(
            "boxes_from_targets",
            ("boxes_from_targets", "my_boxes_from_targets"),
            exercise_boxes_from_targets,
            ("decode:decode_ctdet", "decode:decode_exdet"),
        ),
        Spec(
            "gaussian_radius",
            ("gaussian_radius", "my_gaussian_radius"),
            lambda seed: exercise_gaussian_radius("corrected", seed),
            ("heatmap:gaussian_radius",),
        ),
        Spec(
            "draw_gaussian",
            ("draw_gaussian", "my_draw_gaussian"),
            exercise_draw_gaussian,
            ("heatmap:draw_gaussian", "fast:render_gaussians"),
            invoke=draw_all,
        ),
        Spec(
            "encode_ctdet",
            ("encode_ctdet", "my_encode_ctdet"),
            exercise_encode_ctdet,
            ("targets:encode_ctdet", "targets:encode_exdet", "fast:encode_ctdet_batch"),
            ("gaussian_radius", "draw_gaussian"),
        ),
        Spec(
            "draw_elliptic_gaussian",
            ("draw_elliptic_gaussian", "my_draw_elliptic_gaussian"),
            exercise_draw_elliptic_gaussian,
            (),
            invoke=draw_each,
        ),
        Spec(
            "focal_loss",
            ("focal_loss", "my_focal_loss"),
            exercise_focal_loss,
            _FOCAL + ("losses:CenterNetLoss", "losses:ExtremeNetLoss"),
        ),
        Spec(
            "focal_loss_with_logits",
            ("focal_loss_with_logits", "my_focal_loss_with_logits"),
            exercise_focal_loss_with_logits,
            _FOCAL + ("losses:CenterNetLoss", "losses:ExtremeNetLoss"),
        ),
        Spec(
            "focal_loss_per_image",
            ("focal_loss_per_image", "my_focal_loss_per_image"),
            exercise_focal_loss_per_image,
            # the package's loss of one image at a time is the answer in a loop
            _FOCAL + ("losses:CenterNetLoss", "losses:ExtremeNetLoss"),
        ),
        Spec(
            "reg_l1_loss",
            ("reg_l1_loss", "my_reg_l1_loss"),
            exercise_reg_l1_loss,
            (
                "losses:reg_l1_loss",
                "losses:_reg_l1_loss",
                "losses:CenterNetLoss",
                "losses:ExtremeNetLoss",
            ),
        ),
        Spec(
            "norm_reg_l1_loss",
            ("norm_reg_l1_loss", "my_norm_reg_l1_loss"),
            exercise_norm_reg_l1_loss,
            (),
        ),
        Spec(
            "size_loss",
            ("my_size_loss",),
            exercise_reg_l1_loss,  # chapter 5: the L1 loss read at the centres, on sizes
            (
                "losses:reg_l1_loss",
                "losses:_reg_l1_loss",
                "losses:CenterNetLoss",
                "losses:ExtremeNetLoss",
            ),
        ),
        Spec(
            "dense_size_loss",
            ("dense_size_loss", "my_dense_size_loss"),
            exercise_dense_size_loss,
            (),  # no package function computes it
        ),
        Spec(
            "CenterNetLoss",
            ("CenterNetLoss", "my_centernet_loss"),
            exercise_centernet_loss,
            ("losses:CenterNetLoss", "losses:ExtremeNetLoss"),
            ("focal_loss", "focal_loss_with_logits", "reg_l1_loss"),
            invoke=build_and_call,
        ),
        Spec(
            "stacked_centernet_loss",
            ("stacked_centernet_loss", "my_stacked_centernet_loss"),
            exercise_stacked_centernet_loss,
            ("losses:CenterNetLoss", "losses:ExtremeNetLoss"),
            ("focal_loss", "focal_loss_with_logits", "reg_l1_loss"),
            invoke=build_and_call,
        ),
        Spec(
            "heatmap_nms",
            ("heatmap_nms", "my_heatmap_nms"),
            exercise_heatmap_nms,
            ("decode:heatmap_nms", "decode:_nms", "decode:decode_ctdet"),
        ),
        Spec(
            "decode_ctdet",
            ("decode_ctdet", "my_decode_ctdet"),
            exercise_decode_ctdet,
            ("decode:decode_ctdet", "decode:topk", "decode:decode_exdet"),
            ("heatmap_nms",),
        ),
        Spec(
            "oracle_fill",
            ("oracle_fill", "my_oracle_fill"),
            exercise_oracle_fill,
            ("oracle:flood_fill", "oracle:oracle_maps", "oracle:_fill_one"),
        ),
        Spec(
            "ExtremeNetLoss",
            ("ExtremeNetLoss", "my_extreme_net_loss"),
            exercise_extreme_net_loss,
            ("losses:ExtremeNetLoss", "losses:CenterNetLoss"),
            ("focal_loss", "focal_loss_with_logits", "reg_l1_loss"),
            invoke=build_and_call,
        ),
        Spec(
            "group_agnostic",
            ("group_agnostic", "my_group_agnostic"),
            exercise_group_agnostic,
            ("decode:decode_exdet", "decode:_group", "decode:_group_scores"),
        ),
    )
}


def spec(name: str) -> Spec:
    """The exercise called ``name``; ValueError naming the known ones otherwise."""
    try:
        return CATALOG[name]
    except KeyError:
        raise ValueError(f"no exercise {name!r}: the exercises are {', '.join(CATALOG)}") from None
