import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from centernet_edu import decode_ctdet, decode_exdet, heatmap_nms, topk
from centernet_edu.decode import max_pool
from centernet_edu.fast import window_max


def test_nms_keeps_local_maxima_only_and_returns_a_new_tensor():
    heat = torch.zeros(1, 1, 5, 5)
    heat[0, 0, 1, 1] = 0.9
    heat[0, 0, 1, 2] = 0.5  # neighbour of a stronger peak
    heat[0, 0, 3, 4] = 0.3  # an isolated weak peak
    before = heat.clone()
    kept = heatmap_nms(heat)
    assert torch.equal(heat, before)
    assert kept[0, 0, 1, 1] == 0.9 and kept[0, 0, 1, 2] == 0 and kept[0, 0, 3, 4] == 0.3
    assert int((kept > 0).sum()) == 2


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 20))
def test_topk_matches_a_full_sort(seed, K):
    g = torch.Generator().manual_seed(seed)
    scores = torch.rand(2, 3, 5, 6, generator=g)
    s, inds, clses, ys, xs = topk(scores, K)
    flat = scores.reshape(2, -1)
    want, where = flat.sort(dim=1, descending=True)
    torch.testing.assert_close(s, want[:, :K])
    torch.testing.assert_close(clses, where[:, :K] // 30)
    torch.testing.assert_close(inds, where[:, :K] % 30)
    torch.testing.assert_close(ys, (inds // 6).float())
    torch.testing.assert_close(xs, (inds % 6).float())


def test_decode_without_offsets_uses_pixel_centres():
    heat = torch.zeros(1, 2, 8, 8)
    heat[0, 1, 3, 5] = 0.8
    wh = torch.zeros(1, 2, 8, 8)
    wh[0, :, 3, 5] = torch.tensor([4.0, 2.0])
    det = decode_ctdet(heat, wh, K=1)
    torch.testing.assert_close(det, torch.tensor([[[3.5, 2.5, 7.5, 4.5, 0.8, 1.0]]]))
    reg = torch.zeros(1, 2, 8, 8)
    reg[0, :, 3, 5] = torch.tensor([0.25, 0.75])
    det = decode_ctdet(heat, wh, reg, K=1)
    torch.testing.assert_close(det, torch.tensor([[[3.25, 2.75, 7.25, 4.75, 0.8, 1.0]]]))


def test_decode_follows_dtype():
    heat = torch.rand(1, 1, 6, 6, dtype=torch.float64)
    det = decode_ctdet(heat, torch.ones(1, 2, 6, 6, dtype=torch.float64), K=3)
    assert det.dtype == torch.float64 and det.shape == (1, 3, 6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(K=37), r"K = 37 is larger than the map's H\*W = 6\*6 \(36\)"),
        (dict(K=0), "K must be a positive integer, got 0"),
        (dict(K=2.0), "K must be a positive integer, got 2.0"),
        (
            dict(wh=torch.zeros(1, 2, 6, 5)),
            r"wh must have shape \(1, 2, 6, 6\) to match heat, got \(1, 2, 6, 5\)",
        ),
        (dict(reg=torch.zeros(1, 3, 6, 6)), r"reg must have shape \(1, 2, 6, 6\) to match heat"),
        (
            dict(heat=torch.zeros(6, 6)),
            r"heat must be a \(B, C, H, W\) tensor, got torch.Size\(\[6, 6\]\)",
        ),
    ],
)
def test_decode_rejects_bad_input(kwargs, message):
    args = dict(heat=torch.rand(1, 1, 6, 6), wh=torch.ones(1, 2, 6, 6), reg=None, K=5) | kwargs
    with pytest.raises(ValueError, match=message):
        decode_ctdet(**args)


def test_nms_rejects_even_kernels():
    with pytest.raises(ValueError, match="kernel must be a positive odd integer, got 2"):
        heatmap_nms(torch.rand(1, 1, 4, 4), kernel=2)


def exdet_heads(points, label=0, C=2, size=(12, 12)):
    """Single-pixel peaks at integer extreme points and at the box centre."""
    heads = {f"hm_{p}": torch.zeros(1, C, *size) for p in "tlbrc"}
    for part, (x, y) in zip("tlbr", points, strict=True):
        heads[f"hm_{part}"][0, label, y, x] = 0.9
    (tx, ty), (lx, _), (bx, by), (rx, _) = points
    heads["hm_c"][0, label, (ty + by) // 2, (lx + rx) // 2] = 0.6
    return heads


def test_exdet_decode_groups_a_valid_quadruple():
    heads = exdet_heads([(5, 1), (2, 6), (6, 10), (9, 5)], label=1)
    det = decode_exdet(heads, K=3, num_dets=2)
    assert det.shape == (1, 2, 14)
    want = [
        2.5,
        1.5,
        9.5,
        10.5,
        (4 * 0.9 + 2 * 0.6) / 6,
        1,
        5.5,
        1.5,
        2.5,
        6.5,
        6.5,
        10.5,
        9.5,
        5.5,
    ]
    np.testing.assert_allclose(det[0, 0].tolist(), want, rtol=1e-6)
    assert det[0, 1, 4] == -1  # no second grouping exists


def test_exdet_decode_rejects_bad_geometry_and_a_missing_centre():
    # Top below bottom: no box.
    heads = exdet_heads([(5, 10), (2, 6), (6, 1), (9, 5)])
    assert (decode_exdet(heads, K=2, num_dets=1)[0, :, 4] == -1).all()
    heads = exdet_heads([(5, 1), (2, 6), (6, 10), (9, 5)])
    heads["hm_c"].zero_()
    assert (decode_exdet(heads, K=2, num_dets=1)[0, :, 4] == -1).all()


def test_exdet_decode_rejects_bad_input():
    heads = exdet_heads([(5, 1), (2, 6), (6, 10), (9, 5)])
    with pytest.raises(ValueError, match=r"missing \['hm_r'\]"):
        decode_exdet({k: v for k, v in heads.items() if k != "hm_r"})
    with pytest.raises(ValueError, match=r"num_dets = 17 is larger than the K\^4 = 16 groupings"):
        decode_exdet(heads, K=2, num_dets=17)
    heads["hm_t"] = torch.zeros(1, 3, 12, 12)
    with pytest.raises(ValueError, match=r"hm_t must have shape \(1, 2, 12, 12\) to match heat"):
        decode_exdet(heads, K=2)


def test_decode_kernel_sets_the_max_pool_window():
    # A peak with a weaker neighbour, and a weaker peak two pixels away.
    heat = torch.zeros(1, 1, 7, 7)
    heat[0, 0, 3, 2], heat[0, 0, 3, 3], heat[0, 0, 3, 5] = 0.9, 0.6, 0.5
    wh = torch.ones(1, 2, 7, 7)

    def kept(kernel):
        det = decode_ctdet(heat, wh, K=4, kernel=kernel)[0]
        return sorted(round(s, 2) for s in det[:, 4].tolist() if s > 0)

    assert kept(1) == [0.5, 0.6, 0.9]  # no suppression: the neighbour is a detection too
    assert kept(3) == [0.5, 0.9]
    assert kept(5) == [0.9]  # the wider window swallows the second object
    torch.testing.assert_close(decode_ctdet(heat, wh, K=4), decode_ctdet(heat, wh, K=4, kernel=3))
    with pytest.raises(ValueError, match="kernel must be a positive odd integer, got 4"):
        decode_ctdet(heat, wh, K=4, kernel=4)


def square_window_nms(heat, kernel):
    """The plain form: one kernel x kernel max-pool."""
    hmax = torch.nn.functional.max_pool2d(heat, kernel, stride=1, padding=(kernel - 1) // 2)
    return heat * (hmax == heat).to(heat.dtype)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**31 - 1),
    st.sampled_from([1, 3, 5, 7]),
    st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 12), st.integers(1, 12)),
    st.sampled_from([torch.float32, torch.float64, torch.float16, torch.bfloat16]),
    st.booleans(),
)
def test_nms_equals_the_square_max_pool(seed, kernel, shape, dtype, plateaus):
    g = torch.Generator().manual_seed(seed)
    heat = torch.rand(shape, generator=g)
    if plateaus:  # few distinct values: ties and plateaus everywhere
        heat = (heat * 4).floor() / 4
    heat = heat.to(dtype)
    assert torch.equal(heatmap_nms(heat, kernel), square_window_nms(heat, kernel))
    assert torch.equal(heatmap_nms(heat, kernel, pool=window_max), heatmap_nms(heat, kernel))
    assert torch.equal(window_max(heat, kernel), max_pool(heat, kernel))


