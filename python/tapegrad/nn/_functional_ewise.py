"""The activations of torch.nn.functional: leaky_relu, elu, gelu, silu, softplus, hardtanh and
relu6 (PyTorch's hardtanh(0, 6)), with PyTorch's defaults and argument errors.

`inplace=True` writes the result into the input when autograd does not record the input (no
grad, or under no_grad); otherwise the result is returned out of place and the input is left as
it is (PyTorch's in-place nodes are not recorded by tapegrad)."""

from .._grad_mode import is_grad_enabled
from ..tensor import Tensor

_GELU = ("none", "tanh")


def _need_tensor(fn, x):
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}"
        )


def _result(input, fn, inplace):
    """fn(input), or with inplace=True written into input (which is returned, as PyTorch's).
    When the tape records, fn reads a copy: the op may save its input for backward, and the
    write changes it."""
    if not inplace:
        return fn(input)
    src = input.clone() if input.requires_grad and is_grad_enabled() else input
    return input.copy_(fn(src))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """Apply `x if x >= 0 else negative_slope * x` elementwise.

    `inplace=True` writes the result into `input` and returns it."""
    _need_tensor("leaky_relu", input)
    return _result(input, lambda x: x._be.leaky_relu(x, float(negative_slope)), inplace)


def elu(input, alpha=1.0, inplace=False):
    """Apply the ELU, `x if x > 0 else alpha * (exp(x) - 1)`, elementwise.

    `inplace=True` writes the result into `input` and returns it."""
    _need_tensor("elu", input)
    return _result(input, lambda x: x._be.elu(x, float(alpha)), inplace)


def gelu(input, approximate="none"):
    """Apply the GELU, `x * Phi(x)` with Phi the standard normal CDF, elementwise.

    `approximate="tanh"` uses `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))`; any
    value other than "none" or "tanh" raises RuntimeError."""
    _need_tensor("gelu", input)
    if approximate not in _GELU:
        raise RuntimeError("approximate argument must be either none or tanh.")
    return input._be.gelu(input, _GELU.index(approximate))


def silu(input, inplace=False):
    """Apply the SiLU (swish), `x * sigmoid(x)`, elementwise.

    `inplace=True` writes the result into `input` and returns it."""
    _need_tensor("silu", input)
    return _result(input, lambda x: x._be.silu(x), inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """Apply `log(1 + exp(beta * x)) / beta` elementwise; where `beta * x > threshold` the result is
    `x` (for numerical stability)."""
    _need_tensor("softplus", input)
    return input._be.softplus(input, float(beta), float(threshold))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp `input` elementwise to `[min_val, max_val]` (gradient 0 outside the range).

    ValueError if `min_val > max_val`. `inplace=True` writes the result into `input` and returns
    it."""
    _need_tensor("hardtanh", input)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _result(input, lambda x: x._be.hardtanh(x, min_val, max_val), inplace)


def relu6(input, inplace=False):
    """Apply `min(max(x, 0), 6)` elementwise: `hardtanh(input, 0, 6)`.

    `inplace=True` writes the result into `input` and returns it."""
    _need_tensor("relu6", input)
    return _result(input, lambda x: x._be.hardtanh(x, 0.0, 6.0), inplace)


def leaky_relu_(input, negative_slope=0.01):
    """In-place `leaky_relu`: write the result into `input` and return it."""
    return leaky_relu(input, negative_slope, inplace=True)


def elu_(input, alpha=1.0):
    """In-place `elu`: write the result into `input` and return it."""
    return elu(input, alpha, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place `hardtanh`: clamp `input` to `[min_val, max_val]` in place and return it."""
    return hardtanh(input, min_val, max_val, inplace=True)
