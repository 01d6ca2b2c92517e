"""Bad input to the explorers: the exact error, naming what is wrong, never a dead page.

One row per case, as in ``test_bad_inputs.py``: an id, a call and a pattern the message
must match; the pattern names the argument, the map or the row at fault. Below the table:
what reaches the page (HTML and embedded JSON) stays inert text and reads back unchanged.
"""

import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
import torch

from centernet_edu import widgets
from centernet_edu.evaluate import match_detections
from centernet_edu.widgets import detections
from centernet_edu.widgets import explorer as parts

nan, inf = math.nan, math.inf
TERMS = ("loss", "hm_loss", "wh_loss", "off_loss")
IMAGE = np.zeros((32, 32, 3), dtype=np.uint8)  # 8 x 8 maps at stride 4
GT = ([[0, 0, 8, 8]], [0])
IMAGE_RULE = r"image must hold integers in \[0, 255\] \(uint8\) or floats in \[0, 1\]"


def at(t: torch.Tensor, index: tuple, value) -> torch.Tensor:
    """``t`` with one value changed."""
    t = t.clone()
    t[index] = value
    return t


def heads(**changes) -> dict:
    """One image's valid ctdet heads on an 8 x 8 map of 2 classes, with ``changes``."""
    hm = torch.full((2, 8, 8), 0.1)
    return {"hm": hm, "wh": torch.full((2, 8, 8), 3.0), "reg": torch.zeros(2, 8, 8)} | changes


def exheads(**changes) -> dict:
    """One image's valid extreme-point heads on an 8 x 8 map of 2 classes."""
    maps = {f"hm_{p}": torch.full((2, 8, 8), 0.1) for p in "tlbrc"}
    return maps | {f"reg_{p}": torch.zeros(2, 8, 8) for p in "tlbr"} | changes


def snap(**changes) -> dict:
    """A valid snapshot of a (2, 8, 8) map with 3 boxes, with ``changes``."""
    base = {"step": 1, "hm": torch.full((2, 8, 8), 0.1), "dets": torch.zeros(3, 6)}
    return base | dict.fromkeys(TERMS, 1.0) | changes


def decode(image=IMAGE, gt=None, **kw):
    return lambda: widgets.decode_explorer(image, kw.pop("h", heads()), gt, **kw)


def extreme(image=IMAGE, gt=None, **kw):
    return lambda: widgets.extreme_explorer(image, kw.pop("h", exheads()), gt, **kw)


def radius_parts(label="box width", data=None, options=("a", "b")):
    """A low-level radius explorer's pieces: controls (one a select over ``options``),
    shown numbers and values."""
    controls = parts.sliders(
        ("width", label, 1, 60, 1, True),
        ("height", "h", 1, 60, 1, True),
        ("min_overlap", "o", 0.1, 0.95, 0.05),
    )
    controls += [parts.Control("mode", "mode", options=options)]
    values = {"width": 24, "height": 16, "min_overlap": 0.7, "mode": options[0]}
    return controls, [parts.S("r_centernet", label)], values


def low_level(data=None, **values):
    controls, shown, base = radius_parts()
    return lambda: parts.Explorer("radius", controls, shown, base | values, data)


