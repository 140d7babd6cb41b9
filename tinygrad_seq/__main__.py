"""`python -m tinygrad_seq ...` runs the `tinygrad-seq` command."""

import sys

from .cli import main

sys.exit(main())
