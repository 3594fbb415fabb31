"""The NumPy reference kernels: one table of ops, each op's forward and backward side by side.

Every op of the tape (docs/backends.md, "Ops") is a small class registered in `KERNELS` under its
op name. The class is only a namespace (never instantiated); it holds

    forward(ctx, *arrays, **attrs) -> array     the op on plain ndarrays
    backward(ctx, grad) -> tuple                one gradient per array input (None: no gradient)
    grad_fn                                     PyTorch's node name, or a function
                                                (input shapes, attrs) -> name
    storage_level                               True for ops that only move values (reshape,
                                                permute, slice): they run on the stored arrays as
                                                they are, never upcast and never round

Kernels know nothing about tensors, the tape or float16 storage. They compute in the dtype of the
arrays they are given (`ctx.dtype`: float32 on the tape, float64 for finite differences) and call
`ctx.round(x)` to round to the storage dtype (the identity for float32/float64 storage;
float32 -> float16 -> float32 for float16 storage). Where they round is the numerics contract
(DESIGN.md section 3, docs/backends.md):

- forward: once, at the end (sums, means and matmul accumulate unrounded in ctx.dtype); the fused
  ops (linear, mse_loss, l1_loss) and `s / a` round where PyTorch's CPU kernels round;
- backward: each input gradient is computed in ctx.dtype (broadcast sums included) and rounded
  once, except the losses, which round where PyTorch's kernels do (see each op).

The tape (numpy_ref.py) upcasts float16 inputs to float32, calls forward, and stores the result.

Calling an op directly, e.g. for finite differences in float64:

    import numpy as np
    from tapegrad.backends.numpy_ops import KERNELS, Ctx, vjp

    ctx = Ctx(np.float64)                         # compute in float64; round() is the identity
    y = KERNELS["mul"].forward(ctx, a, b)         # a, b: float64 arrays (broadcasting)
    ga, gb = KERNELS["mul"].backward(ctx, g)      # g: float64 array of y's shape

    y, (ga, gb) = vjp("mul", (a, b), g)           # the same in one call
    y, (gx,) = vjp("sum", (x,), g, dims=(1,), keepdim=False)
    y, grads = vjp("tanh", (x,), g, dtype=np.float32, storage=np.float16)  # float16 numerics

A forward must run before its backward, on a fresh `Ctx` each time. Scalar attributes are named
`s` (the *_scalar ops); the others are listed with each op below. `numpy_ref` re-exports `KERNELS`,
`Ctx` and `vjp`.
"""

import math

import numpy as np

# ---------------------------------------------------------------- the context an op runs in


def _sign(x):
    """PyTorch's sign for gradients: 0 at 0 and at NaN (NumPy's np.sign gives NaN there)."""
    return np.where(x > 0, 1, np.where(x < 0, -1, 0)).astype(x.dtype)


def _identity(x):
    return x


def _round_f16(x):
    """Round to float16 (nearest even), keeping the compute dtype."""
    return x.astype(np.float16).astype(x.dtype)


_F16 = np.dtype(np.float16)


def _rounder(storage):
    if storage is None:
        return _identity
    return _round_f16 if np.dtype(getattr(storage, "np", storage)) == _F16 else _identity


class Ctx:
    """What an op's forward leaves for its backward, and the precision it runs in.

    dtype     the NumPy dtype the math runs in (float32 on the tape, float64 for checks)
    round     rounds a result to the op's storage dtype, keeping `dtype` (identity but for f16)
    round_in  the same for the input's storage dtype (differs from `round` only for `cast`)
    saved     the arrays `save()` kept for backward; the tape frees them after backward and
              checks the version of any that is an input or the output of the op
    Kernels also set plain Python values (shapes, dims, scalars) as attributes.
    """

    def __init__(self, dtype=np.float64, storage=None, input_storage=None):
        self.dtype = np.dtype(dtype)
        self.round = _rounder(storage)
        self.round_in = _rounder(storage if input_storage is None else input_storage)
        self.saved = ()

    def save(self, *arrays):
        self.saved = arrays

    def scalar(self, s):
        """A Python number as a scalar of the compute dtype (never let float64 sneak in)."""
        return self.dtype.type(s)


