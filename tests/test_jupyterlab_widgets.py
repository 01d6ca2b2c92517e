"""Chapter 3's explorer as a widget in a real JupyterLab: your focal loss beside the package's.

A copy of ``book/03_focal_loss.ipynb`` whose ``my_focal_loss`` stub holds a deliberately
wrong focal loss, with a few cells appended that read and set the explorer from Python,
is opened in JupyterLab (``jupyterlab_harness``) in headless Chromium and run (Run > Run
All Cells). Then, as a student would:

1. the chapter's own cell ``explorer = focal_loss_explorer(yours=my_focal_loss)`` shows a
   live widget, the wrong function's numbers beside the package's, the first disagreement
   marked;
2. a slider moved with real input events (a click, arrow keys) reaches the kernel: a cell
   run afterwards reads the new value in ``explorer.values``, and the widget's numbers for
   it equal calling the functions in Python (1e-6 relative);
3. ``explorer.values = {...}`` in a cell moves the slider;
4. an explorer opened on a function that raises shows the error, and its next slider move
   still works, in the page and in the kernel.

Screenshots go to ``test-output/jupyterlab-widgets/``. Needs what ``test_jupyterlab.py``
needs, and anywidget (the ``explorers`` extra).
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path

import jupyterlab_harness as lab_harness
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "03_focal_loss.ipynb"
SHOTS = ROOT / "test-output" / "jupyterlab-widgets"
EXPLORER_CELL = re.compile(r"^(\w+) = focal_loss_explorer\(yours=my_focal_loss\)$", re.M)
# Wrong twice over: no (1 - Y)^beta forgiveness near a centre, and a mean over the pixels.
WRONG = '''\
def my_focal_loss(pred, gt):
    """A deliberately wrong L_k."""
    return -(gt * torch.log(pred) + (1 - gt) * pred**2 * torch.log(1 - pred)).mean()
'''
# The cells appended to the chapter, by what they do; {name} is the explorer's variable.
PROBES = {
    "values": "import json\n\nprint(json.dumps({name}.values))",
    "numbers": """\
import json

y = {name}.values["y"]
pixel = lambda v: torch.full((1, 1, 1, 1), float(v), dtype=torch.float64)
yours = float(my_focal_loss(pixel(0.5), pixel(y)))
print(json.dumps({{"y": y, "yours": yours, "package": float(focal_loss(pixel(0.5), pixel(y)))}}))""",
    "set": '{name}.values = {{"y": 0.2}}',
    "raising": """\
def raising(pred, gt):
    raise RuntimeError("a deliberate failure")


