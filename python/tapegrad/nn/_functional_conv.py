"""Convolution and pooling: PyTorch's signatures, checks and messages,
in PyTorch's order; the backend computes, from the normalized tuples of the backends' op spec."""

import warnings

from .._dtype import TORCH_NAMES as _TORCH_NAMES
from ..tensor import Tensor

__all__ = [
    "conv1d",
    "conv2d",
    "max_pool1d",
    "max_pool2d",
    "max_pool2d_with_indices",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
]

_MIX = "expected all tensors to be on the same backend, but found at least two: {} and {}"
_CNAMES = {"float32": "float", "float16": "c10::Half", "float64": "double"}
_SAME_WARNED = []


def _need(fn, argname, pos, x, optional=False):
    if x is None and optional:
        return
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fn}(): argument '{argname}' (position {pos}) must be Tensor, not {type(x).__name__}"
        )


def _same_backend(x, *others):
    for o in others:
        if o is not None and o._be is not x._be:
            raise RuntimeError(_MIX.format(x._be.name, o._be.name))


def _tname(dt):
    return _TORCH_NAMES[dt.name]


def _only_floats(x, what):
    """PyTorch computes some of these ops on integers too; tapegrad's kernels are floating only."""
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f"\"{what}\" not implemented for '{_tname(x.dtype)}'")


def _ints(fn, name, v, n=1):
    """An int (n copies) or a sequence of ints as a tuple (PyTorch's `int[n]` arguments)."""
    if isinstance(v, bool) or not isinstance(v, (int, tuple, list)):
        if hasattr(v, "__index__") and not isinstance(v, bool):
            return (int(v),) * n
        raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, not {type(v).__name__}")
    if isinstance(v, int):
        return (v,) * n
    for e in v:
        if isinstance(e, bool) or not hasattr(e, "__index__"):
            raise TypeError(
                f"{fn}(): argument '{name}' must be tuple of ints, but found element of type "
                f"{type(e).__name__} at pos 0"
            )
    return tuple(int(e) for e in v)


# ---------------------------------------------------------------- convolution


def _conv_param(name, v, k):
    if len(v) == 1:
        return v * k
    if len(v) != k:
        shown = list(v)
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {k} values to match the "
            f"convolution dimensions, but got {name}={shown}"
        )
    return v


def _conv(fn, nd, input, weight, bias, stride, padding, dilation, groups):
    _need(fn, "input", 1, input)
    _need(fn, "weight", 2, weight)
    _need(fn, "bias", 3, bias, optional=True)
    _same_backend(input, weight, bias)
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fn}, but got input "
            f"of size: {list(input.shape)}"
        )
    if weight.dim() < 3:
        raise RuntimeError("weight should have at least three dimensions")
    k = weight.dim() - 2
    stride = _conv_param("stride", _ints(fn, "stride", stride, nd), k)
    same = isinstance(padding, str)
    if same:
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        same = padding == "same"
        pads = (0,) * k
    else:
        pads = _conv_param("padding", _ints(fn, "padding", padding, nd), k)
    dilation = _conv_param("dilation", _ints(fn, "dilation", dilation, nd), k)
    groups = int(groups)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(p < 0 for p in pads):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if same and any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    ws = list(weight.shape)
    if x.dim() != weight.dim():
        raise RuntimeError(
            f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
            f"{ws}, but got {x.dim()}-dimensional input of size {list(x.shape)} instead"
        )
    if ws[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size [{ws}] instead"
        )
    if x.shape[1] != ws[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {ws}, expected input{list(x.shape)} to have "
            f"{ws[1] * groups} channels, but got {x.shape[1]} channels instead"
        )
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != ws[0]):
        raise RuntimeError(
            f"Given weight of size {ws}, expected bias to be 1-dimensional with {ws[0]} "
            f"elements, but got bias of size {list(bias.shape)} instead"
        )
    lo, hi = list(pads), list(pads)
    if same:  # PyTorch pads the odd remainder on the right/bottom
        for i in range(k):
            total = dilation[i] * (ws[2 + i] - 1)
            lo[i], hi[i] = total // 2, total - total // 2
        if any((dilation[i] * (ws[2 + i] - 1)) % 2 for i in range(k)) and not _SAME_WARNED:
            _SAME_WARNED.append(True)
            warnings.warn(
                "Using padding='same' with even kernel lengths and odd dilation may require a "
                "zero-padded copy of the input be created",
                UserWarning,
                stacklevel=3,
            )
    padded = [x.shape[2 + i] + lo[i] + hi[i] for i in range(k)]
    kernel = [dilation[i] * (ws[2 + i] - 1) + 1 for i in range(k)]
    if any(p < q for p, q in zip(padded, kernel)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, kernel))}). Kernel size can't be greater than "
            "actual input size"
        )
    _only_floats(x, "slow_conv2d_cpu")
    dt = x.dtype
    if weight.dtype is not dt:
        if dt.name == "float32" and _onednn_path(x, ws, stride, dilation, groups, k):
            raise RuntimeError(
                f"Input type (torch.FloatTensor) and weight type (torch.{_tname(weight.dtype)}"
                "Tensor) should be the same or input should be a MKLDNN tensor and weight is a "
                "dense tensor"
            )
        raise RuntimeError(f"expected scalar type {_tname(dt)} but found {_tname(weight.dtype)}")
    if bias is not None and bias.dtype is not dt:
        raise RuntimeError(
            f"Input type ({_CNAMES[dt.name]}) and bias type "
            f"({_CNAMES.get(bias.dtype.name, _tname(bias.dtype))}) should be the same"
        )
    if nd == 1:  # the backend's 1-D form: H = KH = 1
        st, dil, pad = (1, stride[0]), (1, dilation[0]), (0, lo[0], 0, hi[0])
    else:
        st, dil, pad = tuple(stride), tuple(dilation), (lo[0], lo[1], hi[0], hi[1])
    out = x._be.convolution(x, weight, bias, st, pad, dil, groups)
    return out if batched else out.squeeze(0)


