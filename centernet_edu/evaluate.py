"""Evaluation: COCO mAP through pycocotools, and oracle ablations.

``evaluate`` decodes a model's heads over a data set (``decode_ctdet``), scales the boxes
by the stride R and scores them with the COCO protocol: AP over IoU 0.5:0.95, AP50, AP75,
and AP of small, medium and large objects (a range without objects reads NaN).

``oracle_ablations`` asks which head limits the model, as the paper's error analysis
does: it swaps the ground truth in for one or more predicted maps (``oracle.oracle_maps``)
and reports the mAP of each mixture.

``evaluate_exdet`` scores an extreme-point model (``CenterNetLite(extreme=True)``) with
``decode_exdet``; with no model, the ground-truth maps: what the grouping itself costs.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterable, Sequence
from numbers import Real

import numpy as np
import torch
from torch.utils.data import DataLoader

from .boxes import box_iou, centred_boxes, match_detections
from .data import batch_with_targets
from .data.coco import ground_truth_to_coco
from .decode import decode_ctdet, decode_exdet
from .fast import window_max  # decoding many maps: the max-pool of NMS, several times faster
from .oracle import oracle_maps
from .targets import scatter_targets
from .validate import (
    has_keys,
    is_finite_numbers,
    nonnegative_int,
    number,
    positive_int,
    real_array,
    tensor,
)

__all__ = [
    "box_iou",
    "centred_boxes",
    "match_detections",
    "ORACLES",
    "METRICS",
    "detections_to_coco",
    "ground_truth_to_coco",
    "coco_map",
    "collect_detections",
    "evaluate",
    "oracle_ablations",
    "format_metrics",
    "collect_exdet_detections",
    "evaluate_exdet",
]

# Which predicted maps each ablation replaces with the ground truth.
ORACLES = {
    "model": (),
    "gt_hm": ("hm",),
    "gt_off": ("reg",),
    "gt_wh": ("wh",),
    "gt_hm_off": ("hm", "reg"),
    "gt_hm_wh": ("hm", "wh"),
    "gt_all": ("hm", "wh", "reg"),
}

METRICS = ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large")

# What evaluation reads of every item (``make_item``).
_ITEM_KEYS = ("image", "boxes", "labels", "num_objs", "image_id")


# --------------------------------------------------------------------------- COCO entries


def detections_to_coco(dets: torch.Tensor, image_ids, stride: float) -> list[dict]:
    """COCO result entries from ``decode_ctdet`` output.

    Args:
        dets: ``(B, K, 6)`` x1, y1, x2, y2 (heatmap pixels), score, class.
        image_ids: ``(B,)`` the COCO image id of each row.
        stride: R: heatmap pixels times R are image pixels.

    Returns:
        ``{"image_id", "category_id" (class + 1), "bbox" [x, y, w >= 0, h >= 0] in image
        pixels, "score"}`` for each detection with a score above 0.

    A non-finite score, or a bad box or class with a score > 0, is a ``ValueError``.
    """
    tensor("dets", dets, 3, "(B, K, 6)")
    if dets.shape[2] < 6:
        raise ValueError(f"dets must have shape (B, K, 6), got {tuple(dets.shape)}")
    real_array("dets", dets)
    stride = number("stride", stride, 0, open_low=True)
    try:
        raw = torch.as_tensor(image_ids).reshape(-1)
        ids = [int(i) for i in raw.tolist()]
    except (TypeError, ValueError, RuntimeError, OverflowError) as e:
        raise ValueError(f"image_ids must be {dets.shape[0]} integers, got {image_ids!r}") from e
    if raw.dtype == torch.bool or raw.is_complex() or ids != raw.tolist():
        raise ValueError(f"image_ids must be {dets.shape[0]} integers, got {image_ids!r}")
    if len(ids) != dets.shape[0]:
        raise ValueError(f"image_ids must hold {dets.shape[0]} ids, got {len(ids)}")
    d = dets.detach().float().cpu().numpy()[:, :, :6]
    score = d[:, :, 4]
    bad = ~np.isfinite(score) | ((score > 0) & ~np.isfinite(d[:, :, :4]).all(axis=2))
    if bad.any():
        b, k = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"detection {k} of image_id {ids[b]} (dets[{b}, {k}]) is not finite: {d[b, k].tolist()}"
        )
    if ((score > 0) & ((d[:, :, 5] < 0) | (d[:, :, 5] % 1 != 0))).any():
        raise ValueError(f"dets' class column must hold integers >= 0, got {d[:, :, 5].tolist()}")
    out = []
    for b, image_id in enumerate(ids):
        for x1, y1, x2, y2, s, cls in d[b][score[b] > 0].tolist():
            x1, y1, x2, y2 = (v * stride for v in (x1, y1, x2, y2))
            out.append(
                {
                    "image_id": image_id,
                    "category_id": int(cls) + 1,
                    "bbox": [x1, y1, max(x2 - x1, 0.0), max(y2 - y1, 0.0)],
                    "score": s,
                }
            )
    return out


# --------------------------------------------------------------------------- COCO mAP


def _among(value, ids: set) -> bool:
    try:
        return value in ids
    except TypeError:  # unhashable
        return False


def _same_int(value, n: int) -> bool:
    """Whether ``value`` is the number ``n`` (an int, a bool or a float)."""
    return isinstance(value, Real) and value == n


def _entries(where: str, entries, keys: tuple[str, ...]) -> list[dict]:
    """Copies of the dicts of the list ``entries``, each checked to hold ``keys``."""
    if isinstance(entries, (str, bytes, dict)) or not isinstance(entries, Iterable):
        raise ValueError(f"{where} must be a list of dicts, got {type(entries).__name__}")
    out = []
    for k, entry in enumerate(entries):
        has_keys(f"{where}[{k}]", entry, keys)
        out.append(dict(entry))
    return out


def _check_bbox(where: str, box) -> None:
    if not is_finite_numbers(box, 4):
        raise ValueError(f"{where}: bbox must be 4 finite numbers [x, y, width, height], got {box!r}")  # noqa: E501 # fmt: skip
    if box[2] < 0 or box[3] < 0:
        raise ValueError(f"{where}: bbox must be 4 finite numbers with width, height >= 0, got {box!r}")  # noqa: E501 # fmt: skip


def _checked_ground_truth(ground_truth) -> dict:
    """A copy of ``ground_truth`` for pycocotools, which marks the annotations it scores."""
    has_keys("ground_truth", ground_truth, ("images", "annotations", "categories"))
    images = _entries("ground_truth['images']", ground_truth["images"], ("id",))
    categories = _entries("ground_truth['categories']", ground_truth["categories"], ("id",))
    for where, entries in (("images", images), ("categories", categories)):
        for k, entry in enumerate(entries):
            try:
                hash(entry["id"])
            except TypeError:
                raise ValueError(
                    f"ground_truth['{where}'][{k}]: id must be an integer (a hashable id), got "
                    f"{entry['id']!r}"
                ) from None
    image_ids, category_ids = {i["id"] for i in images}, {c["id"] for c in categories}
    keys = ("id", "image_id", "category_id", "bbox", "area", "iscrowd")
    annotations = _entries("ground_truth['annotations']", ground_truth["annotations"], keys)
    for k, a in enumerate(annotations):
        where = f"ground_truth['annotations'][{k}] (image_id {a['image_id']!r})"
        if not _among(a["image_id"], image_ids):
            raise ValueError(f"{where}: image_id is not among the ground truth's images")
        if not _among(a["category_id"], category_ids):
            raise ValueError(
                f"{where}: category_id {a['category_id']!r} is not among the categories "
                f"{sorted(category_ids)}"
            )
        _check_bbox(where, a["bbox"])
        if not is_finite_numbers([a["area"]], 1) or a["area"] < 0:
            raise ValueError(f"{where}: area must be a finite number >= 0, got {a['area']!r}")
        if not (_same_int(a["iscrowd"], 0) or _same_int(a["iscrowd"], 1)):
            raise ValueError(f"{where}: iscrowd must be 0 or 1, got {a['iscrowd']!r}")
    return {"images": images, "annotations": annotations, "categories": categories}


def _checked_results(results, ground_truth: dict) -> list[dict]:
    """pycocotools' detections: a checked copy of each result, with its id and area."""
    image_ids = {img["id"] for img in ground_truth["images"]}
    category_ids = {c["id"] for c in ground_truth["categories"]}
    dts = []
    for k, r in enumerate(
        _entries("results", results, ("image_id", "category_id", "bbox", "score"))
    ):
        if not _among(r["image_id"], image_ids):
            raise ValueError(f"result {k} names image {r['image_id']!r}, not in the ground truth")
        where = f"result {k} (image_id {r['image_id']})"
        if not _among(r["category_id"], category_ids):
            raise ValueError(
                f"{where}: category_id {r['category_id']!r} is not among the ground truth's "
                f"categories {sorted(category_ids)}"
            )
        _check_bbox(where, r["bbox"])
        if not is_finite_numbers([r["score"]], 1):
            raise ValueError(f"{where}: score must be a finite number, got {r['score']!r}")
        bbox = [float(v) for v in r["bbox"]]
        dts.append({**r, "bbox": bbox, "id": k + 1, "area": bbox[2] * bbox[3], "iscrowd": 0})
    return dts


