"""Matplotlib helpers for the book: heatmaps, boxes, and the figures of each loss term.

Every function draws on Axes it is given and returns them, so the same drawing serves
a static figure in the book and the pictures of the explorers of ``centernet_edu.widgets``
(what an explorer shows before its script runs). This module needs matplotlib (the
``plot`` extra): without it, importing it raises an ``ImportError`` that names the extra.
What the figures compute comes from the modules that compute it (box overlaps and
matching from ``centernet_edu.boxes``, the loss at a prior, ``prior_loss`` and
``prior_losses``, from ``centernet_edu.losses``, which need no matplotlib).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .boxes import box_iou, centred_boxes
from .heatmap import draw_gaussian, gaussian_radius
from .losses import focal_loss_terms, prior_loss, prior_losses

try:
    import matplotlib  # noqa: F401  (its parts are imported where a figure draws them)
except ModuleNotFoundError as missing:
    if missing.name != "matplotlib":
        raise
    raise ModuleNotFoundError(
        "centernet_edu.viz draws with matplotlib, which is not installed: "
        'pip install "centernet-edu[plot]"',
        name="matplotlib",
    ) from missing

__all__ = [
    "show_heatmap",
    "draw_boxes",
    "draw_overlap_cases",
    "plot_radius_vs_size",
    "plot_focal_curves",
    "draw_quantisation",
    "draw_size_error",
    "prior_loss",
    "prior_losses",
    "plot_prior_loss",
    "draw_peaks",
    "draw_detections",
    "draw_extreme_points",
    "draw_extreme_detections",
    "draw_peak_offset",
    "draw_radius_splats",
    "plot_focal_gradients",
    "show_signed_map",
    "show_prior_loss_map",
    "plot_loss_curves",
    "plot_ap50",
    "draw_shares",
    "overlay_heatmap",
]

CLASS_COLOURS = ("tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown")
# The colour of each loss term wherever a figure draws one.
TERM_COLOURS = {"L_det": "black", "L_k": "tab:blue", "L_size": "tab:orange", "L_off": "tab:green"}


def _rectangle(*args, **kwargs):
    """matplotlib's ``Rectangle`` patch, imported when a figure first draws one."""
    from matplotlib.patches import Rectangle

    return Rectangle(*args, **kwargs)


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def show_heatmap(ax, heat, title: str | None = None, vmax: float = 1.0, cmap: str = "magma"):
    """Show a ``(H, W)`` map, or the per-pixel maximum over classes of ``(C, H, W)``."""
    h = _numpy(heat)
    if h.ndim == 3:
        h = h.max(axis=0)
    if h.ndim != 2:
        raise ValueError(f"heat must have shape (H, W) or (C, H, W), got {h.shape}")
    return _show_map(ax, h, title, cmap=cmap, vmin=0, vmax=vmax)


def _show_map(ax, h: np.ndarray, title: str | None, **imshow):
    """A ``(H, W)`` map, one square per pixel, without ticks."""
    ax.imshow(h, interpolation="nearest", **imshow)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def draw_boxes(ax, boxes, labels=None, scores=None, linestyle: str = "-", pixel_centres=True):
    """Outline ``(N, 4)`` boxes x1, y1, x2, y2 on ``ax``, coloured by class.

    With ``pixel_centres`` the coordinates are shifted by -0.5 so that they line up with
    ``imshow``, which puts pixel (x, y) at the centre of the unit square around it.
    """
    b = _numpy(boxes).reshape(-1, 4)
    shift = 0.5 if pixel_centres else 0.0
    for k, (x1, y1, x2, y2) in enumerate(b):
        c = 0 if labels is None else int(_numpy(labels)[k])
        colour = CLASS_COLOURS[c % len(CLASS_COLOURS)]
        ax.add_patch(
            _rectangle(
                (x1 - shift, y1 - shift),
                x2 - x1,
                y2 - y1,
                fill=False,
                edgecolor=colour,
                linewidth=1.5,
                linestyle=linestyle,
            )
        )
        if scores is not None:
            ax.text(
                x1 - shift, y1 - shift, f"{float(_numpy(scores)[k]):.2f}", color=colour, fontsize=8
            )
    return ax


