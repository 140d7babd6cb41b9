"""Map nn (PyTorch-named) recurrent parameters to the course's parameter dicts and back.

The idea: the two sides hold the same numbers cut differently. PyTorch stacks the gates as row
blocks of `weight_ih` (gates*n_a, n_x) and `weight_hh` (gates*n_a, n_a) and keeps two biases;
the course gives each gate its own matrix acting on [a<t-1>; x<t>] (the state's columns first),
so one course matrix is a column concatenation of two PyTorch row blocks,

    LSTM  (gates i, f, g, o)  Wi, Wf, Wc, Wo = [W_hh_block, W_ih_block],  b* = b_ih + b_hh
    GRU   (gates r, z, n)     Wr = [W_hr, W_ir],  br = b_ir + b_hr
                              Wu = -[W_hz, W_iz], bu = -(b_iz + b_hz)   (Gu = 1 - z, and
                              1 - sigmoid(s) = sigmoid(-s): the sign flips)
          reset_after=True  -> variant 'pytorch': Wcc = W_hn, Wcx = W_in, bc = b_in, bhc = b_hn
                               (b_hn sits inside r * (...), so it cannot fold into bc)
          reset_after=False -> variant 'course':  Wc = [W_hn, W_in], bc = b_in + b_hn
    RNN   Wax = W_ih, Waa = W_hh, ba = b_ih + b_hh, 'nonlinearity': 'tanh' | 'relu'

Folded biases: going to the course adds the two; coming back, the whole folded bias goes into
`bias_ih` and `bias_hh` gets zeros (the function is the same, so course -> nn -> course is
exact, while nn -> course -> nn changes how the sum is split). Gradients fold the other way:
dL/db_ih = dL/db_hh = dL/db, so `grads_to_nn` gives the folded gradient to both pieces.

Layouts: nn sequences are (T_x, m, n) and states (m, n_a) (rows are examples); the course's are
(n, m, T_x) and (n_a, m) (columns are examples): see sequence_to_course / state_to_course.

One table (`parameter_links`) drives the conversions and names the rows of the comparison report
in tinygrad_seq.check.compare. This module imports numpy only: a module is read by duck typing (its
class name, config attributes, `named_parameters()` and each parameter's `.data`) and written
through its `load_state_dict`, so manual/ stays independent of the engine.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .gru import VARIANT_KEYS

Params = dict[str, Any]

KINDS = {"rnn": 1, "lstm": 4, "gru": 3}  # kind -> number of gates
_MODULES = {
    "RNNCell": "rnn",
    "LSTMCell": "lstm",
    "GRUCell": "gru",
    "RNN": "rnn",
    "LSTM": "lstm",
    "GRU": "gru",
}
_LSTM_GATES = (("i", "i"), ("f", "f"), ("g", "c"), ("o", "o"))  # nn gate -> course letter
_NN_BASE = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class Link(NamedTuple):
    """One nn block <-> one course slice: slice = sign * (sum of the pieces' gate-row blocks)."""

    nn_label: str  # e.g. 'weight_ih[f]' or 'bias_ih[f] + bias_hh[f]'
    course_label: str  # e.g. 'Wf[:, n_a:]' or '-bu'
    gate: str  # nn gate letter ('' for the RNN)
    block: int  # index of the gate's row block in the nn parameter
    pieces: tuple[str, ...]  # nn base names; two for a folded bias
    key: str  # course key
    part: str  # 'h' -> [:, :n_a], 'x' -> [:, n_a:], 'all' -> [:, :], 'bias' -> [:, 0]
    sign: float

    def take(self, arrays: Params, n_a: int) -> np.ndarray:
        """The link's blocks of nn arrays {base name: (G*n_a, ...)} -> (pieces, n_a, ...)."""
        return np.stack([nn_rows(arrays[p], self.block, n_a) for p in self.pieces])

    def describe(self, idx: tuple, n_a: int, suffix: str = "") -> str:
        """An index into take()'s result -> 'gate f, row 2, col 1: weight_ih[6, 1] ~ Wf[2, 5]'."""
        piece, r, sign = self.pieces[idx[0]] + suffix, int(idx[1]), "-" if self.sign < 0 else ""
        gate, nn_r = f"gate {self.gate}, " if self.gate else "", self.block * n_a + r
        if self.part == "bias":
            return f"{gate}row {r}: {piece}[{nn_r}] ~ {sign}{self.key}[{r}, 0]"
        c, off = int(idx[2]), n_a if self.part == "x" else 0
        return f"{gate}row {r}, col {c}: {piece}[{nn_r}, {c}] ~ {sign}{self.key}[{r}, {c + off}]"


class ModuleSpec(NamedTuple):
    """What convert needs to know about a module: kind, sizes, bias, and the variant options."""

    kind: str  # 'rnn' | 'lstm' | 'gru'
    input_size: int
    hidden_size: int
    layer: bool  # a sequence layer (names end in _l0) rather than a cell
    bias: bool
    nonlinearity: str  # RNN only; 'tanh' otherwise
    reset_after: bool  # GRU only; True otherwise

    @property
    def variant(self) -> str | None:
        """The manual GRU variant ('pytorch' or 'course'), None for RNN and LSTM."""
        if self.kind != "gru":
            return None
        return "pytorch" if self.reset_after else "course"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")


def _gate_links(gate: str, block: int, key: str, sign: float) -> list[Link]:
    """Links of one gate whose course matrix acts on [a_prev; xt] and whose biases fold."""
    neg, label = "-" if sign < 0 else "", f"bias_ih[{gate}] + bias_hh[{gate}]"
    return [
        Link(f"weight_hh[{gate}]", f"{neg}W{key}[:, :n_a]", gate, block, ("weight_hh",),
             "W" + key, "h", sign),
        Link(f"weight_ih[{gate}]", f"{neg}W{key}[:, n_a:]", gate, block, ("weight_ih",),
             "W" + key, "x", sign),
        Link(label, f"{neg}b{key}", gate, block, ("bias_ih", "bias_hh"), "b" + key, "bias", sign),
    ]  # fmt: skip


def parameter_links(kind: str, reset_after: bool = True, bias: bool = True) -> list[Link]:
    """The row-by-row correspondence nn <-> course for one kind of cell, as a list of Links."""
    _check_kind(kind)
    if kind == "rnn":
        links = [
            Link("weight_ih", "Wax", "", 0, ("weight_ih",), "Wax", "all", 1.0),
            Link("weight_hh", "Waa", "", 0, ("weight_hh",), "Waa", "all", 1.0),
            Link("bias_ih + bias_hh", "ba", "", 0, ("bias_ih", "bias_hh"), "ba", "bias", 1.0),
        ]
    elif kind == "lstm":
        links = [
            link
            for block, (gate, key) in enumerate(_LSTM_GATES)
            for link in _gate_links(gate, block, key, 1.0)
        ]
    else:
        links = _gate_links("r", 0, "r", 1.0) + _gate_links("z", 1, "u", -1.0)
        if reset_after:
            links += [
                Link("weight_hh[n]", "Wcc", "n", 2, ("weight_hh",), "Wcc", "all", 1.0),
                Link("weight_ih[n]", "Wcx", "n", 2, ("weight_ih",), "Wcx", "all", 1.0),
                Link("bias_ih[n]", "bc", "n", 2, ("bias_ih",), "bc", "bias", 1.0),
                Link("bias_hh[n]", "bhc", "n", 2, ("bias_hh",), "bhc", "bias", 1.0),
            ]
        else:
            links += _gate_links("n", 2, "c", 1.0)
    return [lk for lk in links if bias or lk.part != "bias"]


def course_keys(kind: str, reset_after: bool = True) -> tuple[str, ...]:
    """The array keys of the course dict for a kind (GRU: the variant's keys)."""
    _check_kind(kind)
    if kind == "rnn":
        return ("Wax", "Waa", "ba")
    if kind == "lstm":
        return tuple(p + g for g in "fico" for p in "Wb")
    return VARIANT_KEYS["pytorch" if reset_after else "course"]


def _course_shape(key: str, n_a: int, n_x: int) -> tuple[int, int]:
    if key.startswith("b"):
        return (n_a, 1)
    return (n_a, {"Waa": n_a, "Wax": n_x, "Wcc": n_a, "Wcx": n_x}.get(key, n_a + n_x))


def course_slice(arr: np.ndarray, part: str, n_a: int) -> np.ndarray:
    """The view of a course array that one Link covers: (n_a, k) for weights, (n_a,) for bias."""
    if part == "h":
        return arr[:, :n_a]
    if part == "x":
        return arr[:, n_a:]
    return arr[:, 0] if part == "bias" else arr


def nn_rows(arr: np.ndarray, block: int, n_a: int) -> np.ndarray:
    """Row block `block` (gate number) of an nn parameter (gates*n_a, ...) -> view (n_a, ...)."""
    return arr[block * n_a : (block + 1) * n_a]


# ----------------------------------------------------------------------------- state dicts


def _strip_suffix(state: Params) -> tuple[dict[str, np.ndarray], bool]:
    """Accept cell names (weight_ih, ...) or one-layer names (weight_ih_l0, ...), not a mix."""
    names = sorted(state)
    extra = [k for k in names if k.endswith("_reverse") or ("_l" in k and not k.endswith("_l0"))]
    if extra:
        raise ValueError(
            "convert handles one layer in one direction (keys weight_ih[_l0], weight_hh[_l0], "
            f"bias_ih[_l0], bias_hh[_l0]); got extra layers/directions in {names}"
        )
    layer = any(k.endswith("_l0") for k in names)
    want = {base + ("_l0" if layer else "") for base in _NN_BASE}
    if not (set(names) == want or set(names) == {k for k in want if k.startswith("weight")}):
        raise ValueError(f"expected keys {sorted(want)} (biases optional), got {names}")
    return {k.removesuffix("_l0"): np.asarray(v) for k, v in state.items()}, layer


def _check_nn_shapes(state: dict[str, np.ndarray], kind: str) -> tuple[int, int]:
    """(n_a, n_x) from weight_hh / weight_ih; every shape checked against them."""
    G = KINDS[kind]
    w_hh, w_ih = state["weight_hh"], state["weight_ih"]
    if w_hh.ndim != 2 or w_hh.shape[0] != G * w_hh.shape[1]:
        raise ValueError(f"{kind}: weight_hh must be ({G}*n_a, n_a), got {w_hh.shape}")
    n_a = w_hh.shape[1]
    if w_ih.ndim != 2 or w_ih.shape[0] != G * n_a:
        raise ValueError(f"{kind}: weight_ih must be ({G * n_a}, n_x), got {w_ih.shape}")
    for b in ("bias_ih", "bias_hh"):
        if b in state and state[b].shape != (G * n_a,):
            raise ValueError(f"{kind}: {b} must have shape ({G * n_a},), got {state[b].shape}")
    return n_a, w_ih.shape[1]


def state_dict_to_course(
    state: Params, kind: str, reset_after: bool = True, nonlinearity: str = "tanh"
) -> Params:
    """nn state dict {weight_ih[_l0]: (G*n_a, n_x), ...} -> course dict {Wf: (n_a, n_a+n_x), ...}.

    Folded biases are added; without biases the course biases are zeros. New arrays throughout.
    """
    _check_kind(kind)
    nn_state, _ = _strip_suffix(state)
    n_a, n_x = _check_nn_shapes(nn_state, kind)
    dtype = np.result_type(*nn_state.values())
    out = {k: np.zeros(_course_shape(k, n_a, n_x), dtype) for k in course_keys(kind, reset_after)}
    for link in parameter_links(kind, reset_after, bias="bias_ih" in nn_state):
        block = sum(nn_rows(nn_state[p], link.block, n_a) for p in link.pieces)
        course_slice(out[link.key], link.part, n_a)[...] = link.sign * block
    if kind == "rnn":
        out["nonlinearity"] = nonlinearity
    return out


def _check_course(params: Params, kind: str, reset_after: bool) -> tuple[int, int]:
    """(n_a, n_x) of a course dict; keys and shapes checked."""
    keys = course_keys(kind, reset_after)
    allowed = set(keys) | ({"nonlinearity"} if kind == "rnn" else set())
    if any(k not in params for k in keys) or set(params) - allowed:
        raise ValueError(f"{kind} course dict: expected keys {list(keys)}, got {sorted(params)}")
    n_a = np.shape(params[keys[0]])[0]
    x_key = "Wax" if kind == "rnn" else "Wcx" if "Wcx" in keys else None
    n_x = np.shape(params[x_key])[1] if x_key else np.shape(params[keys[0]])[1] - n_a
    for k in keys:
        want = _course_shape(k, n_a, n_x)
        if np.shape(params[k]) != want:
            raise ValueError(
                f"{kind} course dict: {k} must have shape {want} (n_a={n_a}, n_x={n_x}), "
                f"got {np.shape(params[k])}"
            )
    return n_a, n_x


def _course_to_nn(params, kind, reset_after, bias, layer, fill_all) -> dict[str, np.ndarray]:
    """Shared body of course_to_state_dict (fill_all=False) and grads_to_nn (fill_all=True)."""
    n_a, n_x = _check_course(params, kind, reset_after)
    keys, G = course_keys(kind, reset_after), KINDS[kind]
    if not bias and any(np.any(params[k]) for k in keys if k.startswith("b")):
        raise ValueError("the module has bias=False but the course biases are not all zero")
    out = {"weight_ih": np.zeros((G * n_a, n_x)), "weight_hh": np.zeros((G * n_a, n_a))}
    if bias:
        out.update(bias_ih=np.zeros(G * n_a), bias_hh=np.zeros(G * n_a))
    dtype = np.result_type(*(np.asarray(params[k]) for k in keys))
    out = {name: arr.astype(dtype) for name, arr in out.items()}
    for link in parameter_links(kind, reset_after, bias):
        value = link.sign * course_slice(np.asarray(params[link.key]), link.part, n_a)
        for p in link.pieces if fill_all else link.pieces[:1]:
            nn_rows(out[p], link.block, n_a)[...] = value
    return {k + ("_l0" if layer else ""): v for k, v in out.items()}


def course_to_state_dict(
    params: Params, kind: str, reset_after: bool = True, bias: bool = True, layer: bool = False
) -> dict[str, np.ndarray]:
    """Course dict -> nn state dict {weight_ih[_l0]: (G*n_a, n_x), ...}; folded bias -> bias_ih.

    bias=False (a module without biases) requires every course bias to be zero.
    """
    _check_kind(kind)
    return _course_to_nn(params, kind, reset_after, bias, layer, fill_all=False)


def grads_to_nn(
    grads: Params, kind: str, reset_after: bool = True, bias: bool = True, layer: bool = False
) -> dict[str, np.ndarray]:
    """Course gradients {dWf: ...} -> nn gradients {weight_ih[_l0]: ...}.

    A folded bias gives its gradient to both pieces: dL/db_ih = dL/db_hh = dL/db.
    With bias=False the course bias gradients are dropped.
    """
    _check_kind(kind)
    params = {k: grads["d" + k] for k in course_keys(kind, reset_after) if "d" + k in grads}
    if not bias:
        params = {k: v if k[0] == "W" else np.zeros_like(v) for k, v in params.items()}
    return _course_to_nn(params, kind, reset_after, bias, layer, fill_all=True)


def grads_to_course(grads: Params, kind: str, reset_after: bool = True) -> dict[str, np.ndarray]:
    """nn gradients {weight_ih[_l0]: (G*n_a, n_x), ...} -> course gradients {dWf: ...}.

    A folded bias b = b_ih + b_hh has dL/db = dL/db_ih (= dL/db_hh): bias_ih's block is taken.
    """
    _check_kind(kind)
    nn_grads, _ = _strip_suffix(grads)
    n_a, _ = _check_nn_shapes(nn_grads, kind)
    as_params = dict(nn_grads)
    if "bias_hh" in nn_grads:  # zero the folded pieces of bias_hh so the sum is bias_ih alone
        as_params["bias_hh"] = np.zeros_like(nn_grads["bias_hh"])
        if kind == "gru" and reset_after:  # b_hn is not folded: it keeps its own gradient
            as_params["bias_hh"][2 * n_a :] = nn_grads["bias_hh"][2 * n_a :]
    course = state_dict_to_course(as_params, kind, reset_after)
    return {"d" + k: v for k, v in course.items() if isinstance(v, np.ndarray)}


# ----------------------------------------------------------------------------- modules


def module_spec(module: Any) -> ModuleSpec:
    """Read kind, sizes and options of an RNN/GRU/LSTM cell or one-layer layer (duck typing)."""
    name = type(module).__name__
    if name not in _MODULES:
        raise TypeError(
            f"expected one of {', '.join(_MODULES)} (a cell, or a layer with one layer and one "
            f"direction), got {name}"
        )
    layer = not name.endswith("Cell")
    if layer and getattr(module, "num_layers", 1) != 1:
        raise ValueError(f"{name} has num_layers={module.num_layers}; convert handles num_layers=1")
    if layer and getattr(module, "bidirectional", False):
        raise ValueError(f"{name} is bidirectional; convert handles one direction only")
    if getattr(module, "proj_size", 0):
        raise ValueError(f"{name} has proj_size={module.proj_size}; the course LSTM has none")
    names = [k for k, _ in module.named_parameters()]
    return ModuleSpec(
        kind=_MODULES[name],
        input_size=int(module.input_size),
        hidden_size=int(module.hidden_size),
        layer=layer,
        bias=any(k.startswith("bias") for k in names),
        nonlinearity=getattr(module, "nonlinearity", "tanh"),
        reset_after=bool(getattr(module, "reset_after", True)),
    )


def module_to_course(module: Any) -> Params:
    """Cell or one-layer RNN/GRU/LSTM -> course dict of new arrays (GRU: see spec.variant)."""
    spec = module_spec(module)
    state = {k: np.array(np.asarray(p.data)) for k, p in module.named_parameters()}
    return state_dict_to_course(state, spec.kind, spec.reset_after, spec.nonlinearity)


def course_to_module(params: Params, module: Any) -> Any:
    """Write a course dict into a cell or one-layer layer through its load_state_dict."""
    spec = module_spec(module)
    if params.get("nonlinearity", spec.nonlinearity) != spec.nonlinearity:
        raise ValueError(
            f"the course dict has nonlinearity {params['nonlinearity']!r}, the module "
            f"{spec.nonlinearity!r}"
        )
    state = course_to_state_dict(params, spec.kind, spec.reset_after, spec.bias, spec.layer)
    return module.load_state_dict(state)


# ----------------------------------------------------------------------------- layouts


def sequence_to_course(x: np.ndarray) -> np.ndarray:
    """nn sequence (T_x, m, n) -> course (n, m, T_x): a transposed view (inputs, outputs, da)."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"expected a sequence of shape (T_x, m, n), got shape {x.shape}")
    return x.transpose(2, 1, 0)


def sequence_from_course(x: np.ndarray) -> np.ndarray:
    """Course sequence (n, m, T_x) -> nn (T_x, m, n): a transposed view."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"expected a course sequence of shape (n, m, T_x), got shape {x.shape}")
    return x.transpose(2, 1, 0)


def state_to_course(h: np.ndarray) -> np.ndarray:
    """nn state or cell input (m, n), or a one-layer layer's (1, m, n) -> course (n, m) (a view)."""
    h = np.asarray(h)
    if h.ndim == 3 and h.shape[0] == 1:
        h = h[0]
    if h.ndim != 2:
        raise ValueError(f"expected a state of shape (m, n) or (1, m, n), got shape {h.shape}")
    return h.T


def state_from_course(a: np.ndarray, layer: bool = False) -> np.ndarray:
    """Course state (n, m) -> nn (m, n), or (1, m, n) for a layer's h_0 / c_0 (a view)."""
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"expected a course state of shape (n, m), got shape {a.shape}")
    return a.T[None] if layer else a.T
