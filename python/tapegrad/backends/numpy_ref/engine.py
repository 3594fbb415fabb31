"""The numpy backend's backward sweep: from one or more roots, through the recorded `Node`s in
dependency order (ties: the higher sequence number first), into leaves' `.grad`, or, with
inputs named, into just those (autograd.grad / backward(inputs=)). Tensor hooks run on the
gradient reaching their tensor: a non-leaf's sit on its grad_fn node, a leaf's on the tensor.
"""

import threading
import weakref
from heapq import heappop, heappush
from itertools import count

import numpy as np

from tapegrad._grad_mode import no_grad

from .tape import Node, _add_grads
from .tensor import _check, _new, _refresh


class Hooks:
    """A tensor's hooks: `fn(grad) -> replacement or None` (the front end keeps the user's list
    and checks what each hands back), and retain_grad's tensor (a weak reference)."""

    __slots__ = ("fn", "retain", "post")

    def __init__(self):
        self.fn = None
        self.retain = None
        self.post = None  # a leaf's post-accumulate-grad dispatcher

    def run(self, g):
        if self.fn is not None:
            r = self.fn(_new(g))
            if r is not None:
                g = r._arr
        if self.retain is not None:
            t = self.retain()
            if t is not None:
                old = t._grad
                new = np.array(g, order="C")
                t._grad = _new(new if old is None else _add_grads(old._arr, new))
        return g

    def run_tensor(self, g):
        """run() on a tensor that may carry history (create_graph's sweep)."""
        if self.fn is not None:
            r = self.fn(g)
            if r is not None:
                g = r
        if self.retain is not None:
            t = self.retain()
            if t is not None:  # the values, as the cpp backend keeps (no history)
                old = t._grad
                new = np.array(g._arr, order="C")
                t._grad = _new(new if old is None else _add_grads(old._arr, new))
        return g


def run_leaf_hooks(t, g):
    """A leaf's hooks on `g` (a tensor that may carry history): create_graph's sweep."""
    h = getattr(t, "_hooks", None)
    return g if h is None else h.run_tensor(g)


def with_history(values, like):
    """`values` (no history) as a tensor with `like`'s history: create_graph keeps the
    first-order kernels' bits and records the formula's graph."""
    _check(values)
    _check(like)
    if values._arr.shape != like._arr.shape or values._arr.dtype != like._arr.dtype:
        raise ValueError("with_history: values and like differ in shape or dtype")
    t = _new(values._arr)
    t._fn, t._rg = like._fn, like._rg
    return t


def set_history(t, like):
    """t takes like's history in place (ctx.mark_dirty; not for a view)."""
    _check(t)
    if t._base is not None:
        raise ValueError("set_history: t is a view")
    t._fn, t._rg = like._fn, like._rg


def bump_version(t):
    """One more in-place change counted on t (ctx.mark_dirty)."""
    _check(t)
    t._ver[0] += 1


def _hooks_of(t, make=True):
    owner = t._fn if t._fn is not None else t
    h = owner.hooks if type(owner) is Node else getattr(owner, "_hooks", None)
    if h is None and make:
        h = Hooks()
        if type(owner) is Node:
            owner.hooks = h
        else:
            owner._hooks = h
    return h


def set_grad_hook(t, fn):
    _check(t)
    _hooks_of(t).fn = fn


def set_post_accumulate_hook(t, fn):
    _check(t)
    if t._fn is not None:
        raise ValueError("set_post_accumulate_hook: t is not a leaf")
    _hooks_of(t).post = fn


def retain_grad(t):
    _check(t)
    if t._fn is not None:
        h = _hooks_of(t)
        if h.retain is None:
            h.retain = weakref.ref(t)


def retains_grad(t):
    _check(t)
    return t._fn is not None and t._fn.hooks is not None and t._fn.hooks.retain is not None


# Backward calls from several threads may reach one leaf at once, and NumPy releases the GIL in
# large ops: each leaf's read-add-write holds a lock (a striped table keyed by id(leaf), as the
# cpp backend's; nothing is stored on the tensor). Assigning .grad is a single attribute store.
_LEAF_LOCKS = tuple(threading.Lock() for _ in range(64))


def _accumulate(t, g):
    """t.grad = g (a copy), or t.grad += g in place."""
    if g.shape != t._arr.shape:
        raise RuntimeError(
            f"the gradient of shape {g.shape} does not match the leaf's shape {t._arr.shape}"
            " (was .data replaced after the graph was built?)"
        )
    dt = t._arr.dtype
    with _LEAF_LOCKS[(id(t) >> 4) % len(_LEAF_LOCKS)]:
        acc = t._grad
        if acc is None:
            t._grad = _new(np.array(g, dtype=dt, order="C"))  # a fresh copy: never an alias
        else:
            acc._arr[...] = _add_grads(acc._arr, np.asarray(g, dtype=acc._arr.dtype))
            acc._ver[0] += 1


def backward(t, grad, retain_graph=False):
    """Reverse sweep from t with upstream gradient `grad` (same shape and dtype as t; None
    means ones, for a 1-element t)."""
    _check(t)
    if grad is None:
        if t._arr.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        grad = _new(np.ones_like(t._arr))
    run_backward([t], [grad], [], retain_graph, True)


