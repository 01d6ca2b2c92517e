"""Interactive explorers for the book's chapters (ipywidgets + matplotlib).

Each explorer is a row of sliders, a line of numbers computed by the package, and a
figure drawn by ``centernet_edu.viz``. The figure is a PNG in an ``Image`` widget, so a
notebook saved with its widget state shows it in the built book too (where no kernel
runs and the sliders cannot redraw it). Needs the ``book`` extra.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import ipywidgets as w
import torch
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from . import viz
from .data import ShapesDataset
from .decode import decode_ctdet, decode_exdet, heatmap_nms, topk
from .evaluate import box_iou, centred_boxes, match_detections
from .heatmap import draw_gaussian, gaussian_radius
from .losses import focal_loss_terms
from .targets import encode_ctdet

__all__ = [
    "Explorer",
    "radius_explorer",
    "focal_loss_explorer",
    "offset_explorer",
    "size_explorer",
    "prior_explorer",
    "prior_targets",
    "decode_explorer",
    "extreme_explorer",
]


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """The PNG bytes of a figure (no pyplot, so nothing leaks into the notebook)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


class Explorer(w.VBox):
    """Sliders, a summary line and a figure that follow each other.

    ``draw(fig, **values)`` draws on a fresh Figure; ``summary(**values)`` returns the
    HTML of the line above it. ``values`` maps each control's name to its value.
    """

    def __init__(
        self,
        controls: dict[str, w.ValueWidget],
        draw: Callable,
        summary: Callable[..., str],
        figsize: tuple[float, float] = (8, 3),
    ):
        self.controls = controls
        self._draw, self._summary, self._figsize = draw, summary, figsize
        self.summary = w.HTML()
        self.image = w.Image(format="png")
        for c in controls.values():
            c.observe(self.refresh, names="value")
        super().__init__([w.HBox(list(controls.values())), self.summary, self.image])
        self.refresh()

    def __repr__(self) -> str:
        # The text a notebook saves beside the widget: short and free of PNG bytes.
        controls = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{type(self).__name__}({controls})"

    @property
    def values(self) -> dict:
        return {name: c.value for name, c in self.controls.items()}

    def refresh(self, change=None) -> None:
        values = self.values
        fig = Figure(figsize=self._figsize)
        self._draw(fig, **values)
        self.image.value = figure_png(fig)
        self.summary.value = self._summary(**values)


def _slider(description, value, lo, hi, step, integer=False, **kw):
    cls = w.IntSlider if integer else w.FloatSlider
    return cls(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=description,
        continuous_update=False,
        style={"description_width": "initial"},
        **kw,
    )


# Chapter 2: the Gaussian radius ------------------------------------------------------


def _radius_draw(fig, width, height, min_overlap):
    size = (64, 64)
    box = [[32 - width / 2, 32 - height / 2, 32 + width / 2, 32 + height / 2]]
    axes = fig.subplots(1, 2)
    for ax, variant in zip(axes, ("centernet", "corrected"), strict=True):
        r = gaussian_radius(height, width, min_overlap, variant=variant)
        hm = torch.zeros(size)
        draw_gaussian(hm, (32, 32), max(0, int(r)))
        viz.show_heatmap(ax, hm, f"{variant}: r = {r:.2f}")
        viz.draw_boxes(ax, box, linestyle="--")


def _radius_summary(width, height, min_overlap):
    ref = gaussian_radius(height, width, min_overlap)
    fixed = gaussian_radius(height, width, min_overlap, variant="corrected")
    return (
        f"box {width:g} x {height:g} px, IoU at least {min_overlap:.2f}: "
        f"reference radius <b>{ref:.2f}</b> (sigma {(2 * int(ref) + 1) / 6:.2f}), "
        f"corrected <b>{fixed:.2f}</b> (sigma {(2 * int(fixed) + 1) / 6:.2f}), "
        f"ratio {ref / max(fixed, 1e-9):.2f}"
    )


