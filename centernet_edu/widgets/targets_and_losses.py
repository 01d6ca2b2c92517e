"""The explorers of chapters 1 to 6: the targets, the three loss terms and their weights.

Each explorer is a function returning an ``Explorer``, beside the function that computes
its numbers with the package (registered with ``numbers_of``) and the one that draws its
picture with ``centernet_edu.viz`` (registered with ``picture_of``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import validate, viz
from ..data import ShapesDataset
from ..evaluate import box_iou, centred_boxes
from ..heatmap import gaussian_radius
from ..losses import ALPHA, BETA, focal_loss_terms, focal_loss_with_logits
from ..pretrained import loss_weight_runs
from ..targets import encode_ctdet, target_radius
from .explorer import Control, Explorer, S, array, numbers_of, picture_of, sliders, sparse

TOY = {"box": [8, 8, 24, 24], "size": 32}  # chapter 3's one object on a 32 x 32 map


def _centre_targets(c, d) -> dict:
    """``encode_ctdet``'s targets of the box centred at (cx, cy) image pixels."""
    R, bw, bh = d["R"], d["box_w"], d["box_h"]
    box = np.array([[c["cx"] - bw / 2, c["cy"] - bh / 2, c["cx"] + bw / 2, c["cy"] + bh / 2]])
    return encode_ctdet(box / R, [0], 1, (d["size"], d["size"]), max_objs=1)


@numbers_of("centre")
def _centre(c, d):
    R, t = d["R"], _centre_targets(c, d)
    ind, (w, h) = int(t["ind"][0]), t["wh"][0].tolist()
    ox, oy = t["reg"][0].tolist()
    return {
        "p_x": c["cx"] / R,
        "p_y": c["cy"] / R,
        "peak_x": ind % d["size"],
        "peak_y": ind // d["size"],
        "offset_x": ox,
        "offset_y": oy,
        "radius": target_radius(h, w),
    }


def centre_explorer(cx: float = 50.0, cy: float = 62.0) -> Explorer:
    """Chapter 1: a 40 x 28 box's centre (image pixels, R = 4) -> its peak p~ and offset."""
    controls = sliders(("cx", "centre x", 20, 108, 0.25), ("cy", "centre y", 14, 114, 0.25))
    shown = [S("peak_x", "peak p~ x", 0), S("peak_y", "y", 0), S("offset_x", "offset x", 3)]
    shown += [S("offset_y", "y", 3), S("radius", "radius", 0)]
    data = {"R": 4, "box_w": 40, "box_h": 28, "size": 32}
    return Explorer("centre", controls, shown, {"cx": cx, "cy": cy}, data, (340, 330))


@picture_of("centre")
def _centre_picture(fig, c, q, d):
    hm, peak = _centre_targets(c, d)["hm"][0], (q["peak_x"], q["peak_y"])
    viz.draw_peak_offset(fig.subplots(), hm, peak, (q["offset_x"], q["offset_y"]))


@numbers_of("radius")
def _radius(c, d):
    ref = gaussian_radius(c["height"], c["width"], c["min_overlap"])
    fixed = gaussian_radius(c["height"], c["width"], c["min_overlap"], variant="corrected")
    return {
        "r_centernet": ref,
        "r_corrected": fixed,
        "sigma_centernet": (2 * int(ref) + 1) / 6,
        "sigma_corrected": (2 * int(fixed) + 1) / 6,
        "ratio": ref / max(fixed, 1e-9),
    }


def radius_explorer(width: int = 24, height: int = 16, min_overlap: float = 0.7) -> Explorer:
    """Chapter 2: box size and min_overlap -> the reference and corrected radius, the splats."""
    controls = sliders(
        ("width", "box width", 1, 60, 1, True),
        ("height", "box height", 1, 60, 1, True),
        ("min_overlap", "min IoU", 0.1, 0.95, 0.05),
    )
    shown = [S("r_centernet", "reference radius"), S("sigma_centernet", "sigma")]
    shown += [S("r_corrected", "corrected radius"), S("sigma_corrected", "sigma")]
    shown += [S("ratio", "ratio")]
    values = {"width": width, "height": height, "min_overlap": min_overlap}
    return Explorer("radius", controls, shown, values, size=(600, 300))


