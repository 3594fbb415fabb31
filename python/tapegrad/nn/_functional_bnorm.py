"""batch_norm, layer_norm and dropout2d: PyTorch's signatures, checks and messages, in PyTorch's
order (the helpers are _functional_conv.py's)."""

import warnings

from .._grad_mode import no_grad as _no_grad
from ._functional_conv import _ints, _need, _only_floats, _same_backend

__all__ = ["batch_norm", "layer_norm", "dropout2d"]


# ---------------------------------------------------------------- normalization


def _param_dtypes(x, params, what):
    """PyTorch's CPU mixed-dtype rule: parameters share the input's dtype (float32 parameters
    with a float16 input are PyTorch's mixed mode, which tapegrad's kernels do not have)."""
    _only_floats(x, what)
    dts = {p.dtype for p in params if p is not None}
    if not dts or dts == {x.dtype}:
        return
    if x.dtype.name == "float16" and {d.name for d in dts} == {"float32"}:
        raise NotImplementedError(
            f"tapegrad: {what} of a float16 input with float32 parameters (PyTorch's mixed "
            "mode) is not supported; convert the module with .half()"
        )
    if x.dtype.name == "float64" and "float32" in {d.name for d in dts}:  # ATen's two wordings
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-5,
):
    """Batch norm over dim 1; in training the running statistics (if given) are updated in
    place: (1 - momentum) * running + momentum * batch statistic (unbiased variance)."""
    fn = "batch_norm"
    _need(fn, "input", 1, input)
    for i, (n, t) in enumerate(
        (("running_mean", running_mean), ("running_var", running_var), ("weight", weight))
    ):
        _need(fn, n, i + 2, t, optional=True)
    _need(fn, "bias", 5, bias, optional=True)
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise TypeError(
            f"batch_norm(): argument 'momentum' (position 7) must be float, not "
            f"{type(momentum).__name__}"
        )
    _same_backend(input, running_mean, running_var, weight, bias)
    shape = input.shape
    if training:
        n = shape[0]
        for s in shape[2:]:
            n *= s
        if n == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {shape!r}"
            )
    if training and not eps > 0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if not training and not eps >= 0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if input.dim() < 2:
        raise RuntimeError(f"batch_norm: expected input of 2 or more dimensions, got {list(shape)}")
    c = shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None:
            if t.numel() != c:
                raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
        elif not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    _param_dtypes(input, (weight, bias, running_mean, running_var), "batch_norm")
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.requires_grad:
            raise RuntimeError(
                f"The function 'native_batch_norm' is not differentiable with respect to "
                f"argument '{name}'. This input cannot have requires_grad True."
            )
    # The kernels update contiguous statistics in place; a strided view is updated through a
    # contiguous copy, written back (PyTorch updates the view itself: the same values).
    stats = [running_mean, running_var]
    flat = [t.contiguous() if t is not None and not t.is_contiguous() else t for t in stats]
    out = input._be.native_batch_norm(
        input, weight, bias, flat[0], flat[1], bool(training), float(momentum), float(eps)
    )
    if training:
        for t, f in zip(stats, flat):
            if f is not t:
                with _no_grad():
                    t.copy_(f)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalizes over the trailing `normalized_shape` dims (biased variance)."""
    fn = "layer_norm"
    _need(fn, "input", 1, input)
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(
            "layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            f"{type(normalized_shape).__name__}"
        )
    ns = list(_ints(fn, "normalized_shape", normalized_shape))
    _need(fn, "weight", 3, weight, optional=True)
    _need(fn, "bias", 4, bias, optional=True)
    _same_backend(input, weight, bias)
    if not ns:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
            "one element, but got normalized_shape = []"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and list(t.shape) != ns:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape {list(t.shape)} and normalized_shape = {ns}"
            )
    shape = list(input.shape)
    if len(shape) < len(ns) or shape[len(shape) - len(ns) :] != ns:
        raise RuntimeError(
            f"Given normalized_shape={ns}, expected input with shape [*, {str(ns)[1:-1]}], but "
            f"got input of size{shape}"
        )
    _param_dtypes(input, (weight, bias), "LayerNormKernelImpl")
    return input._be.native_layer_norm(input, weight, bias, len(ns), float(eps))


# ---------------------------------------------------------------- dropout2d


def dropout2d(input, p=0.5, training=True, inplace=False):
    """PyTorch's feature dropout: one bernoulli_(1 - p) draw per (sample, channel), divided by
    1 - p, times the input (a 3-D input is read as (N, C, L), as PyTorch does today)."""
    from .._random import dropout_noise
    from ..tensor import tensor, zeros

    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _need("dropout2d", "input", 1, input)
    nd = input.dim()
    if nd not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated "
            "and will result in an error in a future release. To retain the behavior "
            "and silence this warning, please use dropout instead. Note that dropout2d "
            "exists to provide channel-wise dropout on inputs with 2 spatial dimensions, "
            "a channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
            "1D dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    if not training or p == 0:
        return input
    if nd < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 1:
        noise = zeros((), dtype=input.dtype, backend=input._be)
    else:
        shape = tuple(input.shape[:2]) + (1,) * (nd - 2)
        noise = tensor(dropout_noise(shape, p, input.dtype), backend=input._be)
    return input.mul_(noise) if inplace else input * noise
