"""Tests of tinygrad_seq.nn.functional: `F` is the functions of tinygrad_seq.functional.

The functions themselves are tested in test_functional.py; the one function of nn's own,
multi_head_attention_forward (nn/attention.py), in test_nn_attention.py.
"""

from __future__ import annotations

from tinygrad_seq import functional as TF
from tinygrad_seq.nn import attention
from tinygrad_seq.nn import functional as F


def test_nn_functional_reexports_the_package_functions():
    own = {"multi_head_attention_forward": attention}  # nn's functional forms, where they live
    assert F.__all__ and set(F.__all__) <= set(dir(TF)) | set(own)
    for name in F.__all__:
        assert getattr(F, name) is getattr(own.get(name, TF), name), name
