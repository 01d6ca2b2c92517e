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