broken = focal_loss_explorer(yours=raising)
broken""",
    "broken values": "import json\n\nprint(json.dumps(broken.values))",
}
ROW = "negative at Yhat 0.5, Y = {y:g}"  # the table row the probes compute
RUN_TIMEOUT = 600


@pytest.fixture(scope="module")
def browser():
    driver = lab_harness.start_browser()
    driver.set_window_size(1400, 1000)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    if importlib.util.find_spec("anywidget") is None:
        lab_harness.missing("anywidget (pip install -e '.[explorers]')")
    with lab_harness.serve_lab(tmp_path_factory.mktemp("jupyterlab-widgets")) as server:
        yield server


def prepared_chapter() -> tuple[dict, str, dict[str, int], int]:
    """Chapter 3 with the wrong stub and the probes: (notebook, the explorer's variable,
    each probe's cell index, the explorer cell's index)."""
    nb = nbformat.read(CHAPTER, as_version=4)
    stubs = [
        i
        for i, c in enumerate(nb.cells)
        if "exercise" in c.metadata.get("tags", []) and "def my_focal_loss(" in c.source
    ]
    assert len(stubs) == 1, f"cells tagged 'exercise' that define my_focal_loss: {stubs}"
    nb.cells[stubs[0]].source = WRONG
    found = [(i, EXPLORER_CELL.search(c.source)) for i, c in enumerate(nb.cells)]
    found = [(i, m.group(1)) for i, m in found if m and nb.cells[i].cell_type == "code"]
    assert len(found) == 1, (
        "chapter 3 needs one cell `NAME = focal_loss_explorer(yours=my_focal_loss)`"
    )
    (explorer, name), probes = found[0], {}
    for what, source in PROBES.items():
        probes[what] = len(nb.cells)
        nb.cells.append(nbformat.v4.new_code_cell(source.format(name=name)))
    for k, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{k}"
    return json.loads(nbformat.writes(nb)), name, probes, explorer


def printed(shown: list[tuple[str, str]]) -> dict:
    text = "".join(t for mime, t in shown if mime == "application/vnd.jupyter.stdout")
    return json.loads(text)


def row(state: dict, label: str, role: str = "yours") -> dict:
    (section,) = [s for s in state["sections"] if s["role"] == role]
    rows = [r for r in section["rows"] if r["label"] == label]
    assert rows, f"no row {label!r} among {[r['label'] for r in section['rows']]}"
    return rows[0]


def close(a, b, rel=1e-6) -> bool:
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-12)


@pytest.fixture(scope="module")
def session(browser, lab) -> dict:
    notebook, name, probes, explorer = prepared_chapter()
    path = "widgets/03_focal_loss.ipynb"
    lab.place(notebook, path)
    lab_harness.open_notebook(browser, lab, path, workspace="widgets")
    counts = lab_harness.run_all(browser, timeout=RUN_TIMEOUT)
    return {"name": name, "probes": probes, "explorer": explorer, "counts": counts}


def widget(browser, index: int, what: str, ready=lambda s: True, timeout: float = 60) -> dict:
    def seen():
        state = lab_harness.widget_state(browser, index)
        return state if state and state["sections"] and ready(state) else None

    return lab_harness.wait_for(seen, timeout, what)


def test_run_all_runs_the_chapter_and_the_probes(session):
    unrun = [i for i, count in session["counts"].items() if not count.isdigit()]
    assert not unrun, f"cells that did not run: {unrun}"


def test_the_widget_shows_the_wrong_function_beside_the_package(browser, session):
    index = session["explorer"]
    state = widget(browser, index, "the explorer widget with its comparison")
    lab_harness.screenshot_of_cell(browser, index, SHOTS / "1-widget.png")
    (section,) = state["sections"]
    assert not section["error"], section["error"]
    assert section["lines"] == 2, "your curves are not drawn beside the package's"
    first = [r for r in section["rows"] if r["first"]]
    assert len(first) == 1 and first[0]["disagree"], section["rows"]
    assert "first disagreement: " + first[0]["label"] in section["title"]
    for r in section["rows"]:
        assert r["package"] is not None and r["yours"] is not None, r


def test_a_slider_moved_in_the_page_reaches_the_kernel(browser, session):
    index, probes = session["explorer"], session["probes"]
    before = lab_harness.widget_state(browser, index)["inputs"]["y"]["value"]
    lab_harness.move_slider(browser, index, "y", presses=2)
    moved = float(lab_harness.widget_state(browser, index)["inputs"]["y"]["value"])
    assert moved != float(before), "the slider did not move"
    # The kernel has the value once its comparison is back: the rows name the new Y.
    state = widget(
        browser,
        index,
        f"the comparison at Y = {moved:g}",
        lambda s: any(r["label"] == ROW.format(y=moved) for r in s["sections"][0]["rows"]),
    )
    lab_harness.screenshot_of_cell(browser, index, SHOTS / "2-slider-moved.png")
    values = printed(lab_harness.run_cell(browser, probes["values"]))
    assert values["y"] == moved, (values, moved)
    numbers = printed(lab_harness.run_cell(browser, probes["numbers"]))
    shown = row(state, ROW.format(y=moved))
    assert close(shown["yours"], numbers["yours"]), (shown, numbers)
    assert close(shown["package"], numbers["package"]), (shown, numbers)
    assert not close(numbers["yours"], numbers["package"], rel=1e-3), "the wrong function is right"
    assert shown["disagree"]
    assert float(shown["yours_text"]) == pytest.approx(numbers["yours"], rel=1e-5)


def test_setting_values_from_python_moves_the_slider(browser, session):
    index = session["explorer"]
    lab_harness.run_cell(browser, session["probes"]["set"])

    def moved():
        state = lab_harness.widget_state(browser, index)
        y = state["inputs"]["y"]
        return state if float(y["value"]) == 0.2 and y["readout"] == "0.2" else None

    state = lab_harness.wait_for(moved, 30, "the slider to move to 0.2")
    lab_harness.screenshot_of_cell(browser, index, SHOTS / "3-set-from-python.png")
    widget(
        browser,
        index,
        "the comparison at Y = 0.2",
        lambda s: any(r["label"] == ROW.format(y=0.2) for r in s["sections"][0]["rows"]),
    )
    assert state["numbers"], "the explorer shows no numbers"


def test_a_raising_function_shows_its_error_and_the_widget_still_works(browser, session):
    index = session["probes"]["raising"]
    state = widget(browser, index, "the explorer opened on a raising function")
    (section,) = state["sections"]
    assert "RuntimeError: a deliberate failure" in section["error"], section
    assert all(r["yours"] is None and r["package"] is not None for r in section["rows"])
    numbers = dict(state["numbers"])
    lab_harness.move_slider(browser, index, "y", presses=3)
    after = lab_harness.widget_state(browser, index)
    moved = float(after["inputs"]["y"]["value"])
    assert after["numbers"] != numbers, "the explorer's numbers did not follow the slider"
    widget(
        browser,
        index,
        f"the kernel's comparison at Y = {moved:g}",
        lambda s: (
            any(r["label"] == ROW.format(y=moved) for r in s["sections"][0]["rows"])
            and "a deliberate failure" in s["sections"][0]["error"]
        ),
    )
    lab_harness.screenshot_of_cell(browser, index, SHOTS / "4-raising-function.png")
    values = printed(lab_harness.run_cell(browser, session["probes"]["broken values"]))
    assert values["y"] == moved