def radius_explorer(width: int = 24, height: int = 16, min_overlap: float = 0.7) -> Explorer:
    """Box size and min_overlap -> the reference and corrected radius, and the splats."""
    return Explorer(
        {
            "width": _slider("box width", width, 1, 60, 1, integer=True),
            "height": _slider("box height", height, 1, 60, 1, integer=True),
            "min_overlap": _slider("min IoU", min_overlap, 0.1, 0.95, 0.05),
        },
        _radius_draw,
        _radius_summary,
    )


# Chapter 3: the focal loss --------------------------------------------------------------


def _focal_draw(fig, alpha, beta, y):
    ax_curve, ax_map = fig.subplots(1, 2)
    viz.plot_focal_curves(ax_curve, alpha, beta, y)
    # A toy prediction around one object: how much each pixel costs.
    t = encode_ctdet([[8, 8, 24, 24]], [0], 1, (32, 32))
    gt = t["hm"][None]
    pred = torch.full_like(gt, -2.0)
    pred[..., 10:22, 10:22] = 0.5  # a blob that is too wide and too weak
    terms = focal_loss_terms(pred, gt, alpha, beta)[0, 0]
    ax_map.imshow(terms.numpy(), cmap="viridis", interpolation="nearest")
    ax_map.set_title(f"per-pixel loss, sum {terms.sum():.2f}", fontsize=10)
    ax_map.set_xticks([])
    ax_map.set_yticks([])


def _focal_summary(alpha, beta, y):
    p = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    neg = focal_loss_terms(torch.logit(p), torch.full_like(p, min(y, 1 - 1e-12)), alpha, beta)
    return (
        f"negative pixel with target Y = {y:.2f} (down-weighted by (1 - Y)^beta = "
        f"{(1 - y) ** beta:.3f}): loss at Yhat = 0.1, 0.5, 0.9 is "
        + ", ".join(f"<b>{v:.3f}</b>" for v in neg.tolist())
    )


def focal_loss_explorer(alpha: float = 2.0, beta: float = 4.0, y: float = 0.5) -> Explorer:
    """alpha, beta and a target value Y -> loss curves and a per-pixel loss map."""
    return Explorer(
        {
            "alpha": _slider("alpha", alpha, 0.0, 5.0, 0.5),
            "beta": _slider("beta", beta, 0.0, 8.0, 0.5),
            "y": _slider("target Y", y, 0.0, 0.99, 0.01),
        },
        _focal_draw,
        _focal_summary,
        figsize=(9, 3.5),
    )


# Chapter 4: the offset ------------------------------------------------------------------


def _offset_draw(fig, x, y, stride):
    viz.draw_quantisation(fig.subplots(1, 1), x, y, stride)


def _offset_summary(x, y, stride):
    ox, oy = x / stride - int(x / stride), y / stride - int(y / stride)
    err = (ox**2 + oy**2) ** 0.5 * stride
    return (
        f"centre ({x:.2f}, {y:.2f}) falls in cell ({int(x / stride)}, {int(y / stride)}); "
        f"offset target ({ox:.3f}, {oy:.3f}); without it the centre is off by "
        f"<b>{err:.2f}</b> image pixels (at most {stride * 2**0.5:.2f} at R = {stride})"
    )


def offset_explorer(x: float = 13.3, y: float = 6.8, stride: int = 4) -> Explorer:
    """A sub-pixel centre and the stride R -> the cell, the offset and the error."""
    return Explorer(
        {
            "x": _slider("centre x", x, 0.0, 23.9, 0.1),
            "y": _slider("centre y", y, 0.0, 23.9, 0.1),
            "stride": w.Dropdown(options=[1, 2, 4, 8], value=stride, description="R"),
        },
        _offset_draw,
        _offset_summary,
        figsize=(4.5, 4.5),
    )


# Chapter 5: the size --------------------------------------------------------------------


def _size_draw(fig, width, height, dw, dh):
    viz.draw_size_error(fig.subplots(1, 1), width, height, dw, dh)


def _size_summary(width, height, dw, dh):
    l1 = abs(dw) + abs(dh)
    iou = box_iou(*centred_boxes(width, height, dw, dh))
    return (
        f"L1 on (w, h): <b>{l1:.2f}</b> px, weighted by 0.1: <b>{0.1 * l1:.3f}</b>; "
        f"IoU with the ground truth {iou:.3f}"
    )


