"""Train the full shapes schedule on CUDA with mixed precision and report how it went.

    python scripts/gpu_check.py                  # full schedule on the GPU
    python scripts/gpu_check.py --max-steps 2    # a quick pass through every stage

Prints the device, the autocast dtype, training steps per second (after a short warm-up),
the peak GPU memory, and the COCO mAP on held-out images (a seed never used in
training). The full schedule is that of the CPU benchmark (``benchmarks/train_shapes.py``:
800 steps of 32 images), so the mAP compares with ``benchmarks/README.md``. Without CUDA
the script falls back to the CPU with a tiny schedule (``--max-steps``, 20 by default
there) so that it can be checked anywhere.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import torch

from centernet_edu.data import ShapesDataset
from centernet_edu.evaluate import evaluate, format_metrics
from centernet_edu.model import CenterNetLite
from centernet_edu.train import TrainConfig, autocast_dtype, fit


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=800, help="the full schedule")
    p.add_argument("--max-steps", type=int, default=None, help="stop the schedule early")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--val-size", type=int, default=300)
    p.add_argument("--amp", choices=["auto", "bf16", "fp16", "off"], default="auto")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    cuda = torch.cuda.is_available()
    steps = args.steps
    if args.max_steps is not None:
        steps = min(steps, args.max_steps)
    val_size = args.val_size
    if not cuda:
        print("CUDA is not available: CPU fallback with a tiny schedule")
        steps = min(steps, args.max_steps or 20)
        val_size = min(val_size, 16)
    workers = args.workers
    if workers is None:
        workers = min(8, max(0, (os.cpu_count() or 1) - 1)) if cuda else 0

    size = (args.image_size, args.image_size)
    train = ShapesDataset(steps * args.batch_size, size, seed=args.seed)
    val = ShapesDataset(val_size, size, seed=args.seed + 1_000_003)
    torch.manual_seed(args.seed)
    model = CenterNetLite(train.num_classes)
    warmup = min(50, max(1, steps // 10))  # the CPU benchmark's schedule when steps = 800
    with tempfile.TemporaryDirectory() as tmp:
        config = TrainConfig(
            steps=steps,
            batch_size=args.batch_size,
            lr=args.lr,
            warmup_steps=warmup,
            amp=args.amp,
            num_workers=workers,
            checkpoint=os.path.join(tmp, "checkpoint.pt"),
            checkpoint_every=max(1, steps // 4),
            progress=sys.stderr.isatty(),
            seed=args.seed,
        )
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        result = fit(model, train, config)
        wall = time.perf_counter() - t0

    hist = result.history
    skip = min(len(hist) - 1, 10)  # the first steps include start-up and autotuning
    timed = hist[-1]["time"] - hist[skip - 1]["time"] if skip > 0 else hist[-1]["time"]
    rate = (len(hist) - skip) / timed if timed > 0 else float("nan")
    device = torch.device("cuda" if cuda else "cpu")
    dtype = autocast_dtype(args.amp, device)
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
    metrics = evaluate(result.model, val, batch_size=64, num_workers=workers)
    print(f"held-out mAP ({len(val)} images): {format_metrics(metrics)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