def vjp(name, arrays, grad, dtype=np.float64, storage=None, **attrs):
    """Forward of op `name` on `arrays`, then its backward for upstream `grad`.

    Returns (output, gradients). The arrays should already be of the compute `dtype`.
    """
    k = KERNELS[name]
    ctx = Ctx(dtype, storage)
    with np.errstate(all="ignore"):
        y = k.forward(ctx, *arrays, **attrs)
        return y, k.backward(ctx, grad)


# ---------------------------------------------------------------- shape helpers


def broadcast_shapes(sa, sb):
    """NumPy's broadcasting rule with PyTorch's error message (dimension counted in the result)."""
    n = max(len(sa), len(sb))
    out = []
    for i in range(n):
        da = sa[i - n + len(sa)] if i >= n - len(sa) else 1
        db = sb[i - n + len(sb)] if i >= n - len(sb) else 1
        if da != db and da != 1 and db != 1:
            raise RuntimeError(
                f"The size of tensor a ({da}) must match the size of tensor b ({db}) "
                f"at non-singleton dimension {i}"
            )
        out.append(db if da == 1 else da)
    return tuple(out)


def sum_to(ctx, g, shape):
    """Undo broadcasting: sum `g` down to `shape`, accumulating in ctx.dtype (no rounding)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1
    )
    return np.sum(g, axis=axes, dtype=ctx.dtype).reshape(shape)


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


# ---------------------------------------------------------------- the table

KERNELS = {}


def kernel(name, grad_fn, storage_level=False):
    def register(cls):
        cls.name = name
        cls.grad_fn = grad_fn
        cls.storage_level = storage_level
        KERNELS[name] = cls
        return cls

    return register


# ---- binary elementwise ops (NumPy broadcasting; gradients summed back to each input's shape)


@kernel("add", "AddBackward0")
class Add:
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        broadcast_shapes(a.shape, b.shape)
        return ctx.round(a + b)

    def backward(ctx, g):
        sa, sb = ctx.shapes
        return ctx.round(sum_to(ctx, g, sa)), ctx.round(sum_to(ctx, g, sb))


@kernel("sub", "SubBackward0")
class Sub:
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        broadcast_shapes(a.shape, b.shape)
        return ctx.round(a - b)

    def backward(ctx, g):
        sa, sb = ctx.shapes
        return ctx.round(sum_to(ctx, g, sa)), ctx.round(sum_to(ctx, -g, sb))


@kernel("mul", "MulBackward0")
class Mul:
    def forward(ctx, a, b):
        broadcast_shapes(a.shape, b.shape)
        ctx.save(a, b)
        return ctx.round(a * b)

    def backward(ctx, g):
        a, b = ctx.saved
        return ctx.round(sum_to(ctx, g * b, a.shape)), ctx.round(sum_to(ctx, g * a, b.shape))


@kernel("div", "DivBackward0")
class Div:
    def forward(ctx, a, b):
        broadcast_shapes(a.shape, b.shape)
        ctx.save(a, b)
        return ctx.round(a / b)

    def backward(ctx, g):
        a, b = ctx.saved
        ga = sum_to(ctx, g / b, a.shape)
        gb = sum_to(ctx, -g * ((a / b) / b), b.shape)  # PyTorch's order of operations
        return ctx.round(ga), ctx.round(gb)


# ---- tensor-scalar ops: attribute `s` (a Python float, used as a scalar of the compute dtype)


@kernel("add_scalar", "AddBackward1")
class AddScalar:
    def forward(ctx, a, s):
        return ctx.round(a + ctx.scalar(s))

    def backward(ctx, g):
        return (g,)


@kernel("mul_scalar", "MulBackward1")
class MulScalar:
    def forward(ctx, a, s):
        ctx.s = ctx.scalar(s)
        return ctx.round(a * ctx.s)

    def backward(ctx, g):
        return (ctx.round(g * ctx.s),)


@kernel("div_scalar", "DivBackward1")
class DivScalar:
    def forward(ctx, a, s):
        ctx.s = ctx.scalar(s)
        return ctx.round(a / ctx.s)

    def backward(ctx, g):
        return (ctx.round(g / ctx.s),)


@kernel("rsub_scalar", "RsubBackward1")
class RsubScalar:
    """s - a"""

    def forward(ctx, a, s):
        return ctx.round(ctx.scalar(s) - a)

    def backward(ctx, g):
        return (-g,)


@kernel("rdiv_scalar", "RdivBackward1")
class RdivScalar:
    """s / a, computed as PyTorch does: reciprocal(a) * s, each rounded."""

    def forward(ctx, a, s):
        ctx.s = ctx.scalar(s)
        ctx.save(a)
        return ctx.round(ctx.round(1 / a) * ctx.s)

    def backward(ctx, g):
        (a,) = ctx.saved
        return (ctx.round(-g * ctx.s / (a * a)),)


def _pow(ctx, a, e):
    """a ** e with PyTorch's special cases (exact products, sqrt, reciprocals)."""
    if e == 0:
        return np.ones_like(a)
    if e == 1:
        return a.copy()
    if e == 2:
        return a * a
    if e == 3:
        return a * a * a
    if e == 0.5:
        return np.sqrt(a)
    if e == -0.5:
        return 1 / np.sqrt(a)
    if e == -1:
        return 1 / a
    if e == -2:
        return 1 / (a * a)
    return np.power(a, ctx.scalar(e))


