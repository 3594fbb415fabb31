"""Op cases, structural: matmul, linear, sum/mean, reshape, permute, indexing, losses.

Each entry: how the public API calls it, the float64 forward, and the analytic gradients
(see oracle.Case). cases_elementwise.py has the rest; cases.py joins them.
"""

import operator

import numpy as np
import tapegrad as tg
from oracle import Case, linear, loss, unbroadcast

CASES = []
BIG = 131_075  # 2**17 + 3, as in cases_elementwise.py


def add(*cases):
    CASES.extend(cases)


# ------------------------------------------------------------------ matmul and linear


def _matmul_bwd(g, y, a, b):
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    g2 = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
    ga = g2 @ np.swapaxes(b2, -1, -2)
    gb = np.swapaxes(a2, -1, -2) @ g2
    return (
        unbroadcast(ga, a2.shape).reshape(a.shape),
        unbroadcast(gb, b2.shape).reshape(b.shape),
    )


MATMUL_SHAPES = [
    ((4,), (4,)),
    ((3,), (3, 5)),
    ((4, 3), (3,)),
    ((3, 4), (4, 5)),
    ((7, 13), (13, 5)),
    ((1, 1), (1, 1)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 3)),
    ((3, 4), (2, 4, 5)),
    ((16, 33), (33, 17)),
]
for sa, sb in MATMUL_SHAPES:
    add(
        Case(
            f"matmul{sa}@{sb}",
            ("matmul",),
            operator.matmul,
            np.matmul,
            _matmul_bwd,
            (sa, sb),
            k=sa[-1],
            multilinear=True,
        )
    )
add(
    Case(
        "matmul-method",
        ("matmul",),
        lambda a, b: a.matmul(b),
        np.matmul,
        _matmul_bwd,
        ((3, 4), (4, 2)),
        k=4,
        multilinear=True,
    )
)


def _linear_bwd(g, y, x, w, b=None):
    gx = g @ w
    gw = g.reshape(-1, w.shape[0]).T @ x.reshape(-1, w.shape[1])
    return (gx, gw) if b is None else (gx, gw, g)


for xs, out_f in [((5, 3), 4), ((2, 5, 3), 4), ((3,), 4), ((1, 1), 1), ((8, 16), 7)]:
    in_f = xs[-1]
    add(
        Case(
            f"linear{xs}->{out_f}",
            ("linear",),
            linear,
            lambda x, w, b: x @ w.T + b,
            _linear_bwd,
            (xs, (out_f, in_f), (out_f,)),
            k=in_f,
            multilinear=True,
        ),
        Case(
            f"linear-nobias{xs}->{out_f}",
            ("linear",),
            lambda x, w: linear(x, w, None),
            lambda x, w: x @ w.T,
            _linear_bwd,
            (xs, (out_f, in_f)),
            k=in_f,
            multilinear=True,
        ),
    )

# ------------------------------------------------------------------ sum and mean


def _reduction(op, dim, keepdim):
    npf = np.sum if op == "sum" else np.mean

    def axes(x):
        if dim is None:
            return tuple(range(x.ndim))
        ds = dim if isinstance(dim, tuple) else (dim,)
        return tuple(sorted(d % x.ndim for d in ds))

    def fwd(x):
        return npf(x, axis=axes(x), keepdims=keepdim)

    def bwd(g, y, x):
        ax = axes(x)
        gg = g if keepdim else np.expand_dims(g, ax)
        n = int(np.prod([x.shape[a] for a in ax]))
        gg = np.broadcast_to(gg, x.shape)
        return (gg / n if op == "mean" else gg,)

    def fn(x):
        return getattr(x, op)(dim, keepdim) if (dim is not None or keepdim) else getattr(x, op)()

    return fn, fwd, bwd


for op in ("sum", "mean"):
    for shape, dim, keepdim in [
        ((3, 4, 5), None, False),
        ((3, 4, 5), 1, False),
        ((3, 4, 5), (0, 2), False),
        ((3, 4, 5), -1, False),
        ((3, 4, 5), (-1, 0), False),
        ((3, 4, 5), 1, True),
        ((3, 4, 5), (0, 1, 2), True),
        ((3, 4, 5), (-2,), True),
        ((7,), 0, False),
        ((), None, False),
        ((1000,), None, False),
        ((64, 50), 0, False),
    ]:
        fn, fwd, bwd = _reduction(op, dim, keepdim)
        add(
            Case(
                f"{op}{shape}dim={dim},keepdim={keepdim}",
                (op,),
                fn,
                fwd,
                bwd,
                (shape,),
                multilinear=True,
            )
        )
add(
    Case(
        "tg.sum(x,1)", ("sum",), lambda x: tg.sum(x, 1), *_reduction("sum", 1, False)[1:], ((2, 3),)
    )
)

# ------------------------------------------------------------------ reshape, permute


def _reshape_case(cid, shape, fn, new_shape):
    def bwd(g, y, x):
        return (g.reshape(x.shape),)

    add(Case(cid, ("reshape",), fn, lambda x: x.reshape(new_shape), bwd, (shape,)))


_reshape_case("view(-1)", (3, 4), lambda x: x.view(-1), (12,))
_reshape_case("reshape(2,-1,3)", (3, 4), lambda x: x.reshape(2, -1, 3), (2, 2, 3))
_reshape_case("view((6,4))", (2, 3, 4), lambda x: x.view((6, 4)), (6, 4))
_reshape_case("view(3,4)", (12,), lambda x: x.view(3, 4), (3, 4))
_reshape_case("view(())", (1, 1), lambda x: x.view(()), ())
_reshape_case("reshape(1,1,-1)", (), lambda x: x.reshape(1, 1, -1), (1, 1, 1))
_reshape_case("flatten", (2, 3, 4), lambda x: x.flatten(), (24,))
_reshape_case("unsqueeze(1)", (2, 3), lambda x: x.unsqueeze(1), (2, 1, 3))
_reshape_case("squeeze", (2, 1, 3, 1), lambda x: x.squeeze(), (2, 3))
_reshape_case("tg.reshape", (4, 2), lambda x: tg.reshape(x, (2, 4)), (2, 4))


