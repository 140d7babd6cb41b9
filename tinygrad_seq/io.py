"""Checkpoints: save and load (nested) state dicts as safetensors files, written atomically.

The format is plain safetensors, so any framework opens the file:

- Every array in the tree (numpy arrays, numpy scalars, tinygrad_seq Tensors' arrays) is a
  safetensors tensor named by its path joined with dots. A flat model state dict
  `{'rnn.weight_ih_l0': W, ...}` therefore becomes exactly the tensors `rnn.weight_ih_l0`, ...,
  and `safetensors.torch.load_file` + `torch_module.load_state_dict(..., strict=True)` loads it.
  `{'model': {...}, 'optimizer': {...}}` gives `model.rnn.weight_ih_l0`,
  `optimizer.state.0.exp_avg`, ...
- The tree itself is JSON in the header metadata under `tinygrad_seq.tree`. Each node is
  a JSON scalar (None, bool, int, float, str: kept with its exact Python type), or a tagged
  object: `{"dict": [[key, node], ...]}` (keys may be str, int, float, bool or None, order
  kept), `{"list": [...]}`, `{"tuple": [...]}`, `{"float": "nan"}` for non-finite floats, and
  `{"tensor": name}` (`"scalar": true` for a numpy scalar) for an array leaf. Because each leaf
  records its own tensor name, keys that contain dots round-trip exactly; clashing names
  (`{'a.b': x, 'a': {'b': y}}`) get a `#1` suffix.
- Python numbers stay Python numbers (JSON), so an optimizer's `{'step': 3, 'betas': (0.9,
  0.999), 'nesterov': False}` comes back identical. Arrays (and Tensors) come back as Tensors
  that own their memory, as `torch.load` gives tensors; numpy scalars come back as such.
- User metadata sits in the same header: str values verbatim (other tools see them), any other
  JSON value JSON-encoded; `tinygrad_seq.json_keys` lists which, so they come back decoded.
  A safetensors file written by another tool loads as a flat `{name: Tensor}` dict.

Atomicity: `save` serialises in memory, writes a temporary file in the target's folder, flushes
and fsyncs it, then `os.replace`s it over the target and fsyncs the folder. A crash or a full
disk at any point leaves the previous checkpoint untouched, and the temporary file is removed
on any failure. Every problem reading a file raises `CheckpointError` naming the file.

As `torch.save` / `torch.load`: a path or a binary file object (io.BytesIO, open(p, 'wb')) is
accepted; `map_location` may name the CPU (or be a dict or callable, applied on the CPU), any
other device raises; `weights_only` is always true in effect (no code is ever stored). A
whole module (or optimizer) is refused with the two lines to write instead: the state dict is
what is saved, never a pickled object.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import secrets
from collections.abc import Mapping
from typing import Any

import numpy as np
import safetensors.numpy

from .tensor import Tensor

__all__ = [
    "CheckpointError",
    "CheckpointNotFoundError",
    "load",
    "load_into",
    "load_metadata",
    "save",
]

_PREFIX = "tinygrad_seq."
_TREE = _PREFIX + "tree"
_VERSION = _PREFIX + "format_version"
_JSON_KEYS = _PREFIX + "json_keys"
_MAX_HEADER = 100_000_000  # safetensors refuses larger headers too
_ARRAY_KINDS = "biuf"  # bool, signed/unsigned int, float: what safetensors, torch and we share
_KEY_TYPES = (str, int, float, bool, type(None))


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, corrupt, or does not fit the model."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file does not exist (also catchable as FileNotFoundError)."""


# ---------------------------------------------------------------------------- saving


def _where(path: tuple) -> str:
    return "state_dict" + "".join(f"[{k!r}]" for k in path)


def _check_array(value: Any, path: tuple) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in _ARRAY_KINDS or arr.dtype.itemsize > 8:
        raise TypeError(
            f"cannot save {_where(path)}: arrays of dtype {arr.dtype} cannot be stored "
            "(safetensors holds bool, integer and float16/32/64 tensors only)"
        )
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


