"""tapegrad.nn.init: PyTorch's initialisers. Each draws from the default generator (or the one
given) exactly as PyTorch's does, one uniform_ or normal_ call with PyTorch's float64 bound
arithmetic, so after manual_seed(s) the weights have PyTorch's bits (docs/random.md)."""

import math
import warnings

from .._grad_mode import no_grad

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "zeros_",
    "ones_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d")  # fmt: skip


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive = 1
    for s in tuple(tensor.shape)[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid = ["fan_in", "fan_out"]
    if mode not in valid:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill `tensor` in place with values drawn uniformly from `[a, b)`, without recording autograd;
    return it."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill `tensor` in place with values drawn from the normal distribution N(mean, std**2),
    without recording autograd; return it."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor, val):
    """Fill `tensor` in place with the value `val`, without recording autograd; return it."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor):
    """Fill `tensor` in place with zeros, without recording autograd; return it."""
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill `tensor` in place with ones, without recording autograd; return it."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Fill `tensor` in place with the Glorot uniform init: U(-a, a) with
    `a = gain * sqrt(6 / (fan_in + fan_out))`; return it.

    `tensor` has at least 2 dims: fan_in is `size(1)` and fan_out `size(0)`, both times the
    product of the remaining dims."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Fill `tensor` in place with the Glorot normal init: N(0, std**2) with
    `std = gain * sqrt(2 / (fan_in + fan_out))`; return it.

    `tensor` has at least 2 dims: fan_in is `size(1)` and fan_out `size(0)`, both times the
    product of the remaining dims."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _empty_warning(tensor):
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """Fill `tensor` in place with the He uniform init: U(-bound, bound) with
    `bound = gain * sqrt(3 / fan)`; return it.

    `gain` is `calculate_gain(nonlinearity, a)` (`a` is leaky_relu's negative slope); `fan` is
    fan_in or fan_out by `mode`. A zero-element tensor is left as it is, with PyTorch's warning."""
    if _empty_warning(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """Fill `tensor` in place with the He normal init: N(0, std**2) with `std = gain / sqrt(fan)`;
    return it.

    `gain` is `calculate_gain(nonlinearity, a)` (`a` is leaky_relu's negative slope); `fan` is
    fan_in or fan_out by `mode`. A zero-element tensor is left as it is, with PyTorch's warning."""
    if _empty_warning(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """PyTorch 2.13's rejection sampler, drawing its numbers in its order: where [a, b] holds more
    than 30 % of the normal's mass, normal_ draws, and every value outside [a, b] is drawn again
    (a whole fresh tensor per round) until none is; else uniform_ draws on [a, b], accepted by
    comparing a second uniform_'s log with the normal's log-density, rejected ones drawn again."""
    from .. import where

    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    with no_grad():
        if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
            lo, hi = tensor.new_tensor(a).item(), tensor.new_tensor(b).item()
            result = tensor.normal_(mean, std, generator=generator)
            while True:
                mask = (result < lo) | (result > hi)
                if not mask.any():
                    break
                fresh = tensor.new_empty(tensor.shape).normal_(mean, std, generator=generator)
                result = where(mask, fresh, result)
            if result is not tensor:
                tensor.copy_(result)
            return tensor
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2

        def log_pdf(x):
            return (((x - mean) / std) ** 2 * -0.5) - log_peak

        def accept_draw():
            return tensor.new_empty(tensor.shape).uniform_(generator=generator).log()

        tensor.uniform_(a, b, generator=generator)
        candidates = log_pdf(tensor)
        pending = accept_draw() > candidates
        if pending.any():
            result = tensor.clone()
            while True:
                drawn = tensor.new_empty(tensor.shape).uniform_(a, b, generator=generator)
                result = where(pending, drawn, result)
                pending = where(pending, accept_draw() > log_pdf(drawn), pending)
                if not pending.any():
                    break
            tensor.copy_(result)
        return tensor
