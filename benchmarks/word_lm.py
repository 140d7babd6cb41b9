"""`python -m benchmarks.word_lm`: tokens/s of the word-level LM's training step, ours vs PyTorch.

The program is tests/compat/word_language_model.py, loaded twice in this process: as written
(under tinygrad_seq) and with its one framework line changed to `import torch`, exactly as the
compat tests load it. Both get the same corpus and the same float32 weights (PyTorch's model is
built first and its state_dict copied into ours); each timed call is the program's own
`train_step` (zero_grad, detach the hidden state, forward over bptt words, NLLLoss, backward,
clip_grad_norm_, the hand-written SGD update) on the next bptt x batch words. Before timing, the
warm-up steps' losses must agree (dropout 0); then the two alternate step by step, each step
after a gc.collect(), and tokens/s is bptt * batch / the median step time.

This module imports nothing but the standard library at its top: run as `-m`, it pins the BLAS
and OpenMP threads (--threads) before numpy is first imported.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import statistics
import sys
import time
import types
from pathlib import Path

PROGRAM = Path(__file__).resolve().parents[1] / "tests" / "compat" / "word_language_model.py"
FRAMEWORK_LINE = "import tinygrad_seq as torch"
FRAMEWORKS = ("tinygrad_seq", "torch")
SECTION = "## Word-level language model: tokens/s"
LOSS_RTOL = 1e-4  # float32: the warm-up losses of the two frameworks must agree this well


def load_program(framework: str, path: Path = PROGRAM) -> types.ModuleType:
    """The compat program at path run as a module under framework ("tinygrad_seq" | "torch")."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    lines = path.read_text().splitlines()
    hits = [i for i, line in enumerate(lines) if line.strip() == FRAMEWORK_LINE]
    if len(hits) != 1:
        raise ValueError(f"{path.name} must have exactly one line {FRAMEWORK_LINE!r}")
    if framework == "torch":
        lines[hits[0]] = "import torch"
    module = types.ModuleType(f"word_lm_{framework}")
    module.__file__ = str(path)
    exec(compile("\n".join(lines) + "\n", str(path), "exec"), module.__dict__)
    return module


class Runner:
    """One framework's model, data and hidden state; step() is one timed training step."""

    def __init__(self, prog: types.ModuleType, model, args: argparse.Namespace, corpus):
        self.prog, self.model, self.args = prog, model, args
        device = prog.torch.device("cpu")
        self.data = prog.batchify(corpus.train, args.batch_size, device)
        self.criterion = prog.nn.NLLLoss()
        self.hidden = model.init_hidden(args.batch_size)
        self.i = 0
        self.losses: list[float] = []
        model.train()

    def step(self) -> None:
        """The program's train_step on the next bptt x batch words (wrapping at the end)."""
        if self.i + self.args.bptt + 1 > self.data.size(0):
            self.i = 0
        data, targets = self.prog.get_batch(self.data, self.i, self.args.bptt)
        loss, self.hidden = self.prog.train_step(
            self.model, self.criterion, data, targets, self.hidden, self.args.lr, self.args.clip
        )
        self.losses.append(loss)
        self.i += self.args.bptt


def build(args: argparse.Namespace) -> dict:
    """{"tinygrad_seq": Runner, "torch": Runner} from the same corpus and float32 weights."""
    progs = {name: load_program(name) for name in FRAMEWORKS}
    ours, theirs = progs["tinygrad_seq"], progs["torch"]
    for prog in progs.values():
        prog.torch.set_default_dtype(prog.torch.float32)
    kw = {"nsentences": args.sentences, "vocab_size": args.vocab, "seed": args.seed}
    corpora = {name: prog.Corpus(None, **kw) for name, prog in progs.items()}
    ntokens = len(corpora["torch"].dictionary)
    sizes = (args.model, ntokens, args.emsize, args.nhid, args.nlayers, args.dropout, args.tied)
    theirs.torch.manual_seed(args.seed)
    model_t = theirs.RNNModel(*sizes)
    model_o = ours.RNNModel(*sizes)
    state = {k: ours.torch.tensor(v.detach().numpy()) for k, v in model_t.state_dict().items()}
    model_o.load_state_dict(state)
    return {
        "tinygrad_seq": Runner(ours, model_o, args, corpora["tinygrad_seq"]),
        "torch": Runner(theirs, model_t, args, corpora["torch"]),
    }


