"""The numpy backend's advanced-indexing functions: index and index_put (out of place; the
in-place index_put_ is in inplace.py). The front end turns Python indices into one int64 index
tensor of shape B + (k,), entries non-negative and in range. Kernels: kernels_index.py."""

import numpy as np

from .arith import _refuse_huge
from .promote import torch_name
from .tape import _run
from .tensor import _check


def _check_idx(a, idx):
    _check(a)
    _check(idx)
    if idx._arr.dtype != np.int64:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if idx._arr.ndim == 0 or not 1 <= idx._arr.shape[-1] <= a._arr.ndim:
        raise IndexError(f"too many indices for tensor of dimension {a._arr.ndim}")
    k = idx._arr.shape[-1]
    return idx._arr.shape[:-1] + a._arr.shape[k:]


def index(a, idx):
    """a[idx[..., 0], ..., idx[..., k-1]]: shape B + a.shape[k:] (IndexBackward0)."""
    shape = _check_idx(a, idx)
    _refuse_huge(shape, a._arr.dtype)
    return _run("index", (a, idx), {})


def check_index_put(a, idx, v):
    """PyTorch's refusals: v of another dtype, v not broadcastable to the indexed shape."""
    target = _check_idx(a, idx)
    _check(v)
    if v._arr.dtype != a._arr.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{torch_name(a._arr)} for the destination and {torch_name(v._arr)} for the source."
        )
    vs = v._arr.shape
    if len(vs) > len(target) or any(
        s != 1 and s != t for s, t in zip(reversed(vs), reversed(target))
    ):
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(vs)} cannot be broadcast to indexing "
            f"result of shape {list(target)}"
        )


def index_put(a, idx, v, accumulate=False):
    """A copy of a with v written (accumulate: added) at idx (IndexPutBackward0)."""
    check_index_put(a, idx, v)
    return _run("index_put", (a, idx, v), {"accumulate": bool(accumulate)})
