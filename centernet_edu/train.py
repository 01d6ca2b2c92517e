"""Training: ``fit()``, a short loop over named steps.

``fit`` reads as the run goes: ``set_up`` (processes, device, seeds, the loss, AdamW with
its schedule, the gradient scaler), resume, the batches, then for each step ``train_step``
(forward, loss, backward, checks, update) and now and then a checkpoint. Its settings are
a ``TrainConfig``; the command line (``centernet_edu.cli``) is built on this module.

Runs are reproducible and resumable: the batch of a step is a pure function of ``(seed,
step)`` (``StepBatchSampler``), and a checkpoint holds the model, optimizer, scheduler and
gradient-scaler states, the step and the random-number-generator states, so on a CPU a run
killed and resumed ends with the same weights, bit for bit, as one that never stopped. A
new run never replaces a checkpoint unless told to (``overwrite=True``); a resumed run
keeps the settings that shape the numbers (``ResumeMismatchError`` names any that differ).
No checkpoint holds a NaN or an infinity. Ctrl-C or SIGTERM stops after the current step
and saves it (``TrainingInterrupted``).

Under ``torchrun`` (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``), ``fit`` joins the process
group (NCCL on CUDA, gloo on a CPU), wraps the model in ``DistributedDataParallel`` and
gives every process its own share of each epoch; ``batch_size`` is per process.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Sampler

from .checkpoint import (
    CheckpointError,
    CheckpointExistsError,
    check_writable,
    load_checkpoint,
    load_model,
    remove_stale_temporaries,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from .data import collate_with_targets
from .losses import CenterNetLoss, ExtremeNetLoss
from .train_config import TrainConfig, autocast_dtype, fast_recipe, lr_factor
from .train_step import (
    NonFiniteGradientError,
    NonFiniteLossError,
    NonFiniteStateError,
    Run,
    check_state,
    train_step,
)

__all__ = [
    "TrainConfig",
    "fast_recipe",
    "TrainResult",
    "NonFiniteLossError",
    "NonFiniteGradientError",
    "NonFiniteStateError",
    "ResumeMismatchError",
    "TrainingInterrupted",
    "CheckpointError",
    "CheckpointExistsError",
    "fit",
    "set_up",
    "train_step",
    "model_config",
    "lr_factor",
    "autocast_dtype",
    "save_checkpoint",
    "load_checkpoint",
    "load_model",
]


class ResumeMismatchError(ValueError):
    """A resumed run differs from the run its checkpoint holds in a setting that shapes
    the numbers; ``differences`` maps each name to ``(saved, now)``."""

    def __init__(self, path, differences: dict[str, tuple]):
        self.path, self.differences = Path(path), differences
        said = "; ".join(f"{k} was {a!r}, now {b!r}" for k, (a, b) in differences.items())
        super().__init__(
            f"checkpoint {path} comes from a different set-up: {said}; resume with the same "
            "settings, or start afresh with overwrite=True"
        )


@dataclass
class TrainResult:
    """What ``fit`` returns: the trained model (unwrapped), the per-step history (dicts of
    ``step, loss, hm_loss, ..., lr, time``), the steps done and the checkpoint path."""

    model: nn.Module
    history: list[dict] = field(default_factory=list)
    step: int = 0
    checkpoint: str | None = None


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (``signum`` SIGINT) or SIGTERM stopped ``fit`` after ``step``; ``checkpoint``
    holds that step (None when the run keeps none) and ``result`` the model and the history
    so far."""

    def __init__(self, result: TrainResult, total: int, signum: int = signal.SIGINT):
        self.result, self.step, self.checkpoint = result, result.step, result.checkpoint
        self.signum = signal.Signals(signum)
        kept = (
            f"checkpoint {result.checkpoint} holds it (resume=True continues)"
            if result.checkpoint
            else "the run keeps no checkpoint"
        )
        how = "interrupted" if signum == signal.SIGINT else f"stopped by {self.signum.name}"
        super().__init__(f"training {how} after step {result.step} of {total}; {kept}")


