"""Train chapter 5's short run at several lambda_size and several seeds; record the spread.

    python benchmarks/size_weight_seeds.py    # writes centernet_edu/pretrained/size_weight_seeds.json

L_det = L_k + lambda_size L_size + lambda_off L_off, lambda_off = 1. The run is the one
chapter 5 describes: ``CenterNetLite`` on 64 x 64 synthetic images of circles, squares
and triangles (1 to 4 objects of 12 to 40 pixels), 100 steps of 32 images at lr 3e-3.
A seed sets the training images, the initial weights and the batch order; every weight
``--wh-weights`` is trained once per seed ``--seeds``, so at one seed the weights start
from the same model and read the same batches. Each run records:

- the mean of each unweighted term over its last 20 steps;
- COCO AP, AP50, AP75 on the same held-out images (a seed training never uses);
- at a few steps, each unweighted term's value and the norm of its gradient on the
  features the three heads share, measured on 16 held-out images (``probes``).

Chapter 5 reads the file (``centernet_edu.pretrained.size_weight_seeds()``). The numbers
do not depend on the machine's load, only the wall time would, and it is not recorded.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see train_shapes.py

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from torch.utils.data import default_collate  # noqa: E402

from centernet_edu import (  # noqa: E402
    CenterNetLite,
    ShapesDataset,
    evaluate,
    focal_loss_with_logits,
    reg_l1_loss,
)
from centernet_edu.cli import HELD_OUT_SEED_OFFSET  # noqa: E402
from centernet_edu.train import fit  # noqa: E402

OUT = (
    Path(__file__).resolve().parents[1] / "centernet_edu" / "pretrained" / "size_weight_seeds.json"
)
TERMS = ("loss", "hm_loss", "wh_loss", "off_loss")
SHAPES = dict(shapes=("circle", "square", "triangle"), objects=(1, 4), size_range=(12.0, 40.0))


def _arguments(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wh-weights", type=float, nargs="+", default=[0.01, 0.1, 1.0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--train-size", type=int, default=2048, help="training images per seed")
    p.add_argument("--val-size", type=int, default=200, help="held-out images")
    p.add_argument("--probe-size", type=int, default=16, help="held-out images of the probes")
    p.add_argument("--probe-steps", type=int, nargs="+", default=[1, 10, 25, 50, 100])
    p.add_argument("--last", type=int, default=20, help="steps averaged into the final terms")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(OUT))
    return p.parse_args(argv)


def shared_gradients(model, probe: dict) -> dict:
    """Each unweighted term's value and the norm of its gradient on the shared features
    F (B, 64, H/4, W/4), for the images of ``probe``: {"L_k": [value, norm], ...}."""
    model.eval()
    features = model.features(probe["image"])
    heads = {k: head(features) for k, head in model.heads.items()}
    at_centres = (probe["reg_mask"], probe["ind"])
    terms = {
        "L_k": focal_loss_with_logits(heads["hm"], probe["hm"]),
        "L_size": reg_l1_loss(heads["wh"], *at_centres, probe["wh"]),
        "L_off": reg_l1_loss(heads["reg"], *at_centres, probe["reg"]),
    }
    out = {}
    for name, value in terms.items():
        (grad,) = torch.autograd.grad(value, features, retain_graph=True)
        out[name] = [round(value.item(), 5), round(grad.norm().item(), 6)]
    model.train()
    return out


def _run(args, seed: int, wh_weight: float, train_items, held_out, probe) -> dict:
    torch.manual_seed(seed)
    model = CenterNetLite(held_out.num_classes)
    probes: dict[str, dict] = {}

    def callback(step: int, stats: dict) -> None:
        if step in args.probe_steps:
            probes[str(step)] = shared_gradients(model, probe)

    result = fit(
        model, train_items, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        seed=seed, wh_weight=wh_weight, off_weight=1.0, progress=False, callback=callback,
    )  # fmt: skip
    last = result.history[-args.last :]
    metrics = evaluate(model, held_out, batch_size=50)
    record = {"wh_weight": wh_weight, "seed": seed}
    record["final"] = {k: round(sum(h[k] for h in last) / len(last), 5) for k in TERMS}
    record |= {k: round(metrics[k], 4) for k in ("AP", "AP50", "AP75")}
    record["probes"] = probes
    return record


def main(argv=None) -> int:
    args = _arguments(argv)
    torch.set_num_threads(args.threads)
    size = args.image_size
    held_out = ShapesDataset(args.val_size, size, seed=HELD_OUT_SEED_OFFSET, **SHAPES)
    probe = default_collate([held_out[i] for i in range(args.probe_size)])
    runs, t0 = [], time.perf_counter()
    for seed in args.seeds:
        train_set = ShapesDataset(args.train_size, size, seed=seed, **SHAPES)
        train_items = [train_set[i] for i in range(len(train_set))]  # drawn once per seed
        for wh in args.wh_weights:
            runs.append(_run(args, seed, wh, train_items, held_out, probe))
            r = runs[-1]
            print(
                f"seed {seed} lambda_size {wh}: AP50 {r['AP50']:.3f} AP {r['AP']:.3f} "
                f"L_k {r['final']['hm_loss']:.3f} L_size {r['final']['wh_loss']:.3f} "
                f"({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    words = ["python benchmarks/size_weight_seeds.py"]
    for k, v in vars(args).items():
        if k != "out":
            words.append(
                f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
            )
    summary = {
        "command": " ".join(words),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{args.threads} threads",
        "torch": torch.__version__,
        "settings": {
            k: getattr(args, k)
            for k in ("steps", "batch_size", "lr", "image_size", "train_size", "val_size")
        }
        | {"off_weight": 1.0, "shapes": list(SHAPES["shapes"]), "objects": [1, 4]},
        "runs": runs,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1, allow_nan=False) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
