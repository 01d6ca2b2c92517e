"""Write the student edition of the book: the chapters without their worked solutions.

An exercise in a chapter is a markdown cell saying what to write, then code cells in this
order: the student's stub (tagged ``exercise``: a function that raises
``NotImplementedError``, named ``my_<thing>``), the checker cell, which calls a ``check_*``
function on that name, and the worked solution (tagged ``solution``, collapsed behind a
toggle in the book) under its own name, ``solution_<thing>``, followed by its own check (a
cell tagged ``solution`` too). The solution never defines the student's name, so running
every cell, in any order, never grades the solution in place of the student's code, and
the checker's committed output under the untouched stub is its "not yet". The student
edition keeps the stubs and the checkers and leaves the solution cells out, with the
answers to the conceptual exercises (a markdown cell tagged ``answers``) and the
chapter's own code that answers a coding exercise (cells tagged ``from-scratch``, each
run of them replaced by a one-line note); it clears every output, execution count and
the widget state, and drops the tags that only steer how the book shows a cell
(``hide-input``, ``remove-cell``, ...).
Every code cell but the stubs is marked with the hash of its source
(``cell.metadata["centernet_edu"]["pristine"]``): the class grader then tells the cells as
handed out, of which it runs only the definitions, from those the student added or
changed, which it runs whole. Chapters without exercises are copied with their outputs
cleared, and marked the same way.

    python tools/student.py [--out student] [notebook ...]   (make student)

A chapter whose exercises do not come as stub, checker, solution is refused with the
chapter, the cell and what is missing, and then nothing is written. The folder is
created if need be, and it must be a folder this tool wrote before (it leaves a
``.student-edition`` file there) or an empty one: the book itself is never overwritten.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
MARKER = ".student-edition"
STUB_TAG, SOLUTION_TAG = "exercise", "solution"
# Left out of the student edition too: the answers to the conceptual exercises (a markdown
# cell), and the chapter's own code that answers a coding exercise, with the cells that
# use it (each run of them becomes SCRATCH_NOTE).
ANSWERS_TAG, SCRATCH_TAG = "answers", "from-scratch"
SCRATCH_NOTE = (
    "*In the student edition the code of this section is left out: writing it is one of "
    "the exercises at the end of the chapter.*"
)
# A cell's mark, read by centernet_edu.exercises.submission: metadata[MARK][PRISTINE].
MARK, PRISTINE = "centernet_edu", "pristine"
# Jupyter Book's tags: they decide what the built book shows, and mean nothing to a student.
BOOK_TAGS = frozenset(
    f"{verb}-{part}" for verb in ("hide", "remove") for part in ("cell", "input", "output")
)


# What nbformat raises, reading or validating, for a file that is not a valid notebook (not
# JSON, not UTF-8, JSON of another shape, a missing key).
_NOT_A_NOTEBOOK = (ValueError, TypeError, AttributeError, KeyError, nbformat.ValidationError)


class EditionError(ValueError):
    """The student edition cannot be written as asked."""


class ExerciseLayoutError(EditionError):
    """A chapter's exercise cells are not stub, checker, solution."""


@dataclass(frozen=True)
class Exercise:
    """Where one exercise's cells are in its notebook, and the name the student writes."""

    name: str
    stub: int
    checker: int
    solutions: tuple[int, ...]  # the worked solution, then its check

    @property
    def solution_name(self) -> str:
        return solution_name(self.name)


def solution_name(name: str) -> str:
    """The worked solution's name for the stub ``name``: my_focal_loss -> solution_focal_loss."""
    return "solution_" + name.removeprefix("my_")


def chapters() -> list[Path]:
    return sorted(BOOK.glob("[0-9]*.ipynb"))


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _defined(source: str) -> list[str]:
    """The names a cell defines with a top-level ``def`` or ``class``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return [node.name for node in tree.body if isinstance(node, kinds)]


def _checks(source: str, name: str) -> bool:
    """Whether a cell calls a ``check_*`` function with ``name`` as an argument."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            passed = [a for a in node.args if isinstance(a, ast.Name)]
            if node.func.id.startswith("check_") and any(a.id == name for a in passed):
                return True
    return False


