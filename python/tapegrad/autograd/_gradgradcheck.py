"""`gradgradcheck(fn, inputs)`: second derivatives (create_graph=True) against finite differences.

As PyTorch's: the function checked is `(inputs, v) -> grad(fn(inputs), inputs, v)`, for random
output weights v that require grad, so both the backward formulas' dependence on the inputs and
their dependence on v are checked.

Analytic side: that function runs with create_graph=True in the inputs' own dtype and backend,
and one backward per element of its result gives its Jacobian: the second derivatives the
recorded backward formulas give. Numeric side: the same function with create_graph=False on
float64 copies of the inputs, moved element by element by +-h: central differences of the
backend's first-order kernels. The two sides share no code beyond the first-order kernels, which
gradcheck checks on their own.
"""

import numpy as np

from .. import _backend
from .._grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from ._gradcheck import (
    GradcheckError,
    _analytic,
    _as_tuple,
    _central,
    _locate,
    _outputs,
    _small,
    worst_entry,
)
from ._tolerances import GRADGRAD, GRADGRAD_EPS


def _first_order(fn, n, wrt, create_graph):
    """(inputs..., v...) -> the gradients of fn w.r.t. inputs[wrt], weighted by v."""
    from .._factories import zeros_like
    from ._api import grad

    def first(*args):
        ins, vs = args[:n], args[n:]
        outs = _outputs(fn(*ins))
        pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        targets = [ins[i] for i in wrt]
        if not pairs:
            return tuple(zeros_like(t) for t in targets)
        got = grad([o for o, _ in pairs], targets, [v for _, v in pairs],
                   create_graph=create_graph, allow_unused=True)  # fmt: skip
        return tuple(zeros_like(t) if g is None else g for t, g in zip(targets, got))

    return first


def _random_like(o, rng):
    from .._factories import tensor

    values = rng.standard_normal(tuple(o.shape)).astype(o.dtype.np)
    return tensor(values, dtype=o.dtype, requires_grad=True, backend=o._be.name)


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps=None, atol=None, rtol=None, seed=0,
                  raise_exception=True):  # fmt: skip
    """Check `fn`'s second derivatives w.r.t. the inputs that require grad.

    inputs: a tensor or a tuple of tensors (float64, float32 or float16; other values pass
    through to fn unchanged). grad_outputs: the weights v of fn's outputs (random normal, from
    `seed`, when None). eps, atol, rtol override _tolerances.GRADGRAD.
    Returns True, or raises GradcheckError (returns False with raise_exception=False).
    """
    inputs, _ = _as_tuple(inputs)
    n = len(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradgradcheck expects at least one input tensor to require gradient")
    for i in wrt:
        if inputs[i].dtype.name not in GRADGRAD:
            raise TypeError(f"gradgradcheck: input {i} has unsupported dtype {inputs[i].dtype}")
    be = inputs[wrt[0]]._be
    with enable_grad(), _backend.use_backend(be.name):
        outs = _outputs(fn(*inputs))
        if grad_outputs is None:
            rng = np.random.default_rng(seed)
            grad_outputs = tuple(_random_like(o, rng) for o in outs)
        else:
            grad_outputs, _ = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outs):
        raise ValueError(f"gradgradcheck: {len(outs)} outputs but {len(grad_outputs)} grad_outputs")
    args = tuple(inputs) + tuple(grad_outputs)
    wrt2 = wrt + [n + k for k, v in enumerate(grad_outputs) if v.requires_grad]

    analytic, results = _analytic(_first_order(fn, n, wrt, True), args, wrt2)
    base = [_f64_copy(a) for a in args]
    with enable_grad(), _backend.use_backend(be.name):
        numeric = _central(_first_order(fn, n, wrt, False), base, wrt2,
                           {i: GRADGRAD_EPS if eps is None else eps for i in wrt2})  # fmt: skip

    shapes = [tuple(r.shape) for r in results]
    for i in wrt2:
        x = args[i]
        r_def, a_def = GRADGRAD[x.dtype.name]
        r = r_def if rtol is None else rtol
        a = a_def if atol is None else atol
        A, N = analytic[i], numeric[i]
        worst = worst_entry(A, N, r, a)
        if worst is not None:
            row, col, diff, allowed, scale, n_bad = worst
            k, el = _locate(int(row), shapes)
            what = f"input {i}" if i < n else f"grad_output {i - n}"
            at = tuple(int(v) for v in np.unravel_index(int(col), x.shape))
            msg = (
                f"gradgradcheck failed for {what} ({x.dtype.name} {tuple(x.shape)}, "
                f"{be.name} backend), element {at}, "
                f"gradient of input {wrt[k]} element {el}:\n"
                f"  analytic {A[row, col]:.8g} (create_graph=True)\n"
                f"  numeric  {N[row, col]:.8g} (finite differences of float64 gradients)\n"
                f"  |difference| {diff:.3g} > allowed {allowed:.3g} "
                f"(rtol {r:g}, atol {a:g} x scale {scale:.3g}); {n_bad} of {A.size} "
                f"entries fail.\n  analytic:\n{_small(A)}\n  numeric:\n{_small(N)}"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def _f64_copy(x):
    from .._dtype import float64

    if not isinstance(x, Tensor):
        return x
    with no_grad():
        t = x.detach().to(float64).clone() if x.dtype.is_floating_point else x.detach().clone()
    return t.requires_grad_(x.requires_grad) if x.dtype.is_floating_point else t
