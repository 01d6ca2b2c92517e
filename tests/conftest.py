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


# `make test` runs two pytest-xdist workers (`-n 2 --dist loadgroup`). Each file runs whole
# on one worker: nbval executes a chapter's cells in order in one kernel, and a module's
# fixtures are built once. The book's two browser files share one group, so the book is
# built once for both.
GROUPS = {"test_book_explorers.py": "test_book_build.py"}
# The files that take longest start first (`--no-loadscope-reorder` keeps this order), so
# that no worker is left running a long one alone at the end. From `pytest --durations`.
LONGEST_FIRST = [
    "test_student_edition.py",
    "test_book_build.py",
    "test_colab_run.py",
    "07_training.ipynb",
    "test_jupyterlab.py",
    "test_colab.py",
    "test_jupyterlab_widgets.py",
    "test_train.py",
    "test_benchmarks.py",
    "06_model_and_total_loss.ipynb",
    "test_grading_class.py",
    "test_widgets.py",
    "test_grader.py",
]


def pytest_configure(config):
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one worker")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Two workers share the cores: one thread each keeps them from contending.
        torch.set_num_threads(1)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}

    def group(item) -> str:
        return GROUPS.get(item.path.name, item.path.name)

    for item in items:
        item.add_marker(pytest.mark.xdist_group(group(item)))
    items.sort(key=lambda item: rank.get(group(item), len(rank)))
