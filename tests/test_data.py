"""ShapesDataset (determinism, exact geometry, targets) and the COCO reader/writer."""

from __future__ import annotations

import json
import math
import pickle
import runpy
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from centernet_edu.data import (
    SHAPES,
    CocoDataset,
    ShapesDataset,
    collate_with_targets,
    denormalize_image,
    normalize_image,
    read_coco,
    write_coco,
)
from centernet_edu.data import shapes as shapes_module
from centernet_edu.data.shapes import VIEWS, _make_shape

GOLDEN = Path(__file__).parent / "data" / "shapes_golden.npz"


def small(**kw) -> ShapesDataset:
    args = dict(length=64, image_size=64, seed=3, size_range=(4.0, 28.0), objects=(1, 5))
    args.update(kw)
    return ShapesDataset(**args)


# --------------------------------------------------------------------------- determinism


def test_items_are_a_function_of_seed_and_index():
    a, b = small(), small()
    for i in (5, 0, 63, 17):  # any order
        x, y = a[i], b[i]
        assert x.keys() == y.keys()
        for k in x:
            assert torch.equal(x[k], y[k]), k
    # Access order does not matter: item 17 read first equals item 17 read last.
    c = small()
    first = c[17]
    for i in range(5):
        c[i]
    assert torch.equal(first["image"], c[17]["image"])


def test_other_seeds_give_other_images():
    a, b = small(seed=3), small(seed=4)
    assert not np.array_equal(a.render(0)["image"], b.render(0)["image"])
    assert not np.array_equal(a.render(0)["image"], a.render(1)["image"])


