"""name_classifier.py under tinygrad_seq and under PyTorch: the same losses, guesses, confusion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from harness import HERE, assert_agree, load_pair, same_start, to_numpy

import tinygrad_seq as ts

pytestmark = pytest.mark.parity

ROOT = HERE.parent.parent
DATA = ROOT / "tinygrad_seq" / "data" / "corpora" / "names.tsv"
HIDDEN = 16


@pytest.fixture(scope="module")
def pair():
    """(ours, theirs, their dataset, our dataset, their train split, their test split), float64.

    Both datasets hold float64 name tensors; the split is PyTorch's, used by both for parity.
    PyTorch runs on one thread meanwhile: its thread pool spins on a busy two-core machine.
    """
    ours, theirs = load_pair("name_classifier")
    torch = theirs.torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    ts.set_default_dtype(ts.float64)
    try:
        theirs_data = theirs.NamesDataset(str(DATA))
        ours_data = ours.NamesDataset(str(DATA))
    finally:
        torch.set_default_dtype(torch.float32)
        ts.set_default_dtype(ts.float32)
    theirs_train, theirs_test = theirs.split_data(theirs_data)
    yield ours, theirs, ours_data, theirs_data, theirs_train, theirs_test
    torch.set_num_threads(threads)


@pytest.fixture
def float64(pair):
    """Both frameworks make float64 tensors in the test; torch goes back to float32 after it."""
    torch = pair[1].torch
    torch.set_default_dtype(torch.float64)
    ts.set_default_dtype(ts.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(torch.float32)


def models(pair, kind):
    """PyTorch's freshly seeded model and ours with its state_dict."""
    ours, theirs = pair[0], pair[1]
    theirs.torch.manual_seed(0)
    theirs_model = theirs.build_model(kind, HIDDEN, 2)
    ours_model = ours.build_model(kind, HIDDEN, 2)
    same_start(ours_model, theirs_model, ts)
    assert repr(ours_model) == repr(theirs_model)  # print(model) shows the same layers
    return ours_model, theirs_model


def ours_subset(pair, subset):
    """Our dataset restricted to the indices of one of PyTorch's split Subsets."""
    ours, ours_data = pair[0], pair[2]
    return ours.Subset(ours_data, list(subset.indices))


def assert_same_evaluation(pair, ours_model, theirs_model, theirs_test):
    ours, theirs = pair[0], pair[1]
    classes = pair[3].labels_uniq
    assert pair[2].labels_uniq == classes
    acc_o, conf_o = ours.evaluate(ours_model, ours_subset(pair, theirs_test), classes)
    acc_t, conf_t = theirs.evaluate(theirs_model, theirs_test, classes)
    assert acc_o == acc_t
    np.testing.assert_array_equal(to_numpy(conf_o), to_numpy(conf_t))
    np.testing.assert_allclose(to_numpy(conf_o).sum(axis=1), 1.0)
    assert (to_numpy(conf_t).max(axis=0) > 0).all(), "the model guesses one label only"
    for name in ["emma", "jordan"]:
        pred_o = ours.predict(ours_model, name, classes)
        pred_t = theirs.predict(theirs_model, name, classes)
        assert [label for _, label in pred_o] == [label for _, label in pred_t]
        np.testing.assert_allclose([v for v, _ in pred_o], [v for v, _ in pred_t], rtol=1e-9)


def test_dataset_items_match(pair):
    ours_data, theirs_data = pair[2], pair[3]
    assert len(ours_data) == len(theirs_data) == 5163
    for i in [0, 1, 2500, 5162]:
        item_o, item_t = ours_data[i], theirs_data[i]
        assert item_o[2:] == item_t[2:]
        np.testing.assert_array_equal(to_numpy(item_o[0]), to_numpy(item_t[0]))
        np.testing.assert_array_equal(to_numpy(item_o[1]), to_numpy(item_t[1]))
        assert to_numpy(item_o[1]).shape == (len(item_o[3]), 1, pair[0].n_letters)


def test_random_split_is_a_partition(pair):
    ours, ours_data, theirs_train, theirs_test = pair[0], pair[2], pair[4], pair[5]
    train, test = ours.split_data(ours_data)
    assert (len(train), len(test)) == (len(theirs_train), len(theirs_test))
    indices = list(train.indices) + list(test.indices)
    assert sorted(indices) == list(range(len(ours_data)))
    again, _ = ours.split_data(ours_data)
    assert list(again.indices) == list(train.indices)  # the seeded generator repeats


