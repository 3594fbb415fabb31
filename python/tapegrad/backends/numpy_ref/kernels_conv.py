"""The reference kernels of the CNN ops: convolution (1-D and 2-D), max_pool2d (and its indices),
avg_pool2d, adaptive_avg_pool2d. The spec of their arithmetic: the issue's op spec; in short:

- convolution is PyTorch's slow_conv2d: im2col ("col", the padded input's windows as a
  (K = Cg*KH*KW, OH*OW) matrix per sample and group), then out = w_g @ col + b. float16 sums the
  dot products in float32 in ATen's half gemm order (matmul16's interleave4), adds float(b) and
  rounds once. The backward accumulates in ctx.dtype and rounds once; float16 follows
  slow_conv2d's backward (its float16 gemms round per sample; col2im adds in float16).
- the pools read each plane (the leading dims flattened) window by window, in ATen's loop order
  (rows, then columns); their backward adds into the input gradient in output order, in the
  storage dtype (float16 rounds at each add, as ATen's scalar_t accumulation).
"""

import numpy as np

from . import matmul16
from .cascade import cascade_sum
from .registry import kernel

_I64 = np.int64


# ---------------------------------------------------------------- convolution


def _as_2d(x, w):
    """1-D convolution is the 2-D one with H = KH = 1."""
    if x.ndim == 3:
        return x[:, :, None, :], w[:, :, None, :]
    return x, w


def _im2col(xp, kh, kw, oh, ow, stride, dilation):
    """(N, C, KH, KW, OH, OW) view of the padded input: col[n, c, i, j, y, x] =
    xp[n, c, y*sh + i*dh, x*sw + j*dw]."""
    (sh, sw), (dh, dw) = stride, dilation
    n, c = xp.shape[:2]
    s = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, (n, c, kh, kw, oh, ow), (s[0], s[1], s[2] * dh, s[3] * dw, s[2] * sh, s[3] * sw)
    )


