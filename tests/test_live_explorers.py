"""The explorers as widgets in a live kernel, and a student's function beside the package's.

The widget's traits (``values`` read, set, validated and observed; ``yours`` the
comparisons), its display bundle (the widget and the self-contained HTML), and for every
role of every explorer that takes a student's function: the package's own function agrees
on every row, a wrong one is caught at its first disagreement with its own numbers, one
that raises or returns the wrong shape shows its error. The browser's side is in
``tests/test_jupyterlab.py``.
"""

from __future__ import annotations

import functools
import json
import math
import subprocess
import sys

import ipywidgets
import numpy as np
import pytest
import torch

from centernet_edu import widgets
from centernet_edu.decode import decode_ctdet, heatmap_nms
from centernet_edu.heatmap import draw_gaussian, gaussian_radius
from centernet_edu.losses import focal_loss, focal_loss_with_logits, reg_l1_loss
from centernet_edu.targets import encode_ctdet
from centernet_edu.widgets.explorer import QUANTITIES
from centernet_edu.widgets.live import LiveExplorer, esm, live
from centernet_edu.widgets.yours import one_number, roles

pytest.importorskip("anywidget")


def pixel(v: float) -> torch.Tensor:
    return torch.full((1, 1, 1, 1), float(v), dtype=torch.float64)


def heads(seed: int = 0, C: int = 2, H: int = 12, W: int = 14) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {
        "hm": torch.rand(C, H, W, generator=g) ** 3,
        "wh": torch.rand(2, H, W, generator=g) * 6 + 1,
        "reg": torch.rand(2, H, W, generator=g),
    }


def image(H: int = 48, W: int = 56) -> np.ndarray:
    return np.zeros((H, W, 3), dtype=np.uint8)


# Each explorer with a role, the package's own function for it, and a wrong one.
def wrong_focal(pred, gt):
    return -(gt * torch.log(pred) + (1 - gt) * pred**2 * torch.log(1 - pred)).sum()


def wrong_nms(heat):
    return heat * (heat > 0.5)


def wrong_decode(heat, wh, reg=None, K=100):
    dets = decode_ctdet(heat, wh, None, K=K)  # forgets the offsets
    return dets


def wrong_encode(boxes, labels, num_classes, output_size, max_objs=128):
    t = encode_ctdet(boxes, labels, num_classes, output_size, max_objs=max_objs)
    return t | {"reg": t["reg"] * 0}  # forgets the offset


CASES = {
    ("centre", "yours"): (widgets.centre_explorer, encode_ctdet, wrong_encode),
    ("radius", "yours"): (
        widgets.radius_explorer,
        lambda h, w, o=0.7: gaussian_radius(h, w, o, variant="corrected"),
        lambda h, w, o=0.7: gaussian_radius(h, w, o),  # the original's radius
    ),
    ("radius", "yours_gaussian"): (
        widgets.radius_explorer,
        draw_gaussian,
        lambda heatmap, center, radius: draw_gaussian(heatmap, center, radius + 1),
    ),
    ("focal", "yours"): (widgets.focal_loss_explorer, focal_loss, wrong_focal),
    ("focal", "yours_with_logits"): (
        widgets.focal_loss_explorer,
        focal_loss_with_logits,
        lambda x, gt: wrong_focal(torch.sigmoid(x), gt),
    ),
    ("focal_gradient", "yours"): (
        widgets.focal_gradient_explorer,
        focal_loss,
        wrong_focal,
    ),
    ("focal_gradient", "yours_with_logits"): (
        widgets.focal_gradient_explorer,
        focal_loss_with_logits,
        lambda x, gt: wrong_focal(torch.sigmoid(x), gt),
    ),
    ("offset", "yours"): (
        widgets.offset_explorer,
        reg_l1_loss,
        lambda output, mask, ind, target: reg_l1_loss(output, torch.ones_like(mask), ind, target),
    ),
    ("size", "yours"): (
        widgets.size_explorer,
        reg_l1_loss,
        lambda output, mask, ind, target: 2 * reg_l1_loss(output, mask, ind, target),
    ),
    ("decode", "yours_nms"): (
        functools.partial(widgets.decode_explorer, image(), heads()),
        heatmap_nms,
        wrong_nms,
    ),
    ("decode", "yours"): (
        functools.partial(widgets.decode_explorer, image(), heads()),
        decode_ctdet,
        wrong_decode,
    ),
}


