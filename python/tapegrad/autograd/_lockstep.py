"""`check_backends()`: run every cpp op also on the NumPy reference, forward and backward.

While active (or for the whole process with `TAPEGRAD_CHECK=1`), each op a cpp tensor goes
through is repeated on NumPy-backend copies of its inputs (same values, dtypes and
requires_grad), so every op is compared on identical inputs and errors never compound:

- forward: same shape, dtype and grad_fn name; values within the tolerance below; NaN where the
  other has NaN and the same infinities;
- backward: when the op was recorded, both nodes' `apply` run on the same upstream gradient
  (deterministic pseudo-random values of the output's shape and dtype) and every input gradient
  is compared the same way. (In-place ops are compared forward only.)

The first op that differs raises `BackendMismatchError` (a RuntimeError) naming the op, the
phase (forward, or the gradient for input i), the shapes, the maximum error and where it is, and
the user's source line. With `check_backends(on_mismatch="warn")` (or `TAPEGRAD_CHECK=warn`) it
warns instead and keeps going; `ctx.mismatches` lists what differed and `ctx.checked` counts
the ops compared.

Tolerance: both backends promise the numerics contract (docs/design.md, Numerics) against a
float64 oracle, so they may differ from each other by twice the table of _tolerances.py:
|cpp - ref| <= 2 * sqrt(K) * f * (atol + rtol * max(|ref|, S)), where K is the number of terms
summed into one element (1 for element-wise ops), S the magnitude of those terms for ops that sum
(0 otherwise: the error is relative to the result itself), and f the documented float16 extra
factor of a few fused ops.
"""

import warnings

import numpy as np

from .._grad_mode import no_grad
from . import _graph as G
from . import _hooks
from ._anomaly import _user_frames, format_site
from ._tolerances import tolerance

_SUMMING = frozenset({"sum", "mean", "matmul", "linear", "mse_loss", "l1_loss"})


class BackendMismatchError(RuntimeError):
    """The cpp backend and the NumPy reference disagree on an op beyond tolerance."""


class BackendMismatchWarning(RuntimeWarning):
    pass


