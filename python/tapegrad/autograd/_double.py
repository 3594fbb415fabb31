"""backward / autograd.grad with create_graph=True: a sweep that records the backward itself.

The sweep visits the same nodes in the same order as the backend's own (highest sequence number
first). At each node it takes the first-order values from the backend's kernel (`node.apply`,
so their bits are those of a plain backward) and gives them the history of the op's formula in
`_diff` (recorded with grad mode on), so the gradients can be differentiated again; where the
formula computes the kernel's very bits (`_diff.EXACT`), the formula alone. A user's Function
node runs its Python backward with grad mode on. Only this path pays for any of it: a sweep
without create_graph is the backend's own, unchanged.
"""

import bisect
import threading

from .._grad_mode import enable_grad, no_grad
from .._tensor_hooks import run_post_hooks
from ._diff import DIFF, EXACT

_state = threading.local()
_LEAF_TYPES = ("AccumulateGrad", "_AccumulateGrad")  # an edge into a leaf, on each backend

# Where the ops of a double-backward graph came from, for the learner tools (tape,
# backward_steps, viz.draw): per backend module, the sequence numbers a create_graph sweep
# recorded, as ranges (lo, hi] with "backward of %seq op" (or "gradients summed"). Sequence
# numbers only grow, so the ranges come sorted; the oldest go first past _ORIGIN_MAX.
_ORIGIN = {}
_ORIGIN_MAX = 1 << 14


def origin(node):
    """'backward of %seq op' when `node` was recorded by create_graph's formula, else None."""
    ranges = _ORIGIN.get(type(node).__module__)
    if not ranges:
        return None
    his, los, labels = ranges
    s = node.seq
    k = bisect.bisect_left(his, s)
    return labels[k] if k < len(his) and los[k] < s else None


