"""What the engine says when something goes wrong, and detect_anomaly()'s checks.

autograd.py decides when to raise; the wording lives here, so the walk stays short while a
message can say everything a user needs: the op, its scope ("Log (scope lstm.l0 t=3)"), and
what to do about it.

Under `autograd.detect_anomaly()` every op's forward output and every gradient its backward
returns is checked. A NaN or Inf is reported where it first appears from finite values,
naming the op and the line of user code that created it, which is looked up during the
forward pass because backward runs long after it. A NaN that only flows on from an earlier
one is not reported again: its origin already was.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

import numpy as np

from .grads import nonfinite


class AnomalyError(RuntimeError):
    """Raised by detect_anomaly() when an op first produces NaN or Inf."""


class GraphFreedError(RuntimeError):
    """Raised when backward runs through a graph whose saved arrays were already freed."""


def op_failed(name: str, error: Exception, shapes: list) -> Exception:
    """An op's forward error, named after the op, with the input shapes when it lacks them."""
    msg = str(error)
    if "shape" not in msg:
        msg += " (input shapes: " + ", ".join(str(tuple(s)) for s in shapes) + ")"
    return type(error)(f"{name}: {msg}")


def graph_freed(ctx: Any) -> GraphFreedError:
    """The error for a second backward through ctx after its saved arrays were freed."""
    return GraphFreedError(
        f"backward through {ctx.describe()} a second time: its saved arrays were freed after "
        "the first backward. Pass retain_graph=True to the first backward() if you need to "
        "backpropagate twice, or detach() the tensor you reuse (for example the hidden state "
        "carried between batches in truncated BPTT)."
    )


def wrong_gradient_shape(ctx: Any, got: tuple, expected: tuple) -> RuntimeError:
    """The error for ctx's backward returning a gradient of shape got for an input of expected."""
    return RuntimeError(
        f"internal error in {ctx.describe()}.backward: gradient of shape {got} for an input of "
        f"shape {expected}"
    )


def hook_wrong_shape(hook: Any, got: tuple, expected: tuple) -> RuntimeError:
    """The error for a gradient hook that returned a gradient of the wrong shape."""
    return RuntimeError(f"hook {hook!r} returned a gradient of shape {got}, expected {expected}")


# ----------------------------------------------------------------------------- anomaly mode


def user_frame() -> str:
    """The innermost stack frame outside this package: where user code created an op."""
    pkg = os.path.dirname(os.path.abspath(__file__))
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(pkg):
            return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}: {frame.line}'
    return "<unknown>"


def check_forward(ctx: Any, arrays: tuple, out: np.ndarray) -> None:
    """Note where ctx's op was created; raise if its output (any shape) first holds NaN/Inf."""
    ctx.where = user_frame()
    ctx.nonfinite_inputs = [j for j, a in enumerate(arrays) if nonfinite(a)]
    if nonfinite(out) and not ctx.nonfinite_inputs:
        bad = "nan" if np.isnan(out).any() else "inf"
        raise AnomalyError(
            f"detect_anomaly: {ctx.describe()} produced {bad} in its forward output from "
            f"finite inputs. It was created at {ctx.where}"
        )


def check_backward(ctx: Any, g: np.ndarray, input_grads: tuple) -> None:
    """Raise if ctx's backward turned a finite dL/dout into NaN/Inf in an input's gradient."""
    if nonfinite(g):
        return  # the culprit was downstream and already reported, or the seed itself
    for i, pg in enumerate(input_grads):
        if pg is not None and nonfinite(pg):
            dense = pg if isinstance(pg, np.ndarray) else pg.dense()
            bad = "nan" if np.isnan(dense).any() else "inf"
            fed = ctx.__dict__.get("nonfinite_inputs", [])
            cause = (
                f" Its forward input {fed[0]} already held nan/inf, so the cause lies upstream: a "
                "leaf (parameter or input) with non-finite values, or an op run outside "
                "detect_anomaly()."
                if fed
                else ""
            )
            raise AnomalyError(
                f"detect_anomaly: {ctx.describe()}.backward produced {bad} in the gradient of "
                f"input {i} from a finite incoming gradient.{cause} The op was created at "
                f"{ctx.where or '<unknown: created outside detect_anomaly()>'}"
            )


def saved_array_changed(ctx: Any, arr: Any, now: int, expected: int) -> RuntimeError:
    """PyTorch's error for an array ctx saved for backward and then changed in place."""
    where = f" It was created at {ctx.where}." if ctx.where else ""
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: an array of shape {tuple(arr.shape)} and dtype {arr.dtype} saved "
        f"by {ctx.describe()}, is at version {now}; expected version {expected} instead."
        f"{where} Hint: clone() the tensor before changing it in place, or run the forward "
        "under detect_anomaly() to see where the op was created."
    )
