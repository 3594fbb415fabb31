"""Module hooks (PyTorch's names): forward pre-hooks, forward hooks, and full backward
(pre-)hooks, each handed back as a `RemovableHandle`.

A module with no hooks calls `forward` directly; `_call_with_hooks` is taken only once a hook was
registered. Backward hooks see the gradients of the module's outputs and inputs: as in
PyTorch, the inputs that require grad and the outputs pass through an identity Function
(`BackwardHookFunction`), whose backward receives grad_input (or grad_output) all at once.
"""

import warnings
from collections import OrderedDict

from ..._grad_mode import is_grad_enabled
from ..._handles import RemovableHandle
from ...tensor import Tensor

_KINDS = ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_backward_pre_hooks")


def _add(module, kind, hook, prepend, extra=None):
    d = module.__dict__
    hooks = d.get(kind)
    if hooks is None:
        hooks = d[kind] = OrderedDict()
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook if extra is None else (hook, extra)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    d["_has_hooks"] = True
    return handle


class _ModuleHooks:
    """The register_* methods of nn.Module."""

    _has_hooks = False

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) -> None or new args; with_kwargs: hook(module, args, kwargs) ->
        None or (args, kwargs). Runs before forward."""
        return _add(self, "_forward_pre_hooks", hook, prepend, {"kw": with_kwargs})

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) -> None or a new output; with_kwargs: hook(module, args,
        kwargs, output). Runs after forward (always_call: also when forward raised)."""
        extra = {"kw": with_kwargs, "always": always_call}
        return _add(self, "_forward_hooks", hook, prepend, extra)

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) -> None or a new grad_input, called when the
        gradients with respect to the module's inputs are computed."""
        return _add(self, "_backward_hooks", hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) -> None or a new grad_output, called when the gradient of
        the module's output is computed."""
        return _add(self, "_backward_pre_hooks", hook, prepend)

    def register_backward_hook(self, hook):
        """Not provided: raise RuntimeError. PyTorch deprecates this non-full backward hook; use
        `register_full_backward_hook` instead."""
        raise RuntimeError(
            "register_backward_hook is deprecated in PyTorch and not provided; use "
            "register_full_backward_hook"
        )


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _call_with_hooks(module, args, kwargs):
    from .module import _capturing

    if _capturing():
        raise RuntimeError(
            f"tapegrad.compile: module hooks (on {type(module).__name__}) run Python at every "
            "call, which a captured step cannot replay; remove them or call the step uncompiled"
        )
    d = module.__dict__
    for hook, extra in list(d.get("_forward_pre_hooks", {}).values()):
        if extra["kw"]:
            r = hook(module, args, kwargs)
            if r is not None:
                if not (isinstance(r, tuple) and len(r) == 2):
                    raise RuntimeError(
                        "forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                        f"but got {r}."
                    )
                args, kwargs = _tuple(r[0]), r[1]
        else:
            r = hook(module, args)
            if r is not None:
                args = _tuple(r)
    bw = d.get("_backward_hooks") or d.get("_backward_pre_hooks")
    state = None
    if bw:
        args, state = _wrap_inputs(module, args)
    fwd_hooks = list(d.get("_forward_hooks", {}).values())
    try:
        out = module.forward(*args, **kwargs)
    except Exception:
        for hook, extra in fwd_hooks:
            if extra["always"]:
                try:
                    hook(module, args, kwargs, None) if extra["kw"] else hook(module, args, None)
                except Exception:
                    pass
        raise
    for hook, extra in fwd_hooks:
        r = hook(module, args, kwargs, out) if extra["kw"] else hook(module, args, out)
        if r is not None:
            out = r
    if bw:
        out = _hook_outputs(module, out, state)
    return out


def _identity_node():
    from ...autograd.function import Function

    class BackwardHookFunction(Function):
        """Identity on tensors; its backward hands their gradients to `on_grads` (PyTorch's
        node of the same name)."""

        @staticmethod
        def forward(ctx, on_grads, *tensors):
            ctx.on_grads = on_grads
            ctx.set_materialize_grads(False)
            return tensors

        @staticmethod
        def backward(ctx, *grads):
            return (None, *ctx.on_grads(grads))

    return BackwardHookFunction


_NODE = []


def _through(on_grads, tensors):
    if not _NODE:
        _NODE.append(_identity_node())
    return _NODE[0].apply(on_grads, *tensors)


def _wrap_inputs(module, args):
    """The inputs that require grad, through one identity node whose backward calls the full
    backward hooks with grad_input (one entry per argument, None where none)."""
    at = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    state = {"n_in": len(args), "at": at if is_grad_enabled() else [], "grad_output": ()}
    if not state["at"]:
        return args, state

    # PyTorch hands every tensor argument a gradient: zeros where none reached it
    blanks = {i: (tuple(a.shape), a.dtype, a._be.name) for i, a in enumerate(args)
              if isinstance(a, Tensor)}  # fmt: skip

    def on_grads(grads):
        from ..._factories import zeros

        got = dict(zip(at, grads))
        grad_input = [None] * state["n_in"]
        for i, (shape, dtype, be) in blanks.items():
            g = got.get(i)
            grad_input[i] = zeros(shape, dtype=dtype, backend=be) if g is None else g
        new = _call_backward_hooks(module, tuple(grad_input), state["grad_output"])
        return [new[i] for i in at]

    passed = _through(on_grads, [args[i] for i in at])
    args = list(args)
    for i, t in zip(at, passed):
        args[i] = t
    return tuple(args), state


def _hook_outputs(module, out, state):
    """The outputs that require grad, through an identity node whose backward runs the
    backward pre-hooks on grad_output (and the hooks themselves when no input needs a
    gradient). Returns the output to hand back."""
    outs = _tuple(out)
    live = [k for k, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
    if not live:
        return out
    d = module.__dict__

    def on_grads(grads):
        grad_output = [None] * len(outs)
        for k, g in zip(live, grads):
            grad_output[k] = g
        grad_output = tuple(grad_output)
        for hook in list(d.get("_backward_pre_hooks", {}).values()):
            r = hook(module, grad_output)
            if r is not None:
                grad_output = _tuple(r)
        state["grad_output"] = grad_output
        if not state["at"]:  # no input needs a gradient: the hooks are called now
            if d.get("_backward_hooks"):
                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect to "
                    "module outputs since no inputs require gradients.",
                    stacklevel=2,
                )
            _call_backward_hooks(module, (None,) * state["n_in"], grad_output)
        return [grad_output[k] for k in live]

    passed = _through(on_grads, [outs[k] for k in live])
    if not isinstance(out, tuple):
        return passed[0]
    outs = list(outs)
    for k, t in zip(live, passed):
        outs[k] = t
    return tuple(outs)


def _call_backward_hooks(module, grad_input, grad_output):
    for hook in list(module.__dict__.get("_backward_hooks", {}).values()):
        r = hook(module, grad_input, grad_output)
        if r is not None:
            r = _tuple(r)
            if len(r) != len(grad_input):
                raise RuntimeError(
                    f"Backward hook returned an invalid number of grad_input, got {len(r)}, but "
                    f"expected {len(grad_input)}"
                )
            grad_input = r
    return grad_input
