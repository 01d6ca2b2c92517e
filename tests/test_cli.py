"""The command line: options from the settings, exit statuses, one error line, runs kept."""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import centernet_edu.cli as cli
from centernet_edu.cli import CliConfig, build_parser, main
from centernet_edu.train import TrainConfig, load_checkpoint, save_checkpoint
from centernet_edu.train_config import fast_recipe

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "--image-size", "64", "--batch-size", "2", "--train-size", "8", "--val-size", "2",
    "--channels", "8", "8", "16", "16", "--head-channels", "8", "--shapes", "circle", "square",
    "--device", "cpu", "--workers", "0", "--no-progress", "--checkpoint-every", "2",
]  # fmt: skip


# TINY without --train-size: the training set takes its default size.
DEFAULT_SIZE = [a for i, a in enumerate(TINY) if "--train-size" not in TINY[i - 1 : i + 1]]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([*TINY, *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_running_twice_on_one_folder_keeps_the_finished_checkpoint(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert run(capsys, "--steps", "3", "--out", out)[0] == 0
    ckpt = Path(out) / "checkpoint.pt"
    finished = ckpt.read_bytes()
    code, _, err = run(capsys, "--steps", "3", "--out", out)  # the same command again
    assert code == 1
    line = one_error_line(err)
    assert "already holds a run (step 3)" in line
    assert "--resume" in line and "--overwrite" in line
    assert ckpt.read_bytes() == finished
    assert load_checkpoint(ckpt)["step"] == 3


def test_overwrite_starts_afresh(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert run(capsys, "--steps", "3", "--out", out)[0] == 0
    assert run(capsys, "--steps", "2", "--out", out, "--overwrite")[0] == 0
    assert load_checkpoint(Path(out) / "checkpoint.pt")["step"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grad-clip", "-1"], r"--grad-clip must be >= 0 \(0 turns clipping off\), got -1\.0"),
        (["--threads", "0"], "--threads must be a positive integer, got 0"),
        (["--image-size", "24"], "--image-size must be a multiple of 16 .*at least 16, got 24"),
        (["--resume", "--overwrite"], "--resume and --overwrite exclude each other"),
        (["--steps", "two"], "argument --steps: invalid int value: 'two'"),
    ],
)
def test_usage_errors_are_one_line_and_status_2(tmp_path, capsys, args, message):
    code, _, err = run(capsys, "--out", str(tmp_path / "u"), *args)
    assert code == 2
    assert re.search(message, one_error_line(err))
    assert not (tmp_path / "u" / "checkpoint.pt").exists()


def test_grad_clip_zero_turns_clipping_off(tmp_path, capsys):
    out = tmp_path / "noclip"
    assert run(capsys, "--steps", "1", "--grad-clip", "0", "--out", str(out))[0] == 0
    assert load_checkpoint(out / "checkpoint.pt")["config"]["grad_clip"] is None


@pytest.mark.parametrize("size", ["16", "32"])
def test_images_below_64_train_and_evaluate(tmp_path, capsys, size):
    code, out, err = run(capsys, "--steps", "2", "--image-size", size, "--out", str(tmp_path))
    assert code == 0, err
    assert "trained 2 steps" in out and "held-out (2 images): AP" in out
    assert load_checkpoint(tmp_path / "checkpoint.pt")["setup"]["image_size"] == [int(size)] * 2


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--lr", "0.01"], "--lr: 0.008 in the checkpoint, 0.01 now"),
        (["--objects", "1", "6"], "--objects: [6, 16] in the checkpoint, [1, 6] now"),
        (["--image-size", "32"], "--image-size: [64, 64] in the checkpoint, [32, 32] now"),
        (["--channels", "8", "8", "16", "24"], "--channels: (8, 8, 16, 16) in the checkpoint"),
        (["--head-channels", "4"], "--head-channels: 8 in the checkpoint, 4 now"),
        (["--shapes", "circle", "diamond"], "the classes (--shapes, or the COCO categories)"),
        (["--shapes", "circle"], "the number of classes"),
    ],
)
def test_resume_with_other_options_names_them(tmp_path, capsys, args, named):
    out = str(tmp_path / "run")
    assert run(capsys, "--steps", "2", "--out", out)[0] == 0
    code, _, err = run(capsys, "--steps", "4", "--out", out, "--resume", *args)
    assert code == 1
    line = one_error_line(err)
    assert named in line and "cannot resume" in line and "--overwrite" in line
    assert load_checkpoint(Path(out) / "checkpoint.pt")["step"] == 2


def test_known_failures_are_one_line_and_status_1(tmp_path, capsys):
    # A learning rate this large makes the gradient NaN while the loss is still finite.
    code, _, err = run(capsys, "--lr", "1e10", "--warmup-steps", "0", "--out", str(tmp_path / "a"))
    assert code == 1 and "gradient of the loss became nan at step 2" in one_error_line(err)
    bad = tmp_path / "b"
    bad.mkdir()
    (bad / "checkpoint.pt").write_bytes(b"not a checkpoint")
    code, _, err = run(capsys, "--steps", "2", "--out", str(bad), "--resume")
    assert code == 1 and "cannot be read" in one_error_line(err)
    code, _, err = run(capsys, "--coco", str(tmp_path / "none.json"), "--out", str(tmp_path / "c"))
    assert code == 1 and "none.json does not exist" in one_error_line(err)


def test_ctrl_c_saves_says_how_to_resume_and_exits_130(tmp_path, capsys, monkeypatch):
    def fit_pressing_ctrl_c(model, data, config):
        def press(step, stats):
            if step == 3:
                os.kill(os.getpid(), signal.SIGINT)

        return real_fit(model, data, config, callback=press)

    real_fit = cli.fit
    monkeypatch.setattr(cli, "fit", fit_pressing_ctrl_c)
    out = tmp_path / "run"
    code, _, err = run(capsys, "--steps", "6", "--out", str(out))
    assert code == 130
    assert f"interrupted after step 3; checkpoint {out / 'checkpoint.pt'} holds it" in err
    command = shlex.split(err.split("resume with: ")[1])
    assert command[1:3] == ["-m", "centernet_edu.cli"] and command[-1] == "--resume"
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 3

    monkeypatch.setattr(cli, "fit", real_fit)
    assert main(command[3:]) == 0
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 6


def test_ctrl_c_at_a_terminal_stops_a_real_run(tmp_path):
    """SIGINT to the whole process group, data worker included, as a terminal sends it."""
    out = tmp_path / "run"
    args = [*TINY, "--workers", "1", "--checkpoint-every", "1", "--steps", "100000"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))  # fmt: skip
    cmd = [sys.executable, "-m", "centernet_edu.cli", *args, "--out", str(out)]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "resume with:" in err
    step = int(err.split("interrupted after step ")[1].split(";")[0])
    assert load_checkpoint(out / "checkpoint.pt")["step"] == step


