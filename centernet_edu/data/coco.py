"""COCO files: write a data set, read and check one, train on one.

A COCO detection data set is one JSON file (``images``, ``annotations``, ``categories``)
and a folder of images. ``write_coco`` writes one (from ``ShapesDataset.records()`` or
your own arrays), ``read_coco`` reads and checks one, and ``CocoDataset`` serves its
images as the items of ``make_item``. COCO boxes are ``[x, y, width, height]``; inside
the package boxes are x1, y1, x2, y2 in image pixels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from ..validate import int_pair, is_finite_numbers, positive_int
from .batching import boolean, item_index, pack_item
from .coco_write import as_path, ground_truth_to_coco, write_coco
from .shapes import MAX_IMAGE_SIZE

__all__ = [
    "write_coco",
    "read_coco",
    "CocoData",
    "CocoImage",
    "CocoDataset",
    "ground_truth_to_coco",
]

_IMAGE_SIZE = (128, 128)  # CocoDataset's default (H, W)
# What Pillow raises for a file it cannot decode (a truncated or damaged image).
_IMAGE_ERRORS = (OSError, SyntaxError, ValueError)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# --------------------------------------------------------------------------- reading


@dataclass
class CocoImage:
    """One image of a COCO file, with its annotations in ``CocoData.categories`` order.

    ``boxes (N, 4)`` are x1, y1, x2, y2 in image pixels, ``labels (N,)`` the index of each
    annotation's category in ``CocoData.category_ids``, ``extreme_points`` ``(N, 8)`` or
    None when not every annotation has them.
    """

    id: int
    path: Path
    width: int
    height: int
    boxes: np.ndarray
    labels: np.ndarray
    annotation_ids: list[int]
    extreme_points: np.ndarray | None


@dataclass
class CocoData:
    """A validated COCO file: its images (in file order) and categories (sorted by id)."""

    images: list[CocoImage]
    category_ids: list[int]
    categories: list[str]


def read_coco(json_path, image_dir=None) -> CocoData:
    """Read and check a COCO detection file and the images it names.

    Args:
        json_path: the COCO JSON file.
        image_dir: the folder of the images; by default ``images/`` next to the JSON
            file if it exists, else the JSON file's own folder.

    Crowd annotations (``iscrowd: 1``) are left out. Every problem raises a
    ``ValueError`` naming the image or annotation at fault: a missing field, a bbox that
    is not 4 finite numbers, a negative width or height, an unknown ``image_id`` or
    ``category_id``, a duplicate id, an image file that does not exist, cannot be
    decoded (a truncated or damaged file, or one declaring more pixels than Pillow's
    decompression-bomb limit) or has another size than the JSON says.

    Each image file is opened and verified here (Pillow's ``verify``: its header and, for
    PNG, every chunk's checksum, without decoding the pixels), so a damaged file stops a
    run before it starts rather than in the middle of training. Damage that only decoding
    finds (a truncated JPEG) is named, with the file, when ``CocoDataset`` loads it.
    """
    json_path = as_path("json_path", json_path)
    if image_dir is not None:
        image_dir = as_path("image_dir", image_dir)
    doc = _load_json(json_path)
    if image_dir is None:
        image_dir = json_path.parent / "images"
        if not image_dir.is_dir():
            image_dir = json_path.parent
    cats = _read_categories(doc["categories"])
    images = _read_images(doc["images"], image_dir)
    _read_annotations(doc["annotations"], images, cats)
    category_ids = sorted(cats)
    label_of = {cid: k for k, cid in enumerate(category_ids)}
    out = [_coco_image(iid, entry, label_of) for iid, entry in images.items()]
    return CocoData(
        images=out, category_ids=category_ids, categories=[cats[c] for c in category_ids]
    )


def _load_json(json_path: Path) -> dict:
    try:
        doc = json.loads(json_path.read_text())
    except FileNotFoundError as e:
        raise ValueError(f"COCO file {json_path} does not exist") from e
    except json.JSONDecodeError as e:
        raise ValueError(f"COCO file {json_path} is not valid JSON: {e}") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"COCO file {json_path} cannot be read: {e}") from e
    if not isinstance(doc, dict):
        raise ValueError(f"COCO file {json_path}: expected a JSON object at the top")
    for key in ("images", "annotations", "categories"):
        if not isinstance(doc.get(key), list):
            raise ValueError(f"COCO file {json_path}: expected a list under '{key}'")
    return doc


def _read_categories(categories: list) -> dict[int, str]:
    cats = {}
    for cat in categories:
        if not isinstance(cat, dict) or not _is_int(cat.get("id")):
            raise ValueError(f"category {cat!r}: expected an object with an integer 'id'")
        if cat["id"] in cats:
            raise ValueError(f"category {cat['id']}: duplicate id")
        cats[cat["id"]] = str(cat.get("name", cat["id"]))
    return cats


def _read_images(entries: list, image_dir: Path) -> dict[int, dict]:
    images: dict[int, dict] = {}
    for k, img in enumerate(entries):
        if not isinstance(img, dict) or not _is_int(img.get("id")):
            raise ValueError(f"images[{k}]: expected an object with an integer 'id', got {img!r}")
        iid = img["id"]
        if iid in images:
            raise ValueError(f"image {iid}: duplicate id")
        for field in ("file_name", "width", "height"):
            if field not in img:
                raise ValueError(f"image {iid}: missing field '{field}'")
        if not isinstance(img["file_name"], str) or not img["file_name"]:
            raise ValueError(f"image {iid}: 'file_name' must be a non-empty string")
        for field in ("width", "height"):
            if not _is_int(img[field]) or img[field] < 1:
                raise ValueError(
                    f"image {iid}: '{field}' must be a positive integer, got {img[field]!r}"
                )
        path = image_dir / img["file_name"]
        if not path.is_file():
            raise ValueError(f"image {iid}: file '{img['file_name']}' not found in {image_dir}")
        _check_image_file(iid, path, img["width"], img["height"])
        images[iid] = {"info": img, "path": path, "anns": []}
    return images


def _check_image_file(iid: int, path: Path, width: int, height: int) -> None:
    """The file decodes as an image (header and checksums) of ``width x height``."""
    from PIL import Image

    try:
        with Image.open(path) as f:
            size = f.size
            f.verify()
    except (*_IMAGE_ERRORS, Image.DecompressionBombError) as e:  # too many pixels declared
        raise ValueError(f"image {iid}: file '{path}' cannot be read as an image: {e}") from e
    if size != (width, height):
        raise ValueError(
            f"image {iid}: file is {size[0]} x {size[1]}, the COCO file says {width} x {height}"
        )


def _read_annotations(entries: list, images: dict[int, dict], cats: dict[int, str]) -> None:
    seen = set()
    for k, ann in enumerate(entries):
        if not isinstance(ann, dict) or not _is_int(ann.get("id")):
            raise ValueError(
                f"annotations[{k}]: expected an object with an integer 'id', got {ann!r}"
            )
        aid = ann["id"]
        if aid in seen:
            raise ValueError(f"annotation {aid}: duplicate id")
        seen.add(aid)
        for field in ("image_id", "category_id", "bbox"):
            if field not in ann:
                raise ValueError(f"annotation {aid}: missing field '{field}'")
        for field in ("image_id", "category_id"):
            if not _is_int(ann[field]):
                raise ValueError(
                    f"annotation {aid}: {field} must be an integer, got {ann[field]!r}"
                )
        if ann["image_id"] not in images:
            raise ValueError(f"annotation {aid}: unknown image_id {ann['image_id']!r}")
        if ann["category_id"] not in cats:
            raise ValueError(f"annotation {aid}: unknown category_id {ann['category_id']!r}")
        where = f"annotation {aid} (image {ann['image_id']})"
        bbox = ann["bbox"]
        if not is_finite_numbers(bbox, 4):
            raise ValueError(
                f"{where}: bbox must be 4 finite numbers [x, y, width, height], got {bbox!r}"
            )
        if bbox[2] < 0 or bbox[3] < 0:
            raise ValueError(
                f"{where}: bbox has a negative size (width {bbox[2]}, height {bbox[3]})"
            )
        ext = ann.get("extreme_points")
        if ext is not None and not is_finite_numbers(ext, 8):
            raise ValueError(f"{where}: extreme_points must be 8 finite numbers, got {ext!r}")
        if ann.get("iscrowd", 0) not in (0, 1):
            raise ValueError(f"{where}: iscrowd must be 0 or 1, got {ann['iscrowd']!r}")
        if not ann.get("iscrowd", 0):
            images[ann["image_id"]]["anns"].append(ann)


def _coco_image(iid: int, entry: dict, label_of: dict[int, int]) -> CocoImage:
    anns, info = entry["anns"], entry["info"]
    boxes = np.array(
        [[b[0], b[1], b[0] + b[2], b[1] + b[3]] for b in (a["bbox"] for a in anns)],
        dtype=np.float64,
    ).reshape(-1, 4)
    labels = np.array([label_of[a["category_id"]] for a in anns], dtype=np.int64)
    has_ext = bool(anns) and all(a.get("extreme_points") is not None for a in anns)
    ext = np.array([a["extreme_points"] for a in anns], dtype=np.float64) if has_ext else None
    return CocoImage(
        id=iid,
        path=entry["path"],
        width=info["width"],
        height=info["height"],
        boxes=boxes,
        labels=labels,
        annotation_ids=[a["id"] for a in anns],
        extreme_points=ext,
    )


# --------------------------------------------------------------------------- training


def _rgb(image):
    """A Pillow image as 8-bit RGB. 16-bit grey (modes ``I;16``, ``I``) is scaled by 1/257
    first: Pillow's own conversion clips it at 255, which turns most of it white."""
    from PIL import Image

    if image.mode.startswith("I"):
        grey = np.clip(np.rint(np.asarray(image, dtype=np.float64) / 257), 0, 255)
        image = Image.fromarray(grey.astype(np.uint8))
    return image.convert("RGB")


class CocoDataset(Dataset):
    """Train or evaluate on a COCO-format data set (``read_coco``).

    Images are loaded with Pillow as RGB and resized to ``image_size`` when they differ
    (boxes and extreme points scaled with them), so every item has the shape the model
    expects. Items are the dicts of ``make_item``, with boxes in ``image_size`` pixels.

    Every image file is checked when the data set is opened (``read_coco``); a file that
    fails to load later (damage only decoding finds, or a file changed since) raises a
    ``ValueError`` naming the image and its file.

    Args:
        json_path, image_dir: as ``read_coco``.
        image_size: ``(H, W)`` of the images given to the model, divisible by ``stride``,
            at most ``MAX_IMAGE_SIZE`` a side (``ShapesDataset``'s name and limit).
        max_objs, stride, extreme, targets: as ``ShapesDataset``.
        input_size: the former name of ``image_size``, still accepted.
    """

    def __init__(
        self,
        json_path,
        image_dir=None,
        *,
        image_size: tuple[int, int] = _IMAGE_SIZE,
        max_objs: int = 32,
        stride: int = 4,
        extreme: bool = False,
        targets: bool = True,
        input_size: tuple[int, int] | None = None,
    ):
        name, size = (
            ("image_size", image_size) if input_size is None else ("input_size", input_size)
        )
        if input_size is not None and image_size is not _IMAGE_SIZE:
            raise ValueError(
                f"give image_size or its former name input_size, not both; got image_size "
                f"{image_size!r} and input_size {input_size!r}"
            )
        self.image_size = int_pair(name, size)
        if max(self.image_size) > MAX_IMAGE_SIZE:
            raise ValueError(f"{name} must be at most {MAX_IMAGE_SIZE}, got {size!r}")
        self.max_objs = positive_int("max_objs", max_objs)
        self.stride = positive_int("stride", stride)
        if self.image_size[0] % self.stride or self.image_size[1] % self.stride:
            raise ValueError(
                f"{name} must be divisible by the stride {self.stride}, got {self.image_size}"
            )
        self.extreme, self.targets = boolean("extreme", extreme), boolean("targets", targets)
        self.coco = read_coco(json_path, image_dir)
        for img in self.coco.images:
            if len(img.boxes) > self.max_objs:
                raise ValueError(
                    f"image {img.id}: {len(img.boxes)} annotations, more than max_objs = {self.max_objs}"
                )
            if self.extreme and len(img.boxes) and img.extreme_points is None:
                raise ValueError(
                    f"image {img.id}: extreme=True but its annotations lack extreme_points"
                )

    @property
    def input_size(self) -> tuple[int, int]:
        """The former name of ``image_size``."""
        return self.image_size

    @property
    def num_classes(self) -> int:
        return len(self.coco.category_ids)

    @property
    def categories(self) -> list[str]:
        return list(self.coco.categories)

    def __len__(self) -> int:
        return len(self.coco.images)

    def __getitem__(self, index) -> dict:
        from PIL import Image

        img = self.coco.images[item_index(index, len(self))]
        try:
            with Image.open(img.path) as f:
                pil = _rgb(f)
        except (*_IMAGE_ERRORS, Image.DecompressionBombError) as e:
            raise ValueError(f"image {img.id}: cannot load '{img.path}': {e}") from e
        if pil.size != (img.width, img.height):
            raise ValueError(
                f"image {img.id}: file is {pil.size[0]} x {pil.size[1]}, the COCO file says "
                f"{img.width} x {img.height}"
            )
        H, W = self.image_size
        sx, sy = W / img.width, H / img.height
        if (sx, sy) != (1.0, 1.0):
            pil = pil.resize((W, H), Image.BILINEAR)
        boxes = img.boxes * [sx, sy, sx, sy]
        ext = img.extreme_points
        if ext is not None:
            ext = ext * np.tile([sx, sy], 4)
        elif self.extreme:  # an image without objects (the others were checked on opening)
            ext = np.zeros((0, 8))
        return pack_item(
            np.asarray(pil),
            boxes,
            img.labels,
            self.num_classes,
            extreme_points=ext,
            max_objs=self.max_objs,
            stride=self.stride,
            extreme=self.extreme,
            targets=self.targets,
            image_id=img.id,
        )
