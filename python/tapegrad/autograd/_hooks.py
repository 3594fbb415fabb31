"""Watching every op while a tool is active, at no cost when none is.

`Tensor` calls its backend module's functions by name at call time (`t._be.add(a, b)`), so
replacing those module attributes sees every op: the tools below install one dispatcher per
function when the first tool activates and put the original functions back when the last one
leaves. On the cpp backend the C number slots of tensors (`a + b`, `a * 2`, ...) bypass the
module; `_core.set_python_dispatch(True)` routes them through `Tensor`'s Python methods while a
tool is active, and the previous setting is restored afterwards.

A tool is an object with any of:

    pre(be, fname, args) -> state              before the op (e.g. copy inputs an in-place op
                                               is about to change)
    post(be, fname, args, out, state)          after the op returned `out`
    before_backward(be, t, grad, retain_graph) before a backward() sweep

Calls made while a dispatcher is already running on this thread (a tool's own reference
computations, or a backend function calling another) go straight to the original functions.
Tools are process-wide while active (all threads see them). They stand aside while
`tg.compile` captures a step (a captured step replays without Python).
"""

import threading

from .. import _backend, _oplist

# the functions of the backend protocol that apply ops: one per op of the op list
OP_FUNCS = _oplist.NAMES
INPLACE_FUNCS = ("iop", "fill_", "copy_")

_lock = threading.RLock()
_tools = []  # active tools, in activation order
_installed = []  # (module, fname, original)
_prev_dispatch = [None]
_tls = threading.local()


def _modules():
    mods = []
    for name in ("cpp", "numpy"):
        try:
            mods.append(_backend.load(name))
        except ImportError:
            if name == "numpy":
                raise
    return mods


def _make_op(be, fname, orig):
    capturing = _capturing(be)

    def dispatch(*args, **kwargs):
        if getattr(_tls, "busy", False) or capturing():
            return orig(*args, **kwargs)
        _tls.busy = True
        try:
            if kwargs:  # the front end passes positional arguments; normalise just in case
                args = _positional(orig, args, kwargs)
            tools = tuple(_tools)
            states = [t.pre(be, fname, args) if hasattr(t, "pre") else None for t in tools]
            out = orig(*args)
            for t, st in zip(tools, states, strict=True):
                if hasattr(t, "post"):
                    t.post(be, fname, args, out, st)
            return out
        finally:
            _tls.busy = False

    dispatch.__name__ = fname
    dispatch.__wrapped__ = orig
    return dispatch


def _positional(fn, args, kwargs):
    import inspect

    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):
        raise TypeError(f"{fn.__name__}: cannot normalise keyword arguments {kwargs}") from None
    bound.apply_defaults()
    return tuple(bound.arguments.values())


def _capturing(be):
    """tg.compile's capture records kernels for replay without Python: tools stand aside."""
    if be.name != "cpp":
        return lambda: False
    from .. import _core

    return _core.capturing


def _make_backward(be, orig):
    capturing = _capturing(be)

    def backward(t, grad, retain_graph=False):
        if not getattr(_tls, "busy", False) and not capturing():
            _tls.busy = True
            try:
                for tool in tuple(_tools):
                    if hasattr(tool, "before_backward"):
                        tool.before_backward(be, t, grad, retain_graph)
            finally:
                _tls.busy = False
        return orig(t, grad, retain_graph)

    backward.__wrapped__ = orig
    return backward


def original(be, fname):
    """The unwrapped backend function (the tools call these for their own computations)."""
    f = getattr(be, fname)
    return getattr(f, "__wrapped__", f)


def activate(tool):
    with _lock:
        if not _tools:
            _install()
        _tools.append(tool)


def deactivate(tool):
    with _lock:
        if tool in _tools:
            _tools.remove(tool)
        if not _tools:
            _uninstall()


def active():
    return tuple(_tools)


def _install():
    try:
        for be in _modules():
            for fname in OP_FUNCS + INPLACE_FUNCS:
                orig = getattr(be, fname)
                _installed.append((be, fname, orig))
                setattr(be, fname, _make_op(be, fname, orig))
            orig = be.backward
            _installed.append((be, "backward", orig))
            be.backward = _make_backward(be, orig)
            if be.name == "cpp":
                from .. import _core

                _prev_dispatch[0] = _core.set_python_dispatch(True)
    except BaseException:
        _uninstall()
        raise


def _uninstall():
    try:
        while _installed:
            be, fname, orig = _installed.pop()
            setattr(be, fname, orig)
    finally:
        if _prev_dispatch[0] is not None:
            from .. import _core

            _core.set_python_dispatch(_prev_dispatch[0])
            _prev_dispatch[0] = None


class Tool:
    """Base for the context-manager tools: `with tool:` activates it, also as a decorator."""

    def __enter__(self):
        activate(self)
        return self

    def __exit__(self, *exc):
        deactivate(self)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapped


def tensors_in(args):
    """The tensor arguments of a backend call (op functions and in-place functions)."""
    from ..tensor import Tensor

    return [a for a in args if isinstance(a, Tensor)]
