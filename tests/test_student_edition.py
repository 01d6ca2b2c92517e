"""The student edition: the chapters without their worked solutions, as tools/student.py
writes them (``make student``).

The teacher edition (book/) shows every checker under its untouched stub saying "not yet"
and every worked solution, under its own name, passing its own check; the student edition,
run top to bottom as handed out, errors nowhere and every checker says "not yet". Only the
chapters with exercises run (the others are the book's chapters with their outputs
cleared, which the nbval run of the book executes): in ``make test`` those of chapters 1
to 5, in ``make test-full`` all of them, two at a time, each in a fresh python3 kernel
from the edition's folder, as tools/execute.py runs the book's. For every graded chapter,
no handed-out cell may read a name that only a left-out cell binds.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import contextlib
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from in_process import run_main

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
KERNEL = "python3"
PARALLEL = 2  # chapters executed at once
CHAPTER_TIMEOUT = 1200  # seconds: the training chapters on a slow machine

spec = importlib.util.spec_from_file_location("student_tool", ROOT / "tools" / "student.py")
student = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = student  # dataclasses look their module up there
spec.loader.exec_module(student)

# The words of centernet_edu.exercises.Report: "name: 3/12 cases pass (not yet)." or
# "name: 12/12 cases pass. Well done."
PASSED = re.compile(r"^(?P<name>.+): (?P<n>\d+)/(?P=n) cases pass\. Well done\.$", re.M)
NOT_YET = re.compile(r"^(?P<name>.+): (?P<n>\d+)/(?P<total>\d+) cases pass \(not yet\)\.$", re.M)
STUB = "this is still the stub"


def read(path: Path):
    return nbformat.read(path, as_version=4)


def text_of(cell) -> str:
    """What a code cell printed (its stdout)."""
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


CHAPTERS = student.chapters()
GRADED = [p.name for p in CHAPTERS if student.exercises(read(p), p.name)]
# The editions `make test` runs: those of chapters 1 to 5. The others' cells (a training
# run, a model scored) are the teacher edition's, which nbval runs; what leaving cells out
# can break in them, a name only a left-out cell defines, is checked below without
# running them. `make test-full` sets STUDENT_CHAPTERS=all and runs them all.
RUN = [c for c in GRADED if os.environ.get("STUDENT_CHAPTERS") == "all" or c[:2] <= "05"]


def test_every_chapter_with_a_piece_to_build_has_graded_exercises():
    assert GRADED == [
        f"{n}.ipynb"
        for n in (
            "01_objects_as_points",
            "02_heatmap_targets",
            "03_focal_loss",
            "04_offset_loss",
            "05_size_loss",
            "06_model_and_total_loss",
            "08_decoding_and_evaluation",
            "09_extreme_points",
        )
    ]


@pytest.mark.parametrize("chapter", GRADED)
def test_the_teacher_edition_grades_the_stub_and_the_collapsed_solution_apart(chapter):
    nb = read(BOOK / chapter)
    for ex in student.exercises(nb, chapter):
        under_stub = text_of(nb.cells[ex.checker])
        assert NOT_YET.search(under_stub) and STUB in under_stub, (chapter, ex.name, under_stub)
        solution, *checks = (nb.cells[i] for i in ex.solutions)
        assert "hide-input" in solution.metadata["tags"], f"{chapter}: {ex.name}'s solution shows"
        assert f"def {ex.solution_name}(" in solution.source
        printed = text_of(checks[-1])
        assert PASSED.search(printed), f"{chapter}, the check of {ex.solution_name}: {printed!r}"


def bound_and_used(source: str) -> tuple[set[str], set[str]]:
    """The names a cell's code binds and the names it reads (IPython syntax allowed)."""
    from IPython.core.inputtransformer2 import TransformerManager

    trees = [ast.parse(TransformerManager().transform_cell(source))]
    bound, used = set(), set()
    for node in (n for tree in trees for n in ast.walk(tree)):
        magic = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if magic and node.func.attr in ("run_line_magic", "run_cell_magic"):
            with contextlib.suppress(SyntaxError):  # %time CODE: the code is a string
                trees.append(ast.parse(node.args[-1].value))
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound, used


def read_but_left_out(nb, label: str = "notebook") -> list[str]:
    """The names the handed-out cells of ``nb`` read that only its left-out cells bind."""
    handed_out = {c.source for c in student.student_notebook(nb, label).cells}
    kept, left_out, reads = set(), set(), set()
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        bound, used = bound_and_used(cell.source)
        if cell.source in handed_out:
            kept |= bound
            reads |= used
        else:
            left_out |= bound
    return sorted((reads & left_out) - kept - set(dir(builtins)))


