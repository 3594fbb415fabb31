"""Op cases, structural: matmul, linear, sum/mean, reshape, permute, indexing, losses.

Each entry: how the public API calls it and the reference kernel call(s) it amounts to (see
oracle.Case). cases_elementwise.py has the rest; cases.py joins them.
"""

import operator

import numpy as np
import tapegrad as tg
from oracle import Case, fixed, linear, loss

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

# ------------------------------------------------------------------ reshape and the view ops


def _reshape_case(cid, shape, fn, new_shape, op="reshape"):
    add(Case(cid, (op,), fn, (shape,), (op, {"shape": new_shape})))


_reshape_case("view(-1)", (3, 4), lambda x: x.view(-1), (12,), "view")
_reshape_case("reshape(2,-1,3)", (3, 4), lambda x: x.reshape(2, -1, 3), (2, 2, 3))
_reshape_case("view((6,4))", (2, 3, 4), lambda x: x.view((6, 4)), (6, 4), "view")
_reshape_case("view(3,4)", (12,), lambda x: x.view(3, 4), (3, 4), "view")
_reshape_case("view(())", (1, 1), lambda x: x.view(()), (), "view")
_reshape_case("reshape(1,1,-1)", (), lambda x: x.reshape(1, 1, -1), (1, 1, 1))
_reshape_case("flatten", (2, 3, 4), lambda x: x.flatten(), (24,))
_reshape_case("unflatten", (2, 12), lambda x: x.unflatten(1, (3, -1)), (2, 3, 4), "view")
_reshape_case("tg.reshape", (4, 2), lambda x: tg.reshape(x, (2, 4)), (2, 4))
# reshape of a tensor that cannot be viewed: a copy (UnsafeViewBackward0)
add(
    Case(
        "transpose.reshape(-1)",
        ("transpose", "reshape"),
        lambda x: x.transpose(0, 1).reshape(-1),
        ((3, 4),),
        lambda T, x: T("reshape", T("transpose", x, dim0=0, dim1=1), shape=(12,)),
    )
)


def _view_case(cid, shape, fn, op, **attrs):
    add(Case(cid, (op,), fn, (shape,), (op, attrs)))


_view_case("T", (3, 4), lambda x: x.T, "permute", dims=(1, 0))
_view_case("t()", (3, 4), lambda x: x.t(), "t")
_view_case("t()-1d", (5,), lambda x: x.t(), "t")
_view_case("T-3d", (2, 3, 4), lambda x: x.permute(2, 1, 0), "permute", dims=(2, 1, 0))
_view_case("transpose(0,2)", (2, 3, 4), lambda x: x.transpose(0, 2), "transpose", dim0=0, dim1=2)
_view_case(
    "transpose(-1,-2)", (2, 3, 4), lambda x: x.transpose(-1, -2), "transpose", dim0=2, dim1=1
)
_view_case("mT", (2, 3, 4), lambda x: x.mT, "transpose", dim0=1, dim1=2)
_view_case("permute(2,0,1)", (2, 3, 4), lambda x: x.permute(2, 0, 1), "permute", dims=(2, 0, 1))
_view_case(
    "permute((3,1,0,2))",
    (2, 3, 4, 5),
    lambda x: x.permute((3, 1, 0, 2)),
    "permute",
    dims=(3, 1, 0, 2),
)
_view_case("tg.transpose", (3, 5), lambda x: tg.transpose(x, 0, 1), "transpose", dim0=0, dim1=1)
_view_case("select(1,-1)", (2, 3, 4), lambda x: x.select(1, -1), "select", dim=1, index=2)
_view_case("unbind(0)[1]", (2, 3), lambda x: x.unbind(0)[1], "select", dim=0, index=1)
_view_case("narrow(2,1,2)", (2, 3, 4), lambda x: x.narrow(2, 1, 2), "slice",
           dim=2, start=1, end=3, step=1)  # fmt: skip
_view_case("split(2,1)[1]", (2, 3), lambda x: x.split(2, 1)[1], "slice",
           dim=1, start=2, end=3, step=1)  # fmt: skip
_view_case("chunk(2)[0]", (5, 2), lambda x: x.chunk(2)[0], "slice", dim=0, start=0, end=3, step=1)
_view_case("unsqueeze(1)", (2, 3), lambda x: x.unsqueeze(1), "unsqueeze", dim=1)
_view_case("unsqueeze(-1)", (2, 3), lambda x: x.unsqueeze(-1), "unsqueeze", dim=2)
_view_case("squeeze", (2, 1, 3, 1), lambda x: x.squeeze(), "squeeze", dims=None)
_view_case("squeeze(1)", (2, 1, 3, 1), lambda x: x.squeeze(1), "squeeze", dims=1)
_view_case("squeeze((1,3))", (2, 1, 3, 1), lambda x: x.squeeze((1, -1)), "squeeze", dims=(1, 3))
_view_case("expand(2,3,4)", (3, 1), lambda x: x.expand(2, 3, 4), "expand", sizes=(2, 3, 4))
_view_case("expand(-1,5)", (3, 1), lambda x: x.expand(-1, 5), "expand", sizes=(3, 5))
_view_case("expand_as", (4,), lambda x: x.expand_as(tg.zeros(2, 4, backend=x.backend)), "expand",
           sizes=(2, 4))  # fmt: skip
_view_case("as_strided", (3, 4), lambda x: x.as_strided((2, 2), (1, 4), 1), "as_strided",
           sizes=(2, 2), strides=(1, 4), offset=1)  # fmt: skip
