"""Write docs/api.md: every public name of tinygrad_seq with its signature and one-line docstring.

Run `python scripts/gen_api_docs.py` after changing the public API; tests/test_docs.py fails when
docs/api.md is out of date, so the reference cannot drift from the code.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

MODULES = [
    ("tinygrad_seq", "Tensors, factories, grad mode, gradcheck, checkpoints, sampling"),
    ("tinygrad_seq.nn", "Modules, layers, losses, recurrent cells and layers"),
    ("tinygrad_seq.nn.functional", "Functional forms (`F`)"),
    ("tinygrad_seq.nn.init", "Initialisation"),
    ("tinygrad_seq.nn.utils", "Gradient clipping and state helpers"),
    ("tinygrad_seq.nn.utils.rnn", "Padding and packing sequences (torch.nn.utils.rnn)"),
    ("tinygrad_seq.optim", "Optimizers"),
    ("tinygrad_seq.optim.lr_scheduler", "Learning-rate schedulers"),
    ("tinygrad_seq.data", "Vocabularies, corpora, batching"),
    ("tinygrad_seq.utils.data", "Datasets, samplers, DataLoader (torch.utils.data)"),
    ("tinygrad_seq.check", "Correctness tools: gradcheck, compare_gradients, finite differences"),
    ("tinygrad_seq.check.finite_diff", "Central finite differences"),
    ("tinygrad_seq.manual", "Hand-derived numpy reference (course notation)"),
    ("tinygrad_seq.manual.convert", "nn <-> course parameter conversion"),
    ("tinygrad_seq.viz", "Graph drawings and plots"),
    ("tinygrad_seq.io", "Checkpoints"),
    ("tinygrad_seq.kernels", "Numpy/BLAS helpers, the large-array cache and malloc tuning"),
    ("tinygrad_seq.tasks", "The applications: character language model, training, sampling, demo"),
]


def public_names(mod) -> list[str]:
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in vars(mod) if not n.startswith("_")]
        names = [
            n
            for n in names
            if getattr(getattr(mod, n), "__module__", "").startswith("tinygrad_seq")
        ]
    return sorted(set(names), key=lambda n: (n.lower(), n))


def first_line(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def signature(obj) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""


def describe(modname: str, name: str, obj) -> list[str]:
    if inspect.ismodule(obj):
        return [f"- `{name}` (module): {first_line(obj)}"]
    if inspect.isclass(obj):
        lines = [f"- **`{name}{signature(obj)}`** — {first_line(obj)}"]
        for mname, member in sorted(vars(obj).items()):
            if mname.startswith("_") or not (
                inspect.isfunction(member) or isinstance(member, property)
            ):
                continue
            target = member.fget if isinstance(member, property) else member
            sig = "" if isinstance(member, property) else signature(member)
            lines.append(f"  - `.{mname}{sig}` — {first_line(target)}")
        return lines
    if callable(obj):
        return [f"- `{name}{signature(obj)}` — {first_line(obj)}"]
    return [f"- `{name}` = `{obj!r}`"]


def render() -> str:
    out = [
        "# API reference",
        "",
        "Generated from the code by `python scripts/gen_api_docs.py`; every public name with",
        "its signature and the first line of its docstring (shapes in parentheses).",
        "",
    ]
    for modname, title in MODULES:
        mod = importlib.import_module(modname)
        out += [f"## `{modname}`: {title}", ""]
        for name in public_names(mod):
            out += describe(modname, name, getattr(mod, name))
        out.append("")
    return "\n".join(out).replace("\u2192", "->")


def main(argv: list[str]) -> int:
    path = Path(__file__).resolve().parent.parent / "docs" / "api.md"
    text = render()
    if "--check" in argv:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print("docs/api.md is out of date: run python scripts/gen_api_docs.py")
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
