"""Training: ``fit()`` and the command line ``python -m centernet_edu.train``.

One step: a batch of images through the model (under autocast on CUDA), the loss
(``CenterNetLoss``, or ``ExtremeNetLoss`` for an extreme-point model) in float32, a check
that every term is finite, backward, gradient clipping, an AdamW step, and the learning
rate of the schedule (a linear warm-up, then a cosine decay).

Runs are reproducible and resumable. The batch order is a pure function of
``(seed, step)``: epoch e is the ``DistributedSampler`` permutation for ``seed`` and
``e``, cut into batches. A checkpoint holds the model, optimizer, scheduler and
gradient-scaler states, the step and the random-number-generator states, so a run
restarted with ``resume=True`` continues exactly where the checkpoint left it: on a CPU,
a run killed and resumed ends with the same weights, bit for bit, as one that never
stopped. Checkpoints are written to a temporary file and renamed over the old one, so a
crash mid-write never leaves a half-written checkpoint, and they carry a SHA-256 digest
of their content, so a corrupted or truncated one is refused.

Under ``torchrun`` (the ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` variables), ``fit``
joins the process group (NCCL on CUDA, gloo on a CPU), wraps the model in
``DistributedDataParallel`` and gives every process its own share of each epoch;
``batch_size`` is per process.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import hashlib
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, Sampler

from .data import collate_with_targets
from .losses import CenterNetLoss, ExtremeNetLoss

__all__ = [
    "TrainConfig",
    "TrainResult",
    "NonFiniteLossError",
    "CheckpointError",
    "fit",
    "lr_factor",
    "autocast_dtype",
    "save_checkpoint",
    "load_checkpoint",
    "load_model",
    "main",
]

CHECKPOINT_FORMAT = "centernet_edu.checkpoint/1"


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite. ``step`` (1-based), ``term`` and ``value`` say
    where. The optimizer update of that step was not applied (its forward pass has already
    moved the BatchNorm running statistics)."""

    def __init__(self, step: int, term: str, value: float, total_steps: int | None = None):
        self.step, self.term, self.value = step, term, value
        of = f" of {total_steps}" if total_steps else ""
        super().__init__(
            f"loss term '{term}' became {value} at step {step}{of}; the optimizer update of "
            "that step was not applied (a lower learning rate, gradient clipping or float32 "
            "may help)"
        )


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupted or not a checkpoint of ``fit``."""


@dataclass
class TrainConfig:
    """Everything that shapes a run. Fields are plain values, so they go into checkpoints.

    Attributes:
        steps: total optimizer steps of the schedule.
        batch_size: images per step (per process under torchrun).
        lr: peak learning rate of AdamW.
        weight_decay: AdamW's decoupled weight decay.
        warmup_steps: linear warm-up from 0 to ``lr``; then a cosine decay to
            ``lr * min_lr_ratio`` at ``steps``.
        min_lr_ratio: the floor of the cosine, relative to ``lr``.
        grad_clip: the largest gradient norm, or None for no clipping.
        seed: seeds the generators and the batch order.
        amp: ``"auto"`` (bfloat16 on a CUDA device that supports it, else float16; off on
            a CPU), ``"bf16"``, ``"fp16"`` (CUDA only, with a gradient scaler) or ``"off"``.
        device: ``"auto"`` (CUDA when there is one, else the CPU), or a device name.
        num_workers: DataLoader worker processes.
        checkpoint: path of the checkpoint file, or None for none.
        checkpoint_every: steps between checkpoints (one is also written at the end).
        resume: continue from ``checkpoint`` if that file exists.
        progress: show a tqdm progress bar.
        hm_weight, wh_weight, off_weight: the loss weights lambda (CenterNet's 1, 0.1, 1).
    """

    steps: int = 800
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 50
    min_lr_ratio: float = 0.01
    grad_clip: float | None = 10.0
    seed: int = 0
    amp: str = "auto"
    device: str = "auto"
    num_workers: int = 0
    checkpoint: str | None = None
    checkpoint_every: int = 100
    resume: bool = False
    progress: bool = True
    hm_weight: float = 1.0
    wh_weight: float = 0.1
    off_weight: float = 1.0

    def check(self) -> None:
        positive_ints = ("steps", "batch_size", "checkpoint_every")
        for name in positive_ints:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        for name in ("warmup_steps", "num_workers", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if not 0 <= self.min_lr_ratio <= 1:
            raise ValueError(f"min_lr_ratio must lie in [0, 1], got {self.min_lr_ratio!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"grad_clip must be > 0 or None, got {self.grad_clip!r}")
        if self.amp not in ("auto", "bf16", "fp16", "off"):
            raise ValueError(f"amp must be 'auto', 'bf16', 'fp16' or 'off', got {self.amp!r}")
        if self.resume and not self.checkpoint:
            raise ValueError("resume=True needs a checkpoint path")


@dataclass
class TrainResult:
    """What ``fit`` returns: the trained model (unwrapped), the per-step history (dicts of
    ``step, loss, hm_loss, ..., lr, time``), the steps done and the checkpoint path."""

    model: nn.Module
    history: list[dict] = field(default_factory=list)
    step: int = 0
    checkpoint: str | None = None


def lr_factor(step: int, steps: int, warmup_steps: int, min_lr_ratio: float) -> float:
    """The learning-rate multiplier before step ``step`` (0-based): linear warm-up over
    ``warmup_steps``, then a cosine from 1 down to ``min_lr_ratio`` at ``steps``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, steps - warmup_steps)
    t = min(1.0, (step - warmup_steps) / span)
    return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t))


