"""The conversation with one student's process, and stopping all it started.

``Session`` starts ``worker.work`` in a process forked from the fork server, sends it
messages, reads and checks what it sends back (``channel``), and, when done, stops it and
every process it started: its session, its process group, and the orphans of its
children, which the grader adopts while it grades (Linux ``/proc``). A process that runs
past its time, dies or sends what was not asked for ends the session with ``Stopped`` or
``Malformed``, which say why in words.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from .channel import Frames, Malformed, decode, frame
from .judge import Outcome

__all__ = ["Limits", "Session", "Stopped", "check_loaded", "outcome_of"]


@dataclass(frozen=True)
class Limits:
    """What a submission's process may take: seconds (per process) and megabytes."""

    timeout: float = 60.0
    memory_mb: int = 1024


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


class Stopped(Exception):
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


class Session:
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
                raise Stopped(_death(self.process.exitcode))
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise Stopped(f"did not finish within {self.limits.timeout:g} s (an endless loop?)")
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


def check_loaded(message: dict, todo: list[str]) -> dict:
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


def outcome_of(message: dict, exercise: str, index: int, args: tuple) -> Outcome:
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
