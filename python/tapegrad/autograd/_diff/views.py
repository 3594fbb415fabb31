"""Formulas for the shape, view, index and matmul ops (see __init__.py).

The index-like ops carry their int64 coordinates as saved values that are no input of the cpp
node (`_coords` reads them from `node.saved()`), and the numpy backend records those
coordinates as an input edge of its own: `_np(node)` tells the two layouts apart. A view's
gradient is a scatter into zeros at the view's places, written with index_put so that it can be
differentiated again (its own gradient then reads the view's places: index).
"""

import numpy as np

from . import attr, diff, sum_to


def _np(node):
    return hasattr(node, "kernel")


def _needs(node, i):
    return node.next_functions[i][0] is not None


def _coords(node):
    """The int64 coordinates the op saved (an index op's `idx`)."""
    for d in node.saved():
        if d.get("dtype") == "int64":
            return d["value"]
    raise NotImplementedError(f"create_graph: {node.name()} kept no coordinates")


def _const(like, arr):
    return like._be.from_numpy(np.ascontiguousarray(arr, dtype=np.int64), False)


def _zeros(g, shape):
    return g.new_zeros(tuple(shape))


# ---------------------------------------------------------------- matmul family


def _mm_grads(a, b, g, sa, sb, need_a, need_b):
    """matmul's gradients (NumPy's rules for 1-D operands and batch broadcasting), in matmul
    and transpose: dot's and mv's cases as derivatives.yaml writes them (products, no sums)."""
    ra, rb = len(sa), len(sb)
    ga = gb = None
    if ra == 1 and rb == 1:  # dot
        return (g * b if need_a else None), (g * a if need_b else None)
    if ra == 2 and rb == 1:  # mv: the matrix's gradient is grad.ger(vec)
        if need_a:
            ga = g.unsqueeze(1) * b.unsqueeze(0)
        if need_b:
            gb = a.t().matmul(g)
        return ga, gb
    # as matrices: a 1-D a is a row, a 1-D b a column
    a2 = a if a is None or ra > 1 else a.unsqueeze(0)
    b2 = b if b is None or rb > 1 else b.unsqueeze(-1)
    g2 = g.unsqueeze(-2) if ra == 1 else g
    g2 = g2.unsqueeze(-1) if rb == 1 else g2
    if need_a:
        ga = g2.matmul(b2.transpose(-1, -2))
        sa2 = (1,) + tuple(sa) if ra == 1 else tuple(sa)
        ga = sum_to(ga, sa2).reshape(tuple(sa))
    if need_b:
        gb = a2.transpose(-1, -2).matmul(g2)
        sb2 = tuple(sb) + (1,) if rb == 1 else tuple(sb)
        gb = sum_to(gb, sb2).reshape(tuple(sb))
    return ga, gb


@diff("matmul")
def _matmul(node, g):
    sa, sb = node.input_shapes[:2]
    return list(
        _mm_grads(node.input(0), node.input(1), g, sa, sb, _needs(node, 0), _needs(node, 1))
    )


@diff("linear")
def _linear(node, g):
    sx, sw = node.input_shapes[:2]
    x, w = node.input(0), node.input(1)
    out = [None] * len(node.input_shapes)
    if _needs(node, 0):
        out[0] = g.matmul(w)
    if _needs(node, 1):
        g2 = g.reshape(-1, sw[0])
        out[1] = g2.t().matmul(x.reshape(-1, sx[-1]))
    if len(out) == 3 and node.input_shapes[2] is not None and _needs(node, 2):
        out[2] = sum_to(g, node.input_shapes[2])
    return out


_BA = {"beta": "s", "alpha": "s2"}


def _add_product(node, g, g_prod):
    """addmv/baddbmm/addbmm: the product's gradients times alpha, grad times beta for input."""
    sa, sb, si = node.input_shapes
    alpha, beta = attr(node, "alpha"), attr(node, "beta")
    ga, gb = _mm_grads(
        node.input(0), node.input(1), g_prod, sa, sb, _needs(node, 0), _needs(node, 1)
    )
    gi = sum_to(g * beta, si) if _needs(node, 2) else None
    return [None if ga is None else ga * alpha, None if gb is None else gb * alpha, gi]


@diff("addmv", "baddbmm", cpp=_BA)
def _addmv(node, g):
    return _add_product(node, g, g)


@diff("addbmm", cpp=_BA)
def _addbmm(node, g):
    return _add_product(node, g, g.unsqueeze(0).expand(node.input_shapes[0][0], *g.shape))


# ---------------------------------------------------------------- views


def _view_places(node):
    """Where the view's elements sit in its input's row-major layout: int64 of the view's shape."""
    if _np(node):
        from tapegrad.backends.numpy_ref.kernels_shape import positions

        return positions(node.ctx.geom, node.ctx.in_geom)
    return _cpp_places(node, node.output_shape)


def _cpp_places(node, sizes):
    """The places of a cpp view node's geometry (strides a2, offset s) for a view of `sizes`."""
    strides, pos = node.attrs["a2"], np.full(tuple(sizes), int(node.attrs["s"]), dtype=np.int64)
    for d, (n, s) in enumerate(zip(sizes, strides)):
        shape = [1] * len(sizes)
        shape[d] = n
        pos = pos + (np.arange(n, dtype=np.int64) * int(s)).reshape(shape)
    return pos