def test_negative_and_out_of_range_indices():
    ds = small()
    assert torch.equal(ds[-1]["image"], ds[63]["image"])
    with pytest.raises(IndexError):
        ds[64]


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("kind", SHAPES)
def test_extreme_points_are_the_extremes_of_the_outline(kind):
    """Each shape's analytic extreme points match a dense sampling of its outline."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        shape = _make_shape(kind, rng.uniform(5, 60), rng).moved(rng.uniform(0, 100, 2))
        if shape.ellipse is not None:
            a, b, t = shape.ellipse
            s = np.linspace(0, 2 * np.pi, 200_001)
            u, v = a * np.cos(s), b * np.sin(s)
            x = shape.center[0] + u * math.cos(t) - v * math.sin(t)
            y = shape.center[1] + u * math.sin(t) + v * math.cos(t)
            outline = np.stack([x, y], 1)
        else:
            outline = shape.vertices  # a convex polygon's extremes are vertices
        t_, l_, b_, r_ = shape.extremes
        assert t_[1] == pytest.approx(outline[:, 1].min(), abs=1e-6)
        assert b_[1] == pytest.approx(outline[:, 1].max(), abs=1e-6)
        assert l_[0] == pytest.approx(outline[:, 0].min(), abs=1e-6)
        assert r_[0] == pytest.approx(outline[:, 0].max(), abs=1e-6)
        # ... and each extreme point lies on the outline.
        for p in shape.extremes:
            assert np.min(np.hypot(*(outline - p).T)) < 1e-3 or shape.ellipse is None
            assert shape.contains(np.array(p[0]), np.array(p[1])) or shape.ellipse is not None
        np.testing.assert_array_equal(shape.box, [l_[0], t_[1], r_[0], b_[1]])


@pytest.mark.parametrize("views", VIEWS)
def test_drawn_pixels_span_the_box_and_reach_the_extreme_points(views):
    """The visible pixels of every object (after occlusion) span its box within a pixel,
    and each extreme point touches a visible pixel: in every mirror image too."""
    ds = small(length=120, objects=(2, 6), views=views)
    checked = 0
    for i in range(len(ds)):
        r = ds.render(i, masks=True)
        for box, ext, mask in zip(r["boxes"], r["extreme_points"], r["masks"], strict=True):
            rows = np.flatnonzero(mask.max(axis=1) > 0)
            cols = np.flatnonzero(mask.max(axis=0) > 0)
            x1, y1, x2, y2 = box
            # Pixel j covers [j, j + 1): the mask spans [cols[0], cols[-1] + 1].
            assert abs(cols[0] - x1) <= 1 and abs(cols[-1] + 1 - x2) <= 1, (i, box, cols)
            assert abs(rows[0] - y1) <= 1 and abs(rows[-1] + 1 - y2) <= 1, (i, box, rows)
            assert cols[0] >= math.floor(x1) and cols[-1] + 1 <= math.ceil(x2)
            assert rows[0] >= math.floor(y1) and rows[-1] + 1 <= math.ceil(y2)
            for px, py in ext.reshape(4, 2):
                j, k = int(px), int(py)
                near = mask[max(0, k - 1) : k + 2, max(0, j - 1) : j + 2]
                assert near.max() > 0, (i, box, (px, py))
            checked += 1
    assert checked > 300


@pytest.mark.parametrize(("views", "index"), [(1, 7), (4, 29), (4, 30), (4, 31), (2, 15)])
def test_extreme_points_lie_on_the_box(views, index):
    r = small(views=views).render(index)
    top, left, bottom, right = r["extreme_points"].reshape(-1, 4, 2).transpose(1, 0, 2)
    np.testing.assert_array_equal(top[:, 1], r["boxes"][:, 1])
    np.testing.assert_array_equal(left[:, 0], r["boxes"][:, 0])
    np.testing.assert_array_equal(bottom[:, 1], r["boxes"][:, 3])
    np.testing.assert_array_equal(right[:, 0], r["boxes"][:, 2])


@pytest.mark.parametrize("views", [1, 4])
def test_objects_stay_inside_and_keep_their_own_centre_pixel(views):
    ds = small(length=100, objects=(4, 8), max_objs=8, views=views)
    sizes = []
    for i in range(len(ds)):
        item = ds[i]
        n = int(item["num_objs"])
        boxes = item["boxes"][:n]
        assert (boxes >= 4).all() and (boxes <= 64 - 4).all()
        # One heatmap peak per object: no two objects share a centre pixel.
        assert int((item["hm"] == 1).sum()) == n
        assert int(item["reg_mask"].sum()) == n
        assert (item["labels"][:n] >= 0).all() and (item["labels"][n:] == -1).all()
        sizes += (boxes[:, 2:] - boxes[:, :2]).max(dim=1).values.tolist()
    # Small objects (a few heatmap pixels) are common, large ones exist too.
    assert min(sizes) < 8 and max(sizes) > 20


def test_item_format():
    ds = small(max_objs=10, extreme=True)
    item = ds[0]
    C = len(SHAPES)
    assert item["image"].shape == (3, 64, 64) and item["image"].dtype == torch.float32
    assert item["hm"].shape == (C, 16, 16)
    assert item["wh"].shape == item["reg"].shape == (10, 2)
    assert item["ind"].dtype == torch.int64 and item["reg_mask"].dtype == torch.uint8
    assert item["boxes"].shape == (10, 4) and item["extreme_points"].shape == (10, 8)
    for part in "tlbrc":
        assert item[f"hm_{part}"].shape == (C, 16, 16)
    for part in "tlbr":
        assert item[f"reg_{part}"].shape == (10, 2) and item[f"ind_{part}"].shape == (10,)
    # The image round-trips through the normalisation.
    np.testing.assert_array_equal(denormalize_image(item["image"]), ds.render(0)["image"])
    assert item["image"].abs().max() < 3


def test_normalize_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        normalize_image(np.zeros((3, 8, 8), np.uint8))
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        denormalize_image(torch.zeros(8, 8, 3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"image_size": 66}, "divisible by the stride 4"),
        ({"shapes": ("circle", "hexagon")}, "shapes must be distinct names"),
        ({"size_range": (4.0, 60.0)}, "size_range must satisfy"),
        ({"objects": (3, 2)}, "objects must be"),
        ({"max_overlap": 1.5}, "max_overlap must lie in"),
        ({"objects": (1, 40), "max_objs": 32}, "exceeds max_objs"),
        ({"noise": -0.1}, "noise must lie in"),
        ({"views": 3}, r"views must be one of \(1, 2, 4\), got 3"),
        ({"views": True}, "views must be one of"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        small(**kwargs)


def test_the_data_set_draws_what_it_drew_before():
    """The renderer against images kept in tests/data (``shapes_golden.py`` wrote them):
    the held-out images every recorded mAP was measured on must not move. A rounding
    difference of another CPU's maths library may move a pixel value by one, no more."""
    golden = np.load(GOLDEN)
    cases = runpy.run_path(str(GOLDEN.with_suffix(".py")))["CASES"]
    for name, (kw, indices) in cases.items():
        ds = ShapesDataset(max(indices) + 1, 128, **kw)
        for i in indices:
            r = ds.render(i)
            np.testing.assert_array_equal(r["labels"], golden[f"{name}/{i}/labels"])
            np.testing.assert_allclose(r["boxes"], golden[f"{name}/{i}/boxes"], atol=1e-4)
            diff = np.abs(r["image"].astype(int) - golden[f"{name}/{i}/image"])
            assert diff.max() <= 1 and (diff > 0).mean() < 1e-3, (name, i)


