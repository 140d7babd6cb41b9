"""Autodiff versus the hand-derived backward versus finite differences, row by row.

`compare_gradients(module, inputs)` copies an RNN/GRU/LSTM cell or one-layer, one-direction
layer to float64 (the user's module is never touched) and computes dL/dparameter three ways:
autodiff (the engine's backward); manual (`tinygrad_seq.manual` after `manual.convert`, fed the
*same* upstream gradient: autodiff differentiates the loss with respect to the module's output
and final state, and that array enters the hand-written BPTT; for the default loss, the summed
output, it is all ones); and central finite differences of the loss (FD).

The manual BPTT is replayed here from the manual *cell* backward (looked up when called, so it
can be monkeypatched, or replaced with `manual_backward=`), which exposes the total dL/da<t> of
every step; the layer's retained states (retain_states=True) give autodiff's. A step-local check
then localises a disagreement: at each step t, in BPTT order (t = T_x-1..0), both methods get
autodiff's incoming gradients and backpropagate that one step; the first step whose outputs
differ is `first_divergent_step`, and the rows that differ there name parameter and gate.
Steps count from 0 as in the engine's scopes: step t is the course's a<t+1>.
"""

from __future__ import annotations

import copy
import html
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..manual import convert as cv
from ..manual import gru as manual_gru
from ..manual import lstm as manual_lstm
from ..manual import rnn as manual_rnn
from ..tensor import Tensor
from .finite_diff import partials

__all__ = ["GradientReport", "Row", "compare_gradients", "replay_bptt"]

PAIRS = ("autodiff-manual", "autodiff-FD", "manual-FD")
_INPUTS = (  # key, course name, and the names in a one-step check
    ("input", "x", "dL/dx[t]", "dxt"),
    ("h_0", "a0", "dL/dh[t-1]", "da_prev"),
    ("c_0", "c0", "dL/dc[t-1]", "dc_prev"),
)


def _leaf(arr: np.ndarray, requires_grad: bool) -> Tensor:
    """A leaf Tensor holding a copy of arr, its dtype kept."""
    return Tensor._make(np.array(arr), False, None).requires_grad_(requires_grad)


@dataclass
class Row:
    """One compared quantity: both names, pair -> (max abs, max rel, ok), the worst entry."""

    nn_label: str
    course_label: str
    diffs: dict[str, tuple[float, float, bool]] = field(default_factory=dict)
    worst: str = ""

    @property
    def label(self) -> str:
        """'nn name ~ course name'."""
        return f"{self.nn_label} ~ {self.course_label}"

    @property
    def ok(self) -> bool:
        """Every compared pair within tolerance."""
        return all(d[2] for d in self.diffs.values())


def _row(nn_label: str, course_label: str, arrays: dict, tols: dict, describe: Callable) -> Row:
    """Compare each pair of arrays present (NaN: FD skipped the entry); name the worst entry.

    An entry passes if |a - b| <= atol + rtol * max(|a|, |b|); rel is max|a - b| / max|a|, |b|.
    """
    row, worst = Row(nn_label, course_label), (0.0, None, "")
    for pair in PAIRS:
        p, q = pair.split("-")
        if p not in arrays or q not in arrays:
            continue
        a, b = arrays[p], arrays[q]
        mask = ~(np.isnan(a) | np.isnan(b))
        if not mask.any():
            continue
        atol, rtol = tols["FD" if q == "FD" else "exact"]
        mag = np.where(mask, np.maximum(np.abs(a), np.abs(b)), 0.0)
        d = np.where(mask, np.abs(a - b), 0.0)
        ratio = np.where(d == 0, 0.0, d / np.maximum(atol + rtol * mag, 1e-300))
        rel = d.max() / mag.max() if mag.max() else 0.0
        row.diffs[pair] = (float(d.max()), float(rel), bool(ratio.max() <= 1))
        if ratio.max() > worst[0]:
            worst = (ratio.max(), np.unravel_index(int(np.argmax(ratio)), a.shape), pair)
    row.worst = f"{worst[2]}: {describe(worst[1])}" if worst[1] is not None else ""
    return row


