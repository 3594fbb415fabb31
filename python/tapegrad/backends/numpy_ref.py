"""The `numpy` backend: tapegrad's executable spec, in plain NumPy (docs/backends.md).

Three parts:

- numpy_ops.py holds the math: `KERNELS[name]` has each op's `forward(ctx, *arrays, **attrs)` and
  `backward(ctx, grad)` side by side, on plain ndarrays in whatever float dtype they are given.
  Call them directly on float64 arrays for finite differences:

      from tapegrad.backends.numpy_ref import KERNELS, Ctx, vjp
      ctx = Ctx(np.float64)                        # compute dtype; ctx.round is the identity
      y = KERNELS["div"].forward(ctx, a, b)
      ga, gb = KERNELS["div"].backward(ctx, g)
      y, (ga, gb) = vjp("div", (a, b), g)          # the same in one call

- `NTensor`: a contiguous ndarray (float32 or float16) plus autograd state.
- The tape: `_run` applies an op (upcast float16 -> compute in float32 -> round once -> store),
  and records a `Node` when grad mode is on and an input requires grad. `backward` walks the
  nodes reachable from the root without recursion, in dependency order (ties: the higher
  sequence number first), and accumulates into leaves' `.grad`.

Storage and aliasing: `reshape` and `detach` share the ndarray and the version counter; `.data`
shares the ndarray but has its own counter; every other op returns a fresh array. Arrays are never
changed in place except by the in-place functions (iop, fill_, copy_) and leaf grad accumulation.
"""

import os
import sys
import threading
from heapq import heappop, heappush
from itertools import count

import numpy as np

from tapegrad._dtype import BY_CODE, float16, float32
from tapegrad._grad_mode import is_grad_enabled, no_grad
from tapegrad.tensor import _MIX
from tapegrad.tensor import Tensor as _Base

from .numpy_ops import KERNELS, Ctx, broadcast_shapes, matmul_shape, vjp
from .numpy_optim import adam_update, sgd_update  # the optimizer kernels (docs/backends.md)

name = "numpy"

OPS = (
    "add", "sub", "mul", "div",
    "add_scalar", "mul_scalar", "div_scalar", "rsub_scalar", "rdiv_scalar",
    "pow_scalar", "rpow_scalar",
    "neg", "abs", "exp", "log", "tanh", "relu", "sigmoid",
    "matmul", "linear", "sum", "mean",
    "reshape", "permute", "slice",
    "mse_loss", "l1_loss", "cast",
)  # fmt: skip
assert set(OPS) == set(KERNELS) and len(OPS) == len(KERNELS)

__all__ = ["KERNELS", "Ctx", "vjp", "NTensor", "Node", "OPS", "sgd_update", "adam_update"]

_F32, _F16 = np.dtype(np.float32), np.dtype(np.float16)
_DTYPES = {_F32: float32, _F16: float16}

_SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)
_LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
_STALE_VIEW = (
    "a view of this tensor's storage (or its base) was modified by an in-place operation that "
    "autograd recorded; tapegrad does not rewrite the history of the other views as PyTorch "
    "does. Use .clone() before the in-place operation."
)


# ---------------------------------------------------------------- the tensor


class NTensor(_Base):
    """A tensor of the numpy backend.

    _arr      C-contiguous ndarray, float32 or float16 (the storage; views share it)
    _ver      [version]: the version counter, a list shared with views and detached aliases
    _rg       requires_grad
    _grad     None or an NTensor
    _fn       None (a leaf) or the Node that made it
    _is_param marks an nn.Parameter
    _grp      None, or [epoch] shared by a base and its reshape views: bumped when an in-place
              op is recorded on one of them, so the others know their history is stale
    _epoch    the group epoch this tensor's history belongs to
    """

    __slots__ = ("_arr", "_ver", "_rg", "_grad", "_fn", "_is_param", "_grp", "_epoch",
                 "__weakref__")  # fmt: skip

    def __init__(self, *args, **kwargs):
        raise TypeError("use tapegrad.tensor(...) or the factories to make tensors")

    @property
    def shape(self):
        return self._arr.shape

    @property
    def dtype(self):
        return _DTYPES[self._arr.dtype]

    @property
    def ndim(self):
        return self._arr.ndim

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self._fn is not None:
            msg = "you can only change requires_grad flags of leaf variables."
            if not value:
                msg += (
                    " If you want to use a computed variable in a subgraph that doesn't require "
                    "differentiation use var_no_grad = var.detach()."
                )
            raise RuntimeError(msg)
        self._rg = value

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, g):
        if g is not None:
            if not isinstance(g, _Base):
                raise TypeError(
                    "assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(g).__name__}"
                )
            _check(g)
            if g._arr.shape != self._arr.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if g._arr.dtype != self._arr.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = g

    @property
    def grad_fn(self):
        return self._fn

    @property
    def is_leaf(self):
        return self._fn is None

    @property
    def data(self):
        return _new(self._arr)

    @data.setter
    def data(self, value):
        if not isinstance(value, _Base):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        _check(value)
        self._arr = value._arr  # shares value's storage, as PyTorch does
        self._grp, self._epoch = None, 0

    @property
    def _version(self):
        return self._ver[0]


