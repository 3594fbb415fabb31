"""Sums in PyTorch's CPU order, the executable spec of csrc/kernels/cascade_sum.*.

PyTorch sums a float tensor in an order fixed by its TensorIterator and its cascade sum; the
order decides the rounding, so the reference follows it to give the C++ core's (and PyTorch's
single-threaded) bits. Both of the core's paths add in the same order (its portable lanes
mirror the 8 float / 4 double lanes of PyTorch's AVX2 kernels), so there is one order here.

The structure, from the outside in:

- plan(): the dims reordered as TensorIterator orders a reduction (reduced dims innermost, the
  rest by stride) and merged where both tensors walk two dims as one. Plan dim 0 is the
  reduced "row" dim, dim 1 the "column" dim of PyTorch's 2-D loop, dims 2+ repeat that loop.
- _loop2d(): which of the four loops of PyTorch's sum kernel a slice takes (contiguous rows:
  vectors along the row; contiguous columns: vectors across columns; otherwise scalar rows,
  or columns four at a time); each ends in _cascade() or _row_sum().
- _cascade(): the multi-level accumulators: level 0 sums 2^lp rows, then spills into level 1,
  which spills into level 2 every 2^lp spills, and so on; the four levels are added last.
- _row_sum(): a row seen as (n / 4, 4): four partial sums cascaded side by side, the leftover
  elements added to the first, then the four combined left to right.

Every function works on whole arrays: axis 0 is the summed one, any further axes are
independent sums side by side, so each level of the cascade is a few NumPy additions.
Sequential sums use np.add.accumulate, which adds strictly left to right (np.sum would add
pairwise); `+ 0` after it makes an all-negative-zero sum +0, as an accumulator that starts at
+0 does.
"""

import numpy as np

_LEVELS = 4  # levels of the cascade
_ILP = 4  # partial sums of a row
_SHORT = 64  # sequential sums up to this length are written out as whole-array additions


def _seq(a, axis=0):
    """a[0] + a[1] + ... along axis, left to right, starting from +0."""
    n = a.shape[axis]
    if n > _SHORT:
        last = np.add.accumulate(a, axis=axis, dtype=a.dtype)
        return np.take(last, -1, axis=axis) + a.dtype.type(0)
    # A few whole-array additions beat accumulate's walk along a middle axis.
    total = np.zeros(a.shape[:axis] + a.shape[axis + 1 :], a.dtype)
    lead = (slice(None),) * axis
    for i in range(n):
        total = total + a[lead + (i,)]
    return total


