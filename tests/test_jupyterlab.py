"""Chapter 3 where students run it: in a real JupyterLab, in headless Chromium.

A JupyterLab server (``jupyterlab_harness.serve_lab``: 127.0.0.1, a free port, a random
token, fresh Jupyter folders, so the chapter opens untrusted) serves copies of
``book/03_focal_loss.ipynb``, and the browser meets them as a student does:

1. Opened, before anything runs: the prose shows values, not raw MyST roles, and every
   explorer shows its static picture (untrusted, its script does not run).
2. A wrong one-line implementation typed into the ``my_focal_loss`` exercise stub, then
   Run > Run All Cells: every cell runs, none ends in an error, and the checker right
   after the stub says "not yet". The copy run has a few cells appended that read and
   set the explorer from Python (the probes).
3. The explorer as a widget, in that run:

   - the chapter's own cell ``explorer = focal_loss_explorer(yours=my_focal_loss)`` shows
     a live widget, the wrong function's numbers beside the package's, the first
     disagreement marked;
   - a slider moved with real input events (a click, arrow keys) reaches the kernel: a
     cell run afterwards reads the new value in ``explorer.values``, and the widget's
     numbers for it equal calling the functions in Python (1e-6 relative);
   - ``explorer.values = {...}`` in a cell moves the slider;
   - an explorer opened on a function that raises shows the error, and its next slider
     move still works, in the page and in the kernel.

Screenshots of each stage go to ``test-output/jupyterlab/`` and
``test-output/jupyterlab-widgets/``. The harness is first tried on a small hand-written
notebook holding each fault the checks look for, so that each check is seen to catch it.

Needs jupyterlab (the ``test`` extra), anywidget (the ``explorers`` extra) and Debian's
``chromium`` and ``chromium-driver``; without them the tests are skipped, except under CI.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import math
import re
import struct
import zlib
from pathlib import Path

import jupyterlab_harness as lab_harness
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "03_focal_loss.ipynb"
SHOTS = ROOT / "test-output" / "jupyterlab"
WIDGET_SHOTS = ROOT / "test-output" / "jupyterlab-widgets"
STUB = "my_focal_loss"
CHECKER = f"check_focal_loss({STUB})"
EXPLORER_CELL = re.compile(r"^(\w+) = focal_loss_explorer\(yours=my_focal_loss\)$", re.M)
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
# A wrong implementation on one line: no indentation or bracket for CodeMirror to add.
WRONG_STUB = f"def {STUB}(pred, gt): return (pred * 0).sum()"
RUN_TIMEOUT = 600  # chapter 3 runs in under a minute on two cores; a loaded machine is slower


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
    with lab_harness.serve_lab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


@pytest.fixture(scope="module")
def chapter() -> Path:
    """The notebook under test (a fixture, so that a copy can stand in for it)."""
    return CHAPTER


# ---------------------------------------------------------------------------------------
# The harness, on a notebook made to hold each fault


def png(width: int = 60, height: int = 30) -> str:
    """A small blue PNG, base64."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + b"\x30\x60\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + data).decode()


def explorer_output(picture: str) -> dict:
    html = f'<div class="cn-explorer"><svg class="cn-figure"></svg>{picture}</div>'
    return {
        "output_type": "execute_result",
        "execution_count": 1,
        "metadata": {},
        "data": {"text/html": html, "text/plain": "<Explorer>"},
    }


def code(source: str, outputs: list | None = None) -> dict:
    return {
        "cell_type": "code",
        "metadata": {},
        "execution_count": 1 if outputs else None,
        "source": source,
        "outputs": outputs or [],
    }


def toy_notebook() -> dict:
    picture = f'<img class="cn-picture" alt="the figure" src="data:image/png;base64,{png()}">'
    broken = '<img class="cn-picture" alt="the figure" src="data:image/png;base64,AAAA">'
    hidden = picture.replace("<img ", '<img style="display: none" ')
    cells = [
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": "A value, 0.377, then raw roles: {glue:text}`ring_cost:.3f` {cite:p}`zhou2019`.",
        },
        code("# an explorer with its picture", [explorer_output(picture)]),
        code("# an explorer without one", [explorer_output("")]),
        code("# an explorer whose picture does not load", [explorer_output(broken)]),
        code("# an explorer whose picture is hidden", [explorer_output(hidden)]),
        code("import sys\n\nprint('a warning', file=sys.stderr)"),
        code("1 / 0"),
        code("print('never reached')"),
    ]
    for k, cell in enumerate(cells):
        cell["id"] = f"toy-{k}"
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)"}},
        "cells": cells,
    }