def _scatter(g, pos, shape):
    """Zeros of `shape` with g added at the row-major places `pos` (g's shape)."""
    n = 1
    for s in shape:
        n *= s
    idx = _const(g, pos.reshape(-1, 1))
    flat = g._be.index_put(_zeros(g, (n,)), idx, g.reshape(-1), True)
    return flat.reshape(tuple(shape))


def _gather(g, pos):
    """g's elements at the row-major places `pos`, in pos's shape."""
    return g._be.index(g.reshape(-1), _const(g, pos.reshape(-1, 1))).reshape(pos.shape)


@diff("view", "reshape", "squeeze", "unsqueeze")
def _reshape(node, g):
    return [g.reshape(tuple(node.input_shapes[0]))]


@diff("permute", "transpose", "t", "select", "slice", "as_strided")
def _view(node, g):
    return [_scatter(g, _view_places(node), node.input_shapes[0])]


@diff("expand")
def _expand(node, g):
    return [sum_to(g, node.input_shapes[0])]


@diff("copy_slices")
def _copy_slices(node, g):
    """In-place writes into a view: the base's other places keep their gradient, the written
    values take the gradient at the view's places."""
    base_shape, view_shape = node.input_shapes[0], node.input_shapes[1]
    if _np(node):
        pos = node.ctx.pos.reshape(view_shape)
    else:
        pos = _cpp_places(node, view_shape)
    out = [None, None]
    if _needs(node, 0):
        idx = _const(g, pos.reshape(-1, 1))
        hole = g._be.index_put(g.reshape(-1), idx, _zeros(g, ()), False)
        out[0] = hole.reshape(tuple(base_shape))
    if _needs(node, 1):
        out[1] = _gather(g, pos)
    return out


# ---------------------------------------------------------------- cat, repeat


@diff(
    "cat",
    cpp={"dim": lambda f, n: int(f["s"])},
    numpy={"dim": lambda a, n: int(a["dim"]) % len(n.output_shape)},
)
def _cat(node, g):
    dim, off, out = attr(node, "dim"), 0, []
    for i, shape in enumerate(node.input_shapes):
        if not _np(node):
            n = int(node.attrs["a1"][i])  # a chained node's first input is the part so far
        else:
            n = 1 if node.attrs.get("stack") else shape[dim]
        if _needs(node, i):
            out.append(g._be.slice(g, dim, off, off + n, 1).reshape(tuple(shape)))
        else:
            out.append(None)
        off += n
    return out


@diff("repeat", cpp={"repeats": "a1"})
def _repeat(node, g):
    shape, reps = tuple(node.input_shapes[0]), tuple(attr(node, "repeats"))
    if 0 in reps:
        return [None, None]
    lead = len(reps) - len(shape)
    if lead:
        g = g.sum(dim=tuple(range(lead)))
    split, dims = [], []
    for r, s in zip(reps[lead:], shape):
        if r != 1:
            split.append(r)
            dims.append(len(split) - 1)
        split.append(s)
    if dims:
        g = g.reshape(tuple(split)).sum(dim=tuple(dims))
    return [g.reshape(shape), None]


# ---------------------------------------------------------------- index, take, put, embedding


@diff("index")
def _index(node, g):
    idx = _coords(node)
    z = _zeros(g, node.input_shapes[0])
    return [g._be.index_put(z, idx, g, True), None]


@diff("take")
def _take(node, g):
    idx = _coords(node)
    z = _zeros(g, node.input_shapes[0])
    return [g._be.put(z, idx, g, True, False), None]


def _put_like(node, g, write, read):
    """index_put / put: inputs (a, v) on cpp, (a, idx, v) on numpy."""
    idx = _coords(node)
    iv = 2 if _np(node) else 1
    out = [None] * len(node.input_shapes)
    accumulate = bool(node.attrs["accumulate"] if _np(node) else node.attrs["i1"])
    if _needs(node, 0):
        out[0] = g if accumulate else write(g, idx, _zeros(g, ()))
    if _needs(node, iv):
        out[iv] = sum_to(read(g, idx), node.input_shapes[iv])
    return out


@diff("index_put")
def _index_put(node, g):
    be = g._be
    return _put_like(
        node, g, lambda t, i, z: be.index_put(t, i, z, False), lambda t, i: be.index(t, i)
    )


@diff("put")
def _put(node, g):
    be = g._be
    return _put_like(
        node, g, lambda t, i, z: be.put(t, i, z, False, True), lambda t, i: be.take(t, i, 0)
    )


@diff("embedding", cpp={"padding_idx": lambda f, n: int(f["a1"][0])})
def _embedding(node, g):
    num, dim = node.input_shapes[0]
    flat = node.input(1).numpy().reshape(-1).astype(np.int64)
    keep = np.nonzero(flat != attr(node, "padding_idx"))[0]
    rows = g.reshape(-1, dim)
    if keep.size != flat.size:
        rows = g._be.index(rows, _const(g, keep.reshape(-1, 1)))
    idx = _const(g, flat[keep].reshape(-1, 1))
    return [g._be.index_put(_zeros(g, (num, dim)), idx, rows, True), None]
