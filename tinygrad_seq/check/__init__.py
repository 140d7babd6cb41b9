"""tinygrad_seq.check: is a gradient right? The correctness tools, side by side.

- `gradcheck`: the engine's Jacobian (from backward) against central finite differences, as
  torch.autograd.gradcheck; `fast_mode` compares random directions instead.
- `compare_gradients`: one RNN/GRU/LSTM's gradients three ways, per parameter and per time
  step: autodiff, the hand-derived backward of `manual/` (the course's notation) and finite
  differences.
- `finite_diff`: the one numerical derivative both use.
"""

from .compare import GradientReport, compare_gradients
from .gradcheck import GradcheckError, gradcheck

__all__ = ["GradcheckError", "GradientReport", "compare_gradients", "gradcheck"]
