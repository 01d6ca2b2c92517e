"""The class grader: a folder of submissions, some broken on purpose, graded into a CSV."""

import csv
import json

import pytest
from grading_class import CORRECT_PY

from centernet_edu.exercises.__main__ import HEADER, main
from centernet_edu.exercises.grade import (
    CHECKERS,
    Limits,
    Submission,
    find_submissions,
    grade_submission,
)
from centernet_edu.exercises.submission import code_cells, load


def submission(path):
    """The submission of the one file at ``path``."""
    return Submission(path.stem, {path.name: path.read_bytes()})


# Every exercise, right, in plain torch and numpy (the grading class's honest student).
PERFECT = CORRECT_PY + '\nprint("prints are silenced")\n'

L1 = """
def reg_l1_loss(output, mask, ind, target):
    B, D, H, W = output.shape
    pred = output.reshape(B, D, H * W).gather(2, ind[:, None, :].expand(B, D, ind.shape[1]))
    m = mask[:, None, :].to(pred.dtype)
    return (pred * m - target.transpose(1, 2) * m).abs().sum() / (m.sum() * D + 1e-4)
"""

FOCAL = """
import torch

def focal_loss(pred, gt):
    pos = gt.eq(1)
    terms = torch.where(pos, (1 - pred) ** 2 * torch.log(pred), (1 - gt) ** 4 * pred**2 * torch.log(1 - pred))
    return -terms.sum() / pos.sum().clamp(min=1)
"""

SUBMISSIONS = {
    "alice.py": PERFECT,
    "bob.py": """
import math
import torch

def gaussian_radius(h, w, o):
    r1 = ((h + w) - math.sqrt((h + w) ** 2 - 4 * h * w * (1 - o) / (1 + o))) / 2
    r2 = (2 * (h + w) - math.sqrt(4 * (h + w) ** 2 - 16 * (1 - o) * h * w)) / 8
    r3 = (-2 * o * (h + w) + math.sqrt(4 * o**2 * (h + w) ** 2 + 16 * o * (1 - o) * h * w)) / (8 * o)
    return min(r1, r2, r3)

def focal_loss(pred, gt):
    pos = gt.eq(1)
    terms = torch.where(pos, torch.log(pred) * (1 - pred) ** 2, torch.log(1 - pred) * pred**2 * (1 - gt) ** 4)
    return -terms.sum() / pos.sum()  # no fallback when there are no objects

if __name__ == "__main__":
    raise SystemExit("the grader never runs this")
""",
    "dave.py": FOCAL.replace(
        "def focal_loss(pred, gt):", "def focal_loss(pred, gt):\n    while True:\n        pass"
    )
    + L1,
    "erin.py": "def focal_loss(pred, gt) return 0\n",
    "frank.py": FOCAL
    + """
def reg_l1_loss(output, mask, ind, target):
    hoard = []
    while True:
        hoard.append(bytearray(50 * 2**20))
""",
    "grace.py": FOCAL
    + """
import os

def gaussian_radius(h, w, o):
    os._exit(3)
""",
    "heidi.py": FOCAL
    + """
import ctypes

def heatmap_nms(heat):
    return ctypes.string_at(0)  # reads address 0: a segmentation fault
""",
    "ivan.py": "import a_module_nobody_has\n",
    "judy.py": "from centernet_edu import *\n",
    "mallory.py": "# nothing yet\n",
    "oscar.py": "hoard = bytearray(2**30)  # a gigabyte, over the limit\n",
}


def notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "code", "metadata": {}, "source": c} for c in cells]
            + [{"cell_type": "markdown", "metadata": {}, "source": "# Notes"}],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