def _stub_name(cells, i: int, where) -> str:
    """The one name the stub at ``i`` defines; it must still raise NotImplementedError."""
    cell = cells[i]
    names = _defined(cell.source) if cell.cell_type == "code" else []
    if len(names) != 1:
        raise ExerciseLayoutError(
            f"{where(i)}: an {STUB_TAG!r} cell must be a code cell defining one function or "
            f"class for the student to write, got {len(names)} definitions"
        )
    if "NotImplementedError" not in cell.source:
        raise ExerciseLayoutError(
            f"{where(i)}: the {STUB_TAG!r} stub {names[0]} must raise NotImplementedError "
            "(the checkers grade that as not yet)"
        )
    return names[0]


def _solution_cells(cells, start: int, name: str, where) -> tuple[int, ...]:
    """The cells tagged ``solution`` from ``start`` on: the first defines the worked
    solution under its own name, a later one checks it."""
    own = solution_name(name)
    end = start
    while end < len(cells) and SOLUTION_TAG in _tags(cells[end]):
        end += 1
    found = tuple(range(start, end))
    if not found or cells[start].cell_type != "code" or own not in _defined(cells[start].source):
        raise ExerciseLayoutError(
            f"{where(start)}: the checker of {name} must be followed by a code cell tagged "
            f"{SOLUTION_TAG!r} defining the worked solution {own}"
        )
    for j in found:
        if name in _defined(cells[j].source):
            raise ExerciseLayoutError(
                f"{where(j)}: a solution cell must not define {name}, the student's name "
                "(running it would grade the solution in place of the student's code)"
            )
    if not any(_checks(cells[j].source, own) for j in found[1:]):
        raise ExerciseLayoutError(
            f"{where(start)}: the worked solution {own} must be followed by a cell tagged "
            f"{SOLUTION_TAG!r} calling a check_* function on it"
        )
    return found


def exercises(nb, label: str = "notebook") -> list[Exercise]:
    """The exercises of a notebook, each checked to be stub, checker, solution."""
    cells = nb.cells

    def where(i: int) -> str:
        return f"{label}, cell {i}"

    found, claimed = [], set()
    for i, cell in enumerate(cells):
        if STUB_TAG not in _tags(cell):
            continue
        name = _stub_name(cells, i, where)
        j = i + 1
        if j >= len(cells) or cells[j].cell_type != "code" or not _checks(cells[j].source, name):
            raise ExerciseLayoutError(
                f"{where(i)}: the stub {name} must be followed by the checker cell, a code "
                f"cell calling a check_* function on {name}"
            )
        if SOLUTION_TAG in _tags(cells[j]):
            raise ExerciseLayoutError(
                f"{where(j)}: the checker of {name} must not be tagged {SOLUTION_TAG!r}"
            )
        solutions = _solution_cells(cells, j + 1, name, where)
        found.append(Exercise(name, i, j, solutions))
        claimed.update(solutions)
    for i, cell in enumerate(cells):
        if SOLUTION_TAG in _tags(cell) and i not in claimed:
            raise ExerciseLayoutError(
                f"{where(i)}: a {SOLUTION_TAG!r} cell must follow its exercise's checker"
            )
    return found


def _left_out_tags(cells, label: str) -> None:
    """Answers must be prose and the from-scratch code must be code, neither an exercise's."""
    for i, cell in enumerate(cells):
        tags = _tags(cell)
        if ANSWERS_TAG in tags and cell.cell_type != "markdown":
            raise ExerciseLayoutError(
                f"{label}, cell {i}: an {ANSWERS_TAG!r} cell must be a markdown cell, "
                f"got a {cell.cell_type} cell"
            )
        if SCRATCH_TAG in tags and (
            cell.cell_type != "code" or {STUB_TAG, SOLUTION_TAG} & set(tags)
        ):
            raise ExerciseLayoutError(
                f"{label}, cell {i}: a {SCRATCH_TAG!r} cell must be a code cell of the "
                f"chapter's body, got a {cell.cell_type} cell tagged {tags}"
            )