# --------------------------------------------------------------------------- views


def _mirror_x(r: dict, W: int) -> dict:
    top, left, bottom, right = r["extreme_points"].reshape(-1, 4, 2).transpose(1, 0, 2)
    flip = lambda p: np.stack([W - p[:, 0], p[:, 1]], 1)  # noqa: E731
    ext = np.stack([flip(top), flip(right), flip(bottom), flip(left)], 1).reshape(-1, 8)
    boxes = np.stack(
        [W - r["boxes"][:, 2], r["boxes"][:, 1], W - r["boxes"][:, 0], r["boxes"][:, 3]], 1
    )
    return {
        "image": r["image"][:, ::-1],
        "boxes": boxes,
        "extreme_points": ext,
        "labels": r["labels"],
    }


def _mirror_y(r: dict, H: int) -> dict:
    top, left, bottom, right = r["extreme_points"].reshape(-1, 4, 2).transpose(1, 0, 2)
    flip = lambda p: np.stack([p[:, 0], H - p[:, 1]], 1)  # noqa: E731
    ext = np.stack([flip(bottom), flip(left), flip(top), flip(right)], 1).reshape(-1, 8)
    boxes = np.stack(
        [r["boxes"][:, 0], H - r["boxes"][:, 3], r["boxes"][:, 2], H - r["boxes"][:, 1]], 1
    )
    return {"image": r["image"][::-1], "boxes": boxes, "extreme_points": ext, "labels": r["labels"]}


@pytest.mark.parametrize("views", [2, 4])
def test_views_are_the_mirror_images_of_one_scene(views):
    """Item ``views * s + v`` is scene ``s`` (item ``s`` of the data set without views),
    mirrored left to right for odd ``v``, upside down for ``v`` >= 2."""
    H, W = 64, 48
    plain = small(length=10, image_size=(H, W))
    mirrored = small(length=10 * views, image_size=(H, W), views=views)
    assert len(mirrored) == 10 * views
    for s in (0, 3, 9):
        scene = plain.render(s)
        want = [scene, _mirror_x(scene, W), _mirror_y(scene, H), _mirror_x(_mirror_y(scene, H), W)]
        for v in range(views):
            got = mirrored.render(views * s + v)
            for k in ("image", "boxes", "extreme_points", "labels"):
                np.testing.assert_array_equal(got[k], want[v][k], err_msg=f"{s}, {v}, {k}")


def test_views_of_a_scene_are_drawn_once_and_read_in_any_order(monkeypatch):
    drawn = []
    ds = small(length=40, views=4)
    draw = ds._draw
    monkeypatch.setattr(ds, "_draw", lambda scene, masks: drawn.append(scene) or draw(scene, masks))
    first = {i: ds.render(i) for i in (37, 5, 4, 36, 6, 39, 7, 38)}
    assert sorted(drawn) == [1, 9]  # each scene drawn once, for all four of its views
    # What a caller does with an item does not reach the kept scene.
    first[5]["image"][:] = 0
    first[5]["boxes"][:] = -1
    fresh = small(length=40, views=4)
    for i in (5, 4, 37):
        for k, v in ds.render(i).items():
            np.testing.assert_array_equal(v, fresh.render(i)[k])
    # Masks are drawn afresh and agree with the kept image's scene.
    assert ds.render(5, masks=True)["masks"].shape[1:] == (64, 64)


def test_the_kept_scenes_stay_within_their_budget_and_out_of_copies(monkeypatch):
    ds = small(length=400, views=2)
    monkeypatch.setattr(shapes_module, "_CACHE_BYTES", 10 * 64 * 64 * 3)  # ten scenes
    items = [ds.render(i)["image"] for i in range(0, 400, 7)]
    assert len(ds._drawn) == 10
    # A data loader's worker gets the data set without the kept scenes, and draws the same.
    copy = pickle.loads(pickle.dumps(ds))
    assert len(copy._drawn) == 0
    for i, image in zip(range(0, 400, 7), items, strict=True):
        np.testing.assert_array_equal(copy.render(i)["image"], image)


