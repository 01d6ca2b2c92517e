"""The book's explorers: sliders, numbers and a picture that stay live without a kernel,
and in a live kernel are widgets that Python reads and sets.

An explorer renders as one self-contained block of HTML (``Explorer._repr_html_``): a
range input (or a select) per control, an ``<output>`` per number, one ``svg.cn-figure``,
its fixed inputs as JSON, and the package's JavaScript inlined once
(``centernet_edu/explorers/*.js``: ``formulas.js`` the arithmetic, ``quantities.js`` the
numbers of each explorer, ``ui.js`` the controls and SVG, ``views.js`` the pictures). The
browser recomputes the numbers and redraws the picture on every ``input`` event, in the
built book too, where no kernel runs; nothing is fetched.

Until its script runs (a notebook opened untrusted runs none) an explorer shows a picture
of itself at its starting values, drawn with ``centernet_edu.viz``, and one line saying how
to make it live; the script hides both. The pictures, like the static figures the chapters
print, need matplotlib (the ``plot`` extra), which only drawing a picture imports: without
it the explorers import and render, each showing the line alone, and are as live once
their script runs.

In a live kernel, with anywidget (the ``explorers`` extra), each explorer function returns
a ``LiveExplorer`` (``live``): an ipywidgets widget whose ``values`` Python reads, sets and
observes, and which runs a student's function beside the package's
(``focal_loss_explorer(yours=my_focal_loss)``; the comparisons are in ``yours``). Its
display bundle carries the self-contained explorer too, for readers with no kernel.

``quantities(name, controls, data)`` is the reference the JavaScript is tested against
(``tests/test_explorers.py``): every number an explorer shows, computed with the
package's functions.

``explorer`` holds what every explorer is made of; ``targets_and_losses`` the explorers of
chapters 1 to 5, ``total_loss`` chapter 6's, ``detections`` those of chapters 7 to 9.
"""

# isort: off
# In reading order: each module registers its explorers' numbers as it loads, and
# quantities() lists the names in that order.
from .explorer import Explorer, quantities
from .targets_and_losses import (
    centre_explorer,
    focal_gradient_explorer,
    focal_loss_explorer,
    offset_explorer,
    radius_cases_explorer,
    radius_explorer,
    shape_explorer,
    size_explorer,
)
from .total_loss import loss_weights_explorer, prior_explorer, prior_targets
from .detections import decode_explorer, extreme_explorer, snapshot_explorer
from .live import LiveExplorer

# isort: on

__all__ = [
    "Explorer",
    "LiveExplorer",
    "quantities",
    "centre_explorer",
    "radius_explorer",
    "radius_cases_explorer",
    "focal_loss_explorer",
    "focal_gradient_explorer",
    "shape_explorer",
    "offset_explorer",
    "size_explorer",
    "prior_explorer",
    "prior_targets",
    "loss_weights_explorer",
    "snapshot_explorer",
    "decode_explorer",
    "extreme_explorer",
]
