"""The harness: agreement first, then interleaved timings, peak memory, scaling, the CLI.

For every configuration and cell all competitors get the same float32 weights and batch. Each
runs one step (the warm-up) whose loss and gradients must match numpy_ref's (common.LOSS_RTOL,
common.GRAD_RTOL), else the run stops with an AgreementError. Then the timed steps go round
robin, one step of each competitor per round, so drifts of the machine hit all of them alike.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from . import competitors as comp
from . import transformer
from .common import (
    CELLS,
    CONFIGS,
    QUICK,
    AgreementError,
    Config,
    check_agreement,
    init_params,
    make_batch,
)
from .report import ENV_VARS
from .transformer_ref import TRANSFORMER, TRANSFORMER_QUICK, TConfig

SCALE_T = (250, 500, 1000, 2000, 4000)  # LSTM, H=128, N=8
SCALE_N = (1, 8, 32, 128)  # LSTM, H=128, T=250
SCALE_NAMES = ("numpy_ref", "tinygrad_seq")


@dataclass
class CellResult:
    """Timings (seconds per step, every repeat) and agreement diffs of one config and cell."""

    config: Config
    cell: str
    times: dict = field(default_factory=dict)
    diffs: dict = field(default_factory=dict)

    def median(self, name: str) -> float | None:
        """Median seconds per step of competitor `name`, None if it did not run."""
        t = self.times.get(name)
        return statistics.median(t) if t else None


@dataclass
class Run:
    """Everything one harness run measured, for the report."""

    args: argparse.Namespace
    argv: list
    machine: dict
    cells: list = field(default_factory=list)
    memory: dict = field(default_factory=dict)  # cell -> {name: peak bytes}
    memory_config: Config | None = None
    scaling: dict = field(default_factory=dict)  # "T" / "N" -> [(value, {name: seconds})]


# ----------------------------------------------------------------------------- measuring


def _time_step(c: comp.Competitor) -> float:
    gc.collect()  # don't bill one competitor for another's garbage
    t0 = time.perf_counter()
    c.step()
    return time.perf_counter() - t0


def run_cell(cfg: Config, cell: str, names: list, repeats: int, seed: int = 0) -> CellResult:
    """Build the competitors, check agreement with numpy_ref, time them round robin."""
    params = init_params(cell, cfg, np.float32, seed)
    x, y = make_batch(cfg, seed + 1)
    built = {n: comp.build(n, cell, params, x, y) for n in names}
    res = CellResult(cfg, cell)
    for c in built.values():  # the warm-up step, whose results are checked
        c.step()
    reference = built["numpy_ref"].result()
    for n, c in built.items():
        out = c.result()
        if out is not None and n != "numpy_ref":
            res.diffs[n] = check_agreement(f"{n} ({cfg.name}, {cell})", out, reference)
    _round_robin(built, repeats, res)
    return res


def run_transformer(cfg: TConfig, names: list, repeats: int, seed: int = 0) -> CellResult:
    """The Transformer configuration: agreement with its numpy reference, then timings."""
    built = {n: transformer.build(n, cfg, np.float32, seed) for n in transformer.competitors(names)}
    res = CellResult(cfg, "transformer")
    for c in built.values():
        c.step()
    reference = built["numpy_ref"].result()
    for n, c in built.items():
        out = c.result()
        if out is not None and n != "numpy_ref":
            res.diffs[n] = transformer.check(n, out, reference, cfg)
    _round_robin(built, repeats, res)
    return res


def _round_robin(built: dict, repeats: int, res: CellResult) -> None:
    """Time `repeats` steps of every competitor, one of each per round, the first rotating."""
    order = list(built)
    gc.collect()
    gc.freeze()  # the objects alive now (modules, weights) are out of every collection's way
    try:
        for r in range(repeats):
            k = r % len(order)  # rotate who goes first
            for n in order[k:] + order[:k]:
                res.times.setdefault(n, []).append(_time_step(built[n]))
    finally:
        gc.unfreeze()


def peak_memory(cfg: Config, cell: str, seed: int = 0) -> dict:
    """tracemalloc peak bytes of one step: tinygrad_seq warm, numpy_ref with its workspace."""
    params = init_params(cell, cfg, np.float32, seed)
    x, y = make_batch(cfg, seed + 1)
    out = {}
    ts = comp.build("tinygrad_seq", cell, params, x, y)
    ts.step()
    fused = comp.build("tinygrad_seq_fused", cell, params, x, y)
    fused.step()
    from tinygrad_seq import kernels

    for name, fn in (
        ("numpy_ref", lambda: comp.build("numpy_ref", cell, params, x, y).step()),
        ("tinygrad_seq", ts.step),
        ("tinygrad_seq_fused", fused.step),
    ):
        gc.collect()
        kernels.empty_cache()  # tinygrad_seq's cached blocks are allocated, and counted, anew
        tracemalloc.start()
        try:
            fn()
            out[name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return out


def scaling(cfgs: list, names: list, repeats: int) -> list:
    """[(config, {name: best seconds})] for the LSTM over a sweep of configurations."""
    rows = []
    for cfg in cfgs:
        res = run_cell(cfg, "lstm", names, repeats)
        # the best step: other processes only ever add time, and a fit needs every point clean
        rows.append((cfg, {n: min(res.times[n]) for n in names}))
        print(f"  scaling {cfg.describe()}: " + _fmt_times(rows[-1][1]), flush=True)
    return rows


def _fmt_times(times: dict) -> str:
    return ", ".join(f"{n} {t * 1e3:.2f} ms" for n, t in times.items() if t is not None)


# ----------------------------------------------------------------------------- environment


def blas_info() -> str:
    """'openblas 0.3.31 (SkylakeX, pthreads), 2 threads' from threadpoolctl, else numpy's."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name', '?')} {blas.get('version', '?')} (threadpoolctl not installed)"
    parts = []
    for info in threadpool_info():
        arch = ", ".join(str(info[k]) for k in ("architecture", "threading_layer") if k in info)
        parts.append(
            f"{info['internal_api']} {info.get('version') or ''} ({arch}) "
            f"{info['num_threads']} threads [{os.path.basename(info['filepath'])}]"
        )
    return "; ".join(parts)


