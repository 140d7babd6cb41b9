"""Padding and packing of variable-length sequences, as torch.nn.utils.rnn.

A batch of sequences of different lengths can be held two ways. *Padded*: one (T, B, *) tensor
(or (B, T, *) with batch_first), each sequence followed by padding up to the longest length T.
*Packed*: the sequences sorted longest first, and their real steps laid out time step by time
step: step 0 of every sequence, then step 1 of every sequence that has one, and so on. The
packed `data` (sum of lengths, *) holds no padding at all; `batch_sizes[t]` says how many
sequences are still running at step t, which is all a recurrent layer needs to know.

Every conversion here is one gather of rows, `source[index]` with an integer index array, so it
is one differentiable op whose backward scatters the gradient back to the rows it read; padding
is a constant row appended to the source before the gather and receives no gradient that
matters. The recurrent layers (nn/rnn.py) accept a `PackedSequence` by padding it, running
their `lengths=` masking, and packing the output again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ...tensor import Tensor, cat

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


def _int64(a: Any) -> Tensor:
    """A constant int64 Tensor of a."""
    return Tensor._make(np.array(a, dtype=np.int64), False, None)


def _numpy(t: Any) -> np.ndarray:
    """A Tensor's array (or anything numpy takes) as an ndarray."""
    return t._data if isinstance(t, Tensor) else np.asarray(t)


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceFields):
    """data (sum of lengths, *), batch_sizes (T,) int64, sorted/unsorted_indices (B,) or None.

    Made by pack_padded_sequence and pack_sequence rather than by hand, as in PyTorch.
    sorted_indices[i] is the original position of the i-th longest sequence; unsorted_indices
    is its inverse (computed when not given).
    """

    __slots__ = ()

    def __new__(
        cls,
        data: Any,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        """(data, batch_sizes[, sorted_indices[, unsorted_indices]]) or ((data, batch_sizes))."""
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), as PyTorch allows
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError(
                    "PackedSequence: without batch_sizes, data must be a pair (data, batch_sizes)"
                )
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """data.to(*args, **kwargs), batch_sizes and indices kept; self if data is unchanged."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def double(self) -> PackedSequence:
        """data cast to float64."""
        return self.to("float64")

    def float(self) -> PackedSequence:
        """data cast to float32."""
        return self.to("float32")

    def long(self) -> PackedSequence:
        """data cast to int64."""
        return self.to("int64")

    def cpu(self) -> PackedSequence:
        """self: tinygrad_seq has the CPU only."""
        return self

    @property
    def is_cuda(self) -> bool:
        """False: tinygrad_seq has the CPU only."""
        return False

    def is_pinned(self) -> bool:
        """False: tinygrad_seq has no pinned memory."""
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """permutation (B,) int64 -> its inverse (B,) int64; None -> None."""
    if permutation is None:
        return None
    perm = _numpy(permutation)
    out = np.empty_like(perm, dtype=np.int64)
    out[perm] = np.arange(perm.size)
    return _int64(out)


def _lengths(lengths: Any) -> np.ndarray:
    """lengths as a list, array or Tensor -> 1-D int64 array, or PyTorch's error."""
    arr = np.asarray(_numpy(lengths))
    if arr.ndim != 1:
        raise RuntimeError(
            f"'lengths' argument should be a 1D CPU int64 tensor, but got {arr.ndim}D tensor"
        )
    return arr.astype(np.int64)


