"""Run one script text under tinygrad_seq and under PyTorch and compare what it records.

A script imports nothing: `torch` is bound to the framework under test (tinygrad_seq, or torch
itself), `np` to numpy and `rec(name, value)` records a value: a tensor (its values, dtype
kind and shape), a number, a bool, None, or a tuple of those. An exception ends the script and
is recorded too, by type and message. Both runs must record the same names with the same
values, to float64 precision, and raise the same type of error at the same point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from helpers import require_torch

import tinygrad_seq as ts


def _plain(v: Any) -> Any:
    """A recorded value as numpy / Python values, the same for both frameworks."""
    if isinstance(v, (tuple, list)):
        return tuple(_plain(x) for x in v)
    if hasattr(v, "detach") and hasattr(v, "numpy"):
        return np.array(v.detach().numpy())
    return v


def run(script: str, framework: Any) -> tuple[dict, tuple | None]:
    """-> (recorded values by name, (error type name, message) or None)."""
    recorded: dict = {}

    def rec(name: str, value: Any) -> None:
        recorded[name] = _plain(value)

    namespace = {"torch": framework, "np": np, "rec": rec}
    framework.set_default_dtype(framework.float64)
    try:
        exec(compile(script, "<script>", "exec"), namespace)
        error = None
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        error = (type(e).__name__, str(e))
    finally:
        framework.set_default_dtype(framework.float32)
    return recorded, error


def _same(name: str, a: Any, b: Any, atol: float) -> None:
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b), f"{name}: {a!r} vs torch {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            _same(f"{name}[{i}]", x, y, atol)
        return
    if isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray), f"{name}: {type(a).__name__}, torch gives a tensor"
        assert a.shape == b.shape, f"{name}: shape {a.shape} vs torch {b.shape}"
        assert a.dtype.kind == b.dtype.kind, f"{name}: dtype {a.dtype} vs torch {b.dtype}"
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=atol, err_msg=name)
        return
    assert a == b or (a != a and b != b), f"{name}: {a!r} vs torch {b!r}"


def check_script(script: str, error_contains: str | None = None, atol: float = 1e-12) -> dict:
    """The script records the same values under both frameworks, or fails the same way.

    error_contains: a phrase both error messages must contain (when the script must fail).
    -> tinygrad_seq's recorded values.
    """
    torch = require_torch()
    ours, our_error = run(script, ts)
    theirs, their_error = run(script, torch)
    assert (our_error is None) == (their_error is None), (
        f"tinygrad_seq error: {our_error}\ntorch error: {their_error}"
    )
    if their_error is not None:
        assert our_error[0] == their_error[0], f"error types: {our_error} vs torch {their_error}"
        if error_contains is not None:
            assert error_contains in their_error[1], f"torch says: {their_error[1]}"
            assert error_contains in our_error[1], f"we say: {our_error[1]}"
    elif error_contains is not None:
        raise AssertionError(f"expected an error containing {error_contains!r}; none raised")
    if their_error is None:
        assert sorted(ours) == sorted(theirs), f"recorded {sorted(ours)} vs {sorted(theirs)}"
    # else the same error, possibly raised a step earlier or later: compare what both have
    for name in set(theirs) & set(ours):
        _same(name, ours[name], theirs[name], atol)
    return ours
