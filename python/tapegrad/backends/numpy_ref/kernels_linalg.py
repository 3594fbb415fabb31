"""The matmul and linear reference kernels: they accumulate in ctx.dtype (float32 on the tape) and
round once; float16 operands are summed in PyTorch's order for each product (matmul16.py). The
table they register in and its rounding contract: registry.py."""

import numpy as np

from . import matmul16
from .registry import _numel, broadcast_shapes, kernel, sum_to


def _dims(r, c):
    return f"{r}x{c}"


def matmul_shape(sa, sb):
    """The output shape of a @ b under NumPy's rules, or PyTorch's error."""
    if len(sa) == 0 or len(sb) == 0:
        raise RuntimeError(
            "both arguments to matmul need to be at least 1D, but they are "
            f"{len(sa)}D and {len(sb)}D"
        )
    m, k = (1, sa[0]) if len(sa) == 1 else sa[-2:]
    k2, n = (sb[0], 1) if len(sb) == 1 else sb[-2:]
    if k != k2:
        if len(sa) <= 2 and len(sb) <= 2:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({_dims(m, k)} and {_dims(k2, n)})"
            )
        raise RuntimeError(f"matmul: shapes {tuple(sa)} and {tuple(sb)} cannot be multiplied")
    batch = broadcast_shapes(sa[:-2], sb[:-2])  # PyTorch's broadcasting message on a mismatch
    return batch + ((m,) if len(sa) > 1 else ()) + ((n,) if len(sb) > 1 else ())


def _matmul_name(shapes, attrs):
    ra, rb = len(shapes[0]), len(shapes[1])
    if ra == 1 and rb == 1:
        return "DotBackward0"
    if ra == 2 and rb == 1:
        return "MvBackward0"
    if ra > 2 or rb > 2:
        return "BmmBackward0"
    return "MmBackward0"


def _transposed(x):
    """x is a matrix (or a stack) stored transposed: w.t() or k.transpose(-2, -1) of a dense one.
    ATen hands it to its GEMM as it lies, and the kernel that layout picks sets the order."""
    return x.ndim >= 2 and not x.flags.c_contiguous and np.swapaxes(x, -1, -2).flags.c_contiguous


