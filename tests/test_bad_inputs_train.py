"""Bad input to training, checkpoints, the model and the command line: one table a kind.

Each case names the call, the exact error type (or, on the command line, the exit status)
and a pattern the message must match; every pattern names the argument or the item at
fault.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from centernet_edu.cli import main
from centernet_edu.model import CenterNetLite, CenterNetLiteConfig
from centernet_edu.train import (
    CheckpointError,
    CheckpointExistsError,
    ResumeMismatchError,
    TrainConfig,
    fit,
    load_checkpoint,
    load_model,
    save_checkpoint,
)

sys.path.insert(0, str(Path(__file__).parent))
from tiny_run import tiny_config, tiny_data, tiny_model  # noqa: E402

CUDA = torch.cuda.is_available()
NO_CUDA = pytest.mark.skipif(CUDA, reason="the case needs a machine without CUDA")
TINY = [
    "--image-size", "64", "--batch-size", "2", "--train-size", "8", "--val-size", "2",
    "--channels", "8", "8", "16", "16", "--head-channels", "8", "--shapes", "circle", "square",
    "--device", "cpu", "--workers", "0", "--no-progress", "--steps", "2",
]  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> SimpleNamespace:
    """Paths the cases use: finished runs of fit and of the command line, bad files."""
    root = tmp_path_factory.mktemp("bad")
    f = SimpleNamespace(root=root, done=root / "done.pt", cli=root / "cli")
    fit(tiny_model(), tiny_data(), tiny_config(steps=2, checkpoint=str(f.done)))
    assert main([*TINY, "--out", str(f.cli)]) == 0
    f.blocker = root / "a_file"
    f.blocker.write_text("a regular file, not a folder")
    f.junk = root / "junk.pt"
    f.junk.write_bytes(b"not a checkpoint")
    f.foreign = root / "foreign.pt"
    torch.save({"model": {"w": torch.zeros(2)}}, f.foreign)
    state = load_checkpoint(f.done)
    f.tampered = root / "tampered.pt"  # content changed after the digest was taken
    save_checkpoint(f.tampered, state)
    raw = torch.load(f.tampered, weights_only=True)
    raw["step"] = 99
    torch.save(raw, f.tampered)
    f.no_config = root / "no_config.pt"
    save_checkpoint(f.no_config, {**state, "model_config": None})
    f.wrong_config = root / "wrong_config.pt"
    save_checkpoint(
        f.wrong_config, {**state, "model_config": {**state["model_config"], "head_channels": 4}}
    )
    f.bad_cli = root / "bad_cli"
    f.bad_cli.mkdir()
    (f.bad_cli / "checkpoint.pt").write_bytes(b"not a checkpoint")
    return f


def _params(table: list[tuple]) -> list:
    """``(id, call, error, pattern[, mark])`` rows as pytest parameters."""
    return [pytest.param(*row[1:4], id=row[0], marks=row[4:]) for row in table]


def _fit(**settings):
    return lambda f: fit(tiny_model(), tiny_data(), tiny_config(**settings))


def _config(**settings):
    return lambda f: TrainConfig(**settings).check()


def _resume(**settings):
    return lambda f: fit(
        tiny_model(),
        tiny_data(),
        tiny_config(steps=4, checkpoint=str(f.done), resume=True, **settings),
    )


def _images(shape, dtype=torch.float32):
    return lambda f: CenterNetLite(2, (8, 8, 16, 16), 8)(torch.zeros(shape, dtype=dtype))


# fmt: off
API = [
    # TrainConfig, through its check and through fit
    ("steps 0", _config(steps=0), ValueError, r"^steps must be a positive integer, got 0$"),
    ("steps 2.5", _fit(steps=2.5), ValueError, r"^steps must be a positive integer, got 2\.5$"),
    ("steps True", _config(steps=True), ValueError, r"^steps must be a positive integer, got True"),
    ("batch_size 0", _fit(batch_size=0), ValueError, r"^batch_size must be a positive integer"),
    ("lr 0", _config(lr=0), ValueError, r"^lr must be a finite number > 0, got 0$"),
    ("lr nan", _fit(lr=math.nan), ValueError, r"^lr must be a finite number > 0, got nan$"),
    ("lr inf", _config(lr=math.inf), ValueError, r"^lr must be a finite number > 0, got inf$"),
    ("lr text", _config(lr="0.1"), ValueError, r"^lr must be a finite number > 0, got '0\.1'$"),
    ("weight_decay < 0", _config(weight_decay=-1e-4), ValueError, r"^weight_decay must be a finite number >= 0"),
    ("warmup_steps < 0", _config(warmup_steps=-1), ValueError, r"^warmup_steps must be a non-negative integer"),
    ("min_lr_ratio > 1", _config(min_lr_ratio=1.5), ValueError, r"^min_lr_ratio must be a number in \[0, 1\], got 1\.5$"),
    ("grad_clip 0", _config(grad_clip=0.0), ValueError, r"^grad_clip must be a finite number > 0, got 0\.0$"),
    ("grad_clip < 0", _fit(grad_clip=-1.0), ValueError, r"^grad_clip must be a finite number > 0"),
    ("seed < 0", _config(seed=-1), ValueError, r"^seed must be a non-negative integer, got -1$"),
    ("amp", _config(amp="fp8"), ValueError, r"^amp must be one of \('auto', 'bf16', 'fp16', 'off'\), got 'fp8'$"),
    ("device name", _config(device="gpu"), ValueError, r"^device must be 'auto' or a torch device .*got 'gpu'$"),
    ("device None", _config(device=None), ValueError, r"^device must be 'auto' or a torch device"),
    ("num_workers < 0", _config(num_workers=-2), ValueError, r"^num_workers must be a non-negative integer"),
    ("checkpoint number", _config(checkpoint=5), ValueError, r"^checkpoint must be a file path or None, got 5$"),
    ("checkpoint empty", _config(checkpoint=""), ValueError, r"^checkpoint must be a file path or None, got ''$"),
    ("checkpoint_every 0", _config(checkpoint_every=0), ValueError, r"^checkpoint_every must be a positive integer"),
    ("resume text", _config(resume="yes"), ValueError, r"^resume must be True or False, got 'yes'$"),
    ("progress 1", _config(progress=1), ValueError, r"^progress must be True or False, got 1$"),
    ("overwrite text", _config(overwrite="no"), ValueError, r"^overwrite must be True or False"),
    ("hm_weight < 0", _config(hm_weight=-1.0), ValueError, r"^hm_weight must be a finite number >= 0"),
    ("wh_weight nan", _config(wh_weight=math.nan), ValueError, r"^wh_weight must be a finite number >= 0, got nan"),
    ("off_weight text", _config(off_weight="1"), ValueError, r"^off_weight must be a finite number >= 0"),
    ("resume without checkpoint", _fit(resume=True), ValueError, r"^resume=True needs a checkpoint path$"),
    ("resume and overwrite", _config(resume=True, overwrite=True, checkpoint="c.pt"), ValueError, r"^resume=True and overwrite=True exclude each other$"),
    # fit's other arguments and run set-up
    ("config a dict", lambda f: fit(tiny_model(), tiny_data(), {"steps": 2}), ValueError, r"^config must be a TrainConfig or None, got dict$"),
    ("unknown setting", lambda f: fit(tiny_model(), tiny_data(), stepz=2), TypeError, r"fit\(\) got settings that TrainConfig does not have: \['stepz'\]"),
    ("data smaller than a batch", lambda f: fit(tiny_model(), tiny_data(3), tiny_config()), ValueError, r"data set \(3 items over 1 process\(es\)\) is smaller than one batch of 4"),
    ("fp16 on a CPU", _fit(amp="fp16"), ValueError, r"^amp='fp16' needs a CUDA device", NO_CUDA),
    ("cuda without CUDA", _fit(device="cuda"), ValueError, r"^device 'cuda' asked for, but CUDA is not available$", NO_CUDA),
    ("checkpoint under a file", lambda f: fit(tiny_model(), tiny_data(), tiny_config(checkpoint=str(f.blocker / "c.pt"))), CheckpointError, r"a_file/c\.pt cannot be written: .*a_file is a file, not a folder$"),
    ("checkpoint is a folder", lambda f: fit(tiny_model(), tiny_data(), tiny_config(checkpoint=str(f.root))), CheckpointError, r"cannot be written: .* is a folder"),
    ("checkpoint exists", lambda f: fit(tiny_model(), tiny_data(), tiny_config(checkpoint=str(f.done))), CheckpointExistsError, r"done\.pt already exists \(step 2 of 12\); continue it with resume=True, or .*overwrite=True"),
    ("resume from junk", lambda f: fit(tiny_model(), tiny_data(), tiny_config(checkpoint=str(f.junk), resume=True)), CheckpointError, r"junk\.pt cannot be read; it is truncated or corrupted"),
    ("resume with another lr", _resume(lr=0.5), ResumeMismatchError, r"done\.pt comes from a different set-up: lr was 0\.003, now 0\.5;"),
    ("resume with another seed", _resume(seed=1), ResumeMismatchError, r"seed was 0, now 1"),
    ("resume with another grad_clip", _resume(grad_clip=None), ResumeMismatchError, r"grad_clip was 10\.0, now None"),
    ("resume with another loss weight", _resume(wh_weight=1.0), ResumeMismatchError, r"wh_weight was 0\.1, now 1\.0"),
    ("resume another model", lambda f: fit(CenterNetLite(2, (8, 8, 16, 16), 4), tiny_data(), tiny_config(steps=4, checkpoint=str(f.done), resume=True)), ResumeMismatchError, r"head_channels was 8, now 4"),
    ("resume other data", lambda f: fit(tiny_model(), tiny_data(24), tiny_config(steps=4, checkpoint=str(f.done), resume=True)), ResumeMismatchError, r"dataset_len was 20, now 24"),
    ("resume a model without config", lambda f: fit(torch.nn.Linear(2, 2), tiny_data(), tiny_config(steps=4, checkpoint=str(f.done), resume=True)), CheckpointError, r"done\.pt does not fit this model"),
    # checkpoints
    ("load missing", lambda f: load_checkpoint(f.root / "missing.pt"), CheckpointError, r"missing\.pt does not exist$"),
    ("load a folder", lambda f: load_checkpoint(f.root), CheckpointError, r"is a folder, not a checkpoint file$"),
    ("load junk", lambda f: load_checkpoint(f.junk), CheckpointError, r"junk\.pt cannot be read; it is truncated or corrupted"),
    ("load foreign", lambda f: load_checkpoint(f.foreign), CheckpointError, r"foreign\.pt is not a centernet_edu checkpoint"),
    ("load tampered", lambda f: load_checkpoint(f.tampered), CheckpointError, r"tampered\.pt is corrupted: its content does not match its digest"),
    ("save not a dict", lambda f: save_checkpoint(f.root / "x.pt", [1, 2]), ValueError, r"^state must be a dict, got list$"),
    ("save under a file", lambda f: save_checkpoint(f.blocker / "x.pt", {"step": 1}), CheckpointError, r"a_file/x\.pt cannot be written: .*a_file is a file, not a folder$"),
    ("load_model without config", lambda f: load_model(f.no_config), CheckpointError, r"no_config\.pt does not record a CenterNetLite configuration"),
    ("load_model wrong config", lambda f: load_model(f.wrong_config), CheckpointError, r"wrong_config\.pt: its model_config .*'head_channels': 4.* does not rebuild its weights"),
    ("load_model junk", lambda f: load_model(f.junk), CheckpointError, r"junk\.pt cannot be read"),
    # the model and its configuration
    ("num_classes 0", lambda f: CenterNetLite(0), ValueError, r"^num_classes must be a positive integer, got 0$"),
    ("num_classes float", lambda f: CenterNetLite(2.0), ValueError, r"^num_classes must be a positive integer, got 2\.0$"),
    ("num_classes bool", lambda f: CenterNetLiteConfig(True), ValueError, r"^num_classes must be a positive integer, got True$"),
    ("channels three", lambda f: CenterNetLite(2, (8, 8, 8)), ValueError, r"^channels must be four positive integers, got \(8, 8, 8\)$"),
    ("channels with 0", lambda f: CenterNetLiteConfig(2, (8, 8, 0, 8)), ValueError, r"^channels must be four positive integers, got \(8, 8, 0, 8\)$"),
    ("channels a number", lambda f: CenterNetLite(2, 8), ValueError, r"^channels must be four positive integers, got 8$"),
    ("channels text", lambda f: CenterNetLite(2, "abcd"), ValueError, r"^channels must be four positive integers, got 'abcd'$"),
    ("head_channels 0", lambda f: CenterNetLite(2, head_channels=0), ValueError, r"^head_channels must be a positive integer, got 0$"),
    ("extreme text", lambda f: CenterNetLite(2, extreme="yes"), ValueError, r"^extreme must be True or False, got 'yes'$"),
    ("images 3-D", _images((3, 64, 64)), ValueError, r"^images must have shape \(B, 3, H, W\), got \(3, 64, 64\)$"),
    ("images a list", lambda f: CenterNetLite(2)([0.0]), ValueError, r"^images must have shape \(B, 3, H, W\), got list$"),
    ("images one channel", _images((1, 1, 64, 64)), ValueError, r"^images must be a \(B, 3, H, W\) tensor, got \(1, 1, 64, 64\)$"),
    ("images height", _images((1, 3, 40, 64)), ValueError, r"image height and width must be multiples of 16 .*got 40 x 64$"),
    ("images integers", _images((1, 3, 64, 64), torch.uint8), ValueError, r"^images must be a floating-point tensor, got torch\.uint8$"),
]
# fmt: on


@pytest.mark.parametrize(
    ("call", "error", "message"),
    _params(API),
)
def test_bad_input_is_named(files, call, error, message):
    with pytest.raises(error, match=message) as e:
        call(files)
    assert type(e.value) is error


# fmt: off
CLI = [
    # usage errors: status 2, argparse's error line
    ("steps 0", ["--steps", "0"], 2, r"error: --steps must be a positive integer, got 0$"),
    ("steps text", ["--steps", "x"], 2, r"error: argument --steps: invalid int value: 'x'$"),
    ("batch size < 0", ["--batch-size", "-1"], 2, r"error: --batch-size must be a positive integer"),
    ("lr 0", ["--lr", "0"], 2, r"error: --lr must be a finite number > 0, got 0\.0$"),
    ("lr nan", ["--lr", "nan"], 2, r"error: --lr must be a finite number > 0, got nan$"),
    ("weight decay < 0", ["--weight-decay", "-0.1"], 2, r"error: --weight-decay must be a finite number >= 0"),
    ("warmup < 0", ["--warmup-steps", "-1"], 2, r"error: --warmup-steps must be a non-negative integer"),
    ("min lr ratio 2", ["--min-lr-ratio", "2"], 2, r"error: --min-lr-ratio must be a number in \[0, 1\]"),
    ("grad clip < 0", ["--grad-clip", "-1"], 2, r"error: --grad-clip must be >= 0 \(0 turns clipping off\), got -1\.0$"),
    ("grad clip inf", ["--grad-clip", "inf"], 2, r"error: --grad-clip must be a finite number > 0, got inf$"),
    ("seed < 0", ["--seed", "-3"], 2, r"error: --seed must be a non-negative integer, got -3$"),
    ("amp", ["--amp", "fp8"], 2, r"error: argument --amp: invalid choice: 'fp8'"),
    ("device", ["--device", "gpu"], 2, r"error: --device must be 'auto' or a torch device"),
    ("workers < 0", ["--workers", "-1"], 2, r"error: --workers must be a non-negative integer"),
    ("checkpoint every 0", ["--checkpoint-every", "0"], 2, r"error: --checkpoint-every must be a positive integer"),
    ("hm weight < 0", ["--hm-weight", "-1"], 2, r"error: --hm-weight must be a finite number >= 0"),
    ("threads 0", ["--threads", "0"], 2, r"error: --threads must be a positive integer, got 0$"),
    ("threads < 0", ["--threads", "-2"], 2, r"error: --threads must be a positive integer, got -2$"),
    ("image size 24", ["--image-size", "24"], 2, r"error: --image-size must be a multiple of 16 \(the model's deepest stride\), at least 16, got 24$"),
    ("image size 8", ["--image-size", "8"], 2, r"error: --image-size must be a multiple of 16 .*at least 16, got 8$"),
    ("image size 0", ["--image-size", "0"], 2, r"error: --image-size must be .*at least 16, got 0$"),
    ("train size 0", ["--train-size", "0"], 2, r"error: --train-size must be a positive integer"),
    ("train size huge", ["--train-size", "800000000"], 2, r"error: --train-size must be at most 16777216 \(each epoch's shuffled order is held in memory\), got 800000000$"),
    ("val coco without coco", ["--val-coco", "missing.json"], 2, r"error: --val-coco needs --coco: it is the held-out set of a COCO run \(a shapes run holds out --val-size images\)$"),
    ("val size < 0", ["--val-size", "-1"], 2, r"error: --val-size must be a non-negative integer"),
    ("unknown shape", ["--shapes", "hexagon"], 2, r"error: argument --shapes: invalid choice: 'hexagon'"),
    ("shape twice", ["--shapes", "circle", "circle"], 2, r"error: --shapes must name each kind of shape once, got circle circle$"),
    ("three channels", ["--channels", "8", "8", "16"], 2, r"error: argument --channels: expected 4 arguments$"),
    ("channel 0", ["--channels", "8", "8", "0", "16"], 2, r"error: --channels must be a positive integer, got 0$"),
    ("head channels 0", ["--head-channels", "0"], 2, r"error: --head-channels must be a positive integer"),
    ("resume and overwrite", ["--resume", "--overwrite"], 2, r"error: --resume and --overwrite exclude each other$"),
    ("out under a file", lambda f: ["--out", str(f.blocker / "run")], 2, r"error: --out .*a_file/run cannot be written: .*a_file is a file, not a folder$"),
    ("unknown option", ["--bogus"], 2, r"error: unrecognized arguments: --bogus$"),
    # known failures of a run: status 1, one error line
    ("checkpoint exists", lambda f: ["--out", str(f.cli)], 1, r"error: .*cli/checkpoint\.pt already holds a run \(step 2\); continue it with --resume, or start afresh and replace it with --overwrite$"),
    ("resume junk", lambda f: ["--out", str(f.bad_cli), "--resume"], 1, r"error: checkpoint .*bad_cli/checkpoint\.pt cannot be read"),
    ("resume other lr", lambda f: ["--out", str(f.cli), "--resume", "--lr", "0.5"], 1, r"error: cannot resume .*: --lr: 0\.008 in the checkpoint, 0\.5 now; resume with the options it was started with, or start afresh with --overwrite$"),
    ("resume other size", lambda f: ["--out", str(f.cli), "--resume", "--image-size", "32"], 1, r"error: cannot resume .*: --image-size: \[64, 64\] in the checkpoint, \[32, 32\] now"),
    ("resume other weight decay", lambda f: ["--out", str(f.cli), "--resume", "--weight-decay", "0"], 1, r"error: cannot resume .*: --weight-decay: 0\.0001 in the checkpoint, 0\.0 now"),
    ("missing coco", lambda f: ["--coco", str(f.root / "none.json"), "--out", str(f.root / "c")], 1, r"error: COCO file .*none\.json does not exist$"),
    ("cuda without CUDA", lambda f: ["--device", "cuda", "--out", str(f.root / "d")], 1, r"error: device 'cuda' asked for, but CUDA is not available$", NO_CUDA),
    ("non-finite gradient", lambda f: ["--lr", "1e10", "--warmup-steps", "0", "--out", str(f.root / "e")], 1, r"error: the gradient of the loss became nan at step 2 of 2"),
]
# fmt: on


@pytest.mark.parametrize(
    ("args", "status", "message"),
    _params(CLI),
)
def test_bad_command_line_is_one_error_line(files, capsys, args, status, message):
    args = args(files) if callable(args) else [*args, "--out", str(files.root / "usage")]
    assert main([*TINY, *args]) == status
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("centernet-edu-train: error: ")
    assert re.search(message, lines[0]), lines[0]
