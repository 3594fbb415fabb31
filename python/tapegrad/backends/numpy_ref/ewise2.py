"""The numpy backend's functions of the ewise2 ops (clamp with tensor bounds, round with
decimals, the random functions' nodes), with PyTorch's dtype rules and errors, as the C++ core's
csrc/ops/ewise2.cpp."""

from . import kernels_ewise2  # noqa: F401 - registers the kernels
from .arith import _not_implemented, to_dtype
from .ewise import _NO_BOUND
from .promote import dtype_of, result_type
from .registry import broadcast_shapes
from .tape import _run
from .tensor import _check


def clamp_tensor(a, lo, hi, api=0):
    _check(a)
    bounds = [b for b in (lo, hi) if b is not None]
    if not bounds:
        raise RuntimeError(_NO_BOUND)
    shape = a._arr.shape
    for b in bounds:
        _check(b)
        shape = broadcast_shapes(shape, b._arr.shape)  # PyTorch's error for shapes that clash
    d = result_type(a, *bounds)
    if d.name == "bool" and len(bounds) == 2:
        raise _not_implemented("clamp_cpu", d)
    lo, hi = (None if b is None else to_dtype(b, d) for b in (lo, hi))
    return _run("clamp_tensor", (to_dtype(a, d), lo, hi), {"api": int(api)})


def round_decimals(a, decimals):
    _check(a)
    d = dtype_of(a._arr)
    if not d.is_floating_point:
        raise _not_implemented("round_vml_cpu" if decimals == 0 else "round_cpu", d)
    return _run("round_decimals", (a,), {"decimals": int(decimals)})


def random_grad(sample, a, b, kind):
    return _run("random_grad", (sample, a, b), {"kind": int(kind)})


def var_mean(a, dims=None, correction=1.0, keepdim=False, which=0):
    _check(a)
    if a._arr.dtype.kind != "f":
        name = "std_mean" if which & 1 else "var_mean"
        raise RuntimeError(f"{name} only support floating point and complex dtypes")
    attrs = {"dims": None if dims is None else tuple(int(d) for d in dims)}
    attrs.update(correction=float(correction), keepdim=bool(keepdim), which=int(which))
    return _run("var_mean", (a,), attrs)
