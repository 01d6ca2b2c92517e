"""Train CenterNetLite on ShapesDataset on a 2-core CPU and record AP50 against wall time.

    python benchmarks/train_shapes.py                    # the full CPU schedule
    python benchmarks/train_shapes.py --steps 50 --eval-every 25 --val-size 32   # a quick look

The held-out images come from a seed that training never uses. Every ``--eval-every``
steps the run pauses its clock, scores the held-out set (COCO AP, AP50, AP75) and notes
the machine's load average, so the curve shows what training alone cost. Results go to
``--out`` as JSON and to stdout as a Markdown table.

The target is AP50 >= 0.90 within 10 minutes of training on 2 CPU cores. Other work on
the same machine inflates wall time: read the load averages next to the times.
"""

from __future__ import annotations

import os

# Sleep rather than spin at OpenMP barriers (set before torch loads): on a shared machine
# spinning threads slow every small convolution down several times.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from centernet_edu.data import ShapesDataset  # noqa: E402
from centernet_edu.evaluate import evaluate, format_metrics, oracle_ablations  # noqa: E402
from centernet_edu.model import CenterNetLite  # noqa: E402
from centernet_edu.train import TrainConfig, fit  # noqa: E402

TRAIN_SEED = 0
HELD_OUT_SEED = 1_000_003  # never used for training


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup-steps", type=int, default=50)
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=1, help="DataLoader worker processes")
    p.add_argument("--val-size", type=int, default=300)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--out", default=str(Path(__file__).with_name("results") / "train_shapes.json"))
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    size = (args.image_size, args.image_size)
    # Fresh images for every step: the data set is as long as the schedule needs.
    # Targets are encoded per batch by fit (collate_with_targets), not per image.
    train = ShapesDataset(args.steps * args.batch_size, size, seed=TRAIN_SEED, targets=False)
    held_out = ShapesDataset(args.val_size, size, seed=HELD_OUT_SEED)
    val_items = [held_out[i] for i in range(len(held_out))]  # rendered once

    torch.manual_seed(TRAIN_SEED)
    model = CenterNetLite(train.num_classes)
    n_params = sum(p.numel() for p in model.parameters())
    config = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=args.warmup_steps,
        num_workers=args.workers,
        progress=False,
        seed=TRAIN_SEED,
    )
    print(
        f"CenterNetLite ({n_params / 1e3:.0f}k parameters), {args.image_size}x{args.image_size} "
        f"images, {train.num_classes} classes, {args.steps} steps x {args.batch_size}, "
        f"{args.threads} threads, {args.workers} data worker(s); load average at start "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
        flush=True,
    )

    curve = []
    paused = [0.0, 0.0]  # wall and CPU seconds spent evaluating, taken off the clocks
    start = time.perf_counter()
    cpu_start = time.process_time()

    def record(step: int, stats: dict) -> None:
        if step % args.eval_every and step != args.steps:
            return
        t0, c0 = time.perf_counter(), time.process_time()
        train_wall = t0 - start - paused[0]
        train_cpu = c0 - cpu_start - paused[1]
        metrics = evaluate(model, val_items, batch_size=64)
        model.train()
        point = {
            "step": step,
            "images": step * args.batch_size,
            "train_wall_s": round(train_wall, 1),
            # CPU time of the training process (not of its data worker).
            "main_process_cpu_s": round(train_cpu, 1),
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "loss": round(stats["loss"], 4),
            # NaN (no objects in that size range) is written as null.
            **{k: None if v != v else round(v, 4) for k, v in metrics.items()},
        }
        curve.append(point)
        print(
            f"step {step:5d}  train {train_wall:6.0f} s  load {point['load_avg_1min']:4.1f}  "
            f"loss {stats['loss']:.3f}  {format_metrics(metrics)}",
            flush=True,
        )
        paused[0] += time.perf_counter() - t0
        paused[1] += time.process_time() - c0

    fit(model, train, config, callback=record)

    # Which head limits the trained model: swap in the ground truth for each (not timed).
    oracles = oracle_ablations(model, val_items, batch_size=64)
    oracles = {
        name: {k: None if v != v else round(v, 4) for k, v in m.items()}
        for name, m in oracles.items()
    }

    reached = next((c for c in curve if c["AP50"] >= 0.90), None)
    summary = {
        "command": "python benchmarks/train_shapes.py "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "torch": torch.__version__,
        "parameters": n_params,
        "curve": curve,
        "ap50_0.90_reached_at_s": reached["train_wall_s"] if reached else None,
        "oracle_ablations": oracles,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")

    print("\n| step | images | train wall (s) | load avg | loss | AP | AP50 | AP75 |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for c in curve:
        print(
            f"| {c['step']} | {c['images']} | {c['train_wall_s']:.0f} | {c['load_avg_1min']:.1f} "
            f"| {c['loss']:.3f} | {c['AP']:.3f} | {c['AP50']:.3f} | {c['AP75']:.3f} |"
        )
    print("\n| final model with | AP | AP50 | AP75 |")
    print("| --- | ---: | ---: | ---: |")
    for name, m in oracles.items():
        print(f"| {name} | {m['AP']:.3f} | {m['AP50']:.3f} | {m['AP75']:.3f} |")
    if reached:
        print(f"\nAP50 >= 0.90 after {reached['train_wall_s']:.0f} s of training")
    else:
        print("\nAP50 >= 0.90 not reached")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
