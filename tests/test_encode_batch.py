"""encode_ctdet_batch and render_gaussians: the batched target encoding.

The batched encoder must give exactly the numbers of encode_ctdet, image by image, so
every comparison here is torch.equal, not a tolerance.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from centernet_edu import draw_gaussian, encode_ctdet, encode_ctdet_batch, render_gaussians
from centernet_edu.fast import _radius_table
from centernet_edu.targets import target_radius as _radius

REFERENCE = json.loads((Path(__file__).parent / "data" / "centernet_reference.json").read_text())
KEYS = ("hm", "wh", "reg", "ind", "reg_mask")
DTYPES = {
    "hm": torch.float32,
    "wh": torch.float32,
    "reg": torch.float32,
    "ind": torch.int64,
    "reg_mask": torch.uint8,
}


def per_image(boxes, labels, num_classes, output_size, max_objs=128):
    """encode_ctdet on each image's real (non-padding) boxes, stacked on a batch axis."""
    outs = []
    for b, lab in zip(boxes, labels, strict=True):
        n = int((lab >= 0).sum())
        outs.append(encode_ctdet(b[:n], lab[:n], num_classes, output_size, max_objs))
    return {k: torch.stack([o[k] for o in outs]) for k in KEYS}


def assert_same(got, want):
    for k in KEYS:
        assert got[k].dtype == want[k].dtype == DTYPES[k], k
        assert got[k].shape == want[k].shape, k
        assert torch.equal(got[k], want[k]), k


@pytest.mark.parametrize("case", range(len(REFERENCE["ctdet_targets"])))
def test_reference_cases(case):
    c = REFERENCE["ctdet_targets"][case]
    boxes = torch.tensor(c["boxes"], dtype=torch.float64)
    labels = torch.tensor(c["labels"])
    size, C, M = (c["height"], c["width"]), c["num_classes"], c["max_objs"]
    # Image 0 is the case itself, image 1 drops its last box (padding), image 2 is empty.
    padded = torch.stack([boxes, boxes, torch.zeros_like(boxes)])
    labs = torch.stack([labels, labels, torch.full_like(labels, -1)])
    labs[1, -1] = -1
    got = encode_ctdet_batch(padded, labs, C, size, M)

    assert_same(got, per_image(padded, labs, C, size, M))
    np.testing.assert_allclose(got["hm"][0].numpy(), np.array(c["hm"]), rtol=0, atol=1e-6)
    np.testing.assert_allclose(got["wh"][0].numpy(), np.array(c["wh"]), rtol=0, atol=1e-5)
    np.testing.assert_allclose(got["reg"][0].numpy(), np.array(c["reg"]), rtol=0, atol=1e-5)
    assert got["ind"][0].tolist() == c["ind"]
    assert got["reg_mask"][0].tolist() == c["reg_mask"]
    assert not got["hm"][2].any() and not got["reg_mask"][2].any()


@st.composite
def padded_batches(draw):
    B = draw(st.integers(1, 3))
    N = draw(st.integers(0, 7))
    C = draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    max_objs = draw(st.integers(0, 8))
    # Integer coordinates hit the sizes whose radius is an integer in exact arithmetic;
    # fractions, tiny sizes and boxes reaching outside the map exercise the clipping.
    coord = st.one_of(
        st.integers(-6, 30).map(float),
        st.floats(-6, 30, allow_nan=False, width=32),
    )
    size = st.one_of(st.sampled_from([0.0, 1e-3, 0.5, 1.0]), st.floats(0, 20, width=32))
    boxes = np.zeros((B, N, 4), dtype=np.float32)
    labels = np.full((B, N), -1, dtype=np.int64)
    for b in range(B):
        n = draw(st.integers(0, N))
        for k in range(n):
            if k and draw(st.booleans()):
                x1, y1 = boxes[b, k - 1, :2]  # same corner as the previous box: overlaps
            else:
                x1, y1 = draw(coord), draw(coord)
            boxes[b, k] = x1, y1, x1 + draw(size), y1 + draw(size)
            labels[b, k] = draw(st.integers(0, C - 1))
        # Padding rows hold arbitrary coordinates; they must be ignored.
        boxes[b, n:] = draw(st.sampled_from([0.0, -1.0, 1e3]))
    return torch.from_numpy(boxes), torch.from_numpy(labels), C, (H, W), max_objs


