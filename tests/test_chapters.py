"""The chapters read right outside the built book: in Jupyter, on Colab, in VS Code.

No MyST role shows as raw markup: each computed number in the prose is written as text
between invisible markers and equals the value the chapter records (tools/prose.py; strict
nbval proves the records are what the code computes today), and each citation is plain
"(Author et al., year)" text linking to the references page. nbval's cell tags, not
comments in the code, mark what genuinely varies.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("[0-9]*.ipynb"))

spec = importlib.util.spec_from_file_location("prose_tool", ROOT / "tools" / "prose.py")
prose = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = prose  # dataclasses look their module up there
spec.loader.exec_module(prose)
sys.modules.setdefault("prose", prose)  # as tools/execute.py imports it
spec = importlib.util.spec_from_file_location("execute_tool", ROOT / "tools" / "execute.py")
execute = importlib.util.module_from_spec(spec)
spec.loader.exec_module(execute)

NBVAL_TAGS = {"nbval-ignore-output", "nbval-skip", "nbval-raises-exception", "raises-exception"}
LINE_START_COMMENT = re.compile(r"^[ \t]*(?:(?:[-*+>]|\d+[.)])[ \t]+)*<!--.*$", re.M)
CITATION = re.compile(r"\(\[[A-Z][\w-]+(?: et al\.| and [A-Z][\w-]+), \d{4}\]\(references\.md\)\)")


def read(path: Path):
    return nbformat.read(path, as_version=4)


def markdown(nb):
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]


def test_there_are_nine_chapters():
    assert len(CHAPTERS) == 9


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_raw_myst_role_in_the_prose(path):
    raw = [(i, m.group(0)) for i, s in markdown(read(path)) for m in prose.RAW_ROLE.finditer(s)]
    assert not raw, f"{path.name}: roles Jupyter and Colab would print as they are: {raw}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_number_in_the_prose_is_the_value_the_chapter_computes(path):
    nb = read(path)
    shown = [m for _, s in markdown(nb) for m in prose.MARKER.finditer(s)]
    assert shown, f"{path.name} shows no computed number"
    wrong = prose.mismatches(nb, BOOK, path.name)
    assert not wrong, f"{path.name}: run python tools/prose.py: {wrong}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_marker_starts_a_line(path):
    """A line that starts with ``<!--`` opens an HTML block in CommonMark: the rest of it
    would be raw HTML (no math, no emphasis) outside its paragraph, in Jupyter and in the
    built book alike."""
    for i, source in markdown(read(path)):
        starts = LINE_START_COMMENT.findall(source)
        assert not starts, f"{path.name}, cell {i}: lines starting with a marker: {starts}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_citations_are_text_linking_to_the_references(path):
    for i, source in markdown(read(path)):
        for link in re.findall(r"\[[^\]]*\d{4}\]\([^)]*\)", source):
            assert CITATION.search(f"({link})"), f"{path.name}, cell {i}: {link}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_nbval_marks_are_cell_tags_not_comments(path):
    for i, cell in enumerate(read(path).cells):
        if cell.cell_type == "code":
            assert "NBVAL_" not in cell.source, f"{path.name}, cell {i}: an nbval comment"
        nbval = {t for t in cell.metadata.get("tags", []) if "nbval" in t or "raises" in t}
        assert nbval <= NBVAL_TAGS, f"{path.name}, cell {i}: unknown tags {nbval - NBVAL_TAGS}"


# The tool itself, on a small notebook --------------------------------------------------------


def glued(name: str, value) -> dict:
    """The output a chapter's glue(name, value, display=False) leaves in a notebook."""
    return nbformat.v4.new_output(
        "display_data",
        data={prose.RECORD: repr(value)},
        metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}},
    )


def small_notebook(text: str):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("glue(...)")
    code.outputs = [glued("ratio", 0.12345), glued("count", 23), glued("word", "four")]
    nb.cells = [code, nbformat.v4.new_markdown_cell(text)]
    return nb


