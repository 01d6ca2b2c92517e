"""Evaluation: COCO mAP through pycocotools, and oracle ablations.

``evaluate`` runs a model over a data set, decodes its heads with ``decode_ctdet``,
scales the boxes from heatmap to image pixels (times the stride R) and scores them with
the COCO protocol: AP averaged over IoU 0.5:0.95, AP50, AP75, and AP for small, medium
and large objects (areas below 32^2, up to 96^2, above; on small images most objects
are small, and a range without objects reads NaN).

``oracle_ablations`` asks which head limits the model, as the error analysis of the
CenterNet paper does: it swaps the ground truth (``scatter_targets``) in for one or more
of the predicted maps and reports the mAP of each mixture. If the ground-truth heatmap
lifts AP the most, finding centres is the bottleneck; if the ground-truth size does,
the size head is.

``evaluate_exdet`` scores an extreme-point model (``CenterNetLite(extreme=True)``) the
same way, its boxes grouped by ``decode_exdet``; with no model it decodes the
ground-truth maps, which shows what the grouping itself costs.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterable, Sequence

import torch
from torch.utils.data import DataLoader

from .decode import decode_ctdet, decode_exdet
from .targets import scatter_targets

__all__ = [
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


def detections_to_coco(dets: torch.Tensor, image_ids, stride: float) -> list[dict]:
    """COCO result entries from ``decode_ctdet`` output.

    Args:
        dets: ``(B, K, 6)`` x1, y1, x2, y2 (heatmap pixels), score, class.
        image_ids: ``(B,)`` the COCO image id of each row.
        stride: R: heatmap pixels times R are image pixels.

    Returns:
        a list of ``{"image_id", "category_id" (class + 1), "bbox" [x, y, w, h] in image
        pixels, "score"}``, leaving out detections with a score of 0 (the empty peaks a
        ground-truth heatmap has everywhere away from its objects).
    """
    if not isinstance(dets, torch.Tensor) or dets.ndim != 3 or dets.shape[2] < 6:
        raise ValueError(f"dets must be a (B, K, 6) tensor, got {getattr(dets, 'shape', dets)}")
    ids = torch.as_tensor(image_ids).reshape(-1).tolist()
    if len(ids) != dets.shape[0]:
        raise ValueError(f"image_ids must hold {dets.shape[0]} ids, got {len(ids)}")
    d = dets.detach().float().cpu().numpy()
    out = []
    for b, image_id in enumerate(ids):
        for x1, y1, x2, y2, score, cls in d[b, :, :6]:
            if not score > 0:
                continue
            x1, y1, x2, y2 = (float(v) * stride for v in (x1, y1, x2, y2))
            out.append(
                {
                    "image_id": int(image_id),
                    "category_id": int(cls) + 1,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(score),
                }
            )
    return out


def ground_truth_to_coco(batches: Iterable[dict], num_classes: int) -> dict:
    """A COCO ground-truth dict from batches of items (``boxes``, ``labels``,
    ``num_objs``, ``image_id``, ``image``); category k + 1 is class k, area is the box
    area."""
    images, annotations = [], []
    for batch in batches:
        H, W = batch["image"].shape[-2:]
        for b in range(batch["image"].shape[0]):
            image_id = int(batch["image_id"][b])
            images.append({"id": image_id, "width": int(W), "height": int(H)})
            n = int(batch["num_objs"][b])
            for (x1, y1, x2, y2), label in zip(
                batch["boxes"][b, :n].tolist(), batch["labels"][b, :n].tolist(), strict=True
            ):
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": image_id,
                        "category_id": int(label) + 1,
                        "bbox": [x1, y1, x2 - x1, y2 - y1],
                        "area": (x2 - x1) * (y2 - y1),
                        "iscrowd": 0,
                    }
                )
    return {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": k + 1, "name": str(k)} for k in range(num_classes)],
    }


def coco_map(ground_truth: dict, results: Sequence[dict]) -> dict[str, float]:
    """COCO bbox mAP of ``results`` against ``ground_truth`` (pycocotools, output silenced).

    Args:
        ground_truth: a COCO dict (``images``, ``annotations`` with ``area`` and
            ``iscrowd``, ``categories``).
        results: COCO result entries (``image_id``, ``category_id``, ``bbox``, ``score``).

    Returns:
        ``AP, AP50, AP75, AP_small, AP_medium, AP_large`` as floats in [0, 1]; NaN where
        the ground truth has no object (pycocotools' -1).
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    image_ids = {img["id"] for img in ground_truth["images"]}
    dts = []
    for k, r in enumerate(results):
        if r["image_id"] not in image_ids:
            raise ValueError(f"result {k} names image {r['image_id']}, not in the ground truth")
        w, h = r["bbox"][2], r["bbox"][3]
        dts.append({**r, "id": k + 1, "area": w * h, "iscrowd": 0})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = ground_truth
        gt.createIndex()
        dt = COCO()
        dt.dataset = {
            "images": ground_truth["images"],
            "categories": ground_truth["categories"],
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


def _loader(dataset, batch_size: int, num_workers: int) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)


@torch.no_grad()
def collect_detections(
    model: torch.nn.Module | None,
    dataset,
    oracles: Sequence[str] = ("model",),
    *,
    K: int = 100,
    batch_size: int = 32,
    device=None,
    num_workers: int = 0,
) -> tuple[dict, dict[str, list[dict]]]:
    """Run ``model`` over ``dataset`` and decode each oracle mixture.

    Returns ``(ground_truth, {oracle: results})``: the COCO ground truth of the data set
    and, for each name in ``oracles`` (keys of ``ORACLES``), its COCO results. ``model``
    may be None when only ``"gt_all"`` is asked for. The model is put in eval mode and
    left there.
    """
    unknown = [o for o in oracles if o not in ORACLES]
    if unknown:
        raise ValueError(f"unknown oracles {unknown}; expected names from {list(ORACLES)}")
    needs_model = any(set(ORACLES[o]) != {"hm", "wh", "reg"} for o in oracles)
    if model is None and needs_model:
        raise ValueError("a model is needed for every oracle but 'gt_all'")
    if device is None:
        device = next(model.parameters()).device if model is not None else torch.device("cpu")
    if model is not None:
        model.eval()
    batches, results = [], {o: [] for o in oracles}
    for batch in _loader(dataset, batch_size, num_workers):
        batches.append({k: batch[k] for k in ("image", "boxes", "labels", "num_objs", "image_id")})
        gt = scatter_targets(
            {k: batch[k].to(device) for k in ("hm", "wh", "reg", "ind", "reg_mask")}
        )
        pred = {}
        if needs_model:
            out = model(batch["image"].to(device))
            pred = {"hm": torch.sigmoid(out["hm"].float()), "wh": out["wh"].float()}
            pred["reg"] = out["reg"].float()
        stride = batch["image"].shape[-1] / gt["hm"].shape[-1]
        for name in oracles:
            maps = {k: gt[k] if k in ORACLES[name] else pred[k] for k in ("hm", "wh", "reg")}
            dets = decode_ctdet(maps["hm"], maps["wh"], maps["reg"], K=K)
            results[name] += detections_to_coco(dets, batch["image_id"], stride)
    num_classes = dataset.num_classes if hasattr(dataset, "num_classes") else gt["hm"].shape[1]
    return ground_truth_to_coco(batches, num_classes), results


def evaluate(model, dataset, **kwargs) -> dict[str, float]:
    """COCO mAP of ``model`` on ``dataset`` (items as ``make_item``).

    Keyword arguments go to ``collect_detections`` (``K``, ``batch_size``, ``device``,
    ``num_workers``). Returns ``AP, AP50, AP75, AP_small, AP_medium, AP_large``.
    """
    gt, results = collect_detections(model, dataset, ("model",), **kwargs)
    return coco_map(gt, results["model"])


def oracle_ablations(
    model, dataset, oracles: Sequence[str] = tuple(ORACLES), **kwargs
) -> dict[str, dict[str, float]]:
    """mAP of the model and of each ground-truth substitution (``ORACLES``).

    ``gt_hm`` decodes the ground-truth heatmap with the predicted size and offset,
    ``gt_off`` and ``gt_wh`` swap in the true offset or size at the true centre pixels
    (zeros elsewhere, so a centre found one pixel off gets size 0), and so on;
    ``gt_all`` is the perfect prediction and scores 1.0 when every object has its own
    centre pixel.
    """
    gt, results = collect_detections(model, dataset, oracles, **kwargs)
    return {name: coco_map(gt, results[name]) for name in oracles}


def format_metrics(metrics: dict[str, float]) -> str:
    """``AP 0.512  AP50 0.901 ...`` on one line."""
    return "  ".join(f"{k} {'  nan' if math.isnan(v) else f'{v:.3f}'}" for k, v in metrics.items())


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
    if model is not None and not getattr(model, "extreme", False):
        raise ValueError("model must predict the extreme-point heads (extreme=True)")
    if device is None:
        device = next(model.parameters()).device if model is not None else torch.device("cpu")
    if model is not None:
        model.eval()
    heat_keys = [f"hm_{p}" for p in "tlbrc"]
    batches, results = [], []
    for batch in _loader(dataset, batch_size, num_workers):
        if "hm_c" not in batch:
            raise ValueError("dataset items must hold the extreme-point targets (extreme=True)")
        batches.append({k: batch[k] for k in ("image", "boxes", "labels", "num_objs", "image_id")})
        if model is None:
            keys = heat_keys + [f"{k}_{p}" for k in ("reg", "ind") for p in "tlbr"]
            maps = scatter_targets({k: batch[k].to(device) for k in keys + ["reg_mask"]})
        else:
            out = model(batch["image"].to(device))
            maps = {k: v.float() for k, v in out.items()}
            maps.update({k: torch.sigmoid(maps[k]) for k in heat_keys})
        dets = decode_exdet(
            maps, K=K, num_dets=num_dets, score_thresh=score_thresh, center_thresh=center_thresh
        )
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
