"""Tests of tinygrad_seq.autograd, the backward engine: accumulation, shared nodes, long graphs,
freed graphs, grad mode, hooks, retain_grad, detect_anomaly, custom Functions and scopes.

The engine's messages and anomaly checks live in errors.py; they are tested here, through the
walk that raises them. The lazy gradient kinds of grads.py have their own file, test_grads.py.
"""

from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest
from helpers import check_parity, require_torch

import tinygrad_seq as ts
from tinygrad_seq import autograd
from tinygrad_seq.autograd import Function
from tinygrad_seq.check.finite_diff import directional

# ----------------------------------------------------------------------------- accumulation


def test_leaf_gradients_accumulate_over_two_backward_calls():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    first = x.grad
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    (x * 3).sum().backward()  # a new graph: its gradient adds onto .grad
    np.testing.assert_array_equal(x.grad.data, [5.0, 7.0])
    assert x.grad is first  # accumulated in place, like PyTorch
    x.grad = None  # zero_grad
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_tensor_used_twice():
    x = ts.tensor([3.0], requires_grad=True)
    (x * x).backward()  # d(x^2)/dx = 2x: both uses contribute
    assert x.grad.item() == 6.0
    y = ts.tensor([3.0], requires_grad=True)
    (y + y + y).backward()
    assert y.grad.item() == 3.0


def test_scalar_node_used_three_times():
    # 0-d sums once came back as numpy scalars, and in-place accumulation lost a contribution
    x = ts.tensor(1.5, requires_grad=True)
    h = x * 2
    (h + h + h).backward()
    assert x.grad.item() == 6.0
    x.grad = None
    h = x.tanh()
    (h * h + h * 3 + h).backward()
    np.testing.assert_allclose(
        x.grad.item(), (2 * np.tanh(1.5) + 4) * (1 - np.tanh(1.5) ** 2), rtol=1e-6
    )


def test_diamond_graph():
    # x -> a -> (b, c) -> d: a's gradient is the sum over both paths
    xv = np.array([0.3, -1.2, 2.0])
    x = ts.tensor(xv, requires_grad=True)
    a = x * 2
    b = a.tanh()
    c = a * a
    d = (b * c).sum()
    d.backward()
    av = 2 * xv
    expected = 2 * ((1 - np.tanh(av) ** 2) * av**2 + np.tanh(av) * 2 * av)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_non_leaf_reused_by_two_losses_with_retain_graph():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3).tanh()
    (h.sum()).backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    (h * 2).sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * g1)


def test_gradient_argument_seeds_backward():
    x = ts.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(gradient=np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, -6.0])


def test_inputs_without_grad_get_none():
    a = ts.tensor([1.0, 2.0], requires_grad=True)
    b = ts.tensor([3.0, 4.0])
    (a * b).sum().backward()
    assert b.grad is None
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])


def test_intermediate_gradients_not_kept():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.tanh().sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(x.grad.data, 2 * (1 - np.tanh([2.0, 4.0]) ** 2), atol=1e-6)


# ----------------------------------------------------------------------------- long graphs


def test_20000_op_chain_at_default_recursion_limit():
    assert sys.getrecursionlimit() <= 1000 + 100  # the default (pytest may add a little)
    x = ts.tensor([0.5, -0.25], requires_grad=True, dtype=ts.float64)
    y = x
    v, dv = np.array([0.5, -0.25]), np.ones(2)  # the same chain in numpy, with dy/dx carried along
    for i in range(20_000):
        y = y * 1.0001 if i % 2 else y + 0.001
        v, dv = (v * 1.0001, dv * 1.0001) if i % 2 else (v + 0.001, dv)
        if i % 1000 == 0:
            y = y.tanh()
            v, dv = np.tanh(v), dv * (1 - np.tanh(v) ** 2)
    loss = y.sum()
    depth, node = 0, loss.grad_fn
    while node is not None:
        node, depth = node.next_functions[0], depth + 1
    assert depth > 20_000
    loss.backward()
    np.testing.assert_allclose(x.grad.data, dv, rtol=1e-10)
    del loss, y, node
    gc.collect()  # tearing the long graph down must not overflow the C stack either


def test_long_chain_gradient_value():
    x = ts.tensor([2.0], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.data, [1.0001**20_000], rtol=1e-3)


def test_unrolled_recurrence_of_10000_steps():
    # an RNN-like unroll: h_t = tanh(h_{t-1} * w + x_t); each step is a few ops
    w = ts.tensor([0.5], requires_grad=True)
    h = ts.zeros(1)
    xs = ts.tensor(np.full((10_000, 1), 0.1))
    for t in range(10_000):
        h = (h * w + xs[t]).tanh()
    h.sum().backward()
    # by then h sits at the fixed point h = tanh(w h + 0.1), where dh/dw = (1 - h^2) (h + w dh/dw)
    fixed = 0.0
    for _ in range(200):
        fixed = np.tanh(0.5 * fixed + 0.1)
    slope = 1 - fixed**2
    np.testing.assert_allclose(h.item(), fixed, rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, [slope * fixed / (1 - slope * 0.5)], rtol=1e-6)


