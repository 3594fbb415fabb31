"""RMSprop; the update runs in the backend."""

import numpy as np

from .optimizer import Optimizer, _noted, _zeros_like, check_hyper, note_step, refuse_flags


class RMSprop(Optimizer):
    """PyTorch's `torch.optim.RMSprop` (single-tensor form), with its defaults and validation.

    Per parameter, with g its gradient (negated when `maximize`):

        g = g + weight_decay * p                        (if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g * g
        gm = lerp(gm, g, 1 - alpha)                     (centered)
        avg = sqrt(v - gm * gm) + eps   (centered)   or   sqrt(v) + eps
        buf = momentum * buf + g / avg; p = p - lr * buf   (momentum > 0)
        p = p - lr * g / avg                            (otherwise)

    Each tensor line rounds as PyTorch's CPU kernels do (docs/backends.md, "Optimizer
    kernels"); the whole update is one backend call (`rmsprop_update`).
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        check_hyper("RMSprop", lr, [
            ("learning rate", lr, None),
            ("epsilon value", eps, None),
            ("momentum value", momentum, None),
            ("weight_decay value", weight_decay, None),
            ("alpha value", alpha, None),
        ])  # fmt: skip
        refuse_flags("RMSprop", [(capturable, "capturable"), (differentiable, "differentiable")])
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            capturable=capturable,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    # momentum > 0 keeps a buffer and centered a gradient average: either changes the kernels
    _STRUCTURAL = ("maximize", "centered", "momentum")

    def _hyper_values(self, group):
        return (float(group["lr"]), float(group["alpha"]), float(group["eps"]),
                float(group["weight_decay"]), float(group["momentum"]))  # fmt: skip

    def step(self, closure=None):
        """Perform one RMSprop step on every parameter that has a gradient; return the closure's
        loss (or None).

        Per parameter the state holds `step` (a float32 0-d tensor) and `square_avg`, plus
        `momentum_buffer` with momentum and `grad_avg` when `centered`."""
        loss = self._closure_loss(closure)
        capturing = _noted[0] is not None  # (tg.compile; eager steps skip the cells)
        if capturing:
            note_step(self)
        state = self.state
        for group in self.param_groups:
            values = self._hyper_values(group)
            lr, alpha, eps, weight_decay, momentum = values
            centered = bool(group["centered"])
            maximize = bool(group["maximize"])
            cell = self._hyper(group, values) if capturing else None
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                st = state[p]
                if not st:  # PyTorch's state and its order
                    st["step"] = p._be.from_numpy(np.zeros((), np.float32), False)
                    st["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        st["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        st["grad_avg"] = _zeros_like(p)
                buf = gavg = None
                if momentum > 0:
                    buf = st.get("momentum_buffer")
                    if buf is None:
                        buf = st["momentum_buffer"] = _zeros_like(p)
                if centered:
                    gavg = st.get("grad_avg")
                    if gavg is None:
                        gavg = st["grad_avg"] = _zeros_like(p)
                p._be.rmsprop_update(
                    p, g, st["square_avg"], gavg, buf, st["step"], lr, alpha, eps, weight_decay,
                    momentum, maximize, cell,
                )  # fmt: skip
        return loss
