"""Tensor.register_hook / retain_grad / retains_grad.

The backend keeps one function per tensor (`set_grad_hook`): a dispatcher over the user's hooks,
in registration order, each seeing the previous one's result. A non-leaf tensor's hooks live on
its grad_fn, so they outlive the Python object, as PyTorch's do.
"""

import weakref

from ._handles import RemovableHandle

_hook_dicts = {}  # id(tensor) -> the tensor's ordered hooks (dropped with the tensor)
_post_dicts = {}  # id(leaf) -> its post-accumulate-grad hooks, likewise


def _dispatcher(hooks):
    def run(grad):
        from .tensor import Tensor

        for hook in list(hooks.values()):
            out = hook(grad)
            if out is None:
                continue
            if not isinstance(out, Tensor):
                raise TypeError(f"expected Variable, but hook returned '{type(out).__name__}'")
            name = getattr(hook, "__name__", type(hook).__name__)
            if tuple(out.shape) != tuple(grad.shape):
                raise RuntimeError(f"hook '{name}' has changed the size of value")
            if out.dtype is not grad.dtype:
                raise RuntimeError(
                    f"hook '{name}' has changed the type of value (was {grad.type()} got "
                    f"{out.type()})"
                )
            grad = out
        return grad

    return run


def _post_dispatcher(ref, hooks):
    def run():
        t = ref()
        if t is None:
            return
        from .tensor import Tensor

        for hook in list(hooks.values()):
            out = hook(t)
            if out is None:
                continue
            if not isinstance(out, Tensor):
                raise TypeError(f"expected Variable, but hook returned '{type(out).__name__}'")
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")

    return run


def run_post_hooks(t):
    """t's post-accumulate-grad hooks (create_graph's sweep, which fills .grad in Python)."""
    hooks = _post_dicts.get(id(t))
    if hooks:
        _post_dispatcher(lambda: t, hooks)()


class _HookMethods:
    __slots__ = ()

    def register_hook(self, hook):
        """Run `hook(grad)` on every gradient computed for this tensor; a tensor it returns
        replaces the gradient. Returns a handle whose `.remove()` takes the hook away."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        key = id(self)
        hooks = _hook_dicts.get(key)
        if hooks is None:
            hooks = _hook_dicts[key] = {}
            weakref.finalize(self, _hook_dicts.pop, key, None)
            self._be.set_grad_hook(self, _dispatcher(hooks))
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """Run `hook(tensor)` on this leaf each time a backward sweep has added its gradient to
        `.grad` (data-parallel training starts its allreduce here). Returns a removable handle."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        key = id(self)
        hooks = _post_dicts.get(key)
        if hooks is None:
            hooks = _post_dicts[key] = {}
            weakref.finalize(self, _post_dicts.pop, key, None)
            self._be.set_post_accumulate_hook(self, _post_dispatcher(weakref.ref(self), hooks))
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in `.grad` during backward (a leaf does anyway)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        self._be.retain_grad(self)

    @property
    def retains_grad(self):
        """True for a non-leaf tensor whose `.grad` is kept (retain_grad() was called)."""
        return self._be.retains_grad(self)
