"""Matplotlib helpers for the book: heatmaps, boxes, and the figures of each loss term.

Every function draws on Axes it is given and returns them, so the same drawing serves
a static figure in the book and the live explorers of ``centernet_edu.widgets``.
Needs matplotlib (the ``book`` extra). What the figures compute comes from the modules
that compute it (box overlaps and matching from ``centernet_edu.evaluate``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.patches import Rectangle

from .evaluate import box_iou, centred_boxes
from .heatmap import gaussian_radius
from .losses import focal_loss_terms

__all__ = [
    "show_heatmap",
    "draw_boxes",
    "draw_overlap_cases",
    "plot_radius_vs_size",
    "plot_focal_curves",
    "draw_quantisation",
    "draw_size_error",
    "prior_loss",
    "plot_prior_loss",
    "draw_peaks",
    "draw_detections",
    "draw_extreme_points",
    "draw_extreme_detections",
]

CLASS_COLOURS = ("tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown")


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def show_heatmap(ax, heat, title: str | None = None, vmax: float = 1.0):
    """Show a ``(H, W)`` map, or the per-pixel maximum over classes of ``(C, H, W)``."""
    h = _numpy(heat)
    if h.ndim == 3:
        h = h.max(axis=0)
    if h.ndim != 2:
        raise ValueError(f"heat must have shape (H, W) or (C, H, W), got {h.shape}")
    ax.imshow(h, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
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
            Rectangle(
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


def draw_overlap_cases(axes, height: float, width: float, min_overlap: float = 0.7):
    """The three corner moves of the radius derivation, each at the corrected radius.

    ``axes`` are three Axes: the box slid diagonally, shrunk, and grown by r. Each panel
    shows the ground truth (solid), the moved box (dashed) and their IoU.
    """
    r = gaussian_radius(height, width, min_overlap, variant="corrected")
    h, w = height, width
    cases = [
        ("slid by r", (r, r, w + r, h + r)),
        ("shrunk by r", (r, r, w - r, h - r)),
        ("grown by r", (-r, -r, w + r, h + r)),
    ]
    for ax, (name, moved) in zip(axes, cases, strict=True):
        iou = box_iou((0, 0, w, h), moved)
        ax.add_patch(Rectangle((0, 0), w, h, fill=False, edgecolor="black", linewidth=2))
        x1, y1, x2, y2 = moved
        ax.add_patch(
            Rectangle(
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


def draw_quantisation(ax, x: float, y: float, stride: int = 4):
    """An object centre (x, y) in image pixels on the grid of stride-R heatmap cells.

    Marks the true centre p, the heatmap cell p~ = floor(p / R), where that cell maps
    back to in the image without an offset (R p~) and the offset target p / R - p~.
    """
    R = stride
    cx, cy = x / R, y / R
    qx, qy = math.floor(cx), math.floor(cy)
    n = max(qx, qy) + 2
    for k in range(n + 1):
        ax.axhline(k * R, color="lightgrey", linewidth=1)
        ax.axvline(k * R, color="lightgrey", linewidth=1)
    ax.add_patch(Rectangle((qx * R, qy * R), R, R, color="tab:orange", alpha=0.3))
    ax.plot([x], [y], "o", color="tab:blue", label="true centre p")
    ax.plot([qx * R], [qy * R], "s", color="tab:red", label="R * floor(p / R), no offset")
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
    ax.add_patch(Rectangle(gt[:2], width, height, fill=False, edgecolor="black", linewidth=2))
    ax.add_patch(
        Rectangle(pred[:2], pw, ph, fill=False, edgecolor="tab:red", linestyle="--", linewidth=2)
    )
    lim = max(width, height, pw, ph) / 2 + 2
    ax.set_xlim(-lim, lim)
    ax.set_ylim(lim, -lim)
    ax.set_aspect("equal")
    l1 = abs(dw) + abs(dh)
    ax.set_title(f"|dw| + |dh| = {l1:.1f} px, IoU {box_iou(gt, pred):.3f}", fontsize=10)
    return ax


def prior_loss(gt: torch.Tensor, pi: float) -> tuple[float, float]:
    """L_k split into its positive and negative parts when every pixel predicts ``pi``.

    Returns ``(positive, negative)``, each summed over ``gt (B, C, H, W)`` and divided by
    the number of objects N, as in L_k.
    """
    logits = torch.full_like(gt, math.log(pi / (1 - pi)), dtype=torch.float64)
    terms = focal_loss_terms(logits, gt.double())
    pos = gt == 1
    n = max(int(pos.sum()), 1)
    return float(terms[pos].sum()) / n, float(terms[~pos].sum()) / n


def plot_prior_loss(ax, gt: torch.Tensor, marked: float | None = None):
    """L_k at initialisation against the prior probability pi that every pixel predicts."""
    pis = np.logspace(-4, math.log10(0.9), 120)
    parts = np.array([prior_loss(gt, p) for p in pis])
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


def draw_detections(ax, image, dets, threshold: float = 0.3, stride: float = 4.0, gt=None):
    """An RGB image with the detections scoring at least ``threshold``.

    Args:
        image: ``(H, W, 3)`` uint8 (``denormalize_image``).
        dets: ``(K, >= 6)`` x1, y1, x2, y2 (heatmap pixels), score, class.
        stride: R: heatmap pixels times R are image pixels.
        gt: optional ``(boxes (N, 4), labels (N,))`` in image pixels, drawn dashed.
    """
    ax.imshow(_numpy(image), extent=(0, image.shape[1], image.shape[0], 0))
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


def draw_extreme_detections(ax, image, dets, threshold: float = 0.3, stride: float = 4.0, gt=None):
    """``draw_detections`` for ``decode_exdet`` output ``(K, 14)``: the boxes scoring at
    least ``threshold``, and the four extreme points that span each of them."""
    draw_detections(ax, image, dets, threshold, stride, gt)
    d = _numpy(dets).reshape(-1, _numpy(dets).shape[-1])
    d = d[d[:, 4] >= threshold]
    for row in d:
        colour = CLASS_COLOURS[int(row[5]) % len(CLASS_COLOURS)]
        draw_extreme_points(ax, row[6:14] * stride, colour=colour, size=30)
    return ax
