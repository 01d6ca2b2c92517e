"""Every chapter opens on Colab from the repository and branch of book/_config.yml, and
installs the package at the commit it was executed with (tools/colab.py): a commit on the
branch whose package equals the working tree's, the same in every chapter, which pip can
install from the clone itself."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from in_process import run_main

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
TOOL = ROOT / "tools" / "colab.py"

spec = importlib.util.spec_from_file_location("colab_tool", TOOL)
colab = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = colab  # dataclasses look their module up there
spec.loader.exec_module(colab)


def run_tool(*args: str) -> subprocess.CompletedProcess:
    """``python tools/colab.py ARGS``, in this process (test_the_tool_runs_as_a_script runs
    it as a script)."""
    return run_main(colab.main, *args)


@pytest.fixture
def book_copy(tmp_path) -> Path:
    """The chapters and _config.yml, copied: the tool may rewrite these."""
    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(BOOK / "_config.yml", book)
    for path in colab.chapters(BOOK):
        shutil.copy(path, book)
    return book


def test_badge_and_install_cell_are_derived_from_the_repository():
    repo = colab.Repository("https://github.com/Someone/some_book", "trunk", "docs/book")
    assert colab.badge(repo, "03_focal_loss.ipynb") == (
        "[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/Someone/some_book/blob/trunk/docs/book/"
        "03_focal_loss.ipynb)"
    )
    cell = colab.install_cell(repo, "0123456789abcdef0123456789abcdef01234567")
    assert 'REPOSITORY = "https://github.com/Someone/some_book"' in cell
    assert 'COMMIT = "0123456789abcdef0123456789abcdef01234567"' in cell
    # pip runs in a subprocess that raises when it fails; %pip would print and carry on.
    assert "check=True" in cell and "%pip" not in cell
    assert colab.pages_url(repo) == "https://someone.github.io/some_book/"


def test_the_configuration_names_a_github_repository_and_branch():
    repo = colab.read_repository(BOOK)
    assert re.fullmatch(r"https://github\.com/[\w-]+/[\w.-]+", repo.url)
    assert repo.branch and repo.path_to_book == "book"


# The pin of the book as committed ------------------------------------------------------------


def the_pin() -> str:
    pins = {p.name: colab.pinned(nbformat.read(p, as_version=4)) for p in colab.chapters(BOOK)}
    assert len(pins) >= 9 and None not in pins.values(), pins
    assert len(set(pins.values())) == 1, f"the chapters pin different commits: {pins}"
    return next(iter(pins.values()))


def test_every_chapter_pins_one_commit_of_the_branch_holding_this_package():
    commit = the_pin()
    assert colab.COMMIT.fullmatch(commit)
    # In the branch's history, and the package there is the working tree's: a change to the
    # package without re-pinning (and re-executing) fails here.
    colab.pin_problem(commit, ROOT, colab.read_repository(BOOK).branch)


def test_the_tool_runs_as_a_script():
    proc = subprocess.run(
        [sys.executable, str(TOOL), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", proc.stderr
    usage = subprocess.run([sys.executable, str(TOOL), "--no-such-option"], capture_output=True)
    assert usage.returncode == 2 and b"usage: " in usage.stderr


def test_every_chapter_agrees_with_the_configuration_and_the_pin():
    repo, commit = colab.read_repository(BOOK), the_pin()
    disagree = {p.name: colab.sync(p, repo, commit, write=False) for p in colab.chapters(BOOK)}
    disagree = {name: problems for name, problems in disagree.items() if problems}
    assert not disagree, f"run python tools/colab.py: {json.dumps(disagree, indent=1)}"
    proc = run_tool("--check")
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr


def test_pip_installs_the_pinned_commit_from_the_clone_itself(tmp_path):
    """What the install cell does on Colab, from this clone's history instead of GitHub."""
    commit, target = the_pin(), tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(target), f"git+file://{ROOT}@{commit}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    installed = target / "centernet_edu"
    tree = {p.relative_to(ROOT / "centernet_edu") for p in (ROOT / "centernet_edu").rglob("*.py")}
    assert tree and {p.relative_to(installed) for p in installed.rglob("*.py")} == tree
    for relative in tree:
        assert (installed / relative).read_bytes() == (
            ROOT / "centernet_edu" / relative
        ).read_bytes()


