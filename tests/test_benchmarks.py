"""The benchmark scripts still run (at toy sizes) and still find both versions equal."""

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
    for phase in ("render", "collate + targets", "forward", "loss", "backward", "optimizer"):
        assert f"| {phase} |" in out.stdout
    assert "scoring 4 held-out images" in out.stdout
