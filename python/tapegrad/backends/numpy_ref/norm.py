"""The numpy backend's vector_norm (kernel: kernels_norm.py). The front end
(tapegrad/_ops_norm.py) normalises the dims and raises PyTorch's errors for the arguments."""

from tapegrad._dtype import _BY_NP, BY_CODE, TORCH_NAMES

from .tape import _run
from .tensor import _check


def vector_norm(a, ord=2.0, dims=None, keepdim=False, dtype=None):
    _check(a)
    if a._arr.dtype.kind != "f":
        name = TORCH_NAMES[_BY_NP[a._arr.dtype].name]
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {name}"
        )
    out = a._arr.dtype if dtype is None else BY_CODE[dtype].np
    attrs = {
        "ord": float(ord),
        "dims": tuple(int(d) for d in dims or ()),
        "keepdim": bool(keepdim),
        "src": a._arr.dtype.name,
    }
    return _run("vector_norm", (a,), attrs, out_dtype=out)
