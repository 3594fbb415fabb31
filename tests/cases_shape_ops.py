"""Op cases of cat/stack, repeat, take and put (the ops behind cat, stack, repeat, tile, flip,
roll, gather, index_select, masked_select, scatter and scatter_add): the public call and the
reference kernel call it amounts to (see oracle.Case). cases.py joins them with the rest."""

import numpy as np
import tapegrad as tg
from oracle import Case, fixed

CASES = []


def _grid(shape):
    return np.stack(np.indices(shape, dtype=np.int64), axis=-1)


def _flip(shape, dims):
    g = _grid(shape)
    for d in dims:
        g[..., d] = shape[d] - 1 - g[..., d]
    return g


def _repeat(shape, reps):
    out = tuple(r * s for r, s in zip(reps, (1,) * (len(reps) - len(shape)) + shape))
    return _grid(out)[..., len(reps) - len(shape) :] % np.array(shape)


IDX = np.array([[0, 2, 2, 1], [3, 3, 0, 0], [1, 1, 1, 1]])  # repeated picks accumulate


def _along(idx, dim):
    g = _grid(idx.shape)
    g[..., dim] = idx
    return g


def _t(x, arr):
    return tg.tensor(arr, backend=x.backend)


CASES += [
    Case(
        "cat(dim=1)",
        ("cat",),
        lambda a, b, c: tg.cat([a, b, c], 1),
        ((2, 3), (2, 1), (2, 4)),
        lambda T, a, b, c: T("cat", a, b, c, dim=1, stack=False),
    ),
    Case(
        "cat(5 inputs)",
        ("cat",),
        lambda *xs: tg.cat(xs, 0),
        ((1, 3), (2, 3), (1, 3), (3, 3), (1, 3)),
        lambda T, *xs: T("cat", *xs, dim=0, stack=False),
    ),
    Case(
        "stack(dim=-1)",
        ("cat",),
        lambda a, b: tg.stack([a, b], -1),
        ((4, 3), (4, 3)),
        lambda T, a, b: T("cat", a, b, dim=2, stack=True),
    ),
    Case(
        "repeat(2,1,3)",
        ("repeat",),
        lambda x: x.repeat(2, 1, 3),
        ((2, 3),),
        lambda T, x: T("repeat", x, fixed(_repeat((2, 3), (2, 1, 3))), repeats=(2, 1, 3)),
    ),
    Case(
        "repeat big",
        ("repeat",),
        lambda x: x.repeat(33, 3),
        ((100, 5),),
        lambda T, x: T("repeat", x, fixed(_repeat((100, 5), (33, 3))), repeats=(33, 3)),
        k=99,
    ),
    Case(
        "flip(0,2)",
        ("take",),
        lambda x: x.flip(0, 2),
        ((3, 4, 5),),
        lambda T, x: T("take", x, fixed(_flip((3, 4, 5), (0, 2))), kind=1),
    ),
    Case(
        "gather(1)",
        ("take",),
        lambda x: x.gather(1, _t(x, IDX)),
        ((3, 5),),
        lambda T, x: T("take", x, fixed(_along(IDX, 1)), kind=0),
    ),
    Case(
        "index_select(0)",
        ("take",),
        lambda x: x.index_select(0, _t(x, np.array([2, 0, 2]))),
        ((3, 4),),
        lambda T, x: T("take", x, fixed(_along(np.array([[2] * 4, [0] * 4, [2] * 4]), 0)), kind=3),
    ),
    Case(
        "scatter_add(1)",
        ("put",),
        lambda x, s: x.scatter_add(1, _t(x, IDX), s),
        ((3, 5), (3, 4)),
        lambda T, x, s: T("put", x, fixed(_along(IDX, 1)), s, accumulate=True),
    ),
    Case(
        "scatter(0)",
        ("put",),
        lambda x, s: x.scatter(0, _t(x, np.array([[2, 0, 1]])), s),
        ((3, 3), (1, 3)),
        lambda T, x, s: T("put", x, fixed(_along(np.array([[2, 0, 1]]), 0)), s),
    ),
]
