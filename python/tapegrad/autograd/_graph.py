"""Walking a recorded graph the same way on both backends, and printing small values.

Both backends' nodes (`_core.GradFn`, `numpy_ref.Node`) offer one introspection surface: `name()`,
`seq`, `op`, `next_functions`, `input_shapes`, `input_dtypes`, `output_shape`, `output_dtype`,
`scalar`, `released`, `saved()` and `apply(grad)`. An edge in `next_functions` is `(None, 0)` (the
input needs no gradient), `(node, 0)` or `(AccumulateGrad, 0)` whose `.variable` is the leaf.
"""

import numpy as np

from .. import _oplist

# ops whose `scalar` attribute is meaningful (the others report a placeholder)
SCALAR_OPS = frozenset(n for n in _oplist.NAMES if _oplist.KIND[n] == "scalar")

SMALL = 6  # tensors with at most this many elements print their values


def is_node(x):
    """A graph node (not None, not an AccumulateGrad)."""
    return x is not None and hasattr(x, "seq")


def edges(node):
    """[(kind, obj)] per input: ("const", None), ("node", node) or ("leaf", tensor)."""
    out = []
    for fn, _ in node.next_functions:
        if fn is None:
            out.append(("const", None))
        elif is_node(fn):
            out.append(("node", fn))
        else:
            out.append(("leaf", fn.variable))
    return out


def leaf_key(t):
    """A stable identity for a leaf tensor.

    The cpp backend hands out a new Python object for the same tensor from
    `AccumulateGrad.variable`, so identity is the storage address (and shape)."""
    arr = t._be.to_numpy(t)
    return (arr.__array_interface__["data"][0], arr.shape, arr.dtype.str)


def nodes(root_fn):
    """The nodes reachable from `root_fn`, in decreasing sequence number (the backward order)."""
    seen = {root_fn}
    order = [root_fn]
    stack = [root_fn]
    while stack:
        node = stack.pop()
        for fn, _ in node.next_functions:
            if is_node(fn) and fn not in seen:
                seen.add(fn)
                order.append(fn)
                stack.append(fn)
    order.sort(key=lambda n: -n.seq)
    return order


def leaves(root_fn):
    """The distinct leaf tensors reachable from `root_fn`, in order of first appearance along
    increasing sequence numbers."""
    out = {}
    for node in reversed(nodes(root_fn)):
        for kind, obj in edges(node):
            if kind == "leaf":
                out.setdefault(leaf_key(obj), obj)
    return list(out.values())


class Names:
    """Labels for tensors and nodes: user-given names for leaves, `%seq` for op outputs."""

    def __init__(self, names=None, root=None):
        self._by_key = {}
        self._counter = 0
        for label, t in (names or {}).items():
            self._by_key[leaf_key(t)] = label
        self.root = root

    def leaf(self, t):
        k = leaf_key(t)
        label = self._by_key.get(k)
        if label is None:
            label = f"leaf{self._counter}"
            self._counter += 1
            self._by_key[k] = label
        return label

    def node(self, node):
        return f"%{node.seq}"

    def edge(self, kind, obj, node=None, pos=None):
        """The label of input `pos` of `node`, whose edge is (kind, obj)."""
        if kind == "node":
            return self.node(obj)
        if kind == "leaf":
            return self.leaf(obj)
        return self.const(node, pos)[0]

    def const(self, node, pos):
        """(label, values or None) of a constant input: its name if the caller named it, and
        its small values, when `record_values()` saw the op."""
        from ._record import value_of

        rec = value_of(node, pos) if node is not None else None
        if rec is None:
            return "const", None
        key, arr = rec
        label = self._by_key.get(key)
        if label is None:
            label = "const" if arr.size > SMALL else f"const {fmt_array(arr)}"
        return label, arr


def dtype_short(name):
    return {"float32": "f32", "float16": "f16", "float64": "f64"}.get(str(name), str(name))


def shape_str(shape):
    if shape is None:
        return "-"
    return "[" + ", ".join(str(s) for s in shape) + "]"


def type_str(dtype, shape):
    """`f32[3, 2]`: compact dtype and shape."""
    return f"{dtype_short(dtype)}{shape_str(shape)}"


def array_of(t):
    """The values of a tensor of either backend, as an ndarray (no copy when possible)."""
    return np.asarray(t._be.to_numpy(t))


def fmt_array(arr, small=SMALL, precision=4):
    """Values of a small array (`0.7616`, `[1, 2.5]`), or a summary for a large one."""
    arr = np.asarray(arr)
    if arr.size == 0:
        return "[]"
    if arr.size <= small:
        a = arr.astype(np.float64)
        if a.ndim == 0:
            return _fmt_num(float(a), precision)
        return np.array2string(
            a,
            precision=precision,
            separator=", ",
            suppress_small=False,
            formatter={"float_kind": lambda v: _fmt_num(v, precision)},
        ).replace("\n", "")
    a = arr.astype(np.float64)
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return f"<{arr.size} values, none finite>"
    extra = "" if finite.size == a.size else f", {a.size - finite.size} non-finite"
    return (
        f"<{arr.size} values in [{_fmt_num(finite.min(), precision)}, "
        f"{_fmt_num(finite.max(), precision)}]{extra}>"
    )


def fmt_tensor(t, small=SMALL):
    if t is None:
        return "None"
    return fmt_array(array_of(t), small)


def _fmt_num(v, precision=4):
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    if v == int(v) and abs(v) < 1e6:
        return f"{v:.1f}"
    return f"{v:.{precision}g}" if abs(v) < 1e-3 or abs(v) >= 1e5 else f"{v:.{precision}f}"


def scalar_of(node):
    """The op's scalar attribute, or None when the op has none."""
    return float(node.scalar) if node.op in SCALAR_OPS else None