def coco_map(ground_truth: dict, results: Sequence[dict]) -> dict[str, float]:
    """COCO bbox mAP of ``results`` against ``ground_truth`` (pycocotools, output silenced).

    Args:
        ground_truth: a COCO dict (``images``, ``annotations`` with ``area`` and
            ``iscrowd``, ``categories``).
        results: COCO result entries (``image_id``, ``category_id``, ``bbox``, ``score``).

    Returns:
        ``AP, AP50, AP75, AP_small, AP_medium, AP_large`` as floats in [0, 1]; NaN where
        the ground truth has no object (pycocotools' -1).

    Both are checked first: a missing key, a bbox not 4 finite numbers of size >= 0, a
    non-finite score, or an ``image_id`` or ``category_id`` the ground truth lacks is a
    ``ValueError`` naming the entry. Neither argument is changed (pycocotools gets copies).
    """
    gt_dataset = _checked_ground_truth(ground_truth)
    return _coco_eval(gt_dataset, _checked_results(results, gt_dataset))


def _made_map(ground_truth: dict, results: list[dict]) -> dict[str, float]:
    """``coco_map`` of what ``collect_detections`` made, right by construction: copied
    for pycocotools (it marks the annotations it scores), not checked again."""
    gt = {**ground_truth, "annotations": [dict(a) for a in ground_truth["annotations"]]}
    area = [r["bbox"][2] * r["bbox"][3] for r in results]
    dts = [{**r, "id": k + 1, "area": area[k], "iscrowd": 0} for k, r in enumerate(results)]
    return _coco_eval(gt, dts)