# --------------------------------------------------------------------------- COCO files


def _assert_same_batch(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for k in want:
        assert got[k].dtype == want[k].dtype, k
        assert torch.equal(got[k], want[k]), k


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"objects": (0, 3)},  # images without objects
        {"stride": 8, "extreme": True},
        {"stride": 3, "image_size": (63, 66)},  # a division by R that rounds
        {"max_objs": 5, "image_size": (48, 96)},
    ],
)
def test_targets_encoded_per_batch_equal_targets_encoded_per_item(kw):
    with_targets, without = small(**kw), small(targets=False, **kw)
    items = [with_targets[i] for i in range(64)]
    bare = [without[i] for i in range(64)]
    centre = {"hm", "wh", "reg", "ind", "reg_mask"}
    assert set(items[0]) - set(bare[0]) == centre
    for i in (0, 7, 63):
        assert bare[i].keys() <= items[i].keys()
        for k in bare[i]:
            assert torch.equal(bare[i][k], items[i][k]), k
    want = default_collate(items)
    _assert_same_batch(collate_with_targets(bare, without.num_classes, without.stride), want)
    # Items that carry their targets are collated as they are.
    _assert_same_batch(collate_with_targets(items, without.num_classes, without.stride), want)


def test_coco_round_trip_preserves_every_box(tmp_path):
    ds = small(length=12, extreme=True)
    path = write_coco(tmp_path, ds.records(), ds.categories)
    coco = read_coco(path)
    assert coco.categories == list(SHAPES)
    assert [img.id for img in coco.images] == list(range(12))
    for img in coco.images:
        r = ds.render(img.id)
        np.testing.assert_array_equal(img.boxes.astype(np.float32), r["boxes"])
        np.testing.assert_array_equal(img.labels, r["labels"])
        np.testing.assert_array_equal(img.extreme_points.astype(np.float32), r["extreme_points"])
    # Items read back equal the synthetic ones: lossless PNGs, the same targets.
    back = CocoDataset(path, input_size=(64, 64), extreme=True)
    assert len(back) == 12 and back.num_classes == len(SHAPES)
    for i in (0, 5, 11):
        x, y = ds[i], back[i]
        for k in x:
            assert torch.equal(x[k], y[k]), k


def test_coco_dataset_resizes_boxes_with_the_image(tmp_path):
    ds = small(length=2)
    path = write_coco(tmp_path, ds.records(), ds.categories)
    item = CocoDataset(path, image_size=(32, 128))[1]
    n = int(item["num_objs"])
    expected = torch.from_numpy(ds.render(1)["boxes"]) * torch.tensor([2, 0.5, 2, 0.5])
    torch.testing.assert_close(item["boxes"][:n], expected)
    assert item["image"].shape == (3, 32, 128)
    # The resized boxes give the same targets encoded per batch as per item.
    items = [CocoDataset(path, image_size=(32, 128))[i] for i in range(2)]
    bare = CocoDataset(path, image_size=(32, 128), targets=False)
    got = collate_with_targets([bare[0], bare[1]], bare.num_classes, bare.stride)
    _assert_same_batch(got, default_collate(items))


def test_coco_dataset_keeps_input_size_as_the_former_name_of_image_size(tmp_path):
    ds = small(length=1)
    path = write_coco(tmp_path, ds.records(), ds.categories)
    old, new = CocoDataset(path, input_size=(32, 64)), CocoDataset(path, image_size=(32, 64))
    assert old.image_size == old.input_size == new.image_size == (32, 64)
    assert torch.equal(old[0]["image"], new[0]["image"])
    with pytest.raises(ValueError, match="^give image_size or its former name input_size"):
        CocoDataset(path, image_size=(32, 64), input_size=(32, 64))


def _coco_files(tmp_path):
    ds = small(length=3, objects=(2, 2))
    path = write_coco(tmp_path, ds.records(), ds.categories)
    return path, json.loads(path.read_text())


def _ann(doc, aid):
    return next(a for a in doc["annotations"] if a["id"] == aid)


