"""Tests of tinygrad_seq.optim.lr_scheduler: PyTorch parity, chaining, state_dict, validation."""

from __future__ import annotations

import math
import pathlib
import sys
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.optim
from tinygrad_seq import optim
from tinygrad_seq.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LRScheduler,
    StepLR,
)

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from helpers import require_torch  # noqa: E402

SCHEDULERS = [
    ("StepLR", {"step_size": 3}),
    ("StepLR", {"step_size": 4, "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),  # 40 steps: almost three periods
]
IDS = [f"{name}-" + ",".join(f"{k}={v}" for k, v in kw.items()) for name, kw in SCHEDULERS]
STEPS = 40


def _warmup_then_decay(epoch):
    return min(1.0, (epoch + 1) / 5) * 0.9 ** max(0, epoch - 5)


class _Halving:
    """A callable object with state: LambdaLR's state_dict saves its __dict__."""

    def __init__(self, every):
        self.every = every

    def __call__(self, epoch):
        return 0.5 ** (epoch // self.every)


# the schedulers above have closed forms checked by hand below; these are checked by parity only
MORE_SCHEDULERS = [
    ("LambdaLR", {"lr_lambda": _warmup_then_decay}),
    ("LambdaLR", {"lr_lambda": [_warmup_then_decay, lambda e: 1.0 / (1 + e)]}),
    ("MultiStepLR", {"milestones": [3, 8, 8, 20]}),
    ("MultiStepLR", {"milestones": [5, 2], "gamma": 0.5}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.2, "end_factor": 0.9, "total_iters": 12}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 30}),
]
PARITY = SCHEDULERS + MORE_SCHEDULERS


def _id_value(v):
    """A test id piece that is the same in every process (no function addresses)."""
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_id_value(x) for x in v) + "]"
    return getattr(v, "__name__", str(v))


PARITY_IDS = IDS + [
    f"{name}-" + ",".join(f"{k}={_id_value(v)}" for k, v in kw.items())
    for name, kw in MORE_SCHEDULERS
]


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((3, 2)), rng.standard_normal((4,))]


def _groups(ps):
    return [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.05}]


def _ours(name, kwargs, opt_kwargs=None):
    ps = [ts.tensor(a, requires_grad=True) for a in _params()]
    opt = optim.SGD(_groups(ps), **(opt_kwargs or {"lr": 0.1}))
    return ps, opt, getattr(optim.lr_scheduler, name)(opt, **kwargs)


def _theirs(torch, name, kwargs, opt_kwargs=None):
    ps = [torch.tensor(a, requires_grad=True) for a in _params()]
    opt = torch.optim.SGD(_groups(ps), **(opt_kwargs or {"lr": 0.1}))
    return ps, opt, getattr(torch.optim.lr_scheduler, name)(opt, **kwargs)


def _lrs(opt, sched, steps=STEPS):
    """Learning rates after construction and after each of `steps` optimizer + scheduler steps."""
    out = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
        assert out[-1] == [g["lr"] for g in opt.param_groups]
    return out


# ----------------------------------------------------------------------------- parity


@pytest.mark.parity
@pytest.mark.parametrize("name,kwargs", PARITY, ids=PARITY_IDS)
def test_parity_learning_rates(name, kwargs):
    torch = require_torch()
    _, opt, sched = _ours(name, kwargs)
    _, opt_t, sched_t = _theirs(torch, name, kwargs)
    np.testing.assert_allclose(_lrs(opt, sched), _lrs(opt_t, sched_t), rtol=1e-15, atol=0)
    assert sched.last_epoch == sched_t.last_epoch == STEPS


@pytest.mark.parity
@pytest.mark.parametrize("name,kwargs", PARITY, ids=PARITY_IDS)
def test_parity_closed_form_step_with_epoch(name, kwargs):
    torch = require_torch()
    _, opt, sched = _ours(name, kwargs)
    _, opt_t, sched_t = _theirs(torch, name, kwargs)
    opt.step()
    opt_t.step()
    for epoch in [3, 4, 9, 17, 2, 30]:
        sched.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch deprecates the epoch argument
            sched_t.step(epoch)
        assert sched.get_last_lr() == pytest.approx(sched_t.get_last_lr(), rel=1e-15)