@picture_of("radius")
def _radius_picture(fig, c, q, d):
    viz.draw_radius_splats(fig.subplots(1, 2), c["width"], c["height"], c["min_overlap"])


@numbers_of("radius_cases")
def _radius_cases(c, d):
    w, h, r = c["width"], c["height"], c["r"]
    gt = (0, 0, w, h)
    q = {
        "iou_slid": box_iou(gt, (r, r, w + r, h + r)),
        "iou_shrunk": box_iou(gt, (r, r, w - r, h - r)),
        "iou_grown": box_iou(gt, (-r, -r, w + r, h + r)),
        "r_safe": gaussian_radius(h, w, c["min_overlap"], variant="corrected"),
    }
    return q | {"iou_min": min(q["iou_slid"], q["iou_shrunk"], q["iou_grown"])}


def radius_cases_explorer(width=24, height=16, min_overlap=0.7, r=2.0) -> Explorer:
    """Chapter 2: a radius r -> the IoU of the three corner moves (slid, shrunk, grown by r)."""
    controls = sliders(
        ("width", "box width", 1, 60, 1, True),
        ("height", "box height", 1, 60, 1, True),
        ("min_overlap", "min IoU", 0.1, 0.95, 0.05),
        ("r", "radius r", 0, 20, 0.1),
    )
    shown = [S("iou_slid", "IoU slid", 3), S("iou_shrunk", "shrunk", 3)]
    shown += [S("iou_grown", "grown", 3), S("iou_min", "worst", 3), S("r_safe", "safe radius")]
    values = {"width": width, "height": height, "min_overlap": min_overlap, "r": r}
    return Explorer("radius_cases", controls, shown, values, size=(610, 225))


@picture_of("radius_cases")
def _radius_cases_picture(fig, c, q, d):
    axes = fig.subplots(1, 3)
    viz.draw_overlap_cases(axes, c["height"], c["width"], c["min_overlap"], r=c["r"])


def _toy_target(d) -> torch.Tensor:
    """Chapter 3's toy target: one box on a small map, ``(1, 1, n, n)`` float64."""
    hm = encode_ctdet([d["box"]], [0], 1, (d["size"], d["size"]))["hm"]
    return hm[None].double()


def _toy_terms(c, d) -> torch.Tensor:
    """The focal term at each pixel of the toy map under a blob that is too wide and too
    weak, ``(1, 1, n, n)``."""
    gt = _toy_target(d)
    logits = torch.full_like(gt, d["outside"])
    lo, hi = d["blob"]
    logits[..., lo:hi, lo:hi] = d["inside"]
    return focal_loss_terms(logits, gt, c["alpha"], c["beta"])


@numbers_of("focal")
def _focal(c, d):
    alpha, beta, y = c["alpha"], c["beta"], c["y"]
    p = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    neg = focal_loss_terms(torch.logit(p), torch.full_like(p, min(y, 1 - 1e-12)), alpha, beta)
    q = {"weight": (1 - y) ** beta, "map_sum": _toy_terms(c, d).sum()}
    return q | dict(zip(("neg_at_01", "neg_at_05", "neg_at_09"), neg, strict=True))


