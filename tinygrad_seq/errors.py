"""What the engine says when something goes wrong, and the checks that notice it.

autograd.py decides when to raise; the wording lives here, so the walk stays short while a
message can say everything a user needs: the op, its scope ("Log (scope lstm.l0 t=3)"), and
what to do about it.

Under `autograd.detect_anomaly()` every op's forward output and every gradient its backward
returns is checked. A NaN or Inf is reported where it first appears from finite values,
naming the op and the line of user code that created it, which is looked up during the
forward pass because backward runs long after it. A NaN that only flows on from an earlier
one is not reported again: its origin already was.

The version registry behind PyTorch's "modified by an inplace operation" error lives here too
(autograd.bump_version records a change, check_saved compares), as do the checks and messages
of the public autograd API: grad()'s arguments and user-defined Functions.
"""

from __future__ import annotations

import os
import traceback
import weakref
from typing import Any

import numpy as np

from .grads import nonfinite


class AnomalyError(RuntimeError):
    """Raised by detect_anomaly() when an op first produces NaN or Inf."""


class GraphFreedError(RuntimeError):
    """Raised when backward runs through a graph whose saved arrays were already freed."""


def format_scope(path: tuple[str, ...]) -> str:
    """('lstm', 'l0', 't=3') -> 'lstm.l0 t=3': module path dotted, time step (or head) after."""
    names = [p for p in path if not p.startswith(("t=", "head "))]
    steps = [p for p in path if p.startswith(("t=", "head "))]
    return " ".join([".".join(names)] + steps[-1:]).strip()


def op_failed(name: str, error: Exception, shapes: list) -> Exception:
    """An op's forward error, named after the op, with the input shapes when it lacks them.

    numpy (and our ops, in its words) raise ValueError for shapes that do not fit; PyTorch
    raises RuntimeError, so that is the type a program catches.
    """
    msg = str(error)
    if "shape" not in msg:
        msg += " (input shapes: " + ", ".join(str(tuple(s)) for s in shapes) + ")"
    kind = RuntimeError if type(error) is ValueError else type(error)
    return kind(f"{name}: {msg}")


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


# ----------------------------------------------------------------------------- in-place changes

# The registry behind autograd's version counters: one _Version per block of memory, keyed by
# the array that owns it, with the creation-order points (seq) of its latest changes, so that
# check_saved can tell the version a node saved from the one its array has now.


class _Version:
    """The version of one block of memory: how often it was changed in place, and when."""

    __slots__ = ("ref", "version", "changes")

    def __init__(self, owner: np.ndarray):
        self.ref = weakref.ref(owner)
        self.version = 0
        self.changes: list = []  # (seq, version after the change), the latest _HISTORY ones


_HISTORY = 64
_versions: dict[int, _Version] = {}  # id(owner array) -> its version


def _owner(arr: np.ndarray) -> np.ndarray:
    """The array that owns arr's memory (arr itself, or the base its view chain ends in)."""
    while True:
        base = arr.base
        if not isinstance(base, np.ndarray):  # as_strided (expand) leaves a holder in between
            base = getattr(base, "base", None)
            if not isinstance(base, np.ndarray):
                return arr
        arr = base


def version_entry(arr: np.ndarray) -> _Version | None:
    """The version record of arr's memory, or None if it was never changed in place."""
    owner = _owner(arr)
    entry = _versions.get(id(owner))
    return entry if entry is not None and entry.ref() is owner else None


def record_change(arr: np.ndarray, seq: int) -> int:
    """Note an in-place change of arr's memory at creation-order point seq; -> its new version."""
    owner = _owner(arr)
    entry = version_entry(owner)
    if entry is None:
        if len(_versions) > 1024 and len(_versions) % 1024 == 0:  # drop freed arrays' entries
            for key in [k for k, e in _versions.items() if e.ref() is None]:
                del _versions[key]
        entry = _versions[id(owner)] = _Version(owner)
    entry.version += 1
    entry.changes.append((seq, entry.version))
    del entry.changes[:-_HISTORY]
    return entry.version


