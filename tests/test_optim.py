"""Tests of tinygrad_seq.optim: PyTorch parity, state_dict, zero_grad, validation, no graph.

One file for optimizer.py, sgd.py, adam.py, adagrad.py and rmsprop.py: every test runs over
one table of the five algorithms and their options (the contract is the same, only the update
rule differs), and the base class is tested through them; per-algorithm files would each
repeat the table. The learning-rate schedulers have their own, test_optim_lr_scheduler.py.

The parity tests drive both libraries with the same parameters and the same seeded sequence
of gradient arrays (set directly on .grad), so any difference is in the update rule alone.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import optim

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from helpers import require_torch  # noqa: E402

SHAPES = [(3, 4), (5,), (2, 3, 2)]
STEPS = 20

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True, "betas": (0.3, 0.6)}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.3, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.05}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.7, "maximize": True}),
]


def _ids(configs):
    return [f"{name}-" + ",".join(f"{k}={v}" for k, v in kw.items()) for name, kw in configs]


def _problem(seed=0, steps=STEPS, dtype=np.float64):
    """Initial parameter arrays and a list of per-step gradient lists, all seeded."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return init, grads


def _params(init, make=ts.tensor):
    return [make(a.copy(), requires_grad=True) for a in init]


def _run(opt, params, grads, wrap=ts.tensor):
    """Set each step's gradients (wrap(array): ours or torch's) and step; returns the arrays."""
    trajectory = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else wrap(g)
        opt.step()
        trajectory.append([np.asarray(p.detach()).copy() for p in params])
    return trajectory


def _assert_same_trajectory(ours, theirs, tol=1e-12):
    assert len(ours) == len(theirs)
    for t, (a, b) in enumerate(zip(ours, theirs)):
        for i, (x, y) in enumerate(zip(a, b)):
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=f"step {t}, param {i}")


# ----------------------------------------------------------------------------- parity


@pytest.mark.parity
@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=_ids(CONFIGS))
def test_parity_20_steps(name, kwargs):
    torch = require_torch()
    init, grads = _problem()
    ours = _params(init)
    theirs = _params(init, torch.tensor)
    traj = _run(getattr(optim, name)(ours, **kwargs), ours, grads)
    traj_t = _run(getattr(torch.optim, name)(theirs, **kwargs), theirs, grads, torch.tensor)
    _assert_same_trajectory(traj, traj_t)


@pytest.mark.parity
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_parity_groups_and_missing_grads(name):
    """Two groups with their own options; some steps leave a parameter's grad None."""
    torch = require_torch()
    init, grads = _problem(seed=1)
    for t in (2, 3, 11):
        grads[t][1] = None  # parameter 1 sits these steps out: no update, no state change
    grads[0][2] = None  # parameter 2 gets its state only from step 1 on
    extra = {"SGD": {"momentum": 0.9}, "RMSprop": {"momentum": 0.5, "centered": True}}
    second = {"lr": 0.003, **extra.get(name, {})}

    def groups(ps):
        return [{"params": ps[:2]}, {"params": ps[2:], **second}]

    ours = _params(init)
    theirs = _params(init, torch.tensor)
    traj = _run(getattr(optim, name)(groups(ours), lr=0.01), ours, grads)
    traj_t = _run(getattr(torch.optim, name)(groups(theirs), lr=0.01), theirs, grads, torch.tensor)
    _assert_same_trajectory(traj, traj_t)


@pytest.mark.parity
@pytest.mark.parametrize(
    "name,kwargs",
    [("Adam", {"amsgrad": True}), ("SGD", {"momentum": 0.9}), ("RMSprop", {"centered": True})],
)
def test_loads_a_pytorch_state_dict(name, kwargs):
    """A PyTorch optimizer checkpoint (tensors, float steps) continues identically here."""
    torch = require_torch()
    init, grads = _problem(seed=2, steps=10)
    theirs = _params(init, torch.tensor)
    opt_t = getattr(torch.optim, name)(theirs, lr=0.01, **kwargs)
    _run(opt_t, theirs, grads[:5], torch.tensor)
    ours = _params([p.detach().numpy() for p in theirs])
    opt = getattr(optim, name)(ours, lr=0.5)
    opt.load_state_dict(opt_t.state_dict())
    assert opt.param_groups[0]["lr"] == 0.01
    _assert_same_trajectory(
        _run(opt, ours, grads[5:]), _run(opt_t, theirs, grads[5:], torch.tensor)
    )


