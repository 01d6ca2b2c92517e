"""The explorers of chapters 7 to 9: a trained model's maps, their peaks and their boxes.

``snapshot_explorer`` steps through training snapshots (chapter 7), ``decode_explorer``
decodes one image's heads (chapter 8), ``extreme_explorer`` groups extreme points
(chapter 9). Each draws over the image the maps were computed from (a PNG in the page),
in the browser (``views.js``) and in its picture (``picture_of``).
"""

from __future__ import annotations

import base64
import io

import numpy as np
import torch

from .. import validate
from ..boxes import match_detections
from ..decode import decode_ctdet, decode_exdet, heatmap_nms, topk
from ..targets import EXTREME_PARTS
from .explorer import (
    Control,
    Explorer,
    S,
    array,
    dense,
    numbers_of,
    numpy_of,
    packed,
    picture_of,
    shortest,
    sliders,
)
from .live import live

MATCHES = [S("hits", "objects found at IoU 0.5", 0), S("false_positives", "false positives", 0)]
LOSS_TERMS = ("loss", "hm_loss", "wh_loss", "off_loss")  # the terms fit records each step


IMAGE = "integers in [0, 255] (uint8) or floats in [0, 1]"  # what an image may hold


def _rgb(image) -> np.ndarray:
    """``image (H, W, 3)`` as uint8: integers in [0, 255] as they are, floats in [0, 1]
    scaled by 255 (rounded)."""
    a = numpy_of(image)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3), got {validate.shape_of(image)}")
    whole = np.issubdtype(a.dtype, np.integer)
    if not (whole or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"image must hold {IMAGE}, got dtype {a.dtype}")
    if not whole:
        validate.finite("image", a)
    if a.size and (a.min() < 0 or a.max() > (255 if whole else 1)):
        hint = "" if whole or a.max() > 255 else " (divide an image in [0, 255] by 255)"
        raise ValueError(
            f"image must hold {IMAGE}{hint}, got {a.dtype} values in [{a.min():g}, {a.max():g}]"
        )
    return a.astype(np.uint8) if whole else np.round(a * 255).astype(np.uint8)


def _ground_truth(gt, num_classes: int) -> dict:
    """``gt``, ``(boxes (N, 4), labels (N,))`` in image pixels, as the scene embeds it."""
    if not isinstance(gt, (list, tuple)) or len(gt) != 2:
        got = f"{len(gt)} items" if isinstance(gt, (list, tuple)) else validate.type_name(gt)
        raise ValueError(f"gt must be a pair (boxes (N, 4), labels (N,)), got {got}")
    boxes = validate.boxes("gt boxes", gt[0], np.float64)
    validate.numeric_array("gt labels", gt[1], np.float64)  # names, such as "cat", are not
    labels = validate.class_labels("gt labels", gt[1], len(boxes), num_classes)
    return {"gt_boxes": boxes.tolist(), "gt_labels": labels.tolist()}


MAX_IMAGE_PIXELS = 2**25  # the largest image (or blank frame) an explorer draws over


def _image_size(stride: float, size: tuple[int, int]) -> list[int]:
    """The image's ``[H, W]``, the heads' ``size`` times ``stride``: at least a pixel a side
    and at most ``MAX_IMAGE_PIXELS`` in all (the picture draws a frame of that size)."""
    exact = [stride * n for n in size]  # inf for a stride near the float maximum
    shape = [round(n) for n in exact] if max(exact) <= MAX_IMAGE_PIXELS else None
    if shape is None or shape[0] * shape[1] > MAX_IMAGE_PIXELS:
        made = [f"{n:.3g}" for n in exact] if shape is None else shape
        raise ValueError(
            f"stride must keep the image (the heads' size {size} times stride) within "
            f"{MAX_IMAGE_PIXELS} pixels, got {stride:g}: an image of {' x '.join(map(str, made))}"
        )
    if min(shape) < 1:
        raise ValueError(
            f"stride must make the image (the heads' size {size} times stride) at least a "
            f"pixel a side, got {stride:g}: an image of {shape[0]} x {shape[1]}"
        )
    return shape