@settings(max_examples=80, deadline=None)
@given(padded_batches())
def test_equals_encode_ctdet_per_image(batch):
    boxes, labels, C, size, max_objs = batch
    got = encode_ctdet_batch(boxes, labels, C, size, max_objs)
    assert_same(got, per_image(boxes, labels, C, size, max_objs))


def test_realistic_batch_equals_encode_ctdet_per_image():
    # 8 images of 40 objects from 2 to 100 pixels on a 96 x 128 map: radii up to ~25,
    # every window size group of render_gaussians, many overlaps.
    g = torch.Generator().manual_seed(0)
    B, N, C, H, W = 8, 40, 5, 96, 128
    size = torch.exp(torch.empty(B, N, 2).uniform_(np.log(2), np.log(100), generator=g))
    centre = torch.rand(B, N, 2, generator=g) * torch.tensor([W, H])
    boxes = torch.cat([centre - size / 2, centre + size / 2], dim=2)
    labels = torch.randint(0, C, (B, N), generator=g)
    labels[1, 30:] = -1
    got = encode_ctdet_batch(boxes, labels, C, (H, W), max_objs=32)
    assert_same(got, per_image(boxes, labels, C, (H, W), max_objs=32))
    assert got["reg_mask"][0].sum() > 25


def test_radius_table_equals_the_scalar_rule():
    table = _radius_table(150, 140)
    want = [[_radius(h, w) for w in range(1, 140)] for h in range(1, 150)]
    assert table[1:, 1:].tolist() == want


def test_sizes_with_an_integer_radius():
    # For a 15 x 70 box the reference formula's radius is exactly 7 in exact arithmetic;
    # float64 rounding decides between 6 and 7, and the batch must decide as the loop.
    assert _radius(15, 70) == _radius_table(16, 71)[15, 70]
    boxes = torch.tensor([[[0.0, 0.0, 70.0, 15.0], [10.0, 2.0, 40.0, 142.0]]])
    labels = torch.tensor([[0, 1]])
    got = encode_ctdet_batch(boxes, labels, 2, (160, 80))
    assert_same(got, per_image(boxes, labels, 2, (160, 80)))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.int32])
def test_output_dtypes_do_not_depend_on_input_dtype(dtype):
    boxes = torch.tensor([[[1.0, 2.0, 9.0, 7.0], [3.0, 3.0, 4.0, 5.0]]]).to(dtype)
    labels = torch.tensor([[1, 0]], dtype=torch.int32)
    got = encode_ctdet_batch(boxes, labels, 2, (10, 12), max_objs=4)
    assert_same(got, per_image(boxes, labels, 2, (10, 12), max_objs=4))


def test_numpy_and_list_inputs():
    boxes = [[[1.0, 2.0, 9.0, 7.0]], [[0.0, 0.0, 0.0, 0.0]]]
    labels = [[0], [-1]]
    got = encode_ctdet_batch(np.array(boxes), np.array(labels), 1, (10, 12), max_objs=2)
    again = encode_ctdet_batch(boxes, labels, 1, (10, 12), max_objs=2)
    assert_same(got, again)
    assert got["hm"].device.type == "cpu"
    assert got["reg_mask"].tolist() == [[1, 0], [0, 0]]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_equals_cpu():
    g = torch.Generator().manual_seed(1)
    boxes = torch.rand(4, 20, 4, generator=g) * 80 - 10
    boxes[..., 2:] = boxes[..., :2] + torch.rand(4, 20, 2, generator=g) * 40
    labels = torch.randint(0, 3, (4, 20), generator=g)
    cpu = encode_ctdet_batch(boxes, labels, 3, (64, 64))
    cuda = encode_ctdet_batch(boxes.cuda(), labels.cuda(), 3, (64, 64))
    for k in KEYS:
        assert cuda[k].device.type == "cuda"
        assert torch.equal(cuda[k].cpu(), cpu[k]), k


def test_inputs_are_not_changed():
    boxes = torch.tensor([[[-3.0, 2.0, 30.0, 7.0]]])
    labels = torch.tensor([[0]])
    before = boxes.clone(), labels.clone()
    encode_ctdet_batch(boxes, labels, 1, (10, 12))
    assert torch.equal(boxes, before[0]) and torch.equal(labels, before[1])


GOOD_BOXES = torch.tensor([[[1.0, 1.0, 5.0, 5.0], [2.0, 2.0, 3.0, 4.0]]])
GOOD_LABELS = torch.tensor([[0, -1]])


