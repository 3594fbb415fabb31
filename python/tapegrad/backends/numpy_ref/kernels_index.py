"""The advanced-indexing reference kernels: index (gather) and index_put (scatter).

`idx` is an int64 array of shape B + (k,), 1 <= k <= a.ndim, already non-negative and in range:
row j of its last axis indexes dim j of `a`. index gives a[idx[..., 0], ..., idx[..., k-1]], of
shape B + a.shape[k:]. Repeated indices accumulate in index order (np.add.at is sequential, as
PyTorch's CPU kernel); for float16 results the additions round to float16 one at a time, as
PyTorch adds in the storage dtype. The table they register in: registry.py."""

import numpy as np

from .registry import _numel, kernel, sum_to


def _flat(idx, shape):
    """Row-major positions into the first k dims of `shape` (k = idx.shape[-1]), of shape B."""
    k = idx.shape[-1]
    return np.ravel_multi_index(tuple(idx[..., j] for j in range(k)), shape[:k])


def _rows(a, k):
    """a as (positions in its first k dims, the rest)."""
    return a.reshape((_numel(a.shape[:k]),) + a.shape[k:])


def _add_at(ctx, out, pos, vals):
    """out[pos] += vals in order (out: the (positions, rest) array), in the storage dtype."""
    acc = np.float16 if ctx.f16 else out.dtype
    work = out.astype(acc, copy=False)
    np.add.at(work, pos, vals.astype(acc, copy=False))
    return work.astype(out.dtype, copy=False)


@kernel("index")
class Index:
    def forward(ctx, a, idx):
        ctx.save(idx)
        ctx.in_shape = a.shape
        k = idx.shape[-1]
        return _rows(a, k)[_flat(idx, a.shape)]

    def backward(ctx, g):
        (idx,) = ctx.saved
        k = idx.shape[-1]
        out = np.zeros((_numel(ctx.in_shape[:k]),) + ctx.in_shape[k:], dtype=g.dtype)
        pos = _flat(idx, ctx.in_shape).reshape(-1)
        out = _add_at(ctx, out, pos, g.reshape((pos.size,) + ctx.in_shape[k:]))
        return ctx.round(out.reshape(ctx.in_shape)), None


@kernel("index_put")
class IndexPut:
    """a copy of a with v (broadcast to B + a.shape[k:]) written at idx; attribute accumulate:
    add instead (in order), else the last write of a repeated index wins."""

    def forward(ctx, a, idx, v, accumulate=False):
        k = idx.shape[-1]
        ctx.save(idx)
        ctx.accumulate, ctx.v_shape = bool(accumulate), v.shape
        pos = _flat(idx, a.shape).reshape(-1)
        vals = np.broadcast_to(v, idx.shape[:-1] + a.shape[k:]).reshape((pos.size,) + a.shape[k:])
        out = _rows(a, k).copy()
        if accumulate:
            out = _add_at(ctx, out, pos, vals)
        else:
            _, first_from_end = np.unique(pos[::-1], return_index=True)
            last = pos.size - 1 - first_from_end  # the last write of each position
            out[pos[last]] = vals[last]
        return out.reshape(a.shape)

    def backward(ctx, g):
        (idx,) = ctx.saved
        k = idx.shape[-1]
        pos = _flat(idx, g.shape).reshape(-1)
        ga = _rows(g, k).copy()
        gv = ga[pos].reshape(idx.shape[:-1] + g.shape[k:])
        if not ctx.accumulate:
            ga[pos] = 0  # overwritten places take no gradient back to a
        return ga.reshape(g.shape), None, ctx.round(sum_to(ctx, gv, ctx.v_shape))