# In a subprocess: the command line, whose fit waits at step 5 until the SIGTERM the test
# sends (after the periodic checkpoint of step 3) has been handled.
STOP_AT_STEP_5 = """
import signal, sys, time
from pathlib import Path
import centernet_edu.cli as cli

real_fit = cli.fit

def wait_for_sigterm(step, stats):
    if step != 5:
        return
    handled, handler = [], signal.getsignal(signal.SIGTERM)
    def note(signum, frame):
        handled.append(signum)
        handler(signum, frame)
    signal.signal(signal.SIGTERM, note)
    Path(sys.argv[1]).touch()
    while not handled:
        time.sleep(0.01)

cli.fit = lambda model, data, config: real_fit(model, data, config, callback=wait_for_sigterm)
sys.exit(cli.main(sys.argv[2:]))
"""


def test_sigterm_saves_the_current_step_says_how_to_resume_and_exits_143(tmp_path, capsys):
    out, ready = tmp_path / "run", tmp_path / "at_step_5"
    ckpt = out / "checkpoint.pt"
    args = [*TINY, "--workers", "1", "--checkpoint-every", "3", "--steps", "8", "--out", str(out)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))  # fmt: skip
    cmd = [sys.executable, "-c", STOP_AT_STEP_5, str(ready), *args]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGTERM)  # the whole group, the data worker included
        _, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert f"centernet-edu-train: stopped by SIGTERM after step 5; checkpoint {ckpt} holds it\n" in err  # fmt: skip
    command = shlex.split(err.split("resume with: ")[1])
    assert command[1:3] == ["-m", "centernet_edu.cli"] and command[-1] == "--resume"
    assert load_checkpoint(ckpt)["step"] == 5  # the periodic checkpoint held step 3

    previous = signal.getsignal(signal.SIGTERM)
    assert main(command[3:]) == 0
    assert signal.getsignal(signal.SIGTERM) is previous  # put back after the run
    assert load_checkpoint(ckpt)["step"] == 8
    assert "trained 8 steps" in capsys.readouterr().out


def test_resume_with_more_steps_keeps_the_training_set_it_started_with(tmp_path, capsys):
    out = str(tmp_path / "run")
    ckpt = Path(out) / "checkpoint.pt"
    assert main([*DEFAULT_SIZE, "--steps", "2", "--out", out]) == 0
    assert load_checkpoint(ckpt)["setup"]["dataset_len"] == 2 * 2  # steps x batch size
    assert main([*DEFAULT_SIZE, "--steps", "5", "--out", out, "--resume"]) == 0
    state = load_checkpoint(ckpt)
    assert state["step"] == 5 and state["setup"]["dataset_len"] == 4
    assert state["resumes"] == [{"step": 2, "changed": {"steps": [2, 5]}}]
    capsys.readouterr()
    # Another size, asked for explicitly, is still refused.
    code = main([*DEFAULT_SIZE, "--steps", "6", "--out", out, "--resume", "--train-size", "8"])
    assert code == 1
    assert one_error_line(capsys.readouterr().err) == (
        f"centernet-edu-train: error: cannot resume {ckpt}: the number of training images "
        "(--train-size): 4 in the checkpoint, 8 now; resume with the options it was started "
        "with, or start afresh with --overwrite"
    )
    assert load_checkpoint(ckpt)["step"] == 5


