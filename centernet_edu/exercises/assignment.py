"""An assignment: which exercises a course grades, for how many points, and how.

An assignment is a TOML file::

    title = "Homework 2: the losses"   # optional, shown in the feedback
    seed = 8675309        # picks the random cases; keep it from the students (default 0)
    timeout = 60          # seconds a submission's process may run (default 60)
    memory_mb = 1024      # megabytes it may take (default 1024)
    float64 = false       # whether float64 inputs need float64 results (default false)
    partial = true        # points in proportion to the cases passed (default true)

    [exercises.focal_loss]
    points = 10
    float64 = true        # this exercise: a float32 result fails
    hidden_seeds = [11, 12]   # extra cases, graded as hidden tests

    [exercises.reg_l1_loss]
    points = 5

Only the exercises listed are graded, in the book's order. ``read_assignment`` refuses an
unknown key, exercise or value with a ``ValueError`` that names it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import CATALOG

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = ["Assignment", "Task", "read_assignment", "default_assignment"]


@dataclass(frozen=True)
class Task:
    """One graded exercise: its points, whether it needs float64, its hidden seeds."""

    exercise: str
    points: float = 1.0
    float64: bool = False
    hidden_seeds: tuple[int, ...] = ()


@dataclass(frozen=True)
class Assignment:
    """What a course grades: tasks in the book's order, and how."""

    tasks: tuple[Task, ...]
    title: str = "CenterNet exercises"
    seed: int = 0
    timeout: float = 60.0
    memory_mb: int = 1024
    partial: bool = True
    source: str | None = field(default=None, compare=False)

    @property
    def exercises(self) -> list[str]:
        return [t.exercise for t in self.tasks]

    def task(self, exercise: str) -> Task:
        return next(t for t in self.tasks if t.exercise == exercise)


def default_assignment() -> Assignment:
    """Every exercise, one point each, seed 0: what ``grade`` does without an assignment."""
    return Assignment(tuple(Task(e) for e in CATALOG))


_TOP = {"title", "seed", "timeout", "memory_mb", "float64", "partial", "exercises"}
_TASK = {"points", "float64", "hidden_seeds"}


def _where(path: Path, key: str) -> str:
    return f"{path.name}: {key}"


def _seed(path: Path, key: str, value) -> int:
    if type(value) is not int or not 0 <= value < 2**63:
        raise ValueError(f"{_where(path, key)} must be an integer >= 0, got {value!r}")
    return value


def _flag(path: Path, key: str, value) -> bool:
    if type(value) is not bool:
        raise ValueError(f"{_where(path, key)} must be true or false, got {value!r}")
    return value


def _positive(path: Path, key: str, value, high: float) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 < value <= high:
        raise ValueError(f"{_where(path, key)} must be a number > 0 and <= {high:g}, got {value!r}")
    return value


def _unknown(path: Path, where: str, keys, allowed) -> None:
    extra = sorted(set(keys) - allowed)
    if extra:
        raise ValueError(
            f"{_where(path, where or extra[0])}: unknown key {extra[0]!r} "
            f"(the keys are {', '.join(sorted(allowed))})"
        )


def read_assignment(path: Path) -> Assignment:
    """The assignment in the TOML file at ``path``."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(
            f"the assignment {str(path)!r} cannot be read: {e.strerror or e}"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{Path(path).name} is not valid TOML: {e}") from None
    path = Path(path)
    _unknown(path, "", data, _TOP)
    strict = _flag(path, "float64", data.get("float64", False))
    exercises = data.get("exercises")
    if not isinstance(exercises, dict) or not exercises:
        raise ValueError(f"{path.name} lists no exercises: add a table [exercises.focal_loss]")
    for name in exercises:
        if name not in CATALOG:
            raise ValueError(
                f"{_where(path, 'exercises.' + name)}: no such exercise (the exercises are "
                f"{', '.join(CATALOG)})"
            )
    tasks = []
    for name in CATALOG:  # the book's order
        if name not in exercises:
            continue
        entry, key = exercises[name], f"exercises.{name}"
        if not isinstance(entry, dict):
            raise ValueError(f"{_where(path, key)} must be a table, got {entry!r}")
        _unknown(path, key, entry, _TASK)
        hidden = entry.get("hidden_seeds", [])
        if not isinstance(hidden, list) or len(hidden) > 20:
            raise ValueError(
                f"{_where(path, key + '.hidden_seeds')} must be a list of at most 20 seeds"
            )
        tasks.append(
            Task(
                name,
                float(_positive(path, key + ".points", entry.get("points", 1), 1e6)),
                _flag(path, key + ".float64", entry.get("float64", strict)),
                tuple(_seed(path, key + ".hidden_seeds", s) for s in hidden),
            )
        )
    title = data.get("title", "CenterNet exercises")
    if not isinstance(title, str):
        raise ValueError(f"{_where(path, 'title')} must be text, got {title!r}")
    return Assignment(
        tuple(tasks),
        title,
        _seed(path, "seed", data.get("seed", 0)),
        float(_positive(path, "timeout", data.get("timeout", 60), 86400)),
        int(_positive(path, "memory_mb", data.get("memory_mb", 1024), 2**20)),
        _flag(path, "partial", data.get("partial", True)),
        str(path),
    )
