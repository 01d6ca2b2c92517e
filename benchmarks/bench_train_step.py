"""One training step of CenterNetLite: per-image targets and the plain focal loss vs batched.

A step is what ``fit`` does per batch: encode the targets, forward, the loss
L_det = L_k + 0.1 L_size + L_off, backward, an AdamW update. The batch, B images of
``ShapesDataset`` (128 x 128, five classes) with their padded boxes and labels, is made
once, before timing; only the targets are encoded inside the step.

- straightforward: ``encode_ctdet`` image by image, then ``torch.stack`` (what a
  collate of per-item targets does), and L_k by ``focal_loss_with_logits``;
- fast: ``encode_ctdet_batch`` on the padded batch, and
  ``CenterNetLoss(focal=focal_loss_with_logits_fused)``.

Each version trains its own copy of the same initial model. Before timing, one step of
each must give identical targets, the same loss terms (within 1e-5, relative) and the
same gradients (within 1e-4 of each parameter's largest gradient entry).

    python benchmarks/bench_train_step.py [--device cuda] [--threads 1]
"""

import copy

import torch
from _timing import compare, describe, parse_args, report

from centernet_edu import (
    CenterNetLite,
    CenterNetLoss,
    ShapesDataset,
    encode_ctdet,
    encode_ctdet_batch,
    focal_loss_with_logits,
    focal_loss_with_logits_fused,
    reg_l1_loss,
)


def straightforward_loss(outputs: dict, batch: dict) -> tuple[torch.Tensor, dict]:
    """``CenterNetLoss()`` with L_k from ``focal_loss_with_logits``."""
    hm_loss = focal_loss_with_logits(outputs["hm"], batch["hm"])
    wh_loss = reg_l1_loss(outputs["wh"], batch["reg_mask"], batch["ind"], batch["wh"])
    off_loss = reg_l1_loss(outputs["reg"], batch["reg_mask"], batch["ind"], batch["reg"])
    loss = hm_loss + 0.1 * wh_loss + off_loss
    stats = {"loss": loss, "hm_loss": hm_loss, "wh_loss": wh_loss, "off_loss": off_loss}
    return loss, {k: v.detach() for k, v in stats.items()}


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], batch=32, size=128)
    describe(args)
    data = ShapesDataset(args.batch, args.size, seed=0)
    C, R, M = data.num_classes, data.stride, data.max_objs
    out_size = (args.size // R, args.size // R)
    items = [data[i] for i in range(args.batch)]
    images = torch.stack([it["image"] for it in items]).to(args.device)
    boxes = (torch.stack([it["boxes"] for it in items]) / R).to(args.device)  # heatmap pixels
    labels = torch.stack([it["labels"] for it in items]).to(args.device)  # -1 pads
    counts = [int(it["num_objs"]) for it in items]
    print(
        f"B={args.batch} images {args.size}x{args.size}, C={C} classes, "
        f"{sum(counts)} objects, heatmap {out_size[0]}x{out_size[1]}"
    )

    def per_image():
        outs = [
            encode_ctdet(boxes[b, :n], labels[b, :n], C, out_size, max_objs=M)
            for b, n in enumerate(counts)
        ]
        return {key: torch.stack([o[key] for o in outs]) for key in outs[0]}

    def batched():
        return encode_ctdet_batch(boxes, labels, C, out_size, max_objs=M)

    torch.manual_seed(0)
    model = CenterNetLite(C).to(args.device).train()
    versions = {
        "per-image targets, focal": (per_image, straightforward_loss),
        "batched targets, fused": (batched, CenterNetLoss(focal=focal_loss_with_logits_fused)),
    }
    runs = {}
    for name, (encode, loss_fn) in versions.items():
        net = copy.deepcopy(model)
        runs[name] = (net, torch.optim.AdamW(net.parameters(), lr=1e-3), encode, loss_fn)

    def step(net, optimizer, encode, loss_fn) -> dict:
        targets = encode()
        loss, stats = loss_fn(net(images), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"targets": targets, "stats": stats}

    (base, (net_a, *_)), (new, (net_b, *_)) = runs.items()
    a, b = (step(*run) for run in runs.values())
    same_targets = all(torch.equal(a["targets"][k], b["targets"][k]) for k in a["targets"])
    print(f"  identical targets: {same_targets}")
    loss_err = max(
        abs(float(a["stats"][k] - b["stats"][k])) / abs(float(a["stats"][k])) for k in a["stats"]
    )
    grad_err = max(
        float((p.grad - q.grad).abs().max() / p.grad.abs().max().clamp_min(1e-30))
        for p, q in zip(net_a.parameters(), net_b.parameters(), strict=True)
    )
    terms = ", ".join(f"{k} {float(v):.6f}" for k, v in a["stats"].items())
    print(f"  first step: {terms}")
    print(f"  loss terms: largest relative difference {loss_err:.1e}")
    print(f"  gradients: largest difference / largest entry, worst parameter = {grad_err:.1e}")
    if not same_targets or loss_err > 1e-5 or grad_err > 1e-4:
        raise SystemExit("the two versions disagree")

    fns = {name: (lambda run=run: step(*run)) for name, run in runs.items()}
    times = compare(fns, args.device, args.repeats, args.warmup)
    report(times, base, new)


if __name__ == "__main__":
    main()
