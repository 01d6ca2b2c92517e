"""The explorers of chapters 1 to 5: the targets and the three loss terms.

Each explorer is a function returning an explorer (a ``LiveExplorer`` widget in a live
kernel, see ``live``), beside the function that computes its numbers with the package
(registered with ``numbers_of``) and the one that draws its picture with
``centernet_edu.viz`` (registered with ``picture_of``). Chapter 6's are in
``total_loss``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import losses, validate
from ..boxes import box_iou, centred_boxes
from ..heatmap import gaussian_radius
from ..losses import ALPHA, BETA, focal_loss_terms, focal_loss_with_logits
from ..targets import encode_ctdet
from .explorer import Control, Explorer, S, numbers_of, picture_of, sliders
from .live import live

# The sliders of each explorer, (name, label, lo, hi, step[, integer]): numbers_of checks
# its controls against the same ranges.
_CENTRE = (("cx", "centre x", 20, 108, 0.25), ("cy", "centre y", 14, 114, 0.25))
_RADIUS = (
    ("width", "box width", 1, 60, 1, True),
    ("height", "box height", 1, 60, 1, True),
    ("min_overlap", "min IoU", 0.1, 0.95, 0.05),
)
_RADIUS_CASES = (*_RADIUS, ("r", "radius r", 0, 20, 0.1))
_FOCAL = (("alpha", "alpha", 0, 5, 0.5), ("beta", "beta", 0, 8, 0.5))
_FOCAL_Y = (*_FOCAL, ("y", "target Y", 0, 0.99, 0.01))
_FOCAL_X = (*_FOCAL, ("x", "logit z", -8, 8, 0.1))
_SHAPE = (
    ("x", "blob x", 0, 31, 0.5),
    ("y", "blob y", 0, 31, 0.5),
    ("sigma", "blob sigma", 0.5, 8, 0.25),
    ("peak", "blob peak Yhat", 0.05, 0.99, 0.01),
)
_OFFSET, _STRIDES = (("x", "centre x", 0, 23.9, 0.1), ("y", "centre y", 0, 23.9, 0.1)), (1, 2, 4, 8)
_SIZE = (("width", "width", 2, 60, 1), ("height", "height", 2, 60, 1))
_SIZE += (("dw", "dw", -20, 20, 0.5), ("dh", "dh", -20, 20, 0.5))


def _within(c: dict, specs) -> None:
    """Each control in ``specs`` within its slider's range, else a ValueError naming it."""
    for name, _, lo, hi, *_ in specs:
        validate.number(name, c[name], lo, hi)


TOY = {"box": [8, 8, 24, 24], "size": 32}  # chapter 3's one object on a 32 x 32 map


def _centre_targets(c, d) -> dict:
    """``encode_ctdet``'s targets of the box centred at (cx, cy) image pixels."""
    R, bw, bh = d["R"], d["box_w"], d["box_h"]
    box = np.array([[c["cx"] - bw / 2, c["cy"] - bh / 2, c["cx"] + bw / 2, c["cy"] + bh / 2]])
    return encode_ctdet(box / R, [0], 1, (d["size"], d["size"]), max_objs=1)


@numbers_of("centre", ("cx", "cy"), ("R", "box_w", "box_h", "size"))
def _centre(c, d):
    _within(c, _CENTRE)
    R, t = d["R"], _centre_targets(c, d)
    ind = int(t["ind"][0])
    ox, oy = t["reg"][0].tolist()
    return {
        "p_x": c["cx"] / R,
        "p_y": c["cy"] / R,
        "peak_x": ind % d["size"],
        "peak_y": ind // d["size"],
        "offset_x": ox,
        "offset_y": oy,
    }


def centre_explorer(cx: float = 50.0, cy: float = 62.0, *, yours=None):
    """Chapter 1: a 40 x 28 box's centre (image pixels, R = 4) -> its peak p~ and offset.

    ``yours``: your ``my_encode_ctdet(boxes, labels, num_classes, output_size, max_objs)``,
    shown beside ``encode_ctdet`` (``widgets.yours``) in a live kernel."""
    controls = sliders(*_CENTRE)
    shown = [S("peak_x", "peak p~ x", 0), S("peak_y", "y", 0), S("offset_x", "offset x", 3)]
    shown += [S("offset_y", "y", 3)]
    data = {"R": 4, "box_w": 40, "box_h": 28, "size": 32}
    explorer = Explorer("centre", controls, shown, {"cx": cx, "cy": cy}, data, (340, 330))
    return live(explorer, yours=yours)