def test_the_window_maximum_decodes_the_same_detections():
    g = torch.Generator().manual_seed(7)
    heat = (torch.rand(2, 3, 16, 16, generator=g) * 4).floor() / 4  # plateaus and ties
    wh, reg = torch.rand(2, 2, 16, 16, generator=g) * 5, torch.rand(2, 2, 16, 16, generator=g)
    plain = decode_ctdet(heat, wh, reg, K=20)
    assert torch.equal(decode_ctdet(heat, wh, reg, K=20, pool=window_max), plain)
    heads = {f"hm_{p}": torch.rand(1, 2, 12, 12, generator=g) for p in "tlbrc"}
    plain = decode_exdet(heads, K=6, num_dets=30)
    assert torch.equal(decode_exdet(heads, K=6, num_dets=30, pool=window_max), plain)
    with pytest.raises(ValueError, match=r"pool must be a function \(x, kernel\)"):
        decode_ctdet(heat, wh, reg, K=20, pool="window_max")


def test_topk_returns_named_fields():
    peaks = topk(torch.rand(2, 3, 4, 5), K=6)
    assert peaks._fields == ("scores", "inds", "clses", "ys", "xs")
    assert peaks.scores.shape == peaks.xs.shape == (2, 6)
    torch.testing.assert_close(peaks.inds, (peaks.ys * 5 + peaks.xs).long(), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("heat", "message"),
    [
        (
            torch.zeros(1, 1, 3, 3, dtype=torch.bool),
            "heat must be a floating-point tensor, got torch.bool",
        ),
        (
            torch.zeros(1, 1, 3, 3, dtype=torch.int64),
            "heat must be a floating-point tensor, got torch.int64",
        ),
        (torch.zeros(1, 1, 0, 3), r"heat must have C, H, W >= 1, got \(1, 1, 0, 3\)"),
        (torch.zeros(1, 0, 3, 3), r"heat must have C, H, W >= 1, got \(1, 0, 3, 3\)"),
    ],
)
def test_nms_names_bad_maps(heat, message):
    with pytest.raises(ValueError, match=message):
        heatmap_nms(heat)


