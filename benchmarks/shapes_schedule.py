"""The shapes training run that ``train_shapes.py`` and ``scripts/gpu_check.py`` share.

Both train ``CenterNetLite`` (default widths) on ``ShapesDataset`` with one schedule: 800
steps of 32 images of 128 x 128, AdamW at 2e-3, 50 warm-up steps, then a cosine decay;
every image fresh (the data set is as long as the schedule needs, its targets encoded per
batch by ``fit``). Both score the model on held-out images drawn with a seed training
never uses, the command line's (``centernet_edu.cli``), so their mAPs compare.
"""

from __future__ import annotations

import argparse

import torch

from centernet_edu.cli import HELD_OUT_SEED_OFFSET
from centernet_edu.data import ShapesDataset
from centernet_edu.model import CenterNetLite
from centernet_edu.train import TrainConfig


def add_arguments(parser: argparse.ArgumentParser, *, workers: int | None) -> None:
    """The options of the run; their defaults are the full schedule."""
    parser.add_argument("--steps", type=int, default=800, help="the full schedule")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument(
        "--warmup-steps", type=int, default=None, help="default: 50, or a tenth of fewer steps"
    )
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--val-size", type=int, default=300, help="held-out images")
    parser.add_argument("--seed", type=int, default=0, help="training images and weights")
    parser.add_argument("--workers", type=int, default=workers, help="DataLoader workers")


def build(args, steps: int) -> tuple[ShapesDataset, ShapesDataset, CenterNetLite]:
    """The training images for ``steps`` steps, the held-out images and a fresh model."""
    size = (args.image_size, args.image_size)
    train = ShapesDataset(steps * args.batch_size, size, seed=args.seed, targets=False)
    held_out = ShapesDataset(args.val_size, size, seed=args.seed + HELD_OUT_SEED_OFFSET)
    torch.manual_seed(args.seed)
    return train, held_out, CenterNetLite(train.num_classes)


def config(args, steps: int, **settings) -> TrainConfig:
    """The schedule for ``steps`` steps; ``settings`` add or replace ``TrainConfig`` fields."""
    warmup = args.warmup_steps
    if warmup is None:
        warmup = min(50, max(1, steps // 10))  # 50 for the full 800 steps
    base = dict(
        steps=steps,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=warmup,
        seed=args.seed,
        num_workers=args.workers,
        progress=False,
    )
    return TrainConfig(**{**base, **settings})


def command(script: str, args) -> str:
    """The command line that repeats a run of ``script`` with ``args`` (``--out`` left out),
    for the run's record."""
    words = [f"python benchmarks/{script}"]
    for k, v in vars(args).items():
        if k != "out" and v is not None:
            shown = " ".join(map(str, v)) if isinstance(v, list) else v
            words.append(f"--{k.replace('_', '-')} {shown}")
    return " ".join(words)
