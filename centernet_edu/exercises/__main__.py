"""The class grader's command line.

    python -m centernet_edu.exercises grade SUBMISSIONS --out DIR [--assignment A.toml]
    python -m centernet_edu.exercises grade SUBMISSIONS --csv results.csv

``--out DIR`` writes ``results.csv`` (a row per student and exercise), ``gradebook.csv``
(a row per student), ``feedback/<student>.md`` and ``gradescope/<student>/results.json``
(see ``outputs``); ``--csv`` writes the results CSV alone. ``--one`` grades SUBMISSIONS as
the files of a single student (Gradescope's ``/autograder/submission``) and also writes
``DIR/results.json``. Without ``--assignment`` every exercise is graded, one point each,
on the cases of seed 0 that the chapters' checkers show.

Exit status: 0 when the class is graded (whatever the students' results); 2 for a usage
error (argparse's ``error:`` line: a bad assignment, a folder where a file belongs); 1
when an output exists (``--overwrite`` replaces it) or cannot be written, or the system
cannot fork processes from a server; 130 after Ctrl-C, once the students graded so far
are written.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
from pathlib import Path

from .assignment import Assignment, default_assignment, read_assignment
from .grade import (
    CHECKERS,
    Limits,
    Row,
    Submission,
    find_submissions,
    folder_submission,
    grade_class,
)
from .outputs import (
    RESULTS_HEADER,
    feedback,
    file_stem,
    gradebook_csv,
    gradescope_json,
    results_csv,
    write_file,
)

__all__ = ["main", "build_parser", "HEADER"]

PROG = "python -m centernet_edu.exercises"
HEADER = RESULTS_HEADER


def _positive(kind, high):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not (isinstance(value, int) or math.isfinite(value)):
            value = None
        if value is None or not 0 < value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a positive {kind.__name__} up to {high:{'g' if kind is float else 'd'}}, "
                f"got {text!r}"
            )
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Grade the exercises of a class.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="grade")
    grade = commands.add_parser(
        "grade",
        help="grade a folder of submissions",
        description="Grade every .py or .ipynb file (or subfolder of them) in SUBMISSIONS, "
        f"the file's stem or the subfolder's name being the student's id: {', '.join(CHECKERS)}.",
    )
    grade.add_argument("submissions", metavar="SUBMISSIONS", type=Path)
    grade.add_argument(
        "--assignment", type=Path, metavar="TOML", help="the exercises, points, seeds"
    )
    grade.add_argument("--out", type=Path, metavar="DIR", help="write every output into DIR")
    grade.add_argument("--csv", type=Path, help="write the results CSV here")
    grade.add_argument("--one", action="store_true", help="SUBMISSIONS is one student's files")
    grade.add_argument(
        "--timeout",
        type=_positive(float, 86400),
        metavar="S",
        help="seconds a submission's process may run (default 60, or the assignment's)",
    )
    grade.add_argument(
        "--memory-mb",
        type=_positive(int, 2**20),
        metavar="M",
        help="memory a submission may take, in MB (default 1024, or the assignment's)",
    )
    grade.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _outputs(args) -> list[Path]:
    """The files the run will write, for the checks made before grading."""
    paths = [args.csv] if args.csv else []
    if args.out:
        paths += [args.out / "results.csv", args.out / "gradebook.csv"]
    return paths


def _check_outputs(parser, args) -> str | None:
    """A usage error, or the reason (exit status 1) why the outputs cannot be written."""
    if not args.csv and not args.out:
        parser.error("give --out DIR (every output) or --csv FILE (the results CSV)")
    if args.csv and args.csv.is_dir():
        parser.error(f"--csv must be a file, got the folder {str(args.csv)!r}")
    if args.out and args.out.exists() and not args.out.is_dir():
        parser.error(f"--out must be a folder, got the file {str(args.out)!r}")
    for path in _outputs(args):
        if path.exists() and not args.overwrite:
            return f"{path} exists: pass --overwrite to replace it"
        if path.is_dir():
            return f"{path} is a folder"
    for folder in {p.parent for p in _outputs(args)} - {args.out}:
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            return f"{folder} is not a writable folder"
    return None


def _write(args, rows: list[Row], assignment: Assignment) -> None:
    if args.csv:
        write_file(args.csv, results_csv(rows, assignment))
    if not args.out:
        return
    out = args.out
    for folder in (out, out / "feedback", out / "gradescope"):
        folder.mkdir(exist_ok=True)
    write_file(out / "results.csv", results_csv(rows, assignment))
    write_file(out / "gradebook.csv", gradebook_csv(rows, assignment))
    students: dict[str, list[Row]] = {}
    for r in rows:
        students.setdefault(r.student, []).append(r)
    for student, mine in students.items():
        if not any(r.exercise for r in mine):
            continue
        stem = file_stem(student)
        write_file(out / "feedback" / f"{stem}.md", feedback(student, mine, assignment))
        (out / "gradescope" / stem).mkdir(exist_ok=True)
        write_file(out / "gradescope" / stem / "results.json", gradescope_json(mine, assignment))
        if args.one:
            write_file(out / "results.json", gradescope_json(mine, assignment))


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _submissions(parser, args) -> list[Submission]:
    try:
        if args.one:
            if not args.submissions.is_dir():
                raise ValueError(f"SUBMISSIONS must be a folder, got {str(args.submissions)!r}")
            return [folder_submission(args.submissions)]
        return find_submissions(args.submissions)
    except ValueError as e:
        parser.error(str(e))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        assignment = read_assignment(args.assignment) if args.assignment else default_assignment()
    except ValueError as e:
        parser.error(f"--assignment: {e}")
    submissions = _submissions(parser, args)
    problem = _check_outputs(parser, args)
    if problem:
        return _fail(problem)
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return _fail("grading forks each submission from a server process: it needs Linux or macOS")
    limits = Limits(args.timeout or assignment.timeout, args.memory_mb or assignment.memory_mb)
    for s in submissions:
        if s.reason:
            print(f"{s.student}: {s.reason}", file=sys.stderr)
    rows: list[Row] = []
    graded = 0
    try:
        for student_rows in grade_class(submissions, limits, not args.quiet, assignment):
            rows += student_rows
            graded += 1
    except KeyboardInterrupt:
        _write(args, rows, assignment)
        print(
            f"interrupted: {graded} of {len(submissions)} entries graded and written; "
            "run the command again (with --overwrite) to grade the class",
            file=sys.stderr,
        )
        return 130
    _write(args, rows, assignment)
    students = sum(1 for s in submissions if not s.reason)
    passed = sum(r.ok for r in rows if r.exercise)
    where = args.out or args.csv
    tests = sum(1 for r in rows if r.exercise)
    print(f"{students} student{'s' * (students != 1)}, {passed} of {tests} tests passed: {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