def _new(arr):
    """A leaf NTensor owning `arr` (no grad, fresh version counter)."""
    t = _NEW(NTensor)
    t._arr = arr
    t._ver = [0]
    t._rg = False
    t._grad = None
    t._fn = None
    t._is_param = False
    t._grp = None
    t._epoch = 0
    return t


_NEW = object.__new__
NTensor._be = sys.modules[__name__]
Tensor = NTensor  # the protocol's name for this backend's concrete class (internally: _Base)


def _check(t):
    if not isinstance(t, NTensor):
        if hasattr(t, "_be"):
            raise RuntimeError(_MIX.format(name, t._be.name))
        raise TypeError(f"expected a tapegrad tensor, got {type(t).__name__}")


def _scalar(s):
    if isinstance(s, (bool, int, float, np.integer, np.floating)):
        return float(s)
    raise TypeError(f"expected a Python number, got {type(s).__name__}")


def _fresh(t):
    """Refuse (in grad mode) a tensor whose history went stale through an aliasing view."""
    if t._grp is not None and t._epoch != t._grp[0]:
        raise RuntimeError(_STALE_VIEW)


# ---------------------------------------------------------------- the tape

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
    saved arrays that are an input or the output (their in-place changes are detected).
    """

    __slots__ = ("seq", "kernel", "ctx", "edges", "in_dtypes", "in_shapes", "out_dtype",
                 "out_shape", "attrs", "checks", "freed", "_name", "__weakref__")  # fmt: skip

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

    def apply(self, grad):
        """Run only this node's backward on `grad` (a tensor of the output's shape and dtype).

        Returns one input gradient per input (a new tensor, or None where the input needs none).
        The saved tensors are kept (as with retain_graph=True)."""
        _check(grad)
        if grad._arr.shape != self.out_shape:
            raise RuntimeError(f"{self._name}.apply: grad shape {grad.shape} != {self.out_shape}")
        g = np.asarray(grad._arr, dtype=self.out_dtype)
        return tuple(None if gi is None else _new(gi) for gi in self._apply(g, True))

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
        k = self.kernel
        if not k.storage_level and g.dtype != _F32:
            g = g.astype(_F32)
        with np.errstate(all="ignore"):
            grads = k.backward(self.ctx, g)
        out = []
        for gi, e, dt, shape in zip(grads, self.edges, self.in_dtypes, self.in_shapes):
            if e is None or gi is None:
                out.append(None)
                continue
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
            self.checks = ()
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
    """The array an op computes on: float16 is upcast to float32 (exactly)."""
    return arr.astype(_F32) if arr.dtype == _F16 else arr


def _run(op, tensors, attrs, out_dtype=None):
    """Apply op `op` to `tensors` (None allowed for an absent optional input); record it."""
    k = KERNELS[op]
    grad_on = is_grad_enabled()
    record = False
    for t in tensors:
        if t is not None:
            if grad_on:
                _fresh(t)
            record = record or t._rg
    record = record and grad_on
    in_dt = tensors[0]._arr.dtype
    out_dt = in_dt if out_dtype is None else out_dtype
    if k.storage_level:
        arrays = [t._arr for t in tensors]
        ctx = Ctx(in_dt)
    else:
        arrays = [None if t is None else _compute(t._arr) for t in tensors]
        ctx = Ctx(_F32, out_dt, in_dt)
    with np.errstate(all="ignore"):
        y = k.forward(ctx, *arrays, **attrs)
    if not k.storage_level:
        for x in arrays:
            if y is x:  # an op's output never shares an input's storage
                y = y.copy()
    out = _new(np.asarray(y, dtype=out_dt, order="C"))
    if record:
        checks = []
        for i, s in enumerate(ctx.saved):
            for t, x in zip(tensors, arrays):
                if s is x:
                    checks.append((i, t._ver, t._ver[0], t._arr.dtype, t._arr.shape))
                    break
            else:
                if s is y:
                    checks.append((i, out._ver, 0, out_dt, out._arr.shape))
        node = Node()
        node.seq = _next_seq()
        node.kernel = k
        node.ctx = ctx
        node.edges = tuple(
            None if t is None or not t._rg else (t if t._fn is None else t._fn) for t in tensors
        )
        node.in_dtypes = tuple(None if t is None else t._arr.dtype for t in tensors)
        node.in_shapes = tuple(None if t is None else t._arr.shape for t in tensors)
        node.out_dtype, node.out_shape = out._arr.dtype, out._arr.shape
        node.attrs = attrs
        node.checks = tuple(checks)
        node.freed = False
        gf = k.grad_fn
        node._name = gf if isinstance(gf, str) else gf(node.in_shapes, attrs)
        out._fn = node
        out._rg = True
    return out


def _add_grads(x, y):
    """x + y for two gradients of one dtype, computed in float32 and rounded once."""
    if x.dtype == _F16:
        return (x.astype(_F32) + y.astype(_F32)).astype(_F16)
    return np.asarray(x + y)


def _accumulate_leaf(leaf, g):
    if not leaf._rg or leaf._fn is not None:
        return
    if g.shape != leaf._arr.shape:
        raise RuntimeError(
            f"the gradient of shape {g.shape} does not match the leaf's shape {leaf._arr.shape}"
            " (was .data replaced after the graph was built?)"
        )
    dt = leaf._arr.dtype
    if leaf._grad is None:
        leaf._grad = _new(np.array(g, dtype=dt, order="C"))  # a fresh copy: never an alias
    else:
        acc = leaf._grad
        acc._arr[...] = _add_grads(acc._arr, np.asarray(g, dtype=acc._arr.dtype))
        acc._ver[0] += 1


def backward(t, grad, retain_graph=False):
    """Reverse sweep from t with upstream gradient `grad` (same shape and dtype as t; None
    means ones, for a 1-element t)."""
    _check(t)
    if grad is None:
        if t._arr.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
    if not t._rg:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    _fresh(t)
    if grad is None:
        g = np.ones_like(t._arr)
    else:
        _check(grad)
        if grad._arr.shape != t._arr.shape:
            raise RuntimeError(f"backward: gradient shape {grad.shape} != tensor shape {t.shape}")
        g = np.asarray(grad._arr, dtype=t._arr.dtype)
    with no_grad():
        if t._fn is None:
            _accumulate_leaf(t, g)
        else:
            _sweep(t._fn, g, bool(retain_graph))


def _sweep(root, g, retain_graph):
    # 1. The nodes reachable from root, each with the number of edges that reach it.
    deps = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        for e in node.edges:
            if type(e) is Node:
                if e in deps:
                    deps[e] += 1
                else:
                    deps[e] = 1
                    stack.append(e)
    # 2. Run each node once all its consumers have run; among ready nodes the latest first.
    pending = {root: g}
    leaves = {}  # id(leaf) -> [leaf, summed gradient]
    tie = count()
    ready = [(-root.seq, next(tie), root)]
    while ready:
        node = heappop(ready)[2]
        g = pending.pop(node, None)
        grads = node._apply(g, retain_graph) if g is not None else (None,) * len(node.edges)
        for e, gi in zip(node.edges, grads):
            if e is None:
                continue
            if type(e) is Node:
                if gi is not None:
                    prev = pending.get(e)
                    pending[e] = gi if prev is None else _add_grads(prev, gi)
                deps[e] -= 1
                if deps[e] == 0:
                    heappush(ready, (-e.seq, next(tie), e))
            elif gi is not None:
                slot = leaves.get(id(e))
                if slot is None:
                    leaves[id(e)] = [e, gi]
                else:
                    slot[1] = _add_grads(slot[1], gi)
    # 3. Leaves: .grad = the summed gradient, or += it.
    for leaf, gl in leaves.values():
        _accumulate_leaf(leaf, gl)


# ---------------------------------------------------------------- creation and conversion


def from_numpy(arr, requires_grad=False):
    """A new leaf holding a copy of `arr` (float32 or float16)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    if arr.dtype not in _DTYPES:
        raise TypeError(f"unsupported dtype {arr.dtype}: tapegrad stores float32 and float16")
    _check_rank(arr.shape)
    t = _new(np.array(arr, order="C"))
    t._rg = bool(requires_grad)
    return t


