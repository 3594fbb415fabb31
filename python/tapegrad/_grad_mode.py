"""Grad mode: one thread-local switch shared by both backends.

When the C++ extension is present its thread-local flag is the switch (the C++ ops read it for
free); otherwise a Python threading.local holds it, so the NumPy backend works alone.
"""

import functools
import threading

try:
    from tapegrad._core import is_grad_enabled
    from tapegrad._core import set_grad_enabled as _set
except ImportError:  # the extension did not build: the NumPy backend still works
    _local = threading.local()

    def is_grad_enabled():
        return getattr(_local, "enabled", True)

    def _set(flag):
        _local.enabled = bool(flag)


class _Mode:
    """Base of the grad-mode context managers; each also works as a decorator."""

    _target = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set(self._target)
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_Mode):
    _target = False


class enable_grad(_Mode):
    _target = True


class set_grad_enabled(_Mode):
    """`set_grad_enabled(False)` switches at once (like PyTorch); used with `with`, it restores."""

    def __init__(self, mode):
        self._prev = is_grad_enabled()
        self._target = bool(mode)
        _set(self._target)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _set(self._prev)
        target = self._target

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(target):
                return fn(*args, **kwargs)

        return wrapper


_inference = threading.local()


class inference_mode(_Mode):
    """PyTorch's `inference_mode(mode=True)`: here grad mode off (as no_grad). Tensors made
    inside are ordinary tensors: PyTorch's later refusal to record them is not reproduced."""

    def __init__(self, mode=True):
        self._on = bool(mode)
        self._target = not self._on

    def __enter__(self):
        self._prev_inference = getattr(_inference, "on", False)
        _inference.on = self._on
        return super().__enter__()

    def __exit__(self, *exc):
        _inference.on = self._prev_inference
        return super().__exit__(*exc)

    def __call__(self, fn):
        on = self._on

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(on):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled():
    """True inside `inference_mode()`."""
    return getattr(_inference, "on", False)
