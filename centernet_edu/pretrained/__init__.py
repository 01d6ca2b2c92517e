"""Weights and records trained by the project itself, shipped with the package (nothing is
downloaded). Each JSON record holds its run's command, schedule, machine and scores, so
those numbers are written there and nowhere else.

- ``shapes_ctdet.pt`` and ``.json``: ``CenterNetLite`` on ``ShapesDataset``, by
  ``benchmarks/train_shapes.py``: ``shapes_model()``, ``shapes_run()``. Today's script
  repeats the run with ``--objects 1 6 --views 1`` added to the recorded command.
- ``shapes_exdet.pt`` and ``.json``: ``CenterNetLite(extreme=True)`` trained by
  ``ExtremeNetLoss`` on the same schedule and images, by ``benchmarks/train_shapes_exdet.py``:
  ``shapes_exdet_model()``, ``shapes_exdet_run()``.
- ``loss_weight_runs.json``: a short schedule at several loss weights (lambda_size,
  lambda_off), every curve, by ``benchmarks/loss_weight_runs.py``: ``loss_weight_runs()``,
  for chapter 6's explorer of the weights.
- ``size_weight_seeds.json``: chapter 5's short run at several lambda_size and seeds, by
  ``benchmarks/size_weight_seeds.py``: ``size_weight_seeds()``.
"""

from __future__ import annotations

import json
from importlib.resources import files

import torch

from ..checkpoint import load_model

__all__ = [
    "SHAPES_WEIGHTS",
    "SHAPES_EXDET_WEIGHTS",
    "shapes_model",
    "shapes_run",
    "shapes_exdet_model",
    "shapes_exdet_run",
    "loss_weight_runs",
    "size_weight_seeds",
]

SHAPES_WEIGHTS = files(__name__) / "shapes_ctdet.pt"
_SHAPES_RUN = files(__name__) / "shapes_ctdet.json"
SHAPES_EXDET_WEIGHTS = files(__name__) / "shapes_exdet.pt"
_SHAPES_EXDET_RUN = files(__name__) / "shapes_exdet.json"
_LOSS_WEIGHT_RUNS = files(__name__) / "loss_weight_runs.json"
_SIZE_WEIGHT_SEEDS = files(__name__) / "size_weight_seeds.json"


def _check_device(map_location, weights=SHAPES_WEIGHTS) -> None:
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
            f"weights of {weights} need a real device, such as 'cpu'"
        )
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"map_location {map_location!r} asks for CUDA, which is not available here: "
            f"load {weights} with map_location='cpu'"
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


def shapes_exdet_model(map_location="cpu"):
    """The ``CenterNetLite(extreme=True)`` trained on ``ShapesDataset`` with the schedule of
    ``shapes_model``, in eval mode; ``map_location`` as ``shapes_model``'s."""
    _check_device(map_location, SHAPES_EXDET_WEIGHTS)
    return load_model(SHAPES_EXDET_WEIGHTS, map_location)


def shapes_exdet_run() -> dict:
    """The record of the run that trained ``shapes_exdet_model``: ``command``, ``machine``,
    ``K`` (decode_exdet's), ``curve`` (a dict per evaluation: ``step``, ``train_wall_s``,
    ``AP``, ``AP50``, ...), ``final`` and ``ground_truth_maps`` (the AP of grouping the
    true maps)."""
    return _read_json(_SHAPES_EXDET_RUN)


def loss_weight_runs() -> dict:
    """The same short schedule trained at each (lambda_size, lambda_off) of a grid:
    ``command``, ``settings`` and ``runs``, one dict per setting: ``wh_weight`` and
    ``off_weight`` (lambda_size, lambda_off), ``step`` (the last step of each window),
    ``loss, hm_loss, wh_loss, off_loss`` (each term's mean over the window, the terms
    unweighted, ``loss`` the weighted total L_det) and ``eval`` (a dict per evaluation on
    held-out images: ``step``, ``AP``, ``AP50``, ``AP75``)."""
    return _read_json(_LOSS_WEIGHT_RUNS)


def size_weight_seeds() -> dict:
    """Chapter 5's short run at each lambda_size and seed: ``command``, ``machine``,
    ``torch``, ``settings`` and ``runs``, one dict per (weight, seed): ``wh_weight``
    (lambda_size), ``seed``, ``final`` (``loss, hm_loss, wh_loss, off_loss``, each the
    mean over the last 20 steps, the terms unweighted), ``AP``, ``AP50``, ``AP75`` on
    held-out images, and ``probes``: for a few steps, each unweighted term's
    ``[value, gradient norm on the shared features]`` under ``L_k``, ``L_size``, ``L_off``."""
    return _read_json(_SIZE_WEIGHT_SEEDS)
