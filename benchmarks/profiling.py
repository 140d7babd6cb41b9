"""`--profile`: where the tinygrad_seq training step spends its time, for engine work.

For each configuration and cell: the top functions by own time under cProfile, the number of
graph nodes (Function.apply calls) and op backwards, and the per-node overhead measured without
the profiler: (tinygrad_seq time - numpy_ref time) / nodes. A micro-benchmark of a chain of
tiny additions gives the engine's fixed cost per op, forward and backward, with no numpy work.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time

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


def _trim(text: str) -> str:
    """pstats output from its column header on, the long paths shortened."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
    return "\n".join(ln.replace("/work/main/", "") for ln in lines[start:] if ln.strip())


def fixed_cost(n: int = 2000, rounds: int = 5) -> str:
    """Engine cost per op with no numpy work: a chain of n additions of (1,) tensors (best of)."""
    import tinygrad_seq as ts

    a = ts.Tensor(np.ones(1, np.float32), requires_grad=True)
    b = ts.Tensor(np.ones(1, np.float32))
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
    configs = [QUICK] if args.quick else [CONFIGS[c] for c in args.configs]
    steps = 1 if args.quick else 3
    parts = [fixed_cost()]
    for cfg in configs:
        for cell in args.cells:
            parts.append(profile_cell(cfg, cell, steps))
    return "\n\n".join(parts)
