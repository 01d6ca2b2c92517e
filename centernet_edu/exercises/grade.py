"""Grading a class: the verdicts are computed where no student's code runs.

A folder holds the submissions: a ``.py`` or ``.ipynb`` file per student (the file's stem
is the student's id), or a subfolder per student holding several (the subfolder's name is
the id). Each defines some exercises under the package's names (``focal_loss``, ...,
``CenterNetLoss``) or the student edition's stubs (``my_focal_loss``, ...): a chapter of
the student edition, filled in, is a submission. Every file is read into memory before
anyone is graded, so a submission that writes into a classmate's file changes nothing.

For each submission the grader (this process) starts a process from a fork server that
has imported the package once (a fork takes milliseconds where a fresh interpreter takes
seconds); ``worker.work`` runs there. The grader makes every case and its expected
result, sends the student's process the inputs, reads back what the student's function
returned, and judges it with the checkers' own code (``judge.report``). The student's
process gets nothing but inputs; what it sends is read as data (``channel``), checked,
and a message the grader did not ask for fails that submission's exercise, no other.

The student's process

- works in a temporary folder of its own, on a private copy of its files;
- may use ``memory_mb`` megabytes of address space beyond what it holds at start
  (``RLIMIT_AS``, Linux): past it, allocations fail and the exercise is told so;
- is stopped when it runs past ``timeout`` seconds: the exercise it was running is
  recorded as not finishing, and the exercises after it are graded in a new process;
- may die (``os._exit``, a segmentation fault, killing its fork server): that exercise is
  recorded as such, and the rest are graded in a new process.

When it ends, every process it started ends too: its session, its process group, and
the orphans it left, which this process adopts while it grades (Linux).
"""

from __future__ import annotations

import multiprocessing
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .assignment import Assignment, default_assignment
from .catalog import CATALOG
from .channel import Malformed, encode
from .judge import report, strict_float64
from .processes import Limits, Session, Stopped, check_loaded, outcome_of
from .report import Report
from .submission import SUFFIXES
from .worker import become_subreaper

__all__ = [
    "CHECKERS",
    "NAMES",
    "Row",
    "Limits",
    "Submission",
    "find_submissions",
    "folder_submission",
    "grade_submission",
    "grade_class",
    "score",
    "row_points",
    "exercise_of",
]

# The exercises in the book's order, and the names a submission may answer each under.
CHECKERS = tuple(CATALOG)
NAMES = {name: s.names for name, s in CATALOG.items()}

MAX_FILE = 64 * 2**20  # bytes: a notebook with its outputs stays far below


@dataclass(frozen=True)
class Row:
    """A student's result on one exercise (or on one set of its hidden cases)."""

    student: str
    exercise: str
    passed: int
    total: int
    ok: bool
    message: str
    failures: tuple[str, ...] = ()  # every failing case, in words
    hint: str | None = None
    hidden: bool = False  # cases the students were not shown (an assignment's hidden seed)


@dataclass(frozen=True)
class Submission:
    """One student's files, read into memory; ``reason`` says why it is not graded."""

    student: str
    files: dict[str, bytes] = field(default_factory=dict)
    reason: str | None = None


def _read(path: Path) -> tuple[bytes | None, str | None]:
    try:
        if path.is_symlink() and not path.exists():
            return None, "a symbolic link to nothing"
        if not path.is_file():
            return None, "not a regular file"
        if path.stat().st_size > MAX_FILE:
            return None, f"larger than {MAX_FILE // 2**20} MB"
        return path.read_bytes(), None
    except OSError as e:
        return None, f"cannot be read ({e.strerror or type(e).__name__})"


