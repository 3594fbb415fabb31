"""Adam; the update runs in the backend."""

import numpy as np

from .optimizer import Optimizer, _noted, _zeros_like, note_step


class Adam(Optimizer):
    """PyTorch's `torch.optim.Adam` (single-tensor form, amsgrad=False), with its defaults and
    validation.

    Per parameter, at step t (t = 1, 2, ...), with g its gradient (negated when `maximize`):

        g = g + weight_decay * p                        (if weight_decay != 0)
        m = lerp(m, g, 1 - beta1)
        v = beta2 * v + (1 - beta2) * g * g
        step_size = lr / (1 - beta1**t)                 (Python floats)
        denom = sqrt(v) / sqrt(1 - beta2**t) + eps
        p = p - step_size * m / denom

    Each tensor line rounds as PyTorch's CPU kernels do (docs/backends.md, "Optimizer
    kernels"); the whole update is one backend call (`adam_update`).
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        if not isinstance(betas, (tuple, list, np.ndarray)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair of floats, got {betas!r}")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if amsgrad:
            raise NotImplementedError("Adam(amsgrad=True) is not supported by tapegrad yet")
        for flag, name in ((capturable, "capturable"), (differentiable, "differentiable")):
            if flag:
                raise NotImplementedError(f"Adam({name}=True) is not supported by tapegrad")
        if fused:
            raise NotImplementedError("Adam(fused=True) is not supported by tapegrad")
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)

    _STRUCTURAL = ("maximize",)

    def _hyper_values(self, group):
        beta1, beta2 = (float(b) for b in group["betas"])
        return (float(group["lr"]), beta1, beta2, float(group["eps"]),
                float(group["weight_decay"]))  # fmt: skip

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        capturing = _noted[0] is not None  # (tg.compile; eager steps skip the cells)
        if capturing:
            note_step(self)
        state = self.state
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            maximize = bool(group["maximize"])
            cell = self._hyper(group, self._hyper_values(group)) if capturing else None
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                st = state[p]
                if not st:
                    # The step count is a float32 0-d tensor, as in PyTorch; the backend
                    # increments it, so a captured step (tg.compile) counts on its own.
                    st["step"] = p._be.from_numpy(np.zeros((), np.float32), False)
                    st["exp_avg"] = _zeros_like(p)
                    st["exp_avg_sq"] = _zeros_like(p)
                p._be.adam_update(
                    p, g, st["exp_avg"], st["exp_avg_sq"], st["step"], lr, beta1, beta2, eps,
                    weight_decay, maximize, cell,
                )  # fmt: skip
        return loss