@pytest.fixture(scope="module")
def toy(browser, lab) -> dict:
    """The toy notebook opened (roles, pictures), then run and saved."""
    path = "toy/toy.ipynb"
    lab.place(toy_notebook(), path)
    notebook = lab_harness.open_notebook(browser, lab, path, workspace="toy")
    seen = {
        "roles": lab_harness.raw_roles(browser),
        "pictures": {
            i: lab_harness.explorer_pictures(browser, i)
            for i in lab_harness.explorer_cells(notebook)
        },
    }
    seen["counts"] = lab_harness.run_all(browser, timeout=120)
    seen["shown"] = {i: lab_harness.outputs(browser, i) for i in (5, 6)}
    seen["saved"] = lab_harness.save(browser, lab, path)
    return seen


def test_the_harness_finds_raw_roles_in_rendered_prose(toy):
    assert [index for index, _ in toy["roles"]] == [0, 0], toy["roles"]
    assert "{glue:text}ring_cost:.3f" in toy["roles"][0][1]


def test_the_harness_finds_missing_and_broken_pictures(toy):
    problems = lab_harness.picture_problems(toy["pictures"])
    assert sorted(toy["pictures"]) == [1, 2, 3, 4]
    assert [p.split(":")[0] for p in problems] == [f"cell {i}, explorer 0" for i in (2, 3, 4)]
    assert "no img.cn-picture" in problems[0]
    assert "did not load" in problems[1]
    assert "not visible" in problems[2]


def test_the_harness_tells_an_error_from_stderr(toy):
    # On the page an error and text on stderr look alike...
    assert toy["shown"][5] == [("application/vnd.jupyter.stderr", "a warning\n")]
    assert [mime for mime, _ in toy["shown"][6]] == ["application/vnd.jupyter.stderr"]
    assert "ZeroDivisionError" in toy["shown"][6][0][1]
    # ...the saved notebook tells them apart; Run All stops at the error.
    errors = lab_harness.error_outputs(toy["saved"])
    assert errors == [(6, "ZeroDivisionError: division by zero")]
    assert toy["counts"][5].isdigit() and toy["counts"][6].isdigit()
    assert toy["counts"][7] == "", toy["counts"]


# ---------------------------------------------------------------------------------------
# Chapter 3, opened untrusted, before anything runs


@pytest.fixture(scope="module")
def opened(browser, lab, chapter) -> dict:
    path = f"untrusted/{chapter.name}"
    lab.place(chapter, path)
    notebook = lab_harness.open_notebook(browser, lab, path, workspace="untrusted")
    seen = {
        "notebook": notebook,
        "trust": lab_harness.trust_status(browser),
        "prompts": lab_harness.prompts(browser),
        "roles": lab_harness.raw_roles(browser),
        "pictures": {
            i: lab_harness.explorer_pictures(browser, i)
            for i in lab_harness.explorer_cells(notebook)
        },
    }
    lab_harness.screenshots(browser, SHOTS, "1-opened-untrusted")
    return seen


def test_the_chapter_opens_untrusted_and_unrun(opened):
    assert opened["trust"].startswith("Notebook not trusted"), opened["trust"]
    saved = {
        i: str(cell.get("execution_count") or "")
        for i, cell in enumerate(opened["notebook"]["cells"])
        if cell["cell_type"] == "code"
    }
    assert opened["prompts"] == saved, "a cell ran on opening"


def test_prose_shows_values_not_raw_myst_roles(opened):
    roles = opened["roles"]
    assert not roles, f"{len(roles)} raw MyST roles in the rendered prose, e.g.:\n" + "\n".join(
        f"  cell {index}: ...{excerpt}..." for index, excerpt in roles[:8]
    )


def test_every_explorer_shows_its_static_picture(opened):
    assert opened["pictures"], "no cell of the chapter has an explorer's output"
    problems = lab_harness.picture_problems(opened["pictures"])
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------
# Chapter 3, a wrong stub typed in, then Run All Cells


def with_probes(chapter: Path) -> tuple[dict, str, dict[str, int], int]:
    """The chapter with the probes appended: (notebook, the explorer's variable, each
    probe's cell index, the explorer cell's index)."""
    nb = nbformat.read(chapter, as_version=4)
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


