"""`detect_anomaly()`: stop at the first NaN/Inf, say which op made it and where.

While active, every op (both backends) is watched:

- forward: an op whose output holds NaN or Inf raises `AnomalyError` (a RuntimeError) naming the
  op, its shapes, how many elements are bad, whether its inputs were already non-finite, and the
  user's source line that called it;
- backward: before each `backward()` sweep, the graph is first run node by node (`node.apply`,
  as `backward_steps` does) and the first node that returns a NaN/Inf gradient from a finite
  incoming gradient raises, naming the op and where it was created (a short traceback captured
  when the op ran). Only then does the real backward run, so `.grad` is untouched by a failing
  sweep. This costs a second backward pass: it is a debugging mode (as PyTorch's is).
- float16: for every op with a float16 output, the op is also computed on the NumPy reference
  with float32 copies of the inputs (what the op computes before its final rounding) and
  `ctx.f16_counts[op]` counts `overflow` (finite in float32, +-inf in float16) and `underflow`
  (non-zero in float32, zero in float16) elements, with `calls` and `elements`. Counts are for
  the forward pass.

`detect_anomaly(check_nan=False)` keeps the counts (and `ctx.anomalies`, a list of messages)
without raising.
"""

import os
import sys
from collections import OrderedDict

import numpy as np