@dataclass
class GradientReport:
    """Rows per parameter and input, one per time step, and where the methods first part."""

    title: str
    settings: str
    rows: list[Row]  # parameters, then inputs
    steps: list[Row]  # t = 0..T_x-1: total dL/dh[t], autodiff (retained states) vs manual
    local: dict[int, list[str]]  # t -> labels whose one-step backward at t differs
    forward_diff: float
    forward_ok: bool = True
    first_divergent_step: int | None = None  # the largest such t: the first in BPTT order
    first_divergent_params: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the forward passes and every compared pair agree within tolerance."""
        return self.forward_ok and not self.failures()

    def failures(self) -> list[str]:
        """What disagrees: row labels, then 'one-step backward at t=...' per failing step."""
        bad = [r.label for r in self.rows + self.steps if not r.ok]
        return bad + [f"one-step backward at t={t}" for t in sorted(self.local, reverse=True)]

    def _summary(self) -> list[str]:
        fails = self.failures() + ([] if self.forward_ok else ["forward"])
        status = "OK" if not fails else f"FAILED ({len(fails)} disagreements)"
        fwd = f"{self.forward_diff:.1e} ({'ok' if self.forward_ok else 'DIFFERENT'})"
        lines = [f"{self.title}: {status}", self.settings, f"forward max|nn - manual| = {fwd}"]
        if self.first_divergent_step is not None:
            t, names = self.first_divergent_step, ", ".join(self.first_divergent_params)
            lines.append(
                f"first divergent step (BPTT order, t = T_x-1..0): t={t} ~ a<{t + 1}>; given "
                f"the same incoming gradient, its one-step backward differs in: {names or '-'}"
            )
        return lines

    def _render(self, fmt: str) -> str:
        """fmt 'text' (aligned columns), 'md' (GitHub tables) or 'html' (tables for notebooks)."""
        head = ["parameter / input"] + [f"{p} abs / rel" for p in PAIRS] + ["ok", "worst entry"]
        body = [[r.label] + [_fmt(r.diffs.get(p)) for p in PAIRS] + [_ok(r.ok), r.worst]
                for r in self.rows]  # fmt: skip
        step_head = ["time step (total dL/dh[t])", head[1], "ok", "one-step backward"]
        step_body = []
        for t, r in enumerate(self.steps):
            bad = [label.split(" ~ ")[0] for label in self.local.get(t, [])]
            local = "differs: " + ", ".join(bad) if bad else "same"
            step_body.append([r.label, _fmt(r.diffs.get(PAIRS[0])), _ok(r.ok and not bad), local])
        tables = [_table(head, body, fmt), _table(step_head, step_body, fmt)]
        if fmt == "html":
            status = "#1a7f37" if self.ok else "#cf222e"
            lines = [f"<p>{html.escape(s)}</p>" for s in self._summary()]
            lines[0] = lines[0].replace("<p>", f'<p style="color:{status}"><b>', 1)
            lines[0] = lines[0].replace("</p>", "</b></p>")
            return "\n".join(['<div class="tinygrad-seq-report">', *lines, *tables, "</div>"])
        return "\n".join(self._summary() + ["", tables[0], "", tables[1]])

    def __str__(self) -> str:
        return self._render("text")

    def to_markdown(self) -> str:
        """The same report with GitHub markdown tables."""
        return self._render("md")

    def to_html(self) -> str:
        """The same report as HTML tables, FAIL cells in red; notebooks show it by itself."""
        return self._render("html")

    def _repr_html_(self) -> str:
        """What Jupyter displays: to_html()."""
        return self.to_html()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text form (a terminal, a text-only notebook front end): str(self)."""
        printer.text(str(self))


def _ok(ok: bool) -> str:
    return "ok" if ok else "FAIL"


def _fmt(d: tuple | None) -> str:
    return "-" if d is None else f"{d[0]:.1e} / {d[1]:.1e}"


def _table(head: list[str], body: list[list[str]], fmt: str) -> str:
    """Aligned plain-text columns, a markdown table, or an HTML table."""
    if fmt == "html":
        return _html_table(head, body)
    if fmt == "md":
        return "\n".join("| " + " | ".join(c) + " |" for c in [head, ["---"] * len(head)] + body)
    width = [max(len(c[i]) for c in [head] + body) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(cells, width)).rstrip()
                     for cells in [head] + body)  # fmt: skip


def _html_table(head: list[str], body: list[list[str]]) -> str:
    """<table> with a header row; a FAIL cell red, an ok cell green; every cell escaped."""
    colors = {"ok": "#1a7f37", "FAIL": "#cf222e"}

    def cell(tag: str, text: str) -> str:
        color = colors.get(text) if tag == "td" else None
        style = f' style="color:{color};font-weight:bold"' if color else ""
        return f"<{tag}{style}>{html.escape(text)}</{tag}>"

    rows = ["<tr>" + "".join(cell("th", c) for c in head) + "</tr>"]
    rows += ["<tr>" + "".join(cell("td", c) for c in cells) + "</tr>" for cells in body]
    return "<table>\n" + "\n".join(rows) + "\n</table>"


