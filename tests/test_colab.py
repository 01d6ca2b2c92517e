"""Every chapter opens on Colab from the repository and branch of book/_config.yml, and
installs the package at the version it was executed with (tools/colab.py)."""

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

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
TOOL = ROOT / "tools" / "colab.py"

spec = importlib.util.spec_from_file_location("colab_tool", TOOL)
colab = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = colab  # dataclasses look their module up there
spec.loader.exec_module(colab)


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(TOOL), *args], capture_output=True, text=True, cwd=ROOT
    )


@pytest.fixture
def book_copy(tmp_path) -> Path:
    """The chapters and _config.yml, copied: the tool may rewrite these."""
    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(BOOK / "_config.yml", book)
    for path in colab.chapters(BOOK):
        shutil.copy(path, book)
    return book


def test_badge_and_install_line_are_derived_from_the_repository():
    repo = colab.Repository("https://github.com/Someone/some_book", "trunk", "docs/book")
    assert colab.badge(repo, "03_focal_loss.ipynb") == (
        "[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/Someone/some_book/blob/trunk/docs/book/"
        "03_focal_loss.ipynb)"
    )
    assert colab.pip_line(repo, "v1.2.3") == (
        "%pip install -q git+https://github.com/Someone/some_book@v1.2.3"
    )
    assert colab.pages_url(repo) == "https://someone.github.io/some_book/"


def test_the_default_pin_is_the_package_version_tag():
    import centernet_edu

    assert colab.version_tag() == f"v{centernet_edu.__version__}"


def test_the_configuration_names_a_github_repository_and_branch():
    repo = colab.read_repository(BOOK)
    assert re.fullmatch(r"https://github\.com/[\w-]+/[\w.-]+", repo.url)
    assert repo.branch and repo.path_to_book == "book"


def test_every_chapter_agrees_with_the_configuration():
    repo, ref = colab.read_repository(BOOK), colab.version_tag()
    chapters = colab.chapters(BOOK)
    assert len(chapters) >= 9
    disagree = {p.name: colab.sync(p, repo, ref, write=False) for p in chapters}
    disagree = {name: problems for name, problems in disagree.items() if problems}
    assert not disagree, (
        f"chapters that disagree with book/_config.yml and {ref} "
        f"(run python tools/colab.py): {json.dumps(disagree, indent=1)}"
    )


def test_check_mode_passes_on_rewritten_copies_and_changes_nothing(book_copy):
    assert run_tool("--book", str(book_copy)).returncode == 0
    before = {p.name: p.read_bytes() for p in colab.chapters(book_copy)}
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert {p.name: p.read_bytes() for p in colab.chapters(book_copy)} == before


def test_check_mode_names_a_tampered_badge(book_copy):
    run_tool("--book", str(book_copy))
    chapter = book_copy / "04_offset_loss.ipynb"
    chapter.write_text(chapter.read_text().replace("/blob/main/", "/blob/old-branch/"))
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 1
    assert re.search(r"04_offset_loss\.ipynb: badge .*/blob/old-branch/", proc.stdout)
    assert "1 of" in proc.stderr and "run python tools/colab.py" in proc.stderr
    assert "/blob/old-branch/" in chapter.read_text(), "--check changed a chapter"


def test_check_mode_names_an_install_line_without_the_pin(book_copy):
    run_tool("--book", str(book_copy))
    chapter = book_copy / "02_heatmap_targets.ipynb"
    chapter.write_text(chapter.read_text().replace("centernet_edu@v", "centernet_edu@main-v"))
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 1
    assert re.search(r"02_heatmap_targets\.ipynb: install line .*@main-v", proc.stdout)


def test_check_mode_names_every_chapter_when_the_url_changes(book_copy):
    run_tool("--book", str(book_copy))
    config = book_copy / "_config.yml"
    config.write_text(
        config.read_text().replace("url: https://github.com/", "url: https://github.com/x")
    )
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 1
    for path in colab.chapters(book_copy):
        assert f"{path}: badge" in proc.stdout and f"{path}: install line" in proc.stdout


def test_a_commit_can_be_pinned_instead_of_the_tag(book_copy):
    commit = "0123456789abcdef0123456789abcdef01234567"
    assert run_tool("--book", str(book_copy), "--ref", commit).returncode == 0
    assert run_tool("--book", str(book_copy), "--check", "--ref", commit).returncode == 0
    assert run_tool("--book", str(book_copy), "--check").returncode == 1
    assert f"centernet_edu@{commit}" in (book_copy / "01_objects_as_points.ipynb").read_text()


def test_rewriting_changes_only_the_badge_and_install_lines(book_copy):
    assert run_tool("--book", str(book_copy), "--ref", "v9.9.9").returncode == 0
    repo = colab.read_repository(BOOK)
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
            assert all("colab-badge" in line or "%pip install" in line for line in changed)
        assert colab.badge(repo, path.name) in new.cells[colab._badge_cell(new)].source
        assert colab.pip_line(repo, "v9.9.9") in new.cells[colab._install_cell(new)].source


def test_the_install_cell_does_nothing_outside_colab(book_copy):
    """Its committed output (none) stays what strict nbval sees after the rewrite."""
    transform = pytest.importorskip("IPython.core.inputtransformer2").TransformerManager()
    run_tool("--book", str(book_copy))
    for path in colab.chapters(book_copy):
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        cell = nb.cells[colab._install_cell(nb)]
        assert cell.outputs == [], path.name
        code = transform.transform_cell(cell.source)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, path.name, "exec"), {"get_ipython": None})
        assert printed.getvalue() == ""


def test_a_chapter_without_badge_or_install_cell_gets_both(tmp_path):
    shutil.copy(BOOK / "_config.yml", tmp_path)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 1. Title"), nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, tmp_path / "01_new.ipynb")
    assert run_tool("--book", str(tmp_path), "--check").returncode == 1
    assert run_tool("--book", str(tmp_path)).returncode == 0
    assert run_tool("--book", str(tmp_path), "--check").returncode == 0
    cells = nbformat.read(tmp_path / "01_new.ipynb", as_version=4).cells
    assert [c.cell_type for c in cells] == ["markdown", "markdown", "code", "code"]
    assert cells[1].metadata.tags == ["remove-cell"] and "colab-badge" in cells[1].source
    assert "google.colab" in cells[2].source and cells[3].source == "1 + 1"


def test_an_install_cell_after_other_code_is_reported(book_copy):
    run_tool("--book", str(book_copy))
    path = book_copy / "05_size_loss.ipynb"
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nb.cells.insert(1, nbformat.v4.new_code_cell("import centernet_edu"))
    nbformat.write(nb, path)
    proc = run_tool("--book", str(book_copy), "--check")
    assert proc.returncode == 1
    assert (
        "05_size_loss.ipynb: the install cell is not the chapter's first code cell" in proc.stdout
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ref", "v1@evil"], r"--ref: expected a tag, branch or commit .*got 'v1@evil'"),
        (["--ref", "-x"], r"--ref: expected one argument"),
    ],
)
def test_a_bad_ref_is_a_usage_error(args, message):
    proc = run_tool("--check", *args)
    assert proc.returncode == 2
    assert re.search(message, proc.stderr), proc.stderr


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
