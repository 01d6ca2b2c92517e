"""Bad input to every public function of the core: the exact error, naming what is wrong.

One row per case: an id, a call, the error type and a pattern its message must match.
The pattern always names the argument (or the item) at fault. The command line, the
trainer and the data sets have their own tables (``test_bad_inputs_train.py``,
``test_bad_inputs_data.py``).
"""

import math

import numpy as np
import pytest
import torch

import centernet_edu as ce

nan, inf = math.nan, math.inf
Z = torch.zeros


def ctdet_batch(**changes):
    t = ce.encode_ctdet([[1, 1, 6, 7]], [0], 2, (8, 8), max_objs=3)
    batch = {k: v[None] for k, v in t.items()}
    return batch | changes


def ctdet_outputs(**changes):
    return {"hm": Z(1, 2, 8, 8), "wh": Z(1, 2, 8, 8), "reg": Z(1, 2, 8, 8)} | changes


def exdet_heads(**changes):
    return {f"hm_{p}": Z(1, 2, 8, 8) for p in "tlbrc"} | changes


CASES = [
    # gaussian_radius
    (
        "radius: negative height",
        lambda: ce.gaussian_radius(-1, 4),
        "height must be finite and >= 0",
    ),
    ("radius: NaN width", lambda: ce.gaussian_radius(4, nan), "width must be finite and >= 0"),
    ("radius: infinite width", lambda: ce.gaussian_radius(4, inf), "width must be finite and >= 0"),
    ("radius: string height", lambda: ce.gaussian_radius("4", 4), "height must be finite and >= 0"),
    (
        "radius: NaN in an array",
        lambda: ce.gaussian_radius(np.array([1.0, nan]), np.ones(2)),
        "height must be finite and >= 0",
    ),
    (
        "radius: negative tensor",
        lambda: ce.gaussian_radius(torch.tensor([-2.0]), torch.ones(1)),
        "height must be finite and >= 0",
    ),
    (
        "radius: overlap 0",
        lambda: ce.gaussian_radius(4, 4, 0),
        r"min_overlap must be a number in \(0, 1\), got 0",
    ),
    (
        "radius: overlap 1",
        lambda: ce.gaussian_radius(4, 4, 1.0),
        r"min_overlap must be a number in \(0, 1\), got 1.0",
    ),
    (
        "radius: overlap NaN",
        lambda: ce.gaussian_radius(4, 4, nan),
        r"min_overlap must be a number in \(0, 1\)",
    ),
    (
        "radius: overlap True",
        lambda: ce.gaussian_radius(4, 4, True),
        r"min_overlap must be a number in \(0, 1\), got True",
    ),
    (
        "radius: unknown variant",
        lambda: ce.gaussian_radius(4, 4, variant="cornernet"),
        r"variant must be one of \('centernet', 'corrected'\), got 'cornernet'",
    ),
    # gaussian_2d
    ("gaussian_2d: one side", lambda: ce.gaussian_2d((3,)), "shape must be two positive integers"),
    (
        "gaussian_2d: zero side",
        lambda: ce.gaussian_2d((0, 3)),
        "shape must be two positive integers",
    ),
    (
        "gaussian_2d: fractional side",
        lambda: ce.gaussian_2d((2.5, 3)),
        "shape must be two positive integers",
    ),
    ("gaussian_2d: not a pair", lambda: ce.gaussian_2d(3), "shape must be two positive integers"),
    (
        "gaussian_2d: sigma 0",
        lambda: ce.gaussian_2d((3, 3), 0),
        "sigma must be a finite number > 0, got 0",
    ),
    (
        "gaussian_2d: sigma inf",
        lambda: ce.gaussian_2d((3, 3), inf),
        "sigma must be a finite number > 0, got inf",
    ),
    # draw_gaussian
    (
        "draw: 3-D map",
        lambda: ce.draw_gaussian(np.zeros((1, 4, 4)), (1, 1), 1),
        r"heatmap must be a 2-D numpy array or torch tensor \(H, W\), got \(1, 4, 4\)",
    ),
    (
        "draw: a list",
        lambda: ce.draw_gaussian([[0.0]], (0, 0), 1),
        "heatmap must be a 2-D numpy array or torch tensor",
    ),
    (
        "draw: integer map",
        lambda: ce.draw_gaussian(np.zeros((4, 4), dtype=np.int32), (1, 1), 1),
        "heatmap must have a floating-point dtype, got int32",
    ),
    (
        "draw: bool tensor",
        lambda: ce.draw_gaussian(Z(4, 4, dtype=torch.bool), (1, 1), 1),
        "heatmap must have a floating-point dtype, got torch.bool",
    ),
    (
        "draw: negative radius",
        lambda: ce.draw_gaussian(np.zeros((4, 4)), (1, 1), -1),
        "radius must be a non-negative integer, got -1",
    ),
    (
        "draw: fractional radius",
        lambda: ce.draw_gaussian(np.zeros((4, 4)), (1, 1), 1.5),
        "radius must be a non-negative integer, got 1.5",
    ),
    (
        "draw: NaN radius",
        lambda: ce.draw_gaussian(np.zeros((4, 4)), (1, 1), nan),
        "radius must be a non-negative integer, got nan",
    ),
    (
        "draw: bool radius",
        lambda: ce.draw_gaussian(np.zeros((4, 4)), (1, 1), True),
        "radius must be a non-negative integer, got True",
    ),
    (
        "draw: NaN centre",
        lambda: ce.draw_gaussian(np.zeros((4, 4)), (nan, 1), 1),
        r"center must be two finite numbers \(x, y\)",
    ),
    (
        "draw: three coordinates",
        lambda: ce.draw_gaussian(np.zeros((4, 4)), (1, 1, 1), 1),
        r"center must be two finite numbers \(x, y\)",
    ),
    (
        "draw: text centre",
        lambda: ce.draw_gaussian(np.zeros((4, 4)), ("a", 1), 1),
        r"center must be two finite numbers \(x, y\)",
    ),
    # render_gaussians
    (
        "render: shape of two",
        lambda: ce.render_gaussians(
            (4, 4), Z(0, dtype=torch.long), Z(0, 2, dtype=torch.long), Z(0, dtype=torch.long)
        ),
        r"shape must be three non-negative integers \(num_maps, H, W\)",
    ),
    (
        "render: float centres",
        lambda: ce.render_gaussians(
            (1, 4, 4), Z(1, dtype=torch.long), Z(1, 2), Z(1, dtype=torch.long)
        ),
        "centers must be a 2-D integer tensor",
    ),
    (
        "render: K disagrees",
        lambda: ce.render_gaussians(
            (1, 4, 4), Z(2, dtype=torch.long), Z(1, 2, dtype=torch.long), Z(1, dtype=torch.long)
        ),
        "maps .* and radii .* must agree in K",
    ),
    (
        "render: centre off the map",
        lambda: ce.render_gaussians(
            (1, 4, 4), Z(1, dtype=torch.long), torch.tensor([[4, 0]]), Z(1, dtype=torch.long)
        ),
        r"centres inside the 4 x 4 map, got it wrong for Gaussians \[0\]",
    ),
    (
        "render: map index too large",
        lambda: ce.render_gaussians(
            (1, 4, 4), torch.tensor([1]), Z(1, 2, dtype=torch.long), Z(1, dtype=torch.long)
        ),
        r"maps in \[0, 1\)",
    ),
    # encode_ctdet
    (
        "ctdet: boxes of 3",
        lambda: ce.encode_ctdet([[0, 0, 1]], [0], 2, (8, 8)),
        r"boxes must have shape \(N, 4\) as x1, y1, x2, y2, got \(1, 3\)",
    ),
    (
        "ctdet: text boxes",
        lambda: ce.encode_ctdet([["a", 0, 1, 1]], [0], 2, (8, 8)),
        "boxes must be numeric",
    ),
    (
        "ctdet: NaN box",
        lambda: ce.encode_ctdet([[0, 0, nan, 1]], [0], 2, (8, 8)),
        r"boxes must be finite, got NaN or infinity in boxes \[0\]",
    ),
    (
        "ctdet: inverted box",
        lambda: ce.encode_ctdet([[0, 0, 1, 1], [5, 0, 2, 3]], [0, 1], 2, (8, 8)),
        r"boxes need x1 <= x2 and y1 <= y2, got .* \(boxes \[1\]\)",
    ),
    (
        "ctdet: label out of range",
        lambda: ce.encode_ctdet([[0, 0, 1, 1]], [2], 2, (8, 8)),
        r"labels must lie in \[0, 2\), got \[2\]",
    ),
    (
        "ctdet: negative label",
        lambda: ce.encode_ctdet([[0, 0, 1, 1]], [-1], 2, (8, 8)),
        r"labels must lie in \[0, 2\), got \[-1\]",
    ),
    (
        "ctdet: fractional label",
        lambda: ce.encode_ctdet([[0, 0, 1, 1]], [0.5], 2, (8, 8)),
        "labels must be integers",
    ),
    (
        "ctdet: labels too few",
        lambda: ce.encode_ctdet([[0, 0, 1, 1]], [], 2, (8, 8)),
        r"labels must have shape \(1,\) to match the objects",
    ),
    (
        "ctdet: zero classes",
        lambda: ce.encode_ctdet([[0, 0, 1, 1]], [0], 0, (8, 8)),
        "num_classes must be a positive integer, got 0",
    ),
    (
        "ctdet: bool classes",
        lambda: ce.encode_ctdet([[0, 0, 1, 1]], [0], True, (8, 8)),
        "num_classes must be a positive integer, got True",
    ),
    (
        "ctdet: output size of one",
        lambda: ce.encode_ctdet([[0, 0, 1, 1]], [0], 2, (8,)),
        r"output_size must be two positive integers \(H, W\)",
    ),
    (
        "ctdet: output size zero",
        lambda: ce.encode_ctdet([[0, 0, 1, 1]], [0], 2, (8, 0)),
        r"output_size must be two positive integers \(H, W\)",
    ),
    (
        "ctdet: output size None",
        lambda: ce.encode_ctdet([[0, 0, 1, 1]], [0], 2, None),
        r"output_size must be two positive integers \(H, W\), got None",
    ),
    (
        "ctdet: negative max_objs",
        lambda: ce.encode_ctdet([[0, 0, 1, 1]], [0], 2, (8, 8), -1),
        "max_objs must be a non-negative integer, got -1",
    ),
    # encode_ctdet_batch
    (
        "ctdet batch: 2-D boxes",
        lambda: ce.encode_ctdet_batch(Z(2, 4), Z(2, dtype=torch.long), 2, (8, 8)),
        r"boxes must have shape \(B, N, 4\)",
    ),
    (
        "ctdet batch: labels shape",
        lambda: ce.encode_ctdet_batch(Z(1, 2, 4), Z(1, 3, dtype=torch.long), 2, (8, 8)),
        r"labels must have shape \(1, 2\) to match the boxes",
    ),
    (
        "ctdet batch: label too large",
        lambda: ce.encode_ctdet_batch(
            torch.tensor([[[0.0, 0, 1, 1]]]), torch.tensor([[5]]), 2, (8, 8)
        ),
        r"labels must lie in \[0, 2\), or be -1 for padding",
    ),
    (
        "ctdet batch: box after padding",
        lambda: ce.encode_ctdet_batch(Z(1, 2, 4), torch.tensor([[-1, 0]]), 2, (8, 8)),
        "padding .* must come after the real boxes",
    ),
    (
        "ctdet batch: NaN box",
        lambda: ce.encode_ctdet_batch(
            torch.tensor([[[0.0, 0, nan, 1]]]), torch.tensor([[0]]), 2, (8, 8)
        ),
        r"boxes must be finite, got NaN or infinity in \(image, box\) \[\[0, 0\]\]",
    ),
    (
        "ctdet batch: inverted box",
        lambda: ce.encode_ctdet_batch(
            torch.tensor([[[3.0, 0, 1, 1]]]), torch.tensor([[0]]), 2, (8, 8)
        ),
        "boxes need x1 <= x2 and y1 <= y2",
    ),
    (
        "ctdet batch: zero classes",
        lambda: ce.encode_ctdet_batch(Z(1, 1, 4), Z(1, 1, dtype=torch.long), 0, (8, 8)),
        "num_classes must be a positive integer",
    ),
    # encode_exdet
    (
        "exdet: six numbers",
        lambda: ce.encode_exdet([[0] * 6], [0], 2, (8, 8)),
        r"extreme_points must have shape \(N, 8\)",
    ),
    (
        "exdet: NaN point",
        lambda: ce.encode_exdet([[0, 0, 0, 0, 0, nan, 0, 0]], [0], 2, (8, 8)),
        r"extreme_points must be finite, got NaN or infinity in objects \[0\]",
    ),
    (
        "exdet: top below bottom",
        lambda: ce.encode_exdet([[5, 9, 2, 5, 5, 1, 8, 5]], [0], 2, (8, 8)),
        "extreme points need top y <= bottom y",
    ),
    (
        "exdet: label out of range",
        lambda: ce.encode_exdet([[5, 1, 2, 5, 5, 7, 7, 5]], [3], 2, (8, 8)),
        r"labels must lie in \[0, 2\), got \[3\]",
    ),
    (
        "exdet: zero size",
        lambda: ce.encode_exdet([[5, 1, 2, 5, 5, 7, 7, 5]], [0], 2, (0, 8)),
        r"output_size must be two positive integers",
    ),
    # scatter_targets
    (
        "scatter: not a dict",
        lambda: ce.scatter_targets([1, 2]),
        "targets must be a dict of tensors, got list",
    ),
    (
        "scatter: unknown keys",
        lambda: ce.scatter_targets({"heat": Z(1)}),
        "targets must come from encode_ctdet or encode_exdet",
    ),
    (
        "scatter: unbatched",
        lambda: ce.scatter_targets({k: v[0] for k, v in ctdet_batch().items()}),
        r"targets must be batched: hm of shape \(B, C, H, W\)",
    ),
    (
        "scatter: missing ind",
        lambda: ce.scatter_targets({k: v for k, v in ctdet_batch().items() if k != "ind"}),
        r"targets must hold .*, missing \['ind'\]",
    ),
    (
        "scatter: index off the map",
        lambda: ce.scatter_targets(ctdet_batch(ind=torch.tensor([[99, 0, 0]]))),
        r"ind must lie in \[0, H\*W\) = \[0, 64\)",
    ),
    (
        "scatter: float index",
        lambda: ce.scatter_targets(ctdet_batch(ind=Z(1, 3))),
        "ind must be an integer tensor",
    ),
    (
        "scatter: wh of wrong shape",
        lambda: ce.scatter_targets(ctdet_batch(wh=Z(1, 3, 3))),
        r"wh must have shape \(1, 3, 2\) to match reg_mask, got \(1, 3, 3\)",
    ),
    (
        "scatter: mask of another batch",
        lambda: ce.scatter_targets(ctdet_batch(reg_mask=Z(2, 3))),
        r"reg_mask must have shape \(1, M\) to match hm",
    ),
    # clamped_sigmoid and the focal losses
    (
        "clamped_sigmoid: eps 0.5",
        lambda: ce.clamped_sigmoid(Z(2), eps=0.5),
        r"eps must lie in \[0, 0.5\), got 0.5",
    ),
    (
        "focal_loss: shapes differ",
        lambda: ce.focal_loss(Z(1, 2, 4, 4), Z(1, 3, 4, 4)),
        r"pred and gt must have the same shape",
    ),
    (
        "focal_loss: gt a list",
        lambda: ce.focal_loss(Z(1, 1, 1, 1), [[0.5]]),
        "gt must be a torch.Tensor, got list",
    ),
    (
        "focal_loss: gt above 1",
        lambda: ce.focal_loss(torch.full((1, 1, 2, 2), 0.5), torch.full((1, 1, 2, 2), 1.5)),
        r"gt must hold values in \[0, 1\], got values in \[1.5, 1.5\]",
    ),
    (
        "focal_loss_terms: pred a number",
        lambda: ce.focal_loss_terms(0.5, Z(1)),
        "logits must be a torch.Tensor, got float",
    ),
    (
        "focal_loss_terms: gt negative",
        lambda: ce.focal_loss_terms(Z(1, 1, 2, 2), torch.full((1, 1, 2, 2), -0.1)),
        r"gt must hold values in \[0, 1\]",
    ),
    (
        "logits: gt NaN",
        lambda: ce.focal_loss_with_logits(Z(1, 1, 2, 2), torch.full((1, 1, 2, 2), nan)),
        r"gt must hold values in \[0, 1\]",
    ),
    (
        "logits: shapes differ",
        lambda: ce.focal_loss_with_logits(Z(1, 2, 4, 4), Z(1, 2, 4, 3)),
        r"logits and gt must have the same shape",
    ),
    (
        "fused: shapes differ",
        lambda: ce.focal_loss_with_logits_fused(Z(1, 2, 4, 4), Z(2, 2, 4, 4)),
        r"logits and gt must have the same shape",
    ),
    (
        "fused: gt above 1",
        lambda: ce.focal_loss_with_logits_fused(Z(1, 1, 2, 2), torch.full((1, 1, 2, 2), 2.0)),
        r"gt must hold values in \[0, 1\], got values in \[2, 2\]",
    ),
    (
        "fused: alpha negative",
        lambda: ce.focal_loss_with_logits_fused(Z(1), Z(1), alpha=-1),
        "alpha must be a finite number >= 0, got -1",
    ),
    (
        "fused: beta zero",
        lambda: ce.focal_loss_with_logits_fused(Z(1), Z(1), beta=0),
        "beta must be a finite number > 0, got 0",
    ),
    # reg_l1_loss
    (
        "reg_l1: 3-D output",
        lambda: ce.reg_l1_loss(Z(1, 2, 4), Z(1, 3), Z(1, 3, dtype=torch.long), Z(1, 3, 2)),
        r"output must have shape \(B, D, H, W\), got \(1, 2, 4\)",
    ),
    (
        "reg_l1: mask of another batch",
        lambda: ce.reg_l1_loss(Z(1, 2, 4, 4), Z(2, 3), Z(2, 3, dtype=torch.long), Z(1, 3, 2)),
        r"mask must have shape \(1, M\), got \(2, 3\)",
    ),
    (
        "reg_l1: mask a list",
        lambda: ce.reg_l1_loss(Z(1, 2, 4, 4), [[1, 0]], Z(1, 2, dtype=torch.long), Z(1, 2, 2)),
        r"mask must have shape \(1, M\), got list",
    ),
    (
        "reg_l1: ind shape",
        lambda: ce.reg_l1_loss(Z(1, 2, 4, 4), Z(1, 3), Z(1, 4, dtype=torch.long), Z(1, 3, 2)),
        r"ind must have the shape of mask \(1, 3\), got \(1, 4\)",
    ),
    (
        "reg_l1: target a list",
        lambda: ce.reg_l1_loss(Z(1, 2, 4, 4), Z(1, 1), Z(1, 1, dtype=torch.long), [[[1, 2]]]),
        r"target must have shape \(1, 1, 2\), got list",
    ),
    (
        "reg_l1: float ind",
        lambda: ce.reg_l1_loss(Z(1, 2, 4, 4), Z(1, 2), Z(1, 2), Z(1, 2, 2)),
        "ind must be an integer tensor, got torch.float32",
    ),
    (
        "reg_l1: ind off the map",
        lambda: ce.reg_l1_loss(Z(1, 2, 4, 4), Z(1, 2), torch.tensor([[0, 16]]), Z(1, 2, 2)),
        r"ind must lie in \[0, H\*W\) = \[0, 16\)",
    ),
    # CenterNetLoss and ExtremeNetLoss
    (
        "CenterNetLoss: negative weight",
        lambda: ce.CenterNetLoss(wh_weight=-0.1),
        "wh_weight must be >= 0, got -0.1",
    ),
    (
        "CenterNetLoss: NaN weight",
        lambda: ce.CenterNetLoss(hm_weight=nan),
        "hm_weight must be >= 0, got nan",
    ),
    (
        "CenterNetLoss: text weight",
        lambda: ce.CenterNetLoss(off_weight="1"),
        "off_weight must be >= 0, got '1'",
    ),
    (
        "CenterNetLoss: focal not a function",
        lambda: ce.CenterNetLoss(focal=True),
        r"focal must be a function \(logits, gt, alpha, beta\) -> L_k, got True",
    ),
    (
        "CenterNetLoss: missing head",
        lambda: ce.CenterNetLoss()({"hm": Z(1, 2, 8, 8), "wh": Z(1, 2, 8, 8)}, ctdet_batch()),
        r"outputs must hold \['hm', 'wh', 'reg'\], missing \['reg'\]",
    ),
    (
        "CenterNetLoss: missing target",
        lambda: ce.CenterNetLoss()(
            ctdet_outputs(), {k: v for k, v in ctdet_batch().items() if k != "reg_mask"}
        ),
        r"batch must hold .*, missing \['reg_mask'\]",
    ),
    (
        "CenterNetLoss: outputs not a dict",
        lambda: ce.CenterNetLoss()([Z(1)], ctdet_batch()),
        "outputs must be a dict holding",
    ),
    (
        "CenterNetLoss: hm of other classes",
        lambda: ce.CenterNetLoss()(ctdet_outputs(hm=Z(1, 3, 8, 8)), ctdet_batch()),
        r"logits and gt must have the same shape, got \(1, 3, 8, 8\) and \(1, 2, 8, 8\)",
    ),
    (
        "CenterNetLoss: wh of 3 channels",
        lambda: ce.CenterNetLoss()(ctdet_outputs(wh=Z(1, 3, 8, 8)), ctdet_batch()),
        r"target must have shape \(1, 3, 3\), got \(1, 3, 2\)",
    ),
    (
        "ExtremeNetLoss: negative weight",
        lambda: ce.ExtremeNetLoss(off_weight=-1),
        "off_weight must be >= 0, got -1",
    ),
    (
        "ExtremeNetLoss: missing centre",
        lambda: ce.ExtremeNetLoss(off_weight=0)(
            {k: v for k, v in exdet_heads().items() if k != "hm_c"}, {}
        ),
        r"outputs must hold .*, missing \['hm_c'\]",
    ),
    # heatmap_nms, topk, decode_ctdet, decode_exdet
    ("nms: 2-D map", lambda: ce.heatmap_nms(Z(6, 6)), r"heat must be a \(B, C, H, W\) tensor"),
    (
        "nms: bool map",
        lambda: ce.heatmap_nms(Z(1, 1, 3, 3, dtype=torch.bool)),
        "heat must be a floating-point tensor, got torch.bool",
    ),
    (
        "nms: empty rows",
        lambda: ce.heatmap_nms(Z(1, 1, 0, 3)),
        r"heat must have C, H, W >= 1, got \(1, 1, 0, 3\)",
    ),
    (
        "nms: even kernel",
        lambda: ce.heatmap_nms(Z(1, 1, 3, 3), kernel=2),
        "kernel must be a positive odd integer, got 2",
    ),
    (
        "nms: float kernel",
        lambda: ce.heatmap_nms(Z(1, 1, 3, 3), kernel=3.0),
        "kernel must be a positive odd integer, got 3.0",
    ),
    ("topk: K zero", lambda: ce.topk(Z(1, 1, 4, 4), 0), "K must be a positive integer, got 0"),
    (
        "topk: K too large",
        lambda: ce.topk(Z(1, 1, 4, 4), 17),
        r"K = 17 is larger than the map's H\*W = 4\*4 \(16\)",
    ),
    ("topk: no classes", lambda: ce.topk(Z(1, 0, 4, 4), 2), r"scores must have C, H, W >= 1"),
    (
        "topk: integer scores",
        lambda: ce.topk(Z(1, 1, 4, 4, dtype=torch.int64), 2),
        "scores must be a floating-point tensor",
    ),
    (
        "decode: wh of other size",
        lambda: ce.decode_ctdet(torch.rand(1, 1, 6, 6), Z(1, 2, 6, 5)),
        r"wh must have shape \(1, 2, 6, 6\) to match heat",
    ),
    (
        "decode: reg of 3 channels",
        lambda: ce.decode_ctdet(torch.rand(1, 1, 6, 6), Z(1, 2, 6, 6), Z(1, 3, 6, 6)),
        r"reg must have shape \(1, 2, 6, 6\) to match heat",
    ),
    (
        "decode: wh a list",
        lambda: ce.decode_ctdet(torch.rand(1, 1, 6, 6), [[0]]),
        r"wh must be a \(B, C, H, W\) tensor",
    ),
    (
        "decode: K bool",
        lambda: ce.decode_ctdet(torch.rand(1, 1, 6, 6), Z(1, 2, 6, 6), K=True),
        "K must be a positive integer, got True",
    ),
    (
        "exdet decode: missing head",
        lambda: ce.decode_exdet({k: v for k, v in exdet_heads().items() if k != "hm_r"}),
        r"outputs must hold .*, missing \['hm_r'\]",
    ),
    (
        "exdet decode: head of other classes",
        lambda: ce.decode_exdet(exdet_heads(hm_t=Z(1, 3, 8, 8)), K=2),
        r"hm_t must have shape \(1, 2, 8, 8\) to match heat",
    ),
    (
        "exdet decode: offset of 3 channels",
        lambda: ce.decode_exdet(exdet_heads(reg_l=Z(1, 3, 8, 8)), K=2),
        r"reg_l must have shape \(1, 2, 8, 8\) to match heat",
    ),
    (
        "exdet decode: too many detections",
        lambda: ce.decode_exdet(exdet_heads(), K=2, num_dets=17),
        r"num_dets = 17 is larger than the K\^4 = 16 groupings",
    ),
    (
        "exdet decode: NaN threshold",
        lambda: ce.decode_exdet(exdet_heads(), K=2, num_dets=2, center_thresh=nan),
        "center_thresh must be a finite number, got nan",
    ),
    ("exdet decode: not a dict", lambda: ce.decode_exdet([Z(1)]), "outputs must be a dict holding"),
]


@pytest.mark.parametrize(("call", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_named(call, pattern):
    with pytest.raises(ValueError, match=pattern) as info:
        call()
    assert type(info.value) is ValueError


def test_every_core_entry_point_has_cases():
    covered = " ".join(c[0] for c in CASES)
    for name in (
        "radius",
        "gaussian_2d",
        "draw",
        "render",
        "ctdet",
        "ctdet batch",
        "exdet",
        "scatter",
        "clamped_sigmoid",
        "focal_loss",
        "logits",
        "fused",
        "reg_l1",
        "CenterNetLoss",
        "ExtremeNetLoss",
        "nms",
        "topk",
        "decode",
        "exdet decode",
    ):
        assert name in covered, name
    assert len(CASES) >= 100
