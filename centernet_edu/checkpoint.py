"""Checkpoints of ``fit``: atomic writes, a digest of the content, exact random state.

A checkpoint is a plain ``torch.save`` dict of tensors and plain values, so
``torch.load(weights_only=True)`` reads it without running any code. It is written to a
temporary file next to its path (``NAME.<8 characters>.tmp``), flushed to disk and renamed
over the old file (it gets the mode any new file gets: ``0o666`` less the umask), so a crash mid-write never leaves a half-written checkpoint; a run
killed during the write leaves the temporary file, which the next run on that checkpoint
removes (``remove_stale_temporaries``). Each checkpoint carries a SHA-256 digest of its
content, so a corrupted or truncated one is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import random
import re
import secrets
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .validate import has_keys

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "CheckpointExistsError",
    "save_checkpoint",
    "load_checkpoint",
    "load_model",
    "check_writable",
    "remove_stale_temporaries",
    "rng_state",
    "set_rng_state",
]

CHECKPOINT_FORMAT = "centernet_edu.checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupted, not a checkpoint of ``fit``,
    or cannot be written where it was asked for."""


class CheckpointExistsError(CheckpointError):
    """A new run would replace a checkpoint that is already there; ``path`` and ``step``
    (the step it holds) say which."""

    def __init__(self, path, step: int | None, total: int | None):
        self.path, self.step = Path(path), step
        held = f" (step {step} of {total})" if step is not None else ""
        super().__init__(
            f"checkpoint {path} already exists{held}; continue it with resume=True, or start "
            "afresh and replace it with overwrite=True"
        )


_NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def _temporary_name(path: Path) -> re.Pattern:
    # What _create_temporary makes (as tempfile.mkstemp would): NAME.<8 characters of
    # [a-z0-9_]>.tmp. Nothing else in the folder matches.
    return re.compile(re.escape(path.name) + r"\.[a-z0-9_]{8}\.tmp")


def _create_temporary(path: Path) -> tuple[int, Path]:
    """Create a new file next to ``path`` and open it for writing: ``(descriptor, path)``.

    Unlike ``tempfile.mkstemp`` (always mode 0600), the file gets the mode of any new file,
    ``0o666`` less the umask, which the rename then gives the checkpoint. The name is drawn
    from ``secrets``, so the run's random state is untouched.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        name = "".join(secrets.choice(_NAME_CHARACTERS) for _ in range(8))
        tmp = path.parent / f"{path.name}.{name}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {path}")


def _path(path) -> Path:
    """``path`` as a ``Path``, when it is a non-empty ``str`` or ``os.PathLike``."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"path must be a file path (str or os.PathLike), got {path!r}")
    return Path(path)


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
    written to a temporary file next to ``path``, flushed to disk and renamed over it. The
    file gets the mode of any new file: ``0o666`` less the umask.
    """
    path = _path(path)
    if not isinstance(state, dict):
        raise ValueError(f"state must be a dict, got {type(state).__name__}")
    payload = {**state, "format": CHECKPOINT_FORMAT}
    payload["digest"] = _digest(payload)
    fd, tmp = _open_temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            _save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _save(payload: dict, f) -> None:
    """``torch.save``, with a value it cannot store (a function, a lambda, an open file)
    a ``ValueError`` naming the state."""
    try:
        torch.save(payload, f)
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        raise ValueError(
            "state must hold only dicts, lists, tensors and plain values, got one that "
            f"torch.save cannot store ({type(e).__name__}: {e})"
        ) from e


def _open_temporary(path: Path) -> tuple[int, Path]:
    """Create ``path``'s folder and a temporary file next to it, open for writing; a path
    that cannot be written (a folder under a regular file, no permission, a read-only
    file system, ...) is a ``CheckpointError`` naming it and the system's reason."""
    try:
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a folder")
        for folder in path.parents:
            if folder.exists() and not folder.is_dir():
                raise NotADirectoryError(f"{folder} is a file, not a folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        return _create_temporary(path)
    except OSError as e:
        raise CheckpointError(f"checkpoint {path} cannot be written: {e}") from e


def _map_location(map_location):
    """``map_location`` as ``torch.load`` takes it, when it is not the meta device."""
    if isinstance(map_location, (str, torch.device)) and str(map_location).startswith("meta"):
        raise ValueError(
            f"map_location must be a device that holds values, such as 'cpu', got "
            f"{map_location!r} (the meta device holds none to check the digest against)"
        )
    return map_location


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read a checkpoint of ``fit`` with ``torch.load(weights_only=True)`` and check it.

    Raises:
        CheckpointError: the file is missing, cannot be read (truncated, not a torch
            file), is not a checkpoint of this package, or its content does not match its
            digest (corrupted).
    """
    path, map_location = _path(path), _map_location(map_location)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder, not a checkpoint file")
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
    """The ``CenterNetLite`` saved in a checkpoint of ``fit``, in eval mode.

    The checkpoint's ``model_config`` holds the ``CenterNetLiteConfig`` as plain values
    (older checkpoints: a dict with the same keys); the model is rebuilt from them.
    """
    from .model import CenterNetLite

    state = load_checkpoint(path, map_location)
    config = state.get("model_config")
    if not isinstance(config, dict) or not config:
        raise CheckpointError(f"checkpoint {path} does not record a CenterNetLite configuration")
    try:
        model = CenterNetLite(**config)
        model.load_state_dict(state["model"])
    except (TypeError, ValueError, RuntimeError, KeyError) as e:
        raise CheckpointError(
            f"checkpoint {path}: its model_config {config} does not rebuild its weights ({e})"
        ) from e
    return model.eval()


def check_writable(path) -> None:
    """Make sure a checkpoint can be written at ``path``: create its folder, then write and
    remove a temporary file there, as ``save_checkpoint`` will.

    Raises:
        CheckpointError: naming the path and the system's reason (a folder under a
            regular file, no permission, a read-only file system, ...).
    """
    fd, tmp = _open_temporary(_path(path))
    os.close(fd)
    os.unlink(tmp)


def remove_stale_temporaries(path) -> list[Path]:
    """Delete the temporary files a killed ``save_checkpoint`` left next to ``path``
    (only names of its own pattern, ``NAME.<8 characters>.tmp``); return them."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    pattern = _temporary_name(path)
    stale = [p for p in path.parent.iterdir() if pattern.fullmatch(p.name) and p.is_file()]
    for p in stale:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    return stale


def rng_state() -> dict:
    """The state of every generator a run draws from: torch (CPU and CUDA), numpy's
    global generator (user code may use it) and Python's ``random``."""
    np_state = np.random.get_state()  # noqa: NPY002 - the global generator user code may use
    state = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "python": list(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what ``rng_state`` returned."""
    has_keys("state", state, ("torch", "numpy", "python"))
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n[0], n[1].numpy().astype(np.uint32), *n[2:]))  # noqa: NPY002
    v = state["python"]
    random.setstate((v[0], tuple(v[1]), v[2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