@picture_of("centre")
def _centre_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

    hm, peak = _centre_targets(c, d)["hm"][0], (q["peak_x"], q["peak_y"])
    viz.draw_peak_offset(fig.subplots(), hm, peak, (q["offset_x"], q["offset_y"]))


@numbers_of("radius", ("width", "height", "min_overlap"))
def _radius(c, d):
    _within(c, _RADIUS)
    ref = gaussian_radius(c["height"], c["width"], c["min_overlap"])
    fixed = gaussian_radius(c["height"], c["width"], c["min_overlap"], variant="corrected")
    return {
        "r_centernet": ref,
        "r_corrected": fixed,
        "sigma_centernet": (2 * int(ref) + 1) / 6,
        "sigma_corrected": (2 * int(fixed) + 1) / 6,
        "ratio": ref / max(fixed, 1e-9),
    }


def radius_explorer(width=24, height=16, min_overlap=0.7, *, yours=None, yours_gaussian=None):
    """Chapter 2: box size and min_overlap -> the reference and corrected radius, the splats.

    ``yours``: your ``my_gaussian_radius(height, width, min_overlap)``, ``yours_gaussian``
    your ``my_draw_gaussian(heatmap, center, radius)``, each shown beside the package's
    (``widgets.yours``) in a live kernel."""
    controls = sliders(*_RADIUS)
    shown = [S("r_centernet", "reference radius"), S("sigma_centernet", "sigma")]
    shown += [S("r_corrected", "corrected radius"), S("sigma_corrected", "sigma")]
    shown += [S("ratio", "ratio")]
    values = {"width": width, "height": height, "min_overlap": min_overlap}
    explorer = Explorer("radius", controls, shown, values, size=(600, 300))
    return live(explorer, yours=yours, yours_gaussian=yours_gaussian)


@picture_of("radius")
def _radius_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

    viz.draw_radius_splats(fig.subplots(1, 2), c["width"], c["height"], c["min_overlap"])


@numbers_of("radius_cases", ("width", "height", "min_overlap", "r"))
def _radius_cases(c, d):
    _within(c, _RADIUS_CASES)
    w, h, r = c["width"], c["height"], c["r"]
    gt = (0, 0, w, h)
    q = {
        "iou_slid": box_iou(gt, (r, r, w + r, h + r)),
        "iou_shrunk": box_iou(gt, (r, r, w - r, h - r)),
        "iou_grown": box_iou(gt, (-r, -r, w + r, h + r)),
        "r_safe": gaussian_radius(h, w, c["min_overlap"], variant="corrected"),
    }
    return q | {"iou_min": min(q["iou_slid"], q["iou_shrunk"], q["iou_grown"])}


def radius_cases_explorer(width=24, height=16, min_overlap=0.7, r=2.0):
    """Chapter 2: a radius r -> the IoU of the three corner moves (slid, shrunk, grown by r)."""
    controls = sliders(*_RADIUS_CASES)
    shown = [S("iou_slid", "IoU slid", 3), S("iou_shrunk", "shrunk", 3)]
    shown += [S("iou_grown", "grown", 3), S("iou_min", "worst", 3), S("r_safe", "safe radius")]
    values = {"width": width, "height": height, "min_overlap": min_overlap, "r": r}
    return live(Explorer("radius_cases", controls, shown, values, size=(610, 225)))


@picture_of("radius_cases")
def _radius_cases_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

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


@numbers_of("focal", ("alpha", "beta", "y"), ("box", "size", "blob", "inside", "outside"))
def _focal(c, d):
    _within(c, _FOCAL_Y)
    alpha, beta, y = c["alpha"], c["beta"], c["y"]
    p = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    neg = focal_loss_terms(torch.logit(p), torch.full_like(p, min(y, 1 - 1e-12)), alpha, beta)
    q = {"weight": (1 - y) ** beta, "map_sum": _toy_terms(c, d).sum()}
    return q | dict(zip(("neg_at_01", "neg_at_05", "neg_at_09"), neg, strict=True))


