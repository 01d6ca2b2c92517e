"""Train the full shapes schedule on CUDA with mixed precision and report how it went.

    python scripts/gpu_check.py                  # full schedule on the GPU
    python scripts/gpu_check.py --max-steps 2    # a quick pass through every stage

Prints the device, the autocast dtype, training steps per second (after a short warm-up),
the peak GPU memory, and the COCO mAP on held-out images (a seed never used in
training). The run is the CPU benchmark's (``benchmarks/shapes_schedule.py``, shared with
``benchmarks/train_shapes.py``: the command line's default run, 600 steps of 8 crowded,
mirrored scenes), so the mAP compares with
``benchmarks/README.md``. Without CUDA the script falls back to the CPU with a tiny
schedule (``--max-steps``, 20 by default there) so that it can be checked anywhere.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import shapes_schedule  # noqa: E402

from centernet_edu.evaluate import evaluate, format_metrics  # noqa: E402
from centernet_edu.train import autocast_dtype, fit  # noqa: E402
from centernet_edu.train_config import AMP_MODES  # noqa: E402


def _arguments(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shapes_schedule.add_arguments(p, workers=None)
    p.add_argument("--max-steps", type=int, default=None, help="stop the schedule early")
    p.add_argument("--amp", choices=AMP_MODES, default="auto")
    return p.parse_args(argv)


def _steps_per_second(history: list[dict]) -> tuple[float, int]:
    """Steps per second after the first ones (start-up and autotuning), and how many
    were left out."""
    skip = min(len(history) - 1, 10)
    timed = history[-1]["time"] - history[skip - 1]["time"] if skip > 0 else history[-1]["time"]
    return ((len(history) - skip) / timed if timed > 0 else float("nan")), skip


def main(argv=None) -> int:
    args = _arguments(argv)
    cuda = torch.cuda.is_available()
    steps = min(args.steps, args.max_steps or args.steps)
    if not cuda:
        print("CUDA is not available: CPU fallback with a tiny schedule")
        steps = min(steps, args.max_steps or 20)
        args.val_size = min(args.val_size, 16)
    if args.workers is None:
        args.workers = min(8, max(0, (os.cpu_count() or 1) - 1)) if cuda else 0
    train, held_out, model = shapes_schedule.build(args, steps)
    with tempfile.TemporaryDirectory() as tmp:
        config = shapes_schedule.config(
            args,
            steps,
            amp=args.amp,
            checkpoint=os.path.join(tmp, "checkpoint.pt"),
            checkpoint_every=max(1, steps // 4),
            progress=sys.stderr.isatty(),
        )
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        result = fit(model, train, config)
        wall = time.perf_counter() - t0

    hist = result.history
    rate, skip = _steps_per_second(hist)
    dtype = autocast_dtype(args.amp, torch.device("cuda" if cuda else "cpu"))
    name = torch.cuda.get_device_name() if cuda else "cpu"
    print(f"device: {name}; autocast: {str(dtype).replace('torch.', '') if dtype else 'off'}")
    print(f"steps: {len(hist)} x batch {args.batch_size} in {wall:.1f} s")
    print(f"steps/s: {rate:.2f} (after {skip} warm-up steps)")
    if cuda:
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    else:
        print("peak GPU memory: n/a (CPU)")
    last = hist[-1]
    print("final losses: " + "  ".join(f"{k} {last[k]:.4f}" for k in last if k.endswith("loss")))
    metrics = evaluate(result.model, held_out, batch_size=64, num_workers=args.workers)
    print(f"held-out mAP ({len(held_out)} images): {format_metrics(metrics)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
