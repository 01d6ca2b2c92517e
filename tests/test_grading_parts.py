"""The class grader's parts: the channel, the assignment file, the outputs, the blocker."""

import json
import struct

import numpy as np
import pytest
import torch

import centernet_edu as ce
from centernet_edu.exercises import channel, check_focal_loss, check_heatmap_nms
from centernet_edu.exercises.__main__ import main
from centernet_edu.exercises.assignment import default_assignment, read_assignment
from centernet_edu.exercises.catalog import CATALOG
from centernet_edu.exercises.grade import Row, find_submissions, row_points, score
from centernet_edu.exercises.outputs import (
    feedback,
    gradebook_csv,
    gradescope,
    results_csv,
    safe_cell,
    write_file,
)
from centernet_edu.exercises.worker import Blocker

# The channel -------------------------------------------------------------------------------


VALUES = [
    torch.randn(2, 3, dtype=torch.float64),
    torch.tensor(3.5),
    torch.zeros(0, 4),
    torch.ones(2, dtype=torch.bfloat16),
    torch.tensor([True, False]),
    torch.arange(6).reshape(2, 3).t(),  # not contiguous
    np.arange(6, dtype=np.float32).reshape(2, 3),
    np.float32(2.5),
    (1, 2.0, None, "x", [True]),
    {"hm": torch.ones(1, 2, 3), 3: [1, None]},
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_values_cross_the_channel_unchanged(value):
    back = channel.decode(json.loads(json.dumps(channel.encode(value))))
    assert type(back) is type(value)
    if isinstance(value, torch.Tensor):
        assert back.dtype == value.dtype and torch.equal(back, value)
    elif isinstance(value, (np.ndarray, np.generic)):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, dict):
        assert torch.equal(back["hm"], value["hm"]) and back[3] == value[3]
    else:
        assert back == value


def test_non_finite_numbers_and_foreign_objects_cross_as_data():
    back = channel.decode(channel.encode([float("nan"), float("-inf"), torch.nn.Linear(1, 1)]))
    assert np.isnan(back[0]) and back[1] == float("-inf")
    assert isinstance(back[2], channel.Foreign) and type(back[2]).__name__ == "Linear"


def test_an_input_returned_keeps_its_identity():
    heatmap = np.zeros((3, 4))
    given = (heatmap, ((1, 1), 2))
    encoded = channel.encode(heatmap, given)
    assert encoded == {"given": 0} and channel.decode(encoded, given) is heatmap


MALFORMED = [
    ({"tensor": "float32", "shape": [2], "data": "AAAA"}, "3 bytes for 2 values of float32"),
    ({"tensor": "object", "shape": [1], "data": ""}, "unknown dtype"),
    ({"tensor": "float32", "shape": [-1], "data": ""}, "shape"),
    ({"tensor": "float32", "shape": [1], "data": "!!"}, "base64"),
    ({"pickle": "gASVAAAAAAAAAACMBXBvc2l4lIwGc3lzdGVtlJOUjAJpZJSFlFKULg=="}, "unexpected value"),
    ({"given": 3}, "unexpected value"),
    ([1, 2], "unexpected value"),
    ({"float": "1e999"}, "unexpected value"),
]


@pytest.mark.parametrize(("data", "words"), MALFORMED, ids=[w.split()[0] for _, w in MALFORMED])
def test_malformed_values_are_refused(data, words):
    with pytest.raises(channel.Malformed, match=words):
        channel.decode(data)


def test_frames_are_cut_and_checked():
    frames = channel.Frames()
    data = channel.frame({"kind": "a"}) + channel.frame({"kind": "b", "x": 1})
    assert frames.feed(data[:7]) == [] and frames.feed(data[7:]) == [
        {"kind": "a"},
        {"kind": "b", "x": 1},
    ]
    with pytest.raises(channel.Malformed, match="more than"):
        channel.Frames().feed(b'{"event": "result", "ok": true}\n')
    with pytest.raises(channel.Malformed, match="not JSON"):
        channel.Frames().feed(struct.pack(">I", 3) + b"\xff\xfe\x00")
    with pytest.raises(channel.Malformed, match="without a kind"):
        channel.Frames().feed(channel.frame({"ok": True}))