from .._grad_mode import no_grad
from . import _graph as G
from . import _hooks

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MAX_SITES = 100_000  # creation sites kept (oldest dropped first), so long runs stay bounded


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared (forward or backward) under detect_anomaly()."""


def _user_frames(limit=4):
    """The innermost `limit` frames outside the tapegrad package, innermost last."""
    f = sys._getframe(1)
    out = []
    while f is not None and len(out) < limit:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(_PKG_DIR + os.sep):
            out.append((fn, f.f_lineno, f.f_code.co_name))
        f = f.f_back
    return out[::-1]


def format_site(frames):
    import linecache

    if not frames:
        return "  (no user source line found)"
    lines = []
    for fn, lineno, func in frames:
        lines.append(f'  File "{fn}", line {lineno}, in {func}')
        code = linecache.getline(fn, lineno).strip()
        if code:
            lines.append(f"    {code}")
    return "\n".join(lines)


def _bad_counts(arr):
    a = np.asarray(arr)
    n_nan = int(np.isnan(a).sum())
    n_pinf = int(np.isposinf(a).sum())
    n_ninf = int(np.isneginf(a).sum())
    parts = [f"{n} {w}" for n, w in ((n_nan, "nan"), (n_pinf, "+inf"), (n_ninf, "-inf")) if n]
    return ", ".join(parts)


def _finite(arr):
    return bool(np.isfinite(arr).all())


class detect_anomaly(_hooks.Tool):  # noqa: N801 (a context manager, named like PyTorch's)
    """Raise at the first NaN/Inf in forward or backward; count float16 overflow/underflow.

    Attributes: `f16_counts` {op: {"calls", "elements", "overflow", "underflow"}},
    `anomalies` (messages, also when `check_nan=False`), `sites` {(backend, seq): frames}.
    """

    def __init__(self, check_nan=True):
        self.check_nan = bool(check_nan)
        self.f16_counts = {}
        self.anomalies = []
        self.sites = OrderedDict()

    # ---- forward

    def pre(self, be, fname, args):
        """Tool hook called before each backend op: for an in-place float16 op, return float32
        copies of its arguments (to count overflow and underflow afterwards); else None."""
        if fname not in _hooks.INPLACE_FUNCS:
            return None
        # an in-place op is about to change args[0] (args[1] for iop): keep float32 copies of
        # the inputs for the float16 counts and their finiteness for the message
        a = args[1] if fname == "iop" else args[0]
        if a.dtype.name != "float16":
            return None
        return [self._f32_copy(x) if hasattr(x, "_be") else x for x in args]

    def post(self, be, fname, args, out, state):
        """Tool hook called after each backend op: remember where the op's node was created, count
        float16 overflow/underflow, and report (raise AnomalyError when `check_nan`) a NaN or Inf
        in the output, saying which op made it and from which user code."""
        target = out
        if fname in _hooks.INPLACE_FUNCS:
            target = args[1] if fname == "iop" else args[0]
        fn = target.grad_fn
        frames = None
        if fn is not None:
            frames = _user_frames()
            self._remember(be.name, fn.seq, frames)
        arr = G.array_of(target)
        if arr.dtype == np.float16:
            self._count_f16(be, fname, args, arr, state)
        if not _finite(arr):
            ins = [G.array_of(t) for t in _hooks.tensors_in(args) if t is not target]
            already = not all(_finite(x) for x in ins)
            msg = (
                f"detect_anomaly: op '{fname}'{f' ({fn.name()})' if fn is not None else ''}"
                f" produced {_bad_counts(arr)} in its output "
                f"{G.type_str(arr.dtype.name, arr.shape)}"
                + (" (an input was already non-finite)" if already else " from finite inputs")
                + " at:\n"
                + format_site(frames if frames is not None else _user_frames())
            )
            self._report(msg)

    def _f32_copy(self, t):
        from ..backends import numpy_ref

        arr = np.array(G.array_of(t), dtype=np.float32)
        return numpy_ref.from_numpy(arr, False)

    def _count_f16(self, be, fname, args, out16, state):
        from ..backends import numpy_ref

        if state is None:
            state = [self._f32_copy(x) if hasattr(x, "_be") else x for x in args]
        ref_args = list(state)
        if fname == "cast":
            ref_args[1] = 0  # the float32 value the cast rounds
        with np.errstate(all="ignore"), no_grad():
            try:
                res = getattr(numpy_ref, fname)(*ref_args)
            except Exception:  # noqa: BLE001 (counts are best effort; never mask the op)
                return
            if fname in _hooks.INPLACE_FUNCS:
                res = ref_args[1] if fname == "iop" else ref_args[0]
            y32 = np.asarray(G.array_of(res), dtype=np.float32)
        if y32.shape != out16.shape:
            return
        c = self.f16_counts.setdefault(
            fname, {"calls": 0, "elements": 0, "overflow": 0, "underflow": 0}
        )
        c["calls"] += 1
        c["elements"] += int(out16.size)
        c["overflow"] += int((np.isfinite(y32) & np.isinf(out16)).sum())
        c["underflow"] += int(((y32 != 0) & (out16 == 0)).sum())

    def _remember(self, backend, seq, frames):
        self.sites[(backend, seq)] = frames
        if len(self.sites) > _MAX_SITES:
            self.sites.popitem(last=False)

    def site_of(self, node, backend):
        """Return the user stack frames where `node` (a grad_fn of `backend`, by name) was created
        inside this block, or None if it was not seen."""
        return self.sites.get((backend, node.seq))

    def _report(self, msg):
        self.anomalies.append(msg)
        if self.check_nan:
            raise AnomalyError(msg)

    # ---- backward

    def before_backward(self, be, t, grad, retain_graph):
        """Tool hook called before a `backward()` sweep: replay the sweep from `t` (with `grad`, or
        ones) node by node without recording, and report the first node that returns a NaN or Inf
        gradient from a finite incoming one, with the place its op was created."""
        root = t.grad_fn
        if root is None or not t.requires_grad:
            return
        if grad is None:
            grad = be.from_numpy(np.ones(t.shape, dtype=t.dtype.np), False)
        pending = {root: grad}
        with no_grad(), np.errstate(all="ignore"):
            for node in G.nodes(root):
                g = pending.pop(node, None)
                if g is None:
                    continue
                if node.released:
                    return  # the real backward raises PyTorch's second-backward error
                grads = node.apply(g)
                g_ok = _finite(G.array_of(g))
                for i, ((kind, obj), gi) in enumerate(zip(G.edges(node), grads, strict=False)):
                    if gi is None or kind == "const":
                        continue
                    arr = G.array_of(gi)
                    if g_ok and not _finite(arr):
                        frames = self.site_of(node, be.name)
                        where = (
                            format_site(frames)
                            if frames is not None
                            else "  (created before detect_anomaly() was entered)"
                        )
                        self._report(
                            f"detect_anomaly: Function '{node.name()}' (op '{node.op}', "
                            f"%{node.seq}) returned {_bad_counts(arr)} in its {i}th output "
                            f"(the gradient for input {i}, "
                            f"{G.type_str(arr.dtype.name, arr.shape)}) from a finite incoming "
                            f"gradient. The op was created at:\n{where}"
                        )
                        if not self.check_nan:
                            return
                    if kind == "node":
                        prev = pending.get(obj)
                        pending[obj] = gi if prev is None else prev + gi

    def report(self):
        """The float16 counts as a small table (str)."""
        if not self.f16_counts:
            return "float16: no ops with float16 outputs"
        lines = [f"{'op':<12} {'calls':>6} {'elements':>10} {'overflow':>9} {'underflow':>9}"]
        for op, c in sorted(self.f16_counts.items()):
            lines.append(
                f"{op:<12} {c['calls']:>6} {c['elements']:>10} {c['overflow']:>9} "
                f"{c['underflow']:>9}"
            )
        return "\n".join(lines)


_global = [None]  # the detect_anomaly that set_detect_anomaly(True) switched on


class set_detect_anomaly:  # noqa: N801 (PyTorch's name)
    """`set_detect_anomaly(True)` switches detect_anomaly on for the whole program, `False` off;
    used with `with`, the previous state comes back at the end."""

    def __init__(self, mode, check_nan=True):
        self._prev = _global[0]
        _switch(detect_anomaly(check_nan) if mode else None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _switch(self._prev)
        return False


def _switch(tool):
    if _global[0] is not None:
        _hooks.deactivate(_global[0])
    _global[0] = tool
    if tool is not None:
        _hooks.activate(tool)


def is_anomaly_enabled():
    """True while a detect_anomaly is active (a `with detect_anomaly()` or set_detect_anomaly)."""
    return any(isinstance(t, detect_anomaly) for t in _hooks._tools)