def _permute_case(cid, shape, fn, perm):
    def bwd(g, y, x):
        return (np.transpose(g, np.argsort(perm)),)

    add(Case(cid, ("permute",), fn, lambda x: np.transpose(x, perm), bwd, (shape,)))


_permute_case("T", (3, 4), lambda x: x.T, (1, 0))
_permute_case("t()", (3, 4), lambda x: x.t(), (1, 0))
_permute_case("T-3d", (2, 3, 4), lambda x: x.T, (2, 1, 0))
_permute_case("transpose(0,2)", (2, 3, 4), lambda x: x.transpose(0, 2), (2, 1, 0))
_permute_case("transpose(-1,-2)", (2, 3, 4), lambda x: x.transpose(-1, -2), (0, 2, 1))
_permute_case("permute(2,0,1)", (2, 3, 4), lambda x: x.permute(2, 0, 1), (2, 0, 1))
_permute_case("permute((3,1,0,2))", (2, 3, 4, 5), lambda x: x.permute((3, 1, 0, 2)), (3, 1, 0, 2))
_permute_case("tg.transpose", (3, 5), lambda x: tg.transpose(x, 0, 1), (1, 0))

# ------------------------------------------------------------------ basic indexing


def _index_case(shape, idx, ops=("slice",)):
    def bwd(g, y, x):
        z = np.zeros_like(x)
        z[idx] += g
        return (z,)

    add(Case(f"x{list(shape)}[{idx!r}]", ops, lambda x: x[idx], lambda x: x[idx], bwd, (shape,)))


S = slice
for idx in [
    1,
    -1,
    S(None, None, 2),
    S(1, 4, 2),
    (S(1, 4, 2), -2),
    (Ellipsis, 1),
    (0, 1, 2),
    (S(None), None, S(1, 3)),
    (S(-2, None), Ellipsis, S(None, None, 3)),
    (1, Ellipsis, None),
    (S(None, None, 4), S(2, None)),
    (-3, S(1, -1), S(0, 6, 5)),
]:
    _index_case((4, 5, 6), idx)
for idx in [None, Ellipsis, (None, Ellipsis, None)]:
    _index_case((4, 5), idx, ops=("reshape",))
for idx in [S(None, None, 3), S(5, None), S(-3, -1), 4]:
    _index_case((7,), idx)
_index_case((7,), S(100), ops=("reshape",))  # the whole tensor: no slice node

# ------------------------------------------------------------------ losses


def _loss_case(name, reduction, shape):
    def fwd(a, b):
        d = a - b
        e = d * d if name == "mse_loss" else np.abs(d)
        return {"none": e, "sum": e.sum(), "mean": e.mean()}[reduction]

    def bwd(g, y, a, b):
        d = a - b
        n = d.size if reduction == "mean" else 1
        local = 2 * d if name == "mse_loss" else np.sign(d)
        ga = local * g / n
        return ga, -ga

    add(
        Case(
            f"{name}-{reduction}{shape}",
            (name,),
            lambda a, b: loss(name, a, b, reduction),
            fwd,
            bwd,
            (shape, shape),
        )
    )


for name in ("mse_loss", "l1_loss"):
    for reduction in ("mean", "sum", "none"):
        for shape in [(3, 4), (7,), (64, 1)]:
            _loss_case(name, reduction, shape)

# ------------------------------------------------------------------ large and odd sizes

for sa, sb in [
    ((130, 257), (257, 67)),
    ((3, 65, 129), (129, 33)),
    ((300, 513), (513,)),
    ((513,), (513, 70)),
    ((64, 784), (784, 256)),
    ((1, 1000), (1000, 1)),
]:
    add(
        Case(
            f"matmul{sa}@{sb}",
            ("matmul",),
            operator.matmul,
            np.matmul,
            _matmul_bwd,
            (sa, sb),
            k=sa[-1],
            multilinear=True,
        )
    )
add(
    Case(
        "linear(64,784)->256",
        ("linear",),
        linear,
        lambda x, w, b: x @ w.T + b,
        _linear_bwd,
        ((64, 784), (256, 784), (256,)),
        k=784,
        multilinear=True,
    ),
    Case(
        "linear(256,1024)->10",
        ("linear",),
        linear,
        lambda x, w, b: x @ w.T + b,
        _linear_bwd,
        ((256, 1024), (10, 1024), (10,)),
        k=1024,
        multilinear=True,
    ),
)
for op in ("sum", "mean"):
    for shape, dim in [((BIG,), None), ((257, 515), 0), ((257, 515), 1), ((64, 33, 65), (0, 2))]:
        fn, fwd, bwd = _reduction(op, dim, False)
        add(Case(f"{op}{shape}dim={dim}", (op,), fn, fwd, bwd, (shape,), multilinear=True))
_permute_case("T-big", (257, 515), lambda x: x.T, (1, 0))
_permute_case("permute-big", (64, 130, 17), lambda x: x.permute(2, 0, 1), (2, 0, 1))
_index_case((257, 515), (S(1, None, 3), S(None, -1, 2)))
for name in ("mse_loss", "l1_loss"):
    for reduction in ("mean", "none"):
        _loss_case(name, reduction, (64, 1000))