CASES = [
    # 1. NaN and infinity never reach the page
    (
        "snapshot: NaN in dets",
        lambda: widgets.snapshot_explorer([snap(dets=at(torch.zeros(3, 6), (1, 4), nan))]),
        r"^snapshots\[0\]\['dets'\] must be finite, got NaN at \(1, 4\)$",
    ),
    (
        "snapshot: infinity in hm",
        lambda: widgets.snapshot_explorer([snap(hm=at(snap()["hm"], (0, 1, 2), inf))]),
        r"^snapshots\[0\]\['hm'\] must be finite, got inf at \(0, 1, 2\)$",
    ),
    (
        "snapshot: NaN in a ground-truth box",
        lambda: widgets.snapshot_explorer([snap()], IMAGE, ([[nan, 0, 8, 8]], [0])),
        r"^gt boxes must be finite, got NaN or infinity in boxes \[0\]$",
    ),
    (
        "decode: NaN in a ground-truth box",
        decode(gt=([[0, 0, 8, 8], [0, inf, 8, 8]], [0, 1])),
        r"^gt boxes must be finite, got NaN or infinity in boxes \[1\]$",
    ),
    (
        "decode: NaN in heads['hm']",
        decode(h=heads(hm=at(heads()["hm"], (1, 2, 3), nan))),
        r"^heads\['hm'\] must be finite, got NaN at \(1, 2, 3\)$",
    ),
    (
        "decode: NaN in heads['wh']",
        decode(h=heads(wh=at(heads()["wh"], (0, 3, 4), nan))),
        r"^heads\['wh'\] must be finite, got NaN at \(0, 3, 4\)$",
    ),
    (
        "decode: -inf in heads['reg']",
        decode(h=heads(reg=at(heads()["reg"], (1, 0, 0), -inf))),
        r"^heads\['reg'\] must be finite, got -inf at \(1, 0, 0\)$",
    ),
    (
        "extreme: NaN in hm_c",
        extreme(h=exheads(hm_c=at(exheads()["hm_c"], (0, 5, 6), nan))),
        r"^heads\['hm_c'\] must be finite, got NaN at \(0, 5, 6\)$",
    ),
    (
        "extreme: NaN in hm_l",
        extreme(h=exheads(hm_l=at(exheads()["hm_l"], (1, 1, 1), nan))),
        r"^heads\['hm_l'\] must be finite, got NaN at \(1, 1, 1\)$",
    ),
    (
        "extreme: infinity in reg_t",
        extreme(h=exheads(reg_t=at(exheads()["reg_t"], (0, 0, 7), inf))),
        r"^heads\['reg_t'\] must be finite, got inf at \(0, 0, 7\)$",
    ),
    (
        "extreme: NaN in a ground-truth box",
        extreme(gt=([[0, 0, 8, nan]], [1])),
        r"^gt boxes must be finite, got NaN or infinity in boxes \[0\]$",
    ),
    (
        "Explorer: NaN in data",
        low_level({"note": nan}),
        r"^data\['note'\] must be JSON-ready, with finite numbers only, got Out of range float",
    ),
    (
        "Explorer: infinity deep in data",
        low_level({"fine": [1.0], "xs": {"ys": [1.0, -inf]}}),
        r"^data\['xs'\] must be JSON-ready, with finite numbers only",
    ),
    (
        "Explorer: a tensor in data",
        low_level({"t": torch.zeros(2)}),
        r"^data\['t'\] must be JSON-ready, with finite numbers only, got Object of type Tensor",
    ),
    ("Explorer: data not a dict", low_level([1, 2]), r"^data must be a dict, got list$"),
    (
        "dense: NaN",
        lambda: parts.dense(torch.tensor([0.0, nan])),
        r"^an embedded array must be finite, got NaN at \(1,\)$",
    ),
    (
        "sparse: infinity",
        lambda: parts.sparse(torch.tensor([[0.0, inf]])),
        r"^an embedded array must be finite, got inf at \(0, 1\)$",
    ),
    (
        "packed: NaN",
        lambda: parts.packed(np.array([nan, 0.5])),
        r"^an embedded array must be finite, got NaN at \(0,\)$",
    ),
    # 2. probabilities, images and tensors
    (
        "decode: logits in heads['hm']",
        decode(h=heads(hm=torch.linspace(-3, 3, 128).reshape(2, 8, 8))),
        r"^heads\['hm'\] must hold values in \[0, 1\].*, got values in \[-3, 3\]$",
    ),
    (
        "extreme: logits in hm_t",
        extreme(h=exheads(hm_t=torch.full((2, 8, 8), -2.19))),
        r"^heads\['hm_t'\] must hold values in \[0, 1\].*, got values in \[-2.19, -2.19\]$",
    ),
    (
        "extreme: logits in hm_c",
        extreme(h=exheads(hm_c=torch.full((2, 8, 8), 2.0))),
        r"^heads\['hm_c'\] must hold values in \[0, 1\].*, got values in \[2, 2\]$",
    ),
    (
        "snapshot: logits in hm",
        lambda: widgets.snapshot_explorer([snap(hm=torch.full((2, 8, 8), -2.19))]),
        r"^snapshots\[0\]\['hm'\] must hold values in \[0, 1\].*, got values in \[-2.19, -2.19\]$",
    ),
    (
        "decode: image of floats in [0, 255]",
        decode(image=np.full((32, 32, 3), 200.0)),
        rf"^{IMAGE_RULE} \(divide an image in \[0, 255\] by 255\), got float64 values in "
        r"\[200, 200\]$",
    ),
    (
        "decode: image of ints above 255",
        decode(image=np.full((32, 32, 3), 300)),
        rf"^{IMAGE_RULE}, got int64 values in \[300, 300\]$",
    ),
    (
        "decode: image of negative ints",
        decode(image=torch.full((32, 32, 3), -1, dtype=torch.int16)),
        rf"^{IMAGE_RULE}, got int16 values in \[-1, -1\]$",
    ),
    (
        "extreme: image of floats above 255",
        extreme(image=np.full((32, 32, 3), 256.0, dtype=np.float32)),
        rf"^{IMAGE_RULE}, got float32 values in \[256, 256\]$",
    ),
    (
        "snapshot: image of negative floats",
        lambda: widgets.snapshot_explorer([snap()], np.full((32, 32, 3), -0.5)),
        rf"^{IMAGE_RULE} \(divide .*\), got float64 values in \[-0.5, -0.5\]$",
    ),
    (
        "decode: image with NaN",
        decode(image=np.full((32, 32, 3), nan)),
        r"^image must be finite, got NaN at \(0, 0, 0\)$",
    ),
    (
        "decode: image of bools",
        decode(image=np.zeros((32, 32, 3), dtype=bool)),
        rf"^{IMAGE_RULE}, got dtype bool$",
    ),
    (
        "decode: image of strings",
        decode(image=np.full((32, 32, 3), "x")),
        rf"^{IMAGE_RULE}, got dtype <U1$",
    ),
    (
        "decode: numpy heads['hm']",
        decode(h=heads(hm=np.full((2, 8, 8), 0.1))),
        r"^heads\['hm'\] must be a torch.Tensor of shape \(C, H, W\), got numpy.ndarray$",
    ),
    (
        "decode: numpy heads['wh']",
        decode(h=heads(wh=np.ones((2, 8, 8)))),
        r"^heads\['wh'\] must be a torch.Tensor of shape \(2, H, W\), got numpy.ndarray$",
    ),
    (
        "decode: heads['reg'] as lists",
        decode(h=heads(reg=[[[0.0]]])),
        r"^heads\['reg'\] must be a torch.Tensor of shape \(2, H, W\), got list$",
    ),
    (
        "decode: heads['wh'] of another size",
        decode(h=heads(wh=torch.ones(2, 4, 4))),
        r"^heads\['wh'\] must have shape \(2, H, W\) = \(2, 8, 8\), got \(2, 4, 4\)$",
    ),
    (
        "decode: heads['hm'] with no class",
        decode(h=heads(hm=torch.zeros(0, 8, 8))),
        r"^heads\['hm'\] must have C, H, W >= 1, got \(0, 8, 8\)$",
    ),
    (
        "extreme: numpy hm_c",
        extreme(h=exheads(hm_c=np.full((2, 8, 8), 0.1))),
        r"^heads\['hm_c'\] must be a torch.Tensor of shape \(C, H, W\), got numpy.ndarray$",
    ),
    (
        "extreme: hm_b of another size",
        extreme(h=exheads(hm_b=torch.zeros(3, 8, 8))),
        r"^heads\['hm_b'\] must have shape \(C, H, W\) = \(2, 8, 8\), got \(3, 8, 8\)$",
    ),
    (
        "snapshot: numpy hm",
        lambda: widgets.snapshot_explorer([snap(hm=np.full((2, 8, 8), 0.1))]),
        r"^snapshots\[0\]\['hm'\] must be a torch.Tensor of shape \(C, H, W\), "
        r"got numpy.ndarray$",
    ),
    (
        "snapshot: numpy dets",
        lambda: widgets.snapshot_explorer([snap(dets=np.zeros((3, 6)))]),
        r"^snapshots\[0\]\['dets'\] must be a torch.Tensor of shape \(K, 6\), got numpy.ndarray$",
    ),
    # 3. no internal error reaches the reader
    (
        "decode: gt labels ['cat']",
        decode(gt=([[0, 0, 8, 8]], ["cat"])),
        r"^gt labels must be numeric, got \['cat'\]$",
    ),
    (
        "extreme: gt labels ['cat']",
        extreme(gt=([[0, 0, 8, 8]], ["cat"])),
        r"^gt labels must be numeric, got \['cat'\]$",
    ),
    (
        "snapshot: gt labels ['cat']",
        lambda: widgets.snapshot_explorer([snap()], IMAGE, ([[0, 0, 8, 8]], ["cat"])),
        r"^gt labels must be numeric, got \['cat'\]$",
    ),
    (
        "decode: 3 boxes, 2 labels",
        decode(gt=([[0, 0, 8, 8]] * 3, [0, 1])),
        r"^gt labels must have shape \(3,\) to match the objects, got \(2,\)$",
    ),
    (
        "extreme: 3 boxes, 2 labels",
        extreme(gt=([[0, 0, 8, 8]] * 3, [0, 1])),
        r"^gt labels must have shape \(3,\) to match the objects, got \(2,\)$",
    ),
    (
        "decode: gt label past the classes",
        decode(gt=([[0, 0, 8, 8]], [2])),
        r"^gt labels must lie in \[0, 2\), got \[2\] \(objects \[0\]\)$",
    ),
    (
        "decode: gt label 0.5",
        decode(gt=([[0, 0, 8, 8]], [0.5])),
        r"^gt labels must be integers, got \[0.5\]$",
    ),
    (
        "decode: gt box inverted",
        decode(gt=([[8, 0, 0, 8]], [0])),
        r"^gt boxes need x1 <= x2 and y1 <= y2",
    ),
    (
        "decode: gt not a pair",
        decode(gt=[[0, 0, 8, 8]]),
        r"^gt must be a pair \(boxes \(N, 4\), labels \(N,\)\), got 1 items$",
    ),
    (
        "decode: gt a tensor",
        decode(gt=torch.zeros(2, 4)),
        r"^gt must be a pair \(boxes \(N, 4\), labels \(N,\)\), got torch.Tensor$",
    ),
    (
        "match_detections: 3 boxes, 2 labels",
        lambda: match_detections([[0, 0, 8, 8]] * 3, [0, 1], [[0, 0, 8, 8]], [0]),
        r"^labels must hold one label per box of boxes \(3\), got 2$",
    ),
    (
        "match_detections: 3 gt boxes, 2 gt labels",
        lambda: match_detections([[0, 0, 8, 8]], [0], [[0, 0, 8, 8]] * 3, [0, 1]),
        r"^gt_labels must hold one label per box of gt_boxes \(3\), got 2$",
    ),
    (
        "match_detections: labels ['cat']",
        lambda: match_detections([[0, 0, 8, 8]], ["cat"], [[0, 0, 8, 8]], [0]),
        r"^labels must be numeric, got \['cat'\]$",
    ),
    (
        "match_detections: gt labels ['cat']",
        lambda: match_detections([[0, 0, 8, 8]], [0], [[0, 0, 8, 8]], ["cat"]),
        r"^gt_labels must be numeric, got \['cat'\]$",
    ),
    (
        "match_detections: NaN label",
        lambda: match_detections([[0, 0, 8, 8]], [nan], [[0, 0, 8, 8]], [0]),
        r"^labels must be integers, got \[nan\]$",
    ),
    (
        "match_detections: NaN box",
        lambda: match_detections([[0, nan, 8, 8]], [0], [[0, 0, 8, 8]], [0]),
        r"^boxes must be finite, got NaN or infinity in boxes \[0\]$",
    ),
    (
        "match_detections: 5 numbers",
        lambda: match_detections([0, 0, 8, 8, 1], [0], [[0, 0, 8, 8]], [0]),
        r"^boxes must have shape \(N, 4\) as x1, y1, x2, y2, got \(5,\)$",
    ),
    (
        "match_detections: iou True",
        lambda: match_detections([[0, 0, 8, 8]], [0], [[0, 0, 8, 8]], [0], iou=True),
        r"^iou must be a finite number >= 0, got True$",
    ),
    (
        "quantities: radius without controls",
        lambda: widgets.quantities("radius", {}),
        r"^controls of explorer 'radius' must hold \['width', 'height', 'min_overlap'\], "
        r"missing \['width', 'height', 'min_overlap'\]$",
    ),
    (
        "quantities: radius without height",
        lambda: widgets.quantities("radius", {"width": 24, "min_overlap": 0.7}),
        r"^controls of explorer 'radius' must hold .*, missing \['height'\]$",
    ),
    (
        "quantities: controls not a dict",
        lambda: widgets.quantities("offset", [13.3, 6.8, 4]),
        r"^controls of explorer 'offset' must be a dict holding \['x', 'y', 'stride'\], got list$",
    ),
    (
        "quantities: centre without its data",
        lambda: widgets.quantities("centre", {"cx": 50.0, "cy": 62.0}),
        r"^data of explorer 'centre' must be its Explorer's data \(Explorer.data\), holding "
        r"\['R', 'box_w', 'box_h', 'size'\], missing \['R', 'box_w', 'box_h', 'size'\]$",
    ),
    (
        "quantities: decode with part of its data",
        lambda: widgets.quantities("decode", {"threshold": 0.3, "K": 5, "kernel": 3}, {"hm": 1}),
        r"^data of explorer 'decode' must be .*, missing \['wh', 'reg'\]$",
    ),
    (
        "Explorer: values missing a control",
        lambda: parts.Explorer("radius", *radius_parts()[:2], {"width": 24}),
        r"^values must hold \['width', 'height', 'min_overlap', 'mode'\], "
        r"missing \['height', 'min_overlap', 'mode'\]$",
    ),
    # 4. a bool is not a number, nor an option
    (
        "offset: stride True",
        lambda: widgets.offset_explorer(stride=True),
        r"^stride must be one of \(1, 2, 4, 8\), got True$",
    ),
    (
        "offset: stride numpy True",
        lambda: widgets.offset_explorer(stride=np.True_),
        r"^stride must be one of \(1, 2, 4, 8\), got (np\.)?True_?\)?$",
    ),
    (
        "decode: kernel True",
        decode(kernel=True),
        r"^kernel must be one of \(1, 3, 5, 7\), got True$",
    ),
    ("decode: K True", decode(K=True), r"^K must be a number in \[1, 50\], got True$"),
    (
        "decode: stride True",
        decode(stride=True),
        r"^stride must be a finite number > 0, got True$",
    ),
    (
        "snapshot: threshold False",
        lambda: widgets.snapshot_explorer([snap()], threshold=False),
        r"^threshold must be a number in \[0.05, 0.95\], got False$",
    ),
    (
        "loss weights: off_weight True",
        lambda: widgets.loss_weights_explorer(off_weight=True),
        r"^off_weight must be one of \(.*1\.0\), got True$",
    ),
    (
        "Control: option False",
        lambda: parts.Control("k", "k", options=(0, 1)).check(False),
        r"^k must be one of \(0, 1\), got False$",
    ),
]