def draw_overlap_cases(
    axes, height: float, width: float, min_overlap: float = 0.7, r: float | None = None
):
    """The three corner moves of the radius derivation, each by r (by default the
    corrected radius).

    ``axes`` are three Axes: the box slid diagonally, shrunk, and grown by r. Each panel
    shows the ground truth (solid), the moved box (dashed; none when shrinking leaves no
    box) and their IoU.
    """
    if r is None:
        r = gaussian_radius(height, width, min_overlap, variant="corrected")
    h, w = height, width
    cases = [
        ("slid by r", (r, r, w + r, h + r)),
        ("shrunk by r", (r, r, w - r, h - r)),
        ("grown by r", (-r, -r, w + r, h + r)),
    ]
    for ax, (name, moved) in zip(axes, cases, strict=True):
        iou = box_iou((0, 0, w, h), moved)
        ax.add_patch(_rectangle((0, 0), w, h, fill=False, edgecolor="black", linewidth=2))
        x1, y1, x2, y2 = moved
        if x2 > x1 and y2 > y1:
            ax.add_patch(
                _rectangle(
                    (x1, y1),
                    x2 - x1,
                    y2 - y1,
                    fill=False,
                    edgecolor="tab:red",
                    linestyle="--",
                    linewidth=2,
                )
            )
        pad = 2 * r + 1
        ax.set_xlim(-pad, w + pad)
        ax.set_ylim(h + pad, -pad)
        ax.set_aspect("equal")
        ax.set_title(f"{name}: IoU {iou:.3f}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    return axes


def plot_radius_vs_size(ax, sizes, min_overlap: float = 0.7, aspect: float = 1.0):
    """Reference and corrected radius of boxes ``size x size * aspect`` against size."""
    s = np.asarray(sizes, dtype=np.float64)
    ref = gaussian_radius(s, s * aspect, min_overlap)
    fixed = gaussian_radius(s, s * aspect, min_overlap, variant="corrected")
    ax.plot(s, ref, label="reference formula", color="tab:red")
    ax.plot(s, fixed, label="corrected", color="tab:blue")
    ax.set_xlabel("box height (heatmap pixels)")
    ax.set_ylabel("radius r")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_focal_curves(ax, alpha: float = 2.0, beta: float = 4.0, y: float = 0.0, n: int = 400):
    """Per-pixel loss against the predicted probability Yhat.

    Draws the cross-entropy of a positive (-log Yhat), CenterNet's positive term
    -(1 - Yhat)^alpha log Yhat, and its negative term at target Y:
    -(1 - Y)^beta Yhat^alpha log(1 - Yhat).
    """
    p = torch.linspace(1e-3, 1 - 1e-3, n, dtype=torch.float64)
    logits = torch.logit(p)
    pos = focal_loss_terms(logits, torch.ones_like(p), alpha, beta)
    neg = focal_loss_terms(logits, torch.full_like(p, min(y, 1 - 1e-12)), alpha, beta)
    ax.plot(p, -torch.log(p), color="grey", linestyle=":", label="cross-entropy, positive")
    ax.plot(p, pos, color="tab:blue", label=f"positive (Y = 1), alpha = {alpha:g}")
    ax.plot(p, neg, color="tab:red", label=f"negative at Y = {y:.2f}, beta = {beta:g}")
    ax.set_xlabel("predicted probability Yhat")
    ax.set_ylabel("loss at one pixel")
    ax.set_ylim(0, 5)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def draw_quantisation(ax, x: float, y: float, stride: int = 4, middle: bool = False):
    """An object centre (x, y) in image pixels on the grid of stride-R heatmap cells.

    Marks the true centre p, the heatmap cell p~ = floor(p / R), where that cell's corner
    maps back to in the image (R p~) and the offset target p / R - p~. With ``middle``,
    also the cell's middle R (p~ + 0.5), where a decoder without offsets puts the centre,
    and its miss.
    """
    R = stride
    cx, cy = x / R, y / R
    qx, qy = math.floor(cx), math.floor(cy)
    n = max(qx, qy) + 2
    for k in range(n + 1):
        ax.axhline(k * R, color="lightgrey", linewidth=1)
        ax.axvline(k * R, color="lightgrey", linewidth=1)
    ax.add_patch(_rectangle((qx * R, qy * R), R, R, color="tab:orange", alpha=0.3))
    ax.plot([x], [y], "o", color="tab:blue", label="true centre p")
    corner = "tab:grey" if middle else "tab:red"
    ax.plot([qx * R], [qy * R], "s", color=corner, label="R * floor(p / R), no offset")
    if middle:
        mx, my = (qx + 0.5) * R, (qy + 0.5) * R
        ax.plot([mx, x], [my, y], ":", color="tab:red")
        ax.plot([mx], [my], "s", color="tab:red", label="cell's middle: decoded without offset")
    ax.annotate(
        "",
        xy=(x, y),
        xytext=(qx * R, qy * R),
        arrowprops=dict(arrowstyle="->", color="tab:green", linewidth=2),
    )
    ax.set_xlim(-0.5, n * R + 0.5)
    ax.set_ylim(n * R + 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("image x")
    ax.set_ylabel("image y")
    ax.set_title(f"offset target ({cx - qx:.2f}, {cy - qy:.2f}) cells", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def draw_size_error(ax, width: float, height: float, dw: float, dh: float):
    """A ground-truth box and a prediction at the same centre with size error (dw, dh)."""
    gt, pred = centred_boxes(width, height, dw, dh)
    pw, ph = pred[2] - pred[0], pred[3] - pred[1]
    ax.add_patch(_rectangle(gt[:2], width, height, fill=False, edgecolor="black", linewidth=2))
    ax.add_patch(
        _rectangle(pred[:2], pw, ph, fill=False, edgecolor="tab:red", linestyle="--", linewidth=2)
    )
    lim = max(width, height, pw, ph) / 2 + 2
    ax.set_xlim(-lim, lim)
    ax.set_ylim(lim, -lim)
    ax.set_aspect("equal")
    l1 = abs(dw) + abs(dh)
    ax.set_title(f"|dw| + |dh| = {l1:.1f} px, IoU {box_iou(gt, pred):.3f}", fontsize=10)
    return ax


def plot_prior_loss(ax, gt: torch.Tensor, marked: float | None = None):
    """L_k at initialisation against the prior probability pi that every pixel predicts."""
    pis = np.logspace(-4, math.log10(0.9), 120)
    parts = prior_losses(gt, pis)
    ax.loglog(pis, parts[:, 0], color="tab:blue", label="positives")
    ax.loglog(pis, parts[:, 1], color="tab:red", label="negatives")
    ax.loglog(pis, parts.sum(1), color="black", label="L_k")
    if marked is not None:
        ax.axvline(marked, color="grey", linestyle=":")
    ax.set_xlabel("prior probability pi = sigmoid(bias)")
    ax.set_ylabel("loss at initialisation")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return ax


def draw_peaks(ax, heat, xs, ys, scores, threshold: float = 0.3, title: str | None = None):
    """The heatmap ``(C, H, W)`` (maximum over classes) with its top-K peaks marked.

    ``xs, ys, scores (K,)`` are the peaks' pixels and scores, as ``topk`` returns them: a
    filled dot for a peak whose score reaches ``threshold``, a hollow one below (none for
    the near-empty peaks, scores under 0.05, that fill K when the map has few peaks).
    """
    show_heatmap(ax, heat, title)
    x, y, s = _numpy(xs).reshape(-1), _numpy(ys).reshape(-1), _numpy(scores).reshape(-1)
    x, y, s = x[s >= 0.05], y[s >= 0.05], s[s >= 0.05]
    keep = s >= threshold
    ax.scatter(x[~keep], y[~keep], s=18, facecolors="none", edgecolors="tab:cyan", lw=1)
    ax.scatter(x[keep], y[keep], s=24, color="tab:cyan", edgecolors="white", lw=0.5)
    return ax


def draw_detections(
    ax, image, dets, threshold=0.3, stride=4.0, gt=None, interpolation="antialiased"
):
    """An RGB image with the detections scoring at least ``threshold``.

    Args:
        image: ``(H, W, 3)`` uint8 (``denormalize_image``).
        dets: ``(K, >= 6)`` x1, y1, x2, y2 (heatmap pixels), score, class.
        stride: R: heatmap pixels times R are image pixels.
        gt: optional ``(boxes (N, 4), labels (N,))`` in image pixels, drawn dashed.
        interpolation: matplotlib's, for the image ("nearest": a square per pixel, and a
            smaller PNG).
    """
    extent = (0, image.shape[1], image.shape[0], 0)
    ax.imshow(_numpy(image), extent=extent, interpolation=interpolation)
    if gt is not None:
        draw_boxes(ax, gt[0], gt[1], linestyle=":", pixel_centres=False)
    d = _numpy(dets).reshape(-1, _numpy(dets).shape[-1])
    d = d[d[:, 4] >= threshold]
    draw_boxes(ax, d[:, :4] * stride, d[:, 5], pixel_centres=False)
    for x1, y1, _, _, score, c in d[:, :6].tolist():
        colour = CLASS_COLOURS[int(c) % len(CLASS_COLOURS)]
        ax.text(
            x1 * stride,
            y1 * stride,
            f"{score:.2f}",
            color=colour,
            fontsize=7,
            va="bottom",
            bbox={"facecolor": "white", "alpha": 0.6, "pad": 0.5, "linewidth": 0},
        )
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


EXTREME_MARKERS = {"t": "^", "l": "<", "b": "v", "r": ">"}


def draw_extreme_points(ax, points, colour="white", size: float = 40):
    """Mark extreme points ``(N, 8)`` t, l, b, r (x, y each), one marker shape per part."""
    p = _numpy(points).reshape(-1, 4, 2)
    for j, (part, marker) in enumerate(EXTREME_MARKERS.items()):
        ax.scatter(
            p[:, j, 0],
            p[:, j, 1],
            marker=marker,
            s=size,
            color=colour,
            edgecolors="black",
            linewidths=0.5,
            label=part,
            zorder=3,
        )
    return ax


def draw_extreme_detections(
    ax, image, dets, threshold=0.3, stride=4.0, gt=None, interpolation="antialiased"
):
    """``draw_detections`` for ``decode_exdet`` output ``(K, 14)``: the boxes scoring at
    least ``threshold``, and the four extreme points that span each of them."""
    draw_detections(ax, image, dets, threshold, stride, gt, interpolation)
    d = _numpy(dets).reshape(-1, _numpy(dets).shape[-1])
    d = d[d[:, 4] >= threshold]
    for row in d:
        colour = CLASS_COLOURS[int(row[5]) % len(CLASS_COLOURS)]
        draw_extreme_points(ax, row[6:14] * stride, colour=colour, size=30)
    return ax


# The pictures of the explorers (centernet_edu.widgets) that the figures above lack ----------


def draw_peak_offset(ax, hm, peak, offset, n: int = 7):
    """An ``n x n`` window of a ``(H, W)`` heatmap around its peak p~ = ``peak`` (x, y),
    outlined, and the offset target ``offset`` (x, y): an arrow from the peak's corner to
    p / R, marked with a cross. Pixel (x, y) covers [x, x + 1) x [y, y + 1) here, so that
    p / R = p~ + offset lies inside the peak's pixel."""
    h, (px, py), (ox, oy) = _numpy(hm), (int(v) for v in peak), offset
    x0, y0 = (min(max(v - n // 2, 0), size - n) for v, size in ((px, h.shape[1]), (py, len(h))))
    window, extent = h[y0 : y0 + n, x0 : x0 + n], (x0, x0 + n, y0 + n, y0)
    ax.imshow(window, cmap="magma", vmin=0, vmax=1, interpolation="nearest", extent=extent)
    ax.add_patch(_rectangle((px, py), 1, 1, fill=False, edgecolor="white", linewidth=3))
    arrow = {"arrowstyle": "->", "color": "cyan", "linewidth": 2}
    ax.annotate("", xy=(px + ox, py + oy), xytext=(px, py), arrowprops=arrow)
    ax.plot([px + ox], [py + oy], "+", color="cyan", markersize=16, markeredgewidth=2)
    ax.set_title(f"p / R = ({px + ox:.3f}, {py + oy:.3f})", fontsize=10)
    return ax


def draw_radius_splats(axes, width: float, height: float, min_overlap: float = 0.7, n=64):
    """A ``width x height`` box's Gaussian at the reference radius and at the corrected one,
    each splatted at the centre of an ``n x n`` map with the box dashed (two Axes)."""
    c, names = n // 2, {"centernet": "reference formula", "corrected": "corrected"}
    for ax, (variant, name) in zip(axes, names.items(), strict=True):
        r = gaussian_radius(height, width, min_overlap, variant=variant)
        show_heatmap(ax, draw_gaussian(np.zeros((n, n)), (c, c), int(r)), f"{name}: r = {r:.2f}")
        corner = (c - 0.5 - width / 2, c - 0.5 - height / 2)  # imshow's pixel c spans c +- 0.5
        ax.add_patch(_rectangle(corner, width, height, fill=False, ec="#4cc9f0", ls="--"))
    return axes


def plot_focal_gradients(ax, alpha: float, beta: float, x: float, ys, n: int = 241):
    """dL/dz of one pixel's focal term against its logit z in [-8, 8], by autograd: for a
    positive (Y = 1) and for negatives at each target Y of ``ys``; ``x`` marked dotted."""
    xs = torch.linspace(-8, 8, n, dtype=torch.float64)
    reds = ("#fdae61", "#f46d43", "#d73027", "#a50026")
    lines = [(1.0, "tab:blue", "positive (Y = 1)")]
    lines += [(y, reds[i % 4], f"negative, Y = {y:g}") for i, y in enumerate(ys)]
    for y, colour, label in lines:
        logits = xs.clone().requires_grad_()
        terms = focal_loss_terms(logits, torch.full_like(xs, y), alpha, beta)
        (grad,) = torch.autograd.grad(terms.sum(), logits)  # each term has its own logit
        ax.plot(xs.numpy(), grad.numpy(), color=colour, label=label)
    ax.axhline(0, color="lightgrey", linewidth=1)
    ax.axvline(x, color="grey", linestyle=":")
    ax.set_xlabel("logit z (Yhat = sigmoid z)")
    ax.set_ylabel("dL/dz at one pixel")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def show_signed_map(ax, values, title: str | None = None):
    """A signed ``(H, W)`` map (a gradient) on a signed square-root scale, blue below 0 and
    red above, so that small values show beside the largest."""
    v = _numpy(values).astype(np.float64)
    top = float(np.abs(v).max()) or 1.0
    scaled = np.sign(v) * np.sqrt(np.abs(v) / top)
    return _show_map(ax, scaled, title, cmap="RdBu_r", vmin=-1, vmax=1)


def show_prior_loss_map(ax, gt, pi: float):
    """The focal term per pixel of one image's targets ``gt (C, H, W)``, summed over the
    classes, when every pixel predicts ``pi``: on a log scale from 1e-6 to 10."""
    from matplotlib.colors import LogNorm

    g = torch.as_tensor(_numpy(gt), dtype=torch.float64)
    terms = focal_loss_terms(torch.full_like(g, math.log(pi / (1 - pi))), g).sum(0)
    title = f"loss per pixel, log scale (pi = {pi:.3g})"
    norm = LogNorm(1e-6, 10, clip=True)
    return _show_map(ax, terms.clamp(min=1e-6).numpy(), title, cmap="viridis", norm=norm)


def plot_loss_curves(ax, steps, curves: dict, at: int, faint=None, log_steps=False, title=None):
    """Loss terms against the step on a log scale, each at index ``at`` marked.

    ``curves`` maps a term's name (``L_det``, ``L_k``, ``L_size``, ``L_off``) to its values
    at ``steps``; ``faint``, optional ``(label, curves)``, a run to compare with, drawn
    faintly dashed. Values under 1e-4 are drawn at 1e-4 (a log scale has no 0).
    """
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    s = np.maximum(np.asarray(steps, dtype=np.float64), 1 if log_steps else -np.inf)
    for i, (name, values) in enumerate(curves.items()):
        colour = TERM_COLOURS.get(name, "grey")
        if faint is not None:
            f, label = np.maximum(faint[1][name], 1e-4), None if i else faint[0]
            ax.plot(s, f, color=colour, alpha=0.35, ls="--", label=label)
        v = np.maximum(values, 1e-4)
        ax.plot(s, v, color=colour, label=name)
        ax.plot([s[at]], [v[at]], "o", color=colour)
    ax.axvline(s[at], color="grey", linestyle=":")
    ax.set_yscale("log")  # ticks at 1, 2, 5 times powers of ten (over a wide range at
    decades = np.log10(ax.get_ylim()[1] / ax.get_ylim()[0])  # powers of ten), written plainly
    ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5) if decades < 2.5 else (1,), numticks=8))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xscale("log" if log_steps else "linear")
    ax.set_xlabel("step (log scale)" if log_steps else "step")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_ap50(ax, eval_steps, ap50, step: int, faint=None):
    """Held-out AP50 at each evaluation (``eval_steps``), the last at or before ``step``
    ringed; ``faint``, optional ``(eval_steps, ap50)``, a run to compare with."""
    if faint is not None:
        ax.plot(*faint, "o", mfc="none", color="grey", alpha=0.6)
    ax.plot(eval_steps, ap50, "o-", color="tab:purple")
    done = [i for i, s in enumerate(eval_steps) if s <= step]
    if done:
        ax.plot(eval_steps[done[-1]], ap50[done[-1]], "o", ms=9, color="tab:purple", mec="black")
    ax.axvline(step, color="grey", linestyle=":")
    ax.set_xlim(0, max([step, *eval_steps]) * 1.05)
    ax.set_ylim(0, 1)
    ax.set_xlabel("step")
    ax.set_title("held-out AP50", fontsize=10)
    ax.grid(alpha=0.3)
    return ax


def draw_shares(ax, shares: dict, title: str = "shares of L_det"):
    """Fractions of a total (summing to 1) as one stacked bar, each named with its percent;
    the names are terms (``TERM_COLOURS``) or any label."""
    bottom = 0.0
    for j, (name, share) in enumerate(shares.items()):
        colour = TERM_COLOURS.get(name, "grey")
        ax.bar(0, share, bottom=bottom, color=colour, width=0.8)
        ax.text(0.6, 0.9 - 0.12 * j, f"{name} {100 * share:.0f}%", color=colour, fontsize=9)
        bottom += share
    ax.set_xlim(-0.5, 2.5)
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    return ax


def overlay_heatmap(ax, heat, size, alpha: float = 0.5):
    """The per-pixel maximum over classes of ``heat (C, h, w)``, stretched over an image
    of ``size`` (H, W) pixels, ``alpha`` opaque."""
    top = _numpy(heat).max(axis=0)
    H, W = size
    ax.imshow(top, cmap="magma", vmin=0, vmax=1, alpha=alpha, extent=(0, W, H, 0))
    return ax
