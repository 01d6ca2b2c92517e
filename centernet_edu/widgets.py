"""The book's explorers: sliders, numbers and a picture that stay live without a kernel.

An explorer renders as one self-contained block of HTML (``Explorer._repr_html_``): a
range input (or a select) per control, an ``<output>`` per number, one ``svg.cn-figure``,
its fixed inputs as JSON, and the package's JavaScript inlined once
(``centernet_edu/explorers/*.js``: ``formulas.js`` the arithmetic, ``quantities.js`` the
numbers of each explorer, ``ui.js`` the controls and SVG, ``views.js`` the pictures). The
browser recomputes the numbers and redraws the picture on every ``input`` event, the same
in Jupyter, on Colab and in the built book, where no kernel runs; nothing is fetched.

``quantities(name, controls, data)`` is the reference the JavaScript is tested against
(``tests/test_explorers.py``): every number an explorer shows, computed with the
package's functions. The static figures the chapters print come from
``centernet_edu.viz``. Needs the ``book`` extra (matplotlib, through ``viz``).
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import validate, viz
from .data import ShapesDataset
from .decode import decode_ctdet, decode_exdet, heatmap_nms
from .evaluate import box_iou, centred_boxes, match_detections
from .heatmap import gaussian_radius
from .losses import ALPHA, BETA, focal_loss_terms, focal_loss_with_logits
from .targets import EXTREME_PARTS, encode_ctdet, target_radius

__all__ = [
    "Explorer",
    "quantities",
    "centre_explorer",
    "radius_explorer",
    "radius_cases_explorer",
    "focal_loss_explorer",
    "focal_gradient_explorer",
    "shape_explorer",
    "offset_explorer",
    "size_explorer",
    "prior_explorer",
    "prior_targets",
    "decode_explorer",
    "extreme_explorer",
]

SCRIPTS = ("formulas.js", "quantities.js", "ui.js", "views.js")  # in load order
SCRIPT_DIR = Path(__file__).parent / "explorers"


@dataclass(frozen=True)
class Control:
    """A slider from ``lo`` to ``hi`` by ``step``, or a select over ``options``."""

    name: str
    label: str
    lo: float = 0.0
    hi: float = 1.0
    step: float = 1.0
    integer: bool = False
    options: tuple = ()

    def check(self, value):
        """``value`` on the control's grid (the browser snaps a slider the same way)."""
        if self.options:
            return validate.choice(self.name, value, self.options)
        v = validate.number(self.name, value, self.lo, self.hi)
        v = round(min(self.lo + round((v - self.lo) / self.step) * self.step, self.hi), 10)
        return int(v) if self.integer else float(v)


@dataclass(frozen=True)
class Shown:
    """A number the explorer shows: ``<output name=name>`` with ``digits`` decimals."""

    name: str
    label: str
    digits: int = 2


def _num(v) -> str:
    """A number as the page writes it: integers without a point, floats in full."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


@functools.cache
def scripts() -> str:
    """The explorers' JavaScript, in load order, as one text to inline."""
    return "\n".join((SCRIPT_DIR / name).read_text() for name in SCRIPTS)


