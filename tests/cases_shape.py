"""Op cases, structural: matmul, linear, sum/mean, reshape, permute, indexing, losses.

Each entry: how the public API calls it and the reference kernel call(s) it amounts to (see
oracle.Case). cases_elementwise.py has the rest; cases.py joins them.
"""

import operator

import numpy as np
import tapegrad as tg
from oracle import Case, linear, loss

CASES = []
BIG = 131_075  # 2**17 + 3, as in cases_elementwise.py


def add(*cases):
    CASES.extend(cases)


# ------------------------------------------------------------------ matmul and linear

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


def _matmul_case(sa, sb, cid=None, fn=operator.matmul):
    cid = cid or f"matmul{sa}@{sb}"
    add(Case(cid, ("matmul",), fn, (sa, sb), k=sa[-1], multilinear=True))


for sa, sb in MATMUL_SHAPES:
    _matmul_case(sa, sb)
_matmul_case((3, 4), (4, 2), "matmul-method", lambda a, b: a.matmul(b))


def _linear_case(cid, x_shape, out_f, bias=True):
    in_f = x_shape[-1]
    w_shape = (out_f, in_f)
    if bias:
        add(Case(cid, ("linear",), linear, (x_shape, w_shape, (out_f,)), k=in_f, multilinear=True))
    else:
        add(
            Case(
                cid,
                ("linear",),
                lambda x, w: linear(x, w, None),
                (x_shape, w_shape),
                k=in_f,
                multilinear=True,
            )
        )


for xs, out_f in [((5, 3), 4), ((2, 5, 3), 4), ((3,), 4), ((1, 1), 1), ((8, 16), 7)]:
    _linear_case(f"linear{xs}->{out_f}", xs, out_f)
    _linear_case(f"linear-nobias{xs}->{out_f}", xs, out_f, bias=False)

# ------------------------------------------------------------------ sum and mean


def _dims_attr(dim, ndim):
    """The `dims` attribute of the tape op for the public `dim` argument (sorted, >= 0)."""
    if dim is None:
        return None
    ds = dim if isinstance(dim, tuple) else (dim,)
    return tuple(sorted(d % ndim for d in ds))


def _reduction_case(cid, op, shape, dim, keepdim, fn=None):
    def call(x):
        return getattr(x, op)(dim, keepdim) if (dim is not None or keepdim) else getattr(x, op)()

    ref = (op, {"dims": _dims_attr(dim, len(shape)), "keepdim": keepdim})
    add(Case(cid, (op,), fn or call, (shape,), ref, multilinear=True))


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
        _reduction_case(f"{op}{shape}dim={dim},keepdim={keepdim}", op, shape, dim, keepdim)
_reduction_case("tg.sum(x,1)", "sum", (2, 3), 1, False, lambda x: tg.sum(x, 1))

# ------------------------------------------------------------------ reshape, permute


def _reshape_case(cid, shape, fn, new_shape):
    add(Case(cid, ("reshape",), fn, (shape,), ("reshape", {"shape": new_shape})))


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
    add(Case(cid, ("permute",), fn, (shape,), ("permute", {"dims": perm})))


_permute_case("T", (3, 4), lambda x: x.T, (1, 0))
_permute_case("t()", (3, 4), lambda x: x.t(), (1, 0))
_permute_case("T-3d", (2, 3, 4), lambda x: x.T, (2, 1, 0))
_permute_case("transpose(0,2)", (2, 3, 4), lambda x: x.transpose(0, 2), (2, 1, 0))
_permute_case("transpose(-1,-2)", (2, 3, 4), lambda x: x.transpose(-1, -2), (0, 2, 1))
_permute_case("permute(2,0,1)", (2, 3, 4), lambda x: x.permute(2, 0, 1), (2, 0, 1))
_permute_case("permute((3,1,0,2))", (2, 3, 4, 5), lambda x: x.permute((3, 1, 0, 2)), (3, 1, 0, 2))
_permute_case("tg.transpose", (3, 5), lambda x: tg.transpose(x, 0, 1), (1, 0))

# ------------------------------------------------------------------ basic indexing


def slice_attrs(shape, idx):
    """Basic indexing as the tape's ops: (slice attrs or None, the result's shape).

    NumPy's own indexing says which positions `x[idx]` selects along each dim (basic indexing
    selects a box, an arithmetic progression per dim): (start, step, length) per dim for the
    `slice` op, then a `reshape` to NumPy's result shape (ints drop dims, None adds them).
    """
    grid = np.indices(shape)
    out_shape = np.empty(shape)[idx].shape
    starts, steps, lens = [], [], []
    for d in range(len(shape)):
        picked = np.unique(grid[d][idx])
        step = int(picked[1] - picked[0]) if picked.size > 1 else 1
        assert np.array_equal(picked, picked[0] + step * np.arange(picked.size)), (idx, d)
        starts.append(int(picked[0]) if picked.size else 0)
        steps.append(step)
        lens.append(int(picked.size))
    whole = tuple(lens) == tuple(shape) and set(steps) <= {1}
    attrs = None if whole else {"starts": tuple(starts), "steps": tuple(steps), "lens": tuple(lens)}
    return attrs, out_shape


def _index_case(shape, idx, ops=("slice",)):
    attrs, out_shape = slice_attrs(shape, idx)

    def ref(T, x):
        y = x if attrs is None else T("slice", x, **attrs)
        return T("reshape", y, shape=out_shape) if y is x or y.shape != out_shape else y

    add(Case(f"x{list(shape)}[{idx!r}]", ops, lambda x: x[idx], (shape,), ref))


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
    add(
        Case(
            f"{name}-{reduction}{shape}",
            (name,),
            lambda a, b: loss(name, a, b, reduction),
            (shape, shape),
            (name, {"reduction": reduction}),
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
    _matmul_case(sa, sb)
_linear_case("linear(64,784)->256", (64, 784), 256)
_linear_case("linear(256,1024)->10", (256, 1024), 10)
for op in ("sum", "mean"):
    for shape, dim in [((BIG,), None), ((257, 515), 0), ((257, 515), 1), ((64, 33, 65), (0, 2))]:
        _reduction_case(f"{op}{shape}dim={dim}", op, shape, dim, False)
_permute_case("T-big", (257, 515), lambda x: x.T, (1, 0))
_permute_case("permute-big", (64, 130, 17), lambda x: x.permute(2, 0, 1), (2, 0, 1))
_index_case((257, 515), (S(1, None, 3), S(None, -1, 2)))
for name in ("mse_loss", "l1_loss"):
    for reduction in ("mean", "none"):
        _loss_case(name, reduction, (64, 1000))
