"""The checkers: each passes the package, names the case a mistake fails, hints at the
classic mistakes, and reports whatever a student's function does without crashing."""

import functools
import math
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from centernet_edu import (
    CenterNetLoss,
    ExtremeNetLoss,
    decode_ctdet,
    draw_gaussian,
    encode_ctdet,
    exercises,
    focal_loss,
    focal_loss_with_logits,
    gaussian_radius,
    heatmap_nms,
    reg_l1_loss,
)
from centernet_edu.exercises import Report


def test_the_package_itself_passes_every_checker():
    assert exercises.check_focal_loss(focal_loss).ok
    assert exercises.check_focal_loss_with_logits(focal_loss_with_logits).ok
    assert exercises.check_reg_l1_loss(reg_l1_loss).ok
    r = exercises.check_gaussian_radius(
        lambda h, w, o: gaussian_radius(h, w, o, variant="corrected")
    )
    assert r.ok and str(r).endswith("Well done.")


def test_a_focal_loss_without_the_fallback_fails_on_the_empty_case():
    def no_fallback(pred, gt):
        pos = gt.eq(1)
        pos_loss = (torch.log(pred) * (1 - pred) ** 2)[pos].sum()
        neg_loss = (torch.log(1 - pred) * pred**2 * (1 - gt) ** 4)[~pos].sum()
        return -(pos_loss + neg_loss) / pos.sum()  # 0/0 when there are no positives

    report = exercises.check_focal_loss(no_fallback)
    assert not report.ok and report.passed == report.total - 1
    assert "case 0 (0 positives" in str(report)


def test_a_clamped_logit_loss_fails_on_huge_logits():
    def clamped(logits, gt):
        return focal_loss(torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4), gt)

    report = exercises.check_focal_loss_with_logits(clamped)
    assert not report and "huge logits" in report.failures[0]


def test_the_reference_radius_fails_the_corrected_check_and_errors_are_reported():
    report = exercises.check_gaussian_radius(lambda h, w, o: gaussian_radius(h, w, o))
    assert report.passed == 0 and "square 10 x 10" in report.failures[0]

    def broken(output, mask, ind, target):
        raise RuntimeError("not written yet")

    report = exercises.check_reg_l1_loss(broken)
    assert report.passed == 0 and "raised RuntimeError: not written yet" in str(report)


def test_a_radius_with_the_right_roots_passes():
    def corrected(h, w, o):
        r1 = ((h + w) - math.sqrt((h + w) ** 2 - 4 * h * w * (1 - o) / (1 + o))) / 2
        r2 = (2 * (h + w) - math.sqrt(4 * (h + w) ** 2 - 16 * (1 - o) * h * w)) / 8
        r3 = (-2 * o * (h + w) + math.sqrt(4 * o**2 * (h + w) ** 2 + 16 * o * (1 - o) * h * w)) / (
            8 * o
        )
        return min(r1, r2, r3)

    assert exercises.check_gaussian_radius(corrected).ok


# Every checker: the package passes, a float32 version passes, plausible mistakes fail ----


def to32(x):
    """float64 tensors and arrays, also inside dicts, as float32."""
    if isinstance(x, dict):
        return {k: to32(v) for k, v in x.items()}
    if isinstance(x, torch.Tensor) and x.dtype == torch.float64:
        return x.float()
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return x.astype(np.float32)
    return x


def in_float32(fn):
    return lambda *args: fn(*(to32(a) for a in args))


def radius_in_float32(h, w, o):
    h, w = torch.tensor(h, dtype=torch.float32), torch.tensor(w, dtype=torch.float32)
    return gaussian_radius(h, w, o, variant="corrected")  # a 0-d float32 tensor


def draw_in_float32(heatmap, center, radius):
    r = torch.arange(-radius, radius + 1, dtype=torch.float32)
    sigma = (2 * radius + 1) / 6
    kernel = torch.exp(-(r[None] ** 2 + r[:, None] ** 2) / (2 * sigma**2)).numpy()
    x, y = int(center[0]), int(center[1])
    H, W = heatmap.shape
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if 0 <= y + dy < H and 0 <= x + dx < W:
                value = kernel[dy + radius, dx + radius]
                heatmap[y + dy, x + dx] = max(heatmap[y + dy, x + dx], value)
    return heatmap