_MAX_DIMS = 8  # as the C++ core


def _check_rank(shape):
    if len(shape) > _MAX_DIMS:
        raise ValueError(f"tapegrad supports tensors of at most {_MAX_DIMS} dimensions")


def _refuse_huge(shape, dtype):
    """Refuse an output over 1 TiB before NumPy tries to allocate it (as the C++ core does)."""
    n = 1
    for s in shape:
        n *= int(s)
    nbytes = n * np.dtype(dtype).itemsize
    if nbytes > 1 << 40:
        shown = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise MemoryError(
            f"tapegrad: refusing to allocate {nbytes} bytes for a tensor of shape {shown} "
            "(the limit is 1 TiB)"
        )


def to_numpy(t):
    _check(t)
    return t._arr


def item(t):
    _check(t)
    if t._arr.size != 1:
        raise RuntimeError(f"a Tensor with {t._arr.size} elements cannot be converted to Scalar")
    return float(t._arr.item())


def detach(t):
    _check(t)
    d = _new(t._arr)
    d._ver = t._ver
    return d


def _default_threads():
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        n = 0
    return n if n > 0 else (os.cpu_count() or 1)


_threads = [_default_threads()]


def set_num_threads(n):
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    _threads[0] = n


def get_num_threads():
    return _threads[0]


