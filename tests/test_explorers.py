"""The explorers compute in the browser what the package computes, and their HTML holds
what the browser needs: every control, every number, one figure, no fetch.

The parity tests run the explorers' JavaScript (formulas.js, quantities.js) in Node over a
grid of control values per explorer and compare every number with ``widgets.quantities``
(the package's functions) within 1e-6 relative.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
import torch

pytest.importorskip("matplotlib")

from centernet_edu import widgets  # noqa: E402
from centernet_edu.pretrained import loss_weight_runs  # noqa: E402
from centernet_edu.widgets import explorer as parts  # noqa: E402

# Reads [{name, data, controls: [...]}, ...] on stdin and writes the numbers of each.
DRIVER = """
const fs = require("fs"), vm = require("vm");
for (const f of process.argv.slice(1)) vm.runInThisContext(fs.readFileSync(f, "utf8"), { filename: f });
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map((c) => {
  const d = CenterNetFormulas.prepare(c.data);
  return c.controls.map((ctl) => CenterNetFormulas.quantities(c.name, ctl, d));
})));
"""
TERMS = ("loss", "hm_loss", "wh_loss", "off_loss")
ARITHMETIC = [parts.SCRIPT_DIR / name for name in ("formulas.js", "quantities.js")]


def node() -> str:
    """Node's path; a skip without it, except under CI, where ``.ci/run`` installs it."""
    exe = shutil.which("node")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("node is missing under CI (.ci/run installs it)")
        pytest.skip("node is missing")
    return exe


