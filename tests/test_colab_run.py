"""The chapters run top to bottom as on Colab (tools/colab_run.py): a kernel without the
book's tooling, a stand-in google.colab imported at start-up, the package installed by
the chapter's own install cell from this clone at the commit it pins, in a temporary
copy and folder. Every cell must run, every exercise stub's checker must say "not yet",
and no output may show a raw {glue.

Which chapters: COLAB_CHAPTERS, a comma-separated list of chapter numbers ("1,3", the
default: the install cell, the explorers and the exercises), "all" (`make test-full` sets
it: chapter 7's training run included, whose cells nbval runs in `make test` already) or
"none". The Colab-like environment, .venv-colab/, is
created on first use (a couple of minutes) and reused afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
from nbclient.exceptions import CellExecutionError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHAPTERS = "1,3"

spec = importlib.util.spec_from_file_location("colab_run_tool", ROOT / "tools" / "colab_run.py")
colab_run = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = colab_run  # dataclasses look their module up there
spec.loader.exec_module(colab_run)


def selected(value: str | None = None) -> list[Path]:
    """The chapters COLAB_CHAPTERS names; ValueError for a number no chapter has."""
    value = os.environ.get("COLAB_CHAPTERS", DEFAULT_CHAPTERS) if value is None else value
    value = value.strip().lower()
    every = colab_run.chapters()
    if value == "all":
        return every
    if value in ("none", ""):
        return []
    by_number = {int(p.name.split("_")[0]): p for p in every}
    try:
        numbers = [int(n) for n in value.split(",")]
        return [by_number[n] for n in numbers]
    except (ValueError, KeyError):
        raise ValueError(
            f"COLAB_CHAPTERS={value!r}: expected 'all', 'none' or chapter numbers "
            f"among {sorted(by_number)}, e.g. {DEFAULT_CHAPTERS}"
        ) from None


def chosen() -> list[Path]:
    try:
        return selected()
    except ValueError:
        return []  # test_the_selection_names_chapters says why


@pytest.fixture(scope="session")
def colab_python() -> Path:
    """The Colab-like environment's Python (created on first use)."""
    return colab_run.ensure_environment(log=lambda line: print(line, file=sys.stderr))


@pytest.mark.parametrize("chapter", chosen(), ids=lambda p: p.stem)
def test_the_chapter_runs_as_on_colab(chapter, colab_python, tmp_path):
    run = colab_run.run_chapter(chapter, tmp_path, colab_python)
    assert colab_run.COMMIT.fullmatch(run.commit)


# What the runs rest on, quickly ----------------------------------------------------


def test_the_selection_names_chapters():
    selected()  # the environment's COLAB_CHAPTERS
    assert [p.name[:2] for p in selected(DEFAULT_CHAPTERS)] == ["01", "03"]
    assert selected("all") == colab_run.chapters() and len(selected("all")) == 9
    assert selected("none") == []
    with pytest.raises(ValueError, match="COLAB_CHAPTERS"):
        selected("1,12")


def test_every_chapter_has_an_install_cell_the_run_can_point_here():
    repository = colab_run.repository_url()
    for path in colab_run.chapters():
        nb = nbformat.read(path, as_version=4)
        i = colab_run.install_cell(nb, repository)
        assert "remove-cell" in nb.cells[i].metadata.get("tags", []), path.name


def install_cell(**lines: str) -> str:
    body = "\n".join(f'{name} = "{value}"' for name, value in lines.items())
    return (
        "import subprocess\nimport sys\n\n"
        f"{body}\n"
        'if "google.colab" in sys.modules:\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGE], check=True)'
    )


def chapter(install: str, *cells: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter")]
    nb.cells.append(nbformat.v4.new_code_cell(install, metadata={"tags": ["remove-cell"]}))
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    return nb


def test_the_install_cell_is_pointed_at_this_clone_and_keeps_its_commit():
    url, commit = colab_run.repository_url(), "0123456789abcdef0123456789abcdef01234567"
    here = ROOT.resolve().as_uri()
    one_string = install_cell(PACKAGE=f"git+{url}@{commit}")
    two_strings = install_cell(REPOSITORY=url, COMMIT=commit).replace(
        "PACKAGE], check", 'f"git+{REPOSITORY}@{COMMIT}"], check'
    )
    for source, want in [
        (one_string, f'PACKAGE = "git+{here}@{commit}"'),
        (two_strings, f'REPOSITORY = "{here}"\nCOMMIT = "{commit}"'),
    ]:
        nb = chapter(source, "x = 1")
        prepared = colab_run.prepare(nb, prefix="/p", site="/s")
        assert prepared.commit == commit
        tags = [c.metadata.get("tags", []) for c in nb.cells]
        assert tags[1] == [colab_run.CHECK_TAG] and tags[-1] == [colab_run.CHECK_TAG]
        cell = nb.cells[2].source
        assert want in cell and url not in cell
        # Nothing else of the cell changed.
        assert cell.replace(here, url) == source


@pytest.mark.parametrize(
    "source",
    [
        # the older cell: a tag, not a commit
        'import sys\n\nif "google.colab" in sys.modules:\n    %pip install -q git+URL@v0.1.0',
        install_cell(PACKAGE="git+URL@0123456"),  # an abbreviated commit
        install_cell(PACKAGE="git+https://github.com/someone/else@" + "a" * 40),
        "import torch",  # no install cell first
    ],
)
def test_a_chapter_without_a_pinned_install_cell_is_refused(source):
    source = source.replace("URL", colab_run.repository_url())
    with pytest.raises(colab_run.ColabRunError, match="install cell"):
        colab_run.prepare(chapter(source))


def executed(*cells: tuple[list[str], str]):
    """A notebook whose code cells (tags, stdout) ran."""
    nb = nbformat.v4.new_notebook()
    for tags, text in cells:
        cell = nbformat.v4.new_code_cell("pass", metadata={"tags": tags})
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] if text else []
        nb.cells.append(cell)
    return nb