@pytest.mark.parametrize("chapter", GRADED)
def test_no_handed_out_cell_reads_a_name_only_a_left_out_cell_binds(chapter):
    missing = read_but_left_out(read(BOOK / chapter), chapter)
    assert not missing, f"{chapter}: handed-out cells read {missing}, bound in left-out cells"


# The edition, built once -----------------------------------------------------------------


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    written = student.write_edition(CHAPTERS, out)
    assert sorted(p.name for p in written) == [p.name for p in CHAPTERS]
    return out


def test_the_student_edition_leaves_out_solutions_outputs_widget_state_and_book_tags(edition):
    for path in CHAPTERS:
        teacher, handout = read(path), read(edition / path.name)
        solutions = {i for ex in student.exercises(teacher) for i in ex.solutions}
        kept = []
        for i, cell in enumerate(teacher.cells):
            tags = cell.metadata.get("tags", [])
            if i in solutions or "answers" in tags:
                continue
            if "from-scratch" in tags:
                cell = nbformat.v4.new_markdown_cell(student.SCRATCH_NOTE)
                if kept and kept[-1].source == student.SCRATCH_NOTE:
                    continue
            kept.append(cell)
        assert [c.source for c in handout.cells] == [c.source for c in kept], path.name
        assert not any("<summary>Answers" in c.source for c in handout.cells), path.name
        assert "widgets" not in handout.metadata
        for cell in handout.cells:
            tags = set(cell.metadata.get("tags", []))
            assert not tags & student.BOOK_TAGS and "solution" not in tags, path.name
            assert "execution" not in cell.metadata
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
        stubs = [c for c in handout.cells if "exercise" in c.metadata.get("tags", [])]
        assert len(stubs) == len(student.exercises(teacher))
        assert all("raise NotImplementedError" in c.source for c in stubs)


def command_line(*args: str) -> subprocess.CompletedProcess:
    """``python tools/student.py ARGS``, in this process."""
    return run_main(student.main, *args)