# --------------------------------------------------------------------------- data order


class StepBatchSampler(Sampler):
    """Batches of indices for steps ``start, start + 1, ...`` (endless).

    Step s belongs to epoch ``s // steps_per_epoch``; the epoch's order is that of a
    ``DistributedSampler`` (shuffled with ``seed + epoch``, this process's share), cut into
    ``batch_size`` batches, the remainder dropped. The batch of a step depends only on
    ``(seed, step)``, so a resumed run reads exactly the batches it would have read.
    """

    def __init__(self, dataset, batch_size: int, seed: int, rank: int, world_size: int, start: int):
        self.sampler = DistributedSampler(
            dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed, drop_last=True
        )
        self.batch_size = batch_size
        self.steps_per_epoch = self.sampler.num_samples // batch_size
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"the data set ({len(dataset)} items over {world_size} process(es)) is "
                f"smaller than one batch of {batch_size}"
            )
        self.start = start

    def __iter__(self):
        step = self.start
        while True:
            epoch, k = divmod(step, self.steps_per_epoch)
            self.sampler.set_epoch(epoch)
            order = list(self.sampler)
            for j in range(k, self.steps_per_epoch):
                yield order[j * self.batch_size : (j + 1) * self.batch_size]
            step = (epoch + 1) * self.steps_per_epoch


# --------------------------------------------------------------------------- checkpoints