def _scene(image, gt, stride, maps: tuple[int, ...]) -> dict:
    """What the explorer draws over: the image (a PNG) or, without one, an empty frame of
    the image's size ``R * (H, W)``; the ground truth in image pixels; R. ``maps``: the
    heatmap's ``(C, H, W)``."""
    from PIL import Image

    stride = validate.number("stride", stride, 0, open_low=True)
    d = {"image_size": _image_size(stride, tuple(maps[1:])), "stride": stride}
    if image is not None:
        a, buf = _rgb(image), io.BytesIO()
        Image.fromarray(a).save(buf, format="PNG")
        d["image"] = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
        if list(a.shape[:2]) != d["image_size"]:
            raise ValueError(
                f"image must be the heads' size {tuple(maps[1:])} times stride {stride:g}, "
                f"{tuple(d['image_size'])}, got an image of {a.shape[:2]}"
            )
    return d if gt is None else d | _ground_truth(gt, maps[0])


def _tensor(name: str, x, ndim: int, dims: str) -> torch.Tensor:
    """``x``, a ``torch.Tensor`` of ``ndim`` dimensions ``dims``, every value finite."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(
            f"{name} must be a torch.Tensor of shape {dims}, got {validate.type_name(x)}"
        )
    validate.tensor(name, x, ndim, dims)
    validate.finite(name, x)
    return x


def _head(name: str, x, dims="(C, H, W)", shape=None, probabilities=True) -> torch.Tensor:
    """One image's map ``x``: a finite 3-D tensor with no dimension 0, of ``shape`` when
    given; with ``probabilities``, values in [0, 1] (after the sigmoid, not logits)."""
    _tensor(name, x, 3, dims)
    if shape is not None and tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {dims} = {tuple(shape)}, got {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"{name} must have {dims[1:-1]} >= 1, got {tuple(x.shape)}")
    if probabilities:
        validate.probability_target(name, (float(x.min()), float(x.max())))
    return x


def _image(d) -> np.ndarray:
    """The scene's image ``(H, W, 3)`` uint8, read back from its PNG, or a white one of
    its size when it has none."""
    from PIL import Image

    if "image" not in d:
        return np.full((*d["image_size"], 3), 255, dtype=np.uint8)
    png = base64.b64decode(d["image"].split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _gt(d):
    """The scene's ground truth ``(boxes (N, 4), labels (N,))`` in image pixels, or None."""
    return (d["gt_boxes"], d["gt_labels"]) if "gt_boxes" in d else None


def _hits(q, kept, d):
    """Hits and false positives of the detections ``kept`` (best first) at IoU 0.5."""
    if "gt_boxes" in d:
        boxes = kept[:, :4] * d["stride"]
        m = match_detections(boxes, kept[:, 5], d["gt_boxes"], d["gt_labels"])
        q["hits"] = sum(j >= 0 for j in m)
        q["false_positives"] = len(m) - q["hits"]
    return q


# Chapter 7: training snapshots ------------------------------------------------------------


def _rows(x) -> list[list[float]]:
    """The rows of a small float32 table, each value in its shortest form."""
    a = numpy_of(x, np.float32)
    return np.asarray(shortest(a)).reshape(a.shape).tolist()


@numbers_of("snapshot", ("snapshot", "threshold"), ("steps", "hm", "losses"))
def _snapshot(c, d):
    i = int(validate.number("snapshot", c["snapshot"], 0, len(d["steps"]) - 1))
    threshold = validate.number("threshold", c["threshold"], 0.05, 0.95)
    hm = array(d["hm"])[i : i + 1]  # (1, C, H, W)
    q = {"step": d["steps"][i]} | {k: d["losses"][k][i] for k in LOSS_TERMS}
    q |= {"peak": hm.max(), "peaks": int((heatmap_nms(hm) >= threshold).sum())}
    if "dets" in d:
        rows = torch.tensor(d["dets"][i], dtype=torch.float64).reshape(-1, 6)
        kept = rows[rows[:, 4] >= threshold]  # decode_ctdet sorts them best first
        q = _hits(q | {"boxes": len(kept)}, kept, d)
    return q


