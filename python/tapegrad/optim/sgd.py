"""SGD with momentum, dampening, weight decay and Nesterov; the update runs in the backend."""

from .optimizer import Optimizer, _noted, note_step


class SGD(Optimizer):
    """PyTorch's `torch.optim.SGD` (single-tensor form), with its defaults and validation.

    Per parameter, with g its gradient (negated when `maximize`):

        g = g + weight_decay * p                       (if weight_decay != 0)
        buf = g  (first step)  or  buf = momentum * buf + (1 - dampening) * g
        g = g + momentum * buf  (nesterov)  or  g = buf   (if momentum != 0)
        p = p - lr * g

    Each line rounds as PyTorch's CPU kernels do (docs/backends.md, "Optimizer kernels"); the
    whole update is one backend call (`sgd_update`), so on the cpp backend it runs in C++.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        differentiable=False,
        fused=None,
    ):
        if lr is None or lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if differentiable:
            raise NotImplementedError("SGD(differentiable=True) is not supported by tapegrad")
        if fused:
            raise NotImplementedError("SGD(fused=True) is not supported by tapegrad")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    # a momentum of 0 keeps no buffer: turning it on (or off) changes the kernels
    _STRUCTURAL = ("nesterov", "maximize", "momentum")

    def _hyper_values(self, group):
        return (float(group["lr"]), float(group["momentum"]), float(group["dampening"]),
                float(group["weight_decay"]), 0.0)  # fmt: skip

    def step(self, closure=None):
        """Perform one SGD step (with momentum, dampening, nesterov and weight decay as configured)
        on every parameter that has a gradient; return the closure's loss (or None).

        With momentum the buffer is kept in `state[p]["momentum_buffer"]`, created from the first
        gradient as PyTorch's."""
        loss = self._closure_loss(closure)
        capturing = _noted[0] is not None  # (tg.compile; eager steps skip the cells)
        if capturing:
            note_step(self)
        state = self.state
        for group in self.param_groups:
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov = bool(group["nesterov"])
            maximize = bool(group["maximize"])
            cell = self._hyper(group, self._hyper_values(group)) if capturing else None
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if momentum != 0.0:
                    st = state[p]
                    buf = p._be.sgd_update(
                        p, g, st.get("momentum_buffer"), lr, momentum, dampening,
                        weight_decay, nesterov, maximize, cell,
                    )  # fmt: skip
                    st["momentum_buffer"] = buf
                else:
                    p._be.sgd_update(
                        p, g, None, lr, 0.0, dampening, weight_decay, nesterov, maximize, cell
                    )  # fmt: skip
        return loss
