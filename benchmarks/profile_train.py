"""Where the time of a training run goes: one phase at a time, on the CPU.

    python benchmarks/profile_train.py [--steps 40] [--batch-size 32] [--threads 2]

Runs the steps of the command line's default training (``CenterNetLite`` on
``ShapesDataset``, ``CenterNetLoss``, AdamW) by hand in one process, timing each phase
apart: rendering the images (what the DataLoader worker does), collating them with their
targets (``encode_ctdet_batch``), the forward pass, the loss, the backward pass and the
optimizer step; then scoring the held-out images. It prints the time per step of each
phase and its share, and what the whole default schedule would spend in it.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # set before torch loads

import argparse  # noqa: E402
import contextlib  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from centernet_edu import CenterNetLoss, evaluate  # noqa: E402
from centernet_edu.data import ShapesDataset, collate_with_targets  # noqa: E402
from centernet_edu.model import CenterNetLite  # noqa: E402
from centernet_edu.train import TrainConfig  # noqa: E402


def main(argv=None) -> None:
    defaults = TrainConfig()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40, help="steps to time")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--val-size", type=int, default=256)
    p.add_argument("--channels-last", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    size = (args.image_size, args.image_size)
    data = ShapesDataset(args.steps * args.batch_size, size, seed=0, targets=False)
    model = CenterNetLite(data.num_classes)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    loss_fn = CenterNetLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=defaults.lr)
    phases = dict.fromkeys(
        ["render", "collate + targets", "forward", "loss", "backward", "optimizer"], 0.0
    )

    @contextlib.contextmanager
    def phase(name: str):
        start = time.perf_counter()
        yield
        phases[name] += time.perf_counter() - start

    model.train()
    for step in range(args.steps):
        with phase("render"):
            first = step * args.batch_size
            items = [data[i] for i in range(first, first + args.batch_size)]
        with phase("collate + targets"):
            batch = collate_with_targets(items, data.num_classes, model.stride)
        images = batch["image"]
        if args.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        with phase("forward"):
            outputs = model(images)
        with phase("loss"):
            loss, _ = loss_fn(outputs, batch)
        optimizer.zero_grad(set_to_none=True)
        with phase("backward"):
            loss.backward()
        with phase("optimizer"):
            optimizer.step()

    held_out = ShapesDataset(args.val_size, size, seed=1_000_003)
    start = time.perf_counter()
    evaluate(model, held_out)
    scoring = time.perf_counter() - start

    total = sum(phases.values())
    print(
        f"{args.steps} steps of {args.batch_size} images, {args.threads} threads, "
        f"load average {os.getloadavg()[0]:.2f}; per step {total / args.steps * 1e3:.1f} ms"
    )
    print(f"| phase | ms per step | share | in the default {defaults.steps} steps (s) |")
    print("| --- | ---: | ---: | ---: |")
    for phase, seconds in phases.items():
        per_step = seconds / args.steps
        print(
            f"| {phase} | {per_step * 1e3:.1f} | {seconds / total:.0%} | "
            f"{per_step * defaults.steps:.1f} |"
        )
    print(f"scoring {args.val_size} held-out images: {scoring:.1f} s")


if __name__ == "__main__":
    main()
