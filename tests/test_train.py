"""fit(): learning, exact resume, checkpoints, non-finite losses, DDP, the command line."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import default_collate

from centernet_edu.train import (
    CheckpointError,
    NonFiniteLossError,
    TrainConfig,
    fit,
    load_checkpoint,
    load_model,
    lr_factor,
    main,
    save_checkpoint,
)

sys.path.insert(0, str(Path(__file__).parent))
from tiny_run import tiny_config, tiny_data, tiny_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TERMS = ("hm_loss", "wh_loss", "off_loss", "loss")


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def _losses(model, batch) -> dict:
    from centernet_edu import CenterNetLoss

    with torch.no_grad():
        _, stats = CenterNetLoss()(model(batch["image"]), batch)
    return {k: float(v) for k, v in stats.items()}


def test_a_short_run_lowers_every_loss_term():
    data = tiny_data(16)
    batch = default_collate([data[i] for i in range(16)])
    model = tiny_model()
    model.train()  # batch statistics, as in training
    before = _losses(model, batch)
    result = fit(model, data, tiny_config(steps=60, lr=5e-3, checkpoint_every=100))
    after = _losses(result.model, batch)
    for term in TERMS:
        assert after[term] < 0.8 * before[term], (term, before[term], after[term])
    assert [r["step"] for r in result.history] == list(range(1, 61))
    assert result.step == 60


def test_an_extreme_point_model_trains_with_its_own_loss():
    from centernet_edu.data import ShapesDataset
    from centernet_edu.model import CenterNetLite

    data = ShapesDataset(8, 64, shapes=("circle", "square"), size_range=(8.0, 24.0), extreme=True)
    torch.manual_seed(0)
    model = CenterNetLite(2, channels=(8, 8, 16, 16), head_channels=8, extreme=True)
    result = fit(model, data, tiny_config(steps=12, lr=5e-3))
    first, last = result.history[0], result.history[-1]
    assert set(first) >= {"hm_loss", "off_loss", "loss"} and "wh_loss" not in first
    assert last["hm_loss"] < first["hm_loss"]


def _same_weights(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_a_killed_and_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path):
    steps = 12  # 5 steps an epoch: the kill and the resume fall mid-epoch
    reference = fit(tiny_model(), tiny_data(), tiny_config(steps=steps))

    ckpt = tmp_path / "run.pt"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "tiny_run.py"), str(ckpt), str(steps), "8"]
        + [str(torch.get_num_threads())],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -9, proc.stderr  # killed by SIGKILL after step 8
    assert load_checkpoint(ckpt)["step"] == 6  # the last checkpoint before the kill

    # A fresh model with other weights: everything must come from the checkpoint.
    resumed = fit(
        tiny_model(seed=123),
        tiny_data(),
        tiny_config(steps=steps, checkpoint=str(ckpt), resume=True),
    )
    assert [r["step"] for r in resumed.history] == list(range(1, steps + 1))
    _same_weights(resumed.model, reference.model)
    for a, b in zip(resumed.history, reference.history, strict=True):
        assert {k: a[k] for k in TERMS} == {k: b[k] for k in TERMS}


def test_targets_encoded_per_batch_train_exactly_as_targets_encoded_per_item():
    per_item = fit(tiny_model(), tiny_data(), tiny_config(steps=6))
    per_batch = fit(tiny_model(), tiny_data(targets=False), tiny_config(steps=6))
    _same_weights(per_batch.model, per_item.model)
    for a, b in zip(per_batch.history, per_item.history, strict=True):
        assert {k: a[k] for k in TERMS} == {k: b[k] for k in TERMS}


def test_resume_of_a_finished_run_changes_nothing(tmp_path):
    ckpt = str(tmp_path / "done.pt")
    first = fit(tiny_model(), tiny_data(), tiny_config(steps=4, checkpoint=ckpt))
    again = fit(tiny_model(seed=5), tiny_data(), tiny_config(steps=4, checkpoint=ckpt, resume=True))
    _same_weights(first.model, again.model)
    assert again.step == 4


def test_resume_refuses_a_different_set_up(tmp_path):
    ckpt = str(tmp_path / "a.pt")
    fit(tiny_model(), tiny_data(), tiny_config(steps=3, checkpoint=ckpt))
    with pytest.raises(ValueError, match="different set-up.*batch_size"):
        fit(
            tiny_model(),
            tiny_data(),
            tiny_config(steps=6, batch_size=2, checkpoint=ckpt, resume=True),
        )


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    path = tmp_path / "ckpt.pt"
    fit(tiny_model(), tiny_data(), tiny_config(steps=3, checkpoint=str(path)))
    return path


def test_truncated_checkpoint_is_refused(checkpoint):
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(checkpoint)
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        fit(
            tiny_model(), tiny_data(), tiny_config(steps=6, checkpoint=str(checkpoint), resume=True)
        )


def test_corrupted_weights_are_refused(checkpoint):
    # Flip one byte inside a stored tensor: the file still unpacks, the digest catches it.
    with zipfile.ZipFile(checkpoint) as z:
        tensors = [i for i in z.infolist() if "/data/" in i.filename]
    info = max(tensors, key=lambda i: i.file_size)
    raw = bytearray(checkpoint.read_bytes())
    # The local header is 30 bytes plus the name and extra field; the data follows.
    name_len = int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little")
    pos = info.header_offset + 30 + name_len + extra_len + info.file_size // 2
    raw[pos] ^= 0xFF
    checkpoint.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(checkpoint)


def test_other_files_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(junk)
    foreign = tmp_path / "foreign.pt"
    torch.save({"model": {"w": torch.zeros(2)}}, foreign)
    with pytest.raises(CheckpointError, match="not a centernet_edu checkpoint"):
        load_checkpoint(foreign)


def test_a_crash_while_writing_keeps_the_previous_checkpoint(checkpoint, monkeypatch):
    before = checkpoint.read_bytes()

    def failing_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(checkpoint, {"step": 99})
    assert checkpoint.read_bytes() == before
    assert load_checkpoint(checkpoint)["step"] == 3
    assert sorted(p.name for p in checkpoint.parent.iterdir()) == ["ckpt.pt"]


def test_load_model_restores_the_trained_network(checkpoint):
    model = load_model(checkpoint)
    state = load_checkpoint(checkpoint)
    assert not model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, state["model"][k])


class Poisoned(nn.Module):
    """Wraps a model and spoils one output from its ``at``-th call on."""

    def __init__(self, model, key, value, at):
        super().__init__()
        self.model, self.key, self.value, self.at, self.calls = model, key, value, at, 0

    def forward(self, x):
        self.calls += 1
        out = self.model(x)
        if self.calls >= self.at:
            out[self.key] = out[self.key] + self.value
        return out


@pytest.mark.parametrize(
    ("key", "value", "term"),
    [("wh", math.nan, "wh_loss"), ("reg", math.inf, "off_loss"), ("hm", math.nan, "hm_loss")],
)
def test_non_finite_loss_stops_naming_step_and_term(tmp_path, key, value, term):
    ckpt = tmp_path / "c.pt"
    model = Poisoned(tiny_model(), key, value, at=3)
    with pytest.raises(
        NonFiniteLossError, match=rf"'{term}' became (nan|inf) at step 3 of 12"
    ) as e:
        fit(model, tiny_data(), tiny_config(checkpoint=str(ckpt), checkpoint_every=1))
    assert e.value.step == 3 and e.value.term == term
    # The bad step's update was never applied: the weights are those of step 2.
    state = load_checkpoint(ckpt)
    assert state["step"] == 2
    for k, v in model.model.named_parameters():
        assert torch.equal(v, state["model"]["model." + k])


def test_learning_rate_schedule():
    f = [lr_factor(s, 100, 10, 0.01) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(f[9:], f[10:], strict=False))
    assert f[-1] == pytest.approx(0.01, abs=0.002)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": 0}, "steps must be a positive integer"),
        ({"lr": -1.0}, "lr must be"),
        ({"amp": "fp8"}, "amp must be"),
        ({"resume": True}, "resume=True needs a checkpoint"),
        ({"grad_clip": 0.0}, "grad_clip"),
    ],
)
def test_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(tiny_model(), tiny_data(), TrainConfig(**kwargs))


def test_fp16_needs_cuda():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available")
    with pytest.raises(ValueError, match="fp16.*needs a CUDA device"):
        fit(tiny_model(), tiny_data(), tiny_config(amp="fp16"))


def test_data_set_smaller_than_a_batch():
    with pytest.raises(ValueError, match="smaller than one batch"):
        fit(tiny_model(), tiny_data(3), tiny_config(batch_size=4))


TINY_CLI = [
    "--image-size", "64", "--batch-size", "4", "--train-size", "16", "--val-size", "4",
    "--channels", "8", "8", "16", "16", "--head-channels", "8", "--shapes", "circle", "square",
    "--device", "cpu", "--checkpoint-every", "2",
]  # fmt: skip


def test_command_line_trains_resumes_and_evaluates(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["--steps", "2", "--out", out, *TINY_CLI]) == 0
    text = capsys.readouterr()
    assert "trained 2 steps" in text.out and "held-out (4 images): AP" in text.out
    assert "train" in text.err  # the progress bar
    assert main(["--steps", "4", "--out", out, "--resume", "--no-progress", *TINY_CLI]) == 0
    assert "trained 4 steps" in capsys.readouterr().out
    state = load_checkpoint(Path(out) / "checkpoint.pt")
    assert state["step"] == 4 and len(state["history"]) == 4


def test_two_processes_train_with_gloo(tmp_path):
    """torchrun, two CPU processes, DistributedDataParallel over gloo."""
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    cmd += ["-m", "centernet_edu.train", "--steps", "3", "--out", str(out), "--threads", "1"]
    cmd += ["--no-progress", *TINY_CLI]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("trained 3 steps") == 1  # rank 0 reports
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["setup"]["world_size"] == 2 and state["step"] == 3
    assert all(math.isfinite(r["loss"]) for r in state["history"])
    initial = tiny_model()
    initial.load_state_dict(state["model"])  # the same architecture ...
    fresh = dict(_fresh_cli_model().state_dict())
    changed = [k for k, v in state["model"].items() if not torch.equal(v, fresh[k])]
    assert changed  # ... with trained weights


def _fresh_cli_model():
    from centernet_edu.model import CenterNetLite

    torch.manual_seed(0)
    return CenterNetLite(2, channels=(8, 8, 16, 16), head_channels=8)


def test_gpu_check_script_runs_its_cpu_fallback():
    if torch.cuda.is_available():
        pytest.skip("the CUDA path is the real check; run the script by hand")
    cmd = [sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--max-steps", "2"]
    cmd += ["--batch-size", "2", "--image-size", "64", "--val-size", "2"]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for line in ("CPU fallback", "steps/s:", "peak GPU memory: n/a", "held-out mAP"):
        assert line in proc.stdout, proc.stdout