def size_explorer(width: float = 20.0, height: float = 12.0, dw: float = 3.0, dh: float = -2.0):
    """A box and a size error (dw, dh) -> the L1 size loss and the IoU it costs."""
    return Explorer(
        {
            "width": _slider("width", width, 2.0, 60.0, 1.0),
            "height": _slider("height", height, 2.0, 60.0, 1.0),
            "dw": _slider("dw", dw, -20.0, 20.0, 0.5),
            "dh": _slider("dh", dh, -20.0, 20.0, 0.5),
        },
        _size_draw,
        _size_summary,
        figsize=(4.5, 4.5),
    )


# Chapter 6: the heatmap prior ---------------------------------------------------------


def prior_targets(seed: int = 0) -> torch.Tensor:
    """The heatmap targets of the 8 synthetic images ``prior_explorer`` shows, ``(8, C, H, W)``."""
    data = ShapesDataset(length=8, seed=seed)
    return torch.stack([data[i]["hm"] for i in range(len(data))])


def prior_explorer(pi: float = 0.1) -> Explorer:
    """The probability pi that every pixel starts at -> the focal loss at initialisation."""
    gt = prior_targets()

    def draw(fig, pi):
        ax_curve, ax_map = fig.subplots(1, 2)
        viz.plot_prior_loss(ax_curve, gt, marked=pi)
        logits = torch.full_like(gt[:1], float(torch.logit(torch.tensor(pi))))
        terms = focal_loss_terms(logits, gt[:1])[0].sum(0)
        ax_map.imshow(
            terms.numpy(), cmap="viridis", interpolation="nearest", norm=LogNorm(1e-6, 10)
        )
        ax_map.set_title(f"loss per pixel, log scale (pi = {pi:.3g})", fontsize=10)
        ax_map.set_xticks([])
        ax_map.set_yticks([])

    def summary(pi):
        pos, neg = viz.prior_loss(gt, pi)
        bias = float(torch.logit(torch.tensor(pi, dtype=torch.float64)))
        return (
            f"bias b = log(pi / (1 - pi)) = <b>{bias:.2f}</b>; L_k at the start: "
            f"positives {pos:.2f} + negatives {neg:.2f} = <b>{pos + neg:.2f}</b> per object"
        )

    slider = w.FloatLogSlider(
        value=pi,
        base=10,
        min=-4,
        max=-0.05,
        step=0.05,
        description="prior pi",
        continuous_update=False,
        readout_format=".3g",
    )
    return Explorer({"pi": slider}, draw, summary, figsize=(10, 3.6))


# Chapter 8: decoding ----------------------------------------------------------------------


def _decode_view(heads, kernel, K):
    """Peaks and detections of one image's ``heads`` at this kernel and K."""
    heat = heads["hm"][None]
    scores, _, _, ys, xs = topk(heatmap_nms(heat, kernel), K)
    dets = decode_ctdet(heat, heads["wh"][None], heads["reg"][None], K=K, kernel=kernel)[0]
    return (xs[0], ys[0], scores[0]), dets


