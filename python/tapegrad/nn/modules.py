"""Modules: PyTorch's `nn.Module` API over tapegrad tensors (no kernels here)."""

import math
from collections import OrderedDict, namedtuple

import numpy as np

from .. import _backend
from .._dtype import float16, float32, to_dtype
from .._grad_mode import no_grad
from .._random import uniform_array
from ..tensor import Tensor, _check_nbytes
from . import functional as F

__all__ = [
    "Parameter",
    "Module",
    "Linear",
    "Sequential",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "MSELoss",
    "L1Loss",
]


# ---------------------------------------------------------------- Parameter


class _ParameterMeta(type):
    """`Parameter(t)` returns a marked tensor; `isinstance(x, Parameter)` reads the mark.

    The concrete tensor classes belong to the backends (a C type for cpp, `NTensor` for numpy),
    so a parameter cannot be an instance of a Python subclass. It is the backend's own tensor
    with `_is_param = True` (see docs/backends.md).
    """

    def __call__(cls, data=None, requires_grad=True):
        if data is None:
            raise TypeError(
                "Parameter() needs a tensor: tapegrad has no zero-size tensors, "
                "so an empty Parameter cannot be made"
            )
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a tensor, got {type(data).__name__}")
        p = data.detach()  # shares storage with `data`, like PyTorch
        p.requires_grad = bool(requires_grad)
        p._is_param = True
        return p

    def __instancecheck__(cls, x):
        return isinstance(x, Tensor) and bool(getattr(x, "_is_param", False))

    def __subclasscheck__(cls, sub):
        return False


class Parameter(metaclass=_ParameterMeta):
    """A tensor that a `Module` registers as a parameter when assigned as an attribute.

    `nn.Parameter(t)` returns `t.detach()` (same storage) with `requires_grad=True` and the
    parameter mark set; `isinstance(x, nn.Parameter)` is true for such tensors.
    """


def _is_param(x):
    return isinstance(x, Tensor) and bool(getattr(x, "_is_param", False))


# ---------------------------------------------------------------- Module helpers


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


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


def _to_backend_tensor(value, like):
    """`value` (tensor of any backend, or ndarray) as a tensor on `like`'s backend and dtype."""
    if isinstance(value, Tensor):
        if value._be is not like._be:
            value = like._be.from_numpy(
                np.asarray(value._be.to_numpy(value), dtype=like.dtype.np, order="C"), False
            )
        elif value.dtype is not like.dtype:
            value = value.detach().to(like.dtype)
        return value
    arr = np.asarray(value, dtype=like.dtype.np, order="C")  # keeps 0-d (ascontiguousarray: 1-d)
    return like._be.from_numpy(arr, False)


# ---------------------------------------------------------------- Module


class Module:
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
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ---- attribute registration ----
    # Parameters, buffers and submodules live in their ordered dicts (the registration order is
    # PyTorch's order) and are mirrored in the instance __dict__, so reading `self.linear` is
    # a plain attribute lookup rather than a __getattr__ fallback.

    def __setattr__(self, name, value):
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
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        self._drop(name)
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def get_submodule(self, target):
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
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return mod._parameters[name]

    # ---- traversal ----
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
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
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
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
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes ----
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            g = p.grad
            if g is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if g.grad_fn is not None:
                    g = g.detach()
                    p.grad = g
                g.zero_()

    # ---- dtype ----
    def _apply_dtype(self, dt):
        with no_grad():
            for m in self.modules():
                for p in m._parameters.values():
                    if p is None or p.dtype is dt:
                        continue
                    g = p.grad
                    p.data = p.data.to(dt)
                    if g is not None:
                        p.grad = g.detach().to(dt)
                for name, b in list(m._buffers.items()):
                    if b is not None and b.dtype is not dt:
                        nb = b.to(dt)
                        m._buffers[name] = nb
                        m.__dict__[name] = nb
        return self

    def half(self):
        return self._apply_dtype(float16)

    def float(self):
        return self._apply_dtype(float32)

    def double(self):
        raise TypeError("tapegrad stores float32 and float16; double() is not supported")

    def to(self, *args, **kwargs):
        dt = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        device = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dt = a.dtype
            elif isinstance(a, str) and a.split(":")[0] in ("cpu",):
                device = a
            elif isinstance(a, str) and a.split(":")[0] in ("cuda", "mps", "xpu", "meta"):
                device = a  # refused below with the CPU-only message
            elif a is not None:
                dt = a
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"tapegrad runs on the CPU only; cannot move a module to {device!r}")
        if dt is None:
            return self
        return self._apply_dtype(to_dtype(dt))

    def cpu(self):
        return self

    def type(self, dst_type):
        return self.to(dst_type)

    # ---- state dict ----
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        if args:  # PyTorch's deprecated positional form: (destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(
                f"Expected state_dict to be dict-like, got {type(state_dict).__name__}."
            )
        if assign:
            raise NotImplementedError("load_state_dict(assign=True) is not supported by tapegrad")
        missing, unexpected, errors = [], [], []
        expected = self.state_dict(keep_vars=True)
        for key, target in expected.items():
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            if isinstance(value, np.ndarray) and value.dtype.kind not in "biuf":
                errors.append(
                    f'While copying the parameter named "{key}", expected a real-valued array '
                    f"from checkpoint but received an ndarray of dtype {value.dtype}"
                )
                continue
            if not isinstance(value, (Tensor, np.ndarray)):
                errors.append(
                    f'While copying the parameter named "{key}", expected a tensor or ndarray '
                    f"from checkpoint but received {type(value).__name__}"
                )
                continue
            vshape = tuple(value.shape)
            if vshape != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"tapegrad.Size({list(vshape)}) from checkpoint, the shape in current model "
                    f"is tapegrad.Size({list(target.shape)})."
                )
                continue
            try:
                src = _to_backend_tensor(value, target)
                with no_grad():
                    target.copy_(src)
            except Exception as e:  # noqa: BLE001 - reported like PyTorch
                errors.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model are '
                    f"{tuple(target.shape)} and whose dimensions in the checkpoint are {vshape}, "
                    f"an exception occurred : {e.args}."
                )
        for key in state_dict.keys():
            if key not in expected:
                unexpected.append(key)
        if strict:
            if unexpected:
                errors.insert(
                    0,
                    "Unexpected key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in unexpected)
                    ),
                )
            if missing:
                errors.insert(
                    0,
                    "Missing key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in missing)
                    ),
                )
        if errors:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(
                    type(self).__name__, "\n\t".join(errors)
                )
            )
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing ----
    def extra_repr(self):
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


