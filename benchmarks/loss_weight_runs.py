"""Train the same short shapes schedule at several loss weights and record every curve.

    python benchmarks/loss_weight_runs.py    # writes centernet_edu/pretrained/loss_weight_runs.json

L_det = L_k + lambda_size L_size + lambda_off L_off. Each run starts from the same weights
and reads the same batches; only (lambda_size, lambda_off) differ, over the grid
``--wh-weights`` x ``--off-weights``. Every ``--every`` steps the record keeps the mean of
each unweighted term over those steps; every ``--eval-every`` steps, COCO AP on held-out
images (a seed training never uses). Chapter 6's explorer of the weights reads the file
(``centernet_edu.pretrained.loss_weight_runs()``); the curves do not depend on the
machine's load, only their wall times would, and those are not recorded.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see train_shapes.py

import argparse  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import shapes_schedule  # noqa: E402
import torch  # noqa: E402

from centernet_edu.evaluate import evaluate  # noqa: E402
from centernet_edu.train import TrainConfig, fit  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "centernet_edu" / "pretrained" / "loss_weight_runs.json"
TERMS = ("loss", "hm_loss", "wh_loss", "off_loss")


def _arguments(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shapes_schedule.add_arguments(p, workers=1)
    # The settings of the recorded runs: a short schedule on uncrowded scenes at fit's lr.
    p.set_defaults(
        steps=300, batch_size=16, lr=TrainConfig().lr, objects=[1, 6], views=1, val_size=100
    )
    p.add_argument("--wh-weights", type=float, nargs="+", default=[0.01, 0.1, 1.0])
    p.add_argument("--off-weights", type=float, nargs="+", default=[0.1, 1.0])
    p.add_argument("--every", type=int, default=10, help="steps averaged into one point")
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(OUT))
    return p.parse_args(argv)


def _run(args, wh_weight: float, off_weight: float) -> dict:
    train, held_out, model = shapes_schedule.build(args, args.steps)
    held_out = [held_out[i] for i in range(len(held_out))]
    record = {"wh_weight": wh_weight, "off_weight": off_weight, "step": []}
    record |= {k: [] for k in TERMS}
    record["eval"] = []
    window: list[dict] = []

    def callback(step: int, stats: dict) -> None:
        window.append(stats)
        if step % args.every == 0:
            record["step"].append(step)
            for k in TERMS:
                record[k].append(round(sum(s[k] for s in window) / len(window), 5))
            window.clear()
        if step % args.eval_every == 0:
            metrics = evaluate(model, held_out, batch_size=50)
            model.train()
            point = {"step": step} | {k: round(metrics[k], 4) for k in ("AP", "AP50", "AP75")}
            record["eval"].append(point)
            print(f"  step {step}: AP50 {point['AP50']:.3f}", flush=True)

    config = shapes_schedule.config(args, args.steps, wh_weight=wh_weight, off_weight=off_weight)
    fit(model, train, config, callback=callback)
    return record


def main(argv=None) -> int:
    args = _arguments(argv)
    torch.set_num_threads(args.threads)
    runs = []
    for wh in args.wh_weights:
        for off in args.off_weights:
            print(f"lambda_size {wh}, lambda_off {off}", flush=True)
            runs.append(_run(args, wh, off))
    summary = {
        "command": shapes_schedule.command("loss_weight_runs.py", args),
        "settings": {
            k: getattr(args, k)
            for k in ("steps", "batch_size", "lr", "image_size", "val_size", "seed")
        },
        "runs": runs,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1, allow_nan=False) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
