"""Reading one student's submission: a ``.py`` file, or a notebook's code cells.

A ``.py`` file runs as a module would (under the name ``__submission__``, so a
``if __name__ == "__main__":`` block of tests stays out); an exception while it runs means
it could not be loaded. A notebook runs cell by cell in one namespace, as "Run all" would,
without a Jupyter kernel: IPython's magics and shell lines (``%...``, ``!...``) are left
out, and a cell that fails is noted and skipped, so the functions of the other cells are
still graded. Every line is registered with ``linecache``, so an error in a student's
function shows the student's line.

A chapter of the student edition (a notebook with cells tagged ``exercise``) is graded
without redoing the chapter: its exercise cells run whole, and of every other cell only the
imports, the function and class definitions and the assignments of plain constants, so
the helpers a solution uses are there but no model is trained and no figure drawn.
"""

from __future__ import annotations

import ast
import builtins
import json
import linecache
from dataclasses import dataclass, field
from pathlib import Path

from .judge import describe_error

__all__ = ["SUFFIXES", "Loaded", "LoadError", "load", "code_cells"]

SUFFIXES = (".py", ".ipynb")
# Cell magics whose body is Python (the rest, %%bash or %%html, are not run at all).
_PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun")


class LoadError(Exception):
    """The submission could not be loaded; the message says why, in words."""


@dataclass
class Loaded:
    """A submission's namespace, and the notebook cells that failed, in words."""

    namespace: dict
    problems: list[str] = field(default_factory=list)


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


def _is_definition(node: ast.stmt) -> bool:
    """An import, a ``def``/``class``, or a name bound to a plain constant."""
    if isinstance(node, _DEFINITIONS):
        return True
    if isinstance(node, ast.Assign):
        try:
            ast.literal_eval(node.value)
        except ValueError:
            return False
        return all(isinstance(t, ast.Name) for t in node.targets)
    return False


def _definitions_only(source: str) -> str:
    """The cell with every statement but its definitions blanked, line numbers kept; a
    cell that does not parse is kept whole, so running it reports the student's error."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return source
    lines = source.splitlines()
    kept = [""] * len(lines)
    for node in filter(_is_definition, body):
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        kept[start - 1 : node.end_lineno] = lines[start - 1 : node.end_lineno]
    return "\n".join(kept) + "\n"


def code_cells(path: Path) -> list[tuple[int, str]]:
    """The Python code cells of a notebook, numbered from 1 among its code cells; in a
    student edition, only the definitions of the cells not tagged ``exercise``."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = [c for c in notebook["cells"] if c.get("cell_type") == "code"]
        tags = [c.get("metadata", {}).get("tags", []) for c in cells]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise LoadError(f"{path.name} is not a readable notebook ({type(e).__name__}: {e})") from e
    student_edition = any("exercise" in t for t in tags)
    found = []
    for n, (cell, cell_tags) in enumerate(zip(cells, tags, strict=True), 1):
        source = cell.get("source", "")
        source = _python_lines(source if isinstance(source, str) else "".join(source))
        if source is not None and student_edition and "exercise" not in cell_tags:
            source = _definitions_only(source)
        if source is not None and source.strip():
            found.append((n, source))
    return found


def _run(source: str, filename: str, namespace: dict) -> None:
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


def load(path: Path) -> Loaded:
    """Run the submission at ``path`` in a fresh namespace."""
    loaded = Loaded({"__name__": "__submission__", "__file__": str(path), "__builtins__": builtins})
    if path.suffix == ".py":
        try:
            _run(path.read_text(encoding="utf-8"), str(path), loaded.namespace)
        except (Exception, SystemExit) as e:  # what the student's module raised
            raise LoadError(describe_error(e, who="the submission")) from None
        return loaded
    for n, source in code_cells(path):
        try:
            _run(source, f"{path.name} [cell {n}]", loaded.namespace)
        except (Exception, SystemExit) as e:  # a failing cell is skipped, as in Jupyter
            loaded.problems.append(f"code cell {n}: {describe_error(e, who='it')}")
    return loaded
