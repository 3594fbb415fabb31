"""`tg.autograd.Function`: an op whose forward and backward the user writes, as PyTorch's.

    class MyReLU(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (x > 0)

    y = MyReLU.apply(x)        # y.grad_fn is <MyReLUBackward>

forward runs with grad mode off; its first differentiable output gets a node of the tape whose
backward calls the user's `backward` (also with grad mode off) and checks what it returns, with
PyTorch's errors; further outputs hand their gradients to that node. The new-style form
(forward without ctx, plus `setup_context`) works too.
"""

import functools
import weakref

from .._grad_mode import enable_grad, no_grad
from ._double import creating


class FunctionCtx:
    """The `ctx` of forward/backward: saved tensors and flags, plus any attribute you set."""

    def __init__(self):
        self._saved = ()
        self._versions = ()
        self._non_diff = ()
        self._dirty = ()
        self._saved_out = {}
        self.materialize_grads = True
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        """Save tensors (or None) in `forward` for use in `backward` through `ctx.saved_tensors`.

        Call it once, with every tensor backward needs; anything else is stored as a plain ctx
        attribute. A non-tensor argument raises TypeError."""
        from ..tensor import Tensor

        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    "save_for_backward can only save variables, but argument "
                    f"{tensors.index(t)} is of type {type(t).__name__}"
                )
        self._saved = tensors
        self._versions = tuple(None if t is None else t._version for t in tensors)

    @property
    def saved_tensors(self):
        """The tuple of tensors given to `save_for_backward`, for use in `backward`.

        Raises PyTorch's RuntimeError if one of them was modified in place since it was saved."""
        for t, v in zip(self._saved, self._versions):
            if t is not None and t._version != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [{t.type()} {list(t.shape)}] is at version "
                    f"{t._version}; expected version {v} instead."
                )
        if not (self._saved_out and creating()):
            return self._saved
        saved = list(self._saved)
        for i, ref in self._saved_out.items():
            saved[i] = ref()
            if saved[i] is None:
                raise RuntimeError(
                    "create_graph=True: this Function saved its output, and that output tensor "
                    "no longer exists, so its history cannot be restored; keep a reference to "
                    "the output, or save the input and recompute"
                )
        return tuple(saved)

    def mark_non_differentiable(self, *tensors):
        """Mark outputs of `forward` as not differentiable: they get no grad_fn, and their gradient
        in `backward` is always zero (or None without materialized grads)."""
        self._non_diff = self._non_diff + tensors

    def mark_dirty(self, *tensors):
        """The inputs forward changed in place: an output that is one of them stays that very
        tensor, its history now this Function's node."""
        self._dirty = self._dirty + tensors

    def set_materialize_grads(self, value):
        """With `value=False`, `backward` receives None instead of a zero tensor for an output whose
        gradient was not computed (default True, as PyTorch's)."""
        self.materialize_grads = bool(value)


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls_name = name + "Backward"


