"""Weights trained by the project itself, shipped with the package (nothing is downloaded).

``shapes_ctdet.pt``: ``CenterNetLite`` (default widths, five classes) after 800 steps of
32 images of 1 to 6 objects at lr 2e-3 (the schedule of ``benchmarks/train_shapes.py``
when it was trained; today's script repeats it with ``--objects 1 6 --views 1`` added to
the recorded command), written with its ``--save-model``; ``shapes_ctdet.json`` is that
run's record (its command, machine, AP against training time, oracle ablations), as the
script wrote it. Read them with ``shapes_model()`` and ``shapes_run()``.

``loss_weight_runs.json``: one short shapes schedule trained at several loss weights
(lambda_size, lambda_off), every curve recorded by ``benchmarks/loss_weight_runs.py``;
chapter 6's explorer of the weights reads it through ``loss_weight_runs()``.
"""

from __future__ import annotations

import json
from importlib.resources import files

import torch

from ..checkpoint import load_model

__all__ = ["SHAPES_WEIGHTS", "shapes_model", "shapes_run", "loss_weight_runs"]

SHAPES_WEIGHTS = files(__name__) / "shapes_ctdet.pt"
_SHAPES_RUN = files(__name__) / "shapes_ctdet.json"
_LOSS_WEIGHT_RUNS = files(__name__) / "loss_weight_runs.json"


def _check_device(map_location) -> None:
    """A device named by a string or ``torch.device`` can hold the weights."""
    if map_location is None or isinstance(map_location, dict) or callable(map_location):
        return  # torch.load applies it
    if not isinstance(map_location, (str, torch.device)):
        raise TypeError(
            "map_location must be a device name, torch.device, dict, function or None, "
            f"got {type(map_location).__name__} {map_location!r}"
        )
    try:
        device = torch.device(map_location)
    except RuntimeError as e:
        raise ValueError(f"map_location must name a device, got {map_location!r}") from e
    if device.type == "meta":
        raise ValueError(
            f"map_location {map_location!r} is the meta device, which holds no values: the "
            f"weights of {SHAPES_WEIGHTS} need a real device, such as 'cpu'"
        )
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"map_location {map_location!r} asks for CUDA, which is not available here: "
            f"load {SHAPES_WEIGHTS} with map_location='cpu'"
        )


def _read_json(path) -> dict:
    try:
        return json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a readable JSON record ({e})") from e


def shapes_model(map_location="cpu"):
    """The ``CenterNetLite`` trained on ``ShapesDataset`` by the full schedule, in eval mode.

    ``map_location`` as ``torch.load``'s; a CUDA device without CUDA, or the meta device,
    is refused with a ``ValueError``."""
    _check_device(map_location)
    return load_model(SHAPES_WEIGHTS, map_location)


def shapes_run() -> dict:
    """The record of the run that trained ``shapes_model``: ``curve`` (a dict per
    evaluation: ``step``, ``train_wall_s``, ``load_avg_1min``, ``AP``, ``AP50``, ...),
    ``oracle_ablations``, ``command``, ``machine``."""
    return _read_json(_SHAPES_RUN)


def loss_weight_runs() -> dict:
    """The same short schedule trained at each (lambda_size, lambda_off) of a grid:
    ``command``, ``settings`` and ``runs``, one dict per setting: ``wh_weight`` and
    ``off_weight`` (lambda_size, lambda_off), ``step`` (the last step of each window),
    ``loss, hm_loss, wh_loss, off_loss`` (each term's mean over the window, the terms
    unweighted, ``loss`` the weighted total L_det) and ``eval`` (a dict per evaluation on
    held-out images: ``step``, ``AP``, ``AP50``, ``AP75``)."""
    return _read_json(_LOSS_WEIGHT_RUNS)
