"""Grading a class: every submission in its own process, with a time and a memory limit.

A folder holds one ``.py`` or ``.ipynb`` file per student (the file's stem is the
student's id), each defining some of the functions under the package's names
(``gaussian_radius``, ``focal_loss``, ..., ``CenterNetLoss``) or under the names of the
student edition's stubs (``my_gaussian_radius``, ..., ``my_size_loss``,
``my_centernet_loss``): a chapter of the student edition, filled in, is a submission. Each submission runs in a
process of its own, forked from a server that has imported the package once (a fork
takes milliseconds where a fresh interpreter takes seconds). The process

- may use ``memory_mb`` megabytes of address space beyond what the grader itself holds
  (``RLIMIT_AS``, Linux): past it, allocations fail and the exercise is told so;
- is stopped, with the whole process group, when it runs past ``timeout`` seconds: the
  exercise it was running is recorded as not finishing, and the exercises after it are
  graded in a new process (with ``timeout`` seconds again);
- may die (``os._exit``, a segmentation fault): that exercise is recorded as such, and
  the rest are graded in a new process.

A submission that cannot be loaded (a syntax error, a failing import) gets that reason on
each of its rows; the others are never stopped by it.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from .check_decode import check_decode_ctdet, check_heatmap_nms
from .check_losses import check_focal_loss, check_focal_loss_with_logits, check_reg_l1_loss
from .check_targets import check_draw_gaussian, check_encode_ctdet, check_gaussian_radius
from .check_totals import check_centernet_loss, check_extreme_net_loss
from .submission import SUFFIXES, LoadError, load

__all__ = [
    "CHECKERS",
    "NAMES",
    "Row",
    "find_submissions",
    "grade_submission",
    "grade_class",
    "work",
]

# The exercises in the book's order, each with its checker.
CHECKERS = {
    "gaussian_radius": check_gaussian_radius,
    "draw_gaussian": check_draw_gaussian,
    "encode_ctdet": check_encode_ctdet,
    "focal_loss": check_focal_loss,
    "focal_loss_with_logits": check_focal_loss_with_logits,
    "reg_l1_loss": check_reg_l1_loss,
    "size_loss": check_reg_l1_loss,  # chapter 5: the L1 loss read at the centres, on sizes
    "heatmap_nms": check_heatmap_nms,
    "decode_ctdet": check_decode_ctdet,
    "CenterNetLoss": check_centernet_loss,
    "ExtremeNetLoss": check_extreme_net_loss,
}

# The names a submission may define each exercise under, first found first graded: the
# package's name, then the name of the student edition's stub.
NAMES = {
    "gaussian_radius": ("gaussian_radius", "my_gaussian_radius"),
    "draw_gaussian": ("draw_gaussian", "my_draw_gaussian"),
    "encode_ctdet": ("encode_ctdet", "my_encode_ctdet"),
    "focal_loss": ("focal_loss", "my_focal_loss"),
    "focal_loss_with_logits": ("focal_loss_with_logits", "my_focal_loss_with_logits"),
    "reg_l1_loss": ("reg_l1_loss", "my_reg_l1_loss"),
    "size_loss": ("my_size_loss",),
    "heatmap_nms": ("heatmap_nms", "my_heatmap_nms"),
    "decode_ctdet": ("decode_ctdet", "my_decode_ctdet"),
    "CenterNetLoss": ("CenterNetLoss", "my_centernet_loss"),
    "ExtremeNetLoss": ("ExtremeNetLoss", "my_extreme_net_loss"),
}


@dataclass(frozen=True)
class Row:
    """One line of the class's CSV: a student's result on one exercise."""

    student: str
    exercise: str
    passed: int
    total: int
    ok: bool
    message: str


def find_submissions(folder: Path) -> list[Path]:
    """The ``.py`` and ``.ipynb`` files in ``folder``, by name; ValueError if there are
    none, or if two share a student's id."""
    if not folder.is_dir():
        raise ValueError(f"SUBMISSIONS must be a folder, got {str(folder)!r}")
    found = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())
    if not found:
        raise ValueError(f"{folder} holds no submissions (.py or .ipynb files)")
    stems = [p.stem for p in found]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise ValueError(f"two submissions for one student id in {folder}: {', '.join(twice)}")
    return found


