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


def _result(input, out, inplace):
    if inplace and not (input.requires_grad and is_grad_enabled()):
        return input.copy_(out)
    return out


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _need_tensor("leaky_relu", input)
    return _result(input, input._be.leaky_relu(input, float(negative_slope)), inplace)


def elu(input, alpha=1.0, inplace=False):
    _need_tensor("elu", input)
    return _result(input, input._be.elu(input, float(alpha)), inplace)


def gelu(input, approximate="none"):
    _need_tensor("gelu", input)
    if approximate not in _GELU:
        raise RuntimeError("approximate argument must be either none or tanh.")
    return input._be.gelu(input, _GELU.index(approximate))


def silu(input, inplace=False):
    _need_tensor("silu", input)
    return _result(input, input._be.silu(input), inplace)


def softplus(input, beta=1.0, threshold=20.0):
    _need_tensor("softplus", input)
    return input._be.softplus(input, float(beta), float(threshold))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    _need_tensor("hardtanh", input)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _result(input, input._be.hardtanh(input, min_val, max_val), inplace)


def relu6(input, inplace=False):
    _need_tensor("relu6", input)
    return _result(input, input._be.hardtanh(input, 0.0, 6.0), inplace)
