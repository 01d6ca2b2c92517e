"""fit(): learning, exact resume, checkpoints, non-finite losses, DDP, the command line."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import default_collate

from centernet_edu.cli import main
from centernet_edu.train import (
    CheckpointError,
    CheckpointExistsError,
    NonFiniteGradientError,
    NonFiniteLossError,
    NonFiniteStateError,
    ResumeMismatchError,
    TrainConfig,
    TrainingInterrupted,
    fit,
    load_checkpoint,
    load_model,
    lr_factor,
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


def test_channels_last_trains_as_the_nchw_layout_does_up_to_rounding():
    nhwc = fit(tiny_model(), tiny_data(), tiny_config(steps=6))
    nchw = fit(tiny_model(), tiny_data(), tiny_config(steps=6, channels_last=False))
    assert nhwc.model.stem[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert not nchw.model.stem[0].weight.is_contiguous(memory_format=torch.channels_last)
    for a, b in zip(nhwc.history, nchw.history, strict=True):
        for k in TERMS:
            assert a[k] == pytest.approx(b[k], rel=1e-4), (a["step"], k)
    a, b = nhwc.model.state_dict(), nchw.model.state_dict()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-3, atol=1e-4, msg=k)


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
    cmd += ["-m", "centernet_edu.cli", "--steps", "3", "--out", str(out), "--threads", "1"]
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


def test_train_shapes_benchmark_runs_at_a_toy_size(tmp_path):
    out = tmp_path / "curve.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "train_shapes.py"), "--steps", "2"]
    cmd += ["--eval-every", "1", "--val-size", "2", "--image-size", "64", "--batch-size", "2"]
    cmd += ["--workers", "0", "--threads", "1", "--out", str(out)]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| gt_all | 1.000 | 1.000 | 1.000 |" in proc.stdout
    summary = json.loads(out.read_text())
    assert [p["step"] for p in summary["curve"]] == [1, 2]


def test_train_shapes_benchmark_stops_once_the_target_is_reached(tmp_path):
    out = tmp_path / "curve.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "train_shapes.py"), "--steps", "3"]
    cmd += ["--eval-every", "1", "--val-size", "2", "--image-size", "64", "--batch-size", "2"]
    cmd += ["--workers", "0", "--threads", "1", "--out", str(out), "--stop-at", "0"]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "stopped: held-out AP50 reached 0.0" in proc.stdout
    summary = json.loads(out.read_text())
    assert [p["step"] for p in summary["curve"]] == [1]  # AP50 >= 0 at the first evaluation
    assert summary["ap50_0.90_reached_at_s"] is None


# --------------------------------------------------------------------------- reliability


def _all_finite(state) -> list[str]:
    """The paths of every tensor in a nest of dicts and lists that holds a NaN or an inf."""
    bad = []

    def walk(obj, path):
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{path}/{k}")
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                walk(v, f"{path}/{i}")
        elif torch.is_tensor(obj) and obj.is_floating_point() and not torch.isfinite(obj).all():
            bad.append(path)

    walk(state, "")
    return bad


def test_an_existing_checkpoint_is_never_replaced_without_being_asked(tmp_path):
    ckpt = tmp_path / "run.pt"
    fit(tiny_model(), tiny_data(), tiny_config(steps=3, checkpoint=str(ckpt)))
    before = ckpt.read_bytes()
    with pytest.raises(CheckpointExistsError, match=r"run\.pt already exists \(step 3 of 6\).*resume=True.*overwrite=True"):  # fmt: skip
        fit(tiny_model(), tiny_data(), tiny_config(steps=6, checkpoint=str(ckpt)))
    assert ckpt.read_bytes() == before
    again = fit(tiny_model(seed=7), tiny_data(), tiny_config(steps=2, checkpoint=str(ckpt), overwrite=True))  # fmt: skip
    state = load_checkpoint(ckpt)
    assert state["step"] == 2 and state["config"]["overwrite"] is True
    _same_weights(again.model, load_model(ckpt))


def gradient_of(value: float) -> type[torch.autograd.Function]:
    """An autograd function: the identity forward, a gradient of ``value`` everywhere."""

    class ConstantGradient(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.view_as(x)

        @staticmethod
        def backward(ctx, grad):
            return torch.full_like(grad, value)

    return ConstantGradient


InfiniteGradient = gradient_of(math.inf)
HugeGradient = gradient_of(3e38)  # finite, but two of them overflow a float32 sum


class GradientPoisoned(nn.Module):
    """A finite loss whose gradient is infinite at the ``at``-th call."""

    def __init__(self, model, at):
        super().__init__()
        self.model, self.at, self.calls = model, at, 0

    def forward(self, x):
        self.calls += 1
        out = self.model(x)
        if self.calls == self.at:
            out["hm"] = InfiniteGradient.apply(out["hm"])
        return out


def test_a_huge_learning_rate_gives_finite_losses_and_non_finite_gradients(tmp_path):
    ckpt = tmp_path / "huge.pt"
    seen = []
    config = tiny_config(lr=1e10, warmup_steps=0, grad_clip=None, checkpoint=str(ckpt), checkpoint_every=1)  # fmt: skip
    with pytest.raises(NonFiniteGradientError, match=r"gradient of the loss became nan at step 2 of 12 \(first in '[\w.]+'\) while every loss term was finite.*not applied") as e:  # fmt: skip
        fit(tiny_model(), tiny_data(), config, callback=lambda step, s: seen.append(step))
    assert isinstance(e.value, NonFiniteLossError) and e.value.term == "loss"
    assert seen == [1]
    state = load_checkpoint(ckpt)
    assert state["step"] == 1 and _all_finite(state) == []


def test_no_kept_checkpoint_holds_a_non_finite_value(tmp_path):
    # lr 1e6: finite gradients, but step 2 overflows a BatchNorm running variance.
    ckpt = tmp_path / "state.pt"
    config = tiny_config(lr=1e6, warmup_steps=0, checkpoint=str(ckpt), checkpoint_every=1)
    with pytest.raises(NonFiniteStateError, match=r"after step 2 of 12 the buffer '[\w.]+running_var' holds inf.*step was applied.*no checkpoint was written") as e:  # fmt: skip
        fit(tiny_model(), tiny_data(), config)
    assert "running_var" in e.value.where
    state = load_checkpoint(ckpt)
    assert state["step"] == 1 and _all_finite(state) == []


class SpoiledBuffer(nn.Module):
    """Wraps a model and sets a buffer of its own to infinity at the ``at``-th call."""

    def __init__(self, model, at):
        super().__init__()
        self.model, self.at, self.calls = model, at, 0
        self.register_buffer("spoiled", torch.zeros(2))

    def forward(self, x):
        self.calls += 1
        if self.calls == self.at:
            self.spoiled.fill_(math.inf)
        return self.model(x)


@pytest.mark.parametrize(("at", "steps", "called"), [(2, 4, 2), (4, 4, 3)])
def test_the_state_check_names_the_step_that_spoiled_it_without_a_checkpoint(at, steps, called):
    # The state after a step is read with the next step's loss terms (after that step's
    # callback), or at the end of fit, before the last save and callback.
    seen = []
    model = SpoiledBuffer(tiny_model(), at)
    with pytest.raises(NonFiniteStateError, match=rf"after step {at} of {steps} the buffer 'spoiled' holds inf"):  # fmt: skip
        fit(model, tiny_data(), tiny_config(steps=steps), callback=lambda s, r: seen.append(s))
    assert seen == list(range(1, called + 1))


class Boosted(nn.Module):
    """A parameter whose gradient (about 1e23) is finite, but whose square is not."""

    def __init__(self, model):
        super().__init__()
        self.model, self.boost = model, nn.Parameter(torch.zeros(()))

    def forward(self, x):
        out = self.model(x)
        out["wh"] = out["wh"] + self.boost * 1e24
        return out


def test_an_overflowing_optimizer_state_stops_the_run_before_any_checkpoint(tmp_path):
    ckpt = tmp_path / "adam.pt"
    model = Boosted(tiny_model())
    with pytest.raises(NonFiniteStateError, match="optimizer exp_avg_sq of 'boost' holds inf"):
        fit(model, tiny_data(), tiny_config(grad_clip=None, checkpoint=str(ckpt)))
    assert not ckpt.exists()


class HugeButFinite(nn.Module):
    """A buffer and a gradient whose entries are finite, but whose sums overflow float32."""

    def __init__(self, model):
        super().__init__()
        self.model, self.big = model, nn.Parameter(torch.zeros(2))
        self.register_buffer("large", torch.full((2,), 3e38))

    def forward(self, x):
        out = self.model(x)
        out["wh"] = out["wh"] + 0 * HugeGradient.apply(self.big).sum()
        return out


def test_the_optimizer_updates_all_tensors_at_once_with_the_same_numbers(monkeypatch):
    # fit asks AdamW for its foreach form on a CPU; it must give the one-tensor-at-a-time
    # form's weights, bit for bit.
    import centernet_edu.train as train

    adamw, asked, results = torch.optim.AdamW, [], []
    for foreach in (True, False):

        def make(*args, _foreach=foreach, **kw):
            asked.append(kw["foreach"])
            return adamw(*args, **{**kw, "foreach": _foreach})

        monkeypatch.setattr(train.torch.optim, "AdamW", make)
        results.append(fit(tiny_model(), tiny_data(), tiny_config(steps=6)).model.state_dict())
    assert asked == [True, True]
    for k, v in results[0].items():
        assert torch.equal(v, results[1][k]), k


def test_sums_that_overflow_over_finite_entries_do_not_stop_a_run():
    # The checks sum each tensor; a sum of finite entries may overflow, which is not a NaN.
    model = HugeButFinite(tiny_model())
    result = fit(model, tiny_data(), tiny_config(steps=3))  # clipping tames the gradient
    assert result.step == 3 and torch.isfinite(model.large).all()


def test_the_gradient_check_stops_a_float32_run(tmp_path):
    ckpt = tmp_path / "g.pt"
    model = GradientPoisoned(tiny_model(), at=3)
    with pytest.raises(NonFiniteGradientError, match=r"became (nan|inf) at step 3 of 12") as e:
        fit(model, tiny_data(), tiny_config(checkpoint=str(ckpt), checkpoint_every=1))
    assert e.value.parameter.startswith("model.")
    state = load_checkpoint(ckpt)
    assert state["step"] == 2
    for k, v in model.model.named_parameters():  # the update of step 3 was not applied
        assert torch.equal(v, state["model"]["model." + k])


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")
def test_under_fp16_the_scaler_skips_an_overflowing_step_without_stopping(monkeypatch, tmp_path):
    import centernet_edu.train as train

    # float16 autocast and its gradient scaler, on the CPU.
    monkeypatch.setattr(train, "autocast_dtype", lambda amp, device: torch.float16)
    model = GradientPoisoned(tiny_model(), at=3)
    weights = {}

    def keep(step, stats):
        weights[step] = [p.detach().clone() for p in model.parameters()]

    ckpt = tmp_path / "fp16.pt"
    result = fit(model, tiny_data(), tiny_config(steps=4, checkpoint=str(ckpt)), callback=keep)
    assert result.step == 4
    assert all(torch.equal(a, b) for a, b in zip(weights[2], weights[3], strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(weights[3], weights[4], strict=True))
    state = load_checkpoint(ckpt)
    assert state["scaler"]["scale"] < 2.0**16  # halved at each skipped step
    assert _all_finite(state) == []


def test_resume_refuses_other_settings_naming_each(tmp_path):
    ckpt = str(tmp_path / "lr.pt")
    fit(tiny_model(), tiny_data(), tiny_config(steps=3, checkpoint=ckpt))
    with pytest.raises(ResumeMismatchError, match=r"lr was 0\.003, now 0\.01; weight_decay was 0\.0001, now 0\.5") as e:  # fmt: skip
        fit(tiny_model(), tiny_data(), tiny_config(steps=6, lr=0.01, weight_decay=0.5, checkpoint=ckpt, resume=True))  # fmt: skip
    assert e.value.differences == {"lr": (0.003, 0.01), "weight_decay": (1e-4, 0.5)}
    assert load_checkpoint(ckpt)["config"]["lr"] == 0.003  # untouched


def test_resume_records_what_it_changed_and_when(tmp_path):
    ckpt = str(tmp_path / "more.pt")
    fit(tiny_model(), tiny_data(), tiny_config(steps=3, checkpoint=ckpt))
    fit(tiny_model(), tiny_data(), tiny_config(steps=5, checkpoint_every=2, checkpoint=ckpt, resume=True))  # fmt: skip
    state = load_checkpoint(ckpt)
    assert state["step"] == 5 and state["config"]["steps"] == 5
    assert state["config"]["checkpoint_every"] == 2 and state["config"]["resume"] is True
    assert state["resumes"] == [{"step": 3, "changed": {"steps": [3, 5], "checkpoint_every": [3, 2]}}]  # fmt: skip


def test_resume_names_a_different_model_or_data_instead_of_a_size_mismatch(tmp_path):
    from centernet_edu.model import CenterNetLite

    ckpt = str(tmp_path / "shape.pt")
    fit(tiny_model(), tiny_data(), tiny_config(steps=3, checkpoint=ckpt))
    wider = CenterNetLite(2, channels=(8, 8, 16, 32), head_channels=16)
    with pytest.raises(ResumeMismatchError, match=r"channels was \(8, 8, 16, 16\), now \(8, 8, 16, 32\); head_channels was 8, now 16"):  # fmt: skip
        fit(wider, tiny_data(), tiny_config(steps=6, checkpoint=ckpt, resume=True))
    from centernet_edu.data import ShapesDataset

    bigger = ShapesDataset(20, 96, shapes=("circle", "square"), size_range=(6.0, 24.0))
    with pytest.raises(ResumeMismatchError, match=r"image_size was \[64, 64\], now \[96, 96\]"):
        fit(tiny_model(), bigger, tiny_config(steps=6, checkpoint=ckpt, resume=True))
    others = ShapesDataset(20, 64, shapes=("circle", "diamond"), size_range=(6.0, 24.0))
    with pytest.raises(ResumeMismatchError, match=r"categories was \['circle', 'square'\]"):
        fit(tiny_model(), others, tiny_config(steps=6, checkpoint=ckpt, resume=True))


def test_an_impossible_checkpoint_path_is_found_before_the_first_step(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    steps = []
    with pytest.raises(CheckpointError, match=r"a_file/run/c\.pt cannot be written"):
        fit(tiny_model(), tiny_data(), tiny_config(checkpoint=str(blocker / "run" / "c.pt")), callback=lambda s, _: steps.append(s))  # fmt: skip
    assert steps == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_found_before_the_first_step(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(CheckpointError, match="cannot be written.*Permission denied"):
            fit(tiny_model(), tiny_data(), tiny_config(checkpoint=str(folder / "c.pt")))
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_ctrl_c_saves_the_current_step_and_the_run_resumes_exactly(tmp_path, signum):
    steps = 8
    reference = fit(tiny_model(), tiny_data(), tiny_config(steps=steps))
    ckpt = tmp_path / "ctrl_c.pt"
    before = signal.getsignal(signum)

    def press_ctrl_c(step, stats):
        if step == 5:  # checkpoints fall on steps 3 and 6: step 5 is saved only by Ctrl-C
            os.kill(os.getpid(), signum)

    how = "interrupted" if signum == signal.SIGINT else "stopped by SIGTERM"
    with pytest.raises(TrainingInterrupted, match=f"^training {how} after step 5 of 8.*resume=True") as e:  # fmt: skip
        fit(tiny_model(), tiny_data(), tiny_config(steps=steps, checkpoint=str(ckpt)), callback=press_ctrl_c)  # fmt: skip
    assert isinstance(e.value, KeyboardInterrupt) and e.value.result.step == 5
    assert e.value.signum == signum
    assert load_checkpoint(ckpt)["step"] == 5
    assert signal.getsignal(signum) is before  # put back
    resumed = fit(tiny_model(seed=3), tiny_data(), tiny_config(steps=steps, checkpoint=str(ckpt), resume=True))  # fmt: skip
    _same_weights(resumed.model, reference.model)


def test_each_epoch_is_read_in_the_order_distributed_sampler_gives():
    """The batch order every run has read: DistributedSampler's, drawn an epoch at a time."""
    from torch.utils.data import DistributedSampler

    from centernet_edu.train import StepBatchSampler

    for n, world, batch, seed in [(20, 1, 4, 0), (4800, 1, 8, 0), (101, 3, 4, 7), (7, 2, 1, 1)]:
        for rank in range(world):
            sampler = StepBatchSampler(range(n), batch, seed, rank, world, start=2)
            reference = DistributedSampler(range(n), world, rank, seed=seed, drop_last=True)
            expected = []
            for epoch in range(3):
                reference.set_epoch(epoch)
                order = list(reference)
                expected += [order[j : j + batch] for j in range(0, len(order) - batch + 1, batch)]
            batches = iter(sampler)
            assert [next(batches) for _ in expected[2:]] == expected[2:]


