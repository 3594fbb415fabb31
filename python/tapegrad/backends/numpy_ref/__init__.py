"""The `numpy` backend: tapegrad's executable spec, in plain NumPy (docs/backends.md).

One module per part:

- registry.py and kernels_*.py hold the math: `KERNELS[name]` has each op's
  `forward(ctx, *arrays, **attrs)` and `backward(ctx, grad)` side by side, on plain ndarrays in
  whatever float dtype they are given. Call them directly on float64 arrays for finite
  differences:

      from tapegrad.backends.numpy_ref import KERNELS, Ctx, vjp
      ctx = Ctx(np.float64)                        # compute dtype; ctx.round is the identity
      y = KERNELS["div"].forward(ctx, a, b)
      ga, gb = KERNELS["div"].backward(ctx, g)
      y, (ga, gb) = vjp("div", (a, b), g)          # the same in one call

- tensor.py: `NTensor`, a strided view (sizes, strides, offset) of a flat storage ndarray
  (any of the nine dtypes of tapegrad._dtype) plus autograd state, and the storage and aliasing
  rules.
- tape.py: `_run` applies an op (upcast float16 -> compute in float32 -> round once -> store in
  new contiguous storage), and records a `Node` when grad mode is on and an input requires grad.
  `backward` walks the nodes reachable from the root without recursion, in dependency order
  (ties: the higher sequence number first), and accumulates into leaves' `.grad`.
- views.py: the view ops on the tape (results share the input's storage), the lazy regeneration
  of a stale view's history and the CopySlices rebase of an in-place change of a view.
- inplace.py: the in-place functions iop, fill_, copy_, index_put_.
- promote.py: PyTorch's type promotion (`result_type`) and conversions between dtypes;
  arith.py applies them to the element-wise, reducing and linear-algebra ops, logic.py has the
  comparisons and where, indexing.py index and index_put (kernels: kernels_compare.py,
  kernels_index.py).
- functions.py: the rest of the backend protocol: creation and conversion, the thread count and
  one function per op.
- optim.py: the optimizer kernels `sgd_update`, `adam_update`, `rmsprop_update` and
  `adagrad_update`.
- pmath.py: sigmoid, float16's math and `x ** s` / `s ** x` in PyTorch's loop (vector code over
  whole pairs of vectors, scalar code on the tail); sleef.py: the SLEEF exp and pow its AVX2
  vector code calls, vectorized over NumPy arrays.

This module is the backend: it gathers those names, and `NTensor._be` is this module.
"""

import sys

from tapegrad import _oplist

# Importing the kernel modules registers their ops in KERNELS (views: the stale-view hook).
from . import (  # noqa: F401
    functions,
    kernels_activation,
    kernels_compare,
    kernels_divmod,
    kernels_elementwise,
    kernels_ewise,
    kernels_index,
    kernels_linalg,
    kernels_losses,
    kernels_mm2,
    kernels_nnloss,
    kernels_norm,
    kernels_prodnorm,
    kernels_reduce,
    kernels_select,
    kernels_shape,
    kernels_shapeops,
    views,  # noqa: F401
)
from .engine import (  # noqa: F401
    backward,
    bump_version,
    function_node,
    retain_grad,
    retains_grad,
    run_backward,
    run_leaf_hooks,
    set_grad_hook,
    set_history,
    set_post_accumulate_hook,
    with_history,
)
from .functions import (  # noqa: F401
    copy_,
    detach,
    fill_,
    from_numpy,
    from_numpy_shared,
    get_num_threads,
    index_put_,
    iop,
    item,
    masked_fill,
    put_,
    scalar_overload,
    set_num_threads,
    sub_scalar,
    to_numpy,
)
from .kernels_linalg import matmul_shape  # noqa: F401
from .optim import adagrad_update, adam_update, rmsprop_update, sgd_update
from .registry import KERNELS, Ctx, broadcast_shapes, vjp  # noqa: F401
from .tape import Node  # noqa: F401
from .tensor import NTensor, name  # noqa: F401

# One function per op of the op list (python/tapegrad/_oplist.py); tests/test_oplist.py checks
# that KERNELS has a reference kernel for each.
OPS = _oplist.NAMES
for _name in OPS:
    globals()[_name] = getattr(functions, _name)
del _name

__all__ = [
    "KERNELS",
    "Ctx",
    "vjp",
    "NTensor",
    "Node",
    "OPS",
    "sgd_update",
    "adam_update",
    "rmsprop_update",
    "adagrad_update",
]

NTensor._be = sys.modules[__name__]
Tensor = NTensor  # the protocol's name for this backend's concrete class