# ---------------------------------------------------------------- layers


def _init_linear(in_features, out_features, bias=True, dtype=float32):
    """PyTorch's Linear init as arrays of `dtype`: weight (out, in) and bias (out,) (or None).

    As Linear.reset_parameters does in PyTorch: kaiming_uniform_(a=sqrt(5)) for the weight, then
    uniform(-1/sqrt(in), 1/sqrt(in)) for the bias, drawn from the default generator in that
    order and with PyTorch's own float64 arithmetic for the bounds, so that manual_seed(s)
    followed by Linear(i, o) gives PyTorch's parameters bit for bit (docs/random.md).
    """
    gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))  # calculate_gain("leaky_relu", sqrt(5))
    w_bound = math.sqrt(3.0) * (gain / math.sqrt(in_features))
    w = uniform_array((out_features, in_features), -w_bound, w_bound, dtype)
    b_bound = 1 / math.sqrt(in_features) if in_features > 0 else 0
    b = uniform_array((out_features,), -b_bound, b_bound, dtype) if bias else None
    return w, b


def _new_param(arr, dt):
    be = _backend.current()
    p = be.from_numpy(np.ascontiguousarray(arr, dtype=dt.np), True)
    p._is_param = True
    return p


class Linear(Module):
    """y = x @ weight.T + bias, with weight (out_features, in_features) and bias (out_features,)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for n, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(
                    f"Linear: {n} must be a positive integer, got {v!r} "
                    "(tapegrad has no zero-size tensors)"
                )
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"tapegrad runs on the CPU only; got device={device!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self._dtype = float32 if dtype is None else to_dtype(dtype)
        _check_nbytes((self.out_features, self.in_features), self._dtype)
        w, b = _init_linear(self.in_features, self.out_features, bias, self._dtype)
        self.weight = _new_param(w, self._dtype)
        if b is not None:
            self.bias = _new_param(b, self._dtype)
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self):
        w, b = _init_linear(
            self.in_features, self.out_features, self.bias is not None, self.weight.dtype
        )
        with no_grad():
            self.weight.copy_(_to_backend_tensor(w, self.weight))
            if b is not None:
                self.bias.copy_(_to_backend_tensor(b, self.bias))

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Sequential(Module):
    """Modules applied in order; children are named "0", "1", ... (or by an OrderedDict)."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _get_item_by_idx(self, idx):
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return list(self._modules.values())[idx % n]

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return self._get_item_by_idx(int(idx))

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[int(idx) % len(self._modules)]
        setattr(self, key, module)

    def __delitem__(self, idx):
        keys = list(self._modules.keys())
        for key in keys[idx] if isinstance(idx, slice) else [keys[int(idx) % len(keys)]]:
            self._drop(key)
        items = list(self._modules.items())
        for key, _ in items:
            self._drop(key)
        for i, (_, m) in enumerate(items):
            self.add_module(str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    def forward(self, input):
        return F.sigmoid(input)


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = F._legacy_reduction(size_average, reduce)
        self.reduction = reduction


class MSELoss(_Loss):
    """Mean squared error. Input and target must have the same shape (tapegrad refuses what
    PyTorch would broadcast with a warning)."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error. Input and target must have the same shape."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)
