"""Reading one student's submission: a ``.py`` file, or a notebook's code cells.

A ``.py`` file runs as a module would (under the name ``__submission__``, so a
``if __name__ == "__main__":`` block of tests stays out); an exception while it runs means
it could not be loaded. A notebook runs cell by cell in one namespace, as "Run all" would,
without a Jupyter kernel: IPython's magics and shell lines (``%...``, ``!...``) are left
out, and a cell that fails is noted and skipped, so the functions of the other cells are
still graded. A failing cell is named as the student finds it in Jupyter: its position
among all the notebook's cells, markdown included, and its first line. Every line is
registered with ``linecache``, so an error in a student's function shows the student's line.

A chapter of the student edition (a notebook with cells tagged ``exercise``, or cells that
tools/student.py marked with the hash of their source) is graded without redoing the
chapter. Its exercise cells, the cells the student added and the cells whose source the
student changed are the student's: they run whole. Of every pristine cell (as written,
its hash unchanged) run only the imports, the function and class definitions and the
assignments of constants, each on its own, so the helpers a solution uses are there but
no model is trained and no figure drawn; what fails there is the book's, not the
student's. In an edition written before cells were marked, every untagged cell counts as
pristine.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import json
import linecache
from dataclasses import dataclass, field
from pathlib import Path

from .judge import describe_error

__all__ = ["SUFFIXES", "Loaded", "LoadError", "load", "code_cells"]

SUFFIXES = (".py", ".ipynb")
# Cell magics whose body is Python (the rest, %%bash or %%html, are not run at all).
_PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun")
_EXERCISE = "exercise"
# tools/student.py writes cell.metadata["centernet_edu"]["pristine"], the hash of the source.
_MARK, _PRISTINE = "centernet_edu", "pristine"
_SHOWN = 60  # characters of a cell's first line that name it in a problem


class LoadError(Exception):
    """The submission could not be loaded; the message says why, in words."""


@dataclass
class Loaded:
    """A submission's namespace, and the notebook cells that failed, in words."""

    namespace: dict
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Cell:
    """A Python code cell as it is run: ``kept`` is None for a cell of the student's, run
    whole, or the statements kept of a pristine cell, each run on its own."""

    number: int  # among all the notebook's cells, from 1, as Jupyter shows them
    first_line: str
    source: str
    kept: tuple[ast.stmt, ...] | None = None

    @property
    def shown(self) -> str:
        """What runs, line numbers kept: the whole cell, or only its kept statements."""
        if self.kept is None:
            return self.source
        lines = self.source.splitlines()
        shown = [""] * len(lines)
        for node in self.kept:
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            shown[start - 1 : node.end_lineno] = lines[start - 1 : node.end_lineno]
        return "\n".join(shown) + "\n"


def source_hash(source: str) -> str:
    """The hash tools/student.py records for a cell's source: a changed cell no longer has it."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def _python_lines(source: str) -> str | None:
    """A cell's source with magics and shell lines made ``pass``; None for a cell that is
    not Python (a ``%%bash`` cell)."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        if lines[0].lstrip()[2:].split(" ")[0] not in _PYTHON_CELL_MAGICS:
            return None
        lines[0] = ""
    kept = []
    for line in lines:
        body = line.lstrip()
        # `pass` where a magic stood keeps an indented block a block.
        kept.append(line[: len(line) - len(body)] + "pass" if body.startswith(("%", "!")) else line)
    return "\n".join(kept) + "\n"


_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# What a constant's value may be made of: no call, lambda, comprehension, await, yield or
# walrus, so nothing of the chapter's work (a model, a training, a figure) runs.
_PLAIN = (
    ast.Constant,
    ast.Name,
    ast.Attribute,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Dict,
    ast.UnaryOp,
    ast.BinOp,
    ast.BoolOp,
    ast.Compare,
    ast.Subscript,
    ast.Slice,
    ast.IfExp,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.Starred,
    ast.expr_context,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)


def _is_plain(expr: ast.expr) -> bool:
    return all(isinstance(node, _PLAIN) for node in ast.walk(expr))


def _binds_names(target: ast.expr) -> bool:
    """``A``, ``A, B``, ``[A, *B]``: names, not attributes or items of an object."""
    if isinstance(target, ast.Starred):
        return _binds_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(map(_binds_names, target.elts))
    return isinstance(target, ast.Name)


