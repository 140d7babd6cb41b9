"""tinygrad_seq.optim: optimizers that update parameters in place from their .grad.

The training loop has PyTorch's shape::

    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for x, y in batches:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()           # theta <- update(theta, theta.grad, state), no graph recorded
    sched.step()             # once per epoch

Every optimizer follows PyTorch's update rule exactly (each module's docstring gives the
equations): SGD (momentum, dampening, Nesterov), Adam / AdamW (bias correction, AMSGrad),
Adagrad (lr_decay) and RMSprop (centered, momentum); LBFGS re-evaluates the loss through
`step(closure)`, optionally with a strong-Wolfe line search (one group, no `maximize`). The
others accept per-group options and `maximize`; all save and restore their state with
state_dict() / load_state_dict().
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["LBFGS", "SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