@kernel("pow_scalar", "PowBackward0")
class PowScalar:
    """a ** s"""

    def forward(ctx, a, s):
        ctx.s = s
        ctx.save(a)
        return ctx.round(_pow(ctx, a, s))

    def backward(ctx, g):
        (a,) = ctx.saved
        if ctx.s == 0:
            return (np.zeros_like(g),)
        return (ctx.round(g * (ctx.scalar(ctx.s) * _pow(ctx, a, ctx.s - 1))),)


@kernel("rpow_scalar", "PowBackward1")
class RpowScalar:
    """s ** a"""

    def forward(ctx, a, s):
        ctx.s = s
        y = ctx.round(np.power(ctx.scalar(s), a))
        ctx.save(a, y)
        return y

    def backward(ctx, g):
        # grad * y * log(s) from the saved output, log(s) taken in double; 0 where s == 0 and
        # a >= 0 (PyTorch's convention).
        a, y = ctx.saved
        ga = g * y * ctx.scalar(np.log(np.float64(ctx.s)))
        if ctx.s == 0:
            ga = np.where(a >= 0, ctx.scalar(0), ga)
        return (ctx.round(ga),)


# ---- unary elementwise ops


@kernel("neg", "NegBackward0")
class Neg:
    def forward(ctx, a):
        return -a

    def backward(ctx, g):
        return (-g,)


@kernel("abs", "AbsBackward0")
class Abs:
    def forward(ctx, a):
        ctx.save(a)
        return np.abs(a)

    def backward(ctx, g):
        (a,) = ctx.saved
        return (ctx.round(g * _sign(a)),)  # abs'(0) = 0


@kernel("exp", "ExpBackward0")
class Exp:
    def forward(ctx, a):
        y = ctx.round(np.exp(a))
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved
        return (ctx.round(g * y),)


@kernel("log", "LogBackward0")
class Log:
    def forward(ctx, a):
        ctx.save(a)
        return ctx.round(np.log(a))

    def backward(ctx, g):
        (a,) = ctx.saved
        return (ctx.round(g / a),)


@kernel("tanh", "TanhBackward0")
class Tanh:
    def forward(ctx, a):
        y = ctx.round(np.tanh(a))
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved
        return (ctx.round(g * (ctx.scalar(1) - y * y)),)


@kernel("relu", "ReluBackward0")
class Relu:
    def forward(ctx, a):
        y = np.maximum(a, ctx.scalar(0))  # NaN propagates
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved
        return (np.where(y <= 0, ctx.scalar(0), g),)  # relu'(0) = 0, as PyTorch's threshold