def browser_numbers(cases: list[dict]) -> list[list[dict]]:
    """What the explorers' JavaScript computes for each case's list of control values."""
    run = subprocess.run(
        [node(), "-e", DRIVER, *map(str, ARITHMETIC)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


# The explorers under test ----------------------------------------------------------------


def perfect_heads(seed=3):
    """One shapes image and the heads a perfect model would give for it."""
    from torch.utils.data import default_collate

    from centernet_edu import ShapesDataset, scatter_targets
    from centernet_edu.data import denormalize_image

    shapes = ("circle", "square", "triangle")
    ds = ShapesDataset(1, 64, seed=seed, shapes=shapes, size_range=(12, 40), objects=(3, 4))
    item = ds[0]
    heads = {k: v[0] for k, v in scatter_targets(default_collate([item])).items()}
    n = int(item["num_objs"])
    return denormalize_image(item["image"]), heads, (item["boxes"][:n], item["labels"][:n])


def noisy(heads: dict, seed: int = 0) -> dict:
    """``heads`` with noise: a trained model's maps, with no ties and no exact zeros."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, v in heads.items():
        noise = torch.rand(v.shape, generator=g)
        out[k] = 0.8 * v + 0.2 * noise if k.startswith("hm") else v + 2 * noise - 1
    return out


def extreme_heads(seed=5):
    from torch.utils.data import default_collate

    from centernet_edu import ShapesDataset, scatter_targets
    from centernet_edu.data import denormalize_image

    ds = ShapesDataset(1, 64, seed=seed, shapes=("circle", "square"), objects=(2, 3), extreme=True)
    item = ds[0]
    keys = [k for k in item if k.startswith(("hm_", "reg_", "ind_"))] + ["reg_mask"]
    heads = scatter_targets(default_collate([{k: item[k] for k in keys}]))
    n = int(item["num_objs"])
    image, gt = denormalize_image(item["image"]), (item["boxes"][:n], item["labels"][:n])
    return image, noisy({k: v[0] for k, v in heads.items()}, seed), gt


def training_snapshots(boxes: bool = True, steps=(1, 10, 25, 50, 100, 300)):
    """A run's snapshots of one image, from noise towards the perfect heads: each with its
    step, made-up falling loss terms, ``hm`` and (with ``boxes``) its decoded ``dets``."""
    from centernet_edu import decode_ctdet

    image, heads, gt = perfect_heads()
    g = torch.Generator().manual_seed(7)
    noise = torch.rand(heads["hm"].shape, generator=g)
    wh, reg = noisy({"wh": heads["wh"], "reg": heads["reg"]}).values()
    out = []
    for i, step in enumerate(steps):
        a = i / (len(steps) - 1)
        hm = (1 - a) * (0.1 + 0.3 * noise) + a * (0.8 * heads["hm"] + 0.2 * noise)
        terms = {"loss": 9.0 / (1 + i), "hm_loss": 4.0 / (1 + 2 * i), "off_loss": 0.3 - 0.01 * i}
        snap = {"step": step, "hm": hm} | terms | {"wh_loss": 40.0 / (1 + i) ** 0.5}
        if boxes:
            snap["dets"] = decode_ctdet(hm[None], wh[None], reg[None], K=20)[0]
        out.append(snap)
    return image, out, gt


def weight_runs(steps=range(10, 101, 10), evals=(50, 100)) -> dict:
    """Made-up records of ``benchmarks/loss_weight_runs.py`` on the grid {0.01, 0.1, 1} x
    {0.1, 1}: terms falling with the step, AP50 rising, every value rounded as it rounds."""
    runs = []
    for a in (0.01, 0.1, 1.0):
        for b in (0.1, 1.0):
            hm = [round(3 / (1 + s / 20) + a, 5) for s in steps]
            wh = [round(8 / (1 + s * (1 + a) / 30), 5) for s in steps]
            off = [round(0.3 - s * b / 1000, 5) for s in steps]
            loss = [round(h + a * w + b * o, 5) for h, w, o in zip(hm, wh, off, strict=True)]
            ev = [
                {"step": s, "AP50": round(s / (s + 60) * (1 - a / 3) * (0.8 + b / 5), 4)}
                for s in evals
            ]
            runs.append({"wh_weight": a, "off_weight": b, "step": list(steps), "loss": loss})
            runs[-1] |= {"hm_loss": hm, "wh_loss": wh, "off_loss": off, "eval": ev}
    return {"command": "made up", "runs": runs}


def explorers() -> list[widgets.Explorer]:
    simple = [
        widgets.centre_explorer(),
        widgets.radius_explorer(),
        widgets.radius_cases_explorer(),
        widgets.focal_loss_explorer(),
        widgets.focal_gradient_explorer(),
        widgets.shape_explorer(),
        widgets.offset_explorer(),
        widgets.size_explorer(),
        widgets.prior_explorer(),
        widgets.loss_weights_explorer(),
        widgets.loss_weights_explorer(weight_runs()["runs"], wh_weight=1.0, step=30),
    ]
    image, heads, gt = perfect_heads()
    ex_image, ex_heads, ex_gt = extreme_heads()
    snap_image, snaps, snap_gt = training_snapshots()
    return simple + [
        widgets.snapshot_explorer(snaps, snap_image, snap_gt),
        widgets.snapshot_explorer(training_snapshots(boxes=False)[1], snapshot=2, threshold=0.1),
        widgets.decode_explorer(image, heads, gt),
        widgets.decode_explorer(image, noisy(heads), gt, kernel=5),
        widgets.decode_explorer(image, noisy(heads, 1)),
        widgets.extreme_explorer(ex_image, ex_heads, ex_gt, K=4),
        widgets.extreme_explorer(ex_image, ex_heads, K=3, center_thresh=0.0),
    ]


def grid(e: widgets.Explorer, per_control: int = 6, mixed: int = 12) -> list[dict]:
    """Control values for ``e``: each control over its range with the others at their
    values, then random combinations; every value on its control's grid."""
    rng = random.Random(e.name)

    def spread(c, n):
        if c.options:
            return list(c.options)
        return [c.check(min(c.lo + (c.hi - c.lo) * i / (n - 1), c.hi)) for i in range(n)]

    out = [dict(e.values)]
    for name, c in e.controls.items():
        out += [e.values | {name: v} for v in spread(c, per_control)]
    for _ in range(mixed):
        out.append({name: rng.choice(spread(c, 41)) for name, c in e.controls.items()})
    return out


@pytest.fixture(scope="module")
def compared():
    """Per explorer name: (controls, package numbers, browser numbers) over its grid."""
    cases = [(e, grid(e)) for e in explorers()]
    browser = browser_numbers(
        [{"name": e.name, "data": e.data, "controls": points} for e, points in cases]
    )
    out = {}
    for (e, points), js in zip(cases, browser, strict=True):
        py = [widgets.quantities(e.name, p, e.data) for p in points]
        out.setdefault(e.name, []).extend(zip(points, py, js, strict=True))
    return out


NAMES = ["centre", "radius", "radius_cases", "focal", "focal_gradient", "shape", "offset"]
NAMES += ["size", "prior", "loss_weights", "snapshot", "decode", "extreme"]


@pytest.mark.parametrize("name", NAMES)
def test_browser_numbers_equal_the_package(compared, name):
    for controls, py, js in compared[name]:
        assert set(js) == set(py), (controls, sorted(set(js) ^ set(py)))
        for k, v in py.items():
            if math.isnan(v):  # not measured at these controls; JSON writes NaN as null
                assert js[k] is None, (controls, k, js[k])
                continue
            assert math.isclose(js[k], v, rel_tol=1e-6, abs_tol=1e-12), (controls, k, v, js[k])


@pytest.mark.parametrize("name", NAMES)
def test_the_grid_moves_every_number_that_depends_on_a_control(compared, name):
    # A grid on which a number never changes could not catch the browser getting it wrong.
    rows = compared[name]
    for k in {k for _, py, _ in rows for k in py}:
        values = {round(py[k], 9) for _, py, _ in rows if k in py and not math.isnan(py[k])}
        assert len(values) > 1, k


def test_the_comparison_sees_a_wrong_number():
    e = widgets.radius_explorer(width=24, height=16, min_overlap=0.7)
    [[js]] = browser_numbers([{"name": "radius", "data": {}, "controls": [e.values]}])
    wrong = e.quantities(min_overlap=0.75)
    assert not math.isclose(js["r_centernet"], wrong["r_centernet"], rel_tol=1e-6)


# The HTML ---------------------------------------------------------------------------------


class Tags(HTMLParser):
    """Every start tag with its attributes; the text of each <label> and each <output>; the
    option values of each <select>."""

    VOID = {"input", "br", "img", "meta", "link"}

    def __init__(self, text: str):
        super().__init__()
        self.tags, self.open, self.labels, self.outputs, self.options = [], [], [], {}, {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "label":
            self.labels.append("")
        selects = [a["name"] for t, a in self.open if t == "select"]
        if tag == "option" and selects:
            self.options.setdefault(selects[-1], []).append(dict(attrs)["value"])
        if tag not in self.VOID:
            self.open.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        tags = [t for t, _ in self.open]
        if "label" in tags and not {"span", "option"} & set(tags):  # not its readout
            self.labels[-1] += data
        if tags and tags[-1] == "output":
            name = self.open[-1][1]["name"]
            self.outputs[name] = self.outputs.get(name, "") + data

    def find(self, tag, **attrs):
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


@pytest.fixture(scope="module")
def pages():
    return [(e, e._repr_html_()) for e in explorers()]


def test_every_control_is_a_labelled_input_or_select(pages):
    for e, page in pages:
        tags = Tags(page)
        for name, c in e.controls.items():
            if c.options:
                (select,) = tags.find("select", name=name)
                assert tags.options[name] == [str(o) for o in c.options]
            else:
                (slider,) = tags.find("input", type="range", name=name)
                assert float(slider["min"]) == c.lo and float(slider["max"]) == c.hi
                assert float(slider["step"]) == c.step
                assert float(slider["value"]) == e.values[name]
        assert [t.strip() for t in tags.labels] == [c.label for c in e.controls.values()]


def test_every_number_is_an_output_holding_the_package_value(pages):
    for e, page in pages:
        tags = Tags(page)
        assert {a["name"] for a in tags.find("output")} == {s.name for s in e.shown}
        for s in e.shown:
            (out,) = tags.find("output", name=s.name)
            shown, value = float(out["data-value"]), e.numbers[s.name]
            assert shown == value or math.isnan(shown) and math.isnan(value)
            assert tags.outputs[s.name] == parts.shown_text(e.numbers[s.name], s.digits)


def test_an_explorer_is_one_div_with_one_figure_its_data_and_its_script(pages):
    for e, page in pages:
        tags = Tags(page)
        (root,) = tags.find("div", **{"class": "cn-explorer"})
        assert root["data-explorer"] == e.name
        assert len(tags.find("svg", **{"class": "cn-figure"})) == 1
        (data,) = tags.find("script", type="application/json")
        embedded = page.split('class="cn-data">', 1)[1].split("</script>", 1)[0]
        assert json.loads(embedded) == json.loads(json.dumps(e.data))
        assert page.count(parts.scripts()) == 1
        assert "</script" not in parts.scripts().lower()  # inlined in a <script> element
        assert "CenterNetUI.mountFrom(document.currentScript)" in page
        assert len(page) < 2_000_000


def test_the_html_fetches_nothing_and_names_no_random_id(pages):
    for _, page in pages:
        hosts = set(re.findall(r"https?://[^\s\"'<>]+", page))
        assert hosts <= {"http://www.w3.org/2000/svg"}  # the SVG namespace, not a request
        assert not re.search(r"\b(fetch|XMLHttpRequest|import)\s*\(", page)
        assert " id=" not in page and "Math.random" not in page


def test_equal_arguments_give_equal_html():
    image, heads, gt = perfect_heads()
    assert widgets.size_explorer()._repr_html_() == widgets.size_explorer()._repr_html_()
    first = widgets.decode_explorer(image, heads, gt)._repr_html_()
    assert widgets.decode_explorer(image, heads, gt)._repr_html_() == first
    snap_image, snaps, snap_gt = training_snapshots()
    first = widgets.snapshot_explorer(snaps, snap_image, snap_gt)._repr_html_()
    snap_image, snaps, snap_gt = training_snapshots()  # made afresh: equal, not the same
    assert widgets.snapshot_explorer(snaps, snap_image, snap_gt)._repr_html_() == first
    first = widgets.loss_weights_explorer(weight_runs(), step=40)._repr_html_()
    assert widgets.loss_weights_explorer(weight_runs(), step=40)._repr_html_() == first
    assert (
        widgets.loss_weights_explorer()._repr_html_()
        == widgets.loss_weights_explorer()._repr_html_()
    )


# Runs ui.js's formatter over [[value as text, digits], ...] on stdin; the values go as
# text so that NaN and the infinities reach it (JSON has none).
FORMATTER = """
const fs = require("fs"), vm = require("vm");
vm.runInThisContext(fs.readFileSync(process.argv[1], "utf8"));
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(([v, d]) => CenterNetUI.shownText(Number(v), d))));
"""


def browser_text(cases: list[tuple[float, int]]) -> list[str]:
    """What the page's formatter (ui.js's shownText) writes for each (value, digits)."""
    text = {math.inf: "Infinity", -math.inf: "-Infinity"}
    sent = [["NaN" if math.isnan(v) else text.get(v, repr(float(v))), d] for v, d in cases]
    run = subprocess.run(
        [node(), "-e", FORMATTER, str(parts.SCRIPT_DIR / "ui.js")],
        input=json.dumps(sent),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_numbers_are_written_as_the_browser_writes_them():
    # The page's first text and the picture's caption (shown_text) read as the live page's
    # shownText writes the same number: ties away from zero (0.0625 -> 0.063 at 3), -0 as
    # 0, a small nonzero number never as 0.000, NaN as a dash, huge ones as the browser does.
    rng = random.Random(0)
    values = [0.0625, -0.0625, 0.5, 2.5, -2.5, 1e-7, -1e-7, 0.0, -0.0, 1234.5, 0.1 + 0.2]
    values += [0.00125, 0.0045, 0.005, 9.96e-15, 9.95e-15, 3.2e-15, 5e-324, -2.2e-308]
    values += [math.nan, math.inf, -math.inf, 1e20, 123456789.125, 1e21, -1.5e22, 1e300]
    values += [rng.randint(-4000, 4000) / 64 for _ in range(300)]
    values += [rng.uniform(-100, 100) for _ in range(300)]
    values += [rng.choice((-1, 1)) * rng.random() * 10.0 ** rng.randint(-20, 6) for _ in range(600)]
    cases = [(v, digits) for v in values for digits in (0, 1, 2, 3, 4, 5, 6)]
    written = [parts.shown_text(v, d) for v, d in cases]
    browser = browser_text(cases)
    assert [c for c, w, js in zip(cases, written, browser, strict=True) if w != js] == []
    # And never a zero for a number that is not 0.
    zeros = [
        (v, d, w) for (v, d), w in zip(cases, written, strict=True) if v and not w.strip("-0.")
    ]
    assert zeros == []


# Writes, per explorer, every <output>'s text as the live page's first update writes it:
# quantities.js's numbers at the explorer's values through ui.js's shownText.
FIRST_TEXT = """
const fs = require("fs"), vm = require("vm");
for (const f of process.argv.slice(1)) vm.runInThisContext(fs.readFileSync(f, "utf8"), { filename: f });
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map((c) => {
  const q = CenterNetFormulas.quantities(c.name, c.controls, CenterNetFormulas.prepare(c.data));
  const out = {};
  c.shown.forEach(([name, digits]) => { out[name] = CenterNetUI.shownText(q[name], digits); });
  return out;
})));
"""


def test_the_saved_text_of_every_number_is_what_the_live_page_writes(pages):
    # A saved notebook shows the explorer's HTML as Python wrote it; once its script runs,
    # the page rewrites every <output>: the two texts must be the same.
    cases = [
        {
            "name": e.name,
            "controls": e.values,
            "data": e.data,
            "shown": [[s.name, s.digits] for s in e.shown],
        }
        for e, _ in pages
    ]
    run = subprocess.run(
        [node(), "-e", FIRST_TEXT, *map(str, ARITHMETIC), str(parts.SCRIPT_DIR / "ui.js")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    for (e, page), live in zip(pages, json.loads(run.stdout), strict=True):
        saved = Tags(page).outputs
        assert saved == live, e.name
        assert [v for _, v in e.caption()[1]] == [live[s.name] for s in e.shown], e.name


def test_before_the_first_evaluation_ap50_is_not_a_number_and_shows_a_dash():
    e = widgets.loss_weights_explorer(weight_runs(), step=40)
    assert math.isnan(e.numbers["ap50"]) and math.isnan(e.numbers["ap50_step"])
    tags = Tags(e._repr_html_())
    (out,) = tags.find("output", name="ap50")
    assert out["data-value"] == "nan" and tags.outputs["ap50"] == "\u2013"
    assert e.quantities(step=50)["ap50_step"] == 50
    [[js]] = browser_numbers([{"name": e.name, "data": e.data, "controls": [e.values]}])
    assert js["ap50"] is None and js["hm_loss"] == e.numbers["hm_loss"]


def test_eight_snapshots_of_a_five_class_map_embed_in_under_300_kb():
    from centernet_edu import ShapesDataset, decode_ctdet
    from centernet_edu.data import denormalize_image

    item = ShapesDataset(1, 128, seed=1000)[0]
    g = torch.Generator().manual_seed(0)
    snaps = []
    for step in range(8):  # random maps: no zeros, no short decimals to save space
        hm, wh, reg = (torch.rand(n, 32, 32, generator=g) for n in (5, 2, 2))
        dets = decode_ctdet(hm[None], 8 * wh[None], reg[None], K=20)[0]
        snaps.append({"step": 10 * step, "hm": hm, "dets": dets} | dict.fromkeys(TERMS, 1.0))
    e = widgets.snapshot_explorer(snaps, denormalize_image(item["image"]))
    assert len(json.dumps(e.data, separators=(",", ":"))) < 300_000
    assert torch.equal(parts.array(e.data["hm"]), torch.stack([s["hm"] for s in snaps]).double())


def test_heads_of_any_float_dtype_are_embedded_as_float32():
    image, heads, gt = perfect_heads()
    half = widgets.decode_explorer(image, {k: v.bfloat16() for k, v in heads.items()}, gt)
    assert torch.equal(parts.array(half.data["hm"]), heads["hm"].bfloat16().double())


def test_embedded_arrays_read_back_exactly():
    x = torch.rand(2, 3, 4) * torch.tensor([0.0, 1e-7, 3.0]).view(1, 3, 1)
    for packed in (parts.dense(x), parts.sparse(x), parts.packed(x)):
        assert torch.equal(parts.array(packed), x.double())


def test_values_snap_to_the_slider_grid_as_the_browser_does():
    assert widgets.offset_explorer(x=13.33, y=6.8).values["x"] == 13.3
    assert widgets.prior_explorer(pi=0.03).values["log10_pi"] == -1.5
    assert widgets.radius_explorer(width=24.4).values["width"] == 24


# Bad arguments ------------------------------------------------------------------------------


def snap(step, **changes) -> dict:
    """A valid snapshot of a (2, 4, 4) map, with ``changes``."""
    return {"step": step, "hm": torch.full((2, 4, 4), 0.1)} | dict.fromkeys(TERMS, 1.0) | changes


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: widgets.radius_explorer(width=0), r"width must be a number in \[1, 60\], got 0"),
        (
            lambda: widgets.focal_loss_explorer(alpha=math.nan),
            r"alpha must be a number in \[0, 5\], got nan",
        ),
        (
            lambda: widgets.offset_explorer(stride=3),
            r"stride must be one of \(1, 2, 4, 8\), got 3",
        ),
        (lambda: widgets.prior_explorer(pi=1.0), r"pi must be a number in \(0, 1\), got 1.0"),
        (lambda: widgets.quantities("nope", {}), r"name must be one of \('centre', "),
        (
            lambda: widgets.size_explorer().quantities(depth=1.0),
            r"the explorer's controls must hold \['depth'\], missing \['depth'\]",
        ),
        (
            lambda: widgets.decode_explorer(np.zeros((8, 8, 3)), {"hm": torch.zeros(1, 2, 2)}),
            r"heads must hold \['hm', 'wh', 'reg'\], missing \['wh', 'reg'\]",
        ),
        (
            lambda: widgets.decode_explorer(
                np.zeros((8, 8)),
                {k: torch.zeros(2 if k != "hm" else 1, 2, 2) for k in "hm wh reg".split()},
            ),
            r"image must have shape \(H, W, 3\), got \(8, 8\)",
        ),
        (
            lambda: widgets.extreme_explorer(np.zeros((8, 8, 3)), {"hm_t": torch.zeros(1, 2, 2)}),
            r"heads must hold \['hm_t', 'hm_l', 'hm_b', 'hm_r', 'hm_c'\]",
        ),
    ]
    + [
        (lambda s=s: widgets.snapshot_explorer(s()), message)
        for s, message in [
            (lambda: [], r"snapshots must be a non-empty list of dicts, got an empty list"),
            (lambda: {"step": 1}, r"snapshots must be a non-empty list of dicts, got dict"),
            (
                lambda: [snap(1), {"step": 2, "loss": 1.0}],
                r"snapshots\[1\] must hold \['step', 'hm', 'loss', 'hm_loss', 'wh_loss', "
                r"'off_loss'\], missing \['hm', 'hm_loss', 'wh_loss', 'off_loss'\]",
            ),
            (
                lambda: [snap(1, hm=torch.full((2, 4, 4), -3.0))],
                r"snapshots\[0\]\['hm'\] must hold values in \[0, 1\], got values in \[-3, -3\]",
            ),
            (
                lambda: [snap(1, hm=torch.zeros(4, 4))],
                r"snapshots\[0\]\['hm'\] must have shape \(C, H, W\), got \(4, 4\)",
            ),
            (
                lambda: [snap(1, hm=torch.zeros(0, 4, 4))],
                r"snapshots\[0\]\['hm'\] must have C, H, W >= 1, got \(0, 4, 4\)",
            ),
            (
                lambda: [snap(1), snap(2, hm=torch.zeros(2, 4, 5))],
                r"snapshots\[1\]\['hm'\] must have the shape of snapshots\[0\]\['hm'\], "
                r"\(2, 4, 4\), got \(2, 4, 5\)",
            ),
            (
                lambda: [snap(1, loss=math.nan)],
                r"snapshots\[0\]\['loss'\] must be a finite number >= 0, got nan",
            ),
            (
                lambda: [snap(-1)],
                r"snapshots\[0\]\['step'\] must be a non-negative integer, got -1",
            ),
            (
                lambda: [snap(5), snap(5)],
                r"snapshots must be in training order \(increasing steps\), got \[5, 5\]",
            ),
            (
                lambda: [snap(1, dets=torch.zeros(3, 6)), snap(2)],
                r"snapshots must all hold 'dets' or none of them, got 1 of 2",
            ),
            (
                lambda: [snap(1, dets=torch.zeros(3, 5))],
                r"snapshots\[0\]\['dets'\] must have shape \(K, 6\), got \(3, 5\)",
            ),
        ]
    ]
    + [
        (
            lambda: widgets.snapshot_explorer([snap(1), snap(2)], snapshot=2),
            r"snapshot must be a number in \[0, 1\], got 2",
        ),
        (
            lambda: widgets.snapshot_explorer([snap(1)], np.zeros((8, 8))),
            r"image must have shape \(H, W, 3\), got \(8, 8\)",
        ),
        (
            lambda: widgets.snapshot_explorer([snap(1)], stride=0),
            r"stride must be a finite number > 0, got 0",
        ),
    ],
)
def test_bad_arguments_are_refused_with_what_was_expected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def changed_runs(i: int, **changes) -> dict:
    """``weight_runs()`` with run ``i``'s fields changed (``None`` drops one)."""
    runs = weight_runs()
    runs["runs"][i] |= changes
    runs["runs"][i] = {k: v for k, v in runs["runs"][i].items() if v is not None}
    return runs


RUN_KEYS = (
    r"\['wh_weight', 'off_weight', 'step', 'loss', 'hm_loss', 'wh_loss', 'off_loss', 'eval'\]"
)


@pytest.mark.parametrize(
    "runs, changes, message",
    [
        ({"command": "x"}, {}, r"runs must hold \['runs'\], missing \['runs'\]"),
        ([], {}, r"runs must be a non-empty list of dicts, got an empty list"),
        ({"runs": 3}, {}, r"runs\['runs'\] must be a non-empty list of dicts, got int"),
        (
            [{"step": [10]}],
            {},
            rf"runs\[0\] must hold {RUN_KEYS}, missing \['wh_weight', 'off_weight', 'loss', ",
        ),
        (
            changed_runs(2, eval=None),
            {},
            rf"runs\['runs'\]\[2\] must hold {RUN_KEYS}, missing \['eval'\]",
        ),
        (
            changed_runs(0, wh_weight=-0.1),
            {},
            r"runs\['runs'\]\[0\]\['wh_weight'\] must be a finite number >= 0, got -0.1",
        ),
        (
            changed_runs(0, step=[10, 20, 40]),
            {},
            r"runs\['runs'\]\[0\]\['step'\] must be increasing, evenly spaced steps, got \[10, 20, 40\]",
        ),
        (
            changed_runs(0, step=[0, 10]),
            {},
            r"runs\['runs'\]\[0\]\['step'\]\[0\] must be a positive integer, got 0",
        ),
        (
            changed_runs(1, step=list(range(20, 201, 20))),
            {},
            r"runs\['runs'\]\[1\]\['step'\] must equal runs\['runs'\]\[0\]\['step'\], "
            r"\[10, 20, 30, .*\], got \[20, 40, ",
        ),
        (
            changed_runs(0, hm_loss=[1.0] * 9),
            {},
            r"runs\['runs'\]\[0\]\['hm_loss'\] must be a list of 10 numbers, got 9 values",
        ),
        (
            changed_runs(3, loss=[1.0, 1.0, math.nan] + [1.0] * 7),
            {},
            r"runs\['runs'\]\[3\]\['loss'\]\[2\] must be a finite number >= 0, got nan",
        ),
        (
            changed_runs(0, eval=[{"step": 50, "AP50": 1.5}]),
            {},
            r"runs\['runs'\]\[0\]\['eval'\]\[0\]\['AP50'\] must be a number in \[0, 1\], got 1.5",
        ),
        (
            changed_runs(0, eval=[{"step": 100, "AP50": 0.5}, {"step": 50, "AP50": 0.4}]),
            {},
            r"runs\['runs'\]\[0\]\['eval'\] must be in training order \(increasing steps\), "
            r"got \[100, 50\]",
        ),
        (
            changed_runs(5, wh_weight=0.1, off_weight=1.0),
            {},
            r"runs\['runs'\] must hold one run per \(wh_weight, off_weight\) of a full grid, "
            r"got \[\(0.01, 0.1\), .*\(0.1, 1.0\)\]",
        ),
        (
            {"runs": weight_runs()["runs"][:5]},
            {},
            r"runs\['runs'\] must hold one run per \(wh_weight, off_weight\) of a full grid",
        ),
        (
            weight_runs(),
            {"wh_weight": 0.5},
            r"wh_weight must be one of \(0.01, 0.1, 1.0\), got 0.5",
        ),
        (weight_runs(), {"step": 0}, r"step must be a number in \[10, 100\], got 0"),
    ],
)
def test_bad_loss_weight_runs_are_refused_with_what_was_expected(runs, changes, message):
    with pytest.raises(ValueError, match=message):
        widgets.loss_weights_explorer(runs, **changes)


def test_the_shipped_runs_are_the_default():
    assert (
        widgets.loss_weights_explorer().data
        == widgets.loss_weights_explorer(loss_weight_runs()).data
    )