class _Flattener:
    """Walks a state tree: arrays go to `tensors` under dotted names, the rest becomes JSON."""

    def __init__(self) -> None:
        self.tensors: dict[str, np.ndarray] = {}

    def _name(self, path: tuple) -> str:
        base = ".".join(str(k) for k in path)
        name, n = base, 0
        while name in self.tensors or name == "__metadata__":  # reserved by safetensors
            n += 1
            name = f"{base}#{n}"
        return name

    def encode(self, value: Any, path: tuple) -> Any:
        if isinstance(value, Tensor):
            value = value._data
        if isinstance(value, (np.ndarray, np.generic)):
            name = self._name(path)
            self.tensors[name] = _check_array(value, path)
            if isinstance(value, np.generic):  # np.float32(1.5) comes back as a numpy scalar
                return {"tensor": name, "scalar": True}
            return {"tensor": name}
        if value is None or type(value) in (bool, int, str):
            return value
        if type(value) is float:
            return value if math.isfinite(value) else {"float": repr(value)}
        if isinstance(value, Mapping):
            items = []
            for k, v in value.items():
                if type(k) not in _KEY_TYPES:
                    raise TypeError(
                        f"cannot save {_where(path)}: dict key {k!r} has type {type(k).__name__}"
                        " (keys must be str, int, float, bool or None)"
                    )
                items.append([self.encode(k, path), self.encode(v, (*path, k))])
            return {"dict": items}
        if isinstance(value, (list, tuple)):
            tag = "tuple" if isinstance(value, tuple) else "list"
            return {tag: [self.encode(v, (*path, i)) for i, v in enumerate(value)]}
        raise TypeError(
            f"cannot save {_where(path)}: values of type {type(value).__name__} cannot be stored "
            "(use arrays, Tensors, numbers, bools, None, str, and dicts/lists/tuples of those)"
        )


