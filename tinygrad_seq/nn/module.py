"""Module, Parameter and the containers: PyTorch's habits for organising parameters.

Assigning a Parameter or a Module to an attribute registers it, so `named_parameters()` can walk
the tree and produce dotted names ("encoder.weight_ih_l0") without any class listing its own
parameters by hand. `state_dict()` maps those names to arrays and `load_state_dict()` puts them
back, checking every key and shape before it changes anything.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .. import autograd, dtypes
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as learnable; requires_grad=True by default."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        """Parameter(t) shares t's memory and dtype, as in PyTorch (an ndarray is shared too)."""
        if data is None:
            data = np.zeros((0,), dtype=dtypes.get_default_dtype())
        if not isinstance(data, (Tensor, np.ndarray)):
            raise TypeError(f"Parameter(data): data must be a Tensor, got {type(data).__name__}")
        self._set_leaf(data._data if isinstance(data, Tensor) else data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What load_state_dict found: keys the model wanted but did not get, and keys it ignored."""

    missing_keys: list
    unexpected_keys: list


class StateDictError(RuntimeError):
    """load_state_dict: missing / unexpected keys or shape mismatches, all listed."""


def _check_name(name: Any, kind: str) -> None:
    """PyTorch's checks of a name given to register_parameter / register_buffer / add_module."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if not name or "." in name:  # a dotted name would be ambiguous in state_dict keys
        raise KeyError(f"{kind} name must be non-empty and contain no '.', got {name!r}")


class Module:
    """Base class of layers and models: registers Parameters, buffers and sub-modules."""

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_scope_name", None)
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() (call super().__init__() first)"
            )
        for store, kind in (("_parameters", "parameter"), ("_modules", "child module")):
            if name in self.__dict__[store] and not isinstance(value, (Parameter, Module)):
                if value is not None:
                    raise TypeError(
                        f"cannot assign {type(value).__name__} as {kind} {name!r} "
                        f"(a {'Parameter' if kind == 'parameter' else 'Module'} or None expected)"
                    )
                self.__dict__[store][name] = None  # declared but absent, as PyTorch
                return
        if name in self._buffers and not isinstance(value, (Parameter, Module)):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} (a Tensor or None "
                    "expected)"
                )
            self._buffers[name] = value
            return
        if isinstance(value, Parameter):
            self._remove(name, keep="_parameters")
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._remove(name, keep="_modules")
            self._modules[name] = value
            if value._scope_name is None:
                object.__setattr__(value, "_scope_name", name)
        else:
            object.__setattr__(self, name, value)

    def _remove(self, name: str, keep: str | None = None) -> None:
        """Forget name everywhere except in store `keep` (re-registering keeps its position)."""
        for store in ("_parameters", "_buffers", "_modules"):
            if store != keep:
                self.__dict__[store].pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if any(name in self.__dict__[s] for s in ("_parameters", "_buffers", "_modules")):
            self._remove(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register param (or None, a declared but absent parameter) under name."""
        _check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None")
        self._remove(name, keep="_parameters")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a non-learnable Tensor saved in state_dict (unless persistent=False)."""
        _check_name(name, "buffer")
        self._remove(name, keep="_buffers")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-module under name."""
        _check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._remove(name, keep="_modules")
        self._modules[name] = module
        if module is not None and module._scope_name is None:
            object.__setattr__(module, "_scope_name", name)

    # ------------------------------------------------------------------ traversal
    def named_modules(
        self, prefix: str = "", memo: set | None = None, remove_duplicate: bool = True
    ) -> Iterator[tuple]:
        """(dotted name, module) for self and every descendant, a shared module once."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if remove_duplicate and id(mod) in memo:
                continue
            memo.add(id(mod))
            yield name, mod
            children = [
                (f"{name}.{k}" if name else k, m) for k, m in mod._modules.items() if m is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """Self and every descendant module."""
        return (m for _, m in self.named_modules())

    def named_children(self) -> Iterator[tuple]:
        """(name, module) for direct sub-modules."""
        return ((k, m) for k, m in self._modules.items() if m is not None)

    def children(self) -> Iterator[Module]:
        """Direct sub-modules."""
        return (m for _, m in self.named_children())

    def _named(self, store: str, prefix: str, recurse: bool) -> Iterator[tuple]:
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mname, mod in mods:
            for k, v in mod.__dict__[store].items():
                if v is None or id(v) in seen:
                    continue
                seen.add(id(v))
                yield (f"{mname}.{k}" if mname else k), v

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        """(dotted name, Parameter) for every parameter; a shared one appears once."""
        return self._named("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in registration order."""
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        """(dotted name, Tensor) for every buffer."""
        return self._named("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer once."""
        return (b for _, b in self.named_buffers(recurse=recurse))

    # ------------------------------------------------------------------ modes and dtype
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active) for self and descendants; returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set requires_grad on every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's .grad (to None, or zeros when set_to_none=False)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                zeros = np.zeros_like(p._data)
                p.grad = Tensor._make(zeros, False, None) if p.grad.is_leaf else p.grad.detach()
                p.grad._data[...] = 0  # in place, as PyTorch's p.grad.zero_()

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn on every descendant (children first, post-order) and then on self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(
        self, *args: Any, dtype: Any = None, device: Any = None, non_blocking: bool = False
    ) -> Module:
        """to(dtype), to(device[, dtype]), to(tensor): floating parameters and buffers, in place."""
        d = dtypes.to_args(args, dtype, device)[0]  # Tensor.to's overloads; raises off the CPU
        if d is None:
            return self  # a device only: everything is on the CPU already
        if d.kind != "f":
            raise TypeError(
                "nn.Module.to only accepts floating point dtypes (expected a floating dtype), "
                f"but got desired dtype={d}"
            )
        for t in list(self.parameters()) + list(self.buffers()):
            if t.dtype.kind == "f":
                t._data = t._data.astype(d)
                if t.grad is not None:
                    t.grad._data = t.grad._data.astype(d)
        return self

    def cpu(self) -> Module:
        """Self: parameters and buffers are on the CPU already."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Raises RuntimeError: tinygrad_seq runs on the CPU only."""
        dtypes.check_device("cuda")  # raises, whichever CUDA device was asked for
        return self

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64."""
        return self.to(dtypes.float64)

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32."""
        return self.to(dtypes.float32)

    # ------------------------------------------------------------------ state
    def state_dict(self, prefix: str = "") -> OrderedDict:
        """Dotted name -> detached Tensor (sharing data) for parameters and persistent buffers."""
        out: OrderedDict = OrderedDict()
        for mname, mod in self.named_modules(prefix, remove_duplicate=False):
            for k, p in mod._parameters.items():
                if p is not None:
                    out[f"{mname}.{k}" if mname else k] = p.detach()
            for k, b in mod._buffers.items():
                if b is not None and k not in mod._non_persistent:
                    out[f"{mname}.{k}" if mname else k] = b.detach()
        return out

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into parameters/buffers; checks all keys and shapes before changing any."""
        own = self._state_targets()
        given = {}
        for k, v in dict(state_dict).items():
            arr = v._data if isinstance(v, Tensor) else np.asarray(v)
            given[k] = arr
        missing = [k for k in own if k not in given]
        unexpected = [k for k in given if k not in own]
        problems = [
            f"size mismatch for {k}: expected shape {tuple(own[k].shape)}, "
            f"got {tuple(given[k].shape)}"
            for k in own
            if k in given and given[k].shape != own[k].shape
        ]
        problems += [
            f"non-numeric value for {k}: dtype {given[k].dtype}"
            for k in own
            if k in given and given[k].dtype.kind not in "fiub"
        ]
        if strict:
            problems += [f"missing key: {k}" for k in missing]
            problems += [f"unexpected key: {k}" for k in unexpected]
        if problems:
            raise StateDictError(
                f"error(s) loading state_dict for {type(self).__name__}:\n  "
                + "\n  ".join(problems)
            )
        with autograd.no_grad():  # in place, as PyTorch's param.copy_(value)
            for k, t in own.items():
                if k in given and t._data.flags.writeable:
                    t.copy_(Tensor._make(np.array(given[k], dtype=t.dtype), False, None))
                elif k in given:  # read-only memory (a loaded file): give t its own array
                    t._data = np.array(given[k], dtype=t.dtype)
        return IncompatibleKeys(missing, unexpected)

    def _state_targets(self) -> dict:
        targets = {}
        for mname, mod in self.named_modules(remove_duplicate=False):
            for k, t in list(mod._parameters.items()) + list(mod._buffers.items()):
                if t is not None and k not in mod._non_persistent:
                    targets[f"{mname}.{k}" if mname else k] = t
        return targets

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it. Call the module, not forward()."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with autograd.scope(self._scope_name or type(self).__name__.lower()):
            return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The arguments shown inside this module's repr."""
        return ""

    def __repr__(self) -> str:
        # PyTorch's layout: a one-line extra_repr stays inline when there are no children;
        # otherwise extra_repr's lines, then one "(name): child" line per child, indented
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({k}): " + repr(m).replace("\n", "\n  ") for k, m in self._modules.items()]
        if len(lines) <= 1 and not children:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines + children) + "\n)"


class Identity(Module):
    """Returns its input unchanged: any shape -> same shape (arguments are ignored, as PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, x: Any) -> Any:
        """x -> x."""
        return x


class Sequential(Module):
    """Modules applied in order: Sequential(Linear(2, 8), Tanh(), Linear(8, 1))."""

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            modules = tuple(modules[0].items())  # type: ignore[assignment]
        for i, m in enumerate(modules):
            if isinstance(m, tuple):
                self.add_module(m[0], m[1])
            else:
                self.add_module(str(i), m)

    def forward(self, x: Any) -> Any:
        """x through each module in turn."""
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):  # keeps the names, as PyTorch
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[idx]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of sub-modules, registered so their parameters are found."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        for m in modules or []:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append every module; returns self."""
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, idx: int | slice) -> Any:
        mods = list(self._modules.values())
        return ModuleList(mods[idx]) if isinstance(idx, slice) else mods[idx]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[idx]
        self.add_module(key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _renumber(self, modules: list) -> None:
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(modules))

    def __delitem__(self, idx: int | slice) -> None:
        mods = list(self._modules.values())
        del mods[idx]
        self._renumber(mods)  # the keys stay 0..n-1, as PyTorch's

    def insert(self, index: int, module: Module) -> None:
        """Insert module before position index."""
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._renumber(mods)

    def pop(self, idx: int | slice) -> Any:
        """Remove and return the module (or ModuleList of modules) at idx."""
        out = self[idx]
        del self[idx]
        return out

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList(list(self) + list(other))


class ModuleDict(Module):
    """A dict of sub-modules, registered under their keys."""

    def __init__(self, modules: dict | None = None):
        super().__init__()
        for k, m in (modules or {}).items():
            self[k] = m

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The keys in insertion order."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules in insertion order."""
        return self._modules.values()

    def items(self) -> Iterable[tuple]:
        """(key, module) pairs in insertion order."""
        return self._modules.items()

    def update(self, modules: Any) -> None:
        """Add (or replace) modules from a mapping or an iterable of (key, module) pairs."""
        for k, m in modules.items() if hasattr(modules, "items") else modules:
            self[k] = m

    def pop(self, key: str) -> Module:
        """Remove and return the module under key."""
        out = self[key]
        del self[key]
        return out

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()


class ParameterList(Module):
    """A list of Parameters registered as '0', '1', ...; plain tensors are wrapped as Parameters."""

    def __init__(self, values: Iterable[Any] | None = None):
        super().__init__()
        for v in values or []:
            self.append(v)

    @staticmethod
    def _param(value: Any) -> Any:
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            return Parameter(value)  # PyTorch wraps a plain tensor too
        return value

    def append(self, value: Any) -> ParameterList:
        """Add a parameter at the end; returns self."""
        self.register_parameter(str(len(self)), self._param(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append every parameter; returns self."""
        for v in values:
            self.append(v)
        return self

    def __getitem__(self, idx: int | slice) -> Any:
        params = list(self._parameters.values())
        return ParameterList(params[idx]) if isinstance(idx, slice) else params[idx]

    def __setitem__(self, idx: int, value: Any) -> None:
        key = list(self._parameters)[idx]
        self.register_parameter(key, self._param(value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._parameters.values())

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def extra_repr(self) -> str:
        """One line per parameter: '(0): Parameter containing: [torch.float64 of size 3x4]'."""
        return "\n".join(
            f"({i}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
            for i, p in enumerate(self)
        )
