"""The command line ``python -m centernet_edu.cli`` (installed as ``centernet-edu-train``).

Trains ``CenterNetLite`` on synthetic shapes (or a COCO-format data set) and reports COCO
mAP on held-out images. The options are the fields of ``TrainConfig`` (``fit``'s settings)
and of ``CliConfig`` (the data, the model's shape, where the run goes), each defined once,
with its help text and its check, in its dataclass. Their defaults are the dataclasses',
except the schedule, which is ``fast_recipe``'s, and the data workers (one per core but
one, at most four).

Exit status: 0 when done; 2 for a usage error (argparse's ``error:`` line); 1 for a known
failure of the run (a NaN, a checkpoint that exists, is unreadable or comes from another
run, bad data), with one ``error:`` line and no traceback; 130 after Ctrl-C and 143 after
SIGTERM, once the step it stopped at is saved, with the command that resumes it.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
import shlex
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from .checkpoint import CheckpointError, CheckpointExistsError, check_writable, load_checkpoint
from .data import SHAPES, VIEWS, CocoDataset, ShapesDataset
from .data.shapes import MAX_IMAGE_SIZE
from .model import CenterNetLite, CenterNetLiteConfig
from .train import ResumeMismatchError, TrainingInterrupted, fit
from .train_config import TrainConfig, fast_recipe, setting
from .validate import nonnegative_int, positive_int

__all__ = [
    "CliConfig",
    "build",
    "build_parser",
    "main",
    "CHECKPOINT_NAME",
    "MIN_IMAGE_SIZE",
]

PROG = "centernet-edu-train"
CHECKPOINT_NAME = "checkpoint.pt"
MIN_IMAGE_SIZE = CenterNetLite.size_divisor  # one pixel of the deepest, stride-16 map
HELD_OUT_SEED_OFFSET = 1_000_003  # held-out shapes come from a seed training never uses
# Each epoch's shuffled order of the training set is held in memory (8 bytes an image).
MAX_TRAIN_SIZE = 2**24
_MODEL = {f.name: f.default for f in dataclasses.fields(CenterNetLiteConfig)}
# The object slots of each shapes image (ShapesDataset's max_objs, which the run keeps).
MAX_OBJECTS = inspect.signature(ShapesDataset).parameters["max_objs"].default


def _optional_positive(name, v):
    return None if v is None else positive_int(name, v)


def _train_size(name, v):
    if _optional_positive(name, v) is not None and v > MAX_TRAIN_SIZE:
        raise ValueError(
            f"{name} must be at most {MAX_TRAIN_SIZE} (each epoch's shuffled order is held "
            f"in memory), got {v}"
        )
    return v


def _image_size(name, v):
    d = CenterNetLite.size_divisor
    if isinstance(v, bool) or not isinstance(v, int) or v < MIN_IMAGE_SIZE or v % d:
        raise ValueError(
            f"{name} must be a multiple of {d} (the model's deepest stride), at least "
            f"{MIN_IMAGE_SIZE}, got {v!r}"
        )
    return v


def _shape_names(name, v):
    if len(set(v)) != len(v):
        raise ValueError(f"{name} must name each kind of shape once, got {' '.join(v)}")
    return tuple(v)


def _objects(name, v):
    low, high = (nonnegative_int(name, n) for n in v)
    if low > high:
        raise ValueError(f"{name} must be MIN MAX with MIN <= MAX, got {low} {high}")
    if high > MAX_OBJECTS:
        raise ValueError(
            f"{name} MAX must be at most {MAX_OBJECTS} (the object slots of each image), "
            f"got {low} {high}"
        )
    return low, high


def _views(name, v):
    if v not in VIEWS:
        raise ValueError(f"{name} must be one of {', '.join(map(str, VIEWS))}, got {v!r}")
    return v


def _channels(name, v):
    return tuple(positive_int(name, c) for c in v)


def _out_folder(name, v):
    # Found before any work, not when the first checkpoint is written.
    if not str(v).strip():
        raise ValueError(f"{name} must name a folder, got {v!r}")
    try:
        check_writable(Path(v) / CHECKPOINT_NAME)
    except CheckpointError as e:
        raise ValueError(f"{name} {v} cannot be written: {e.__cause__ or e}") from e
    return v


def _any(name, v):
    return v


@dataclass
class CliConfig:
    """The command line's own settings: the data, the model's shape, where the run goes."""

    out: str = setting("runs/shapes", f"folder of the run: OUT/{CHECKPOINT_NAME}", _out_folder)
    threads: int | None = setting(None, "torch CPU threads", _optional_positive, type=int)
    coco: str | None = setting(
        None, "train on this COCO JSON file instead of shapes", _any, group="data", type=str
    )
    val_coco: str | None = setting(
        None, "evaluate on this COCO JSON file", _any, group="data", type=str
    )
    image_size: int = setting(
        128, f"image height and width, a multiple of {MIN_IMAGE_SIZE}", _image_size,
        group="data",
    )  # fmt: skip
    train_size: int | None = setting(
        None, "shapes images to train on (default: steps x batch size x processes, no repeats; "
        "on resume, the number the run started with)", _train_size, group="data", type=int,
    )  # fmt: skip
    val_size: int = setting(
        256, "held-out shapes images; 0 skips evaluation", nonnegative_int, group="data"
    )
    objects: tuple[int, int] = setting(
        (6, 16), "objects per training image, MIN MAX (fewer where an image is full); the "
        "held-out images keep ShapesDataset's 1 to 6", _objects, group="data", nargs=2,
        type=int, metavar="N",
    )  # fmt: skip
    views: int = setting(
        4, "mirror images of each training scene: 1, 2 (mirrored left to right) or 4 (also "
        "upside down)",
        _views, group="data", choices=VIEWS,
    )  # fmt: skip
    shapes: tuple[str, ...] = setting(
        SHAPES, f"kinds of shape, the classes: {', '.join(SHAPES)}", _shape_names,
        group="data", nargs="+", choices=SHAPES, type=str, metavar="SHAPE",
    )  # fmt: skip
    channels: tuple[int, int, int, int] = setting(
        _MODEL["channels"], "widths of the model's four stages", _channels, group="model",
        nargs=4, type=int, metavar="C",
    )  # fmt: skip
    head_channels: int = setting(
        _MODEL["head_channels"], "width of each head's hidden layer", positive_int, group="model"
    )


def _flag(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _shown(value) -> str:
    return " ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def _add_fields(where, cls, defaults: dict, groups: dict | None = None) -> None:
    """One option for each field of the dataclass ``cls``, from the field's metadata."""
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if meta.get("cli", True) is False:
            continue
        default = defaults.get(f.name, f.default)
        kw = {"dest": f.name, "default": default, "help": meta["help"]}
        group = (groups or {}).get(meta.get("group"), where)
        if isinstance(f.default, bool):
            # A switch: --resume turns a False on, --no-progress a True off.
            flag = "--no-" + f.name.replace("_", "-") if f.default else _flag(f)
            kw.update(action="store_false" if f.default else "store_true")
            kw["help"] = f"do not {kw['help']}" if f.default else kw["help"]
            group.add_argument(flag, **kw)
            continue
        if default is not None:
            kw["help"] += f" (default: {_shown(default)})"
        for key in ("nargs", "choices", "metavar"):
            if key in meta:
                kw[key] = meta[key]
        if "choices" not in meta:
            kw.setdefault("metavar", _flag(f)[2:].upper().replace("-", "_"))
        kw["type"] = meta.get("type", type(f.default))
        group.add_argument(_flag(f), **kw)