def _onednn_path(x, ws, stride, dilation, groups, k):
    """Whether PyTorch's CPU convolution takes oneDNN for a float32 input (ATen's use_mkldnn
    heuristic, over the 4-D view of a 1-D convolution): its dtype errors differ by path."""
    from .. import get_num_threads

    n, c = x.shape[0], x.shape[1]
    spatial = list(x.shape[2:]) if k == 2 else [1] + list(x.shape[2:])
    kh, kw = (ws[2], ws[3]) if k == 2 else (1, ws[2])
    strided, dilated = any(v != 1 for v in stride), any(v != 1 for v in dilation)
    worth = strided or dilated or n >= 16 or kw != 1 or kh != 1 or get_num_threads() > 1
    big = groups > 1 or (kw > 3 and kh > 3) or n > 1 or n * c * spatial[0] * spatial[1] > 20480
    return worth and big


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation over (N, C, L) or unbatched (C, L) input; padding may be an int, a
    1-tuple, 'valid' or 'same' (the odd remainder on the right, as PyTorch)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation over (N, C, H, W) or unbatched (C, H, W) input (then squeezed back,
    so the result's grad_fn is SqueezeBackward1 as in PyTorch)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


# ---------------------------------------------------------------- pooling


def _pool_arg(fn, name, v, default=None):
    t = _ints(fn, name, v) if v is not None else ()
    if not t and default is not None:
        return default
    if len(t) not in (1, 2):
        what = {
            "kernel_size": "kernel_size must either be a single int",
            "stride": "stride must either be omitted, a single int",
            "padding": "padding must either be a single int",
            "dilation": "dilation must be either a single int",
        }[name]
        raise RuntimeError(f"{fn}: {what}, or a tuple of two ints")
    return t * 2 if len(t) == 1 else t


def _out_size(size, k, pad, stride, dil, ceil_mode):
    """PyTorch's pooling_output_shape, with its checks."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > ((k - 1) * dil + 1) // 2:
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={pad}, "
            f"kernel_size={k} and dilation={dil}"
        )
    num = size + 2 * pad - dil * (k - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = num // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _pool_shape(fn, x, kernel, stride, padding, dilation, ceil_mode):
    """Output (oh, ow) after the checks of PyTorch's max/avg pool2d, in its order."""
    h, w = x.shape[-2], x.shape[-1]
    oh = _out_size(h, kernel[0], padding[0], stride[0], dilation[0], ceil_mode)
    ow = _out_size(w, kernel[1], padding[1], stride[1], dilation[1], ceil_mode)
    if kernel[0] <= 0 or kernel[1] <= 0:
        raise RuntimeError(
            f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[1]}"
        )
    if stride[0] <= 0 or stride[1] <= 0:
        raise RuntimeError(
            f"stride should be greater than zero, but got dH: {stride[0]} dW: {stride[1]}"
        )
    if dilation[0] <= 0 or dilation[1] <= 0:
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilationH: {dilation[0]} "
            f"dilationW: {dilation[1]}"
        )
    if x.dim() not in (3, 4):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
            f"but got:{list(x.shape)}"
        )
    if oh < 1 or ow < 1:
        c = x.shape[-3]
        raise RuntimeError(
            f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{oh}x{ow}). "
            "Output size is too small"
        )
    return oh, ow


def _max_pool_args(input, kernel_size, stride, padding, dilation, ceil_mode):
    fn = "max_pool2d"
    _need(fn, "input", 1, input)
    kernel = _pool_arg(fn, "kernel_size", kernel_size)
    stride = _pool_arg(fn, "stride", stride, default=kernel)
    padding = _pool_arg(fn, "padding", padding)
    dilation = _pool_arg(fn, "dilation", dilation)
    if input.dim() not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    _pool_shape(fn, input, kernel, stride, padding, dilation, bool(ceil_mode))
    _only_floats(input, "max_pool2d")
    return kernel, stride, padding, dilation, bool(ceil_mode)