class Explorer:
    """One explorer: its controls at their values, the numbers it shows, its fixed data.

    ``name`` selects the numbers (``quantities``) and the picture (``views.js``); ``data``
    is JSON-ready and embedded in the page as it is. ``size`` is the figure's (w, h).
    """

    def __init__(self, name, controls, shown, values, data=None, size=(640, 320)):
        self.name, self.shown, self.data, self.size = name, tuple(shown), data or {}, size
        self.controls = {c.name: c for c in controls}
        self.values = {c.name: c.check(values[c.name]) for c in controls}
        self.numbers = self.quantities()  # computed once, so bad data fails here

    def quantities(self, **changes) -> dict[str, float]:
        """The numbers shown at the current values, or with some ``changes`` to them."""
        validate.has_keys("the explorer's controls", self.controls, changes)
        values = self.values | {k: self.controls[k].check(v) for k, v in changes.items()}
        return quantities(self.name, values, self.data)

    def __repr__(self) -> str:
        # The text a notebook saves beside the HTML: short, and without the scripts.
        controls = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{type(self).__name__}({controls})"

    def _repr_html_(self) -> str:
        controls = "".join(_control_html(c, self.values[c.name]) for c in self.controls.values())
        numbers = "".join(_shown_html(s, self.numbers[s.name]) for s in self.shown)
        w, h = self.size
        data = json.dumps(self.data, separators=(",", ":"), sort_keys=True).replace("</", "<\\/")
        return (
            f'<div class="cn-explorer" data-explorer="{self.name}">'
            f'<div class="cn-controls">{controls}</div><div class="cn-numbers">{numbers}</div>'
            f'<svg class="cn-figure" xmlns="http://www.w3.org/2000/svg" width="{w}" '
            f'height="{h}" viewBox="0 0 {w} {h}" role="img"></svg>'
            f'<script type="application/json" class="cn-data">{data}</script>'
            f"<script>{scripts()}\nCenterNetUI.mountFrom(document.currentScript);</script></div>"
        )


def _control_html(c: Control, value) -> str:
    label = html.escape(c.label)
    if c.options:
        options = "".join(
            f'<option value="{o}"{" selected" if o == value else ""}>{o}</option>'
            for o in c.options
        )
        return f'<label>{label} <select name="{c.name}">{options}</select></label>'
    return (
        f'<label>{label} <input type="range" name="{c.name}" min="{_num(c.lo)}" '
        f'max="{_num(c.hi)}" step="{_num(c.step)}" value="{_num(value)}"> '
        f'<span class="cn-readout">{_num(value)}</span></label>'
    )


def _shown_html(s: Shown, value: float) -> str:
    return (
        f'<span class="cn-q">{html.escape(s.label)} <output name="{s.name}" '
        f'data-digits="{s.digits}" data-value="{_num(value)}">{value:.{s.digits}f}</output></span>'
    )


# Fixed inputs as JSON: float32 values in their shortest form, read back exactly ---------


def _numpy(x, dtype=None) -> np.ndarray:
    if isinstance(x, torch.Tensor):  # any device; half precision as float32 (numpy has no bf16)
        x = x.detach().cpu().float() if x.is_floating_point() else x.detach().cpu()
    return np.asarray(x, dtype=dtype)


def _dense(x) -> dict:
    a = _numpy(x, np.float32)
    return {"shape": list(a.shape), "values": [float(str(v)) for v in a.ravel()]}


def _sparse(x) -> dict:
    a = _numpy(x, np.float32)
    index = np.flatnonzero(a)
    return {"shape": list(a.shape), "index": index.tolist()} | {
        "values": [float(str(v)) for v in a.ravel()[index]]
    }


def _array(p: dict) -> torch.Tensor:
    """An embedded array as a float64 tensor holding exactly its float32 values."""
    a = np.zeros(math.prod(p["shape"]), dtype=np.float32)
    a[p["index"] if "index" in p else slice(None)] = np.asarray(p["values"], dtype=np.float32)
    return torch.from_numpy(a.reshape(p["shape"])).double()


def _scene(image, gt, stride) -> dict:
    """What the decoding explorers draw over: the image (a PNG), the ground truth, R."""
    from PIL import Image

    a, buf = _numpy(image), io.BytesIO()
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3), got {validate.shape_of(image)}")
    Image.fromarray(a.astype(np.uint8)).save(buf, format="PNG")
    d = {"image": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()}
    d |= {
        "image_size": list(a.shape[:2]),
        "stride": validate.number("stride", stride, 0, open_low=True),
    }
    if gt is not None:
        boxes, labels = (_numpy(v) for v in gt)
        d["gt_boxes"] = boxes.reshape(-1, 4).astype(np.float64).tolist()
        d["gt_labels"] = labels.reshape(-1).astype(np.int64).tolist()
    return d


