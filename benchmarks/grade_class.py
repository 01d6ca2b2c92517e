"""How long the class grader takes on a class of notebooks.

Writes N filled-in chapters of the student edition (the book's worked solutions in the
stubs, every other cell as handed out), taking the chapters with exercises in turn, then
times ``python -m centernet_edu.exercises grade`` on them with an assignment of every
exercise. Run from the repository's root:

    python benchmarks/grade_class.py [--students 30]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import student  # noqa: E402  (tools/student.py)

CHAPTERS = sorted(p.name for p in (ROOT / "book").glob("0*.ipynb"))


def filled_in(chapter: str) -> nbformat.NotebookNode:
    """The student edition of ``chapter`` with each stub holding the book's solution."""
    nb = nbformat.read(ROOT / "book" / chapter, as_version=4)
    exercises = student.exercises(nb, chapter)
    out = student.student_notebook(nb, chapter)
    stubs = [i for i, c in enumerate(out.cells) if "exercise" in c.metadata.get("tags", [])]
    for i, ex in zip(stubs, exercises, strict=True):
        source = nb.cells[ex.solutions[0]].source
        out.cells[i].source = re.sub(rf"\b{ex.solution_name}\b", ex.name, source)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    args = parser.parse_args()
    graded = [c for c in CHAPTERS if student.exercises(nbformat.read(ROOT / "book" / c, 4), c)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        for k in range(args.students):
            chapter = graded[k % len(graded)]
            nbformat.write(filled_in(chapter), folder / f"student{k:02d}_{chapter}")
        assignment = Path(tmp) / "all.toml"
        assignment.write_text("".join(f"[exercises.{e}]\n" for e in _exercises()))
        command = [
            sys.executable, "-m", "centernet_edu.exercises", "grade", str(folder),
            "--assignment", str(assignment), "--out", str(Path(tmp) / "out"), "--quiet",
        ]  # fmt: skip
        start = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - start
    print(run.stdout.strip())
    print(f"{args.students} notebook submissions graded in {seconds:.1f} s")


def _exercises() -> list[str]:
    from centernet_edu.exercises.catalog import CATALOG

    return list(CATALOG)


if __name__ == "__main__":
    main()