@pytest.mark.parametrize(
    ("boxes", "labels", "match"),
    [
        (GOOD_BOXES[0], GOOD_LABELS, r"boxes must have shape \(B, N, 4\)"),
        (GOOD_BOXES[..., :3], GOOD_LABELS, r"boxes must have shape \(B, N, 4\)"),
        (GOOD_BOXES, GOOD_LABELS[0], r"labels must have shape \(1, 2\)"),
        (GOOD_BOXES, torch.tensor([[0, 2]]), r"labels must lie in \[0, 2\)"),
        (GOOD_BOXES, torch.tensor([[-2, -1]]), r"labels must lie in \[0, 2\)"),
        (GOOD_BOXES, torch.tensor([[0.5, -1.0]]), "labels must be integers"),
        (GOOD_BOXES, torch.tensor([[-1, 0]]), r"padding \(label -1\) must come after"),
        (GOOD_BOXES.clone().fill_(float("nan")), GOOD_LABELS, "boxes must be finite"),
        (GOOD_BOXES * torch.tensor([1, 1, float("inf"), 1]), GOOD_LABELS, "boxes must be finite"),
        (GOOD_BOXES * torch.tensor([1, 1, 0, 1]), GOOD_LABELS, "need x1 <= x2 and y1 <= y2"),
        (GOOD_BOXES * torch.tensor([1, 1, 1, -1]), GOOD_LABELS, "need x1 <= x2 and y1 <= y2"),
        (torch.tensor([[[1.0, 1.0, 1e39, 5.0]]], dtype=torch.float64), [[0]], "must be finite"),
        ([[["a", "b", "c", "d"]]], [[0]], "boxes must be numeric"),
    ],
)
def test_bad_boxes_and_labels(boxes, labels, match):
    with pytest.raises(ValueError, match=match):
        encode_ctdet_batch(boxes, labels, 2, (8, 8))


def test_padding_rows_are_not_validated():
    boxes = torch.tensor([[[1.0, 1.0, 5.0, 5.0], [float("nan"), 3.0, 1.0, -4.0]]])
    got = encode_ctdet_batch(boxes, GOOD_LABELS, 2, (8, 8), max_objs=2)
    assert got["reg_mask"].tolist() == [[1, 0]]


@pytest.mark.parametrize(
    ("num_classes", "output_size", "max_objs", "match"),
    [
        (0, (8, 8), 4, "num_classes must be a positive integer"),
        (2, (8,), 4, r"output_size must be two positive integers \(H, W\)"),
        (2, (8, 0), 4, r"output_size must be two positive integers \(H, W\)"),
        (2, (8, 8), -1, "max_objs must be a non-negative integer"),
    ],
)
def test_bad_settings(num_classes, output_size, max_objs, match):
    with pytest.raises(ValueError, match=match):
        encode_ctdet_batch(GOOD_BOXES, GOOD_LABELS, num_classes, output_size, max_objs)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 13), st.integers(0, 9), st.integers(0, 9)),
        max_size=12,
    )
)
def test_render_gaussians_equals_draw_gaussian(objects):
    H, W = 10, 14
    want = torch.zeros(3, H, W)
    for m, x, y, r in objects:
        draw_gaussian(want[m], (x, y), r)
    t = torch.tensor(objects, dtype=torch.int64).reshape(-1, 4)
    got = render_gaussians((3, H, W), t[:, 0], t[:, 1:3], t[:, 3])
    assert got.dtype == torch.float32
    assert torch.equal(got, want)


@pytest.mark.parametrize(
    ("maps", "centers", "radii", "match"),
    [
        ([0], [[0, 0]], [-1], "need radii >= 0"),
        ([3], [[0, 0]], [1], r"maps in \[0, 3\)"),
        ([0], [[14, 0]], [1], "centres inside the 10 x 14 map"),
        ([0], [[0, -1]], [1], "centres inside the 10 x 14 map"),
        ([0, 1], [[0, 0]], [1], "must agree in K"),
    ],
)
def test_render_gaussians_bad_input(maps, centers, radii, match):
    with pytest.raises(ValueError, match=match):
        render_gaussians(
            (3, 10, 14), torch.tensor(maps), torch.tensor(centers), torch.tensor(radii)
        )


def test_render_gaussians_needs_integer_tensors():
    with pytest.raises(ValueError, match="centers must be a 2-D integer tensor"):
        render_gaussians(
            (1, 4, 4), torch.tensor([0]), torch.tensor([[1.5, 1.0]]), torch.tensor([1])
        )
