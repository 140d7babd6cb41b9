"""time_sequence_prediction.py under tinygrad_seq and PyTorch: every L-BFGS closure loss agrees.

Both frameworks start from PyTorch's weights (float64) and see the same sine waves; L-BFGS
evaluates the closure up to 20 times per step, and each of those losses is compared, then the
test loss and the predicted future. A second run uses the strong-Wolfe line search.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from harness import assert_agree, load_pair, same_start
from helpers import require_torch

from tinygrad_seq.tasks.train import limit_blas_threads

pytestmark = [pytest.mark.parity, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).resolve().parent / "time_sequence_prediction.py"
STEPS = 3


@pytest.fixture
def pair():
    """(ours, theirs) program modules, each framework on one BLAS thread.

    Both multiply small matrices a time step at a time; on a shared machine a thread pool
    costs several times the work.
    """
    torch = require_torch()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with limit_blas_threads(1):
            yield load_pair("time_sequence_prediction")
    finally:
        torch.set_num_threads(threads)


def run_both(pair, line_search_fn, waves=10, length=80, future=40):
    """Train both for STEPS L-BFGS steps from the same start -> per framework (closure losses
    per step, test loss, (3, length - 1 + future) predictions, final weights)."""
    ours, theirs = pair
    data = ours.make_sine_waves(waves, length)
    np.testing.assert_array_equal(data, theirs.make_sine_waves(waves, length))
    theirs.torch.manual_seed(0)
    their_seq = theirs.build_model()
    our_seq = ours.build_model()
    same_start(our_seq, their_seq, ours.torch)
    results = []
    for program, seq in ((ours, our_seq), (theirs, their_seq)):
        input, target, test_input, test_target = program.split_data(data)
        optimizer = program.make_optimizer(seq, line_search_fn=line_search_fn)
        history = program.train(seq, optimizer, input, target, STEPS)
        test_loss, y = program.predict(seq, test_input, test_target, future)
        params = {k: v.detach().numpy().copy() for k, v in seq.state_dict().items()}
        results.append((history, test_loss, y, params))
    return results


def check_agree(results):
    """Closure losses call by call, then the test loss, the predictions and the weights.

    The L-BFGS trajectory amplifies rounding: PyTorch itself, started from weights changed by
    1e-15 (relative), moves its closure losses by ~1e-9 over these 3 steps, and the two
    frameworks differ by the same order. Predictions are compared with atol 1e-6 for the
    same reason (the waves' amplitude is 1; near zero crossings rtol says nothing).
    """
    (our_hist, our_test, our_y, our_params), (their_hist, their_test, their_y, their_params) = (
        results
    )
    assert [len(h) for h in our_hist] == [len(h) for h in their_hist], "closure calls per step"
    for step, (a, b) in enumerate(zip(our_hist, their_hist)):
        assert_agree(a, b, rtol=1e-6, what=f"step {step} closure loss")
    their_flat = [loss for h in their_hist for loss in h]
    assert their_flat[-1] < their_flat[0] / 100, "training did not reduce the loss"
    assert_agree([our_test], [their_test], rtol=1e-6, what="test loss")
    assert our_y.dtype == np.float64 and our_y.shape == their_y.shape == (3, 79 + 40)
    np.testing.assert_allclose(our_y, their_y, rtol=1e-6, atol=1e-6)
    for key, value in their_params.items():
        np.testing.assert_allclose(our_params[key], value, rtol=1e-6, atol=1e-8, err_msg=key)


def test_lbfgs_closure_losses_agree(pair):
    results = run_both(pair, None)
    assert [len(h) for h in results[1][0]] == [20] * STEPS, "max_iter closure calls per step"
    check_agree(results)


def test_lbfgs_strong_wolfe_agrees(pair):
    results = run_both(pair, "strong_wolfe")
    # the line search evaluates more than once in some iterations
    assert sum(len(h) for h in results[1][0]) > 20 * STEPS
    check_agree(results)


def test_runs_as_a_script_and_plots(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
    args = ["--steps", "1", "--waves", "5", "--length", "40", "--future", "20", "--plot"]
    done = subprocess.run(
        [sys.executable, str(PROGRAM), *args, "--plot-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    losses = [float(line.split()[-1]) for line in lines if line.startswith("loss:")]
    assert len(losses) == 20 and np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert any(line.startswith("test loss:") for line in lines)
    figure = tmp_path / "predict0.png"
    assert figure.exists() and figure.stat().st_size > 1000
