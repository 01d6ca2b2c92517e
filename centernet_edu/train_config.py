"""What shapes a training run: ``TrainConfig``, the ``fast_recipe`` preset, the
learning-rate schedule and autocast.

Each setting is defined once, here: its default, its help text (the command line shows the
same), the check of its value, and whether a resumed run may change it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .validate import choice, nonnegative_int, number, positive_int

__all__ = ["TrainConfig", "fast_recipe", "AMP_MODES", "setting", "lr_factor", "autocast_dtype"]

AMP_MODES = ("auto", "bf16", "fp16", "off")


def setting(default, help: str, check: Callable, *, free_on_resume: bool = False, **cli):
    """A settings field (``TrainConfig``, ``cli.CliConfig``): its default, its help text (the
    command line's too), ``check(name, value)`` (raises a ``ValueError`` naming it), whether
    a resumed run may change it, and command-line details (``flag``, ``choices``, ``nargs``,
    ``type``, ``metavar``, ``group``; ``cli=False`` for none)."""
    meta = {"help": help, "check": check, "free_on_resume": free_on_resume, **cli}
    return field(default=default, metadata=meta)


def _positive(name, v):
    return number(name, v, 0, open_low=True)


def _nonnegative(name, v):
    return number(name, v, 0)


def _fraction(name, v):
    return number(name, v, 0, 1)


def _clip(name, v):
    return None if v is None else _positive(name, v)


def _amp(name, v):
    return choice(name, v, AMP_MODES)


def _flag(name, v):
    if not isinstance(v, bool):
        raise ValueError(f"{name} must be True or False, got {v!r}")
    return v


def _device_name(name, v):
    try:
        device = v if v == "auto" else str(torch.device(v))
    except (RuntimeError, TypeError):
        raise ValueError(
            f"{name} must be 'auto' or a torch device such as 'cpu', 'cuda' or 'cuda:1', got {v!r}"
        ) from None
    if device == "meta":
        raise ValueError(
            f"{name} must be a device that can train, such as 'cpu' or 'cuda', got 'meta' "
            "(device 'meta' holds shapes but no numbers)"
        )
    return device


def _path(name, v):
    if v is not None and not (isinstance(v, (str, os.PathLike)) and str(v)):
        raise ValueError(f"{name} must be a file path or None, got {v!r}")
    return v


@dataclass
class TrainConfig:
    """Everything that shapes a run; each field carries its help text (``--help`` of the
    command line shows the same) and its check. Plain values, so they go into checkpoints.
    The defaults are ``fit``'s; ``fast_recipe`` is the command line's.

    On resume, a setting that shapes the numbers (``lr``, ``weight_decay``, the schedule's
    shape, ``grad_clip``, ``seed``, ``batch_size``, the loss weights) must be what the
    checkpoint recorded: a different value is refused (``ResumeMismatchError`` names each),
    so the recorded config always describes what ran. Those marked ``free_on_resume`` (the
    length of the schedule, where and how the run goes) may change; the checkpoint records
    each change, with the step it took effect, under ``resumes``.
    """

    steps: int = setting(800, "total optimizer steps of the schedule", positive_int, free_on_resume=True)  # fmt: skip
    batch_size: int = setting(32, "images per step (per process under torchrun)", positive_int)
    lr: float = setting(2e-3, "peak learning rate of AdamW", _positive)
    weight_decay: float = setting(1e-4, "AdamW's decoupled weight decay", _nonnegative)
    warmup_steps: int = setting(50, "steps of linear warm-up from 0 to lr", nonnegative_int)
    min_lr_ratio: float = setting(0.01, "floor of the cosine decay, relative to lr", _fraction)
    grad_clip: float | None = setting(
        10.0, "largest gradient norm; None (0 on the command line) for no clipping", _clip
    )
    seed: int = setting(0, "seeds the generators and the batch order", nonnegative_int)
    amp: str = setting(
        "auto",
        "autocast: auto (bfloat16 on a CUDA device that supports it, else float16; off on a "
        "CPU), bf16, fp16 (CUDA only, with a gradient scaler) or off",
        _amp, free_on_resume=True, choices=AMP_MODES,
    )  # fmt: skip
    device: str = setting(
        "auto", "auto (CUDA when there is one, else the CPU), cpu, cuda, cuda:1, ...",
        _device_name, free_on_resume=True,
    )  # fmt: skip
    num_workers: int = setting(
        0, "DataLoader worker processes", nonnegative_int, free_on_resume=True, flag="--workers"
    )
    checkpoint: str | None = setting(
        None, "path of the checkpoint file, or None for none", _path, free_on_resume=True, cli=False
    )  # fmt: skip
    checkpoint_every: int = setting(
        100, "steps between checkpoints (one is also written at the end)", positive_int,
        free_on_resume=True,
    )  # fmt: skip
    resume: bool = setting(
        False, "continue from the checkpoint if it exists", _flag, free_on_resume=True
    )
    progress: bool = setting(True, "show a progress bar", _flag, free_on_resume=True)
    channels_last: bool = setting(
        True,
        "keep images and convolution weights in the NHWC (channels last) layout, which "
        "convolutions on a CPU and on tensor cores run fastest on; the numbers agree to "
        "rounding",
        _flag, free_on_resume=True,
    )  # fmt: skip
    hm_weight: float = setting(1.0, "lambda of the heatmap focal loss L_k", _nonnegative)
    wh_weight: float = setting(0.1, "lambda_size of the size loss L_size", _nonnegative)
    off_weight: float = setting(1.0, "lambda_off of the offset loss L_off", _nonnegative)
    overwrite: bool = setting(
        False, "start afresh and replace the checkpoint if it exists", _flag, free_on_resume=True
    )

    def check(self) -> None:
        """Raise a ``ValueError`` naming the first setting out of range."""
        for f in dataclasses.fields(self):
            f.metadata["check"](f.name, getattr(self, f.name))
        if self.resume and not self.checkpoint:
            raise ValueError("resume=True needs a checkpoint path")
        if self.resume and self.overwrite:
            raise ValueError("resume=True and overwrite=True exclude each other")


def fast_recipe(**changes) -> TrainConfig:
    """The command line's preset: ``TrainConfig`` with a short schedule of small batches at
    a high peak learning rate, which learns the most per image on crowded shapes scenes;
    ``changes`` replace fields, as in ``fast_recipe(steps=100)``."""
    config = dataclasses.replace(TrainConfig(steps=600, batch_size=8, lr=8e-3), **changes)
    config.check()
    return config


def lr_factor(step: int, steps: int, warmup_steps: int, min_lr_ratio: float) -> float:
    """The learning-rate multiplier before step ``step`` (0-based): linear warm-up over
    ``warmup_steps``, then a cosine from 1 down to ``min_lr_ratio`` at ``steps``."""
    nonnegative_int("step", step)
    positive_int("steps", steps)
    nonnegative_int("warmup_steps", warmup_steps)
    _fraction("min_lr_ratio", min_lr_ratio)
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, steps - warmup_steps)
    t = min(1.0, (step - warmup_steps) / span)
    return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t))


def autocast_dtype(amp: str, device: torch.device | str):
    """The autocast dtype that ``amp`` (a ``TrainConfig.amp`` value) means on ``device``
    (a ``torch.device`` or its name), or None for float32."""
    _amp("amp", amp)
    if isinstance(device, str):
        name = _device_name("device", device)
        if name == "auto":
            name = "cuda" if torch.cuda.is_available() else "cpu"
        device = torch.device(name)
    elif not isinstance(device, torch.device):
        raise TypeError(f"device must be a torch.device or its name, got {type(device).__name__}")
    if amp == "off" or (amp == "auto" and device.type != "cuda"):
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if amp == "fp16" and device.type != "cuda":
        raise ValueError("amp='fp16' needs a CUDA device; use 'bf16' or 'off' on a CPU")
    return torch.bfloat16 if amp == "bf16" else torch.float16