@kernel("convolution")
class Convolution:
    """attributes stride (sh, sw), padding (pt, pl, pb, pr), dilation (dh, dw), groups"""

    def forward(ctx, x, w, b=None, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1),
                groups=1):  # fmt: skip
        ctx.save(x, w)
        ctx.has_bias, ctx.attrs = b is not None, (stride, padding, dilation, groups)
        x4, w4 = _as_2d(x, w)
        n, c, h, wd = x4.shape
        oc, cg, kh, kw = w4.shape
        pt, pl, pb, pr = padding
        oh = (h + pt + pb - dilation[0] * (kh - 1) - 1) // stride[0] + 1
        ow = (wd + pl + pr - dilation[1] * (kw - 1) - 1) // stride[1] + 1
        xp = np.pad(x4, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
        col = _im2col(xp, kh, kw, oh, ow, stride, dilation)
        col = col.reshape(n, groups, cg * kh * kw, oh * ow)
        wg = w4.reshape(groups, oc // groups, cg * kh * kw)
        if ctx.f16:  # per group: the float32 dot in the half gemm's order, + float(b), rounded
            out = np.stack(
                [matmul16.product(wg[g], col[:, g], "interleave4") for g in range(groups)], 1
            )
        else:
            out = np.einsum("gok,ngkl->ngol", wg, col)
        out = out.reshape(n, oc, oh * ow)
        if b is not None:
            out = out + b[None, :, None]
        return ctx.round(out.reshape((n, oc) + ((oh, ow) if x.ndim == 4 else (ow,))))

    def backward(ctx, g):
        x, w = ctx.saved
        stride, (pt, pl, pb, pr), dilation, groups = ctx.attrs
        x4, w4 = _as_2d(x, w)
        n, c, h, wd = x4.shape
        oc, cg, kh, kw = w4.shape
        g4 = g.reshape(n, groups, oc // groups, -1)
        oh, ow = (g.shape[2], g.shape[3]) if g.ndim == 4 else (1, g.shape[2])
        wg = w4.reshape(groups, oc // groups, cg * kh * kw)
        xp = np.pad(x4, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
        col = _im2col(xp, kh, kw, oh, ow, stride, dilation).reshape(n, groups, -1, oh * ow)
        if ctx.f16:
            gw, gcol = _half_grads(ctx, wg, g4, col)
        else:
            gw = np.einsum("ngol,ngkl->gok", g4, col)
            gcol = np.einsum("gok,ngol->ngkl", wg, g4)
        gw, gcol = gw.reshape(w.shape), gcol.reshape(n, c, kh, kw, oh, ow)
        # col2im: each column entry goes back to the padded input position it was read from
        gxp = np.zeros(xp.shape, g.dtype)
        (sh, sw), (dh, dw) = stride, dilation
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
                cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
                gxp[:, :, rows, cols] = ctx.round(gxp[:, :, rows, cols] + gcol[:, :, i, j])
        gx = gxp[:, :, pt : pt + h, pl : pl + wd].reshape(x.shape)
        axes = (0,) + tuple(range(2, g.ndim))
        gb = _bias_grad(ctx, g, axes, max(dilation) > 1) if ctx.has_bias else None
        r = ctx.round
        return r(gx), r(gw), None if gb is None else r(gb)


def _bias_grad(ctx, g, axes, dilated):
    """g summed over all dims but 1. float16 with a dilation > 1 runs PyTorch's dilated kernel:
    each sample's float32 sum rounded to float16, then the samples added one by one in float16."""
    if not (ctx.f16 and dilated):
        return cascade_sum(g, axes, half_vectors=ctx.f16)
    acc = np.zeros(g.shape[1], np.float16)
    for i in range(g.shape[0]):
        s = cascade_sum(np.ascontiguousarray(g[i], np.float32), tuple(a - 1 for a in axes[1:]))
        acc = (acc + s.astype(np.float16)).astype(np.float16)
    return acc.astype(np.float32)


def _half_grads(ctx, wg, g4, col):
    """float16's (gw, gcol), as slow_conv2d's backward: per sample and group, gcol = w^T @ g
    rounded to float16 (a sequential float32 dot over the output channels), and gw += g @ col^T
    (ATen's float16 dot order over the output positions), rounded after each sample."""
    n, groups = g4.shape[:2]
    gw = np.zeros(wg.shape, np.float32)
    for i in range(n):
        for k in range(groups):
            dot = matmul16.product(g4[i, k], np.ascontiguousarray(col[i, k].T), "blocks64")
            gw[k] = ctx.round(gw[k] + dot)
    wt = np.ascontiguousarray(np.swapaxes(wg, 1, 2))
    gcol = np.stack([matmul16.product(wt[k], g4[:, k], "sequential") for k in range(groups)], 1)
    return gw, ctx.round(gcol)


# ---------------------------------------------------------------- pooling geometry


def pool_out(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape for one dim."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _planes(x):
    """x as (P, H, W): the leading dims are the planes."""
    return x.reshape((-1,) + x.shape[-2:])


def _max_scan(x, kernel, stride, padding, dilation, ceil_mode):
    """(max values, flat indices in the H*W plane), each (P, OH, OW): ATen's scan over the window
    (rows, then columns): `if val > maxval or isnan(val)` takes it, from maxval = -inf and the
    index of the window's first in-range position."""
    xp = _planes(x)
    _, h, w = xp.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    oh = pool_out(h, kh, sh, ph, dh, ceil_mode)
    ow = pool_out(w, kw, sw, pw, dw, ceil_mode)
    rows = np.arange(oh)[:, None] * sh - ph + np.arange(kh)[None, :] * dh  # (OH, KH)
    cols = np.arange(ow)[:, None] * sw - pw + np.arange(kw)[None, :] * dw  # (OW, KW)
    row0 = np.where(rows >= 0, rows, rows + -(rows // dh) * dh).min(1)  # first in-range row
    col0 = np.where(cols >= 0, cols, cols + -(cols // dw) * dw).min(1)
    best = np.full((xp.shape[0], oh, ow), -np.inf, xp.dtype)
    index = np.broadcast_to(row0[:, None] * w + col0[None, :], best.shape).astype(_I64)
    for i in range(kh):
        r = rows[:, i]
        for j in range(kw):
            c = cols[:, j]
            ok = ((r >= 0) & (r < h))[:, None] & ((c >= 0) & (c < w))[None, :]
            val = xp[:, np.clip(r, 0, h - 1)[:, None], np.clip(c, 0, w - 1)[None, :]]
            take = ok & ((val > best) | np.isnan(val))
            best = np.where(take, val, best)
            index = np.where(take, (r[:, None] * w + c[None, :]).astype(_I64), index)
    return best, index


def _scatter_add(ctx, shape, index, values):
    """grad_input[plane, index] += values, in the values' (output) order, in the storage dtype."""
    planes = _planes(np.empty(shape, np.int8))
    acc = np.zeros((planes.shape[0], planes.shape[1] * planes.shape[2]), _acc(ctx, values))
    p = np.broadcast_to(np.arange(acc.shape[0]).reshape((-1,) + (1,) * (index.ndim - 1)),
                        index.shape)  # fmt: skip
    np.add.at(acc, (p.reshape(-1), index.reshape(-1)), values.reshape(-1).astype(acc.dtype))
    return acc.astype(values.dtype).reshape(shape)


def _acc(ctx, values):
    return np.float16 if ctx.f16 else values.dtype


def _pool_args(kernel, stride, padding, dilation=(1, 1)):
    return tuple(kernel), tuple(stride), tuple(padding), tuple(dilation)


@kernel("max_pool2d")
class MaxPool2d:
    """attributes kernel (kh, kw), stride (sh, sw), padding (ph, pw), dilation (dh, dw),
    ceil_mode; x is (C, H, W) or (N, C, H, W)"""

    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                ceil_mode=False):  # fmt: skip
        ctx.save(x)
        ctx.attrs = _pool_args(kernel, stride, padding, dilation) + (ceil_mode,)
        best, _ = _max_scan(x, *ctx.attrs)
        return ctx.round(best.reshape(x.shape[:-2] + best.shape[1:]))

    def backward(ctx, g):
        (x,) = ctx.saved
        _, index = _max_scan(x, *ctx.attrs)  # recomputed from the saved input, as the core does
        return (_scatter_add(ctx, x.shape, index, g.reshape(index.shape)),)


@kernel("max_pool2d_indices")
class MaxPool2dIndices:
    """max_pool2d's indices (int64, flat in the H*W plane); no gradient"""

    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                ceil_mode=False):  # fmt: skip
        _, index = _max_scan(x, *_pool_args(kernel, stride, padding, dilation), ceil_mode)
        return index.reshape(x.shape[:-2] + index.shape[1:])

    def backward(ctx, g):
        return (None,)


def _avg_windows(h, w, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """ATen's cpu_avg_pool window bounds per output: ((ih0, ih1), (iw0, iw1)) clipped, each
    (OH,) / (OW,), and the divisor (OH, OW)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh = pool_out(h, kh, sh, ph, 1, ceil_mode)
    ow = pool_out(w, kw, sw, pw, 1, ceil_mode)

    def bounds(o, size, k, s, p):
        i0 = np.arange(o) * s - p
        i1 = np.minimum(i0 + k, size + p)
        return i0, i1

    h0, h1 = bounds(oh, h, kh, sh, ph)
    w0, w1 = bounds(ow, w, kw, sw, pw)
    pool_size = (h1 - h0)[:, None] * (w1 - w0)[None, :]
    h0, h1, w0, w1 = np.maximum(h0, 0), np.minimum(h1, h), np.maximum(w0, 0), np.minimum(w1, w)
    if divisor_override:
        div = np.full(pool_size.shape, divisor_override, _I64)
    elif count_include_pad:
        div = pool_size
    else:
        div = (h1 - h0)[:, None] * (w1 - w0)[None, :]
    return (h0, h1), (w0, w1), div


def _window_sum(xp, rows, cols):
    """Per output, the sum of its window (rows (r0, r1), cols (c0, c1), each per output), added
    in ATen's order, row by row, from 0, in xp's dtype (float32 for float16 storage)."""
    (r0, r1), (c0, c1) = rows, cols
    h, w = xp.shape[1:]
    acc = np.zeros((xp.shape[0], r0.size, c0.size), xp.dtype)
    for i in range(int((r1 - r0).max(initial=0))):
        r = r0 + i
        for j in range(int((c1 - c0).max(initial=0))):
            c = c0 + j
            ok = (r < r1)[:, None] & (c < c1)[None, :]
            val = xp[:, np.clip(r, 0, h - 1)[:, None], np.clip(c, 0, w - 1)[None, :]]
            acc = np.where(ok, acc + val, acc)
    return acc


def _window_index(shape, rows, cols, h, w):
    """(P, OH, OW, KH', KW') flat input indices of each output's window and their mask."""
    (r0, r1), (c0, c1) = rows, cols
    kr, kc = int((r1 - r0).max(initial=0)), int((c1 - c0).max(initial=0))
    r = r0[:, None] + np.arange(kr)[None, :]  # (OH, KR)
    c = c0[:, None] + np.arange(kc)[None, :]
    ok = (r < r1[:, None])[:, None, :, None] & (c < c1[:, None])[None, :, None, :]
    idx = np.clip(r, 0, h - 1)[:, None, :, None] * w + np.clip(c, 0, w - 1)[None, :, None, :]
    return np.broadcast_to(idx, shape + idx.shape), np.broadcast_to(ok, shape + ok.shape)


def _spread(ctx, x_shape, rows, cols, delta):
    """grad_input[window of each output] += delta of that output, in output order, each add in
    the storage dtype."""
    h, w = x_shape[-2:]
    idx, ok = _window_index((delta.shape[0],), rows, cols, h, w)
    vals = np.broadcast_to(delta[:, :, :, None, None], idx.shape)
    acc = np.zeros((delta.shape[0], h * w), _acc(ctx, delta))
    p = np.broadcast_to(np.arange(delta.shape[0])[:, None, None, None, None], idx.shape)
    np.add.at(acc, (p[ok], idx[ok]), vals[ok].astype(acc.dtype))
    return acc.astype(delta.dtype).reshape(x_shape)


@kernel("avg_pool2d")
class AvgPool2d:
    """attributes kernel, stride, padding (ph, pw), ceil_mode, count_include_pad,
    divisor_override (0: none)"""

    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0), ceil_mode=False,
                count_include_pad=True, divisor_override=0):  # fmt: skip
        h, w = x.shape[-2:]
        rows, cols, div = _avg_windows(h, w, tuple(kernel), tuple(stride), tuple(padding),
                                       ceil_mode, count_include_pad, divisor_override)  # fmt: skip
        ctx.geom, ctx.in_shape = (rows, cols, div), x.shape
        ctx.save(x)  # only for the version check: PyTorch's node keeps its input
        total = _window_sum(_planes(x), rows, cols)
        empty = ((rows[1] - rows[0]) <= 0)[:, None] | ((cols[1] - cols[0]) <= 0)[None, :]
        out = np.where(empty, 0, total / div.astype(x.dtype))
        return ctx.round(out.reshape(x.shape[:-2] + out.shape[1:]))

    def backward(ctx, g):
        rows, cols, div = ctx.geom
        g3 = g.reshape((-1,) + g.shape[-2:])
        delta = ctx.round(g3 / div.astype(g.dtype))  # ATen: grad / divide_factor in scalar_t
        return (_spread(ctx, ctx.in_shape, rows, cols, delta),)


def _adaptive_bounds(size, out):
    o = np.arange(out)
    return (o * size) // out, -((-(o + 1) * size) // out)


@kernel("adaptive_avg_pool2d")
class AdaptiveAvgPool2d:
    """attribute output_size (oh, ow): window o of a dim spans [floor(o*I/O), ceil((o+1)*I/O))"""

    def forward(ctx, x, output_size=(1, 1)):
        h, w = x.shape[-2:]
        rows, cols = _adaptive_bounds(h, output_size[0]), _adaptive_bounds(w, output_size[1])
        ctx.geom, ctx.in_shape = (rows, cols), x.shape
        ctx.save(x)  # only for the version check: PyTorch's node keeps its input
        total = _window_sum(_planes(x), rows, cols)
        kh = (rows[1] - rows[0]).astype(x.dtype)[:, None]
        kw = (cols[1] - cols[0]).astype(x.dtype)[None, :]
        out = total / kh / kw
        return ctx.round(out.reshape(x.shape[:-2] + out.shape[1:]))

    def backward(ctx, g):
        rows, cols = ctx.geom
        g3 = g.reshape((-1,) + g.shape[-2:])
        kh = (rows[1] - rows[0]).astype(g.dtype)[:, None]
        kw = (cols[1] - cols[0]).astype(g.dtype)[None, :]
        delta = ctx.round(ctx.round(g3 / kh) / kw)  # ATen: Half / int64 rounds each division
        return (_spread(ctx, ctx.in_shape, rows, cols, delta),)