# ----------------------------------------------------------------------------- the module side


def _call_loss(loss: Callable | None, out: Tensor, state: Any) -> Tensor:
    """loss(output[, final state]) -> one-element Tensor; None is the summed output."""
    if loss is None:
        return out.sum()
    try:
        inspect.signature(loss).bind(None, None)
        takes_state = True
    except (TypeError, ValueError):  # takes the output only (or has no signature)
        takes_state = False
    value = loss(out, state) if takes_state else loss(out)
    if not isinstance(value, Tensor) or value._data.size != 1:
        raise TypeError(f"loss must return a one-element Tensor, got {type(value).__name__}")
    if value.dtype != np.float64:
        raise TypeError(
            f"loss returned a {value.dtype} value: the comparison runs in float64, and rounding "
            "to a lower precision would swamp the finite differences; do not cast in the loss"
        )
    return value


def _grad(t: Tensor) -> np.ndarray:
    return np.zeros_like(t._data) if t.grad is None else t.grad._data.copy()


def _array(a: Any) -> np.ndarray:
    return np.array(a._data if isinstance(a, Tensor) else a, dtype=np.float64)


@dataclass
class _Run:
    """The float64 copy and the inputs in internal layout: x (T, m, n_x), h and c (m, n_a)."""

    spec: cv.ModuleSpec
    clone: Any
    x: Any = None
    h: Any = None
    c: Any = None

    def to_module(self, seq: np.ndarray) -> np.ndarray:
        """(T, m, n) -> the module's layout: (m, n) for a cell, (m, T, n) if batch_first."""
        if not self.spec.layer:
            return seq[0]
        return seq.swapaxes(0, 1) if getattr(self.clone, "batch_first", False) else seq

    def from_module(self, arr: np.ndarray) -> np.ndarray:
        """The module's layout -> (T, m, n)."""
        return arr[None] if not self.spec.layer else self.to_module(arr)

    def squeeze(self, s: np.ndarray) -> np.ndarray:
        """A layer's (1, m, n_a) state -> (m, n_a); a cell's is already so."""
        return s[0] if self.spec.layer else s

    def forward(self, x: np.ndarray, h: Any, c: Any, grad: bool = False) -> tuple:
        """x (T, m, n_x), states (m, n_a) -> (leaves [x, h(, c)], output, final state)."""
        leaves = [_leaf(self.to_module(x), grad)]
        leaves += [_leaf(s[None] if self.spec.layer else s, grad) for s in (h, c) if s is not None]
        lstm = self.spec.kind == "lstm"
        res = self.clone(leaves[0], tuple(leaves[1:]) if lstm else leaves[1])
        if self.spec.layer:
            return leaves, res[0], res[1]
        return leaves, (res[0] if lstm else res), res

    def backprop(self, x: np.ndarray, h: Any, c: Any, objective: Callable) -> dict:
        """Autodiff of objective(output, state): parameter and input grads, output, state."""
        self.clone.zero_grad()
        leaves, out, state = self.forward(x, h, c, grad=True)
        objective(out, state).backward()
        ins = {"input": self.from_module(_grad(leaves[0]))}
        ins.update({k: self.squeeze(_grad(t)) for k, t in zip(("h_0", "c_0"), leaves[1:])})
        grads = {k.removesuffix("_l0"): _grad(p) for k, p in self.clone.named_parameters()}
        return {"grads": grads, "inputs": ins, "output": out, "state": state}


