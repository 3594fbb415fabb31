"""Module hooks (PyTorch's names): forward pre-hooks, forward hooks, and full backward
(pre-)hooks, each handed back as a `RemovableHandle`.

A module with no hooks calls `forward` directly; `_call_with_hooks` is taken only once a hook was
registered. Backward hooks see the gradients of the module's output and of its one input that
requires grad: the input is passed through an identity node whose gradient is grad_input.
"""

import warnings
from collections import OrderedDict

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
        _hook_outputs(module, out, state)
    return out


def _wrap_inputs(module, args):
    """The one input that requires grad, passed through an identity node (its gradient is
    grad_input); more than one is refused rather than reported in pieces."""
    grad_args = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if len(grad_args) > 1:
        raise NotImplementedError(
            f"full backward hooks on {type(module).__name__}: a module called with more than one "
            "input that requires grad is not supported yet"
        )
    state = {"n_in": len(args), "at": grad_args[0] if grad_args else None, "called": False}
    if grad_args:
        i = grad_args[0]
        state["input"] = args[i].view_as(args[i])
        args = args[:i] + (state["input"],) + args[i + 1 :]
    return args, state


def _hook_outputs(module, out, state):
    outs = _tuple(out)
    live = [k for k, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
    if len(live) != 1:
        if live:
            raise NotImplementedError(
                f"full backward hooks on {type(module).__name__}: a module with more than one "
                "output that requires grad is not supported yet"
            )
        return
    k = live[0]
    d = module.__dict__

    def on_grad_output(g):
        grad_output = tuple(g if j == k else None for j in range(len(outs)))
        for hook in list(d.get("_backward_pre_hooks", {}).values()):
            r = hook(module, grad_output)
            if r is not None:
                grad_output = _tuple(r)
        state["grad_output"] = grad_output
        if state["at"] is None:  # no input needs a gradient: the hook is called now
            if d.get("_backward_hooks"):
                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect to "
                    "module outputs since no inputs require gradients.",
                    stacklevel=2,
                )
            _call_backward_hooks(module, (None,) * state["n_in"], grad_output)
        return grad_output[k]

    outs[k].register_hook(on_grad_output)
    if state["at"] is not None:
        x = state.pop("input")

        def on_grad_input(g):
            grad_input = tuple(g if j == state["at"] else None for j in range(state["n_in"]))
            new = _call_backward_hooks(module, grad_input, state.get("grad_output", ()))
            return new[state["at"]]

        x.register_hook(on_grad_input)


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