def _is_definition(node: ast.stmt) -> bool:
    """An import, a ``def``/``class``, or names bound to a constant (``R, IMG = 4, 128``,
    ``EPS = 1 / 10_000``, ``K: int = 10``)."""
    if isinstance(node, _DEFINITIONS):
        return True
    if isinstance(node, ast.Assign):
        return all(map(_binds_names, node.targets)) and _is_plain(node.value)
    if isinstance(node, ast.AnnAssign):
        return (
            isinstance(node.target, ast.Name)
            and node.value is not None
            and _is_plain(node.value)
            and _is_plain(node.annotation)
        )
    return False


def _first_line(source: str) -> str:
    line = next((s.strip() for s in source.splitlines() if s.strip()), "")
    return line if len(line) <= _SHOWN else line[: _SHOWN - 3].rstrip() + "..."


@dataclass(frozen=True)
class _Written:
    """A notebook cell as the notebook holds it."""

    code: bool
    source: str
    tags: tuple[str, ...]
    mark: str | None  # the hash tools/student.py recorded, if any


def _written(cell: dict) -> _Written:
    source, meta = cell.get("source", ""), cell.get("metadata", {})
    mark = meta.get(_MARK)
    return _Written(
        code=cell.get("cell_type") == "code",
        source=source if isinstance(source, str) else "".join(source),
        tags=tuple(meta.get("tags", [])),
        mark=mark.get(_PRISTINE) if isinstance(mark, dict) else None,
    )


def _read(path: Path) -> list[_Written]:
    try:
        return [_written(cell) for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise LoadError(f"{path.name} is not a readable notebook ({type(e).__name__}: {e})") from e


def _pristine(source: str, marked: bool) -> tuple[ast.stmt, ...] | None:
    """The statements kept of a pristine cell. One that does not parse is the book's if
    its hash says so (nothing kept); in an edition without hashes it may be the student's,
    so it runs whole (None) and its error is reported."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return () if marked else None
    return tuple(filter(_is_definition, body))


def _cells(path: Path) -> list[_Cell]:
    cells = _read(path)
    tagged = any(c.code and _EXERCISE in c.tags for c in cells)
    marked = any(c.code and c.mark is not None for c in cells)
    found = []
    for number, cell in enumerate(cells, 1):
        source = _python_lines(cell.source) if cell.code else None
        if source is None or not source.strip():
            continue
        if _EXERCISE in cell.tags:
            pristine = False
        elif marked:  # the edition marks its cells: one unmarked or changed is the student's
            pristine = cell.mark == source_hash(cell.source)
        else:  # an edition written before the marks (every untagged cell), or not an edition
            pristine = tagged
        kept = _pristine(source, marked) if pristine else None
        found.append(_Cell(number, _first_line(cell.source), source, kept))
    return found


def code_cells(path: Path) -> list[tuple[int, str]]:
    """The Python code cells of a notebook, numbered by their position among all its cells
    (from 1), each as it runs: whole, or, for a pristine cell of a student edition, its
    definitions only, line numbers kept."""
    return [(cell.number, cell.shown) for cell in _cells(path) if cell.shown.strip()]


def _register(source: str, filename: str) -> None:
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def _run(source: str, filename: str, namespace: dict) -> None:
    _register(source, filename)
    exec(compile(source, filename, "exec"), namespace)


def _run_pristine(cell: _Cell, filename: str, namespace: dict) -> None:
    """Each kept statement on its own, so one that fails (a constant built from a value the
    chapter computes) does not take the others with it."""
    _register(cell.source, filename)
    for node in cell.kept:
        try:
            exec(compile(ast.Module(body=[node], type_ignores=[]), filename, "exec"), namespace)
        except (Exception, SystemExit):  # the book's cell, as written: not the student's
            pass


def load(path: Path) -> Loaded:
    """Run the submission at ``path`` in a fresh namespace."""
    loaded = Loaded({"__name__": "__submission__", "__file__": str(path), "__builtins__": builtins})
    if path.suffix == ".py":
        try:
            _run(path.read_text(encoding="utf-8"), str(path), loaded.namespace)
        except (Exception, SystemExit) as e:  # what the student's module raised
            raise LoadError(describe_error(e, who="the submission")) from None
        return loaded
    for cell in _cells(path):
        filename = f"{path.name} [cell {cell.number}]"
        if cell.kept is not None:
            _run_pristine(cell, filename, loaded.namespace)
            continue
        try:
            _run(cell.source, filename, loaded.namespace)
        except (Exception, SystemExit) as e:  # a failing cell is skipped, as in Jupyter
            words = describe_error(e, who="it")
            loaded.problems.append(f'cell {cell.number} ("{cell.first_line}"): {words}')
    return loaded