def _prepare(module: Any, inputs: Any, h0: Any) -> _Run:
    """Validate, copy the module to float64 (retaining states) and lay out the inputs."""
    spec, name = cv.module_spec(module), type(module).__name__
    states = module.__dict__.get("states")  # retained Tensors of the user's last call: not copied
    run = _Run(spec, copy.deepcopy(module, {id(states): {}} if states is not None else {}))
    run.clone.double()
    run.clone.retain_states = spec.layer  # per-step h (and c) with their total gradients
    x = _array(inputs)
    if x.ndim != (3 if spec.layer else 2) or x.shape[-1] != spec.input_size:
        want = "(T, m, n_x)" if spec.layer else "(m, n_x)"
        raise ValueError(
            f"{name}: inputs must be {want} with n_x={spec.input_size}, got {tuple(x.shape)}"
        )
    run.x = run.from_module(x).copy()
    m, lstm = run.x.shape[1], spec.kind == "lstm"
    shape = (1, m, spec.hidden_size) if spec.layer else (m, spec.hidden_size)
    given = (h0 if lstm and h0 is not None else (h0, None))[: 1 + lstm]
    states = [np.zeros(shape) if s is None else _array(s) for s in given]
    for label, s in zip(("h0", "c0"), states):
        if s.shape != shape:
            raise ValueError(f"{name}: {label} must have shape {shape}, got {tuple(s.shape)}")
    run.h, run.c = run.squeeze(states[0]), run.squeeze(states[1]) if lstm else None
    return run


def _autodiff(run: _Run, loss: Callable | None) -> dict[str, Any]:
    """Backward through the copy, plus per-step totals dL/dh[t] and the upstream gradient."""
    res = run.backprop(run.x, run.h, run.c, lambda o, s: _call_loss(loss, o, s))
    lstm, state = run.spec.kind == "lstm", res["state"]
    # the upstream gradient: the loss differentiated at leaves holding the same values
    out_leaf = _leaf(res["output"]._data, True)
    s_leaves = [_leaf(s._data, True) for s in (state if lstm else (state,))]
    _call_loss(loss, out_leaf, tuple(s_leaves) if lstm else s_leaves[0]).backward()
    da = run.from_module(_grad(out_leaf))
    da[-1] += run.squeeze(_grad(s_leaves[0]))
    kept = run.clone.states.get("l0") if run.spec.layer else None
    final = [run.squeeze(s._data) for s in (state if lstm else (state,))]
    res.update(
        out=run.from_module(res["output"]._data),
        da=da,
        dc_last=run.squeeze(_grad(s_leaves[1])) if lstm else None,
        totals=[_grad(s) for s in kept["h"]] if kept else [da[0]],
        h_seq=[s._data for s in kept["h"]] if kept else final[:1],
        c_seq=([s._data for s in kept["c"]] if kept else final[1:]) if lstm else None,
    )
    return res


def _fd(run: _Run, loss: Callable | None, eps: float, inputs: bool, max_entries: Any, seed: int):
    """Central differences of the loss for every parameter (and input) entry, NaN if skipped."""

    def f() -> float:
        with no_grad():
            _, out, state = run.forward(run.x, run.h, run.c)
            return float(_call_loss(loss, out, state).item())

    targets = {k.removesuffix("_l0"): p._data for k, p in run.clone.named_parameters()}
    if inputs:
        targets.update(input=run.x, h_0=run.h, **({} if run.c is None else {"c_0": run.c}))
    rng, result = np.random.default_rng(seed), {}
    for name, arr in targets.items():
        entries = None
        if max_entries is not None and arr.size > max_entries:
            entries = rng.choice(arr.size, size=max_entries, replace=False)
        result[name] = partials(f, arr, eps, entries).reshape(arr.shape)
    return result


# ----------------------------------------------------------------------------- the manual side


def _cell_backward(kind: str, override: Callable | None) -> Callable:
    """The manual cell backward, looked up now so that a monkeypatched one is used."""
    if override is not None:
        return override
    table = {"rnn": manual_rnn.rnn_cell_backward, "lstm": manual_lstm.lstm_cell_backward}
    return table.get(kind, manual_gru.gru_cell_backward)


def _step(backward: Callable, kind: str, da: np.ndarray, dc: Any, cache: tuple) -> dict:
    return backward(da, dc, cache) if kind == "lstm" else backward(da, cache)


def replay_bptt(
    kind: str,
    da: np.ndarray,
    caches: tuple,
    dc_last: np.ndarray | None = None,
    cell_backward: Callable | None = None,
) -> dict[str, Any]:
    """Manual BPTT from the cell backward: da (n_a, m, T_x) -> grads + 'totals' (T_x of (n_a, m)).

    The loop of manual.rnn_backward / lstm_backward / gru_backward (same results, same keys dx,
    da0[, dc0], d<param>), also returning the total dL/da<t> = da[:, :, t] + da_prev<t+1>.
    """
    backward = _cell_backward(kind, cell_backward)
    cell_caches, T = caches[0], da.shape[2]
    da_prev = np.zeros_like(da[:, :, 0])
    dc_prev = np.zeros_like(da_prev) if dc_last is None else dc_last
    out: dict[str, Any] = {"totals": [None] * T, "dx": [None] * T}
    for t in reversed(range(T)):
        out["totals"][t] = da[:, :, t] + da_prev
        step = _step(backward, kind, out["totals"][t], dc_prev, cell_caches[t])
        da_prev, dc_prev, out["dx"][t] = step["da_prev"], step.get("dc_prev"), step["dxt"]
        for k, v in step.items():
            if k not in ("da_prev", "dc_prev", "dxt"):
                out[k] = out[k] + v if k in out else v.copy()
    out.update(dx=np.stack(out["dx"], axis=-1), da0=da_prev)
    out.update({"dc0": dc_prev} if kind == "lstm" else {})
    return out


