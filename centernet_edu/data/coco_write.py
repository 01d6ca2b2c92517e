"""Writing COCO files: a data set's images and its JSON, and the ground truth of batches.

``write_coco`` writes a detection data set as COCO lays it out (one JSON file of
``images``, ``annotations``, ``categories`` and a folder of images), all or nothing;
``ground_truth_to_coco`` turns batches of items into the ground-truth dict that
``coco_map`` scores against. COCO boxes are ``[x, y, width, height]``; inside the package
boxes are x1, y1, x2, y2 in image pixels.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..validate import has_keys, nonnegative_int, positive_int
from .batching import check_annotations

__all__ = ["write_coco", "ground_truth_to_coco"]


def write_coco(
    root,
    records: Iterable[tuple[int, dict]],
    categories: Sequence[str],
    *,
    json_name: str = "annotations.json",
    image_dir: str = "images",
) -> Path:
    """Write a data set in the COCO format: ``root/<json_name>`` and PNGs in ``root/<image_dir>``.

    Args:
        root: the folder (created if missing; a regular file in its way is a ``ValueError``).
        records: ``(image_id, record)`` pairs, image ids distinct integers >= 0; each
            record holds ``image (H, W, 3) uint8``, ``boxes (N, 4)`` x1, y1, x2, y2 in image
            pixels (finite, x1 <= x2, y1 <= y2), ``labels (N,)`` in ``[0, len(categories))``
            and optionally ``extreme_points (N, 8)`` (``ShapesDataset.records()`` yields
            exactly these).
        categories: class names; class k gets COCO category id k + 1.

    COCO boxes are ``[x, y, width, height]``; ``area`` is the box area. Extreme points,
    when given, go to a non-standard ``extreme_points`` field of each annotation
    (t_x, t_y, l_x, l_y, b_x, b_y, r_x, r_y).

    All or nothing: every record is checked as its image is written into a hidden staging
    folder inside ``root``; only when all have passed do the images move into place, and
    the JSON file comes last. A bad record raises ``ValueError`` naming the image and
    leaves no file behind (nor ``root`` itself when this call created it). Nothing is
    overwritten: an existing JSON file or image file of the same name is a
    ``FileExistsError``.

    Returns:
        the path of the JSON file.
    """
    categories = _category_names(categories)
    _check_layout(json_name, image_dir, records)
    root = as_path("root", root)
    path, folder = root / json_name, root / image_dir
    _check_folder("root", root)
    _check_folder("image_dir", folder)
    if path.exists():
        raise FileExistsError(f"{path} already exists; remove it or choose another json_name")
    created = [_make_dirs(root)]
    stage = Path(tempfile.mkdtemp(prefix=".write_coco-", dir=root))
    moved: list[Path] = []
    try:
        doc = _stage_records(records, categories, stage, folder)
        text = json.dumps(doc, allow_nan=False)
        created.append(_make_dirs(folder))
        for img in doc["images"]:
            moved.append(folder / img["file_name"])
            os.replace(stage / img["file_name"], moved[-1])
        (stage / "coco.json").write_text(text)
        os.replace(stage / "coco.json", path)
    except BaseException:
        _remove(moved, created)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return path


def _check_layout(json_name, image_dir, records) -> None:
    for name, value in (("json_name", json_name), ("image_dir", image_dir)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        if Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError(f"{name} must be a path inside root, got {value!r}")
    json_path, images = Path(json_name), Path(image_dir)
    if json_path == images or json_path in images.parents:
        raise ValueError(
            f"json_name must differ from image_dir (the JSON file can be neither the image "
            f"folder nor a folder above it), got json_name={json_name!r}, "
            f"image_dir={image_dir!r}"
        )
    if records is None or isinstance(records, (str, dict)) or not isinstance(records, Iterable):
        raise TypeError(f"records must be (image_id, record) pairs, got {type(records).__name__}")


def _remove(files: list[Path], folders: list[Path | None]) -> None:
    """Undo a failed ``write_coco``: the files it moved, then the folders it created."""
    for f in files:
        f.unlink(missing_ok=True)
    for top in reversed(folders):
        if top is not None:
            shutil.rmtree(top, ignore_errors=True)


def _category_names(categories) -> list[str]:
    if isinstance(categories, str) or not isinstance(categories, Sequence) or not categories:
        raise ValueError(f"categories must be a non-empty list of names, got {categories!r}")
    names = [str(c) for c in categories]
    if len(set(names)) != len(names):
        raise ValueError(f"categories must be distinct names, got {categories!r}")
    return names


def as_path(name: str, value) -> Path:
    """``value`` as a ``Path``; a ``TypeError`` naming ``name`` unless a str or path-like."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")
    return Path(value)


