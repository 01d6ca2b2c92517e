import importlib.util
import json
import os
from pathlib import Path

# Sleep rather than spin while waiting at OpenMP barriers: on a machine shared with other
# work, spinning threads slow small tensor operations down many times over. This must be
# set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest
import torch
from hypothesis import settings

# Property tests draw the same examples on every run, so a red CI is reproducible;
# HYPOTHESIS_PROFILE=explore draws fresh ones.
settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

REFERENCE = Path(__file__).parent / "data" / "centernet_reference.json"


@pytest.fixture(scope="session")
def reference() -> dict:
    """Input/output vectors of the original CenterNet code (see tests/data/README.md)."""
    return json.loads(REFERENCE.read_text())


def t(x, dtype=torch.float32) -> torch.Tensor:
    return torch.tensor(np.asarray(x), dtype=dtype)


# `make test` runs two pytest-xdist workers (`-n 2 --dist loadfile`). Each file runs whole
# on one worker: nbval executes a chapter's cells in order in one kernel, and a module's
# fixtures are built once. The book's two browser files form one unit (the scheduler
# below), so the book is built once for both.
UNITS = {"test_book_explorers.py": "test_book_build.py"}
# The files that take longest start first (`--no-loadscope-reorder` keeps this order), so
# that no worker is left running a long one alone at the end. From `pytest --durations`.
LONGEST_FIRST = [
    "07_training.ipynb",
    "test_book_build.py",
    "test_colab_run.py",
    "test_jupyterlab.py",
    "test_student_edition.py",
    "test_train.py",
    "test_benchmarks.py",
    "test_grading_class.py",
    "test_colab.py",
    "06_model_and_total_loss.ipynb",
    "test_grader.py",
    "08_decoding_and_evaluation.ipynb",
    "09_extreme_points.ipynb",
    "test_cli.py",
    "test_widgets.py",
]


def unit(path: str) -> str:
    """The unit of work a test file belongs to: its own name, or the file it shares with."""
    name = path.rsplit("/", 1)[-1]
    return UNITS.get(name, name)


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Two workers share the cores: one thread each keeps them from contending.
        torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(unit(item.nodeid.split("::")[0]), len(rank)))


if importlib.util.find_spec("xdist"):
    from xdist.scheduler import LoadFileScheduling

    class ByUnit(LoadFileScheduling):
        """xdist's loadfile, with the files of one unit sent to the same worker."""

        def _split_scope(self, nodeid: str) -> str:
            return unit(nodeid.split("::", 1)[0])

    def pytest_xdist_make_scheduler(config, log):
        if config.getvalue("dist") == "loadfile":
            return ByUnit(config, log)
        return None