def _maxabs(arr):
    a = np.asarray(arr, dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(np.abs(a).max()) if a.size else 0.0


def _compare(got, ref, op, dtype_name, k, scale, backward):
    """None if `got` matches `ref`, else (max error, index, got value, ref value, allowed)."""
    rtol, atol = tolerance(dtype_name, k, op, backward)
    w = 2.0  # the table bounds each backend against float64: their difference gets twice that
    g = np.asarray(got, dtype=np.float64)
    r = np.asarray(ref, dtype=np.float64)
    nan_g, nan_r = np.isnan(g), np.isnan(r)
    with np.errstate(all="ignore"):
        allowed = w * (atol + rtol * np.maximum(np.abs(r), scale))
        err = np.abs(g - r)
        same_inf = np.isinf(g) & np.isinf(r) & (g == r)
        err = np.where(same_inf | (nan_g & nan_r), 0.0, err)
        err = np.where(nan_g ^ nan_r, np.inf, err)
        err = np.where(np.isinf(g) ^ np.isinf(r), np.inf, err)
        excess = np.where(np.isfinite(allowed), err - allowed, err)
    if not (excess > 0).any():
        return None
    i = np.unravel_index(int(np.argmax(np.where(np.isnan(excess), np.inf, excess))), g.shape)
    i = tuple(int(j) for j in i)
    return float(err[i]), i, float(g[i]), float(r[i]), float(allowed[i])


class check_backends(_hooks.Tool):  # noqa: N801 (a context manager, named like one)
    """Lockstep checking of the cpp backend against the NumPy reference (module docstring)."""

    def __init__(self, on_mismatch="raise", backward=True):
        if on_mismatch not in ("raise", "warn"):
            raise ValueError(f"on_mismatch must be 'raise' or 'warn', got {on_mismatch!r}")
        self.on_mismatch = on_mismatch
        self.backward = bool(backward)
        self.mismatches = []
        self.checked = {}  # op -> number of calls compared
        self._n = 0

    # ---- the hooks

    def pre(self, be, fname, args):
        """Tool hook called before each backend op: on the cpp backend, return copies of the tensor
        arguments on the NumPy reference (the in-place ops may change the originals); else None."""
        if be.name != "cpp":
            return None
        keep_rg = fname not in _hooks.INPLACE_FUNCS
        return [self._mirror(x, keep_rg) if hasattr(x, "_be") else x for x in args]

    def _mirror(self, t, keep_rg):
        from ..backends import numpy_ref

        arr = np.array(G.array_of(t), copy=True)
        return numpy_ref.from_numpy(arr, bool(keep_rg and t.requires_grad))

    def post(self, be, fname, args, out, state):
        """Tool hook called after each backend op: run the same op on the reference copies from
        `pre` and compare the outputs (and, with `backward=True`, the gradients) within the op's
        tolerance; a mismatch raises BackendMismatchError or warns, per `on_mismatch`."""
        if state is None:
            return
        from ..backends import numpy_ref

        inplace = fname in _hooks.INPLACE_FUNCS
        ins = [x for x in state if hasattr(x, "_be")]
        shapes = " , ".join(G.type_str(x.dtype.name, x.shape) for x in ins)
        self.checked[fname] = self.checked.get(fname, 0) + 1
        try:
            ref = getattr(numpy_ref, fname)(*state)
        except Exception as e:  # noqa: BLE001
            self._mismatch(fname, "forward", shapes, f"the reference raised {e!r}; cpp did not")
            return
        if inplace:
            got = args[1] if fname == "iop" else args[0]
            ref = state[1] if fname == "iop" else state[0]
        else:
            got = out
        g_arr, r_arr = G.array_of(got), G.array_of(ref)
        shapes += f" -> {G.type_str(g_arr.dtype.name, g_arr.shape)}"
        if g_arr.shape != r_arr.shape or g_arr.dtype != r_arr.dtype:
            self._mismatch(
                fname, "forward", shapes,
                f"cpp gives {G.type_str(g_arr.dtype.name, g_arr.shape)}, the reference "
                f"{G.type_str(r_arr.dtype.name, r_arr.shape)}",
            )  # fmt: skip
            return
        k, scale = self._forward_k(fname, ins, r_arr)
        bad = _compare(g_arr, r_arr, fname, r_arr.dtype.name, k, scale, backward=False)
        if bad is not None:
            self._mismatch(fname, "forward", shapes, self._fmt_bad(bad))
            return
        if inplace or not self.backward:
            return
        fn, rfn = got.grad_fn, ref.grad_fn
        if (fn is None) != (rfn is None) or (fn is not None and fn.name() != rfn.name()):
            self._mismatch(
                fname, "forward", shapes,
                f"grad_fn differs: cpp {fn.name() if fn else None}, "
                f"reference {rfn.name() if rfn else None}",
            )  # fmt: skip
            return
        if fn is not None:
            self._check_backward(be, fname, fn, rfn, ins, g_arr, shapes)

    def _check_backward(self, be, fname, fn, rfn, ins, out_arr, shapes):
        from ..backends import numpy_ref

        self._n += 1
        rng = np.random.default_rng(self._n)
        g = rng.uniform(-1.0, 1.0, size=out_arr.shape).astype(out_arr.dtype)
        with no_grad(), np.errstate(all="ignore"):
            grads = fn.apply(_hooks.original(be, "from_numpy")(g, False))
            rgrads = rfn.apply(numpy_ref.from_numpy(g, False))
        n = max(len(grads), len(rgrads))
        grads = tuple(grads) + (None,) * (n - len(grads))
        rgrads = tuple(rgrads) + (None,) * (n - len(rgrads))
        g_max = _maxabs(g)
        in_max = max([_maxabs(G.array_of(x)) for x in ins] + [1.0])
        for i, (a, b) in enumerate(zip(grads, rgrads, strict=True)):
            phase = f"backward (gradient for input {i})"
            if (a is None) != (b is None):
                self._mismatch(
                    fname, phase, shapes,
                    f"cpp gives {'no gradient' if a is None else 'a gradient'}, the reference "
                    f"{'none' if b is None else 'one'}",
                )  # fmt: skip
                return
            if a is None:
                continue
            aa, ba = G.array_of(a), G.array_of(b)
            if aa.shape != ba.shape or aa.dtype != ba.dtype:
                self._mismatch(
                    fname, phase, shapes,
                    f"cpp gives {G.type_str(aa.dtype.name, aa.shape)}, the reference "
                    f"{G.type_str(ba.dtype.name, ba.shape)}",
                )  # fmt: skip
                return
            if fname in ("matmul", "linear"):
                k = g.size
            else:
                k = max(1, g.size // max(ba.size, 1))
            scale = g_max * in_max if k > 1 else 0.0
            bad = _compare(aa, ba, fname, ba.dtype.name, k, scale, backward=True)
            if bad is not None:
                self._mismatch(fname, phase, shapes, self._fmt_bad(bad))
                return

    @staticmethod
    def _forward_k(op, ins, ref):
        if op not in _SUMMING:
            return 1, 0.0
        m = [_maxabs(G.array_of(x)) for x in ins]
        if op in ("matmul", "linear"):
            k = ins[0].shape[-1] if ins[0].ndim else 1
            return k, m[0] * m[1] + (m[2] if len(m) > 2 else 0.0)
        k = max(1, ins[0].numel() // max(ref.size, 1))
        if op == "mse_loss":
            return k, (m[0] + m[1]) ** 2
        if op == "l1_loss":
            return k, m[0] + m[1]
        return k, m[0]

    @staticmethod
    def _fmt_bad(bad):
        err, i, got, ref, allowed = bad
        return (
            f"max error {err:.3g} at index {i} (cpp {got!r}, reference {ref!r}; "
            f"allowed {allowed:.3g})"
        )

    def _mismatch(self, op, phase, shapes, detail):
        msg = (
            f"check_backends: op '{op}' {phase} differs between cpp and the numpy reference: "
            f"{shapes}: {detail}. The op ran at:\n{format_site(_user_frames())}"
        )
        self.mismatches.append({"op": op, "phase": phase, "shapes": shapes, "detail": detail,
                                "message": msg})  # fmt: skip
        if self.on_mismatch == "raise":
            raise BackendMismatchError(msg)
        warnings.warn(msg, BackendMismatchWarning, stacklevel=4)


ENV_TOOL = [None]


def enable_from_env(mode):
    """TAPEGRAD_CHECK: '1'/'raise'/anything true: raise; 'warn': warn. Process-wide."""
    if ENV_TOOL[0] is None:
        tool = check_backends(on_mismatch="warn" if mode == "warn" else "raise")
        _hooks.activate(tool)
        ENV_TOOL[0] = tool
    return ENV_TOOL[0]
