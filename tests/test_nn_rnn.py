"""Tests of tinygrad_seq.nn.rnn: cells and layers (PyTorch parity, gradchecks, BPTT length,
retained states, errors) and the fused steps (gradients equal to the composed steps',
gradchecks)."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
from helpers import require_torch
from script_parity import check_script

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.check.finite_diff import directional, partials
from tinygrad_seq.nn import rnn

MODES = [("RNN", "tanh"), ("RNN", "relu"), ("GRU", None), ("LSTM", None)]


def make_ours(mode, nonlin, **kw):
    if mode == "RNN":
        return nn.RNN(nonlinearity=nonlin, **kw)
    return getattr(nn, mode)(**kw)


def make_torch(torch, mode, nonlin, **kw):
    if mode == "RNN":
        return torch.nn.RNN(nonlinearity=nonlin, dtype=torch.float64, **kw)
    return getattr(torch.nn, mode)(dtype=torch.float64, **kw)


def to_numpy_state(torch_module):
    return {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}


def functional_call(module, params, *args, **kwargs):
    """Run module with its parameters temporarily replaced by the given tensors."""
    saved = {}
    for name, t in params.items():
        *path, leaf = name.split(".")
        mod = module
        for p in path:
            mod = getattr(mod, p)
        saved[name] = (mod, leaf, mod._parameters[leaf])
        mod._parameters[leaf] = t
    try:
        return module(*args, **kwargs)
    finally:
        for mod, leaf, p in saved.values():
            mod._parameters[leaf] = p


# ----------------------------------------------------------------------------- layer parity

LAYER_CASES = list(
    itertools.product(
        MODES, [1, 2, 3], [False, True], [False, True], [True, False], [False, True], [False, True]
    )
)


def _layer_case_id(case):
    (mode, nl), layers, bidir, bf, bias, h0, lens = case
    return (
        f"{mode}{'-' + nl if nl else ''}-L{layers}{'-bi' if bidir else ''}"
        f"{'-bf' if bf else ''}{'' if bias else '-nobias'}{'-h0' if h0 else ''}"
        f"{'-lengths' if lens else ''}"
    )


@pytest.mark.parity
@pytest.mark.parametrize("case", LAYER_CASES, ids=[_layer_case_id(c) for c in LAYER_CASES])
def test_layer_parity_with_torch(case):
    torch = require_torch()
    (mode, nonlin), layers, bidir, bf, bias, give_h0, use_lengths = case
    T, N, I, H = 5, 3, 4, 3
    kw = dict(
        input_size=I,
        hidden_size=H,
        num_layers=layers,
        bias=bias,
        batch_first=bf,
        bidirectional=bidir,
    )
    torch.manual_seed(0)
    tm = make_torch(torch, mode, nonlin, **kw)
    om = make_ours(mode, nonlin, **kw).double()
    om.load_state_dict(to_numpy_state(tm), strict=True)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, T, I) if bf else (T, N, I))
    D = 2 if bidir else 1
    h0 = rng.standard_normal((D * layers, N, H)) if give_h0 else None
    c0 = rng.standard_normal((D * layers, N, H)) if give_h0 else None
    lengths = np.array([5, 2, 4]) if use_lengths else None

    xo = ts.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    hx_o = hx_t = None
    if give_h0:
        h0o, h0t = ts.tensor(h0, requires_grad=True), torch.tensor(h0, requires_grad=True)
        c0o, c0t = ts.tensor(c0, requires_grad=True), torch.tensor(c0, requires_grad=True)
        hx_o = (h0o, c0o) if mode == "LSTM" else h0o
        hx_t = (h0t, c0t) if mode == "LSTM" else h0t

    out_o, hn_o = om(xo, hx_o, lengths=lengths)
    if use_lengths:
        pack = torch.nn.utils.rnn.pack_padded_sequence(
            xt, torch.tensor(lengths), batch_first=bf, enforce_sorted=False
        )
        out_t, hn_t = tm(pack, hx_t)
        out_t, _ = torch.nn.utils.rnn.pad_packed_sequence(out_t, batch_first=bf, total_length=T)
    else:
        out_t, hn_t = tm(xt, hx_t)

    finals_o = list(hn_o) if mode == "LSTM" else [hn_o]
    finals_t = list(hn_t) if mode == "LSTM" else [hn_t]
    np.testing.assert_allclose(out_o.data, out_t.detach().numpy(), atol=1e-12, rtol=0)
    for a, b in zip(finals_o, finals_t):
        np.testing.assert_allclose(a.data, b.detach().numpy(), atol=1e-12, rtol=0)

    r_out = rng.standard_normal(out_o.shape)
    r_fin = [rng.standard_normal(f.shape) for f in finals_o]
    loss_o = (out_o * ts.tensor(r_out)).sum()
    loss_t = (out_t * torch.tensor(r_out)).sum()
    for f_o, f_t, r in zip(finals_o, finals_t, r_fin):
        loss_o = loss_o + (f_o * ts.tensor(r)).sum()
        loss_t = loss_t + (f_t * torch.tensor(r)).sum()
    loss_o.backward()
    loss_t.backward()
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), atol=1e-10, rtol=0)
    if give_h0:
        np.testing.assert_allclose(h0o.grad.data, h0t.grad.numpy(), atol=1e-10, rtol=0)
        if mode == "LSTM":
            np.testing.assert_allclose(c0o.grad.data, c0t.grad.numpy(), atol=1e-10, rtol=0)
    tgrads = dict(tm.named_parameters())
    for name, p in om.named_parameters():
        np.testing.assert_allclose(
            p.grad.data, tgrads[name].grad.numpy(), atol=1e-10, rtol=0, err_msg=name
        )


@pytest.mark.parity
@pytest.mark.parametrize("mode,nonlin", MODES)
def test_weights_move_both_ways_strict(mode, nonlin):
    torch = require_torch()
    kw = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    ours = make_ours(mode, nonlin, **kw).double()
    theirs = make_torch(torch, mode, nonlin, **kw)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    theirs.load_state_dict(
        {k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}, strict=True
    )
    back = make_ours(mode, nonlin, **kw).double()
    back.load_state_dict(to_numpy_state(theirs), strict=True)
    for (n, a), (_, b) in zip(ours.named_parameters(), back.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=n)


# ----------------------------------------------------------------------------- cells

CELL_CASES = list(itertools.product(MODES, [True, False], [True, False], [True, False]))


@pytest.mark.parity
@pytest.mark.parametrize("case", CELL_CASES)
def test_cell_parity_with_torch(case):
    torch = require_torch()
    (mode, nonlin), batched, bias, give_h = case
    I, H, N = 4, 3, 2
    tcls = getattr(torch.nn, mode + "Cell")
    kw = dict(nonlinearity=nonlin) if mode == "RNN" else {}
    torch.manual_seed(0)
    tc = tcls(I, H, bias=bias, dtype=torch.float64, **kw)
    oc = getattr(nn, mode + "Cell")(I, H, bias=bias, **kw).double()
    oc.load_state_dict(to_numpy_state(tc), strict=True)
    rng = np.random.default_rng(2)
    shape = (N, I) if batched else (I,)
    hshape = (N, H) if batched else (H,)
    arrays = [rng.standard_normal(shape)]
    if give_h:
        arrays += [rng.standard_normal(hshape)] * (2 if mode == "LSTM" else 1)

    def ours(x, *hx):
        state = None if not hx else (tuple(hx) if mode == "LSTM" else hx[0])
        return oc(x, state)

    def theirs(x, *hx):
        state = None if not hx else (tuple(hx) if mode == "LSTM" else hx[0])
        return tc(x, state)

    from helpers import check_parity

    check_parity(ours, theirs, arrays, atol=1e-12)
    tgrads = dict(tc.named_parameters())
    for name, p in oc.named_parameters():
        np.testing.assert_allclose(p.grad.data, tgrads[name].grad.numpy(), atol=1e-12, err_msg=name)


def test_cells_start_from_zero_state():
    ts.manual_seed(0)
    cell = nn.LSTMCell(3, 2).double()
    x = ts.randn(4, 3, dtype=ts.float64)
    h1, c1 = cell(x)
    zeros = ts.zeros(4, 2, dtype=ts.float64)
    h2, c2 = cell(x, (zeros, zeros))
    np.testing.assert_array_equal(h1.data, h2.data)
    np.testing.assert_array_equal(c1.data, c2.data)


# ----------------------------------------------------------------------------- gradcheck


def _gradcheck_module(module, x, extra=()):
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().requires_grad_() for p in module.parameters()]

    def fn(x, *ps):
        out = functional_call(module, dict(zip(names, ps[: len(names)])), x, *ps[len(names) :])
        return out

    return ts.gradcheck(fn, (x, *params, *extra))


@pytest.mark.parametrize("mode,nonlin", MODES + [("GRU-course", None)])
def test_gradcheck_cells(mode, nonlin):
    ts.manual_seed(3)
    if mode == "RNN":
        cell = nn.RNNCell(3, 4, nonlinearity=nonlin)
    elif mode == "GRU-course":
        cell = nn.GRUCell(3, 4, reset_after=False)
    else:
        cell = getattr(nn, mode + "Cell")(3, 4)
    cell.double()
    x = ts.randn(2, 3, dtype=ts.float64, requires_grad=True)
    if nonlin == "relu":  # keep pre-activations away from relu's kink
        x = ts.tensor(np.abs(x.data) + 0.5, requires_grad=True)
    assert _gradcheck_module(cell, x)


@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM", "GRU-course"])
def test_gradcheck_two_layer_bidirectional_five_steps(mode):
    ts.manual_seed(4)
    if mode == "GRU-course":
        layer = nn.GRU(2, 3, num_layers=2, bidirectional=True, reset_after=False)
    else:
        layer = getattr(nn, mode)(2, 3, num_layers=2, bidirectional=True)
    layer.double()
    x = ts.randn(5, 2, 2, dtype=ts.float64, requires_grad=True)

    def fn(x, *ps):
        names = [n for n, _ in layer.named_parameters()]
        out, hn = functional_call(layer, dict(zip(names, ps)), x)
        hn = hn[0] if isinstance(hn, tuple) else hn
        return out, hn

    params = [p.detach().requires_grad_() for p in layer.parameters()]
    assert ts.gradcheck(fn, (x, *params))


def test_course_gru_differs_from_pytorch_gru_with_same_weights():
    ts.manual_seed(5)
    a = nn.GRU(3, 4).double()
    b = nn.GRU(3, 4, reset_after=False).double()
    b.load_state_dict(a.state_dict())
    x = ts.randn(6, 2, 3, dtype=ts.float64)
    assert not np.allclose(a(x)[0].data, b(x)[0].data)


# ----------------------------------------------------------------------------- long BPTT


@pytest.mark.slow
def test_bptt_3000_steps_at_default_recursion_limit():
    assert sys.getrecursionlimit() <= 1000 * 10  # nothing raised it for us
    ts.manual_seed(6)
    layer = nn.LSTM(2, 3).double()
    x = ts.randn(3000, 1, 2, dtype=ts.float64, requires_grad=True)
    out, (h, c) = layer(x)
    (out.sum() + h.sum()).backward()
    assert np.isfinite(x.grad.data).all()
    x_data = x.detach().numpy()  # shares memory with x: the checks below perturb it in place

    def loss():
        with ts.no_grad():
            out, (h, _) = layer(x)
            return (out.sum() + h.sum()).item()

    # the gradient that reached the first step, entry by entry, and all of it along a direction
    first = partials(loss, x_data, entries=[0, 1])[:2]
    np.testing.assert_allclose(x.grad.numpy()[0, 0], first, rtol=1e-6, atol=1e-9)
    u = np.random.default_rng(6).standard_normal(x.shape)
    slope = directional(loss, x_data, u)
    np.testing.assert_allclose(np.sum(x.grad.numpy() * u), slope, rtol=1e-6)


# ----------------------------------------------------------------------------- retained states


@pytest.mark.parametrize("mode", ["RNN", "LSTM"])
def test_retain_states_give_total_dl_dh_matching_finite_differences(mode):
    ts.manual_seed(7)
    layer = getattr(nn, mode)(2, 3, retain_states=True).double()
    T = 6
    x = ts.randn(T, 2, 2, dtype=ts.float64)
    r = np.random.default_rng(8).standard_normal((T, 2, 3))
    out, _ = layer(x)
    (out * ts.tensor(r)).sum().backward()
    hs = layer.states["l0"]["h"]
    assert len(hs) == T
    t = 2
    h_t = hs[t].detach().numpy().copy()
    c_t = layer.states["l0"]["c"][t].detach().numpy().copy() if mode == "LSTM" else None

    def loss_from(h):  # L as a function of h_t: its own output term plus later steps
        hx = ts.tensor(h[None])
        if mode == "LSTM":
            hx = (hx, ts.tensor(c_t[None]))
        with ts.no_grad():
            later, _ = layer(x[t + 1 :], hx)
        return float((h * r[t]).sum() + (later.data * r[t + 1 :]).sum())

    fd = partials(lambda: loss_from(h_t), h_t).reshape(h_t.shape)  # perturbs h_t in place
    np.testing.assert_allclose(hs[t].grad.data, fd, atol=1e-8)


def test_retain_states_bidirectional_keys_and_time_order():
    layer = nn.GRU(2, 3, num_layers=2, bidirectional=True, retain_states=True)
    x = ts.randn(4, 1, 2)
    out, _ = layer(x)
    assert set(layer.states) == {"l0", "l0_reverse", "l1", "l1_reverse"}
    # forward direction: state at t is output at t; reverse: the same, in time order
    for key, half in (("l1", slice(0, 3)), ("l1_reverse", slice(3, 6))):
        for t, h in enumerate(layer.states[key]["h"]):
            np.testing.assert_array_equal(h.data, out.data[t, :, half])
    layer.retain_states = False
    layer(x)
    assert layer.states == {}


def test_detach_states_cuts_the_graph():
    layer = nn.LSTM(2, 3)
    x = ts.randn(3, 1, 2)
    _, hx = layer(x)
    hx2 = nn.utils.detach_states(hx)
    assert isinstance(hx2, tuple) and all(h.grad_fn is None for h in hx2)
    out, _ = layer(x, hx2)
    out.sum().backward()  # would raise if the first graph were reused after freeing


# ----------------------------------------------------------------------------- dropout, shapes


def test_dropout_between_layers_only_in_training():
    ts.manual_seed(9)
    layer = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = ts.randn(5, 2, 3)
    layer.eval()
    a = layer(x)[0].data
    b = layer(x)[0].data
    np.testing.assert_array_equal(a, b)
    layer.train()
    c = layer(x)[0].data
    assert not np.allclose(a, c)


@pytest.mark.parity
@pytest.mark.parametrize("mode, nonlin", MODES)
def test_dropout_with_one_layer_warns_as_pytorch(mode, nonlin, recwarn):
    torch = require_torch()
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        make_torch(torch, mode, nonlin, input_size=3, hidden_size=4, dropout=0.5)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        make_ours(mode, nonlin, input_size=3, hidden_size=4, dropout=0.5)
    recwarn.clear()
    make_torch(torch, mode, nonlin, input_size=3, hidden_size=4, num_layers=2, dropout=0.5)
    make_ours(mode, nonlin, input_size=3, hidden_size=4, num_layers=2, dropout=0.5)
    make_ours(mode, nonlin, input_size=3, hidden_size=4, dropout=0.0)
    assert not [w for w in recwarn if "num_layers" in str(w.message)]


DROPOUT_ONE = """
m = torch.nn.LSTM(3, 4, num_layers=2, dropout=1.0)
with torch.no_grad():
    for i, p in enumerate(m.parameters()):
        p.copy_(torch.arange(p.numel(), dtype=torch.float64).reshape(p.shape) * 0.01 - 0.1 * i)
