"""Adagrad; the update runs in the backend."""

import numpy as np

from .optimizer import Optimizer, _noted, check_hyper, note_step, refuse_flags


def _full_like(p, value):
    """p-shaped tensor of `value` as PyTorch's full_like rounds it (a float16 fill goes through
    float32)."""
    v = np.float32(value) if p.dtype.np != np.float64 else np.float64(value)
    return p._be.from_numpy(np.full(p.shape, v, dtype=p.dtype.np), False)


class Adagrad(Optimizer):
    """PyTorch's `torch.optim.Adagrad` (single-tensor form, dense gradients), with its defaults
    and validation.

    Per parameter, at step t (t = 1, 2, ...), with g its gradient (negated when `maximize`):

        g = g + weight_decay * p                        (if weight_decay != 0)
        clr = lr / (1 + (t - 1) * lr_decay)             (Python floats)
        sum = sum + g * g
        p = p - clr * g / (sqrt(sum) + eps)

    As in PyTorch, the state (step and sum, filled with initial_accumulator_value) is made
    when the optimizer is; each tensor line rounds as PyTorch's CPU kernels do, and the whole
    update is one backend call (`adagrad_update`).
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        fused=None,
    ):
        check_hyper("Adagrad", lr, [
            ("learning rate", lr, None),
            ("lr_decay value", lr_decay, None),
            ("weight_decay value", weight_decay, None),
            ("initial_accumulator_value value", initial_accumulator_value, None),
            ("epsilon value", eps, None),
        ])  # fmt: skip
        refuse_flags("Adagrad", [(differentiable, "differentiable"), (fused, "fused")])
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        st = self.state[p]
        st["step"] = p._be.from_numpy(np.zeros((), np.float32), False)
        st["sum"] = _full_like(p, group["initial_accumulator_value"])
        return st

    _STRUCTURAL = ("maximize",)

    def _hyper_values(self, group):
        return (float(group["lr"]), float(group["lr_decay"]), float(group["weight_decay"]),
                float(group["eps"]), 0.0)  # fmt: skip

    def step(self, closure=None):
        """Perform one Adagrad step on every parameter that has a gradient; return the closure's
        loss (or None).

        Per parameter the state holds `step` (a float32 0-d tensor) and `sum`, the accumulated
        squared gradients (starting at `initial_accumulator_value`). Sparse gradients are not
        supported."""
        loss = self._closure_loss(closure)
        capturing = _noted[0] is not None  # (tg.compile; eager steps skip the cells)
        if capturing:
            note_step(self)
        state = self.state
        for group in self.param_groups:
            values = self._hyper_values(group)
            lr, lr_decay, weight_decay, eps, _ = values
            maximize = bool(group["maximize"])
            cell = self._hyper(group, values) if capturing else None
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                # (a group added later has no state yet; PyTorch would raise a KeyError)
                st = state[p] if p in state else self._init_state(p, group)
                p._be.adagrad_update(
                    p, g, st["sum"], st["step"], lr, lr_decay, weight_decay, eps, maximize, cell
                )
        return loss
