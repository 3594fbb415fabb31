"""The numpy backend's functions of the element-wise, reducing and linear-algebra ops with
PyTorch's dtype rules: promote the operands (promote.py), cast them to the result dtype on the
tape, then run the op's kernel in that dtype. PyTorch's refusals (bool subtraction and negation,
integer means, mixed-dtype matmul) are raised here, with PyTorch's wording."""

import numpy as np

from tapegrad import _dtype
from tapegrad._dtype import BY_CODE, get_default_dtype

from .kernels_linalg import matmul_shape
from .kernels_reduce import _loss_check
from .promote import (
    CPP_NAME,
    TORCH_NAME,
    checked_scalar,
    dtype_of,
    number,
    result_type,
    wrap_scalar,
)
from .registry import broadcast_shapes
from .tape import _run
from .tensor import _check, _new

_SUB_BOOLS = (
    "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
    "`logical_xor()` operator instead."
)
_SUB_BOOL = (
    "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
    "invert a mask, use the `~` or `logical_not()` operator instead."
)
_NEG_BOOL = (
    "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert "
    "a mask, use the `~` or `logical_not()` operator instead."
)
_NEG_POW = "Integers to negative integer powers are not allowed."


def _not_implemented(op, d):
    return NotImplementedError(f"\"{op}\" not implemented for '{TORCH_NAME[d.name]}'")


def _refuse_huge(shape, dtype):
    """Refuse an output over 1 TiB before NumPy tries to allocate it (as the C++ core does)."""
    n = 1
    for s in shape:
        n *= int(s)
    nbytes = n * np.dtype(dtype).itemsize
    if nbytes > 1 << 40:
        shown = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise MemoryError(
            f"tapegrad: refusing to allocate {nbytes} bytes for a tensor of shape {shown} "
            "(the limit is 1 TiB)"
        )


def cast(a, code):
    """A contiguous copy converted to dtype BY_CODE[code]; with a's own code it is PyTorch's
    clone (grad_fn CloneBackward0), else its `to` (ToCopyBackward0)."""
    _check(a)
    if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code < len(BY_CODE):
        raise ValueError(f"unknown dtype code {code!r}: the codes are 0 to {len(BY_CODE) - 1}")
    dt = BY_CODE[code].np
    name = "CloneBackward0" if dt == a._arr.dtype else None
    return _run("cast", (a,), {"code": code}, out_dtype=dt, name=name)


def to_dtype(t, d):
    """t as dtype d: t itself, or its cast (recorded, so that gradients reach t in its dtype)."""
    return t if t._arr.dtype == d.np else cast(t, d.code)


def scalar_tensor(s, d):
    """A 0-dim tensor of dtype d holding Python number s (converted as an op's operand is)."""
    return _new(np.array(wrap_scalar(s, d.np)))


def _is_bool(x):
    return isinstance(x, bool) if not hasattr(x, "_arr") else x._arr.dtype == np.bool_


def check_sub(a, b):
    """PyTorch refuses `-` when an operand is bool (a tensor or a Python bool)."""
    if _is_bool(a) and _is_bool(b):
        raise RuntimeError(_SUB_BOOLS)
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError(_SUB_BOOL)


def _true_div(d):
    """div's result dtype: true division of integers and bools gives the default float dtype."""
    return d if d.is_floating_point else get_default_dtype()


# ---------------------------------------------------------------- binary and scalar ops


def binary(op, a, b):
    """add sub mul div of two tensors: broadcast, promote, compute in the result dtype (bool
    add is `or`, bool mul `and`; integers wrap)."""
    _check(a)
    _check(b)
    if op == "sub":
        check_sub(a, b)
    out = result_type(a, b)
    if op == "div":
        out = _true_div(out)
    shape = broadcast_shapes(a._arr.shape, b._arr.shape)
    _refuse_huge(shape, out.np)
    attrs = {}
    if (
        op in ("mul", "div")
        and out.np == np.float16
        and b._arr.dtype != np.float16
        and b._arr.size == 1
        and a._arr.shape == shape
    ):
        # PyTorch's float16 mul and div read a one-element factor or divisor whole, in float32
        attrs["whole"] = b._arr.reshape(()).astype(np.float32)
    return _run(op, (to_dtype(a, out), to_dtype(b, out)), attrs)


