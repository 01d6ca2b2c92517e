"""Target encoding: encode_ctdet image by image vs encode_ctdet_batch.

A batch of B images with N boxes each (sizes log-uniform from 2 to 64 heatmap pixels,
i.e. 8 to 256 image pixels at stride 4; centres anywhere, so some boxes reach past the
border) on an H x W map with C classes. The loop encodes each image and stacks the
results, as a data loader's collate would; the batched version encodes all at once.
Both must give identical tensors, which the script checks before timing them.

    python benchmarks/bench_encode.py [--device cuda] [--threads 1]
"""

import math

import torch
from _timing import compare, describe, parse_args, report

from centernet_edu import encode_ctdet, encode_ctdet_batch


def make_boxes(B: int, N: int, C: int, H: int, W: int, device: torch.device):
    g = torch.Generator().manual_seed(0)
    size = torch.empty(B, N, 2).uniform_(math.log(2), math.log(64), generator=g).exp()
    centre = torch.rand(B, N, 2, generator=g) * torch.tensor([W, H])
    boxes = torch.cat([centre - size / 2, centre + size / 2], dim=2)
    labels = torch.randint(0, C, (B, N), generator=g)
    return boxes.to(device), labels.to(device)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], batch=32, objects=50, classes=20, size=128)
    describe(args)
    B, N, C, H = args.batch, args.objects, args.classes, args.size
    boxes, labels = make_boxes(B, N, C, H, H, args.device)
    print(f"B={B} images x N={N} boxes, {H}x{H} map, C={C} classes")

    def loop():
        outs = [encode_ctdet(boxes[b], labels[b], C, (H, H)) for b in range(B)]
        return {key: torch.stack([o[key] for o in outs]) for key in outs[0]}

    def batched():
        return encode_ctdet_batch(boxes, labels, C, (H, H))

    want, got = loop(), batched()
    same = all(torch.equal(want[k], got[k]) for k in want)
    print(f"  identical outputs: {same}")
    if not same:
        raise SystemExit("encode_ctdet_batch differs from encode_ctdet")
    times = compare(
        {"encode_ctdet loop": loop, "encode_ctdet_batch": batched},
        args.device,
        args.repeats,
        args.warmup,
    )
    report(times, "encode_ctdet loop", "encode_ctdet_batch")


if __name__ == "__main__":
    main()
