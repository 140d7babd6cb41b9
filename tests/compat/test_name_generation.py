"""name_generation.py under tinygrad_seq and under PyTorch: the same losses and samples."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from harness import HERE, assert_agree, load_pair, same_start, to_numpy

import tinygrad_seq as ts

pytestmark = pytest.mark.parity

ROOT = HERE.parent.parent
DATA = ROOT / "tinygrad_seq" / "data" / "corpora" / "names.tsv"
HIDDEN = 32
LR = 0.02  # 40 steps at the tutorial's 0.0005 leave the greedy samples empty


@pytest.fixture
def pair():
    """(ours, theirs, categories, {sex: names}) with both frameworks making float64 tensors.

    PyTorch runs on one thread meanwhile: its thread pool spins on a busy two-core machine.
    """
    ours, theirs = load_pair("name_generation")
    torch = theirs.torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    ts.set_default_dtype(ts.float64)
    category_lines = theirs.read_category_lines(str(DATA))
    assert ours.read_category_lines(str(DATA)) == category_lines
    try:
        yield ours, theirs, sorted(category_lines), category_lines
    finally:
        torch.set_default_dtype(torch.float32)
        torch.set_num_threads(threads)


def models(pair, dropout):
    """PyTorch's freshly seeded model and ours with its state_dict."""
    ours, theirs, categories = pair[0], pair[1], pair[2]
    theirs.torch.manual_seed(0)
    theirs_model = theirs.build_model(len(categories), HIDDEN, dropout=dropout)
    ours_model = ours.build_model(len(categories), HIDDEN, dropout=dropout)
    same_start(ours_model, theirs_model, ts)
    assert repr(ours_model) == repr(theirs_model)  # print(model) shows the same layers
    return ours_model, theirs_model


def fixed_pairs(pair, n):
    """n (category, name) pairs, alternating categories, spread over the alphabet."""
    categories, lines = pair[2], pair[3]
    chosen = []
    for i in range(n):
        names = lines[categories[i % 2]]
        chosen.append((categories[i % 2], names[(i * 89) % len(names)]))
    return chosen


def greedy_samples(program, model, categories):
    return [
        program.sample(model, category, categories, letter)
        for category in categories
        for letter in "abcjkmrstz"
    ]


def test_example_tensors_match(pair):
    ours, theirs, categories = pair[0], pair[1], pair[2]
    for category, line in fixed_pairs(pair, 4) + [("male", "a")]:
        made_o = ours.trainingExample(category, line, categories)
        made_t = theirs.trainingExample(category, line, categories)
        for o, t in zip(made_o, made_t):
            assert to_numpy(o).dtype == to_numpy(t).dtype
            np.testing.assert_array_equal(to_numpy(o), to_numpy(t))
        target = to_numpy(made_o[2])
        assert target.shape == (len(line),) and target[-1] == ours.n_letters - 1


def test_training_and_greedy_samples_agree(pair):
    ours, theirs, categories = pair[0], pair[1], pair[2]
    ours_model, theirs_model = models(pair, dropout=0.0)  # dropout off: the RNGs differ
    pairs = fixed_pairs(pair, 40)
    theirs_losses = theirs.train(theirs_model, pairs, categories, learning_rate=LR)
    ours_losses = ours.train(ours_model, pairs, categories, learning_rate=LR)
    assert len(theirs_losses) == 40
    assert_agree(ours_losses, theirs_losses, rtol=1e-6)
    assert np.mean(theirs_losses[-10:]) < np.mean(theirs_losses[:10])
    theirs_names = greedy_samples(theirs, theirs_model, categories)
    assert greedy_samples(ours, ours_model, categories) == theirs_names
    assert sum(len(name) > 2 for name in theirs_names) >= 5, theirs_names  # letters were chosen


def test_eval_turns_dropout_off_for_sampling(pair):
    ours, theirs, categories = pair[0], pair[1], pair[2]
    ours_model, theirs_model = models(pair, dropout=0.5)
    theirs_names = greedy_samples(theirs, theirs_model, categories)
    assert greedy_samples(ours, ours_model, categories) == theirs_names
    assert not ours_model.training


def test_multinomial_samples(pair):
    ours, theirs, categories = pair[0], pair[1], pair[2]
    ours_model, theirs_model = models(pair, dropout=0.0)
    pairs = fixed_pairs(pair, 30)
    theirs.train(theirs_model, pairs, categories, learning_rate=LR)
    ours.train(ours_model, pairs, categories, learning_rate=LR)
    theirs.torch.manual_seed(1)
    ts.manual_seed(1)
    for category in categories:
        for letter in "aekmr":
            for temperature in (0.5, 1.0):
                # ours draws a valid name from distributions that sum to one
                name, dists = ours.sample_multinomial(
                    ours_model, category, categories, letter, temperature
                )
                assert name[0] == letter and set(name) <= set(ours.all_letters)
                assert len(dists) in (len(name), len(name) - 1) and len(name) <= 21
                assert len(dists) == len(name) or len(name) == 21
                assert all(len(d) == ours.n_letters for d in dists)
                np.testing.assert_allclose([sum(d) for d in dists], 1.0, rtol=1e-12)
                # fed PyTorch's draw, ours gives the distributions PyTorch drew from
                name_t, dists_t = theirs.sample_multinomial(
                    theirs_model, category, categories, letter, temperature
                )
                ours_dists = ours.next_letter_distributions(
                    ours_model, category, categories, name_t, temperature
                )
                assert len(ours_dists) >= len(dists_t) > 0
                np.testing.assert_allclose(ours_dists[: len(dists_t)], dists_t, rtol=1e-9)


@pytest.mark.slow
def test_runs_as_a_script():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = ["--data", str(DATA), "--steps", "300", "--hidden", "32"]
    done = subprocess.run(
        [sys.executable, str(HERE / "name_generation.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    losses = [float(line.split()[-1]) for line in done.stdout.splitlines() if " loss " in line]
    assert len(losses) == 10 and all(np.isfinite(losses))
    for label in ("greedy:", "sampled (temperature 0.8):"):
        lines = [line for line in done.stdout.splitlines() if label in line]
        assert len(lines) == 2, done.stdout
        names = [line.split(label)[1].split() for line in lines]
        assert all(len(row) == 5 and all(n.isalpha() for n in row) for row in names)
