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
    iou = viz.box_iou(*viz.centred_boxes(width, height, dw, dh))
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


def _prior_targets(seed: int = 0) -> torch.Tensor:
    """The heatmap targets of a batch of 8 synthetic images, ``(8, C, H, W)``."""
    from .data import ShapesDataset  # the data module is heavier; load it on first use

    data = ShapesDataset(length=8, seed=seed)
    return torch.stack([data[i]["hm"] for i in range(len(data))])


def prior_explorer(pi: float = 0.1) -> Explorer:
    """The probability pi that every pixel starts at -> the focal loss at initialisation."""
    gt = _prior_targets()

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