def encode_in_numpy(*args):
    out = {k: v.numpy() for k, v in encode_ctdet(*args).items()}
    out["ind"], out["reg_mask"] = out["ind"].astype(np.int32), out["reg_mask"].astype(bool)
    return out


CHECKERS = {
    "gaussian_radius": (
        exercises.check_gaussian_radius,
        lambda h, w, o: gaussian_radius(h, w, o, variant="corrected"),
        radius_in_float32,
    ),
    "draw_gaussian": (exercises.check_draw_gaussian, draw_gaussian, draw_in_float32),
    "encode_ctdet": (exercises.check_encode_ctdet, encode_ctdet, encode_in_numpy),
    "focal_loss": (exercises.check_focal_loss, focal_loss, in_float32(focal_loss)),
    "focal_loss_with_logits": (
        exercises.check_focal_loss_with_logits,
        focal_loss_with_logits,
        in_float32(focal_loss_with_logits),
    ),
    "reg_l1_loss": (exercises.check_reg_l1_loss, reg_l1_loss, in_float32(reg_l1_loss)),
    "heatmap_nms": (exercises.check_heatmap_nms, heatmap_nms, in_float32(heatmap_nms)),
    "decode_ctdet": (exercises.check_decode_ctdet, decode_ctdet, in_float32(decode_ctdet)),
    "CenterNetLoss": (
        exercises.check_centernet_loss,
        CenterNetLoss(),
        in_float32(CenterNetLoss()),
    ),
    "ExtremeNetLoss": (
        exercises.check_extreme_net_loss,
        ExtremeNetLoss(),
        in_float32(ExtremeNetLoss()),
    ),
}


@pytest.mark.parametrize("name", CHECKERS)
def test_each_checker_passes_the_package_and_a_float32_version(name):
    check, package, float32_version = CHECKERS[name]
    for fn in (package, float32_version):
        report = check(fn)
        assert isinstance(report, Report) and report.ok and report.total >= 7, str(report)
        assert report.status == "passed" and report.summary().startswith("all cases pass")


def first(report) -> str:
    assert not report.ok and report.status == "not yet"
    return report.failures[0]


def corrected_radius(h, w, o):
    return gaussian_radius(h, w, o, variant="corrected")


def test_radius_mistakes_are_named():
    def larger_roots(h, w, o):
        r1 = ((h + w) + math.sqrt((h + w) ** 2 - 4 * h * w * (1 - o) / (1 + o))) / 2
        r2 = (2 * (h + w) + math.sqrt(4 * (h + w) ** 2 - 16 * (1 - o) * h * w)) / 8
        r3 = (-2 * o * (h + w) + math.sqrt(4 * o**2 * (h + w) ** 2 + 16 * o * (1 - o) * h * w)) / (
            8 * o
        )
        return min(r1, r2, r3)

    report = exercises.check_gaussian_radius(larger_roots)
    assert first(report).startswith("a square 10 x 10 box") and "smaller root" in report.hint

    report = exercises.check_gaussian_radius(lambda h, w, o: gaussian_radius(h, w, o))
    assert "original CenterNet formula" in report.hint and "2.733 where 0.8167" in str(report)

    report = exercises.check_gaussian_radius(
        lambda h, w, o: gaussian_radius(h, w, 0.7, "corrected")
    )
    assert first(report).startswith("a loose overlap") and "use min_overlap" in report.hint

    report = exercises.check_gaussian_radius(lambda h, w, o: int(corrected_radius(h, w, o)))
    assert "your radius is an integer (0) where 0.8167 belongs" in first(report)

    report = exercises.check_gaussian_radius(corrected_radius, variant="centernet")
    assert 'variant="centernet"' in report.hint


def naive_draw(heatmap, center, radius, combine=np.maximum, swap=False, rounding=int):
    """A Gaussian splat written out, with its classic mistakes as switches."""
    d = 2 * radius + 1
    r = np.arange(-radius, radius + 1)
    kernel = np.exp(-(r[None] ** 2 + r[:, None] ** 2) / (2 * (d / 6) ** 2))
    x, y = rounding(center[0]), rounding(center[1])
    if swap:
        x, y = y, x
    H, W = heatmap.shape
    t, b, left, right = (
        max(0, y - radius),
        min(H, y + radius + 1),
        max(0, x - radius),
        min(W, x + radius + 1),
    )
    patch = kernel[t - y + radius : b - y + radius, left - x + radius : right - x + radius]
    heatmap[t:b, left:right] = combine(heatmap[t:b, left:right], patch)
    return heatmap