# The assignment ----------------------------------------------------------------------------


def assignment(tmp_path, text):
    path = tmp_path / "hw.toml"
    path.write_text(text)
    return read_assignment(path)


def test_an_assignment_lists_its_exercises_in_the_books_order(tmp_path):
    a = assignment(
        tmp_path,
        """
title = "Homework 2"
seed = 99
float64 = true
[exercises.reg_l1_loss]
points = 5
float64 = false
[exercises.focal_loss]
points = 10
hidden_seeds = [11, 12]
""",
    )
    assert a.exercises == ["focal_loss", "reg_l1_loss"] and a.seed == 99
    assert a.task("focal_loss").float64 and not a.task("reg_l1_loss").float64
    assert a.task("focal_loss").hidden_seeds == (11, 12) and a.task("reg_l1_loss").points == 5


BAD_ASSIGNMENTS = [
    ("[exercises.focal_los]\npoints = 1", "exercises.focal_los: no such exercise"),
    ("[exercises.focal_loss]\npoints = -1", r"exercises.focal_loss.points must be a number > 0"),
    ("[exercises.focal_loss]\npoint = 1", "unknown key 'point'"),
    ("seed = -3\n[exercises.focal_loss]", "seed must be an integer >= 0"),
    ("timeout = inf\n[exercises.focal_loss]", "timeout must be a number > 0"),
    ("[exercises.focal_loss]\nfloat64 = 'yes'", "float64 must be true or false"),
    ("[exercises.focal_loss]\nhidden_seeds = [1.5]", "hidden_seeds must be an integer"),
    ("title = 'x'", "lists no exercises"),
    ("[exercises", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "words"), BAD_ASSIGNMENTS, ids=[w for _, w in BAD_ASSIGNMENTS])
def test_a_bad_assignment_is_refused_by_name(tmp_path, text, words):
    with pytest.raises(ValueError, match=words):
        assignment(tmp_path, text)


# Points and outputs ------------------------------------------------------------------------


def rows_of(student="=1+1"):
    return [
        Row(student, "focal_loss", 6, 12, False, "-bad: your loss is 0", ("case 0: wrong",) * 6),
        Row(student, "focal_loss (hidden 1)", 12, 12, True, "all cases pass", hidden=True),
        Row(student, "reg_l1_loss", 10, 10, True, "all cases pass"),
    ]


def test_points_are_shared_by_cases_and_partial(tmp_path):
    a = assignment(
        tmp_path,
        "[exercises.focal_loss]\npoints = 12\nhidden_seeds = [5]\n[exercises.reg_l1_loss]\npoints = 5",
    )
    points = row_points(rows_of(), a)
    assert points["focal_loss"] == (3.0, 6.0) and points["focal_loss (hidden 1)"] == (6.0, 6.0)
    assert score(rows_of(), a) == {"focal_loss": (9.0, 12.0), "reg_l1_loss": (5.0, 5.0)}


def test_outputs_escape_formulas_and_mark_hidden_tests(tmp_path):
    a = assignment(
        tmp_path,
        "[exercises.focal_loss]\npoints = 12\nhidden_seeds = [5]\n[exercises.reg_l1_loss]\npoints = 5",
    )
    text = results_csv(rows_of(), a)
    assert "'=1+1,focal_loss,6,12,False,3.0,6.0,'-bad: your loss is 0" in text
    assert gradebook_csv(rows_of(), a).splitlines()[1] == "'=1+1,9.0,5.0,14.0,17.0"
    result = gradescope(rows_of(), a)
    assert result["score"] == 14.0
    assert [t["visibility"] for t in result["tests"]] == ["visible", "after_published", "visible"]
    assert "12 of 12 hidden cases pass" == result["tests"][1]["output"]
    md = feedback("=1+1", rows_of(), a)
    assert "**14 of 17 points.**" in md and "- case 0: wrong" in md
    assert [safe_cell(t) for t in ("@x", "+1", "plain")] == ["'@x", "'+1", "plain"]