# The numbers each explorer shows, computed with the package ------------------------------


def _centre(c, d):
    R, bw, bh = d["R"], d["box_w"], d["box_h"]
    box = np.array([[c["cx"] - bw / 2, c["cy"] - bh / 2, c["cx"] + bw / 2, c["cy"] + bh / 2]])
    t = encode_ctdet(box / R, [0], 1, (d["size"], d["size"]), max_objs=1)
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


def _toy_target(d) -> torch.Tensor:
    """Chapter 3's toy target: one box on a small map, ``(1, 1, n, n)`` float64."""
    hm = encode_ctdet([d["box"]], [0], 1, (d["size"], d["size"]))["hm"]
    return hm[None].double()


def _focal(c, d):
    alpha, beta, y = c["alpha"], c["beta"], c["y"]
    p = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    neg = focal_loss_terms(torch.logit(p), torch.full_like(p, min(y, 1 - 1e-12)), alpha, beta)
    gt = _toy_target(d)
    logits = torch.full_like(gt, d["outside"])  # a blob that is too wide and too weak
    lo, hi = d["blob"]
    logits[..., lo:hi, lo:hi] = d["inside"]
    q = {"weight": (1 - y) ** beta, "map_sum": focal_loss_terms(logits, gt, alpha, beta).sum()}
    return q | dict(zip(("neg_at_01", "neg_at_05", "neg_at_09"), neg, strict=True))


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


def _blob_logits(c, d) -> torch.Tensor:
    """The prediction "shape the prediction" moves: a Gaussian bump of probability."""
    n = torch.arange(d["size"], dtype=torch.float64)
    yy, xx = torch.meshgrid(n, n, indexing="ij")
    g = torch.exp(-((xx - c["x"]) ** 2 + (yy - c["y"]) ** 2) / (2 * c["sigma"] ** 2))
    return torch.logit(d["floor"] + (c["peak"] - d["floor"]) * g)[None, None]


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


def _size(c, d):
    l1 = abs(c["dw"]) + abs(c["dh"])
    iou = box_iou(*centred_boxes(c["width"], c["height"], c["dw"], c["dh"]))
    return {"l1": l1, "weighted": 0.1 * l1, "iou": iou}


def _prior(c, d):
    pi = 10.0 ** c["log10_pi"]
    pos, neg = viz.prior_loss(_array(d["gt"]), pi)
    return {"pi": pi, "bias": math.log(pi / (1 - pi)), "pos": pos, "neg": neg, "total": pos + neg}


def _hits(q, kept, d):
    """Hits and false positives of the detections ``kept`` (best first) at IoU 0.5."""
    if "gt_boxes" in d:
        boxes = kept[:, :4] * d["stride"]
        m = match_detections(boxes, kept[:, 5], d["gt_boxes"], d["gt_labels"])
        q["hits"] = sum(j >= 0 for j in m)
        q["false_positives"] = len(m) - q["hits"]
    return q


def _decode(c, d):
    hm, wh, reg = (_array(d[k])[None] for k in ("hm", "wh", "reg"))
    K, kernel, threshold = int(c["K"]), int(c["kernel"]), c["threshold"]
    survivors = int((heatmap_nms(hm, kernel) >= threshold).sum())
    dets = decode_ctdet(hm, wh, reg, K=K, kernel=kernel)[0]
    kept = dets[dets[:, 4] >= threshold]
    return _hits({"survivors": survivors, "kept": len(kept)}, kept, d)


def _extreme(c, d):
    heads = {k: _array(v)[None] for k, v in d.items() if k.startswith(("hm_", "reg_"))}
    K = int(c["K"])
    dets = decode_exdet(heads, K=K, num_dets=K**4, center_thresh=c["center_thresh"])[0]
    valid = dets[dets[:, 4] >= 0]  # the valid groupings, best first
    shown = valid[valid[:, 4] >= c["threshold"]]
    return _hits({"quadruples": K**4, "valid": len(valid), "shown": len(shown)}, shown, d)


