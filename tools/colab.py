"""Write each chapter's Colab badge and install line from ``book/_config.yml``, or check them.

The repository's URL and branch live in one place, ``repository`` in ``book/_config.yml``
(the built book's repository and Colab buttons read them too). From them this tool
derives, for every chapter ``book/[0-9]*.ipynb``:

- the "Open in Colab" badge of its first markdown cell tagged ``remove-cell``, which opens
  the chapter from the configured branch:
  ``https://colab.research.google.com/github/OWNER/NAME/blob/BRANCH/PATH_TO_BOOK/CHAPTER``;
- the ``%pip install`` line of its install cell (its first code cell, which installs only
  on Colab), pinned to the package the chapter was executed with: the git tag
  ``v<version>`` of ``pyproject.toml``, or the commit given with ``--ref``, so a chapter
  never runs against a newer, different package.

Only those two lines change: outputs, execution counts and every other cell stay as they
are (the install cell prints nothing outside Colab, so its committed output does not
depend on the line).

    python tools/colab.py                # rewrite the chapters that disagree
    python tools/colab.py --check        # list the chapters that disagree; exit 1 if any
    python tools/colab.py --ref 1a2b3c4  # pin a commit instead of the version tag
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
COLAB = "https://colab.research.google.com"
GITHUB_URL = re.compile(r"https://github\.com/(?P<owner>[A-Za-z0-9-]+)/(?P<name>[A-Za-z0-9_.-]+)")
# A git ref that survives inside a pip URL: a tag, a branch or a commit, no '@' or '#'.
GIT_REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]*")
BADGE = re.compile(r"\[!\[Open in Colab\]\([^)\s]*\)\]\([^)\s]*\)")
PIP_LINE = re.compile(r"^(?P<indent>[ \t]*)%pip install\b.*$", re.M)
# The install cell a chapter gets when it has none (the README shows the same cell).
INSTALL_CELL = """\
# On Colab, install the package from the repository; elsewhere (a clone set up with
# `make`), it is already installed and this cell does nothing.
import sys

if "google.colab" in sys.modules:
    {pip}"""


@dataclass(frozen=True)
class Repository:
    """Where the book's source lives, as ``repository`` in ``_config.yml`` says."""

    url: str  # https://github.com/OWNER/NAME
    branch: str
    path_to_book: str

    @property
    def owner_name(self) -> str:
        return self.url.removeprefix("https://github.com/")


def read_repository(book: Path = BOOK) -> Repository:
    """The ``repository`` section of ``book/_config.yml``; ValueError when it is unusable."""
    config = yaml.safe_load((book / "_config.yml").read_text())
    section = (config or {}).get("repository") or {}
    url = str(section.get("url", "")).rstrip("/")
    if not GITHUB_URL.fullmatch(url):
        raise ValueError(
            f"repository.url in {book / '_config.yml'}: expected https://github.com/OWNER/NAME, "
            f"got {section.get('url')!r}"
        )
    branch = str(section.get("branch", ""))
    if not GIT_REF.fullmatch(branch):
        raise ValueError(
            f"repository.branch in {book / '_config.yml'}: expected a branch name, got {branch!r}"
        )
    return Repository(url, branch, str(section.get("path_to_book", "book")).strip("/"))


def version_tag(root: Path = ROOT) -> str:
    """The git tag of the package version in ``pyproject.toml``: ``v<version>``."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    return f"v{project['version']}"


def pages_url(repo: Repository) -> str:
    """Where GitHub Pages publishes the book: ``https://OWNER.github.io/NAME/``."""
    owner, name = repo.owner_name.split("/")
    return f"https://{owner.lower()}.github.io/{name}/"


def badge(repo: Repository, chapter: str) -> str:
    """The markdown of the "Open in Colab" badge of the notebook file ``chapter``."""
    target = f"{COLAB}/github/{repo.owner_name}/blob/{repo.branch}/{repo.path_to_book}/{chapter}"
    return f"[![Open in Colab]({COLAB}/assets/colab-badge.svg)]({target})"