def _snapshot_fields(snapshots) -> tuple[list[int], torch.Tensor, bool]:
    """The steps, the stacked heatmaps ``(S, C, H, W)`` and whether boxes come with them;
    every snapshot checked."""
    if not isinstance(snapshots, (list, tuple)) or not snapshots:
        got = "an empty list" if isinstance(snapshots, (list, tuple)) else type(snapshots).__name__
        raise ValueError(f"snapshots must be a non-empty list of dicts, got {got}")
    steps, maps, with_dets = [], [], 0
    for i, s in enumerate(snapshots):
        where = f"snapshots[{i}]"
        validate.has_keys(where, s, ["step", "hm", *LOSS_TERMS])
        steps.append(validate.nonnegative_int(f"{where}['step']", s["step"]))
        for k in LOSS_TERMS:
            validate.number(f"{where}[{k!r}]", s[k], 0)
        hm = _head(f"{where}['hm']", s["hm"])
        if maps and hm.shape != maps[0].shape:
            raise ValueError(
                f"{where}['hm'] must have the shape of snapshots[0]['hm'], "
                f"{tuple(maps[0].shape)}, got {tuple(hm.shape)}"
            )
        maps.append(hm.detach().cpu().float())
        if "dets" in s:
            dets = _tensor(f"{where}['dets']", s["dets"], 2, "(K, 6)")
            if dets.shape[1] != 6:
                raise ValueError(f"{where}['dets'] must have shape (K, 6), got {tuple(dets.shape)}")
            with_dets += 1
    if with_dets not in (0, len(snapshots)):
        raise ValueError(
            f"snapshots must all hold 'dets' or none of them, got {with_dets} of {len(snapshots)}"
        )
    if steps != sorted(set(steps)):
        raise ValueError(f"snapshots must be in training order (increasing steps), got {steps}")
    return steps, torch.stack(maps), with_dets > 0


def snapshot_explorer(snapshots, image=None, gt=None, *, stride=4, snapshot=None, threshold=0.3):
    """Chapter 7: a slider over training snapshots -> the loss terms at that step and the
    heatmap of one held-out image, its peaks and (optionally) its boxes.

    ``snapshots``: a list of dicts in training order, each with ``step``, the loss terms
    ``loss, hm_loss, wh_loss, off_loss`` at that step (``fit``'s record, which its callback
    receives), ``hm (C, H, W)`` the predicted Yhat (after the sigmoid) and optionally
    ``dets (K, 6)`` the image's decoded boxes (``decode_ctdet(...)[0]``, heatmap pixels).
    ``image (H, W, 3)``, ``gt`` and ``stride`` R as ``decode_explorer``; without an
    image the maps are drawn alone. ``snapshot``: the index it opens on, by default the
    last (the trained model; the first is often a blank map). The second control is the
    score threshold: the peaks of ``heatmap_nms`` and the boxes at or above it are counted
    and drawn.
    """
    steps, maps, with_dets = _snapshot_fields(snapshots)
    controls = sliders(("snapshot", "snapshot", 0, len(steps) - 1, 1, True))
    controls += sliders(("threshold", "score threshold", 0.05, 0.95, 0.05))
    shown = [S("step", "after step", 0), S("loss", "L_det", 3), S("hm_loss", "L_k", 3)]
    shown += [S("wh_loss", "L_size", 3), S("off_loss", "L_off", 3), S("peak", "highest Yhat", 3)]
    shown += [S("peaks", "peaks above the threshold", 0)]
    shown += [S("boxes", "boxes above it", 0)] * with_dets + MATCHES * (
        with_dets and gt is not None
    )
    data = _scene(image, gt, stride, maps.shape[1:]) | {"steps": steps, "hm": packed(maps)}
    data["losses"] = {k: [float(s[k]) for s in snapshots] for k in LOSS_TERMS}
    if with_dets:
        data["dets"] = [_rows(s["dets"]) for s in snapshots]
    values = {"snapshot": len(steps) - 1 if snapshot is None else snapshot, "threshold": threshold}
    return live(Explorer("snapshot", controls, shown, values, data, (860, 330)))


