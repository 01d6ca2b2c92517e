"""Train the extreme-point CenterNetLite on ShapesDataset with the shipped centre model's schedule.

    python benchmarks/train_shapes_exdet.py --steps 800 --batch-size 32 --lr 0.002 \\
        --objects 1 6 --views 1 --save-model shapes_exdet.pt
    python benchmarks/train_shapes_exdet.py --steps 50 --eval-every 25 --val-size 32  # a quick look

The same run as ``train_shapes.py`` (``shapes_schedule.py``: the same training images,
weights seed, optimizer and learning-rate schedule), with ``CenterNetLite(extreme=True)``:
five heatmap heads (``hm_t, hm_l, hm_b, hm_r, hm_c``) and four offset heads, trained by
``ExtremeNetLoss``. Every ``--eval-every`` steps the clock pauses while the held-out images
(the centre model's, with their extreme-point targets) are scored by ``evaluate_exdet``.
The record (``--out``, JSON) holds the command, the machine, the AP curve, and the AP of
the grouping on the ground-truth maps, the ceiling of the decoder itself.
"""

from __future__ import annotations

import os

# Sleep rather than spin at OpenMP barriers (set before torch loads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict  # noqa: E402
from pathlib import Path  # noqa: E402

import shapes_schedule  # noqa: E402
import torch  # noqa: E402

from centernet_edu.cli import HELD_OUT_SEED_OFFSET  # noqa: E402
from centernet_edu.data import ShapesDataset  # noqa: E402
from centernet_edu.evaluate import evaluate_exdet, format_metrics  # noqa: E402
from centernet_edu.model import CenterNetLite  # noqa: E402
from centernet_edu.train import fit, save_checkpoint  # noqa: E402

K = 20  # decode_exdet's top K per extreme heatmap: at most 6 objects per held-out image


def _arguments(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shapes_schedule.add_arguments(p, workers=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--out", default=str(Path(__file__).with_name("results") / "train_exdet.json"))
    p.add_argument("--save-model", help="also write the trained model here (load_model reads it)")
    return p.parse_args(argv)


def _rounded(metrics: dict) -> dict:
    # NaN (no objects in that size range) is written as null.
    return {k: None if v != v else round(v, 4) for k, v in metrics.items()}


def build(args) -> tuple[ShapesDataset, ShapesDataset, CenterNetLite]:
    """``shapes_schedule.build``'s images and seeds, with the extreme-point targets and heads.

    The training items carry their own ``encode_exdet`` targets (the per-batch encoder
    of ``fit`` knows only the centre model's)."""
    size = (args.image_size, args.image_size)
    scenes = {"objects": tuple(args.objects), "views": args.views}
    n = args.steps * args.batch_size
    train = ShapesDataset(n, size, seed=args.seed, extreme=True, **scenes)
    held_out = ShapesDataset(
        args.val_size, size, seed=args.seed + HELD_OUT_SEED_OFFSET, extreme=True
    )
    torch.manual_seed(args.seed)
    return train, held_out, CenterNetLite(train.num_classes, extreme=True)


class Curve:
    """The ``fit`` callback: every ``every`` steps (and at the last), stop the clock, score
    the held-out images and add a point; the time spent scoring is taken off the clock."""

    def __init__(self, model, held_out: list, args):
        self.model, self.held_out, self.args = model, held_out, args
        self.points: list[dict] = []
        self.paused = 0.0
        self.start = time.perf_counter()

    def __call__(self, step: int, stats: dict) -> None:
        if step % self.args.eval_every and step != self.args.steps:
            return
        t0 = time.perf_counter()
        metrics = evaluate_exdet(self.model, self.held_out, K=K, batch_size=16)
        self.model.train()
        point = {
            "step": step,
            "images": step * self.args.batch_size,
            "train_wall_s": round(t0 - self.start - self.paused, 1),
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "loss": round(stats["loss"], 4),
            "hm_loss": round(stats["hm_loss"], 4),
            "off_loss": round(stats["off_loss"], 4),
            **_rounded(metrics),
        }
        self.points.append(point)
        print(
            f"step {step:5d}  train {point['train_wall_s']:6.0f} s  "
            f"load {point['load_avg_1min']:4.1f}  loss {stats['loss']:.3f}  "
            f"{format_metrics(metrics)}",
            flush=True,
        )
        self.paused += time.perf_counter() - t0


def main(argv=None) -> int:
    args = _arguments(argv)
    torch.set_num_threads(args.threads)
    train, held_out, model = build(args)
    held_out = [held_out[i] for i in range(len(held_out))]  # rendered once
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"CenterNetLite(extreme=True) ({n_params / 1e3:.0f}k parameters), "
        f"{args.steps} steps x {args.batch_size}, {args.threads} threads",
        flush=True,
    )
    curve = Curve(model, held_out, args)
    fit(model, train, shapes_schedule.config(args, args.steps), callback=curve)
    if args.save_model:  # the trained weights alone: what load_model needs
        state = {"step": args.steps, "model": model.state_dict()}
        save_checkpoint(args.save_model, state | {"model_config": asdict(model.config)})
    ceiling = _rounded(evaluate_exdet(None, held_out, K=K, batch_size=16))
    summary = {
        "command": shapes_schedule.command("train_shapes_exdet.py", args),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "torch": torch.__version__,
        "parameters": n_params,
        "K": K,
        "curve": curve.points,
        "final": {k: v for k, v in curve.points[-1].items() if k.startswith("AP")},
        "ground_truth_maps": ceiling,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    print(f"ground-truth maps: AP {ceiling['AP']:.3f}, AP50 {ceiling['AP50']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