def model_config(model: nn.Module) -> dict | None:
    """All that ``fit`` reads from a model besides its forward pass: ``model.config``.

    ``fit`` trains any module mapping images ``(B, 3, H, W)`` to a dict of head outputs
    (``hm, wh, reg``, or the extreme-point heads). A ``config`` (a dataclass such as
    ``CenterNetLiteConfig``, or a dict, of plain values) goes into every checkpoint, must
    match on resume and lets ``load_model`` rebuild the model; a true ``extreme`` entry
    makes ``ExtremeNetLoss`` the default loss. None without one (then ``CenterNetLoss``)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    config = getattr(model, "config", None)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    return dict(config) if isinstance(config, dict) else None


# --------------------------------------------------------------------------- data order


class StepBatchSampler(Sampler):
    """Batches of indices for steps ``start, start + 1, ...`` (endless).

    Step s belongs to epoch ``s // steps_per_epoch``; the epoch's order, drawn when the
    epoch starts, is that of a ``DistributedSampler`` (shuffled with ``seed + epoch``, this
    process's share), cut into ``batch_size`` batches, the remainder dropped. The batch of
    a step depends only on ``(seed, step)``, so a resumed run reads exactly the batches it
    would have read. The order is kept as a tensor, 8 bytes an item, not a Python list.
    """

    def __init__(self, dataset, batch_size: int, seed: int, rank: int, world_size: int, start: int):
        self.n, self.seed, self.rank, self.world = len(dataset), seed, rank, world_size
        self.share = self.n // world_size  # DistributedSampler's share with drop_last=True
        self.batch_size = batch_size
        self.steps_per_epoch = self.share // batch_size
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"the data set ({len(dataset)} items over {world_size} process(es)) is "
                f"smaller than one batch of {batch_size}"
            )
        self.start = start

    def epoch_order(self, epoch: int) -> torch.Tensor:
        """This process's share of the epoch's order, as ``DistributedSampler`` draws it."""
        g = torch.Generator()
        g.manual_seed(self.seed + epoch)
        order = torch.randperm(self.n, generator=g)
        return order[self.rank : self.share * self.world : self.world]

    def __iter__(self):
        step = self.start
        while True:
            epoch, k = divmod(step, self.steps_per_epoch)
            order, b = self.epoch_order(epoch), self.batch_size
            for j in range(k, self.steps_per_epoch):
                yield order[j * b : (j + 1) * b].tolist()
            step = (epoch + 1) * self.steps_per_epoch


def _ignore_stop_signals(worker_id: int) -> None:
    # Ctrl-C (and a SIGTERM sent to the whole group) reaches every process: the main
    # process stops the run and saves it, the data workers leave that to it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _loader(run: Run) -> DataLoader:
    """The run's batches from its next step on, in the order ``StepBatchSampler`` fixes."""
    dataset, config = run.dataset, run.config
    sampler = StepBatchSampler(dataset, config.batch_size, config.seed, run.rank, run.world, run.step)  # fmt: skip
    collate = None  # DataLoader's default_collate
    if not getattr(dataset, "targets", True):
        # Items without centre targets: encode each batch at once (encode_ctdet_batch).
        collate = functools.partial(
            collate_with_targets, num_classes=dataset.num_classes, stride=dataset.stride
        )
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=config.num_workers,
        pin_memory=run.device.type == "cuda",
        persistent_workers=config.num_workers > 0,
        worker_init_fn=_ignore_stop_signals if config.num_workers > 0 else None,
    )


# --------------------------------------------------------------------------- set-up


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
    if device.type == "meta":
        raise ValueError(f"device {name!r} cannot train: meta tensors hold no numbers")
    return device


def _check_fit(model, dataset, loss_fn, callback) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if dataset is None or not hasattr(dataset, "__len__"):
        raise TypeError(f"dataset must be a sized data set, got {type(dataset).__name__}")
    for name, f in (("loss_fn", loss_fn), ("callback", callback)):
        if f is not None and not callable(f):
            raise TypeError(f"{name} must be callable or None, got {type(f).__name__}")
    want, have = (model_config(model) or {}).get("num_classes"), getattr(dataset, "num_classes", 0)
    if want and have and want != have:
        raise ValueError(f"model num_classes ({want}) must equal dataset.num_classes ({have})")


def _data_setup(dataset, world: int) -> dict:
    """What a resumed run must share with its checkpoint besides the config and the model:
    the process count and the data set's length, image size and classes, and the objects
    per scene and mirror views of synthetic shapes (where the data set says)."""
    setup = {"world_size": world, "dataset_len": len(dataset)}
    size = getattr(dataset, "image_size", None)
    if size is not None:
        setup["image_size"] = list(size)
    if getattr(dataset, "categories", None) is not None:
        setup["categories"] = list(dataset.categories)
    for key in ("objects", "views"):  # how ShapesDataset composes its scenes
        value = getattr(dataset, key, None)
        if value is not None:
            setup[key] = list(value) if isinstance(value, tuple) else value
    return setup