@pytest.mark.parity
@pytest.mark.parametrize("name,kwargs", PARITY, ids=PARITY_IDS)
def test_parity_chained_with_an_optimizer(name, kwargs):
    """SGD with momentum, scheduled: the parameter trajectories agree for 25 steps."""
    torch = require_torch()
    opt_kwargs = {"lr": 0.1, "momentum": 0.9, "nesterov": True}
    ps, opt, sched = _ours(name, kwargs, opt_kwargs)
    ps_t, opt_t, sched_t = _theirs(torch, name, kwargs, opt_kwargs)
    rng = np.random.default_rng(5)
    for step in range(25):
        grads = [rng.standard_normal(p.shape) for p in ps]
        for p, q, g in zip(ps, ps_t, grads):
            p.grad, q.grad = ts.tensor(g), torch.tensor(g)
        opt.step()
        opt_t.step()
        sched.step()
        sched_t.step()
        for p, q in zip(ps, ps_t):
            np.testing.assert_allclose(
                p.data, q.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=f"step {step}"
            )


@pytest.mark.parity
def test_parity_two_schedulers_compose_on_one_optimizer():
    """The recursive forms compose: StepLR and ExponentialLR both act on the same lr."""
    torch = require_torch()

    def run(lib, ps):
        opt = lib.optim.Adam(_groups(ps), lr=0.01)
        first = lib.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        second = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)
        lrs = []
        for _ in range(30):
            opt.step()
            first.step()
            second.step()
            lrs.append([g["lr"] for g in opt.param_groups])
        return lrs

    ours = run(tinygrad_seq, [ts.tensor(a, requires_grad=True) for a in _params()])
    theirs = run(torch, [torch.tensor(a, requires_grad=True) for a in _params()])
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)


# ----------------------------------------------------------------------------- behaviour


def test_construction_sets_initial_lr_and_epoch_zero():
    _, opt, sched = _ours("StepLR", {"step_size": 2})
    assert sched.last_epoch == 0
    assert sched.base_lrs == [0.1, 0.05] == sched.get_last_lr()
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    sched.get_last_lr().append(1.0)  # a copy: the scheduler's list is untouched
    assert sched.get_last_lr() == [0.1, 0.05]


def test_closed_forms():
    """The recursive updates stay on the closed-form curves over several cosine periods."""
    for name, kwargs in SCHEDULERS:
        _, opt, sched = _ours(name, kwargs)
        for epoch, lrs in enumerate(_lrs(opt, sched)):
            for base, lr in zip([0.1, 0.05], lrs):
                if name == "StepLR":
                    want = base * kwargs.get("gamma", 0.1) ** (epoch // kwargs["step_size"])
                elif name == "ExponentialLR":
                    want = base * kwargs["gamma"] ** epoch
                else:
                    eta_min, t_max = kwargs.get("eta_min", 0.0), kwargs["T_max"]
                    want = eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2
                assert lr == pytest.approx(want, rel=1e-12, abs=1e-15), (name, epoch)


def test_state_dict_round_trip_with_the_optimizer():
    """Save optimizer + scheduler after 7 epochs, restore into fresh ones: same as 15 in a row."""
    kwargs = {"T_max": 6, "eta_min": 0.01}
    _, opt, sched = _ours("CosineAnnealingLR", kwargs, {"lr": 0.1, "momentum": 0.9})
    straight = _lrs(opt, sched, 15)
    _, opt, sched = _ours("CosineAnnealingLR", kwargs, {"lr": 0.1, "momentum": 0.9})
    _lrs(opt, sched, 7)
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 7
    _, fresh_opt, fresh = _ours("CosineAnnealingLR", kwargs, {"lr": 0.1, "momentum": 0.9})
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved_sched)
    assert fresh.get_last_lr() == straight[7]
    assert _lrs(fresh_opt, fresh, 8)[1:] == straight[8:]


def test_resuming_with_last_epoch_needs_initial_lr():
    p = ts.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(optim.SGD([p], lr=0.1), step_size=2, last_epoch=4)