def check_losses(runners: dict, dropout: float) -> float:
    """Largest relative difference of the steps' losses so far; SystemExit if they disagree."""
    ours, theirs = runners["tinygrad_seq"].losses, runners["torch"].losses
    worst = max(abs(a - b) / abs(b) for a, b in zip(ours, theirs))
    if dropout == 0 and worst > LOSS_RTOL:
        raise SystemExit(f"AGREEMENT FAILURE: losses {ours} vs PyTorch {theirs}")
    return worst


def measure(args: argparse.Namespace) -> dict:
    """Warm up, check agreement, time the steps round robin; -> the numbers of the report."""
    runners = build(args)
    for _ in range(args.warmup):
        for runner in runners.values():
            runner.step()
    diff = check_losses(runners, args.dropout)
    times: dict[str, list[float]] = {name: [] for name in runners}
    order = list(runners)
    for r in range(args.repeats):
        k = r % len(order)  # rotate who goes first
        for name in order[k:] + order[:k]:
            gc.collect()  # don't bill one framework for the other's garbage
            t0 = time.perf_counter()
            runners[name].step()
            times[name].append(time.perf_counter() - t0)
    tokens = args.bptt * args.batch_size
    median = {name: statistics.median(t) for name, t in times.items()}
    tps = {name: tokens / m for name, m in median.items()}
    return {
        "ntokens": runners["torch"].model.ntoken,
        "median_s": median,
        "min_s": {name: min(t) for name, t in times.items()},
        "tokens_per_s": tps,
        "ratio": tps["tinygrad_seq"] / tps["torch"],
        "best_ratio": min(times["torch"]) / min(times["tinygrad_seq"]),
        "loss_diff": diff,
        "last_losses": {name: runner.losses[-1] for name, runner in runners.items()},
    }


def describe(args: argparse.Namespace, ntokens: int) -> str:
    """'LSTM, 2 layers, emsize = nhid = 128, tied, V=1000, bptt 35, batch 20, float32'."""
    tied = "tied" if args.tied else "untied"
    return (
        f"{args.model}, {args.nlayers} layers, emsize {args.emsize}, nhid {args.nhid}, {tied}, "
        f"V={ntokens}, bptt {args.bptt}, batch {args.batch_size}, dropout {args.dropout}, float32"
    )


def shared_note(load: str, cores: int | None) -> str:
    """A warning sentence when the 1-minute load average ('7.97/8.22/7.56') exceeds the cores."""
    first = float(load.split("/")[0])
    if cores is None or first <= cores:
        return ""
    return (
        f" The machine was shared: load average {first:.1f} on {cores} cores at the start, so "
        "single steps vary; the ratio is steadier than either rate."
    )


def render(
    args: argparse.Namespace, argv: list, res: dict, machine_line: str, note: str = ""
) -> str:
    """The RESULTS.md section: what was run (and note), the command, the machine, the table."""
    rows = [
        "| framework | tokens/s | median ms/step | min ms/step |",
        "|---|---|---|---|",
    ]
    for name in FRAMEWORKS:
        rows.append(
            f"| {name} | {res['tokens_per_s'][name]:,.0f} | {res['median_s'][name] * 1e3:.1f} "
            f"| {res['min_s'][name] * 1e3:.1f} |"
        )
    exe = os.path.relpath(sys.executable) if sys.executable else "python"
    command = " ".join([exe, "-m", "benchmarks.word_lm", *argv])
    return "\n\n".join(
        [
            SECTION,
            "One training step of tests/compat/word_language_model.py (the PyTorch examples' "
            "word-level language model), run by the same program text under tinygrad_seq and "
            f"under PyTorch in one process: {describe(args, res['ntokens'])}. Both start from "
            f"the same weights; the losses of the {args.warmup} warm-up steps agree to "
            f"{res['loss_diff']:.1e} relative. Medians of {args.repeats} steps, the two "
            "frameworks alternating step by step." + note,
            f"Command: `{command}`",
            f"Machine: {machine_line}",
            "\n".join(rows),
            f"tinygrad_seq / PyTorch tokens/s: **{res['ratio']:.2f}** (medians); "
            f"{res['best_ratio']:.2f} from the fastest steps, which other processes slow least",
        ]
    )