def _coco_eval(gt_dataset: dict, dts: list[dict]) -> dict[str, float]:
    """pycocotools' bbox summary of the detections ``dts`` against ``gt_dataset``."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = gt_dataset
        gt.createIndex()
        dt = COCO()
        dt.dataset = {
            "images": gt_dataset["images"],
            "categories": gt_dataset["categories"],
            "annotations": dts,
        }
        dt.createIndex()
        ev = COCOeval(gt, dt, iouType="bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {
        name: (float("nan") if v < 0 else float(v))
        for name, v in zip(METRICS, ev.stats[:6], strict=True)
    }


# --------------------------------------------------------------------------- running a model


def _loader(dataset, batch_size: int, num_workers: int) -> DataLoader:
    if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
        raise ValueError(
            f"dataset must be a data set of make_item dicts, got {type(dataset).__name__}"
        )
    if len(dataset) == 0:
        raise ValueError("dataset holds no images")
    batch_size = positive_int("batch_size", batch_size)
    num_workers = nonnegative_int("num_workers", num_workers)
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)


def _device(model, device) -> torch.device:
    if model is not None and not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module or None, got {type(model).__name__}")
    param = next(model.parameters(), None) if model is not None else None
    if param is not None and param.is_meta:
        raise ValueError("model's weights are on the meta device, which holds no values")
    if device is not None:
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError) as e:
            raise ValueError(f"device must name a torch device, got {device!r}") from e
        if dev.type == "meta":
            raise ValueError(
                f"device must be one that computes, such as 'cpu' or 'cuda', got {device!r} "
                "(the meta device holds no values)"
            )
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but CUDA is not available")
        return dev
    return param.device if param is not None else torch.device("cpu")


def _check_oracles(oracles, model) -> tuple[str, ...]:
    names = () if isinstance(oracles, str) or not isinstance(oracles, Iterable) else tuple(oracles)
    if not names:
        raise ValueError(
            f"oracles must be a non-empty list of names from {list(ORACLES)}, got {oracles!r}"
        )
    oracles = names
    unknown = [o for o in oracles if not _among(o, set(ORACLES))]
    if unknown:
        raise ValueError(f"unknown oracles {unknown}; expected names from {list(ORACLES)}")
    if model is None and any(set(ORACLES[o]) != {"hm", "wh", "reg"} for o in oracles):
        raise ValueError("a model is needed for every oracle but 'gt_all'")
    return oracles


def _check_classes(heads: torch.Tensor, num_classes: int) -> None:
    """The model's heatmap ``(B, C, H, W)`` has one channel per class of the data set."""
    if heads.shape[1] != num_classes:
        raise ValueError(
            f"the model predicts {heads.shape[1]} classes (heatmap channels) but the data set "
            f"has {num_classes} classes"
        )