# ----------------------------------------------------------------------------- freed graphs


def test_second_backward_through_freed_graph_explains_the_fix():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).tanh().sum()
    y.backward()
    with pytest.raises(ts.GraphFreedError) as info:
        y.backward()
    msg = str(info.value)
    assert "retain_graph=True" in msg and "detach()" in msg and "freed" in msg
    assert isinstance(info.value, RuntimeError)


def test_saved_arrays_are_freed_after_backward_unless_retained():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = x * x

    def arrays(ctx):
        return [a for a in ctx.saved_tensors if isinstance(a, np.ndarray)]

    assert len(arrays(y.grad_fn)) == 2
    y.sum().backward(retain_graph=True)
    assert len(arrays(y.grad_fn)) == 2
    assert len(arrays((x * 2.0).grad_fn)) == 1  # only the constant: x is not needed
    y.sum().backward()
    assert y.grad_fn.saved_tensors == ()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_retain_graph_allows_repeated_backward():
    x = ts.tensor([1.0, -1.0], requires_grad=True)
    y = (x * 3).sigmoid().sum()
    y.backward(retain_graph=True)
    once = x.grad.numpy().copy()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 3 * once)


def test_detach_cuts_the_freed_graph_truncated_bptt():
    w = ts.tensor([0.5], requires_grad=True)
    h = ts.tensor([1.0])
    expected, v = 0.0, 1.0  # numpy: each batch's dh/dw from its detached start, summed
    for _ in range(3):  # three "batches"; each carries the state over, detached
        dv = 0.0
        for _ in range(4):
            h = (h * w).tanh()
            v, dv = np.tanh(0.5 * v), (1 - np.tanh(0.5 * v) ** 2) * (v + 0.5 * dv)
        h.sum().backward()
        h = h.detach()
        expected += dv
    np.testing.assert_allclose(w.grad.data, [expected], rtol=1e-5)


def test_intermediate_gradients_are_released_as_soon_as_consumed():
    x = ts.tensor([0.1, 0.2], requires_grad=True)
    a = x.tanh()
    b = a.tanh()
    c = b.tanh()
    seen: list = []
    b.register_hook(lambda g: seen.append(weakref.ref(g._data)))
    alive_when_x_reached: list = []
    x.register_hook(lambda g: alive_when_x_reached.append(seen[0]() is not None))
    c.sum().backward()
    assert alive_when_x_reached == [False]  # b's gradient was gone before x's arrived


# ----------------------------------------------------------------------------- grad mode


def test_no_grad_builds_no_graph():
    x = ts.tensor([1.0], requires_grad=True)
    with ts.no_grad():
        assert not ts.is_grad_enabled()
        y = x * 2 + 1
        assert not y.requires_grad and y.grad_fn is None and y.is_leaf
        with ts.enable_grad():
            assert ts.is_grad_enabled()
            z = x * 2
            assert z.requires_grad and z.grad_fn is not None
        assert not ts.is_grad_enabled()
    assert ts.is_grad_enabled()
    a, b = ts.tensor([1.0]), ts.tensor([2.0])
    assert (a * b).grad_fn is None  # no input requires grad: no graph either


def test_grad_mode_decorators_and_exceptions():
    @ts.no_grad()
    def f(t):
        return t * 2, ts.is_grad_enabled()

    @ts.no_grad
    def g(t):
        return t * 2

    @ts.enable_grad
    def h(t):
        return t * 2

    x = ts.tensor([1.0], requires_grad=True)
    y, mode = f(x)
    assert not mode and not y.requires_grad and not g(x).requires_grad
    with ts.no_grad():
        assert h(x).requires_grad
    with pytest.raises(KeyError):
        with ts.no_grad():
            raise KeyError("the previous mode is restored on the way out")
    assert ts.is_grad_enabled()
    with ts.set_grad_enabled(False):
        assert not ts.is_grad_enabled()
    assert ts.is_grad_enabled()


