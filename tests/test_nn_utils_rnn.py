"""Tests of tinygrad_seq.nn.utils.rnn: padding and packing, against PyTorch's (values, gradients,
errors) and on their own (PackedSequence's constructors and methods, our extra checks)."""

from __future__ import annotations

import numpy as np
import pytest
from script_parity import check_script

import tinygrad_seq as ts
from tinygrad_seq.nn.utils.rnn import (
    PackedSequence,
    invert_permutation,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

# three sequences of lengths 2, 4, 3 with two features each, as leaves (float64 in scripts)
SEQS = """
R = torch.nn.utils.rnn
g = np.random.default_rng(0)
seqs = [torch.tensor(g.standard_normal((n, 2)), requires_grad=True) for n in (2, 4, 3)]
"""


def _grads(names="seqs"):
    """Script text: a weighted sum of out (a Tensor) backward, and the leaves' grads recorded."""
    return f"""
w = torch.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
(out * w).sum().backward()
for i, s in enumerate({names}):
    rec(f"grad{{i}}", s.grad)
"""


@pytest.mark.parity
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, side):
    check_script(
        SEQS + f"out = R.pad_sequence(seqs, batch_first={batch_first}, padding_value=-1.5, "
        f"padding_side='{side}')\nrec('out', out)\n" + _grads()
    )


@pytest.mark.parity
def test_pad_sequence_kinds_of_input_match_torch():
    check_script("""
R = torch.nn.utils.rnn
rec("ints", R.pad_sequence([torch.tensor([1, 2, 3]), torch.tensor([4])], padding_value=7))
rec("rows of a tensor", R.pad_sequence(torch.ones(2, 3), batch_first=True))
rec("3-d", R.pad_sequence([torch.ones(2, 2, 3), torch.zeros(1, 2, 3)], padding_value=5.0))
rec("a tuple, an empty one", R.pad_sequence((torch.ones(2), torch.ones(0))))
""")


@pytest.mark.parity
@pytest.mark.parametrize(
    "call, phrase",
    [
        ("R.pad_sequence([])", "empty list of sequences"),
        ("R.pad_sequence(5)", "Expected iterable for input sequences"),
        ("R.pad_sequence([torch.ones(2)], padding_side='up')", "one of left or right"),
        ("R.pad_sequence([torch.ones(2, 3), torch.ones(3, 4)])", None),
    ],
)
def test_pad_sequence_errors_match_torch(call, phrase):
    check_script(f"R = torch.nn.utils.rnn\n{call}\n", error_contains=phrase)


@pytest.mark.parity
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(
    "lengths, enforce_sorted",
    [
        ("[4, 3, 3, 1]", True),
        ("torch.tensor([4, 3, 3, 1])", True),
        ("[2, 4, 1, 4]", False),  # unsorted, with ties kept in their order
        ("torch.tensor([3, 1, 4, 2], dtype=torch.int32)", False),
        ("[4, 3, 2, 1]", False),  # already sorted: sorted_indices is still given
    ],
)
def test_pack_padded_sequence_matches_torch(batch_first, lengths, enforce_sorted):
    check_script(
        f"""
g = np.random.default_rng(0)
x = torch.tensor(g.standard_normal((4, 4, 2)), requires_grad=True)
p = torch.nn.utils.rnn.pack_padded_sequence(x, {lengths}, batch_first={batch_first},
                                            enforce_sorted={enforce_sorted})
rec("packed", tuple(p))
out = p.data
"""
        + _grads("[x]")
    )


@pytest.mark.parity
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pad_packed_sequence_matches_torch(batch_first, enforce_sorted):
    lengths = "[4, 3, 1]" if enforce_sorted else "[1, 4, 3]"
    check_script(
        f"""
R = torch.nn.utils.rnn
data = torch.tensor(np.random.default_rng(0).standard_normal((4, 3, 2)), requires_grad=True)
p = R.pack_padded_sequence(data * 1, {lengths}, enforce_sorted={enforce_sorted})
out, lengths = R.pad_packed_sequence(p, batch_first={batch_first}, padding_value=-3.0)
rec("out", out)
rec("lengths", lengths)
longer, _ = R.pad_packed_sequence(p, batch_first={batch_first}, total_length=6)
rec("total_length", longer)
"""
        + _grads("[data]")
    )


@pytest.mark.parity
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_and_unpack_sequence_match_torch(enforce_sorted):
    order = "(4, 3, 2)" if enforce_sorted else "(2, 4, 3)"
    check_script(
        f"""
R = torch.nn.utils.rnn
g = np.random.default_rng(0)
seqs = [torch.tensor(g.standard_normal((n, 3)), requires_grad=True) for n in {order}]
p = R.pack_sequence(seqs, enforce_sorted={enforce_sorted})
rec("packed", tuple(p))
back = R.unpack_sequence(p)
rec("unpacked", tuple(back))
out = torch.cat([b * (i + 1) for i, b in enumerate(back)])
"""
        + _grads()
    )


@pytest.mark.parity
@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_matches_torch(batch_first):
    # without batch_first PyTorch transposes the padded tensor in place: so do we
    check_script(
        SEQS
        + f"""
padded = R.pad_sequence(seqs, batch_first={batch_first})
lengths = torch.tensor([2, 4, 3])
parts = R.unpad_sequence(padded, lengths, batch_first={batch_first})
rec("parts", tuple(parts))
rec("padded after", padded)
out = torch.cat(parts) * torch.arange(1, 10, dtype=torch.float64)[:, None]
"""
        + _grads()
    )