def test_an_exercise_stub_must_be_followed_by_a_checker_that_says_not_yet():
    stub, solution = (["exercise"], ""), (["solution"], "")
    not_yet = ([], "encode_ctdet: 0/12 cases pass (not yet).\n")
    well_done = ([], "encode_ctdet: 12/12 cases pass. Well done.\n")
    assert colab_run.check_outputs(executed(stub, not_yet, solution, well_done)) == []
    # The order stub, solution, checker: at the end of a run-all the checker grades the
    # solution, which redefined the stub's name.
    (problem,) = colab_run.check_outputs(executed(stub, solution, well_done))
    assert "not followed by a checker that says 'not yet'" in problem
    assert colab_run.check_outputs(executed(stub))  # no checker at all


def test_a_raw_glue_in_an_output_is_a_problem():
    (problem,) = colab_run.check_outputs(executed(([], "the loss is {glue}`ch1_hm_loss`")))
    assert "{glue" in problem


def test_the_stand_in_google_colab_records_its_calls(colab_python, tmp_path):
    stubs = colab_run.write_google_colab(tmp_path)
    code = (
        "import google.colab, google.colab.output as out\n"
        "out.enable_custom_widget_manager()\n"
        "print(google.colab.calls)"
    )
    env = {**os.environ, "PYTHONPATH": str(stubs)}
    out = subprocess.run(
        [str(colab_python), "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[('output.enable_custom_widget_manager', (), {})]"


def test_the_colab_like_environment_has_no_book_tooling(colab_python):
    code = "import importlib.util as u, sys; print([n for n in sys.argv[1:] if u.find_spec(n)])"
    names = [*colab_run.NOT_ON_COLAB, "centernet_edu", "torch", "matplotlib", "ipykernel"]
    out = subprocess.run(
        [str(colab_python), "-c", code, *names],
        capture_output=True,
        text=True,
        check=True,
        cwd=colab_python.parent,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert out.stdout.strip() == "['torch', 'matplotlib', 'ipykernel']"


def test_the_environment_is_consistent_and_keeps_colabs_pins(colab_python):
    check = subprocess.run(
        [str(colab_python), "-m", "pip", "check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    code = "import importlib.metadata as m, sys; print([m.version(n) for n in sys.argv[1:]])"
    names = [spec.split("==")[0] for spec in colab_run.COLAB_PINNED] + ["pip"]
    out = subprocess.run(
        [str(colab_python), "-c", code, *names], capture_output=True, text=True, check=True
    )
    *pinned, pip = eval(out.stdout)
    assert pinned == [spec.split("==")[1] for spec in colab_run.COLAB_PINNED]
    assert int(pip.split(".")[0]) >= 24


def test_what_is_preinstalled_is_found_with_everything_it_needs():
    import sysconfig

    site = sysconfig.get_path("purelib")
    found, missing = colab_run.preinstalled(
        [
            "torch==2.13.0",
            "matplotlib>=3.7",
            "numpy<1",
            "no-such-package",
            "tomli; python_version < '3'",
        ],
        site,
    )
    names = {d.metadata["Name"].lower().replace("_", "-") for d in found}
    assert {"torch", "matplotlib", "sympy", "pyparsing", "filelock"} <= names
    # numpy is there (matplotlib needs it), but not in the range asked for
    assert sorted(missing) == ["no-such-package", "numpy<1"]


# The run fails loudly ---------------------------------------------------------------


def head_commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    return out.stdout.strip()


def run_synthetic(nb, tmp_path, colab_python):
    path = tmp_path / "01_synthetic.ipynb"
    nbformat.write(nb, path)
    return colab_run.run_chapter(path, tmp_path / "run", colab_python, timeout=600)


def test_a_commit_that_does_not_exist_fails_the_install_cell(colab_python, tmp_path):
    url = colab_run.repository_url()
    nb = chapter(install_cell(PACKAGE=f"git+{url}@{'0' * 40}"), "import centernet_edu")
    with pytest.raises(CellExecutionError) as failed:
        run_synthetic(nb, tmp_path, colab_python)
    assert "CalledProcessError" in str(failed.value)
    assert "0" * 40 in str(failed.value)


@pytest.mark.skipif(not colab_run.COMMIT.fullmatch(head_commit()), reason="not a git clone")
def test_a_cell_that_raises_fails_the_run(colab_python, tmp_path):
    url = colab_run.repository_url()
    nb = chapter(
        install_cell(PACKAGE=f"git+{url}@{head_commit()}"),
        "from centernet_edu.exercises import check_gaussian_radius",
        "def my_gaussian_radius(height, width, min_overlap=0.7):\n    raise NotImplementedError",
        "print(check_gaussian_radius(my_gaussian_radius))",
        'raise ValueError("a cell that raises")',
    )
    nb.cells[3].metadata["tags"] = ["exercise"]
    with pytest.raises(CellExecutionError, match="a cell that raises"):
        run_synthetic(nb, tmp_path, colab_python)
    # The cells before it ran, with the package the install cell installed.
    ran = nbformat.read(tmp_path / "run" / "content" / "01_synthetic.ipynb", as_version=4)
    assert "not yet" in colab_run.cell_text(ran.cells[5])
