"""The nnloss reference kernels: softmax and log_softmax (softmax.py has PyTorch's order),
nll_loss and its 2-D form, embedding. The table they register in: registry.py.

nll_loss reads its input as (N, C, S) (S: the trailing dims flattened) and the int64 target as
(N, S). Its sums are PyTorch's: eight cascaded partial sums over the flat target index, in the
storage dtype (float16 rounds after every operation, as c10::Half arithmetic does)."""

import numpy as np

from . import softmax as smx
from .registry import kernel

_F = np.float32


@kernel("softmax")
class Softmax:
    """attribute dim: the dim to normalize over (0 for a 0-dim tensor)"""

    def forward(ctx, a, dim=0):
        y = smx.forward(a, dim, False, ctx.f16)
        ctx.dim = dim
        y = ctx.round(y)
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved
        return (ctx.round(smx.backward(g.astype(y.dtype), y, ctx.dim, False, ctx.f16)),)


@kernel("log_softmax")
class LogSoftmax:
    def forward(ctx, a, dim=0):
        y = ctx.round(smx.forward(a, dim, True, ctx.f16))
        ctx.dim = dim
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved
        return (ctx.round(smx.backward(g.astype(y.dtype), y, ctx.dim, True, ctx.f16)),)


def _nll_geom(shape):
    if len(shape) == 1:
        return 1, shape[0], 1
    s = int(np.prod(shape[2:], dtype=np.int64))
    return shape[0], shape[1], s


def _bounds(t, c):
    bad = (t < 0) | (t >= c)
    if bad.any():
        raise IndexError(f"Target {int(t[bad][0])} is out of bounds.")


class _Nll:
    """attributes reduction ("mean", "sum", "none") and ignore_index"""

    def forward(ctx, x, t, w=None, reduction="mean", ignore_index=-100):
        n, c, s = _nll_geom(x.shape)
        x3 = x.reshape(n, c, s)
        tf = t.reshape(-1).astype(np.int64)
        keep = tf != ignore_index
        _bounds(tf[keep], c)
        ctx.save(t) if w is None else ctx.save(t, w)
        ctx.reduction, ctx.ignore, ctx.geom, ctx.in_shape = (
            reduction,
            ignore_index,
            (n, c, s),
            x.shape,
        )
        r = ctx.round
        b, e = np.arange(tf.size) // s, np.arange(tf.size) % s
        tc = np.where(keep, tf, 0)
        v = x3[b, tc, e]
        if reduction == "none":
            wv = w[tc] if w is not None else np.ones_like(v)
            return np.where(keep, r(-v * wv), 0).astype(x.dtype).reshape(t.shape)
        lsum = [x.dtype.type(0)] * 8
        wsum = [x.dtype.type(0)] * 8
        count = tf.size
        power = max(4, (int(count - 1).bit_length() if count > 2 else 1) // 8)
        mask0 = (1 << power) - 1
        for step in range(count):  # sequential: the partial sums depend on every step
            if not keep[step]:
                continue
            if w is not None:
                lsum[0] = r(lsum[0] - r(v[step] * w[tf[step]]))
                wsum[0] = r(wsum[0] + w[tf[step]])
            else:
                lsum[0] = r(lsum[0] - v[step])
            for j in range(7):
                if step & (mask0 << (j * power)):
                    break
                wsum[j + 1], lsum[j + 1] = r(wsum[j + 1] + wsum[j]), r(lsum[j + 1] + lsum[j])
                wsum[j] = lsum[j] = x.dtype.type(0)
        tw, out = x.dtype.type(0), x.dtype.type(0)
        if w is not None:
            for p in wsum:
                tw = r(tw + p)
        else:
            tw = r(x.dtype.type(int(keep.size - (~keep).sum())))
        for p in lsum:
            out = r(out + p)
        ctx.total = tw
        if reduction == "mean":
            with np.errstate(all="ignore"):
                out = r(out / tw)
        return np.asarray(out, x.dtype)

    def backward(ctx, g):
        t, w = (ctx.saved + (None,))[:2]
        n, c, s = ctx.geom
        r = ctx.round
        tf = t.reshape(-1).astype(np.int64)
        keep = tf != ctx.ignore
        tc = np.where(keep, tf, 0)
        wv = w[tc] if w is not None else None
        with np.errstate(all="ignore"):
            if ctx.reduction == "none":
                gv = r(-(wv if wv is not None else g.dtype.type(1)) * g.reshape(-1))
            else:
                gs = -(r(g / ctx.total) if ctx.reduction == "mean" else g)
                gv = r(wv * gs) if wv is not None else np.broadcast_to(gs, tf.shape)
        out = np.zeros((n, c, s), g.dtype)
        idx = np.nonzero(keep)[0]
        out[idx // s, tc[idx], idx % s] = np.asarray(gv).reshape(-1)[idx]
        return out.reshape(ctx.in_shape), None, None


kernel("nll_loss")(type("NllLoss", (_Nll,), {}))
kernel("nll_loss2d")(type("NllLoss2d", (_Nll,), {}))


@kernel("embedding")
class Embedding:
    """attribute padding_idx (-1: none): weight rows picked by the indices; the gradient adds each
    index's row in index order, in the storage dtype"""

    def forward(ctx, w, idx, padding_idx=-1):
        flat = idx.reshape(-1).astype(np.int64)
        if ((flat < 0) | (flat >= w.shape[0])).any():
            raise IndexError("index out of range in self")
        ctx.save(idx)
        ctx.pad, ctx.in_shape = padding_idx, w.shape
        return w[flat].reshape(idx.shape + (w.shape[1],))

    def backward(ctx, g):
        (idx,) = ctx.saved
        flat = idx.reshape(-1).astype(np.int64)
        keep = flat != ctx.pad
        acc = np.float16 if ctx.f16 else g.dtype
        out = np.zeros(ctx.in_shape, acc)
        rows = g.reshape(-1, ctx.in_shape[1]).astype(acc)
        np.add.at(out, flat[keep], rows[keep])
        return out.astype(g.dtype), None
