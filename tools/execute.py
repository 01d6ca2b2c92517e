"""Re-execute the book's chapters in place, keeping their outputs.

The book is built from the notebooks as committed (``execute_notebooks: off``), and
``pytest --nbval`` checks that the committed outputs are what the code produces
today. After changing a chapter or the package, run ``make notebooks`` (or
``python tools/execute.py [notebook ...]``) and commit the result.

Each notebook runs top to bottom in a fresh ``python3`` kernel of the Python that
runs this script (the project's virtual environment), from the ``book/`` folder.
In a kernel the explorers are widgets (``centernet_edu.widgets.live``) whose display also
carries the self-contained explorer, HTML and JavaScript. Only that is saved: the widget
view goes (a notebook opened later has no kernel holding its model, and JupyterLab would
show "model not found" in place of the explorer), no widget state is stored, and a
``widgets`` entry left in a notebook's metadata by an older run is dropped.

After executing, every chapter's marked numbers in the prose are rewritten from the values
the chapters record (``tools/prose.py``), so the text shows what the cells computed;
a chapter may show another's numbers, so all are rewritten, not only those executed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import nbformat
import prose
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
KERNEL = "python3"


def chapters() -> list[Path]:
    return sorted(p for p in BOOK.glob("[0-9]*.ipynb"))


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def without_widget_views(nb) -> int:
    """Drop each output's widget view (in place), keeping its other representations;
    returns how many were dropped."""
    dropped = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                del output["data"][WIDGET_VIEW]
                dropped += 1
    return dropped


def execute(path: Path, timeout: int = 1200) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(BOOK)}},
        store_widget_state=False,
    )
    client.execute()
    without_widget_views(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": KERNEL,
    }
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    args = parser.parse_args()
    for path in args.notebooks or chapters():
        seconds = execute(path)
        print(f"executed {path.name} in {seconds:.1f} s", flush=True)
    raise SystemExit(prose.main([]))  # every chapter: one may show the numbers of another


if __name__ == "__main__":
    main()