def test_draw_gaussian_mistakes_are_named():
    report = exercises.check_draw_gaussian(lambda *a: naive_draw(*a, combine=np.add))
    assert first(report).startswith("two overlapping objects") and "not a sum" in report.hint
    assert "your heatmap has" in first(report) and "at x = " in first(report)

    report = exercises.check_draw_gaussian(lambda *a: naive_draw(*a, swap=True))
    assert first(report).startswith("an object in the middle") and "center is (x, y)" in report.hint

    report = exercises.check_draw_gaussian(lambda *a: naive_draw(*a, rounding=round))
    assert first(report).startswith("a centre with fractions") and "truncate" in report.hint

    def unclipped(heatmap, center, radius):  # x - radius < 0 slices from the other end
        x, y = int(center[0]), int(center[1])
        kernel = naive_draw(np.zeros((2 * radius + 1,) * 2), (radius, radius), radius)
        region = heatmap[y - radius : y + radius + 1, x - radius : x + radius + 1]
        region[...] = np.maximum(region, kernel[: region.shape[0], : region.shape[1]])
        return heatmap

    report = exercises.check_draw_gaussian(unclipped)
    assert first(report).startswith("an object at the left border (x = 0)")
    assert "where 1 belongs at x = 0, y = 4" in first(report) and "cut the window" in report.hint

    report = exercises.check_draw_gaussian(lambda h, c, r: draw_gaussian(h.copy(), c, r))
    assert "did not draw into the one it was given" in first(report)
    report = exercises.check_draw_gaussian(lambda h, c, r: (draw_gaussian(h, c, r), None)[1])
    assert "your heatmap is right, but your function returned None" in first(report)


def test_encode_ctdet_mistakes_are_named():
    def swapped_sizes(*args):
        out = encode_ctdet(*args)
        return {**out, "wh": out["wh"].flip(1)}

    report = exercises.check_encode_ctdet(swapped_sizes)
    assert first(report).startswith("one object in the middle: your wh has 6.5 where 5 belongs")
    assert report.hint == "wh is (w, h): the width first"

    def column_major(boxes, labels, num_classes, output_size, max_objs):
        out = encode_ctdet(boxes, labels, num_classes, output_size, max_objs)
        H, W = output_size
        y, x = out["ind"] // W, out["ind"] % W
        return {**out, "ind": (x * H + y) * out["reg_mask"]}

    report = exercises.check_encode_ctdet(column_major)
    assert first(report).startswith("one object in the middle: your ind has 64 where 54 belongs")
    assert "y * W + x" in report.hint

    def corrected(boxes, labels, num_classes, output_size, max_objs):
        out = encode_ctdet(boxes, labels, num_classes, output_size, max_objs)
        hm = np.zeros_like(out["hm"].numpy())
        for k in range(min(len(boxes), max_objs)):
            if out["reg_mask"][k]:
                w, h = out["wh"][k].tolist()
                x, y = int(out["ind"][k]) % output_size[1], int(out["ind"][k]) // output_size[1]
                r = max(0, int(gaussian_radius(math.ceil(h), math.ceil(w), variant="corrected")))
                draw_gaussian(hm[labels[k]], (x, y), r)
        return {**out, "hm": hm}

    report = exercises.check_encode_ctdet(corrected)
    assert first(report).startswith("one object in the middle: your hm has")
    assert "original CenterNet radius" in report.hint

    def clips_in_place(boxes, *args):
        np.clip(boxes[:, [0, 2]], 0, args[2][1] - 1, out=boxes[:, [0, 2]])  # a copy: harmless
        boxes[:, 2] = np.minimum(boxes[:, 2], args[2][1] - 1)  # but this one is not
        return encode_ctdet(boxes, *args)

    report = exercises.check_encode_ctdet(clips_in_place)
    assert "changed its input boxes" in first(report) and "a copy of the boxes" in report.hint


def focal(pred, gt, alpha=2, beta=4, reduce=lambda t, n: t.sum() / n.sum().clamp(min=1)):
    pos = gt.eq(1)
    terms = torch.where(
        pos,
        torch.log(pred) * (1 - pred) ** alpha,
        torch.log(1 - pred) * pred**alpha * (1 - gt) ** beta,
    )
    return -reduce(terms, pos)


