"""Adam; the update runs in the backend."""

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _noted, _zeros_like, check_hyper, note_step, refuse_flags


class Adam(Optimizer):
    """PyTorch's `torch.optim.Adam` (single-tensor form), with its defaults and validation.

    Per parameter, at step t (t = 1, 2, ...), with g its gradient (negated when `maximize`):

        p = p * (1 - lr * weight_decay)                 (decoupled_weight_decay, AdamW)
        g = g + weight_decay * p                        (otherwise, if weight_decay != 0)
        m = lerp(m, g, 1 - beta1)
        v = beta2 * v + (1 - beta2) * g * g
        vmax = maximum(vmax, v)                         (amsgrad; then used in place of v)
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
        decoupled_weight_decay=False,
    ):
        name = type(self).__name__
        if not isinstance(betas, (tuple, list, np.ndarray)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair of floats, got {betas!r}")
        check_hyper(name, lr, [
            ("learning rate", lr, None),
            ("epsilon value", eps, None),
            ("beta parameter at index 0", betas[0], 1.0),
            ("beta parameter at index 1", betas[1], 1.0),
            ("weight_decay value", weight_decay, None),
        ])  # fmt: skip
        if not all(isinstance(b, float) for b in betas):
            if all(isinstance(b, Tensor) for b in betas):
                raise NotImplementedError(f"{name} with Tensor betas is not supported by tapegrad")
            raise ValueError("betas must be either both floats or both Tensors")
        refuse_flags(name, [(capturable, "capturable"), (differentiable, "differentiable"),
                            (fused, "fused")])  # fmt: skip
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    _STRUCTURAL = ("maximize", "amsgrad", "decoupled_weight_decay")

    def _hyper_values(self, group):
        beta1, beta2 = (float(b) for b in group["betas"])
        return (float(group["lr"]), beta1, beta2, float(group["eps"]),
                float(group["weight_decay"]))  # fmt: skip

    def step(self, closure=None):
        """Perform one Adam step on every parameter that has a gradient; return the closure's loss
        (or None).

        Per parameter the state holds `step` (a float32 0-d tensor), `exp_avg` and `exp_avg_sq`
        (and `max_exp_avg_sq` with `amsgrad`), created at its first step."""
        loss = self._closure_loss(closure)
        capturing = _noted[0] is not None  # (tg.compile; eager steps skip the cells)
        if capturing:
            note_step(self)
        state = self.state
        for group in self.param_groups:
            values = self._hyper_values(group)
            lr, beta1, beta2, eps, weight_decay = values
            maximize = bool(group["maximize"])
            amsgrad = bool(group["amsgrad"])
            decoupled = bool(group.get("decoupled_weight_decay", False))
            cell = self._hyper(group, values) if capturing else None
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
                vmax = None
                if amsgrad:
                    vmax = st.get("max_exp_avg_sq")
                    if vmax is None:
                        vmax = st["max_exp_avg_sq"] = _zeros_like(p)
                p._be.adam_update(
                    p, g, st["exp_avg"], st["exp_avg_sq"], vmax, st["step"], lr, beta1, beta2,
                    eps, weight_decay, maximize, decoupled, cell,
                )  # fmt: skip
        return loss