x = torch.arange(30, dtype=torch.float64).reshape(5, 2, 3) / 30
out, (h, c) = m(x)
out.sum().backward()
rec("out", out); rec("h", h); rec("c", c)
rec("g_l0", m.weight_ih_l0.grad); rec("g_l1", m.weight_hh_l1.grad)
m.eval()
rec("eval_out", m(x)[0])
"""


@pytest.mark.parity
def test_dropout_one_and_bad_dropout_as_pytorch():
    """dropout=1 is allowed (the upper layers see zeros in training); outside [0, 1] raises."""
    check_script(DROPOUT_ONE)
    check_script("torch.nn.GRU(3, 4, num_layers=2, dropout=1.5)", error_contains="[0, 1]")
    check_script("torch.nn.GRU(3, 4, num_layers=2, dropout=-0.1)", error_contains="[0, 1]")


def test_unbatched_and_batch_first_shapes():
    layer = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    out, h = layer(ts.randn(7, 3))
    assert out.shape == (7, 8) and h.shape == (4, 4)
    bf = nn.LSTM(3, 4, batch_first=True)
    out, (h, c) = bf(ts.randn(2, 7, 3))
    assert out.shape == (2, 7, 4) and h.shape == (1, 2, 4) and c.shape == (1, 2, 4)


def test_parameter_names_shapes_and_init_bounds():
    layer = nn.LSTM(5, 8, num_layers=2, bidirectional=True)
    names = [n for n, _ in layer.named_parameters()]
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert names[4] == "weight_ih_l0_reverse"
    assert layer.weight_ih_l1.shape == (32, 16)
    bound = 1 / np.sqrt(8)
    for p in layer.parameters():
        assert np.abs(p.data).max() <= bound
    assert "num_layers=2" in repr(layer) and "bidirectional=True" in repr(layer)


def test_time_step_scopes_are_recorded():
    layer = nn.LSTM(2, 3)
    out, _ = layer(ts.randn(3, 1, 2, requires_grad=True))
    scopes = set()
    stack = [out.grad_fn]
    seen = set()
    while stack:
        node = stack.pop()
        if id(node) in seen or node is None:
            continue
        seen.add(id(node))
        scopes.add(node.scope)
        stack.extend(node.next_functions)
    assert ("lstm", "l0", "t=2") in scopes and ("lstm", "l0", "t=0") in scopes


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda m: m(ts.randn(5, 2, 7)), "LSTM: input has 7 features, expected 10"),
        (lambda m: m(ts.randn(5, 2, 3, 10)), "expected input of shape (L, N, H_in)"),
        (
            lambda m: m(ts.randn(5, 2, 10), (ts.zeros(1, 3, 20), ts.zeros(1, 2, 20))),
            "h_0 has shape (1, 3, 20), expected (1, 2, 20)",
        ),
        (
            lambda m: m(ts.randn(5, 2, 10), (ts.zeros(1, 2, 20), ts.zeros(2, 2, 20))),
            "c_0 has shape (2, 2, 20), expected (1, 2, 20)",
        ),
        (lambda m: m(ts.randn(5, 2, 10), lengths=[5, 6]), "lengths[1] = 6 is longer than"),
        (lambda m: m(ts.randn(5, 2, 10), lengths=[5, 2, 3]), "one entry per sequence (2)"),
        (lambda m: m(ts.randn(5, 2, 10), lengths=[5, 0]), "lengths[1] = 0"),
        (lambda m: m(ts.randn(5, 2, 10), ts.zeros(1, 2, 20)), "hx must be a tuple (h_0, c_0)"),
        (lambda m: m(np.zeros((5, 2, 10))), "input must be a Tensor"),
    ],
)
def test_layer_errors_name_layer_and_shapes(call, message):
    layer = nn.LSTM(10, 20)
    with pytest.raises((ValueError, TypeError, RuntimeError)) as info:  # types: the parity test
        call(layer)
    assert message in str(info.value)


RNN_ERRORS = [
    "torch.nn.LSTM(3, 4)(x, (torch.zeros(2, 2, 4), torch.zeros(1, 2, 4)))",
    "torch.nn.LSTM(3, 4)(x, (torch.zeros(1, 2, 4), torch.zeros(1, 3, 4)))",
    "torch.nn.GRU(3, 4)(x, torch.zeros(1, 2, 5))",
    "torch.nn.GRU(3, 4)(torch.zeros(5, 2, 6))",
    "torch.nn.GRU(3, 4)(torch.zeros(5, 2, 6, 1))",
    "torch.nn.GRU(3, 4)(x.double())",
    "torch.nn.GRU(3, 4)(torch.zeros(5, 2, 3, dtype=torch.long))",
    "torch.nn.GRUCell(3, 4)(torch.zeros(2, 3), torch.zeros(2, 5))",
    "torch.nn.GRUCell(3, 4)(torch.zeros(2, 3), torch.zeros(3, 4))",
    "torch.nn.GRUCell(3, 4)(torch.zeros(2, 5))",
    "torch.nn.GRUCell(3, 4)(torch.zeros(2, 5, 3))",
    "torch.nn.LSTMCell(3, 4)(torch.zeros(2, 3), (torch.zeros(2, 4), torch.zeros(2, 5)))",
    "torch.nn.LSTM(3, 4, proj_size=2)(x, (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))",
]


@pytest.mark.parity
@pytest.mark.parametrize("call", RNN_ERRORS)
def test_layer_error_types_as_pytorch(call):
    """Bad shapes and dtypes raise the exception type PyTorch raises (with our clear message)."""
    torch = require_torch()
    with pytest.raises(Exception) as theirs:  # the oracle must fail too, or the case is moot
        exec(call, {"torch": torch, "x": torch.zeros(5, 2, 3)})
    with pytest.raises(type(theirs.value)):
        exec(call, {"torch": ts, "x": ts.zeros(5, 2, 3)})


def test_cell_errors():
    cell = nn.GRUCell(10, 20)
    with pytest.raises(RuntimeError, match="GRUCell: input has 7 features, expected 10"):
        cell(ts.randn(3, 7))
    with pytest.raises(RuntimeError, match=r"hidden state has shape \(3, 5\), expected \(3, 20\)"):
        cell(ts.randn(3, 10), ts.zeros(3, 5))
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        nn.LSTM(3, 0)


def test_constructors_take_pytorchs_arguments_in_pytorchs_order():
    rnn_layer = nn.RNN(3, 4, 2, "relu", False, True, 0.5, True)  # nonlinearity fourth
    assert (rnn_layer.num_layers, rnn_layer.nonlinearity, rnn_layer.bias) == (2, "relu", False)
    assert (rnn_layer.batch_first, rnn_layer.dropout, rnn_layer.bidirectional) == (True, 0.5, True)
    for cls in (nn.LSTM, nn.GRU):
        layer = cls(3, 4, 2, False, True, 0.5, True, retain_states=True, fused=True)
        assert (layer.num_layers, layer.bias, layer.batch_first) == (2, False, True)
        assert (layer.dropout, layer.bidirectional) == (0.5, True)
        assert layer.retain_states and layer.fused
    assert nn.GRU(3, 4, 2, reset_after=False).reset_after is False
    assert nn.LSTM(3, 4, 1, True, False, 0.0, False, 2).proj_size == 2  # eighth, as PyTorch
    with pytest.raises(TypeError):  # ours are keyword-only, after PyTorch's arguments
        nn.LSTM(3, 4, 1, True, False, 0.0, False, 0, True)


def test_dtype_mismatch_is_a_clear_error():
    layer = nn.GRU(3, 4)
    with pytest.raises(
        ValueError, match="GRU: input has dtype float64 but the parameters are float32"
    ):
        layer(ts.randn(5, 2, 3, dtype=ts.float64))
    with pytest.raises(ValueError, match="LSTMCell: input must be floating point"):
        nn.LSTMCell(3, 4)(ts.tensor([[1, 2, 3]]))
    layer.double()
    out, _ = layer(ts.randn(5, 2, 3, dtype=ts.float64))  # fine once the module matches
    assert out.dtype == ts.float64


# ----------------------------------------------------------------------------- fused steps

FUSED_MODES = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("GRU", {}), ("LSTM", {})]
FUSED_CASES = list(
    itertools.product(FUSED_MODES, [1, 2], [False, True], [True, False], [False, True])
)


def _fused_run(layer, x, h0, lengths, r):
    xt = ts.tensor(x, requires_grad=True)
    hx = None
    if h0 is not None:
        hx = tuple(ts.tensor(h, requires_grad=True) for h in h0)
        hx = hx if isinstance(layer, nn.LSTM) else hx[0]
    out, hn = layer(xt, hx, lengths=lengths)
    finals = list(hn) if isinstance(hn, tuple) else [hn]
    loss = (out * ts.tensor(r)).sum() + sum((f * f).sum() for f in finals)
    loss.backward()
    grads = [xt.grad.data] + [p.grad.data for p in layer.parameters()]
    if hx is not None:
        grads += [h.grad.data for h in (hx if isinstance(hx, tuple) else (hx,))]
    return out.data, [f.data for f in finals], grads


@pytest.mark.parametrize(
    "case", FUSED_CASES, ids=lambda c: f"{c[0][0]}{c[0][1]}-L{c[1]}-bi{c[2]}-bias{c[3]}-len{c[4]}"
)
def test_fused_equals_composed(case):
    (mode, kw), layers, bidir, bias, use_lengths = case
    T, N, I, H = 6, 3, 4, 5
    ts.manual_seed(0)
    composed = getattr(nn, mode)(I, H, num_layers=layers, bidirectional=bidir, bias=bias, **kw)
    composed.double()
    fast = getattr(nn, mode)(
        I, H, num_layers=layers, bidirectional=bidir, bias=bias, fused=True, **kw
    ).double()
    fast.load_state_dict(composed.state_dict())
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, N, I))
    D = 2 if bidir else 1
    h0 = [rng.standard_normal((D * layers, N, H)) for _ in range(2)]
    r = rng.standard_normal((T, N, D * H))
    lengths = [6, 2, 4] if use_lengths else None
    a = _fused_run(composed, x, h0, lengths, r)
    b = _fused_run(fast, x, h0, lengths, r)
    np.testing.assert_allclose(b[0], a[0], atol=1e-13)
    for fa, fb in zip(a[1], b[1]):
        np.testing.assert_allclose(fb, fa, atol=1e-13)
    for ga, gb in zip(a[2], b[2]):
        np.testing.assert_allclose(gb, ga, atol=1e-12)


@pytest.mark.parametrize("row", [None, 1], ids=["one-step", "row-of-sequence"])
@pytest.mark.parametrize("op", ["rnn", "rnn-relu", "lstm", "gru", "gru-nobias"])
def test_gradcheck_fused_steps(op, row):
    rng = np.random.default_rng(2)
    N, H = 2, 3
    G = {"lstm": 4, "gru": 3, "gru-nobias": 3}.get(op, 1)
    t = lambda *s: ts.tensor(rng.standard_normal(s), requires_grad=True)  # noqa: E731
    lead = (N,) if row is None else (3, N)  # with row=t, xw is the whole sequence's projection
    xw, h, whh_t = t(*lead, G * H), t(N, H), t(H, G * H)
    if op.startswith("rnn"):
        if op == "rnn-relu":  # keep pre-activations away from the kink at 0
            xw = ts.tensor(np.abs(xw.data) + 2.0, requires_grad=True)
        relu = op == "rnn-relu"
        fn = lambda xw, h, w: rnn.RNNStep.apply(xw, h, w, relu=relu, row=row)  # noqa: E731
        assert ts.gradcheck(fn, (xw, h, whh_t))
    elif op == "lstm":
        fn = lambda xw, h, c, w: rnn.LSTMStep.apply(xw, h, c, w, row=row)  # noqa: E731
        assert ts.gradcheck(fn, (xw, h, t(N, H), whh_t))
    elif op == "gru":
        fn = lambda xw, h, w, b: rnn.GRUStep.apply(xw, h, w, b, row=row)  # noqa: E731
        assert ts.gradcheck(fn, (xw, h, whh_t, t(H)))
    else:
        fn = lambda xw, h, w: rnn.GRUStep.apply(xw, h, w, row=row)  # noqa: E731
        assert ts.gradcheck(fn, (xw, h, whh_t))


def test_fused_course_gru_is_refused():
    with pytest.raises(ValueError, match=r"reset_after=True\) only"):
        nn.GRU(3, 4, reset_after=False, fused=True)


def test_fused_keeps_retained_states_and_scopes():
    layer = nn.LSTM(2, 3, fused=True, retain_states=True)
    composed = nn.LSTM(2, 3, retain_states=True)
    composed.load_state_dict(layer.state_dict())
    x = ts.randn(4, 1, 2)
    for m in (layer, composed):
        m(x)[0].sum().backward()
    assert len(layer.states["l0"]["h"]) == 4
    # each retained state's dL/dh_t is the composed layer's
    for mine, ref in zip(layer.states["l0"]["h"], composed.states["l0"]["h"], strict=True):
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert "fused=True" in repr(layer)


# ----------------------------------------------------------------------------- packed input

PACKED_CASES = list(
    itertools.product(
        [("RNN", "tanh"), ("GRU", None), ("LSTM", None)], [1, 2], [False, True], [True, False]
    )
)


def _packed_run(fw, module, seqs, enforce_sorted, h0, r_data, r_fin):
    """Pack seqs, run module, -> (output PackedSequence, finals, loss) under fw (ts or torch)."""
    packed = fw.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=enforce_sorted)
    hx = None
    if h0 is not None:
        hx = tuple(h0) if isinstance(module, fw.nn.LSTM) else h0[0]
    out, hn = module(packed, hx)
    finals = list(hn) if isinstance(hn, tuple) else [hn]
    loss = (out.data * fw.tensor(r_data)).sum()
    for f, r in zip(finals, r_fin):
        loss = loss + (f * fw.tensor(r)).sum()
    loss.backward()
    return out, finals


def _check_packed_parity(torch, mode, nonlin, layers, bidir, enforce_sorted, give_h0, **ours_kw):
    I, H, D = 3, 4, 2 if bidir else 1
    lengths = [5, 4, 4, 2] if enforce_sorted else [2, 5, 1, 4]  # unsorted, with its ties
    torch.manual_seed(0)
    tm = make_torch(torch, mode, nonlin, input_size=I, hidden_size=H, num_layers=layers,
                    bidirectional=bidir)  # fmt: skip
    om = make_ours(mode, nonlin, input_size=I, hidden_size=H, num_layers=layers,
                   bidirectional=bidir, **ours_kw).double()  # fmt: skip
    om.load_state_dict(to_numpy_state(tm), strict=True)
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((n, I)) for n in lengths]
    h0 = [rng.standard_normal((D * layers, 4, H)) for _ in range(2)] if give_h0 else None
    r_data = rng.standard_normal((sum(lengths), D * H))
    r_fin = [rng.standard_normal((D * layers, 4, H)) for _ in range(2)]
    seqs_o = [ts.tensor(x, requires_grad=True) for x in xs]
    seqs_t = [torch.tensor(x, requires_grad=True) for x in xs]
    h0_o = None if h0 is None else [ts.tensor(h, requires_grad=True) for h in h0]
    h0_t = None if h0 is None else [torch.tensor(h, requires_grad=True) for h in h0]
    out_o, fin_o = _packed_run(ts, om, seqs_o, enforce_sorted, h0_o, r_data, r_fin)
    out_t, fin_t = _packed_run(torch, tm, seqs_t, enforce_sorted, h0_t, r_data, r_fin)

    assert isinstance(out_o, nn.utils.rnn.PackedSequence)
    np.testing.assert_allclose(out_o.data.data, out_t.data.detach().numpy(), atol=1e-12, rtol=0)
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        a, b = getattr(out_o, field), getattr(out_t, field)
        assert (a is None) == (b is None), field
        if b is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=field)
    for a, b in zip(fin_o, fin_t):  # h_n (c_n): each sequence's last real step, original order
        np.testing.assert_allclose(a.data, b.detach().numpy(), atol=1e-12, rtol=0)
    pairs = list(zip(seqs_o, seqs_t))
    pairs += [(getattr(om, n), p) for n, p in tm.named_parameters()]
    if h0 is not None:
        pairs += list(zip(h0_o, h0_t)) if mode == "LSTM" else [(h0_o[0], h0_t[0])]
    for a, b in pairs:
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), atol=1e-11, rtol=0)


@pytest.mark.parity
@pytest.mark.parametrize("give_h0", [False, True], ids=["", "h0"])
@pytest.mark.parametrize(
    "case",
    PACKED_CASES,
    ids=[
        f"{m}-L{n}{'-bi' if b else ''}-{'sorted' if s else 'unsorted'}"
        for (m, _), n, b, s in PACKED_CASES
    ],  # fmt: skip
)
def test_packed_layer_parity_with_torch(case, give_h0):
    torch = require_torch()
    (mode, nonlin), layers, bidir, enforce_sorted = case
    _check_packed_parity(torch, mode, nonlin, layers, bidir, enforce_sorted, give_h0)


@pytest.mark.parity
@pytest.mark.parametrize("mode,nonlin", [("RNN", "tanh"), ("GRU", None), ("LSTM", None)])
def test_packed_fused_and_batch_first_layers_match_torch(mode, nonlin):
    torch = require_torch()
    # fused steps take the same route; batch_first does not apply to a packed input
    _check_packed_parity(torch, mode, nonlin, 2, True, False, True, fused=True)
    _check_packed_parity(torch, mode, nonlin, 1, True, False, True, batch_first=True)


def test_packed_output_reuses_the_inputs_batch_sizes_and_indices():
    lstm = nn.LSTM(2, 3)
    seqs = [ts.randn(n, 2) for n in (1, 3, 2)]
    packed = nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
    out, (h_n, c_n) = lstm(packed)
    assert out.batch_sizes is packed.batch_sizes and out.sorted_indices is packed.sorted_indices
    assert out.unsorted_indices is packed.unsorted_indices
    assert out.data.shape == (6, 3) and h_n.shape == c_n.shape == (1, 3, 3)
    # each sequence run alone gives its own slice of h_n and of the padded output
    padded, lengths = nn.utils.rnn.pad_packed_sequence(out)
    for i, s in enumerate(seqs):
        o, (h, _) = lstm(s)
        np.testing.assert_allclose(h.data, h_n.data[:, i], atol=1e-6)  # s is unbatched
        np.testing.assert_allclose(o.data, padded.data[: int(lengths[i]), i], atol=1e-6)


def test_packed_input_errors():
    gru = nn.GRU(2, 3)
    packed = nn.utils.rnn.pack_sequence([ts.randn(3, 2), ts.randn(2, 2)])
    with pytest.raises(ValueError, match="lengths cannot be given with a PackedSequence"):
        gru(packed, lengths=[3, 2])
    with pytest.raises(ValueError, match=r"\(sum of lengths, H_in\) in a PackedSequence"):
        gru(nn.utils.rnn.pack_sequence([ts.randn(3, 1, 2), ts.randn(2, 1, 2)]))
    with pytest.raises(RuntimeError, match="input has 4 features, expected 2"):
        gru(nn.utils.rnn.pack_sequence([ts.randn(3, 4)]))
    with pytest.raises(RuntimeError, match=r"h_0 has shape .*3, 3.*, expected \(1, 2, 3\)"):
        gru(packed, ts.zeros(1, 3, 3))


# ----------------------------------------------------------------------------- LSTM proj_size

PROJ_CASES = list(itertools.product([1, 2], [False, True], [False, True], [True, False]))


def _proj_pair(torch, layers, bidir, bias=True, **ours_kw):
    kw = dict(input_size=4, hidden_size=5, num_layers=layers, bias=bias, bidirectional=bidir)
    torch.manual_seed(0)
    tm = torch.nn.LSTM(proj_size=3, dtype=torch.float64, **kw)
    om = nn.LSTM(proj_size=3, **kw, **ours_kw).double()
    assert list(om.state_dict()) == list(tm.state_dict())
    om.load_state_dict(to_numpy_state(tm), strict=True)
    return om, tm


def _assert_grads(pairs, atol=1e-10):
    for name, a, b in pairs:
        assert a.grad is not None, name
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), atol=atol, rtol=0, err_msg=name)


@pytest.mark.parity
@pytest.mark.parametrize(
    "layers,bidir,fused,bias",
    PROJ_CASES,
    ids=[
        f"L{n}{'-bi' if b else ''}{'-fused' if f else ''}{'' if c else '-nobias'}"
        for n, b, f, c in PROJ_CASES
    ],  # fmt: skip
)
@pytest.mark.parametrize("lengths", [None, [5, 2, 4]], ids=["", "lengths"])
def test_lstm_proj_size_matches_torch(layers, bidir, fused, bias, lengths):
    torch = require_torch()
    om, tm = _proj_pair(torch, layers, bidir, bias, fused=fused, batch_first=True)
    tm.batch_first = True
    D, rng = 2 if bidir else 1, np.random.default_rng(1)
    x = rng.standard_normal((3, 5, 4))
    h0, c0 = rng.standard_normal((D * layers, 3, 3)), rng.standard_normal((D * layers, 3, 5))
    ins_o = [ts.tensor(a, requires_grad=True) for a in (x, h0, c0)]
    ins_t = [torch.tensor(a, requires_grad=True) for a in (x, h0, c0)]
    out_o, (hn_o, cn_o) = om(ins_o[0], tuple(ins_o[1:]), lengths=lengths)
    if lengths is None:
        out_t, (hn_t, cn_t) = tm(ins_t[0], tuple(ins_t[1:]))
    else:
        pack = torch.nn.utils.rnn.pack_padded_sequence(
            ins_t[0], torch.tensor(lengths), batch_first=True, enforce_sorted=False
        )
        out_t, (hn_t, cn_t) = tm(pack, tuple(ins_t[1:]))
        out_t, _ = torch.nn.utils.rnn.pad_packed_sequence(out_t, batch_first=True, total_length=5)
    assert out_o.shape == (3, 5, D * 3) and hn_o.shape == (D * layers, 3, 3)
    assert cn_o.shape == (D * layers, 3, 5)
    loss_o, loss_t = 0, 0
    for o, t in ((out_o, out_t), (hn_o, hn_t), (cn_o, cn_t)):
        np.testing.assert_allclose(o.data, t.detach().numpy(), atol=1e-12, rtol=0)
        r = rng.standard_normal(o.shape)
        loss_o, loss_t = loss_o + (o * ts.tensor(r)).sum(), loss_t + (t * torch.tensor(r)).sum()
    loss_o.backward()
    loss_t.backward()
    _assert_grads(zip(("x", "h0", "c0"), ins_o, ins_t))
    theirs = dict(tm.named_parameters())
    _assert_grads((n, p, theirs[n]) for n, p in om.named_parameters())


@pytest.mark.parity
@pytest.mark.parametrize("bidir", [False, True])
def test_lstm_proj_size_packed_and_unbatched_match_torch(bidir):
    torch = require_torch()
    om, tm = _proj_pair(torch, 2, bidir)
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((n, 4)) for n in (2, 5, 3)]
    seqs_o = [ts.tensor(a, requires_grad=True) for a in xs]
    seqs_t = [torch.tensor(a, requires_grad=True) for a in xs]
    out_o, (hn_o, _) = om(nn.utils.rnn.pack_sequence(seqs_o, enforce_sorted=False))
    out_t, (hn_t, _) = tm(torch.nn.utils.rnn.pack_sequence(seqs_t, enforce_sorted=False))
    np.testing.assert_allclose(out_o.data.data, out_t.data.detach().numpy(), atol=1e-12)
    r = rng.standard_normal(hn_o.shape)
    ((out_o.data**2).sum() + (hn_o * ts.tensor(r)).sum()).backward()
    ((out_t.data**2).sum() + (hn_t * torch.tensor(r)).sum()).backward()
    _assert_grads((f"seq{i}", a, b) for i, (a, b) in enumerate(zip(seqs_o, seqs_t)))
    out_o, (hn_o, cn_o) = om(ts.tensor(xs[1]))  # unbatched (L, H_in)
    out_t, (hn_t, cn_t) = tm(torch.tensor(xs[1]))
    for o, t in ((out_o, out_t), (hn_o, hn_t), (cn_o, cn_t)):
        np.testing.assert_allclose(o.data, t.detach().numpy(), atol=1e-12)


def test_lstm_proj_size_zero_adds_no_parameters_and_repr():
    assert "weight_hr_l0" not in nn.LSTM(3, 4, proj_size=0).state_dict()
    lstm = nn.LSTM(3, 4, 2, proj_size=2)
    assert lstm.weight_hh_l1.shape == (16, 2) and lstm.weight_ih_l1.shape == (16, 2)
    assert lstm.weight_hr_l1.shape == (2, 4)
    assert repr(lstm) == "LSTM(3, 4, num_layers=2, proj_size=2)"
    assert np.abs(lstm.weight_hr_l0.data.numpy()).max() <= 0.5  # U(-1/sqrt(H), 1/sqrt(H))


@pytest.mark.parity
@pytest.mark.parametrize(
    "script",
    [
        "torch.nn.LSTM(3, 4, proj_size=4)",
        "torch.nn.LSTM(3, 4, proj_size=-1)",
        "torch.nn.GRU(3, 4, proj_size=2)",
        "torch.nn.RNN(3, 4, proj_size=0)",
    ],
)
def test_lstm_proj_size_errors_match_torch(script):
    from script_parity import check_script

    check_script(script)


def test_lstm_proj_size_state_shapes_are_checked():
    """h_0 has proj_size features, c_0 hidden_size (RuntimeError, as PyTorch)."""
    m = nn.LSTM(3, 4, proj_size=2)
    x = ts.randn(5, 2, 3)
    with pytest.raises(RuntimeError, match=r"h_0 has shape \(1, 2, 4\), expected \(1, 2, 2\)"):
        m(x, (ts.zeros(1, 2, 4), ts.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match=r"c_0 has shape \(1, 2, 2\), expected \(1, 2, 4\)"):
        m(x, (ts.zeros(1, 2, 2), ts.zeros(1, 2, 2)))
