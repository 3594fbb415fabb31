"""`gradcheck(fn, inputs)`: a backend's analytic gradients against float64 finite differences.

Analytic side: `fn` runs on the inputs' own backend and dtype (float64, float32 or float16) on
fresh leaf copies, and one `backward(retain_graph=True)` per output element gives the Jacobian,
row by row.

Numeric side, the float64 reference (default): `fn` runs again on a forward-only float64
evaluator of the NumPy reference kernels (`_f64.py`: every tapegrad op, computed in float64 with
no rounding). Each input element is moved by +-h, h = eps * max(1, |x|), and central differences
give the Jacobian's columns. Because this side is exact math, eps is small for every dtype
(truncation error ~h**2, rounding error ~1e-16 / h: both ~1e-10 to 1e-12 relative); what depends
on the dtype is how far the analytic side may be from it: float32 gradients carry float32
roundings, float16 ones float16 roundings through every op of the chain.

Why an evaluator and not the numpy backend with float64 storage: the tape stores float32 and
float16 only (the executable spec stays honest), while finite differences need forward values
only, so a 100-line forward evaluator over the same kernels is the clean way to run *any*
function written with tapegrad ops in float64.

Fallback (`reference="backend"`, or automatically when `fn` uses tensors it did not get as
inputs, e.g. a model's parameters, which cannot be moved to the evaluator): central differences
on the inputs' own backend with float32 copies of the inputs, with a larger eps and looser
tolerances (FALLBACK below).

Comparison, per input: |analytic - numeric| <= atol * S + rtol * |numeric|, S = max(1, max
|numeric| over that input's Jacobian). A failure raises `GradcheckError` naming the input, its
element, the output element, and the analytic and numeric values.
"""

import numpy as np

from .. import _backend
from .._grad_mode import enable_grad, no_grad
from ..tensor import _MIX, Tensor

# input dtype -> (eps, rtol, atol)
FLOAT64_REFERENCE = {
    "float64": (1e-6, 1e-6, 1e-7),
    "float32": (1e-6, 1e-4, 1e-5),
    "float16": (1e-6, 2e-2, 2e-3),
}
FALLBACK = {
    "float64": (1e-6, 1e-5, 1e-6),
    "float32": (1e-3, 1e-2, 1e-3),
    "float16": (1e-2, 5e-2, 1e-2),
}


class GradcheckError(RuntimeError):
    """Analytic and numeric gradients disagree."""


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,), True
    return tuple(x), False


def _outputs(out):
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)) and all(isinstance(o, Tensor) for o in out):
        return list(out)
    raise TypeError("gradcheck: fn must return a tensor or a tuple/list of tensors")


def _values(out):
    return [np.asarray(o._be.to_numpy(o), dtype=np.float64).copy() for o in _outputs(out)]


def _leaf_copy(x):
    t = x.detach().clone()
    t.requires_grad_(x.requires_grad)
    return t


def _analytic(fn, inputs, wrt):
    """{input index: Jacobian (n_out_total, n_in)} from the backend's backward."""
    copies = [_leaf_copy(x) if isinstance(x, Tensor) else x for x in inputs]
    with enable_grad(), _backend.use_backend(inputs[wrt[0]]._be.name):  # tensors fn makes too
        outs = _outputs(fn(*copies))
    total = sum(o.numel() for o in outs)
    jac = {i: np.zeros((total, inputs[i].numel())) for i in wrt}
    row = 0
    for o in outs:
        for j in range(o.numel()):
            if o.requires_grad:
                for i in wrt:
                    copies[i].grad = None
                onehot = np.zeros(o.numel(), dtype=o.dtype.np)
                onehot[j] = 1
                g = o._be.from_numpy(onehot.reshape(o.shape), False)
                o.backward(g, retain_graph=True)
                for i in wrt:
                    gi = copies[i].grad
                    if gi is not None:
                        jac[i][row] = np.asarray(gi._be.to_numpy(gi), dtype=np.float64).ravel()
            row += 1
    return jac, outs


def _numeric_f64(fn, inputs, wrt, eps):
    from . import _f64

    base = [
        _f64.from_numpy(np.asarray(x._be.to_numpy(x))) if isinstance(x, Tensor) else x
        for x in inputs
    ]
    prev = getattr(_backend._local, "backend", None)
    _backend._local.backend = _f64  # tensors fn creates itself are float64 too
    try:
        with no_grad():
            return _central(fn, base, wrt, eps)
    finally:
        _backend._local.backend = prev


def _numeric_backend(fn, inputs, wrt, eps):
    from .._dtype import float32

    base = [x.detach().to(float32).clone() if isinstance(x, Tensor) else x for x in inputs]
    with no_grad(), _backend.use_backend(inputs[wrt[0]]._be.name):
        return _central(fn, base, wrt, eps)


