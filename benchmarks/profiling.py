"""`--profile`: where the tinygrad_seq training step spends its time, for engine work.

For each configuration and cell: the top functions by own time under cProfile, the number of
graph nodes (Function.apply calls) and op backwards, and the per-node overhead measured without
the profiler: (tinygrad_seq time - numpy_ref time) / nodes. Then a breakdown by op without
cProfile (each op's forward and backward timed with perf_counter, the weight gradients'
deferred matmuls and the slices' stacking apart, the rest being the engine and the layer's
Python), next to the matmul floor and numpy_ref. A micro-benchmark of a chain of tiny
additions gives the engine's fixed cost per op, forward and backward, with no numpy work.
"""

from __future__ import annotations

import collections
import contextlib
import cProfile
import io
import pstats
import statistics
import time
from collections.abc import Iterator

import numpy as np

from . import competitors as comp
from .common import CONFIGS, QUICK, Config, init_params, make_batch

TOP = 15


def _median_time(c: comp.Competitor, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _counts(stats: pstats.Stats) -> tuple[int, int, float]:
    """(Function.apply calls, op backward calls, engine backward() cumulative seconds)."""
    applies = backwards = 0
    engine = 0.0
    for (path, _, func), (_, ncalls, _, cum, _) in stats.stats.items():
        if path.endswith("autograd.py") and func == "apply":
            applies += ncalls
        elif path.endswith("ops.py") and func == "backward":
            backwards += ncalls
        elif path.endswith("autograd.py") and func == "backward":
            engine += cum
    return applies, backwards, engine


def profile_cell(cfg: Config, cell: str, steps: int = 3) -> str:
    """cProfile of `steps` tinygrad_seq steps, top functions and per-node overheads."""
    params = init_params(cell, cfg, np.float32)
    x, y = make_batch(cfg)
    ts = comp.build("tinygrad_seq", cell, params, x, y)
    ref = comp.build("numpy_ref", cell, params, x, y)
    ts.step()
    ref.step()
    t_ts, t_ref = _median_time(ts, steps), _median_time(ref, steps)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        ts.step()
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    applies, backwards, engine = (v / steps for v in _counts(stats))
    stats.sort_stats("tottime").print_stats(TOP)
    per_node = (t_ts - t_ref) / max(applies, 1) * 1e6
    lines = [
        f"## {cfg.describe()} {cell}",
        f"tinygrad_seq {t_ts * 1e3:.2f} ms, numpy_ref {t_ref * 1e3:.2f} ms per step "
        f"(ratio {t_ts / t_ref:.2f}), without the profiler",
        f"{applies:.0f} Function.apply calls (graph nodes) and {backwards:.0f} op backward "
        f"calls per step; {applies / cfg.T:.1f} nodes per time step",
        f"overhead over numpy_ref per node: {per_node:.1f} us; under cProfile the engine's "
        f"backward() takes {engine * 1e3:.1f} ms per step ({engine / max(backwards, 1) * 1e6:.1f} "
        "us per node)",
        f"top {TOP} by own time ({steps} profiled steps):",
        _trim(buf.getvalue()),
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def _op_timers(table: dict) -> Iterator[None]:
    """Time every Function's forward and backward, and the engine's deferred gradient work."""
    from tinygrad_seq import autograd, grads, ops
    from tinygrad_seq.nn import rnn

    patched: list = []

    def timed(owner: type, name: str, label: tuple, static: bool) -> None:
        orig = owner.__dict__[name]
        fn = orig.__func__ if static else orig

        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                entry = table[label]
                entry[0] += 1
                entry[1] += time.perf_counter() - t0

        setattr(owner, name, staticmethod(wrapper) if static else wrapper)
        patched.append((owner, name, orig))

    for mod in (ops, rnn):
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, autograd.Function):
                if obj is not autograd.Function and "forward" in obj.__dict__:
                    timed(obj, "forward", (obj.__name__, "forward"), True)
                    timed(obj, "backward", (obj.__name__, "backward"), True)
    timed(grads.OuterGrad, "product", ("weight gradient matmuls (OuterGrad)", ""), False)
    timed(grads.ScatterGrad, "dense", ("stacking x[t] gradients (ScatterGrad)", ""), False)
    try:
        yield
    finally:
        for owner, name, orig in patched:
            setattr(owner, name, orig)


def op_breakdown(cfg: Config, cell: str, steps: int = 5) -> str:
    """Milliseconds per training step by op (forward, backward) against numpy_ref and the floor."""
    params = init_params(cell, cfg, np.float32)
    x, y = make_batch(cfg)
    names = ("tinygrad_seq", "numpy_ref", "matmul_floor")
    built = {n: comp.build(n, cell, params, x, y) for n in names}
    for c in built.values():
        c.step()
    base = {n: _median_time(c, steps) for n, c in built.items()}
    table: dict = collections.defaultdict(lambda: [0, 0.0])
    with _op_timers(table):
        ts = built["tinygrad_seq"]
        ts.step()
        table.clear()
        t0 = time.perf_counter()
        for _ in range(steps):
            ts.step()
        timed_total = (time.perf_counter() - t0) / steps
    rows = sorted(table.items(), key=lambda kv: -kv[1][1])
    accounted = sum(t for (_, t) in table.values()) / steps
    lines = [
        f"per-op breakdown, {cfg.describe()} {cell} (ms per step; the timers add a little):",
        f"tinygrad_seq {base['tinygrad_seq'] * 1e3:.2f} (timed run {timed_total * 1e3:.2f}), "
        f"numpy_ref {base['numpy_ref'] * 1e3:.2f}, matmul floor {base['matmul_floor'] * 1e3:.2f}",
        "| op | calls | ms | us per call |",
        "|---|---|---|---|",
    ]
    for (op, phase), (n, t) in rows[:TOP]:
        label = f"{op} {phase}".strip()
        lines.append(f"| {label} | {n / steps:.0f} | {t / steps * 1e3:.2f} | {t / n * 1e6:.1f} |")
    rest = timed_total - accounted
    lines.append(f"| engine and Python outside the ops (the rest) | | {rest * 1e3:.2f} | |")
    return "\n".join(lines)


def _trim(text: str) -> str:
    """pstats output from its column header on, the long paths shortened."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
    return "\n".join(ln.replace("/work/main/", "") for ln in lines[start:] if ln.strip())


def fixed_cost(n: int = 2000, rounds: int = 5) -> str:
    """Engine cost per op with no numpy work: a chain of n additions of (1,) tensors (best of)."""
    import tinygrad_seq as ts

    a = ts.tensor(np.ones(1, np.float32), requires_grad=True)
    b = ts.tensor(np.ones(1, np.float32))
    fwd, bwd = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = a
        for _ in range(n):
            out = out + b
        t1 = time.perf_counter()
        out.sum().backward()
        t2 = time.perf_counter()
        fwd.append((t1 - t0) / n * 1e6)
        bwd.append((t2 - t1) / n * 1e6)
    return (
        f"engine fixed cost, chain of {n} Add on shape (1,), best of {rounds}: forward "
        f"{min(fwd):.1f} us per op, backward {min(bwd):.1f} us per node "
        f"(a bare numpy add of two (1,) arrays: {_numpy_add_us():.2f} us)"
    )


def _numpy_add_us(n: int = 20000) -> float:
    a, b = np.ones(1, np.float32), np.ones(1, np.float32)
    t0 = time.perf_counter()
    for _ in range(n):
        a + b
    return (time.perf_counter() - t0) / n * 1e6


def profile_report(args) -> str:
    """The --profile output for the selected configurations and cells."""
    configs = [QUICK] if args.quick else [CONFIGS[c] for c in args.configs if c in CONFIGS]
    steps = 1 if args.quick else 3
    parts = [fixed_cost()]
    for cfg in configs:
        for cell in args.cells:
            parts.append(profile_cell(cfg, cell, steps))
            parts.append(op_breakdown(cfg, cell, 2 if args.quick else 5))
    return "\n\n".join(parts)
