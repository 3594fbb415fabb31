"""PyTorch's tensor text, character for character: `repr`, `str` and `format` of a tensor.

The rules are those of PyTorch's printer: past `threshold` elements only `edgeitems` rows at
each end of every long dimension are shown, with `...` between them; the number style (integer,
fixed or scientific) and the column width come from the shown values alone; rows wrap at
`linewidth`; the suffixes (`size=`, `dtype=`, `grad_fn=`/`requires_grad=True`) follow, each on
a new line when it would pass `linewidth`. Options are in _ops_print.py.
"""

import math

import numpy as np

from ._dtype import bool as bool_
from ._dtype import get_default_dtype, int64
from ._grad_mode import no_grad
from ._ops_print import OPTS


def _cells(arr):
    """Each shown value as PyTorch writes it, right-aligned to one width: (an object array of
    strings shaped like `arr`, the width). The number style and the width come from the shown
    values alone, the width from the finite nonzero ones."""
    flat = arr.ravel()
    vals = flat.tolist()
    if arr.dtype.kind != "f":
        strs = [f"{v}" for v in vals]
        width = max(1, max(map(len, strs), default=1))
    else:
        finite = np.isfinite(flat)
        nz = finite & (flat != 0)
        sci, whole = False, True
        if nz.any():
            shown = flat[nz]
            mag = np.abs(shown).astype(np.float64)
            lo, hi = float(mag.min()), float(mag.max())
            whole = bool(np.all(shown == np.ceil(shown)))
            if OPTS.sci_mode is None:
                sci = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
            else:
                sci = OPTS.sci_mode
        if sci:
            spec = f".{OPTS.precision}e"
            strs = [format(v, spec) for v in vals]
        elif whole:  # integral floats end in a point, which counts in the width; inf, nan don't
            strs = [f"{v:.0f}." if f else f"{v:.0f}" for v, f in zip(vals, finite.tolist())]
        else:
            spec = f".{OPTS.precision}f"
            strs = [format(v, spec) for v in vals]
        width = max([1] + [len(s) for s, k in zip(strs, nz.tolist()) if k])
    cells = np.empty(len(strs), dtype=object)
    cells[:] = [s.rjust(width) for s in strs]
    return cells.reshape(arr.shape), width


def _shown(t, dim, edge):
    """The values on show as a NumPy array: each dimension longer than 2 * edge keeps its first
    and last `edge` rows. Reads only those rows, so a big tensor costs what its summary costs."""
    if dim == t.ndim:
        return t._be.to_numpy(t)
    n = t.shape[dim]
    if n <= 2 * edge:
        return _shown(t, dim + 1, edge)
    lead = (slice(None),) * dim
    head = _shown(t[lead + (slice(0, edge),)], dim + 1, edge)
    tail = _shown(t[lead + (slice(n - edge, n),)], dim + 1, edge)
    return np.concatenate((head, tail), axis=dim)


def _vector(cells, cut, indent, width):
    """One row: `cells` holds only the shown values; `cut` puts ` ...` in the middle."""
    edge = OPTS.edgeitems
    if cut and not edge:
        data = ["..."]
    elif cut:
        data = cells[:edge] + [" ..."] + cells[edge:]
    else:
        data = cells
    per_line = max(1, math.floor((OPTS.linewidth - indent) / (width + 2)))
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _body(cells, cuts, indent, width):
    if cells.ndim == 0:
        return cells.item()
    if cells.ndim == 1:
        return _vector(cells.tolist(), cuts[0], indent, width)
    edge = OPTS.edgeitems
    if cuts[0] and not edge:
        rows = ["..."]
    elif cuts[0]:
        rows = [_body(cells[i], cuts[1:], indent + 1, width) for i in range(edge)] + ["..."]
        rows += [_body(cells[i], cuts[1:], indent + 1, width) for i in range(edge, 2 * edge)]
    else:
        rows = [_body(a, cuts[1:], indent + 1, width) for a in cells]
    return "[" + ("," + "\n" * (cells.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _values_str(t, indent):
    shape = tuple(t.shape)
    summarize = t.numel() > OPTS.threshold
    edge = OPTS.edgeitems
    cuts = [summarize and n > 2 * edge for n in shape]
    if summarize and not edge and t.ndim:  # nothing but `...` is shown
        return "[...]"
    arr = _shown(t, 0, edge) if summarize else t._be.to_numpy(t)
    cells, width = _cells(arr)
    return _body(cells, cuts, indent, width)


def _dtype_suffix(dt):
    """`dtype=...` and its width: the dtype prints under PyTorch's name (`torch.float16`)."""
    s = f"dtype={dt}"
    return s, len(s)


def _plain(s):
    return s, len(s)


def _add_suffixes(text, suffixes, indent):
    """`suffixes`: (text, the width PyTorch counts for it)."""
    out = [text]
    # PyTorch's count: two more than the last line's length.
    last = len(text) - text.rfind("\n") + 1
    for s, n in suffixes:
        if last + n + 2 > OPTS.linewidth:
            out.append(",\n" + " " * indent + s)
            last = indent + n
        else:
            out.append(", " + s)
            last += n + 2
    return "".join(out) + ")"


def format_tensor(t):
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    with no_grad():
        d = t.detach()
        if d.numel() == 0:
            text = "[]"
            if d.ndim != 1:
                suffixes.append(_plain(f"size={tuple(d.shape)}"))
            # An empty tensor has no values to tell an integer type by, so only the default
            # dtype goes unnamed.
            if d.dtype != get_default_dtype():
                suffixes.append(_dtype_suffix(d.dtype))
        else:
            if not OPTS.edgeitems:
                suffixes.append(_plain(f"size={tuple(d.shape)}"))
            if d.dtype not in (get_default_dtype(), int64, bool_):
                suffixes.append(_dtype_suffix(d.dtype))
            text = _values_str(d, indent)
    gf = t.grad_fn
    if gf is not None:
        suffixes.append(_plain(f"grad_fn=<{gf.name()}>"))
    elif t.requires_grad:
        suffixes.append(_plain("requires_grad=True"))
    out = _add_suffixes(prefix + text, suffixes, indent)
    if getattr(t, "_is_param", False):
        return "Parameter containing:\n" + out
    return out


def format_spec(t, spec):
    """`format(t, spec)`: a 0-dim tensor formats as its Python number; any other tensor (and a
    parameter, which PyTorch makes a subclass) only with an empty spec, as its str."""
    if not isinstance(spec, str):
        raise TypeError(f"__format__() argument must be str, not {type(spec).__name__}")
    is_param = bool(getattr(t, "_is_param", False))
    if t.ndim == 0 and not is_param:
        return format(t.detach().item(), spec)
    if spec:
        name = "Parameter" if is_param else "Tensor"
        raise TypeError(f"unsupported format string passed to {name}.__format__")
    return format_tensor(t)