@kernel("sigmoid", "SigmoidBackward0")
class Sigmoid:
    def forward(ctx, a):
        one = ctx.scalar(1)
        y = ctx.round(one / (one + np.exp(-a)))
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved
        return (ctx.round(g * (ctx.scalar(1) - y) * y),)


# ---- matmul and linear (accumulate in ctx.dtype: float32 on the tape)


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


@kernel("matmul", _matmul_name)
class MatMul:
    def forward(ctx, a, b):
        matmul_shape(a.shape, b.shape)
        ctx.save(a, b)
        return ctx.round(np.matmul(a, b))

    def backward(ctx, g):
        # Work on 2-D-or-more operands: a 1-D a is a row (1, k), a 1-D b a column (k, 1).
        a, b = ctx.saved
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g2 = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        ga = sum_to(ctx, np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape)
        gb = sum_to(ctx, np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape)
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
        y = np.matmul(x, w.T)
        return ctx.round(y if b is None else y + b)

    def backward(ctx, g):
        x, w = ctx.saved
        out_f, in_f = w.shape
        rows = _numel(x.shape[:-1])
        gx = ctx.round(np.matmul(g, w))
        gw = ctx.round(np.matmul(g.reshape(rows, out_f).T, x.reshape(rows, in_f)))
        gb = None if ctx.b_shape is None else ctx.round(sum_to(ctx, g, ctx.b_shape))
        return gx, gw, gb


# ---- reductions: attributes dims (None: all, else a tuple of distinct dims) and keepdim


def _reduced_axes(shape, dims):
    if dims is None:
        return tuple(range(len(shape)))
    dims = tuple(dims)
    if len(set(dims)) != len(dims) or any(not 0 <= d < len(shape) for d in dims):
        raise RuntimeError(f"invalid dims {dims} for a tensor of shape {tuple(shape)}")
    return dims


def _unreduce(g, in_shape, axes):
    """The gradient of a sum: g broadcast back over the reduced axes (a fresh array)."""
    kept = tuple(1 if i in axes else s for i, s in enumerate(in_shape))
    return np.broadcast_to(g.reshape(kept), in_shape).copy()


def _reduce_name(base):
    return lambda shapes, attrs: base + ("0" if attrs["dims"] is None else "1")


@kernel("sum", _reduce_name("SumBackward"))
class Sum:
    def forward(ctx, a, dims=None, keepdim=False):
        ctx.in_shape, ctx.axes = a.shape, _reduced_axes(a.shape, dims)
        return ctx.round(np.sum(a, axis=ctx.axes, dtype=ctx.dtype, keepdims=keepdim))

    def backward(ctx, g):
        return (_unreduce(g, ctx.in_shape, ctx.axes),)


@kernel("mean", _reduce_name("MeanBackward"))
class Mean:
    """round(sum / n): the sum accumulates in ctx.dtype and is not rounded on its own"""

    def forward(ctx, a, dims=None, keepdim=False):
        ctx.in_shape, ctx.axes = a.shape, _reduced_axes(a.shape, dims)
        ctx.n = ctx.scalar(_numel(a.shape[d] for d in ctx.axes))
        total = np.sum(a, axis=ctx.axes, dtype=ctx.dtype, keepdims=keepdim)
        return ctx.round(total / ctx.n)

    def backward(ctx, g):
        return (ctx.round(_unreduce(g, ctx.in_shape, ctx.axes) / ctx.n),)


# ---- shape ops: they move values and never round (storage_level)


@kernel("reshape", "ViewBackward0", storage_level=True)
class Reshape:
    """attribute shape (a tuple with the same number of elements); the output is a view"""

    def forward(ctx, a, shape):
        shape = tuple(shape)
        if any(s < 0 for s in shape) or _numel(shape) != a.size:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {a.size}")
        ctx.in_shape = a.shape
        return a.reshape(shape)

    def backward(ctx, g):
        return (g.reshape(ctx.in_shape),)


