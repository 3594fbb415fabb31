"""The numpy backend's tensor: `NTensor`, a strided view of a storage array (any of tapegrad's
nine dtypes) plus autograd state, and the checks every function of the backend makes on its
arguments.

Storage and aliasing (PyTorch's tensor model): a tensor is (storage, sizes, strides, offset), in
elements. The storage is a flat, contiguous ndarray; `_arr` is the NumPy view of it that the
geometry names, so writing through `_arr` changes every alias. Ops make new contiguous storage;
view ops (kernels_shape.py), `detach` and `.data` make aliases of the same storage. Views and
detached aliases share the version counter; `.data` has its own. Arrays are never changed in place
except by the in-place functions (inplace.py), the optimizers and leaf grad accumulation.
"""

import warnings

import numpy as np

from tapegrad._dtype import BY_CODE
from tapegrad._tensor_args import _Size
from tapegrad.tensor import _MIX
from tapegrad.tensor import Tensor as _Base

name = "numpy"

_F32, _F16 = np.dtype(np.float32), np.dtype(np.float16)
_DTYPES = {d.np: d for d in BY_CODE}  # the NumPy dtypes a storage may have

# PyTorch's wording: the setter's, and that of the factories (and from_numpy)
_GRAD_DTYPE = "only Tensors of floating point and complex dtype can require gradients"
GRAD_DTYPE = "Only Tensors of floating point and complex dtype can require gradients"


# PyTorch's warning for reading the .grad of a non-leaf tensor that does not retain it
NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead."
)


def _retains(t):
    h = t._fn.hooks
    return h is not None and h.retain is not None


class NTensor(_Base):
    """A tensor of the numpy backend.

    _st       the storage: a flat, C-contiguous ndarray of one of the nine dtypes (aliases share
              it; from_numpy_shared's is a view of the caller's array)
    _strides  element strides, one per dim (PyTorch's strides)
    _offset   element offset of element (0, ..., 0) in the storage
    _arr      the ndarray view of _st at that geometry (shape, values: what ops read and write)
    _ver      [version]: the version counter, a list shared with views and detached aliases
    _rg       requires_grad
    _grad     None or an NTensor
    _fn       None (a leaf) or the Node that made it
    _is_param marks an nn.Parameter
    _base     None, or (a view) the tensor whose storage it views; never itself a view
    _vver     a view: the version of the storage when its grad_fn was made (views.py)
    """

    __slots__ = ("_st", "_strides", "_offset", "_arr", "_ver", "_rg", "_grad", "_fn",
                 "_is_param", "_base", "_vver", "_hooks", "__weakref__")  # fmt: skip

    def __init__(self, *args, **kwargs):
        if hasattr(self, "_arr"):  # made by tapegrad.Tensor(...) (the legacy constructor)
            return
        raise TypeError("use tapegrad.tensor(...) or the factories to make tensors")

    @property
    def shape(self):
        return _Size(self._arr.shape)

    @property
    def dtype(self):
        return _DTYPES[self._arr.dtype]

    @property
    def ndim(self):
        return self._arr.ndim

    @property
    def requires_grad(self):
        _refresh(self)
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        _refresh(self)
        if self._fn is not None:
            msg = "you can only change requires_grad flags of leaf variables."
            if not value:
                msg += (
                    " If you want to use a computed variable in a subgraph that doesn't require "
                    "differentiation use var_no_grad = var.detach()."
                )
            raise RuntimeError(msg)
        if value and not _DTYPES[self._arr.dtype].is_floating_point:
            raise RuntimeError(_GRAD_DTYPE)
        self._rg = value

    @property
    def grad(self):
        g = self._grad
        if g is None and self._fn is not None and not _retains(self):
            warnings.warn(NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return g

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
        _refresh(self)
        return self._fn

    @property
    def is_leaf(self):
        _refresh(self)
        return self._fn is None

    @property
    def data(self):
        return _alias(self, self._arr.shape, self._strides, self._offset)

    @data.setter
    def data(self, value):
        if not isinstance(value, _Base):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        _check(value)
        # shares value's storage, as PyTorch does
        self._st, self._arr = value._st, value._arr
        self._strides, self._offset = value._strides, value._offset

    @property
    def _version(self):
        return self._ver[0]

    @property
    def _data_ptr(self):
        return self._st.ctypes.data + self._offset * self._st.itemsize


def _new(arr):
    """A leaf NTensor owning new storage with `arr`'s values (no grad, fresh version counter).
    `arr` is used as the storage itself when it is C-contiguous (callers pass fresh arrays)."""
    if not arr.flags.c_contiguous:
        arr = arr.copy(order="C")
    t = _NEW(NTensor)
    t._st = arr.reshape(-1)
    t._arr = arr
    t._strides = contiguous_strides(arr.shape)
    t._offset = 0
    t._ver = [0]
    t._rg = False
    t._grad = None
    t._fn = None
    t._is_param = False
    t._base = None
    t._vver = 0
    return t


def _alias(t, shape, strides, offset):
    """A new leaf over t's storage with the given geometry, its own version counter, no view."""
    a = _NEW(NTensor)
    a._st = t._st
    a._arr = strided(t._st, shape, strides, offset)
    a._strides = tuple(strides)
    a._offset = offset
    a._ver = [0]
    a._rg = False
    a._grad = None
    a._fn = None
    a._is_param = False
    a._base = None
    a._vver = 0
    return a


_NEW = object.__new__


def contiguous_strides(shape):
    """PyTorch's strides of a contiguous tensor of `shape` (size-0 dims count as 1)."""
    out, n = [], 1
    for s in reversed(shape):
        out.append(n)
        n *= max(s, 1)
    return tuple(reversed(out))


def is_contiguous(shape, strides):
    """PyTorch's is_contiguous(): row-major and gap-free; size-1 dims may have any stride."""
    if 0 in shape:
        return True
    expect = 1
    for size, st in zip(reversed(shape), reversed(strides)):
        if size != 1:
            if st != expect:
                return False
            expect *= size
    return True


class _Interface:
    """An object exposing an array interface (how `strided` makes a NumPy view of any geometry)."""

    def __init__(self, interface, base):
        self.__array_interface__ = interface
        self.base = base


def strided(x, shape, strides, offset):
    """A NumPy view of ndarray `x`'s memory: element strides and offset relative to x's first
    element (the caller keeps them in bounds), sharing x's memory and writeability."""
    shape, size = tuple(int(s) for s in shape), x.itemsize
    iface = dict(x.__array_interface__)
    ptr, readonly = iface["data"]
    iface["data"] = (ptr + int(offset) * size, readonly)
    iface["shape"] = shape
    iface["strides"] = tuple(int(s) * size for s in strides)
    iface.pop("mask", None)
    arr = np.asarray(_Interface(iface, x))
    return arr


def _check(t):
    if not isinstance(t, NTensor):
        if hasattr(t, "_be"):
            raise RuntimeError(_MIX.format(name, t._be.name))
        raise TypeError(f"expected a tapegrad tensor, got {type(t).__name__}")


def _scalar(s):
    if isinstance(s, (bool, int, float, np.integer, np.floating)):
        return float(s)
    raise TypeError(f"expected a Python number, got {type(s).__name__}")


def _refresh(t):
    """Before t's history is used: regenerate a stale view's grad_fn (views.py)."""
    b = t._base
    if b is not None and t._vver != t._ver[0]:
        _REFRESH[0](t)


_REFRESH = [None]  # views.refresh, set when views.py is imported