def _steps(batch_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each packed row's time step and rank in the batch: batch_sizes (T,) -> two (S,) arrays."""
    T = batch_sizes.size
    t = np.repeat(np.arange(T), batch_sizes)
    start = np.cumsum(batch_sizes) - batch_sizes  # the first packed row of each step
    return t, np.arange(t.size) - np.repeat(start, batch_sizes)


def pack_padded_sequence(
    input: Tensor,
    lengths: Tensor | Sequence[int],
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """(T, B, *) [batch_first: (B, T, *)] padded, lengths (B,) -> PackedSequence."""
    if input.ndim < 2:
        raise IndexError(
            "pack_padded_sequence: input must be (T, B, *) or (B, T, *), got shape "
            f"{tuple(input.shape)}"
        )
    lens = _lengths(lengths)
    T, B = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if lens.size != B:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lens.size} "
            f"(batch_size={B})"
        )
    order = None
    if not enforce_sorted:
        # longest first, ties in their given order: PyTorch's sort (not stable) keeps that order
        # for up to 16 sequences; past 16 its order among equal lengths is unspecified
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
    if lens[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    if np.any(lens[1:] > lens[:-1]):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
            "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
            "sidestep this requirement if you do not need ONNX exportability."
        )
    if lens[0] > T:  # PyTorch reads past the end of input here; we refuse
        raise RuntimeError(
            f"pack_padded_sequence: a length of {lens[0]} is longer than the padded input "
            f"({T} steps)"
        )
    batch_sizes = (lens[None, :] > np.arange(lens[0])[:, None]).sum(axis=1)
    t, b = _steps(batch_sizes)
    if order is not None:
        b = order[b]
    data = input[b, t] if batch_first else input[t, b]
    sorted_indices = None if order is None else _int64(order)
    return PackedSequence(data, _int64(batch_sizes), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """PackedSequence -> (padded (T, B, *) [batch_first: (B, T, *)], lengths (B,) int64).

    The batch is in the original order (the one given to pack_padded_sequence); T is the
    longest length, or total_length.
    """
    if not hasattr(sequence, "batch_sizes"):  # PyTorch's error type, a clearer message
        raise AttributeError(
            f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__} "
            "(it has no batch_sizes)"
        )
    batch_sizes = _numpy(sequence.batch_sizes).astype(np.int64)
    T = batch_sizes.size
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being {T}"
            )
        T = total_length
    data = sequence.data
    S, B = data.shape[0], int(batch_sizes[0])
    index = np.full((T, B), S)  # row S is the padding row appended below
    t, b = _steps(batch_sizes)
    index[t, b] = np.arange(S)
    lengths = (batch_sizes[:, None] > np.arange(B)[None, :]).sum(axis=0)
    if sequence.unsorted_indices is not None:
        unsorted = _numpy(sequence.unsorted_indices)
        index, lengths = index[:, unsorted], lengths[unsorted]
    pad = np.full((1,) + data.shape[1:], padding_value, dtype=data.dtype)
    pad = Tensor._make(pad, False, None)
    padded = cat([data, pad])[index.T if batch_first else index]
    return padded, _int64(lengths)


def pad_sequence(
    sequences: Tensor | Iterable[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """B tensors (L_i, *) -> (T, B, *) [batch_first: (B, T, *)], T = max L_i, padded."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            "pad_sequence: Expected iterable for input sequences, but got arg of type: "
            f"{type(sequences)}"
        )
    seqs = list(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    first = seqs[0]
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: sequence {i} is a {type(s).__name__}, not a Tensor")
        if s.ndim == 0:
            raise RuntimeError(f"pad_sequence: sequence {i} is 0-dimensional, expected (L, *)")
        if s.shape[1:] != first.shape[1:]:
            raise RuntimeError(
                f"pad_sequence: sequence {i} has shape {tuple(s.shape)} but sequence 0 has "
                f"{tuple(first.shape)}; all must have the same trailing dimensions"
            )
    lens = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    T, S = int(lens.max()), int(lens.sum())
    index = np.full((T, len(seqs)), S)  # row S is the padding row
    start = 0
    for b, n in enumerate(lens):
        rows = slice(0, n) if padding_side == "right" else slice(T - n, T)
        index[rows, b] = np.arange(start, start + n)
        start += n
    pad = np.full((1,) + first.shape[1:], padding_value, dtype=first.dtype)
    pad = Tensor._make(pad, False, None)
    source = cat([s.to(first.dtype) for s in seqs] + [pad])
    return source[index.T if batch_first else index]


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    """(T, B, *) [batch_first: (B, T, *)], lengths (B,) -> B tensors (lengths[i], *).

    As PyTorch's, without batch_first it transposes padded_sequences in place (to (B, T, *)).
    """
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    lens = _lengths(lengths)
    if lens.size != padded_sequences.shape[0]:
        raise ValueError(
            f"unpad_sequence: {lens.size} lengths for a batch of {padded_sequences.shape[0]}"
        )
    return [padded_sequences[i, np.arange(n)] for i, n in enumerate(lens)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """B tensors (L_i, *) -> PackedSequence (pad_sequence, then pack_padded_sequence)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """PackedSequence -> B tensors (L_i, *) in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
