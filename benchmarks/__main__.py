"""`python -m benchmarks`: pin every BLAS / OpenMP pool to --threads, then run the harness."""

import os
import sys

_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def _threads_from_argv(argv: list) -> str:
    """The value of --threads in argv (default 2), read before argparse and numpy load."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "2"


if __name__ == "__main__":
    # The pools read these once, when their library loads: set them before numpy is imported.
    _n = _threads_from_argv(sys.argv[1:])
    for _var in _THREAD_VARS:
        os.environ[_var] = _n
    # torch's OpenMP threads otherwise spin between ops; on 2 shared cores a spinning thread
    # takes the core that another pool (or a descheduled partner) needs: 100x slower steps.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    from .harness import main

    sys.exit(main(sys.argv[1:]))