def test_pip_fails_loudly_on_a_commit_that_does_not_exist(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(tmp_path), f"git+file://{ROOT}@{'0' * 40}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode != 0


# Pins that must be refused, in a repository of our own -------------------------------------


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    """A repository with a package commit, then a commit outside the package, on main."""
    root = tmp_path / "repo"
    (root / "centernet_edu").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "a@example.org")
    git(root, "config", "user.name", "A")
    (root / "centernet_edu" / "__init__.py").write_text("x = 1\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Package")
    (root / "README.md").write_text("read me\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Readme")
    return root


def package_commit(repo: Path) -> str:
    return git(repo, "rev-list", "-1", "HEAD~1")


def test_the_newest_package_commit_is_pinned_by_default(repo):
    assert colab.package_commit(repo) == package_commit(repo)
    colab.pin_problem(package_commit(repo), repo, "main")  # a later README commit is fine


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("edit", r"the package at commit \w{12} differs from the working tree's "
                 r"\(centernet_edu/__init__\.py\): commit the package, re-pin"),
        ("add", r"differs from the working tree's \(centernet_edu/new\.py\)"),
        ("pyproject", r"differs from the working tree's \(pyproject\.toml\)"),
        ("later commit", r"differs from the working tree's \(centernet_edu/__init__\.py\)"),
    ],
)  # fmt: skip
def test_a_package_that_changed_since_the_pin_is_refused(repo, change, message):
    commit = package_commit(repo)
    if change == "pyproject":
        (repo / "pyproject.toml").write_text("[project]\nname = 'y'\n")
    elif change == "add":
        (repo / "centernet_edu" / "new.py").write_text("y = 2\n")
    else:
        (repo / "centernet_edu" / "__init__.py").write_text("x = 2\n")
        if change == "later commit":
            git(repo, "commit", "-q", "-am", "Change the package")
    with pytest.raises(colab.PinError, match=message):
        colab.pin_problem(commit, repo, "main")
    if change != "later commit":  # uncommitted: nothing to pin yet
        with pytest.raises(colab.PinError, match="commit the package"):
            colab.package_commit(repo)


def test_a_commit_that_is_not_on_the_branch_or_not_there_is_refused(repo):
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "notes.txt").write_text("a side branch\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Side")
    side = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    with pytest.raises(colab.PinError, match=f"commit {side} is not in the history of"):
        colab.pin_problem(side, repo, "main")
    with pytest.raises(colab.PinError, match=f"commit {'0' * 40} does not exist"):
        colab.pin_problem("0" * 40, repo, "main")
    with pytest.raises(colab.PinError, match="must be a full 40-hex commit, got 'abc'"):
        colab.pin_problem("abc", repo, "main")
    with pytest.raises(colab.PinError, match="'no-such-ref' names no commit"):
        colab.resolve_commit("no-such-ref", repo)


# The tool on copies of the book ----------------------------------------------------------


def test_check_mode_passes_on_rewritten_copies_and_changes_nothing(book_copy):
    assert run_tool("--book", str(book_copy), "--ref", the_pin()).returncode == 0
    before = {p.name: p.read_bytes() for p in colab.chapters(book_copy)}
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert {p.name: p.read_bytes() for p in colab.chapters(book_copy)} == before


def test_check_mode_names_a_tampered_badge(book_copy):
    chapter = book_copy / "04_offset_loss.ipynb"
    chapter.write_text(chapter.read_text().replace("/blob/main/", "/blob/old-branch/"))
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 1
    assert re.search(r"04_offset_loss\.ipynb: badge .*/blob/old-branch/", proc.stdout)
    assert "1 of" in proc.stderr and "run python tools/colab.py" in proc.stderr
    assert "/blob/old-branch/" in chapter.read_text(), "--check changed a chapter"


def test_check_mode_refuses_chapters_that_pin_different_commits(book_copy):
    chapter = book_copy / "02_heatmap_targets.ipynb"
    other = git(ROOT, "rev-list", "-1", f"{the_pin()}~1")
    chapter.write_text(chapter.read_text().replace(the_pin(), other))
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 1
    assert re.search(r"error: the chapters must all pin one commit, they pin \{.*" + other,
                     proc.stderr)  # fmt: skip


def test_check_mode_refuses_a_pin_that_does_not_exist(book_copy):
    for path in colab.chapters(book_copy):
        path.write_text(path.read_text().replace(the_pin(), "1" * 40))
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 1
    assert f"error: commit {'1' * 40} does not exist" in proc.stderr


def test_check_mode_names_every_chapter_when_the_url_changes(book_copy):
    config = book_copy / "_config.yml"
    config.write_text(
        config.read_text().replace("url: https://github.com/", "url: https://github.com/x")
    )
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 1
    for path in colab.chapters(book_copy):
        assert f"{path}: badge" in proc.stdout and f"{path}: the install cell pins" in proc.stdout