# ---------------------------------------------------------------- in place


def _history_carrier(a, copy_values):
    """A stand-in for `a` before an in-place op: same history, a private copy when saved."""
    c = _new(a._arr.copy() if copy_values else a._arr)
    c._rg, c._fn = a._rg, a._fn
    return c


def _take_over(a, res):
    """After a recorded in-place op, `a` continues the history of `res`."""
    a._fn, a._rg = res._fn, True
    if a._grp is not None:
        a._grp[0] += 1
        a._epoch = a._grp[0]


def _inplace_prologue(a, others_rg):
    """Common checks; returns whether the in-place op is recorded."""
    grad_on = is_grad_enabled()
    if not grad_on:
        return False
    if a._rg and a._fn is None:
        raise RuntimeError(_LEAF_INPLACE)
    _fresh(a)
    return a._rg or others_rg


def _check_into(a_shape, b_shape):
    shape = broadcast_shapes(a_shape, b_shape)
    if shape != a_shape:
        raise RuntimeError(
            f"output with shape {list(a_shape)} doesn't match the broadcast shape {list(shape)}"
        )


_SCALAR_OF = {"add": "add_scalar", "sub": "add_scalar", "mul": "mul_scalar", "div": "div_scalar"}


def iop(op, a, other):
    """a (op)= other, op in add sub mul div; other a tensor or a number; rounded to a's dtype."""
    _check(a)
    if op not in _SCALAR_OF:
        raise ValueError(f"unknown in-place op {op!r}")
    is_tensor = isinstance(other, _Base)
    if is_tensor:
        _check(other)
        _check_into(a._arr.shape, other._arr.shape)
    else:
        s = _scalar(other)
    recorded = _inplace_prologue(a, is_tensor and other._rg)
    src = _history_carrier(a, is_tensor and op in ("mul", "div")) if recorded else a
    if is_tensor:
        b = src if other is a else other
        # Computed in the promoted dtype, then rounded into a's dtype (as PyTorch does).
        res = _binary(op, src, b)
        if res._arr.dtype != a._arr.dtype:
            res = cast(res, 0 if a._arr.dtype == _F32 else 1)
    else:
        res = _run(_SCALAR_OF[op], (src,), {"s": -s if op == "sub" else s})
    a._arr[...] = res._arr
    a._ver[0] += 1
    if recorded:
        _take_over(a, res)
    return a


def fill_(a, value):
    """Every element of a := value (float32(value) rounded to a's dtype)."""
    _check(a)
    value = _scalar(value)
    recorded = _inplace_prologue(a, False)
    if recorded:  # PyTorch's FillBackward: the old history gets a zero gradient
        res = _run("mul_scalar", (_history_carrier(a, False),), {"s": 0.0})
    with np.errstate(all="ignore"):
        a._arr[...] = np.float32(value)
    a._ver[0] += 1
    if recorded:
        _take_over(a, res)
    return a


def copy_(a, src):
    """a := src broadcast to a's shape and converted to a's dtype."""
    _check(a)
    _check(src)
    _check_into(a._arr.shape, src._arr.shape)
    recorded = _inplace_prologue(a, src._rg)
    if recorded:
        # History: zero gradient to a's old value, src's gradient summed back to src's shape.
        old = _history_carrier(a, False)
        base = _run("mul_scalar", (old,), {"s": 0.0}) if a._rg else _new(np.zeros_like(a._arr))
        s = src if src._arr.dtype == a._arr.dtype else cast(src, 0 if a._arr.dtype == _F32 else 1)
        res = _run("add", (base, s), {})
    with np.errstate(all="ignore"):
        a._arr[...] = src._arr.astype(a._arr.dtype, copy=False)
    a._ver[0] += 1
    if recorded:
        _take_over(a, res)
    return a


