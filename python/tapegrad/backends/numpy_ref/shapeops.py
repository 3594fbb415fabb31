"""The numpy backend's cat, repeat, take and put (kernels: kernels_shapeops.py). The front end
(tapegrad/_ops_shape.py) checks the arguments and computes the coordinates."""

from .arith import _refuse_huge
from .tape import _run
from .tensor import _check


def cat(tensors, dim, stack=False):
    """The tensors (one dtype) joined along dim (CatBackward0); stack: along a new dim
    (StackBackward0)."""
    for t in tensors:
        _check(t)
    return _run("cat", tuple(tensors), {"dim": int(dim), "stack": bool(stack)})


def _take_shape(a, idx):
    _check(a)
    _check(idx)
    shape = idx._arr.shape[:-1]
    _refuse_huge(shape, a._arr.dtype)


def repeat(a, idx, repeats):
    """a at the full coordinates idx, recorded as a.repeat(*repeats) (RepeatBackward0)."""
    _take_shape(a, idx)
    return _run("repeat", (a, idx), {"repeats": tuple(int(r) for r in repeats)})


def take(a, idx, kind):
    """a at the full coordinates idx; kind names the public op (kernels_shapeops.TAKE_NAMES)."""
    _take_shape(a, idx)
    return _run("take", (a, idx), {"kind": int(kind)})


def put(a, idx, v, accumulate, value):
    """A copy of a with v written (accumulate: added) at the full coordinates idx."""
    _check(a)
    _check(idx)
    _check(v)
    return _run("put", (a, idx, v), {"accumulate": bool(accumulate), "value": bool(value)})
