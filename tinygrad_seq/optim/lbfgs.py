"""L-BFGS: a quasi-Newton method that re-evaluates the loss through a closure.

All parameters are seen as one flat vector x with gradient g. Each iteration of `step(closure)`
picks a direction d ~ -H g, where H approximates the inverse Hessian from the last m pairs
s_k = x_{k+1} - x_k, y_k = g_{k+1} - g_k (those with y_k . s_k > 1e-10), by the two-loop
recursion::

    q <- -g
    for k = newest .. oldest:  a_k <- rho_k s_k . q;  q <- q - a_k y_k      (rho_k = 1 / y_k.s_k)
    r <- gamma q,  gamma = y.s / y.y of the newest pair     (the initial H, a scaled identity)
    for k = oldest .. newest:  b <- rho_k y_k . r;    r <- r + (a_k - b) s_k
    d <- r

and then moves x <- x + t d: with t = lr (the very first step t = min(1, 1 / |g|_1) lr), or,
with line_search_fn="strong_wolfe", a t that satisfies the strong Wolfe conditions
f(x + t d) <= f(x) + c1 t g.d and |g(x + t d).d| <= c2 |g.d|, found by bracketing and cubic
interpolation (Nocedal & Wright, algorithms 3.5 and 3.6). One step() runs up to max_iter such
iterations and max_eval closure calls, stopping early when max |g| <= tolerance_grad or the
step or loss change falls below tolerance_change. This follows PyTorch's LBFGS (itself after
minFunc) branch for branch, so both give the same trajectory; the history is kept in
`state` between calls of step(), as there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd
from ..autograd import enable_grad, no_grad
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_range

ObjFunc = Callable[[list[np.ndarray], float, np.ndarray], tuple[float, np.ndarray]]


def _cubic_interpolate(
    x1: float, f1: float, g1: float, x2: float, f2: float, g2: float, bounds: Any = None
) -> float:
    """The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to bounds."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if not d2_square >= 0:  # no real minimiser (or NaN): bisect
        return (lo + hi) / 2.0
    d2 = float(np.sqrt(d2_square))
    if x1 <= x2:
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(min_pos, lo), hi)


