"""The numpy backend's tape: `_run` applies an op (upcast float16 -> compute in float32 -> round
once -> store; the other dtypes compute in their own) and records a `Node` when grad mode is on,
an input requires grad and the result is floating. The backward sweep is in engine.py.
"""

import threading

import numpy as np

from tapegrad._grad_mode import is_grad_enabled

from .registry import KERNELS, Ctx
from .tensor import _F16, _F32, _check, _new, _refresh

_SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)

_tls = threading.local()


def _next_seq():
    n = getattr(_tls, "seq", 0)
    _tls.seq = n + 1
    return n


class Node:
    """One recorded op: what its backward needs and where its input gradients go.

    edges[i] is None (input i needs no gradient), the Node that made input i, or input i
    itself when it is a leaf that requires grad (its gradient accumulates into .grad).
    checks holds (index in ctx.saved, version counter, expected version, dtype, shape) of the
    saved arrays that are an input or the output (their in-place changes are detected);
    reread holds (index in ctx.saved, the input's stored array) of the float16 inputs saved as
    float32 copies: backward upcasts the stored values again (a `.data` write is seen).
    """

    __slots__ = ("seq", "kernel", "ctx", "edges", "in_dtypes", "in_shapes", "out_dtype",
                 "out_shape", "attrs", "checks", "reread", "freed", "_name", "hooks",
                 "saved_from", "__weakref__")  # fmt: skip

    def name(self):
        return self._name

    def __repr__(self):
        return f"<{self._name} object at {id(self):#x}>"

    # ---- introspection, the same surface as the cpp backend's GradFn (tapegrad.autograd uses it)

    @property
    def op(self):
        return self.kernel.name

    @property
    def input_shapes(self):
        return self.in_shapes

    @property
    def input_dtypes(self):
        return tuple(None if d is None else d.name for d in self.in_dtypes)

    @property
    def output_shape(self):
        return self.out_shape

    @property
    def output_dtype(self):
        return self.out_dtype.name

    @property
    def scalar(self):
        return float(self.attrs.get("s", 0.0))

    @property
    def released(self):
        return self.freed

    def saved(self):
        """What backward will read: one dict per saved array (its value as a new tensor)."""
        if self.freed:
            return [{"index": i, "freed": True} for i in range(getattr(self.ctx, "n_freed", 0))]
        versions = {i: (ver, expected) for i, ver, expected, _, _ in self.checks}
        out = []
        for i, arr in enumerate(self.ctx.saved):
            ver, expected = versions.get(i, ([0], 0))
            d = {"index": i, "freed": False, "shape": arr.shape, "dtype": arr.dtype.name}
            d.update(version=expected, current_version=ver[0], value=_new(arr))
            out.append(d)
        return out

    # ---- create_graph (autograd/_double.py): the saved values with their history again

    def input(self, i):
        """Input i as its backward formula sees it: the leaf itself, or its saved values with
        the edge's history; None when the op did not save it."""
        e = self.edges[i]
        if e is not None and type(e) is not Node:
            return e
        k = self.saved_from.get(i)
        return None if k is None else self._unpack(k, e)

    def link(self, i):
        """A tensor carrying input i's history (the leaf itself, or zeros with the edge's
        node; None without an edge): see the cpp backend's GradFn.link."""
        e = self.edges[i]
        if e is None or type(e) is not Node:
            return e
        t = _new(np.zeros(self.in_shapes[i], dtype=self.in_dtypes[i]))
        t._fn, t._rg = e, True
        return t

    def output(self):
        """The output's saved values with this node's history (None when not saved)."""
        k = self.saved_from.get("out")
        return None if k is None else self._unpack(k, self)

    def _unpack(self, k, fn):
        if self.freed:
            raise RuntimeError(_SECOND_BACKWARD)
        arr = np.asarray(dict(self.reread).get(k, self.ctx.saved[k]))
        if k == self.saved_from.get("out"):
            arr = arr.astype(self.out_dtype, copy=False)
        t = _new(arr)
        if fn is not None:
            t._fn = fn
            t._rg = True
        return t

    def run_hooks(self, grad):
        """The output tensor's hooks on `grad` (a tensor that may carry history)."""
        h = self.hooks
        return grad if h is None else h.run_tensor(grad)

    @property
    def backward_fn(self):
        """A user's Function node's Python backward (None for an op of the list)."""
        return getattr(self.kernel, "backward_fn", None)

    def apply(self, grad, mask=None):
        """Run only this node's backward on `grad` (a tensor of the output's shape and dtype).

        Returns one input gradient per input (a new tensor, or None where the input needs none).
        The saved tensors are kept (as with retain_graph=True). `mask` (the inputs wanted) is
        accepted for the cpp backend's sake: the reference kernels compute every gradient."""
        _check(grad)
        if grad._arr.shape != self.out_shape:
            raise RuntimeError(f"{self._name}.apply: grad shape {grad.shape} != {self.out_shape}")
        g = np.asarray(grad._arr, dtype=self.out_dtype)
        grads = self._apply(g, True)
        # a broadcast view (sum's gradient) is read-only: the caller gets a tensor of its own
        return tuple(
            None if gi is None else _new(gi if gi.flags.writeable else gi.copy()) for gi in grads
        )

    @property
    def next_functions(self):
        return tuple(
            (e if e is None or isinstance(e, Node) else _AccumulateGrad(e), 0) for e in self.edges
        )

    def _apply(self, g, retain_graph):
        """Input gradients (storage dtypes, None where not needed) for output gradient g."""
        if self.freed:
            raise RuntimeError(_SECOND_BACKWARD)
        for _, ver, expected, dt, shape in self.checks:
            if ver[0] != expected:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [{dt.name} {shape}] is at version {ver[0]}; expected "
                    f"version {expected} instead. Hint: the operation that saved it is "
                    f"{self._name}; make a copy (.clone()) before changing it in place."
                )
        if self.reread:  # saved float16 inputs, upcast again (a `.data` write is seen)
            saved = list(self.ctx.saved)
            for i, arr in self.reread:
                saved[i] = _compute(arr)
            self.ctx.saved = tuple(saved)
        k = self.kernel
        if not k.storage_level and g.dtype == _F16:
            g = _widen(g)  # float16 gradients are computed in float32, as the forward
        with np.errstate(all="ignore"):
            grads = k.backward(self.ctx, g)
        out = []
        for gi, e, dt, shape in zip(grads, self.edges, self.in_dtypes, self.in_shapes):
            if e is None or gi is None:
                out.append(None)
                continue
            if not (isinstance(gi, np.ndarray) and gi.dtype == dt and 0 in gi.strides):
                # a broadcast view (sum's gradient) keeps its layout: it decides the order in
                # which a broadcast reduction downstream sums it, as in PyTorch
                gi = np.asarray(gi, dtype=dt, order="C")
            if gi.shape != shape:
                raise RuntimeError(
                    f"internal error: {self._name} returned a gradient of shape {gi.shape} "
                    f"for an input of shape {shape}"
                )
            out.append(gi)
        if not retain_graph and self.ctx.saved:
            self.ctx.n_freed = len(self.ctx.saved)
            self.ctx.saved = ()
            self.checks = self.reread = ()
            self.freed = True
        return out