def decode_explorer(
    image,
    heads: dict,
    gt=None,
    *,
    stride: int = 4,
    threshold: float = 0.3,
    K: int = 20,
    kernel: int = 3,
) -> Explorer:
    """Score threshold, K and the max-pool window -> the peaks and the boxes they decode to.

    Args:
        image: ``(H, W, 3)`` uint8, the picture the heads were computed from.
        heads: one image's head outputs, ``hm (C, h, w)`` probabilities (after the
            sigmoid), ``wh`` and ``reg (2, h, w)``.
        gt: optional ``(boxes (N, 4), labels (N,))`` in image pixels: the summary then
            counts hits at IoU 0.5 and the figure draws them dotted.
        stride: R, image pixels per heatmap pixel.
    """
    C, H, W = heads["hm"].shape
    heads = {k: v.detach().float().cpu() for k, v in heads.items()}

    def draw(fig, threshold, K, kernel):
        (xs, ys, scores), dets = _decode_view(heads, kernel, K)
        ax_heat, ax_img = fig.subplots(1, 2)
        viz.draw_peaks(ax_heat, heads["hm"], xs, ys, scores, threshold, "heatmap and top-K peaks")
        viz.draw_detections(ax_img, image, dets, threshold, stride, gt)
        ax_img.set_title(f"boxes scoring at least {threshold:.2f}", fontsize=10)

    def summary(threshold, K, kernel):
        (_, _, scores), dets = _decode_view(heads, kernel, K)
        survivors = int((heatmap_nms(heads["hm"][None], kernel) >= threshold).sum())
        kept = dets[dets[:, 4] >= threshold]
        line = (
            f"{kernel} x {kernel} max-pool: <b>{survivors}</b> pixels of {C * H * W} are peaks "
            f"scoring at least {threshold:.2f}; top-{K} keeps <b>{len(kept)}</b> of them"
        )
        if gt is not None:
            hits = [m >= 0 for m in match_detections(kept[:, :4] * stride, kept[:, 5], *gt)]
            line += (
                f"; <b>{sum(hits)}</b> of {len(gt[1])} objects found at IoU 0.5, "
                f"<b>{len(hits) - sum(hits)}</b> false positives"
            )
        return line

    return Explorer(
        {
            "threshold": _slider("score threshold", threshold, 0.05, 0.95, 0.05),
            "K": _slider("K", K, 1, min(50, H * W), 1, integer=True),
            "kernel": w.Dropdown(options=[1, 3, 5, 7], value=kernel, description="max-pool"),
        },
        draw,
        summary,
        figsize=(9, 4.2),
    )


# Chapter 9: extreme points ----------------------------------------------------------------


def extreme_explorer(
    image,
    heads: dict,
    gt=None,
    *,
    stride: int = 4,
    K: int = 10,
    center_thresh: float = 0.1,
    threshold: float = 0.3,
) -> Explorer:
    """K, the centre check and a display threshold -> the boxes ``decode_exdet`` groups.

    Args:
        image: ``(H, W, 3)`` uint8, the picture the heads were computed from.
        heads: one image's extreme-point heads, ``hm_t .. hm_c (C, h, w)`` probabilities
            (after the sigmoid) and ``reg_t .. reg_r (2, h, w)``.
        gt: optional ``(boxes (N, 4), labels (N,))`` in image pixels, drawn dotted and
            counted against at IoU 0.5.
        stride: R, image pixels per heatmap pixel.
    """
    heads = {k: v.detach().float().cpu()[None] for k, v in heads.items()}
    _, H, W = heads["hm_c"].shape[1:]

    def decode(K, center_thresh):
        dets = decode_exdet(heads, K=K, num_dets=K**4, center_thresh=center_thresh)[0]
        return dets[dets[:, 4] >= 0]  # the valid groupings, best first

    def draw(fig, K, center_thresh, threshold):
        ax = fig.subplots(1, 1)
        viz.draw_extreme_detections(ax, image, decode(K, center_thresh), threshold, stride, gt)
        ax.set_title(f"groupings scoring at least {threshold:.2f}", fontsize=10)

    def summary(K, center_thresh, threshold):
        valid = decode(K, center_thresh)
        shown = valid[valid[:, 4] >= threshold]
        line = (
            f"K = {K}: {K**4} quadruples (t, l, b, r); <b>{len(valid)}</b> pass the class, "
            f"score, geometry and centre (at least {center_thresh:.2f}) checks; "
            f"<b>{len(shown)}</b> score at least {threshold:.2f}"
        )
        if gt is not None:
            hits = [m >= 0 for m in match_detections(shown[:, :4] * stride, shown[:, 5], *gt)]
            line += (
                f"; <b>{sum(hits)}</b> of {len(gt[1])} objects found at IoU 0.5, "
                f"<b>{len(hits) - sum(hits)}</b> false positives"
            )
        return line

    return Explorer(
        {
            "K": _slider("K", K, 1, min(16, H * W), 1, integer=True),
            "center_thresh": _slider("centre threshold", center_thresh, 0.0, 0.9, 0.05),
            "threshold": _slider("score threshold", threshold, 0.05, 0.95, 0.05),
        },
        draw,
        summary,
        figsize=(4.8, 4.8),
    )