def test_every_role_is_tested():
    registered = {(name, role) for name in QUANTITIES for role in roles(name)}
    assert registered == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES), ids="-".join)
def test_the_package_own_function_agrees_on_every_row(case):
    make, right, _ = CASES[case]
    explorer = make(**{case[1]: right})
    (section,) = explorer.yours
    assert section["error"] == ""
    assert section["first"] == -1, [r for r in section["rows"] if not r["agree"]]
    assert all(r["agree"] for r in section["rows"])
    assert json.loads(json.dumps(section, allow_nan=False)) == section  # JSON as it is sent


@pytest.mark.parametrize("case", sorted(CASES), ids="-".join)
def test_a_wrong_function_is_caught_at_its_first_disagreement(case):
    make, _, wrong = CASES[case]
    explorer = make(**{case[1]: wrong})
    (section,) = explorer.yours
    assert section["error"] == ""
    first = section["first"]
    assert first >= 0
    assert all(r["agree"] for r in section["rows"][:first])
    assert not section["rows"][first]["agree"]
    for r in section["rows"]:
        assert r["difference"] == pytest.approx(r["yours"] - r["package"], abs=1e-12)


def test_the_numbers_are_the_student_function_own():
    explorer = widgets.focal_loss_explorer(y=0.3, yours=wrong_focal)
    rows = {r["label"]: r for r in explorer.yours[0]["rows"]}
    row = rows["negative at Yhat 0.5, Y = 0.3"]
    assert row["yours"] == float(wrong_focal(pixel(0.5), pixel(0.3)))
    assert row["package"] == pytest.approx(float(focal_loss(pixel(0.5), pixel(0.3))), rel=1e-12)


@pytest.mark.parametrize("case", sorted(CASES), ids="-".join)
def test_a_function_that_raises_shows_its_error_and_the_package_numbers(case):
    make = CASES[case][0]

    def raising(*args, **kwargs):
        raise RuntimeError("not written yet")

    explorer = make(**{case[1]: raising})
    (section,) = explorer.yours
    assert section["error"] == "RuntimeError: not written yet"
    assert section["function"] == "raising"
    assert all(r["yours"] is None and r["package"] is not None for r in section["rows"])
    assert section["first"] == -1


@pytest.mark.parametrize(
    ("case", "returns", "message"),
    [
        (("focal", "yours"), lambda pred, gt: pred, "returned a tensor of shape (1, 1, 1, 1)"),
        (("focal", "yours"), lambda pred, gt: "0.5", "returned str; expected one number"),
        (
            ("decode", "yours_nms"),
            lambda heat: heat[0],
            "returned shape (2, 12, 14); expected (1, 2, 12, 14)",
        ),
        (("decode", "yours"), lambda heat, wh, reg, K: torch.zeros(1, K, 5), "expected (1, 20, 6)"),
        (
            ("radius", "yours_gaussian"),
            lambda hm, c, r: hm[:3],
            "returned shape (3, 64); expected (64, 64)",
        ),
        (("focal_gradient", "yours"), lambda pred, gt: 1.0, "the loss carries no gradient"),
        (("centre", "yours"), lambda *a, **k: {"hm": 0}, "returned no dict with keys hm, wh, reg"),
    ],
)
def test_a_function_of_the_wrong_shape_shows_what_was_expected(case, returns, message):
    explorer = CASES[case][0](**{case[1]: returns})
    assert message in explorer.yours[0]["error"]


def test_a_function_that_returns_nan_is_shown_as_text_not_as_bad_json():
    explorer = widgets.focal_loss_explorer(yours=lambda pred, gt: torch.tensor(math.nan))
    row = explorer.yours[0]["rows"][0]
    assert row["yours"] == "nan" and row["agree"] is False
    json.dumps(explorer.yours, allow_nan=False)


def test_one_number_is_a_float_or_a_0d_tensor():
    assert one_number(torch.tensor(2.5), "f") == 2.5
    assert one_number(np.float32(2.5), "f") == 2.5
    with pytest.raises(
        ValueError, match=r"f returned a tensor of shape \(1,\); expected one number"
    ):
        one_number(torch.tensor([2.5]), "f")
    with pytest.raises(ValueError, match="f returned bool"):
        one_number(True, "f")


