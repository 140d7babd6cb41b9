"""Pin every BLAS / OpenMP pool to one thread count: call before numpy is first imported.

Used by `python -m benchmarks` and `python -m benchmarks.word_lm`; imports nothing but os.
"""

import os

THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def threads_from_argv(argv: list) -> str:
    """The value of --threads in argv (default 2), read before argparse and numpy load."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "2"


def pin_threads(argv: list) -> str:
    """Set the pools' thread variables from argv's --threads and bound idle spinning; -> n."""
    # The pools read these once, when their library loads: set them before numpy is imported.
    n = threads_from_argv(argv)
    for var in THREAD_VARS:
        os.environ[var] = n
    # Idle pool threads spin before they sleep: OpenBLAS's for 2^28 cycles (~0.1 s), libgomp's
    # (torch) for 300,000 pauses (~10 ms here). On 2 cores a spinning thread of the library that
    # just ran takes a core from the next competitor (matmul_floor at A 0.7 -> 3.3 ms, torch
    # after numpy 2.5x slower). Bound both spins to well under a millisecond instead; making
    # torch's threads sleep at once (OMP_WAIT_POLICY=PASSIVE) slows its own many small ops 2.5x.
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")  # 2^20 cycles
    os.environ.setdefault("GOMP_SPINCOUNT", "20000")
    return n