# The worker: one process, one submission ---------------------------------------------------


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space at what the process holds now plus ``memory_mb`` (Linux)."""
    import resource

    with contextlib.suppress(OSError, ValueError):
        status = Path("/proc/self/status").read_text()
        held = next(
            int(line.split()[1]) * 1024
            for line in status.splitlines()
            if line.startswith("VmSize:")
        )
        limit = held + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _isolate() -> None:
    """A process group of its own (stopped as one), its prints silenced, one thread."""
    os.setpgid(0, 0)
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    torch.set_num_threads(1)  # one submission, one core: nothing spins against the grader


def _grade_defined(namespace: dict, names: list[str], memory_mb: int, say) -> None:
    for name in names:
        say(event="start", exercise=name)
        try:
            report = CHECKERS[name](namespace[_own_name(namespace, name)])
        except Exception as e:  # the checkers never raise on a student's code; if they do, say so
            say(
                event="result",
                exercise=name,
                passed=0,
                total=0,
                ok=False,
                message=f"the grader failed on this exercise ({type(e).__name__}: {e})",
            )
            continue
        if report.failures and "ran out of memory" in report.failures[0]:
            report.failures[0] += f" (the grader allows {memory_mb} MB)"
        say(
            event="result",
            exercise=name,
            passed=report.passed,
            total=report.total,
            ok=report.ok,
            message=report.summary(),
        )


def _is_own(namespace: dict, name: str) -> bool:
    """Whether the submission defines ``name`` itself (not the package's, imported)."""
    module = getattr(namespace.get(name), "__module__", None) or ""
    return name in namespace and not module.startswith("centernet_edu")


def _own_name(namespace: dict, exercise: str) -> str | None:
    """The first of the exercise's ``NAMES`` that the submission defines itself."""
    return next((n for n in NAMES[exercise] if _is_own(namespace, n)), None)


def _own(namespace: dict, exercise: str) -> bool:
    return _own_name(namespace, exercise) is not None


def work(path: str, names: list[str], events: str, memory_mb: int) -> None:
    """Grade ``names`` of the submission at ``path``, writing one JSON line per event."""
    _isolate()
    _limit_memory(memory_mb)
    with open(events, "a", encoding="utf-8") as out:

        def say(**event) -> None:
            out.write(json.dumps(event) + "\n")
            out.flush()  # what was written survives a crash or a kill

        try:
            loaded = load(Path(path))
        except LoadError as e:
            say(event="load_error", message=str(e))
            return
        ns = loaded.namespace
        imported = [n for n in CHECKERS if not _own(ns, n) and any(k in ns for k in NAMES[n])]
        say(
            event="loaded",
            defines=[n for n in CHECKERS if _own(ns, n)],
            imported=imported,
            problems=loaded.problems,
        )
        _grade_defined(ns, [n for n in names if _own(ns, n)], memory_mb, say)


# The parent: one submission, as many processes as it takes -----------------------------------


def _death(exitcode: int) -> str:
    if exitcode < 0:
        name = signal.Signals(-exitcode).name
        why = " (out of memory?)" if name == "SIGKILL" else ""
        return f"the interpreter was killed by {name}{why}"
    return f"the interpreter exited with status {exitcode} (os._exit?)"


def _stop(process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.kill()
    process.join()


def _run_worker(context, path: Path, names: list[str], timeout: float, memory_mb: int):
    """Run ``work`` in a process; its events, and why it stopped early (None if it did not)."""
    with tempfile.TemporaryDirectory(prefix="centernet-grade-") as tmp:
        events = Path(tmp) / "events.jsonl"
        process = context.Process(
            target=work, args=(str(path), names, str(events), memory_mb), daemon=True
        )
        process.start()
        try:
            process.join(timeout)
            if process.is_alive():
                why = f"did not finish within {timeout:g} s (an endless loop?)"
            else:
                why = None if process.exitcode == 0 else _death(process.exitcode)
        finally:
            if process.is_alive():  # a timeout, or Ctrl-C in the grader
                _stop(process)
        lines = events.read_text(encoding="utf-8").splitlines() if events.exists() else []
    parsed = []
    for line in lines:
        with contextlib.suppress(ValueError):  # a line cut short by a kill
            parsed.append(json.loads(line))
    return parsed, why


def _missing(student: str, name: str, load_event: dict) -> Row:
    if name in load_event.get("imported", []):
        words = f"{name} is the package's own, imported from centernet_edu, not written in the submission"
    else:
        words = f"the submission defines no {' or '.join(NAMES[name])}"
    problems = load_event.get("problems", [])
    if problems:
        words += f" ({len(problems)} cell{'s' if len(problems) > 1 else ''} failed; first, {problems[0]})"
    return Row(student, name, 0, 0, False, "missing: " + " ".join(words.split()))


def grade_submission(path: Path, timeout: float, memory_mb: int, context=None) -> list[Row]:
    """The rows of one submission, one per exercise in ``CHECKERS`` order."""
    context = context or _context()
    student, rows, todo, load_event = path.stem, {}, list(CHECKERS), None
    while todo:
        events, why = _run_worker(context, path, todo, timeout, memory_mb)
        load_event = next((e for e in events if e["event"] in ("loaded", "load_error")), None)
        if load_event is None or load_event["event"] == "load_error":
            reason = load_event["message"] if load_event else f"{why} while loading"
            message = "could not be loaded: " + " ".join(reason.split())
            return [rows.get(n) or Row(student, n, 0, 0, False, message) for n in CHECKERS]
        for e in events:
            if e["event"] == "result":
                rows[e["exercise"]] = Row(
                    student, e["exercise"], e["passed"], e["total"], e["ok"], e["message"]
                )
        started = [
            e["exercise"] for e in events if e["event"] == "start" and e["exercise"] not in rows
        ]
        if why is None and not started:
            break
        why = why or _death(0)  # a clean exit in the middle of an exercise: os._exit(0)
        for name in (
            started or [n for n in todo if n in load_event["defines"] and n not in rows][:1]
        ):
            rows[name] = Row(student, name, 0, 0, False, f"{why} while grading {name}")
        todo = [n for n in todo if n in load_event["defines"] and n not in rows]
    return [rows.get(name) or _missing(student, name, load_event) for name in CHECKERS]


def _context():
    context = multiprocessing.get_context("forkserver")
    # The server imports the package (and torch) once; every submission is a fork of it.
    context.set_forkserver_preload([__name__])
    return context


def grade_class(
    paths: list[Path], timeout: float = 60.0, memory_mb: int = 1024, progress: bool = True
) -> Iterator[list[Row]]:
    """Grade each submission in turn, yielding its rows; a progress bar shows the class."""
    context = _context()
    bar = tqdm(paths, desc="grading", unit="student", file=sys.stderr, disable=not progress)
    for path in bar:
        bar.set_postfix_str(path.stem)
        yield grade_submission(path, timeout, memory_mb, context)