def build_parser() -> argparse.ArgumentParser:
    """The parser: ``TrainConfig``'s fields, then ``CliConfig``'s."""
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Train CenterNetLite on synthetic shapes (or a COCO-format data set) "
        "and report COCO mAP on held-out images. Under torchrun it trains on every "
        "process with DistributedDataParallel.",
    )
    training = p.add_argument_group("training")
    # On the command line, data come from worker processes unless told otherwise.
    workers = min(4, max(0, (os.cpu_count() or 1) - 1))
    recipe = dataclasses.asdict(fast_recipe(num_workers=workers))
    _add_fields(training, TrainConfig, recipe)
    groups = {k: p.add_argument_group(k or "run") for k in (None, "data", "model")}
    _add_fields(p, CliConfig, {}, groups)
    return p


def _settings(parser, args) -> tuple[CliConfig, TrainConfig]:
    """Both configurations from parsed ``args``; a value out of range is a usage error."""
    values = vars(args)
    clip = values["grad_clip"]
    if clip is not None and not clip >= 0:  # also NaN
        parser.error(f"--grad-clip must be >= 0 (0 turns clipping off), got {clip}")
    if clip == 0:
        values["grad_clip"] = None  # as the help says
    if values["resume"] and values["overwrite"]:
        parser.error("--resume and --overwrite exclude each other")
    if values["val_coco"] is not None and values["coco"] is None:
        parser.error(
            "--val-coco needs --coco: it is the held-out set of a COCO run (a shapes run "
            "holds out --val-size images)"
        )
    made = []
    for cls in (TrainConfig, CliConfig):
        fields = [f for f in dataclasses.fields(cls) if f.metadata.get("cli", True)]
        for f in sorted(fields, key=lambda f: f.name == "out"):  # --out, which creates, last
            try:
                values[f.name] = f.metadata["check"](_flag(f), values[f.name])
            except ValueError as e:
                parser.error(str(e))
        made.append({f.name: values[f.name] for f in fields})
    train, cli = made
    _check_combinations(parser, train, cli)
    train["checkpoint"] = str(Path(cli["out"]) / CHECKPOINT_NAME)
    if cli["coco"] is None:
        try:
            cli["train_size"] = _shapes_train_size(cli["train_size"], train)
        except ValueError as e:
            parser.error(str(e))
    return CliConfig(**cli), TrainConfig(**train)


