"""Loading a notebook submission fairly: the student's own cells run whole, the cells of
the student edition as handed out only their definitions and constants, and a failing
cell of the student's is named as the student finds it in Jupyter."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from centernet_edu.exercises import check_reg_l1_loss
from centernet_edu.exercises.submission import code_cells, load, source_hash

ROOT = Path(__file__).resolve().parents[1]

spec = importlib.util.spec_from_file_location("student_tool", ROOT / "tools" / "student.py")
student = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = student  # dataclasses look their module up there
spec.loader.exec_module(student)

STUB = (
    "def my_reg_l1_loss(output, mask, ind, target):\n"
    '    raise NotImplementedError("write your L1 loss here")\n'
)
HELPER = 'l1 = torch.nn.L1Loss(reduction="sum")\n'
ANSWER = """\
def my_reg_l1_loss(output, mask, ind, target):
    B, D, H, W = output.shape
    index = ind[:, None, :].expand(B, D, ind.shape[1])
    pred = output.reshape(B, D, H * W).gather(2, index).permute(0, 2, 1)
    m = mask[:, :, None].to(pred.dtype)
    return l1(pred * m, target * m) / (m.sum() * D + 1e-4)
"""


def pristine(source: str, tags=()):
    """A code cell as tools/student.py hands it out: marked with its source's hash."""
    cell = added(source, tags)
    cell.metadata["centernet_edu"] = {"pristine": source_hash(source)}
    return cell


def added(source: str, tags=()):
    """A code cell without a mark, as a student adds it."""
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def changed(cell, source: str):
    """``cell`` with its source edited by the student, its mark kept (as Jupyter keeps it)."""
    cell.source = source
    return cell


def markdown(text: str = "Some words."):
    return nbformat.v4.new_markdown_cell(text)


def write(path: Path, *cells) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    nbformat.write(nb, path)
    return path


def passes(fn) -> bool:
    report = check_reg_l1_loss(fn)
    return report.ok and report.total > 0


# 1. The student's cells run whole ---------------------------------------------------------


def test_an_answer_in_a_new_cell_under_the_stub_runs_whole_with_its_helper(tmp_path):
    path = write(
        tmp_path / "nb.ipynb",
        markdown(),
        pristine("import torch\n"),
        pristine(STUB, ["exercise"]),
        added(HELPER),
        added(ANSWER),
        pristine("print(check_reg_l1_loss(my_reg_l1_loss))\n"),
    )
    loaded = load(path)
    assert loaded.problems == []
    assert isinstance(loaded.namespace["l1"], torch.nn.L1Loss)
    assert passes(loaded.namespace["my_reg_l1_loss"])


def test_a_changed_cell_runs_whole_and_an_unchanged_one_only_its_definitions(tmp_path):
    path = write(
        tmp_path / "nb.ipynb",
        pristine("import math\n"),
        changed(pristine("import torch\n"), "import torch\n" + HELPER),
        pristine("trained = math.sqrt(4)\nraise RuntimeError('a long training')\n"),
        changed(pristine(STUB, ["exercise"]), ANSWER),
    )
    loaded = load(path)
    assert loaded.problems == []  # the untouched training cell is not run
    assert "trained" not in loaded.namespace
    assert passes(loaded.namespace["my_reg_l1_loss"])


def test_an_exercise_cell_runs_whole_even_with_a_mark(tmp_path):
    path = write(
        tmp_path / "nb.ipynb",
        pristine("import math\n"),
        pristine("root = math.sqrt(4)\n", ["exercise"]),
    )
    assert load(path).namespace["root"] == 2.0


def test_a_notebook_that_is_not_an_edition_runs_every_cell_whole(tmp_path):
    path = write(
        tmp_path / "nb.ipynb",
        added("import math\n"),
        markdown(),
        added("root = math.sqrt(4)\n"),
    )
    assert code_cells(path) == [(1, "import math\n"), (3, "root = math.sqrt(4)\n")]
    assert load(path).namespace["root"] == 2.0


def test_an_edition_without_marks_keeps_only_the_definitions_of_its_untagged_cells(tmp_path):
    path = write(
        tmp_path / "nb.ipynb",
        added("import math\nroot = math.sqrt(4)\nR = 4\n"),
        added("def f(x:\n"),  # it may be the student's: run, and its error reported
        added("twice = 2 * R\n", ["exercise"]),
    )
    loaded = load(path)
    assert "root" not in loaded.namespace and loaded.namespace["twice"] == 8
    (problem,) = loaded.problems
    assert problem.startswith('cell 2 ("def f(x:"): it raised SyntaxError'), problem