@picture_of("snapshot")
def _snapshot_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

    i, threshold = int(c["snapshot"]), c["threshold"]
    hm = array(d["hm"])[i]  # (C, H, W)
    peaks = topk(heatmap_nms(hm[None]), min(100, hm[0].numel()))
    on = peaks.scores[0] >= threshold
    title = f"Yhat after step {q['step']:.0f}: {q['peaks']:.0f} peaks >= {threshold:.2f}"
    heat, scene, curves = fig.subplots(1, 3, width_ratios=[1, 1, 1.1])
    viz.draw_peaks(
        heat, hm, peaks.xs[0][on], peaks.ys[0][on], peaks.scores[0][on], threshold, title
    )
    dets = np.asarray(d["dets"][i]).reshape(-1, 6) if "dets" in d else np.zeros((0, 6))
    viz.draw_detections(scene, _image(d), dets, threshold, d["stride"], _gt(d), "nearest")
    viz.overlay_heatmap(scene, hm, d["image_size"], alpha=0.5 if "image" in d else 1.0)
    scene.set_title(
        f"boxes scoring at least {threshold:.2f}" if "dets" in d else "the image under Yhat",
        fontsize=10,
    )
    names = {"loss": "L_det", "hm_loss": "L_k", "wh_loss": "L_size", "off_loss": "L_off"}
    losses = {names[k]: d["losses"][k] for k in LOSS_TERMS}
    viz.plot_loss_curves(
        curves, d["steps"], losses, i, log_steps=True, title="loss terms at each snapshot"
    )


# Chapter 8: decoding ------------------------------------------------------------------------


@numbers_of("decode", ("threshold", "K", "kernel"), ("hm", "wh", "reg"))
def _decode(c, d):
    hm, wh, reg = (array(d[k])[None] for k in ("hm", "wh", "reg"))
    K, kernel, threshold = int(c["K"]), int(c["kernel"]), c["threshold"]
    survivors = int((heatmap_nms(hm, kernel) >= threshold).sum())
    dets = decode_ctdet(hm, wh, reg, K=K, kernel=kernel)[0]
    kept = dets[dets[:, 4] >= threshold]
    return _hits({"survivors": survivors, "kept": len(kept)}, kept, d)


def decode_explorer(
    image,
    heads: dict,
    gt=None,
    *,
    stride=4,
    threshold=0.3,
    K=20,
    kernel=3,
    yours=None,
    yours_nms=None,
):
    """Chapter 8: score threshold, K and the max-pool window -> the peaks and their boxes.

    ``image (H, W, 3)``, integers in [0, 255] (uint8) or floats in [0, 1], is the picture
    the heads were computed from; ``heads`` one image's tensors ``hm (C, h, w)``
    probabilities (after the sigmoid), ``wh`` and ``reg (2, h, w)``, all finite; ``gt``
    optional ``(boxes (N, 4), labels (N,))`` in image pixels, labels classes of ``hm``,
    drawn dotted and counted against; ``stride`` R, image pixels per heatmap pixel. ``yours``: your
    ``my_decode_ctdet(heat, wh, reg, K)``, ``yours_nms`` your ``my_heatmap_nms(heat)``, each
    shown beside the package's (``widgets.yours``) in a live kernel.
    """
    validate.has_keys("heads", heads, ["hm", "wh", "reg"])
    C, H, W = _head("heads['hm']", heads["hm"]).shape
    for k in ("wh", "reg"):
        _head(f"heads[{k!r}]", heads[k], "(2, H, W)", (2, H, W), probabilities=False)
    controls = sliders(("threshold", "score threshold", 0.05, 0.95, 0.05))
    controls += sliders(("K", "K", 1, min(50, H * W), 1, True))
    controls += [Control("kernel", "max-pool", options=(1, 3, 5, 7))]
    shown = [S("survivors", "peaks above the threshold", 0), S("kept", "kept in the top K", 0)]
    data = _scene(image, gt, stride, (C, H, W)) | {k: dense(heads[k]) for k in ("hm", "wh", "reg")}
    values = {"threshold": threshold, "K": K, "kernel": kernel}
    shown += MATCHES[: 2 * (gt is not None)]
    explorer = Explorer("decode", controls, shown, values, data, (630, 330))
    return live(explorer, yours=yours, yours_nms=yours_nms)


