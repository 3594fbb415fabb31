"""backward / autograd.grad with create_graph=True: a sweep that records the backward itself.

The sweep visits the same nodes in the same order as the backend's own (highest sequence number
first). At each node it takes the first-order values from the backend's kernel (`node.apply`,
so their bits are those of a plain backward) and gives them the history of the op's formula in
`_diff` (recorded with grad mode on), so the gradients can be differentiated again. A user's
Function node runs its Python backward with grad mode on. Only this path pays for any of it:
a sweep without create_graph is the backend's own, unchanged.
"""

import threading

from .._grad_mode import enable_grad, no_grad
from ._diff import DIFF

_state = threading.local()

# (backend, seq) of a node recorded by a formula -> "backward of %seq op" of the node it
# differentiates: the learner tools (tape, backward_steps, viz.draw) show where the ops of a
# double-backward graph came from. Bounded: the oldest entries go first.
_ORIGIN = {}
_ORIGIN_MAX = 1 << 16


def origin(node):
    """'backward of %seq op' when `node` was recorded by create_graph's formula, else None."""
    return _ORIGIN.get((type(node).__module__, node.seq))


def _label(made, node, top):
    """Mark the nodes a formula recorded (sequence numbers above `top`) as node's backward."""
    key, stack = f"backward of %{node.seq} {node.op}", [m.grad_fn for m in made if m is not None]
    while stack:
        n = stack.pop()
        if n is None or n.seq <= top or (type(n).__module__, n.seq) in _ORIGIN:
            continue
        _ORIGIN[(type(n).__module__, n.seq)] = key
        stack.extend(f for f, _ in n.next_functions if f is not None and not _is_leaf_fn(f))
    while len(_ORIGIN) > _ORIGIN_MAX:
        del _ORIGIN[next(iter(_ORIGIN))]


def creating():
    """True inside a create_graph sweep (a Function's backward then records its ops)."""
    return getattr(_state, "depth", 0) > 0


def _is_leaf_fn(fn):
    return fn.name() == "AccumulateGrad"


def _reachable(roots):
    """Every node under `roots`, highest sequence number first."""
    seen, stack = set(), [r.grad_fn for r in roots if r.grad_fn is not None]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(f for f, _ in n.next_functions if f is not None and not _is_leaf_fn(f))
    return sorted(seen, key=lambda n: -n.seq)


def _needed(order, inputs):
    """The nodes whose backward leads to one of `inputs` (all of them when none is named)."""
    if not inputs:
        return set(order)
    leaf_ids = {id(t) for t in inputs if t.grad_fn is None}
    targets = {t.grad_fn for t in inputs if t.grad_fn is not None}
    need = set()
    for n in reversed(order):  # inputs' producers first
        if n in targets:
            need.add(n)
            continue
        for f, _ in n.next_functions:
            if f is None:
                continue
            if _is_leaf_fn(f) and id(f.variable) in leaf_ids or f in need:
                need.add(n)
                break
    return need


def _no_formula(node):
    return NotImplementedError(
        f"create_graph=True: the backward of {node.name()} ({node.op}) is not differentiable "
        "in tapegrad yet; docs/autograd.md lists the ops whose backward is"
    )


def _node_grads(node, g, top):
    """One gradient per edge of `node` for output gradient g, each with its history."""
    fn = node.backward_fn
    if fn is not None:  # a user's Function: its own backward, recording
        got = list(fn(g))
        _label(got, node, top)
        return got
    formula = DIFF.get(node.op)
    if formula is None:
        raise _no_formula(node)
    gd = g.detach()
    if g._be.name == "cpp" and node.op not in ("add", "sub"):
        # the cpp sweep hands every kernel but add/sub a dense gradient (a sum's is a stride-0
        # expand); the numpy kernels keep the layout, which fixes their summation order
        gd = gd.contiguous()
    with no_grad():
        exact = node.apply(gd)
    graphs = formula(node, g)
    _label(graphs, node, top)
    be = g._be
    out = []
    for e, f in zip(exact, graphs):
        if e is None or f is None or not f.requires_grad:
            out.append(e)
            continue
        if tuple(f.shape) != tuple(e.shape):
            raise RuntimeError(
                f"internal error: create_graph formula for {node.op} gives shape "
                f"{tuple(f.shape)} for a gradient of shape {tuple(e.shape)}"
            )
        if f.dtype is not e.dtype:
            f = f.to(e.dtype)
        # a leaf (the formula handed a weight or an input back unchanged) has no node to give
        # the values: its own values are the kernel's then
        out.append(f if f.grad_fn is None else be.with_history(e, f))
    return out


def _add(prev, g):
    if prev is None:
        return g
    total = prev + g
    if total.grad_fn is not None:
        _ORIGIN[(type(total.grad_fn).__module__, total.grad_fn.seq)] = "gradients summed"
    return total


def sweep(roots, grads, inputs, accumulate):
    """Backward from `roots` (weighted by `grads`, which may carry history) with every
    gradient recorded. accumulate: into `.grad` (of `inputs` only, when named); otherwise the
    gradients of `inputs` are returned, one per input (None where unused)."""
    be = roots[0]._be
    order = _reachable(roots)
    top = max((n.seq for n in order), default=-1)
    need = _needed(order, inputs)
    pending, leaves = {}, {}
    for r, g in zip(roots, grads):
        if r.grad_fn is None:
            leaves[id(r)] = (r, _add(leaves.get(id(r), (r, None))[1], g))
        else:
            pending[r.grad_fn] = _add(pending.get(r.grad_fn), g)
    input_fns = {t.grad_fn: k for k, t in enumerate(inputs) if t.grad_fn is not None}
    at = {id(t): k for k, t in enumerate(inputs) if t.grad_fn is None}
    out = [None] * len(inputs)
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        with enable_grad():
            for node in order:
                g = pending.pop(node, None)
                if g is None or node not in need:
                    continue
                g = node.run_hooks(g)
                k = input_fns.get(node)
                if k is not None:
                    out[k] = g
                    if not accumulate:
                        continue
                for (fn, _), gi in zip(node.next_functions, _node_grads(node, g, top)):
                    if fn is None or gi is None:
                        continue
                    if _is_leaf_fn(fn):
                        leaf = fn.variable
                        leaves[id(leaf)] = (leaf, _add(leaves.get(id(leaf), (leaf, None))[1], gi))
                    else:
                        pending[fn] = _add(pending.get(fn), gi)
            for key, (leaf, g) in leaves.items():
                k = at.get(key)
                if inputs and k is None:
                    continue
                g = be.run_leaf_hooks(leaf, g)
                if accumulate:
                    leaf.grad = g if leaf.grad is None else leaf.grad + g
                else:
                    out[k] = g
    finally:
        _state.depth -= 1
    if accumulate:
        for k, t in enumerate(inputs):
            if t.grad_fn is not None and out[k] is not None:
                t.grad = out[k] if t.grad is None else t.grad + out[k]
    return out
