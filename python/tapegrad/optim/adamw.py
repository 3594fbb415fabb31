"""AdamW: Adam with decoupled weight decay (PyTorch's subclass, the same update kernel)."""

from .adam import Adam


class AdamW(Adam):
    """PyTorch's `torch.optim.AdamW`: `Adam(..., decoupled_weight_decay=True)` with a default
    weight_decay of 1e-2. Before the Adam update, each parameter is scaled by
    `1 - lr * weight_decay` (one multiplication, rounded where PyTorch rounds `param.mul_`)."""

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        foreach=None,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
            capturable=capturable, differentiable=differentiable, fused=fused,
            decoupled_weight_decay=True,
        )  # fmt: skip

    def load_state_dict(self, state_dict):
        """Load a state from `state_dict()` as `Optimizer.load_state_dict` does; the weight decay
        stays decoupled whatever the loaded groups say, as PyTorch's AdamW."""
        # as PyTorch's __setstate__: whatever was saved, AdamW's weight decay stays decoupled
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