def _predict(model, batch: dict, device, num_classes: int | None) -> dict:
    out = model(batch["image"].to(device))
    has_keys("the model's output", out, ("hm", "wh", "reg"))
    if num_classes is not None:
        _check_classes(out["hm"], num_classes)
    hm, wh, reg = (out[k].float() for k in ("hm", "wh", "reg"))
    return {"hm": torch.sigmoid(hm), "wh": wh, "reg": reg}


def _true_maps(batch: dict, num_classes: int | None, pred: dict, dataset, device) -> dict:
    """The ground-truth maps ``hm, wh, reg`` of a batch, sizes and offsets filled over the
    whole map as the original's oracles fill them (``oracle_maps``).

    Items without their targets (``targets=False``, what ``fit`` trains on) are encoded
    here, at the model's stride when there is a model, else at the data set's.
    """
    if "hm" not in batch:
        H = batch["image"].shape[-2]
        stride = H // pred["hm"].shape[-2] if pred else getattr(dataset, "stride", None)
        if stride is None or num_classes is None:
            raise ValueError(
                "dataset items hold no targets ('hm') and dataset has no stride and "
                "num_classes to encode them with"
            )
        batch = batch_with_targets(batch, num_classes, stride)
    truth = oracle_maps({k: batch[k].to(device) for k in ("hm", "wh", "reg", "ind", "reg_mask")})
    if pred and pred["hm"].shape != truth["hm"].shape:
        raise ValueError(
            f"the model's heatmap is {tuple(pred['hm'].shape)} but the data set's targets are "
            f"{tuple(truth['hm'].shape)}"
        )
    return truth


@torch.no_grad()
def collect_detections(
    model: torch.nn.Module | None,
    dataset,
    oracles: Sequence[str] = ("model",),
    *,
    K: int | None = None,
    batch_size: int = 32,
    device=None,
    num_workers: int = 0,
) -> tuple[dict, dict[str, list[dict]]]:
    """Run ``model`` over ``dataset`` and decode each oracle mixture.

    Returns ``(ground_truth, {oracle: results})``: the COCO ground truth of the data set
    and, for each name in ``oracles`` (keys of ``ORACLES``), its COCO results. ``model``
    may be None when only ``"gt_all"`` is asked for. The model is put in eval mode and
    left there. Items may carry their ``encode_ctdet`` targets or not (``targets=False``);
    a model whose heatmap has another number of classes than the data set is a
    ``ValueError``. ``K``, the detections kept per image (``decode_ctdet``), is 100 by
    default, or the heatmap's H*W when that is smaller; a ``K`` given is at most H*W.
    """
    oracles = _check_oracles(oracles, model)
    device = _device(model, device)
    needs_model = any(set(ORACLES[o]) != {"hm", "wh", "reg"} for o in oracles)
    needs_truth = any(ORACLES[o] for o in oracles)
    if model is not None:
        model.eval()
    num_classes = getattr(dataset, "num_classes", None)
    batches, results = [], {o: [] for o in oracles}
    for batch in _loader(dataset, batch_size, num_workers):
        has_keys("dataset items", batch, _ITEM_KEYS)
        batches.append({k: batch[k] for k in _ITEM_KEYS})
        if num_classes is None and "hm" in batch:  # a plain list of items: count their maps
            num_classes = batch["hm"].shape[1]
        pred = _predict(model, batch, device, num_classes) if needs_model else {}
        num_classes = num_classes or (pred["hm"].shape[1] if pred else None)
        truth = _true_maps(batch, num_classes, pred, dataset, device) if needs_truth else {}
        stride = batch["image"].shape[-1] / (truth or pred)["hm"].shape[-1]
        for name in oracles:
            maps = {k: truth[k] if k in ORACLES[name] else pred[k] for k in ("hm", "wh", "reg")}
            top = min(100, maps["hm"][0, 0].numel()) if K is None else K
            dets = decode_ctdet(maps["hm"], maps["wh"], maps["reg"], K=top, pool=window_max)
            results[name] += detections_to_coco(dets, batch["image_id"], stride)
    return ground_truth_to_coco(batches, num_classes), results


def evaluate(model, dataset, **kwargs) -> dict[str, float]:
    """COCO mAP of ``model`` on ``dataset`` (items as ``make_item``).

    Keyword arguments go to ``collect_detections`` (``K``, ``batch_size``, ``device``,
    ``num_workers``). Returns ``AP, AP50, AP75, AP_small, AP_medium, AP_large``.
    """
    if model is None:
        raise ValueError("model must be a torch.nn.Module, got None")
    gt, results = collect_detections(model, dataset, ("model",), **kwargs)
    return _made_map(gt, results["model"])


