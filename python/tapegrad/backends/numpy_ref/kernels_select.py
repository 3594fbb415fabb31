"""The reference kernels of the selecting reductions (max/min over everything or along a dim,
amax/amin, argmax/argmin) and cumsum. Selection is exact: only ties, NaN and signed zeros depend
on the order. The first NaN wins; ties go to the first element, except max_all/min_all, whose
scalar loop keeps the last. The C++ ops: csrc/ops/reduce_select.cpp, csrc/ops/reduce_cum.cpp."""

import numpy as np

from .registry import _round_f16, kernel


def _lanes(a, axes):
    """a with the axes moved last (in that order) and flattened: one row per kept element."""
    kept = [d for d in range(a.ndim) if d not in axes]
    moved = np.transpose(a, kept + list(axes))
    inner = 1
    for d in axes:
        inner *= a.shape[d]
    return moved.reshape(-1, inner), [a.shape[d] for d in kept]


def _pick(rows, is_max, last_tie):
    """The index, in each row, of its max (min): the first NaN, else the first (last) tie."""
    first = np.argmax(rows, axis=1) if is_max else np.argmin(rows, axis=1)
    if not last_tie or rows.shape[1] == 0:
        return first
    rev = rows[:, ::-1]
    last = rows.shape[1] - 1 - (np.argmax(rev, axis=1) if is_max else np.argmin(rev, axis=1))
    if rows.dtype.kind != "f":
        return last
    return np.where(np.isnan(rows).any(axis=1), first, last)


def _keep_shape(shape, axes, keepdim):
    return tuple(1 if d in axes else s for d, s in enumerate(shape) if keepdim or d not in axes)


def select(a, axes, keepdim, is_max, last_tie=False, index=False):
    """Values (or int64 indices, in lane order) of the max/min over `axes`."""
    rows, _ = _lanes(a, axes)
    if rows.shape[1] == 0 and rows.shape[0]:
        raise IndexError("Expected reduction dim to have non-zero size.")
    j = _pick(rows, is_max, last_tie) if rows.shape[0] else np.zeros(0, np.int64)
    out = j.astype(np.int64) if index else rows[np.arange(rows.shape[0]), j]
    return out.reshape(_keep_shape(a.shape, axes, keepdim))


class _Select:
    is_max = True
    last_tie = False
    spread = True

    @classmethod
    def forward(cls, ctx, a, dims=None, keepdim=False):
        ctx.save(a)
        ctx.axes = tuple(range(a.ndim)) if dims is None else tuple(d for d in dims if d < a.ndim)
        return select(a, ctx.axes, keepdim, cls.is_max, cls.last_tie)

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved
        rows, _ = _lanes(x, ctx.axes)
        if rows.size == 0:
            return (np.zeros(x.shape, ctx.dtype),)
        g = np.asarray(g, ctx.dtype).reshape(-1)
        j = _pick(rows, cls.is_max, cls.last_tie)
        n = np.arange(rows.shape[0])
        out = np.zeros(rows.shape, ctx.dtype)
        if not cls.spread:  # PyTorch's scatter into zeros
            out[n, j] = g
        else:
            v = rows[n, j][:, None]
            if cls.last_tie:  # evenly_distribute_backward: a masked_fill of zeros
                mask = np.where(np.isnan(v), np.isnan(rows), rows == v)
            else:  # scale_grad_by_count: (g / count) * mask; NaN equals nothing
                mask = rows == v
            count = mask.sum(axis=1).astype(ctx.dtype)
            with np.errstate(all="ignore"):
                share = ctx.round(g / count)[:, None]
                if cls.last_tie:
                    out = np.where(mask, share, ctx.dtype.type(0))
                else:
                    out = ctx.round(share * mask.astype(ctx.dtype))
        kept = [d for d in range(x.ndim) if d not in ctx.axes]
        order = kept + list(ctx.axes)
        full = out.reshape([x.shape[d] for d in order])
        return (np.transpose(full, np.argsort(order)),)


@kernel("amax")
class Amax(_Select):
    pass


@kernel("amin")
class Amin(_Select):
    is_max = False


@kernel("max_all")
class MaxAll(_Select):
    last_tie = True


@kernel("min_all")
class MinAll(_Select):
    is_max = False
    last_tie = True