def focal_loss_explorer(alpha=2.0, beta=4.0, y=0.5, *, yours=None, yours_with_logits=None):
    """Chapter 3: alpha, beta and a target value Y -> loss curves and a per-pixel loss map.

    ``yours``: your ``my_focal_loss(pred, gt)`` on probabilities, or ``yours_with_logits``
    your ``my_focal_loss_with_logits(logits, gt)``, shown beside the package's L_k
    (``widgets.yours``) in a live kernel."""
    controls = sliders(*_FOCAL_Y)
    shown = [S("weight", "(1 - Y)^beta", 3), S("neg_at_01", "negative loss at Yhat 0.1", 5)]
    shown += [S("neg_at_05", "0.5", 3), S("neg_at_09", "0.9", 3), S("map_sum", "toy map's loss")]
    data = TOY | {"blob": [10, 22], "inside": 0.5, "outside": -2.0}
    values = {"alpha": alpha, "beta": beta, "y": y}
    explorer = Explorer("focal", controls, shown, values, data, (660, 310))
    return live(explorer, yours=yours, yours_with_logits=yours_with_logits)


@picture_of("focal")
def _focal_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

    curves, loss_map = fig.subplots(1, 2, width_ratios=[1.3, 1])
    viz.plot_focal_curves(curves, c["alpha"], c["beta"], c["y"])
    terms = _toy_terms(c, d)[0, 0]
    title = f"per-pixel loss, sum {q['map_sum']:.2f}"
    viz.show_heatmap(loss_map, terms, title, vmax=float(terms.max()) or 1.0, cmap="viridis")


@numbers_of("focal_gradient", ("alpha", "beta", "x"), ("ys",))
def _focal_gradient(c, d):
    _within(c, _FOCAL_X)
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


def focal_gradient_explorer(alpha=2.0, beta=4.0, x=0.0, *, yours=None, yours_with_logits=None):
    """Chapter 3: the gradient dL/dz of one pixel's term against its logit z, for a positive
    and for negatives at several Y.

    ``yours`` (on probabilities) or ``yours_with_logits``: your focal loss, whose gradient
    by autograd is shown beside the package's (``widgets.yours``) in a live kernel."""
    controls = sliders(*_FOCAL_X)
    ys = [0.0, 0.5, 0.8, 0.95]
    shown = [S("probability", "Yhat", 3), S("loss_pos", "positive loss", 3)]
    shown += [S("grad_pos", "dL/dz positive", 4)]
    shown += [S(f"grad_neg_y{round(100 * y)}", f"negative Y = {y:g}", 6) for y in ys]
    values = {"alpha": alpha, "beta": beta, "x": x}
    explorer = Explorer("focal_gradient", controls, shown, values, {"ys": ys}, (640, 310))
    return live(explorer, yours=yours, yours_with_logits=yours_with_logits)


@picture_of("focal_gradient")
def _focal_gradient_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

    viz.plot_focal_gradients(fig.subplots(), c["alpha"], c["beta"], c["x"], d["ys"])


def _blob_logits(c, d) -> torch.Tensor:
    """The prediction "shape the prediction" moves: a Gaussian bump of probability."""
    n = torch.arange(d["size"], dtype=torch.float64)
    yy, xx = torch.meshgrid(n, n, indexing="ij")
    g = torch.exp(-((xx - c["x"]) ** 2 + (yy - c["y"]) ** 2) / (2 * c["sigma"] ** 2))
    return torch.logit(d["floor"] + (c["peak"] - d["floor"]) * g)[None, None]


@numbers_of("shape", ("x", "y", "sigma", "peak"), ("box", "size", "floor", "alpha", "beta"))
def _shape(c, d):
    _within(c, _SHAPE)
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


def shape_explorer(x=18.0, y=14.0, sigma=3.0, peak=0.5):
    """Chapter 3: move and resize a predicted blob -> L_k and the per-pixel gradient dL/dz."""
    controls = sliders(*_SHAPE)
    shown = [S("loss", "L_k", 3), S("pos", "positive part", 3), S("neg", "negative part", 3)]
    shown += [S("grad_peak", "dL/dz at the object's peak", 4), S("grad_max", "largest |dL/dz|", 4)]
    data = TOY | {"floor": 0.01, "alpha": ALPHA, "beta": BETA}
    values = {"x": x, "y": y, "sigma": sigma, "peak": peak}
    return live(Explorer("shape", controls, shown, values, data, (600, 310)))


@picture_of("shape")
def _shape_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

    gt, logits = _toy_target(d), _blob_logits(c, d).requires_grad_()
    loss = focal_loss_with_logits(logits, gt, d["alpha"], d["beta"])
    (grad,) = torch.autograd.grad(loss, logits)
    yhat, signed = fig.subplots(1, 2)
    viz.show_heatmap(yhat, torch.sigmoid(logits.detach())[0, 0], "prediction Yhat, target dashed")
    viz.draw_boxes(yhat, [d["box"]], linestyle="--")
    y, x = divmod(int(gt.argmax()), d["size"])
    yhat.plot([x], [y], "+", color="#4cc9f0", markersize=14, markeredgewidth=2)
    title = "dL/dz per pixel, sqrt scale\n(blue: raise, red: lower)"
    viz.show_signed_map(signed, grad[0, 0], title)


