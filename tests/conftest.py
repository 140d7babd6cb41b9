import numpy as np
import pytest
from helpers import LM_TEXTS

import tinygrad_seq as ts
from tinygrad_seq.tasks import train_char_lm


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


@pytest.fixture(scope="session")
def tiny_lm():
    """A small LSTM LM (TrainResult) trained for 2 epochs on LM_TEXTS (well under a second).

    Shared by the tests of tasks/charlm.py, train.py and sample.py; none of them changes it.
    """
    return train_char_lm(LM_TEXTS * 4, hidden_size=8, epochs=2, batch_size=4, progress=False)