def test_detach():
    x = ts.tensor([2.0, 3.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.data, x.data)
    (x.detach() * x).sum().backward()  # the detached factor is a constant
    np.testing.assert_array_equal(x.grad.data, [2.0, 3.0])


# ----------------------------------------------------------------------------- hooks


def test_hook_receives_gradient_and_may_replace_it():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    received = []
    h.register_hook(lambda g: received.append(g.numpy().copy()))
    h.register_hook(lambda g: g * 10)  # replaces dL/dh for everything upstream
    (h * h).sum().backward()
    np.testing.assert_array_equal(received[0], [6.0, 12.0])  # 2h
    np.testing.assert_array_equal(x.grad.data, [180.0, 360.0])  # 10 * 2h * 3


def test_hook_on_leaf_changes_what_accumulates_and_can_be_removed():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 0.5)
    (x * 4).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    handle.remove()
    x.grad = None
    (x * 4).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 4.0])


def test_hook_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ts.ones(2).register_hook(lambda g: g)
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: ts.ones(3))
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).sum().backward()


def test_retain_grad():
    x = ts.tensor(np.array([1.0, -2.0]), requires_grad=True)
    h = x * 3
    h.retain_grad()
    assert h.retains_grad
    k = x * 4  # not retained
    (h.tanh() + k).sum().backward()
    np.testing.assert_allclose(h.grad.data, 1 - np.tanh([3.0, -6.0]) ** 2)
    assert k.grad is None
    x.retain_grad()  # a no-op on leaves, which always keep .grad
    assert not x.retains_grad
    np.testing.assert_allclose(x.grad.data, 3 * (1 - np.tanh([3.0, -6.0]) ** 2) + 4)


# ----------------------------------------------------------------------------- anomaly


def test_detect_anomaly_names_forward_culprit_and_user_line():
    x = ts.tensor([1.0, 0.5], requires_grad=True)
    with pytest.raises(ts.AnomalyError) as info:
        with ts.detect_anomaly():
            y = (x - 0.75) * 2
            z = y.log()  # log of a negative number: nan, from finite inputs
            z.sum()
    msg = str(info.value)
    assert "Log" in msg and "nan" in msg and "test_autograd.py" in msg and "y.log()" in msg
    assert "Mul" not in msg and "Sub" not in msg


def test_detect_anomaly_names_backward_culprit():
    x = ts.tensor([0.0, 4.0], requires_grad=True)
    with ts.detect_anomaly():
        y = (x * 1.0).sqrt()  # forward is finite; the derivative 1/(2 sqrt 0) is inf
        loss = (y * 3).sum()
        with pytest.raises(ts.AnomalyError) as info:
            loss.backward()
    msg = str(info.value)
    assert "Sqrt.backward" in msg and "inf" in msg and "(x * 1.0).sqrt()" in msg
    assert "test_autograd.py" in msg


def test_detect_anomaly_reports_scope_and_is_off_by_default():
    x = ts.tensor([-1.0], requires_grad=True)
    assert np.isnan(x.log().data).all()  # no detect_anomaly: nan passes silently
    with pytest.raises(ts.AnomalyError, match=r"Log \(scope lstm.l0 t=3\)"):
        with ts.detect_anomaly(), autograd.scope("lstm"), autograd.scope("l0"):
            with autograd.scope("t=3"):
                x.log()

    @ts.detect_anomaly()
    def f():
        return ts.tensor([0.0]).log()

    with pytest.raises(ts.AnomalyError, match="Log.*inf"):
        f()


def test_detect_anomaly_says_when_nan_came_from_a_leaf():
    x = ts.tensor([np.nan, 1.0], requires_grad=True)
    with ts.detect_anomaly():
        y = (x * 2).exp().sum()  # nan comes in from the leaf: no op created it in forward
        with pytest.raises(ts.AnomalyError, match="Exp.backward.*already held nan/inf.*leaf"):
            y.backward()


def test_detect_anomaly_accepts_intentional_infinities():
    # masking with -inf before a softmax is legitimate: nothing is reported
    x = ts.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    with ts.detect_anomaly():
        p = x.masked_fill(ts.tensor([[False, True, False]]), float("-inf")).softmax(-1)
        (p * ts.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    assert np.isfinite(x.grad.data).all() and x.grad.data[0, 1] == 0.0
    # L = sum p v with p = softmax over the unmasked entries: dL/dx_k = p_k (v_k - L)
    e = np.exp([1.0, 3.0])
    q = e / e.sum()
    loss = q @ [1.0, 3.0]
    np.testing.assert_allclose(x.grad.data[0, [0, 2]], q * ([1.0, 3.0] - loss), rtol=1e-5)


# ----------------------------------------------------------------------------- Functions


class Cube(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a**3

    @staticmethod
    def backward(ctx, g):
        # d(a^3)/da = 3 a^2
        (a,) = ctx.saved_tensors
        return (g * 3 * a * a,)


class BadShape(Function):
    @staticmethod
    def forward(ctx, a):
        return a.sum()

    @staticmethod
    def backward(ctx, g):
        return (np.ones(3),)  # wrong: the input has shape (2,)


class ScaleSecond(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a)
        return a * b

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (False, True)
        return None, g * a


def test_custom_function():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    assert y.grad_fn.parents == (x,)  # a leaf input is its own node
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 12.0])
    assert ts.gradcheck(Cube.apply, [ts.tensor([0.5, -1.5], requires_grad=True)])
    a, b = ts.tensor([2.0, 3.0]), ts.tensor([1.0, 1.0], requires_grad=True)
    ScaleSecond.apply(a, b).sum().backward()
    np.testing.assert_array_equal(b.grad.data, [2.0, 3.0])