@pytest.mark.parity
def test_float32_parameters_keep_their_dtype_and_match_torch():
    torch = require_torch()
    init, grads = _problem(seed=3, dtype=np.float32)
    ours = _params(init)
    theirs = _params(init, torch.tensor)
    opt = optim.Adam(ours, lr=0.01, amsgrad=True, weight_decay=0.1)
    traj = _run(opt, ours, grads)
    opt_t = torch.optim.Adam(theirs, lr=0.01, amsgrad=True, weight_decay=0.1)
    traj_t = _run(opt_t, theirs, grads, torch.tensor)
    _assert_same_trajectory(traj, traj_t, tol=1e-5)
    for p in ours:
        assert p.dtype == np.float32
        assert all(v.dtype == np.float32 for k, v in opt.state[p].items() if k != "step")


# ----------------------------------------------------------------------------- state_dict

ROUND_TRIP = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9}),
]


@pytest.mark.parametrize("name,kwargs", ROUND_TRIP, ids=_ids(ROUND_TRIP))
def test_state_dict_round_trip(name, kwargs):
    """Save after 5 steps, load into a fresh optimizer, 5 more == 10 uninterrupted steps."""
    init, grads = _problem(seed=4, steps=10)
    straight = _params(init)
    expected = _run(getattr(optim, name)(straight, **kwargs), straight, grads)[-1]
    first = _params(init)
    opt = getattr(optim, name)(first, **kwargs)
    _run(opt, first, grads[:5])
    saved = opt.state_dict()
    at_five = [p.detach().numpy().copy() for p in first]
    _run(opt, first, grads[5:])  # training goes on: the saved copy must not change with it
    resumed = _params(at_five)
    fresh = getattr(optim, name)(resumed, lr=123.0)  # options come from the state dict
    fresh.load_state_dict(saved)
    final = _run(fresh, resumed, grads[5:])[-1]
    for a, b in zip(final, expected):
        np.testing.assert_array_equal(a, b)


def test_state_dict_layout_matches_pytorch():
    a, b, c = _params(_problem()[0])
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.1}], lr=0.01)
    a.grad = ts.tensor(np.ones(a.shape))
    c.grad = ts.tensor(np.ones(c.shape))
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.01, 0.1]
    assert sorted(sd["state"]) == [0, 2]  # b had no grad: no state
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 1
    assert isinstance(sd["state"][2]["exp_avg"], np.ndarray)
    assert sd["state"][2]["exp_avg"] is not opt.state[c]["exp_avg"]  # a copy


def test_load_state_dict_accepts_tensors_as_buffers():
    init, grads = _problem(steps=4)
    ps = _params(init)
    opt = optim.SGD(ps, lr=0.1, momentum=0.9)
    _run(opt, ps, grads[:2])
    sd = opt.state_dict()
    for entry in sd["state"].values():
        entry["momentum_buffer"] = ts.tensor(entry["momentum_buffer"])
    other = optim.SGD(_params(init), lr=0.1, momentum=0.9)
    other.load_state_dict(sd)
    buf = other.state[other.param_groups[0]["params"][0]]["momentum_buffer"]
    assert isinstance(buf, np.ndarray) and buf.dtype == np.float64


