"""What the class grader writes: the results CSV, the gradebook, feedback, results.json.

- ``results.csv``: one row per student and exercise (and hidden set): ``student,
  exercise, passed, total, ok, points, max_points, message``.
- ``gradebook.csv``: one row per student: the points of each exercise, and the total.
- ``feedback/<student>.md``: for the student, every failing case in words, with its hint.
- ``gradescope/<student>/results.json``: Gradescope's autograder format, one test per
  exercise and hidden set (hidden ones ``"visibility": "after_published"``).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@``: every text cell
is written with a leading ``'`` there. Files are written to a new temporary file beside
their place, then moved onto it, which replaces a planted symbolic link rather than
writing through it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from pathlib import Path

from .assignment import Assignment
from .grade import Row, row_points, score

__all__ = [
    "RESULTS_HEADER",
    "safe_cell",
    "write_file",
    "results_csv",
    "gradebook_csv",
    "feedback",
    "gradescope",
    "file_stem",
    "gradescope_json",
]

_LISTED = 8  # failing cases listed in a feedback file: the first ones say what is wrong
RESULTS_HEADER = ("student", "exercise", "passed", "total", "ok", "points", "max_points", "message")


def safe_cell(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def file_stem(student: str) -> str:
    """A file name for a student's id: safe characters only, never a path."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", student).lstrip(".") or "student"
    return stem[:100]


def write_file(path: Path, text: str) -> None:
    """``text`` at ``path``, written whole or not at all; a link planted there is replaced."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(f"{path} is a folder")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _by_student(rows: list[Row]) -> dict[str, list[Row]]:
    students: dict[str, list[Row]] = {}
    for r in rows:
        students.setdefault(r.student, []).append(r)
    return students


def results_csv(rows: list[Row], assignment: Assignment) -> str:
    lines = []
    for mine in _by_student(rows).values():
        points = row_points(mine, assignment)
        for r in mine:
            got, top = points.get(r.exercise, (0.0, 0.0))
            lines.append(
                (
                    safe_cell(r.student),
                    safe_cell(r.exercise),
                    r.passed,
                    r.total,
                    r.ok,
                    got,
                    top,
                    safe_cell(r.message),
                )
            )
    return _csv(RESULTS_HEADER, lines)


def gradebook_csv(rows: list[Row], assignment: Assignment) -> str:
    """One row per graded student: the points of each exercise, then the total."""
    header = ("student", *assignment.exercises, "total", "max_total")
    lines = []
    for student, mine in _by_student(rows).items():
        if not any(r.exercise for r in mine):
            continue  # an entry that is not a submission
        points = score(mine, assignment)
        got = [points[e][0] for e in assignment.exercises]
        top = sum(t.points for t in assignment.tasks)
        lines.append((safe_cell(student), *got, round(sum(got), 4), top))
    return _csv(header, lines)


def feedback(student: str, rows: list[Row], assignment: Assignment) -> str:
    """A student's feedback in markdown: each exercise, its points, every failing case."""
    points, total = row_points(rows, assignment), score(rows, assignment)
    got = sum(p for p, _ in total.values())
    top = sum(t for _, t in total.values())
    lines = [
        f"# {assignment.title}: feedback for {student}",
        "",
        f"**{got:g} of {top:g} points.**",
        "",
    ]
    for r in rows:
        if not r.exercise:
            lines += [r.message, ""]
            continue
        p, m = points.get(r.exercise, (0.0, 0.0))
        status = "passed" if r.ok else "not yet"
        lines += [f"## {r.exercise}: {status} ({p:g} of {m:g} points)", ""]
        if r.hidden:
            lines += [f"{r.passed} of {r.total} hidden cases pass.", ""]
            continue
        if r.total and r.ok:
            lines += [f"All {r.total} cases pass.", ""]
            continue
        if r.total and r.failures and r.passed + len(r.failures) == r.total:
            lines += [f"{r.passed} of {r.total} cases pass. The cases that do not:", ""]
            lines += [f"- {' '.join(f.split())}" for f in r.failures[:_LISTED]]
            if len(r.failures) > _LISTED:
                lines.append(f"- and {len(r.failures) - _LISTED} more cases")
        else:
            lines.append(r.message)
        if r.hint:
            lines += ["", f"Hint: {r.hint}"]
        lines.append("")
    return "\n".join(lines)


def gradescope(rows: list[Row], assignment: Assignment) -> dict:
    """Gradescope's autograder ``results.json`` for one student's rows."""
    points = row_points(rows, assignment)
    tests = []
    for r in rows:
        if not r.exercise:
            continue
        got, top = points.get(r.exercise, (0.0, 0.0))
        output = r.message if r.hidden is False else f"{r.passed} of {r.total} hidden cases pass"
        tests.append(
            {
                "name": r.exercise,
                "score": got,
                "max_score": top,
                "output": output,
                "visibility": "after_published" if r.hidden else "visible",
            }
        )
    message = next((r.message for r in rows if not r.exercise), "")
    return {
        "score": round(sum(t["score"] for t in tests), 4),
        "output": message
        or f"{assignment.title}: {sum(r.ok for r in rows)} of {len(tests)} tests pass",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def gradescope_json(rows: list[Row], assignment: Assignment) -> str:
    return json.dumps(gradescope(rows, assignment), indent=1) + "\n"
