"""Where the time of a training run goes: one phase at a time, on the CPU.

    python benchmarks/profile_train.py [--steps 60] [--threads 2]

Runs steps of the command line's run (``fast_recipe`` on ``CliConfig``'s crowded, mirrored
``ShapesDataset`` scenes) in one process through the package's own ``set_up`` and
``train_step``, timing apart: drawing the images (what a DataLoader worker does; a scene is
drawn once for its mirror images), collating them with their targets
(``encode_ctdet_batch``), and the step, split into the forward pass (hooks on the model),
the loss (a timed ``CenterNetLoss``) and the rest (backward, checks, clipping, AdamW and
its schedule); then scoring the held-out images. It prints the time per step of each
phase, its share, and what the whole schedule would spend in it.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # set before torch loads

import argparse  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from centernet_edu import CenterNetLoss, evaluate  # noqa: E402
from centernet_edu.cli import HELD_OUT_SEED_OFFSET, CliConfig  # noqa: E402
from centernet_edu.data import ShapesDataset, collate_with_targets  # noqa: E402
from centernet_edu.model import CenterNetLite  # noqa: E402
from centernet_edu.train import set_up, train_step  # noqa: E402
from centernet_edu.train_config import fast_recipe  # noqa: E402

PHASES = ("render", "collate + targets", "forward", "loss", "backward, checks, update")


class Clock:
    """Seconds spent in each phase; ``start(name)`` and ``stop(name)`` bracket one."""

    def __init__(self):
        self.seconds, self.started = dict.fromkeys(PHASES, 0.0), {}

    def start(self, name: str) -> None:
        self.started[name] = time.perf_counter()

    def stop(self, name: str) -> float:
        spent = time.perf_counter() - self.started.pop(name)
        self.seconds[name] += spent
        return spent


def _arguments(argv, recipe, cli: CliConfig) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60, help="steps to time")
    p.add_argument("--batch-size", type=int, default=recipe.batch_size)
    p.add_argument("--image-size", type=int, default=cli.image_size)
    p.add_argument("--objects", type=int, nargs=2, default=list(cli.objects))
    p.add_argument("--views", type=int, default=cli.views)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--val-size", type=int, default=cli.val_size)
    p.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    return p.parse_args(argv)


def _timed_model_and_loss(clock: Clock, num_classes: int, config):
    """A fresh ``CenterNetLite`` whose forward passes, and a ``CenterNetLoss`` whose calls,
    ``clock`` times."""
    model = CenterNetLite(num_classes)

    def forward_done(*_) -> None:
        clock.stop("forward")

    model.register_forward_pre_hook(lambda *_: clock.start("forward"))
    model.register_forward_hook(forward_done)
    loss = CenterNetLoss(config.hm_weight, config.wh_weight, config.off_weight)

    def timed_loss(outputs, batch):
        clock.start("loss")
        result = loss(outputs, batch)
        clock.stop("loss")
        return result

    return model, timed_loss


def main(argv=None) -> None:
    recipe, cli = fast_recipe(), CliConfig()
    args = _arguments(argv, recipe, cli)
    torch.set_num_threads(args.threads)
    size = (args.image_size, args.image_size)
    scenes = {"objects": tuple(args.objects), "views": args.views}
    data = ShapesDataset(args.steps * args.batch_size, size, seed=0, targets=False, **scenes)
    config = fast_recipe(
        batch_size=args.batch_size, device="cpu", progress=False, channels_last=args.channels_last
    )
    clock = Clock()
    model, loss_fn = _timed_model_and_loss(clock, data.num_classes, config)
    run = set_up(model, data, config, loss_fn)
    run.net.train()
    for step in range(args.steps):
        clock.start("render")
        first = step * args.batch_size
        items = [data[i] for i in range(first, first + args.batch_size)]
        clock.stop("render")
        clock.start("collate + targets")
        batch = collate_with_targets(items, data.num_classes, model.stride)
        clock.stop("collate + targets")
        forward, loss = clock.seconds["forward"], clock.seconds["loss"]
        clock.start("backward, checks, update")
        run.step = train_step(run, batch)["step"]
        clock.stop("backward, checks, update")
        # The step's forward pass and loss, timed by their own clocks, are not the rest.
        inside = clock.seconds["forward"] - forward + clock.seconds["loss"] - loss
        clock.seconds["backward, checks, update"] -= inside

    held_out = ShapesDataset(args.val_size, size, seed=HELD_OUT_SEED_OFFSET)
    start = time.perf_counter()
    evaluate(run.model, held_out)
    scoring = time.perf_counter() - start
    _report(args, clock.seconds, recipe.steps, scoring)


def _report(args, phases: dict, schedule_steps: int, scoring: float) -> None:
    total = sum(phases.values())
    print(
        f"{args.steps} steps of {args.batch_size} images ({args.objects[0]} to "
        f"{args.objects[1]} objects, {args.views} views a scene), {args.threads} threads, "
        f"load average {os.getloadavg()[0]:.2f}; per step {total / args.steps * 1e3:.1f} ms"
    )
    print(f"| phase | ms per step | share | in the schedule's {schedule_steps} steps (s) |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in phases.items():
        per_step = seconds / args.steps
        print(
            f"| {name} | {per_step * 1e3:.1f} | {seconds / total:.0%} | "
            f"{per_step * schedule_steps:.1f} |"
        )
    print(f"scoring {args.val_size} held-out images: {scoring:.1f} s")


if __name__ == "__main__":
    main()
