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

import contextlib
import multiprocessing
import os
import select
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .assignment import Assignment, default_assignment
from .catalog import CATALOG
from .channel import Frames, Malformed, decode, encode, frame
from .judge import Outcome, report, strict_float64
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
class Limits:
    """What a submission's process may take: seconds (per process) and megabytes."""

    timeout: float = 60.0
    memory_mb: int = 1024


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


# Stopping every process a submission started ---------------------------------------------


def _processes() -> dict[int, tuple[int, int, int, str]]:
    """``pid: (ppid, process group, session, state)`` of every process (Linux /proc)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), int(fields[2]), int(fields[3]), fields[0])
    return table


def _infrastructure() -> set[int]:
    """This process and the helpers multiprocessing keeps: never stopped."""
    from multiprocessing import forkserver, resource_tracker

    pids = {os.getpid(), os.getppid()}
    pids.add(getattr(forkserver._forkserver, "_forkserver_pid", None))
    pids.add(getattr(resource_tracker._resource_tracker, "_pid", None))
    return {p for p in pids if p}


def _strays(worker: int, before: set[int]) -> set[int]:
    """The live processes a worker started: its tree, its session and process group, and
    the orphans this process adopted since ``before``."""
    table, me, keep = _processes(), os.getpid(), _infrastructure()
    roots = {worker} | {p for p, (ppid, *_) in table.items() if ppid == me and p not in before}
    roots |= {p for p, (_, pgid, sid, _) in table.items() if worker in (pgid, sid)}
    found, frontier = set(), roots
    while frontier:
        found |= frontier
        frontier = {p for p, (ppid, *_) in table.items() if ppid in frontier} - found
    return {p for p in found if p in table and table[p][3] != "Z" and p not in keep}


def _reap() -> None:
    """Collect the adopted orphans that have ended (zombies this process owns)."""
    me = os.getpid()
    for pid, (ppid, *_, state) in _processes().items():
        if ppid == me and state == "Z" and pid not in _infrastructure():
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)


def _stop_everything(worker: int, before: set[int]) -> None:
    """Stop, then kill, every process the worker started, until none is left."""
    for _ in range(200):
        strays = _strays(worker, before)
        if not strays:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):  # frozen first: no fork races the kill
            for pid in strays:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
        time.sleep(0.005)
        _reap()
    _reap()


# One process of one submission -----------------------------------------------------------


class _Stopped(Exception):
    """The student's process ended before the grader was done: ``why`` in words."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        why = " (out of memory?)" if name == "SIGKILL" else ""
        return f"the interpreter was killed by {name}{why}"
    return f"the interpreter exited with status {exitcode} (os._exit?)"


class _Session:
    """One student process: start it, send it inputs, read its messages, stop it."""

    def __init__(self, context, folder: Path, files: list[str], todo: list[str], limits: Limits):
        self.deadline = time.monotonic() + limits.timeout
        self.limits = limits
        self.frames = Frames()
        self.inbox: list[dict] = []
        self.outgoing = bytearray()
        self.before = {p for p, (pp, *_) in _processes().items() if pp == os.getpid()}
        requests_r, self._requests_w = context.Pipe(duplex=False)
        self._results_r, results_w = context.Pipe(duplex=False)
        args = (str(folder), files, todo, requests_r, results_w, limits.memory_mb)
        self.process = _start(context, args)
        requests_r.close()
        results_w.close()
        self.rfd, self.wfd = self._results_r.fileno(), self._requests_w.fileno()
        os.set_blocking(self.wfd, False)
        self.eof = False

    def send(self, message: dict) -> None:
        self.outgoing += frame(message)

    def next_message(self) -> dict:
        """The next message, waiting for it; ``_Stopped`` when there is none to come."""
        while not self.inbox:
            if self.eof:
                self.process.join(1)
                raise _Stopped(_death(self.process.exitcode))
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise _Stopped(
                    f"did not finish within {self.limits.timeout:g} s (an endless loop?)"
                )
            writing = [self.wfd] if self.outgoing else []
            readable, writable, _ = select.select([self.rfd], writing, [], min(left, 1.0))
            if writable:
                try:
                    n = os.write(self.wfd, self.outgoing)
                    del self.outgoing[:n]
                except (BrokenPipeError, BlockingIOError):
                    pass
            if readable:
                data = os.read(self.rfd, 1 << 20)
                if not data:
                    self.eof = True
                else:
                    self.inbox += self.frames.feed(data)
        return self.inbox.pop(0)

    def close(self) -> None:
        """Stop the process and all it started; close the pipes."""
        with contextlib.suppress(OSError):
            self.send({"kind": "end"})
            os.write(self.wfd, self.outgoing)
        if self.process.pid is not None:
            self.process.join(0.5 if self.eof else 0)
            _stop_everything(self.process.pid, self.before)
            self.process.join(5)
        self._results_r.close()
        self._requests_w.close()


