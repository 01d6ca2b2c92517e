"""The student's side of the class grader: load a submission, call its functions.

The process forked for a submission does only this: it loads the submission, says which
exercises it answers, then, exercise by exercise, calls the student's function on the
inputs the grader sends and sends back what it returned (or raised), and how it left its
inputs. It never sees the expected results and never judges: the grader does both in its
own process. What the student's code patches here (the package, torch, the checkers)
changes only the outputs it sends, which the grader judges like any others.

Before any student code runs, the process

- leads a session of its own, and adopts the orphans of the processes it starts
  (``PR_SET_CHILD_SUBREAPER``), so the grader can stop all of them;
- drops every inherited file descriptor but its two pipes, and reads and writes
  ``/dev/null`` for its standard streams: the grader's output is never held open;
- works in a folder of its own, on a private copy of the submission's files.

While an exercise is graded, the package functions it asks the student to write (and
their relatives, ``catalog.Spec.blocked``) raise "this exercise asks you to write ...
yourself": every reference to them, so wrappers, partials, lambdas and subclasses too.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import struct
import sys
import types
from pathlib import Path

import torch

from .catalog import CATALOG
from .channel import decode, encode, frame
from .judge import call, catching_everything, describe_error
from .submission import LoadError, load

__all__ = ["work", "own_names", "Blocker", "become_subreaper"]

_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper(on: bool = True) -> bool:
    """Adopt the orphaned descendants of this process (Linux); whether it could."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _isolate(keep: tuple[int, ...]) -> None:
    os.setsid()
    become_subreaper()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else ():
        fd = int(name)
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)
    torch.set_num_threads(1)  # one submission, one core: nothing spins against the grader


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space at what the process holds now plus ``memory_mb`` (Linux)."""
    import resource

    with contextlib.suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text()
        held = next(
            int(line.split()[1]) * 1024
            for line in status.splitlines()
            if line.startswith("VmSize:")
        )
        limit = held + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# Blocking the package functions under test -------------------------------------------------


def _stub_code(message: str, free: int, filename: str) -> types.CodeType:
    """The code of a function that raises ``message``, with ``free`` closure cells (a
    function's code can only be swapped for code with as many)."""
    cells = [f"_c{i}" for i in range(free)]
    body = f"        {', '.join(cells)}\n" if cells else ""
    source = (
        f"def outer({', '.join(cells)}):\n"
        "    def blocked(*args, **kwargs):\n"
        f"{body}"
        f"        raise RuntimeError({message!r})\n"
        "    return blocked\n"
    )
    space: dict = {}
    # The package's file name: a report then shows the student's line that called it.
    exec(compile(source, filename, "exec"), space)
    return space["outer"](*([None] * free)).__code__


class Blocker:
    """Swaps the code of package functions for code that raises, and back.

    Swapping the code, not the module's attribute, reaches every reference a submission
    took: ``from centernet_edu import focal_loss``, a ``functools.partial``, a subclass.
    """

    def __init__(self) -> None:
        self._original: dict[types.FunctionType, types.CodeType] = {}
        self._swapped: dict[types.FunctionType, types.CodeType] = {}

    @staticmethod
    def functions(path: str) -> list[tuple[str, types.FunctionType]]:
        """The functions behind ``"module:name"``: a function, or a class's methods."""
        module, name = path.split(":")
        obj = getattr(importlib.import_module(f"centernet_edu.{module}"), name)
        if isinstance(obj, type):
            methods = [m for m in ("__init__", "forward") if m in vars(obj)]
            return [(f"{name}.{m}", vars(obj)[m]) for m in methods]
        return [(name, obj)]

    def block(self, exercise: str) -> None:
        for path in CATALOG[exercise].blocked:
            for name, fn in self.functions(path):
                message = (
                    f"this exercise asks you to write {exercise} yourself: the package's "
                    f"{name} is not available while it is graded"
                )
                self._original.setdefault(fn, fn.__code__)
                fn.__code__ = _stub_code(
                    message, len(fn.__closure__ or ()), self._original[fn].co_filename
                )
                self._swapped[fn] = fn.__code__

    def intact(self) -> bool:
        """Whether every swapped function still holds the code that raises."""
        return all(fn.__code__ is code for fn, code in self._swapped.items())

    def unblock(self) -> None:
        for fn, code in self._original.items():
            fn.__code__ = code
        self._swapped.clear()


# Loading ---------------------------------------------------------------------------------


def _is_package(obj) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return isinstance(module, str) and module.startswith("centernet_edu")


def own_names(namespaces: list[dict], exercises) -> tuple[dict, list[str]]:
    """``{exercise: (file index, name)}`` for the exercises the submission answers (the
    first name of the exercise's that a file defines and that is not the package's own),
    and the exercises found only as the package's own, imported."""
    found, imported = {}, []
    for exercise in exercises:
        for i, namespace in enumerate(namespaces):
            name = next(
                (
                    n
                    for n in CATALOG[exercise].names
                    if n in namespace and not _is_package(namespace[n])
                ),
                None,
            )
            if name is not None:
                found[exercise] = (i, name)
                break
        else:
            if any(n in ns for ns in namespaces for n in CATALOG[exercise].names):
                imported.append(exercise)
    return found, imported


def _load_all(folder: Path, files: list[str]) -> tuple[list[dict], list[str], list[str]]:
    """The namespaces of the files that load, their problems, and the load errors."""
    namespaces, problems, errors = [], [], []
    for name in files:
        try:
            loaded = load(folder / name)
        except LoadError as e:
            errors.append(f"{name}: {e}" if len(files) > 1 else str(e))
            continue
        except BaseException as e:  # KeyboardInterrupt, GeneratorExit: the student's
            errors.append(describe_error(e, who="the submission"))
            continue
        namespaces.append(loaded.namespace)
        prefix = f"{name}: " if len(files) > 1 else ""
        problems += [prefix + p for p in loaded.problems]
    return namespaces, problems, errors


# The channel -----------------------------------------------------------------------------


def _send(fd: int, message: dict) -> None:
    data = memoryview(frame(message))
    while data:
        data = data[os.write(fd, data) :]


def _read_exactly(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            raise EOFError("the grader closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(fd: int) -> dict:
    (n,) = struct.unpack(">I", _read_exactly(fd, 4))
    return json.loads(_read_exactly(fd, n))


def _safe_encode(value, given: tuple = ()):
    try:
        return encode(value, given)
    except Exception:  # a student's object whose attributes raise
        return {"foreign": type(value).__name__}


def _answer(exercise: str, index: int, fn, args: tuple, blocker: Blocker) -> dict:
    """The message telling what ``fn`` did with case ``index``'s inputs ``args``."""
    with catching_everything():
        outcome = call(CATALOG[exercise].invoke, fn, args)
    if not blocker.intact():
        outcome = type(outcome)(
            error="your code changed the package's functions that this exercise asks you "
            "to write yourself",
            error_kind="RuntimeError",
        )
        blocker.block(exercise)
    return {
        "kind": "outcome",
        "exercise": exercise,
        "case": index,
        "result": _safe_encode(outcome.result, tuple(args)),
        "given": _safe_encode(tuple(outcome.given)),
        "error": outcome.error,
        "error_kind": outcome.error_kind,
    }


def work(
    folder: str, files: list[str], exercises: list[str], requests, results, memory_mb: int
) -> None:
    """Grade ``exercises`` of the submission in ``folder``, talking over two pipes."""
    rfd, wfd = requests.fileno(), results.fileno()
    _isolate(keep=(rfd, wfd))
    os.chdir(folder)
    os.environ["PWD"] = folder
    _limit_memory(memory_mb)
    blocker, send = Blocker(), _send
    for exercise in exercises:  # resolve every blocked function before a student's code
        for path in CATALOG[exercise].blocked:
            blocker.functions(path)
    namespaces, problems, errors = _load_all(Path(folder), files)
    if errors and not namespaces:
        send(wfd, {"kind": "load_error", "message": errors[0]})
        return
    found, imported = own_names(namespaces, exercises)
    todo = [e for e in exercises if e in found]
    if todo:
        blocker.block(todo[0])  # before the grader sends the first inputs
    send(
        wfd,
        {
            "kind": "loaded",
            "defines": {e: found[e][1] for e in todo},
            "imported": imported,
            "problems": (errors + problems)[:20],
        },
    )
    for k, exercise in enumerate(todo):
        request = _receive(rfd)
        fn = namespaces[found[exercise][0]][found[exercise][1]]
        for i, encoded in enumerate(request["cases"]):
            send(wfd, _answer(exercise, i, fn, decode(encoded), blocker))
        blocker.unblock()
        if k + 1 < len(todo):
            blocker.block(todo[k + 1])  # before the grader can send the next inputs
        send(wfd, {"kind": "done", "exercise": exercise})
    with contextlib.suppress(Exception):
        _receive(rfd)  # the grader's "end"
    sys.stdout.flush()
