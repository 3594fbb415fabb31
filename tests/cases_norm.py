"""Op cases of vector_norm (norm, Tensor.norm, linalg.vector_norm, linalg.norm, F.normalize):
the public call and the reference kernel call it amounts to (see oracle.Case)."""

import math

import tapegrad as tg
from oracle import Case, away0

CASES = []


def _case(cid, fn, shape, ord, dims, keepdim, sample=None):
    attrs = {"ord": float(ord), "dims": dims, "keepdim": keepdim, "src": "float64"}
    # k terms per output; the gradient inherits the norm's error, so it gets k too (the oracle
    # divides k by the reduction's ratio of input to output size)
    n = 1
    for d, s in enumerate(shape):
        n *= s if not dims or d in dims else 1
    CASES.append(
        Case(
            cid,
            ("vector_norm",),
            fn,
            (shape,),
            ("vector_norm", attrs),
            sample=sample or (),
            k=max(n, 1) ** 2,
        )
    )


# |x| away from 0 keeps the gradients of the orders below 1 and of inf (ties) well defined.
_AWAY = (away0(0.5, 2.0),)
for shape in ((3, 4, 5), (7,), (1000,), (64, 50)):
    s = "x".join(map(str, shape))
    _case(f"norm(){s}", lambda x: x.norm(), shape, 2, (), False)
    _case(f"vector_norm(1){s}", lambda x: tg.linalg.vector_norm(x, 1), shape, 1, (), False)
    _case(f"vector_norm(3){s}", lambda x: tg.linalg.vector_norm(x, 3), shape, 3, (), False)
_DIMS = (
    ((3, 4, 5), 2, 1, False),
    ((3, 4, 5), 2, -1, True),
    ((64, 50), 2, 0, False),
    ((64, 50), 1, 1, True),
    ((64, 50), math.inf, 1, False),
    ((64, 50), -math.inf, 0, True),
    ((3, 4, 5), 0.5, (0, 2), False),
    ((3, 4, 5), 1.5, 2, False),
)
for shape, p, dim, keepdim in _DIMS:
    dims = (dim,) if isinstance(dim, int) else dim
    norm_dims = tuple(d % len(shape) for d in dims)
    _case(
        f"norm({p},{dim},{keepdim}){shape}",
        lambda x, p=p, d=dim, k=keepdim: tg.norm(x, p, d, k),
        shape,
        p,
        norm_dims,
        keepdim,
        _AWAY,
    )
