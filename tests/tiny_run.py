"""A tiny, fast training set-up shared by the training tests.

Run as a script, it trains and kills its own process with SIGKILL right after a chosen
step, as a crash or an out-of-memory kill would:

    python tests/tiny_run.py CHECKPOINT STEPS KILL_AT THREADS
"""

from __future__ import annotations

import os
import signal
import sys

import torch

from centernet_edu.data import ShapesDataset
from centernet_edu.model import CenterNetLite
from centernet_edu.train import TrainConfig


def tiny_data(length: int = 20, **kw) -> ShapesDataset:
    return ShapesDataset(
        length,
        64,
        seed=0,
        shapes=("circle", "square"),
        size_range=(6.0, 24.0),
        objects=(1, 3),
        max_objs=4,
        **kw,
    )


def tiny_model(seed: int = 0) -> CenterNetLite:
    torch.manual_seed(seed)
    return CenterNetLite(2, channels=(8, 8, 16, 16), head_channels=8)


def tiny_config(**kw) -> TrainConfig:
    args = dict(steps=12, batch_size=4, lr=3e-3, warmup_steps=2, checkpoint_every=3, progress=False)
    args.update(kw)
    return TrainConfig(**args)


if __name__ == "__main__":
    from centernet_edu.train import fit

    checkpoint, steps, kill_at, threads = sys.argv[1], *map(int, sys.argv[2:])
    torch.set_num_threads(threads)

    def kill(step, stats):
        if step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    fit(tiny_model(), tiny_data(), tiny_config(steps=steps, checkpoint=checkpoint), callback=kill)
    sys.exit("not killed")
