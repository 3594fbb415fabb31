"""PyTorch-style printing: `tensor([0.5293], dtype=tapegrad.float16, grad_fn=<AddBackward0>)`."""

import math

import numpy as np

from ._dtype import bool as bool_
from ._dtype import get_default_dtype, int64


def _formatter(vals):
    finite = [abs(v) for v in vals if math.isfinite(v)]
    if all(v == int(v) for v in finite) and (not finite or max(finite) < 1e8):
        return lambda v: f"{v:.0f}." if math.isfinite(v) else _special(v)
    nz = [v for v in finite if v != 0]
    sci = bool(nz) and (max(nz) / min(nz) > 1000.0 or max(nz) > 1e8 or min(nz) < 1e-4)
    if sci:
        return lambda v: f"{v:.4e}" if math.isfinite(v) else _special(v)
    return lambda v: f"{v:.4f}" if math.isfinite(v) else _special(v)


def _special(v):
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def _body(arr, fmt, width, indent):
    if arr.ndim == 0:
        return fmt(arr.item()).rjust(width)
    if arr.ndim == 1:
        return "[" + ", ".join(fmt(v).rjust(width) for v in arr.tolist()) + "]"
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(_body(a, fmt, width, indent + 1) for a in arr) + "]"


def format_array(arr, indent):
    if arr.dtype.kind in "iub":  # integers and bools print as Python does, right-aligned
        vals = arr.ravel().tolist()
        fmt = str
        width = max((len(str(v)) for v in vals), default=0)
        return _body(arr, fmt, width, indent)
    vals = arr.astype(np.float64).ravel().tolist()
    fmt = _formatter(vals)
    width = max((len(fmt(v)) for v in vals), default=0)
    return _body(arr, fmt, width, indent)


def format_tensor(t):
    arr = t._be.to_numpy(t)
    prefix = "tensor("
    if arr.size == 0:
        body = "[]" if arr.ndim <= 1 else "[]"
    else:
        body = format_array(arr, len(prefix))
    extras = []
    if arr.size == 0 and arr.ndim != 1:
        extras.append(f"size={tuple(arr.shape)}")
    # PyTorch names the dtype unless it is the default one, int64 or bool.
    if t.dtype not in (get_default_dtype(), int64, bool_):
        extras.append(f"dtype={t.dtype}")
    gf = t.grad_fn
    if gf is not None:
        extras.append(f"grad_fn=<{gf.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