def test_a_write_killed_midway_leaves_a_temporary_file_the_next_run_removes(tmp_path):
    ckpt = tmp_path / "killed.pt"
    fit(tiny_model(), tiny_data(), tiny_config(steps=3, checkpoint=str(ckpt)))
    before = ckpt.read_bytes()
    script = (
        "import os, signal, sys, torch\n"
        "from centernet_edu.train import save_checkpoint\n"
        "def half(obj, f):\n"
        "    f.write(b'half a checkpoint'); f.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
        "torch.save = half\n"
        "save_checkpoint(sys.argv[1], {'step': 99})\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(ckpt)], env=_env(), timeout=120)
    assert proc.returncode == -9
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "killed.pt")
    assert len(left) == 1 and re.fullmatch(r"killed\.pt\.[a-z0-9_]{8}\.tmp", left[0])
    assert ckpt.read_bytes() == before  # the old checkpoint is intact
    others = ["killed.pt.notes.tmp", "killed.pt.bak", "other.pt.abcdefgh.tmp"]
    for name in others:
        (tmp_path / name).write_text("not ours")
    fit(tiny_model(), tiny_data(), tiny_config(steps=4, checkpoint=str(ckpt), resume=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["killed.pt", *others])


def test_checkpoints_in_the_older_form_still_load_and_resume(tmp_path):
    ckpt = tmp_path / "old.pt"
    fit(tiny_model(), tiny_data(), tiny_config(steps=3, checkpoint=str(ckpt)))
    state = load_checkpoint(ckpt)
    # Before CenterNetLiteConfig: a plain dict, a setup with batch_size and seed, no resumes.
    state["model_config"] = {"num_classes": 2, "channels": (8, 8, 16, 16), "head_channels": 8, "extreme": False}  # fmt: skip
    state["setup"] = {"batch_size": 4, "seed": 0, "world_size": 1, "dataset_len": 20}
    del state["resumes"], state["config"]["overwrite"]
    state.pop("format")
    save_checkpoint(ckpt, state)
    model = load_model(ckpt)
    assert model.config.channels == (8, 8, 16, 16) and model.config.head_channels == 8
    resumed = fit(tiny_model(), tiny_data(), tiny_config(steps=5, checkpoint=str(ckpt), resume=True))  # fmt: skip
    assert resumed.step == 5 and load_checkpoint(ckpt)["resumes"][0]["step"] == 3
