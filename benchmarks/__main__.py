"""`python -m benchmarks`: pin every BLAS / OpenMP pool to --threads, then run the harness."""

import sys

from .threads import pin_threads

if __name__ == "__main__":
    pin_threads(sys.argv[1:])  # before anything imports numpy

    from .harness import main

    sys.exit(main(sys.argv[1:]))