def _handed_out(cells, solutions: set[int]) -> list:
    """The cells a student gets, in order: each run of from-scratch cells becomes one note."""
    kept = []
    for i, cell in enumerate(cells):
        tags = _tags(cell)
        if i in solutions or ANSWERS_TAG in tags:
            continue
        if SCRATCH_TAG in tags:
            if not (kept and kept[-1].source == SCRATCH_NOTE):
                kept.append(nbformat.v4.new_markdown_cell(SCRATCH_NOTE))
            continue
        kept.append(cell)
    return kept


def student_notebook(nb, label: str = "notebook"):
    """A copy of ``nb`` as a student gets it: no solutions, answers, from-scratch code,
    outputs, widget state or book-only tags, and every code cell but the stubs marked with
    its source's hash."""
    solutions = {i for ex in exercises(nb, label) for i in ex.solutions}
    _left_out_tags(nb.cells, label)
    out = copy.deepcopy(nb)
    out.cells = _handed_out(out.cells, solutions)
    for cell in out.cells:
        meta = cell.metadata
        meta.pop("execution", None)  # the times of the teacher's run
        if "tags" in meta:
            meta["tags"] = [t for t in meta["tags"] if t not in BOOK_TAGS]
            if not meta["tags"]:
                del meta["tags"]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        _mark_pristine(cell)
    out.metadata.pop("widgets", None)
    nbformat.validate(out)
    return out


def source_hash(source: str) -> str:
    """The mark of a cell's source as handed out: the grader runs a cell whole once its
    source no longer hashes to it (the same hash as submission.source_hash)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def _mark_pristine(cell) -> None:
    """Record, on a code cell that is not a stub, the hash of its source as handed out."""
    if cell.cell_type == "code" and STUB_TAG not in _tags(cell):
        cell.metadata[MARK] = {PRISTINE: source_hash(cell.source)}


def _check_folder(out: Path) -> None:
    if out.resolve() == BOOK.resolve():
        raise EditionError(f"--out must not be the book's own folder, got {out}")
    if out.exists() and not out.is_dir():
        raise EditionError(f"--out must be a folder, got the file {out}")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise EditionError(
            f"--out must be empty or a student edition written before (with {MARKER}), "
            f"got {out}, which holds other files"
        )


def write_edition(notebooks: list[Path], out: Path) -> dict[Path, int]:
    """Write the student edition of ``notebooks`` into ``out``; returns each path written
    with its number of exercises. Every chapter is checked before anything is written."""
    _check_folder(out)
    edition = {}
    for path in notebooks:
        try:
            nb = nbformat.read(path, as_version=4)
            edition[out / path.name] = (student_notebook(nb, path.name), len(exercises(nb)))
        except EditionError:
            raise
        except _NOT_A_NOTEBOOK as e:
            first = (str(e).splitlines() or [""])[0]
            raise EditionError(
                f"{path} is not a valid notebook ({type(e).__name__}: {first})"
            ) from e
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("Written by tools/student.py, which replaces what it wrote.\n")
    for target, (nb, _) in edition.items():
        nbformat.write(nb, target)
    return {target: count for target, (_, count) in edition.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "student", help="the folder (default: student/)"
    )
    args = parser.parse_args(argv)
    try:
        written = write_edition(args.notebooks or chapters(), args.out)
    except (EditionError, OSError, nbformat.reader.NotJSONError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    n_chapters, graded = len(written), sum(written.values())
    print(
        f"wrote {n_chapters} chapter{'s' * (n_chapters != 1)} with {graded} "
        f"exercise{'s' * (graded != 1)} to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