@numbers_of("offset", ("x", "y", "stride"))
def _offset(c, d):
    # The offset target p / R - floor(p / R) of encode_ctdet, in float64. Without an offset
    # decode_ctdet (as the original decoder) puts the centre at the cell's middle, +0.5.
    _within(c, _OFFSET)
    R = validate.option("stride", c["stride"], _STRIDES)
    px, py = c["x"] / R, c["y"] / R
    ox, oy = px - math.floor(px), py - math.floor(py)
    return {
        "cell_x": math.floor(px),
        "cell_y": math.floor(py),
        "offset_x": ox,
        "offset_y": oy,
        "error": math.hypot(ox - 0.5, oy - 0.5) * R,
        "max_error": R * math.sqrt(2) / 2,
        "error_corner": math.hypot(ox, oy) * R,
    }


def offset_explorer(x: float = 13.3, y: float = 6.8, stride: int = 4, *, yours=None):
    """Chapter 4: a sub-pixel centre and the stride R -> the cell, the offset and the error
    without it: at the cell's middle, where ``decode_ctdet`` without an offset puts the
    centre, and at the cell's corner, ``R floor(p / R)``.

    ``yours``: your ``my_reg_l1_loss(output, mask, ind, target)``, shown beside
    ``reg_l1_loss`` (``widgets.yours``) in a live kernel."""
    controls = [*sliders(*_OFFSET), Control("stride", "R", options=_STRIDES)]
    shown = [S("cell_x", "cell x", 0), S("cell_y", "y", 0), S("offset_x", "offset x", 3)]
    shown += [S("offset_y", "y", 3), S("error", "error without it, at the cell's middle (px)")]
    shown += [S("max_error", "at most"), S("error_corner", "at the cell's corner")]
    values = {"x": x, "y": y, "stride": stride}
    return live(Explorer("offset", controls, shown, values, size=(540, 350)), yours=yours)


@picture_of("offset")
def _offset_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

    viz.draw_quantisation(fig.subplots(), c["x"], c["y"], int(c["stride"]), middle=True)


@numbers_of("size", ("width", "height", "dw", "dh"), ("wh_weight",))
def _size(c, d):
    _within(c, _SIZE)
    # L_size as CenterNetLoss computes it for one object (N = 1): reg_l1_loss, the mean
    # over the 2N numbers compared (plus its 1e-4 in the denominator).
    w, h = c["width"], c["height"]
    pred = torch.tensor([w + c["dw"], h + c["dh"]], dtype=torch.float64).view(1, 2, 1, 1)
    target = torch.tensor([[[w, h]]], dtype=torch.float64)
    one = (torch.ones(1, 1), torch.zeros(1, 1, dtype=torch.long))  # mask, ind: N = 1
    wh_loss = losses.reg_l1_loss(pred, *one, target)
    iou = box_iou(*centred_boxes(w, h, c["dw"], c["dh"]))
    l1 = abs(c["dw"]) + abs(c["dh"])
    return {"l1": l1, "wh_loss": wh_loss, "weighted": d["wh_weight"] * wh_loss, "iou": iou}


def size_explorer(width=20.0, height=12.0, dw=3.0, dh=-2.0, *, yours=None):
    """Chapter 5: a box and a size error (dw, dh) -> the L1 error, ``L_size`` and its
    weighted term as ``CenterNetLoss`` computes them for one object, and the IoU it costs.

    ``yours``: your ``my_size_loss(output, mask, ind, target)``, shown beside the
    package's L_size (``widgets.yours``) in a live kernel."""
    controls = sliders(*_SIZE)
    weight = losses.CenterNetLoss().wh_weight
    shown = [S("l1", "|dw| + |dh|"), S("wh_loss", "L_size = (|dw| + |dh|) / 2N, N = 1", 3)]
    shown += [S("weighted", f"{weight:g} L_size", 3), S("iou", "IoU", 3)]
    values = {"width": width, "height": height, "dw": dw, "dh": dh}
    explorer = Explorer("size", controls, shown, values, {"wh_weight": weight}, (360, 350))
    return live(explorer, yours=yours)


@picture_of("size")
def _size_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

    viz.draw_size_error(fig.subplots(), c["width"], c["height"], c["dw"], c["dh"])