def focal_loss_explorer(alpha: float = 2.0, beta: float = 4.0, y: float = 0.5) -> Explorer:
    """Chapter 3: alpha, beta and a target value Y -> loss curves and a per-pixel loss map."""
    controls = sliders(
        ("alpha", "alpha", 0, 5, 0.5), ("beta", "beta", 0, 8, 0.5), ("y", "target Y", 0, 0.99, 0.01)
    )
    shown = [S("weight", "(1 - Y)^beta", 3), S("neg_at_01", "negative loss at Yhat 0.1", 5)]
    shown += [S("neg_at_05", "0.5", 3), S("neg_at_09", "0.9", 3), S("map_sum", "toy map's loss")]
    data = TOY | {"blob": [10, 22], "inside": 0.5, "outside": -2.0}
    values = {"alpha": alpha, "beta": beta, "y": y}
    return Explorer("focal", controls, shown, values, data, (660, 310))


@picture_of("focal")
def _focal_picture(fig, c, q, d):
    curves, loss_map = fig.subplots(1, 2, width_ratios=[1.3, 1])
    viz.plot_focal_curves(curves, c["alpha"], c["beta"], c["y"])
    terms = _toy_terms(c, d)[0, 0]
    title = f"per-pixel loss, sum {q['map_sum']:.2f}"
    viz.show_heatmap(loss_map, terms, title, vmax=float(terms.max()) or 1.0, cmap="viridis")


@numbers_of("focal_gradient")
def _focal_gradient(c, d):
    ys = torch.tensor([1.0, *d["ys"]], dtype=torch.float64)
    x = torch.full_like(ys, c["x"]).requires_grad_()
    terms = focal_loss_terms(x, ys, c["alpha"], c["beta"])
    (grad,) = torch.autograd.grad(terms.sum(), x)  # each term depends on its own x only
    q = {
        "probability": torch.sigmoid(x[0].detach()),
        "loss_pos": terms[0].detach(),
        "grad_pos": grad[0],
    }
    return q | {f"grad_neg_y{round(100 * y)}": g for y, g in zip(d["ys"], grad[1:], strict=True)}


def focal_gradient_explorer(alpha: float = 2.0, beta: float = 4.0, x: float = 0.0) -> Explorer:
    """Chapter 3: the gradient dL/dx of one pixel's term against its logit x, for a positive
    and for negatives at several Y."""
    controls = sliders(("alpha", "alpha", 0, 5, 0.5), ("beta", "beta", 0, 8, 0.5))
    controls += sliders(("x", "logit x", -8, 8, 0.1))
    ys = [0.0, 0.5, 0.8, 0.95]
    shown = [S("probability", "Yhat", 3), S("loss_pos", "positive loss", 3)]
    shown += [S("grad_pos", "dL/dx positive", 4)]
    shown += [S(f"grad_neg_y{round(100 * y)}", f"negative Y = {y:g}", 6) for y in ys]
    values = {"alpha": alpha, "beta": beta, "x": x}
    return Explorer("focal_gradient", controls, shown, values, {"ys": ys}, (640, 310))


@picture_of("focal_gradient")
def _focal_gradient_picture(fig, c, q, d):
    viz.plot_focal_gradients(fig.subplots(), c["alpha"], c["beta"], c["x"], d["ys"])


def _blob_logits(c, d) -> torch.Tensor:
    """The prediction "shape the prediction" moves: a Gaussian bump of probability."""
    n = torch.arange(d["size"], dtype=torch.float64)
    yy, xx = torch.meshgrid(n, n, indexing="ij")
    g = torch.exp(-((xx - c["x"]) ** 2 + (yy - c["y"]) ** 2) / (2 * c["sigma"] ** 2))
    return torch.logit(d["floor"] + (c["peak"] - d["floor"]) * g)[None, None]


@numbers_of("shape")
def _shape(c, d):
    gt = _toy_target(d)
    logits = _blob_logits(c, d).requires_grad_()
    loss = focal_loss_with_logits(logits, gt, d["alpha"], d["beta"])
    (grad,) = torch.autograd.grad(loss, logits)
    terms, pos = focal_loss_terms(logits.detach(), gt, d["alpha"], d["beta"]), gt == 1
    n = max(int(pos.sum()), 1)
    return {
        "loss": loss.detach(),
        "pos": terms[pos].sum() / n,
        "neg": terms[~pos].sum() / n,
        "grad_peak": grad[pos][0],
        "grad_max": grad.abs().max(),
    }