def test_engine_rejects_wrong_shaped_gradient_naming_the_op():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"BadShape.*\(3,\).*\(2,\)"):
        BadShape.apply(x).backward()


def test_scope_is_recorded_on_nodes():
    x = ts.tensor([1.0], requires_grad=True)
    with autograd.scope("rnn"), autograd.scope("t=2"):
        y = x * 2
    assert y.grad_fn.scope == ("rnn", "t=2") and y.grad_fn.describe() == "Mul (scope rnn t=2)"
    assert (x * 2).grad_fn.scope == ()


# ----------------------------------------------------------------------------- PyTorch


@pytest.mark.parity
def test_done_when_tanh_of_matmul_matches_pytorch():
    torch = require_torch()
    rng = np.random.default_rng(0)
    xv, wv = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    x, w = ts.tensor(xv, requires_grad=True), ts.tensor(wv, requires_grad=True)
    y = (x @ w).tanh().sum()
    y.backward()
    xt = torch.tensor(xv, requires_grad=True)
    wt = torch.tensor(wv, requires_grad=True)
    yt = (xt @ wt).tanh().sum()
    yt.backward()
    np.testing.assert_allclose(y.item(), yt.item(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, wt.grad.numpy(), rtol=1e-12)


@pytest.mark.parity
def test_unrolled_lstm_like_graph_matches_pytorch():
    def cell(lib, x, h0, w, u, b):
        h, c, outs = h0, h0 * 0, []
        for t in range(x.shape[0]):
            z = x[t] @ w + h @ u + b
            i, f, g, o = z.chunk(4, 1)
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
            outs.append(h)
        y = lib.stack(outs, 1)
        return y.log_softmax(-1).mean() + y.max(1).values.sum(), h

    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in [(5, 2, 3), (2, 4), (3, 16), (4, 16), (16,)]]
    check_parity(lambda *xs: cell(ts, *xs), lambda *xs: cell(require_torch(), *xs), arrays)


@pytest.mark.parity
def test_accumulation_hooks_and_retain_grad_match_pytorch():
    torch = require_torch()
    results = []
    for lib in (ts, torch):
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        h = x * x
        h.retain_grad()
        h.register_hook(lambda g: g * 2)
        loss = (h.sigmoid() * x).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        results.append((x.grad.detach().numpy().copy(), h.grad.detach().numpy().copy()))
    for ours_, theirs in zip(*results):
        np.testing.assert_allclose(ours_, theirs, rtol=1e-6)


# ----------------------------------------------------------------------------- graph memory


def test_graph_keeps_no_output_tensors_only_saved_arrays():
    """An intermediate nobody saved is freed when dropped; backward still works (as PyTorch)."""
    x = ts.tensor([0.5, -1.0, 2.0], requires_grad=True, dtype=ts.float64)
    a = x.exp()  # Exp saves its output: kept by the graph
    b = a + 1.0  # Add saves nothing: b's array lives only as long as the variable b
    loss = (b * 3.0).sum()  # multiplying by a constant saves only the constant
    a_data, b_data = weakref.ref(a._data), weakref.ref(b._data)
    del a, b
    gc.collect()
    assert b_data() is None, "an unsaved intermediate array is kept alive by the graph"
    assert a_data() is not None  # Exp's backward needs it
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 3.0 * np.exp(x.data))
    assert a_data() is None  # backward frees the saved arrays too


