"""Weights trained by the project itself, shipped with the package (nothing is downloaded).

``shapes_ctdet.pt``: ``CenterNetLite`` (default widths, five classes) after the full
shapes schedule of ``benchmarks/train_shapes.py`` (800 steps of 32 images), written with
its ``--save-model``; ``benchmarks/results/train_shapes.json`` records that run. Read it
with ``shapes_model()``.
"""

from __future__ import annotations

from importlib.resources import files

from ..checkpoint import load_model

__all__ = ["SHAPES_WEIGHTS", "shapes_model"]

SHAPES_WEIGHTS = files(__name__) / "shapes_ctdet.pt"


def shapes_model(map_location="cpu"):
    """The ``CenterNetLite`` trained on ``ShapesDataset`` by the full schedule, in eval mode."""
    return load_model(SHAPES_WEIGHTS, map_location)