@pytest.mark.parity
def test_unpad_sequence_of_a_leaf_fails_as_in_torch():
    check_script(
        "x = torch.ones(3, 2, requires_grad=True)\n"
        "torch.nn.utils.rnn.unpad_sequence(x, torch.tensor([3, 2]))\n",
        error_contains="leaf Variable that requires grad",
    )


@pytest.mark.parity
@pytest.mark.parametrize(
    "call, phrase",
    [
        ("R.pack_padded_sequence(x, [2, 4, 1])", "must be sorted in decreasing order"),
        ("R.pack_padded_sequence(x, [4, 0, 1], enforce_sorted=False)", "greater than 0"),
        ("R.pack_padded_sequence(x, [3, 2, 0])", "greater than 0"),
        ("R.pack_padded_sequence(x, [4, 2])", "equal to batch_size, but got 2 (batch_size=3)"),
        ("R.pack_padded_sequence(x, torch.tensor([[4, 2, 1]]))", "should be a 1D"),
        ("R.pack_padded_sequence(torch.ones(0, 3), [1, 1, 1])", "Cannot pack empty tensors"),
        ("R.pack_sequence([torch.ones(2), torch.ones(3)])", "sorted in decreasing order"),
        (
            "R.pad_packed_sequence(R.pack_padded_sequence(x, [4, 2, 1]), total_length=3)",
            "total_length=3 and max sequence length being 4",
        ),
    ],
)
def test_packing_errors_match_torch(call, phrase):
    check_script(
        f"R = torch.nn.utils.rnn\nx = torch.ones(4, 3, 2)\n{call}\n", error_contains=phrase
    )


@pytest.mark.parity
def test_packed_sequence_methods_match_torch():
    check_script("""
R = torch.nn.utils.rnn
p = R.pack_sequence([torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0, 5.0])], False)
data, batch_sizes, sorted_indices, unsorted_indices = p
rec("fields", (data, batch_sizes, sorted_indices, unsorted_indices))
rec("long", p.long().data)
rec("same", p.double() is p)
rec("rebuilt", tuple(R.PackedSequence(data, batch_sizes, sorted_indices)))
rec("pair", tuple(R.PackedSequence((data, batch_sizes))))
rec("replaced", tuple(p._replace(data=data * 2)))
rec("is_cuda", p.is_cuda)
rec("inverse", R.invert_permutation(torch.tensor([2, 0, 3, 1])))
""")


def test_packed_sequence_is_a_named_tuple_with_pytorchs_fields():
    p = pack_sequence([ts.tensor([1.0, 2.0, 3.0]), ts.tensor([4.0])])
    assert isinstance(p, tuple) and PackedSequence._fields == (
        "data",
        "batch_sizes",
        "sorted_indices",
        "unsorted_indices",
    )
    assert p.batch_sizes.dtype == np.int64 and p.sorted_indices is None
    assert repr(p).startswith("PackedSequence(data=tensor([1., 4., 2., 3.])")
    assert p.float().data.dtype == np.float32 and p.cpu() is p and not p.is_pinned()
    with pytest.raises(AssertionError, match="must be a pair"):
        PackedSequence(ts.ones(3))
    assert invert_permutation(None) is None


def test_a_length_longer_than_the_padded_input_is_an_error():
    # PyTorch reads past the end of the input here; we refuse
    with pytest.raises(RuntimeError, match="a length of 5 is longer than the padded input"):
        pack_padded_sequence(ts.ones(4, 2, 3), [5, 2])
    with pytest.raises(IndexError, match=r"must be \(T, B, \*\) or \(B, T, \*\)"):
        pack_padded_sequence(ts.ones(4), [4])
    with pytest.raises(AttributeError, match="expected a PackedSequence, got Tensor"):
        pad_packed_sequence(ts.ones(4, 2))
    with pytest.raises(ValueError, match="3 lengths for a batch of 2"):
        unpad_sequence(ts.ones(2, 4), [1, 2, 3], batch_first=True)
    with pytest.raises(RuntimeError, match="sequence 1 is 0-dimensional"):
        pad_sequence([ts.ones(2), ts.tensor(1.0)])


def test_round_trips_and_one_gather_each():
    rng = np.random.default_rng(0)
    seqs = [ts.tensor(rng.standard_normal((n, 2, 3)), requires_grad=True) for n in (3, 5, 1)]
    packed = pack_sequence(seqs, enforce_sorted=False)
    assert packed.data.shape == (9, 2, 3)
    np.testing.assert_array_equal(packed.batch_sizes.numpy(), [3, 2, 2, 1, 1])
    for a, b in zip(unpack_sequence(packed), seqs):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    padded, lengths = pad_packed_sequence(packed, batch_first=True)
    np.testing.assert_array_equal(lengths.numpy(), [3, 5, 1])
    again = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
    np.testing.assert_array_equal(again.data.detach().numpy(), packed.data.detach().numpy())
    # a sum of the packed data gives every real step's entry the gradient 1
    packed.data.sum().backward()
    for s in seqs:
        np.testing.assert_array_equal(s.grad.numpy(), np.ones(s.shape))


def test_names_importable_as_before_and_as_in_torch():
    from tinygrad_seq.nn.utils import clip_grad_norm_, clip_grad_value_, detach_states

    assert ts.nn.utils.clip_grad.clip_grad_norm_ is clip_grad_norm_
    assert callable(clip_grad_value_) and callable(detach_states)
    assert ts.nn.utils.rnn.pack_padded_sequence is pack_padded_sequence
    assert set(ts.nn.utils.rnn.__all__) >= {"PackedSequence", "pad_sequence", "unpack_sequence"}