def test_hooks_and_retain_grad_on_a_dropped_intermediate():
    """A hook lives on the node and runs though its tensor is gone (as in PyTorch)."""
    x = ts.tensor([1.0, 2.0], requires_grad=True, dtype=ts.float64)
    seen = []
    h = x * x
    h.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10.0)
    h.retain_grad()
    assert h.retains_grad and not x.retains_grad
    loss = h.sum()
    del h
    gc.collect()
    loss.backward()
    np.testing.assert_array_equal(seen[0], [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [20.0, 40.0])  # the hook's gradient went on
    y = x * 3.0
    handle = y.register_hook(lambda g: g * 0.0)
    handle.remove()
    y.retain_grad()
    y.sum().backward()
    np.testing.assert_array_equal(y.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [23.0, 43.0])


def test_rnn_graph_holds_about_one_state_per_step():
    """nn.RNN over T steps keeps ~T hidden states, not the pre-activations or projections too."""
    import tracemalloc

    from tinygrad_seq import nn

    T, N, H = 300, 16, 64
    ts.manual_seed(0)
    rnn = nn.RNN(8, H).double()
    x = ts.randn(T, N, 8, dtype=ts.float64)
    gc.collect()
    tracemalloc.start()
    try:
        out, _ = rnn(x)
        loss = out.sum()
        del out
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    state = T * N * H * 8  # bytes of all hidden states: what tanh's backward needs
    # graph bookkeeping adds about 1.5 KB per step; pre-activations or the input projection
    # kept alive would add a whole `state` more
    assert held < 1.5 * state, f"graph holds {held / state:.2f}x the hidden states"
    loss.backward()
    # the gradient itself: along a random direction u, the derivative of the loss by
    # central differences (two forward passes) is grad . u
    u = np.random.default_rng(0).standard_normal((H, H))
    w_hh = rnn.weight_hh_l0.detach().numpy()  # shares memory: perturbed in place
    with ts.no_grad():
        slope = directional(lambda: rnn(x)[0].sum().item(), w_hh, u)
    np.testing.assert_allclose(np.sum(rnn.weight_hh_l0.grad.numpy() * u), slope, rtol=1e-6)


# ----------------------------------------------------------------------------- autograd.grad


@pytest.mark.parity
def test_grad_matches_torch_and_leaves_every_grad_untouched():
    from script_parity import check_script

    check_script(
        """
x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
w = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], requires_grad=True)
b = torch.tensor([0.1, 0.2], requires_grad=True)
b.grad = torch.tensor([7.0, 7.0])
h = (w @ x + b).tanh()
loss = (h * h).sum() + x.sum()
gx, gh = torch.autograd.grad(loss, [x, h], retain_graph=True)
rec("gx", gx)
rec("gh", gh)
rec("grads_after", (x.grad, w.grad))
rec("b_grad", b.grad)
(gw,) = torch.autograd.grad([h[0], h[1] * 2], w, grad_outputs=[torch.tensor(1.5), None],
                            retain_graph=True)
rec("gw", gw)
g = torch.autograd.grad(h, (x, b), grad_outputs=torch.tensor([1.0, -2.0]))
rec("g", g)
rec("still", (x.grad, w.grad, b.grad))
"""
    )


@pytest.mark.parity
@pytest.mark.parametrize(
    "script, phrase",
    [
        ("torch.autograd.grad(y.sum(), [x, z])", "appears to not have been used in the graph"),
        ("torch.autograd.grad(y.sum(), [x, c])", "does not require grad"),
        ("torch.autograd.grad(y, x)", "grad can be implicitly created only for scalar outputs"),
        ("torch.autograd.grad(c.sum(), x)", "does not require grad and does not have a grad_fn"),
        ("torch.autograd.grad(y, x, torch.ones(3))", "Mismatch in shape"),
        ("torch.autograd.grad(y.sum(), x, materialize_grads=True, allow_unused=False)",
         "allow_unused"),
    ],
)  # fmt: skip
def test_grad_errors_match_torch(script, phrase):
    from script_parity import check_script

    setup = (
        "x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "z = torch.tensor([3.0], requires_grad=True)\n"
        "c = torch.tensor([1.0, 1.0])\n"
        "s = (x * 3.0).sum()\n"
        "y = x * x\n"
    )
    check_script(setup + script + "\n", error_contains=phrase)


@pytest.mark.parity
def test_grad_allow_unused_and_materialize_grads_match_torch():
    from script_parity import check_script

    check_script(
        """
x = torch.tensor([1.0, 2.0], requires_grad=True)
z = torch.tensor([3.0], requires_grad=True)
y = (x * x).sum()
rec("unused", torch.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)[1] is None)
rec("zeros", torch.autograd.grad(y, [x, z], materialize_grads=True)[1])
"""
    )


def test_grad_create_graph_says_double_backward_is_not_supported():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="double backward") as e:
        ts.autograd.grad((x * x).sum(), x, create_graph=True)
    assert isinstance(e.value, RuntimeError)  # what a PyTorch script would catch
    (x * x).sum().backward()  # nothing was consumed
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_grad_runs_hooks_of_its_inputs_only_and_retain_grad_stays_empty():
    seen = []
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    other = ts.tensor([3.0, 4.0], requires_grad=True)
    x.register_hook(lambda g: seen.append("x") or g * 2)
    other.register_hook(lambda g: seen.append("other"))
    h = x * other
    h.retain_grad()
    (gx,) = ts.autograd.grad(h.sum(), x)
    np.testing.assert_array_equal(gx.numpy(), [6.0, 8.0])  # the hook's doubled gradient
    assert seen == ["x"] and h.grad is None and other.grad is None and x.grad is None