def _check_folder(name: str, folder: Path) -> None:
    """``folder`` is a folder, or can be made one: no regular file stands at it or above it."""
    for p in (folder, *folder.parents):
        if p.exists() and not p.is_dir():
            raise ValueError(f"{name} must be a folder, got {folder}, where {p} is a file")


def _make_dirs(folder: Path) -> Path | None:
    """Create ``folder`` and its missing parents; the topmost folder created, or None."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return missing[-1] if missing else None


def _stage_records(records, categories: list[str], stage: Path, folder: Path) -> dict:
    """Check each record, save its PNG into ``stage``, and build the COCO document."""
    from PIL import Image

    images, annotations, seen = [], [], set()
    for k, pair in enumerate(records):
        if not (isinstance(pair, Sequence) and len(pair) == 2):
            raise ValueError(f"records[{k}] must be an (image_id, record) pair, got {pair!r}")
        image_id = nonnegative_int(f"records[{k}] image_id", pair[0])
        if image_id in seen:
            raise ValueError(f"image {image_id}: duplicate id")
        seen.add(image_id)
        image, boxes, labels, ext = _check_record(image_id, pair[1], len(categories))
        file_name = f"{image_id:06d}.png"
        if (folder / file_name).exists():
            raise FileExistsError(f"image {image_id}: {folder / file_name} already exists")
        Image.fromarray(image).save(stage / file_name)
        H, W = image.shape[:2]
        images.append({"id": image_id, "file_name": file_name, "width": W, "height": H})
        for j, (box, label) in enumerate(zip(boxes.tolist(), labels.tolist(), strict=True)):
            annotations.append(_annotation(len(annotations) + 1, image_id, label, box))
            if ext is not None:
                annotations[-1]["extreme_points"] = ext[j].tolist()
    return {"images": images, "annotations": annotations, "categories": _categories(categories)}


def _annotation(ann_id: int, image_id: int, label: int, box) -> dict:
    """The COCO annotation of a box x1, y1, x2, y2 of class ``label`` (category label + 1)."""
    x1, y1, x2, y2 = box
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": int(label) + 1,
        "bbox": [x1, y1, x2 - x1, y2 - y1],
        "area": (x2 - x1) * (y2 - y1),
        "iscrowd": 0,
    }


def _categories(names) -> list[dict]:
    return [{"id": k + 1, "name": str(name)} for k, name in enumerate(names)]


def ground_truth_to_coco(batches: Iterable[dict], num_classes: int) -> dict:
    """A COCO ground-truth dict from batches of items (``boxes``, ``labels``,
    ``num_objs``, ``image_id``, ``image``); category k + 1 is class k, area is the box
    area. What ``coco_map`` scores detections against."""
    num_classes = positive_int("num_classes", num_classes)
    if isinstance(batches, (str, bytes, dict)) or not isinstance(batches, Iterable):
        raise ValueError(
            f"batches must be an iterable of batch dicts (a DataLoader or a list), got "
            f"{type(batches).__name__}"
        )
    images, annotations = [], []
    for batch in batches:
        has_keys("each batch", batch, ("image", "boxes", "labels", "num_objs", "image_id"))
        H, W = batch["image"].shape[-2:]
        for b in range(batch["image"].shape[0]):
            image_id = int(batch["image_id"][b])
            images.append({"id": image_id, "width": int(W), "height": int(H)})
            n = int(batch["num_objs"][b])
            boxes, labels = batch["boxes"][b, :n].tolist(), batch["labels"][b, :n].tolist()
            for box, label in zip(boxes, labels, strict=True):
                annotations.append(_annotation(len(annotations) + 1, image_id, label, box))
    return {
        "images": images,
        "annotations": annotations,
        "categories": _categories(range(num_classes)),
    }


def _check_record(image_id: int, rec, num_classes: int):
    """``(image, boxes, labels, extreme_points or None)`` of a checked record."""
    where = f"image {image_id}"
    has_keys(where, rec, ("image", "boxes", "labels"))
    image = np.asarray(rec["image"])
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or not image.size:
        raise ValueError(
            f"{where}: expected an (H, W, 3) uint8 array, H, W >= 1, got {image.dtype} {image.shape}"
        )
    ext = rec.get("extreme_points")
    return (image, *check_annotations(f"{where}: ", rec["boxes"], rec["labels"], num_classes, ext))