def test_write_file_replaces_a_planted_link_instead_of_writing_through_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "results.csv").symlink_to(victim)
    write_file(tmp_path / "results.csv", "grades\n")
    assert victim.read_text() == "keep me"
    assert (tmp_path / "results.csv").read_text() == "grades\n"
    assert not (tmp_path / "results.csv").is_symlink()
    assert not list(tmp_path.glob("*.partial"))


def test_every_entry_gets_a_row_or_a_reason(tmp_path):
    (tmp_path / "alice.py").write_text("x = 1")
    (tmp_path / "Upper.PY").write_text("x = 1")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "gone.py").symlink_to(tmp_path / "nowhere.py")
    (tmp_path / "empty").mkdir()
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "ch3.ipynb").write_text("{}")
    (tmp_path / "bob" / "ch4.py").write_text("x = 1")
    found = {s.student: s for s in find_submissions(tmp_path)}
    assert set(found) == {"alice", "Upper", "notes.txt", "gone", "empty", "bob"}
    assert set(found["bob"].files) == {"ch3.ipynb", "ch4.py"} and found["Upper"].files
    assert "not a .py or .ipynb file" in found["notes.txt"].reason
    assert "symbolic link to nothing" in found["gone"].reason
    assert "holds no .py or .ipynb file" in found["empty"].reason


# The command line's checks before grading -------------------------------------------------


@pytest.fixture
def one_submission(tmp_path):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "a.py").write_text("x = 1")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--timeout", "inf"], "--timeout: must be a positive float up to 86400"),
        (["--timeout", "nan"], "--timeout: must be a positive float"),
        (["--memory-mb", "0"], "--memory-mb: must be a positive int"),
        ([], "give --out DIR"),
    ],
)
def test_bad_options_are_usage_errors(one_submission, capsys, args, words):
    with pytest.raises(SystemExit) as stop:
        main(["grade", str(one_submission / "subs"), *args])
    assert stop.value.code == 2 and words in capsys.readouterr().err


def test_a_folder_for_the_csv_is_refused_before_grading(one_submission, capsys):
    (one_submission / "out.csv").mkdir()
    with pytest.raises(SystemExit) as stop:
        main(["grade", str(one_submission / "subs"), "--csv", str(one_submission / "out.csv")])
    assert stop.value.code == 2 and "--csv must be a file" in capsys.readouterr().err


def test_existing_outputs_need_overwrite(one_submission, capsys):
    out = one_submission / "out"
    out.mkdir()
    (out / "results.csv").write_text("old")
    assert main(["grade", str(one_submission / "subs"), "--out", str(out), "--quiet"]) == 1
    assert "exists: pass --overwrite" in capsys.readouterr().err
    assert (out / "results.csv").read_text() == "old"


# The blocker ----------------------------------------------------------------------------------


def test_blocking_reaches_every_reference_and_comes_undone():
    taken = ce.focal_loss  # as `from centernet_edu import focal_loss` takes it
    x, gt = torch.rand(1, 1, 3, 3), torch.zeros(1, 1, 3, 3)
    want = float(taken(x, gt))
    blocker = Blocker()
    blocker.block("focal_loss")
    try:
        for call in (
            lambda: taken(x, gt),
            lambda: ce.losses.focal_loss_with_logits(x, gt),
            lambda: ce.CenterNetLoss(),
        ):
            with pytest.raises(RuntimeError, match="asks you to write focal_loss yourself"):
                call()
        assert (
            float(
                ce.reg_l1_loss(
                    torch.zeros(1, 2, 3, 3),
                    *[torch.zeros(1, 1, dtype=torch.long)] * 2,
                    torch.zeros(1, 1, 2),
                )
            )
            == 0
        )
        assert blocker.intact()
    finally:
        blocker.unblock()
    assert float(taken(x, gt)) == want and ce.CenterNetLoss()


def test_every_blocked_name_exists():
    for spec in CATALOG.values():
        for path in spec.blocked:
            assert Blocker.functions(path), path


