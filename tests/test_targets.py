import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from centernet_edu import decode_ctdet, decode_exdet, encode_ctdet, encode_exdet, scatter_targets

H, W, C = 24, 32, 3


@st.composite
def boxes_and_labels(draw, max_n=8, inside=False):
    n = draw(st.integers(0, max_n))
    lo_x, hi_x = (0.0, W - 1.0) if inside else (-8.0, W + 8.0)
    lo_y, hi_y = (0.0, H - 1.0) if inside else (-8.0, H + 8.0)
    boxes = []
    for _ in range(n):
        x1 = draw(st.floats(lo_x, hi_x - 0.5))
        y1 = draw(st.floats(lo_y, hi_y - 0.5))
        x2 = draw(st.floats(x1, hi_x))
        y2 = draw(st.floats(y1, hi_y))
        boxes.append([x1, y1, x2, y2])
    labels = draw(st.lists(st.integers(0, C - 1), min_size=n, max_size=n))
    return np.array(boxes, dtype=np.float32).reshape(n, 4), np.array(labels, dtype=np.int64)


@settings(max_examples=100, deadline=None)
@given(boxes_and_labels())
def test_heatmap_in_unit_range_with_peaks_at_floored_centres(data):
    boxes, labels = data
    t = encode_ctdet(boxes, labels, C, (H, W), max_objs=16)
    hm = t["hm"]
    assert hm.shape == (C, H, W) and hm.min() >= 0 and hm.max() <= 1
    clipped = boxes.copy()
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0, W - 1)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0, H - 1)
    kept = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    np.testing.assert_array_equal(t["reg_mask"].numpy()[: len(boxes)], kept.astype(np.uint8))
    for k in np.flatnonzero(kept):
        cx = (clipped[k, 0] + clipped[k, 2]) / 2
        cy = (clipped[k, 1] + clipped[k, 3]) / 2
        x, y = int(cx), int(cy)
        assert hm[labels[k], y, x] == 1.0
        assert t["ind"][k] == y * W + x
        assert (t["reg"][k] >= 0).all() and (t["reg"][k] < 1).all()
        np.testing.assert_allclose(t["reg"][k].numpy(), [cx - x, cy - y], atol=1e-5)
        np.testing.assert_allclose(
            t["wh"][k].numpy(), clipped[k, 2:] - clipped[k, :2], rtol=0, atol=1e-5
        )
    # Exactly one 1.0 per distinct (class, centre) and nowhere else.
    peaks = {(int(labels[k]), int(t["ind"][k])) for k in np.flatnonzero(kept)}
    assert int((hm == 1).sum()) == len(peaks)


def rounded(row):
    """Sort key that ignores float noise in the last digits."""
    return [round(v, 3) for v in row]


@settings(max_examples=100, deadline=None)
@given(boxes_and_labels(inside=True))
def test_decoding_the_perfect_prediction_returns_the_boxes(data):
    boxes, labels = data
    # Separated objects: the size and offset maps hold one object per pixel, whatever
    # its class.
    ct = np.floor((boxes[:, :2] + boxes[:, 2:]) / 2).astype(int)
    assume(len({(int(x), int(y)) for x, y in ct}) == len(boxes))
    assume(((boxes[:, 2:] - boxes[:, :2]) > 0).all())
    t = encode_ctdet(boxes, labels, C, (H, W), max_objs=16)
    perfect = scatter_targets({k: v[None] for k, v in t.items()})
    n = len(boxes)
    if n == 0:
        return
    det = decode_ctdet(perfect["hm"], perfect["wh"], perfect["reg"], K=n)[0]
    assert (det[:, 4] == 1).all()
    got = sorted(det[:, [5, 0, 1, 2, 3]].tolist(), key=rounded)
    want = sorted(np.concatenate([labels[:, None], boxes], axis=1).tolist(), key=rounded)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_skipped_boxes_leave_empty_slots():
    boxes = [
        [2, 2, 6, 6],  # kept
        [40, 2, 50, 6],  # entirely right of the map: clipped to zero width
        [3, 3, 3, 9],  # zero width
        [-5, -5, -1, -1],  # entirely above-left of the map
        [10, 10, 14, 20],  # kept
    ]
    t = encode_ctdet(boxes, [0, 1, 2, 0, 1], C, (H, W), max_objs=8)
    assert t["reg_mask"].tolist() == [1, 0, 0, 0, 1, 0, 0, 0]
    assert t["wh"][1:4].abs().sum() == 0 and t["ind"][1:4].sum() == 0
    assert t["hm"][2].max() == 0