@pytest.mark.parametrize(("call", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_named(call, pattern):
    with pytest.raises(ValueError, match=pattern) as info:
        call()
    assert type(info.value) is ValueError


def test_every_explorer_entry_point_has_cases():
    covered = " ".join(c[0] for c in CASES)
    for name in ("snapshot", "decode", "extreme", "match_detections", "quantities", "Explorer"):
        assert name in covered, name


# What is accepted ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        np.full((32, 32, 3), 0.5),
        np.full((32, 32, 3), 0.5, dtype=np.float16),
        torch.full((32, 32, 3), 0.5, dtype=torch.bfloat16),
        np.full((32, 32, 3), 128, dtype=np.uint8),
        np.full((32, 32, 3), 128),
        torch.full((32, 32, 3), 128, dtype=torch.uint8),
    ],
    ids=["float64", "float16", "bfloat16", "uint8", "int64", "torch uint8"],
)
def test_images_of_floats_in_0_1_or_integers_to_255_are_drawn_alike(image):
    e = widgets.decode_explorer(image, heads())
    assert np.all(detections._image(e.data) == 128)


def test_a_bool_is_still_refused_where_bools_are_no_option_but_accepted_where_they_are():
    assert parts.Control("k", "k", options=(False, True)).check(True) is True
    assert parts.Control("k", "k", options=(1, 2)).check(1.0) == 1