def _batch_folds(x):
    """PyTorch's matmul folds a stack's batch into the rows of one matrix (at::reshape: a view
    when its strides allow) only where each batch stride is the next dim's stride times its
    size."""
    st = [v // x.itemsize for v in x.strides]
    return all(st[i] == st[i + 1] * x.shape[i + 1] for i in range(x.ndim - 2))


def _route(a, b, requires):
    """The route PyTorch's matmul takes for operands of two dims or more: "mm" for two matrices;
    a stack @ a matrix: "fold" (one mm over the stacked rows) when the batch folds without a copy
    or the matrix requires grad (the stack is then copied dense), else "bmm" with the matrix
    broadcast; a matrix @ a stack: "mm_t" ((stack^T folded) @ matrix^T, one mm) when the matrix
    requires grad, else "bmm"; "bmm" for two stacks."""
    if a.ndim == 2 and b.ndim == 2:
        return "mm"
    if b.ndim == 2:
        return "fold" if requires[1] or _batch_folds(a) else "bmm"
    if a.ndim == 2:
        return "mm_t" if requires[0] else "bmm"
    return "bmm"


def _order(ta, tb):
    """ATen's float16 GEMM is column-major: a row-major product with b transposed reaches
    gemm_transa_, with a transposed gemm_transb_, with both gemm_transab_."""
    if ta and tb:
        return "interleave4"
    return "blocks64" if tb else "sequential" if ta else "interleave4"


def _orders(a, b, requires):
    """The float16 orders of PyTorch's forward, a's gradient and b's gradient on its route, for
    operands laid out as given. A stack of one matrix folds into a view, which keeps its layout;
    a folded stack of several is dense. bmm's naive loop (below 400 multiply-adds a matrix) sums
    sequentially. mm's backward is g @ b^T and a^T @ g (or their transposes for a column-major
    operand): gemm_transa_ and gemm_transb_ unless the other operand was itself transposed. On
    the transposed route with a stack of several, b's gradient is g's folded transpose @ a; a's
    gradient, there one sum over all the stack's rows, keeps the default order (not PyTorch's)."""
    if a.ndim == 1 or b.ndim == 1:
        fwd = "blocks64" if b.ndim == 1 and a.ndim != 1 else "interleave4"
        return fwd, "blocks64", "sequential"
    r = _route(a, b, requires)
    ta, tb = _transposed(a), _transposed(b)
    single = _numel(a.shape[:-2]) * _numel(b.shape[:-2]) == 1
    small = a.shape[-2] * a.shape[-1] * b.shape[-1] < 400
    if r == "bmm":
        fwd = "sequential" if small else _order(ta, tb)
    elif r == "fold":
        fwd = _order(single and ta, tb)
    elif r == "mm_t" and not single:
        fwd = _order(False, not ta)
    else:
        fwd = _order(ta, tb)
    order_a, order_b = "blocks64", "sequential"
    if r == "bmm" and small:
        order_a = "sequential"
    elif r == "mm_t" and not single:
        order_b = "blocks64" if ta else "interleave4"
    else:
        order_a = "interleave4" if tb else order_a
        order_b = "interleave4" if ta and (r != "fold" or single) else order_b
    return fwd, order_a, order_b


@kernel("matmul", _matmul_name)
class MatMul:
    def forward(ctx, a, b):
        out_shape = matmul_shape(a.shape, b.shape)
        ctx.save(a, b)
        if not ctx.f16:
            return ctx.round(np.matmul(a, b))
        # addmv, baddbmm and addbmm run their product here with a ctx of their own: vectors or
        # two stacks, whose route does not depend on requires_grad
        order, ctx.order_a, ctx.order_b = _orders(a, b, getattr(ctx, "requires", ()) or (0, 0))
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        return ctx.round(matmul16.product(a2, b2, order).reshape(out_shape))

    def backward(ctx, g):
        # Work on 2-D-or-more operands: a 1-D a is a row (1, k), a 1-D b a column (k, 1).
        a, b = ctx.saved
        if b.ndim == 1 and a.ndim <= 2:
            # PyTorch's dot: grad * other; mv: grad.ger(vec) for the matrix (products, no sums)
            ga = ctx.round(g * b if a.ndim == 1 else g[:, None] * b)
            if a.ndim == 1:
                return ga, ctx.round(g * a)
            _, gb = MatMul._sums(ctx, a, b, g)
            return ga, gb
        return MatMul._sums(ctx, a, b, g)

    def _sums(ctx, a, b, g):
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g2 = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        at, bt = np.swapaxes(a2, -1, -2), np.swapaxes(b2, -1, -2)
        if not ctx.f16:
            ga, gb = np.matmul(g2, bt), np.matmul(at, g2)
        else:
            # the forward's route (_orders); addmv's, baddbmm's and addbmm's ctx has none
            if hasattr(ctx, "order_a"):
                order_a, order_b = ctx.order_a, ctx.order_b
            else:
                _, order_a, order_b = _orders(a, b, (False, False))
            ga = matmul16.product(g2, bt, order_a)
            if batch and b2.ndim == 2 and a2.shape[:-2] == batch and _numel(batch) > 1:
                # PyTorch multiplies a batched a by a 2-D b as one stacked matrix: b's gradient
                # is one sum over all the stacked rows
                rows = _numel(a2.shape[:-1])
                gb = matmul16.product(a2.reshape(rows, a2.shape[-1]).T,
                                      g2.reshape(rows, g2.shape[-1]), "sequential")  # fmt: skip
            else:
                gb = matmul16.product(at, g2, order_b)
        ga = sum_to(ctx, ga, a2.shape)
        gb = sum_to(ctx, gb, b2.shape)
        return ctx.round(ga.reshape(a.shape)), ctx.round(gb.reshape(b.shape))


def linear_check(sx, sw, sb):
    """Validate linear's shapes (x: (*, in), w: (out, in), b: (out,), () or None)."""
    if len(sw) != 2:
        raise RuntimeError(f"linear: weight must be 2-D, got shape {tuple(sw)}")
    if len(sx) == 0:
        raise RuntimeError("linear: input must be at least 1-D, got a 0-d tensor")
    out_f, in_f = sw
    if sx[-1] != in_f:
        raise RuntimeError(
            "mat1 and mat2 shapes cannot be multiplied "
            f"({_dims(_numel(sx[:-1]), sx[-1])} and {_dims(in_f, out_f)})"
        )
    if sb is not None and tuple(sb) not in ((out_f,), ()):
        raise RuntimeError(f"linear: bias of shape {tuple(sb)} does not match out_features {out_f}")


def _linear_name(shapes, attrs):
    # PyTorch runs a 1-D input through a matmul and a view: its grad_fn reads ViewBackward0.
    if len(shapes[0]) == 1:
        return "ViewBackward0"
    return "MmBackward0" if shapes[2] is None else "AddmmBackward0"


@kernel("linear", _linear_name)
class Linear:
    """x @ w.T + b, one rounding (b may be None)"""

    def forward(ctx, x, w, b=None):
        linear_check(x.shape, w.shape, None if b is None else b.shape)
        ctx.save(x, w)
        ctx.b_shape = None if b is None else b.shape
        if not ctx.f16:
            y = np.matmul(x, w.T)
            return ctx.round(y if b is None else y + b)
        # addmm: ATen's float16 dot kernel per output, then the bias added once
        y = matmul16.product(x.reshape(_numel(x.shape[:-1]), x.shape[-1]), w.T, "blocks64")
        y = y.reshape(x.shape[:-1] + (w.shape[0],))
        return ctx.round(y if b is None else b + y)

    def backward(ctx, g):
        x, w = ctx.saved
        out_f, in_f = w.shape
        rows = _numel(x.shape[:-1])
        g2, x2 = g.reshape(rows, out_f), x.reshape(rows, in_f)
        if ctx.f16:  # dX = g @ W in gemm_notrans_'s order, dW = g^T @ X in gemm_transb_'s
            gx = ctx.round(matmul16.product(g2, w, "interleave4").reshape(x.shape))
            gw = ctx.round(matmul16.product(g2.T, x2, "sequential"))
        else:
            gx = ctx.round(np.matmul(g, w))
            gw = ctx.round(np.matmul(g2.T, x2))
        gb = None if ctx.b_shape is None else ctx.round(sum_to(ctx, g, ctx.b_shape))
        return gx, gw, gb