def test_grad_of_a_long_unrolled_graph_equals_backward():
    w = ts.tensor(0.9, dtype=ts.float64, requires_grad=True)
    h = ts.tensor(1.0, dtype=ts.float64)
    for _ in range(3000):  # deeper than the recursion limit
        h = (h * w).tanh() + 0.5
    (gw,) = ts.autograd.grad(h, w, retain_graph=True)
    h.backward()
    assert gw.item() == w.grad.item()


# ----------------------------------------------------------------------------- user Functions

USER_FUNCTIONS = """
class ScaledExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k, shift=0.0):
        y = (x * k).exp() + shift
        ctx.save_for_backward(y)
        ctx.k, ctx.shift = k, shift
        rec("needs", ctx.needs_input_grad)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y - ctx.shift) * ctx.k, None, None


class MulAdd(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, c):
        ctx.save_for_backward(a, b)
        return a * b + c

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b if ctx.needs_input_grad[0] else None, g * a, g.sum(0)
"""


@pytest.mark.parity
def test_user_function_values_gradients_and_ctx_match_torch():
    from script_parity import check_script

    check_script(
        USER_FUNCTIONS
        + """
x = torch.tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True)
b = torch.tensor([[1.5, 2.0], [-0.5, 3.0]], requires_grad=True)
c = torch.tensor([0.3, 0.4], requires_grad=True)
y = ScaledExp.apply(x, 2.0, 1.0)
rec("y", y)
rec("name", y.grad_fn.name())
z = MulAdd.apply(y, b, c)
loss = (z * z).sum()
loss.backward()
rec("grads", (x.grad, b.grad, c.grad))
const = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
w = MulAdd.apply(const, b, c)
rec("w_requires_grad", w.requires_grad)
with torch.no_grad():
    n = ScaledExp.apply(x, 1.0)
rec("no_grad", (n.requires_grad, n.grad_fn is None))
"""
    )


@pytest.mark.parity
def test_user_function_through_grad_and_gradcheck_of_its_backward():
    torch = require_torch()
    exec_ns: dict = {}
    for framework in (ts, torch):
        ns = {"torch": framework, "rec": lambda *_: None}
        exec(USER_FUNCTIONS, ns)
        exec_ns[framework.__name__] = ns
    x = np.random.default_rng(0).standard_normal((3, 2))
    check_parity(
        lambda t: exec_ns["tinygrad_seq"]["ScaledExp"].apply(t, 0.7),
        lambda t: exec_ns["torch"]["ScaledExp"].apply(t, 0.7),
        [x],
    )
    t = ts.tensor(x, requires_grad=True)
    assert ts.gradcheck(lambda a: exec_ns["tinygrad_seq"]["ScaledExp"].apply(a, 0.7), [t])


@pytest.mark.parity
@pytest.mark.parametrize(
    "script, phrase",
    [
        ("y = ScaledExp.apply(x, 2.0)\nwith torch.no_grad():\n    y.mul_(2.0)\ny.sum().backward()",
         "modified by an inplace operation"),
        ("y = TooFew.apply(x, 2.0)\ny.sum().backward()", "incorrect number of gradients"),
    ],
)  # fmt: skip
def test_user_function_errors_match_torch(script, phrase):
    from script_parity import check_script

    too_few = """
class TooFew(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g
"""
    setup = USER_FUNCTIONS.replace('rec("needs", ctx.needs_input_grad)', "") + too_few
    check_script(setup + "x = torch.tensor([1.0, 2.0], requires_grad=True)\n" + script + "\n",
                 error_contains=phrase)  # fmt: skip


def test_package_ops_keep_working_on_arrays_and_users_may_too():
    class Twice(Function):
        on_arrays = True  # forward and backward on ndarrays, like the package's ops

        @staticmethod
        def forward(ctx, a):
            assert type(a) is np.ndarray
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return (g * 2,)

    x = ts.tensor([1.0, 2.0], requires_grad=True)
    Twice.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    assert ts.ops.Tanh.on_arrays and not autograd.Function.on_arrays


