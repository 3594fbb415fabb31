"""The numpy backend's tensor: `NTensor`, a C-contiguous ndarray (float32 or float16) plus
autograd state, and the checks every function of the backend makes on its arguments.

Storage and aliasing: `reshape` and `detach` share the ndarray and the version counter; `.data`
shares the ndarray but has its own counter; every other op returns a fresh array. Arrays are never
changed in place except by the in-place functions (iop, fill_, copy_) and leaf grad accumulation.
"""

import numpy as np

from tapegrad._dtype import float16, float32
from tapegrad.tensor import _MIX
from tapegrad.tensor import Tensor as _Base

name = "numpy"

_F32, _F16 = np.dtype(np.float32), np.dtype(np.float16)
_DTYPES = {_F32: float32, _F16: float16}

_STALE_VIEW = (
    "a view of this tensor's storage (or its base) was modified by an in-place operation that "
    "autograd recorded; tapegrad does not rewrite the history of the other views as PyTorch "
    "does. Use .clone() before the in-place operation."
)


class NTensor(_Base):
    """A tensor of the numpy backend.

    _arr      C-contiguous ndarray, float32 or float16 (the storage; views share it)
    _ver      [version]: the version counter, a list shared with views and detached aliases
    _rg       requires_grad
    _grad     None or an NTensor
    _fn       None (a leaf) or the Node that made it
    _is_param marks an nn.Parameter
    _grp      None, or [epoch] shared by a base and its reshape views: bumped when an in-place
              op is recorded on one of them, so the others know their history is stale
    _epoch    the group epoch this tensor's history belongs to
    """

    __slots__ = ("_arr", "_ver", "_rg", "_grad", "_fn", "_is_param", "_grp", "_epoch",
                 "__weakref__")  # fmt: skip

    def __init__(self, *args, **kwargs):
        raise TypeError("use tapegrad.tensor(...) or the factories to make tensors")

    @property
    def shape(self):
        return self._arr.shape

    @property
    def dtype(self):
        return _DTYPES[self._arr.dtype]

    @property
    def ndim(self):
        return self._arr.ndim

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self._fn is not None:
            msg = "you can only change requires_grad flags of leaf variables."
            if not value:
                msg += (
                    " If you want to use a computed variable in a subgraph that doesn't require "
                    "differentiation use var_no_grad = var.detach()."
                )
            raise RuntimeError(msg)
        self._rg = value

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, g):
        if g is not None:
            if not isinstance(g, _Base):
                raise TypeError(
                    "assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(g).__name__}"
                )
            _check(g)
            if g._arr.shape != self._arr.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if g._arr.dtype != self._arr.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = g

    @property
    def grad_fn(self):
        return self._fn

    @property
    def is_leaf(self):
        return self._fn is None

    @property
    def data(self):
        return _new(self._arr)

    @data.setter
    def data(self, value):
        if not isinstance(value, _Base):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        _check(value)
        self._arr = value._arr  # shares value's storage, as PyTorch does
        self._grp, self._epoch = None, 0

    @property
    def _version(self):
        return self._ver[0]


def _new(arr):
    """A leaf NTensor owning `arr` (no grad, fresh version counter)."""
    t = _NEW(NTensor)
    t._arr = arr
    t._ver = [0]
    t._rg = False
    t._grad = None
    t._fn = None
    t._is_param = False
    t._grp = None
    t._epoch = 0
    return t


_NEW = object.__new__


def _check(t):
    if not isinstance(t, NTensor):
        if hasattr(t, "_be"):
            raise RuntimeError(_MIX.format(name, t._be.name))
        raise TypeError(f"expected a tapegrad tensor, got {type(t).__name__}")


def _scalar(s):
    if isinstance(s, (bool, int, float, np.integer, np.floating)):
        return float(s)
    raise TypeError(f"expected a Python number, got {type(s).__name__}")


def _fresh(t):
    """Refuse (in grad mode) a tensor whose history went stale through an aliasing view."""
    if t._grp is not None and t._epoch != t._grp[0]:
        raise RuntimeError(_STALE_VIEW)