@kernel("permute", "PermuteBackward0", storage_level=True)
class Permute:
    """attribute dims (a permutation of range(ndim)); the output is a copy"""

    def forward(ctx, a, dims):
        dims = tuple(dims)
        if sorted(dims) != list(range(a.ndim)):
            raise RuntimeError(f"permute(): invalid dims {dims} for a {a.ndim}-d tensor")
        ctx.inverse = tuple(dims.index(i) for i in range(a.ndim))
        return np.array(np.transpose(a, dims), order="C")

    def backward(ctx, g):
        return (np.array(np.transpose(g, ctx.inverse), order="C"),)


@kernel("slice", "SliceBackward0", storage_level=True)
class Slice:
    """attributes starts, steps, lens: one (start, step > 0, length) per dim; a copy"""

    def forward(ctx, a, starts, steps, lens):
        if not len(starts) == len(steps) == len(lens) == a.ndim:
            raise RuntimeError("slice: one (start, step, length) per dim is required")
        index = []
        for size, start, step, n in zip(a.shape, starts, steps, lens):
            last = start + step * (n - 1)
            if step <= 0 or n < 0 or start < 0 or (n > 0 and last >= size) or start > size:
                raise IndexError(
                    f"slice: start {start}, step {step}, length {n} out of range for size {size}"
                )
            index.append(slice(start, last + 1, step) if n else slice(0, 0))
        ctx.index, ctx.in_shape = tuple(index), a.shape
        return np.array(a[ctx.index], order="C")

    def backward(ctx, g):
        ga = np.zeros(ctx.in_shape, dtype=g.dtype)
        ga[ctx.index] = g
        return (ga,)


# ---- fused losses: attribute reduction ("mean", "sum" or "none"); shapes must match exactly


def _loss_check(name, a, b, reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if a.shape != b.shape:
        raise RuntimeError(
            f"{name}: input shape {tuple(a.shape)} and target shape {tuple(b.shape)} must match"
        )


def _reduce_loss(ctx, elems, reduction):
    if reduction == "none":
        return elems
    total = np.sum(elems, dtype=ctx.dtype)
    if reduction == "sum":
        return ctx.round(total)
    return ctx.round(total / ctx.scalar(elems.size))


@kernel("mse_loss", "MseLossBackward0")
class MseLoss:
    """elements round(round(a - b) ** 2); mean = round(sum / n), sum = round(sum)"""

    def forward(ctx, a, b, reduction="mean"):
        _loss_check("mse_loss", a, b, reduction)
        ctx.save(a, b)
        ctx.reduction = reduction
        d = ctx.round(a - b)
        return _reduce_loss(ctx, ctx.round(d * d), reduction)

    def backward(ctx, g):
        # PyTorch: norm * (a - b) * grad in the storage dtype, norm = 2/n (mean) or 2.
        a, b = ctx.saved
        n = a.size
        if ctx.reduction == "mean":
            norm = ctx.round(ctx.scalar(2.0 / n if n else math.inf))
        else:
            norm = ctx.scalar(2)
        ga = ctx.round(ctx.round(norm * ctx.round(a - b)) * g)
        return ga, -ga


@kernel("l1_loss", "L1LossBackward0")
class L1Loss:
    """elements |round(a - b)|; mean = round(sum / n), sum = round(sum)"""

    def forward(ctx, a, b, reduction="mean"):
        _loss_check("l1_loss", a, b, reduction)
        ctx.save(a, b)
        ctx.reduction = reduction
        return _reduce_loss(ctx, np.abs(ctx.round(a - b)), reduction)

    def backward(ctx, g):
        a, b = ctx.saved
        if ctx.reduction == "mean":
            g = ctx.round(g / ctx.scalar(a.size))
        ga = ctx.round(g * _sign(ctx.round(a - b)))  # sign(0) = 0
        return ga, -ga


# ---- dtype conversion (also clone): attribute code, the output dtype's code


@kernel("cast", "ToCopyBackward0")
class Cast:
    """a copy rounded to the output dtype; the gradient is rounded to the input's dtype"""

    def forward(ctx, a, code=0):
        return ctx.round(a.copy())

    def backward(ctx, g):
        return (ctx.round_in(g),)
