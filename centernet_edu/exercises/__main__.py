"""The class grader's command line.

    python -m centernet_edu.exercises grade SUBMISSIONS --csv results.csv [--timeout S] [--memory-mb M]

writes one CSV row per student and exercise: ``student, exercise, passed, total, ok,
message``. Exit status: 0 when the class is graded (whatever the students' results); 2 for
a usage error (argparse's ``error:`` line); 1 when the CSV exists (``--overwrite``
replaces it) or cannot be written, or the system cannot fork processes from a server; 130 after Ctrl-C,
once the students graded so far are written.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import sys
from pathlib import Path

from .grade import CHECKERS, Row, find_submissions, grade_class

PROG = "python -m centernet_edu.exercises"
HEADER = ("student", "exercise", "passed", "total", "ok", "message")


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0 or value != value:
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__}, got {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Grade the exercises of a class.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="grade")
    grade = commands.add_parser(
        "grade",
        help="grade a folder of submissions",
        description="Grade every .py or .ipynb file in SUBMISSIONS (the file's stem is the "
        f"student's id) on the exercises it defines: {', '.join(CHECKERS)}.",
    )
    grade.add_argument("submissions", metavar="SUBMISSIONS", type=Path)
    grade.add_argument("--csv", required=True, type=Path, help="where the results go")
    grade.add_argument(
        "--timeout",
        type=_positive(float),
        default=60.0,
        metavar="S",
        help="seconds a submission's process may run (default 60)",
    )
    grade.add_argument(
        "--memory-mb",
        type=_positive(int),
        default=1024,
        metavar="M",
        help="memory a submission may take, in MB (default 1024)",
    )
    grade.add_argument("--overwrite", action="store_true", help="replace an existing CSV")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def write_csv(path: Path, rows: list[Row]) -> None:
    """All rows, written to a temporary file first: a crash never leaves half a CSV."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows((r.student, r.exercise, r.passed, r.total, r.ok, r.message) for r in rows)
    os.replace(partial, path)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        paths = find_submissions(args.submissions)
    except ValueError as e:
        parser.error(str(e))
    if args.csv.exists() and not args.overwrite:
        return _fail(f"{args.csv} exists: pass --overwrite to replace it")
    if not args.csv.parent.is_dir() or not os.access(args.csv.parent, os.W_OK):
        return _fail(f"{args.csv} cannot be written: {args.csv.parent} is not a writable folder")
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return _fail("grading forks each submission from a server process: it needs Linux or macOS")
    rows: list[Row] = []
    try:
        for student_rows in grade_class(paths, args.timeout, args.memory_mb, not args.quiet):
            rows += student_rows
    except KeyboardInterrupt:
        write_csv(args.csv, rows)
        done = len(rows) // len(CHECKERS)
        print(
            f"interrupted: {done} of {len(paths)} students graded, written to {args.csv}; "
            "run the command again (with --overwrite) to grade the class",
            file=sys.stderr,
        )
        return 130
    write_csv(args.csv, rows)
    passed = sum(r.ok for r in rows)
    print(f"{len(paths)} students, {passed} of {len(rows)} exercises passed: {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
