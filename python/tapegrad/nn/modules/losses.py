"""BCELoss, BCEWithLogitsLoss, SmoothL1Loss and HuberLoss: PyTorch's modules over
nn.functional (weights as buffers, as PyTorch registers them)."""

from .. import functional as F
from .layers import _Loss


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities."""

    def forward(self, input, target):
        """Return `-(target * log(input) + (1 - target) * log(1 - input))`, times `weight` if given,
        reduced by `reduction`.

        `input` holds probabilities in [0, 1] and `target` has its shape; the logs are clamped at
        -100, as PyTorch's."""
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits (a sigmoid built in), with pos_weight."""

    def __init__(
        self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
    ):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        """Return the binary cross entropy of `sigmoid(input)` and `target`, computed stably from
        the logits, with `pos_weight` scaling the positive term and `weight` each element,
        reduced by `reduction`."""
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )


class SmoothL1Loss(_Loss):
    """Smooth L1 loss: with `d = input - target`, `0.5 * d**2 / beta` where `|d| < beta`, else
    `|d| - 0.5 * beta`; reduced by `reduction` ("mean", "sum" or "none").

    Args: `reduction="mean"`, `beta=1.0` (`beta=0` gives the L1 loss); `size_average` and
    `reduce` are PyTorch's deprecated spellings of `reduction`."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        """Return `0.5 * d**2 / beta` where `|d| < beta`, else `|d| - 0.5 * beta` (d = input -
        target), reduced by `reduction`."""
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss: with `d = input - target`, `0.5 * d**2` where `|d| < delta`, else
    `delta * (|d| - 0.5 * delta)`; reduced by `reduction` ("mean", "sum" or "none").

    Args: `reduction="mean"`, `delta=1.0`. Equals `delta * SmoothL1Loss(beta=delta)`."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        """Return `0.5 * d**2` where `|d| < delta`, else `delta * (|d| - 0.5 * delta)` (d = input -
        target), reduced by `reduction`."""
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)
