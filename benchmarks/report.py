"""Markdown for a harness run: machine line, targets with pass/fail, timings, memory, scaling."""

from __future__ import annotations

import os
import shlex
import sys

import numpy as np

RATIO_TARGETS = {"A": 4.0, "B": 1.3, "C": 1.3, "D": 2.5}  # tinygrad_seq / numpy_ref at most
HIPS_SPEEDUP = 3.0  # hips_autograd / tinygrad_seq at least
MEMORY_RATIO = 1.5  # peak tinygrad_seq / numpy_ref at D at most


ENV_VARS = (  # reported in the machine line: they change how the BLAS and OpenMP pools behave
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_THREAD_TIMEOUT",
    "GOMP_SPINCOUNT",
    "OMP_WAIT_POLICY",
)


def machine_line(m: dict) -> str:
    """One line: CPU, Python, numpy, BLAS, threads, torch, autograd, pool and malloc settings."""
    parts = [
        f"CPU: {m['cpu']}",
        f"Python {m['python']}",
        f"numpy {m['numpy']}",
        f"BLAS: {m['blas']}",
        f"threads: {m['threads']}",
    ]
    if "torch" in m:
        parts.append(f"torch {m['torch']}")
    if "autograd" in m:
        parts.append(f"HIPS autograd {m['autograd']}")
    parts += [f"{v}={m[v]}" for v in ENV_VARS if v in m]
    if "malloc" in m:
        parts.append(_malloc_text(m["malloc"]))
    parts.append(f"BLAS thread check: {m['blas_check']}")
    parts.append(f"load average at start (1/5/15 min): {m['load']}")
    if "load_end" in m:
        parts.append(f"at end: {m['load_end']}")
    return "; ".join(parts)


def _malloc_text(settings: dict | None) -> str:
    if settings is None:
        return "malloc: not tuned (no glibc, or TINYGRAD_SEQ_MALLOC_TUNING=0)"
    mmap_mib, trim_mib = settings["mmap_threshold"] >> 20, settings["trim_threshold"] >> 20
    return (
        f"malloc (glibc, for every competitor in the process): mmap threshold {mmap_mib} MiB, "
        f"trim threshold {trim_mib} MiB (tinygrad_seq.kernels.tune_malloc)"
    )


def command_line(argv: list) -> str:
    """The command that reproduces the run, as typed from the repository root."""
    exe = os.path.relpath(sys.executable) if sys.executable else "python"
    return shlex.join([exe, "-m", "benchmarks", *argv])


# ----------------------------------------------------------------------------- targets


def _medians(run) -> dict:
    return {(r.config.name, r.cell, n): r.median(n) for r in run.cells for n in r.times}


def _row(label: str, value: float | None, ok, fmt: str) -> tuple:
    if value is None:
        return label, "not run", "not run"
    return label, fmt.format(value), "pass" if ok(value) else "**FAIL**"


def targets(run) -> list:
    """(target, measured, pass / FAIL / not run) for every target of the issue."""
    med = _medians(run)

    def ratio(cfg: str, cell: str, num: str, den: str) -> float | None:
        """Median time of `num` over that of `den`, None if either did not run."""
        a, b = med.get((cfg, cell, num)), med.get((cfg, cell, den))
        return None if a is None or b is None else a / b

    rows = []
    for ours in OURS:
        rows += _our_targets(run, ours, ratio)
    return rows


OURS = ("tinygrad_seq", "tinygrad_seq_fused")