def _manual(run: _Run, ad: dict, backward: Callable | None) -> tuple[np.ndarray, tuple, dict]:
    """Convert, run the manual forward, and BPTT on autodiff's upstream gradient."""
    spec, params = run.spec, cv.module_to_course(run.clone)
    x, a0 = cv.sequence_to_course(run.x), run.h.T
    if spec.kind == "lstm":
        a, _, _, caches = manual_lstm.lstm_forward(x, a0, params, c0=run.c.T)
    elif spec.kind == "gru":
        a, _, caches = manual_gru.gru_forward(x, a0, params, variant=spec.variant)
    else:
        a, _, caches = manual_rnn.rnn_forward(x, a0, params)
    dc_last = None if ad["dc_last"] is None else ad["dc_last"].T
    grads = replay_bptt(spec.kind, cv.sequence_to_course(ad["da"]), caches, dc_last, backward)
    return cv.sequence_from_course(a), caches, grads


def _rows(spec: cv.ModuleSpec, grads: dict, inputs: dict, tols: dict, local=False) -> list[Row]:
    """Rows per Link of the parameter map, then input ~ x, h_0 ~ a0 (, c_0 ~ c0)."""
    n_a, sfx = spec.hidden_size, "_l0" if spec.layer else ""
    rows = []
    for link in cv.parameter_links(spec.kind, spec.reset_after, spec.bias):
        arrays = {method: link.take(g, n_a) for method, g in grads.items()}
        describe = lambda i, link=link: link.describe(i, n_a, sfx)  # noqa: E731
        rows.append(_row(link.nn_label, link.course_label, arrays, tols, describe))
    for key, course, nn_local, course_local in _INPUTS:
        arrays = {method: v[key] for method, v in inputs.items() if key in v}
        if arrays:
            where = "t={}, example {}, feature {}" if key == "input" else "example {}, unit {}"
            labels = (nn_local, course_local) if local else (key, course)
            rows.append(_row(*labels, arrays, tols, lambda i, w=where: w.format(*i)))
    return rows


def _manual_inputs(spec: cv.ModuleSpec, dx: np.ndarray, da: np.ndarray, dc: Any) -> dict:
    """Course dx (n_x, m, T), da0 / dc0 (n_a, m) -> nn layout (T, m, n_x), (m, n_a)."""
    out = {"input": cv.sequence_from_course(dx), "h_0": da.T}
    return {**out, "c_0": dc.T} if spec.kind == "lstm" else out


def _local_check(run: _Run, ad: dict, caches: tuple, backward: Callable, tols: dict) -> dict:
    """Backprop each step alone, both ways, from autodiff's incoming gradients; t -> differing."""
    spec, lstm, failing, g_c = run.spec, run.spec.kind == "lstm", {}, ad["dc_last"]
    for t in reversed(range(len(ad["totals"]))):
        h_prev = run.h if t == 0 else ad["h_seq"][t - 1]
        c_prev = (run.c if t == 0 else ad["c_seq"][t - 1]) if lstm else None
        g_h = ad["totals"][t]

        def objective(out: Tensor, state: Any, g_h=g_h, g_c=g_c) -> Tensor:  # <g_h, h> + <g_c, c>
            h = state[0] if lstm else state
            value = (h * _leaf(g_h.reshape(h.shape), False)).sum()
            return value + (state[1] * _leaf(g_c.reshape(h.shape), False)).sum() if lstm else value

        one = run.backprop(run.x[t : t + 1], h_prev, c_prev, objective)
        man = _step(backward, spec.kind, g_h.T, None if g_c is None else g_c.T, caches[0][t])
        man_in = _manual_inputs(spec, man["dxt"][:, :, None], man["da_prev"], man.get("dc_prev"))
        man_nn = cv.grads_to_nn(man, spec.kind, spec.reset_after, spec.bias)
        grads, ins = {"autodiff": one["grads"], "manual": man_nn}, [one["inputs"], man_in]
        rows = _rows(spec, grads, dict(zip(("autodiff", "manual"), ins)), tols, local=True)
        if any(not r.ok for r in rows):
            failing[t] = [r.label for r in rows if not r.ok]
        g_c = one["inputs"].get("c_0")
    return failing