def test_steps_past_the_largest_default_training_set_are_a_usage_error(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*DEFAULT_SIZE, "--steps", "100000000", "--out", str(out)]) == 2
    assert one_error_line(capsys.readouterr().err) == (
        "centernet-edu-train: error: --steps 100000000 would train on 200000000 shapes images "
        "(by default one new image for each image read: steps x batch size x processes), more "
        "than 16777216; give fewer --steps, or a --train-size of at most 16777216 (the images "
        "then repeat)"
    )
    assert not (out / "checkpoint.pt").exists()
    # With a training set of its own size, such a run is accepted; its order is drawn an
    # epoch at a time.
    parser = build_parser()
    args = parser.parse_args([*DEFAULT_SIZE, "--steps", "100000000", "--train-size", "1000"])
    settings, config = cli._settings(parser, args)
    assert (config.steps, settings.train_size) == (100_000_000, 1000)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077, 0o002])
def test_checkpoints_get_the_mode_of_a_new_file(tmp_path, umask):
    before = os.umask(umask)
    try:
        save_checkpoint(tmp_path / "c.pt", {"step": 1})
        save_checkpoint(tmp_path / "c.pt", {"step": 2})  # replaced, still atomically
    finally:
        os.umask(before)
    assert (tmp_path / "c.pt").stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left
    assert load_checkpoint(tmp_path / "c.pt")["step"] == 2


def test_every_setting_is_an_option_with_its_help_text():
    text = " ".join(build_parser().format_help().split())
    for cls in (TrainConfig, CliConfig):
        for f in dataclasses.fields(cls):
            if f.metadata.get("cli", True) is False:
                assert f.name == "checkpoint"  # made from --out
                continue
            helped = " ".join(f.metadata["help"].split())
            if f.default is True:
                flag, helped = "--no-" + f.name.replace("_", "-"), f"do not {helped}"
            else:
                flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
            assert f"{flag} " in text and helped in text, f.name


def test_settings_from_the_command_line_reach_fit(tmp_path):
    parser = build_parser()
    args = parser.parse_args(["--lr", "0.01", "--hm-weight", "2", "--out", str(tmp_path)])
    settings, config = cli._settings(parser, args)
    assert config.lr == 0.01 and config.hm_weight == 2.0
    assert config.checkpoint == str(tmp_path / "checkpoint.pt")
    assert settings.channels == (16, 32, 64, 96)  # CenterNetLiteConfig's default
    assert config.num_workers == min(4, max(0, (os.cpu_count() or 1) - 1))


def test_the_default_run_is_the_shapes_schedule_on_crowded_mirrored_scenes(tmp_path):
    parser = build_parser()
    settings, config = cli._settings(parser, parser.parse_args(["--out", str(tmp_path)]))
    # The command line's run is fast_recipe's, not fit's.
    assert config == fast_recipe(num_workers=config.num_workers, checkpoint=config.checkpoint)
    assert fast_recipe() != TrainConfig()
    train, held_out = cli._data(settings, config)
    assert len(train) == 600 * 8 and (train.objects, train.views) == ((6, 16), 4)
    # The held-out images are the data set's own: 1 to 6 objects, no mirrors.
    assert (held_out.objects, held_out.views, held_out.seed) == ((1, 6), 1, 1_000_003)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--objects", "5", "2"], "--objects must be MIN MAX with MIN <= MAX, got 5 2"),
        (["--objects", "-1", "2"], "--objects must be a non-negative integer, got -1"),
        (["--views", "3"], "argument --views: invalid choice: 3"),
    ],
)
def test_bad_data_options_are_usage_errors(capsys, args, message):
    assert main([*args]) == 2
    assert message in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "--overwrite" in capsys.readouterr().out


def test_the_module_runs_as_a_script():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "centernet_edu.cli", "--threads", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "--threads must be a positive integer" in proc.stderr


def test_build_gives_what_the_command_line_trains_and_scores():
    settings, config = CliConfig(val_size=4), TrainConfig(steps=2, batch_size=2, seed=3)
    model, train, val = cli.build(settings, config)
    again, _, _ = cli.build(settings, config)
    assert type(model).__name__ == "CenterNetLite" and model.num_classes == train.num_classes
    assert len(val) == 4 and len(train) >= config.steps * config.batch_size
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        assert a.equal(b)  # drawn after torch.manual_seed(config.seed)
    assert cli.build(CliConfig(val_size=0), config)[2] is None
