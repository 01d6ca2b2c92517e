"""Decoding: decode_ctdet at COCO scale, the share of its two steps, and heatmap_nms.

Heatmaps of B x 80 classes x 128 x 128 (a 512 x 512 input at stride 4) with 20 objects
per image on a background of low scores, K = 100 detections per image. decode_ctdet
keeps the 3 x 3 peaks (heatmap_nms), then takes the top K of each class and the top K
of those (topk), as the reference does. The straightforward alternative takes one top K
over all C x H x W scores; the script checks that both find the same detections and
reports the ratio. heatmap_nms with pool=fast.window_max (two 1-D max passes) is compared
with its default, the plain 3 x 3 max-pool, and checked to give the identical map; the
decoders are timed with the window maximum, as evaluate decodes.

    python benchmarks/bench_decode.py [--device cuda] [--threads 1] [--batch 1]
"""

import torch
from _timing import compare, describe, parse_args, report

from centernet_edu import decode_ctdet, encode_ctdet_batch, heatmap_nms, topk
from centernet_edu.fast import window_max
from centernet_edu.targets import gather_feat


def make_heads(B: int, C: int, H: int, device: torch.device):
    g = torch.Generator().manual_seed(0)
    size = torch.empty(B, 20, 2).uniform_(2, 48, generator=g)
    centre = torch.rand(B, 20, 2, generator=g) * H
    boxes = torch.cat([centre - size / 2, centre + size / 2], dim=2)
    labels = torch.randint(0, C, (B, 20), generator=g)
    targets = encode_ctdet_batch(boxes, labels, C, (H, H))
    # Object peaks score 0.5 to 1 (distinct, so that the top K has no ties).
    score = torch.rand(B, C, H, H, generator=g) * 0.5 + 0.5
    noise = torch.sigmoid(torch.randn(B, C, H, H, generator=g) - 4)
    heat = torch.maximum(score * targets["hm"], noise)
    wh = torch.rand(B, 2, H, H, generator=g) * 40
    reg = torch.rand(B, 2, H, H, generator=g)
    return heat.to(device), wh.to(device), reg.to(device)


def decode_single_topk(heat, wh, reg, K: int):
    """decode_ctdet with one top K over all classes and positions."""
    B, C, H, W = heat.shape
    scores, flat = torch.topk(heatmap_nms(heat, pool=window_max).reshape(B, -1), K)
    clses, inds = flat // (H * W), flat % (H * W)
    ys, xs = (inds // W).to(heat.dtype), (inds % W).to(heat.dtype)
    off, size = gather_feat(reg, inds), gather_feat(wh, inds)
    cx, cy = xs + off[..., 0], ys + off[..., 1]
    half_w, half_h = size[..., 0] / 2, size[..., 1] / 2
    boxes = torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], dim=2)
    return torch.cat([boxes, scores.unsqueeze(2), clses.to(heat.dtype).unsqueeze(2)], dim=2)


def square_window_nms(heat, kernel: int = 3):
    """heatmap_nms as one kernel x kernel max-pool: the plain form."""
    hmax = torch.nn.functional.max_pool2d(heat, kernel, stride=1, padding=(kernel - 1) // 2)
    return heat * (hmax == heat).to(heat.dtype)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], repeats=11, batch=8, classes=80, size=128, k=100)
    describe(args)
    heat, wh, reg = make_heads(args.batch, args.classes, args.size, args.device)
    K = args.k
    print(f"heat {tuple(heat.shape)}, K={K}")

    a, b = decode_ctdet(heat, wh, reg, K, pool=window_max), decode_single_topk(heat, wh, reg, K)
    print(f"  same detections: {torch.equal(a, b)}")
    if not torch.equal(a, b):
        raise SystemExit("the two decoders disagree")
    peaks = heatmap_nms(heat, pool=window_max)
    print(f"  identical nms maps: {torch.equal(peaks, square_window_nms(heat))}")
    if not torch.equal(peaks, square_window_nms(heat)):
        raise SystemExit("the two max-pool forms disagree")
    nms_times = compare(
        {
            "3 x 3 max-pool": lambda: square_window_nms(heat),
            "heatmap_nms": lambda: heatmap_nms(heat, pool=window_max),
        },
        args.device,
        args.repeats,
        args.warmup,
    )
    report(nms_times, "3 x 3 max-pool", "heatmap_nms")
    fns = {
        "heatmap_nms": lambda: heatmap_nms(heat, pool=window_max),
        "topk (per class, then all)": lambda: topk(peaks, K),
        "decode_ctdet": lambda: decode_ctdet(heat, wh, reg, K, pool=window_max),
        "decode with one top K": lambda: decode_single_topk(heat, wh, reg, K),
    }
    times = compare(fns, args.device, args.repeats, args.warmup)
    report(times, "decode with one top K", "decode_ctdet")
    per_image = sorted(times["decode_ctdet"])[len(times["decode_ctdet"]) // 2] / args.batch
    print(f"  decode_ctdet per image: {per_image * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
