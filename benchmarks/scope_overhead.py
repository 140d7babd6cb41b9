"""`python -m benchmarks.scope_overhead`: the Transformer step with and without its scopes.

The encoder and decoder stacks record their layers under the scope "layers" and each layer's
feed-forward block under "ffn", so that drawings cluster by layer. This times the tinygrad_seq
training step of the Transformer configuration with those scopes on and with them replaced by
no-ops, interleaved, and prints the medians and minima. Run it with OPENBLAS_NUM_THREADS=1 on a
busy machine.
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import sys
import time
import types

from . import transformer
from .transformer_ref import TRANSFORMER, TRANSFORMER_QUICK, TConfig


def measure(cfg: TConfig = TRANSFORMER, rounds: int = 30) -> dict[str, list[float]]:
    """{'with scopes' / 'without': seconds of each step}, the two alternating each round."""
    import tinygrad_seq.nn.transformer as layers
    from tinygrad_seq import autograd

    step = transformer.build("tinygrad_seq", cfg)
    step.step()
    no_scopes = types.SimpleNamespace(**vars(autograd))
    no_scopes.scope = lambda name: contextlib.nullcontext()
    times: dict[str, list[float]] = {"with scopes": [], "without": []}
    try:
        for r in range(rounds):
            for label in ("with scopes", "without")[:: 1 if r % 2 else -1]:
                layers.autograd = autograd if label == "with scopes" else no_scopes
                gc.collect()
                t0 = time.perf_counter()
                step.step()
                times[label].append(time.perf_counter() - t0)
    finally:
        layers.autograd = autograd
    return times


def main(argv: list[str]) -> int:
    """Print the medians, minima and their ratios; --quick: a tiny configuration, 2 rounds."""
    quick = "--quick" in argv
    times = measure(TRANSFORMER_QUICK if quick else TRANSFORMER, 2 if quick else 30)
    for label, t in times.items():
        print(f"{label}: median {statistics.median(t) * 1e3:.2f} ms, min {min(t) * 1e3:.2f} ms")
    on, off = times["with scopes"], times["without"]
    print(
        f"with / without: median {statistics.median(on) / statistics.median(off):.3f}, "
        f"min {min(on) / min(off):.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