def test_resuming_with_last_epoch_after_loading_the_optimizer():
    _, opt, sched = _ours("ExponentialLR", {"gamma": 0.5})
    _lrs(opt, sched, 3)
    _, fresh_opt, _ = _ours("ExponentialLR", {"gamma": 0.5})
    fresh_opt.load_state_dict(opt.state_dict())
    resumed = ExponentialLR(fresh_opt, gamma=0.5, last_epoch=3)
    assert resumed.last_epoch == 4 and resumed.base_lrs == [0.1, 0.05]


def test_load_state_dict_from_another_scheduler_is_rejected():
    _, _, step = _ours("StepLR", {"step_size": 2})
    _, _, cosine = _ours("CosineAnnealingLR", {"T_max": 5})
    before = cosine.state_dict()
    with pytest.raises(ValueError, match=r"missing keys \['T_max', 'eta_min'\]"):
        cosine.load_state_dict(step.state_dict())
    assert cosine.state_dict() == before


def test_warns_when_stepped_before_the_optimizer():
    _, opt, sched = _ours("StepLR", {"step_size": 2})
    with pytest.warns(UserWarning, match="before optimizer.step"):
        sched.step()
    _, opt, sched = _ours("StepLR", {"step_size": 2})
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


@pytest.mark.parametrize(
    "make,error,message",
    [
        (lambda opt: StepLR(opt, step_size=0), ValueError, "step_size"),
        (lambda opt: StepLR(opt, step_size=2.5), ValueError, "positive integer"),
        (lambda opt: CosineAnnealingLR(opt, T_max=0), ValueError, "T_max"),
        (lambda opt: ExponentialLR(object(), gamma=0.9), TypeError, "not an Optimizer"),
        (lambda opt: LRScheduler(opt), NotImplementedError, "get_lr"),
    ],
)
def test_validation(make, error, message):
    opt = optim.SGD([ts.tensor(np.zeros(2), requires_grad=True)], lr=0.1)
    with pytest.raises(error, match=message):
        make(opt)


def test_module_is_reachable_both_ways():
    import tinygrad_seq.optim.lr_scheduler as mod

    assert tinygrad_seq.optim.lr_scheduler is mod
    assert mod.StepLR is StepLR and optim.lr_scheduler.CosineAnnealingLR is CosineAnnealingLR


# ----------------------------------------------------------------------------- LambdaLR, ...


def test_lambda_lr_state_dict_saves_callable_objects_not_functions():
    p = ts.tensor(np.zeros(2), requires_grad=True)
    q = ts.tensor(np.zeros(2), requires_grad=True)
    halving = _Halving(every=2)
    opt = optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1)
    sched = optim.lr_scheduler.LambdaLR(opt, [_warmup_then_decay, halving])
    _lrs(opt, sched, 3)
    saved = sched.state_dict()
    assert saved["lr_lambdas"] == [None, {"every": 2}]
    halving.every = 7
    fresh = optim.lr_scheduler.LambdaLR(
        optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1), [_warmup_then_decay, halving]
    )
    fresh.load_state_dict(saved)
    assert halving.every == 2 and fresh.lr_lambdas[1] is halving
    assert fresh.last_epoch == 3 and fresh.get_last_lr() == sched.get_last_lr()


@pytest.mark.parametrize("name,kwargs", MORE_SCHEDULERS, ids=PARITY_IDS[len(IDS) :])
def test_more_schedulers_state_dict_round_trip(name, kwargs):
    _, opt, sched = _ours(name, kwargs)
    straight = _lrs(opt, sched, 20)
    _, opt, sched = _ours(name, kwargs)
    _lrs(opt, sched, 9)
    _, fresh_opt, fresh = _ours(name, kwargs)
    fresh_opt.load_state_dict(opt.state_dict())
    fresh.load_state_dict(sched.state_dict())
    assert _lrs(fresh_opt, fresh, 11) == straight[9:]