@kernel("max_dim")
class MaxDim(_Select):
    spread = False


@kernel("min_dim")
class MinDim(_Select):
    is_max = False
    spread = False


@kernel("argmax")
class Argmax:
    def forward(ctx, a, dim=None, keepdim=False):
        axes = tuple(range(a.ndim)) if dim is None or a.ndim == 0 else (dim,)
        return select(a, axes, keepdim, True, index=True)

    def backward(ctx, g):
        return (None,)


@kernel("argmin")
class Argmin:
    def forward(ctx, a, dim=None, keepdim=False):
        axes = tuple(range(a.ndim)) if dim is None or a.ndim == 0 else (dim,)
        return select(a, axes, keepdim, False, index=True)

    def backward(ctx, g):
        return (None,)


def _running_sum(x, dim, storage_f16, reverse=False):
    """PyTorch's CPU cumsum loop on x (already of the result's dtype; float16 as float32 with
    storage_f16): a running sum in its accumulation type (double for float32, float for
    float16, int64 for the integers), each partial sum rounded to the result's dtype."""
    if x.ndim == 0:
        return x.copy()
    if reverse:
        x = np.flip(x, dim)
    if x.dtype.kind in "iub":
        out = np.cumsum(x.astype(np.int64), axis=dim).astype(x.dtype)
    elif x.dtype == np.float32 and not storage_f16:
        out = (np.cumsum(x.astype(np.float64), axis=dim) + 0.0).astype(np.float32)
    else:
        # + 0: the loop starts from +0, so a leading -0.0 sums to +0.0
        out = np.cumsum(x, axis=dim) + x.dtype.type(0)
        if storage_f16:
            out = _round_f16(out)
    return np.flip(out, dim) if reverse else out


@kernel("cumsum")
class Cumsum:
    """Attributes dim and dtype (the result's NumPy dtype name; a floating one only picks the
    integer path off, the math runs in ctx.dtype). a is converted to the result's dtype first;
    the gradient is converted back to a's before its reversed running sums."""

    def forward(ctx, a, dim=0, dtype="float64"):
        ctx.dim, ctx.in_dt, ctx.shape = dim, a.dtype, a.shape
        ctx.in_f16 = ctx.round_in is _round_f16
        out = np.dtype(dtype)
        if out.kind in "iub":
            x = a.astype(np.int64) if out.kind == "b" else a.astype(out)
            return _running_sum(x, dim, False).astype(out)
        return _running_sum(ctx.round(a.astype(ctx.dtype)), dim, ctx.f16)

    def backward(ctx, g):
        g = ctx.round_in(np.asarray(g).astype(ctx.in_dt))
        n = int(np.prod(ctx.shape))
        if n <= 1 or (len(ctx.shape) and ctx.shape[ctx.dim] == 1):
            return (g,)
        return (_running_sum(g, ctx.dim, ctx.in_f16, reverse=True),)


def _lse(ctx, a, axes, keepdim):
    """PyTorch's composition: m = amax (infinite maxima set to 0), log(sum(exp(a - m))) + m,
    each step one op of the reference, rounded to the storage dtype."""
    from .registry import KERNELS, Ctx

    def run(op, *xs, **attrs):
        return KERNELS[op].forward(Ctx(ctx.dtype, np.float16 if ctx.f16 else None), *xs, **attrs)

    if a.size == 0:
        s = run("sum", run("exp", a), dims=axes, keepdim=keepdim)
        return run("log", s)
    m = select(a, axes, True, True)
    m = np.where(np.isinf(m), ctx.dtype.type(0), m).astype(ctx.dtype)
    s = run("sum", run("exp", ctx.round(a - m)), dims=axes, keepdim=keepdim)
    ms = m if keepdim else m.reshape([n for d, n in enumerate(a.shape) if d not in axes])
    return ctx.round(run("log", s) + ms)


