"""Train CenterNetLite on ShapesDataset on a 2-core CPU and record AP50 against wall time.

    python benchmarks/train_shapes.py                    # the full CPU schedule
    python benchmarks/train_shapes.py --steps 50 --eval-every 25 --val-size 32   # a quick look

The run is ``shapes_schedule.py``'s, shared with ``scripts/gpu_check.py``. The held-out
images come from a seed that training never uses. Every ``--eval-every`` steps the run
pauses its clock, scores the held-out set (COCO AP, AP50, AP75) and notes the machine's
load average, so the curve shows what training alone cost. Results go to ``--out`` as
JSON and to stdout as a Markdown table.

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
from dataclasses import asdict  # noqa: E402
from pathlib import Path  # noqa: E402

import shapes_schedule  # noqa: E402
import torch  # noqa: E402

from centernet_edu.evaluate import evaluate, format_metrics, oracle_ablations  # noqa: E402
from centernet_edu.train import fit, save_checkpoint  # noqa: E402


def _arguments(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shapes_schedule.add_arguments(p, workers=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--out", default=str(Path(__file__).with_name("results") / "train_shapes.json"))
    p.add_argument("--save-model", help="also write the trained model here (load_model reads it)")
    p.add_argument(
        "--stop-at", type=float, default=None, metavar="AP50",
        help="end the run at the first evaluation whose held-out AP50 reaches this",
    )  # fmt: skip
    return p.parse_args(argv)


def _rounded(metrics: dict) -> dict:
    # NaN (no objects in that size range) is written as null.
    return {k: None if v != v else round(v, 4) for k, v in metrics.items()}


class Reached(Exception):
    """Raised by ``Curve`` to end a run early (``--stop-at``)."""


class Curve:
    """The ``fit`` callback: every ``every`` steps (and at the last), stop the clocks, score
    the held-out images and add a point; the time spent scoring is taken off the clocks."""

    def __init__(self, model, held_out: list, args):
        self.model, self.held_out, self.args = model, held_out, args
        self.points: list[dict] = []
        self.paused = [0.0, 0.0]  # wall and CPU seconds spent evaluating
        self.start, self.cpu_start = time.perf_counter(), time.process_time()

    def __call__(self, step: int, stats: dict) -> None:
        if step % self.args.eval_every and step != self.args.steps:
            return
        t0, c0 = time.perf_counter(), time.process_time()
        train_wall = t0 - self.start - self.paused[0]
        metrics = evaluate(self.model, self.held_out, batch_size=64)
        self.model.train()
        point = {
            "step": step,
            "images": step * self.args.batch_size,
            "train_wall_s": round(train_wall, 1),
            # CPU time of the training process (not of its data worker).
            "main_process_cpu_s": round(c0 - self.cpu_start - self.paused[1], 1),
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "loss": round(stats["loss"], 4),
            **_rounded(metrics),
        }
        self.points.append(point)
        print(
            f"step {step:5d}  train {train_wall:6.0f} s  load {point['load_avg_1min']:4.1f}  "
            f"loss {stats['loss']:.3f}  {format_metrics(metrics)}",
            flush=True,
        )
        self.paused[0] += time.perf_counter() - t0
        self.paused[1] += time.process_time() - c0
        if self.args.stop_at is not None and metrics["AP50"] >= self.args.stop_at:
            raise Reached


def _print_tables(curve: list[dict], oracles: dict, reached: dict | None) -> None:
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


def main(argv=None) -> int:
    args = _arguments(argv)
    torch.set_num_threads(args.threads)
    train, held_out, model = shapes_schedule.build(args, args.steps)
    held_out = [held_out[i] for i in range(len(held_out))]  # rendered once
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"CenterNetLite ({n_params / 1e3:.0f}k parameters), {args.image_size}x{args.image_size} "
        f"images, {train.num_classes} classes, {args.steps} steps x {args.batch_size}, "
        f"{args.threads} threads, {args.workers} data worker(s); load average at start "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    curve = Curve(model, held_out, args)
    try:
        fit(model, train, shapes_schedule.config(args, args.steps), callback=curve)
    except Reached:
        print(f"stopped: held-out AP50 reached {args.stop_at}", flush=True)
    if args.save_model:  # the trained weights alone: what load_model needs, a quarter the size
        state = {"step": args.steps, "model": model.state_dict()}
        save_checkpoint(args.save_model, state | {"model_config": asdict(model.config)})

    # Which head limits the trained model: swap in the ground truth for each (not timed).
    oracles = oracle_ablations(model, held_out, batch_size=64)
    oracles = {name: _rounded(m) for name, m in oracles.items()}
    reached = next((c for c in curve.points if c["AP50"] >= 0.90), None)
    summary = {
        "command": shapes_schedule.command("train_shapes.py", args),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "torch": torch.__version__,
        "parameters": n_params,
        "curve": curve.points,
        "ap50_0.90_reached_at_s": reached["train_wall_s"] if reached else None,
        "oracle_ablations": oracles,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    _print_tables(curve.points, oracles, reached)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