def _prepare_checkpoint(config: TrainConfig, rank: int) -> Path | None:
    """Before any work: make sure the path can be written, refuse to replace a checkpoint
    there unless resuming or told to overwrite, clear a killed write's leftovers."""
    if config.checkpoint is None:
        return None
    path = Path(config.checkpoint)
    check_writable(path)
    if path.exists() and not (config.resume or config.overwrite):
        try:
            step = int(load_checkpoint(path)["step"])
        except (CheckpointError, KeyError, TypeError):
            step = None
        raise CheckpointExistsError(path, step, config.steps)
    if rank == 0:
        remove_stale_temporaries(path)
    return path


def set_up(model: nn.Module, dataset, config: TrainConfig, loss_fn=None) -> Run:
    """Everything a run needs before its first step: processes, device, seeds, the
    checkpoint's place, the loss (``loss_fn``, or ``fit``'s default), AdamW with its
    schedule, the gradient scaler. ``fit`` starts with it; ``train_step(run, batch)``
    then takes one step."""
    config = _settings(config, {})
    _check_fit(model, dataset, loss_fn, None)
    rank, world, local_rank = _distributed()
    device = _device(config.device, local_rank)
    amp_dtype = autocast_dtype(config.amp, device)
    checkpoint = _prepare_checkpoint(config, rank)
    torch.manual_seed(config.seed + rank)
    np.random.seed(config.seed + rank)  # noqa: NPY002 - seeds user code that uses it
    random.seed(config.seed + rank)
    if loss_fn is None:
        loss_fn = (
            ExtremeNetLoss(config.hm_weight, config.off_weight)
            if (model_config(model) or {}).get("extreme")
            else CenterNetLoss(config.hm_weight, config.wh_weight, config.off_weight)
        )
    model = model.to(device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)  # 4-D weights only
    # On a CPU torch updates one tensor at a time unless told to batch them (foreach): the
    # same numbers, bit for bit, in a fraction of the calls (tests/test_train.py checks).
    foreach = True if device.type in ("cpu", "cuda") else None
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay, foreach=foreach
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, config.steps, config.warmup_steps, config.min_lr_ratio)
    )
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    net = model
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        net = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    return Run(
        model, net, dataset, config, loss_fn, optimizer, scheduler, scaler, device, amp_dtype,
        rank, world, checkpoint, _data_setup(dataset, world),
    )  # fmt: skip


# --------------------------------------------------------------------------- resume


def _plain(v):
    """Tuples as lists, so values compare equal however a checkpoint stored them."""
    return [_plain(x) for x in v] if isinstance(v, (list, tuple)) else v


def _compare(saved: dict, now: dict) -> dict[str, tuple]:
    """``{name: (saved, now)}`` for the names both hold with different values."""
    return {k: (saved[k], now[k]) for k in now if k in saved and _plain(saved[k]) != _plain(now[k])}


def _check_same_run(state: dict, run: Run) -> dict[str, list]:
    """Refuse a checkpoint whose model, data or fixed settings differ from this run's
    (``ResumeMismatchError``); return the free settings that changed, to record them."""
    changed = _compare(state.get("config", {}), dataclasses.asdict(run.config))
    free = {f.name for f in dataclasses.fields(TrainConfig) if f.metadata["free_on_resume"]}
    fixed = {k: v for k, v in changed.items() if k not in free}
    fixed |= _compare(state.get("setup", {}), run.setup)
    fixed |= _compare(state.get("model_config") or {}, model_config(run.model) or {})
    if fixed:
        raise ResumeMismatchError(run.checkpoint, fixed)
    return {
        k: list(v) for k, v in changed.items() if k in free and k not in ("resume", "overwrite")
    }


def _resume(run: Run) -> None:
    """Continue from the checkpoint when asked to and it exists: check it comes from the
    same run, then restore the weights, optimizer, schedule, scaler, random state, step
    and history."""
    if not (run.config.resume and run.checkpoint is not None and run.checkpoint.exists()):
        return
    state = load_checkpoint(run.checkpoint, map_location=run.device)
    changed = _check_same_run(state, run)
    try:
        run.model.load_state_dict(state["model"])
    except RuntimeError as e:
        raise CheckpointError(f"checkpoint {run.checkpoint} does not fit this model: {e}") from e
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    if state["scaler"]:  # empty when the run it continues had no scaler (no fp16)
        run.scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
    run.step, run.history = int(state["step"]), list(state["history"])
    run.resumes = list(state.get("resumes", []))
    if changed:
        run.resumes.append({"step": run.step, "changed": changed})


# --------------------------------------------------------------------------- checkpoint


