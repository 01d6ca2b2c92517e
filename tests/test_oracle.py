"""The oracle maps: the original's flood fill, checked against a plain re-implementation
written from its description (a breadth-first fill from the centre pixels, in slot order,
neighbours visited as (x, y + 1), (x, y - 1), (x + 1, y), (x - 1, y), slots with ind 0
skipped)."""

from collections import deque

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import centernet_edu as ce
from centernet_edu.data.coco import ground_truth_to_coco
from centernet_edu.evaluate import coco_map, detections_to_coco, oracle_ablations
from centernet_edu.oracle import flood_fill, oracle_maps
from centernet_edu.pretrained import shapes_model


def plain_fill(values: np.ndarray, ind: np.ndarray, H: int, W: int) -> np.ndarray:
    """(B, M, D) values and (B, M) flat pixels: (B, D, H, W), one pixel at a time."""
    B, M, D = values.shape
    out = np.zeros((B, D, H, W), values.dtype)
    for b in range(B):
        seen = np.zeros((H, W), bool)
        queue = deque()
        for k in range(M):
            if ind[b, k] > 0:
                x, y = ind[b, k] % W, ind[b, k] // W
                out[b, :, y, x] = values[b, k]
                seen[y, x] = True
                queue.append((x, y, k))
        while queue:
            x, y, k = queue.popleft()
            for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0)):
                a, c = x + dx, y + dy
                if 0 <= a < W and 0 <= c < H and not seen[c, a]:
                    seen[c, a] = True
                    out[b, :, c, a] = values[b, k]
                    queue.append((a, c, k))
    return out


def test_a_small_map_by_hand():
    """Two objects on a 3 x 4 map: at (1, 0) with 10, at (3, 2) with 20. (2, 1) is two
    steps from both; the fill of (1, 0), queued first, reaches it first."""
    values = torch.tensor([[[10.0], [20.0], [99.0]]])
    ind = torch.tensor([[1, 11, 0]])  # the third slot is empty
    got = flood_fill(values, ind, 3, 4)[0, 0]
    assert got.tolist() == [
        [10.0, 10.0, 10.0, 10.0],
        [10.0, 10.0, 10.0, 20.0],
        [10.0, 10.0, 20.0, 20.0],
    ]


def test_the_originals_quirks_are_kept():
    # An object centred at pixel 0 is skipped: the other object fills its pixel.
    got = flood_fill(torch.tensor([[[1.0], [2.0]]]), torch.tensor([[0, 5]]), 2, 3)
    assert torch.all(got == 2.0)
    # Two objects at one pixel: the later slot's value there, the earlier one's around it.
    got = flood_fill(torch.tensor([[[1.0], [2.0]]]), torch.tensor([[4, 4]]), 3, 3)[0, 0]
    assert got[1, 1] == 2.0 and torch.all(got.flatten()[[0, 1, 2, 3, 5, 6, 7, 8]] == 1.0)
    # No objects: zeros.
    assert torch.all(
        flood_fill(torch.ones(1, 2, 2), torch.zeros(1, 2, dtype=torch.long), 4, 4) == 0
    )


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(1, 6),
    st.integers(0, 2**32 - 1),
)
def test_the_fill_equals_the_plain_one(H, W, M, seed):
    rng = np.random.default_rng(seed)
    ind = rng.integers(0, H * W, (2, M))
    ind[rng.random((2, M)) < 0.2] = 0
    if M > 1:
        ind[1, 0] = ind[1, M - 1]  # a shared centre
    values = rng.random((2, M, 2)).astype(np.float32)
    got = flood_fill(torch.from_numpy(values), torch.from_numpy(ind), H, W)
    assert np.array_equal(got.numpy(), plain_fill(values, ind, H, W))


def test_dtype_and_device_follow_the_values():
    got = flood_fill(torch.ones(1, 1, 2, dtype=torch.float64), torch.tensor([[3]]), 2, 2)
    assert got.dtype == torch.float64 and got.shape == (1, 2, 2, 2)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: flood_fill(torch.ones(1, 2), torch.ones(1, 2, dtype=torch.long), 2, 2), "values"),
        (lambda: flood_fill(torch.ones(1, 2, 2), torch.ones(1, 3, dtype=torch.long), 2, 2), "ind"),
        (lambda: flood_fill(torch.ones(1, 1, 2), torch.tensor([[4]]), 2, 2), r"ind must hold"),
        (lambda: flood_fill(torch.ones(1, 1, 2), torch.tensor([[-1]]), 2, 2), r"ind must hold"),
        (lambda: flood_fill(torch.ones(1, 1, 2), torch.tensor([[1]]), 0, 2), "height"),
    ],
)
def test_bad_input_is_named(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_oracle_maps_fill_sizes_and_offsets_and_keep_the_heatmap():
    item = ce.ShapesDataset(2, 64, seed=3)
    batch = {
        k: torch.stack([item[i][k] for i in range(2)])
        for k in ("hm", "wh", "reg", "ind", "reg_mask")
    }
    maps = oracle_maps(batch)
    assert torch.equal(maps["hm"], batch["hm"])
    H, W = batch["hm"].shape[-2:]
    live = (batch["ind"] * batch["reg_mask"]).numpy()
    for key in ("wh", "reg"):
        want = plain_fill(batch[key].numpy(), live, H, W)
        assert np.array_equal(maps[key].numpy(), want), key


def test_the_size_oracle_scores_as_the_originals_fill():
    """The shipped model with the true sizes of the nearest object, against the same
    mixture built with the plain fill: the same AP (within 0.002)."""
    model, data = shapes_model(), ce.ShapesDataset(48, 128, seed=1_000_003)
    ours = oracle_ablations(model, data, ["gt_wh"])["gt_wh"]
    items = [data[i] for i in range(len(data))]
    batch = {k: torch.stack([it[k] for it in items]) for k in items[0] if k != "num_objs"}
    batch["num_objs"] = torch.tensor([int(it["num_objs"]) for it in items])
    with torch.no_grad():
        out = model(batch["image"])
    H, W = out["hm"].shape[-2:]
    live = (batch["ind"] * batch["reg_mask"]).numpy()
    wh = torch.from_numpy(plain_fill(batch["wh"].numpy(), live, H, W))
    dets = ce.decode_ctdet(torch.sigmoid(out["hm"]), wh, out["reg"], K=100)
    results = detections_to_coco(dets, batch["image_id"], 128 / W)
    theirs = coco_map(ground_truth_to_coco([batch], data.num_classes), results)
    assert ours["AP"] == pytest.approx(theirs["AP"], abs=0.002)
    assert ours["AP50"] == pytest.approx(theirs["AP50"], abs=0.002)