# ----------------------------------------------------------------------------- the entry point


def compare_gradients(
    module: Any,
    inputs: Any,
    loss: Callable | None = None,
    h0: Any = None,
    atol: float = 1e-8,
    rtol: float = 1e-6,
    eps: float = 1e-6,
    *,
    fd: bool = True,
    fd_inputs: bool = True,
    fd_max_entries: int | None = None,
    fd_atol: float = 1e-6,
    fd_rtol: float = 1e-5,
    manual_backward: Callable | None = None,
    seed: int = 0,
) -> GradientReport:
    """Cell (m, n_x) / one-layer layer (T, m, n_x) inputs -> GradientReport of three gradients.

    loss(output) or loss(output, final_state) -> scalar Tensor (default: output.sum()); h0 is
    the module's hx ((h0, c0) for an LSTM). atol/rtol judge autodiff vs manual, fd_atol/fd_rtol
    the pairs with FD, which samples fd_max_entries entries per array (rng seed) or all of them.
    manual_backward replaces the manual cell backward (signature of manual's *_cell_backward).
    """
    run = _prepare(module, inputs, h0)
    spec, tols = run.spec, {"exact": (atol, rtol), "FD": (fd_atol, fd_rtol)}
    ad = _autodiff(run, loss)
    out, caches, man = _manual(run, ad, manual_backward)
    grads = {"autodiff": ad["grads"]}
    grads["manual"] = cv.grads_to_nn(man, spec.kind, spec.reset_after, spec.bias)
    ins = {"autodiff": ad["inputs"]}
    ins["manual"] = _manual_inputs(spec, man["dx"], man["da0"], man.get("dc0"))
    if fd:
        grads["FD"] = _fd(run, loss, eps, fd_inputs, fd_max_entries, seed)
        ins.update({"FD": grads["FD"]} if fd_inputs else {})
    steps = [
        _row(f"dL/dh[t={t}]", f"da<{t + 1}>", {"autodiff": g, "manual": m.T}, tols,
             lambda i: "example {}, unit {}".format(*i))
        for t, (g, m) in enumerate(zip(ad["totals"], man["totals"]))
    ]  # fmt: skip
    forward_diff = float(np.max(np.abs(out - ad["out"])))
    report = GradientReport(
        title=_title(module, spec, run.x.shape, loss),
        settings=_settings(tols, eps, fd, fd_max_entries),
        rows=_rows(spec, grads, ins, tols),
        steps=steps,
        local=_local_check(run, ad, caches, _cell_backward(spec.kind, manual_backward), tols),
        forward_diff=forward_diff,
        forward_ok=forward_diff <= atol + rtol * float(np.max(np.abs(ad["out"]))),
    )
    parted = [t for t, r in enumerate(steps) if not r.ok or t in report.local]
    if parted:
        report.first_divergent_step = max(parted)
        report.first_divergent_params = report.local.get(max(parted), [])
    return report


def _title(module: Any, spec: cv.ModuleSpec, x_shape: tuple, loss: Callable | None) -> str:
    extra = f", variant {spec.variant!r}" if spec.variant else ""
    extra += ", relu" if spec.nonlinearity == "relu" else ""
    name = "sum of outputs" if loss is None else getattr(loss, "__name__", type(loss).__name__)
    head = f"{type(module).__name__} n_x={spec.input_size} n_a={spec.hidden_size}{extra}"
    return f"{head}, T_x={x_shape[0]}, m={x_shape[1]}, loss: {name}"


def _settings(tols: dict, eps: float, fd: bool, fd_max: int | None) -> str:
    (atol, rtol), (fa, fr) = tols["exact"], tols["FD"]
    text = f"float64; autodiff-manual atol={atol:g} rtol={rtol:g}"
    if not fd:
        return text + "; FD off"
    sampled = "" if fd_max is None else f", at most {fd_max} entries per array"
    return text + f"; with FD atol={fa:g} rtol={fr:g}, central differences eps={eps:g}{sampled}"
