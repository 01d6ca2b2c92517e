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

from ..checkpoint import load_model

__all__ = ["SHAPES_WEIGHTS", "shapes_model", "shapes_run", "loss_weight_runs"]

SHAPES_WEIGHTS = files(__name__) / "shapes_ctdet.pt"


def shapes_model(map_location="cpu"):
    """The ``CenterNetLite`` trained on ``ShapesDataset`` by the full schedule, in eval mode."""
    return load_model(SHAPES_WEIGHTS, map_location)


def shapes_run() -> dict:
    """The record of the run that trained ``shapes_model``: ``curve`` (a dict per
    evaluation: ``step``, ``train_wall_s``, ``load_avg_1min``, ``AP``, ``AP50``, ...),
    ``oracle_ablations``, ``command``, ``machine``."""
    return json.loads((files(__name__) / "shapes_ctdet.json").read_text())


def loss_weight_runs() -> dict:
    """The same short schedule trained at each (lambda_size, lambda_off) of a grid:
    ``command``, ``settings`` and ``runs``, one dict per setting: ``wh_weight`` and
    ``off_weight`` (lambda_size, lambda_off), ``step`` (the last step of each window),
    ``loss, hm_loss, wh_loss, off_loss`` (each term's mean over the window, the terms
    unweighted, ``loss`` the weighted total L_det) and ``eval`` (a dict per evaluation on
    held-out images: ``step``, ``AP``, ``AP50``, ``AP75``)."""
    return json.loads((files(__name__) / "loss_weight_runs.json").read_text())
