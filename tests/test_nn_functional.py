"""Tests of tinygrad_seq.nn.functional: `F` is the functions of tinygrad_seq.functional.

The functions themselves are tested in test_functional.py.
"""

from __future__ import annotations

from tinygrad_seq import functional as TF
from tinygrad_seq.nn import functional as F


def test_nn_functional_reexports_the_package_functions():
    assert F.__all__ and set(F.__all__) <= set(dir(TF))
    for name in F.__all__:
        assert getattr(F, name) is getattr(TF, name), name