def test_objects_past_max_objs_are_dropped():
    boxes = [[i * 3, 1, i * 3 + 2, 3] for i in range(6)]
    t = encode_ctdet(boxes, [0] * 6, 1, (H, W), max_objs=4)
    assert t["reg_mask"].tolist() == [1, 1, 1, 1]
    assert int((t["hm"] == 1).sum()) == 4


def test_inputs_are_not_changed_and_outputs_follow_the_device():
    boxes = torch.tensor([[-3.0, 2.0, 9.5, 30.0]])
    labels = torch.tensor([1])
    before = boxes.clone()
    t = encode_ctdet(boxes, labels, C, (H, W))
    assert torch.equal(boxes, before)
    assert all(v.device == boxes.device for v in t.values())
    assert t["wh"].dtype == torch.float32 and t["reg"].dtype == torch.float32


def test_empty_image():
    t = encode_ctdet(np.zeros((0, 4)), [], C, (H, W), max_objs=5)
    assert t["hm"].sum() == 0 and t["reg_mask"].sum() == 0 and t["ind"].shape == (5,)


@pytest.mark.parametrize(
    "boxes, labels, kwargs, message",
    [
        ([[0, 0, 1]], [0], {}, r"boxes must have shape \(N, 4\) as x1, y1, x2, y2, got \(1, 3\)"),
        (
            [[0, 0, float("nan"), 3]],
            [0],
            {},
            r"boxes must be finite, got NaN or infinity in boxes \[0\]",
        ),
        ([[1, 1, 2, 2], [0, 0, float("inf"), 3]], [0, 0], {}, r"in boxes \[1\]"),
        (
            [[5, 0, 2, 3]],
            [0],
            {},
            r"boxes need x1 <= x2 and y1 <= y2, got \[\[5.0, 0.0, 2.0, 3.0\]\]",
        ),
        ([[0, 5, 2, 3]], [0], {}, r"boxes need x1 <= x2 and y1 <= y2"),
        ([[0, 0, 2, 3]], [3], {}, r"labels must lie in \[0, 3\), got \[3\] \(objects \[0\]\)"),
        ([[0, 0, 2, 3]], [-1], {}, r"labels must lie in \[0, 3\), got \[-1\]"),
        ([[0, 0, 2, 3]], [0.5], {}, r"labels must be integers"),
        (
            [[0, 0, 2, 3]],
            [0, 1],
            {},
            r"labels must have shape \(1,\) to match the objects, got \(2,\)",
        ),
        ([[0, 0, 2, 3]], [0], dict(num_classes=0), "num_classes must be a positive integer, got 0"),
        (
            [[0, 0, 2, 3]],
            [0],
            dict(output_size=(0, 5)),
            r"output_size must be two positive integers \(H, W\)",
        ),
        ([[0, 0, 2, 3]], [0], dict(output_size=(5,)), r"output_size must be two positive integers"),
        ([[0, 0, 2, 3]], [0], dict(max_objs=-1), "max_objs must be a non-negative integer, got -1"),
        ("boxes", [0], {}, "boxes must be numeric"),
    ],
)
def test_encode_ctdet_rejects_bad_input(boxes, labels, kwargs, message):
    args = dict(num_classes=C, output_size=(H, W)) | kwargs
    with pytest.raises(ValueError, match=message):
        encode_ctdet(boxes, labels, **args)