def run_backward(roots, grads, inputs, retain_graph, accumulate):
    """One sweep from `roots` with `grads` (tensors of their shapes and dtypes). inputs empty:
    every leaf reached accumulates into .grad. Otherwise only `inputs` receive a gradient: into
    their .grad when `accumulate`, or handed back (None where none arrived)."""
    for r, g in zip(roots, grads):
        _check(r)
        _check(g)
        _refresh(r)
        if not r._rg:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if g._arr.shape != r._arr.shape:
            raise RuntimeError(f"backward: gradient shape {g.shape} != tensor shape {r.shape}")
    for t in inputs:
        _refresh(t)
    with no_grad():
        return _sweep(roots, grads, inputs, bool(retain_graph), accumulate)


def _sweep(roots, grads, inputs, retain_graph, accumulate):
    all_leaves = not inputs
    # an input is its grad_fn node (a non-leaf) or the tensor itself (a leaf)
    in_at = {id(t._fn if t._fn is not None else t): k for k, t in enumerate(inputs)}
    captured = [None] * len(inputs)
    # 1. The nodes reachable from the roots, each with the number of edges that reach it.
    deps, parents = {}, {}
    stack = []
    for r in roots:
        if r._fn is not None and r._fn not in deps:
            deps[r._fn] = 0
            stack.append(r._fn)
    while stack:
        node = stack.pop()
        for e in node.edges:
            if type(e) is Node:
                parents.setdefault(e, []).append(node)
                if e in deps:
                    deps[e] += 1
                else:
                    deps[e] = 1
                    stack.append(e)
    # 2. With inputs named, only the nodes that lead to one run.
    needed = None
    if not all_leaves:
        needed = set()
        todo = [n for n in deps if any(e is not None and id(e) in in_at for e in n.edges)]
        while todo:
            n = todo.pop()
            if n not in needed:
                needed.add(n)
                todo.extend(parents.get(n, ()))
    # 3. Run each node once all its consumers have run; among ready nodes the latest first.
    # A leaf's gradient is final once every node with an edge to it has run: it goes into .grad
    # then (step 4), as PyTorch's AccumulateGrad runs, while the rest of the graph is swept.
    pending = {}
    leaves = {}  # id(leaf) -> [leaf, summed gradient]
    uses = {}  # id(leaf) -> edges from reachable nodes not yet run
    for node in deps:
        for e in node.edges:
            if e is not None and type(e) is not Node:
                uses[id(e)] = uses.get(id(e), 0) + 1

    def to_leaf(e, gi):
        slot = leaves.get(id(e))
        if slot is None:
            leaves[id(e)] = [e, gi]
        else:
            slot[1] = _add_grads(slot[1], gi)

    def finish_leaf(leaf, gl):
        at = in_at.get(id(leaf))
        if (not all_leaves and at is None) or not leaf._rg or leaf._fn is not None:
            return
        h = getattr(leaf, "_hooks", None)
        if h is not None:
            gl = h.run(gl)
        if at is not None and not accumulate:
            captured[at] = _new(np.array(gl, order="C"))
            return
        _accumulate(leaf, gl)
        if h is not None and h.post is not None:
            h.post()

    for r, g in zip(roots, grads):
        g = np.asarray(g._arr, dtype=r._arr.dtype)
        if r._fn is None:
            to_leaf(r, g)
        else:
            prev = pending.get(r._fn)
            pending[r._fn] = g if prev is None else _add_grads(prev, g)
    tie = count()
    ready = [(-n.seq, next(tie), n) for n in deps if deps[n] == 0]
    ready.sort()
    while ready:
        node = heappop(ready)[2]
        g = pending.pop(node, None)
        grads_in = (None,) * len(node.edges)
        if g is not None:
            if node.hooks is not None:
                g = node.hooks.run(g)
            at = in_at.get(id(node))
            if at is not None:
                if accumulate:
                    if node.hooks is None or node.hooks.retain is None:  # else retain did it
                        _accumulate(inputs[at], g)
                else:
                    captured[at] = _new(np.asarray(g))
            if needed is None or node in needed:
                grads_in = node._apply(g, retain_graph)
        for e, gi in zip(node.edges, grads_in):
            if e is None:
                continue
            if type(e) is Node:
                if gi is not None:
                    prev = pending.get(e)
                    pending[e] = gi if prev is None else _add_grads(prev, gi)
                deps[e] -= 1
                if deps[e] == 0:
                    heappush(ready, (-e.seq, next(tie), e))
                continue
            if gi is not None:
                to_leaf(e, gi)
            uses[id(e)] -= 1
            if uses[id(e)] == 0 and id(e) in leaves:
                finish_leaf(*leaves.pop(id(e)))
    # 4. Leaf roots (and any leaf left): hooks, then .grad = the sum (or += it), or handed back.
    for leaf, gl in leaves.values():
        finish_leaf(leaf, gl)
    return captured


class _FunctionKernel:
    """The kernel of a node made by a user's autograd.Function: its backward is Python."""

    __slots__ = ("name", "backward_fn")
    storage_level = True  # the user's backward sees the gradient in the output's dtype

    def __init__(self, name, backward_fn):
        self.name = name
        self.backward_fn = backward_fn

    def backward(self, ctx, g):
        return [None if x is None else x._arr for x in self.backward_fn(_new(g))]


def function_node(out, inputs, cls, backward_fn, saved):
    """An alias of `out` whose grad_fn runs `backward_fn(grad)` -> one gradient per input."""
    from .functions import detach
    from .registry import Ctx
    from .tape import edge, new_node

    _check(out)
    o = detach(out)
    ctx = Ctx(o._arr.dtype)
    ctx.saved = tuple(t._arr for t in saved)  # shown by the tools; a second backward raises
    kernel = _FunctionKernel(cls, backward_fn)
    node = new_node(kernel, ctx, [edge(t) for t in inputs], inputs, o, {}, cls + "Backward")
    o._fn = node
    o._rg = True
    return o
