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
    # The step is the package's own train_step, its forward pass and loss timed apart.
    for phase in ("render", "collate + targets", "forward", "loss", "backward, checks, update"):
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


def test_size_weight_seeds_records_every_weight_at_every_seed(tmp_path):
    out = tmp_path / "seeds.json"
    args = ["--steps", "3", "--seeds", "0", "1", "--wh-weights", "0.1", "1"]
    args += ["--train-size", "16", "--val-size", "8", "--probe-size", "4"]
    args += ["--probe-steps", "1", "3", "--last", "2", "--batch-size", "4", "--out", str(out)]
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "size_weight_seeds.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    record = json.loads(out.read_text())
    assert sorted((r["wh_weight"], r["seed"]) for r in record["runs"]) == [
        (0.1, 0),
        (0.1, 1),
        (1.0, 0),
        (1.0, 1),
    ]
    assert all({"final", "AP50", "probes"} <= set(r) for r in record["runs"])


def test_the_extreme_point_schedule_trains_saves_and_records(tmp_path):
    out, weights = tmp_path / "exdet.json", tmp_path / "exdet.pt"
    args = ["--steps", "4", "--eval-every", "2", "--val-size", "16", "--batch-size", "4"]
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "train_shapes_exdet.py"), *args, "--out", str(out)]
        + ["--save-model", str(weights)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    record = json.loads(out.read_text())
    assert [c["step"] for c in record["curve"]][-1] == 4 and "AP50" in record["curve"][-1]
    from centernet_edu.checkpoint import load_model

    assert load_model(weights).extreme