_view_case("as_strided-overlap", (6,), lambda x: x.as_strided((3, 3), (1, 1)), "as_strided",
           sizes=(3, 3), strides=(1, 1), offset=0)  # fmt: skip

# ------------------------------------------------------------------ basic indexing


def index_chain(shape, idx):
    """Basic indexing as PyTorch applies it: [(op, attrs)], a chain of view ops (left to right;
    a lone slice is always a slice op; in a tuple, slices keeping the whole dim are skipped; an
    index selecting everything is an alias, here `view` to the same shape)."""
    if isinstance(idx, slice):
        start, stop, step = idx.indices(shape[0])
        return [("slice", {"dim": 0, "start": start, "end": max(stop, start), "step": step})]
    items = idx if isinstance(idx, tuple) else (idx,)
    specified = sum(1 for i in items if i is not None and i is not Ellipsis)
    chain, cur, dim = [], list(shape), 0
    for it in items:
        if it is None:
            chain.append(("unsqueeze", {"dim": dim}))
            cur.insert(dim, 1)
            dim += 1
        elif it is Ellipsis:
            dim += len(shape) - specified
        elif isinstance(it, slice):
            start, stop, step = it.indices(cur[dim])
            stop = max(stop, start)
            if (start, stop, step) != (0, cur[dim], 1):
                chain.append(("slice", {"dim": dim, "start": start, "end": stop, "step": step}))
                cur[dim] = (stop - start + step - 1) // step
            dim += 1
        else:
            chain.append(("select", {"dim": dim, "index": it % cur[dim]}))
            del cur[dim]
    return chain or [("view", {"shape": tuple(shape)})]


def _index_case(shape, idx):
    chain = index_chain(shape, idx)
    assert np.empty(shape)[idx].shape == np.empty(shape)[idx].shape  # NumPy accepts the index

    def ref(T, x):
        for op, attrs in chain:
            x = T(op, x, **attrs)
        return x

    ops = tuple(dict.fromkeys(op for op, _ in chain))
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
    (S(1, None), 0),
    (S(None), S(None), S(None)),
]:
    _index_case((4, 5, 6), idx)
for idx in [None, Ellipsis, (None, Ellipsis, None)]:
    _index_case((4, 5), idx)
for idx in [S(None, None, 3), S(5, None), S(-3, -1), 4, S(100), S(None)]:
    _index_case((7,), idx)

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
_view_case("T-big", (257, 515), lambda x: x.T, "permute", dims=(1, 0))
_view_case("permute-big", (64, 130, 17), lambda x: x.permute(2, 0, 1), "permute", dims=(2, 0, 1))
_index_case((257, 515), (S(1, None, 3), S(None, -1, 2)))
for name in ("mse_loss", "l1_loss"):
    for reduction in ("mean", "none"):
        _loss_case(name, reduction, (64, 1000))


# ------------------------------------------------------------------ where and advanced indexing
# The condition and the indices are fixed arrays (no gradient); the float inputs are checked.

COND = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, True]])


def _on(x, arr):
    return tg.tensor(arr, backend=x.backend)


add(
    Case("where(3x4)", ("where",), lambda a, b: tg.where(_on(a, COND), a, b), ((3, 4), (3, 4)),
         lambda T, a, b: T("where", fixed(COND), a, b)),
    Case("where-broadcast", ("where",), lambda a, b: tg.where(_on(a, COND), a, b), ((4,), (3, 1)),
         lambda T, a, b: T("where", fixed(COND), a, b)),
    Case("masked_fill", ("where",), lambda a: a.masked_fill(_on(a, COND), 0.5), ((3, 4),),
         lambda T, a: T("where", fixed(COND), T.leaf(np.array(0.5), a.dtype), a)),
)  # fmt: skip

ROWS = np.array([0, 2, 2, 3])  # a repeated row: its gradient accumulates


def _rows_idx(rows):
    return fixed(np.asarray(rows, np.int64).reshape(-1, 1))


add(
    Case("x[[0,2,2,3]]", ("index",), lambda x: x[ROWS.tolist()], ((4, 3),),
         lambda T, x: T("index", x, _rows_idx(ROWS))),
    Case("x[mask]", ("index",), lambda x: x[_on(x, COND)], ((3, 4),),
         lambda T, x: T("index", x, fixed(np.argwhere(COND)))),
    Case("x[:, [1, 0, 1]]", ("index",), lambda x: x[:, [1, 0, 1]], ((2, 3, 5),),
         lambda T, x: T("index", x, fixed(np.stack(np.broadcast_arrays(
             np.arange(2).reshape(2, 1), np.array([1, 0, 1])), -1)))),
    # about 32 repeats per row (float16 sums them one at a time, as PyTorch)
    Case("x[idx] big", ("index",), lambda x: x[_on(x, np.arange(BIG) % 4099)], ((4099, 3),),
         lambda T, x: T("index", x, _rows_idx(np.arange(BIG) % 4099)), multilinear=True),
)  # fmt: skip


def _put(x, v):
    y = x.clone()
    y[[1, 3]] = v
    return y


add(
    Case("y[[1,3]] = v", ("cast", "index_put"), _put, ((4, 3), (2, 3)),
         lambda T, x, v: T("index_put", T("cast", x, code=x.dtype.code), _rows_idx([1, 3]), v)),
    Case("y[[1,3]] = v (broadcast)", ("cast", "index_put"), _put, ((4, 3), (3,)),
         lambda T, x, v: T("index_put", T("cast", x, code=x.dtype.code), _rows_idx([1, 3]), v)),
)  # fmt: skip