def test_ground_truth_of_tensors_embeds_as_numbers():
    gt = (torch.tensor([[0.5, 0, 8, 8.25]]), torch.tensor([1]))
    e = widgets.decode_explorer(IMAGE, heads(), gt)
    assert (e.data["gt_boxes"], e.data["gt_labels"]) == ([[0.5, 0.0, 8.0, 8.25]], [1])
    assert match_detections([[0.5, 0, 8, 8.25]], [1.0], *gt) == [0]
    assert match_detections([0.5, 0, 8, 8.25], [1], *gt) == [0]  # one box, flat
    assert match_detections([], [], *gt) == []


def test_every_explorer_registers_the_controls_and_data_its_numbers_read():
    made = [make() for make in (widgets.centre_explorer, widgets.radius_explorer)]
    made += [widgets.radius_cases_explorer(), widgets.focal_loss_explorer()]
    made += [widgets.focal_gradient_explorer(), widgets.shape_explorer()]
    made += [widgets.offset_explorer(), widgets.size_explorer(), widgets.prior_explorer()]
    made += [widgets.loss_weights_explorer(), widgets.snapshot_explorer([snap()], IMAGE, GT)]
    made += [
        widgets.decode_explorer(IMAGE, heads(), GT),
        widgets.extreme_explorer(IMAGE, exheads()),
    ]
    assert sorted(e.name for e in made) == sorted(parts.QUANTITIES)
    for e in made:
        controls, data = parts.NEEDS[e.name]
        assert sorted(controls) == sorted(e.values), e.name
        assert set(data) <= set(e.data), e.name


