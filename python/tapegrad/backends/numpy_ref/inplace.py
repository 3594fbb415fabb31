"""The numpy backend's in-place functions: iop, fill_, copy_, index_put_ (docs/backends.md,
In-place rules).

They write through the tensor's geometry into its storage, so every alias sees the new values,
and bump the shared version counter. When autograd records them:

- a tensor that is no view takes over the history of the out-of-place result;
- a view v of base b (PyTorch's semantics): r = op(a copy of v carrying v's history, other) is
  recorded out of place, its values are written into v's places, and b's history becomes
  CopySlices(b's previous history, r's history) (views.rebase).
"""

import numpy as np

from tapegrad._grad_mode import is_grad_enabled
from tapegrad.tensor import Tensor as _Base

from .promote import TORCH_NAME, category, convert, dtype_of, is_float, number, result_type
from .registry import broadcast_shapes
from .tape import _run
from .tensor import _check, _new, _refresh
from .views import clone_with_history, overlap_check, rebase, view_op

_LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_OF_LEAF = (
    "a view of a leaf Variable that requires grad is being used in an in-place operation."
)


def _history_carrier(a, copy_values):
    """A stand-in for `a` before an in-place op: same history, a private copy when saved."""
    c = _new(a._arr.copy() if copy_values else a._arr)
    c._rg, c._fn = a._rg, a._fn
    return c


def _take_over(a, res):
    """After a recorded in-place op, `a` (no view) continues the history of `res`."""
    a._fn, a._rg = res._fn, True


def _prologue(a, other=None):
    """Common checks; returns whether the in-place op is recorded."""
    if not is_grad_enabled():
        return False
    _refresh(a)
    if other is not None:
        _refresh(other)
    if a._rg:
        if a._base is not None and a._base._fn is None:
            raise RuntimeError(_VIEW_OF_LEAF)
        if a._base is None and a._fn is None:
            raise RuntimeError(_LEAF_INPLACE)
    return a._rg or (other is not None and other._rg)


def _check_into(a_shape, b_shape):
    shape = broadcast_shapes(a_shape, b_shape)
    if shape != a_shape:
        raise RuntimeError(
            f"output with shape {list(a_shape)} doesn't match the broadcast shape {list(shape)}"
        )


def _write(a, values):
    with np.errstate(all="ignore"):
        a._arr[...] = values
    a._ver[0] += 1


def _cast_to(t, a):
    from .arith import to_dtype

    return to_dtype(t, dtype_of(a._arr))


def _check_castable(op, a, other):
    """PyTorch computes `a op= other` in the promoted dtype and refuses a result of a higher
    category than a's (int_t += 1.5, int_t /= 2, bool_t += 1)."""
    from .arith import _true_div, check_sub

    if op == "sub":
        check_sub(a, other)
    out = result_type(a, other)
    if op == "div":
        out = _true_div(out)
    if out._cat > category(a._arr):
        raise RuntimeError(
            f"result type {TORCH_NAME[out.name]} can't be cast to the desired output type "
            f"{TORCH_NAME[dtype_of(a._arr).name]}"
        )


_SCALAR_OF = {"add": "add_scalar", "sub": "add_scalar", "mul": "mul_scalar", "div": "div_scalar"}


def iop(op, a, other):
    """a (op)= other, op in add sub mul div; other a tensor or a number; computed in the
    promoted dtype and converted to a's (integers wrap; float16 rounds)."""
    from .arith import binary, scalar_op

    _check(a)
    if op not in _SCALAR_OF:
        raise ValueError(f"unknown in-place op {op!r}")
    is_tensor = isinstance(other, _Base)
    if is_tensor:
        _check(other)
        _check_into(a._arr.shape, other._arr.shape)
    else:
        other = s = number(other)
    _check_castable(op, a, other)
    recorded = _prologue(a, other if is_tensor else None)
    overlap_check(a, (other,) if is_tensor else ())
    view = recorded and a._base is not None
    if view:
        src = clone_with_history(a)
    elif recorded:
        src = _history_carrier(a, is_tensor and op in ("mul", "div"))
    else:
        src = a
    if is_tensor:
        # Computed in the promoted dtype, then rounded into a's dtype (as PyTorch does). When
        # `other` aliases `a` and is saved (`x.mul_(x)`), the write makes backward raise.
        res = _cast_to(binary(op, src, other), a)
    else:
        res = _cast_to(scalar_op(_SCALAR_OF[op], src, -s if op == "sub" else s), a)
    _write(a, res._arr)
    if view:
        rebase(a, res)
    elif recorded:
        _take_over(a, res)
    return a


def fill_(a, value):
    """Every element of a := value, converted as PyTorch's fill_ converts: checked (an
    out-of-range value is PyTorch's overflow error), float16 through float32."""
    from .arith import to_number

    _check(a)
    value = to_number(value, dtype_of(a._arr))
    recorded = _prologue(a)
    overlap_check(a)
    view = recorded and a._base is not None
    if recorded and not view:  # PyTorch's FillBackward: the old history gets a zero gradient
        res = _run("mul_scalar", (_history_carrier(a, False),), {"s": 0.0})
    _write(a, value)
    if view:
        rebase(a, None)
    elif recorded:
        _take_over(a, res)
    return a


def copy_(a, src):
    """a := src broadcast to a's shape and converted to a's dtype (PyTorch's conversions,
    promote.convert). Into a non-floating tensor nothing is recorded."""
    _check(a)
    _check(src)
    _check_into(a._arr.shape, src._arr.shape)
    recorded = _prologue(a, src) and is_float(a._arr)
    overlap_check(a, (src,))
    view = recorded and a._base is not None
    values = convert(src._arr, a._arr.dtype)
    if view:
        r = None
        if src._rg:
            r = _cast_to(src, a)
            if r._arr.shape != a._arr.shape:
                r = view_op("expand", r, {"sizes": a._arr.shape})
    elif recorded:
        # History: zero gradient to a's old value, src's gradient summed back to src's shape.
        old = _history_carrier(a, False)
        base = _run("mul_scalar", (old,), {"s": 0.0}) if a._rg else _new(np.zeros_like(a._arr))
        res = _run("add", (base, _cast_to(src, a)), {})
    _write(a, values)
    if view:
        rebase(a, r)
    elif recorded:
        _take_over(a, res)
    return a


def index_put_(a, idx, v, accumulate=False):
    """a[idx] = v (accumulate: +=) in place, PyTorch's index_put_ (idx as for index_put)."""
    from .indexing import check_index_put, index_put

    check_index_put(a, idx, v)
    recorded = _prologue(a, v)
    overlap_check(a, (v,))
    view = recorded and a._base is not None
    if view:
        src = clone_with_history(a)
    elif recorded:
        src = _history_carrier(a, False)  # index_put's backward reads no values of a
    else:
        src = a
    res = index_put(src, idx, v, accumulate)
    _write(a, res._arr)
    if view:
        rebase(a, res)
    elif recorded:
        _take_over(a, res)
    return a


def put_(a, idx, v, accumulate=False, value=False):
    """a.scatter_(...) / a.scatter_add_(...): put's values (shapeops.put) written into a."""
    from .shapeops import put

    _check(a)
    _check(v)
    recorded = _prologue(a, v)
    overlap_check(a, (v,))
    view = recorded and a._base is not None
    if view:
        src = clone_with_history(a)
    elif recorded:
        src = _history_carrier(a, False)  # put's backward reads no values of a
    else:
        src = a
    res = put(src, idx, v, accumulate, value)
    _write(a, res._arr)
    if view:
        rebase(a, res)
    elif recorded:
        _take_over(a, res)
    return a