def find_section(text: str) -> str:
    """SECTION and its body (up to the next '## ' heading) in text, or '' if absent."""
    start = text.find(SECTION)
    if start < 0:
        return ""
    end = text.find("\n## ", start + len(SECTION))
    return (text[start:] if end < 0 else text[start:end]).rstrip("\n") + "\n"


def replace_section(text: str, section: str) -> str:
    """text with its SECTION replaced by section, or with section appended."""
    section = section.rstrip("\n") + "\n"
    old = find_section(text)
    if not old:
        return text.rstrip("\n") + "\n\n" + section
    start = text.index(old.rstrip("\n"))
    rest = text[start + len(old.rstrip("\n")) :].lstrip("\n")
    return text[:start] + section + ("\n" + rest if rest else "")


def parse_args(argv: list) -> argparse.Namespace:
    """The command line; see `python -m benchmarks.word_lm --help`."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.word_lm", description=__doc__)
    ap.add_argument("--model", default="LSTM", help="LSTM, GRU, RNN_TANH or RNN_RELU")
    ap.add_argument("--nlayers", type=int, default=2)
    ap.add_argument("--emsize", type=int, default=128)
    ap.add_argument("--nhid", type=int, default=128)
    ap.add_argument("--untied", dest="tied", action="store_false", help="separate decoder")
    ap.add_argument("--vocab", type=int, default=1000, help="synthetic vocabulary size")
    ap.add_argument("--sentences", type=int, default=20000, help="synthetic corpus size")
    ap.add_argument("--bptt", type=int, default=35)
    ap.add_argument("--batch-size", dest="batch_size", type=int, default=20)
    ap.add_argument("--dropout", type=float, default=0.0, help="0 keeps the agreement check")
    ap.add_argument("--lr", type=float, default=20.0)
    ap.add_argument("--clip", type=float, default=0.25)
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps, losses compared")
    ap.add_argument("--repeats", type=int, default=10, help="timed steps per framework")
    ap.add_argument("--seed", type=int, default=1111)
    ap.add_argument("--threads", type=int, default=2, help="threads for both libraries")
    ap.add_argument("--write-results", action="store_true", help="update RESULTS.md's section")
    ap.add_argument("--results-path", default=os.path.join(os.path.dirname(__file__), "RESULTS.md"))
    args = ap.parse_args(argv)
    if args.warmup < 1 or args.repeats < 1:
        ap.error("--warmup and --repeats must be at least 1")
    return args


def main(argv: list | None = None) -> dict:
    """Measure, print the section, write it into RESULTS.md if asked; -> the measurements."""
    from .harness import machine_info, thread_limits
    from .report import machine_line

    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if importlib.util.find_spec("torch") is None:
        raise SystemExit("benchmarks.word_lm compares with PyTorch: pip install torch==2.13.0")
    with thread_limits(args.threads, torch_used=True):
        machine = machine_info(args.threads, torch_used=True)
        res = measure(args)
        machine["load_end"] = "/".join(f"{v:.2f}" for v in os.getloadavg())
    note = shared_note(machine["load"], os.cpu_count())
    section = render(args, argv, res, machine_line(machine), note)
    print(section, flush=True)
    if args.write_results:
        path = Path(args.results_path)
        old = path.read_text() if path.exists() else "# Benchmark results\n"
        path.write_text(replace_section(old, section))
        print(f"wrote {path}")
    return res


if __name__ == "__main__":
    from .threads import pin_threads

    pin_threads(sys.argv[1:])  # before numpy is imported
    main()