def test_focal_loss_mistakes_are_named():
    report = exercises.check_focal_loss(lambda p, g: focal(p, g, alpha=4, beta=2))
    assert first(report).startswith(
        "case 0 (0 positives, shape (2, 2, 6, 7)): no object in the batch"
    )
    assert "alpha = 4, beta = 2" in report.hint

    report = exercises.check_focal_loss(lambda p, g: focal(p, g, beta=2))
    assert "alpha = 2, beta = 2" in report.hint and report.passed == 1  # the batch without objects

    report = exercises.check_focal_loss(lambda p, g: focal(p, g, reduce=lambda t, n: t.mean()))
    assert "not by the number of pixels" in report.hint

    report = exercises.check_focal_loss(
        lambda p, g: focal(p, g, reduce=lambda t, n: t.sum() / n.sum())
    )
    assert first(report).endswith("no object in the batch: your loss is inf")
    assert "max(N, 1)" in report.hint


def test_focal_loss_with_logits_mistakes_are_named():
    report = exercises.check_focal_loss_with_logits(lambda x, g: focal(torch.sigmoid(x), g))
    assert first(report).startswith("huge logits, confident mistakes")
    assert "your loss is inf" in first(report) and "logsigmoid(x)" in report.hint

    report = exercises.check_focal_loss_with_logits(lambda x, g: focal(torch.sigmoid(x), g, beta=3))
    assert first(report).startswith("case 1 (1 positive,") and "alpha = 2, beta = 3" in report.hint

    report = exercises.check_focal_loss_with_logits(
        lambda x, g: focal(torch.sigmoid(x), g, reduce=lambda t, n: t.sum() / len(t))
    )
    assert "not by the number of images" in report.hint


def l1(output, mask, ind, target, use_mask=True, denominator=lambda n, D: n * D + 1e-4, flat=None):
    B, D, H, W = output.shape
    flat = output.reshape(B, D, H * W) if flat is None else flat(output)
    pred = flat.gather(2, ind.unsqueeze(1).expand(B, D, ind.shape[1])).transpose(1, 2)
    m = mask.unsqueeze(2).to(pred.dtype) if use_mask else torch.ones_like(pred)
    return (pred * m - target * m).abs().sum() / denominator(mask.sum(), D)


def test_reg_l1_loss_mistakes_are_named():
    report = exercises.check_reg_l1_loss(functools.partial(l1, use_mask=False))
    assert (
        first(report).startswith("no object in the batch") and "multiply by the mask" in report.hint
    )

    report = exercises.check_reg_l1_loss(functools.partial(l1, denominator=lambda n, D: n * D))
    assert "no object in the batch (the mask is all 0): your loss is NaN" in first(report)
    assert "1e-4" in report.hint

    report = exercises.check_reg_l1_loss(functools.partial(l1, denominator=lambda n, D: n + 1e-4))
    assert first(report).startswith("one object: your loss is") and "D * N + 1e-4" in report.hint

    transposed = functools.partial(l1, flat=lambda o: o.transpose(2, 3).reshape(*o.shape[:2], -1))
    report = exercises.check_reg_l1_loss(transposed)
    assert first(report).startswith("one object") and "y * W + x" in report.hint


def neighbours_max(h):
    """The largest of each pixel's 8 neighbours."""
    H, W = h.shape[-2:]
    p = F.pad(h, (1, 1, 1, 1), value=-1.0)
    around = [p[..., i : i + H, j : j + W] for i in range(3) for j in range(3) if (i, j) != (1, 1)]
    return torch.stack(around).amax(0)


def test_heatmap_nms_mistakes_are_named():
    def pooled(heat):
        return F.max_pool2d(heat, 3, stride=1, padding=1)

    report = exercises.check_heatmap_nms(lambda h: h * (h > neighbours_max(h)))
    assert (
        first(report).startswith("a plateau: two equal neighbours") and "==, not >" in report.hint
    )

    report = exercises.check_heatmap_nms(lambda h: h * (h == F.max_pool2d(h, 3, stride=1)))
    assert "raised RuntimeError" in first(report) and "padding=1" in report.hint

    report = exercises.check_heatmap_nms(lambda h: (h == pooled(h)).to(h.dtype))
    assert first(report).startswith("a single peak in the middle: your result has 1 where")
    assert "multiply by the heatmap" in report.hint

    report = exercises.check_heatmap_nms(lambda h: h * (h == pooled(h.amax(1, keepdim=True))))
    assert first(report).startswith("two classes with peaks at the same pixel")
    assert "image 0, class 1, x = 3, y = 3" in first(report) and "across classes" in report.hint