def _mark(module, lo, hi, label):
    his, los, labels = _ORIGIN.setdefault(module, ([], [], []))
    if his and hi <= his[-1]:  # another thread's numbers: keep the list sorted
        return
    his.append(hi)
    los.append(lo)
    labels.append(label)
    if len(his) > _ORIGIN_MAX:
        del his[: len(his) // 2], los[: len(los) // 2], labels[: len(labels) // 2]


class _Marker:
    """Labels the nodes each formula records: those numbered above the last one seen."""

    def __init__(self, top):
        self.last = top

    def made(self, tensors, label):
        seqs = [t.grad_fn.seq for t in tensors if t is not None and t.grad_fn is not None]
        hi = max(seqs, default=self.last)
        if hi > self.last:
            t = next(t for t in tensors if t is not None and t.grad_fn is not None)
            _mark(type(t.grad_fn).__module__, self.last, hi, label)
            self.last = hi


def creating():
    """True inside a create_graph sweep (a Function's backward then records its ops)."""
    return getattr(_state, "depth", 0) > 0


class _Graph:
    """The nodes under the roots, highest sequence number first, with their edges read once:
    edges[node] = [(next node or None, leaf tensor or None)]."""

    def __init__(self, roots):
        self.edges = {}
        stack = [r.grad_fn for r in roots if r.grad_fn is not None]
        while stack:
            n = stack.pop()
            if n in self.edges:
                continue
            row = []
            for f, _ in n.next_functions:
                if f is None:
                    row.append((None, None))
                elif type(f).__name__ in _LEAF_TYPES:
                    row.append((None, f.variable))
                else:
                    row.append((f, None))
                    stack.append(f)
            self.edges[n] = row
        self.order = sorted(self.edges, key=lambda n: -n.seq)

    def needed(self, inputs):
        """The nodes whose backward leads to one of `inputs` (all when none is named), and
        per node which of its edges do."""
        if not inputs:
            return {n: None for n in self.order}
        leaf_ids = {id(t) for t in inputs if t.grad_fn is None}
        targets = {t.grad_fn for t in inputs if t.grad_fn is not None}
        need = {}
        for n in reversed(self.order):  # inputs' producers first
            mask = [(f is not None and f in need) or (x is not None and id(x) in leaf_ids)
                    for f, x in self.edges[n]]  # fmt: skip
            if any(mask) or n in targets:  # an input's own node, maybe with inputs below it
                need[n] = mask
        return need


class _Pruned:
    """A node as its formula sees it when only some inputs need a gradient: the others look
    like inputs that need none (so the formula skips their work)."""

    def __init__(self, node, mask):
        self._node = node
        self.next_functions = tuple(
            fe if keep else (None, 0) for fe, keep in zip(node.next_functions, mask)
        )

    def __getattr__(self, name):
        return getattr(self._node, name)


def _no_formula(node):
    return NotImplementedError(
        f"create_graph=True: the backward of {node.name()} ({node.op}) is not differentiable "
        "in tapegrad yet; docs/autograd.md lists the ops whose backward is"
    )


def _node_grads(node, g, mask, marker):
    """One gradient per edge of `node` for output gradient g, each with its history (None
    for an edge that `mask` says leads nowhere needed)."""
    fn = node.backward_fn
    if fn is not None:  # a user's Function: its own backward, recording
        got = list(fn(g))
        marker.made(got, f"backward of %{node.seq} {node.name()}")
        return got
    formula = DIFF.get(node.op)
    if formula is None:
        raise _no_formula(node)
    graphs = formula(node if mask is None else _Pruned(node, mask), g)
    marker.made(graphs, f"backward of %{node.seq} {node.op}")
    if g.dtype.name in EXACT.get(node.op, ()):
        wanted = [mask is None or mask[k] for k in range(len(graphs))]
        if all(f is not None for f, w in zip(graphs, wanted) if w):
            return [f if w else None for f, w in zip(graphs, wanted)]
    gd = g.detach()
    if g._be.name == "cpp" and node.op not in ("add", "sub"):
        # the cpp sweep hands every kernel but add/sub a dense gradient (a sum's is a stride-0
        # expand); the numpy kernels keep the layout, which fixes their summation order
        gd = gd.contiguous()
    with no_grad():
        exact = node.apply(gd) if mask is None else node.apply(gd, mask)
    be = g._be
    out = []
    for k, (e, f) in enumerate(zip(exact, graphs)):
        if mask is not None and not mask[k]:
            out.append(None)
            continue
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


def _add(prev, g, marker):
    if prev is None:
        return g
    total = prev + g
    marker.made([total], "gradients summed")
    return total


def sweep(roots, grads, inputs, accumulate):
    """Backward from `roots` (weighted by `grads`, which may carry history) with every
    gradient recorded. accumulate: into `.grad` (of `inputs` only, when named); otherwise the
    gradients of `inputs` are returned, one per input (None where unused)."""
    be = roots[0]._be
    graph = _Graph(roots)
    marker = _Marker(max((n.seq for n in graph.order), default=-1))
    need = graph.needed(inputs)
    pending, leaves = {}, {}
    for r, g in zip(roots, grads):
        if r.grad_fn is None:
            leaves[id(r)] = (r, _add(leaves.get(id(r), (r, None))[1], g, marker))
        else:
            pending[r.grad_fn] = _add(pending.get(r.grad_fn), g, marker)
    input_fns = {t.grad_fn: k for k, t in enumerate(inputs) if t.grad_fn is not None}
    at = {id(t): k for k, t in enumerate(inputs) if t.grad_fn is None}
    out = [None] * len(inputs)
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        with enable_grad():
            for node in graph.order:
                g = pending.pop(node, None)
                if g is None or node not in need:
                    continue
                g = node.run_hooks(g)
                k = input_fns.get(node)
                if k is not None:
                    out[k] = g
                mask = need[node]
                if mask is not None and not any(mask):
                    continue  # nothing below this input is wanted
                grads_in = _node_grads(node, g, mask, marker)
                for (fn, leaf), gi in zip(graph.edges[node], grads_in):
                    if gi is None:
                        continue
                    if leaf is not None:
                        prev = leaves.get(id(leaf), (leaf, None))[1]
                        leaves[id(leaf)] = (leaf, _add(prev, gi, marker))
                    elif fn is not None:
                        pending[fn] = _add(pending.get(fn), gi, marker)
            for key, (leaf, g) in leaves.items():
                k = at.get(key)
                if inputs and k is None:
                    continue
                g = be.run_leaf_hooks(leaf, g)
                if accumulate:  # a copy, as PyTorch's AccumulateGrad makes in grad mode
                    leaf.grad = g.clone() if leaf.grad is None else leaf.grad + g
                    run_post_hooks(leaf)
                else:
                    out[k] = g
    finally:
        _state.depth -= 1
    if accumulate:
        for k, t in enumerate(inputs):  # non-leaf inputs (retain_grad already filled its own)
            if t.grad_fn is not None and out[k] is not None and not t.retains_grad:
                t.grad = out[k].clone() if t.grad is None else t.grad + out[k]
    return out
