"""The numpy backend's functions of the CNN ops (the front end, tapegrad.nn._functional_conv, has
checked and normalized the arguments: tuples of ints, asymmetric convolution padding)."""

import numpy as np

from .kernels_bnorm import running_update
from .kernels_conv import Convolution  # noqa: F401  (registers the conv and pool kernels)
from .tape import _run
from .tensor import _check


def _ints(t):
    return tuple(int(v) for v in t)


def _checked(*tensors):
    for t in tensors:
        if t is not None:
            _check(t)


def convolution(x, w, b, stride, padding, dilation, groups):
    _checked(x, w, b)
    assert x.ndim in (3, 4) and w.ndim == x.ndim and len(padding) == 4, "convolution arguments"
    attrs = {"stride": _ints(stride), "padding": _ints(padding), "dilation": _ints(dilation),
             "groups": int(groups)}  # fmt: skip
    return _run("convolution", (x, w, b), attrs)


def _max_attrs(kernel, stride, padding, dilation, ceil_mode):
    return {"kernel": _ints(kernel), "stride": _ints(stride), "padding": _ints(padding),
            "dilation": _ints(dilation), "ceil_mode": bool(ceil_mode)}  # fmt: skip


def max_pool2d(x, kernel, stride, padding, dilation, ceil_mode):
    _checked(x)
    return _run("max_pool2d", (x,), _max_attrs(kernel, stride, padding, dilation, ceil_mode))


def max_pool2d_indices(x, kernel, stride, padding, dilation, ceil_mode):
    _checked(x)
    attrs = _max_attrs(kernel, stride, padding, dilation, ceil_mode)
    return _run("max_pool2d_indices", (x,), attrs, out_dtype=np.int64)


def avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    _checked(x)
    attrs = {"kernel": _ints(kernel), "stride": _ints(stride), "padding": _ints(padding),
             "ceil_mode": bool(ceil_mode), "count_include_pad": bool(count_include_pad),
             "divisor_override": int(divisor_override or 0)}  # fmt: skip
    return _run("avg_pool2d", (x,), attrs)


def adaptive_avg_pool2d(x, output_size):
    _checked(x)
    return _run("adaptive_avg_pool2d", (x,), {"output_size": _ints(output_size)})


def native_batch_norm(x, w, b, running_mean, running_var, training, momentum, eps):
    _checked(x, w, b, running_mean, running_var)
    attrs = {"training": bool(training), "momentum": float(momentum), "eps": float(eps)}
    stats = (None, None) if training else (running_mean, running_var)
    out = _run("native_batch_norm", (x, w, b) + stats, attrs)
    if training and running_mean is not None:
        # in place, no gradient: PyTorch updates the buffers in the same call
        new_mean, new_var = running_update(x._arr, running_mean._arr, running_var._arr, momentum)
        for t, v in ((running_mean, new_mean), (running_var, new_var)):
            via = np.float32 if t._arr.dtype == np.float16 else t._arr.dtype
            t._arr[...] = v.astype(via).astype(t._arr.dtype)
            t._ver[0] += 1
    return out


def native_layer_norm(x, w, b, normalized_ndim, eps):
    _checked(x, w, b)
    return _run("native_layer_norm", (x, w, b), {"normalized_ndim": int(normalized_ndim),
                                                 "eps": float(eps)})  # fmt: skip