def shape_explorer(x=18.0, y=14.0, sigma=3.0, peak=0.5) -> Explorer:
    """Chapter 3: move and resize a predicted blob -> L_k and the per-pixel gradient dL/dx."""
    controls = sliders(
        ("x", "blob x", 0, 31, 0.5),
        ("y", "blob y", 0, 31, 0.5),
        ("sigma", "blob sigma", 0.5, 8, 0.25),
        ("peak", "blob peak Yhat", 0.05, 0.99, 0.01),
    )
    shown = [S("loss", "L_k", 3), S("pos", "positive part", 3), S("neg", "negative part", 3)]
    shown += [S("grad_peak", "dL/dx at the object's peak", 4), S("grad_max", "largest |dL/dx|", 4)]
    data = TOY | {"floor": 0.01, "alpha": ALPHA, "beta": BETA}
    values = {"x": x, "y": y, "sigma": sigma, "peak": peak}
    return Explorer("shape", controls, shown, values, data, (600, 310))


@picture_of("shape")
def _shape_picture(fig, c, q, d):
    gt, logits = _toy_target(d), _blob_logits(c, d).requires_grad_()
    loss = focal_loss_with_logits(logits, gt, d["alpha"], d["beta"])
    (grad,) = torch.autograd.grad(loss, logits)
    yhat, signed = fig.subplots(1, 2)
    viz.show_heatmap(yhat, torch.sigmoid(logits.detach())[0, 0], "prediction Yhat, target dashed")
    viz.draw_boxes(yhat, [d["box"]], linestyle="--")
    y, x = divmod(int(gt.argmax()), d["size"])
    yhat.plot([x], [y], "+", color="#4cc9f0", markersize=14, markeredgewidth=2)
    title = "dL/dx per pixel, sqrt scale\n(blue: raise, red: lower)"
    viz.show_signed_map(signed, grad[0, 0], title)


@numbers_of("offset")
def _offset(c, d):
    # The offset target p / R - floor(p / R) of encode_ctdet, in float64.
    R = c["stride"]
    px, py = c["x"] / R, c["y"] / R
    ox, oy = px - math.floor(px), py - math.floor(py)
    return {
        "cell_x": math.floor(px),
        "cell_y": math.floor(py),
        "offset_x": ox,
        "offset_y": oy,
        "error": math.sqrt(ox * ox + oy * oy) * R,
        "max_error": R * math.sqrt(2),
    }


def offset_explorer(x: float = 13.3, y: float = 6.8, stride: int = 4) -> Explorer:
    """Chapter 4: a sub-pixel centre and the stride R -> the cell, the offset and the error."""
    controls = sliders(("x", "centre x", 0, 23.9, 0.1), ("y", "centre y", 0, 23.9, 0.1))
    controls += [Control("stride", "R", options=(1, 2, 4, 8))]
    shown = [S("cell_x", "cell x", 0), S("cell_y", "y", 0), S("offset_x", "offset x", 3)]
    shown += [S("offset_y", "y", 3), S("error", "error without it (px)"), S("max_error", "at most")]
    values = {"x": x, "y": y, "stride": stride}
    return Explorer("offset", controls, shown, values, size=(540, 350))


@picture_of("offset")
def _offset_picture(fig, c, q, d):
    viz.draw_quantisation(fig.subplots(), c["x"], c["y"], int(c["stride"]))


@numbers_of("size")
def _size(c, d):
    l1 = abs(c["dw"]) + abs(c["dh"])
    iou = box_iou(*centred_boxes(c["width"], c["height"], c["dw"], c["dh"]))
    return {"l1": l1, "weighted": 0.1 * l1, "iou": iou}