def check_saved(ctx: Any) -> None:
    """PyTorch's error if an array ctx saved for backward changed in place after ctx was made."""
    for arr in ctx.saved_tensors:
        arr = getattr(arr, "_data", arr)  # a user Function saves Tensors
        entry = version_entry(arr) if type(arr) is np.ndarray else None
        if entry is None or entry.changes[-1][0] < ctx.seq:
            continue
        before = [v for seq, v in entry.changes if seq < ctx.seq]  # the version it saved
        expected = before[-1] if before else entry.changes[0][1] - 1
        raise saved_array_changed(ctx, arr, entry.version, expected)


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


# ----------------------------------------------------------------------------- no_grad views

_NO_GRAD_VIEW_ADVICE = (
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block (if "
    "you don't want the inplace to be tracked) or both outside (if you want the inplace to be "
    "tracked)."
)


def no_grad_view(direct: bool, what: str) -> str:
    """PyTorch's error for a view made under no_grad (direct) or a view of one, then `what`."""
    who = "A view was" if direct else "This tensor is a view of a view which was"
    return f"{who} created in no_grad mode and {what}. {_NO_GRAD_VIEW_ADVICE}"


NO_GRAD_VIEW_WRITTEN = "is being modified inplace with grad mode enabled"
NO_GRAD_VIEW_CHANGED = (
    "its base or another view of its base has been modified inplace with grad mode enabled"
)


# ----------------------------------------------------------------------------- autograd.grad

NO_DOUBLE_BACKWARD = (
    "autograd.grad: create_graph=True (and is_grads_batched) would need double backward, which "
    "tinygrad_seq does not support: its backward passes compute on numpy arrays (first-order "
    "gradients). Compute higher derivatives with finite differences (tinygrad_seq.check)."
)
UNUSED_INPUT = (
    "One of the differentiated Tensors appears to not have been used in the graph. Set "
    "allow_unused=True if this is the desired behavior."
)


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def check_grad_args(
    outputs: Any, inputs: Any, given: Any, higher: bool, allow_unused: Any, zeros: bool
) -> tuple:
    """autograd.grad's arguments checked as PyTorch does; -> (outputs, inputs, seed arrays)."""
    if higher:  # create_graph=True or is_grads_batched=True
        raise NotImplementedError(NO_DOUBLE_BACKWARD)
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    given = [None] * len(outputs) if given is None else _as_list(given)
    if zeros and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
            "allow_unused=False."
        )
    if len(given) != len(outputs):
        raise RuntimeError(
            f"grad requires one grad_output per output: got {len(given)} for {len(outputs)} outputs"
        )
    seeds = []
    for i, (o, g) in enumerate(zip(outputs, given)):
        e = o._ctx or o  # its edge; a view made under no_grad has a dead one (tensor.py)
        if not o.requires_grad or (not e.requires_grad and e.node is None):
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if o.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs "
                    f"(output {i} has shape {tuple(o.shape)})"
                )
            g = np.ones(o.shape, o.dtype)
        g = np.asarray(getattr(g, "_data", g), dtype=o.dtype)
        if g.shape != tuple(o.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of "
                f"{list(g.shape)} and output[{i}] has a shape of {list(o.shape)}."
            )
        seeds.append(g)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors (input {i}) does not require grad"
            )
    return outputs, inputs, seeds


def wrong_gradient_count(node: Any, expected: int, got: int) -> str:
    """PyTorch's message for a Function's backward returning too many or too few gradients."""
    return (
        f"function {node.name()} returned an incorrect number of gradients (expected {expected}, "
        f"got {got}): one per argument of forward, None for those without one"
    )


MARK_DIRTY = (
    "ctx.mark_dirty is not supported: a Function written on Tensors may not change its inputs "
    "in place here. Change a copy instead (y = x.clone(); y.mul_(2); return y) and return it"
)
