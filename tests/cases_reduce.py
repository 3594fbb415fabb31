"""Op cases of the selecting reductions (max/min, amax/amin), cumsum, logsumexp, var and std:
the public call and the reference kernel call it amounts to (see oracle.Case). argmax/argmin
have no gradient: their values are checked in test_reduce_select.py."""

import tapegrad as tg
from oracle import Case

CASES = []


def _case(cid, op, fn, shape, **attrs):
    CASES.append(Case(cid, (op,), fn, (shape,), (op, attrs)))


for op in ("amax", "amin"):
    _case(f"{op}()", op, lambda x, op=op: getattr(x, op)(), (3, 4, 5), dims=None, keepdim=False)
    _case(f"{op}(1)", op, lambda x, op=op: getattr(x, op)(1), (3, 4, 5), dims=(1,), keepdim=False)
    _case(
        f"{op}((0,-1),keepdim)",
        op,
        lambda x, op=op: getattr(tg, op)(x, (0, -1), keepdim=True),
        (3, 4, 5),
        dims=(0, 2),
        keepdim=True,
    )
    _case(f"{op}(axis=0) big", op, lambda x, op=op: getattr(x, op)(axis=0), (64, 50),
          dims=(0,), keepdim=False)  # fmt: skip

for name in ("max", "min"):
    _case(f"{name}()", name + "_all", lambda x, n=name: getattr(x, n)(), (3, 4, 5))
    _case(f"{name}() 0-dim", name + "_all", lambda x, n=name: getattr(tg, n)(x), ())
    _case(f"{name}() big", name + "_all", lambda x, n=name: getattr(x, n)(), (1000,))
    for dim, keepdim in ((0, False), (-1, True), (1, False)):
        _case(
            f"{name}({dim},keepdim={keepdim})",
            name + "_dim",
            lambda x, n=name, d=dim, k=keepdim: getattr(x, n)(d, keepdim=k).values,
            (3, 4, 5),
            dims=(dim % 3,),
            keepdim=keepdim,
        )

for shape, dim in (((3, 4, 5), 1), ((7,), 0), ((), 0), ((1000,), 0), ((4, 1), 1), ((64, 50), 0)):
    _case(f"cumsum{shape},{dim}", "cumsum", lambda x, d=dim: x.cumsum(d), shape, dim=dim,
          dtype="float64")  # fmt: skip

LSE_SHAPES = (
    ((3, 4, 5), (1,), False),
    ((3, 4, 5), (0, 2), True),
    ((7,), (0,), False),
    ((1000,), (0,), False),
    ((64, 50), (1,), False),
)
for shape, dim, keepdim in LSE_SHAPES:
    _case(
        f"logsumexp{shape},{dim},{keepdim}",
        "logsumexp",
        lambda x, d=dim, k=keepdim: tg.logsumexp(x, d, keepdim=k),
        shape,
        dims=dim,
        keepdim=keepdim,
    )


def _var_call(name, dim, corr, keepdim):
    if dim is None:
        return lambda x: getattr(x, name)(correction=corr)
    return lambda x: getattr(tg, name)(x, dim, correction=corr, keepdim=keepdim)


VAR_SHAPES = (
    ((3, 4, 5), None, 1, False),
    ((3, 4, 5), 1, 0, False),
    ((3, 4, 5), (0, 2), 1, True),
    ((1000,), 0, 1, False),
    ((64, 50), 1, 2, False),
)
for name, op in (("var", "var"), ("std", "std_dev")):
    for shape, dim, corr, keepdim in VAR_SHAPES:
        dims = None
        if dim is not None:
            ds = (dim,) if isinstance(dim, int) else dim
            dims = tuple(sorted(d % len(shape) for d in ds))
        _case(
            f"{name}{shape},{dim},c={corr},{keepdim}",
            op,
            _var_call(name, dim, corr, keepdim),
            shape,
            dims=dims,
            correction=float(corr),
            keepdim=keepdim,
        )