def test_shuffled_loader_yields_a_permutation(pair):
    ours, ours_data = pair[0], pair[2]
    subset = ours.Subset(ours_data, list(range(0, 1000, 3)))
    loader = ours.make_loader(subset, 32, shuffle=True, generator=ts.Generator().manual_seed(5))
    epochs = []
    for _ in range(2):
        names = []
        for labels, packed, label_strs, batch_names in loader:
            assert len(batch_names) <= 32 and labels.shape == (len(batch_names),)
            classes = ours_data.labels_uniq
            assert [classes[i] for i in labels.tolist()] == label_strs
            assert int(packed.batch_sizes[0]) == len(batch_names)
            names += batch_names
        assert sorted(names) == sorted(subset[i][3] for i in range(len(subset)))
        epochs.append(names)
    assert epochs[0] != epochs[1]
    assert epochs[0] != [subset[i][3] for i in range(len(subset))]


def test_rnn_training_and_evaluation_agree(pair, float64):
    ours, theirs, theirs_train, theirs_test = pair[0], pair[1], pair[4], pair[5]
    ours_model, theirs_model = models(pair, "rnn")
    order = list(theirs_train.indices)[: 32 * 35]  # a fixed order: 35 batches of 32
    theirs_loader = theirs.make_loader(theirs.Subset(pair[3], order), 32, shuffle=False)
    ours_loader = ours.make_loader(ours.Subset(pair[2], order), 32, shuffle=False)
    theirs_losses = theirs.train(theirs_model, theirs_loader, learning_rate=0.1)
    ours_losses = ours.train(ours_model, ours_loader, learning_rate=0.1)
    assert len(theirs_losses) == 35
    assert_agree(ours_losses, theirs_losses, rtol=1e-6)
    assert theirs_losses[-1] < theirs_losses[0]
    assert_same_evaluation(pair, ours_model, theirs_model, theirs_test)


def test_tutorial_loop_one_name_at_a_time_agrees(pair, float64):
    ours, theirs, theirs_train, theirs_test = pair[0], pair[1], pair[4], pair[5]
    ours_model, theirs_model = models(pair, "rnn")
    # batches of numpy indices into the train Subset, as np.array_split makes them
    batches = np.array_split(np.arange(0, 32 * 12 * 3, 3), 32)
    theirs_losses = theirs.train_items(theirs_model, theirs_train, batches, learning_rate=0.2)
    ours_train = ours_subset(pair, theirs_train)
    ours_losses = ours.train_items(ours_model, ours_train, batches, learning_rate=0.2)
    assert len(theirs_losses) == 32
    assert_agree(ours_losses, theirs_losses, rtol=1e-6)
    assert_same_evaluation(pair, ours_model, theirs_model, theirs_test)


def test_tutorial_batches_are_a_shuffled_partition(pair):
    ours = pair[0]
    batches = ours.shuffled_batches(100, 16)
    assert len(batches) == 6 and all(len(b) in (16, 17) for b in batches)
    flat = np.concatenate(batches).tolist()
    assert sorted(flat) == list(range(100)) and flat != list(range(100))


def test_cell_training_and_evaluation_agree(pair, float64):
    ours, theirs, theirs_train, theirs_test = pair[0], pair[1], pair[4], pair[5]
    ours_model, theirs_model = models(pair, "cell")
    labels = pair[3].labels
    by_label = {c: [i for i in theirs_train.indices if labels[i] == c] for c in ("female", "male")}
    # 60 names, one manual update each, the labels alternating as the tutorial's random choice
    order = [by_label["female" if k % 2 == 0 else "male"][(k // 2) * 7] for k in range(60)]
    theirs_losses = theirs.train_cell(theirs_model, [pair[3][i] for i in order], 0.05)
    ours_losses = ours.train_cell(ours_model, [pair[2][i] for i in order], 0.05)
    assert len(theirs_losses) == 60
    assert_agree(ours_losses, theirs_losses, rtol=1e-6)
    assert_same_evaluation(pair, ours_model, theirs_model, theirs_test)


@pytest.mark.slow
@pytest.mark.parametrize("model, loop", [("rnn", "loader"), ("rnn", "items"), ("cell", "loader")])
def test_runs_as_a_script(model, loop):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = ["--data", str(DATA), "--model", model, "--loop", loop, "--epochs", "1"]
    args += ["--steps", "300", "--batch-size", "128"]
    script = Path(HERE / "name_classifier.py")
    done = subprocess.run(
        [sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    losses = [float(line.split()[-1]) for line in done.stdout.splitlines() if " loss " in line]
    assert len(losses) >= 5 and all(np.isfinite(losses))
    assert "test accuracy" in done.stdout and "confusion" in done.stdout
    assert "> emma" in done.stdout
