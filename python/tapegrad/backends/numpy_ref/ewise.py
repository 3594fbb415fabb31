"""The numpy backend's functions of the ewise ops (clamp, maximum, minimum, pow with a tensor
exponent, the activations), with PyTorch's dtype rules and errors, as the C++ core's
csrc/ops/ewise.cpp and csrc/ops/activation.cpp."""

from .arith import _not_implemented, to_dtype
from .promote import dtype_of, number, result_type
from .registry import broadcast_shapes
from .tape import _run
from .tensor import _check

_NO_BOUND = "torch.clamp: At least one of 'min' or 'max' must not be None"


def _value(s, d):
    """A bound as the kernel's attribute for result dtype d."""
    if s is None:
        return None
    s = number(s)
    return float(s) if d.is_floating_point else int(s)


def clamp(a, lo, hi, api=0):
    _check(a)
    if lo is None and hi is None:
        raise RuntimeError(_NO_BOUND)
    d = result_type(a, *[s for s in (lo, hi) if s is not None])
    if d.name == "bool":
        raise _not_implemented("clamp_scalar_cpu", d)
    attrs = {"lo": _value(lo, d), "hi": _value(hi, d), "api": int(api)}
    return _run("clamp", (to_dtype(a, d),), attrs)


def hardtanh(a, lo, hi):
    _check(a)
    d = dtype_of(a._arr)
    if d.name == "bool":
        raise _not_implemented("clamp_scalar_cpu", d)
    return _run("hardtanh", (a,), {"lo": _value(lo, d), "hi": _value(hi, d)})


def _binary(op, a, b):
    _check(a)
    _check(b)
    broadcast_shapes(a._arr.shape, b._arr.shape)  # PyTorch's error for shapes that clash
    d = result_type(a, b)
    return _run(op, (to_dtype(a, d), to_dtype(b, d)), {})


def maximum(a, b):
    return _binary("maximum", a, b)


def minimum(a, b):
    return _binary("minimum", a, b)


def pow(a, b):  # noqa: A001 - the op's name
    return _binary("pow", a, b)


def _floating(a, kernel):
    _check(a)
    d = dtype_of(a._arr)
    if not d.is_floating_point:
        raise _not_implemented(kernel, d)


def leaky_relu(a, slope):
    _floating(a, "leaky_relu_cpu")
    return _run("leaky_relu", (a,), {"slope": float(slope)})


def elu(a, alpha):
    _floating(a, "elu_cpu")
    return _run("elu", (a,), {"alpha": float(alpha)})


def gelu(a, approximate):
    _floating(a, "GeluKernelImpl")
    return _run("gelu", (a,), {"approximate": int(approximate)})


def silu(a):
    _floating(a, "silu_cpu")
    return _run("silu", (a,), {})


def softplus(a, beta, threshold):
    _floating(a, "softplus_cpu")
    return _run("softplus", (a,), {"beta": float(beta), "threshold": float(threshold)})