def _check_combinations(parser, train: dict, cli: dict) -> None:
    """Usage errors of options that are each in range but do not go together."""
    device = train["device"]
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "auto (the CPU: no CUDA here)"
    if train["amp"] == "fp16" and not device.startswith("cuda"):
        parser.error(
            f"--amp fp16 needs a CUDA device (its gradient scaler), got --device {device}; "
            "use --amp bf16 or --amp off on a CPU"
        )
    if cli["image_size"] > MAX_IMAGE_SIZE:  # shapes and COCO images alike
        parser.error(f"--image-size must be at most {MAX_IMAGE_SIZE}, got {cli['image_size']}")
    if train["batch_size"] == 1 and cli["image_size"] < 2 * CenterNetLite.size_divisor:
        parser.error(
            f"--image-size {cli['image_size']} with --batch-size 1 leaves one value per "
            f"channel on the model's {cli['image_size'] // CenterNetLite.size_divisor} x "
            f"{cli['image_size'] // CenterNetLite.size_divisor} deepest map, where "
            "BatchNorm needs more than one to train; use --batch-size 2 or more, or "
            f"--image-size {2 * CenterNetLite.size_divisor} or more"
        )


def _shapes_train_size(asked: int | None, train: dict) -> int:
    """The number of shapes images to train on: ``--train-size``; else, on resume, the
    number the run started with (its checkpoint's), so that ``--steps`` may change; else
    one new image for each image the run reads."""
    if asked is not None:
        return asked
    if train["resume"]:
        try:
            return int(load_checkpoint(train["checkpoint"])["setup"]["dataset_len"])
        except (CheckpointError, KeyError, TypeError, ValueError):
            pass  # no checkpoint (a fresh start), or one that fit will refuse, saying why
    world = int(os.environ.get("WORLD_SIZE", 1))
    n = train["steps"] * train["batch_size"] * world
    if n > MAX_TRAIN_SIZE:
        raise ValueError(
            f"--steps {train['steps']} would train on {n} shapes images (by default one new "
            f"image for each image read: steps x batch size x processes), more than "
            f"{MAX_TRAIN_SIZE}; give fewer --steps, or a --train-size of at most "
            f"{MAX_TRAIN_SIZE} (the images then repeat)"
        )
    return n


def _flags() -> dict[str, str]:
    """What to call each setting a resume compares, on the command line."""
    names = {f.name: _flag(f) for cls in (TrainConfig, CliConfig) for f in dataclasses.fields(cls)}
    names.update(
        num_classes="the number of classes (--shapes, or the COCO categories)",
        categories="the classes (--shapes, or the COCO categories)",
        dataset_len="the number of training images (--train-size)",
        world_size="the number of processes",
    )
    return names