def _digest(obj, h=None) -> str:
    """SHA-256 over a nest of dicts, lists and tensors: the content, not the file."""
    top = h is None
    h = hashlib.sha256() if top else h
    if isinstance(obj, dict):
        h.update(b"{")
        for k in sorted(obj, key=str):
            h.update(repr(k).encode())
            _digest(obj[k], h)
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[")
        for v in obj:
            _digest(v, h)
        h.update(b"]")
    elif isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    else:
        h.update(repr(obj).encode())
    return h.hexdigest() if top else ""


def save_checkpoint(path, state: dict) -> None:
    """Write ``state`` (a nest of dicts, lists, tensors and plain values) atomically.

    The file is a plain ``torch.save`` dict with a ``digest`` of the content added; it is
    written to a temporary file next to ``path``, flushed to disk and renamed over it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {**state, "format": CHECKPOINT_FORMAT}
    payload["digest"] = _digest(payload)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read a checkpoint of ``fit`` with ``torch.load(weights_only=True)`` and check it.

    Raises:
        CheckpointError: the file is missing, cannot be read (truncated, not a torch
            file), is not a checkpoint of this package, or its content does not match its
            digest (corrupted).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises RuntimeError, EOFError, UnpicklingError, ...
        raise CheckpointError(
            f"checkpoint {path} cannot be read; it is truncated or corrupted ({type(e).__name__}: {e})"
        ) from e
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a centernet_edu checkpoint ({CHECKPOINT_FORMAT})")
    digest = state.pop("digest", None)
    if digest != _digest(state):
        raise CheckpointError(
            f"checkpoint {path} is corrupted: its content does not match its digest"
        )
    return state


def load_model(path, map_location="cpu") -> nn.Module:
    """The ``CenterNetLite`` saved in a checkpoint of ``fit``, in eval mode."""
    from .model import CenterNetLite

    state = load_checkpoint(path, map_location)
    cfg = state.get("model_config")
    if not cfg:
        raise CheckpointError(f"checkpoint {path} does not record a CenterNetLite configuration")
    model = CenterNetLite(**cfg)
    model.load_state_dict(state["model"])
    return model.eval()


def _rng_state() -> dict:
    np_state = np.random.get_state()  # noqa: NPY002 - the global generator user code may use
    state = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "python": list(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n[0], n[1].numpy().astype(np.uint32), *n[2:]))  # noqa: NPY002
    v = state["python"]
    random.setstate((v[0], tuple(v[1]), v[2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# --------------------------------------------------------------------------- the loop


def _distributed() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)``, joining the process group under torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0))
    world = int(os.environ.get("WORLD_SIZE", 1))
    if world > 1:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        return dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0))
    return 0, 1, 0


def _device(name: str, local_rank: int) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} asked for, but CUDA is not available")
        if device.index is None:
            device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    return device


def autocast_dtype(amp: str, device: torch.device):
    """The autocast dtype that ``amp`` (a ``TrainConfig.amp`` value) means on ``device``,
    or None for float32."""
    if amp == "off" or (amp == "auto" and device.type != "cuda"):
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if amp == "fp16" and device.type != "cuda":
        raise ValueError("amp='fp16' needs a CUDA device; use 'bf16' or 'off' on a CPU")
    return torch.bfloat16 if amp == "bf16" else torch.float16


def _to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def fit(
    model: nn.Module,
    dataset,
    config: TrainConfig | None = None,
    *,
    loss_fn: nn.Module | None = None,
    callback: Callable[[int, dict], None] | None = None,
    **overrides,
) -> TrainResult:
    """Train ``model`` on ``dataset``; return the trained model and the loss history.

    Args:
        model: outputs ``hm, wh, reg`` (or the extreme-point heads; then the loss is
            ``ExtremeNetLoss`` unless ``loss_fn`` says otherwise). Trained in place.
        dataset: items as ``make_item`` (``ShapesDataset``, ``CocoDataset``). When its
            ``targets`` is False (items without the centre targets), each batch gets them
            from ``collate_with_targets``, encoded for the whole batch at once.
        config: a ``TrainConfig``; keyword ``overrides`` replace its fields, so
            ``fit(model, data, steps=200, lr=1e-3)`` works too.
        loss_fn: ``(outputs, batch) -> (loss, stats)``; default ``CenterNetLoss`` with
            the config's weights.
        callback: called as ``callback(step, stats)`` after every step (1-based step,
            stats as floats); an exception it raises ends the run.

    Raises:
        NonFiniteLossError: a loss term became NaN or infinite (the step and the term
            are named; the step's update is not applied).
        CheckpointError: ``resume`` met an unreadable checkpoint.
        ValueError: a bad configuration, or a checkpoint from a different run set-up.
    """
    config = dataclasses.replace(config or TrainConfig(), **overrides)
    config.check()
    rank, world, local_rank = _distributed()
    device = _device(config.device, local_rank)
    amp_dtype = autocast_dtype(config.amp, device)
    torch.manual_seed(config.seed + rank)
    np.random.seed(config.seed + rank)  # noqa: NPY002 - seeds user code that uses it
    random.seed(config.seed + rank)

    extreme = bool(getattr(model, "extreme", False))
    if loss_fn is None:
        loss_fn = (
            ExtremeNetLoss(config.hm_weight, config.off_weight)
            if extreme
            else CenterNetLoss(config.hm_weight, config.wh_weight, config.off_weight)
        )
    model = model.to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: lr_factor(s, config.steps, config.warmup_steps, config.min_lr_ratio),
    )
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)

    start, history = 0, []
    ckpt = Path(config.checkpoint) if config.checkpoint else None
    setup = {"batch_size": config.batch_size, "seed": config.seed, "world_size": world}
    setup["dataset_len"] = len(dataset)
    if config.resume and ckpt is not None and ckpt.exists():
        state = load_checkpoint(ckpt, map_location=device)
        mismatch = {k: (state["setup"].get(k), v) for k, v in setup.items()}
        mismatch = {k: v for k, v in mismatch.items() if v[0] != v[1]}
        if mismatch:
            raise ValueError(
                f"checkpoint {ckpt} comes from a different set-up; (saved, now): {mismatch}"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        _set_rng_state(state["rng"])
        start, history = int(state["step"]), list(state["history"])

    net = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    sampler = StepBatchSampler(dataset, config.batch_size, config.seed, rank, world, start)
    collate = None  # DataLoader's default_collate
    if not getattr(dataset, "targets", True):
        # Items without centre targets: encode each batch at once (encode_ctdet_batch).
        collate = functools.partial(
            collate_with_targets, num_classes=dataset.num_classes, stride=dataset.stride
        )
    loader = DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=config.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=config.num_workers > 0,
    )

    def save(step: int) -> None:
        if ckpt is None or rank != 0:
            return
        save_checkpoint(
            ckpt,
            {
                "step": step,
                "model": model.state_dict(),
                "model_config": getattr(model, "config", None),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(),
                "rng": _rng_state(),
                "config": dataclasses.asdict(config),
                "setup": setup,
                "history": history,
            },
        )

    bar = None
    if config.progress and rank == 0 and start < config.steps:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.steps, initial=start, desc="train", dynamic_ncols=True)

    net.train()
    t0 = time.perf_counter() - (history[-1]["time"] if history else 0.0)
    batches = iter(loader)
    try:
        for step in range(start + 1, config.steps + 1):
            batch = _to_device(next(batches), device)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                outputs = net(batch["image"])
            # The losses run in float32 whatever the autocast dtype of the heads.
            outputs = {k: v.float() for k, v in outputs.items()}
            loss, stats = loss_fn(outputs, batch)
            terms = [k for k in stats if k != "loss"] + ["loss"]
            values = torch.stack([stats[k].float() for k in terms])
            if world > 1:
                dist.all_reduce(values)
                values /= world
            values = values.tolist()
            for term, value in zip(terms, values, strict=True):
                if not math.isfinite(value):
                    raise NonFiniteLossError(step, term, value, config.steps)

            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if config.grad_clip is not None:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            lr = optimizer.param_groups[0]["lr"]
            scheduler.step()

            record = dict(zip(terms, values, strict=True))
            record.update(step=step, lr=lr, time=time.perf_counter() - t0)
            history.append(record)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(
                    {k.replace("_loss", ""): f"{v:.3f}" for k, v in record.items() if k in terms},
                    refresh=False,
                )
            if step % config.checkpoint_every == 0 or step == config.steps:
                save(step)
                if world > 1:
                    dist.barrier()
            if callback is not None:
                callback(step, record)
    finally:
        if bar is not None:
            bar.close()
        del batches
    done = history[-1]["step"] if history else start
    return TrainResult(model, history, done, str(ckpt) if ckpt else None)


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="centernet-edu-train",
        description="Train CenterNetLite on synthetic shapes (or a COCO-format data set) "
        "and report COCO mAP on held-out images. Under torchrun it trains on every "
        "process with DistributedDataParallel.",
    )
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="per process")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--warmup-steps", type=int, default=d.warmup_steps)
    p.add_argument("--grad-clip", type=float, default=d.grad_clip)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--amp", choices=["auto", "bf16", "fp16", "off"], default=d.amp)
    p.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument(
        "--workers",
        type=int,
        default=min(4, max(0, (os.cpu_count() or 1) - 1)),
        help="DataLoader worker processes (default: one less than the CPUs, at most 4)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--out", default="runs/shapes", help="folder for checkpoint.pt")
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--no-progress", action="store_true")
    data = p.add_argument_group("data")
    data.add_argument("--coco", help="train on this COCO JSON file instead of shapes")
    data.add_argument("--val-coco", help="evaluate on this COCO JSON file")
    data.add_argument("--image-size", type=int, default=128)
    data.add_argument(
        "--train-size",
        type=int,
        default=None,
        help="shapes images to train on (default: steps x batch, no repeats)",
    )
    data.add_argument(
        "--val-size", type=int, default=256, help="held-out shapes images; 0 skips evaluation"
    )
    data.add_argument("--shapes", nargs="+", default=None, help="kinds of shape (classes)")
    model = p.add_argument_group("model")
    model.add_argument("--channels", type=int, nargs=4, default=None)
    model.add_argument("--head-channels", type=int, default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status."""
    from .data import SHAPES, CocoDataset, ShapesDataset
    from .evaluate import evaluate, format_metrics
    from .model import CenterNetLite

    args = _parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    size = (args.image_size, args.image_size)
    shapes = tuple(args.shapes) if args.shapes else SHAPES
    world = int(os.environ.get("WORLD_SIZE", 1))
    if args.coco:
        train = CocoDataset(args.coco, input_size=size, targets=False)
        val = CocoDataset(args.val_coco, input_size=size) if args.val_coco else None
    else:
        n = args.train_size or args.steps * args.batch_size * world
        train = ShapesDataset(n, size, seed=args.seed, shapes=shapes, targets=False)
        # A different seed: held-out images that training never sees.
        val_seed = args.seed + 1_000_003
        val = (
            ShapesDataset(args.val_size, size, seed=val_seed, shapes=shapes)
            if args.val_size
            else None
        )
    torch.manual_seed(args.seed)
    kw = {}
    if args.channels:
        kw["channels"] = tuple(args.channels)
    if args.head_channels:
        kw["head_channels"] = args.head_channels
    model = CenterNetLite(train.num_classes, **kw)
    config = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        warmup_steps=args.warmup_steps,
        grad_clip=args.grad_clip if args.grad_clip and args.grad_clip > 0 else None,
        seed=args.seed,
        amp=args.amp,
        device=args.device,
        num_workers=args.workers,
        checkpoint=str(Path(args.out) / "checkpoint.pt"),
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        progress=not args.no_progress,
    )
    try:
        result = fit(model, train, config)
    except NonFiniteLossError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    if rank == 0:
        last = result.history[-1] if result.history else {}
        print(
            f"trained {result.step} steps in {last.get('time', 0.0):.1f} s; final loss "
            f"{last.get('loss', float('nan')):.4f}; checkpoint {result.checkpoint}"
        )
        if val is not None and len(val):
            metrics = evaluate(result.model, val)
            print(f"held-out ({len(val)} images): {format_metrics(metrics)}")
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
