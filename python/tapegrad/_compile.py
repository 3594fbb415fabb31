"""`tg.compile`: capture a training step once, replay it in C++.

The first call with a given signature (tensor shapes, dtypes and requires_grad, the other
arguments' values, grad mode) runs the function eagerly while the C++ core records every kernel
it launches — forward, backward, optimizer updates, grad zeroing — over fixed buffers. Later
calls with the same signature rerun the recorded kernels in C++ on the new inputs (read in place
when the step only reads them and they are dense and aligned, else copied into the captured input
buffers): one crossing from Python, no graph building, no allocation.

Tracing semantics (as torch.jit.trace and CUDA graphs): Python control flow and Python numbers are
frozen at capture; the optimizers' hyperparameters (lr, momentum, betas, eps, weight decay,
dampening, alpha, lr_decay) are read from their param_groups at every call, so learning-rate
schedules work, and a change of an optimizer's structure (its parameters, nesterov, maximize,
momentum on or off, amsgrad, centered, decoupled weight decay) captures anew; a change of input
shape or dtype captures anew; a tensor argument that requires grad (a parameter) is bound by
identity: it gets its .grad, and passing another one captures anew; reading a tensor's value into
Python, drawing random numbers or creating parameters inside the function raises. Returned tensors
are fresh copies holding this step's values.

On the NumPy backend the function simply runs eagerly, with the same results.
"""

import collections
import functools
import sys
import time

import numpy as np

from . import _grad_mode
from .optim import optimizer as _optimizer
from .tensor import Tensor
from .utils import _progress


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


def module_changed():
    """Called when a module's parameters, buffers or submodules are (re)assigned: captures made
    before check the modules their function names again."""
    core = sys.modules.get("tapegrad._core")
    if core is not None:
        core.bump_module_epoch()


def _dependencies(fn):
    """What the step function names directly, as (holder, name, value): its closure cells
    (name None) and its globals, where they hold a tensor, a module or an optimizer."""
    from .nn.modules.module import Module
    from .optim.optimizer import Optimizer

    kinds = (Tensor, Module, Optimizer)
    deps = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            v = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(v, kinds):
            deps.append((cell, None, v))
    code, g = getattr(fn, "__code__", None), getattr(fn, "__globals__", None)
    if code is not None and g is not None:
        for name in code.co_names:
            v = g.get(name)
            if isinstance(v, kinds):
                deps.append((g, name, v))
    return deps


def _module_state(deps):
    """The parameters and buffers of the modules a step names (the objects themselves)."""
    from .nn.modules.module import Module

    return [
        (v, list(v.parameters()) + list(v.buffers())) for _, _, v in deps if isinstance(v, Module)
    ]


def _same_state(state):
    for m, tensors in state:
        now = list(m.parameters()) + list(m.buffers())
        if len(now) != len(tensors) or any(a is not b for a, b in zip(now, tensors)):
            return False
    return True


def _key_of(args):
    key = [_grad_mode.is_grad_enabled()]
    for a in args:
        if isinstance(a, Tensor):
            # a tensor that requires grad (a parameter) is the capture's own: its .grad is filled
            ident = id(a) if a.requires_grad else None
            key.append(("T", tuple(a.shape), a.dtype.code, a.requires_grad, ident))
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


# Captures kept per compiled function: the least recently used one is dropped beyond this (each
# holds its step's buffers, so an unbounded cache would grow with every new input shape).
MAX_CAPTURES = 16


