"""The numpy backend's functions of the backend protocol (docs/backends.md): creation and
conversion, the thread count and one function per op (the in-place functions: inplace.py)."""

import os

import numpy as np

from tapegrad import _oplist

from . import arith, views
from .arith import _refuse_huge, cast, l1_loss, linear, matmul, mse_loss  # noqa: F401
from .inplace import copy_, fill_, index_put_, iop, put_  # noqa: F401
from .tape import _run  # noqa: F401
from .tensor import _DTYPES, GRAD_DTYPE, _alias, _check, _new, contiguous_strides, strided
from .views import view_op

# ---------------------------------------------------------------- creation and conversion

_UNSUPPORTED = (
    "can't convert np.ndarray of type numpy.{}. The only supported types are: float64, float32, "
    "float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool."
)


def _check_array(arr, requires_grad):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    if arr.dtype.newbyteorder("=") not in _DTYPES:
        raise TypeError(_UNSUPPORTED.format(arr.dtype.type.__name__))
    _check_rank(arr.shape)
    if requires_grad and arr.dtype.kind != "f":
        raise RuntimeError(GRAD_DTYPE)


def from_numpy(arr, requires_grad=False):
    """A new leaf holding a copy of `arr` (any of the nine dtypes; native byte order)."""
    _check_array(arr, requires_grad)
    t = _new(np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C"))
    t._rg = bool(requires_grad)
    return t


def from_numpy_shared(arr):
    """A leaf sharing `arr`'s memory (PyTorch's torch.from_numpy): writes through either side
    are seen by the other. Any non-negative strides that are whole elements; the storage is a
    flat view of the memory the array spans."""
    _check_array(arr, False)
    if arr.dtype.byteorder not in "=|":
        raise ValueError(
            "given numpy array has byte order different from the native byte order. Conversion "
            "between byte orders is currently not supported."
        )
    item = arr.itemsize
    if any(s < 0 for s in arr.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making "
            "a copy of your array  with array.copy().) "
        )
    if any(s % item for s in arr.strides):
        raise ValueError(
            "given numpy array strides not a multiple of the element byte size. Copy the numpy "
            "array to reallocate the memory."
        )
    strides = tuple(s // item for s in arr.strides)
    span = 0 if arr.size == 0 else 1  # elements from the first to the last, inclusive
    for n, st in zip(arr.shape, strides):  # (this module's `sum` is the op)
        span += (n - 1) * st if arr.size else 0
    t = _new(np.zeros(0, dtype=arr.dtype))
    t._st = strided(arr, (span,), (1,), 0)  # the flat memory; it keeps `arr` alive
    if not arr.flags.writeable and span:  # PyTorch writes through anyway (it only warns)
        t._st = _writable_alias(t._st)
    t._arr = strided(t._st, arr.shape, strides, 0)
    t._strides = strides if arr.size else contiguous_strides(arr.shape)
    return t


def _writable_alias(flat):
    """A writeable array over the same memory as the read-only 1-D `flat` (kept alive by it)."""
    import ctypes

    raw = (ctypes.c_char * flat.nbytes).from_address(flat.ctypes.data)
    raw._keep = flat
    return np.frombuffer(raw, dtype=flat.dtype)


_MAX_DIMS = 8  # as the C++ core


def _check_rank(shape):
    if len(shape) > _MAX_DIMS:
        raise ValueError(f"tapegrad supports tensors of at most {_MAX_DIMS} dimensions")


def to_numpy(t):
    _check(t)
    return t._arr


def item(t):
    _check(t)
    if t._arr.size != 1:
        raise RuntimeError(f"a Tensor with {t._arr.size} elements cannot be converted to Scalar")
    return t._arr.item()  # a Python float, int or bool, as the dtype


def detach(t):
    """An alias of t (same storage, geometry and version counter), not a view, no history."""
    _check(t)
    d = _alias(t, t._arr.shape, t._strides, t._offset)
    d._ver = t._ver
    return d


def _default_threads():
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        n = 0
    return n if n > 0 else (os.cpu_count() or 1)


_threads = [_default_threads()]


def set_num_threads(n):
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    _threads[0] = n


def get_num_threads():
    return _threads[0]


# ---------------------------------------------------------------- the ops


def _dims(dims):
    return None if dims is None else tuple(int(d) for d in dims)


def _ints(xs):
    return tuple(int(x) for x in xs)


def _view(op, a, **attrs):
    _check(a)
    return view_op(op, a, attrs)


def reshape(a, shape):
    """A view when PyTorch's rule allows, else a copy (views.reshape)."""
    _check(a)
    _check_rank(shape)
    return views.reshape(a, _ints(shape))


def view(a, shape):
    _check_rank(shape)
    return _view("view", a, shape=_ints(shape))


def permute(a, dims):
    return _view("permute", a, dims=_ints(dims))


def transpose(a, dim0, dim1):
    return _view("transpose", a, dim0=int(dim0), dim1=int(dim1))


def t(a):
    return _view("t", a)


def select(a, dim, index):
    return _view("select", a, dim=int(dim), index=int(index))


def slice(a, dim, start, end, step):  # noqa: A001
    return _view("slice", a, dim=int(dim), start=int(start), end=int(end), step=int(step))


def unsqueeze(a, dim):
    _check(a)
    _check_rank(a._arr.shape + (1,))
    return _view("unsqueeze", a, dim=int(dim))


def squeeze(a, dims=None):
    """dims: None (every size-1 dim), an int, or a tuple of ints (the grad_fn names differ)."""
    if dims is not None:
        dims = int(dims) if isinstance(dims, (int, np.integer)) else _ints(dims)
    return _view("squeeze", a, dims=dims)


def expand(a, sizes):
    _check_rank(sizes)
    return _view("expand", a, sizes=_ints(sizes))


def as_strided(a, sizes, strides, offset):
    _check_rank(sizes)
    return _view("as_strided", a, sizes=_ints(sizes), strides=_ints(strides), offset=int(offset))


# ---------------------------------------------------------------- the generic kinds of the op list


def _generic(name, kind):
    """The backend function of op `name` of kind unary, binary, scalar or reduce."""
    if kind == "unary":

        def f(a):
            return arith.unary(name, a)
    elif kind == "binary":

        def f(a, b):
            return arith.binary(name, a, b)
    elif kind == "scalar":

        def f(a, s):
            return arith.scalar_op(name, a, s)
    else:

        def f(a, dims=None, keepdim=False):
            return arith.reduce(name, a, _dims(dims), bool(keepdim))

    f.__name__ = f.__qualname__ = name
    return f


for _name in _oplist.NAMES:
    if _oplist.KIND[_name] in ("unary", "binary", "scalar", "reduce"):
        globals()[_name] = _generic(_name, _oplist.KIND[_name])
del _name

# The ops of the compare kind, logical_not, where and the indexing ops (logic.py, indexing.py).
from . import indexing as _indexing  # noqa: E402
from . import logic as _logic  # noqa: E402

for _name in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
              "logical_not", "where"):  # fmt: skip
    globals()[_name] = getattr(_logic, _name)
del _name
index = _indexing.index
index_put = _indexing.index_put
masked_fill = _logic.masked_fill


# `//` and `%` (kernels_divmod.py): both operands of one dtype, promoted by the front end.
def _same_dtype(name, a, b):
    if a._arr.dtype != b._arr.dtype:
        raise ValueError(f"{name}: operands of one dtype expected")


def floor_divide(a, b, whole=None):
    _same_dtype("floor_divide", a, b)
    return _run("floor_divide", (a, b), {"whole": whole})


def remainder(a, b):
    _same_dtype("remainder", a, b)
    return _run("remainder", (a, b), {})


def remainder_scalar(a, b):
    _same_dtype("remainder_scalar", a, b)
    return _run("remainder_scalar", (a, b), {})


def scalar_overload(t):
    """Names t's add/mul/div-by-a-number node as ATen's Scalar overload (AddBackward1, ...)."""
    from .registry import KERNELS

    g = t.grad_fn
    ops = ("add_scalar", "mul_scalar", "div_scalar")
    if g is not None and any(g.kernel is KERNELS[n] for n in ops) and g._name.endswith("0"):
        g._name = g._name[:-1] + "1"
    return t


def sub_scalar(a, s):
    """a - s: add_scalar(a, -s), its node named SubBackward0 as PyTorch's."""
    out = arith.scalar_op("add_scalar", a, -s)
    if out.grad_fn is not None:
        out.grad_fn._name = "SubBackward0"
    return out


# The nnloss ops (nnloss.py), the ewise ops (ewise.py).
from . import nnloss as _nnloss  # noqa: E402
from .ewise import (  # noqa: E402, F401
    clamp,
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    maximum,
    minimum,
    pow,
    silu,
    softplus,
)

# The selecting reductions and cumsum (reduce_select.py).
from .reduce_select import (  # noqa: E402, F401
    amax,
    amin,
    argmax,
    argmin,
    cumsum,
    logsumexp,
    max_all,
    max_dim,
    min_all,
    min_dim,
    std_dev,
    var,
)

for _name in ("softmax", "log_softmax", "nll_loss", "nll_loss2d", "embedding"):
    globals()[_name] = getattr(_nnloss, _name)
del _name
# cat, repeat, take and put (shapeops.py).
# The losses ops (losses.py).
from . import losses as _losses  # noqa: E402
from .shapeops import cat, put, repeat, take  # noqa: E402, F401

for _name in (
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "smooth_l1_loss",
    "huber_loss",
):
    globals()[_name] = getattr(_losses, _name)
del _name
# isort: split
# prod (prodnorm.py).
from .prodnorm import prod_all, prod_dim  # noqa: E402, F401

# isort: split
# addmv, baddbmm, addbmm (mm2.py).
from .mm2 import addbmm, addmv, baddbmm  # noqa: E402, F401

# vector_norm (norm.py).
from .norm import vector_norm  # noqa: E402, F401

# isort: split
# ewise2 (ewise2.py).
from .ewise2 import clamp_tensor, random_grad, round_decimals, var_mean  # noqa: E402, F401

# isort: split
# convolution, the pools and the norms (conv.py).
from .conv import (  # noqa: E402, F401
    adaptive_avg_pool2d,
    avg_pool2d,
    convolution,
    max_pool2d,
    max_pool2d_indices,
    native_batch_norm,
    native_layer_norm,
)