def test_empty_batches_decode_to_empty_detections():
    heads = {f"hm_{p}": torch.zeros(0, 2, 8, 8) for p in "tlbrc"}
    assert decode_exdet(heads, K=2, num_dets=3).shape == (0, 3, 14)
    assert decode_ctdet(torch.zeros(0, 2, 8, 8), torch.zeros(0, 2, 8, 8), K=4).shape == (0, 4, 6)


def test_decoding_a_models_outputs_outside_no_grad_works_and_keeps_the_gradient():
    """A student decodes what the model just returned, without torch.no_grad(): the same
    detections as under no_grad, and heatmap_nms differentiable as the reference's
    heat * (max_pool(heat) == heat) is."""
    from centernet_edu.pretrained import shapes_model

    torch.manual_seed(0)
    out = shapes_model()(torch.rand(2, 3, 128, 128))
    heat = torch.sigmoid(out["hm"])
    assert heat.requires_grad and out["wh"].requires_grad and out["reg"].requires_grad

    dets = decode_ctdet(heat, out["wh"], out["reg"], K=10)
    with torch.no_grad():
        expected = decode_ctdet(heat, out["wh"], out["reg"], K=10)
    assert dets.requires_grad and torch.equal(dets.detach(), expected)

    peaks = heatmap_nms(heat)
    reference = heat * (torch.nn.functional.max_pool2d(heat, 3, stride=1, padding=1) == heat)
    assert torch.equal(peaks, reference)
    (grad,) = torch.autograd.grad(peaks.sum(), out["hm"], retain_graph=True)
    (grad_reference,) = torch.autograd.grad(reference.sum(), out["hm"])
    assert torch.equal(grad, grad_reference) and grad.abs().sum() > 0
    # Without grad the fast path still returns a new tensor and leaves heat as it was.
    frozen = heat.detach().clone()
    assert torch.equal(heatmap_nms(frozen), reference.detach()) and torch.equal(frozen, heat)


def test_extreme_point_decoding_outside_no_grad_works():
    heads = exdet_heads([(5, 1), (2, 6), (6, 10), (9, 5)], label=1)
    grad_heads = {k: v.clone().requires_grad_(True) for k, v in heads.items()}
    expected = decode_exdet(heads, K=3, num_dets=2)
    got = decode_exdet(grad_heads, K=3, num_dets=2)
    assert torch.equal(got.detach(), expected) and expected[0, 0, 12] > 0  # found the box