def _strong_wolfe(
    obj_func: ObjFunc,
    x: list[np.ndarray],
    t: float,
    d: np.ndarray,
    f: float,
    g: np.ndarray,
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, np.ndarray, float, int]:
    """Line search along d from x: -> (loss, flat gradient, step t, closure calls)."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    evals = 1
    gtd_new = float(g_new.dot(d))
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    # 1. bracketing: grow t until [t_prev, t] holds a point with the strong Wolfe conditions
    while ls_iter < max_ls:
        wolfe = abs(gtd_new) <= -c2 * gtd
        # sufficient decrease fails, or (Wolfe not met) the slope turned: a bracket is found
        if (
            f_new > f + c1 * t * gtd
            or (ls_iter > 1 and f_new >= f_prev)
            or (not wolfe and gtd_new >= 0)
        ):
            bracket, bf, bg, bgtd = (
                [t_prev, t],
                [f_prev, f_new],
                [g_prev, g_new],
                [gtd_prev, gtd_new],
            )
            break
        if wolfe:
            bracket, bf, bg, bgtd = [t], [f_new], [g_new], [gtd_new]
            done = True
            break
        # extrapolate, between 1.01 t and 10 t
        t_next = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10)
        )
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:  # reached the limit without a bracket
        bracket, bf, bg, bgtd = [0.0, t], [f, f_new], [g, g_new], [gtd, gtd_new]
    # 2. zoom: shrink the bracket by cubic interpolation until the conditions hold
    insuf_progress = False
    low, high = (0, 1) if bf[0] <= bf[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bf[0], bgtd[0], bracket[1], bf[1], bgtd[1])
        t, insuf_progress = _safeguard(t, bracket, insuf_progress)
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bf[low]:
            bracket[high], bf[high], bg[high], bgtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if bf[0] <= bf[1] else (1, 0)
            continue
        if abs(gtd_new) <= -c2 * gtd:
            done = True
        elif gtd_new * (bracket[high] - bracket[low]) >= 0:
            bracket[high], bf[high], bg[high], bgtd[high] = (
                bracket[low],
                bf[low],
                bg[low],
                bgtd[low],
            )
        bracket[low], bf[low], bg[low], bgtd[low] = t, f_new, g_new, gtd_new
    return bf[low], bg[low], bracket[low], evals


def _safeguard(t: float, bracket: list[float], insuf_progress: bool) -> tuple[float, bool]:
    """Keep t at least a tenth of the bracket away from its ends when progress is too slow."""
    top, bottom = max(bracket), min(bracket)
    eps = 0.1 * (top - bottom)
    if min(top - t, t - bottom) >= eps:
        return t, False
    if not (insuf_progress or t >= top or t <= bottom):
        return t, True
    return (top - eps if abs(t - top) < abs(t - bottom) else bottom + eps), False


class LBFGS(Optimizer):
    """L-BFGS with an optional strong-Wolfe line search; step(closure) runs up to max_iter."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params: list[Tensor] = self.param_groups[0]["params"]

    def _check_group(self, group: dict[str, Any]) -> None:
        """lr >= 0; line_search_fn None or "strong_wolfe" (RuntimeError, PyTorch's type)."""
        check_range("lr", group["lr"])
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            # PyTorch raises this RuntimeError at the first step(); we raise it up front
            raise RuntimeError(
                "only 'strong_wolfe' is supported as line_search_fn, got "
                f"{group['line_search_fn']!r}"
            )

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Only the constructor's one group: LBFGS keeps all parameters as one vector."""
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ------------------------------------------------------------------ the flat vector

    def _gather_flat_grad(self) -> np.ndarray:
        """All gradients as one new vector (zeros for a parameter without .grad)."""
        parts = []
        for i, p in enumerate(self._params):
            if p.grad is None:
                parts.append(np.zeros(p._data.size, dtype=p._data.dtype))
            else:
                parts.append(self._grad_array(p, f"parameter {i}").reshape(-1))
        return np.concatenate(parts)

    def _add_grad(self, step_size: float, update: np.ndarray) -> None:
        """x <- x + step_size * update, in place, each parameter's version bumped."""
        offset = 0
        for p in self._params:
            n = p._data.size
            if not p._data.flags.writeable:
                p._data = p._data.copy()
            p._data += step_size * update[offset : offset + n].reshape(p._data.shape)
            autograd.bump_version(p._data)
            offset += n

    def _set_param(self, values: list[np.ndarray]) -> None:
        for p, v in zip(self._params, values, strict=True):
            p._data[...] = v
            autograd.bump_version(p._data)

    def _evaluate(self, closure: Callable[[], Any]) -> tuple[Any, float, np.ndarray]:
        """Run the closure with grad enabled: -> (its loss, as a float, the flat gradient)."""
        with enable_grad():
            loss = closure()
        return loss, float(loss), self._gather_flat_grad()

    def _directional_evaluate(
        self, closure: Callable[[], Any], x: list[np.ndarray], t: float, d: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Loss and gradient at x + t d; the parameters are put back to x afterwards."""
        self._add_grad(t, d)
        _, loss, flat_grad = self._evaluate(closure)
        self._set_param(x)
        return loss, flat_grad

    # ------------------------------------------------------------------ the step

    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Up to max_iter iterations; closure() zeroes grads, backprops and returns the loss."""
        if closure is None or not callable(closure):
            raise TypeError(
                "LBFGS.step needs a closure that re-evaluates the model and returns the loss, "
                f"got {type(closure).__name__}"
            )
        with no_grad():
            loss = self._run(closure)
        self._opt_called = True
        return loss

    def _run(self, closure: Callable[[], Any]) -> Any:
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss, loss, flat_grad = self._evaluate(closure)
        current_evals = 1
        state["func_evals"] += 1
        if np.abs(flat_grad).max() <= tol_grad:
            return orig_loss  # already optimal
        d, t = state.get("d"), state.get("t")
        prev_flat_grad = state.get("prev_flat_grad")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            d = self._direction(state, flat_grad, prev_flat_grad, d, t, group["history_size"])
            prev_flat_grad = flat_grad.copy()
            state["prev_flat_grad"] = prev_flat_grad
            prev_loss = state["prev_loss"] = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(flat_grad.dot(d))
            if gtd > -tol_change:
                break  # not a descent direction (to within tolerance)
            if group["line_search_fn"] is not None:
                x_init = [p._data.copy() for p in self._params]

                def obj_func(x: list[np.ndarray], t: float, d: np.ndarray) -> Any:
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
            else:
                self._add_grad(t, d)
                evals = 0
                if n_iter != max_iter:  # the last iteration's loss is left to the next step()
                    _, loss, flat_grad = self._evaluate(closure)
                    evals = 1
            opt_cond = np.abs(flat_grad).max() <= tol_grad
            current_evals += evals
            state["func_evals"] += evals
            if (
                n_iter == max_iter
                or current_evals >= max_eval
                or opt_cond
                or np.abs(d * t).max() <= tol_change
                or abs(loss - prev_loss) < tol_change
            ):
                break
        state["d"], state["t"] = d, t
        return orig_loss

    def _direction(
        self,
        state: dict,
        flat_grad: np.ndarray,
        prev_flat_grad: np.ndarray | None,
        d: np.ndarray | None,
        t: float | None,
        history_size: int,
    ) -> np.ndarray:
        """-g on the first iteration, else the two-loop recursion after storing the new pair."""
        if state["n_iter"] == 1:
            state["old_dirs"], state["old_stps"], state["ro"] = [], [], []
            state["H_diag"] = 1.0
            return -flat_grad
        old_dirs, old_stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        y = flat_grad - prev_flat_grad
        s = d * t
        ys = float(y.dot(s))
        if ys > 1e-10:  # keep only pairs with positive curvature
            if len(old_dirs) == history_size:
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            state["H_diag"] = ys / float(y.dot(y))
        al = state.setdefault("al", [None] * history_size)
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = float(old_stps[i].dot(q)) * ro[i]
            q -= al[i] * old_dirs[i]
        r = q * state["H_diag"]
        for i in range(len(old_dirs)):
            be_i = float(old_dirs[i].dot(r)) * ro[i]
            r += (al[i] - be_i) * old_stps[i]
        return r

    # ------------------------------------------------------------------ checkpoints

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state_dict() output (also PyTorch's: tensors become numpy arrays)."""
        name = "LBFGS.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{name}: expected a dict with keys 'state' and 'param_groups'")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != 1:
            raise ValueError(f"{name}: expected 1 parameter group, got {len(saved_groups)}")
        group = self._load_group(self.param_groups[0], saved_groups[0], f"{name}: group 0")
        by_index = dict(zip(saved_groups[0]["params"], group["params"]))
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, entry in state_dict["state"].items():
            if key not in by_index or not isinstance(entry, dict):
                raise ValueError(f"{name}: unexpected state entry {key!r}")
            new_state[by_index[key]] = {k: _to_numpy(v) for k, v in entry.items()}
        self.param_groups = [group]
        self._params = group["params"]
        self.state.clear()
        self.state.update(new_state)


def _to_numpy(value: Any) -> Any:
    """A saved state value with tensors (also in lists) as numpy arrays or floats, copied."""
    if isinstance(value, list):
        return [_to_numpy(v) for v in value]
    if value is None or isinstance(value, (int, float)):
        return value
    arr = np.asarray(value).copy()
    return float(arr) if arr.ndim == 0 else arr
