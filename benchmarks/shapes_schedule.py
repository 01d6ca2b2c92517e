"""The shapes training run that ``train_shapes.py`` and ``scripts/gpu_check.py`` share.

Both train ``CenterNetLite`` (default widths) on ``ShapesDataset`` with the command line's
run: ``fast_recipe``'s schedule and ``CliConfig``'s crowded, mirrored training scenes (the
data set as long as the schedule needs, its targets encoded per batch by ``fit``). Both
score the model on held-out images drawn with a seed training never uses and the data
set's own objects per image, as the command line does, so their mAPs compare.
"""

from __future__ import annotations

import argparse

import torch

from centernet_edu.cli import HELD_OUT_SEED_OFFSET, CliConfig
from centernet_edu.data import ShapesDataset
from centernet_edu.model import CenterNetLite
from centernet_edu.train import TrainConfig
from centernet_edu.train_config import fast_recipe

RECIPE = fast_recipe()


def add_arguments(parser: argparse.ArgumentParser, *, workers: int | None) -> None:
    """The options of the run; their defaults are the full schedule."""
    parser.add_argument("--steps", type=int, default=RECIPE.steps, help="the full schedule")
    parser.add_argument("--batch-size", type=int, default=RECIPE.batch_size)
    parser.add_argument("--lr", type=float, default=RECIPE.lr)
    parser.add_argument(
        "--warmup-steps", type=int, default=None,
        help=f"default: {RECIPE.warmup_steps}, or a tenth of fewer steps",
    )  # fmt: skip
    cli = CliConfig()
    parser.add_argument(
        "--objects", type=int, nargs=2, default=list(cli.objects), help="per training image"
    )
    parser.add_argument("--views", type=int, default=cli.views, help="of each training scene")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--val-size", type=int, default=300, help="held-out images")
    parser.add_argument("--seed", type=int, default=0, help="training images and weights")
    parser.add_argument("--workers", type=int, default=workers, help="DataLoader workers")


def build(args, steps: int) -> tuple[ShapesDataset, ShapesDataset, CenterNetLite]:
    """The training images for ``steps`` steps, the held-out images and a fresh model."""
    size = (args.image_size, args.image_size)
    scenes = {"objects": tuple(args.objects), "views": args.views}
    train = ShapesDataset(steps * args.batch_size, size, seed=args.seed, targets=False, **scenes)
    held_out = ShapesDataset(args.val_size, size, seed=args.seed + HELD_OUT_SEED_OFFSET)
    torch.manual_seed(args.seed)
    return train, held_out, CenterNetLite(train.num_classes)


def config(args, steps: int, **settings) -> TrainConfig:
    """``fast_recipe`` for ``steps`` steps and ``args``; ``settings`` replace more fields."""
    warmup = args.warmup_steps
    if warmup is None:
        warmup = min(RECIPE.warmup_steps, max(1, steps // 10))
    base = dict(
        steps=steps,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=warmup,
        seed=args.seed,
        num_workers=args.workers,
        progress=False,
    )
    return fast_recipe(**{**base, **settings})


def command(script: str, args) -> str:
    """The command line that repeats a run of ``script`` with ``args`` (``--out`` left out),
    for the run's record."""
    words = [f"python benchmarks/{script}"]
    for k, v in vars(args).items():
        if k != "out" and v is not None:
            shown = " ".join(map(str, v)) if isinstance(v, list) else v
            words.append(f"--{k.replace('_', '-')} {shown}")
    return " ".join(words)
