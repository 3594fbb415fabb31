"""`nn.Module`: PyTorch's module API over tapegrad tensors (no kernels here). Its state-dict
methods are in state_dict.py, a base class."""

from collections import OrderedDict

from ..._compile import module_changed
from ..._dtype import float16, float32, float64
from ..._grad_mode import no_grad
from ...optim.optimizer import _noted
from ...tensor import Tensor
from .hooks import _call_with_hooks, _ModuleHooks
from .parameter import _is_param
from .state_dict import _StateDict


def _addindent(s, num_spaces):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(num_spaces * " " + line for line in lines)


def _type_name(x):
    if isinstance(x, Tensor):
        return "tapegrad.Tensor"
    return type(x).__name__


# ---------------------------------------------------------------- Module


def _capturing():
    return _noted[0] is not None


class Module(_StateDict, _ModuleHooks):
    """Base class for all neural network modules (PyTorch's `nn.Module`)."""

    training = True
    _version = 1

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments; "
                "Module.__init__ takes none"
            )
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()

    # The call path is kept short: per-step Python overhead is part of the product.
    def __call__(self, *args, **kwargs):
        if self._has_hooks:
            return _call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        """Compute the module's output; every subclass overrides it.

        Call the module (`module(x)`) rather than `forward` directly, so that its hooks run. The
        base method raises NotImplementedError."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ---- attribute registration ----
    # Parameters, buffers and submodules live in their ordered dicts (the registration order is
    # PyTorch's order) and are mirrored in the instance __dict__, so reading `self.linear` is
    # a plain attribute lookup rather than a __getattr__ fallback.

    def __setattr__(self, name, value):
        module_changed()
        d = self.__dict__
        params = d.get("_parameters")
        if _is_param(value):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._drop(name)
            params[name] = value
            d[name] = value
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as parameter '{name}' "
                    "(tapegrad.nn.Parameter or None expected)"
                )
            params[name] = None
            d[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._drop(name)
            modules[name] = value
            d[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as child module '{name}' "
                    "(tapegrad.nn.Module or None expected)"
                )
            modules[name] = None
            d[name] = None
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as buffer '{name}' "
                    "(tapegrad.Tensor or None expected)"
                )
            buffers[name] = value
            d[name] = value
            return
        object.__setattr__(self, name, value)

    def _drop(self, name):
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            reg = d.get(key)
            if reg is not None:
                reg.pop(name, None)
        d.get("_non_persistent_buffers_set", set()).discard(name)

    def __delattr__(self, name):
        module_changed()
        d = self.__dict__
        if any(name in d.get(k, ()) for k in ("_parameters", "_buffers", "_modules")):
            self._drop(name)
        else:
            object.__delattr__(self, name)

    def __getattr__(self, name):
        # Only reached when normal lookup fails (registered names live in __dict__ too).
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            reg = d.get(key)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind.lower()} before Module.__init__() call")
        if (
            hasattr(self, name)
            and name not in self._parameters
            and name not in (self._buffers)
            and name not in self._modules
        ):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Add a parameter to the module under `name`.

        `param` is an `nn.Parameter` or None (a slot with no parameter, skipped by `parameters()`
        and `state_dict()`). The name must be a non-empty string without dots that is not already
        another attribute."""
        module_changed()
        self._check_name(name, "parameter")
        if param is None:
            self._drop(name)
            self._parameters[name] = None
            self.__dict__[name] = None
            return
        if not _is_param(param):
            raise TypeError(
                f"cannot assign '{_type_name(param)}' object to parameter '{name}' "
                "(tapegrad.nn.Parameter or None required)"
            )
        setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer (a tensor that is state but not a parameter, e.g. BatchNorm's running mean)
        to the module under `name`.

        Buffers move with `half()`/`double()` when floating and are part of `state_dict()` unless
        `persistent=False`. `tensor` may be None."""
        module_changed()
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' "
                "(tapegrad.Tensor or None required)"
            )
        self._drop(name)
        self._buffers[name] = tensor
        self.__dict__[name] = tensor
        if not persistent:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add the child module `module` (or None) under `name`, reachable as an attribute;
        `register_module` is the same method."""
        module_changed()
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        self._drop(name)
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """Return the submodule named by the dotted path `target` (`""` is the module itself);
        AttributeError if a step is missing."""
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            sub = mod._modules.get(item)
            if sub is None:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = sub
        return mod

    def get_parameter(self, target):
        """Return the parameter named by the dotted path `target` (e.g. `"net.0.weight"`);
        AttributeError if there is none."""
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return mod._parameters[name]

    # ---- traversal ----
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield `(name, module)` for this module (name `prefix`) and every submodule, depth first,
        names dotted.

        A module reached twice is yielded once unless `remove_duplicate=False`."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        """Yield this module and every submodule, depth first, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Yield `(name, module)` for the direct children, each once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """Yield the direct child modules, each once."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, key, prefix, recurse, remove_duplicate):
        seen = set()
        mods = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for mod_prefix, mod in mods:
            for name, t in mod.__dict__[key].items():
                if t is None:
                    continue
                if remove_duplicate:
                    if id(t) in seen:
                        continue
                    seen.add(id(t))
                yield (mod_prefix + ("." if mod_prefix else "") + name), t

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield `(name, parameter)` for the parameters of this module and (with `recurse=True`) of
        its submodules, names dotted and prefixed by `prefix`.

        A parameter shared by several modules is yielded once unless `remove_duplicate=False`."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield the parameters of this module and (with `recurse=True`) of its submodules, each
        once; the usual argument of an optimizer."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield `(name, buffer)` for the buffers of this module and (with `recurse=True`) of its
        submodules, names dotted and prefixed by `prefix`."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yield the buffers of this module and (with `recurse=True`) its submodules, each once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call `fn` on every submodule (children first) and then on this module; return this
        module.

        Typical use: initialise weights, e.g. `net.apply(init_fn)`."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes ----
    def train(self, mode=True):
        """Set training mode (`mode=True`) or evaluation mode on this module and every submodule;
        return this module.

        The mode changes what Dropout and BatchNorm do. `mode` must be a bool (ValueError
        otherwise)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """Set evaluation mode on this module and every submodule; the same as `train(False)`.
        Return this module."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set `requires_grad` on every parameter (of this module and its submodules); return this
        module. Use `requires_grad_(False)` to freeze a model."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters.

        With `set_to_none=True` (the default) each `.grad` becomes None; otherwise existing
        gradients are zeroed in place (detached first if they have a grad_fn)."""
        for p in self.parameters():
            if set_to_none:
                # while capturing assigned even when already None: the captured step
                # (tg.compile) then starts its replays from None whatever the gradients were
                if p.grad is not None or _capturing():
                    p.grad = None
                continue
            g = p.grad
            if g is None:
                continue
            if g.grad_fn is not None:
                g = g.detach()
                p.grad = g
            g.zero_()

    # ---- dtype ----
    def _apply_dtype(self, dt):
        with no_grad():
            for m in self.modules():
                for p in m._parameters.values():
                    if p is None or p.dtype is dt or not p.dtype.is_floating_point:
                        continue
                    g = p.grad
                    p.data = p.data.to(dt)
                    if g is not None:
                        p.grad = g.detach().to(dt)
                for name, b in list(m._buffers.items()):
                    if b is not None and b.dtype is not dt and b.dtype.is_floating_point:
                        nb = b.to(dt)
                        m._buffers[name] = nb
                        m.__dict__[name] = nb
        return self

    def half(self):
        """Cast the floating parameters and buffers to float16, in place; return this module."""
        return self._apply_dtype(float16)

    def float(self):
        """Cast the floating parameters and buffers to float32, in place; return this module."""
        return self._apply_dtype(float32)

    def double(self):
        """Cast the floating parameters and buffers to float64, in place; return this module."""
        return self._apply_dtype(float64)

    def to(self, *args, **kwargs):
        """`to(device)`, `to(dtype)`, `to(device, dtype)`, `to(tensor)`: devices other than the
        CPU raise PyTorch's CPU-build error; a dtype converts the floating parameters."""
        from ..._ops_data import to_args

        kwargs.pop("copy", None)  # not an nn.Module.to argument
        dt, _ = to_args(args, kwargs)
        if dt is None:
            return self
        if not dt.is_floating_point:
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                f"dtype={dt}"
            )
        return self._apply_dtype(dt)

    def cpu(self):
        """Return this module: tapegrad's tensors are always on the CPU, so there is nothing to
        move."""
        return self

    def cuda(self, device=None):
        """Raise AssertionError ("Torch not compiled with CUDA enabled"), as a CPU-only build of
        PyTorch does: tapegrad has no CUDA device."""
        raise AssertionError("Torch not compiled with CUDA enabled")

    def type(self, dst_type):
        """Cast the floating parameters and buffers to the dtype `dst_type`; return this module.

        Differs from PyTorch: only floating dtypes are accepted (as `to(dtype)`, TypeError
        otherwise), and integer buffers are left as they are (PyTorch's `type` casts them too)."""
        return self.to(dst_type)

    # ---- state dict: inherited from _StateDict (state_dict.py) ----

    # ---- printing ----
    def extra_repr(self):
        """Return the extra text shown inside this module's repr (e.g.
        `in_features=2, out_features=3, bias=True`); override it in a custom module. The base
        method returns `""`."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for key, module in self._modules.items():
            child_lines.append("(" + key + "): " + _addindent(repr(module), 2))
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self):
        return sorted(set(super().__dir__()))