# ---------------------------------------------------------------- the ops


def _binary(op, a, b, **attrs):
    _check(a)
    _check(b)
    out_dtype = _F32 if a._arr.dtype != b._arr.dtype else a._arr.dtype
    if op == "matmul":
        _refuse_huge(matmul_shape(a._arr.shape, b._arr.shape), out_dtype)
    elif op in ("add", "sub", "mul", "div"):
        _refuse_huge(broadcast_shapes(a._arr.shape, b._arr.shape), out_dtype)
    if a._arr.dtype != b._arr.dtype:
        a = cast(a, 0) if a._arr.dtype == _F16 else a
        b = cast(b, 0) if b._arr.dtype == _F16 else b
    return _run(op, (a, b), attrs)


def _unary(op, a, **attrs):
    _check(a)
    return _run(op, (a,), attrs)


def add(a, b):
    return _binary("add", a, b)


def sub(a, b):
    return _binary("sub", a, b)


def mul(a, b):
    return _binary("mul", a, b)


def div(a, b):
    return _binary("div", a, b)


def add_scalar(a, s):
    return _unary("add_scalar", a, s=_scalar(s))


def mul_scalar(a, s):
    return _unary("mul_scalar", a, s=_scalar(s))


def div_scalar(a, s):
    return _unary("div_scalar", a, s=_scalar(s))


def rsub_scalar(a, s):
    return _unary("rsub_scalar", a, s=_scalar(s))


def rdiv_scalar(a, s):
    return _unary("rdiv_scalar", a, s=_scalar(s))


def pow_scalar(a, s):
    return _unary("pow_scalar", a, s=_scalar(s))


def rpow_scalar(a, s):
    return _unary("rpow_scalar", a, s=_scalar(s))


def neg(a):
    return _unary("neg", a)


def abs(a):  # noqa: A001
    return _unary("abs", a)


def exp(a):
    return _unary("exp", a)


def log(a):
    return _unary("log", a)


def tanh(a):
    return _unary("tanh", a)


def relu(a):
    return _unary("relu", a)


def sigmoid(a):
    return _unary("sigmoid", a)


def matmul(a, b):
    return _binary("matmul", a, b)


def linear(x, w, b=None):
    _check(x)
    _check(w)
    if b is not None:
        _check(b)
    ts = (x, w, b)
    if len({t._arr.dtype for t in ts if t is not None}) > 1:
        ts = tuple(t if t is None or t._arr.dtype == _F32 else cast(t, 0) for t in ts)
    if w._arr.ndim == 2 and x._arr.ndim >= 1:
        _refuse_huge(x._arr.shape[:-1] + (w._arr.shape[0],), ts[0]._arr.dtype)
    return _run("linear", ts, {})


def _dims(dims):
    return None if dims is None else tuple(int(d) for d in dims)


def sum(a, dims=None, keepdim=False):  # noqa: A001
    return _unary("sum", a, dims=_dims(dims), keepdim=bool(keepdim))


def mean(a, dims=None, keepdim=False):
    return _unary("mean", a, dims=_dims(dims), keepdim=bool(keepdim))


def reshape(a, shape):
    """A view: shares a's storage, version counter and view group."""
    _check_rank(shape)
    out = _unary("reshape", a, shape=tuple(int(s) for s in shape))
    out._ver = a._ver
    if a._grp is None:
        a._grp, a._epoch = [0], 0
    out._grp, out._epoch = a._grp, a._grp[0]
    return out


def permute(a, dims):
    return _unary("permute", a, dims=tuple(int(d) for d in dims))


def slice(a, starts, steps, lens):  # noqa: A001
    ints = lambda xs: tuple(int(x) for x in xs)  # noqa: E731
    return _unary("slice", a, starts=ints(starts), steps=ints(steps), lens=ints(lens))


def mse_loss(a, b, reduction="mean"):
    return _binary("mse_loss", a, b, reduction=reduction)


def l1_loss(a, b, reduction="mean"):
    return _binary("l1_loss", a, b, reduction=reduction)


def cast(a, code):
    """A copy converted to dtype BY_CODE[code] (also clone, with a's own code)."""
    _check(a)
    if code not in (0, 1):
        raise ValueError(f"unknown dtype code {code!r}: 0 is float32, 1 is float16")
    return _run("cast", (a,), {"code": code}, out_dtype=BY_CODE[code].np)
