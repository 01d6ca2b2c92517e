"""Write each chapter's Colab badge and install cell from ``book/_config.yml``, or check them.

The repository's URL and branch live in one place, ``repository`` in ``book/_config.yml``
(the built book's repository and Colab buttons read them too). From them this tool
derives, for every chapter ``book/[0-9]*.ipynb``:

- the "Open in Colab" badge of its first markdown cell tagged ``remove-cell``, which opens
  the chapter from the configured branch:
  ``https://colab.research.google.com/github/OWNER/NAME/blob/BRANCH/PATH_TO_BOOK/CHAPTER``;
- its install cell (its first code cell, which installs only on Colab), pinned to the
  commit whose package the chapter was executed with. Only commits on the branch are
  published, never tags, so a commit is the one ref that always resolves. pip runs in a
  subprocess with ``check=True``: if the install fails, the cell raises. It installs the
  ``explorers`` extra (anywidget) and turns on Colab's custom widget manager, without
  which Colab shows no widget but its own.

The pinned commit must be in the branch's history, and the package at that commit
(``centernet_edu/`` and ``pyproject.toml``) must equal the working tree's: a change to the
package that is not re-pinned fails ``--check`` (and the tests). By default the tool pins
the newest commit that changed the package, which is right once the package is committed.

Only the badge and the install cell change: outputs, execution counts and every other
cell stay as they are (the install cell prints nothing outside Colab, so its committed
output does not depend on the commit).

    python tools/colab.py                # rewrite the chapters that disagree
    python tools/colab.py --check        # list what disagrees; exit 1 if anything does
    python tools/colab.py --ref 1a2b3c4  # pin this commit (any unique prefix)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
COLAB = "https://colab.research.google.com"
GITHUB_URL = re.compile(r"https://github\.com/(?P<owner>[A-Za-z0-9-]+)/(?P<name>[A-Za-z0-9_.-]+)")
# A branch name that survives inside a URL: no '@' or '#'.
GIT_REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]*")
COMMIT = re.compile(r"[0-9a-f]{40}")
BADGE = re.compile(r"\[!\[Open in Colab\]\([^)\s]*\)\]\([^)\s]*\)")
# What the pinned commit must hold exactly as the working tree does.
PACKAGE_PATHS = ("centernet_edu", "pyproject.toml")
# The install cell's two settings: where the package comes from, and the pinned commit.
REPOSITORY_LINE = re.compile(r'^REPOSITORY = "(?P<url>[^"]*)"$', re.M)
COMMIT_LINE = re.compile(r'^COMMIT = "(?P<ref>[^"]*)"', re.M)
INSTALL_CELL = """\
# On Colab, install the package at the commit this chapter was executed with; elsewhere
# (a clone set up with `make`) it is already installed and this cell does nothing.
import subprocess
import sys

