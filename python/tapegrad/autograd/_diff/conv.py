"""Formulas for the CNN ops (see __init__.py): convolution, the pools and the two norms.

Every gradient is written with ops that have a formula themselves: convolution's input gradient
is a convolution of the zero-stuffed gradient with the flipped, transposed weight, and its
weight gradient a convolution of the input with the gradient (batch and channels swapped); the
linear pools are two constant averaging matrices (out = A_h @ x @ A_w^T per plane, their window
sizes factor by dimension); max_pool2d scatters to the argmax positions. PyTorch's backward ops
of the pools take their input, so their gradient is linked to it (a zero second derivative).
"""

import numpy as np

from . import attr, diff, link
from .reduce import const


def _needs(node, i):
    return node.next_functions[i][0] is not None


def _np(node):
    return hasattr(node, "kernel")


def _tie(f, node, *inputs):
    """f linked to the node's `inputs` (zero derivative), whatever their shapes: one element of
    each is enough to carry the edge, as PyTorch's backward nodes that take them."""
    ts = []
    for i in inputs:
        t = node.link(i) if i < len(node.input_shapes) else None
        if t is not None and t.numel() and tuple(t.shape) != tuple(f.shape):
            t = t.reshape(-1)[0]
        ts.append(t)
    return link(f, *ts)


# ---------------------------------------------------------------- convolution


def _zeros(like, shape):
    import tapegrad

    return tapegrad.zeros(*shape, dtype=like.dtype, backend=like._be.name)


def _stuff(g, dim, s):
    """g with s - 1 zeros between neighbours along `dim` (a strided conv's gradient positions)."""
    if s == 1:
        return g
    import tapegrad

    n = g.shape[dim]
    z = _zeros(g, tuple(g.shape[: dim + 1]) + (s - 1,) + tuple(g.shape[dim + 1 :]))
    spread = tapegrad.cat([g.unsqueeze(dim + 1), z], dim + 1)
    shape = tuple(g.shape[:dim]) + (n * s,) + tuple(g.shape[dim + 1 :])
    return spread.reshape(shape).narrow(dim, 0, (n - 1) * s + 1)


def _fit(t, dim, start, size):
    """Rows start .. start + size of t along dim, zeros past its end (rows the stride skips)."""
    import tapegrad

    have = max(0, min(size, t.shape[dim] - start))
    part = t.narrow(dim, start, have)
    if have == size:
        return part
    shape = list(t.shape)
    shape[dim] = size - have
    return tapegrad.cat([part, _zeros(t, shape)], dim)


