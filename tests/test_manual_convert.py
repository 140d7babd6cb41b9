"""Tests of tinygrad_seq.manual.convert: nn <-> course parameters, layouts, round trips, errors.

The manual forward functions, fed converted weights, must reproduce the nn cells and layers to
float64 precision; the round trips must be exact (folded biases: the function is the same and
course -> nn -> course is exact); bad input must say what was expected and what came.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import CELLS, KIND_IDS, KINDS, LAYERS, require_torch

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.manual import convert as cv
from tinygrad_seq.manual import (
    gru_forward,
    lstm_forward,
    rnn_forward,
)

SHAPES = [(1, 1, 1, 1), (3, 4, 2, 3), (5, 2, 3, 4)]  # (n_x, n_a, m, T_x)


@pytest.fixture(autouse=True)
def _float64():
    ts.set_default_dtype(ts.float64)


def make(kind, kwargs, n_x, n_a, layer=True, **extra):
    """A module whose biases are all non-zero and distinct (so folding is visible)."""
    return (LAYERS if layer else CELLS)[kind](n_x, n_a, **kwargs, **extra)


def manual_forward(params, spec, x, h0, c0=None):
    """The manual sequence forward for a spec: x (n_x, m, T_x) -> a (n_a, m, T_x)."""
    if spec.kind == "lstm":
        return lstm_forward(x, h0, params, c0=c0)[0]
    if spec.kind == "gru":
        return gru_forward(x, h0, params, variant=spec.variant)[0]
    return rnn_forward(x, h0, params)[0]


def random_course(rng, kind, n_x, n_a, reset_after=True):
    """A random course dict of the right keys and shapes."""
    out = {}
    for key in cv.course_keys(kind, reset_after):
        out[key] = rng.standard_normal(cv._course_shape(key, n_a, n_x))
    return out


# ------------------------------------------------------------------------- the forward passes


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("n_x,n_a,m,T_x", SHAPES)
def test_manual_forward_reproduces_layer(kind, kwargs, n_x, n_a, m, T_x):
    rng = np.random.default_rng(0)
    layer = make(kind, kwargs, n_x, n_a)
    x, h0, c0 = rng.standard_normal((T_x, m, n_x)), rng.standard_normal((1, m, n_a)), None
    hx = ts.tensor(h0)
    if kind == "lstm":
        c0 = rng.standard_normal((1, m, n_a))
        hx = (hx, ts.tensor(c0))
    out, _ = layer(ts.tensor(x), hx)
    spec = cv.module_spec(layer)
    params = cv.module_to_course(layer)
    c0_course = None if c0 is None else cv.state_to_course(c0)
    a = manual_forward(params, spec, cv.sequence_to_course(x), cv.state_to_course(h0), c0_course)
    np.testing.assert_allclose(cv.sequence_from_course(a), out.data, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("n_x,n_a,m", [(1, 1, 1), (3, 4, 2), (2, 5, 3)])
def test_manual_cell_forward_reproduces_cell(kind, kwargs, n_x, n_a, m):
    rng = np.random.default_rng(1)
    cell = make(kind, kwargs, n_x, n_a, layer=False)
    x, h = rng.standard_normal((m, n_x)), rng.standard_normal((m, n_a))
    c = rng.standard_normal((m, n_a))
    res = cell(ts.tensor(x), (ts.tensor(h), ts.tensor(c)) if kind == "lstm" else ts.tensor(h))
    h_new = res[0] if kind == "lstm" else res
    spec, params = cv.module_spec(cell), cv.module_to_course(cell)
    a = manual_forward(params, spec, x.T[:, :, None], h.T, c.T if kind == "lstm" else None)
    np.testing.assert_allclose(a[:, :, 0].T, h_new.data, rtol=0, atol=1e-12)


def test_no_bias_modules_convert_with_zero_biases():
    rng = np.random.default_rng(2)
    for kind, kwargs in KINDS:
        layer = make(kind, kwargs, 3, 4, bias=False)
        params = cv.module_to_course(layer)
        assert all(not np.any(v) for k, v in params.items() if k[0] == "b")
        x = rng.standard_normal((3, 2, 3))
        out, _ = layer(ts.tensor(x))
        spec, zeros = cv.module_spec(layer), np.zeros((4, 2))
        a = manual_forward(params, spec, cv.sequence_to_course(x), zeros, zeros)
        np.testing.assert_allclose(cv.sequence_from_course(a), out.data, atol=1e-12)


# ------------------------------------------------------------------------- the maps themselves


def test_lstm_gate_blocks_and_column_order():
    layer = nn.LSTM(3, 2)
    sd = {k: v.numpy() for k, v in layer.state_dict().items()}
    p = cv.module_to_course(layer)
    for block, key in enumerate("ifco"):  # nn gate order i, f, g, o; g is the course's c
        rows = slice(2 * block, 2 * block + 2)
        np.testing.assert_array_equal(p["W" + key][:, :2], sd["weight_hh_l0"][rows])
        np.testing.assert_array_equal(p["W" + key][:, 2:], sd["weight_ih_l0"][rows])
        bias = sd["bias_ih_l0"][rows] + sd["bias_hh_l0"][rows]
        np.testing.assert_array_equal(p["b" + key][:, 0], bias)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_update_gate_sign_and_candidate(reset_after):
    layer = nn.GRU(3, 2, reset_after=reset_after)
    sd = {k: v.numpy() for k, v in layer.state_dict().items()}
    p = cv.module_to_course(layer)
    W_ih, W_hh, b_ih, b_hh = (
        sd[k + "_l0"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )
    np.testing.assert_array_equal(p["Wr"], np.hstack([W_hh[:2], W_ih[:2]]))
    np.testing.assert_array_equal(p["Wu"], -np.hstack([W_hh[2:4], W_ih[2:4]]))
    np.testing.assert_array_equal(p["bu"][:, 0], -(b_ih[2:4] + b_hh[2:4]))
    if reset_after:
        assert set(p) == set(cv.course_keys("gru", True)) and "bhc" in p
        np.testing.assert_array_equal(p["Wcc"], W_hh[4:])
        np.testing.assert_array_equal(p["Wcx"], W_ih[4:])
        np.testing.assert_array_equal(p["bc"][:, 0], b_ih[4:])
        np.testing.assert_array_equal(p["bhc"][:, 0], b_hh[4:])  # b_hn is not folded
    else:
        np.testing.assert_array_equal(p["Wc"], np.hstack([W_hh[4:], W_ih[4:]]))
        np.testing.assert_array_equal(p["bc"][:, 0], b_ih[4:] + b_hh[4:])


def test_parameter_links_labels():
    labels = [(lk.nn_label, lk.course_label) for lk in cv.parameter_links("lstm")]
    assert ("weight_ih[f]", "Wf[:, n_a:]") in labels
    assert ("weight_hh[f]", "Wf[:, :n_a]") in labels
    assert ("bias_ih[f] + bias_hh[f]", "bf") in labels
    assert ("weight_hh[g]", "Wc[:, :n_a]") in labels
    gru = [(lk.nn_label, lk.course_label) for lk in cv.parameter_links("gru")]
    assert ("weight_hh[z]", "-Wu[:, :n_a]") in gru and ("bias_hh[n]", "bhc") in gru
    assert all(lk.part != "bias" for lk in cv.parameter_links("rnn", bias=False))


# ------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("layer", [True, False], ids=["layer", "cell"])
def test_nn_course_nn_round_trip(kind, kwargs, layer):
    module = make(kind, kwargs, 3, 4, layer=layer)
    before = {k: v.numpy().copy() for k, v in module.state_dict().items()}
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 2, 3) if layer else (2, 3))
    out_before = module(ts.tensor(x))
    cv.course_to_module(cv.module_to_course(module), module)
    after = {k: v.numpy() for k, v in module.state_dict().items()}
    sfx = "_l0" if layer else ""
    np.testing.assert_array_equal(after["weight_ih" + sfx], before["weight_ih" + sfx])
    np.testing.assert_array_equal(after["weight_hh" + sfx], before["weight_hh" + sfx])
    # the folding rule: the whole folded bias goes into bias_ih, bias_hh's folded rows are 0
    n_a = 4
    unfolded = (
        slice(2 * n_a, 3 * n_a) if kind == "gru" and kwargs.get("reset_after", True) else None
    )
    b_ih, b_hh = before["bias_ih" + sfx], before["bias_hh" + sfx]
    expect_ih, expect_hh = b_ih + b_hh, np.zeros_like(b_hh)
    if unfolded is not None:
        expect_ih[unfolded], expect_hh[unfolded] = b_ih[unfolded], b_hh[unfolded]
    np.testing.assert_array_equal(after["bias_ih" + sfx], expect_ih)
    np.testing.assert_array_equal(after["bias_hh" + sfx], expect_hh)
    out_after = module(ts.tensor(x))  # ... and the function is the same
    first = (lambda o: o[0]) if layer or kind == "lstm" else (lambda o: o)
    np.testing.assert_allclose(first(out_after).data, first(out_before).data, atol=1e-14, rtol=0)


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("layer", [True, False], ids=["layer", "cell"])
def test_course_nn_course_round_trip_is_exact(kind, kwargs, layer):
    rng = np.random.default_rng(4)
    reset_after = kwargs.get("reset_after", True)
    params = random_course(rng, kind, 3, 4, reset_after)
    if kind == "rnn":
        params["nonlinearity"] = kwargs.get("nonlinearity", "tanh")
    module = make(kind, kwargs, 3, 4, layer=layer)
    cv.course_to_module(params, module)
    back = cv.module_to_course(module)
    assert set(back) == set(params)
    for k, v in params.items():
        np.testing.assert_array_equal(back[k], v, err_msg=k)
    sd = cv.course_to_state_dict(params, kind, reset_after, layer=layer)
    again = cv.state_dict_to_course(sd, kind, reset_after, kwargs.get("nonlinearity", "tanh"))
    assert all(np.array_equal(again[k], params[k]) for k in params)


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
def test_gradient_maps_are_consistent(kind, kwargs):
    rng = np.random.default_rng(5)
    reset_after = kwargs.get("reset_after", True)
    grads = {"d" + k: v for k, v in random_course(rng, kind, 3, 4, reset_after).items()}
    nn_grads = cv.grads_to_nn(grads, kind, reset_after, layer=True)
    for link in cv.parameter_links(kind, reset_after):  # a folded bias: both pieces get dL/db
        blocks = link.take({k.removesuffix("_l0"): v for k, v in nn_grads.items()}, 4)
        assert all(np.array_equal(b, blocks[0]) for b in blocks)
    back = cv.grads_to_course(nn_grads, kind, reset_after)
    assert set(back) == set(grads)
    assert all(np.array_equal(back[k], grads[k]) for k in grads)


def test_layout_helpers_round_trip():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 2, 3))  # (T_x, m, n_x)
    xc = cv.sequence_to_course(x)
    assert xc.shape == (3, 2, 5) and xc[1, 0, 4] == x[4, 0, 1]
    np.testing.assert_array_equal(cv.sequence_from_course(xc), x)
    h = rng.standard_normal((2, 4))  # (m, n_a)
    assert cv.state_to_course(h).shape == (4, 2)
    np.testing.assert_array_equal(cv.state_from_course(cv.state_to_course(h)), h)
    np.testing.assert_array_equal(cv.state_to_course(h[None]), h.T)
    assert cv.state_from_course(h.T, layer=True).shape == (1, 2, 4)


# ------------------------------------------------------------------------- errors


def test_rejects_multi_layer_bidirectional_and_unknown_modules():
    with pytest.raises(ValueError, match="num_layers=2"):
        cv.module_to_course(nn.LSTM(3, 4, num_layers=2))
    with pytest.raises(ValueError, match="bidirectional"):
        cv.module_to_course(nn.GRU(3, 4, bidirectional=True))
    with pytest.raises(TypeError, match="expected one of RNNCell.*got Linear"):
        cv.module_spec(nn.Linear(3, 4))


def test_rejects_bad_state_dicts():
    sd = {k: v.numpy() for k, v in nn.LSTM(3, 4).state_dict().items()}
    with pytest.raises(ValueError, match="expected keys"):
        cv.state_dict_to_course({**sd, "extra": sd["bias_ih_l0"]}, "lstm")
    with pytest.raises(ValueError, match="one layer in one direction.*weight_ih_l1"):
        cv.state_dict_to_course({**sd, "weight_ih_l1": sd["weight_ih_l0"]}, "lstm")
    with pytest.raises(ValueError, match=r"weight_hh must be \(4\*n_a, n_a\), got \(16, 5\)"):
        cv.state_dict_to_course({**sd, "weight_hh_l0": np.zeros((16, 5))}, "lstm")
    with pytest.raises(ValueError, match=r"weight_hh must be \(3\*n_a"):
        cv.state_dict_to_course(sd, "gru")  # LSTM weights offered as a GRU
    with pytest.raises(ValueError, match=r"bias_ih must have shape \(16,\)"):
        cv.state_dict_to_course({**sd, "bias_ih_l0": np.zeros(15)}, "lstm")
    with pytest.raises(ValueError, match="kind must be one of"):
        cv.state_dict_to_course(sd, "transformer")


def test_rejects_bad_course_dicts():
    rng = np.random.default_rng(7)
    p = random_course(rng, "lstm", 3, 4)
    with pytest.raises(ValueError, match=r"expected keys \['Wf'"):
        cv.course_to_state_dict({k: v for k, v in p.items() if k != "bo"}, "lstm")
    with pytest.raises(ValueError, match=r"Wi must have shape \(4, 7\)"):
        cv.course_to_state_dict({**p, "Wi": np.zeros((4, 6))}, "lstm")
    with pytest.raises(ValueError, match="bias=False"):
        cv.course_to_module(p, nn.LSTM(3, 4, bias=False))
    with pytest.raises(ValueError, match="nonlinearity 'relu'"):
        cv.course_to_module({**random_course(rng, "rnn", 3, 4), "nonlinearity": "relu"},
                            nn.RNN(3, 4))  # fmt: skip
    with pytest.raises(ValueError, match=r"sequence of shape \(T_x, m, n\)"):
        cv.sequence_to_course(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"state of shape \(m, n\)"):
        cv.state_to_course(np.zeros((2, 2, 3)))


def test_convert_leaves_manual_free_of_the_engine():
    # convert reads modules by duck typing only: any object with the right names works
    class GRU:
        input_size, hidden_size, num_layers, bidirectional = 2, 1, 1, False

        def named_parameters(self):
            class P:
                def __init__(self, a):
                    self.data = a

            shapes = {"weight_ih_l0": (3, 2), "weight_hh_l0": (3, 1)}
            return [(k, P(np.ones(s))) for k, s in shapes.items()]

    p = cv.module_to_course(GRU())
    assert set(p) == set(cv.course_keys("gru")) and not np.any(p["bc"])


# ------------------------------------------------------------------------- PyTorch's modules


@pytest.mark.parity
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_torch_modules_convert_by_duck_typing(kind):
    torch = require_torch()
    torch.manual_seed(0)
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](3, 4)
    module = module.double()
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 2, 3))
    with torch.no_grad():
        out = module(torch.tensor(x))[0].numpy()
    spec, params = cv.module_spec(module), cv.module_to_course(module)
    zeros = np.zeros((4, 2))
    a = manual_forward(params, spec, cv.sequence_to_course(x), zeros, zeros)
    np.testing.assert_allclose(cv.sequence_from_course(a), out, atol=1e-12, rtol=0)


def test_state_dict_of_tensors_is_accepted():
    layer = nn.GRU(2, 3, reset_after=False)
    from_tensors = cv.state_dict_to_course(layer.state_dict(), "gru", reset_after=False)
    expected = cv.module_to_course(layer)
    assert all(np.array_equal(from_tensors[k], expected[k]) for k in expected)
