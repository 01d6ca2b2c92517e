"""Write ``shapes_golden.npz``: a few ``ShapesDataset`` images and boxes, as drawn today.

    python tests/data/shapes_golden.py

``tests/test_data.py`` compares the renderer against it, so a change that moves a pixel
of the data set (the held-out images every recorded mAP was measured on) is seen. Run it
again only when the data set is meant to change.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from centernet_edu.data import ShapesDataset

# name -> (ShapesDataset keyword arguments, the indices kept)
CASES = {
    "default": ({"seed": 0}, range(4)),
    "held_out": ({"seed": 1_000_003}, range(4)),
    "crowded": ({"seed": 0, "objects": (6, 16)}, range(4)),
}


def draw() -> dict[str, np.ndarray]:
    out = {}
    for name, (kw, indices) in CASES.items():
        ds = ShapesDataset(max(indices) + 1, 128, **kw)
        for i in indices:
            r = ds.render(i)
            out[f"{name}/{i}/image"] = r["image"]
            out[f"{name}/{i}/boxes"] = r["boxes"]
            out[f"{name}/{i}/labels"] = r["labels"]
    return out


if __name__ == "__main__":
    np.savez_compressed(Path(__file__).with_name("shapes_golden.npz"), **draw())