def test_the_command_line_writes_into_its_own_folder_only(tmp_path):
    chapter = str(BOOK / GRADED[0])
    script = [sys.executable, str(ROOT / "tools" / "student.py"), chapter]
    done = subprocess.run([*script, "--out", str(tmp_path / "s")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "wrote 1 chapter with 1 exercise" in done.stdout
    again = command_line(chapter, "--out", str(tmp_path / "s"))
    assert again.returncode == 0, again.stderr
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("a teacher's file")
    refused = command_line(chapter, "--out", str(tmp_path / "mine"))
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: --out must be empty or a student edition")
    assert len(refused.stderr.splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]
    book = command_line(chapter, "--out", str(BOOK))
    assert book.returncode == 1 and "the book's own folder" in book.stderr


# Refusing a chapter whose exercises are not stub, checker, solution ---------------------

STUB_CELL = 'def my_loss(x):\n    """A loss."""\n    raise NotImplementedError("write it")'
CHECK_CELL = "print(check_reg_l1_loss(my_loss))"
SOLUTION_CELL = "def solution_loss(x):\n    return x.sum()"
SOLUTION_CHECK_CELL = "print(check_reg_l1_loss(solution_loss))"
SOLVED = [(SOLUTION_CELL, ["solution", "hide-input"]), (SOLUTION_CHECK_CELL, ["solution"])]


def notebook(*cells):
    """A notebook of (source, tags) code cells, a markdown cell first."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("### Write it")]
    for source, tags in cells:
        cell = nbformat.v4.new_code_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    return nb


A_STUB = (STUB_CELL, ["exercise"])
BROKEN = {
    "no checker": (
        [A_STUB, *SOLVED],
        r"ch, cell 1: the stub my_loss must be followed by the checker cell",
    ),
    "the solution before the checker (the old order)": (
        [A_STUB, ("def my_loss(x):\n    return x.sum()", ["solution"]), (CHECK_CELL, [])],
        r"ch, cell 1: the stub my_loss must be followed by the checker cell",
    ),
    "a checker of another name": (
        [A_STUB, ("print(check_reg_l1_loss(reg_l1_loss))", []), *SOLVED],
        r"ch, cell 1: .* a check_\* function on my_loss",
    ),
    "no solution": (
        [A_STUB, (CHECK_CELL, [])],
        r"ch, cell 3: the checker of my_loss must be followed by a code cell tagged 'solution' "
        r"defining the worked solution solution_loss",
    ),
    "a solution under the student's name": (
        [A_STUB, (CHECK_CELL, []), ("def my_loss(x):\n    return x.sum()", ["solution"])],
        r"ch, cell 3: the checker of my_loss must be followed by .* solution_loss",
    ),
    "a solution that also redefines the student's name": (
        [
            A_STUB,
            (CHECK_CELL, []),
            (SOLUTION_CELL + "\n\n\ndef my_loss(x):\n    return x.sum()", ["solution"]),
            (SOLUTION_CHECK_CELL, ["solution"]),
        ],
        r"ch, cell 3: a solution cell must not define my_loss, the student's name",
    ),
    "a solution without its own check": (
        [A_STUB, (CHECK_CELL, []), (SOLUTION_CELL, ["solution", "hide-input"])],
        r"ch, cell 3: the worked solution solution_loss must be followed by a cell tagged",
    ),
    "a solution without its stub": (
        [("x = 1", []), *SOLVED],
        r"ch, cell 2: a 'solution' cell must follow its exercise's checker",
    ),
    "a checker tagged as a solution": (
        [A_STUB, (CHECK_CELL, ["solution"]), *SOLVED],
        r"ch, cell 2: the checker of my_loss must not be tagged 'solution'",
    ),
    "a stub that is already solved": (
        [("def my_loss(x):\n    return x.sum()", ["exercise"]), (CHECK_CELL, []), *SOLVED],
        r"ch, cell 1: the 'exercise' stub my_loss must raise NotImplementedError",
    ),
    "a stub defining nothing": (
        [("my_loss = None", ["exercise"]), (CHECK_CELL, []), *SOLVED],
        r"ch, cell 1: an 'exercise' cell must be a code cell defining one function or class",
    ),
    "answers in a code cell": (
        [("print(42)", ["answers"]), A_STUB, (CHECK_CELL, []), *SOLVED],
        r"ch, cell 1: an 'answers' cell must be a markdown cell, got a code cell",
    ),
    "a stub tagged as from-scratch code": (
        [(STUB_CELL, ["exercise", "from-scratch"]), (CHECK_CELL, []), *SOLVED],
        r"ch, cell 1: a 'from-scratch' cell must be a code cell of the chapter's body",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_an_exercise_that_is_not_stub_checker_solution_is_refused(case, tmp_path):
    cells, message = BROKEN[case]
    path = tmp_path / "ch"
    nbformat.write(notebook(*cells), path)
    with pytest.raises(student.ExerciseLayoutError, match=message):
        student.write_edition([path], tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_complete_exercise_is_accepted_and_its_solution_left_out():
    nb = notebook(A_STUB, (CHECK_CELL, []), *SOLVED, ("print('next')", []))
    (ex,) = student.exercises(nb)
    assert (ex.name, ex.stub, ex.checker, ex.solutions) == ("my_loss", 1, 2, (3, 4))
    assert ex.solution_name == "solution_loss"
    handout = student.student_notebook(nb)
    assert [c.source for c in handout.cells[1:]] == [STUB_CELL, CHECK_CELL, "print('next')"]


def test_answers_and_the_code_that_answers_an_exercise_are_left_out():
    nb = notebook(
        ("def loss_scratch(x):\n    return x.abs().sum()", ["from-scratch"]),
        ("assert loss_scratch(torch.ones(2)) == 2", ["from-scratch", "hide-input"]),
        ("print('between')", []),
        ("loss_scratch(torch.zeros(1))", ["from-scratch"]),
        A_STUB,
        (CHECK_CELL, []),
        *SOLVED,
    )
    answers = nbformat.v4.new_markdown_cell("<details>\n<summary>Answers</summary>\n\n1. 42")
    answers.metadata["tags"] = ["answers"]
    nb.cells.append(answers)
    nb.cells.append(nbformat.v4.new_markdown_cell("## Summary"))
    handout = student.student_notebook(nb)
    note = student.SCRATCH_NOTE
    assert [c.source for c in handout.cells] == [
        "### Write it",
        note,  # one note for the two cells in a row
        "print('between')",
        note,
        STUB_CELL,
        CHECK_CELL,
        "## Summary",
    ]
    assert [c.cell_type for c in handout.cells if c.source == note] == ["markdown"] * 2
    nbformat.validate(handout)


def test_a_handed_out_cell_that_reads_a_left_out_name_is_found():
    scratch = ("import math as m\n\ndef loss_scratch(x):\n    return m.fabs(x)", ["from-scratch"])
    nb = notebook(scratch, A_STUB, (CHECK_CELL, []), *SOLVED, ("print(solution_loss(1))", []))
    assert read_but_left_out(nb) == ["solution_loss"]
    nb = notebook(scratch, ("%time y = loss_scratch(-1) + m.pi", []))
    assert read_but_left_out(nb) == ["loss_scratch", "m"]
    nb = notebook(scratch, ("def loss_scratch(x):\n    return abs(x)", []), ("loss_scratch(2)", []))
    assert read_but_left_out(nb) == []  # bound again where it is handed out


# Running the student edition ---------------------------------------------------------------


async def execute_chapter(path: Path, env: dict) -> None:
    """Run a notebook top to bottom in place, from its folder, errors kept as outputs."""
    from nbclient import NotebookClient

    nb = read(path)
    client = NotebookClient(
        nb,
        timeout=CHAPTER_TIMEOUT,
        kernel_name=KERNEL,
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    await client.async_execute(env=env)
    nbformat.write(nb, path)


async def execute_all(paths: list[Path], env: dict) -> dict[str, tuple[float, int, str]]:
    """Run the notebooks, PARALLEL at a time: each one's seconds, 0 or 1 for whether it
    failed to run, and why."""
    gate = asyncio.Semaphore(PARALLEL)

    async def one(path: Path) -> tuple[float, int, str]:
        async with gate:
            start = time.monotonic()
            try:
                await execute_chapter(path, env)
            except Exception as err:  # a kernel that died or a cell past the time limit
                return time.monotonic() - start, 1, f"{type(err).__name__}: {err}"[-3000:]
            return time.monotonic() - start, 0, ""

    done = await asyncio.gather(*(one(path) for path in paths))
    return {path.name: result for path, result in zip(paths, done, strict=True)}


@pytest.fixture(scope="module")
def executed(edition) -> dict[str, tuple[float, int, str]]:
    """Every graded chapter of the edition, run PARALLEL at a time, each in a fresh kernel
    (nbclient's, in this process): each chapter's seconds, status and why it failed."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}  # the kernels import this checkout's package
    # The later chapters take longest: started first, they overlap the rest.
    return asyncio.run(execute_all([edition / name for name in reversed(RUN)], env))


@pytest.mark.parametrize("chapter", RUN)
def test_the_student_edition_runs_and_every_checker_says_not_yet(edition, executed, chapter):
    seconds, status, log = executed[chapter]
    assert status == 0, f"{chapter} did not run ({seconds:.0f} s):\n{log}"
    nb = read(edition / chapter)
    errors = [
        f"cell {i}: {o.ename}: {o.evalue}"
        for i, c in enumerate(nb.cells)
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors, f"{chapter} ({seconds:.0f} s): {errors}"
    stubs = [i for i, c in enumerate(nb.cells) if "exercise" in c.metadata.get("tags", [])]
    assert stubs
    for i in stubs:
        printed = text_of(nb.cells[i + 1])
        assert NOT_YET.search(printed) and STUB in printed, f"{chapter}, cell {i + 1}: {printed!r}"


# Grading the edition ------------------------------------------------------------------------


def _filled_in(nb, label: str):
    """The student edition of ``nb`` with every stub replaced by the book's solution, under
    the student's name."""
    solutions = {
        ex.stub: re.sub(rf"\b{ex.solution_name}\b", ex.name, nb.cells[ex.solutions[0]].source)
        for ex in student.exercises(nb, label)
    }
    out = student.student_notebook(nb, label)
    stubs = [i for i, c in enumerate(out.cells) if "exercise" in c.metadata.get("tags", [])]
    for i, source in zip(stubs, solutions.values(), strict=True):
        out.cells[i].source = source
    return out


def test_a_filled_in_chapter_is_graded_by_the_class_grader_without_redoing_it(tmp_path):
    from centernet_edu.exercises.grade import NAMES, Limits, Submission, grade_submission

    def graded(path):
        submission = Submission(path.stem, {path.name: path.read_bytes()})
        return {r.exercise: r for r in grade_submission(submission, Limits(120, 2048))}

    exercise_of = {name: ex for ex, names in NAMES.items() for name in names}
    for chapter in GRADED:
        nb = read(BOOK / chapter)
        written = {ex.name for ex in student.exercises(nb, chapter)}
        handed_out, filled = tmp_path / f"out_{chapter}", tmp_path / f"in_{chapter}"
        nbformat.write(student.student_notebook(nb, chapter), handed_out)
        nbformat.write(_filled_in(nb, chapter), filled)
        # The training chapters take minutes to run; graded, their cells of the book only
        # define, so they take seconds (a chapter run whole would pass the time limit).
        rows, stubs = graded(filled), graded(handed_out)
        for name in written:
            row = rows[exercise_of[name]]
            assert row.ok and row.passed == row.total > 0, (chapter, name, row.message)
            assert STUB in stubs[exercise_of[name]].message, (chapter, name)