def _our_targets(run, ours: str, ratio) -> list:
    """The target rows for one of our two variants (composed cells, fused=True)."""
    tag = "" if ours == "tinygrad_seq" else " [fused]"
    rows = []
    for cfg, limit in RATIO_TARGETS.items():
        for cell in run.args.cells:
            r = ratio(cfg, cell, ours, "numpy_ref")
            rows.append(
                _row(
                    f"{cfg} {cell}{tag}: time / numpy_ref <= {limit}",
                    r,
                    lambda v, lim=limit: v <= lim,
                    "{:.2f}",
                )
            )
    for cfg in ("B", "D"):
        r = ratio(cfg, "lstm", ours, "torch_cell_loop")
        rows.append(
            _row(
                f"{cfg} lstm{tag}: faster than torch LSTMCell loop (time ratio < 1)",
                r,
                lambda v: v < 1,
                "{:.2f}",
            )
        )
    for cell, layer in (("gru", "nn.GRU"), ("rnn", "nn.RNN")):
        r = ratio("D", cell, ours, "torch_nn")
        rows.append(
            _row(
                f"D {cell}{tag}: faster than torch {layer} (time ratio < 1)",
                r,
                lambda v: v < 1,
                "{:.2f}",
            )
        )
    for cfg in RATIO_TARGETS:
        for cell in run.args.cells:
            r = ratio(cfg, cell, "hips_autograd", ours)
            rows.append(
                _row(
                    f"{cfg} {cell}{tag}: >= {HIPS_SPEEDUP:g}x faster than HIPS autograd",
                    r,
                    lambda v: v >= HIPS_SPEEDUP,
                    "{:.2f}x",
                )
            )
    for cell in run.args.cells:
        peaks = (
            run.memory.get(cell, {}) if run.memory_config and run.memory_config.name == "D" else {}
        )
        r = peaks[ours] / peaks["numpy_ref"] if ours in peaks and "numpy_ref" in peaks else None
        rows.append(
            _row(
                f"D {cell}{tag}: peak memory / numpy_ref <= {MEMORY_RATIO}",
                r,
                lambda v: v <= MEMORY_RATIO,
                "{:.2f}",
            )
        )
    return rows


# ----------------------------------------------------------------------------- tables


