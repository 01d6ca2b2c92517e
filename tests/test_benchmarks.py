"""The benchmark scripts still run (at toy sizes) and still find both versions equal."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


@pytest.mark.parametrize(
    ("script", "args", "expect"),
    [
        (
            "bench_encode.py",
            ["--batch", "2", "--objects", "5", "--size", "24"],
            "identical outputs: True",
        ),
        ("bench_focal.py", ["--shape", "2,3,16,16", "--resident", "0"], "memory ratio"),
        (
            "bench_decode.py",
            ["--batch", "1", "--classes", "3", "--size", "24", "--k", "5"],
            "same detections: True",
        ),
        (
            "bench_train_step.py",
            ["--batch", "2", "--size", "64"],
            "identical targets: True",
        ),
    ],
)
def test_benchmark_runs(script, args, expect):
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--repeats", "2", "--warmup", "0", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert expect in out.stdout
    assert "time ratio" in out.stdout


def test_training_profile_runs_and_accounts_for_every_phase():
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / "profile_train.py"), "--steps", "2", "--batch-size", "2"]
        + ["--image-size", "64", "--val-size", "4", "--threads", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    phases = ("render", "collate + targets", "forward", "loss", "backward", "checks", "clip")
    for phase in (*phases, "optimizer"):
        assert f"| {phase} |" in out.stdout
    assert "scoring 4 held-out images" in out.stdout


def test_loss_weight_runs_records_every_curve_at_every_weight(tmp_path):
    from centernet_edu.widgets import loss_weights_explorer

    out = tmp_path / "runs.json"
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "loss_weight_runs.py"), "--steps", "4", "--every", "2"]
        + ["--eval-every", "4", "--val-size", "4", "--image-size", "64", "--batch-size", "2"]
        + ["--workers", "0", "--threads", "1", "--wh-weights", "0.1", "1", "--off-weights", "1"]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert f"wrote {out}" in run.stdout
    record = json.loads(out.read_text())
    assert record["settings"]["steps"] == 4
    runs = record["runs"]
    assert [(r["wh_weight"], r["off_weight"]) for r in runs] == [(0.1, 1.0), (1.0, 1.0)]
    for r in runs:
        assert r["step"] == [2, 4] and [p["step"] for p in r["eval"]] == [4]
        terms = zip(r["hm_loss"], r["wh_loss"], r["off_loss"], strict=True)
        weighted = [hm + r["wh_weight"] * wh + off for hm, wh, off in terms]
        assert r["loss"] == pytest.approx(weighted, abs=1e-4)
    e = loss_weights_explorer(record, wh_weight=1.0, step=2)
    assert e.numbers["wh_loss"] == runs[1]["wh_loss"][0]
