"""A forward-only float64 evaluator of the reference kernels, for gradcheck's finite differences.

It is a backend module in the sense of docs/backends.md (op functions with the protocol's
signatures, `from_numpy`, `to_numpy`, ...), so any function written with tapegrad's `Tensor`
API runs on it unchanged. Every op calls the NumPy reference kernel (`numpy_ref.KERNELS`) with a
float64 `Ctx`: the math of the reference, in float64, with no rounding anywhere. There is no tape
(finite differences need only forward values).

A tensor keeps a *nominal* dtype (float32 or float16: what the same program would store, so that
`.half()`, `.to(x.dtype)` and type promotion behave as on the real backends) while its values
stay float64.
"""

import sys

import numpy as np

from .. import _oplist
from .._dtype import BY_CODE, float16, float32
from ..backends.numpy_ref import KERNELS, Ctx
from ..tensor import _MIX
from ..tensor import Tensor as _Base

name = "float64-reference"
_F64 = np.dtype(np.float64)


class F64Tensor(_Base):
    __slots__ = ("_arr", "_dt", "_ver")

    def __init__(self, *args, **kwargs):
        raise TypeError("internal to tapegrad.autograd.gradcheck")

    shape = property(lambda self: self._arr.shape)
    dtype = property(lambda self: self._dt)
    ndim = property(lambda self: self._arr.ndim)
    requires_grad = property(lambda self: False, lambda self, v: None)
    grad = property(lambda self: None, lambda self, v: None)
    grad_fn = property(lambda self: None)
    is_leaf = property(lambda self: True)
    _version = property(lambda self: self._ver[0])
    _is_param = False
    # geometry (Tensor's stride() and friends): the NumPy array's; views of a view share memory
    _strides = property(lambda self: tuple(s // 8 for s in self._arr.strides))
    _offset = 0
    _base = None
    _data_ptr = property(lambda self: self._arr.__array_interface__["data"][0])

    @property
    def data(self):
        return _new(self._arr, self._dt)


F64Tensor._be = sys.modules[__name__]
Tensor = F64Tensor


def _new(arr, dt):
    t = object.__new__(F64Tensor)
    t._arr = np.asarray(arr, dtype=_F64)
    t._dt = dt
    t._ver = [0]
    return t


def _check(t):
    if not isinstance(t, F64Tensor):
        other = getattr(getattr(t, "_be", None), "name", type(t).__name__)
        raise RuntimeError(_MIX.format(name, other))


def from_numpy(arr, requires_grad=False):
    dt = float16 if arr.dtype == np.float16 else float32
    return _new(np.array(arr, dtype=_F64), dt)


def to_numpy(t):
    _check(t)
    return t._arr


def item(t):
    return float(t._arr.reshape(-1)[0])


def detach(t):
    _check(t)
    d = _new(t._arr, t._dt)
    d._ver = t._ver
    return d


def backward(t, grad, retain_graph=False):
    raise RuntimeError("gradcheck: the function must not call backward() itself")


def set_num_threads(n):
    pass


def get_num_threads():
    return 1


def _run(op, args):
    """Forward of `op` in float64: tensor arguments become arrays, the others pass through."""
    arrays, dt = [], None
    for a in args:
        if isinstance(a, _Base):
            _check(a)
            arrays.append(a._arr)
            dt = a._dt if dt is None or a._dt is float32 else dt
        else:
            arrays.append(a)
    if op == "cast":
        dt = BY_CODE[args[1]]
    with np.errstate(all="ignore"):
        y = KERNELS[op].forward(Ctx(np.float64), *arrays)
    if _oplist.KIND.get(op) == "view":  # a NumPy view of the input: in-place changes alias
        out = _new(y, dt)
        out._ver = args[0]._ver
        return out
    return _new(np.array(y, dtype=_F64), dt)


def _op(op):
    def f(*args):
        return _run(op, args)

    f.__name__ = op
    return f


for _name in KERNELS:
    setattr(sys.modules[__name__], _name, _op(_name))

OPS = tuple(KERNELS)


def iop(op, a, other):
    if isinstance(other, _Base):
        res = _run(op, (a, other))
    elif op == "sub":
        res = _run("add_scalar", (a, -float(other)))
    else:
        res = _run(op + "_scalar", (a, float(other)))
    a._arr[...] = res._arr
    a._ver[0] += 1
    return a


def fill_(a, value):
    a._arr[...] = float(value)
    a._ver[0] += 1
    return a


def copy_(a, src):
    _check(src)
    a._arr[...] = src._arr
    a._ver[0] += 1
    return a