def _table(header: list, rows: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def timing_tables(run) -> str:
    """Per configuration: one row per cell and competitor, times and ratios."""
    out = []
    for cfg in dict.fromkeys(r.config for r in run.cells):
        rows = []
        for r in (r for r in run.cells if r.config == cfg):
            ref, floor = r.median("numpy_ref"), r.median("matmul_floor")
            for n, ts in r.times.items():
                t = r.median(n)
                share = f"{floor / t:.0%}" if floor else "-"
                rows.append(
                    [r.cell, n, f"{t * 1e3:.2f}", f"{min(ts) * 1e3:.2f}", f"{t / ref:.2f}", share]
                )
        head = ["cell", "competitor", "median ms", "min ms", "x numpy_ref", "floor / time"]
        out.append(f"### {cfg.describe()}\n\n" + _table(head, rows))
    return "\n\n".join(out)


def agreement_table(run) -> str:
    """Loss and worst gradient relative differences to numpy_ref, checked before timing."""
    rows = []
    for r in run.cells:
        for n, d in r.diffs.items():
            worst = max((v, k) for k, v in d.items() if k != "loss")
            rows.append(
                [r.config.name, r.cell, n, f"{d['loss']:.1e}", f"{worst[0]:.1e} ({worst[1]})"]
            )
    return _table(["config", "cell", "competitor", "loss rel diff", "max grad rel diff"], rows)


def memory_table(run) -> str:
    """tracemalloc peaks of one step, MB."""
    rows = []
    for cell, peaks in run.memory.items():
        ref, ts, fu = peaks["numpy_ref"], peaks["tinygrad_seq"], peaks["tinygrad_seq_fused"]
        rows.append(
            [
                cell,
                f"{ref / 2**20:.1f}",
                f"{ts / 2**20:.1f}",
                f"{ts / ref:.2f}",
                f"{fu / 2**20:.1f}",
                f"{fu / ref:.2f}",
            ]
        )
    header = ["cell", "numpy_ref MB", "tinygrad_seq MB", "ratio", "fused MB", "fused ratio"]
    return _table(header, rows)


def _fit(xs: list, ys: list) -> str:
    slope, icpt = np.polyfit(xs, ys, 1)
    pred = np.polyval([slope, icpt], xs)
    ss = float(np.sum((np.asarray(ys) - np.mean(ys)) ** 2))
    r2 = 1 - float(np.sum((np.asarray(ys) - pred) ** 2)) / ss if ss > 0 else 1.0
    return f"slope {slope:.4g} ms, intercept {icpt:.3g} ms, R^2 {r2:.4f}"


def scaling_tables(run) -> str:
    """Time against T and against N: ms, us per step-sample, a least-squares line."""
    out = []
    for axis, rows in run.scaling.items():
        names = list(rows[0][1]) if rows else []
        head = [axis] + [f"{n} {u}" for n in names for u in ("ms", "us/step-sample")]
        body, fits = [], []
        for cfg, times in rows:
            cells = [cfg.T if axis == "T" else cfg.N]
            for n in names:
                cells += [f"{times[n] * 1e3:.2f}", f"{times[n] * 1e6 / (cfg.T * cfg.N):.2f}"]
            body.append(cells)
        xs = [cfg.T if axis == "T" else cfg.N for cfg, _ in rows]
        for n in names:
            per = "per time step" if axis == "T" else "per sequence in the batch"
            fits.append(f"- {n}: {_fit(xs, [t[n] * 1e3 for _, t in rows])} ({per})")
        cfg0 = rows[0][0]
        fixed = f"H={cfg0.H}, N={cfg0.N}" if axis == "T" else f"H={cfg0.H}, T={cfg0.T}"
        out.append(
            f"### LSTM against {axis} ({fixed})\n\n" + _table(head, body) + "\n\n" + "\n".join(fits)
        )
    return "\n\n".join(out)


def render(run) -> str:
    """The whole RESULTS.md."""
    reps = run.args.repeats
    parts = [
        "# Benchmark results",
        "One training step of a character language model: embedding (E=64, or 8 in --quick) "
        "-> one LSTM / GRU / RNN layer -> linear to V=64 logits, softmax cross-entropy at every "
        "step averaged over T*N, full BPTT; float32. Every competitor gets the same weights and "
        "batch and must match numpy_ref (loss rel diff < 1e-4, per-parameter "
        "max|g - g_ref| / max|g_ref| < 1e-3) before it is timed. Times are medians of "
        f"{reps} steps after one warm-up step, competitors interleaved round robin. Every "
        "library runs on the same threads; idle OpenBLAS and OpenMP (torch) threads spin at most "
        "about a millisecond (OPENBLAS_THREAD_TIMEOUT, GOMP_SPINCOUNT below) so that one "
        "library's waiting threads do not take the cores of the next. "
        "`floor / time` is the matmul floor's share of a competitor's time. "
        "The Transformer configuration (TF; TQ in --quick) is one training step of a causal "
        "character Transformer LM, `tasks.CharLM(cell='transformer')`: token and learned "
        "position embeddings, pre-norm encoder layers (causal multi-head self-attention, ReLU "
        "feed-forward), a final LayerNorm, linear readout, cross-entropy averaged over T*N; "
        "its numpy_ref is a hand-derived forward and backward (benchmarks/transformer_ref.py) "
        "and its floor the matmuls of both passes, and torch_nn is the same model from "
        "PyTorch's nn.TransformerEncoder.",
        f"Command: `{command_line(run.argv)}`",
        f"Machine: {machine_line(run.machine)}",
        "## Targets\n\n" + _table(["target", "measured", "result"], targets(run)),
        "## Timings\n\n" + timing_tables(run),
    ]
    if run.memory:
        parts.append(
            f"## Peak memory of one step, config {run.memory_config.describe()}\n\n"
            "tracemalloc peak of one training step (weights and batch excluded; "
            "numpy_ref's preallocated workspace included).\n\n" + memory_table(run)
        )
    if run.scaling:
        parts.append(
            f"## Scaling (best of {run.args.scaling_repeats} steps)\n\n" + scaling_tables(run)
        )
    parts.append(
        "## Agreement with numpy_ref (float32, checked before timing)\n\n" + agreement_table(run)
    )
    return "\n\n".join(parts) + "\n"