def blas_thread_check(threads: int) -> str:
    """Time a (32, 256) @ (256, 1024) matmul on 1 and on `threads` threads; warn if slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return "not checked (threadpoolctl not installed)"
    a = np.ones((32, 256), np.float32)
    b = np.ones((256, 1024), np.float32)

    def best(n: int) -> float:
        """Best of 20 matmuls on n BLAS threads, seconds."""
        with threadpool_limits(limits=n, user_api="blas"):
            a @ b
            return min(_timed(lambda: a @ b) for _ in range(20))

    one, many = best(1), best(threads)
    line = f"(32,256)@(256,1024): {one * 1e3:.3f} ms on 1 thread, {many * 1e3:.3f} ms on {threads}"
    if many > 2 * one:
        line += " -- WARNING: more threads are slower, other processes hold the cores"
    return line


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def machine_info(threads: int, torch_used: bool) -> dict:
    """CPU, cores, Python, numpy / BLAS, torch and autograd versions, OpenBLAS variables."""
    import platform

    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if "model name" in ln), cpu)
    info = {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "threads": threads,
        "blas_check": blas_thread_check(threads),
        "load": "/".join(f"{v:.2f}" for v in os.getloadavg()),
    }
    for var in ENV_VARS:
        info[var] = os.environ.get(var, "unset")
    from tinygrad_seq import kernels  # imported for tinygrad_seq anyway; it tunes malloc

    info["malloc"] = kernels.malloc_settings()
    if torch_used:
        import torch

        info["torch"] = f"{torch.__version__}, {torch.get_num_threads()} threads"
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        info["autograd"] = version("autograd")
    return info


@contextlib.contextmanager
def thread_limits(n: int, torch_used: bool) -> Iterator[None]:
    """Every BLAS/OpenMP pool (threadpoolctl) and torch on n threads; restored on exit."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits = contextlib.nullcontext()  # __main__'s environment variables still apply
    else:
        limits = threadpool_limits(limits=n)
    prev = None
    if torch_used:
        import torch

        prev = torch.get_num_threads()
        torch.set_num_threads(n)
    try:
        with limits:
            yield
    finally:
        if prev is not None:
            torch.set_num_threads(prev)


# ----------------------------------------------------------------------------- the CLI


