"""The numbers in the chapters' prose: written as text, tied to the cells that compute them.

A chapter computes a number in a code cell and records it with
``glue(name, value, display=False)``, which each chapter defines in its hidden set-up
cell in myst_nb's format: an output of mime type
``application/papermill.record/text/plain`` holding the value's ``repr``, which Jupyter,
Colab and the built book all leave unshown. The prose shows the number as plain text
between two HTML comments, which every renderer hides::

    each false positive costs <!--glue:ring_cost:.3f-->0.377<!--/glue--> ...

so it reads right in Jupyter, Colab and VS Code as well as in the built book, where a
MyST role would show as raw markup. ``fill`` writes every marked number from the
notebook's own records (``tools/execute.py`` calls it after executing a chapter);
``mismatches`` lists the numbers whose text differs from what the notebook computes
(``tests/test_chapters.py`` requires none, and strict nbval proves the records current).

    python tools/prose.py [notebook ...]   # rewrite the marked numbers from the records
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
RECORD = "application/papermill.record/text/plain"
# <!--glue:NAME-->TEXT<!--/glue-->, <!--glue:NAME:FORMAT_SPEC-->TEXT<!--/glue-->, and a
# number another chapter records: <!--glue:CHAPTER.ipynb::NAME:FORMAT_SPEC-->TEXT<!--/glue-->
MARKER = re.compile(
    r"<!--glue:(?:(?P<chapter>[\w.-]+\.ipynb)::)?(?P<name>[A-Za-z_]\w*)(?::(?P<spec>[^>]*?))?-->"
    r"(?P<text>.*?)<!--/glue-->",
    re.S,
)
# What a reader must never see: the MyST roles the markers replace.
RAW_ROLE = re.compile(r"\{(?:glue|cite)(?::\w+)?\}`")


class ProseError(ValueError):
    """A marked number names no record, or its format does not apply to the value."""


@dataclass(frozen=True)
class Mismatch:
    cell: int
    name: str
    shown: str
    computed: str


def records(nb) -> dict[str, str]:
    """Every value the notebook recorded with ``glue``: name -> the value's ``repr``."""
    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None and RECORD in out.get("data", {}):
                found[name] = out["data"][RECORD]
    return found


def formatted(record: str, spec: str) -> str:
    """A recorded ``repr`` as the prose shows it: with ``spec`` applied to its value, or
    the value itself (a string without its quotes)."""
    try:
        value = ast.literal_eval(record)
    except (SyntaxError, ValueError):
        value = record
    if not spec:
        return str(value)
    kind = spec[-1]
    if kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, spec)


def _records_of(folder: Path, chapter: str) -> dict[str, str]:
    return records(nbformat.read(folder / chapter, as_version=nbformat.NO_CONVERT))


def _shown(match: re.Match, values: dict[str, str], folder: Path, where: str) -> str:
    """The text the marker ``match`` must hold; another chapter's records are read from
    ``folder``."""
    chapter, name, spec = match["chapter"], match["name"], match["spec"] or ""
    if chapter is not None:
        if not (folder / chapter).is_file():
            raise ProseError(f"{where}: the prose shows {name!r} of {chapter}, not in {folder}")
        values = _records_of(folder, chapter)
    if name not in values:
        source = chapter or "this chapter"
        raise ProseError(f"{where}: the prose shows {name!r}, which no cell of {source} records")
    try:
        return formatted(values[name], spec)
    except (TypeError, ValueError) as err:
        raise ProseError(
            f"{where}: {name!r} = {values[name]} with format {spec!r}: {err}"
        ) from None


def _markdown(nb):
    return [(i, cell) for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"]


def fill(nb, folder: Path, label: str = "notebook") -> int:
    """Write every marked number of ``nb`` from the records, in place; how many changed.
    ``folder`` holds the chapters whose records another chapter's prose shows."""
    values, changed = records(nb), 0
    for i, cell in _markdown(nb):

        def replace(m: re.Match, i=i) -> str:
            nonlocal changed
            text = _shown(m, values, folder, f"{label}, cell {i}")
            changed += text != m["text"]
            return m.group(0)[: m.start("text") - m.start()] + text + "<!--/glue-->"

        cell.source = MARKER.sub(replace, cell.source)
    return changed


def mismatches(nb, folder: Path, label: str = "notebook") -> list[Mismatch]:
    """The marked numbers whose text is not the value the notebooks computed."""
    values, found = records(nb), []
    for i, cell in _markdown(nb):
        for m in MARKER.finditer(cell.source):
            computed = _shown(m, values, folder, f"{label}, cell {i}")
            if m["text"] != computed:
                found.append(Mismatch(i, m["name"], m["text"], computed))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    args = parser.parse_args(argv)
    for path in args.notebooks or sorted((ROOT / "book").glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        try:
            changed = fill(nb, path.parent, path.name)
        except ProseError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        if changed:
            nbformat.write(nb, path)
            print(f"{path.name}: {changed} number{'s' * (changed != 1)} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
