import numpy as np
import pytest

import tinygrad_seq as ts


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Each test starts with float32 default dtype, grad mode on and a fixed seed."""
    ts.set_default_dtype(ts.float32)
    ts.manual_seed(0)
    yield
    ts.set_default_dtype(ts.float32)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
