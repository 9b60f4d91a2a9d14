import os
import sys

import numpy as np
import pytest
from hypothesis import settings

# 'ci': a fixed, reproducible set of examples, so a red CI run is never a coin flip;
# 'thorough': a random search, for finding new failures locally
settings.register_profile("ci", max_examples=60, derandomize=True)
settings.register_profile("thorough", max_examples=1500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def pool():
    """A 2-worker local parallel pool for one test module (any pool left open is closed first)."""
    pytest.importorskip("distributed")
    import lstmkit
    existing = lstmkit.gcp("nocreate")
    if existing is not None:
        existing.delete()
    pool = lstmkit.parpool("Processes", 2)
    yield pool
    pool.delete()