def _trained_adam():
    init, grads = _problem(steps=3)
    ps = _params(init)
    opt = optim.Adam([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.01)
    _run(opt, ps, grads)
    return opt


@pytest.mark.parametrize(
    "corrupt,message",
    [
        (lambda sd: sd["param_groups"].pop(), "1 parameter groups, but this optimizer has 2"),
        (
            lambda sd: sd["param_groups"][0].update(params=[0]),
            "has 1 parameters, but this optimizer's group has 2",
        ),
        (
            lambda sd: sd["state"][1].update(exp_avg=np.zeros(7)),
            r"'exp_avg' has shape \(7,\), but the parameter has shape \(5,\)",
        ),
        (lambda sd: sd["param_groups"][1].update(lr=-1.0), "parameter group 1: Invalid lr"),
        (lambda sd: sd["state"].update({9: sd["state"][0]}), "state for parameter 9"),
        (lambda sd: sd["state"][0].update(step=2.5), "'step' must be a non-negative integer"),
        (lambda sd: sd.pop("param_groups"), "'state' and 'param_groups'"),
    ],
)
def test_load_state_dict_validates_and_changes_nothing_on_error(corrupt, message):
    opt = _trained_adam()
    before = opt.state_dict()
    groups_before = opt.param_groups
    sd = opt.state_dict()
    corrupt(sd)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert opt.param_groups is groups_before
    assert after["param_groups"] == before["param_groups"]
    for i, entry in before["state"].items():
        for k, v in entry.items():
            np.testing.assert_array_equal(after["state"][i][k], v)


# ----------------------------------------------------------------------------- zero_grad


def test_zero_grad_set_to_none():
    ps = _params(_problem()[0])
    for p in ps:
        p.grad = ts.tensor(np.ones(p.shape))
    optim.SGD(ps, lr=0.1).zero_grad()
    assert all(p.grad is None for p in ps)


def test_zero_grad_in_place_keeps_the_grad_tensor():
    ps = _params(_problem()[0])
    (ps[0] * ps[0]).sum().backward()
    grad = ps[0].grad
    optim.SGD(ps, lr=0.1).zero_grad(set_to_none=False)
    assert ps[0].grad is grad and not np.any(grad.data)
    assert ps[1].grad is None  # never had one: stays None, like PyTorch
    (ps[0] * 3.0).sum().backward()  # accumulates into the zeroed buffer
    np.testing.assert_array_equal(ps[0].grad.data, np.full(ps[0].shape, 3.0))


# ----------------------------------------------------------------------------- validation


def _p(shape=(2,)):
    return ts.tensor(np.zeros(shape), requires_grad=True)


BAD_OPTIONS = [
    ("SGD", {"lr": -0.1}, "Invalid lr: -0.1"),
    ("SGD", {"momentum": -1}, "Invalid momentum"),
    ("SGD", {"weight_decay": -1}, "Invalid weight_decay"),
    ("SGD", {"nesterov": True}, "Nesterov momentum requires a momentum > 0"),
    ("SGD", {"momentum": 0.9, "dampening": 0.1, "nesterov": True}, "and zero dampening"),
    ("Adam", {"lr": -1}, "Invalid lr"),
    ("Adam", {"betas": (1.0, 0.999)}, "beta parameter at index 0"),
    ("Adam", {"betas": (0.9, -0.1)}, "beta parameter at index 1"),
    ("AdamW", {"betas": (0.9,)}, "expected a pair"),
    ("Adam", {"eps": -1e-8}, "Invalid eps"),
    ("Adagrad", {"lr_decay": -0.1}, "Invalid lr_decay"),
    ("Adagrad", {"initial_accumulator_value": -1}, "Invalid initial_accumulator_value"),
    ("RMSprop", {"alpha": -0.5}, "Invalid alpha"),
    ("RMSprop", {"momentum": -0.5}, "Invalid momentum"),
]


@pytest.mark.parametrize("name,kwargs,message", BAD_OPTIONS)
def test_bad_options_are_rejected(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([_p()], **kwargs)
    with pytest.raises(ValueError, match=message):  # also through a later group
        getattr(optim, name)([_p()]).add_param_group({"params": [_p()], **kwargs})


@pytest.mark.parametrize(
    "params,error,message",
    [
        (lambda: [], ValueError, "empty parameter list"),
        (lambda: iter([]), ValueError, "empty parameter list"),
        (lambda: [{"params": []}], ValueError, "empty parameter list"),
        (lambda: _p(), TypeError, "single Tensor"),
        (lambda: {_p()}, TypeError, "not a set"),
        (lambda: [np.zeros(2)], TypeError, "optimize Tensors, got ndarray"),
        (lambda: [ts.tensor(np.zeros(2))], ValueError, "does not require grad"),
        (lambda: [_p() * 2.0], ValueError, "non-leaf"),
        (lambda: [{"lr": 0.1}], ValueError, "no 'params' key"),
        (lambda: [("w", _p()), _p()], ValueError, "every parameter is a"),
    ],
)
def test_bad_parameter_lists_are_rejected(params, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(params(), lr=0.1)


def test_options_must_be_numbers():
    with pytest.raises(TypeError, match="Invalid lr: expected a number, got str"):
        optim.SGD([_p()], lr="0.1")


def test_same_parameter_twice_is_rejected():
    p, q = _p(), _p()
    with pytest.raises(ValueError, match="shares a parameter .* with parameter group 0"):
        optim.SGD([{"params": [p, q]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="same parameter more than once"):
        optim.SGD([p, q, p], lr=0.1)
    opt = optim.Adam([p])
    with pytest.raises(ValueError, match="shares a parameter"):
        opt.add_param_group({"params": [q, p]})
    assert len(opt.param_groups) == 1  # the failed group was not added


def test_add_param_group_checks_options_and_fills_defaults():
    p, q, r = _p(), _p(), _p()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="Invalid lr"):
        opt.add_param_group({"params": [q], "lr": -1.0})
    opt.add_param_group({"params": q, "lr": 0.01})
    assert opt.param_groups[1]["params"] == [q]
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9
    opt.add_param_group({"params": [r]})
    assert opt.param_groups[2]["lr"] == 0.1


def test_gradient_of_the_wrong_shape_is_reported():
    p = _p((3,))
    p.grad = ts.tensor(np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"parameter 0 of group 0 has shape \(3,\) but its "):
        optim.SGD([p], lr=0.1).step()


# ----------------------------------------------------------------------------- step behaviour


@pytest.mark.parametrize("name,kwargs", ROUND_TRIP, ids=_ids(ROUND_TRIP))
def test_step_builds_no_graph_and_updates_in_place(name, kwargs):
    ps = _params(_problem()[0])
    arrays = [p.detach().numpy() for p in ps]
    opt = getattr(optim, name)(ps, **kwargs)
    for _ in range(2):
        opt.zero_grad()
        loss = sum(((p * p) * 0.5).sum() for p in ps)
        loss.backward()
        opt.step()
    assert ts.is_grad_enabled()
    for p, a, p0 in zip(ps, arrays, _problem()[0]):
        assert p.grad_fn is None and p.is_leaf and p.requires_grad
        assert np.shares_memory(p.detach().numpy(), a)  # same memory: updated in place
        assert not np.array_equal(p.data, p0)


def test_parameters_without_grad_are_skipped():
    init, grads = _problem(steps=3)
    ps = _params(init)
    opt = optim.Adam(ps, lr=0.1)
    for g in grads:
        ps[0].grad, ps[1].grad, ps[2].grad = ts.tensor(g[0]), None, ts.tensor(g[2])
        opt.step()
    np.testing.assert_array_equal(ps[1].data, init[1])
    assert ps[1] not in opt.state or not opt.state[ps[1]]
    assert opt.state[ps[0]]["step"] == 3


def test_closure_runs_with_grad_enabled_and_returns_the_loss():
    p = ts.tensor(np.array([3.0, -2.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ts.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 13.0
    np.testing.assert_array_equal(p.data, [1.5, -1.0])  # p - 0.25 * 2p


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_minimises_a_quadratic_with_backward(name):
    """End to end: backward() fills .grad, step() walks downhill to the minimum."""
    target = ts.tensor(np.array([1.0, -2.0, 0.5]))
    p = ts.tensor(np.zeros(3), requires_grad=True)
    lr = {"SGD": 0.1, "Adagrad": 0.5}.get(name, 0.05)
    kwargs = {"weight_decay": 0.0} if name == "AdamW" else {}
    opt = getattr(optim, name)([p], lr=lr, **kwargs)
    for _ in range(400):
        opt.zero_grad()
        ((p - target) * (p - target)).sum().backward()
        opt.step()
    np.testing.assert_allclose(p.data, target.data, atol=2e-2)


def test_adamw_decays_weights_without_gradient_signal():
    p = ts.tensor(np.array([2.0, -4.0]), requires_grad=True)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = ts.tensor(np.zeros(2))
    opt.step()
    np.testing.assert_allclose(p.data, [2.0 * 0.95, -4.0 * 0.95])  # m = 0: only the decay acts


def test_named_parameters_are_kept_as_param_names():
    w, b = _p((2, 2)), _p()
    opt = optim.SGD([("w", w), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["params"] == [w, b]
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_read_only_parameter_data_is_copied_before_the_update():
    p = _p((3,))
    p._data.flags.writeable = False  # internal: a read-only array, as from a loaded file
    p.grad = ts.tensor(np.ones(3))
    optim.SGD([p], lr=0.5).step()
    np.testing.assert_array_equal(p.data, [-0.5, -0.5, -0.5])


def test_repr_lists_groups_and_options():
    text = repr(optim.Adam([{"params": [_p()]}, {"params": [_p()], "lr": 0.1}], lr=0.01))
    assert text.startswith("Adam (") and "Parameter Group 1" in text
    assert "    lr: 0.1" in text and "    amsgrad: False" in text
