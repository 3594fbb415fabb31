"""The numpy backend's selecting reductions and cumsum (kernels: kernels_select.py). Dims
arrive normalised by the front end (tapegrad/_ops_reduce.py)."""

import numpy as np

from tapegrad._dtype import BY_CODE

from .tape import _run
from .tensor import _check


def _dims(dims):
    return None if dims is None else tuple(int(d) for d in dims)


def _sel(op, a, attrs, out_dtype=None):
    _check(a)
    return _run(op, (a,), attrs, out_dtype=out_dtype)


def amax(a, dims=None, keepdim=False):
    return _sel("amax", a, {"dims": _dims(dims), "keepdim": bool(keepdim)})


def amin(a, dims=None, keepdim=False):
    return _sel("amin", a, {"dims": _dims(dims), "keepdim": bool(keepdim)})


def max_all(a):
    return _sel("max_all", a, {})


def min_all(a):
    return _sel("min_all", a, {})


def max_dim(a, dim, keepdim=False):
    return _sel("max_dim", a, {"dims": (int(dim),), "keepdim": bool(keepdim)})


def min_dim(a, dim, keepdim=False):
    return _sel("min_dim", a, {"dims": (int(dim),), "keepdim": bool(keepdim)})


def argmax(a, dim=None, keepdim=False):
    attrs = {"dim": None if dim is None else int(dim), "keepdim": bool(keepdim)}
    return _sel("argmax", a, attrs, np.int64)


def argmin(a, dim=None, keepdim=False):
    attrs = {"dim": None if dim is None else int(dim), "keepdim": bool(keepdim)}
    return _sel("argmin", a, attrs, np.int64)


def cumsum(a, dim, dtype=None):
    _check(a)
    if dtype is None:
        out = a._arr.dtype if a._arr.dtype.kind == "f" else np.dtype(np.int64)
    else:
        out = BY_CODE[dtype].np
    return _run("cumsum", (a,), {"dim": int(dim), "dtype": np.dtype(out).name}, out_dtype=out)


def logsumexp(a, dims=None, keepdim=False):
    if a._arr.dtype.kind != "f":
        raise RuntimeError("logsumexp(): expected a floating point input")
    return _sel("logsumexp", a, {"dims": _dims(dims), "keepdim": bool(keepdim)})


def _var_std(op, a, dims, correction, keepdim):
    if a._arr.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    attrs = {"dims": _dims(dims), "correction": float(correction), "keepdim": bool(keepdim)}
    return _sel(op, a, attrs)


def var(a, dims=None, correction=1.0, keepdim=False):
    return _var_std("var", a, dims, correction, keepdim)


def std_dev(a, dims=None, correction=1.0, keepdim=False):
    return _var_std("std_dev", a, dims, correction, keepdim)