def test_linear_lr_and_multistep_closed_forms():
    _, opt, sched = _ours("LinearLR", {"start_factor": 0.25, "total_iters": 4})
    for epoch, lrs in enumerate(_lrs(opt, sched, 8)):
        factor = 0.25 + 0.75 * min(epoch, 4) / 4
        assert lrs == pytest.approx([0.1 * factor, 0.05 * factor], rel=1e-14)
    _, opt, sched = _ours("MultiStepLR", {"milestones": [2, 5, 5], "gamma": 0.5})
    want = [1, 1, 0.5, 0.5, 0.5, 0.125, 0.125]
    for epoch, lrs in enumerate(_lrs(opt, sched, 6)):
        assert lrs == pytest.approx([0.1 * want[epoch], 0.05 * want[epoch]], rel=1e-15)


@pytest.mark.parametrize(
    "make,error,message",
    [
        (lambda opt: optim.lr_scheduler.LambdaLR(opt, [abs, abs]), ValueError, "Expected 1"),
        (lambda opt: optim.lr_scheduler.LambdaLR(opt, 0.5), TypeError, "callable"),
        (lambda opt: optim.lr_scheduler.LinearLR(opt, start_factor=0), ValueError, "Starting"),
        (lambda opt: optim.lr_scheduler.LinearLR(opt, end_factor=1.5), ValueError, "Ending"),
    ],
)
def test_more_validation(make, error, message):
    opt = optim.SGD([ts.tensor(np.zeros(2), requires_grad=True)], lr=0.1)
    with pytest.raises(error, match=message):
        make(opt)


# ----------------------------------------------------------------------------- OneCycleLR

ONE_CYCLE = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"max_lr": 0.5, "total_steps": 40}),
    (
        "SGD",
        {"lr": 0.1, "momentum": 0.9},
        {"max_lr": [0.5, 0.2], "total_steps": 40, "anneal_strategy": "linear", "pct_start": 0.25},
    ),
    (
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True},
        {"max_lr": 0.3, "epochs": 4, "steps_per_epoch": 10, "three_phase": True},
    ),
    (
        "SGD",
        {"lr": 0.1},
        {
            "max_lr": 0.3,
            "total_steps": 40,
            "cycle_momentum": False,
            "div_factor": 10.0,
            "final_div_factor": 100.0,
        },
    ),
    (
        "Adam",
        {"lr": 0.01},
        {
            "max_lr": 0.05,
            "total_steps": 40,
            "base_momentum": [0.8, 0.7],
            "max_momentum": 0.9,
            "three_phase": True,
            "anneal_strategy": "linear",
        },
    ),
    ("AdamW", {"lr": 0.01}, {"max_lr": 0.05, "total_steps": 40, "pct_start": 0.5}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5}, {"max_lr": 0.05, "total_steps": 40}),
]


def _one_cycle_run(lib, ps, opt_name, opt_kwargs, kwargs, grads):
    """Step an optimizer under OneCycleLR; per step: lrs, momenta (or beta1s), parameters."""
    opt = getattr(lib.optim, opt_name)(_groups(ps), **opt_kwargs)
    sched = lib.optim.lr_scheduler.OneCycleLR(opt, **kwargs)
    out = []
    for step_grads in grads:
        for p, g in zip(ps, step_grads):
            p.grad = lib.tensor(g)
        opt.step()
        sched.step()
        moms = [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]
        values = [np.asarray(p.detach()).copy() for p in ps]
        out.append((sched.get_last_lr(), moms, values))
    return out


@pytest.mark.parity
@pytest.mark.parametrize("opt_name,opt_kwargs,kwargs", ONE_CYCLE)
def test_parity_one_cycle(opt_name, opt_kwargs, kwargs):
    """lr, momentum and the parameter trajectory agree with torch at every step of the cycle."""
    torch = require_torch()
    rng = np.random.default_rng(3)
    grads = [[rng.standard_normal(a.shape) for a in _params()] for _ in range(39)]
    ours = _one_cycle_run(
        ts,
        [ts.tensor(a, requires_grad=True) for a in _params()],
        opt_name,
        opt_kwargs,
        kwargs,
        grads,
    )
    theirs = _one_cycle_run(
        torch,
        [torch.tensor(a, requires_grad=True) for a in _params()],
        opt_name,
        opt_kwargs,
        kwargs,
        grads,
    )
    for step, ((lr, mom, vals), (lr_t, mom_t, vals_t)) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(lr, lr_t, rtol=1e-14, atol=1e-17, err_msg=f"step {step}")
        assert mom == pytest.approx(mom_t, rel=1e-14), step
        for v, v_t in zip(vals, vals_t):
            np.testing.assert_allclose(v, v_t, rtol=1e-12, atol=1e-12, err_msg=f"step {step}")


