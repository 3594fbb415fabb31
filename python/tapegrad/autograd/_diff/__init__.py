"""Differentiable backward formulas: what create_graph=True records (autograd/_double.py).

`DIFF[op](node, g)` returns one gradient per input of `node` (None where none is needed),
written with tapegrad's own ops so that recording them gives the backward its own history.
Each formula follows PyTorch's derivatives.yaml for that op. The first-order *values* still
come from the backend's kernel (`node.apply`), so create_graph never changes their bits; the
formula only supplies the graph behind them.

A formula reads the op's saved tensors with `node.input(i)` / `node.output()` (the leaf
itself, or the saved values with the edge's history) and its attributes with `attr(node,
name)`: the numpy backend keeps them by name, the cpp backend in generic fields (`s`, `s2`,
`a1`, `a2`, `i1`) that each op's `@diff(..., cpp=...)` maps to the same names.
"""

DIFF = {}
CPP_ATTRS = {}
NP_ATTRS = {}

# The ops (and dtypes) whose formula computes the kernel's very bits: create_graph takes their
# first-order values from the formula alone and skips the kernel (half the work for a matmul).
# tests/test_create_graph_bits.py checks every op case against a plain backward, bit for bit.
_ALL = ("float16", "float32", "float64")
_WIDE = ("float32", "float64")
EXACT = dict.fromkeys(
    "add sub mul neg add_scalar mul_scalar div_scalar rsub_scalar sum mean exp log sin cos "
    "reshape view permute transpose t select slice unsqueeze squeeze expand".split(),
    _ALL,
)
EXACT.update(matmul=_WIDE, linear=_WIDE)


def diff(*ops, cpp=None, numpy=None):
    """Register the decorated `formula(node, g) -> [grad per input]` for `ops`.

    `cpp` maps each attribute name to the cpp node's field ("s", "s2", "a1", "a2", "i1") or to
    fn(fields, node) -> value; `numpy` may map a name to fn(attrs, node) -> value where the
    numpy backend's own attribute needs converting (by default it is read by that name)."""

    def register(fn):
        for op in ops:
            if op in DIFF:
                raise ValueError(f"create_graph: two formulas for {op!r}")
            DIFF[op] = fn
            CPP_ATTRS[op] = cpp or {}
            NP_ATTRS[op] = numpy or {}
        return fn

    return register


def attr(node, name):
    """Attribute `name` of the op `node` recorded, under the name its formula uses."""
    if hasattr(node, "kernel"):  # a numpy backend node keeps its attributes by name
        how = NP_ATTRS[node.op].get(name, name)
    else:
        how = CPP_ATTRS[node.op][name]
    fields = node.attrs
    return how(fields, node) if callable(how) else fields[how]


def mask_axes(fields, node):
    """The reduced axes of a cpp reduction (a bit mask in a1[0])."""
    mask = int(fields["a1"][0])
    return tuple(d for d in range(len(node.input_shapes[0])) if mask >> d & 1)


def dims_axes(attrs, node):
    """The reduced axes of a numpy reduction (`dims`: None for all, negative allowed)."""
    n = len(node.input_shapes[0])
    dims = attrs["dims"]
    if dims is None:
        return tuple(range(n))
    if isinstance(dims, int):
        dims = (dims,)
    return tuple(sorted({d % n if n else 0 for d in dims})) if n else ()


def link(f, *tensors):
    """f, depending also on `tensors` with a zero derivative.

    PyTorch's backward ops for the piecewise-linear functions (threshold_backward,
    leaky_relu_backward, hardtanh_backward, nll_loss_backward, sgn) take their input, so the
    gradient they make is connected to it: differentiating it again gives zeros, not "unused".
    `where` picks f's values exactly and sends each tensor a zero gradient."""
    from ..._dtype import bool as bool_
    from ..._factories import ones
    from ..._functions import where

    for t in tensors:
        if t is not None and t.requires_grad:
            f = where(ones(tuple(f.shape), dtype=bool_, backend=f._be.name), f, t)
    return f


def sum_to(g, shape):
    """g summed over the dims that broadcasting added or stretched, to `shape`."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.dim() - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + d for d, s in enumerate(shape) if s == 1 and g.shape[lead + d] != 1
    )
    return g.sum(dim=dims, keepdim=True).reshape(shape) if dims else g.reshape(shape)


from . import arith, conv, ewise, nn, reduce, views  # noqa: E402, F401  (each module registers its ops)