class CompiledStep:
    """A function captured once per signature and replayed in C++ (see the module docstring)."""

    def __init__(self, fn, max_captures=MAX_CAPTURES):
        self.fn = fn
        self.max_captures = int(max_captures)
        self._captures = collections.OrderedDict()  # signature -> _core.Captured, LRU order
        self._optims = {}  # signature -> [(optimizer, its structure at capture)]
        self._modules = {}  # signature -> [(module, its parameters and buffers at capture)]
        self._last = None  # the capture the previous call used
        self._last_key = None
        self._synced = -1  # group_changes when the optimizers' cells were last written
        self.captures = 0  # how many times a capture ran (tests and curious users read this)
        functools.update_wrapper(self, fn)

    def _drop(self, key):
        self._captures.pop(key, None)
        self._optims.pop(key, None)
        self._modules.pop(key, None)
        if self._last_key == key:
            self._last = self._last_key = None

    def _ready(self, key):
        """Before a replay: the optimizers' current hyperparameters into their cells (so lr
        schedules work). False (and the capture dropped) if the step's world changed since the
        capture: an optimizer's structure, a rebound tensor or module the function names, or
        a module whose parameters were replaced."""
        captured = self._captures.get(key)
        if captured is None:
            return False
        if not captured.deps_hold():
            self._drop(key)
            return False
        epoch = _core().module_epoch()
        if captured.module_epoch != epoch:
            if not _same_state(self._modules.get(key, ())):
                self._drop(key)
                return False
            captured.module_epoch = epoch
        for opt, structure in self._optims.get(key, ()):
            if opt._structure() != structure:
                self._drop(key)
                return False
            opt._sync_hyper()
        self._synced = _optimizer.group_changes[0]
        return True

    def _current(self):
        """The fast check before replaying the previous call's capture: no param group anywhere
        changed since the last sync (the C++ side checks the rest: arguments, the tensors and
        modules the function names, buffers)."""
        return _optimizer.group_changes[0] == self._synced

    def __call__(self, *args):
        last = self._last
        if last is not None and self._current():  # the signature of the previous call
            out = last.try_run(*args)
            if out is not NotImplemented:
                return out
        tensors = [a for a in args if isinstance(a, Tensor)]
        if not tensors or any(t._be.name != "cpp" for t in tensors):
            return self.fn(*args)  # the NumPy reference runs it eagerly
        key = _key_of(args)
        captured = self._captures.get(key)
        if captured is not None and self._ready(key):
            out = captured.try_run(*args)
            if out is not NotImplemented:
                self._captures.move_to_end(key)
                self._last, self._last_key = captured, key
                return out
        return self._capture(key, args)

    def _capture(self, key, args):
        core = _core()
        private, call_args = [], []
        for a in args:
            if isinstance(a, Tensor):
                # Each call's data is read in place or copied into the capture's own buffer
                # (this clone); a tensor that requires grad is used itself (its .grad and
                # in-place updates must be the caller's), and a call with another such tensor
                # captures anew.
                p = a if a.requires_grad else a.detach().clone()
                private.append(p)
                call_args.append(p)
            else:
                call_args.append(a)
        _optimizer._noted[0] = noted = []
        core.capture_begin(private)
        try:
            out = self.fn(*call_args)
            outs, rebuild = _flatten(out)
        except BaseException:
            core.capture_abort()
            raise
        finally:
            _optimizer._noted[0] = None
        # The call signature: tensor positions hold the tensor, others the frozen value.
        signature = list(args)
        if out is None:
            kind = 0
        elif isinstance(out, Tensor):
            kind = 1
        else:
            kind = 2 if isinstance(out, tuple) else 3
        captured = core.capture_end(private, outs, signature, kind)
        deps = _dependencies(self.fn)
        captured.set_deps(deps)
        captured.module_epoch = core.module_epoch()
        self._captures[key] = self._last = captured
        self._last_key = key
        self._optims[key] = [(opt, opt._structure()) for opt in noted]
        self._synced = _optimizer.group_changes[0]
        self._modules[key] = _module_state(deps)
        self._captures.move_to_end(key)
        while len(self._captures) > self.max_captures:
            old, _ = self._captures.popitem(last=False)
            self._optims.pop(old, None)
            self._modules.pop(old, None)
        self.captures += 1
        return rebuild([o.detach().clone() for o in outs])

    def run(self, n, *args, progress=None):
        """Run `n` steps on the same inputs in C++; return the losses (the function's 1-element
        result) as a float32 NumPy array.

        progress: a progress bar on stderr (tqdm when installed). None (default): only when
        stderr is a terminal; True: always; False: never. With a bar the steps run in chunks of
        about 0.1 s, which changes no result."""
        n = int(n)
        if n <= 0:
            return np.zeros(0, np.float32)
        bar = None
        if _progress.wanted(progress):
            bar = _progress.progress(total=n, desc="run", unit="step", enabled=True)
        try:
            return self._run(n, args, bar)
        finally:
            if bar is not None:
                bar.close()

    def _run(self, n, args, bar):
        tensors = [a for a in args if isinstance(a, Tensor)]
        if not tensors or any(t._be.name != "cpp" for t in tensors):
            out = []
            for _ in range(n):
                out.append(float(self.fn(*args).item()))
                if bar is not None:
                    bar.update(1)
            return np.array(out, np.float32)
        key = _key_of(args)
        captured = self._captures.get(key)
        if captured is not None and not self._ready(key):
            captured = None
        if captured is None or not captured.valid():
            first = self._capture(key, args)
            if not isinstance(first, Tensor) or first.numel() != 1:
                raise ValueError("run: the compiled function must return a 1-element tensor")
            if bar is not None:
                bar.update(1)
            rest = _run_n(self._captures[key], n - 1, tensors, bar)
            return np.concatenate([np.array([first.item()], np.float32), rest])
        return _run_n(captured, n, tensors, bar)


def _run_n(captured, n, tensors, bar):
    """`captured.run_n(n)`; with a bar, in chunks sized to redraw it about every 0.1 s."""
    if bar is None or n <= 0:
        return captured.run_n(n, tensors)
    parts, done, chunk = [], 0, 1
    while done < n:
        k = min(chunk, n - done)
        t0 = time.perf_counter()
        parts.append(captured.run_n(k, tensors))
        dt = time.perf_counter() - t0
        done += k
        bar.update(k)
        chunk = max(1, min(4 * k, int(k * 0.1 / dt))) if dt > 0 else 4 * k
    return np.concatenate(parts)


def compile(fn=None, *, max_captures=MAX_CAPTURES):  # noqa: A001 - PyTorch's name
    """Capture `fn` once per signature and replay it in C++ (decorator or call). At most
    `max_captures` signatures are kept (least recently used dropped first)."""
    if fn is None:
        return functools.partial(compile, max_captures=max_captures)
    return CompiledStep(fn, max_captures)