class _AccumulateGrad:
    """What next_functions shows for a leaf edge (PyTorch's AccumulateGrad)."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


def _compute(arr):
    """The array an op computes on: float16 is upcast to float32 (exactly); the other dtypes
    compute in their own."""
    return _widen(arr) if arr.dtype == _F16 else arr


def _widen(arr):
    """arr as float32 with arr's strides (in elements): a sum's order depends on the layout it
    reads, and the core's kernels read the float16 view as it lies (gaps and stride 0 kept)."""
    if arr.flags.c_contiguous or arr.size == 0 or min(arr.strides, default=0) < 0:
        return arr.astype(_F32)
    steps = [s // arr.itemsize for s in arr.strides]
    span = 1 + sum((n - 1) * s for n, s in zip(arr.shape, steps))
    out = np.lib.stride_tricks.as_strided(np.empty(span, _F32), arr.shape, [s * 4 for s in steps])
    out[...] = arr
    return out


def _floating(dt):
    return dt.kind == "f"


def edge(t):
    """The edge that carries a gradient into t's history: its grad_fn, t itself (a leaf that
    requires grad), or None. A stale view's history is regenerated first."""
    _refresh(t)
    if not t._rg:
        return None
    return t if t._fn is None else t._fn


def new_node(kernel, ctx, edges, inputs, out, attrs, name=None):
    """A Node of `kernel` from `inputs` (tensors or (dtype, shape) pairs) to `out` (a tensor)."""
    info = [None if t is None else (t._arr.dtype, t._arr.shape) if hasattr(t, "_arr") else t
            for t in inputs]  # fmt: skip
    node = Node()
    node.seq = _next_seq()
    node.kernel = kernel
    node.ctx = ctx
    node.edges = tuple(edges)
    node.in_dtypes = tuple(None if i is None else i[0] for i in info)
    node.in_shapes = tuple(None if i is None else i[1] for i in info)
    node.out_dtype, node.out_shape = out._arr.dtype, out._arr.shape
    node.attrs = attrs
    node.checks = node.reread = ()
    node.freed = False
    node.hooks = None
    node.saved_from = {}
    if name is None:
        gf = kernel.grad_fn
        name = gf if isinstance(gf, str) else gf(node.in_shapes, attrs)
    node._name = name
    return node


def _run(op, tensors, attrs, out_dtype=None, name=None):
    """Apply op `op` to `tensors` (None allowed for an absent optional input); record it.
    The output is new, contiguous storage (the view ops: views.py)."""
    k = KERNELS[op]
    grad_on = is_grad_enabled()
    in_dt = tensors[0]._arr.dtype
    out_dt = in_dt if out_dtype is None else np.dtype(out_dtype)
    # Only floating results carry gradients (a cast to an integer, comparisons: none).
    edges = [None if t is None else edge(t) for t in tensors] if grad_on else ()
    record = _floating(out_dt) and any(e is not None for e in edges)
    if k.storage_level:
        arrays = [t._arr for t in tensors]
        ctx = Ctx(in_dt)
    else:
        arrays = [None if t is None else _compute(t._arr) for t in tensors]
        ctx = Ctx(_F32 if out_dt == _F16 else out_dt, out_dt, in_dt)
    ctx.requires = tuple(t is not None and t._rg for t in tensors)
    with np.errstate(all="ignore"):
        y = k.forward(ctx, *arrays, **attrs)
    y_raw, y0 = y, np.asarray(y)  # a 0-d result may come back as a NumPy scalar
    y = y0
    if any(x is not None and np.may_share_memory(y, x) for x in arrays):
        y = y.copy()  # an op's output never shares an input's storage
    out = _new(np.asarray(y, dtype=out_dt, order="C"))
    if record:
        checks, reread, saved_from = [], [], {}
        for i, s in enumerate(ctx.saved):
            for t, x in zip(tensors, arrays):
                if s is x:
                    checks.append((i, t._ver, t._ver[0], t._arr.dtype, t._arr.shape))
                    # every input this array is (x * x saves one array for both)
                    for j2, x2 in enumerate(arrays):
                        if x2 is x:
                            saved_from.setdefault(j2, i)
                    if x is not t._arr:  # a float16 input upcast: backward reads the storage
                        reread.append((i, t._arr))
                    break
            else:
                if s is y0 or s is y_raw:
                    checks.append((i, out._ver, 0, out_dt, out._arr.shape))
                    saved_from["out"] = i
        node = new_node(k, ctx, edges, tensors, out, attrs, name)
        node.saved_from = saved_from
        node.checks = tuple(checks)
        node.reread = tuple(reread)
        out._fn = node
        out._rg = True
    return out


def _add_grads(x, y):
    """x + y for two gradients of one dtype, computed in float32 and rounded once."""
    if x.dtype == _F16:
        return (x.astype(_F32) + y.astype(_F32)).astype(_F16)
    return np.asarray(x + y)