@picture_of("decode")
def _decode_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

    hm, wh, reg = (array(d[k])[None] for k in ("hm", "wh", "reg"))
    K, kernel, threshold = int(c["K"]), int(c["kernel"]), c["threshold"]
    peaks = topk(heatmap_nms(hm, kernel), K)
    heat, scene = fig.subplots(1, 2)
    title = f"heatmap and its top {K} peaks\n({kernel} x {kernel} max-pool)"
    viz.draw_peaks(heat, hm[0], peaks.xs[0], peaks.ys[0], peaks.scores[0], threshold, title)
    dets = decode_ctdet(hm, wh, reg, K=K, kernel=kernel)[0]
    viz.draw_detections(scene, _image(d), dets, threshold, d["stride"], _gt(d), "nearest")
    scene.set_title(f"boxes scoring at least {threshold:.2f}", fontsize=10)


# Chapter 9: extreme points --------------------------------------------------------------------


@numbers_of("extreme", ("K", "center_thresh", "threshold"), tuple(f"hm_{p}" for p in "tlbrc"))
def _extreme(c, d):
    heads = {k: array(v)[None] for k, v in d.items() if k.startswith(("hm_", "reg_"))}
    K = int(c["K"])
    dets = decode_exdet(heads, K=K, num_dets=K**4, center_thresh=c["center_thresh"])[0]
    valid = dets[dets[:, 4] >= 0]  # the valid groupings, best first
    shown = valid[valid[:, 4] >= c["threshold"]]
    return _hits({"valid": len(valid), "shown": len(shown)}, shown, d)


def extreme_explorer(
    image, heads: dict, gt=None, *, stride=4, K=10, center_thresh=0.1, threshold=0.3
):
    """Chapter 9: K, the centre check and a display threshold -> the boxes ``decode_exdet``
    groups. ``heads``: one image's ``hm_t .. hm_c (C, h, w)`` probabilities and optionally
    ``reg_t .. reg_r (2, h, w)``; ``image``, ``gt`` and ``stride`` as ``decode_explorer``."""
    validate.has_keys("heads", heads, [f"hm_{p}" for p in "tlbrc"])
    C, H, W = _head("heads['hm_c']", heads["hm_c"]).shape
    controls = sliders(("K", "K", 1, min(16, H * W), 1, True))
    controls += sliders(("center_thresh", "centre threshold", 0, 0.9, 0.05))
    controls += sliders(("threshold", "score threshold", 0.05, 0.95, 0.05))
    shown = [S("valid", "valid groupings of the K^4 quadruples (t, l, b, r)", 0)]
    shown += [S("shown", "scoring at least the threshold", 0)]
    for p in "tlbr":
        _head(f"heads['hm_{p}']", heads[f"hm_{p}"], shape=(C, H, W))
    regs = [f"reg_{p}" for p in EXTREME_PARTS if f"reg_{p}" in heads]
    for k in regs:
        _head(f"heads[{k!r}]", heads[k], "(2, H, W)", (2, H, W), probabilities=False)
    keys = [f"hm_{p}" for p in "tlbrc"] + regs
    data = _scene(image, gt, stride, (C, H, W)) | {k: dense(heads[k]) for k in keys}
    values = {"K": K, "center_thresh": center_thresh, "threshold": threshold}
    shown += MATCHES[: 2 * (gt is not None)]
    return live(Explorer("extreme", controls, shown, values, data, (360, 370)))


@picture_of("extreme")
def _extreme_picture(fig, c, q, d):
    from .. import viz  # matplotlib: only the picture needs it

    heads = {k: array(v)[None] for k, v in d.items() if k.startswith(("hm_", "reg_"))}
    K = int(c["K"])
    dets = decode_exdet(heads, K=K, num_dets=K**4, center_thresh=c["center_thresh"])[0]
    ax = fig.subplots()
    viz.draw_extreme_detections(ax, _image(d), dets, c["threshold"], d["stride"], _gt(d), "nearest")
    ax.set_title(f"groupings scoring at least {c['threshold']:.2f}", fontsize=10)