def size_explorer(width: float = 20.0, height: float = 12.0, dw: float = 3.0, dh: float = -2.0):
    """Chapter 5: a box and a size error (dw, dh) -> the L1 size loss and the IoU it costs."""
    controls = sliders(("width", "width", 2, 60, 1), ("height", "height", 2, 60, 1))
    controls += sliders(("dw", "dw", -20, 20, 0.5), ("dh", "dh", -20, 20, 0.5))
    shown = [S("l1", "L1 on (w, h)"), S("weighted", "weighted by 0.1", 3), S("iou", "IoU", 3)]
    values = {"width": width, "height": height, "dw": dw, "dh": dh}
    return Explorer("size", controls, shown, values, size=(360, 350))


@picture_of("size")
def _size_picture(fig, c, q, d):
    viz.draw_size_error(fig.subplots(), c["width"], c["height"], c["dw"], c["dh"])


@numbers_of("prior")
def _prior(c, d):
    pi = 10.0 ** c["log10_pi"]
    pos, neg = viz.prior_loss(array(d["gt"]), pi)
    return {"pi": pi, "bias": math.log(pi / (1 - pi)), "pos": pos, "neg": neg, "total": pos + neg}


def prior_targets(seed: int = 0) -> torch.Tensor:
    """The heatmap targets of the 8 synthetic images ``prior_explorer`` shows, ``(8, C, H, W)``."""
    data = ShapesDataset(length=8, seed=seed)
    return torch.stack([data[i]["hm"] for i in range(len(data))])


def prior_explorer(pi: float = 0.1) -> Explorer:
    """Chapter 6: the probability pi every pixel starts at -> the focal loss at initialisation.

    The slider moves log10(pi) from -4 to -0.05 by 0.05."""
    pi = validate.number("pi", pi, 0, 1, open_low=True, open_high=True)
    controls = sliders(("log10_pi", "log10 prior pi", -4, -0.05, 0.05))
    shown = [S("pi", "pi", 4), S("bias", "bias b = log(pi / (1 - pi))"), S("pos", "L_k: positives")]
    shown += [S("neg", "+ negatives"), S("total", "= per object")]
    data = {"gt": sparse(prior_targets())}
    return Explorer("prior", controls, shown, {"log10_pi": math.log10(pi)}, data, (680, 320))


@picture_of("prior")
def _prior_picture(fig, c, q, d):
    curves, loss_map = fig.subplots(1, 2, width_ratios=[1.2, 1])
    gt = array(d["gt"])
    viz.plot_prior_loss(curves, gt, marked=q["pi"])
    viz.show_prior_loss_map(loss_map, gt[0], q["pi"])  # the first image


# Chapter 6: the loss weights over recorded training curves ---------------------------------

WEIGHT_TERMS = ("loss", "hm_loss", "wh_loss", "off_loss")  # loss_weight_runs' curves
DEFAULT_WEIGHTS = (0.1, 1.0)  # CenterNetLoss's (wh_weight, off_weight), drawn for comparison


def _weight_run(d, wh_weight, off_weight) -> dict:
    """The embedded run trained at (lambda_size, lambda_off) = (wh_weight, off_weight)."""
    return next(
        r for r in d["runs"] if r["wh_weight"] == wh_weight and r["off_weight"] == off_weight
    )


@numbers_of("loss_weights")
def _loss_weights(c, d):
    run, step = _weight_run(d, c["wh_weight"], c["off_weight"]), c["step"]
    i = d["step"].index(step)
    q = {k: run[k][i] for k in WEIGHT_TERMS}
    parts = {
        "hm": q["hm_loss"],
        "wh": c["wh_weight"] * q["wh_loss"],
        "off": c["off_weight"] * q["off_loss"],
    }
    total = parts["hm"] + parts["wh"] + parts["off"]
    q |= {f"share_{k}": v / total if total > 0 else 0.0 for k, v in parts.items()}
    done = [j for j, s in enumerate(run["eval_step"]) if s <= step]  # none before the first
    q["ap50"] = run["ap50"][done[-1]] if done else math.nan
    q["ap50_step"] = run["eval_step"][done[-1]] if done else math.nan
    return q


