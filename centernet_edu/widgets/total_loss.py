"""The explorers of chapter 6: the prior the heatmap head starts at, and the loss weights.

Made as ``targets_and_losses`` makes chapters 1 to 5's: each explorer function beside the
functions that compute its numbers (``numbers_of``) and draw its picture (``picture_of``).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from .. import losses, validate
from ..data import ShapesDataset
from ..losses import focal_loss_with_logits
from ..model import CenterNetLite
from ..pretrained import loss_weight_runs
from .explorer import Control, Explorer, S, array, numbers_of, picture_of, sliders, sparse
from .live import live

_LOG10_PI = ("log10_pi", "log10 prior pi", -4, -0.05, 0.05)  # the slider


@numbers_of("prior", ("log10_pi",), ("gt",))
def _prior(c, d):
    validate.number("log10_pi", c["log10_pi"], *_LOG10_PI[2:4])
    pi = 10.0 ** c["log10_pi"]
    pos, neg = losses.prior_loss(array(d["gt"]), pi)
    return {"pi": pi, "bias": math.log(pi / (1 - pi)), "pos": pos, "neg": neg, "total": pos + neg}


def prior_targets(seed: int = 0) -> torch.Tensor:
    """The heatmap targets of the 8 synthetic images ``prior_explorer`` shows, ``(8, C, H, W)``."""
    data = ShapesDataset(length=8, seed=seed)
    return torch.stack([data[i]["hm"] for i in range(len(data))])


def prior_explorer(pi: float = 0.1):
    """Chapter 6: the probability pi every pixel starts at -> the focal loss at initialisation.

    The slider moves log10(pi) from -4 to -0.05 by 0.05."""
    pi = validate.number("pi", pi, 0, 1, open_low=True, open_high=True)
    controls = sliders(_LOG10_PI)
    shown = [S("pi", "pi", 4), S("bias", "bias b = log(pi / (1 - pi))"), S("pos", "L_k: positives")]
    shown += [S("neg", "+ negatives"), S("total", "= per object")]
    data = {"gt": sparse(prior_targets())}
    values = {"log10_pi": math.log10(pi)}
    return live(Explorer("prior", controls, shown, values, data, (680, 320)))


@picture_of("prior")
def _prior_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

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


@numbers_of("loss_weights", ("wh_weight", "off_weight", "step"), ("step", "runs", "grad_norms"))
def _loss_weights(c, d):
    run, step = _weight_run(d, c["wh_weight"], c["off_weight"]), c["step"]
    i = d["step"].index(validate.option("step", step, d["step"]))
    q = {k: run[k][i] for k in WEIGHT_TERMS}
    q |= _gradient_shares(d["grad_norms"], c["wh_weight"], c["off_weight"])
    done = [j for j, s in enumerate(run["eval_step"]) if s <= step]  # none before the first
    q["ap50"] = run["ap50"][done[-1]] if done else math.nan
    q["ap50_step"] = run["eval_step"][done[-1]] if done else math.nan
    return q


@functools.cache
def shared_gradient_norms() -> dict[str, float]:
    """The norm of the gradient each unweighted term sends into the features the three
    heads share, ``{"hm": |dL_k/dF|, "wh": |dL_size/dF|, "off": |dL_off/dF|}``: chapter 6's
    measurement. F ``(4, 32, 32, 32)``: the features of ``CenterNetLite`` at initialisation
    (torch seed 0, training mode) of the first four images of ``ShapesDataset(length=16,
    seed=0)``. Computed once; the global random state is left as it was."""
    data = ShapesDataset(length=16, seed=0)
    batch = {k: torch.stack([data[i][k] for i in range(4)]) for k in data[0]}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = CenterNetLite(num_classes=data.num_classes).train()
    features = model.features(batch["image"])
    heads = {k: head(features) for k, head in model.heads.items()}
    at_centres = (batch["reg_mask"], batch["ind"])
    terms = {
        "hm": focal_loss_with_logits(heads["hm"], batch["hm"]),
        "wh": losses.reg_l1_loss(heads["wh"], *at_centres, batch["wh"]),
        "off": losses.reg_l1_loss(heads["reg"], *at_centres, batch["reg"]),
    }
    norms = {k: torch.autograd.grad(v, features, retain_graph=True)[0] for k, v in terms.items()}
    return {k: float(str(np.float32(g.norm()))) for k, g in norms.items()}  # shortest form


def _gradient_shares(norms: dict, wh_weight: float, off_weight: float) -> dict[str, float]:
    """Each weighted term's share of the gradient on the shared features: lambda_k |g_k|
    over the sum of the three, with |g_k| the unweighted term's gradient norm ``norms``."""
    parts = {"hm": norms["hm"], "wh": wh_weight * norms["wh"], "off": off_weight * norms["off"]}
    total = sum(parts.values())
    return {f"grad_share_{k}": v / total if total > 0 else 0.0 for k, v in parts.items()}


def _numbers(name, values, n) -> list[float]:
    """``values`` as a list of ``n`` finite floats >= 0."""
    if not isinstance(values, (list, tuple)) or len(values) != n:
        listed = isinstance(values, (list, tuple))
        got = f"{len(values)} values" if listed else validate.shape_of(values)
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
    that run, its terms and its held-out AP50 at the step, and each weighted term's share
    of the gradient on the shared features at initialisation (``shared_gradient_norms``,
    scaled by the chosen weights; no run recorded its gradients, so the shares do not
    follow the step).

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
    shown += [S("loss", "L_det", 3), S("ap50", "held-out AP50", 3)]
    shown += [S("ap50_step", "evaluated after step", 0)]
    label = "shares of the gradient on the shared features, at initialisation: L_k"
    shown += [S("grad_share_hm", label)]
    shown += [S("grad_share_wh", "lambda_size L_size"), S("grad_share_off", "lambda_off L_off")]
    data = {"step": steps, "runs": records, "compare": list(DEFAULT_WEIGHTS)}
    data["grad_norms"] = shared_gradient_norms()
    values = {
        "wh_weight": first[0] if wh_weight is None else wh_weight,
        "off_weight": first[1] if off_weight is None else off_weight,
        "step": steps[-1] if step is None else step,
    }
    return live(Explorer("loss_weights", controls, shown, values, data, (860, 320)))


@picture_of("loss_weights")
def _loss_weights_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

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
    shared = {"L_k": q["grad_share_hm"], "L_size": q["grad_share_wh"], "L_off": q["grad_share_off"]}
    viz.draw_shares(shares, shared, "gradient shares on the\nshared features, at\ninitialisation")
