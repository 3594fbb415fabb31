"""PROTOTYPE (branch cg, not on main): backward with create_graph=True on the cpp backend.

Each node's first-order gradients are computed by its C++ kernel (so their bits are today's) and
given the history of the same formula written with tapegrad ops (recorded, so differentiable
again). Ops without a formula here raise NotImplementedError.
"""

from .. import _core
from .._grad_mode import enable_grad, no_grad


def _sum_to(g, shape):
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.dim() - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + d for d, s in enumerate(shape) if s == 1 and g.shape[lead + d] != 1
    )
    return g.sum(dim=dims, keepdim=True).reshape(shape) if dims else g.reshape(shape)


def _binary(fn):
    def vjp(node, g):
        a, b = node.input(0), node.input(1)
        ga, gb = fn(g, a, b)
        shapes = node.input_shapes
        return [None if ga is None else _sum_to(ga, shapes[0]),
                None if gb is None else _sum_to(gb, shapes[1])]  # fmt: skip

    return vjp


DIFF = {
    "add": _binary(lambda g, a, b: (g, g)),
    "sub": _binary(lambda g, a, b: (g, -g)),
    "mul": _binary(lambda g, a, b: (None if b is None else g * b, None if a is None else g * a)),
    "div": _binary(lambda g, a, b: (g / b, None if a is None else -g * a / (b * b))),
    "add_scalar": lambda n, g: [g],
    "mul_scalar": lambda n, g: [g * n.attrs["s"]],
    "div_scalar": lambda n, g: [g / n.attrs["s"]],
    "neg": lambda n, g: [-g],
    "pow_scalar": lambda n, g: [g * n.attrs["s"] * n.input(0) ** (n.attrs["s"] - 1)],
    "exp": lambda n, g: [g * n.output()],
    "log": lambda n, g: [g / n.input(0)],
    "sin": lambda n, g: [g * n.input(0).cos()],
    "cos": lambda n, g: [g * -n.input(0).sin()],
    "tanh": lambda n, g: [g * (1 - n.output() * n.output())],
    "sigmoid": lambda n, g: [g * (n.output() * (1 - n.output()))],
    "sum": lambda n, g: [_expand_back(n, g)],
    "rsub_scalar": lambda n, g: [-g],
    "rdiv_scalar": lambda n, g: [-g * n.attrs["s"] / (n.input(0) * n.input(0))],
    # shape-only views: the gradient reshaped (or summed) back to the input's shape
    "unsqueeze": lambda n, g: [g.reshape(n.input_shapes[0])],
    "squeeze": lambda n, g: [g.reshape(n.input_shapes[0])],
    "view": lambda n, g: [g.reshape(n.input_shapes[0])],
    "reshape": lambda n, g: [g.reshape(n.input_shapes[0])],
    "expand": lambda n, g: [_sum_to(g, n.input_shapes[0])],
}


def _expand_back(node, g):
    shape = node.input_shapes[0]
    dims, keep = node.attrs["a1"], node.attrs["i1"]
    if not keep:
        for d in sorted(d % len(shape) for d in dims) if dims else range(len(shape)):
            g = g.unsqueeze(d)
    return g.expand(*shape)


def _order(roots):
    seen, stack, nodes = set(), [r.grad_fn for r in roots if r.grad_fn is not None], []
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        nodes.append(n)
        stack.extend(
            f for f, _ in n.next_functions if f is not None and f.name() != "AccumulateGrad"
        )
    return sorted(nodes, key=lambda n: -n.seq)


def sweep(roots, grads, inputs, accumulate):
    pending, leaves = {}, {}
    for r, g in zip(roots, grads):
        if r.grad_fn is None:
            leaves[id(r)] = (r, g)
        else:
            pending[r.grad_fn] = g if r.grad_fn not in pending else pending[r.grad_fn] + g
    at = {id(t): k for k, t in enumerate(inputs)}
    out = [None] * len(inputs)
    with enable_grad():
        for node in _order(roots):
            g = pending.pop(node, None)
            if g is None:
                continue
            op = node.op
            if op not in DIFF:
                raise NotImplementedError(
                    f"create_graph: the backward of {node.name()} is not differentiable yet"
                )
            with no_grad():
                exact = node.apply(g.detach())
            formula = DIFF[op](node, g)
            for (fn, _), e, f in zip(node.next_functions, exact, formula):
                if fn is None or e is None:
                    continue
                gi = _core.with_history(e, f) if f is not None and f.requires_grad else e
                if fn.name() == "AccumulateGrad":
                    leaf = fn.variable
                    prev = leaves.get(id(leaf))
                    leaves[id(leaf)] = (leaf, gi if prev is None else prev[1] + gi)
                else:
                    pending[fn] = gi if fn not in pending else pending[fn] + gi
    for leaf, g in leaves.values():
        k = at.get(id(leaf))
        if inputs and k is None:
            continue
        if k is not None and not accumulate:
            out[k] = g
        else:
            leaf.grad = g if leaf.grad is None else leaf.grad + g
    return out