def _save(run: Run) -> None:
    """Check the state of the run's current step and write it (process 0 writes, the others
    wait)."""
    check_state(run)
    if run.checkpoint is not None and run.rank == 0:
        save_checkpoint(
            run.checkpoint,
            {
                "step": run.step,
                "model": run.model.state_dict(),
                "model_config": model_config(run.model),
                "optimizer": run.optimizer.state_dict(),
                "scheduler": run.scheduler.state_dict(),
                "scaler": run.scaler.state_dict(),
                "rng": rng_state(),
                "config": dataclasses.asdict(run.config),
                "setup": run.setup,
                "history": run.history,
                "resumes": run.resumes,
            },
        )
    if run.world > 1:
        dist.barrier()


class _StopSignals:
    """While active, a first Ctrl-C (SIGINT) or SIGTERM only asks the run to stop after the
    current step (``requested`` holds the signal); a second one acts at once, as usual.
    The handlers before are put back on exit. Only the main thread gets signals."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self) -> _StopSignals:
        self.requested, self.previous = 0, {}
        if threading.current_thread() is threading.main_thread():
            self.previous = {s: signal.signal(s, self._ask) for s in self.SIGNALS}
        return self

    def _ask(self, signum, frame) -> None:
        self.requested = self.requested or signum
        self._restore(signum)

    def _restore(self, *signums) -> None:
        for s in signums or list(self.previous):
            previous = self.previous.pop(s, None)
            if previous is not None:  # None: a handler not set from Python, kept as it is
                signal.signal(s, previous)

    def __exit__(self, *exc) -> None:
        self._restore()

    def agreed(self, run: Run) -> int:
        """The signal any process was asked to stop by, or 0 (all must stop at one step)."""
        if run.world == 1:
            return self.requested
        flag = torch.tensor([float(self.requested)], device=run.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return int(flag.item())


def _progress_bar(run: Run):
    if not (run.config.progress and run.rank == 0 and run.step < run.config.steps):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=run.config.steps, initial=run.step, desc="train", dynamic_ncols=True)


def _show(bar, record: dict) -> None:
    if bar is not None:
        bar.update(1)
        shown = {k.replace("_loss", ""): f"{v:.3f}" for k, v in record.items() if "loss" in k}
        bar.set_postfix(shown, refresh=False)


# --------------------------------------------------------------------------- the loop


def _settings(config: TrainConfig | None, overrides: dict) -> TrainConfig:
    """``config`` (default ``TrainConfig()``) with ``overrides`` in place of its fields,
    checked."""
    if config is not None and not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig or None, got {type(config).__name__}")
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)})
    if unknown:
        raise TypeError(f"fit() got settings that TrainConfig does not have: {unknown}")
    config = dataclasses.replace(config or TrainConfig(), **overrides)
    config.check()
    return config


def _result(run: Run) -> TrainResult:
    ckpt = str(run.checkpoint) if run.checkpoint else None
    return TrainResult(run.model, run.history, run.step, ckpt)


def fit(
    model: nn.Module,
    dataset,
    config: TrainConfig | None = None,
    *,
    loss_fn: nn.Module | None = None,
    callback: Callable[[int, dict], None] | None = None,
    **overrides,
) -> TrainResult:
    """Train ``model`` in place on ``dataset`` (items as ``make_item``); return the result.

    ``config`` (a ``TrainConfig``) has its fields replaced by keyword ``overrides``, as in
    ``fit(model, data, steps=200, lr=1e-3)``. ``model_config`` says what ``fit`` reads
    from the model. ``loss_fn(outputs, batch) -> (loss, stats)`` defaults to
    ``CenterNetLoss`` (``ExtremeNetLoss`` for extreme-point heads); ``callback(step,
    stats)`` runs after every step. Raises ``NonFiniteLossError`` (or a subclass),
    ``CheckpointExistsError``, ``CheckpointError``, ``ResumeMismatchError``,
    ``TrainingInterrupted`` (Ctrl-C or SIGTERM, after saving) or ``ValueError`` (bad settings).
    """
    config = _settings(config, overrides)
    _check_fit(model, dataset, loss_fn, callback)
    run = set_up(model, dataset, config, loss_fn)
    _resume(run)
    batches, bar = iter(_loader(run)), _progress_bar(run)
    run.net.train()
    run.t0 = time.perf_counter() - (run.history[-1]["time"] if run.history else 0.0)
    try:
        with _StopSignals() as stop:
            while run.step < config.steps:
                record = train_step(run, next(batches))
                run.step = record["step"]
                run.history.append(record)
                _show(bar, record)
                if run.step % config.checkpoint_every == 0 or run.step == config.steps:
                    _save(run)
                if callback is not None:
                    callback(run.step, record)
                signum = stop.agreed(run) if run.step < config.steps else 0
                if signum:
                    _save(run)
                    raise TrainingInterrupted(_result(run), config.steps, signum)
    finally:
        if bar is not None:
            bar.close()
        del batches
    return _result(run)
