"""A short tour of the package: ``python -m centernet_edu.demo``.

Encodes three boxes into CenterNet targets, scores a slightly wrong prediction with the
three loss terms, and decodes the perfect prediction back into boxes.
"""

from __future__ import annotations

import argparse

import torch

from . import CenterNetLoss, decode_ctdet, encode_ctdet, scatter_targets


def main(argv: list[str] | None = None) -> None:
    """Run the tour; it takes no arguments (``--help`` says so, anything else is a usage
    error, exit status 2)."""
    description = (__doc__ or "").partition("\n\n")[2].strip().replace("\n", " ")
    argparse.ArgumentParser(
        prog="python -m centernet_edu.demo", description=description
    ).parse_args(argv)
    torch.manual_seed(0)
    H, W, C = 32, 32, 3
    boxes = torch.tensor([[2.0, 3.0, 12.5, 10.0], [15.2, 14.0, 30.0, 29.5], [20.0, 1.0, 27.0, 8.0]])
    labels = torch.tensor([0, 2, 1])
    targets = encode_ctdet(boxes, labels, C, (H, W), max_objs=8)
    print("boxes (x1, y1, x2, y2) on a 32 x 32 heatmap:")
    for b, c in zip(boxes.tolist(), labels.tolist(), strict=True):
        print(f"  class {c}: {[round(v, 2) for v in b]}")
    n = int(targets["reg_mask"].sum())
    print(
        f"targets: hm {tuple(targets['hm'].shape)}, {n} objects, ind {targets['ind'][:n].tolist()}"
    )

    batch = {k: v[None] for k, v in targets.items()}
    perfect = scatter_targets(batch)
    # Logits of a prediction that is close but not perfect.
    hm_prob = perfect["hm"].clamp(1e-3, 1 - 1e-3)
    outputs = {
        "hm": torch.logit(hm_prob) + 0.5 * torch.randn_like(hm_prob),
        "wh": perfect["wh"] + 0.8 * torch.randn_like(perfect["wh"]),
        "reg": perfect["reg"] + 0.1 * torch.randn_like(perfect["reg"]),
    }
    loss, stats = CenterNetLoss()(outputs, batch)
    print("losses of a noisy prediction:")
    for k, v in stats.items():
        print(f"  {k:8s} {v.item():.4f}")

    dets = decode_ctdet(perfect["hm"], perfect["wh"], perfect["reg"], K=n)[0]
    print("decoded from the perfect prediction (x1, y1, x2, y2, score, class):")
    for d in dets.tolist():
        print("  " + ", ".join(f"{v:.2f}" for v in d))


if __name__ == "__main__":
    main()