def pip_line(repo: Repository, ref: str) -> str:
    """The install cell's magic: the package from the repository at the git ref ``ref``."""
    return f"%pip install -q git+{repo.url}@{ref}"


def chapters(book: Path = BOOK) -> list[Path]:
    return sorted(book.glob("[0-9]*.ipynb"))


def _badge_cell(nb) -> int | None:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and "remove-cell" in cell.metadata.get("tags", []):
            return i
    return None


def _install_cell(nb) -> int | None:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and PIP_LINE.search(cell.source):
            return i
    return None


def _fix_badge(nb, want: str) -> str | None:
    """Put the badge ``want`` in place; say what was wrong, or None."""
    i = _badge_cell(nb)
    if i is None or not BADGE.search(nb.cells[i].source):
        # Right after the title, tagged so that the built book leaves it out (its own
        # launch button does the same job there).
        cell = nbformat.v4.new_markdown_cell(want, metadata={"tags": ["remove-cell"]})
        nb.cells.insert(min(1, len(nb.cells)), cell)
        return "no Colab badge in its first remove-cell markdown cell"
    found = BADGE.findall(nb.cells[i].source)
    if found == [want]:
        return None
    nb.cells[i].source = BADGE.sub(lambda _: want, nb.cells[i].source, count=1)
    return f"badge {found[0]} (expected {want})"


def _fix_install(nb, want: str) -> list[str]:
    """Put the install line ``want`` in place; say what was wrong."""
    i = _install_cell(nb)
    if i is None:
        at = (_badge_cell(nb) or 0) + 1
        cell = nbformat.v4.new_code_cell(INSTALL_CELL.format(pip=want))
        cell.metadata["tags"] = ["remove-cell"]
        nb.cells.insert(min(at, len(nb.cells)), cell)
        return ["no install cell (a code cell with a %pip install line)"]
    problems = []
    first_code = next(j for j, c in enumerate(nb.cells) if c.cell_type == "code")
    if first_code != i:
        problems.append("the install cell is not the chapter's first code cell")
    lines = [m.group(0).strip() for m in PIP_LINE.finditer(nb.cells[i].source)]
    if lines != [want]:
        problems.append(f"install line {' | '.join(lines)!r} (expected {want!r})")
        source = PIP_LINE.sub(lambda m: m.group("indent") + want, nb.cells[i].source, count=1)
        nb.cells[i].source = source
    return problems


def sync(path: Path, repo: Repository, ref: str, write: bool) -> list[str]:
    """What disagrees in the chapter at ``path``; with ``write``, correct it in place."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    problems = []
    found = _fix_badge(nb, badge(repo, path.name))
    if found:
        problems.append(found)
    problems += _fix_install(nb, pip_line(repo, ref))
    if write and problems:
        nbformat.write(nb, path)
    return problems


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tools/colab.py", description=__doc__.splitlines()[0].rstrip(".")
    )
    p.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter of --book")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 on disagreement")
    p.add_argument("--ref", help="the git ref to pin (default: v<version> of pyproject.toml)")
    p.add_argument("--book", type=Path, default=BOOK, help="the book folder (default: book/)")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    ref = args.ref if args.ref is not None else version_tag()
    if not GIT_REF.fullmatch(ref):
        p.error(f"--ref: expected a tag, branch or commit (letters, digits, ._/-), got {ref!r}")
    try:
        repo = read_repository(args.book)
    except (OSError, ValueError) as err:
        p.error(str(err))
    paths = args.notebooks or chapters(args.book)
    if not paths:
        p.error(f"no chapter notebooks in {args.book}")
    disagree = 0
    for path in paths:
        problems = sync(path, repo, ref, write=not args.check)
        disagree += bool(problems)
        for problem in problems:
            print(f"{path}: {problem}" + ("" if args.check else " (rewritten)"))
    if args.check and disagree:
        print(
            f"{disagree} of {len(paths)} chapters disagree with {args.book / '_config.yml'} "
            f"and --ref {ref}; run python tools/colab.py to rewrite them",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