SEVERAL_OUTPUTS = """
calls = []


class SumProd(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, k):
        ctx.save_for_backward(a, b)
        ctx.k = k
        rec("needs", ctx.needs_input_grad)
        return a + b, a * b * k, "label", 3

    @staticmethod
    def backward(ctx, g_sum, g_prod, g_label, g_three):
        calls.append(1)
        rec("received " + str(len(calls)), (g_sum, g_prod, g_label, g_three))
        a, b = ctx.saved_tensors
        return g_sum + g_prod * b * ctx.k, g_sum + g_prod * a * ctx.k, None


class SortValues(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, indices = x.sort()
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, g_values, g_indices):
        rec("sort received", (g_values, g_indices))
        (indices,) = ctx.saved_tensors
        g = torch.zeros_like(g_values)
        g[indices] = g_values
        return g


class Lazy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return x * 2, x.exp()

    @staticmethod
    def backward(ctx, g_double, g_exp):
        rec("lazy received", (g_double is None, g_exp is None))
        g = None
        if g_double is not None:
            g = 2 * g_double
        if g_exp is not None:
            g = (0 if g is None else g) + g_exp * 5
        return g
"""


@pytest.mark.parity
@pytest.mark.parametrize(
    "script",
    [
        # both outputs in the loss, used in different places, plus the non-Tensor outputs
        """s, p, label, three = out = SumProd.apply(a, b, 2.0)
rec("out", (s, p, label, three, type(out).__name__))
rec("flags", (s.requires_grad, p.requires_grad, s.is_leaf, s.grad_fn.name(), p.grad_fn.name()))
h = (s * s).sum() + (p.tanh() * s).sum() + p.mean()
h.backward()
rec("grads", (a.grad, b.grad))""",
        # one output unused: its gradient reaches backward as zeros
        """s, p, _, _ = SumProd.apply(a, b, 0.5)
(p * p).sum().backward()
rec("grads", (a.grad, b.grad))""",
        # one backward per output, retain_graph, hooks and retain_grad on the outputs
        """s, p, _, _ = SumProd.apply(a, b, 1.5)
s.retain_grad()
p.register_hook(lambda g: g * 10)
(p * 3).sum().backward(retain_graph=True)
rec("after p", (a.grad, b.grad, s.grad))
(p * s).sum().backward()
rec("after both", (a.grad, b.grad, s.grad, len(calls)))
rec("grad", torch.autograd.grad(SumProd.apply(a, b, 1.0)[1].sum(), [a, b]))""",
        # values and integer indices marked non-differentiable, as sort or argmax return them
        """x = torch.tensor([3.0, -1.0, 2.0, 0.5], requires_grad=True)
v, i = SortValues.apply(x)
rec("sorted", (v, i, v.requires_grad, i.requires_grad, i.grad_fn is None, i.is_leaf))
(v * torch.tensor([1.0, 10.0, 100.0, 1000.0])).sum().backward()
rec("grad", x.grad)""",
        # set_materialize_grads(False): the unused output's gradient is None
        """d, e = Lazy.apply(a)
e.sum().backward()
rec("grad", a.grad)
d, e = Lazy.apply(b)
(d + e).sum().backward()
rec("both", b.grad)""",
        # no input requires grad, and no_grad: plain tensors
        """s, p, _, _ = SumProd.apply(a.detach(), b.detach(), 1.0)
rec("plain", (s.requires_grad, p.requires_grad, s.grad_fn is None))
with torch.no_grad():
    s, p, _, _ = SumProd.apply(a, b, 1.0)
rec("no_grad", (s.requires_grad, p.grad_fn is None))""",
        # a non-floating output not marked does not require grad either
        """x = torch.tensor([3.0, -1.0, 2.0], requires_grad=True)
class Top(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.max(), x.argmax()
    @staticmethod
    def backward(ctx, g, g_index):
        rec("top received", (g, g_index))
        return g * torch.tensor([0.0, 0.0, 1.0])
m, j = Top.apply(x)
rec("top", (m, j, m.requires_grad, j.requires_grad))
(m * 4).backward()
rec("grad", x.grad)""",
        # the same Tensor returned twice is one Tensor: its gradient goes to the last place
        """class Twice(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x * 2
        return y, y
    @staticmethod
    def backward(ctx, g1, g2):
        rec("twice received", (g1, g2))
        return g1 * 2 + g2 * 20
u, w = Twice.apply(a)
rec("same", u is w)
(u + 3 * w).sum().backward()
rec("grad", a.grad)""",
    ],
)
def test_user_function_with_several_outputs_matches_torch(script):
    from script_parity import check_script

    check_script(
        SEVERAL_OUTPUTS
        + "a = torch.tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True)\n"
        + "b = torch.tensor([[1.5, 2.0], [-0.5, 3.0]], requires_grad=True)\n"
        + script
        + "\n"
    )


