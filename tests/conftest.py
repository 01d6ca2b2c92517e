import json
from pathlib import Path

import numpy as np
import pytest
import torch

REFERENCE = Path(__file__).parent / "data" / "centernet_reference.json"


@pytest.fixture(scope="session")
def reference() -> dict:
    """Input/output vectors of the original CenterNet code (see tests/data/README.md)."""
    return json.loads(REFERENCE.read_text())


def t(x, dtype=torch.float32) -> torch.Tensor:
    return torch.tensor(np.asarray(x), dtype=dtype)