_QUANTITIES: dict[str, Callable[[dict, dict], dict]] = {
    "centre": _centre,
    "radius": _radius,
    "radius_cases": _radius_cases,
    "focal": _focal,
    "focal_gradient": _focal_gradient,
    "shape": _shape,
    "offset": _offset,
    "size": _size,
    "prior": _prior,
    "decode": _decode,
    "extreme": _extreme,
}


def quantities(name: str, controls: dict, data: dict | None = None) -> dict[str, float]:
    """Every number explorer ``name`` shows at ``controls``, computed with the package.

    ``data`` is the explorer's embedded data (``Explorer.data``). The browser computes
    the same numbers in ``quantities.js``; ``tests/test_explorers.py`` holds them equal.
    """
    validate.choice("name", name, tuple(_QUANTITIES))
    return {k: float(v) for k, v in _QUANTITIES[name](controls, data or {}).items()}


# The explorers, chapter by chapter ---------------------------------------------------------

S = Shown
TOY = {"box": [8, 8, 24, 24], "size": 32}  # chapter 3's one object on a 32 x 32 map
MATCHES = [S("hits", "objects found at IoU 0.5", 0), S("false_positives", "false positives", 0)]


def _sliders(*specs) -> list[Control]:
    return [Control(*spec) for spec in specs]


def centre_explorer(cx: float = 50.0, cy: float = 62.0) -> Explorer:
    """Chapter 1: a 40 x 28 box's centre (image pixels, R = 4) -> its peak p~ and offset."""
    controls = _sliders(("cx", "centre x", 20, 108, 0.25), ("cy", "centre y", 14, 114, 0.25))
    shown = [S("peak_x", "peak p~ x", 0), S("peak_y", "y", 0), S("offset_x", "offset x", 3)]
    shown += [S("offset_y", "y", 3), S("radius", "radius", 0)]
    data = {"R": 4, "box_w": 40, "box_h": 28, "size": 32}
    return Explorer("centre", controls, shown, {"cx": cx, "cy": cy}, data, (340, 330))


def radius_explorer(width: int = 24, height: int = 16, min_overlap: float = 0.7) -> Explorer:
    """Chapter 2: box size and min_overlap -> the reference and corrected radius, the splats."""
    controls = _sliders(
        ("width", "box width", 1, 60, 1, True),
        ("height", "box height", 1, 60, 1, True),
        ("min_overlap", "min IoU", 0.1, 0.95, 0.05),
    )
    shown = [S("r_centernet", "reference radius"), S("sigma_centernet", "sigma")]
    shown += [S("r_corrected", "corrected radius"), S("sigma_corrected", "sigma")]
    shown += [S("ratio", "ratio")]
    values = {"width": width, "height": height, "min_overlap": min_overlap}
    return Explorer("radius", controls, shown, values, size=(600, 300))


def radius_cases_explorer(width=24, height=16, min_overlap=0.7, r=2.0) -> Explorer:
    """Chapter 2: a radius r -> the IoU of the three corner moves (slid, shrunk, grown by r)."""
    controls = _sliders(
        ("width", "box width", 1, 60, 1, True),
        ("height", "box height", 1, 60, 1, True),
        ("min_overlap", "min IoU", 0.1, 0.95, 0.05),
        ("r", "radius r", 0, 20, 0.1),
    )
    shown = [S("iou_slid", "IoU slid", 3), S("iou_shrunk", "shrunk", 3)]
    shown += [S("iou_grown", "grown", 3), S("iou_min", "worst", 3), S("r_safe", "safe radius")]
    values = {"width": width, "height": height, "min_overlap": min_overlap, "r": r}
    return Explorer("radius_cases", controls, shown, values, size=(610, 225))