def extreme_points_of(box):
    """Extreme points (t, l, b, r) of a diamond inscribed in ``box``."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return [cx, y1, x1, cy, cx, y2, x2, cy]


def test_encode_exdet_marks_each_extreme_point_and_the_centre():
    boxes = [[2.3, 3.1, 12.8, 11.6], [16.0, 4.0, 29.5, 20.2]]
    pts = np.array([extreme_points_of(b) for b in boxes], dtype=np.float32)
    t = encode_exdet(pts, [1, 2], C, (H, W), max_objs=4)
    assert t["reg_mask"].tolist() == [1, 1, 0, 0]
    for k, (label, p) in enumerate(zip([1, 2], pts, strict=True)):
        for j, part in enumerate("tlbr"):
            x, y = p[2 * j], p[2 * j + 1]
            assert t[f"hm_{part}"][label, int(y), int(x)] == 1.0
            assert t[f"ind_{part}"][k] == int(y) * W + int(x)
            np.testing.assert_allclose(
                t[f"reg_{part}"][k].numpy(), [x - int(x), y - int(y)], atol=1e-6
            )
        cx, cy = (p[2] + p[6]) / 2, (p[1] + p[5]) / 2
        assert t["hm_c"][label, int(cy), int(cx)] == 1.0


def test_decoding_perfect_extreme_points_returns_them():
    boxes = [[2.3, 3.1, 12.8, 11.6], [16.0, 4.0, 29.5, 20.2]]
    pts = np.array([extreme_points_of(b) for b in boxes], dtype=np.float32)
    t = encode_exdet(pts, [1, 2], C, (H, W), max_objs=4)
    perfect = scatter_targets({k: v[None] for k, v in t.items()})
    det = decode_exdet(perfect, K=4, num_dets=2)[0]
    assert (det[:, 4] == 1).all()
    got = sorted(det[:, [5, 0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13]].tolist(), key=rounded)
    want = [[c, *b, *p] for c, b, p in zip([1, 2], boxes, pts.tolist(), strict=True)]
    want = sorted(want, key=rounded)
    np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.mark.parametrize(
    "points, labels, message",
    [
        (
            [[0] * 6],
            [0],
            r"extreme_points must have shape \(N, 8\) as t, l, b, r \(x, y each\), got \(1, 6\)",
        ),
        (
            [[0, 0, 0, 0, 0, float("nan"), 0, 0]],
            [0],
            r"extreme_points must be finite, got NaN or infinity in objects \[0\]",
        ),
        (
            [[5, 9, 2, 5, 5, 1, 8, 5]],
            [0],
            r"extreme points need top y <= bottom y and left x <= right x",
        ),
        (
            [[5, 1, 9, 5, 5, 9, 2, 5]],
            [0],
            r"extreme points need top y <= bottom y and left x <= right x",
        ),
        ([[5, 1, 2, 5, 5, 9, 8, 5]], [7], r"labels must lie in \[0, 3\), got \[7\]"),
    ],
)
def test_encode_exdet_rejects_bad_input(points, labels, message):
    with pytest.raises(ValueError, match=message):
        encode_exdet(points, labels, C, (H, W))


def test_scatter_targets_rejects_unbatched_and_unknown():
    t = encode_ctdet([[1, 1, 5, 5]], [0], C, (H, W))
    with pytest.raises(
        ValueError, match=r"targets must be batched: hm of shape \(B, C, H, W\), got \(3, 24, 32\)"
    ):
        scatter_targets(t)
    with pytest.raises(ValueError, match="targets must come from encode_ctdet or encode_exdet"):
        scatter_targets({"heat": t["hm"]})


def test_scatter_targets_keeps_one_object_per_shared_pixel():
    # Two objects of different classes whose centres fall on the same pixel (5, 5), and
    # a third elsewhere; slot 1 is empty. Sizes must not add up at the shared pixel.
    boxes = [[3.0, 3.0, 8.0, 8.0], [0.0, 0.0, 0.0, 0.0], [4.0, 4.0, 7.2, 7.4], [10, 2, 14, 6]]
    t = encode_ctdet(boxes, [0, 0, 1, 2], C, (H, W), max_objs=5)
    assert t["reg_mask"].tolist() == [1, 0, 1, 1, 0]
    assert t["ind"][0] == t["ind"][2] == 5 * W + 5
    perfect = scatter_targets({k: v[None] for k, v in t.items()})
    torch.testing.assert_close(perfect["wh"][0, :, 5, 5], t["wh"][2])  # the later slot
    torch.testing.assert_close(perfect["reg"][0, :, 5, 5], t["reg"][2])
    torch.testing.assert_close(perfect["wh"][0, :, 4, 12], t["wh"][3])
    assert int((perfect["wh"][0].abs().sum(0) > 0).sum()) == 2