@pytest.mark.parity
@pytest.mark.parametrize(
    "script, phrase",
    [
        ("""class Wrong(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y, x * y
    @staticmethod
    def backward(ctx, g1, g2):
        return g1
p, q = Wrong.apply(a, b)
(p + q).sum().backward()""", "returned an incorrect number of gradients"),
        ("""class Ident(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x
    @staticmethod
    def backward(ctx, g):
        return g * 5
y = Ident.apply(a)
rec("ident", (y is a, y.requires_grad, y.grad_fn.name(), y))
y.sum().backward()
rec("grad", a.grad)
y.add_(1.0)""", None),
        ("""class Halves(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x[0], x * 2
    @staticmethod
    def backward(ctx, g0, g1):
        g = g1 * 2
        g[0] += g0
        return g
h0, h1 = Halves.apply(a)
(h0.sum() + h1.sum()).backward()
rec("grad", a.grad)
h1.add_(1.0)
rec("h1", h1)
h0.mul_(2.0)""", None),
        ("""class ExpTwo(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = x.exp()
        ctx.save_for_backward(e)
        return e, x * 2
    @staticmethod
    def backward(ctx, g_exp, g_double):
        (e,) = ctx.saved_tensors
        return g_exp * e + 2 * g_double
e, d = ExpTwo.apply(a)
(e.sum() + d.sum()).backward()
rec("grad", a.grad)
e, d = ExpTwo.apply(a)
e.mul_(2.0)
d.sum().backward()""", "modified by an inplace operation"),
    ],
)  # fmt: skip
def test_user_function_with_several_outputs_fails_as_torch(script, phrase):
    from script_parity import check_script

    check_script(
        "a = torch.tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True)\n"
        + "b = torch.tensor([[1.5, 2.0], [-0.5, 3.0]], requires_grad=True)\n"
        + script
        + "\n",
        error_contains=phrase,
    )


@pytest.mark.parity
def test_user_function_returning_an_input_that_needs_no_grad_is_a_view_of_it():
    from script_parity import check_script

    check_script(
        """class Ident(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x
    @staticmethod
    def backward(ctx, g):
        return g
x = torch.tensor([1.0, 2.0])
y = Ident.apply(x)
rec("y", (y is x, y.requires_grad))
y.add_(1.0)
rec("x", x)
"""
    )


@pytest.mark.parity
def test_gradcheck_of_a_user_function_with_two_outputs():
    torch = require_torch()
    wrong = "+ g_prod * a * ctx.k, None"
    namespaces = {}
    for name, text in (("right", SEVERAL_OUTPUTS), ("wrong", SEVERAL_OUTPUTS.replace(
            wrong, "+ g_prod * a * ctx.k * 1.01, None"))):  # fmt: skip
        assert name == "right" or wrong in SEVERAL_OUTPUTS
        for framework in (ts, torch):
            ns = {"torch": framework, "rec": lambda *_: None}
            exec(text, ns)
            namespaces[name, framework.__name__] = ns["SumProd"]
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3, 2))

    def two(fn, t):
        return lambda x, y: fn.apply(x, y, 1.5)[:2]

    for fw, gradcheck in ((ts, ts.gradcheck), (torch, torch.autograd.gradcheck)):
        xs = [fw.tensor(v, dtype=fw.float64, requires_grad=True) for v in (a, b)]
        assert gradcheck(two(namespaces["right", fw.__name__], fw), xs)
        assert not gradcheck(two(namespaces["wrong", fw.__name__], fw), xs, raise_exception=False)


def test_mark_dirty_says_it_is_not_supported():
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    with pytest.raises(NotImplementedError, match="mark_dirty is not supported"):
        Double.apply(ts.tensor([1.0]) * ts.tensor([1.0], requires_grad=True))


# ----------------------------------------------------------------------------- Variable, modes


@pytest.mark.parity
def test_variable_and_inference_mode_match_torch():
    from script_parity import check_script

    check_script(
        """
v = torch.autograd.Variable(torch.tensor([1.0, 2.0]), requires_grad=True)
rec("v", (v, v.requires_grad, v.is_leaf, type(v).__name__))
base = torch.tensor([3.0])
alias = torch.autograd.Variable(base)
alias.add_(1.0)
rec("shares", base)
with torch.inference_mode():
    rec("inside", torch.is_grad_enabled())
    y = v * 2
rec("y", (y.requires_grad, torch.is_grad_enabled()))
with torch.inference_mode(False):
    rec("off", (v * 2).requires_grad)

@torch.inference_mode()
def f(t):
    return t * 3

@torch.inference_mode
def g(t):
    return t * 4

rec("decorated", (f(v).requires_grad, g(v).requires_grad, torch.is_grad_enabled()))
rec("enable", torch.enable_grad is not None)
"""
    )


def test_second_grad_or_backward_through_a_freed_graph_raises_runtime_error():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    ts.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph"):  # torch: RuntimeError too
        ts.autograd.grad(y, x)
    ns = {"torch": ts, "rec": lambda *_: None}
    exec(USER_FUNCTIONS, ns)
    z = ns["ScaledExp"].apply(x, 2.0)
    z.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        z.sum().backward()