def focal_loss_explorer(alpha: float = 2.0, beta: float = 4.0, y: float = 0.5) -> Explorer:
    """Chapter 3: alpha, beta and a target value Y -> loss curves and a per-pixel loss map."""
    controls = _sliders(
        ("alpha", "alpha", 0, 5, 0.5), ("beta", "beta", 0, 8, 0.5), ("y", "target Y", 0, 0.99, 0.01)
    )
    shown = [S("weight", "(1 - Y)^beta", 3), S("neg_at_01", "negative loss at Yhat 0.1", 5)]
    shown += [S("neg_at_05", "0.5", 3), S("neg_at_09", "0.9", 3), S("map_sum", "toy map's loss")]
    data = TOY | {"blob": [10, 22], "inside": 0.5, "outside": -2.0}
    values = {"alpha": alpha, "beta": beta, "y": y}
    return Explorer("focal", controls, shown, values, data, (660, 310))


def focal_gradient_explorer(alpha: float = 2.0, beta: float = 4.0, x: float = 0.0) -> Explorer:
    """Chapter 3: the gradient dL/dx of one pixel's term against its logit x, for a positive
    and for negatives at several Y."""
    controls = _sliders(("alpha", "alpha", 0, 5, 0.5), ("beta", "beta", 0, 8, 0.5))
    controls += _sliders(("x", "logit x", -8, 8, 0.1))
    ys = [0.0, 0.5, 0.8, 0.95]
    shown = [S("probability", "Yhat", 3), S("loss_pos", "positive loss", 3)]
    shown += [S("grad_pos", "dL/dx positive", 4)]
    shown += [S(f"grad_neg_y{round(100 * y)}", f"negative Y = {y:g}", 6) for y in ys]
    values = {"alpha": alpha, "beta": beta, "x": x}
    return Explorer("focal_gradient", controls, shown, values, {"ys": ys}, (640, 310))


