"""The Optimizer base class: parameter groups, per-parameter state, zero_grad, state_dict.

An optimizer owns a list of *parameter groups*. Each group is a dict holding its Tensors under
`"params"` and its hyperparameters (`"lr"`, `"momentum"`, ...) under their names; options a group
does not set come from the optimizer's `defaults`. Different groups may use different learning
rates, which is what learning-rate schedulers and fine-tuning recipes change.

`step()` visits every parameter whose `.grad` is set and calls the subclass's `_update(p, g,
state, group)`, which changes the parameter's memory *in place* with numpy operations and then
bumps its version, as PyTorch's in-place `p.add_(...)` would. No graph is recorded, the
parameter objects keep their identity (a Module still holds the very same Tensors, and views
and `.data` of a parameter see the update), and
`self.state[p]` keeps the running buffers (momentum, moment estimates, ...) as numpy arrays in
the parameter's dtype, created lazily on the first step that sees a gradient.

`state_dict()` uses PyTorch's layout, with parameters replaced by their position in the
optimizer (counting through the groups in order)::

    {"state": {0: {"step": 3, "exp_avg": ndarray, ...}, ...},
     "param_groups": [{"lr": 0.001, ..., "params": [0, 1]}, {"lr": 0.01, "params": [2]}]}

`load_state_dict()` accepts numpy arrays, tinygrad_seq Tensors or anything `np.asarray` takes
(so PyTorch optimizer checkpoints load too), validates everything first, and changes nothing
when it raises.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import autograd
from ..autograd import enable_grad, no_grad
from ..tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


# ----------------------------------------------------------------------------- helpers

_SET_MESSAGE = (
    "parameters must be in an ordered collection (a list), not a set, whose order changes "
    "between runs and would scramble state_dict()"
)


def check_range(name: str, value: Any, low: float = 0.0, high: float | None = None) -> None:
    """Raise ValueError unless low <= value (< high when given); name says which option."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"Invalid {name}: expected a number, got {type(value).__name__}")
    if not low <= value or (high is not None and not value < high):
        bound = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"Invalid {name}: {value} ({name} must be {bound})")


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start <- start + weight * (end - start), in place, in PyTorch's two-sided form."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:  # closer to `end`: measuring from it keeps the rounding error small
        start[...] = end - (end - start) * (1.0 - weight)


def buffer(state: dict, key: str, p: Tensor, fill: float = 0.0) -> np.ndarray:
    """state[key], created on first use as an array like p._data filled with `fill`."""
    buf = state.get(key)
    if buf is None:
        buf = state[key] = np.full_like(p._data, fill)
    return buf


def _split_names(params: list, where: str) -> tuple[list, list | None]:
    """[(name, tensor), ...] or [tensor, ...] -> (tensors, names or None)."""
    named = [isinstance(p, tuple) for p in params]
    if not any(named):
        return params, None
    if not all(named):
        raise ValueError(f"{where}: either every parameter is a (name, tensor) pair or none is")
    return [p[1] for p in params], [p[0] for p in params]


def _check_param(p: Any, where: str) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(f"{where}: optimizers optimize Tensors, got {type(p).__name__}")
    if not p.requires_grad:
        raise ValueError(
            f"{where}: a parameter of shape {tuple(p.shape)} does not require grad, so it never "
            "gets a gradient; create it with requires_grad=True or leave it out"
        )
    if not p.is_leaf and not p.retains_grad:
        raise ValueError(
            f"{where}: can't optimize a non-leaf Tensor (one computed by an op, grad_fn="
            f"{p.grad_fn!r}); optimize the leaf it was computed from"
        )


def _as_step(value: Any, where: str) -> int:
    """A saved step count (int, float, 0-d array or tensor) -> a non-negative int."""
    try:
        step = float(np.asarray(value))
    except (TypeError, ValueError):
        raise ValueError(f"{where}: 'step' must be a number, got {value!r}") from None
    if step < 0 or step != int(step):
        raise ValueError(f"{where}: 'step' must be a non-negative integer, got {step}")
    return int(step)


def _load_param_state(entry: Any, p: Tensor, where: str) -> dict:
    """Convert one saved per-parameter state dict, checking every buffer against p."""
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a dict, got {type(entry).__name__}")
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "step":
            out[key] = _as_step(value, where)
        elif value is None:
            out[key] = None
        else:
            try:
                # asarray then copy: torch's __array__ rejects the copy keyword of np.array
                arr = np.asarray(value, dtype=p._data.dtype).copy()
            except (TypeError, ValueError) as e:
                raise ValueError(f"{where}: state {key!r} is not numeric ({e})") from None
            if arr.shape != p._data.shape:
                raise ValueError(
                    f"{where}: state {key!r} has shape {tuple(arr.shape)}, but the parameter has "
                    f"shape {p._data.shape}"
                )
            out[key] = arr
    return out


# ----------------------------------------------------------------------------- Optimizer


