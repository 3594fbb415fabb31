"""tapegrad.nn.functional: PyTorch's names, argument checks and errors; the backend computes."""

from .._dtype import TORCH_NAMES as _TORCH_NAMES
from ..tensor import Tensor

__all__ = ["relu", "tanh", "sigmoid", "linear", "dropout", "mse_loss", "l1_loss"]

_MIX = "expected all tensors to be on the same backend, but found at least two: {} and {}"
_REDUCTIONS = ("mean", "sum", "none")


def _need_tensor(fn, argname, pos, x):
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fn}(): argument '{argname}' (position {pos}) must be Tensor, not {type(x).__name__}"
        )


def relu(input, inplace=False):
    """max(input, 0), with relu'(0) = 0; `inplace=True` writes it into input (returned)."""
    _need_tensor("relu", "input", 1, input)
    return input.relu_() if inplace else input._be.relu(input)


def relu_(input):
    """In-place `relu`: replace `input` by `max(input, 0)` and return it."""
    _need_tensor("relu_", "input", 1, input)
    return input.relu_()


def tanh(input):
    """Apply the hyperbolic tangent elementwise; the same as `torch.tanh`."""
    _need_tensor("tanh", "input", 1, input)
    return input._be.tanh(input)


def sigmoid(input):
    """Apply the logistic sigmoid, `1 / (1 + exp(-x))`, elementwise; the same as `torch.sigmoid`."""
    _need_tensor("sigmoid", "input", 1, input)
    return input._be.sigmoid(input)


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """PyTorch's CPU dropout: input * noise with the noise of bernoulli_(1 - p).div_(1 - p), drawn
    from the default generator (so a seeded run masks the same elements as PyTorch)."""
    _need_tensor("dropout", "input", 1, input)
    _check_p(p)
    if not training or p == 0 or input.numel() == 0:
        return input
    from .._random import dropout_noise
    from ..tensor import tensor, zeros

    if p == 1:
        noise = zeros((), dtype=input.dtype, backend=input._be)
    else:
        noise = tensor(dropout_noise(tuple(input.shape), p, input.dtype), backend=input._be)
    return input.mul_(noise) if inplace else input * noise


def linear(input, weight, bias=None):
    """input @ weight.T + bias as one fused backend op (one rounding, like PyTorch's addmm)."""
    _need_tensor("linear", "input", 1, input)
    _need_tensor("linear", "weight", 2, weight)
    be = input._be
    if weight._be is not be:
        raise RuntimeError(_MIX.format(be.name, weight._be.name))
    if bias is not None:
        _need_tensor("linear", "bias", 3, bias)
        if bias._be is not be:
            raise RuntimeError(_MIX.format(be.name, bias._be.name))
    ishape = input.shape
    wshape = weight.shape
    if len(ishape) == 0 or len(wshape) != 2:
        raise RuntimeError(
            "both arguments to linear need to be at least 1D (and the weight 2D), "
            f"but they are {len(ishape)}D and {len(wshape)}D"
        )
    if ishape[-1] != wshape[1]:
        rows = 1
        for s in ishape[:-1]:
            rows *= s
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied "
            f"({rows}x{ishape[-1]} and {wshape[1]}x{wshape[0]})"
        )
    dt = input.dtype
    if weight.dtype is not dt or (bias is not None and bias.dtype is not dt):
        other = weight.dtype if weight.dtype is not dt else bias.dtype
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got "
            f"{_TORCH_NAMES[dt.name]} and {_TORCH_NAMES[other.name]}"
        )
    return be.linear(input, weight, bias)


def _legacy_reduction(size_average, reduce):
    """PyTorch's deprecated size_average/reduce arguments as a reduction string."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _loss_args(fn, input, target, size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    _need_tensor(fn, "input", 1, input)
    _need_tensor(fn, "target", 2, target)
    if input._be is not target._be:
        raise RuntimeError(_MIX.format(input._be.name, target._be.name))
    if input.shape != target.shape and tuple(input.shape) != tuple(target.shape):
        raise RuntimeError(
            f"{fn}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} "
            "must match (PyTorch would broadcast them with a warning, which is almost always a "
            "bug; tapegrad refuses. Reshape one of them, e.g. target.view(-1, 1))"
        )
    if input.dtype is not target.dtype:  # PyTorch promotes: cast the float16 side to float32
        if input.dtype.itemsize < target.dtype.itemsize:
            input = input.to(target.dtype)
        else:
            target = target.to(input.dtype)
    return input, target, reduction


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """(input - target)**2, reduced by `reduction` ("mean", "sum" or "none")."""
    input, target, reduction = _loss_args(
        "mse_loss", input, target, size_average, reduce, reduction
    )
    return input._be.mse_loss(input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """|input - target|, reduced by `reduction` ("mean", "sum" or "none")."""
    input, target, reduction = _loss_args("l1_loss", input, target, size_average, reduce, reduction)
    return input._be.l1_loss(input, target, reduction)


# The activations of the ewise slice (_functional_ewise.py).
from ._functional_ewise import (  # noqa: E402
    elu,
    elu_,
    gelu,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    relu6,
    silu,
    softplus,
)

__all__ += ["leaky_relu", "elu", "gelu", "silu", "softplus", "hardtanh", "relu6"]
__all__ += ["relu_", "leaky_relu_", "elu_", "hardtanh_"]

# The softmax family, nll_loss, cross_entropy, one_hot and embedding (_functional_nnloss.py).
from ._functional_nnloss import *  # noqa: E402, F403
from ._functional_nnloss import __all__ as _nnloss_all  # noqa: E402

__all__ = __all__ + _nnloss_all

# binary_cross_entropy(_with_logits), smooth_l1_loss and huber_loss (_functional_losses.py).
from ._functional_losses import *  # noqa: E402, F403
from ._functional_losses import __all__ as _losses_all  # noqa: E402

__all__ = __all__ + _losses_all

# normalize (_functional_norm.py).
from ._functional_norm import normalize  # noqa: E402

__all__ = __all__ + ["normalize"]

# convolution, pooling, batch/layer norm and dropout2d (_functional_conv.py).
from ._functional_conv import *  # noqa: E402, F403
from ._functional_conv import __all__ as _conv_all  # noqa: E402

__all__ = __all__ + _conv_all
from ._functional_bnorm import *  # noqa: E402, F403
from ._functional_bnorm import __all__ as _bnorm_all  # noqa: E402

__all__ = __all__ + _bnorm_all