# What reaches the page ----------------------------------------------------------------------

HOSTILE = "<img src=x onerror=alert(1)>"
NOTE = "<!--<script>"


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, and the text outside scripts."""

    def __init__(self, text: str):
        super().__init__()
        self.tags, self.text, self.in_script = [], [], False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.in_script = tag == "script"

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if not self.in_script:
            self.text.append(data)


def hostile_explorer() -> parts.Explorer:
    controls, shown, values = radius_parts(HOSTILE, options=(HOSTILE, 'x" onclick="y'))
    controls += [parts.Control('"><img src=x>', HOSTILE, options=(1, 2))]
    values |= {'"><img src=x>': 2}
    data = {"note": NOTE, "amp": "a & b </script> > c", "nested": [{"s": "</script><b>"}]}
    return parts.Explorer("radius", controls, shown, values, data)


def embedded(page: str) -> str:
    return re.search(
        r'<script type="application/json" class="cn-data">(.*?)</script>', page, re.S
    ).group(1)


def test_hostile_labels_names_and_options_stay_text():
    e = hostile_explorer()
    for page in (e.html(), e.block()):
        assert "<img src=x" not in page and NOTE not in page
        tags = Tags(page)
        assert [a for t, a in tags.tags if t == "img" and a.get("src") == "x"] == []
        assert {t for t, _ in tags.tags} <= {
            "div", "img", "p", "label", "input", "span", "select", "option", "output", "svg",
            "script",
        }  # fmt: skip
        selects = [a["name"] for t, a in tags.tags if t == "select"]
        assert selects == ["mode", '"><img src=x>']
        options = [a["value"] for t, a in tags.tags if t == "option"]
        assert options == [HOSTILE, 'x" onclick="y', "1", "2"]
        assert not any("onclick" in a or "onerror" in a for _, a in tags.tags)
        assert HOSTILE in "".join(tags.text)  # shown as text, as written


def test_embedded_json_reads_back_unchanged_and_cannot_end_its_element():
    e = hostile_explorer()
    text = embedded(e.html())
    assert not set("<>&") & set(text)
    assert json.loads(text) == e.data
    plain = widgets.decode_explorer(IMAGE, heads(), GT)
    plain = getattr(plain, "explorer", plain)  # the Explorer a LiveExplorer wraps
    assert json.loads(embedded(plain.html())) == plain.data


def test_the_page_writes_the_numbers_it_shows_without_nan_in_its_data():
    e = widgets.loss_weights_explorer(step=10)  # no evaluation yet: AP50 is NaN, shown as a dash
    assert math.isnan(e.numbers["ap50"])
    json.loads(embedded(getattr(e, "explorer", e).block()))  # its data stay finite