def test_rewriting_changes_only_the_install_cell(book_copy):
    older = git(ROOT, "rev-list", "-1", f"{the_pin()}~1")
    # An older commit's package differs from the tree's: the rewrite is refused ...
    refused = run_tool("--book", str(book_copy), "--ref", older)
    assert refused.returncode == 1 and "differs from the working tree's" in refused.stderr
    # ... so pin the same commit under another repository URL, which rewrites every cell.
    config = book_copy / "_config.yml"
    config.write_text(config.read_text().replace("/centernet_edu", "/centernet_edu_fork"))
    assert run_tool("--book", str(book_copy)).returncode == 0
    repo = colab.read_repository(book_copy)
    for path in colab.chapters(BOOK):
        old = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        new = nbformat.read(book_copy / path.name, as_version=nbformat.NO_CONVERT)
        assert len(new.cells) == len(old.cells), path.name
        for a, b in zip(old.cells, new.cells, strict=True):
            # Outputs, execution counts and metadata stay: nbval compares them.
            assert {k: v for k, v in a.items() if k != "source"} == {
                k: v for k, v in b.items() if k != "source"
            }
            changed = set(a.source.splitlines()) ^ set(b.source.splitlines())
            assert all("colab" in line or line.startswith("REPOSITORY =") for line in changed)
        assert new.cells[colab._install_cell(new)].source == colab.install_cell(repo, the_pin())


def test_the_install_cell_does_nothing_outside_colab():
    """Its committed output (none) stays what strict nbval sees after a re-pin."""
    for path in colab.chapters(BOOK):
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        cell = nb.cells[colab._install_cell(nb)]
        assert cell.outputs == [], path.name
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(cell.source, path.name, "exec"), {})
        assert printed.getvalue() == ""


def test_the_install_cell_raises_when_pip_fails(monkeypatch):
    """On Colab (google.colab imported), a failing pip stops the chapter at its first cell."""
    nb = nbformat.read(colab.chapters(BOOK)[0], as_version=4)
    source = nb.cells[colab._install_cell(nb)].source
    ran = []

    def failing_run(cmd, check):
        ran.append(cmd)
        assert check is True
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setitem(sys.modules, "google.colab", object())
    monkeypatch.setattr(subprocess, "run", failing_run)
    with pytest.raises(subprocess.CalledProcessError):
        exec(compile(source, "install cell", "exec"), {})
    assert ran and ran[0][1:4] == ["-m", "pip", "install"]
    url = colab.read_repository(BOOK).url
    assert ran[0][-1] == f"centernet-edu[explorers] @ git+{url}@{the_pin()}"


def test_a_chapter_without_badge_or_install_cell_gets_both(tmp_path):
    shutil.copy(BOOK / "_config.yml", tmp_path)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 1. Title"), nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, tmp_path / "01_new.ipynb")
    args = ["--book", str(tmp_path), "--ref", the_pin()]
    assert run_tool(*args, "--check").returncode == 1
    assert run_tool(*args).returncode == 0
    assert run_tool(*args, "--check").returncode == 0
    cells = nbformat.read(tmp_path / "01_new.ipynb", as_version=4).cells
    assert [c.cell_type for c in cells] == ["markdown", "markdown", "code", "code"]
    assert cells[1].metadata.tags == ["remove-cell"] and "colab-badge" in cells[1].source
    assert cells[2].metadata.tags == ["remove-cell"] and "google.colab" in cells[2].source
    assert cells[3].source == "1 + 1"


def test_an_install_cell_after_other_code_is_reported(book_copy):
    path = book_copy / "05_size_loss.ipynb"
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nb.cells.insert(1, nbformat.v4.new_code_cell("import centernet_edu"))
    nbformat.write(nb, path)
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 1
    assert (
        "05_size_loss.ipynb: the install cell is not the chapter's first code cell" in proc.stdout
    )


def test_a_ref_naming_no_commit_is_refused():
    proc = run_tool("--check", "--ref", "v1@evil")
    assert proc.returncode == 1
    assert "error: 'v1@evil' names no commit" in proc.stderr


def test_a_configuration_without_a_github_url_is_a_usage_error(book_copy):
    config = book_copy / "_config.yml"
    config.write_text(config.read_text().replace("https://github.com/", "https://example.org/"))
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 2
    assert re.search(
        r"error: repository\.url in .*_config\.yml: expected https://github\.com/OWNER/NAME, "
        r"got 'https://example\.org/",
        proc.stderr,
    )
