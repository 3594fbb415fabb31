"""The reference kernels of the normalization ops: native_batch_norm and native_layer_norm.

Both compute in ctx.dtype (float32 for float16 storage) and round the output once. Batch norm
normalizes each channel (dim 1) over every other dim; layer norm each row over the last
`normalized_ndim` dims. Their statistics (the biased variance) are kept on ctx for the backward,
as the C++ core keeps them in a saved tensor. Batch norm's running statistics are not the
kernel's business: the backend function updates them (`running_update`).
"""

import numpy as np

from .registry import kernel


def _channel_axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_stats(x):
    """(mean, biased var) per channel, in x's dtype."""
    axes = _channel_axes(x)
    mean = x.mean(axis=axes)
    diff = x - _per_channel(mean, x.ndim)
    return mean, (diff * diff).mean(axis=axes)


def running_update(x, running_mean, running_var, momentum):
    """The new running statistics of a training step (float64 arrays):
    momentum * batch stat + (1 - momentum) * running, the variance unbiased (n / (n - 1))."""
    mean, var = batch_stats(x.astype(np.float64))
    n = x.size // x.shape[1]
    unbiased = var * n / (n - 1) if n > 1 else var * np.inf
    new_mean = momentum * mean + (1 - momentum) * np.asarray(running_mean, np.float64)
    new_var = momentum * unbiased + (1 - momentum) * np.asarray(running_var, np.float64)
    return new_mean, new_var


@kernel("native_batch_norm")
class NativeBatchNorm:
    """inputs x (N, C, ...), weight, bias, running_mean, running_var (each (C,) or None);
    attributes training, momentum, eps. out = (x - mean) * invstd * w + b"""

    def forward(ctx, x, w=None, b=None, running_mean=None, running_var=None, training=True,
                momentum=0.1, eps=1e-5):  # fmt: skip
        if training:
            mean, var = batch_stats(x)
        else:
            mean, var = running_mean.astype(x.dtype), running_var.astype(x.dtype)
        invstd = 1 / np.sqrt(var + ctx.scalar(eps))
        ctx.save(x) if w is None else ctx.save(x, w)  # never None: the tape checks them
        ctx.mean, ctx.invstd, ctx.training = mean, invstd, training
        out = (x - _per_channel(mean, x.ndim)) * _per_channel(invstd, x.ndim)
        if w is not None:
            out = out * _per_channel(w, x.ndim)
        if b is not None:
            out = out + _per_channel(b, x.ndim)
        ctx.has_bias = b is not None
        return ctx.round(out)

    def backward(ctx, g):
        """PyTorch's batch_norm_backward: with n the elements per channel, xhat = (x - mean) *
        invstd, training: gx = (g - mean(g) - xhat * mean(g * xhat)) * invstd * w; eval: gx =
        g * invstd * w. gw = sum(g * xhat), gb = sum(g) (per channel)."""
        x, w = (ctx.saved + (None,))[:2]
        nd, axes = x.ndim, _channel_axes(x)
        invstd = _per_channel(ctx.invstd, nd)
        xhat = (x - _per_channel(ctx.mean, nd)) * invstd
        gsum = g.sum(axis=axes)
        dotp = (g * xhat).sum(axis=axes)
        scale = invstd if w is None else invstd * _per_channel(w, nd)
        if ctx.training:
            n = x.size // x.shape[1]
            centered = g - _per_channel(gsum, nd) / n - xhat * _per_channel(dotp, nd) / n
            gx = centered * scale
        else:
            gx = g * scale
        r = ctx.round
        gw = None if w is None else r(dotp)
        gb = r(gsum) if ctx.has_bias else None
        return r(gx), gw, gb, None, None


@kernel("native_layer_norm")
class NativeLayerNorm:
    """inputs x, weight, bias (the normalized shape, or None); attributes normalized_ndim, eps.
    out = (x - mean) * rstd * w + b, the statistics over the last normalized_ndim dims"""

    def forward(ctx, x, w=None, b=None, normalized_ndim=1, eps=1e-5):
        axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        diff = x - mean
        rstd = 1 / np.sqrt((diff * diff).mean(axis=axes, keepdims=True) + ctx.scalar(eps))
        ctx.save(x) if w is None else ctx.save(x, w)  # never None: the tape checks them
        ctx.axes, ctx.mean, ctx.rstd, ctx.has_bias = axes, mean, rstd, b is not None
        out = diff * rstd
        if w is not None:
            out = out * w
        if b is not None:
            out = out + b
        return ctx.round(out)

    def backward(ctx, g):
        """xhat = (x - mean) * rstd, gxhat = g * w: gx = rstd * (gxhat - mean(gxhat) -
        xhat * mean(gxhat * xhat)) over the normalized dims; gw = sum(g * xhat), gb = sum(g)
        over the leading dims."""
        x, w = (ctx.saved + (None,))[:2]
        axes = ctx.axes
        xhat = (x - ctx.mean) * ctx.rstd
        gxhat = g if w is None else g * w
        gx = ctx.rstd * (
            gxhat
            - gxhat.mean(axis=axes, keepdims=True)
            - xhat * (gxhat * xhat).mean(axis=axes, keepdims=True)
        )
        lead = tuple(range(x.ndim - len(axes)))
        r = ctx.round
        gw = None if w is None else r((g * xhat).sum(axis=lead))
        gb = r(g.sum(axis=lead)) if ctx.has_bias else None
        return r(gx), gw, gb