class Optimizer:
    """Base class: holds param_groups and per-parameter state; subclasses define _update."""

    def __init__(self, params: ParamsT, defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self._check_group(self.defaults)  # bad constructor arguments fail before anything else
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._opt_called = False  # read by learning-rate schedulers to catch a wrong call order
        if isinstance(params, Tensor):
            raise TypeError(
                "params should be an iterable of Tensors or of dicts (parameter groups), got a "
                "single Tensor; wrap it in a list"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(_SET_MESSAGE)
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate one group's hyperparameters; subclasses raise ValueError on bad values."""

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        """Change p._data in place from its gradient `grad` (an ndarray shaped like p)."""
        raise NotImplementedError(f"{type(self).__name__} must define _update")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a dict {"params": tensors, option: value, ...}; missing options use defaults."""
        where = f"{type(self).__name__}: parameter group {len(self.param_groups)}"
        if not isinstance(param_group, dict):
            raise TypeError(f"{where} must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{where} has no 'params' key")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{where}: {_SET_MESSAGE}")
        params, names = _split_names(list(params), where)
        if not params:
            raise ValueError(f"{where}: empty parameter list")
        for p in params:
            _check_param(p, where)
        self._check_unique(params, where)
        group = {**self.defaults}
        group.update(copy.deepcopy({k: v for k, v in param_group.items() if k != "params"}))
        group["params"] = params
        if names is not None:
            group["param_names"] = names
        self._check_group(group)
        self.param_groups.append(group)

    def _check_unique(self, params: list, where: str) -> None:
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{where} contains the same parameter more than once")
        for i, group in enumerate(self.param_groups):
            ids = {id(p) for p in group["params"]}
            shared = [p for p in params if id(p) in ids]
            if shared:
                raise ValueError(
                    f"{where} shares a parameter of shape {tuple(shared[0].shape)} with parameter "
                    f"group {i}; each parameter may belong to one group only"
                )

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's .grad: to None (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif isinstance(p.grad, Tensor) and p.grad._data.flags.writeable:
                    p.grad._data[...] = 0  # in place, as PyTorch's p.grad.zero_()
                else:
                    p.grad = Tensor._make(np.zeros_like(p._data), False, None)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a .grad; closure() (re)computes and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for gi, group in enumerate(self.param_groups):
                for pi, p in enumerate(group["params"]):
                    if p.grad is None:
                        continue  # this parameter took no part in the loss
                    grad = self._grad_array(p, f"parameter {pi} of group {gi}")
                    if not p._data.flags.writeable:
                        p._data = p._data.copy()  # the update is in place
                    self._update(p, grad, self.state[p], group)
                    autograd.bump_version(
                        p._data
                    )  # as p.add_(...) would: saved copies of p are stale
        self._opt_called = True
        return loss

    def _grad_array(self, p: Tensor, where: str) -> np.ndarray:
        grad = p.grad._data if isinstance(p.grad, Tensor) else np.asarray(p.grad)
        if grad.shape != p._data.shape:
            raise ValueError(
                f"{type(self).__name__}.step: {where} has shape {p._data.shape} but its .grad "
                f"has shape {tuple(grad.shape)}"
            )
        return grad if grad.dtype == p._data.dtype else grad.astype(p._data.dtype)

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {name: value}}, "param_groups": [{..., "params": [index]}]}, copied."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = copy.deepcopy({k: v for k, v in group.items() if k != "params"})
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: copy.deepcopy(v) for k, v in s.items()}
            for p, s in self.state.items()
            if s and id(p) in index
        }
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state_dict() output (validated first: on error nothing changes)."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{name}: expected a dict with keys 'state' and 'param_groups'")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the loaded state dict has {len(saved_groups)} parameter groups, but "
                f"this optimizer has {len(self.param_groups)}"
            )
        by_index: dict[Any, Tensor] = {}
        new_groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            new_groups.append(self._load_group(group, saved, f"{name}: parameter group {i}"))
            by_index.update(zip(saved["params"], group["params"]))
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, entry in state_dict["state"].items():
            if key not in by_index:
                raise ValueError(f"{name}: state for parameter {key!r}, which no group lists")
            p = by_index[key]
            new_state[p] = _load_param_state(entry, p, f"{name}: state of parameter {key}")
        self.param_groups = new_groups
        self.state = new_state

    def _load_group(self, group: dict, saved: Any, where: str) -> dict:
        """The current group with the saved group's options, checked; params stay current."""
        if not isinstance(saved, dict) or "params" not in saved:
            raise ValueError(f"{where}: expected a dict with a 'params' list")
        if len(saved["params"]) != len(group["params"]):
            raise ValueError(
                f"{where} of the loaded state dict has {len(saved['params'])} parameters, but "
                f"this optimizer's group has {len(group['params'])}"
            )
        options = {k: v for k, v in saved.items() if k not in ("params", "param_names")}
        new = {**self.defaults, **copy.deepcopy(options), "params": group["params"]}
        if "param_names" in group:
            new["param_names"] = group["param_names"]
        try:
            self._check_group(new)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: {e}") from None
        return new

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k not in ("params", "param_names")):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines + [")"])