@pytest.mark.parametrize(
    ("break_it", "match"),
    [
        (lambda d: _ann(d, 3).pop("bbox"), r"annotation 3: missing field 'bbox'"),
        (lambda d: _ann(d, 2).pop("category_id"), r"annotation 2: missing field 'category_id'"),
        (lambda d: _ann(d, 4).update(bbox=[1, 2, 3]), r"annotation 4 \(image 1\): bbox must be 4"),
        (
            lambda d: _ann(d, 4).update(bbox=[1, 2, "3", 4]),
            r"annotation 4 \(image 1\): bbox must be 4",
        ),
        (
            lambda d: _ann(d, 5).update(bbox=[1, 2, -3, 4]),
            r"annotation 5 \(image 2\): bbox has a negative size",
        ),
        (lambda d: _ann(d, 1).update(image_id=99), r"annotation 1: unknown image_id 99"),
        (lambda d: _ann(d, 6).update(category_id=0), r"annotation 6: unknown category_id 0"),
        (lambda d: _ann(d, 6).update(id=5), r"annotation 5: duplicate id"),
        (
            lambda d: _ann(d, 2).update(extreme_points=[1, 2]),
            r"annotation 2 \(image 0\): extreme_points must be 8",
        ),
        (lambda d: d["images"][1].pop("width"), r"image 1: missing field 'width'"),
        (lambda d: d["images"][2].update(height=0), r"image 2: 'height' must be a positive"),
        (lambda d: d["images"][2].update(id=0), r"image 0: duplicate id"),
        (lambda d: d["images"][1].update(file_name="nope.png"), r"image 1: file 'nope.png' not"),
        (lambda d: d.pop("annotations"), r"expected a list under 'annotations'"),
    ],
)
def test_malformed_coco_names_the_culprit(tmp_path, break_it, match):
    path, doc = _coco_files(tmp_path)
    break_it(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=match):
        read_coco(path)


def test_missing_image_file_and_bad_json(tmp_path):
    path, _ = _coco_files(tmp_path)
    (tmp_path / "images" / "000002.png").unlink()
    with pytest.raises(ValueError, match=r"image 2: file '000002.png' not found"):
        read_coco(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_coco(path)
    with pytest.raises(ValueError, match="does not exist"):
        read_coco(tmp_path / "missing.json")


def test_crowd_annotations_are_left_out(tmp_path):
    path, doc = _coco_files(tmp_path)
    _ann(doc, 1)["iscrowd"] = 1
    path.write_text(json.dumps(doc))
    coco = read_coco(path)
    assert coco.images[0].annotation_ids == [2]


# --------------------------------------------------------------------------- damaged images


def _truncate(path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_a_truncated_image_is_named_when_the_data_set_is_opened(tmp_path):
    path, _ = _coco_files(tmp_path)
    _truncate(tmp_path / "images" / "000001.png")
    with pytest.raises(ValueError, match=r"image 1: file '.*000001\.png' cannot be read"):
        read_coco(path)
    with pytest.raises(ValueError, match=r"image 1: file '.*000001\.png' cannot be read"):
        CocoDataset(path, input_size=(64, 64))


def test_an_image_damaged_after_opening_is_named_when_loaded(tmp_path):
    path, _ = _coco_files(tmp_path)
    ds = CocoDataset(path, input_size=(64, 64))
    ds[1]
    _truncate(tmp_path / "images" / "000001.png", keep=0.9)
    with pytest.raises(ValueError, match=r"image 1: cannot load '.*000001\.png'"):
        ds[1]
    (tmp_path / "images" / "000002.png").unlink()
    with pytest.raises(ValueError, match=r"image 2: cannot load '.*000002\.png'"):
        ds[2]
    assert ds[0]["image"].shape == (3, 64, 64)  # the others still load


def test_an_image_of_another_size_than_the_json_says_is_refused(tmp_path):
    from PIL import Image

    path, _ = _coco_files(tmp_path)
    Image.new("RGB", (32, 48)).save(tmp_path / "images" / "000002.png")
    with pytest.raises(ValueError, match="image 2: file is 32 x 48, the COCO file says 64 x 64"):
        read_coco(path)


# --------------------------------------------------------------------------- writing COCO files


def _records(n: int = 3, **change):
    """``n`` records of a small shapes set; ``change`` maps ``r<id>`` to a record update."""
    ds = small(length=n, objects=(2, 2), extreme=True)
    out = []
    for image_id, rec in ds.records():
        out.append((image_id, rec | change.get(f"r{image_id}", {})))
    return out, ds.categories


def _files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            {"r2": {"boxes": np.array([[4, 4, 2, 9], [1, 1, 5, 5]], np.float32)}},
            r"image 2: boxes need x1 <= x2",
        ),
        (
            {"r1": {"boxes": np.array([[4, 4, 8, np.nan], [1, 1, 5, 5]])}},
            r"image 1: boxes must be finite, got NaN or infinity in boxes \[0\]",
        ),
        (
            {"r1": {"extreme_points": np.full((2, 8), np.inf)}},
            r"image 1: extreme_points must be finite",
        ),
        ({"r2": {"labels": np.array([0, 9])}}, r"image 2: labels must lie in \[0, 5\), got \[9\]"),
        ({"r2": {"labels": np.array([0])}}, r"image 2: labels must have shape \(2,\)"),
        (
            {"r1": {"image": np.zeros((64, 64, 3), np.float32)}},
            r"image 1: expected an \(H, W, 3\) uint8 array",
        ),
    ],
)
def test_write_coco_refuses_a_bad_record_and_leaves_nothing_behind(tmp_path, change, match):
    records, categories = _records(**change)
    root = tmp_path / "new" / "set"
    with pytest.raises(ValueError, match=match):
        write_coco(root, records, categories)
    assert _files(tmp_path) == []  # not even the folders it created
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(ValueError, match=match):
        write_coco(tmp_path, records, categories)
    assert _files(tmp_path) == ["mine.txt"]


