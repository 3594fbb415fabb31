"""Op cases of prod (all elements: prod_all; along a dim: prod_dim): the public call and the
reference kernel call it amounts to (see oracle.Case)."""

import tapegrad as tg
from oracle import Case, away0

CASES = []


def _case(cid, op, fn, shape, **attrs):
    # |x| near 1 keeps long products finite and away from 0 (zeros: test_prodnorm.py). Each
    # factor adds its rounding error: the tolerances' sqrt(k) must grow as the factor count.
    n = 1
    for i, s in enumerate(shape):
        n *= s if attrs.get("dim", i) == i else 1
    CASES.append(
        Case(cid, (op,), fn, (shape,), (op, attrs), sample=(away0(0.9, 1.1),), k=max(n, 1) ** 2)
    )


for shape in ((3, 4, 5), (7,), (), (1000,), (64, 50)):
    _case(f"prod(){shape}", "prod_all", lambda x: x.prod(), shape)
for shape, dim, keepdim in (((3, 4, 5), 1, False), ((3, 4, 5), -1, True), ((64, 50), 0, False),
                            ((64, 50), 1, False), ((1000,), 0, True), ((), 0, False)):  # fmt: skip
    _case(
        f"prod{shape},{dim},{keepdim}",
        "prod_dim",
        lambda x, d=dim, k=keepdim: tg.prod(x, d, keepdim=k),
        shape,
        dim=dim % max(len(shape), 1),
        keepdim=keepdim,
    )