def _conv_input_grad(g, w, x_shape, stride, padding, dilation, groups):
    (sh, sw), (pt, pl, _, _), (dh, dw) = stride, padding, dilation
    oc, cg, kh, kw = w.shape
    eh, ew = dh * (kh - 1), dw * (kw - 1)
    wt = w.reshape(groups, oc // groups, cg, kh, kw).transpose(1, 2)
    wt = wt.reshape(groups * cg, oc // groups, kh, kw).flip((2, 3))
    gs = _stuff(_stuff(g, 2, sh), 3, sw)
    full = g._be.convolution(gs, wt, None, (1, 1), (eh, ew, eh, ew), (dh, dw), groups)
    return _fit(_fit(full, 2, pt, x_shape[2]), 3, pl, x_shape[3])


def _conv_weight_grad(g, x, w_shape, stride, padding, dilation, groups):
    n, c, h, wd = x.shape
    oc, cg, kh, kw = w_shape
    oh, ow = g.shape[2:]
    xs = x.reshape(n, groups, cg, h, wd).permute(2, 1, 0, 3, 4).reshape(cg, groups * n, h, wd)
    gs = g.reshape(n, groups, oc // groups, oh, ow).permute(1, 2, 0, 3, 4).reshape(oc, n, oh, ow)
    # the roles of stride and dilation swap: the gradient's taps are `stride` apart on x
    out = x._be.convolution(xs, gs, None, dilation, padding, stride, groups).transpose(0, 1)
    return out.narrow(2, 0, kh).narrow(3, 0, kw)


@diff(
    "convolution",
    cpp={
        "stride": lambda f, n: tuple(f["a1"][:2]),
        "dilation": lambda f, n: tuple(f["a1"][2:]),
        "padding": "a2",
        "groups": "i1",
    },
)
def _convolution(node, g):
    one_d = len(node.input_shapes[0]) == 3
    geom = [tuple(attr(node, k)) for k in ("stride", "padding", "dilation")]
    groups = int(attr(node, "groups"))
    x_shape, w_shape = (tuple(s) for s in node.input_shapes[:2])
    if one_d:
        x_shape, w_shape = x_shape[:2] + (1,) + x_shape[2:], w_shape[:2] + (1,) + w_shape[2:]
    g4 = g.unsqueeze(2) if one_d else g
    gx = gw = gb = None
    if _needs(node, 0):
        w = node.input(1)
        w4 = w.unsqueeze(2) if one_d else w
        gx = _conv_input_grad(g4, w4, x_shape, *geom, groups)
        gx = gx.squeeze(2) if one_d else gx
    if _needs(node, 1):
        x = node.input(0)
        x4 = x.unsqueeze(2) if one_d else x
        gw = _conv_weight_grad(g4, x4, w_shape, *geom, groups)
        gw = gw.squeeze(2) if one_d else gw
    if len(node.input_shapes) > 2 and node.input_shapes[2] is not None and _needs(node, 2):
        gb = g.sum(dim=(0,) + tuple(range(2, g.dim())))
    return [gx, gw, gb][: len(node.input_shapes)]


# ---------------------------------------------------------------- pools


def _planes(g, x_shape, oh, ow):
    """(planes, OH, OW) view of g for an input of x_shape."""
    lead = int(np.prod(x_shape[:-2], dtype=np.int64))
    return g.reshape(lead, oh, ow)


@diff(
    "max_pool2d",
    cpp={
        "kernel": lambda f, n: tuple(f["a1"][:2]),
        "stride": lambda f, n: tuple(f["a1"][2:]),
        "padding": lambda f, n: tuple(f["a2"][:2]),
        "dilation": lambda f, n: tuple(f["a2"][2:]),
        "ceil_mode": lambda f, n: bool(f["i1"]),
    },
)
def _max_pool2d(node, g):
    x = node.input(0)
    args = [tuple(attr(node, k)) for k in ("kernel", "stride", "padding", "dilation")]
    xd = x.detach()
    index = xd._be.max_pool2d_indices(xd, *args, bool(attr(node, "ceil_mode")))
    shape = tuple(x.shape)
    lead = int(np.prod(shape[:-2], dtype=np.int64))
    flat = _zeros(g, (lead, shape[-2] * shape[-1]))
    gx = flat.scatter_add(1, index.reshape(lead, -1), g.reshape(lead, -1)).reshape(shape)
    return [_tie(gx, node, 0)]


def _avg_matrix(size, out, k, s, p, cip, override):
    """A (out, size) matrix: row o averages its window of the input (one factor of the divisor)."""
    a = np.zeros((out, size))
    for o in range(out):
        i0 = o * s - p
        i1 = min(i0 + k, size + p)
        pool = i1 - i0
        i0, i1 = max(i0, 0), min(i1, size)
        if i1 > i0:
            a[o, i0:i1] = 1.0 if override else 1.0 / (pool if cip else i1 - i0)
    return a


def _apply_rows_cols(g, a_h, a_w):
    """A_h^T @ g @ A_w per plane: the adjoint of out = A_h @ x @ A_w^T."""
    ah = const(a_h, g).to(g.dtype)
    aw = const(a_w, g).to(g.dtype)
    return ah.t().matmul(g).matmul(aw)


@diff(
    "avg_pool2d",
    cpp={
        "kernel": lambda f, n: tuple(f["a1"][:2]),
        "stride": lambda f, n: tuple(f["a1"][2:]),
        "padding": lambda f, n: tuple(f["a2"][:2]),
        "ceil_mode": lambda f, n: bool(f["a2"][2]),
        "count_include_pad": lambda f, n: bool(f["a2"][3]),
        "divisor_override": "i1",
    },
)
def _avg_pool2d(node, g):
    shape = tuple(node.input_shapes[0])
    (kh, kw), (sh, sw), (ph, pw) = (tuple(attr(node, k)) for k in ("kernel", "stride", "padding"))
    cip, div = bool(attr(node, "count_include_pad")), int(attr(node, "divisor_override") or 0)
    oh, ow = node.output_shape[-2:]
    a_h = _avg_matrix(shape[-2], oh, kh, sh, ph, cip, div)
    a_w = _avg_matrix(shape[-1], ow, kw, sw, pw, cip, div)
    if div:
        a_h = a_h / div
    gx = _apply_rows_cols(_planes(g, shape, oh, ow), a_h, a_w).reshape(shape)
    return [_tie(gx, node, 0)]


def _adaptive_matrix(size, out):
    a = np.zeros((out, size))
    for o in range(out):
        i0, i1 = o * size // out, -(-(o + 1) * size // out)
        a[o, i0:i1] = 1.0 / (i1 - i0)
    return a


@diff("adaptive_avg_pool2d", cpp={"output_size": "a1"})
def _adaptive_avg_pool2d(node, g):
    shape = tuple(node.input_shapes[0])
    oh, ow = tuple(attr(node, "output_size"))
    a_h, a_w = _adaptive_matrix(shape[-2], oh), _adaptive_matrix(shape[-1], ow)
    gx = _apply_rows_cols(_planes(g, shape, oh, ow), a_h, a_w).reshape(shape)
    return [_tie(gx, node, 0)]


# ---------------------------------------------------------------- norms


def _affine_slots(node):
    """(index of the weight input or None, index of the bias input or None)."""
    if _np(node):  # the numpy node keeps every argument's place, None where not given
        shapes = node.input_shapes
        return (1 if shapes[1] is not None else None), (2 if shapes[2] is not None else None)
    flags = int(node.attrs["i1"])
    iw = 1 if flags & 2 else None
    ib = (2 if iw else 1) if flags & 4 else None
    return iw, ib


def _wide(t):
    """float16 norms compute in float32 (as the kernels and PyTorch's CPU kernels do)."""
    import tapegrad

    return t.to(tapegrad.float32) if t.dtype == tapegrad.float16 else t


def _grads(node, g, gx, gw, gb):
    iw, ib = _affine_slots(node)
    out = [None] * len(node.input_shapes)
    dt = g.dtype
    if _needs(node, 0):
        out[0] = gx.to(dt)
    if iw is not None and _needs(node, iw):
        out[iw] = gw.to(dt)
    if ib is not None and _needs(node, ib):
        out[ib] = gb.to(dt)
    return out


def _eval_stats(node, x):
    """Eval mode's per-channel (mean, invstd): the running statistics the kernel used."""
    if _np(node):
        mean, invstd = node.ctx.mean, node.ctx.invstd
    else:
        stats = next(s["value"] for s in node.saved() if s["index"] == 2)
        mean, invstd = stats.numpy()
    return const(np.asarray(mean), x).to(x.dtype), const(np.asarray(invstd), x).to(x.dtype)


@diff("native_batch_norm", cpp={"training": lambda f, n: bool(f["i1"] & 1), "eps": "s"})
def _native_batch_norm(node, g):
    iw, _ = _affine_slots(node)
    x, gw_ = _wide(node.input(0)), _wide(g)
    lane = (1, -1) + (1,) * (x.dim() - 2)
    axes = (0,) + tuple(range(2, x.dim()))
    w = None if iw is None else _wide(node.input(iw)).reshape(lane)
    if attr(node, "training"):
        eps = float(attr(node, "eps"))
        mean = x.mean(dim=axes, keepdim=True)
        xc = x - mean
        invstd = ((xc * xc).mean(dim=axes, keepdim=True) + eps).rsqrt()
        xhat = xc * invstd
        gxhat = gw_ if w is None else gw_ * w
        gx = invstd * (
            gxhat - gxhat.mean(dim=axes, keepdim=True)
            - xhat * (gxhat * xhat).mean(dim=axes, keepdim=True)
        )  # fmt: skip
    else:
        mean, invstd = _eval_stats(node, x)
        mean, invstd = mean.reshape(lane), invstd.reshape(lane)
        xhat = (x - mean) * invstd
        gx = gw_ * invstd if w is None else gw_ * (invstd * w)
    return _grads(node, g, gx, (gw_ * xhat).sum(dim=axes), gw_.sum(dim=axes))


@diff(
    "native_layer_norm",
    cpp={"normalized_ndim": lambda f, n: int(f["i1"]) >> 4, "eps": "s"},
)
def _native_layer_norm(node, g):
    iw, _ = _affine_slots(node)
    x, g32 = _wide(node.input(0)), _wide(g)
    nd = int(attr(node, "normalized_ndim"))
    axes = tuple(range(x.dim() - nd, x.dim()))
    lead = tuple(range(x.dim() - nd))
    mean = x.mean(dim=axes, keepdim=True)
    xc = x - mean
    rstd = ((xc * xc).mean(dim=axes, keepdim=True) + float(attr(node, "eps"))).rsqrt()
    xhat = xc * rstd
    gxhat = g32 if iw is None else g32 * _wide(node.input(iw))
    gx = rstd * (
        gxhat
        - gxhat.mean(dim=axes, keepdim=True)
        - xhat * (gxhat * xhat).mean(dim=axes, keepdim=True)
    )
    return _grads(node, g, gx, (g32 * xhat).sum(dim=lead), g32.sum(dim=lead))