def test_fill_writes_each_number_with_its_format_and_mismatches_find_a_stale_one(tmp_path):
    nb = small_notebook(
        "a <!--glue:ratio:.3f-->?<!--/glue--> b <!--glue:count-->?<!--/glue--> "
        "c <!--glue:word-->?<!--/glue--> d <!--glue:ratio:.1%-->?<!--/glue-->"
    )
    assert len(prose.mismatches(nb, tmp_path)) == 4
    assert prose.fill(nb, tmp_path) == 4
    assert nb.cells[1].source == (
        "a <!--glue:ratio:.3f-->0.123<!--/glue--> b <!--glue:count-->23<!--/glue--> "
        "c <!--glue:word-->four<!--/glue--> d <!--glue:ratio:.1%-->12.3%<!--/glue-->"
    )
    assert prose.mismatches(nb, tmp_path) == [] and prose.fill(nb, tmp_path) == 0
    nb.cells[0].outputs[0] = glued("ratio", 0.5)  # the code now computes another value
    stale = [(m.cell, m.name, m.shown, m.computed) for m in prose.mismatches(nb, tmp_path)]
    assert stale == [(1, "ratio", "0.123", "0.500"), (1, "ratio", "12.3%", "50.0%")]


def test_a_number_of_another_chapter_is_read_from_that_chapter(tmp_path):
    nbformat.write(small_notebook(""), tmp_path / "08_other.ipynb")
    nb = small_notebook("<!--glue:08_other.ipynb::count:d-->0<!--/glue-->")
    assert prose.fill(nb, tmp_path) == 1
    assert "-->23<!--" in nb.cells[1].source


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<!--glue:nothing-->1<!--/glue-->", r"cell 1: the prose shows 'nothing', which no cell"),
        ("<!--glue:word:.2f-->1<!--/glue-->", r"'word' = 'four' with format '.2f'"),
        ("<!--glue:x.ipynb::count-->1<!--/glue-->", r"shows 'count' of x\.ipynb, not in"),
    ],
)
def test_a_marker_without_a_usable_record_is_an_error(text, message, tmp_path):
    with pytest.raises(prose.ProseError, match=message):
        prose.fill(small_notebook(text), tmp_path, "ch")


# Explorers: saved as the self-contained explorer, never as a widget view ------------------

EXPLORER_CALL = re.compile(r"\b\w+_explorer\(")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_explorers_are_saved_as_html_without_widget_views(path):
    nb = read(path)
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert execute.WIDGET_VIEW not in output.get("data", {}), f"cell {index}"
        if cell.cell_type == "code" and EXPLORER_CALL.search(cell.source.splitlines()[-1]):
            html = [o["data"].get("text/html", "") for o in cell.outputs if "data" in o]
            assert any('class="cn-explorer"' in h for h in html), f"cell {index}: no explorer"


YOURS_CALL = re.compile(r"\b\w+_explorer\(.*\byours\w*=")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_explorer_on_a_student_function_says_it_runs_it_in_a_live_kernel(path):
    nb = read(path)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and YOURS_CALL.search(cell.source):
            html = [o["data"].get("text/html", "") for o in cell.outputs if "data" in o]
            assert any("beside the package's functions" in h for h in html), f"cell {index}"


def test_the_executor_drops_widget_views_and_keeps_the_rest():
    nb = nbformat.v4.new_notebook()
    data = {"text/plain": "x", "text/html": "<b>x</b>", execute.WIDGET_VIEW: {"model_id": "1"}}
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data=dict(data))]
    nb.cells = [cell, nbformat.v4.new_markdown_cell("text")]
    assert execute.without_widget_views(nb) == 1
    assert nb.cells[0].outputs[0]["data"] == {"text/plain": "x", "text/html": "<b>x</b>"}
    assert execute.without_widget_views(nb) == 0


NUMBERED = re.compile(r"^(\d+)\. ", re.M)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_conceptual_exercise_has_an_answer_collapsed_under_it(path):
    """The numbered questions under "## Exercises" are answered, item for item, in the
    next cell: a markdown cell tagged ``answers`` whose text is one ``<details>`` block,
    collapsed in Jupyter, on Colab and in the built book alike (tools/student.py leaves it
    out of the student edition)."""
    nb = read(path)
    for i, source in markdown(nb):
        if not source.startswith("## Exercises"):
            continue
        asked = NUMBERED.findall(source)
        if not asked:
            continue
        answers = nb.cells[i + 1]
        assert "answers" in answers.metadata.get("tags", []), f"{path.name}, cell {i + 1}"
        text = answers.source.strip()
        assert text.startswith("<details>") and text.endswith("</details>"), path.name
        assert "<summary>" in text and "\n\n" in text, path.name  # markdown renders inside
        assert NUMBERED.findall(text) == asked, f"{path.name}: answers {asked}, one each"
