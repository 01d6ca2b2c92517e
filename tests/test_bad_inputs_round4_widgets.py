"""Bad inputs to the explorers' parts and the exercise checkers' seed: a stride whose image
would not fit in memory (or would have no pixel), a control whose range or step is not a
number, a figure size that is not two pixel counts, something that is not an explorer
given to ``live``, and a seed past what a torch Generator takes.

As ``test_bad_inputs.py``: one row per refused case (an id, a call, a pattern its message
must match, naming the argument at fault), then the cases whose answer is a right result.
"""

from __future__ import annotations

import pytest
import torch

from centernet_edu import exercises, widgets
from centernet_edu.losses import focal_loss
from centernet_edu.widgets import explorer as parts
from centernet_edu.widgets.live import live


def heads(size=(8, 8)) -> dict:
    """One image's valid ctdet heads of 2 classes on a map of ``size``."""
    return {"hm": torch.full((2, *size), 0.1), "wh": torch.full((2, *size), 3.0)} | {
        "reg": torch.zeros(2, *size)
    }


def exheads() -> dict:
    """One image's valid extreme-point heads on an 8 x 8 map of 2 classes."""
    return {f"hm_{p}": torch.full((2, 8, 8), 0.1) for p in "tlbrc"}


def snapshot() -> dict:
    """A valid training snapshot of a (2, 8, 8) map."""
    terms = dict.fromkeys(("loss", "hm_loss", "wh_loss", "off_loss"), 1.0)
    return {"step": 1, "hm": torch.full((2, 8, 8), 0.1)} | terms


def radius(size) -> parts.Explorer:
    """The radius explorer built by hand, with its figure of ``size``."""
    controls = parts.sliders(
        ("width", "w", 1, 60, 1, True),
        ("height", "h", 1, 60, 1, True),
        ("min_overlap", "o", 0.1, 0.95, 0.05),
    )
    values = {"width": 24, "height": 16, "min_overlap": 0.7}
    return parts.Explorer("radius", controls, [parts.S("r_centernet", "r")], values, size=size)


TOO_LARGE = r"^stride must keep the image \(the heads' size \(8, 8\) times stride\) within "
CASES = [
    # WG49: a stride whose image (or the blank frame drawn without one) cannot be allocated
    (
        "WG49 decode: stride 1e5",
        lambda: widgets.decode_explorer(None, heads(), stride=1e5)._repr_html_(),
        TOO_LARGE + r"33554432 pixels, got 100000: an image of 800000 x 800000$",
    ),
    (
        "decode: stride 1e308",
        lambda: widgets.decode_explorer(None, heads(), stride=1e308),
        TOO_LARGE + r"33554432 pixels, got 1e\+308: an image of inf x inf$",
    ),
    (
        "decode: stride 1e-5",
        lambda: widgets.decode_explorer(None, heads(), stride=1e-5),
        r"^stride must make the image \(the heads' size \(8, 8\) times stride\) at least a "
        r"pixel a side, got 1e-05: an image of 0 x 0$",
    ),
    (
        "extreme: stride 1e5",
        lambda: widgets.extreme_explorer(None, exheads(), stride=1e5),
        TOO_LARGE,
    ),
    (
        "snapshot: stride 1e5",
        lambda: widgets.snapshot_explorer([snapshot()], stride=1e5),
        TOO_LARGE,
    ),
    # WE01, WE03: a slider's step and range are numbers, checked when it is built
    (
        "WE01 Control: step 0",
        lambda: parts.Control("a", "A", 0, 1, 0).check(0.5),
        r"^step of control 'a' must be a finite number > 0, got 0$",
    ),
    (
        "Control: step -0.1",
        lambda: parts.Control("a", "A", 0, 1, -0.1),
        r"^step of control 'a' must be a finite number > 0, got -0.1$",
    ),
    (
        "WE03 Control: lo '0'",
        lambda: parts.Control("a", "A", "0", 1, 0.1).check(0.5),
        r"^lo of control 'a' must be a finite number, got '0'$",
    ),
    (
        "Control: hi NaN",
        lambda: parts.Control("a", "A", 0, float("nan"), 0.1),
        r"^hi of control 'a' must be a finite number >= lo \(0\), got nan$",
    ),
    (
        "Control: hi below lo",
        lambda: parts.Control("a", "A", 2, 1, 0.1),
        r"^hi of control 'a' must be a finite number >= lo \(2\), got 1$",
    ),
    # WE10: the figure's size is two pixel counts, within MAX_SIDE
    (
        "WE10 Explorer: size (-5, 'a')",
        lambda: radius((-5, "a")).html(),
        r"^size must be two positive integers \(w, h\) in pixels, got \(-5, 'a'\)$",
    ),
    (
        "Explorer: size 1e6 wide",
        lambda: radius((10**6, 300)),
        r"^size must be at most 4096 pixels a side, got \(1000000, 300\)$",
    ),
    # WE21: live opens an Explorer
    (
        "WE21 live: a string",
        lambda: live("abc"),
        r"^explorer must be an Explorer \(what an explorer function such as decode_explorer "
        r"returns\), got str$",
    ),
    # XC24: a torch Generator takes a 64-bit signed seed
    (
        "XC24 check_focal_loss: seed 2**64",
        lambda: exercises.check_focal_loss(focal_loss, seed=2**64),
        r"^seed must be a non-negative integer below 2\*\*63, got 18446744073709551616$",
    ),
    (
        "check_focal_loss: seed 2**63",
        lambda: exercises.check_focal_loss(focal_loss, seed=2**63),
        r"^seed must be a non-negative integer below 2\*\*63, got 9223372036854775808$",
    ),
]


@pytest.mark.parametrize(("call", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_named(call, pattern):
    with pytest.raises(ValueError, match=pattern) as info:
        call()
    assert type(info.value) is ValueError


# The inputs at the edges still work ---------------------------------------------------------


def test_the_largest_seed_a_generator_takes_is_accepted():
    assert exercises.check_focal_loss(focal_loss, seed=2**63 - 1).ok


def test_a_stride_at_the_largest_image_is_accepted():
    # 8 x 8 heads at stride 724 make a 5792 x 5792 image, within 2**25 pixels.
    e = widgets.decode_explorer(None, heads(), stride=724)
    assert e.data["image_size"] == [5792, 5792]
    with pytest.raises(ValueError, match=TOO_LARGE):
        widgets.decode_explorer(None, heads(), stride=725)


def test_a_fractional_stride_that_rounds_to_a_pixel_is_accepted():
    assert widgets.decode_explorer(None, heads(), stride=0.125).data["image_size"] == [1, 1]


def test_a_size_given_as_a_list_and_a_single_value_slider_are_accepted():
    assert radius([300, 200]).size == (300, 200)
    assert parts.Control("a", "A", 3, 3, 1, True).check(3) == 3


def test_live_opens_a_live_explorer_at_its_current_values():
    e = widgets.size_explorer(width=10.0)
    if widgets.LiveExplorer is None:
        pytest.skip("anywidget is not installed")
    e.values = {"width": 30.0}
    again = live(e)
    assert again.values["width"] == 30.0
    assert again is not e and again.explorer.values["width"] == 30.0