def _start(context, args):
    """Start ``worker.work``; a fork server the last submission killed is started again."""
    from .worker import work

    for attempt in range(3):
        process = context.Process(target=work, args=args, daemon=True)
        try:
            process.start()
            return process
        except (EOFError, ConnectionError, OSError):
            time.sleep(0.1 * (attempt + 1))
    process = context.Process(target=work, args=args, daemon=True)
    process.start()
    return process


def _check_loaded(message: dict, todo: list[str]) -> dict:
    kind = message.get("kind")
    if kind == "load_error" and isinstance(message.get("message"), str):
        return message
    defines, imported, problems = (message.get(k) for k in ("defines", "imported", "problems"))
    if not (
        kind == "loaded"
        and isinstance(defines, dict)
        and all(k in todo and isinstance(v, str) for k, v in defines.items())
        and isinstance(imported, list)
        and all(isinstance(e, str) for e in imported)
        and isinstance(problems, list)
        and all(isinstance(p, str) for p in problems)
    ):
        raise Malformed(f"a {str(kind)[:20]!r} message where the submission's names belong")
    return message


def _outcome(message: dict, exercise: str, index: int, args: tuple) -> Outcome:
    fields = ("kind", "exercise", "case", "result", "given", "error", "error_kind")
    if not (
        set(message) == set(fields)
        and message["kind"] == "outcome"
        and message["exercise"] == exercise
        and message["case"] == index
        and isinstance(message["error"], (str, type(None)))
        and isinstance(message["error_kind"], (str, type(None)))
    ):
        raise Malformed(f"a {str(message.get('kind'))[:20]!r} message where case {index} belongs")
    given = decode(message["given"])
    if not isinstance(given, tuple) or len(given) != len(args):
        raise Malformed(f"the inputs of case {index} sent back as {type(given).__name__}")
    if message["error"] is not None:
        return Outcome(error=message["error"][:2000], error_kind=message["error_kind"], given=given)
    return Outcome(result=decode(message["result"], given), given=given)


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
    """The rows of one submission: one per exercise of the plan (and hidden set)."""
    limits, context = limits or Limits(), context or _context()
    assignment = assignment or default_assignment()
    student = submission.student
    if submission.reason:
        return [Row(student, "", 0, 0, False, submission.reason)]
    sets = {e: _case_sets(assignment, e) for e in assignment.exercises}
    rows: dict[str, list[Row]] = {}
    todo, loaded = assignment.exercises, None
    with tempfile.TemporaryDirectory(prefix="centernet-grade-") as tmp:
        while todo:
            folder = Path(tempfile.mkdtemp(dir=tmp))
            names = [_private_name(n) for n in sorted(submission.files)]
            for name, data in zip(
                names, (submission.files[n] for n in sorted(submission.files)), strict=True
            ):
                (folder / name).write_bytes(data)
            session = _Session(context, folder, names, todo, limits)
            current = None
            try:
                message = _check_loaded(session.next_message(), todo)
                if message["kind"] == "load_error":
                    why = "could not be loaded: " + " ".join(message["message"].split())
                    for e in todo:
                        rows[e] = _failed_rows(student, e, sets[e], why)
                    break
                loaded = message
                runs = [e for e in todo if e in loaded["defines"]]
                for e in todo:
                    if e not in loaded["defines"]:
                        rows[e] = _failed_rows(student, e, sets[e], _missing_words(e, loaded))
                todo = list(runs)
                for exercise in runs:
                    current = exercise
                    rows[exercise] = _grade_one(
                        session, student, exercise, sets[exercise], assignment
                    )
                    todo.remove(exercise)
                current = None
            except (_Stopped, Malformed) as e:
                why = (
                    e.why
                    if isinstance(e, _Stopped)
                    else (f"sent the grader a message it did not ask for ({e})")
                )
                if loaded is None:
                    message = "could not be loaded: " + (
                        f"{why} while loading"
                        if isinstance(e, _Stopped)
                        else f"the submission {why}"
                    )
                    for ex in todo:
                        rows[ex] = _failed_rows(student, ex, sets[ex], message)
                    todo = []
                else:
                    name = current or todo[0]
                    who = "" if isinstance(e, _Stopped) else "the submission "
                    rows[name] = _failed_rows(
                        student, name, sets[name], f"{who}{why} while grading {name}"
                    )
                    todo = [x for x in todo if x != name]
            finally:
                session.close()
                shutil.rmtree(folder, ignore_errors=True)
    return [r for e in assignment.exercises for r in rows.get(e, [])]


def _grade_one(
    session: _Session, student: str, exercise: str, sets, assignment: Assignment
) -> list[Row]:
    """Send every set of cases of ``exercise``, judge the outcomes, and make its rows."""
    cases = [c for _, _, cs in sets for c in cs]
    session.send({"kind": "cases", "exercise": exercise, "cases": [encode(c.args) for c in cases]})
    outcomes = [_outcome(session.next_message(), exercise, i, c.args) for i, c in enumerate(cases)]
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
