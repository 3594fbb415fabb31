"""prod: the function and `_ProdNorm`, the Tensor method (a base class of Tensor).

The op is two rows of the op list (prod_all: ProdBackward0; prod_dim: ProdBackward1;
ops/reduce_prod.cpp and the NumPy reference's kernels_prodnorm.py); this module only shapes the
arguments (the `axis=`/`keepdims=` aliases too) and raises PyTorch's errors."""

from . import _ops_reduce
from ._dtype import dtype_arg, int64
from ._ops_reduce import _invalid, _is_int, _parse
from ._tensor_args import _norm_dim

_ops_reduce._SIGS["prod"] = (
    (
        "(*, torch.dtype dtype = None)",
        "(int dim, bool keepdim = False, *, torch.dtype dtype = None)",
    ),
    (
        "(Tensor input, *, torch.dtype dtype = None)",
        "(Tensor input, int dim, bool keepdim = False, *, torch.dtype dtype = None, "
        "Tensor out = None)",
    ),
)


def _prod(t, args, kwargs, method):
    from ._dtype import dtype as _dtype_cls

    b = _parse("prod", method, args, kwargs, ("dim", "keepdim"))
    dim, dt = b.get("dim"), b.get("dtype")
    if dim is None and ("dim" in b or "keepdim" in b):
        raise _invalid("prod", method, args, kwargs)
    if dim is not None and not _is_int(dim):
        raise _invalid("prod", method, args, kwargs)
    if dt is not None and not isinstance(dt, _dtype_cls):
        raise _invalid("prod", method, args, kwargs)
    if dt is not None:
        t = t.to(dtype_arg(dt, "prod"))
    elif not t.dtype.is_floating_point:  # integers and bool multiply in int64, as PyTorch
        t = t.to(int64)
    if dim is None:
        return t._be.prod_all(t)
    return t._be.prod_dim(t, _norm_dim(dim, t.ndim), bool(b.get("keepdim", False)))


class _ProdNorm:
    """The Tensor methods of this module."""

    __slots__ = ()

    def prod(self, *args, **kwargs):
        """The product of all elements, or along `dim` (an int; `keepdim` keeps it as size 1).
        Integer and bool inputs give int64 unless `dtype` is given."""
        return _prod(self, args, kwargs, True)


def prod(input, *args, **kwargs):
    """tapegrad.prod(input, ...): PyTorch's torch.prod (as input.prod(...))."""
    from .tensor import Tensor

    if not isinstance(input, Tensor):
        raise TypeError(
            f"prod(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    return _prod(input, args, kwargs, False)