def max_pool2d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """(values, int64 indices flat within each H*W plane), PyTorch's max_pool2d_with_indices."""
    args = _max_pool_args(input, kernel_size, stride, padding, dilation, ceil_mode)
    out = input._be.max_pool2d(input, *args)
    return out, input._be.max_pool2d_indices(input, *args)


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """Max over (dilated) windows of (C, H, W) or (N, C, H, W); NaN wins, as in PyTorch."""
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    args = _max_pool_args(input, kernel_size, stride, padding, dilation, ceil_mode)
    return input._be.max_pool2d(input, *args)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Window means of (C, H, W) or (N, C, H, W) (PyTorch's cpu_avg_pool)."""
    fn = "avg_pool2d"
    _need(fn, "input", 1, input)
    kernel = _pool_arg(fn, "kernel_size", kernel_size)
    stride = _pool_arg(fn, "stride", stride, default=kernel)
    padding = _pool_arg(fn, "padding", padding)
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError("divisor must be not zero")
    if input.dim() < 3:  # PyTorch reads input.size(-3) first
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-input.dim()}, "
            f"{input.dim() - 1}], but got -3)"
        )
    _pool_shape(fn, input, kernel, stride, padding, (1, 1), bool(ceil_mode))
    _only_floats(input, "avg_pool2d")
    div = 0 if divisor_override is None else int(divisor_override)
    return input._be.avg_pool2d(
        input, kernel, stride, padding, bool(ceil_mode), bool(count_include_pad), div
    )


def _one(fn, name, v, what):
    t = _ints(fn, name, v)
    if len(t) != 1:
        if fn == "avg_pool1d":
            raise RuntimeError(
                f"avg_pool1d() argument '{name}' should contain one int (got {len(t)})"
            )
        raise RuntimeError(f"max_pool1d() {name} must be {what} of size 1 but got size {len(t)}")
    return t[0]


def _max_pool1d_args(input, kernel_size, stride, padding, dilation, ceil_mode):
    """PyTorch's own checks of max_pool1d (not max_pool2d's)."""
    fn = "max_pool1d"
    _need(fn, "input", 1, input)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
            f"for input, but got:{list(input.shape)}"
        )
    seq = "an int, list of ints, or tuple of ints"
    k = _one(fn, "kernel_size", kernel_size, "an int, list of ints or tuple of ints")
    s = k if stride is None or stride in ([], ()) else _one(fn, "stride", stride, "None, " + seq)
    p, d = _one(fn, "padding", padding, seq), _one(fn, "dilation", dilation, seq)
    for name, v in (("kernel_size", k), ("stride", s)):
        if v <= 0:
            raise RuntimeError(f"max_pool1d() {name} must be greater than zero, but got {v}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(
            f"max_pool1d() padding should be at most half of kernel size, but got padding={p} "
            f"and kernel_size={k}"
        )
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    out = _out_size(input.shape[-1], k, p, s, d, bool(ceil_mode))
    if out < 1:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")
    return (1, k), (1, s), (0, p), (1, d), bool(ceil_mode)


def max_pool1d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """max_pool2d over (N, C, 1, L), squeezed back (SqueezeBackward1, as PyTorch)."""
    args = _max_pool1d_args(input, kernel_size, stride, padding, dilation, ceil_mode)
    x = input.unsqueeze(-2)
    out = x._be.max_pool2d(x, *args).squeeze(-2)
    if return_indices:
        return out, x._be.max_pool2d_indices(x, *args).squeeze(-2)
    return out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """avg_pool2d over (N, C, 1, L), squeezed back (SqueezeBackward1, as PyTorch)."""
    fn = "avg_pool1d"
    _need(fn, "input", 1, input)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument "
            "#1 'self' (while checking arguments for avg_pool1d)"
        )
    k = _one(fn, "kernel_size", kernel_size, "")
    s = k if stride is None or stride in ([], ()) else _one(fn, "stride", stride, "")
    p = _one(fn, "padding", padding, "")
    x = input.unsqueeze(-2)
    return avg_pool2d(x, (1, k), (1, s), (0, p), ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool2d(input, output_size):
    """Adaptive windows floor(o*I/O)..ceil((o+1)*I/O); None keeps that input size; (1, 1) is
    `mean((-1, -2), keepdim=True)` as in PyTorch (MeanBackward1)."""
    fn = "adaptive_avg_pool2d"
    _need(fn, "input", 1, input)
    if isinstance(output_size, (tuple, list)):
        if input.dim() <= len(output_size):
            raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
        defaults = input.shape[-len(output_size) :] if output_size else ()
        output_size = [d if v is None else v for v, d in zip(output_size, defaults)]
    size = _ints(fn, "output_size", output_size)
    if len(size) == 1:
        size = size * 2
    if len(size) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    if size[0] < 0 or size[1] < 0:
        raise RuntimeError(
            "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 "
            f"but received {{{size[0]}, {size[1]}}}"
        )
    if size == (1, 1):
        if not input.dtype.is_floating_point:
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {_tname(input.dtype)}"
            )
        return input.mean((-1, -2), keepdim=True)
    if input.dim() not in (3, 4):
        raise RuntimeError(
            f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input.shape)}"
        )
    if 0 in size:
        raise RuntimeError("adaptive_avg_pool2d: tapegrad has no zero-size tensors")
    _only_floats(input, "adaptive_avg_pool2d")
    return input._be.adaptive_avg_pool2d(input, size)