def test_write_coco_refuses_duplicate_image_ids(tmp_path):
    records, categories = _records()
    records[2] = (0, records[2][1])
    with pytest.raises(ValueError, match="image 0: duplicate id"):
        write_coco(tmp_path, records, categories)
    assert _files(tmp_path) == []


def test_write_coco_leaves_nothing_when_the_records_fail_midway(tmp_path):
    records, categories = _records()

    def broken():
        yield from records[:2]
        raise RuntimeError("the generator failed")

    with pytest.raises(RuntimeError, match="the generator failed"):
        write_coco(tmp_path / "set", broken(), categories)
    assert _files(tmp_path) == []


def test_write_coco_never_overwrites(tmp_path):
    records, categories = _records()
    path = write_coco(tmp_path, records, categories)
    before = {name: (tmp_path / name).read_bytes() for name in _files(tmp_path) if "." in name}
    with pytest.raises(FileExistsError, match="annotations.json already exists"):
        write_coco(tmp_path, records, categories)
    # Another JSON file into the same image folder: the image names collide.
    with pytest.raises(FileExistsError, match=r"image 0: .*000000\.png already exists"):
        write_coco(tmp_path, records, categories, json_name="again.json")
    after = {name: (tmp_path / name).read_bytes() for name in _files(tmp_path) if "." in name}
    assert after == before
    # A second data set beside the first, in its own image folder, is fine.
    val = write_coco(tmp_path, records[:1], categories, json_name="val.json", image_dir="val")
    assert len(read_coco(val).images) == 1 and len(read_coco(path).images) == 3


def test_write_coco_writes_standard_json(tmp_path):
    records, categories = _records()
    path = write_coco(tmp_path, records, categories)

    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    doc = json.loads(path.read_text(), parse_constant=refuse)
    assert len(doc["images"]) == 3 and len(doc["annotations"]) == 6
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_coco_images_without_objects_give_empty_extreme_targets(tmp_path):
    ds = small(length=4, objects=(0, 2), extreme=True)
    empty = [i for i in range(4) if len(ds.render(i)["boxes"]) == 0]
    assert empty, "the seed should give an image without objects"
    path = write_coco(tmp_path, ds.records(), ds.categories)
    back = CocoDataset(path, input_size=(64, 64), extreme=True)
    x, y = ds[empty[0]], back[empty[0]]
    for k in x:
        assert torch.equal(x[k], y[k]), k


def test_the_largest_sizes_fit_small_images():
    # Rotated shapes at the top of size_range can be wider than the image less its margins.
    for size in (32, 48):
        data = ShapesDataset(300, (size, size), seed=0, size_range=(8.0, size - 8.0))
        for i in range(len(data)):
            boxes = data.render(i)["boxes"]
            assert ((boxes >= 0) & (boxes <= size)).all()
