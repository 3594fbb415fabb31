"""`tg.compile`: capture a training step once, replay it in C++.

The first call with a given signature (tensor shapes, dtypes and requires_grad, the other
arguments' values, grad mode) runs the function eagerly while the C++ core records every kernel
it launches — forward, backward, optimizer updates, grad zeroing — over fixed buffers. Later
calls with the same signature copy the new inputs into the captured input buffers and rerun the
recorded kernels in C++: one crossing from Python, no graph building, no allocation.

Tracing semantics (as torch.jit.trace and CUDA graphs): Python control flow, Python numbers and
optimizer hyperparameters are frozen at capture; a change of input shape or dtype captures anew;
reading a tensor's value into Python, drawing random numbers or creating parameters inside the
function raises. Returned tensors are fresh copies holding this step's values.

On the NumPy backend the function simply runs eagerly, with the same results.
"""

import functools

import numpy as np

from . import _grad_mode
from .tensor import Tensor


def _core():
    from . import _core

    return _core


def _flatten(out):
    """The tensors of a function's result and a way to rebuild it from replacements."""
    if out is None:
        return [], lambda ts: None
    if isinstance(out, Tensor):
        return [out], lambda ts: ts[0]
    if isinstance(out, (tuple, list)) and all(isinstance(o, Tensor) for o in out):
        kind = type(out)
        return list(out), lambda ts: kind(ts)
    raise TypeError(
        "tapegrad.compile: the function must return None, a tensor, or a tuple/list of tensors"
    )


def _key_of(args):
    key = [_grad_mode.is_grad_enabled()]
    for a in args:
        if isinstance(a, Tensor):
            key.append(("T", tuple(a.shape), a.dtype.code, a.requires_grad))
        else:
            try:
                hash(a)
            except TypeError:
                raise TypeError(
                    "tapegrad.compile: non-tensor arguments must be hashable (they are frozen "
                    f"into the capture), got {type(a).__name__}"
                ) from None
            key.append(("C", a))
    return tuple(key)


class CompiledStep:
    """A function captured once per signature and replayed in C++ (see the module docstring)."""

    def __init__(self, fn):
        self.fn = fn
        self._captures = {}  # signature -> _core.Captured
        self._last = None  # the capture the previous call used
        self.captures = 0  # how many times a capture ran (tests and curious users read this)
        functools.update_wrapper(self, fn)

    def __call__(self, *args):
        last = self._last
        if last is not None:  # the common case: the same signature as the previous call
            out = last.try_run(*args)
            if out is not NotImplemented:
                return out
        tensors = [a for a in args if isinstance(a, Tensor)]
        if not tensors or any(t._be.name != "cpp" for t in tensors):
            return self.fn(*args)  # the NumPy reference runs it eagerly
        key = _key_of(args)
        captured = self._captures.get(key)
        if captured is not None:
            out = captured.try_run(*args)
            if out is not NotImplemented:
                self._last = captured
                return out
        return self._capture(key, args)

    def _capture(self, key, args):
        core = _core()
        private, call_args = [], []
        for a in args:
            if isinstance(a, Tensor):
                p = a.detach().clone()  # the capture's own input buffer
                if a.requires_grad:
                    p.requires_grad_()
                private.append(p)
                call_args.append(p)
            else:
                call_args.append(a)
        core.capture_begin()
        try:
            out = self.fn(*call_args)
            outs, rebuild = _flatten(out)
        except BaseException:
            core.capture_abort()
            raise
        # The call signature: tensor positions hold the tensor, others the frozen value.
        signature = list(args)
        if out is None:
            kind = 0
        elif isinstance(out, Tensor):
            kind = 1
        else:
            kind = 2 if isinstance(out, tuple) else 3
        captured = core.capture_end(private, outs, signature, kind)
        self._captures[key] = self._last = captured
        self.captures += 1
        return rebuild([o.detach().clone() for o in outs])

    def run(self, n, *args):
        """Run `n` steps on the same inputs in C++; return the losses (the function's 1-element
        result) as a float32 NumPy array."""
        n = int(n)
        if n <= 0:
            return np.zeros(0, np.float32)
        tensors = [a for a in args if isinstance(a, Tensor)]
        if not tensors or any(t._be.name != "cpp" for t in tensors):
            return np.array([float(self.fn(*args).item()) for _ in range(n)], np.float32)
        key = _key_of(args)
        captured = self._captures.get(key)
        if captured is None or not captured.valid():
            first = self._capture(key, args)
            if not isinstance(first, Tensor) or first.numel() != 1:
                raise ValueError("run: the compiled function must return a 1-element tensor")
            rest = self._captures[key].run_n(n - 1, tensors)
            return np.concatenate([np.array([first.item()], np.float32), rest])
        return captured.run_n(n, tensors)


def compile(fn=None):  # noqa: A001 - PyTorch's name
    """Capture `fn` once per signature and replay it in C++ (decorator or call)."""
    if fn is None:
        return compile
    return CompiledStep(fn)