def _explain(e: Exception) -> str:
    """One line for a known failure, in the command line's words."""
    if isinstance(e, CheckpointExistsError):
        held = f" (step {e.step})" if e.step is not None else ""
        return (
            f"{e.path} already holds a run{held}; continue it with --resume, or start afresh "
            "and replace it with --overwrite"
        )
    if isinstance(e, ResumeMismatchError):
        names = _flags()
        said = "; ".join(
            f"{names.get(k, k)}: {a!r} in the checkpoint, {b!r} now"
            for k, (a, b) in e.differences.items()
        )
        return (
            f"cannot resume {e.path}: {said}; resume with the options it was started with, "
            "or start afresh with --overwrite"
        )
    return " ".join(str(e).split())  # one line, whatever the message


def _resume_command(argv: list[str]) -> str:
    args = [a for a in argv if a != "--overwrite"]
    args += [] if "--resume" in args else ["--resume"]
    return shlex.join([sys.executable, "-m", "centernet_edu.cli", *args])


def _data(s: CliConfig, config: TrainConfig):
    """The training set and the held-out set (None for no evaluation)."""
    size = (s.image_size, s.image_size)
    if s.coco:
        train = CocoDataset(s.coco, image_size=size, targets=False)
        return train, CocoDataset(s.val_coco, image_size=size) if s.val_coco else None
    world = int(os.environ.get("WORLD_SIZE", 1))
    n = s.train_size or config.steps * config.batch_size * world
    # Objects of 8 to 48 pixels (ShapesDataset's default) where the image has room for
    # them. A rotated shape reaches past its scale, so small images keep a quarter of the
    # room inside their 4-pixel margins free.
    largest = min(48, max(0.75 * (s.image_size - 8), s.image_size - 16))
    kw = {"shapes": s.shapes, "size_range": (min(8, largest), largest)}
    crowded = {"objects": s.objects, "views": s.views}
    train = ShapesDataset(n, size, seed=config.seed, targets=False, **kw, **crowded)
    val_seed = config.seed + HELD_OUT_SEED_OFFSET
    return train, ShapesDataset(s.val_size, size, seed=val_seed, **kw) if s.val_size else None


def build(s: CliConfig, config: TrainConfig):
    """What the command line trains and scores for settings ``s`` and ``config``: a fresh
    ``CenterNetLite`` (its weights drawn after ``torch.manual_seed(config.seed)``), the
    training set and the held-out set (None for no evaluation). ``fit(model, train,
    config)`` then trains it, as the command line does."""
    train, val = _data(s, config)
    torch.manual_seed(config.seed)
    return CenterNetLite(train.num_classes, s.channels, s.head_channels), train, val


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def _train_and_evaluate(s: CliConfig, config: TrainConfig) -> None:
    from .evaluate import evaluate, format_metrics

    if s.threads:
        torch.set_num_threads(s.threads)
    model, train, val = build(s, config)
    result = fit(model, train, config)
    if not _distributed() or dist.get_rank() == 0:
        last = result.history[-1] if result.history else {}
        print(
            f"trained {result.step} steps in {last.get('time', 0.0):.1f} s; final loss "
            f"{last.get('loss', float('nan')):.4f}; checkpoint {result.checkpoint}"
        )
        if val is not None and len(val):
            # At most as many detections per image as the heatmap has pixels.
            K = min(100, (s.image_size // CenterNetLite.stride) ** 2)
            metrics = evaluate(result.model, val, K=K)
            print(f"held-out ({len(val)} images): {format_metrics(metrics)}")
    if _distributed():
        dist.barrier()


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        s, config = _settings(parser, parser.parse_args(argv))
    except SystemExit as e:  # argparse: 2 after a usage error, 0 after --help
        return e.code
    try:
        _train_and_evaluate(s, config)
        return 0
    except TrainingInterrupted as e:
        kept = f"checkpoint {e.checkpoint} holds it" if e.checkpoint else "nothing was saved"
        how = "interrupted" if e.signum == signal.SIGINT else f"stopped by {e.signum.name}"
        print(f"{PROG}: {how} after step {e.step}; {kept}", file=sys.stderr)
        print(f"resume with: {_resume_command(argv)}", file=sys.stderr)
        return 128 + e.signum
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except (FloatingPointError, ValueError, OSError) as e:  # the package's known failures
        print(f"{PROG}: error: {_explain(e)}", file=sys.stderr)
        return 1
    finally:
        if _distributed():
            dist.destroy_process_group()


if __name__ == "__main__":
    raise SystemExit(main())