def _level_power(rows):
    ceil_log2 = 1 if rows <= 2 else (rows - 1).bit_length()
    return max(4, ceil_log2 // _LEVELS)


def _cascade(a):
    """PyTorch's multi-level accumulation of a's rows (axis 0)."""
    size, rest = a.shape[0], a.shape[1:]
    step = 1 << _level_power(size)
    nb = size // step
    levels = [_seq(a[nb * step :])]  # level 0 holds the rows after the last full step
    vals = _seq(a[: nb * step].reshape((nb, step) + rest), axis=1)  # each step's total
    for _ in range(1, _LEVELS - 1):
        # vals go one by one into this level, which spills every `step` of them
        ng = len(vals) // step
        levels.append(_seq(vals[ng * step :]))  # what is left since its last spill
        vals = _seq(vals[: ng * step].reshape((ng, step) + rest), axis=1)
    levels.append(_seq(vals))  # the top level never spills
    total = levels[0]
    for lv in levels[1:]:
        total = total + lv
    return total


def _row_sum(a):
    """PyTorch's row_sum along axis 0: four interleaved partial sums, cascaded."""
    size, rest = a.shape[0], a.shape[1:]
    rows = size // _ILP
    ps = _cascade(a[: rows * _ILP].reshape((rows, _ILP) + rest))
    first = _seq(np.concatenate([ps[:1], a[rows * _ILP :]]))
    return _seq(np.concatenate([first[None], ps[1:]]))


def _inner(a, lanes, vec_in):
    """Rows contiguous: per row, vectors of vec_in elements (the two halves of a float16
    vector added on load) summed by _row_sum, then the tail one by one, then the lanes."""
    n0, rest = a.shape[0], a.shape[1:]
    nv = n0 // vec_in
    v = a[: nv * vec_in].reshape((nv, vec_in) + rest)
    if vec_in == 2 * lanes:
        v = v[:, :lanes] + v[:, lanes:]
    lane_sums = _row_sum(v)
    return _seq(np.concatenate([a[nv * vec_in :], lane_sums]))


def _outer(a, lanes):
    """Columns contiguous (axis 1): blocks of four vectors of columns cascaded down the rows;
    the columns after the last block go through _row_sum (as vectors or one by one, the
    same additions per column)."""
    w = (a.shape[1] // (4 * lanes)) * 4 * lanes
    return np.concatenate([_cascade(a[:, :w]), _row_sum(a[:, w:])], axis=0)


def _columns(a):
    """Scalar rows with the columns closer in memory: four columns at a time cascaded, the
    rest through _row_sum."""
    w = (a.shape[1] // 4) * 4
    return np.concatenate([_cascade(a[:, :w]), _row_sum(a[:, w:])], axis=0)


def _loop2d(v, s0, s1, lanes, vec_in):
    """v: (n0 rows summed, n1 columns, further plan dims): one sum per column."""
    n0, n1 = v.shape[0], v.shape[1]
    if s0 == 1 and n0 >= vec_in:
        return _inner(v, lanes, vec_in)
    if s1 == 1 and n1 >= vec_in:
        return _outer(v, lanes)
    if s0 < s1:
        return _row_sum(v)
    return _columns(v)


def plan(shape, strides, axes):
    """TensorIterator's reduction plan: [(size, input stride, output stride)], innermost first.
    Output strides are those of the kept dims laid out contiguously, 0 on reduced dims."""
    n = len(shape)
    ost = [0] * n
    st = 1
    for d in range(n - 1, -1, -1):
        if d not in axes:
            ost[d] = st
            st *= shape[d]

    def cmp(a, b):
        # reduced dims first, then by output then input stride (ties: the smaller size first);
        # a comparison that decides nothing leaves the order as it is
        if (ost[a] == 0) != (ost[b] == 0):
            return 1 if ost[b] == 0 else -1
        for s in (ost, strides):
            if s[a] == 0 or s[b] == 0:
                continue
            if s[a] != s[b]:
                return -1 if s[a] < s[b] else 1
            if shape[a] > shape[b]:
                return 1
        return 0

    perm = list(range(n - 1, -1, -1))
    for i in range(1, n):  # insertion sort, as TensorIterator's
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = cmp(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    dims = []
    for p in perm:
        size, i_st, o_st = shape[p], strides[p], ost[p]
        if dims:
            ps, pi, po = dims[-1]
            if ps == 1:
                dims[-1] = (ps * size, i_st, o_st)
                continue
            if size == 1 or (ps * pi == i_st and ps * po == o_st):
                dims[-1] = (ps * size, pi, po)
                continue
        dims.append((size, i_st, o_st))
    return dims


def _dense(shape, strides):
    """Whether x.to(float) keeps x's strides (a non-overlapping dense layout)."""
    dims = sorted((s, n) for n, s in zip(shape, strides) if n != 1)
    expect = 1
    for s, n in dims:
        if s != expect:
            return False
        expect *= n
    return True


def _elem_strides(x):
    """x and its strides in elements (a contiguous copy where they are not whole elements)."""
    if x.itemsize and all(s % x.itemsize == 0 and s >= 0 for s in x.strides):
        return x, [s // x.itemsize for s in x.strides]
    x = np.ascontiguousarray(x)
    return x, [s // x.itemsize for s in x.strides]


def cascade_sum(x, axes=None, half_vectors=False, as_float=False):
    """x summed over `axes` (None: all) in PyTorch's order, in x's dtype, without keepdim.

    x is float32 or float64 (float16 data arrives widened to float32). Layout matters: the
    strides x has are the ones the core's tensor would have. half_vectors: x holds float16
    values summed as PyTorch's Half sum (its contiguous-row vectors take 16 halves, two
    halves added on load) rather than as the float tensor x.to(float) (as_float: mean and
    the float16 reductions PyTorch runs in float).
    """
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axes is None else tuple(a % max(x.ndim, 1) for a in axes)
    kept = tuple(n for d, n in enumerate(x.shape) if d not in axes)
    if x.size == 0:
        return np.zeros(kept, x.dtype)
    x, strides = _elem_strides(x)
    lanes = 4 if x.dtype == np.float64 else 8
    dims = plan(x.shape, strides, axes)
    two_reduced = len(dims) >= 2 and dims[0][2] == 0 and dims[1][2] == 0
    vec_in = lanes
    if half_vectors and not as_float and not two_reduced:
        vec_in = 2 * lanes
    elif (half_vectors or as_float) and not _dense(x.shape, strides):
        # PyTorch sums a float copy of x, which is contiguous
        x = np.ascontiguousarray(x)
        strides = [s // x.itemsize for s in x.strides]
        dims = plan(x.shape, strides, axes)
    while len(dims) < 2:
        dims.append((1, 0, 0))
    sizes = [d[0] for d in dims]
    view = np.lib.stride_tricks.as_strided(
        x, shape=sizes, strides=[d[1] * x.itemsize for d in dims], writeable=False
    )
    # The summed axis outermost in memory: every addition below then reads whole blocks.
    view = np.ascontiguousarray(view)
    nred = next((i for i, d in enumerate(dims) if d[2] != 0), len(dims))  # reduced: first
    if nred == 0:  # nothing reduced: each element is added to the output's zero
        res = view + x.dtype.type(0)
    else:
        res = _loop2d(view, dims[0][1], dims[1][1], lanes, vec_in)  # plan dims 1.. remain
        # Reduced plan dims past dim 0 repeat the 2-D loop into the same outputs, which start
        # at zero: a sequential sum over them, in the loop's order (dim 1 fastest).
        k = nred - 1
        order = tuple(range(k - 1, -1, -1)) + tuple(range(k, res.ndim))
        res = _seq(res.transpose(order).reshape((-1,) + res.shape[k:]))
    # The kept plan dims carry the output's strides (the kept dims contiguous, in x's order).
    out = np.zeros(max(1, int(np.prod(kept, dtype=np.int64))), x.dtype)
    kept_dims = dims[nred:]
    dst = np.lib.stride_tricks.as_strided(
        out, shape=[d[0] for d in kept_dims], strides=[d[2] * x.itemsize for d in kept_dims]
    )
    dst[...] = res.reshape(dst.shape)
    return out.reshape(kept)