@pytest.fixture(scope="module")
def ran(browser, lab, chapter) -> dict:
    path = f"run-all/{chapter.name}"
    notebook, name, probes, explorer = with_probes(chapter)
    lab.place(notebook, path)
    notebook = lab_harness.open_notebook(browser, lab, path, workspace="run-all")
    stubs = lab_harness.tagged(notebook, "exercise", defines=STUB)
    assert len(stubs) == 1, f"cells tagged 'exercise' that define {STUB}: {stubs}"
    stub = stubs[0]
    checkers = [
        i
        for i, cell in enumerate(notebook["cells"])
        if i > stub and cell["cell_type"] == "code" and CHECKER in "".join(cell["source"])
    ]
    assert checkers, f"no code cell after the stub (cell {stub}) calls {CHECKER}"
    landed = lab_harness.type_into_cell(browser, stub, WRONG_STUB)
    assert landed == WRONG_STUB, f"typed {WRONG_STUB!r}, the editor holds {landed!r}"
    lab_harness.screenshot_of_cell(browser, stub, SHOTS / "2-wrong-stub-typed.png")
    counts = lab_harness.run_all(browser, timeout=RUN_TIMEOUT)
    lab_harness.screenshots(browser, SHOTS, "3-after-run-all")
    checker = checkers[0]
    lab_harness.screenshot_of_cell(browser, checker, SHOTS / "3-checker.png")
    shown = lab_harness.outputs(browser, checker)
    saved = lab_harness.save(browser, lab, path)
    assert "".join(saved["cells"][stub]["source"]) == WRONG_STUB, "the typed stub was not saved"
    return {
        "stub": stub,
        "checker": checker,
        "counts": counts,
        "shown": shown,
        "saved": saved,
        "name": name,
        "probes": probes,
        "explorer": explorer,
    }


def test_run_all_runs_every_cell(ran):
    unrun = [index for index, count in ran["counts"].items() if not count.isdigit()]
    assert not unrun, f"cells that did not run: {unrun}"


def test_run_all_ends_in_no_error(ran):
    errors = lab_harness.error_outputs(ran["saved"])
    assert not errors, "cells with an error output:\n" + "\n".join(
        f"  cell {index}: {error}" for index, error in errors
    )


def test_the_checker_says_not_yet_to_a_wrong_stub(ran):
    text = "\n".join(text for _, text in ran["shown"])
    assert "not yet" in text, (
        f"the checker (cell {ran['checker']}) after the wrong {STUB} (cell {ran['stub']}) "
        f"shows: {text.strip()!r}"
    )


# ---------------------------------------------------------------------------------------
# The explorer as a widget, in the run above


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


def widget(browser, index: int, what: str, ready=lambda s: True, timeout: float = 60) -> dict:
    def seen():
        state = lab_harness.widget_state(browser, index)
        return state if state and state["sections"] and ready(state) else None

    return lab_harness.wait_for(seen, timeout, what)


def test_the_widget_shows_the_wrong_function_beside_the_package(browser, ran):
    index = ran["explorer"]
    state = widget(browser, index, "the explorer widget with its comparison")
    lab_harness.screenshot_of_cell(browser, index, WIDGET_SHOTS / "1-widget.png")
    (section,) = state["sections"]
    assert not section["error"], section["error"]
    assert section["lines"] == 2, "your curves are not drawn beside the package's"
    first = [r for r in section["rows"] if r["first"]]
    assert len(first) == 1 and first[0]["disagree"], section["rows"]
    assert "first disagreement: " + first[0]["label"] in section["title"]
    for r in section["rows"]:
        assert r["package"] is not None and r["yours"] is not None, r


def test_a_slider_moved_in_the_page_reaches_the_kernel(browser, ran):
    index, probes = ran["explorer"], ran["probes"]
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
    lab_harness.screenshot_of_cell(browser, index, WIDGET_SHOTS / "2-slider-moved.png")
    values = printed(lab_harness.run_cell(browser, probes["values"]))
    assert values["y"] == moved, (values, moved)
    numbers = printed(lab_harness.run_cell(browser, probes["numbers"]))
    shown = row(state, ROW.format(y=moved))
    assert close(shown["yours"], numbers["yours"]), (shown, numbers)
    assert close(shown["package"], numbers["package"]), (shown, numbers)
    assert not close(numbers["yours"], numbers["package"], rel=1e-3), "the wrong function is right"
    assert shown["disagree"]
    assert float(shown["yours_text"]) == pytest.approx(numbers["yours"], rel=1e-5)


def test_setting_values_from_python_moves_the_slider(browser, ran):
    index = ran["explorer"]
    lab_harness.run_cell(browser, ran["probes"]["set"])

    def moved():
        state = lab_harness.widget_state(browser, index)
        y = state["inputs"]["y"]
        return state if float(y["value"]) == 0.2 and y["readout"] == "0.2" else None

    state = lab_harness.wait_for(moved, 30, "the slider to move to 0.2")
    lab_harness.screenshot_of_cell(browser, index, WIDGET_SHOTS / "3-set-from-python.png")
    widget(
        browser,
        index,
        "the comparison at Y = 0.2",
        lambda s: any(r["label"] == ROW.format(y=0.2) for r in s["sections"][0]["rows"]),
    )
    assert state["numbers"], "the explorer shows no numbers"


def test_a_raising_function_shows_its_error_and_the_widget_still_works(browser, ran):
    index = ran["probes"]["raising"]
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
    lab_harness.screenshot_of_cell(browser, index, WIDGET_SHOTS / "4-raising-function.png")
    values = printed(lab_harness.run_cell(browser, ran["probes"]["broken values"]))
    assert values["y"] == moved