def _numbers(name, values, n) -> list[float]:
    """``values`` as a list of ``n`` finite floats >= 0."""
    if not isinstance(values, (list, tuple)) or len(values) != n:
        got = (
            f"{len(values)} values"
            if isinstance(values, (list, tuple))
            else validate.shape_of(values)
        )
        raise ValueError(f"{name} must be a list of {n} numbers, got {got}")
    return [validate.number(f"{name}[{i}]", v, 0) for i, v in enumerate(values)]


def _steps(name, steps) -> list[int]:
    """Recorded steps: positive integers, increasing, evenly spaced (one slider's grid)."""
    if not isinstance(steps, (list, tuple)) or not steps:
        raise ValueError(f"{name} must be a non-empty list of steps, got {steps!r}")
    steps = [validate.positive_int(f"{name}[{i}]", s) for i, s in enumerate(steps)]
    every = steps[1] - steps[0] if len(steps) > 1 else 1
    if every < 1 or steps != list(range(steps[0], steps[0] + every * len(steps), every)):
        raise ValueError(f"{name} must be increasing, evenly spaced steps, got {steps}")
    return steps


def _evaluations(name, points) -> tuple[list[int], list[float]]:
    """The steps and AP50 of a run's held-out evaluations, in training order."""
    if not isinstance(points, (list, tuple)):
        raise ValueError(f"{name} must be a list of dicts, got {type(points).__name__}")
    steps, ap50 = [], []
    for j, p in enumerate(points):
        validate.has_keys(f"{name}[{j}]", p, ["step", "AP50"])
        steps.append(validate.nonnegative_int(f"{name}[{j}]['step']", p["step"]))
        ap50.append(validate.number(f"{name}[{j}]['AP50']", p["AP50"], 0, 1))
    if steps != sorted(set(steps)):
        raise ValueError(f"{name} must be in training order (increasing steps), got {steps}")
    return steps, ap50


def _weight_runs(runs) -> tuple[list[int], list[dict]]:
    """The common steps and the runs as the explorer embeds them, every field checked, one
    run per (wh_weight, off_weight) of a full grid."""
    where, records = "runs", runs
    if hasattr(runs, "keys"):
        validate.has_keys("runs", runs, ["runs"])
        where, records = "runs['runs']", runs["runs"]
    if not isinstance(records, (list, tuple)) or not records:
        got = "an empty list" if isinstance(records, (list, tuple)) else type(records).__name__
        raise ValueError(f"{where} must be a non-empty list of dicts, got {got}")
    steps, out = None, []
    for i, r in enumerate(records):
        at = f"{where}[{i}]"
        validate.has_keys(at, r, ["wh_weight", "off_weight", "step", *WEIGHT_TERMS, "eval"])
        run = {k: validate.number(f"{at}[{k!r}]", r[k], 0) for k in ("wh_weight", "off_weight")}
        here = _steps(f"{at}['step']", r["step"])
        if steps is not None and here != steps:
            raise ValueError(f"{at}['step'] must equal {where}[0]['step'], {steps}, got {here}")
        steps = here
        run |= {k: _numbers(f"{at}[{k!r}]", r[k], len(steps)) for k in WEIGHT_TERMS}
        run["eval_step"], run["ap50"] = _evaluations(f"{at}['eval']", r["eval"])
        out.append(run)
    pairs = [(r["wh_weight"], r["off_weight"]) for r in out]
    grid = {(a, b) for a in {p[0] for p in pairs} for b in {p[1] for p in pairs}}
    if len(set(pairs)) != len(pairs) or set(pairs) != grid:
        raise ValueError(
            f"{where} must hold one run per (wh_weight, off_weight) of a full grid, got {pairs}"
        )
    return steps, out