def test_the_checkers_keep_their_messages():
    """In a notebook, the checkers still run in process and say the same."""
    report = check_focal_loss(lambda pred, gt: torch.zeros(()))
    assert not report.ok and "your loss is 0 where" in report.failures[0]
    assert check_heatmap_nms(lambda h: h * (h == torch.nn.functional.max_pool2d(h, 3, 1, 1))).ok
    assert default_assignment().exercises == list(CATALOG)


# Hints that fit the failure ---------------------------------------------------------------


def _defined(source: str, name: str):
    space: dict = {}
    exec(compile(source, "<student>", "exec"), space)
    return space.get(f"my_{name}") or space[name]


def test_the_two_new_classic_mistakes_are_named():
    from grading_class import FAR_BORDER, ROUNDED_OFFSET

    from centernet_edu.exercises import check_draw_gaussian, check_encode_ctdet

    report = check_encode_ctdet(_defined(ROUNDED_OFFSET, "encode_ctdet"))
    assert "your reg has -0.5 where 0.5 belongs" in report.failures[0]
    assert "floored (int() of a positive number), not rounded" in report.hint
    report = check_draw_gaussian(_defined(FAR_BORDER, "draw_gaussian"))
    assert "the window ends at H and W" in report.hint
    report = check_encode_ctdet(_defined(FAR_BORDER, "encode_ctdet"))
    assert "not to W and H: an off-by-one at the far border" in report.hint


def test_a_hint_about_the_case_is_not_given_for_an_unrelated_error():
    def raises(pred, gt):
        raise RuntimeError("something else entirely")

    report = check_focal_loss(raises)
    assert report.failures[0].startswith("case 0 (0 positives")  # the empty-batch case
    assert report.hint is None

    def nan_when_empty(pred, gt):  # the mistake the empty-batch hint explains
        pos = gt.eq(1)
        terms = torch.where(
            pos, (1 - pred) ** 2 * pred.log(), (1 - gt) ** 4 * pred**2 * (1 - pred).log()
        )
        return -terms.sum() / pos.sum()

    assert "divide by max(N, 1)" in check_focal_loss(nan_when_empty).hint


def test_an_assignment_that_asks_for_float64_fails_a_float32_result():
    from centernet_edu.exercises.judge import strict_float64

    def in_float32(pred, gt):
        pred, gt = pred.float(), gt.float()
        pos = gt.eq(1)
        terms = torch.where(
            pos, (1 - pred) ** 2 * pred.log(), (1 - gt) ** 4 * pred**2 * (1 - pred).log()
        )
        return -terms.sum() / pos.sum().clamp(min=1)

    assert check_focal_loss(in_float32).ok
    with strict_float64():
        report = check_focal_loss(in_float32)
    assert not report.ok and "this assignment asks for float64" in report.failures[0]
    assert report.passed == 3  # the three cases in float32


def test_one_students_folder_gives_gradescope_its_results_json(tmp_path, capsys):
    """Gradescope's autograder: SUBMISSIONS is one student's files (--one)."""
    from grading_class import CORRECT_PY

    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "losses.py").write_text(CORRECT_PY)
    (submission / "README.txt").write_text("my notes")
    (tmp_path / "hw.toml").write_text(
        "[exercises.focal_loss]\npoints = 6\n[exercises.heatmap_nms]\npoints = 4\nhidden_seeds = [9]\n"
    )
    args = ["grade", str(submission), "--one", "--assignment", str(tmp_path / "hw.toml")]
    assert main([*args, "--out", str(tmp_path / "out"), "--quiet"]) == 0
    result = json.loads((tmp_path / "out" / "results.json").read_text())
    assert result["score"] == 10.0 and result["stdout_visibility"] == "hidden"
    assert [(t["name"], t["max_score"], t["visibility"]) for t in result["tests"]] == [
        ("focal_loss", 6.0, "visible"),
        ("heatmap_nms", 2.0, "visible"),
        ("heatmap_nms (hidden 1)", 2.0, "after_published"),
    ]
    assert "1 student, 3 of 3 tests passed" in capsys.readouterr().out