def _central(fn, base, wrt, eps):
    total = sum(v.size for v in _values(fn(*base)))
    jac = {}
    for i in wrt:
        arr = base[i]._be.to_numpy(base[i])  # the evaluator's storage: changed in place
        flat = arr.reshape(-1)
        jac[i] = np.zeros((total, flat.size))
        for e in range(flat.size):
            x0 = float(flat[e])
            h = eps[i] * max(1.0, abs(x0))
            flat[e] = x0 + h
            hi = np.concatenate([v.ravel() for v in _values(fn(*base))])
            flat[e] = x0 - h
            lo = np.concatenate([v.ravel() for v in _values(fn(*base))])
            flat[e] = x0
            jac[i][:, e] = (hi - lo) / (2 * h)  # (x0 + h) - (x0 - h) is 2h up to rounding
    return jac


def _is_mixing(err):
    return isinstance(err, RuntimeError) and str(err).startswith(_MIX.split("{")[0])


def gradcheck(fn, inputs, *, eps=None, atol=None, rtol=None, reference="auto",
              raise_exception=True):  # fmt: skip
    """Check `fn`'s gradients w.r.t. the inputs that require grad (float64, float32 or float16).

    inputs: a tensor or a tuple of tensors (other values pass through to fn unchanged).
    eps, atol, rtol: override the per-dtype defaults (FLOAT64_REFERENCE / FALLBACK tables).
    reference: "auto" (float64 reference, else the fallback), "float64" or "backend".
    Returns True, or raises GradcheckError (returns False with raise_exception=False).
    """
    inputs, _ = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i in wrt:
        if inputs[i].dtype.name not in FLOAT64_REFERENCE:
            raise TypeError(f"gradcheck: input {i} has unsupported dtype {inputs[i].dtype}")
    if reference not in ("auto", "float64", "backend"):
        raise ValueError(f"reference must be 'auto', 'float64' or 'backend', got {reference!r}")

    analytic, outs = _analytic(fn, inputs, wrt)
    mode = "float64" if reference != "backend" else "backend"
    numeric = None
    if mode == "float64":
        table = FLOAT64_REFERENCE
        try:
            numeric = _numeric_f64(fn, inputs, wrt, _per_input(eps, table, inputs, wrt, 0))
        except RuntimeError as err:
            if reference == "float64" or not _is_mixing(err):
                raise
            mode = "backend"
    if mode == "backend":
        table = FALLBACK
        numeric = _numeric_backend(fn, inputs, wrt, _per_input(eps, table, inputs, wrt, 0))
    ref_name = (
        "finite differences on the float64 reference"
        if mode == "float64"
        else "finite differences on the backend in float32 (fallback)"
    )

    out_shapes = [tuple(o.shape) for o in outs]
    for i in wrt:
        x = inputs[i]
        _, r_def, a_def = table[x.dtype.name]
        r = r_def if rtol is None else rtol
        a = a_def if atol is None else atol
        A, N = analytic[i], numeric[i]
        if A.shape != N.shape:
            raise GradcheckError(
                f"gradcheck: Jacobian shapes differ for input {i}: {A.shape} vs {N.shape}"
            )
        worst = worst_entry(A, N, r, a)
        if worst is not None:
            row, col, diff, allowed, scale, n_bad = worst
            out_k, out_el = _locate(int(row), out_shapes)
            in_el = tuple(int(v) for v in np.unravel_index(int(col), x.shape))
            msg = (
                f"gradcheck failed for input {i} ({x.dtype.name} {tuple(x.shape)}, "
                f"{x._be.name} backend), element {in_el}, output {out_k} element {out_el}:\n"
                f"  analytic {A[row, col]:.8g}\n  numeric  {N[row, col]:.8g}   ({ref_name})\n"
                f"  |difference| {diff:.3g} > allowed {allowed:.3g} "
                f"(rtol {r:g}, atol {a:g} x scale {scale:.3g}); {n_bad} of {A.size} "
                f"Jacobian entries of this input fail.\n"
                f"  analytic Jacobian:\n{_small(A)}\n  numeric Jacobian:\n{_small(N)}"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def worst_entry(A, N, rtol, atol):
    """The worst entry of analytic A against numeric N beyond |A - N| <= atol * S + rtol * |N|
    (S = max(1, max |N|)): (row, col, |difference|, allowed, S, count failing), or None."""
    scale = max(1.0, float(np.abs(N[np.isfinite(N)]).max(initial=0.0)))
    with np.errstate(invalid="ignore"):
        diff = np.abs(A - N)
        allowed = atol * scale + rtol * np.abs(N)
        bad = ~(diff <= allowed)
    if not bad.any():
        return None
    row, col = np.unravel_index(int(np.argmax(np.where(bad, diff, -1))), bad.shape)
    return row, col, diff[row, col], allowed[row, col], scale, int(bad.sum())


def _per_input(eps, table, inputs, wrt, k):
    return {i: (table[inputs[i].dtype.name][k] if eps is None else eps) for i in wrt}


def _locate(row, shapes):
    for k, s in enumerate(shapes):
        n = int(np.prod(s)) if s else 1
        if row < n:
            return k, tuple(int(v) for v in np.unravel_index(row, s)) if s else ()
        row -= n
    return len(shapes) - 1, ()


def _small(m):
    if m.size > 36:
        return f"    <{m.shape[0]} x {m.shape[1]}>"
    return "    " + np.array2string(m, precision=6, separator=", ").replace("\n", "\n    ")