class Function(metaclass=_FunctionMeta):
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grad_outputs)`; call
    `YourFunction.apply(*args)`."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            f"{type(self).__name__} should not be instantiated: autograd Functions are used "
            f"through the class, as {type(self).__name__}.apply(...)"
        )

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs; a subclass overrides this static method.

        Either `forward(ctx, *args)` (ctx is a FunctionCtx to save tensors on) or, with
        `setup_context` defined, `forward(*args)`. Runs with grad mode off."""
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Fill `ctx` from the `inputs` tuple and the `output` of a `forward(*args)` that takes no
        ctx; define it to use that new-style form."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Return the gradients of the inputs from those of the outputs; a subclass overrides this
        static method.

        `backward(ctx, *grad_outputs)` gets one gradient per output of forward and returns one
        per input of forward (None for an input that needs none). Runs with grad mode off (unless
        `create_graph=True`). `vjp` is the same method."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the Function on `args`: call `forward` without recording, then attach a node to the
        differentiable outputs whose backward calls the class's `backward`.

        Use `MyFunction.apply(x, ...)`; Functions are never instantiated. When no input requires
        grad (or under no_grad) the outputs come back unrecorded."""
        from .._grad_mode import is_grad_enabled
        from ..tensor import Tensor

        ctx = FunctionCtx()
        track = is_grad_enabled()
        ctx.needs_input_grad = tuple(
            isinstance(a, Tensor) and a.requires_grad and track for a in args
        )
        new_style = cls.setup_context is not Function.setup_context
        with no_grad():
            if new_style:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        grad_in = [i for i, need in enumerate(ctx.needs_input_grad) if need]
        _check_dirty(ctx._dirty, args, track)
        for d in ctx._dirty:
            d._be.bump_version(d)
        if ctx._dirty:  # saved dirty tensors are saved as changed (PyTorch saves them after)
            ctx._versions = tuple(
                t._version if t is not None and any(t is d for d in ctx._dirty) else v
                for t, v in zip(ctx._saved, ctx._versions)
            )
        if not grad_in:
            return out
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        diff = [
            k
            for k, o in enumerate(outs)
            if isinstance(o, Tensor)
            and o.dtype.is_floating_point
            and not any(o is n for n in ctx._non_diff)
        ]
        if not diff:
            return out
        edges, deliver = _route([args[i] for i in grad_in], cls.__name__)
        saved = [t for t in ctx._saved if t is not None]
        stash = {}
        k = diff[0]
        backward = functools.partial(
            _run_backward, cls, ctx, args, grad_in, outs, diff, stash, deliver
        )
        made = list(outs)
        o = outs[k]
        made[k] = o._be.function_node(o, edges, cls.__name__, backward, saved)
        # Further differentiable outputs get a node each that hands its gradient to the first
        # output's node (which then calls backward once, with every output's gradient).
        for j in diff[1:]:
            side = functools.partial(_side_backward, stash, j, made[k])
            made[j] = outs[j]._be.function_node(outs[j], [made[k]], cls.__name__, side, [])
        for j in diff:  # a dirty input returned: that tensor itself takes the node
            if any(outs[j] is d for d in ctx._dirty):
                outs[j]._be.set_history(outs[j], made[j])
                made[j] = outs[j]
        # A saved output is handed back with its history under create_graph (as PyTorch's
        # saved outputs); a weak reference, since the node keeps ctx alive.
        ctx._saved_out = {
            i: weakref.ref(made[j])
            for i, t in enumerate(ctx._saved)
            for j in diff
            if t is outs[j] and made[j] is not t
        }
        return made[0] if single else tuple(made)


def _check_dirty(dirty, args, track):
    for d in dirty:
        if not any(d is a for a in args):
            raise RuntimeError("mark_dirty: only the forward's input tensors can be marked dirty")
        if track and d.requires_grad and d.grad_fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad has been used in an in-place operation."
            )
        if d._base is not None:
            raise NotImplementedError(
                "ctx.mark_dirty on a view (a Function changing a slice of another tensor in "
                "place) is not supported yet"
            )


def _side_backward(stash, j, first, grad):
    from .._factories import zeros_like

    stash[j] = grad
    if "dummy" in stash:
        return [None]
    # the first output's node must run even when only this output got a gradient: it is sent
    # zeros, recognised by their buffer, so backward still sees "no gradient" for it
    stash["dummy"] = zeros_like(first)
    return [stash["dummy"]]


_FAN = 3  # the most inputs a tape node has


def _route(tensors, cls):
    """At most _FAN tensors for a node's edges, standing for `tensors`, and deliver(grads) ->
    their gradients. Beyond _FAN, each group of inputs hangs under a placeholder node, created
    first so it runs after the node: the node sends it zeros and leaves the group's gradients
    in its box."""
    if len(tensors) <= _FAN:
        return tensors, lambda grads: grads
    from .._factories import zeros

    be = tensors[0]._be
    holders, boxes = [], []
    for at in range(0, len(tensors), _FAN):
        group = tensors[at : at + _FAN]
        box = {}
        gather = functools.partial(_gather, box, len(group))

        with no_grad():
            blank = zeros((), backend=be.name)
        holders.append(be.function_node(blank, group, cls, gather, []))
        boxes.append(box)
    edges, deliver_up = _route(holders, cls)

    def deliver(grads):
        sent = []
        for j, box in enumerate(boxes):
            chunk = grads[j * _FAN : (j + 1) * _FAN]
            if all(g is None for g in chunk):
                sent.append(None)
            else:
                box["g"] = chunk
                sent.append(zeros((), backend=be.name))
        return deliver_up(sent)

    return edges, deliver


def _gather(box, n, grad):
    return box.pop("g", [None] * n)


def _run_backward(cls, ctx, args, grad_in, outs, diff, stash, deliver, grad):
    from .._factories import zeros_like
    from ..tensor import Tensor

    dummy = stash.pop("dummy", None)
    if dummy is not None and grad.data_ptr() == dummy.data_ptr():
        grad = None
    got = {diff[0]: grad}
    for j in diff[1:]:
        got[j] = stash.pop(j, None)
    grads = []
    for j, o in enumerate(outs):
        g = got.get(j)
        if g is None and isinstance(o, Tensor) and ctx.materialize_grads:
            g = zeros_like(o)
        grads.append(g)
    name = cls._backward_cls_name
    with enable_grad() if creating() else no_grad():  # create_graph records the backward
        res = cls.backward(ctx, *grads)
    if not isinstance(res, tuple):
        res = (res,)
    n = len(args)
    if len(res) != n:
        if len(res) < n or any(r is not None for r in res[n:]):
            raise RuntimeError(
                f"function {name} returned an incorrect number of gradients (expected {n}, got "
                f"{len(res)})"
            )
        res = res[:n]
    out = []
    for i, (a, g) in enumerate(zip(args, res)):
        if not isinstance(a, Tensor):
            if g is not None:
                raise RuntimeError(
                    f"function {name} returned a gradient different than None at position "
                    f"{i + 1}, but the corresponding forward input was not a Variable"
                )
            continue
        if i not in grad_in:
            continue
        if g is not None:
            if not isinstance(g, Tensor):
                raise TypeError(
                    f"function {name} returned a gradient of type {type(g).__name__} at "
                    f"position {i + 1}; expected a Tensor or None"
                )
            g = _fit(name, i, g, a)
        out.append(g)
    return deliver(out)


def _fit(name, i, g, a):
    """g summed to a's shape when a's shape expands to it (as PyTorch), in a's dtype."""
    shape, gshape = tuple(a.shape), tuple(g.shape)
    if gshape != shape:
        lead = len(gshape) - len(shape)
        ok = lead >= 0 and all(s == 1 or s == gs for s, gs in zip(shape, gshape[lead:]))
        if not ok:
            raise RuntimeError(
                f"Function {name} returned an invalid gradient at index {i} - got "
                f"{list(gshape)} but expected shape compatible with {list(shape)}"
            )
        dims = tuple(range(lead)) + tuple(
            lead + d for d, s in enumerate(shape) if s == 1 and gshape[lead + d] != 1
        )
        g = g.sum(dim=dims, keepdim=True) if dims else g
        g = g.reshape(shape)
    if g.dtype is not a.dtype:
        g = g.to(a.dtype)
    return g.contiguous()


def once_differentiable(fn):
    """Marks a backward that is not itself differentiable: it runs without recording, and a
    create_graph=True backward through it raises PyTorch's error."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        if creating():
            raise RuntimeError(
                "trying to differentiate twice a function that was marked with @once_differentiable"
            )
        with no_grad():
            return fn(ctx, *args)

    return wrapper