def parse_args(argv: list) -> argparse.Namespace:
    """The command line; see `python -m benchmarks --help`."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument(
        "--configs",
        default="A,B,C,D,TF",
        help="comma list of A,B,C,D (recurrent), TF (Transformer)",
    )
    ap.add_argument("--cells", default="lstm,gru,rnn", help="comma list of lstm,gru,rnn")
    ap.add_argument("--repeats", type=int, default=5, help="timed steps per competitor")
    ap.add_argument("--only", default="", help=f"comma list of {','.join(comp.COMPETITORS)}")
    ap.add_argument("--scaling-repeats", type=int, default=3, help="timed steps per sweep point")
    ap.add_argument("--threads", type=int, default=2, help="threads for every library")
    ap.add_argument("--quick", action="store_true", help="tiny smoke run (CI): seconds")
    ap.add_argument("--no-scaling", action="store_true", help="skip the T and N sweeps")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory check")
    ap.add_argument(
        "--profile", action="store_true", help="cProfile and per-op times of tinygrad_seq instead"
    )
    ap.add_argument("--write-results", action="store_true", help="write RESULTS.md")
    ap.add_argument("--results-path", default=os.path.join(os.path.dirname(__file__), "RESULTS.md"))
    args = ap.parse_args(argv)
    args.cells = _choices(args.cells, CELLS, "--cells")
    args.configs = _choices(args.configs, (*CONFIGS, TRANSFORMER.name), "--configs")
    args.only = _choices(args.only, comp.COMPETITORS, "--only") if args.only else []
    if args.quick:
        args.repeats = args.scaling_repeats = 1
    if args.repeats < 1 or args.scaling_repeats < 1:
        ap.error("--repeats and --scaling-repeats must be at least 1")
    return args


def _choices(text: str, allowed: tuple, flag: str) -> list:
    items = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in items if s not in allowed]
    if bad or not items:
        raise SystemExit(f"{flag}: unknown {bad or text!r}; choose from {','.join(allowed)}")
    return items


def competitor_names(only: list) -> list:
    """The competitors to run, numpy_ref always first (the reference); missing ones skipped."""
    wanted = ["numpy_ref"] + [n for n in (only or comp.COMPETITORS) if n != "numpy_ref"]
    names = []
    for n in wanted:
        if comp.available(n):
            names.append(n)
        else:
            print(f"skipping {n}: its library is not installed", flush=True)
    return names


def benchmark(args: argparse.Namespace, argv: list, names: list, machine: dict) -> Run:
    """All configured measurements; prints as it goes."""
    run = Run(args, argv, machine)
    configs = [QUICK] if args.quick else [CONFIGS[c] for c in args.configs if c in CONFIGS]
    for cfg in configs:
        for cell in args.cells:
            res = run_cell(cfg, cell, names, args.repeats)
            run.cells.append(res)
            times = {n: res.median(n) for n in names}
            print(f"{cfg.describe()} {cell}: " + _fmt_times(times), flush=True)
    if args.quick or TRANSFORMER.name in args.configs:
        cfg = TRANSFORMER_QUICK if args.quick else TRANSFORMER
        res = run_transformer(cfg, names, args.repeats)
        run.cells.append(res)
        print(f"{cfg.describe()}: " + _fmt_times({n: res.median(n) for n in res.times}), flush=True)
    if not args.no_memory and "tinygrad_seq" in names and (args.quick or "D" in args.configs):
        run.memory_config = QUICK if args.quick else CONFIGS["D"]
        for cell in args.cells:
            run.memory[cell] = peak_memory(run.memory_config, cell)
            print(f"peak memory {run.memory_config.name} {cell}: {run.memory[cell]}", flush=True)
    if not args.no_scaling:
        _sweeps(run, [n for n in SCALE_NAMES if n in names])
    return run


def _sweeps(run: Run, names: list) -> None:
    """The LSTM against T (H=128, N=8) and against N (H=128, T=250); tiny with --quick."""
    quick, reps = run.args.quick, run.args.scaling_repeats
    H = QUICK.H if quick else 128
    t_values, n_values = ((8, 16), (1, 2)) if quick else (SCALE_T, SCALE_N)
    t_fixed = 8 if quick else 250
    run.scaling["T"] = scaling([Config(f"T={t}", H, 8, t) for t in t_values], names, reps)
    run.scaling["N"] = scaling([Config(f"N={n}", H, n, t_fixed) for n in n_values], names, reps)


def main(argv: list | None = None) -> int:
    """Run the harness; 0 on success, 1 when a competitor disagrees with numpy_ref."""
    from . import report

    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    names = competitor_names(args.only)
    torch_used = any(n.startswith("torch") for n in names)
    with thread_limits(args.threads, torch_used):
        machine = machine_info(args.threads, torch_used)
        print(report.machine_line(machine), flush=True)
        if args.profile:
            from .profiling import profile_report

            print(profile_report(args), flush=True)
            return 0
        try:
            run = benchmark(args, argv, names, machine)
        except AgreementError as e:
            print(f"AGREEMENT FAILURE: {e}", file=sys.stderr, flush=True)
            return 1
        machine["load_end"] = "/".join(f"{v:.2f}" for v in os.getloadavg())
    text = report.render(run)
    print(text)
    if args.write_results:
        from .word_lm import find_section

        # the word-LM section is written by `python -m benchmarks.word_lm`: keep it
        kept = ""
        if os.path.exists(args.results_path):
            with open(args.results_path) as f:
                kept = find_section(f.read())
        with open(args.results_path, "w") as f:
            f.write(text + ("\n" + kept if kept else ""))  # text ends with a newline
        print(f"wrote {args.results_path}")
    return 0
