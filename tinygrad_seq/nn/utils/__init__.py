"""tinygrad_seq.nn.utils, as torch.nn.utils: gradient clipping, detaching states, rnn packing.

`clip_grad` holds the training helpers (clip_grad_norm_, clip_grad_value_, detach_states);
`rnn` holds padding and packing of variable-length sequences (pad_sequence, PackedSequence,
pack_padded_sequence, ...), imported as a module as in PyTorch: `nn.utils.rnn.pack_sequence`.
"""

from . import clip_grad, rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_, detach_states

__all__ = ["clip_grad", "clip_grad_norm_", "clip_grad_value_", "detach_states", "rnn"]