# 2. The constants of a pristine cell ------------------------------------------------------

KEPT = {
    "R, IMG = 4, 128": {"R": 4, "IMG": 128},
    "EPS = 1 / 10_000": {"EPS": 1e-4},
    "SIZE = 2 * R": {"SIZE": 8},
    "DTYPE = torch.float64": {"DTYPE": torch.float64},
    'NAMES = ("a", "b")[::-1]': {"NAMES": ("b", "a")},
    "K: int = 10": {"K": 10},
    "[A, *REST] = B = [1, 2, 3]": {"A": 1, "REST": [2, 3], "B": [1, 2, 3]},
    'SHOWN = f"{R}px" if R > 2 and not EPS else {"r": -R}': {"SHOWN": {"r": -4}},
    "NEAR = abs": {"NEAR": abs},
}
LEFT_OUT = {
    "a call": "X = math.sqrt(4)",
    "a call inside": "X = (1, math.sqrt(4))",
    "a lambda": "X = lambda: 1",
    "a comprehension": "X = [i for i in range(3)]",
    "a walrus": "X = (Y := 3)",
    "an attribute target": "math.X = 3",
    "an item target": "TABLE['x'] = 3",
    "an annotation without a value": "X: int",
    "an augmented assignment": "R += 1",
    "an expression": "print('drawn')",
    "a loop": "for X in range(3):\n    pass",
}


@pytest.mark.parametrize("statement", KEPT)
def test_a_pristine_cell_keeps_constants_of_any_plain_form(statement, tmp_path):
    setup = "import math\nimport torch\nR = 4\nEPS = 1e-4\n"
    path = write(tmp_path / "nb.ipynb", pristine(setup), pristine(f"fit()\n{statement}\n"))
    namespace = load(path).namespace
    for name, value in KEPT[statement].items():
        assert namespace[name] == value, (statement, name)
    assert code_cells(path)[1] == (2, f"\n{statement}\n")  # its line number kept


@pytest.mark.parametrize("case", LEFT_OUT)
def test_a_pristine_cell_leaves_out_what_computes(case, tmp_path):
    setup = pristine("import math\nR = 4\nTABLE = {}\n")
    path = write(tmp_path / "nb.ipynb", setup, pristine(LEFT_OUT[case]))
    namespace = load(path).namespace
    assert "X" not in namespace and namespace["TABLE"] == {} and namespace["R"] == 4
    assert [n for n, _ in code_cells(path)] == [1]


def test_each_kept_statement_of_a_pristine_cell_runs_on_its_own_and_fails_silently(tmp_path):
    source = (
        "import a_module_nobody_has\n"
        "R = 4\n"
        "BAD = UNDEFINED + 1\n"
        "SIZE = 2 * R\n"
        "from math import nothing_there\n"
        "def f():\n"
        "    return SIZE\n"
    )
    path = write(tmp_path / "nb.ipynb", pristine(source), pristine(STUB, ["exercise"]))
    loaded = load(path)
    assert loaded.problems == []  # the book's failures are not the student's
    assert loaded.namespace["f"]() == 8 and "BAD" not in loaded.namespace


def test_a_pristine_cell_that_does_not_parse_is_the_books(tmp_path):
    path = write(tmp_path / "nb.ipynb", pristine("files = !ls\n"), pristine(STUB, ["exercise"]))
    assert load(path).problems == []


# 3. The student's failing cells, named as in Jupyter ---------------------------------------


def test_failing_cells_are_named_by_position_among_all_cells_and_first_line(tmp_path):
    path = write(
        tmp_path / "nb.ipynb",
        markdown(),
        pristine("import torch\n"),
        markdown(),
        pristine(STUB, ["exercise"]),
        added("\n\nwhat = l1(1)\n"),
        markdown(),
        added("x = 1 / 0  # " + "a long comment " * 5 + "\n"),
    )
    first, second = load(path).problems
    assert first == (
        "cell 5 (\"what = l1(1)\"): it raised NameError: name 'l1' is not defined\n"
        "    in <module>, nb.ipynb [cell 5] line 3: what = l1(1)"
    )
    assert second.startswith(
        'cell 7 ("x = 1 / 0  # a long comment a long comment a long comment..."): '
        "it raised ZeroDivisionError: division by zero\n"
        "    in <module>, nb.ipynb [cell 7] line 1: x = 1 / 0  # a long comment"
    ), second