def loss_weights_explorer(runs=None, *, wh_weight=None, off_weight=None, step=None):
    """Chapter 6: lambda_size, lambda_off and a step -> the recorded training curves of
    that run, its terms at the step, their shares of L_det and its held-out AP50.

    ``runs``: what ``benchmarks/loss_weight_runs.py`` writes (default: the shipped record,
    ``centernet_edu.pretrained.loss_weight_runs()``), or its list ``runs``: one dict per
    (lambda_size, lambda_off) of a full grid, with ``wh_weight``, ``off_weight``, ``step``
    (the same evenly spaced steps in every run), the mean terms ``loss, hm_loss, wh_loss,
    off_loss`` at each (unweighted; ``loss`` the weighted total L_det) and ``eval`` (dicts
    with ``step`` and ``AP50``). The weights start at CenterNetLoss's (0.1, 1) when those
    were recorded, else at the first run's; the step at the last. The run at (0.1, 1) is
    drawn faintly behind the chosen one. Before a run's first evaluation its AP50 shows
    as "–" (NaN in ``quantities``).
    """
    steps, records = _weight_runs(loss_weight_runs() if runs is None else runs)
    pairs = [(r["wh_weight"], r["off_weight"]) for r in records]
    first = DEFAULT_WEIGHTS if DEFAULT_WEIGHTS in pairs else pairs[0]
    controls = [
        Control("wh_weight", "lambda_size", options=tuple(sorted({p[0] for p in pairs}))),
        Control("off_weight", "lambda_off", options=tuple(sorted({p[1] for p in pairs}))),
    ]
    every = steps[1] - steps[0] if len(steps) > 1 else 1
    controls += sliders(("step", "step", steps[0], steps[-1], every, True))
    shown = [S("hm_loss", "L_k", 3), S("wh_loss", "L_size", 3), S("off_loss", "L_off", 3)]
    shown += [S("loss", "L_det", 3), S("share_hm", "shares of L_det: L_k")]
    shown += [S("share_wh", "lambda_size L_size"), S("share_off", "lambda_off L_off")]
    shown += [S("ap50", "held-out AP50", 3), S("ap50_step", "evaluated after step", 0)]
    data = {"step": steps, "runs": records, "compare": list(DEFAULT_WEIGHTS)}
    values = {
        "wh_weight": first[0] if wh_weight is None else wh_weight,
        "off_weight": first[1] if off_weight is None else off_weight,
        "step": steps[-1] if step is None else step,
    }
    return Explorer("loss_weights", controls, shown, values, data, (860, 320))


@picture_of("loss_weights")
def _loss_weights_picture(fig, c, q, d):
    run, i = _weight_run(d, c["wh_weight"], c["off_weight"]), d["step"].index(c["step"])
    base = [r for r in d["runs"] if [r["wh_weight"], r["off_weight"]] == d["compare"]]
    base = base[0] if base and base[0] is not run else None  # drawn faintly, when another

    def terms(r):
        return {"L_k": r["hm_loss"], "L_size": r["wh_loss"], "L_off": r["off_loss"]}

    curves, ap50, shares = fig.subplots(1, 3, width_ratios=[2.2, 1, 0.8])
    title = f"unweighted terms at lambda_size {c['wh_weight']:g}, lambda_off {c['off_weight']:g}"
    faint, faint_ap50 = None, None
    if base is not None:
        faint = (f"faint: {d['compare'][0]:g}, {d['compare'][1]:g}", terms(base))
        faint_ap50 = (base["eval_step"], base["ap50"])
    viz.plot_loss_curves(curves, d["step"], terms(run), i, faint, title=title)
    viz.plot_ap50(ap50, run["eval_step"], run["ap50"], c["step"], faint_ap50)
    shared = {"L_k": q["share_hm"], "L_size": q["share_wh"], "L_off": q["share_off"]}
    viz.draw_shares(shares, shared)
