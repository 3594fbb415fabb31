"""Choosing the backend: `use_backend` / `set_backend`, then TAPEGRAD_BACKEND, then cpp."""

import contextlib
import importlib
import os
import threading

NAMES = ("cpp", "numpy")
_MODULES = {"cpp": "tapegrad.backends.cpp", "numpy": "tapegrad.backends.numpy_ref"}
_local = threading.local()
_default = None  # set_backend's choice (process-wide)


def load(name):
    if name not in _MODULES:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(NAMES)}")
    return importlib.import_module(_MODULES[name])


def _initial():
    return load(os.environ.get("TAPEGRAD_BACKEND", "cpp") or "cpp")


def current():
    """The backend module new tensors are made on."""
    be = getattr(_local, "backend", None)
    if be is not None:
        return be
    global _default
    if _default is None:
        _default = _initial()
    return _default


def set_backend(name):
    """Make `name` ("cpp" or "numpy") the backend for new tensors in this process."""
    global _default
    _default = load(name)
    _local.backend = None


def get_backend():
    """The name of the backend new tensors are made on in this thread: 'cpp' or 'numpy'."""
    return current().name


@contextlib.contextmanager
def use_backend(name):
    """Within the block, new tensors (in this thread) are made on backend `name`."""
    be = load(name)
    prev = getattr(_local, "backend", None)
    _local.backend = be
    try:
        yield be
    finally:
        _local.backend = prev
