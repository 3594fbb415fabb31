"""norm, linalg.vector_norm, linalg.norm (vector cases) and `_Norm`, the Tensor method.

Every call ends in one op of the list, vector_norm (grad_fn LinalgVectorNormBackward0;
ops/reduce_norm.cpp and the NumPy reference's kernels_norm.py): PyTorch 2.13's torch.norm of a
number p or 'fro' and linalg.norm's vector and Frobenius cases call linalg.vector_norm too. This
module checks the arguments with PyTorch's errors; the matrix norms (nuc, ord 1/2/inf of a
matrix) are not implemented and say so.
"""

import math
import numbers

from ._dtype import TORCH_NAMES, dtype_arg, promote_types
from ._tensor_args import _norm_dim

_MATRIX_ORDS = (1, -1, 2, -2, math.inf, -math.inf)


def _tensor(x, fn):
    from .tensor import Tensor

    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}"
        )
    return x


def _ord_text(o):
    return f"{o:g}"


def _dims(dim, ndim, fn):
    """dim as a list of ints in range (None: all), with PyTorch's errors."""
    if dim is None:
        return None
    items = [dim] if isinstance(dim, numbers.Integral) else dim
    if not isinstance(items, (list, tuple)):
        raise TypeError(
            f"{fn}(): argument 'dim' (position 3) must be tuple of ints, not {type(dim).__name__}"
        )
    out = []
    for i, d in enumerate(items):
        if not isinstance(d, numbers.Integral) or isinstance(d, bool):
            raise TypeError(
                f"{fn}(): argument 'dim' failed to unpack the object at pos {i + 1} with error "
                f'"type must be tuple of ints,but got {type(d).__name__}"'
            )
        n = _norm_dim(d, ndim)
        if n in out:
            raise RuntimeError(f"dim {n} appears multiple times in the list of dims")
        out.append(n)
    return out


def _number(ord, fn):
    from .tensor import Tensor

    if isinstance(ord, Tensor) and ord.numel() == 1:
        return float(ord.item())
    if not isinstance(ord, numbers.Number) or isinstance(ord, complex):
        raise TypeError(f"{fn}(): argument 'ord' must be Number, not {type(ord).__name__}")
    return float(ord)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """tapegrad.linalg.vector_norm: PyTorch's torch.linalg.vector_norm (no out=)."""
    x = _tensor(x, "linalg_vector_norm")
    p = _number(ord, "linalg_vector_norm")
    if out is not None:
        raise NotImplementedError("tapegrad.linalg.vector_norm: out= is not supported")
    if not x.dtype.is_floating_point:
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {TORCH_NAMES[x.dtype.name]}"
        )
    code = None
    if dtype is not None:
        dt = dtype_arg(dtype, "linalg_vector_norm")
        if not dt.is_floating_point:
            raise RuntimeError(
                "linalg.vector_norm: dtype should be floating point or complex, but got "
                f"{TORCH_NAMES[dt.name]}"
            )
        if promote_types(x.dtype, dt) is not dt:
            raise RuntimeError(
                f"linalg.vector_norm: the dtype of the input ({TORCH_NAMES[x.dtype.name]}) "
                f"should be convertible without narrowing to the specified dtype "
                f"({TORCH_NAMES[dt.name]})"
            )
        code = dt.code
    dims = _dims(dim, x.ndim, "linalg_vector_norm")
    if x.numel() == 0 and (p < 0 or p == math.inf):
        # The norms without an identity (max, min and negative powers) refuse an empty lane.
        if not dims:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {_ord_text(p)} norm on an empty tensor "
                "because the operation does not have an identity"
            )
        for d in dims:
            if x.shape[d] == 0:
                raise RuntimeError(
                    f"linalg.vector_norm cannot compute the {_ord_text(p)} norm on the dimension "
                    f"{d}because this dimension is empty and the operation does not have an "
                    "identity"
                )
    return x._be.vector_norm(x, p, dims or None, bool(keepdim), code)


def _matrix_norm(x, ord, dim, keepdim, dtype):
    """linalg.matrix_norm's argument checks; 'fro' is the 2-norm over the two dims."""
    if x.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."
        )
    if len(dim) != 2:
        raise RuntimeError(
            "linalg.matrix_norm: dim must be a 2-tuple. Got " + " ".join(str(d) for d in dim)
        )
    if isinstance(ord, str):
        if ord == "fro":
            return vector_norm(x, 2, dim, keepdim, dtype=dtype)
        if ord != "nuc":
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    else:
        p = _number(ord, "linalg_matrix_norm")
        if p not in _MATRIX_ORDS:
            raise RuntimeError(f"linalg.matrix_norm: Order {_ord_text(p)} not supported.")
    raise NotImplementedError(
        f"tapegrad: the matrix norm ord={ord!r} (linalg.matrix_norm: singular values, or max/min "
        "of row/column sums) is not implemented; the vector norms and 'fro' are"
    )


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """tapegrad.norm: PyTorch 2.13's torch.norm (a number p or 'fro': linalg.vector_norm)."""
    if out is not None:
        raise NotImplementedError("tapegrad.norm: out= is not supported")
    x = _tensor(input, "norm")
    if dim is not None and not isinstance(dim, numbers.Integral):
        dim = list(dim)
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, numbers.Integral) or len(dim) <= 2):
            return vector_norm(x, 2, dim, keepdim, dtype=dtype)
        dims = list(range(x.ndim)) if dim is None else dim
        dims = [dims] if isinstance(dims, numbers.Integral) else dims
        return _matrix_norm(x, p, dims, keepdim, dtype)
    return vector_norm(x, 2.0 if p is None else p, dim, keepdim, dtype=dtype)


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """tapegrad.linalg.norm: the vector cases and 'fro' (matrix ords raise NotImplementedError)."""
    if out is not None:
        raise NotImplementedError("tapegrad.linalg.norm: out= is not supported")
    x = _tensor(A, "linalg_norm")
    if dim is not None:
        dims = [dim] if isinstance(dim, numbers.Integral) else list(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(
                f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {dims}"
            )
    else:
        dims = None
        if ord is not None and x.ndim not in (1, 2):
            raise RuntimeError(
                "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                f"Got {x.ndim}D."
            )
    if isinstance(ord, str):
        return _matrix_norm(x, ord, [0, 1] if dims is None else dims, keepdim, dtype)
    if ord is not None and (
        (dims is not None and len(dims) == 2) or (dims is None and x.ndim == 2)
    ):
        return _matrix_norm(x, ord, [0, 1] if dims is None else dims, keepdim, dtype)
    return vector_norm(x, 2.0 if ord is None else ord, dims, keepdim, dtype=dtype)


class _Norm:
    """The Tensor method of this module."""

    __slots__ = ()

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The p-norm over `dim` (all elements by default), as `tapegrad.norm`: 'fro' (the default)
        and 2 give the Euclidean norm, a number p gives sum(|x|**p) ** (1/p), inf and -inf the
        largest and smallest |x|."""
        return norm(self, p, dim, keepdim, dtype=dtype)