def oracle_ablations(
    model, dataset, oracles: Sequence[str] = tuple(ORACLES), **kwargs
) -> dict[str, dict[str, float]]:
    """mAP of the model and of each ground-truth substitution (``ORACLES``).

    ``gt_hm`` decodes the true heatmap with the predicted size and offset; ``gt_off`` and
    ``gt_wh`` swap in the nearest object's true offset or size (the original's flood fill,
    ``oracle.oracle_maps``), and so on; ``gt_all`` scores 1.0 when every object has its
    own centre pixel.
    """
    oracles = _check_oracles(oracles, model)
    gt, results = collect_detections(model, dataset, oracles, **kwargs)
    return {name: _made_map(gt, results[name]) for name in oracles}


def format_metrics(metrics: dict[str, float]) -> str:
    """``AP 0.512  AP50 0.901 ...`` on one line."""
    if not isinstance(metrics, dict):
        raise TypeError(f"metrics must be a dict of name: number, got {type(metrics).__name__}")
    values = {k: _metric(k, v) for k, v in metrics.items()}
    return "  ".join(f"{k} {'  nan' if math.isnan(v) else f'{v:.3f}'}" for k, v in values.items())


def _metric(name, value) -> float:
    """A metric's value as a float (NaN included), else a ``TypeError`` naming it."""
    try:
        if not isinstance(value, (str, bytes, bool, complex)):
            return float(value)
    except (TypeError, ValueError, RuntimeError):
        pass
    raise TypeError(f"metrics[{name!r}] must be a number, got {value!r}")


# --------------------------------------------------------------------------- extreme points


@torch.no_grad()
def collect_exdet_detections(
    model: torch.nn.Module | None,
    dataset,
    *,
    K: int = 20,
    num_dets: int = 100,
    score_thresh: float = 0.1,
    center_thresh: float = 0.1,
    batch_size: int = 8,
    device=None,
    num_workers: int = 0,
) -> tuple[dict, list[dict]]:
    """Run an extreme-point model over ``dataset`` and decode it with ``decode_exdet``.

    Args:
        model: a model with the extreme-point heads (``CenterNetLite(extreme=True)``), or
            None to decode the ground-truth maps (``scatter_targets`` of the
            ``encode_exdet`` targets): the ceiling of the grouping itself.
        dataset: items with the extreme-point targets (``ShapesDataset(extreme=True)``).
        K, num_dets, score_thresh, center_thresh: as ``decode_exdet``; memory grows as
            ``batch_size * K^4``.

    Returns:
        ``(ground_truth, results)``: the COCO ground truth of the boxes and the COCO
        results of the grouped boxes (invalid groupings, score -1, are left out).
    """
    device = _device(model, device)
    if model is not None and not getattr(model, "extreme", False):
        raise ValueError("model must predict the extreme-point heads (extreme=True)")
    if model is not None:
        model.eval()
    heat_keys = [f"hm_{p}" for p in "tlbrc"]
    batches, results = [], []
    for batch in _loader(dataset, batch_size, num_workers):
        if "hm_c" not in batch:
            raise ValueError("dataset items must hold the extreme-point targets (extreme=True)")
        has_keys("dataset items", batch, _ITEM_KEYS)
        batches.append({k: batch[k] for k in _ITEM_KEYS})
        if model is None:
            keys = heat_keys + [f"{k}_{p}" for k in ("reg", "ind") for p in "tlbr"]
            maps = scatter_targets({k: batch[k].to(device) for k in keys + ["reg_mask"]})
        else:
            out = model(batch["image"].to(device))
            maps = {k: v.float() for k, v in out.items()}
            maps.update({k: torch.sigmoid(maps[k]) for k in heat_keys})
            _check_classes(maps["hm_c"], getattr(dataset, "num_classes", batch["hm_c"].shape[1]))
        dets = decode_exdet(maps, K, num_dets, score_thresh, center_thresh, pool=window_max)
        stride = batch["image"].shape[-1] / maps["hm_c"].shape[-1]
        results += detections_to_coco(dets, batch["image_id"], stride)
    num_classes = dataset.num_classes if hasattr(dataset, "num_classes") else maps["hm_c"].shape[1]
    return ground_truth_to_coco(batches, num_classes), results


def evaluate_exdet(model, dataset, **kwargs) -> dict[str, float]:
    """COCO box mAP of an extreme-point model on ``dataset``: ``evaluate`` for
    ``CenterNetLite(extreme=True)``. Keyword arguments go to
    ``collect_exdet_detections``."""
    gt, results = collect_exdet_detections(model, dataset, **kwargs)
    return coco_map(gt, results)