def test_one_cycle_shape_and_state_dict():
    p = ts.tensor(np.zeros(2), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert sched.get_last_lr() == [pytest.approx(1.0 / 25)]
    assert opt.param_groups[0]["momentum"] == 0.95
    lrs = _lrs(opt, sched, 5)
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    rest = [r[0] for r in _lrs(opt, sched, 4)[1:]]  # to the last step, 9
    assert max(r[0] for r in lrs) == pytest.approx(1.0) and rest[-1] == pytest.approx(1e-4 / 25)
    q = ts.tensor(np.zeros(2), requires_grad=True)
    fresh_opt = optim.SGD([q], lr=0.1, momentum=0.9)
    fresh = optim.lr_scheduler.OneCycleLR(fresh_opt, max_lr=1.0, total_steps=10)
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved)
    assert [r[0] for r in _lrs(fresh_opt, fresh, 4)[1:]] == rest
    fresh.step()  # step 10 = total_steps is still allowed, as in PyTorch
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        fresh.step()


@pytest.mark.parametrize(
    "opt_kwargs,kwargs,error,message",
    [
        ({}, {"max_lr": 1.0}, ValueError, "either total_steps OR"),
        ({}, {"max_lr": 1.0, "total_steps": 0}, ValueError, "total_steps"),
        ({}, {"max_lr": 1.0, "epochs": 2, "steps_per_epoch": 1.5}, ValueError, "steps_per_ep"),
        ({}, {"max_lr": 1.0, "total_steps": 5, "pct_start": 1}, ValueError, "pct_start"),
        ({}, {"max_lr": 1.0, "total_steps": 5, "anneal_strategy": "exp"}, ValueError, "'cos'"),
        ({}, {"max_lr": [1.0, 2.0], "total_steps": 5}, ValueError, "expected 1 values"),
        ({"momentum": 0.0}, {"max_lr": 1.0, "total_steps": 5}, None, None),
    ],
)
def test_one_cycle_validation(opt_kwargs, kwargs, error, message):
    opt = optim.SGD([ts.tensor(np.zeros(2), requires_grad=True)], lr=0.1, **opt_kwargs)
    if error is None:
        optim.lr_scheduler.OneCycleLR(opt, **kwargs)
        return
    with pytest.raises(error, match=message):
        optim.lr_scheduler.OneCycleLR(opt, **kwargs)