def test_a_students_function_shows_its_cell_in_a_traceback(tmp_path):
    path = write(
        tmp_path / "nb.ipynb",
        markdown(),
        markdown(),
        pristine(STUB, ["exercise"]),
        added(ANSWER),
    )
    fn = load(path).namespace["my_reg_l1_loss"]
    report = check_reg_l1_loss(fn)
    assert not report.ok
    assert "NameError: name 'l1' is not defined" in report.failures[0]
    assert "nb.ipynb [cell 4] line 6: return l1(pred * m, target * m)" in report.failures[0]


SYNTAX = "def my_reg_l1_loss(output, mask, ind, target)\n    return 0\n"


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param([pristine(STUB, ["exercise"]), added(SYNTAX)], id="an added cell"),
        pytest.param([changed(pristine(STUB, ["exercise"]), SYNTAX)], id="an exercise cell"),
        pytest.param(
            [pristine(STUB, ["exercise"]), changed(pristine("import math\n"), SYNTAX)],
            id="a changed cell",
        ),
        pytest.param([added("import math\n"), added(SYNTAX)], id="a notebook, not an edition"),
    ],
)
def test_a_syntax_error_in_a_students_cell_is_reported(cells, tmp_path):
    path = write(tmp_path / "nb.ipynb", markdown(), *cells)
    (problem,) = load(path).problems
    number = len(cells) + 1
    assert problem.startswith(
        f'cell {number} ("def my_reg_l1_loss(output, mask, ind, target)"): '
        f"it raised SyntaxError: expected ':' (nb.ipynb [cell {number}], line 1)"
    ), problem


# 4. Magics and shell lines ---------------------------------------------------------------


def test_magics_and_shell_lines_are_left_out_of_pristine_and_added_cells(tmp_path):
    path = write(
        tmp_path / "nb.ipynb",
        pristine("%matplotlib inline\n!pip install nothing\nimport math\nR = 4\n"),
        pristine(STUB, ["exercise"]),
        added("%%time\nroot = math.sqrt(R)\n"),
        added("%%bash\necho not Python\n"),
        added("if root:\n    !ls\n    %time twice = 2 * root\n"),
    )
    assert code_cells(path) == [
        (1, "\n\nimport math\nR = 4\n"),
        (2, STUB),
        (3, "\nroot = math.sqrt(R)\n"),
        (5, "if root:\n    pass\n    pass\n"),
    ]
    loaded = load(path)
    assert loaded.problems == [] and loaded.namespace["root"] == 2.0


# A real chapter's edition ----------------------------------------------------------------


def test_a_chapters_edition_is_marked_and_graded_fairly(tmp_path):
    chapter = ROOT / "book" / "04_offset_loss.ipynb"
    path = tmp_path / "ed" / chapter.name
    student.write_edition([chapter], tmp_path / "ed")
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        mark = cell.metadata.get("centernet_edu")
        if cell.cell_type != "code" or "exercise" in cell.metadata.get("tags", []):
            assert mark is None
        else:
            assert mark == {"pristine": source_hash(cell.source)}
            assert source_hash(cell.source) == student.source_hash(cell.source)
    untouched = load(path)
    assert untouched.problems == []
    assert "my_reg_l1_loss" in untouched.namespace and "boxes" not in untouched.namespace

    stub = next(i for i, c in enumerate(nb.cells) if "exercise" in c.metadata.get("tags", []))
    nb.cells.insert(stub + 1, added(HELPER + "\n\n" + ANSWER))
    nbformat.write(nb, path)
    answered = load(path)
    assert answered.problems == []
    assert passes(answered.namespace["my_reg_l1_loss"])


def test_an_edition_of_a_chapter_without_exercises_is_told_by_its_marks(tmp_path):
    path = write(
        tmp_path / "nb.ipynb",
        pristine("import math\nEPOCHS = 3\n"),
        pristine("for epoch in range(EPOCHS):\n    raise RuntimeError('a long training')\n"),
        added("done = math.sqrt(EPOCHS)\n"),
    )
    loaded = load(path)
    assert loaded.problems == [] and loaded.namespace["done"] == 3**0.5