def decode(heat, wh, reg, K, nms=True, half=2, swap=False):
    """decode_ctdet written out, with its classic mistakes as switches."""
    B, C, H, W = heat.shape
    peaks = heat * (heat == F.max_pool2d(heat, 3, stride=1, padding=1)) if nms else heat
    class_scores, class_pos = peaks.reshape(B, C, H * W).topk(K)
    scores, pick = class_scores.reshape(B, C * K).topk(K)
    pos = class_pos.reshape(B, C * K).gather(1, pick)
    ys, xs = (pos % W, pos // W) if swap else (pos // W, pos % W)
    b = torch.arange(B)[:, None]
    cx, cy = xs + reg[b, 0, pos // W, pos % W], ys + reg[b, 1, pos // W, pos % W]
    w, h = wh[b, 0, pos // W, pos % W], wh[b, 1, pos // W, pos % W]
    boxes = [cx - w / half, cy - h / half, cx + w / half, cy + h / half]
    return torch.stack([*boxes, scores, (pick // K).to(heat.dtype)], dim=2)


def test_decode_ctdet_mistakes_are_named():
    report = exercises.check_decode_ctdet(decode)
    assert first(report).startswith("no offset map (reg=None): your function raised TypeError")
    assert report.passed == report.total - 1 and "x + 0.5, y + 0.5" in report.hint

    def with_centre(fn):
        def decoded(heat, wh, reg, K):
            reg = torch.full_like(wh, 0.5) if reg is None else reg
            return fn(heat, wh, reg, K)

        return decoded

    report = exercises.check_decode_ctdet(with_centre(functools.partial(decode, nms=False)))
    assert first(report).startswith("one object: your detection 4 of image 0 is")
    assert "heatmap_nms" in report.hint

    report = exercises.check_decode_ctdet(with_centre(functools.partial(decode, half=1)))
    assert (
        first(report).startswith("one object: your detection 0 of image 0 is")
        and "w / 2" in report.hint
    )

    report = exercises.check_decode_ctdet(with_centre(functools.partial(decode, swap=True)))
    assert "y = ind // W and x = ind % W" in report.hint

    report = exercises.check_decode_ctdet(lambda *a: decode_ctdet(*a).flip(1))
    assert "your detections are not sorted by score" in first(report)


def total(outputs, batch, wh_weight=0.1, off_weight=1.0, hm=None):
    at = (batch["reg_mask"], batch["ind"])
    hm = focal_loss_with_logits(outputs["hm"], batch["hm"]) if hm is None else hm(outputs, batch)
    wh = reg_l1_loss(outputs["wh"], *at, batch["wh"])
    return hm + wh_weight * wh + off_weight * reg_l1_loss(outputs["reg"], *at, batch["reg"])


def test_centernet_loss_mistakes_are_named():
    report = exercises.check_centernet_loss(lambda o, b: total(o, b, wh_weight=1.0))
    assert first(report).startswith("one image, one object: your loss is")
    assert "weighted by 0.1" in report.hint

    report = exercises.check_centernet_loss(lambda o, b: total(o, b, off_weight=0.0))
    assert "include the offset term" in report.hint

    def in_place(outputs, batch):  # the original code's _sigmoid
        outputs["hm"] = outputs["hm"].sigmoid_().clamp(1e-4, 1 - 1e-4)
        return total(outputs, batch, hm=lambda o, b: focal_loss(o["hm"], b["hm"]))

    report = exercises.check_centernet_loss(in_place)
    assert "changed its input outputs['hm']" in first(report) and "sigmoid_" in report.hint

    report = exercises.check_centernet_loss(
        lambda o, b: total(o, b, hm=lambda o, b: focal(o["hm"], b["hm"]))
    )
    assert "your loss is NaN" in first(report) and "hold logits" in report.hint

    class MyLoss(torch.nn.Module):  # a class is built with its defaults
        def forward(self, outputs, batch):
            loss = total(outputs, batch)
            return loss, {"loss": loss.detach()}

    assert exercises.check_centernet_loss(MyLoss).ok


def extreme(outputs, batch, parts="tlbrc", ind=None, mean=False):
    hm = sum(focal_loss_with_logits(outputs[f"hm_{p}"], batch[f"hm_{p}"]) for p in parts)
    off = sum(
        reg_l1_loss(
            outputs[f"reg_{p}"], batch["reg_mask"], batch[ind or f"ind_{p}"], batch[f"reg_{p}"]
        )
        for p in "tlbr"
    )
    return (hm / len(parts) + off / 4) if mean else hm + off


def test_extreme_net_loss_mistakes_are_named():
    report = exercises.check_extreme_net_loss(functools.partial(extreme, parts="tlbr"))
    assert first(report).startswith("one object: your loss is") and "hm_c" in report.hint

    report = exercises.check_extreme_net_loss(functools.partial(extreme, ind="ind_t"))
    assert "its own index" in report.hint

    report = exercises.check_extreme_net_loss(functools.partial(extreme, mean=True))
    assert "do not average" in report.hint


# Whatever the student's function does, the checker reports it and never crashes ----------


def boom(*args):
    raise ValueError("boom")


def nan_result(result):
    if isinstance(result, dict):
        return {**result, "hm": result["hm"] * float("nan")}
    if isinstance(result, tuple):
        return result[0] * float("nan")
    return result * float("nan")


def wrong_shape(result):
    if isinstance(result, dict):
        return {**result, "hm": result["hm"][None]}
    if isinstance(result, tuple):
        return result[0][None]
    return np.array([result, result]) if isinstance(result, float) else result[None]


@pytest.mark.parametrize("name", CHECKERS)
def test_each_checker_reports_a_raise_a_none_a_nan_and_says_which(name):
    check, package, _ = CHECKERS[name]
    report = check(boom)
    assert ": your function raised ValueError: boom\n" in first(report)
    assert "in boom, test_exercises.py line" in first(
        report
    ) and 'raise ValueError("boom")' in first(report)

    report = check(lambda *args: None)
    assert "returned None" in first(report) and "raised" not in first(report)

    if name == "draw_gaussian":
        fn = lambda heatmap, center, radius: (heatmap.fill(np.nan), heatmap)[1]  # noqa: E731
    else:
        fn = lambda *args: nan_result(package(*args))  # noqa: E731
    report = check(fn)
    assert report.passed == 0 and "NaN (not a number)" in first(report)


@pytest.mark.parametrize("name", [n for n in CHECKERS if n != "draw_gaussian"])
def test_each_checker_reports_a_wrong_shape(name):
    check, package, _ = CHECKERS[name]
    report = check(lambda *args: wrong_shape(package(*args)))
    assert report.passed == 0 and "has shape" in first(report) and "where" in first(report)


@pytest.mark.parametrize("name", [n for n in CHECKERS if n != "gaussian_radius"])
def test_each_checker_reports_a_changed_input(name):
    check, package, _ = CHECKERS[name]
    if name == "draw_gaussian":  # the heatmap is drawn in place; the centre must stay

        def fn(heatmap, center, radius):
            draw_gaussian(heatmap, center, radius)
            if isinstance(center, np.ndarray):
                center += 1
            return heatmap

    elif name == "encode_ctdet":

        def fn(boxes, *args):
            out = encode_ctdet(boxes, *args)
            boxes += 1
            return out

    else:

        def fn(*args):
            result = package(*args)
            target = args[0] if isinstance(args[0], torch.Tensor) else next(iter(args[0].values()))
            target.zero_()
            return result

    report = check(fn)
    assert not report.ok and any("changed its input" in f for f in report.failures)


# The four ways the first checkers misled a student ----------------------------------------


def test_a_missing_return_is_told_as_such_not_as_an_error():
    def forgot(pred, gt):
        loss = focal_loss(pred, gt)  # noqa: F841

    report = exercises.check_focal_loss(forgot)
    assert report.passed == 0 and report.hint is None
    assert all(
        f.endswith("your function returned None: is a `return` missing?") for f in report.failures
    )


def test_a_float32_loss_is_judged_at_float32_precision_with_a_word_about_it():
    def float32_sum(pred, gt):  # right to float32 precision: off by a few parts in a million
        return (focal_loss(pred, gt) * (1 + 3e-6)).float()

    report = exercises.check_focal_loss(float32_sum)
    assert report.ok and report.notes and "judged at float32 precision" in report.notes[0]
    assert "note: your results are float32 where the inputs are float64" in str(report)

    report = exercises.check_focal_loss(lambda p, g: focal_loss(p, g) * (1 + 3e-6))  # float64
    assert not report.ok and "right to float32 precision but not to float64" in first(report)
    assert 0 < report.passed < report.total and report.hint is None  # the float32 cases pass


def test_a_loss_per_image_is_told_its_shape():
    def per_image(pred, gt):
        return focal(pred, gt, reduce=lambda t, n: t.sum((1, 2, 3)) / n.sum().clamp(min=1))

    report = exercises.check_focal_loss(per_image)
    assert report.passed == 0  # batches of one image too: (1,) is not a single number
    assert first(report).endswith(
        "your loss has shape (2,) where a single number (shape ()) belongs"
    )
    assert "one number, not one per image" in report.hint


def test_a_function_that_zeroes_its_input_after_computing_fails():
    def zeroes(pred, gt):
        loss = focal_loss(pred, gt)
        pred.zero_()
        return loss

    report = exercises.check_focal_loss(zeroes)
    assert report.passed == 0 and "changed its input pred" in first(report)


# The report, and what else a student may hand in ------------------------------------------


def test_the_report_reads_as_before_when_everything_passes():
    report = Report("focal_loss", passed=12, total=12)
    assert str(report) == "focal_loss: 12/12 cases pass. Well done." and bool(report)
    report = Report("focal_loss", 1, 3, ["case 1: wrong", "case 2: wrong"], hint="divide by N")
    assert str(report) == (
        "focal_loss: 1/3 cases pass (not yet).\nfirst failure: case 1: wrong\n"
        "(1 more case fails)\nhint: divide by N"
    )
    assert report.summary() == "case 1: wrong | hint: divide by N" and not report


def test_an_error_inside_the_package_shows_the_students_line_only():
    def calls_badly(pred, gt):
        return focal_loss(pred[0], gt)  # shapes that do not match

    text = str(exercises.check_focal_loss(calls_badly))
    assert "raised ValueError" in text and "in calls_badly, test_exercises.py line" in text
    assert "return focal_loss(pred[0], gt)" in text
    assert "losses.py" not in text and "validate.py" not in text and "judge.py" not in text


def test_a_stub_a_result_instead_of_a_function_and_an_exit_are_reports():
    def stub(pred, gt):
        raise NotImplementedError

    report = exercises.check_focal_loss(stub)
    assert report.status == "not yet" and "replace `raise NotImplementedError`" in report.hint

    report = exercises.check_focal_loss(focal_loss(torch.rand(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)))
    assert "needs your function itself, got a Tensor" in first(report) and report.total == 12

    report = exercises.check_reg_l1_loss(lambda *a: sys.exit(3))
    assert "raised SystemExit: 3" in first(report)


def test_a_student_who_changes_the_default_dtype_does_not_change_the_next_case():
    def sneaky(pred, gt):
        torch.set_default_dtype(torch.float64)
        return focal_loss(pred, gt)

    assert exercises.check_focal_loss(sneaky).ok and torch.get_default_dtype() == torch.float32


def test_odd_results_are_named():
    report = exercises.check_focal_loss(lambda p, g: (focal_loss(p, g), 1))
    assert "your loss is a tuple where a tensor belongs" in first(report)
    report = exercises.check_focal_loss(lambda p, g: focal_loss(p, g).half())
    assert "your loss is float16 where float64 belongs: half precision" in first(report)
    report = exercises.check_encode_ctdet(
        lambda *a: {**encode_ctdet(*a), "ind": encode_ctdet(*a)["ind"].float()}
    )
    assert "your ind is float32 where an integer tensor (int64) belongs" in first(report)
    report = exercises.check_encode_ctdet(
        lambda *a: {k: v for k, v in encode_ctdet(*a).items() if k != "reg"}
    )
    assert first(report).endswith("your dict has no 'reg'")


def test_every_checker_is_the_same_on_every_run():
    for check, _, _ in CHECKERS.values():
        wrong = lambda *args: None  # noqa: E731
        assert str(check(wrong, seed=3)) == str(check(wrong, seed=3))