CAROL = notebook(
    "%matplotlib inline\n!pip install nothing\nimport torch\nimport centernet_edu as ce\n",
    FOCAL.replace("pos = gt.eq(1)", "pred, gt = pred.float(), gt.float()\n    pos = gt.eq(1)"),
    "raise ValueError('a cell that fails')\n",
    "%%bash\necho this cell is not Python\n",
    "def reg_l1_loss(output, mask, ind, target):\n    loss = (output.sum() - target.sum()).abs()\n",
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for name, text in SUBMISSIONS.items():
        (folder / name).write_text(text)
    (folder / "carol.ipynb").write_text(CAROL)
    out = folder.parent / "results.csv"
    status = main([
        "grade", str(folder), "--csv", str(out), "--timeout", "20", "--memory-mb", "300", "--quiet",
    ])  # fmt: skip
    with open(out, newline="") as f:
        reader = csv.reader(f)
        header = tuple(next(reader))
        rows = list(reader)
    return status, header, rows, {(r[0], r[1]): [*r[2:5], r[7]] for r in rows}


def test_the_csv_has_a_row_per_student_and_exercise(graded):
    status, header, rows, _ = graded
    assert status == 0 and header == HEADER == (
        "student",
        "exercise",
        "passed",
        "total",
        "ok",
        "points",
        "max_points",
        "message",
    )
    students = sorted(name.split(".")[0] for name in [*SUBMISSIONS, "carol.ipynb"])
    assert [r[0] for r in rows] == [s for s in students for _ in CHECKERS]
    assert [r[1] for r in rows] == list(CHECKERS) * len(students)


def test_a_complete_submission_passes_everything(graded):
    by = graded[3]
    for name in CHECKERS:
        passed, total, ok, message = by["alice", name]
        assert ok == "True" and passed == total and int(total) >= 7 and message == "all cases pass"


def test_mistakes_and_missing_functions_are_reported(graded):
    by = graded[3]
    assert by["bob", "gaussian_radius"][2] == "True"
    passed, total, ok, message = by["bob", "focal_loss"]
    assert (passed, total, ok) == ("11", "12", "False") and message.startswith(
        "case 0 (0 positives"
    )
    missing = "missing: not answered in this submission (it defines no {} of its own)"
    assert by["bob", "reg_l1_loss"] == [
        "0",
        "10",
        "False",
        missing.format("reg_l1_loss or my_reg_l1_loss"),
    ]
    assert by["mallory", "focal_loss"][3] == missing.format("focal_loss or my_focal_loss")
    # the package's own functions, imported, are not the student's answers (no accusation)
    assert by["judy", "focal_loss"][3] == missing.format("focal_loss or my_focal_loss")


def test_a_notebook_runs_without_its_magics_and_its_failing_cell(graded):
    by = graded[3]
    assert by["carol", "focal_loss"][:3] == ["12", "12", "True"]
    assert "your function returned None: is a `return` missing?" in by["carol", "reg_l1_loss"][3]
    message = by["carol", "decode_ctdet"][3]
    assert message.startswith(
        "missing: not answered in this submission (it defines no decode_ctdet or my_decode_ctdet"
        " of its own) (1 part of it failed to run; first, cell 3 "
    )
    assert """cell 3 ("raise ValueError('a cell that fails')"): it raised ValueError""" in message


def test_a_hang_a_memory_hog_and_a_dead_interpreter_stop_only_their_exercise(graded):
    by = graded[3]
    assert by["dave", "focal_loss"] == [
        "0", "12", "False", "did not finish within 20 s (an endless loop?) while grading focal_loss",
    ]  # fmt: skip
    assert by["dave", "reg_l1_loss"][2] == "True"  # graded in a new process after the hang
    assert "your function ran out of memory (MemoryError)" in by["frank", "reg_l1_loss"][3]
    assert "(the grader allows 300 MB)" in by["frank", "reg_l1_loss"][3]
    assert by["frank", "focal_loss"][2] == "True"
    assert by["grace", "gaussian_radius"][3] == (
        "the interpreter exited with status 3 (os._exit?) while grading gaussian_radius"
    )
    assert by["grace", "focal_loss"][2] == "True"
    assert (
        by["heidi", "heatmap_nms"][3]
        == "the interpreter was killed by SIGSEGV while grading heatmap_nms"
    )
    assert by["heidi", "focal_loss"][2] == "True"


def test_a_submission_that_cannot_load_gets_the_reason_on_every_row(graded):
    by = graded[3]
    for student, words in [
        ("erin", "could not be loaded: the submission raised SyntaxError: expected ':'"),
        ("ivan", "could not be loaded: the submission raised ModuleNotFoundError: No module named"),
        ("oscar", "could not be loaded: the submission ran out of memory (MemoryError)"),
    ]:
        for name in CHECKERS:
            assert by[student, name][0] == "0" and by[student, name][2] == "False"
            assert by[student, name][3].startswith(words), by[student, name][3]
    assert "ivan.py line 1: import a_module_nobody_has" in by["ivan", "focal_loss"][3]


def test_a_submission_that_hangs_while_loading_is_stopped(tmp_path):
    path = tmp_path / "zoe.py"
    path.write_text("while True:\n    pass\n")
    rows = grade_submission(submission(path), Limits(3, 300))
    assert [r.exercise for r in rows] == list(CHECKERS)
    message = "could not be loaded: did not finish within 3 s (an endless loop?) while loading"
    assert all(r.message == message and not r.ok for r in rows)


def test_a_clean_exit_in_the_middle_of_an_exercise_is_not_a_missing_function(tmp_path):
    path = tmp_path / "yann.py"
    path.write_text(FOCAL + "\nimport os\n\ndef heatmap_nms(heat):\n    os._exit(0)\n")
    rows = {r.exercise: r for r in grade_submission(submission(path), Limits(20, 300))}
    assert rows["heatmap_nms"].message == (
        "the interpreter exited with status 0 (os._exit?) while grading heatmap_nms"
    )
    assert rows["focal_loss"].ok and rows["decode_ctdet"].message.startswith("missing: ")


def test_notebook_cells_lose_their_magics_and_shell_lines(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(
        notebook(
            "%load_ext autoreload\nx = 1\n",
            "if x:\n    !ls\n    %time y = 2\n",
            "%%time\nz = 3\n",
            "%%bash\nls\n",
            ["w = ", "4\n"],
        )
    )
    assert code_cells(path) == [
        (1, "pass\nx = 1\n"),
        (2, "if x:\n    pass\n    pass\n"),
        (3, "\nz = 3\n"),
        (5, "w = 4\n"),
    ]
    loaded = load(path)
    assert [loaded.namespace[k] for k in "xzw"] == [1, 3, 4] and loaded.problems == []


def test_usage_errors_are_one_line_and_status_2(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "twice").mkdir()
    (tmp_path / "twice" / "ann.py").write_text("")
    (tmp_path / "twice" / "ann.ipynb").write_text(notebook())
    for argv, words in [
        ([str(tmp_path / "nowhere")], "SUBMISSIONS must be a folder"),
        ([str(empty)], "holds no submissions (.py or .ipynb files)"),
        ([str(tmp_path / "twice")], "two submissions for one student id in"),
        (
            [str(empty), "--timeout", "0"],
            "argument --timeout: must be a positive float up to 86400, got '0'",
        ),
        ([str(empty), "--memory-mb", "lots"], "must be a positive int up to 1048576, got 'lots'"),
    ]:
        with pytest.raises(SystemExit) as stop:
            main(["grade", *argv, "--csv", str(tmp_path / "r.csv")])
        assert stop.value.code == 2 and words in capsys.readouterr().err.splitlines()[-1]
    with pytest.raises(ValueError, match="two submissions for one student id in .*: ann"):
        find_submissions(tmp_path / "twice")


def test_an_existing_csv_is_kept_unless_overwrite(tmp_path, capsys):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "amy.py").write_text("")
    out = tmp_path / "results.csv"
    out.write_text("a teacher's notes\n")
    assert main(["grade", str(tmp_path / "class"), "--csv", str(out), "--quiet"]) == 1
    assert capsys.readouterr().err.strip() == f"error: {out} exists: pass --overwrite to replace it"
    assert out.read_text() == "a teacher's notes\n"
    args = ["grade", str(tmp_path / "class"), "--csv", str(out), "--quiet", "--overwrite"]
    assert main(args) == 0
    assert out.read_text().splitlines()[1] == (
        "amy,boxes_from_targets,0,10,False,0.0,1.0,missing: not answered in this submission "
        "(it defines no boxes_from_targets or my_boxes_from_targets of its own)"
    )


def _tagged_notebook(*cells: tuple[str, list[str]]) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "metadata": {"tags": tags}, "source": source}
                for source, tags in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_a_student_edition_chapter_is_graded_under_its_stub_names_without_redoing_it(tmp_path):
    chapter = tmp_path / "erin.ipynb"
    chapter.write_text(
        _tagged_notebook(
            ("import time\nimport centernet_edu as ce\nEPS = 1e-4\ntime.sleep(600)\n", []),
            ("def helper(x):\n    return x\n\nhelper(1) + time.sleep(600)\n", []),
            (FOCAL.replace("def focal_loss(pred, gt):", "def my_focal_loss(pred, gt):\n    pred = helper(pred)"), ["exercise"]),
            ("print(check_focal_loss(my_focal_loss))\n", []),
            ("def my_size_loss(output, mask, ind, target):\n    raise NotImplementedError\n", ["exercise"]),
        )
    )  # fmt: skip
    assert [n for n, _ in code_cells(chapter)] == [1, 2, 3, 5]  # cell 4 holds no definition
    rows = {r.exercise: r for r in grade_submission(submission(chapter))}
    assert rows["focal_loss"].ok and rows["focal_loss"].passed == rows["focal_loss"].total
    assert not rows["size_loss"].ok and "this is still the stub" in rows["size_loss"].message
    assert rows["reg_l1_loss"].message == (
        "missing: not answered in this submission (it defines no reg_l1_loss or my_reg_l1_loss "
        "of its own)"
    )


def test_the_definitions_of_a_student_edition_cell_keep_their_line_numbers(tmp_path):
    chapter = tmp_path / "nb.ipynb"
    chapter.write_text(
        _tagged_notebook(
            ("import math\nfit()\n@staticmethod\ndef f():\n    pass\nR = 4\nS = R * 2\n", []),
            ("x = 1\n", ["exercise"]),
        )
    )
    assert code_cells(chapter) == [
        (1, "import math\n\n@staticmethod\ndef f():\n    pass\nR = 4\nS = R * 2\n"),
        (2, "x = 1\n"),
    ]