def _encode_metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    json_keys = []
    for k, v in (metadata or {}).items():
        if not isinstance(k, str) or k.startswith(_PREFIX):
            raise ValueError(f"metadata key {k!r}: keys must be str not starting with {_PREFIX!r}")
        if isinstance(v, str):
            out[k] = v
            continue
        try:
            out[k] = json.dumps(v, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise TypeError(f"metadata[{k!r}] is not JSON-serialisable: {e}") from None
        json_keys.append(k)
    if json_keys:
        out[_JSON_KEYS] = json.dumps(json_keys)
    return out


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; the rename is as durable as it gets
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def _atomic_write(path: str, data: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)  # 0o666 & ~umask, like open(path, "wb")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def _not_a_state_dict(obj: Any) -> TypeError:
    """save() of a module, optimizer or scheduler: what to write instead."""
    kind = type(obj).__name__
    if hasattr(obj, "named_parameters"):
        return TypeError(
            f"save: got a whole module ({kind}); tinygrad_seq stores state dicts only (as "
            "safetensors, never pickle), so save the module's state_dict and load it into a "
            "model you construct:\n"
            "    torch.save(model.state_dict(), path)\n"
            "    model.load_state_dict(torch.load(path))"
        )
    if hasattr(obj, "state_dict"):
        return TypeError(
            f"save: got a {kind} object; tinygrad_seq stores state dicts only (never pickle): "
            f"torch.save(obj.state_dict(), path), then obj.load_state_dict(torch.load(path))"
        )
    return TypeError(f"save: expected a dict-like state_dict, got {kind}")


def _is_file(f: Any) -> bool:
    return hasattr(f, "write") or hasattr(f, "read")


def _file_name(f: Any) -> str:
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else f"<{type(f).__name__}>"


def save(
    state_dict: Mapping[Any, Any],
    f: str | os.PathLike | Any,
    metadata: Mapping[str, Any] | None = None,
    pickle_module: Any = None,
) -> None:
    """Write a (nested) state dict {key: array|Tensor|number|str|None|dict|list|tuple}.

    f is a path (written atomically) or a binary file object. `metadata` maps str keys to str
    (stored verbatim) or any JSON-serialisable value; read it back with `load_metadata(f)` or
    `load(f, with_metadata=True)`. Raises TypeError naming the key for values that cannot be
    stored (object/str/complex arrays, arbitrary objects), and for a whole module.
    """
    if not isinstance(state_dict, Mapping):
        raise _not_a_state_dict(state_dict)
    if pickle_module is not None:
        raise TypeError("save: pickle_module is not supported: tinygrad_seq never pickles")
    if not _is_file(f):
        f = os.fspath(f)
        if os.path.isdir(f):
            raise IsADirectoryError(f"save: {f!r} is a directory; give a file path")
    elif isinstance(f, io.TextIOBase):
        raise TypeError(f"save: {_file_name(f)} is open in text mode; open it with 'wb'")
    flat = _Flattener()
    tree = flat.encode(state_dict, ())
    header = _encode_metadata(metadata)
    header[_VERSION] = "1"
    header[_TREE] = json.dumps(tree, separators=(",", ":"))
    data = safetensors.numpy.save(flat.tensors, metadata=header)
    if _is_file(f):
        f.write(data)
    else:
        _atomic_write(f, data)


# ---------------------------------------------------------------------------- loading


def _who(path: str) -> str:
    return f"checkpoint {path!r}"


def _check_header(path: str, head: bytes, size: int) -> int:
    """Validate the 8-byte length prefix and first header byte; returns the header length."""
    if size == 0:
        raise CheckpointError(f"{_who(path)}: file is empty (0 bytes), not a safetensors file")
    n = int.from_bytes(head[:8], "little")
    if size < 8 or not 2 <= n <= _MAX_HEADER or head[8:9] not in (b"{", b""):
        raise CheckpointError(
            f"{_who(path)}: is not a safetensors file (it does not start with an 8-byte header "
            f"length followed by a JSON header; file has {size} bytes)"
        )
    if 8 + n > size:
        raise CheckpointError(
            f"{_who(path)}: file is truncated (header says at least {8 + n} bytes, file has {size})"
        )
    return n


def _parse_header(path: str, raw: bytes, size: int) -> dict:
    """Parse the JSON header and check that the tensor data exactly fills the file."""
    try:
        header = json.loads(raw)
        ends = [t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"]
        meta = header.get("__metadata__") or {}
        if not all(isinstance(e, int) for e in ends) or not isinstance(meta, dict):
            raise ValueError("bad field types")
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        raise CheckpointError(
            f"{_who(path)}: is corrupt (unreadable safetensors header: {e})"
        ) from e
    expected = 8 + len(raw) + max(ends, default=0)
    if size < expected:
        raise CheckpointError(
            f"{_who(path)}: file is truncated (header says {expected} bytes, file has {size})"
        )
    if size > expected:
        raise CheckpointError(
            f"{_who(path)}: is corrupt (header says {expected} bytes, file has {size}: "
            "unexpected trailing data)"
        )
    return header


def _read_file_object(f: Any) -> tuple[str, dict, bytes]:
    """Read and validate a checkpoint from a binary file object at its current position."""
    name = _file_name(f)
    if isinstance(f, io.TextIOBase) or not hasattr(f, "read"):
        raise TypeError(f"load: {name} is not a binary file object; open it with 'rb'")
    data = f.read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"load: {name} returned {type(data).__name__}; open it with 'rb'")
    data = bytes(data)
    n = _check_header(name, data[:9], len(data))
    return name, _parse_header(name, data[8 : 8 + n], len(data)), data


def _read(path: str | os.PathLike | Any, header_only: bool) -> tuple[str, dict, bytes]:
    """Open and validate a checkpoint; returns (path, parsed header, file bytes or b'')."""
    if _is_file(path):
        return _read_file_object(path)
    path = os.fspath(path)
    if os.path.isdir(path):
        raise CheckpointError(f"{_who(path)}: is a directory, not a checkpoint file")
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise CheckpointNotFoundError(f"{_who(path)}: does not exist") from None
    except OSError as e:
        raise CheckpointError(f"{_who(path)}: cannot be read ({e.strerror or e})") from e
    with f:
        size = os.fstat(f.fileno()).st_size
        n = _check_header(path, f.read(9), size)
        f.seek(8)
        raw = f.read(n)
        header = _parse_header(path, raw, size)
        if header_only:
            return path, header, b""
        f.seek(0)
        return path, header, f.read()


def _decode(node: Any, tensors: dict[str, np.ndarray], used: set) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if not isinstance(node, dict):
        raise ValueError(f"unexpected node {node!r}")
    if "tensor" in node:
        name = node["tensor"]
        if name not in tensors:
            raise ValueError(f"tensor {name!r} is listed in the structure but missing")
        used.add(name)
        # a numpy scalar comes back as one; an array as a Tensor (owning it), as torch.load does
        if node.get("scalar"):
            return tensors[name][()]
        return Tensor._make(np.array(tensors[name]), False, None)  # a copy, owning its memory
    ((tag, body),) = node.items()
    if tag == "float":
        return float(body)
    if tag == "dict":
        return {_decode(k, tensors, used): _decode(v, tensors, used) for k, v in body}
    if tag in ("list", "tuple"):
        items = [_decode(v, tensors, used) for v in body]
        return tuple(items) if tag == "tuple" else items
    raise ValueError(f"unknown node tag {tag!r}")


def _decode_metadata(path: str, meta: dict) -> dict[str, Any]:
    try:
        json_keys = set(json.loads(meta.get(_JSON_KEYS, "[]")))
        return {
            k: json.loads(v) if k in json_keys else v
            for k, v in meta.items()
            if not k.startswith(_PREFIX)
        }
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{_who(path)}: is corrupt (bad metadata: {e})") from e


def _cpu_only(map_location: Any) -> Any:
    """Check map_location (str, device, dict or callable) names only the CPU; -> the callable."""
    if map_location is None or (callable(map_location) and not hasattr(map_location, "type")):
        return map_location
    targets = map_location.values() if isinstance(map_location, Mapping) else [map_location]
    for where in targets:
        name = getattr(where, "type", None) or str(where).partition(":")[0]
        if name != "cpu":
            raise RuntimeError(
                f"load: map_location={map_location!r} asks for device {str(where)!r}, but "
                "tinygrad_seq runs on the CPU only; use map_location='cpu' or leave it out"
            )
    return None


def _map_arrays(node: Any, fn: Any) -> Any:
    """Apply map_location's fn(tensor, 'cpu') to every array of the tree (None keeps it)."""
    if isinstance(node, Tensor):
        out = fn(node, "cpu")
        return node if out is None else out if isinstance(out, Tensor) else Tensor(np.asarray(out))
    if isinstance(node, dict):
        return {k: _map_arrays(v, fn) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(_map_arrays(v, fn) for v in node)
    return node


def load(
    f: str | os.PathLike | Any,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = True,
    mmap: bool | None = None,
    with_metadata: bool = False,
) -> Any:
    """Read a checkpoint (path or binary file) -> the saved nested dict (arrays as Tensors).

    with_metadata=True: (dict, metadata). map_location: None, 'cpu', a CPU device, a dict or a
    callable(tensor, 'cpu'); another device raises RuntimeError. weights_only is accepted: a
    checkpoint never holds code, so it is weights only either way. A safetensors file written by
    another tool loads as a flat {name: Tensor} dict. Raises CheckpointError naming the file if
    it is missing, truncated, corrupt or not safetensors.
    """
    if pickle_module is not None:
        raise TypeError("load: pickle_module is not supported: tinygrad_seq never unpickles")
    mapper = _cpu_only(map_location)
    path, header, data = _read(f, header_only=False)
    try:
        tensors = safetensors.numpy.load(data)
    except Exception as e:  # SafetensorError subclasses Exception directly
        raise CheckpointError(f"{_who(path)}: is corrupt ({e})") from e
    meta = header.get("__metadata__") or {}
    if _TREE not in meta:
        state: Any = {k: Tensor._make(np.array(v), False, None) for k, v in tensors.items()}
    elif meta.get(_VERSION, "1") != "1":
        raise CheckpointError(
            f"{_who(path)}: was written in format version {meta[_VERSION]!r} by a newer "
            "tinygrad_seq; this version reads format '1'"
        )
    else:
        used: set = set()
        try:
            state = _decode(json.loads(meta[_TREE]), tensors, used)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise CheckpointError(f"{_who(path)}: is corrupt (bad structure metadata: {e})") from e
        extra = sorted(set(tensors) - used)
        if extra:
            raise CheckpointError(
                f"{_who(path)}: is corrupt (tensors not in the structure metadata: {extra})"
            )
    if mapper is not None:
        state = _map_arrays(state, mapper)
    return (state, _decode_metadata(path, meta)) if with_metadata else state


def load_metadata(path: str | os.PathLike | Any) -> dict[str, Any]:
    """Read only the header of a checkpoint -> the user metadata {str: str | JSON value}."""
    path, header, _ = _read(path, header_only=True)
    return _decode_metadata(path, header.get("__metadata__") or {})


def _fit_problems(module: Any, state: Mapping, strict: bool) -> list[str]:
    """Every key/shape problem between a flat checkpoint and module.state_dict(), if it has one."""
    problems = [
        f"entry {k!r} is a {type(v).__name__}, not an array (nested checkpoint? pass key=...)"
        for k, v in state.items()
        if not isinstance(v, (np.ndarray, Tensor))
    ]
    if not hasattr(module, "state_dict"):
        return problems
    own = dict(module.state_dict())
    for k, v in own.items():
        if k in state and isinstance(state[k], (np.ndarray, Tensor)):
            want = tuple(getattr(v, "shape", np.shape(v)))
            if tuple(state[k].shape) != want:
                problems.append(
                    f"shape mismatch for {k!r}: model has {want}, file has {tuple(state[k].shape)}"
                )
    if strict:
        problems += [
            f"missing key {k!r} (in the model, not in the file)" for k in own if k not in state
        ]
        problems += [
            f"unexpected key {k!r} (in the file, not in the model)" for k in state if k not in own
        ]
    return problems


def load_into(module: Any, path: str | os.PathLike, strict: bool = True, key: Any = None) -> Any:
    """Load a flat checkpoint {name: array} (or its top-level entry `key`) into module.

    `module` is anything with load_state_dict(state, strict=...); its result is returned. Key and
    shape mismatches (checked against module.state_dict() when present) raise one CheckpointError
    naming the file and listing every problem.
    """
    state = load(path)
    who = _who(_file_name(path) if _is_file(path) else os.fspath(path))
    if key is not None:
        if not isinstance(state, Mapping) or key not in state:
            raise CheckpointError(f"{who}: has no top-level entry {key!r} (it has {list(state)})")
        state = state[key]
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{who}: holds a {type(state).__name__}, not a state dict")
    target = type(module).__name__
    problems = _fit_problems(module, state, strict)
    if problems:
        raise CheckpointError(f"{who}: does not fit {target}:\n  " + "\n  ".join(problems))
    try:
        return module.load_state_dict(state, strict=strict)
    except (RuntimeError, ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{who}: does not fit {target}: {e}") from e
