"""The NumPy reference kernels' table: `KERNELS`, the `kernel` decorator that fills it, `Ctx` and
`vjp`, and the shape helpers the kernels share.

Every op of the tape (docs/backends.md, "Ops") is a small class registered in `KERNELS` under its
op name. The class is only a namespace (never instantiated); it holds

    forward(ctx, *arrays, **attrs) -> array     the op on plain ndarrays
    backward(ctx, grad) -> tuple                one gradient per array input (None: no gradient)
    grad_fn                                     PyTorch's node name, or a function
                                                (input shapes, attrs) -> name
    storage_level                               True for ops that only move values (reshape
                                                and the view ops): they run on the stored arrays
                                                as they are, never upcast and never round

The ops themselves are in kernels_elementwise.py (binary, tensor-scalar and unary ops, cast),
kernels_linalg.py (matmul, linear), kernels_reduce.py (sum, mean and the fused losses) and
kernels_shape.py (reshape and the view ops); importing the package registers them all.

Kernels know nothing about tensors, the tape or float16 storage. They compute in the dtype of the
arrays they are given (`ctx.dtype`: float32 on the tape, float64 for finite differences) and call
`ctx.round(x)` to round to the storage dtype (the identity for float32/float64 storage;
float32 -> float16 -> float32 for float16 storage). Where they round is the numerics contract
(docs/design.md, Numerics; docs/backends.md):

- forward: once, at the end (sums, means and matmul accumulate unrounded in ctx.dtype); the fused
  ops (linear, mse_loss, l1_loss) and `s / a` round where PyTorch's CPU kernels round;
- backward: each input gradient is computed in ctx.dtype (broadcast sums included) and rounded
  once, except the losses, which round where PyTorch's kernels do (see each op).

The tape (tape.py) upcasts float16 inputs to float32, calls forward, and stores the result.

Calling an op directly, e.g. for finite differences in float64:

    import numpy as np
    from tapegrad.backends.numpy_ref import KERNELS, Ctx, vjp

    ctx = Ctx(np.float64)                         # compute in float64; round() is the identity
    y = KERNELS["mul"].forward(ctx, a, b)         # a, b: float64 arrays (broadcasting)
    ga, gb = KERNELS["mul"].backward(ctx, g)      # g: float64 array of y's shape

    y, (ga, gb) = vjp("mul", (a, b), g)           # the same in one call
    y, (gx,) = vjp("sum", (x,), g, dims=(1,), keepdim=False)
    y, grads = vjp("tanh", (x,), g, dtype=np.float32, storage=np.float16)  # float16 numerics

A forward must run before its backward, on a fresh `Ctx` each time. Scalar attributes are named
`s` (the *_scalar ops); the others are listed with each op. The package re-exports `KERNELS`,
`Ctx` and `vjp`.
"""

import numpy as np

from tapegrad import _oplist

from .cascade import cascade_sum

# ---------------------------------------------------------------- the context an op runs in


def _identity(x):
    return x


def _round_f16(x):
    """Round to float16 (nearest even), keeping the compute dtype. float64 goes through float32
    first, as c10::Half is made from a float (PyTorch rounds twice)."""
    return x.astype(np.float32).astype(np.float16).astype(x.dtype)


_F16 = np.dtype(np.float16)


def _rounder(storage):
    if storage is None:
        return _identity
    return _round_f16 if np.dtype(getattr(storage, "np", storage)) == _F16 else _identity


class Ctx:
    """What an op's forward leaves for its backward, and the precision it runs in.

    dtype     the NumPy dtype the math runs in (float32 for float32 and float16 storage on the
              tape, the storage dtype otherwise; float64 for checks)
    f16       whether the result is stored as float16 (kernels that accumulate in the storage
              dtype, as PyTorch's index_put, need it)
    round     rounds a result to the op's storage dtype, keeping `dtype` (identity but for f16)
    round_in  the same for the input's storage dtype (differs from `round` only for `cast`)
    saved     the arrays `save()` kept for backward; the tape frees them after backward and
              checks the version of any that is an input or the output of the op
    requires  per input, whether it requires grad (PyTorch's matmul picks its route by it)
    Kernels also set plain Python values (shapes, dims, scalars) as attributes.
    """

    def __init__(self, dtype=np.float64, storage=None, input_storage=None):
        self.dtype = np.dtype(dtype)
        self.f16 = storage is not None and np.dtype(getattr(storage, "np", storage)) == _F16
        self.round = _rounder(storage)
        self.round_in = _rounder(storage if input_storage is None else input_storage)
        self.saved = ()
        self.requires = ()

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


# ---------------------------------------------------------------- helpers the kernels share


def _sign(x):
    """PyTorch's sign for gradients: 0 at 0 and at NaN (NumPy's np.sign gives NaN there)."""
    return np.where(x > 0, 1, np.where(x < 0, -1, 0)).astype(x.dtype)


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
    """Undo broadcasting: sum `g` down to `shape`, accumulating in ctx.dtype (no rounding), in
    PyTorch's order for g's layout (float16 as its Half sum)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1
    )
    total = cascade_sum(g.astype(ctx.dtype, copy=False), axes, half_vectors=ctx.f16)
    return total.reshape(shape)


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


# ---------------------------------------------------------------- the table

KERNELS = {}


def kernel(name, grad_fn=None, storage_level=False):
    """Register the reference kernel of op `name` of the op list. `grad_fn` refines the list's
    node name by shapes (a function (input shapes, attrs) -> name); None keeps the list's."""
    if name not in _oplist.GRAD_FN:
        raise ValueError(f"{name!r} is not in the op list (python/tapegrad/_oplist.py)")

    def register(cls):
        cls.name = name
        cls.grad_fn = grad_fn or _oplist.GRAD_FN[name]
        cls.storage_level = storage_level
        KERNELS[name] = cls
        return cls

    return register
