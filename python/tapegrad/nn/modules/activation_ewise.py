"""The activation modules of the ewise slice, with PyTorch's arguments and reprs."""

from .. import functional as F
from .module import Module


def _inplace(inplace):
    return ", inplace=True" if inplace else ""


class LeakyReLU(Module):
    """Apply `max(0, x) + negative_slope * min(0, x)` elementwise.

    Args: `negative_slope` (default 0.01); `inplace` to overwrite the input."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        """Apply `F.leaky_relu` with this module's `negative_slope` (in place if `inplace`)."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        """Return `negative_slope=...`, plus `, inplace=True` when in place."""
        return f"negative_slope={self.negative_slope}{_inplace(self.inplace)}"


class ELU(Module):
    """Apply the exponential linear unit elementwise: `x` for `x > 0`, else
    `alpha * (exp(x) - 1)`.

    Args: `alpha` (default 1.0); `inplace` to overwrite the input."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        """Apply `F.elu` with this module's `alpha` (in place if `inplace`)."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        """Return `alpha=...`, plus `, inplace=True` when in place."""
        return f"alpha={self.alpha}{_inplace(self.inplace)}"


class GELU(Module):
    """Apply the Gaussian error linear unit elementwise: `x * Phi(x)`, Phi the standard normal
    CDF.

    Args: `approximate`, "none" (the exact erf form, default) or "tanh" (the tanh
    approximation)."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        """Apply `F.gelu` with this module's `approximate` ("none" or "tanh")."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        """Return `approximate='none'` or `approximate='tanh'`."""
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """Apply the sigmoid linear unit (swish) elementwise: `x * sigmoid(x)`.

    Args: `inplace` to overwrite the input."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """Apply `F.silu`, `x * sigmoid(x)` (in place if `inplace`)."""
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self):
        """Return `inplace=True` when in place, else an empty string."""
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """Apply `log(1 + exp(beta * x)) / beta` elementwise; where `beta * x > threshold` the
    result is `x` itself, for numerical stability.

    Args: `beta` (default 1.0), `threshold` (default 20.0)."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        """Apply `F.softplus` with this module's `beta` and `threshold`."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        """Return `beta=..., threshold=...`."""
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """Clamp each element to `[min_val, max_val]` (default `[-1, 1]`).

    Args: `min_val`, `max_val` (`max_val` must exceed `min_val`); `inplace` to overwrite the
    input."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        assert self.max_val > self.min_val

    def forward(self, input):
        """Apply `F.hardtanh`: clamp to `[min_val, max_val]` (in place if `inplace`)."""
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        """Return `min_val=..., max_val=...`, plus `, inplace=True` when in place."""
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace(self.inplace)}"


class ReLU6(Hardtanh):
    """Apply `min(max(0, x), 6)` elementwise: a `Hardtanh` with bounds 0 and 6.

    Args: `inplace` to overwrite the input."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        """Return `inplace=True` when in place, else an empty string (the bounds 0, 6 are fixed)."""
        return "inplace=True" if self.inplace else ""
