"""One training step (``train_step``) and what can go wrong in it.

A step checks every loss term and the gradient before its update, and the weights, buffers
and optimizer state after it: a NaN or an infinity raises a ``NonFiniteLossError`` (or a
subclass) whose message says what was applied and what was not. The checks add no transfer
from the device: their sums travel with the loss terms that the step reads for its record
anyway, and the state after a step is read with the next step's terms (or by
``check_state``, before a checkpoint is written).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from .train_config import TrainConfig

__all__ = [
    "NonFiniteLossError",
    "NonFiniteGradientError",
    "NonFiniteStateError",
    "Run",
    "train_step",
    "check_state",
]

_NOT_APPLIED = (
    "that step's update was not applied: the weights and optimizer state are those after "
    "the step before (its forward pass did move the BatchNorm running statistics)"
)


class NonFiniteLossError(FloatingPointError):
    """Training met a NaN or an infinity; ``step`` (1-based), ``term`` and ``value`` say
    where. Raised as itself when a loss term is not finite (the step's update is not
    applied); its subclasses say when a gradient or the state after a step is not."""

    def __init__(self, step: int, term: str, value: float, total_steps: int | None = None):
        self.step, self.term, self.value = step, term, value
        super().__init__(
            f"loss term '{term}' became {value} at {_at(step, total_steps)}; {_NOT_APPLIED}; "
            "a lower learning rate, gradient clipping or float32 may help"
        )


class NonFiniteGradientError(NonFiniteLossError):
    """Every loss term was finite, a gradient was not (a huge learning rate does this);
    ``parameter`` names the first parameter whose gradient holds ``value``; ``loss`` is the
    (finite) total loss. ``term`` is ``"loss"``: the gradient is that of the total loss. The
    update was not applied."""

    def __init__(self, step: int, parameter: str, value: float, loss: float, total: int):
        self.step, self.term, self.value, self.parameter = step, "loss", value, parameter
        self.loss = loss
        FloatingPointError.__init__(
            self,
            f"the gradient of the loss became {value} at {_at(step, total)} (first in "
            f"'{parameter}') while every loss term was finite (loss {loss:.4g}); "
            f"{_NOT_APPLIED}; a lower learning rate or gradient clipping may help",
        )


class NonFiniteStateError(NonFiniteLossError):
    """After a step whose loss and gradients were finite, a weight, a buffer (a BatchNorm
    running statistic, which the forward pass moves) or the optimizer state holds a NaN or
    an infinity; ``where`` names the first such tensor. The step was applied, so the model
    in memory is spoiled; no checkpoint is written from it."""

    def __init__(self, step: int, where: str, value: float, total: int):
        self.step, self.term, self.value, self.where = step, "loss", value, where
        FloatingPointError.__init__(
            self,
            f"after step {step} of {total} the {where} holds {value}, although the loss and "
            "its gradient were finite: the step was applied (forward pass and update), so the "
            "model in memory is spoiled, and no checkpoint was written from it; a lower "
            "learning rate may help",
        )


def _at(step: int, total: int | None) -> str:
    return f"step {step} of {total}" if total else f"step {step}"


@dataclass
class Run:
    """The state of a run between its steps, shared by the named steps of ``fit``;
    ``train.set_up`` makes one. ``state_sum`` is the sum of the state after the last update,
    on the device, not yet read (None once read)."""

    model: nn.Module
    net: nn.Module  # the model, wrapped in DistributedDataParallel under torchrun
    dataset: object
    config: TrainConfig
    loss_fn: Callable
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    device: torch.device
    amp_dtype: torch.dtype | None
    rank: int
    world: int
    checkpoint: Path | None
    setup: dict
    step: int = 0
    history: list = field(default_factory=list)
    resumes: list = field(default_factory=list)
    t0: float = 0.0
    state_sum: torch.Tensor | None = None


def _to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def _first_non_finite(named: list[tuple[str, torch.Tensor]]) -> tuple[str, float]:
    """The name and a non-finite value of the first tensor that holds one (an error path)."""
    for name, t in named:
        bad = t[~torch.isfinite(t)]
        if bad.numel():
            return name, float(bad[0])
    return "?", math.nan


def _state_tensors(run: Run) -> list[tuple[str, torch.Tensor]]:
    """Every floating-point tensor a checkpoint saves: weights, buffers (the BatchNorm
    running statistics), optimizer state; each with a name to show."""
    names = {id(p): k for k, p in run.model.named_parameters()}
    named = [(f"weight '{k}'", p) for k, p in run.model.named_parameters()]
    named += [(f"buffer '{k}'", b) for k, b in run.model.named_buffers()]
    for p, state in run.optimizer.state.items():
        named += [(f"optimizer {s} of '{names.get(id(p))}'", v) for s, v in state.items()]
    return [(k, v) for k, v in named if torch.is_tensor(v) and v.is_floating_point()]


def _losses(run: Run, batch: dict) -> tuple[torch.Tensor, dict]:
    """The forward pass (under autocast) and the loss with its terms."""
    batch = _to_device(batch, run.device)
    images = batch["image"]
    if run.config.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    with torch.autocast(run.device.type, dtype=run.amp_dtype, enabled=run.amp_dtype is not None):
        outputs = run.net(images)
    # The losses run in float32 whatever the autocast dtype of the heads.
    return _loss_and_stats(run.loss_fn({k: v.float() for k, v in outputs.items()}, batch))


def _described(v) -> str:
    if isinstance(v, torch.Tensor):
        return f"a tensor of shape {tuple(v.shape)}"
    if isinstance(v, dict):
        return f"a dict of {sorted({type(x).__name__ for x in v.values()})}"
    return type(v).__name__


def _loss_and_stats(result) -> tuple[torch.Tensor, dict]:
    """What ``loss_fn`` returned, when it is ``(loss, stats)`` as ``CenterNetLoss`` returns
    it: a one-element tensor and a dict of tensors that holds ``"loss"`` (a few
    ``isinstance`` checks, no transfer from the device)."""
    ok = isinstance(result, (tuple, list)) and len(result) == 2
    loss, stats = result if ok else (None, None)
    ok = ok and isinstance(loss, torch.Tensor) and loss.numel() == 1
    ok = ok and isinstance(stats, dict) and all(isinstance(v, torch.Tensor) for v in stats.values())
    if not ok:
        got = _described(result)
        if isinstance(result, (tuple, list)):
            got = f"({', '.join(map(_described, result))})"
        raise TypeError(
            "loss_fn must return (loss, stats): the loss as a one-element tensor and a dict "
            f"of tensors holding its terms, got {got}"
        )
    if "loss" not in stats:
        raise ValueError(
            "loss_fn's stats must hold 'loss', the total loss (as CenterNetLoss's hold "
            f"loss, hm_loss, wh_loss, off_loss), got keys {list(stats)}"
        )
    return loss, stats


def _finite_sum(tensors: list[torch.Tensor], device: torch.device) -> torch.Tensor:
    """The sum of every entry of ``tensors`` (0 for none): finite when every entry is, as a
    NaN or an infinity carries into it. A sum of finite entries can still overflow, so a
    non-finite sum is confirmed entry by entry (``_first_non_finite``) before a raise."""
    if not tensors:
        return torch.zeros((), device=device)
    return torch.stack([t.detach().sum(dtype=torch.float32) for t in tensors]).sum().to(device)


def _raise_if_state_non_finite(run: Run, state_sum: float) -> None:
    """Raise ``NonFiniteStateError`` for the step before ``run.step + 1`` when the state
    holds a NaN or an infinity (``state_sum``, read from the device, says it may)."""
    if math.isfinite(state_sum):
        return
    where, value = _first_non_finite(_state_tensors(run))
    if where != "?":  # not only a sum that overflowed
        raise NonFiniteStateError(run.step, where, value, run.config.steps)


def check_state(run: Run) -> None:
    """Read the state check of the last update, if not yet read (one transfer), and raise
    ``NonFiniteStateError`` if the weights, buffers or optimizer state are not finite."""
    if run.state_sum is not None:
        state_sum, run.state_sum = float(run.state_sum), None
        _raise_if_state_non_finite(run, state_sum)


def _check_before_update(run: Run, step: int, stats: dict) -> dict[str, float]:
    """Every loss term (the mean over processes), the sum of the gradients and the state
    sum of the step before, in one transfer from the device; raise if one is not finite.
    Return the terms as floats."""
    terms = [k for k in stats if k != "loss"] + ["loss"]
    grads = [p.grad for p in run.model.parameters() if p.grad is not None]
    state_sum = run.state_sum if run.state_sum is not None else torch.zeros((), device=run.device)
    run.state_sum = None
    checked = torch.stack([stats[k].detach().float() for k in terms] + [
        _finite_sum(grads, run.device), state_sum.float()])  # fmt: skip
    if run.world > 1:  # the mean loss over processes (the gradients are the same on all)
        dist.all_reduce(checked)
        checked /= run.world
    *values, grad_sum, state_sum = checked.tolist()
    _raise_if_state_non_finite(run, state_sum)  # the step before spoiled the model
    for term, value in zip(terms, values, strict=True):
        if not math.isfinite(value):
            raise NonFiniteLossError(step, term, value, run.config.steps)
    # Under fp16 an overflow of the scaled gradient is normal: the scaler skips the update.
    if not math.isfinite(grad_sum) and not run.scaler.is_enabled():
        named = [(k, p.grad) for k, p in run.model.named_parameters() if p.grad is not None]
        where, value = _first_non_finite(named)
        if where != "?":  # not only a sum that overflowed
            raise NonFiniteGradientError(step, where, value, values[-1], run.config.steps)
    return dict(zip(terms, values, strict=True))


def train_step(run: Run, batch: dict) -> dict:
    """One optimizer step on ``batch``; return its record: the loss terms (floats, the
    mean over processes), ``step``, ``lr`` and ``time``.

    Forward, loss and backward; every loss term and the gradient are checked before the
    update (``NonFiniteLossError``, ``NonFiniteGradientError``: the update is not applied).
    The weights and optimizer state after it are summed on the device, and read with the
    next step's terms or by ``check_state`` (``NonFiniteStateError``).
    """
    step = run.step + 1
    loss, stats = _losses(run, batch)
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    run.scaler.unscale_(run.optimizer)  # the true gradients (nothing to do without fp16)
    record = _check_before_update(run, step, stats)
    if run.config.grad_clip is not None:
        nn.utils.clip_grad_norm_(run.model.parameters(), run.config.grad_clip)
    run.scaler.step(run.optimizer)  # under fp16, skipped if the scaled gradient overflowed
    run.scaler.update()
    lr = run.optimizer.param_groups[0]["lr"]
    run.scheduler.step()
    run.state_sum = _finite_sum([v for _, v in _state_tensors(run)], run.device)
    return {**record, "step": step, "lr": lr, "time": time.perf_counter() - run.t0}