def shape_explorer(x=18.0, y=14.0, sigma=3.0, peak=0.5) -> Explorer:
    """Chapter 3: move and resize a predicted blob -> L_k and the per-pixel gradient dL/dx."""
    controls = _sliders(
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


def offset_explorer(x: float = 13.3, y: float = 6.8, stride: int = 4) -> Explorer:
    """Chapter 4: a sub-pixel centre and the stride R -> the cell, the offset and the error."""
    controls = _sliders(("x", "centre x", 0, 23.9, 0.1), ("y", "centre y", 0, 23.9, 0.1))
    controls += [Control("stride", "R", options=(1, 2, 4, 8))]
    shown = [S("cell_x", "cell x", 0), S("cell_y", "y", 0), S("offset_x", "offset x", 3)]
    shown += [S("offset_y", "y", 3), S("error", "error without it (px)"), S("max_error", "at most")]
    values = {"x": x, "y": y, "stride": stride}
    return Explorer("offset", controls, shown, values, size=(540, 350))


def size_explorer(width: float = 20.0, height: float = 12.0, dw: float = 3.0, dh: float = -2.0):
    """Chapter 5: a box and a size error (dw, dh) -> the L1 size loss and the IoU it costs."""
    controls = _sliders(("width", "width", 2, 60, 1), ("height", "height", 2, 60, 1))
    controls += _sliders(("dw", "dw", -20, 20, 0.5), ("dh", "dh", -20, 20, 0.5))
    shown = [S("l1", "L1 on (w, h)"), S("weighted", "weighted by 0.1", 3), S("iou", "IoU", 3)]
    values = {"width": width, "height": height, "dw": dw, "dh": dh}
    return Explorer("size", controls, shown, values, size=(360, 350))


def prior_targets(seed: int = 0) -> torch.Tensor:
    """The heatmap targets of the 8 synthetic images ``prior_explorer`` shows, ``(8, C, H, W)``."""
    data = ShapesDataset(length=8, seed=seed)
    return torch.stack([data[i]["hm"] for i in range(len(data))])


def prior_explorer(pi: float = 0.1) -> Explorer:
    """Chapter 6: the probability pi every pixel starts at -> the focal loss at initialisation.

    The slider moves log10(pi) from -4 to -0.05 by 0.05."""
    pi = validate.number("pi", pi, 0, 1, open_low=True, open_high=True)
    controls = _sliders(("log10_pi", "log10 prior pi", -4, -0.05, 0.05))
    shown = [S("pi", "pi", 4), S("bias", "bias b = log(pi / (1 - pi))"), S("pos", "L_k: positives")]
    shown += [S("neg", "+ negatives"), S("total", "= per object")]
    data = {"gt": _sparse(prior_targets())}
    return Explorer("prior", controls, shown, {"log10_pi": math.log10(pi)}, data, (680, 320))


def decode_explorer(image, heads: dict, gt=None, *, stride=4, threshold=0.3, K=20, kernel=3):
    """Chapter 8: score threshold, K and the max-pool window -> the peaks and their boxes.

    ``image (H, W, 3)`` uint8 is the picture the heads were computed from; ``heads`` one
    image's ``hm (C, h, w)`` probabilities (after the sigmoid), ``wh`` and ``reg (2, h, w)``;
    ``gt`` optional ``(boxes (N, 4), labels (N,))`` in image pixels, drawn dotted and
    counted against; ``stride`` R, image pixels per heatmap pixel.
    """
    validate.has_keys("heads", heads, ["hm", "wh", "reg"])
    validate.tensor("heads['hm']", heads["hm"], 3, "(C, H, W)")
    C, H, W = heads["hm"].shape
    controls = _sliders(("threshold", "score threshold", 0.05, 0.95, 0.05))
    controls += _sliders(("K", "K", 1, min(50, H * W), 1, True))
    controls += [Control("kernel", "max-pool", options=(1, 3, 5, 7))]
    shown = [S("survivors", "peaks above the threshold", 0), S("kept", "kept in the top K", 0)]
    data = _scene(image, gt, stride) | {k: _dense(heads[k]) for k in ("hm", "wh", "reg")}
    values = {"threshold": threshold, "K": K, "kernel": kernel}
    return Explorer(
        "decode", controls, shown + MATCHES[: 2 * (gt is not None)], values, data, (630, 330)
    )


def extreme_explorer(
    image, heads: dict, gt=None, *, stride=4, K=10, center_thresh=0.1, threshold=0.3
):
    """Chapter 9: K, the centre check and a display threshold -> the boxes ``decode_exdet``
    groups. ``heads``: one image's ``hm_t .. hm_c (C, h, w)`` probabilities and optionally
    ``reg_t .. reg_r (2, h, w)``; ``image``, ``gt`` and ``stride`` as ``decode_explorer``."""
    validate.has_keys("heads", heads, [f"hm_{p}" for p in "tlbrc"])
    validate.tensor("heads['hm_c']", heads["hm_c"], 3, "(C, H, W)")
    _, H, W = heads["hm_c"].shape
    controls = _sliders(("K", "K", 1, min(16, H * W), 1, True))
    controls += _sliders(("center_thresh", "centre threshold", 0, 0.9, 0.05))
    controls += _sliders(("threshold", "score threshold", 0.05, 0.95, 0.05))
    shown = [S("quadruples", "quadruples (t, l, b, r)", 0), S("valid", "valid groupings", 0)]
    shown += [S("shown", "scoring at least the threshold", 0)]
    keys = [f"hm_{p}" for p in "tlbrc"] + [f"reg_{p}" for p in EXTREME_PARTS if f"reg_{p}" in heads]
    data = _scene(image, gt, stride) | {k: _dense(heads[k]) for k in keys}
    values = {"K": K, "center_thresh": center_thresh, "threshold": threshold}
    return Explorer(
        "extreme", controls, shown + MATCHES[: 2 * (gt is not None)], values, data, (360, 370)
    )