@kernel("logsumexp")
class Logsumexp:
    """Attributes dims (None: all) and keepdim. Backward: grad * exp(a - result)."""

    def forward(ctx, a, dims=None, keepdim=False):
        ctx.save(a)
        ctx.axes = tuple(range(a.ndim)) if dims is None else tuple(d for d in dims if d < a.ndim)
        return _lse(ctx, a, ctx.axes, keepdim)

    def backward(ctx, g):
        from .registry import KERNELS, Ctx

        (x,) = ctx.saved
        r = _lse(ctx, x, ctx.axes, True)
        kept = [1 if d in ctx.axes else n for d, n in enumerate(x.shape)]
        sub = Ctx(ctx.dtype, np.float16 if ctx.f16 else None)
        e = KERNELS["exp"].forward(sub, ctx.round(x - r))
        return (ctx.round(np.asarray(g, ctx.dtype).reshape(kept) * e),)


def _var(ctx, a, axes, correction, keepdim, take_sqrt):
    """PyTorch's CPU var/std in double: two passes when float32/float64 reduce to one value (the
    mean as mean() gives it, then the squared deviations summed in memory order), else Welford's
    update along each lane; rounded once to the storage dtype."""
    from .registry import KERNELS, Ctx

    shape = _keep_shape(a.shape, axes, keepdim)
    n = 1
    for d in axes:
        n *= a.shape[d]
    if int(np.prod(shape)) == 1 and not ctx.f16:
        if a.size:
            mean = float(KERNELS["mean"].forward(Ctx(ctx.dtype), a, None, False))
            dx = a.ravel(order="K").astype(np.float64) - mean
            m2 = np.cumsum(dx * dx)[-1]
        else:
            m2 = 0.0
        m2 = np.full(1, m2)
    else:
        # TensorIterator's order: the reduced dims by decreasing stride
        order = tuple(sorted(axes, key=lambda d: -a.strides[d]))
        rows, _ = _lanes(a, order)
        rows = rows.astype(np.float64)
        mu = np.zeros(rows.shape[0])
        m2 = np.zeros(rows.shape[0])
        for j in range(rows.shape[1]):
            delta = rows[:, j] - mu
            mu = mu + delta / (j + 1)
            m2 = m2 + delta * (rows[:, j] - mu)
    with np.errstate(all="ignore"):
        v = m2 / (n - correction if n > correction else 0.0)
        if take_sqrt:
            v = np.sqrt(v)
    return ctx.round(
        v.astype(np.float32).astype(ctx.dtype) if ctx.f16 else v.astype(ctx.dtype)
    ).reshape(shape)


class _VarStd:
    take_sqrt = False

    @classmethod
    def forward(cls, ctx, a, dims=None, correction=1.0, keepdim=False):
        ctx.save(a)
        ctx.all = dims is None or a.ndim == 0
        ctx.axes = tuple(range(a.ndim)) if ctx.all else tuple(dims)
        ctx.correction, ctx.keepdim = correction, keepdim
        return _var(ctx, a, ctx.axes, correction, keepdim, cls.take_sqrt)

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved
        g = np.asarray(g, ctx.dtype)
        if cls.take_sqrt:
            r = _var(ctx, x, ctx.axes, ctx.correction, ctx.keepdim, True)
            with np.errstate(all="ignore"):
                gv = ctx.round(g / ctx.round(r * ctx.scalar(2)))
            g = np.where(r == 0, ctx.dtype.type(0), gv)
        return (_var_back(ctx, x, g),)


def _var_back(ctx, x, g):
    from .registry import KERNELS, Ctx

    sub = Ctx(ctx.dtype, np.float16 if ctx.f16 else None)
    r = ctx.round
    with np.errstate(all="ignore"):
        if ctx.all:
            m = KERNELS["mean"].forward(sub, x, None, False)
            dof = x.size - ctx.correction
            if dof <= 0:
                return r(g * np.where(x == m, np.nan, np.inf).astype(ctx.dtype))
            return r(r(g * ctx.scalar(2.0 / dof)) * r(x - m))
        n = 1
        for d in ctx.axes:
            n *= x.shape[d]
        kept = [1 if d in ctx.axes else s for d, s in enumerate(x.shape)]
        m = KERNELS["mean"].forward(sub, x, ctx.axes, True)
        # no degrees of freedom: 2 / 0 is inf (NaN gradients), as in C, not a Python error
        t = r(g.reshape(kept) * ctx.scalar(np.float64(2.0) / np.float64(n - ctx.correction)))
        return r(t * r(x - m))


@kernel("var")
class Var(_VarStd):
    pass


@kernel("std_dev")
class StdDev(_VarStd):
    take_sqrt = True
