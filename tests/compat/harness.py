"""Load one compat program under tinygrad_seq or under PyTorch, and compare what the two do.

A compat program (tests/compat/*.py, not named test_*) is a plain PyTorch-style program whose
framework is named by one line, FRAMEWORK_LINE. `load_program(name, "torch")` runs the same
text with that line changed to `import torch`; nothing else differs. A program must not mention
tinygrad_seq anywhere else, so everything it uses is spelled as in PyTorch.

The tests then give both copies the same start (`same_start` copies the PyTorch model's
state_dict into ours, through the public API) and the same data, run them step by step, and
compare losses with `assert_agree`.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from helpers import require_torch

HERE = Path(__file__).resolve().parent
FRAMEWORK_LINE = "import tinygrad_seq as torch"
FRAMEWORKS = ("tinygrad_seq", "torch")


def program_source(name: str, framework: str) -> str:
    """The program's text with its framework line set to `framework` ("tinygrad_seq" | "torch")."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    text = (HERE / f"{name}.py").read_text()
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if line.strip() == FRAMEWORK_LINE]
    if len(hits) != 1:
        raise AssertionError(f"{name}.py must have exactly one line {FRAMEWORK_LINE!r}")
    others = [i + 1 for i, line in enumerate(lines) if "tinygrad_seq" in line and i != hits[0]]
    if others:
        raise AssertionError(f"{name}.py names tinygrad_seq outside its import, lines {others}")
    if framework == "torch":
        require_torch()
        lines[hits[0]] = "import torch"
    return "\n".join(lines) + "\n"


def load_program(name: str, framework: str) -> types.ModuleType:
    """tests/compat/<name>.py run as a module under `framework`; its __name__ is not __main__."""
    source = program_source(name, framework)
    module = types.ModuleType(f"compat_{name}_{framework}")
    module.__file__ = str(HERE / f"{name}.py")
    sys.modules[module.__name__] = module  # dataclasses and pickling-free lookups need it
    try:
        exec(compile(source, module.__file__, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[module.__name__]
        raise
    return module


def load_pair(name: str) -> tuple[types.ModuleType, types.ModuleType]:
    """(the program under tinygrad_seq, the same program under PyTorch)."""
    return load_program(name, "tinygrad_seq"), load_program(name, "torch")


def to_numpy(x: Any) -> np.ndarray:
    """A tensor of either framework (or an array or number) as a numpy array."""
    if hasattr(x, "detach"):
        return np.array(x.detach().cpu().numpy())
    return np.asarray(x)


def same_start(ours_model: Any, theirs_model: Any, ours_framework: Any) -> None:
    """Copy the PyTorch model's state_dict into ours (strict): both start from the same weights."""
    state = {k: ours_framework.tensor(to_numpy(v)) for k, v in theirs_model.state_dict().items()}
    ours_model.load_state_dict(state)
    for key, value in ours_model.state_dict().items():
        np.testing.assert_array_equal(to_numpy(value), state[key].numpy(), err_msg=key)


def assert_agree(
    ours: Sequence[float], theirs: Sequence[float], rtol: float = 1e-6, what: str = "loss"
) -> None:
    """Two runs' values agree step by step (rtol relative), with the same number of steps."""
    ours = [float(x) for x in ours]
    theirs = [float(x) for x in theirs]
    assert len(ours) == len(theirs), f"{len(ours)} {what} values, PyTorch gives {len(theirs)}"
    assert len(ours) > 0, f"no {what} values recorded"
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert np.isfinite(a) and np.isfinite(b), f"{what} at step {step}: {a} vs PyTorch {b}"
        assert abs(a - b) <= rtol * max(abs(b), 1e-12), (
            f"{what} at step {step}: {a!r} vs PyTorch {b!r} (rtol {rtol})"
        )
