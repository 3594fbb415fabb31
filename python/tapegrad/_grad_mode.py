"""Grad mode: one thread-local switch shared by both backends.

When the C++ extension is present its thread-local flag is the switch (the C++ ops read it for
free); otherwise a Python threading.local holds it, so the NumPy backend works alone.
"""

import functools
import inspect
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


def _decorate(fn, make_mode):
    """`fn` run inside a fresh `make_mode()`; a generator function inside it at each step and
    outside it while suspended, as PyTorch's decorators do."""
    if not inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with make_mode():
                return fn(*args, **kwargs)

        return wrapper

    @functools.wraps(fn)
    def generator(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with make_mode():
                value = gen.send(None)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    with make_mode():
                        gen.close()
                    raise
                except BaseException as exc:
                    with make_mode():
                        value = gen.throw(exc)
                else:
                    with make_mode():
                        value = gen.send(sent)
        except StopIteration as stop:
            return stop.value

    return generator


class _Mode:
    """Base of the grad-mode context managers; each also works as a decorator."""

    _target = True

    def __new__(cls, orig_func=None):
        # PyTorch's bare `@no_grad` / `@enable_grad`: the class called on the function.
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {orig_func!r}")
        return cls()(orig_func)

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set(self._target)
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        return _decorate(fn, self.__class__)


class no_grad(_Mode):
    """Context manager that turns gradient recording off; ops inside return tensors with
    `requires_grad=False` and record no graph. Restores the previous mode on exit.

    Also a decorator, `@no_grad()` or `@no_grad`; a decorated generator function runs each of
    its steps without grad and gives the caller's mode back while it is suspended."""

    _target = False


class enable_grad(_Mode):
    """Context manager that turns gradient recording on, e.g. inside a `no_grad` block.
    Restores the previous mode on exit.

    Also a decorator, `@enable_grad()` or `@enable_grad`, for generator functions too (each step
    runs with grad on)."""

    _target = True


class set_grad_enabled(_Mode):
    """`set_grad_enabled(False)` switches at once (like PyTorch); used with `with`, it restores."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        self._prev = is_grad_enabled()
        self._target = bool(mode)
        _set(self._target)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _set(self._prev)
        target = self._target
        return _decorate(fn, lambda: set_grad_enabled(target))


_inference = threading.local()


class inference_mode(_Mode):
    """PyTorch's `inference_mode(mode=True)`: here grad mode off (as no_grad). Tensors made
    inside are ordinary tensors: PyTorch's later refusal to record them is not reproduced."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return object.__new__(cls)
        return cls(True)(mode)  # bare `@inference_mode`, as PyTorch allows

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
        return _decorate(fn, lambda: inference_mode(on))


def is_inference_mode_enabled():
    """True inside `inference_mode()`."""
    return getattr(_inference, "on", False)
