"""An adversarial class (``grading_class``) graded under an assignment, end to end.

No cheat passes, no correct answer fails, nothing the submissions start outlives the
run, and the grader writes the expected CSV, gradebook, feedback and results.json.
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from grading_class import LEFTOVER_COMMS, LEFTOVER_ENV, MARKER, write_class

from centernet_edu.exercises.catalog import CATALOG

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the grader's isolation is Linux's")

POINTS = {name: i + 1 for i, name in enumerate(CATALOG)}  # points differ, so a mix-up shows
HIDDEN = {"focal_loss": [101], "reg_l1_loss": [202, 303]}
ASSIGNMENT = "\n".join(
    [
        'title = "The class of many tricks"',
        "seed = 4242",
        "partial = false",
        "timeout = 20",
        "memory_mb = 1024",
    ]
    + [
        f"[exercises.{name}]\npoints = {points}"
        + ("\nfloat64 = true" if name == "focal_loss" else "")
        + (f"\nhidden_seeds = {HIDDEN[name]}" if name in HIDDEN else "")
        for name, points in POINTS.items()
    ]
)


def _leftovers() -> list[str]:
    """Processes the class started that are still alive, by their marks."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (comm in LEFTOVER_COMMS or LEFTOVER_ENV.encode() in environ):
            found.append(f"{entry} {comm}")
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    folder, work, out = root / "submissions", root / "work", root / "out"
    folder.mkdir()
    work.mkdir()
    expected = write_class(folder)
    # float64 is required of the focal loss: the student who computes in float32 fails it.
    expected["float32_only"]["focal_loss"] = False
    (root / "hw.toml").write_text(ASSIGNMENT)
    canary = work / "canary.py"
    canary.write_text(f"# {MARKER}\n")
    command = [
        sys.executable, "-m", "centernet_edu.exercises", "grade", str(folder),
        "--assignment", str(root / "hw.toml"), "--out", str(out), "--quiet",
    ]  # fmt: skip
    # Captured output: a process that kept the grader's stdout open would hang this call.
    run = subprocess.run(
        command, cwd=work, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL
    )
    with open(out / "results.csv", newline="") as f:
        results = list(csv.DictReader(f))
    with open(out / "gradebook.csv", newline="") as f:
        gradebook = list(csv.reader(f))
    return {
        "run": run,
        "expected": expected,
        "results": results,
        "gradebook": gradebook,
        "out": out,
        "folder": folder,
        "work": work,
        "canary": canary,
        "leftovers": _leftovers(),
    }


def test_the_grader_finishes_and_leaves_nothing_running(graded):
    run = graded["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.startswith(f"{len(graded['expected'])} students,")
    assert graded["leftovers"] == []


def test_no_cheat_passes_and_no_correct_answer_fails(graded):
    expected, rows = graded["expected"], graded["results"]
    got = {(r["student"].lstrip("'"), r["exercise"]): r for r in rows}
    wrong = []
    for student, verdicts in expected.items():
        for exercise, ok in verdicts.items():
            sets = [exercise] + [
                f"{exercise} (hidden {i})" for i in range(1, 1 + len(HIDDEN.get(exercise, [])))
            ]
            for name in sets:
                row = got[student, name]
                if (row["ok"] == "True") != ok:
                    wrong.append(f"{student} {name}: expected ok={ok}, got {row['message'][:300]}")
    assert not wrong, "\n".join(wrong)
    assert len(rows) == len(expected) * (len(CATALOG) + 3)


def test_messages_name_what_happened(graded):
    got = {(r["student"].lstrip("'"), r["exercise"]): r["message"] for r in graded["results"]}
    assert "asks you to write reg_l1_loss yourself" in got["wrapper", "reg_l1_loss"]
    assert "asks you to write focal_loss yourself" in got["partial", "focal_loss"]
    assert "asks you to write heatmap_nms yourself" in got["lambda_", "heatmap_nms"]
    assert "asks you to write CenterNetLoss yourself" in got["subclass", "CenterNetLoss"]
    assert "float32 where the inputs are float64" in got["float32_only", "focal_loss"]
    assert "did not finish within 20 s" in got["loops_forever", "heatmap_nms"]
    assert "raised KeyboardInterrupt" in got["interrupt", "focal_loss"]
    assert "message it did not ask for" in got["malformed", "heatmap_nms"]
    assert got["forge_fds", "focal_loss"].startswith("could not be loaded")
    assert "floored" in got["classic_rounded_offset", "encode_ctdet"]
    assert "far border" in got["classic_far_border", "draw_gaussian"]


def test_the_gradebook_holds_each_students_points(graded):
    expected, book = graded["expected"], graded["gradebook"]
    assert book[0] == ["student", *CATALOG, "total", "max_total"]
    rows = {r[0].lstrip("'"): r[1:] for r in book[1:]}
    assert set(rows) == set(expected)
    top = sum(POINTS.values())
    for student, verdicts in expected.items():
        points = [float(POINTS[e] * verdicts[e]) for e in CATALOG]
        assert [float(v) for v in rows[student]] == [*points, sum(points), top], student
    assert any(r[0] == "'=1+1" for r in book[1:])  # a formula-like id is written inert


def test_each_student_gets_feedback_and_a_gradescope_result(graded):
    out, expected = graded["out"], graded["expected"]
    for student, verdicts in expected.items():
        stem = student.replace("=", "_").replace("+", "_")
        result = json.loads((out / "gradescope" / stem / "results.json").read_text())
        tests = {t["name"]: t for t in result["tests"]}
        assert result["score"] == sum(POINTS[e] for e, ok in verdicts.items() if ok), student
        assert tests["reg_l1_loss (hidden 2)"]["visibility"] == "after_published"
        assert tests["focal_loss"]["visibility"] == "visible"
        assert sum(t["max_score"] for t in result["tests"]) == pytest.approx(sum(POINTS.values()))
        text = (out / "feedback" / f"{stem}.md").read_text()
        assert text.startswith(f"# The class of many tricks: feedback for {student}")


def test_a_vandal_reaches_the_originals_but_no_classmates_grade(graded):
    """The vandal finds the class folder and overwrites the originals; the grades above
    hold because every file was read before anyone was graded."""
    overwritten = [
        p.name
        for p in graded["folder"].rglob("*")
        if p.is_file() and "vandal" not in p.name and "return 0" in p.read_text(errors="replace")
    ]
    assert len(overwritten) > 10


def test_submissions_never_write_into_the_working_folder(graded):
    assert sorted(p.name for p in graded["work"].iterdir()) == ["canary.py"]
    assert graded["canary"].read_text() == f"# {MARKER}\n"
