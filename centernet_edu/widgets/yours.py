"""Your function beside the package's: what an explorer shows of a student's function.

An explorer opened on a student's function (``focal_loss_explorer(yours=my_focal_loss)``)
calls it on every change of its controls, on the same inputs as the package's function,
and shows both results, their difference, and the first row where they disagree.

Each comparison is registered with ``comparison_of(explorer, role)``: ``f(controls, data)
-> Sheet``, the package's numbers and, for each, a call of the student's function still to
be made. ``compare`` makes those calls one by one: a function that raises, or returns the
wrong shape, stops the comparison there and its error is shown in the explorer, which
keeps working. Everything ``compare`` returns is JSON: a number that is not finite is
written as text (``"nan"``, ``"inf"``), which JSON cannot hold as a number.

The roles: ``yours`` is the function the explorer's chapter asks for first; chapter 2's
radius explorer also takes ``yours_gaussian`` (the splat), chapter 8's decoding explorer
``yours_nms`` (the peak finder).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..decode import decode_ctdet, heatmap_nms
from ..heatmap import draw_gaussian, gaussian_radius
from ..losses import focal_loss_terms, reg_l1_loss
from ..targets import encode_ctdet
from .explorer import array

# Relative and absolute tolerance of "agrees": float32 arithmetic on one side, float64 on
# the other, still agrees; a wrong formula does not.
RTOL, ATOL = 1e-5, 1e-6


@dataclass
class Sheet:
    """One comparison at one setting of the controls.

    ``rows``: ``(label, package's value, call)``, ``call()`` running the student's function
    and returning its value. ``plot``, when the comparison has a picture: ``x`` values, axis
    labels and ``lines``, each ``(label, package's values, call)``. ``note``: what the reader
    should know about the inputs (such as an exponent the student's function lacks).
    """

    rows: list[tuple[str, float, Callable[[], float]]]
    plot: dict | None = None
    lines: list[tuple[str, list[float], Callable[[], list[float]]]] = field(default_factory=list)
    note: str = ""


COMPARISONS: dict[tuple[str, str], Callable[[dict, dict], Sheet]] = {}
ROLES: dict[str, tuple[str, ...]] = {}  # the roles of each explorer, in the order shown


def comparison_of(name: str, role: str = "yours"):
    """Register ``f(controls, data) -> Sheet`` as what explorer ``name`` shows of the
    function given as ``role``; ``f`` receives that function as its keyword ``fn``."""

    def register(f):
        COMPARISONS[name, role] = f
        ROLES[name] = (*ROLES.get(name, ()), role)
        return f

    return register


def roles(name: str) -> tuple[str, ...]:
    """The keywords by which explorer ``name`` takes a student's function, maybe none."""
    return ROLES.get(name, ())


def _json(v) -> float | str | None:
    """A number as JSON holds it; a non-finite one as text."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else str(v)


def _agree(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)


def compare(name: str, role: str, controls: dict, data: dict, fn) -> dict:
    """The comparison of ``fn`` with the package's function, JSON-ready.

    ``{"role", "function", "note", "rows", "first", "plot", "error"}``: each row
    ``{"label", "package", "yours", "difference", "agree"}`` (``yours``, ``difference`` and
    ``agree`` None where the student's function was not reached); ``first`` the index of
    the first row that disagrees, or -1; ``error`` what the student's function raised, or
    "": the first error stops the calls, the package's numbers are all shown.
    """
    sheet = COMPARISONS[name, role](controls, data, fn=fn)
    out = {"role": role, "function": _name(fn), "note": sheet.note, "rows": [], "first": -1}
    out |= {"plot": None, "error": ""}
    for label, package, call in sheet.rows:
        row = {"label": label, "package": _json(package), "yours": None, "difference": None}
        row["agree"] = None
        out["rows"].append(row)
        yours = _call(out, lambda call=call: float(call()))
        if yours is None:
            continue
        row["yours"], row["difference"] = _json(yours), _json(yours - float(package))
        row["agree"] = _agree(float(package), yours)
        if not row["agree"] and out["first"] < 0:
            out["first"] = len(out["rows"]) - 1
    if sheet.plot is not None:
        out["plot"] = dict(sheet.plot, lines=[])
        for label, package, call in sheet.lines:
            ys = _call(out, lambda call=call: [_json(v) for v in call()])
            line = {"label": label, "package": [_json(v) for v in package], "yours": ys}
            out["plot"]["lines"].append(line)
    return out


def _call(out: dict, call):
    """``call()``, unless an earlier call failed; what it raises goes to out["error"]."""
    if out["error"]:
        return None
    try:
        return call()
    except Exception as error:  # the student's code: show what it raised, keep going
        out["error"] = f"{type(error).__name__}: {error}"
        return None


# What a student's function returns ----------------------------------------------------------


def one_number(result, fn_name: str) -> float:
    """A loss: a float or a tensor of one element (0-d, as the package returns)."""
    if isinstance(result, torch.Tensor):
        if result.dim() != 0:
            raise ValueError(
                f"{fn_name} returned a tensor of shape {tuple(result.shape)}; expected one "
                "number, a 0-d tensor"
            )
        return float(result.detach().reshape(()))
    if isinstance(result, int | float | np.floating | np.integer) and not isinstance(result, bool):
        return float(result)
    raise ValueError(f"{fn_name} returned {type(result).__name__}; expected one number")


def of_shape(result, shape: tuple, fn_name: str) -> torch.Tensor:
    """An array of ``shape`` (a tensor or a numpy array) as a float64 tensor."""
    if isinstance(result, np.ndarray):
        result = torch.from_numpy(result)
    if not isinstance(result, torch.Tensor):
        raise ValueError(
            f"{fn_name} returned {type(result).__name__}; expected a tensor of shape {shape}"
        )
    if tuple(result.shape) != tuple(shape):
        raise ValueError(f"{fn_name} returned shape {tuple(result.shape)}; expected {tuple(shape)}")
    return result.detach().double()


def _name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _takes(fn, *names: str) -> bool:
    """Whether fn accepts each of ``names`` as a keyword."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return True
    return all(n in params for n in names)


def _grid(lo: float, hi: float, n: int) -> list[float]:
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


# Chapter 1: the targets of one box ----------------------------------------------------------

TARGETS = ("hm", "wh", "reg", "ind", "reg_mask")  # what encode_ctdet returns


@comparison_of("centre")
def _centre(c, d, fn) -> Sheet:
    R, n, name = d["R"], d["size"], _name(fn)
    w, h = d["box_w"], d["box_h"]
    box = np.array([[c["cx"] - w / 2, c["cy"] - h / 2, c["cx"] + w / 2, c["cy"] + h / 2]]) / R
    want = encode_ctdet(box, [0], 1, (n, n), max_objs=1)
    made = {}

    def targets() -> dict:
        if "t" not in made:
            out = fn(box.copy(), [0], 1, (n, n), max_objs=1)
            if not isinstance(out, dict) or not set(TARGETS) <= set(out):
                raise ValueError(f"{name} returned no dict with keys {', '.join(TARGETS)}")
            made["t"] = {k: of_shape(out[k], tuple(want[k].shape), name) for k in TARGETS}
        return made["t"]

    ind = int(want["ind"][0])
    y, x = divmod(ind, n)
    rows = [
        ("ind of the peak, y W + x", ind, lambda: targets()["ind"][0]),
        ("offset x", want["reg"][0, 0], lambda: targets()["reg"][0, 0]),
        ("offset y", want["reg"][0, 1], lambda: targets()["reg"][0, 1]),
        ("size w", want["wh"][0, 0], lambda: targets()["wh"][0, 0]),
        ("size h", want["wh"][0, 1], lambda: targets()["wh"][0, 1]),
        ("heatmap at the peak", want["hm"][0, y, x], lambda: targets()["hm"][0, y, x]),
        ("sum of the heatmap", want["hm"].sum(), lambda: targets()["hm"].sum()),
    ]
    xs = list(range(max(0, x - 5), min(n, x + 6)))
    lines = [
        ("the row of the peak", want["hm"][0, y, xs].tolist(), lambda: targets()["hm"][0, y, xs])
    ]
    plot = {"x": xs, "xlabel": "x on the row of the peak", "ylabel": "Y"}
    note = f"one {w} x {h} box, R = {R}, on a {n} x {n} map, max_objs = 1"
    return Sheet(rows, plot, lines, note)


# Chapter 2: the radius and the splat ---------------------------------------------------------


@comparison_of("radius")
def _radius(c, d, fn) -> Sheet:
    h, w, o = c["height"], c["width"], c["min_overlap"]
    name = _name(fn)

    def r(height, width):
        return lambda: one_number(fn(height, width, o), name)

    def package(height, width):
        return gaussian_radius(height, width, o, variant="corrected")

    rows = [(f"r of a {w} x {h} box", package(h, w), r(h, w))]
    rows += [(f"r of a {2 * w} x {2 * h} box", package(2 * h, 2 * w), r(2 * h, 2 * w))]
    widths = list(range(1, 61))
    lines = [
        (
            f"r at height {h}",
            [package(h, x) for x in widths],
            lambda: [one_number(fn(h, x, o), name) for x in widths],
        )
    ]
    plot = {"x": widths, "xlabel": "box width", "ylabel": "r"}
    return Sheet(rows, plot, lines, note=f"the corrected radius at min IoU {o:g}")


SPLAT = 64  # chapter 2's splats: a 64 x 64 map, the Gaussian at its middle


@comparison_of("radius", "yours_gaussian")
def _gaussian(c, d, fn) -> Sheet:
    radius = int(gaussian_radius(c["height"], c["width"], c["min_overlap"], variant="corrected"))
    centre, name = (SPLAT // 2, SPLAT // 2), _name(fn)
    want = np.zeros((SPLAT, SPLAT))
    draw_gaussian(want, centre, radius)
    made = {}

    def splat() -> torch.Tensor:
        if "map" not in made:
            heatmap = np.zeros((SPLAT, SPLAT))
            out = fn(heatmap, centre, radius)
            made["map"] = of_shape(heatmap if out is None else out, (SPLAT, SPLAT), name)
        return made["map"]

    y0, x0 = centre[1], centre[0]
    rows = [
        ("value at the centre", want[y0, x0], lambda: splat()[y0, x0]),
        (f"value {radius} pixels right", want[y0, x0 + radius], lambda: splat()[y0, x0 + radius]),
        ("sum of the map", want.sum(), lambda: splat().sum()),
        ("pixels above 0", (want > 0).sum(), lambda: (splat() > 0).sum()),
    ]
    xs = list(range(x0 - radius - 2, x0 + radius + 3))
    lines = [("the row through the centre", [want[y0, x] for x in xs], lambda: splat()[y0, xs])]
    plot = {"x": xs, "xlabel": "x on the row of the centre", "ylabel": "Y"}
    note = f"a splat of radius {radius} at ({x0}, {y0}) on a {SPLAT} x {SPLAT} map of zeros"
    return Sheet(rows, plot, lines, note)


# Chapter 3: the focal loss and its gradient --------------------------------------------------


def _exponents(c, fn) -> tuple[dict, str]:
    """The alpha and beta to compare at: the controls' if fn takes them, else 2 and 4."""
    if _takes(fn, "alpha", "beta"):
        return {"alpha": c["alpha"], "beta": c["beta"]}, ""
    note = "your function has no alpha and beta: compared at alpha 2, beta 4"
    return {}, note


def _pixel(v: float) -> torch.Tensor:
    return torch.full((1, 1, 1, 1), float(v), dtype=torch.float64)


def _package_focal(logits, gt, kw):
    n = max(int((gt == 1).sum()), 1)
    return float(focal_loss_terms(logits, gt, kw.get("alpha", 2), kw.get("beta", 4)).sum() / n)


@comparison_of("focal")
def _focal(c, d, fn) -> Sheet:
    kw, note = _exponents(c, fn)
    name, y = _name(fn), c["y"]

    def loss(p, target):  # the student's L_k of one pixel predicted at p
        return one_number(fn(_pixel(p), _pixel(target), **kw), name)

    def package(p, target):
        return _package_focal(torch.logit(_pixel(p)), _pixel(target), kw)

    rows = []
    for p in (0.1, 0.5, 0.9):
        rows.append((f"positive at Yhat {p}", package(p, 1.0), lambda p=p: loss(p, 1.0)))
    for p in (0.1, 0.5, 0.9):
        rows.append((f"negative at Yhat {p}, Y = {y:g}", package(p, y), lambda p=p: loss(p, y)))
    n = d["size"]  # the focal explorer's toy map: one box on an n x n map
    gt = encode_ctdet([d["box"]], [0], 1, (n, n))["hm"][None].double()
    logits = torch.full_like(gt, float(d["outside"]))
    lo, hi = d["blob"]
    logits[..., lo:hi, lo:hi] = float(d["inside"])
    pred = torch.sigmoid(logits)
    rows.append(
        (
            f"L_k of the {n} x {n} map",
            _package_focal(logits, gt, kw),
            lambda: one_number(fn(pred.clone(), gt.clone(), **kw), name),
        )
    )
    ps = _grid(0.01, 0.99, 50)
    lines = [
        ("positive", [package(p, 1.0) for p in ps], lambda: [loss(p, 1.0) for p in ps]),
        (f"negative at Y = {y:g}", [package(p, y) for p in ps], lambda: [loss(p, y) for p in ps]),
    ]
    plot = {"x": ps, "xlabel": "predicted probability Yhat", "ylabel": "loss"}
    return Sheet(rows, plot, lines, note)


def _on_probabilities(fn):
    """A loss on logits (``my_focal_loss_with_logits``) as a loss on probabilities."""

    @functools.wraps(fn)  # its name, and its signature for _takes
    def on_probabilities(pred, gt, **kw):
        return fn(torch.logit(pred), gt, **kw)

    return on_probabilities


@comparison_of("focal", "yours_with_logits")
def _focal_with_logits(c, d, fn) -> Sheet:
    return _focal(c, d, fn=_on_probabilities(fn))


def _gradient(loss_of, x: float, target: float) -> float:
    """d loss / d z at the logit z of one pixel of target Y, by autograd."""
    logit = _pixel(x).requires_grad_()
    loss = loss_of(logit, _pixel(target))
    if not isinstance(loss, torch.Tensor) or not loss.requires_grad:
        raise ValueError("the loss carries no gradient: compute it from pred with torch operations")
    (grad,) = torch.autograd.grad(loss.reshape(-1).sum(), logit)
    return float(grad)


@comparison_of("focal_gradient")
def _focal_gradient(c, d, fn) -> Sheet:
    kw, note = _exponents(c, fn)
    name = _name(fn)

    def yours(x, target):
        def loss(logit, gt):
            out = fn(torch.sigmoid(logit), gt, **kw)
            one_number(out, name)  # the shape, before the gradient
            return out

        return _gradient(loss, x, target)

    def package(x, target):
        a, b = kw.get("alpha", 2), kw.get("beta", 4)
        return _gradient(
            lambda logit, gt: (
                focal_loss_terms(logit, gt, a, b).sum() / max(int((gt == 1).sum()), 1)
            ),
            x,
            target,
        )

    x = c["x"]
    rows = [(f"dL/dz of a positive at z = {x:g}", package(x, 1.0), lambda: yours(x, 1.0))]
    for y in d["ys"]:
        rows.append((f"dL/dz of a negative at Y = {y:g}", package(x, y), lambda y=y: yours(x, y)))
    xs = _grid(-6, 6, 41)
    lines = [("positive", [package(v, 1.0) for v in xs], lambda: [yours(v, 1.0) for v in xs])]
    plot = {"x": xs, "xlabel": "logit z", "ylabel": "dL/dz"}
    return Sheet(rows, plot, lines, note + ("; " if note else "") + "gradients by autograd")


@comparison_of("focal_gradient", "yours_with_logits")
def _focal_gradient_with_logits(c, d, fn) -> Sheet:
    return _focal_gradient(c, d, fn=_on_probabilities(fn))


# Chapters 4 and 5: the L1 losses at the centre -----------------------------------------------


def _one_object(W: int, cell: tuple[int, int], target: tuple[float, float]):
    """mask, ind, target of one object at ``cell`` (x, y) of a W-wide map, in slot 0 of
    two; slot 1 is empty, zeros as ``encode_ctdet`` leaves it."""
    mask = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    ind = torch.tensor([[cell[1] * W + cell[0], 0]])
    goal = torch.tensor([[list(target), [0.0, 0.0]]], dtype=torch.float64)
    return mask, ind, goal


def _head(H: int, W: int, cell: tuple[int, int], value: tuple[float, float]) -> torch.Tensor:
    """A (1, 2, H, W) head that predicts ``value`` at ``cell`` and 0 elsewhere."""
    out = torch.zeros(1, 2, H, W, dtype=torch.float64)
    out[0, :, cell[1], cell[0]] = torch.tensor(value, dtype=torch.float64)
    return out


def _l1_sheet(fn, H, W, cell, target, predictions, sweep, note) -> Sheet:
    """Rows: the L1 loss of each ``(label, prediction)``; a line over ``sweep`` (xs,
    label, prediction of x)."""
    name = _name(fn)
    mask, ind, goal = _one_object(W, cell, target)

    def both(value):
        head = _head(H, W, cell, value)
        package = float(reg_l1_loss(head, mask, ind, goal))

        def call():
            return one_number(fn(head.clone(), mask.clone(), ind.clone(), goal.clone()), name)

        return package, call

    rows = []
    for label, value in predictions:
        package, call = both(value)
        rows.append((label, package, call))
    xs, xlabel, predict = sweep
    pairs = [both(predict(x)) for x in xs]
    lines = [("L1 loss", [p for p, _ in pairs], lambda: [call() for _, call in pairs])]
    return Sheet(rows, {"x": xs, "xlabel": xlabel, "ylabel": "loss"}, lines, note)


@comparison_of("offset")
def _offset(c, d, fn) -> Sheet:
    R = c["stride"]
    px, py = c["x"] / R, c["y"] / R
    cell = (math.floor(px), math.floor(py))
    target = (px - cell[0], py - cell[1])
    H = W = max(cell) + 2
    predictions = [
        ("predicting 0, 0 (the cell's corner)", (0.0, 0.0)),
        ("predicting 0.5, 0.5 (the cell's middle)", (0.5, 0.5)),
        ("predicting the true offset", target),
    ]
    xs = _grid(0, 1, 21)
    sweep = (xs, "predicted x offset (y offset exact)", lambda x: (x, target[1]))
    note = (
        f"one object at cell {cell}, its offset ({target[0]:.3f}, {target[1]:.3f}); one empty slot"
    )
    return _l1_sheet(fn, H, W, cell, target, predictions, sweep, note)


@comparison_of("size")
def _size(c, d, fn) -> Sheet:
    w, h, dw, dh = c["width"], c["height"], c["dw"], c["dh"]
    cell, target = (3, 2), (float(w), float(h))
    predictions = [
        (f"L_size predicting {w + dw:g} x {h + dh:g}", (w + dw, h + dh)),
        (f"L_size predicting {w + 2 * dw:g} x {h + 2 * dh:g}", (w + 2 * dw, h + 2 * dh)),
    ]
    xs = [float(v) for v in range(-10, 11)]
    sweep = (xs, f"size error dw (dh = {dh:g})", lambda x: (w + x, h + dh))
    note = f"one {w} x {h} object, one empty slot; before the weight lambda_size"
    return _l1_sheet(fn, 6, 8, cell, target, predictions, sweep, note)


# Chapter 8: peaks and decoding ---------------------------------------------------------------


def _heads(d) -> tuple[torch.Tensor, ...]:
    return tuple(array(d[k])[None] for k in ("hm", "wh", "reg"))


@comparison_of("decode", "yours_nms")
def _nms(c, d, fn) -> Sheet:
    hm = _heads(d)[0]
    kernel, note = int(c["kernel"]), ""
    kw = {"kernel": kernel} if _takes(fn, "kernel") else {}
    if not kw and kernel != 3:
        kernel, note = 3, "your function has no kernel: compared with the 3 x 3 window"
    want = heatmap_nms(hm, kernel)
    name, made = _name(fn), {}

    def peaks():
        if "map" not in made:
            made["map"] = of_shape(fn(hm.clone(), **kw), tuple(hm.shape), name)
        return made["map"]

    t = c["threshold"]
    rows = [
        ("pixels kept (not 0)", (want != 0).sum(), lambda: (peaks() != 0).sum()),
        (f"peaks of at least {t:g}", (want >= t).sum(), lambda: (peaks() >= t).sum()),
        ("sum of the kept scores", want.sum(), lambda: peaks().sum()),
    ]
    return Sheet(rows, note=note)


@comparison_of("decode")
def _decode(c, d, fn) -> Sheet:
    hm, wh, reg = _heads(d)
    K, t = int(c["K"]), c["threshold"]
    want = decode_ctdet(hm, wh, reg, K=K)[0]  # the 3 x 3 window, as the exercise's
    name, made = _name(fn), {}

    def dets():
        if "dets" not in made:
            out = fn(hm.clone(), wh.clone(), reg.clone(), K=K)
            made["dets"] = of_shape(out, (1, K, 6), name)[0]
        return made["dets"]

    rows = [
        (
            f"detections scoring at least {t:g}",
            (want[:, 4] >= t).sum(),
            lambda: (dets()[:, 4] >= t).sum(),
        )
    ]
    fields = ("x1", "y1", "x2", "y2", "score", "class")
    for k in range(min(K, 3)):
        for j, f in enumerate(fields):
            rows.append((f"detection {k + 1}: {f}", want[k, j], lambda k=k, j=j: dets()[k, j]))
    ks = list(range(1, K + 1))
    lines = [("score", want[:, 4].tolist(), lambda: dets()[:, 4].tolist())]
    plot = {"x": ks, "xlabel": "detection, best first", "ylabel": "score"}
    return Sheet(rows, plot, lines, note="the 3 x 3 window of the exercise, offsets included")