def _attr(s, d):
    """Scalar s as the kernel's attribute for result dtype d: a float for floating results,
    else s converted into d (integers keep their low bits: uint8 + 300 adds 44)."""
    if d.is_floating_point:
        return float(s)
    return wrap_scalar(s, d.np).item()


def scalar_op(op, a, s):
    """The *_scalar ops: tensor a and Python number s (bool, int or float)."""
    _check(a)
    s = number(s)
    if op == "rsub_scalar":
        check_sub(a, s)
    out = result_type(a, s)
    if op == "pow_scalar":
        return _pow(a, s, out)
    if op == "rpow_scalar":
        if out is _dtype.bool:
            raise _not_implemented("pow", out)
    elif op in ("div_scalar", "rdiv_scalar"):
        out = _true_div(out)
    attr = _attr(s, out)
    if out is _dtype.float16 and op in ("add_scalar", "rsub_scalar"):
        # PyTorch casts the scalar of an add/sub to float16 first (mul and div read it whole)
        attr = float(np.float16(attr))
    return _run(op, (to_dtype(a, out),), {"s": attr})


def _pow(a, s, out):
    if out is _dtype.bool:  # bool ** bool: x ** True is x, x ** False is True
        return cast(a, out.code) if s else _new(np.ones(a._arr.shape, dtype=np.bool_))
    if not out.is_floating_point:
        checked_scalar(s, out.np)  # the exponent must fit the dtype (no wrapping here)
        if s < 0:
            raise RuntimeError(_NEG_POW)
        return _run("pow_scalar", (to_dtype(a, out),), {"s": int(s)})
    return _run("pow_scalar", (to_dtype(a, out),), {"s": float(s)})


# ---------------------------------------------------------------- unary ops and reductions

_FLOATING_ONLY = frozenset(
    ("exp", "log", "tanh", "sigmoid", "sin", "cos")
    + ("sqrt", "rsqrt", "tan", "expm1", "log2", "log10", "log1p", "reciprocal")
)
_ROUNDS = frozenset(("floor", "ceil", "round", "trunc"))


def unary(op, a):
    """exp log tanh sigmoid sin cos compute integers and bools in the default float dtype;
    neg abs relu keep integer dtypes and refuse bool as PyTorch does."""
    _check(a)
    d = dtype_of(a._arr)
    if op in _FLOATING_ONLY and not d.is_floating_point:
        a = cast(a, get_default_dtype().code)
    elif op in _ROUNDS and not d.is_floating_point:
        if d is _dtype.bool:
            raise _not_implemented(f"{op}_vml_cpu", d)
        return cast(a, d.code)  # PyTorch copies an integer input
    elif op == "sign" and not d.is_floating_point:
        return cast(a, d.code) if d is _dtype.bool else _run(op, (a,), {})
    elif d is _dtype.bool:
        if op == "neg":
            raise RuntimeError(_NEG_BOOL)
        if op == "abs":
            raise _not_implemented("abs_cpu", d)
        if op == "relu":
            raise RuntimeError("Boolean inputs not supported for relu")
    return _run(op, (a,), {})


def reduce(op, a, dims, keepdim):
    """sum of integers and bools is int64 (summed in int64); mean of them is PyTorch's error."""
    _check(a)
    d = dtype_of(a._arr)
    if not d.is_floating_point:
        if op == "mean":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {TORCH_NAME[d.name]}"
            )
        a = to_dtype(a, _dtype.int64)
    return _run(op, (a,), {"dims": dims, "keepdim": keepdim})