def _is_code(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def folder_submission(folder: Path) -> Submission:
    files, reasons = {}, []
    for path in sorted(folder.iterdir()):
        if not _is_code(path):
            continue
        data, reason = _read(path)
        if reason:
            reasons.append(f"{path.name}: {reason}")
        else:
            files[path.name] = data
    if files:
        return Submission(folder.name, files)
    why = "; ".join(reasons) or "it holds no .py or .ipynb file"
    return Submission(folder.name, reason=f"not graded: {why}")


def find_submissions(folder: Path) -> list[Submission]:
    """Every entry of ``folder``, by name: a student's submission, or why it is not one.

    ValueError if ``folder`` is not a folder, holds nothing to grade, or two entries
    share a student's id."""
    if not folder.is_dir():
        raise ValueError(f"SUBMISSIONS must be a folder, got {str(folder)!r}")
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue  # .DS_Store, .ipynb_checkpoints: never a student's
        if path.is_dir() and not path.is_symlink():
            found.append(folder_submission(path))
        elif _is_code(path):
            data, reason = _read(path)
            sub = Submission(path.stem, {path.name: data}) if data is not None else None
            found.append(
                sub or Submission(path.stem, reason=f"not graded: {path.name} is {reason}")
            )
        else:
            kind = "a symbolic link to nothing" if path.is_symlink() and not path.exists() else None
            why = kind or "not a .py or .ipynb file"
            found.append(Submission(path.name, reason=f"not graded: {path.name} is {why}"))
    if not any(s.files for s in found):
        raise ValueError(f"{folder} holds no submissions (.py or .ipynb files)")
    ids = [s.student for s in found if s.files]
    twice = sorted({s for s in ids if ids.count(s) > 1})
    if twice:
        raise ValueError(f"two submissions for one student id in {folder}: {', '.join(twice)}")
    return found


# One submission --------------------------------------------------------------------------


def _case_sets(assignment: Assignment, exercise: str) -> list[tuple[str, object, list]]:
    """``(label, exercise object, cases)``: the visible set, then each hidden one."""
    build, task = CATALOG[exercise].build, assignment.task(exercise)
    sets = [("", *build(assignment.seed))]
    sets += [(f" (hidden {i})", *build(s)) for i, s in enumerate(task.hidden_seeds, 1)]
    return sets


def _row(student: str, exercise: str, result: Report, hidden: bool) -> Row:
    return Row(
        student,
        exercise,
        result.passed,
        result.total,
        result.ok,
        result.summary(),
        tuple(result.failures),
        result.hint,
        hidden,
    )


def _failed_rows(student, exercise, sets, message) -> list[Row]:
    return [
        Row(student, exercise + label, 0, len(cases), False, message, (message,), None, bool(label))
        for label, _, cases in sets
    ]


def _missing_words(exercise: str, loaded: dict) -> str:
    names = " or ".join(NAMES[exercise])
    words = f"not answered in this submission (it defines no {names} of its own)"
    problems = loaded.get("problems", [])
    if problems:
        n = len(problems)
        words += f" ({n} part{'s' if n > 1 else ''} of it failed to run; first, {problems[0]})"
    return "missing: " + " ".join(words.split())


def _private_name(name: str) -> str:
    """The name of a file's private copy: its suffix in lower case (``Upper.PY``)."""
    path = Path(name)
    return path.stem + path.suffix.lower()


def grade_submission(
    submission: Submission,
    limits: Limits | None = None,
    context=None,
    assignment: Assignment | None = None,
) -> list[Row]:
    """The rows of one submission: one per exercise of the assignment (and hidden set)."""
    limits, context = limits or Limits(), context or _context()
    assignment = assignment or default_assignment()
    if submission.reason:
        return [Row(submission.student, "", 0, 0, False, submission.reason)]
    sets = {e: _case_sets(assignment, e) for e in assignment.exercises}
    rows: dict[str, list[Row]] = {}
    todo = list(assignment.exercises)
    with tempfile.TemporaryDirectory(prefix="centernet-grade-") as tmp:
        while todo:
            folder, names = _private_copy(Path(tmp), submission)
            session = Session(context, folder, names, todo, limits)
            try:
                todo = _one_process(session, submission.student, todo, sets, rows, assignment)
            finally:
                session.close()
                shutil.rmtree(folder, ignore_errors=True)
    return [r for e in assignment.exercises for r in rows.get(e, [])]


def _private_copy(tmp: Path, submission: Submission) -> tuple[Path, list[str]]:
    """A new folder holding a copy of the submission's files, and their names there."""
    folder = Path(tempfile.mkdtemp(dir=tmp))
    names = []
    for name in sorted(submission.files):
        names.append(_private_name(name))
        (folder / names[-1]).write_bytes(submission.files[name])
    return folder, names


def _why(error: Exception) -> str:
    if isinstance(error, Stopped):
        return error.why
    return f"the submission sent the grader a message it did not ask for ({error})"


def _one_process(session, student, todo, sets, rows, assignment) -> list[str]:
    """Grade what one student process can of ``todo`` into ``rows``; return what is left
    for a new process (the exercises after one it did not finish)."""
    current = None
    try:
        loaded = check_loaded(session.next_message(), todo)
        if loaded["kind"] == "load_error":
            why = "could not be loaded: " + " ".join(loaded["message"].split())
            rows.update({e: _failed_rows(student, e, sets[e], why) for e in todo})
            return []
        for e in todo:
            if e not in loaded["defines"]:
                rows[e] = _failed_rows(student, e, sets[e], _missing_words(e, loaded))
        todo = [e for e in todo if e in loaded["defines"]]
        for exercise in list(todo):
            current = exercise
            rows[exercise] = _grade_one(session, student, exercise, sets[exercise], assignment)
            todo.remove(exercise)
        return []
    except (Stopped, Malformed) as e:
        if current is None:
            tail = " while loading" if isinstance(e, Stopped) else ""
            why = f"could not be loaded: {_why(e)}{tail}"
            rows.update({x: _failed_rows(student, x, sets[x], why) for x in todo})
            return []
        why = f"{_why(e)} while grading {current}"
        rows[current] = _failed_rows(student, current, sets[current], why)
        return [x for x in todo if x != current]


def _grade_one(
    session: Session, student: str, exercise: str, sets, assignment: Assignment
) -> list[Row]:
    """Send every set of cases of ``exercise``, judge the outcomes, and make its rows."""
    cases = [c for _, _, cs in sets for c in cs]
    session.send({"kind": "cases", "exercise": exercise, "cases": [encode(c.args) for c in cases]})
    outcomes = [
        outcome_of(session.next_message(), exercise, i, c.args) for i, c in enumerate(cases)
    ]
    done = session.next_message()
    if done != {"kind": "done", "exercise": exercise}:
        raise Malformed(
            f"a {str(done.get('kind'))[:20]!r} message where the end of {exercise} belongs"
        )
    rows, start = [], 0
    for label, ex, cs in sets:
        with strict_float64(assignment.task(exercise).float64):
            result = report(ex, cs, outcomes[start : start + len(cs)])
        if result.failures and "ran out of memory" in result.failures[0]:
            result.failures[0] += f" (the grader allows {session.limits.memory_mb} MB)"
        start += len(cs)
        rows.append(_row(student, exercise + label, result, hidden=bool(label)))
    return rows


def _context():
    context = multiprocessing.get_context("forkserver")
    # The server imports the package (and torch) once; every submission is a fork of it.
    context.set_forkserver_preload(["centernet_edu.exercises.worker"])
    return context


def grade_class(
    submissions: list[Submission],
    limits: Limits | None = None,
    progress: bool = True,
    assignment: Assignment | None = None,
) -> Iterator[list[Row]]:
    """Grade each submission in turn, yielding its rows; a progress bar shows the class.

    While it grades, this process adopts the orphans of the students' processes, so that
    it can stop them (Linux)."""
    context = _context()
    bar = tqdm(submissions, desc="grading", unit="student", file=sys.stderr, disable=not progress)
    adopted = become_subreaper(True)
    try:
        for submission in bar:
            bar.set_postfix_str(submission.student[:30])
            yield grade_submission(submission, limits, context, assignment)
    finally:
        if adopted:
            become_subreaper(False)


def exercise_of(row: Row) -> str:
    """The exercise a row grades: its name without " (hidden 1)"."""
    return row.exercise.split(" (hidden")[0]


def row_points(rows: list[Row], assignment: Assignment) -> dict[str, tuple[float, float]]:
    """``{row's exercise: (points, out of)}`` of one student's rows. An exercise's points
    are shared among its sets of cases (visible and hidden) by their number of cases;
    within a set, in proportion to the cases passed (``partial``) or all or nothing."""
    out = {}
    for task in assignment.tasks:
        mine = [r for r in rows if exercise_of(r) == task.exercise]
        cases = sum(r.total for r in mine)
        for r in mine:
            top = task.points * r.total / cases if cases else task.points / len(mine)
            ratio = (r.passed / r.total if assignment.partial else float(r.ok)) if r.total else 0.0
            out[r.exercise] = (round(top * ratio, 4), round(top, 4))
    return out


def score(rows: list[Row], assignment: Assignment) -> dict[str, tuple[float, float]]:
    """``{exercise: (points, out of)}`` of one student's rows."""
    points = row_points(rows, assignment)
    return {
        t.exercise: (
            round(sum(points[r.exercise][0] for r in rows if exercise_of(r) == t.exercise), 4),
            t.points,
        )
        for t in assignment.tasks
    }
