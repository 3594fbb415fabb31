"""binary_cross_entropy, binary_cross_entropy_with_logits, smooth_l1_loss and huber_loss:
PyTorch's argument checks, warnings and errors here; the numbers in the backends (one op each,
with PyTorch's grad_fn names). Weights are expanded to the input's shape first, as PyTorch's
functional code and kernels broadcast them."""

import warnings

from .._dtype import TORCH_NAMES as _TORCH_NAMES
from .._dtype import promote_types
from ..tensor import Tensor

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "smooth_l1_loss",
    "huber_loss",
]


def _reduction(size_average, reduce, reduction):
    from .functional import _legacy_reduction

    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _need_tensor(fn, argname, pos, x):
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fn}(): argument '{argname}' (position {pos}) must be Tensor, not {type(x).__name__}"
        )


def _floating(fn_kernel, x):
    if not x.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"{fn_kernel}\" not implemented for '{_TORCH_NAMES[x.dtype.name]}'"
        )


def _size(t):
    return f"torch.Size({list(t.shape)})"


def _weight(fn, name, pos, w, input):
    """w expanded to the input's shape in its dtype; PyTorch has no gradient for it."""
    if w is None:
        return None
    _need_tensor(fn, name, pos, w)
    if w.requires_grad:
        raise RuntimeError(
            f"The function '{fn}' is not differentiable with respect to argument '{name}'. "
            "This input cannot have requires_grad True."
        )
    if w.dtype is not input.dtype:
        w = w.to(input.dtype)
    return w.expand(tuple(input.shape))


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """-w (y log(x) + (1 - y) log(1 - x)), each log clamped at -100."""
    reduction = _reduction(size_average, reduce, reduction)
    _need_tensor("binary_cross_entropy", "input", 1, input)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({_size(target)}) that is different to the input size "
            f"({_size(input)}) is deprecated. Please ensure they have the same size."
        )
    _need_tensor("binary_cross_entropy", "target", 2, target)
    if target.dtype is not input.dtype:
        raise RuntimeError(
            f"Found dtype {_TORCH_NAMES[target.dtype.name]} but expected "
            f"{_TORCH_NAMES[input.dtype.name]}"
        )
    _floating("binary_cross_entropy", input)
    weight = _weight("binary_cross_entropy", "weight", 3, weight, input)
    return input._be.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction="mean",
    pos_weight=None,
):
    """(1 - y) x - l log_sigmoid(x), l = 1 + (pos_weight - 1) y; times weight."""
    reduction = _reduction(size_average, reduce, reduction)
    _need_tensor("binary_cross_entropy_with_logits", "input", 1, input)
    _need_tensor("binary_cross_entropy_with_logits", "target", 2, target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Target size ({_size(target)}) must be the same as input size ({_size(input)})"
        )
    _floating("log_sigmoid_cpu", input)
    if target.dtype is not input.dtype:  # promoted, as PyTorch's tensor ops do
        dt = promote_types(input.dtype, target.dtype)
        input, target = input.to(dt), target.to(dt)
    fn = "binary_cross_entropy_with_logits"
    weight = _weight(fn, "weight", 3, weight, input)
    pos_weight = _weight(fn, "pos_weight", 6, pos_weight, input)
    return input._be.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)


def _broadcast(sa, sb):
    """torch.broadcast_tensors' shape, with its error."""
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i, (a, b) in enumerate(zip(sa, sb)):
        if a != b and a != 1 and b != 1:
            raise RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                f"non-singleton dimension {i}"
            )
    return tuple(b if a == 1 else a for a, b in zip(sa, sb))


def _pointwise_args(fn, kernel, input, target, size_average, reduce, reduction):
    _need_tensor(fn, "input", 1, input)
    _need_tensor(fn, "target", 2, target)
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({_size(target)}) that is different to the input size "
            f"({_size(input)}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )
    reduction = _reduction(size_average, reduce, reduction)
    shape = _broadcast(tuple(input.shape), tuple(target.shape))
    # (an expand of the same shape would add ExpandBackward0, whose sum turns -0 into +0)
    if tuple(input.shape) != shape:
        input = input.expand(shape)
    if tuple(target.shape) != shape:
        target = target.expand(shape)
    if target.dtype is not input.dtype:
        dt = promote_types(input.dtype, target.dtype)
        input, target = input.to(dt), target.to(dt)
    _floating(kernel, input)
    return input, target, reduction


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 z^2 / beta where z = |x - y| < beta, else z - 0.5 beta (beta 0: l1_loss)."""
    input, target, reduction = _pointwise_args(
        "smooth_l1_loss", "smooth_l1_cpu", input, target, size_average, reduce, reduction
    )
    if beta == 0.0:
        from .functional import l1_loss

        return l1_loss(input, target, reduction=reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return input._be.smooth_l1_loss(input, target, reduction, float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 z^2 where z = |x - y| < delta, else delta (z - 0.5 delta)."""
    input, target, reduction = _pointwise_args(
        "huber_loss", "huber_cpu", input, target, None, None, reduction
    )
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is None:
        return input._be.huber_loss(input, target, reduction, float(delta))
    # PyTorch's composite: the unreduced loss times weight, then sum or mean
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = input._be.huber_loss(input, target, "none", float(delta)) * weight
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()
