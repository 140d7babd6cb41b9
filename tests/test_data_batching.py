"""Tests of tinygrad_seq.data.batching: pad_sequences and BatchIterator."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_seq.data import Batch, BatchIterator, pad_sequences
from tinygrad_seq.random import manual_seed


def test_pad_sequences_values_and_layout():
    padded, lengths = pad_sequences([[1, 2, 3], [4], []], padding_value=9)
    assert padded.dtype == np.int64 and lengths.dtype == np.int64
    np.testing.assert_array_equal(padded, [[1, 2, 3], [4, 9, 9], [9, 9, 9]])
    np.testing.assert_array_equal(lengths, [3, 1, 0])
    tm, _ = pad_sequences([[1, 2, 3], [4]], batch_first=False)
    assert tm.shape == (3, 2)
    np.testing.assert_array_equal(tm, [[1, 4], [2, 0], [3, 0]])
    wide, _ = pad_sequences([np.array([5, 6])], max_len=4)
    np.testing.assert_array_equal(wide, [[5, 6, 0, 0]])


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="no sequences"):
        pad_sequences([])
    with pytest.raises(ValueError, match=r"sequence 1 has length 3 > max_len=2"):
        pad_sequences([[1], [1, 2, 3]], max_len=2)
    with pytest.raises(TypeError, match="sequence 0 is a str"):
        pad_sequences(["abc"])
    with pytest.raises(ValueError, match="1-D"):
        pad_sequences([[[1, 2]]])
    with pytest.raises(TypeError, match="integer"):
        pad_sequences([[1.5, 2.0]])


def _items(n):
    return [list(range(i, i + 1 + i % 4)) for i in range(n)]  # first id identifies the item


def _firsts(batches):
    return [int(b.inputs[j, 0]) for b in batches for j in range(b.inputs.shape[0])]


def test_batch_iterator_covers_each_item_once_per_epoch():
    it = BatchIterator(_items(23), batch_size=5, seed=0)
    assert len(it) == 5
    for _ in range(3):
        batches = list(it)
        assert len(batches) == 5 and all(isinstance(b, Batch) for b in batches)
        assert sorted(_firsts(batches)) == list(range(23))
        for b in batches:
            assert b.targets is None
            np.testing.assert_array_equal(b.lengths, 1 + b.inputs[:, 0] % 4)


def test_batch_iterator_seeded_reproducible_and_epochs_differ():
    a, b = BatchIterator(_items(40), 8, seed=7), BatchIterator(_items(40), 8, seed=7)
    e0a, e1a = _firsts(a), _firsts(a)
    assert e0a == _firsts(b) and e1a == _firsts(b)
    assert e0a != e1a
    a.set_epoch(1)
    assert _firsts(a) == e1a
    assert _firsts(BatchIterator(_items(40), 8, shuffle=False)) == list(range(40))


def test_batch_iterator_unseeded_uses_package_generator():
    manual_seed(11)
    first = _firsts(BatchIterator(_items(30), 4))
    manual_seed(11)
    assert _firsts(BatchIterator(_items(30), 4)) == first
    assert first != list(range(30))


def test_batch_iterator_drop_last_and_len():
    it = BatchIterator(_items(23), batch_size=5, drop_last=True, seed=1)
    assert len(it) == 4
    batches = list(it)
    assert len(batches) == 4 and all(b.inputs.shape[0] == 5 for b in batches)
    assert len(set(_firsts(batches))) == 20
    assert len(BatchIterator(_items(3), 5, drop_last=True)) == 0
    assert len(BatchIterator(_items(10), 5)) == 2


def test_batch_iterator_labels_and_sorting():
    data = [([1, 2], 0), ([3], 1), ([4, 5, 6], 2), ([7, 8, 9, 10], 1)]
    it = BatchIterator(data, 4, shuffle=False, sort_within_batch=True)
    (b,) = list(it)
    np.testing.assert_array_equal(b.lengths, [4, 3, 2, 1])
    np.testing.assert_array_equal(b.targets, [1, 2, 0, 1])
    assert b.targets.dtype == np.int64 and b.inputs.shape == (4, 4)
    assert b.inputs[0].tolist() == [7, 8, 9, 10]


def test_batch_iterator_seq2seq_time_major():
    data = [([1, 2, 3], [5, 6]), ([4], [7, 8, 9])]
    it = BatchIterator(data, 2, shuffle=False, batch_first=False, target_padding_value=-100)
    (b,) = list(it)
    assert b.inputs.shape == (3, 2) and b.targets.shape == (3, 2)
    np.testing.assert_array_equal(b.targets, [[5, 7], [6, 8], [-100, 9]])
    np.testing.assert_array_equal(b.inputs[:, 1], [4, 0, 0])


def test_batch_iterator_errors():
    with pytest.raises(ValueError, match="empty"):
        BatchIterator([], 2)
    with pytest.raises(ValueError, match="batch_size"):
        BatchIterator(_items(3), 0)
    with pytest.raises(ValueError, match=r"data\[1\] is not"):
        BatchIterator([([1], 0), [2, 3]], 2)
    with pytest.raises(TypeError, match=r"data\[0\] is a str"):
        BatchIterator(["abc"], 2)