def test_one_cycle_needs_momentum_or_betas():
    opt = optim.Adagrad([ts.tensor(np.zeros(2), requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="momentum or beta1"):
        optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5, cycle_momentum=False)


# ----------------------------------------------------------------------------- ReduceLROnPlateau

PLATEAU = [
    {},
    {"patience": 2},
    {"patience": 1, "factor": 0.5, "cooldown": 2},
    {"mode": "max", "patience": 1, "threshold": 0.05},
    {"mode": "max", "patience": 0, "threshold_mode": "abs", "threshold": 0.1, "factor": 0.3},
    {"mode": "min", "patience": 1, "threshold_mode": "abs", "threshold": 0.2, "min_lr": 0.004},
    {"patience": 0, "factor": 0.5, "min_lr": [0.02, 0.0], "eps": 1e-3},
]


def _plateau_metrics(n=60, seed=2):
    """A noisy loss that falls, flattens and rises: every branch of the rules is taken."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return list(np.exp(-t / 10) + 0.002 * t + 0.05 * rng.standard_normal(n))


@pytest.mark.parity
@pytest.mark.parametrize("kwargs", PLATEAU, ids=[str(k) for k in PLATEAU])
def test_parity_reduce_on_plateau(kwargs):
    torch = require_torch()

    def run(lib, ps, metric_type):
        opt = lib.optim.SGD(_groups(ps), lr=0.1, momentum=0.9)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        out = []
        for m in _plateau_metrics():
            opt.step()
            sched.step(metric_type(m))
            out.append(
                (
                    sched.get_last_lr(),
                    sched.num_bad_epochs,
                    sched.cooldown_counter,
                    sched.best,
                    sched.last_epoch,
                )
            )
        return out

    ours = run(ts, [ts.tensor(a, requires_grad=True) for a in _params()], ts.tensor)
    theirs = run(torch, [torch.tensor(a, requires_grad=True) for a in _params()], torch.tensor)
    assert ours == theirs
    assert len({tuple(r[0]) for r in ours}) > 1 or kwargs == {}  # the lr did change


def test_reduce_on_plateau_state_dict_round_trip():
    def make():
        ps = [ts.tensor(a, requires_grad=True) for a in _params()]
        opt = optim.SGD(_groups(ps), lr=0.1)
        return opt, optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1)

    metrics = _plateau_metrics()
    opt, sched = make()
    straight = []
    for m in metrics:
        sched.step(m)
        straight.append(sched.get_last_lr())
    opt, sched = make()
    for m in metrics[:20]:
        sched.step(m)
    fresh_opt, fresh = make()
    fresh_opt.load_state_dict(opt.state_dict())
    fresh.load_state_dict(sched.state_dict())
    resumed = []
    for m in metrics[20:]:
        fresh.step(m)
        resumed.append(fresh.get_last_lr())
    assert resumed == straight[20:]


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"factor": 1.0}, ValueError, "Factor should be < 1.0"),
        ({"mode": "maximum"}, ValueError, "mode 'maximum' is unknown"),
        ({"threshold_mode": "relative"}, ValueError, "threshold mode"),
        ({"min_lr": [0.1, 0.2]}, ValueError, "expected 1 values for min_lr"),
    ],
)
def test_reduce_on_plateau_validation(kwargs, error, message):
    opt = optim.SGD([ts.tensor(np.zeros(2), requires_grad=True)], lr=0.1)
    with pytest.raises(error, match=message):
        optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)


@pytest.mark.parity
def test_pytorch_scheduler_state_dicts_load_and_continue():
    """ReduceLROnPlateau and OneCycleLR state saved by torch resumes here on the same path."""
    torch = require_torch()
    metrics = _plateau_metrics()

    def plateau(lib, ps):
        opt = lib.optim.SGD(_groups(ps), lr=0.1)
        return opt, lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=2)

    opt_t, sched_t = plateau(torch, [torch.tensor(a, requires_grad=True) for a in _params()])
    opt, sched = plateau(ts, [ts.tensor(a, requires_grad=True) for a in _params()])
    for m in metrics[:25]:
        sched_t.step(m)
    opt.load_state_dict(opt_t.state_dict())
    sched.load_state_dict(sched_t.state_dict())
    for m in metrics[25:]:
        sched_t.step(m)
        sched.step(m)
        assert sched.get_last_lr() == sched_t.get_last_lr()

    def one_cycle(lib, ps):
        opt = lib.optim.Adam(_groups(ps), lr=0.01)
        return opt, lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=30)

    opt_t, sched_t = one_cycle(torch, [torch.tensor(a, requires_grad=True) for a in _params()])
    opt, sched = one_cycle(ts, [ts.tensor(a, requires_grad=True) for a in _params()])
    for _ in range(10):
        opt_t.step()
        sched_t.step()
    opt.load_state_dict(opt_t.state_dict())
    sched.load_state_dict(sched_t.state_dict())
    for _ in range(20):
        opt.step()
        opt_t.step()
        sched.step()
        sched_t.step()
        assert sched.get_last_lr() == pytest.approx(sched_t.get_last_lr(), rel=1e-14)
        assert opt.param_groups[0]["betas"][0] == pytest.approx(opt_t.param_groups[0]["betas"][0])