# ---------------------------------------------------------------- matmul, linear and the losses


def _matmul_dtypes(na, nb, da, db):
    """PyTorch's refusal of mixed or bool operands; its message depends on the kernel the
    shapes reach (dot, addmv, addmm or bmm)."""
    ta, tb = TORCH_NAME[da.name], TORCH_NAME[db.name]
    if da is not db:
        if na == 1 and nb == 1:
            msg = f"dot : expected both vectors to have same dtype, but found {ta} and {tb}"
        elif nb == 1:
            msg = f"addmv input tensors must have the same dtype, but got {tb}, {ta}, and {tb}"
        elif nb == 2:
            ca, cb = CPP_NAME[da.name], CPP_NAME[db.name]
            msg = f"expected m1 and m2 to have the same dtype, but got: {ca} != {cb}"
        else:
            msg = f"expected scalar type {ta} but found {tb}"
        raise RuntimeError(msg)
    if da is _dtype.bool:
        op = "dot" if na == nb == 1 else "addmv_impl_cpu" if nb == 1 else "addmm_impl_cpu_"
        raise _not_implemented("bmm" if nb > 2 else op, da)


def matmul(a, b):
    _check(a)
    _check(b)
    shape = matmul_shape(a._arr.shape, b._arr.shape)
    _matmul_dtypes(a._arr.ndim, b._arr.ndim, dtype_of(a._arr), dtype_of(b._arr))
    _refuse_huge(shape, a._arr.dtype)
    return _run("matmul", (a, b), {})


def linear(x, w, b=None):
    """x @ w.T + b. Mixed dtypes are PyTorch's addmm (with a bias) or mm errors."""
    _check(x)
    _check(w)
    dx, dw = dtype_of(x._arr), dtype_of(w._arr)
    if b is not None:
        _check(b)
        db = dtype_of(b._arr)
        if db is not dw:
            raise RuntimeError(
                "self and mat2 must have the same dtype, but got "
                f"{TORCH_NAME[db.name]} and {TORCH_NAME[dw.name]}"
            )
        if dx is not dw:
            raise RuntimeError(
                "mat1 and mat2 must have the same dtype, but got "
                f"{TORCH_NAME[dx.name]} and {TORCH_NAME[dw.name]}"
            )
    elif dx is not dw:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{CPP_NAME[dx.name]} != {CPP_NAME[dw.name]}"
        )
    if dx is _dtype.bool:
        raise _not_implemented("addmm_impl_cpu_", dx)
    if w._arr.ndim == 2 and x._arr.ndim >= 1:
        _refuse_huge(x._arr.shape[:-1] + (w._arr.shape[0],), dx.np)
    return _run("linear", (x, w, b), {})


def mse_loss(a, b, reduction="mean"):
    """The operands are promoted (PyTorch's mse_loss does); only floating results exist."""
    _check(a)
    _check(b)
    out = result_type(a, b)
    if not out.is_floating_point:
        raise _not_implemented("mse_cpu", out)
    return _run("mse_loss", (to_dtype(a, out), to_dtype(b, out)), {"reduction": reduction})


def l1_loss(a, b, reduction="mean"):
    """Promoted; integers compute as PyTorch's composite: abs(a - b), then sum (int64) or
    mean (its error); bools fail in the subtraction."""
    _check(a)
    _check(b)
    out = result_type(a, b)
    if out.is_floating_point:
        return _run("l1_loss", (to_dtype(a, out), to_dtype(b, out)), {"reduction": reduction})
    _loss_check("l1_loss", a._arr, b._arr, reduction)
    d = unary("abs", binary("sub", a, b))
    if reduction == "none":
        return d
    return reduce("sum" if reduction == "sum" else "mean", d, None, False)


def to_number(s, d):
    """Python number s as a scalar of tapegrad dtype d (checked: fill_)."""
    return checked_scalar(number(s), d.np)
