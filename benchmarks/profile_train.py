"""Where the time of a training run goes: one phase at a time, on the CPU.

    python benchmarks/profile_train.py [--steps 60] [--threads 2]

Runs the steps of the command line's default run (``centernet_edu.cli.SCHEDULE``:
``CenterNetLite`` on crowded, mirrored ``ShapesDataset`` scenes, ``CenterNetLoss``, AdamW,
channels-last) by hand in one process, timing each phase apart: drawing the images (what
the DataLoader worker does; a scene is drawn once for its mirror images), collating them
with their targets (``encode_ctdet_batch``), the forward pass, the loss, the backward
pass, the trainer's checks (every loss term, the gradient, and the weights and optimizer
state after the update), gradient clipping, and the AdamW step with its schedule; then
scoring the held-out images. It prints the time per step of each phase and its share,
and what the whole default schedule would spend in it.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # set before torch loads

import argparse  # noqa: E402
import contextlib  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
from torch.nn.utils import clip_grad_norm_  # noqa: E402

from centernet_edu import CenterNetLoss, evaluate  # noqa: E402
from centernet_edu.cli import HELD_OUT_SEED_OFFSET, SCHEDULE, CliConfig  # noqa: E402
from centernet_edu.data import ShapesDataset, collate_with_targets  # noqa: E402
from centernet_edu.model import CenterNetLite  # noqa: E402
from centernet_edu.train import TrainConfig  # noqa: E402
from centernet_edu.train_config import lr_factor  # noqa: E402
from centernet_edu.train_step import _finite_sum  # noqa: E402  the trainer's own check

PHASES = (
    "render", "collate + targets", "forward", "loss", "backward", "checks", "clip",
    "optimizer",
)  # fmt: skip


def main(argv=None) -> None:
    cli, config = CliConfig(), TrainConfig(**SCHEDULE)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60, help="steps to time")
    p.add_argument("--batch-size", type=int, default=config.batch_size)
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--objects", type=int, nargs=2, default=list(cli.objects))
    p.add_argument("--views", type=int, default=cli.views)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--val-size", type=int, default=256)
    p.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    size = (args.image_size, args.image_size)
    scenes = {"objects": tuple(args.objects), "views": args.views}
    data = ShapesDataset(args.steps * args.batch_size, size, seed=0, targets=False, **scenes)
    model = CenterNetLite(data.num_classes)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    loss_fn = CenterNetLoss(config.hm_weight, config.wh_weight, config.off_weight)
    optimizer = torch.optim.AdamW(
        model.parameters(), config.lr, weight_decay=config.weight_decay, foreach=True
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: lr_factor(s, config.steps, config.warmup_steps, config.min_lr_ratio),
    )
    phases = dict.fromkeys(PHASES, 0.0)
    device = torch.device("cpu")

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
            loss, stats = loss_fn(outputs, batch)
        optimizer.zero_grad(set_to_none=True)
        with phase("backward"):
            loss.backward()
        with phase("checks"):  # what train_step checks before the update
            grads = [q.grad for q in model.parameters()]
            terms = [v.detach() for v in stats.values()] + [_finite_sum(grads, device)]
            assert all(math.isfinite(v) for v in torch.stack(terms).tolist())
        with phase("clip"):
            clip_grad_norm_(model.parameters(), config.grad_clip)
        with phase("optimizer"):
            optimizer.step()
            schedule.step()
        with phase("checks"):  # ... and after it
            state = [*model.parameters(), *model.buffers()]
            state += [v for st in optimizer.state.values() for v in st.values()]
            state = [v for v in state if torch.is_tensor(v) and v.is_floating_point()]
            assert torch.isfinite(_finite_sum(state, device))

    held_out = ShapesDataset(args.val_size, size, seed=HELD_OUT_SEED_OFFSET)
    start = time.perf_counter()
    evaluate(model, held_out)
    scoring = time.perf_counter() - start

    total = sum(phases.values())
    print(
        f"{args.steps} steps of {args.batch_size} images ({args.objects[0]} to "
        f"{args.objects[1]} objects, {args.views} views a scene), {args.threads} threads, "
        f"load average {os.getloadavg()[0]:.2f}; per step {total / args.steps * 1e3:.1f} ms"
    )
    print(f"| phase | ms per step | share | in the default {config.steps} steps (s) |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in phases.items():
        per_step = seconds / args.steps
        print(
            f"| {name} | {per_step * 1e3:.1f} | {seconds / total:.0%} | "
            f"{per_step * config.steps:.1f} |"
        )
    print(f"scoring {args.val_size} held-out images: {scoring:.1f} s")


if __name__ == "__main__":
    main()