REPOSITORY = "{url}"
COMMIT = "{commit}"
if "google.colab" in sys.modules:
    package = f"centernet-edu[explorers] @ git+{{REPOSITORY}}@{{COMMIT}}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)
    # The explorers are widgets; Colab shows widgets other than its own through this.
    from google.colab import output

    output.enable_custom_widget_manager()"""


class PinError(ValueError):
    """The commit to pin does not exist, is not on the branch, or holds another package."""


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


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)


def resolve_commit(ref: str, root: Path = ROOT) -> str:
    """The full commit ``ref`` names in the repository at ``root``; PinError if none."""
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise PinError(f"{ref!r} names no commit in {root}")
    return found.stdout.strip()


def package_commit(root: Path = ROOT) -> str:
    """The newest commit that changed the package; PinError while the working tree's
    package differs from it (commit the package first)."""
    found = _git(root, "log", "-1", "--format=%H", "--", *PACKAGE_PATHS)
    if found.returncode != 0 or not COMMIT.fullmatch(found.stdout.strip()):
        raise PinError(f"no commit of {' or '.join(PACKAGE_PATHS)} in {root}")
    commit = found.stdout.strip()
    pin_problem(commit, root, branch=None)
    return commit


def _branch_head(root: Path, branch: str | None) -> str:
    """The branch to search for the commit: ``branch`` where the clone has it, else HEAD."""
    if branch and _git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").stdout:
        return f"refs/heads/{branch}"
    return "HEAD"


def pin_problem(commit: str, root: Path = ROOT, branch: str | None = None) -> None:
    """Raise PinError unless ``commit`` is a full commit on ``branch`` (HEAD where the
    clone has no such branch) whose package equals the working tree's."""
    if not COMMIT.fullmatch(commit):
        raise PinError(f"the pin must be a full 40-hex commit, got {commit!r}")
    head = _branch_head(root, branch)
    if _git(root, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        if _git(root, "rev-parse", "--is-shallow-repository").stdout.strip() == "true":
            raise PinError(f"commit {commit} is not in this shallow clone; fetch its history")
        raise PinError(f"commit {commit} does not exist in {root}")
    if _git(root, "merge-base", "--is-ancestor", commit, head).returncode != 0:
        raise PinError(f"commit {commit} is not in the history of {head}")
    changed = _git(root, "diff", "--name-only", commit, "--", *PACKAGE_PATHS).stdout.split()
    changed += _git(
        root, "ls-files", "--others", "--exclude-standard", "--", *PACKAGE_PATHS
    ).stdout.split()
    changed = sorted(set(changed))
    if changed:
        listed = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        raise PinError(
            f"the package at commit {commit[:12]} differs from the working tree's ({listed}): "
            "commit the package, re-pin with python tools/colab.py and re-execute the chapters"
        )


def pages_url(repo: Repository) -> str:
    """Where GitHub Pages publishes the book: ``https://OWNER.github.io/NAME/``."""
    owner, name = repo.owner_name.split("/")
    return f"https://{owner.lower()}.github.io/{name}/"


def badge(repo: Repository, chapter: str) -> str:
    """The markdown of the "Open in Colab" badge of the notebook file ``chapter``."""
    target = f"{COLAB}/github/{repo.owner_name}/blob/{repo.branch}/{repo.path_to_book}/{chapter}"
    return f"[![Open in Colab]({COLAB}/assets/colab-badge.svg)]({target})"


def install_cell(repo: Repository, commit: str) -> str:
    """The install cell's source: the package from the repository at ``commit``."""
    return INSTALL_CELL.format(url=repo.url, commit=commit)


def chapters(book: Path = BOOK) -> list[Path]:
    return sorted(book.glob("[0-9]*.ipynb"))


def _badge_cell(nb) -> int | None:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and "remove-cell" in cell.metadata.get("tags", []):
            return i
    return None


def _install_cell(nb) -> int | None:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and COMMIT_LINE.search(cell.source):
            return i
    return None


def pinned(nb) -> str | None:
    """The commit a chapter's install cell pins, or None when it has no install cell."""
    i = _install_cell(nb)
    return None if i is None else COMMIT_LINE.search(nb.cells[i].source)["ref"]


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
    """Put the install cell ``want`` in place, as the first code cell; say what was wrong."""
    i = _install_cell(nb)
    if i is None:
        # An older install cell (a %pip line) or none: the new one takes its place.
        i = next((j for j, c in enumerate(nb.cells) if "google.colab" in c.source), None)
    if i is None:
        cell = nbformat.v4.new_code_cell(want, metadata={"tags": ["remove-cell"]})
        nb.cells.insert(min((_badge_cell(nb) or 0) + 1, len(nb.cells)), cell)
        return ["no install cell (a code cell setting COMMIT)"]
    problems = []
    first_code = next(j for j, c in enumerate(nb.cells) if c.cell_type == "code")
    if first_code != i:
        problems.append("the install cell is not the chapter's first code cell")
    if nb.cells[i].source != want:
        found = [rx.search(nb.cells[i].source) for rx in (REPOSITORY_LINE, COMMIT_LINE)]
        what = f"pins {found[1]['ref']!r}" if all(found) else "is an older form"
        url, ref = (rx.search(want).group(1) for rx in (REPOSITORY_LINE, COMMIT_LINE))
        problems.append(
            f"the install cell {what} (expected the cell of tools/colab.py pinning "
            f"{ref[:12]} of {url})"
        )
        nb.cells[i].source = want
    return problems


def sync(path: Path, repo: Repository, commit: str, write: bool) -> list[str]:
    """What disagrees in the chapter at ``path``; with ``write``, correct it in place."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    problems = []
    found = _fix_badge(nb, badge(repo, path.name))
    if found:
        problems.append(found)
    want = install_cell(repo, commit)
    problems += [p.replace(f"{want!r}", f"{commit[:12]}") for p in _fix_install(nb, want)]
    if write and problems:
        nbformat.write(nb, path)
    return problems


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tools/colab.py", description=__doc__.splitlines()[0].rstrip(".")
    )
    p.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter of --book")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 on disagreement")
    p.add_argument(
        "--ref",
        help="the commit to pin (default: with --check, the chapters' own pin; "
        "otherwise the newest commit that changed the package)",
    )
    p.add_argument("--book", type=Path, default=BOOK, help="the book folder (default: book/)")
    return p


def _chosen_commit(args, paths: list[Path], root: Path) -> str:
    """The commit to check or pin. --check without --ref checks the chapters' own pin,
    which must be one and the same commit in every chapter."""
    if args.ref is not None:
        return resolve_commit(args.ref, root)
    if not args.check:
        return package_commit(root)
    pins = {path.name: pinned(nbformat.read(path, as_version=4)) for path in paths}
    found = sorted({pin for pin in pins.values() if pin is not None})
    if len(found) != 1:
        raise PinError(f"the chapters must all pin one commit, they pin {pins}")
    return found[0]


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        repo = read_repository(args.book)
    except (OSError, ValueError) as err:
        p.error(str(err))
    paths = args.notebooks or chapters(args.book)
    if not paths:
        p.error(f"no chapter notebooks in {args.book}")
    try:
        commit = _chosen_commit(args, paths, ROOT)
        pin_problem(commit, ROOT, repo.branch)
    except PinError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    disagree = 0
    for path in paths:
        problems = sync(path, repo, commit, write=not args.check)
        disagree += bool(problems)
        for problem in problems:
            print(f"{path}: {problem}" + ("" if args.check else " (rewritten)"))
    if args.check and disagree:
        print(
            f"{disagree} of {len(paths)} chapters disagree with {args.book / '_config.yml'} "
            f"and the commit {commit[:12]}; run python tools/colab.py to rewrite them",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