# The widget's traits --------------------------------------------------------------------


def test_an_explorer_is_a_widget_whose_values_python_reads_sets_and_observes():
    explorer = widgets.focal_loss_explorer(alpha=2.0, beta=4.0, y=0.5)
    assert isinstance(explorer, LiveExplorer) and isinstance(explorer, ipywidgets.DOMWidget)
    assert explorer.values == {"alpha": 2.0, "beta": 4.0, "y": 0.5}
    seen = []
    explorer.observe(lambda change: seen.append(change["new"]), names="values")
    explorer.values = {"y": 0.304}  # the others kept; snapped to the slider's grid
    assert explorer.values == {"alpha": 2.0, "beta": 4.0, "y": 0.3}
    assert seen == [{"alpha": 2.0, "beta": 4.0, "y": 0.3}]
    assert explorer.numbers == widgets.quantities("focal", explorer.values, explorer.data)
    assert explorer.quantities(y=0.6) == explorer.explorer.quantities(y=0.6)


def test_values_out_of_range_or_unknown_are_refused():
    explorer = widgets.focal_loss_explorer()
    with pytest.raises(ValueError, match=r"y must be a number in \[0, 0.99\], got 5"):
        explorer.values = {"y": 5}
    with pytest.raises(ValueError, match="gamma"):
        explorer.values = {"gamma": 1}
    assert explorer.values["y"] == 0.5


def test_the_comparison_follows_the_values():
    explorer = widgets.focal_loss_explorer(yours=wrong_focal)
    explorer.values = {"y": 0.7}
    labels = [r["label"] for r in explorer.yours[0]["rows"]]
    assert "negative at Yhat 0.5, Y = 0.7" in labels


def test_the_picture_is_drawn_once_for_each_set_of_values():
    explorer = widgets.focal_loss_explorer(yours=wrong_focal)
    first = explorer.now()
    assert explorer.now() is first and explorer.picture == first.picture
    explorer.values = {"y": 0.2}
    moved = explorer.now()
    assert moved is not first and moved.values["y"] == 0.2 and moved.picture != first.picture
    explorer.values = {"y": 0.5}
    assert explorer.now().picture == first.picture


def test_the_bundle_carries_the_widget_and_the_self_contained_explorer():
    explorer = widgets.focal_loss_explorer(yours=wrong_focal)
    explorer.values = {"y": 0.2}
    data = explorer._repr_mimebundle_()
    data = data[0] if isinstance(data, tuple) else data
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.model_id
    html = data["text/html"]
    assert 'class="cn-explorer"' in html and 'class="cn-picture"' in html
    assert 'name="y" min="0" max="0.99" step="0.01" value="0.2"' in html
    assert "wrong_focal beside the package" in html
    assert (
        data["text/plain"] == "LiveExplorer(focal: alpha=2.0, beta=4.0, y=0.2, yours=wrong_focal)"
    )


def test_the_widget_module_holds_every_script_and_a_render():
    module = esm()
    for name in ("CenterNetFormulas", "CenterNetUI", "CenterNetViews", "CenterNetYours"):
        assert f"var {name}" in module
    assert module.rstrip().endswith("export default { render };")


def test_a_role_the_explorer_does_not_take_is_refused():
    with pytest.raises(
        ValueError, match="the size explorer takes a function as yours; got yours_nms"
    ):
        live(widgets.size_explorer().explorer, yours_nms=heatmap_nms)
    with pytest.raises(ValueError, match="yours must be a function, got int"):
        widgets.size_explorer(yours=3)


def test_without_anywidget_the_explorers_are_self_contained_html():
    code = """
import sys
sys.modules["anywidget"] = None  # as if not installed
from centernet_edu import widgets
from centernet_edu.widgets.explorer import Explorer
e = widgets.focal_loss_explorer(y=0.3)
assert type(e) is Explorer and e.values["y"] == 0.3 and "cn-explorer" in e._repr_html_()
try:
    widgets.focal_loss_explorer(yours=print)
except ValueError as error:
    print(error)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'centernet-edu[explorers]'" in out.stdout


def test_importing_the_widgets_outside_a_kernel_works():
    code = (
        "from centernet_edu import widgets\n"
        "e = widgets.size_explorer()\n"
        "print(type(e).__name__, e.values)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("LiveExplorer {'width':")
